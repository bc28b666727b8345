"""The tables of docs/RELIABILITY.md, generated from the measurements in docs/reliability/.

    python scripts/reliability_tables.py           # print the tables
    python scripts/reliability_tables.py --write   # replace them in docs/RELIABILITY.md

Each table sits between `<!-- BEGIN generated:NAME -->` and `<!-- END generated:NAME -->` in the
document, so the numbers there are the JSON files' and never typed by hand:
- load: every docs/reliability/load-*.json (scripts/load_test.py --json), one row per run, with
  load_test.check()'s verdict, then min / median / max over the runs; load-before: the same for
  docs/reliability/before-fix/load-*.json, the runs made before the Run form's fix;
- soak: every docs/reliability/soak-*.json (scripts/soak.py --json), one column each: the memory
  bound and the tallies.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from load_test import check
from soak import second_half_slope as _slope

DOCS = Path(__file__).resolve().parents[1] / "docs"
DATA = DOCS / "reliability"
BEFORE = DATA / "before-fix"  # the load runs made before the Run form kept its values under load


def _runs(folder: Path = DATA) -> list[tuple[str, dict]]:
    files = sorted(folder.glob("load-*.json"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    return [(p.stem.split("-", 1)[1], json.loads(p.read_text())) for p in files]


def _fmt(v) -> str:
    return "-" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def load_table(folder: Path = DATA) -> str:
    rows = ["| run | started (UTC) | verdict | sessions that saw their run finish, no error | pressed Start "
            "| worker starts / runs trained (start records) | workers seen in ps (children of the server) "
            "/ forks ignored | peak workers (bound 2) | runs done | usable p50 / p95 s | finished p50 / max s "
            "| peak server RSS MB | load avg before / peak | server tracebacks |",
            "|" + "---|" * 14]
    for name, r in _runs(folder):
        bad = [b if not b.startswith(f"{r['sessions_ok']}/") else
               f"{r['sessions'] - r['sessions_ok']} sessions did not see their run finish" for b in check(r)]
        verdict = "**pass**" if not bad else "**fail**: " + "; ".join(b[:80] for b in bad)
        rows.append(f"| {name} | {r.get('started_at', '-')[11:16]} | {verdict} | {r['sessions_ok']} / {r['sessions']} "
                    f"| {r['sessions_pressed_start']} | {r['worker_starts']} / {r['runs_trained']} "
                    f"| {r['ps_workers_seen']} / {r['ps_work_forks_ignored']} | {r['peak_workers']} "
                    f"| {r['runs_done']} / {r['configs']} | {_fmt(r['usable_p50_s'])} / {_fmt(r['usable_p95_s'])} "
                    f"| {_fmt(r['done_p50_s'])} / {_fmt(r['done_max_s'])} | {_fmt(r['peak_server_rss_mb'])} "
                    f"| {_fmt(r['load_avg_before'])} / {_fmt(r['load_avg_peak'])} | {r['server_tracebacks']} |")
    return "\n".join(rows)


def load_verdict(folder: Path = DATA) -> str:
    """One generated sentence: how many runs passed, and the totals behind it."""
    runs = [r for _, r in _runs(folder)]
    if not runs:
        return "(no load run measured yet)"
    passed = sum(1 for r in runs if not check(r))
    ok, total = sum(r["sessions_ok"] for r in runs), sum(r["sessions"] for r in runs)
    failed = ", ".join(str(r["sessions"] - r["sessions_ok"]) for r in runs)
    one_per = all(r["worker_starts"] == r["runs_trained"] == r["configs"] == r["runs_done"] for r in runs)
    loads = [r["load_avg_peak"] for r in runs]
    return (f"**{passed} of {len(runs)} runs passed.** {ok} of {total} sessions saw their run finish with no "
            f"error (sessions that did not, per run: {failed}); "
            f"{'every run had exactly one worker start per experiment and every run done' if one_per else '**not every run had one worker start per experiment with every run done**'}; "
            f"peak workers {max(r['peak_workers'] for r in runs)} (bound {runs[0]['workers_bound']}); "
            f"server tracebacks {sum(r['server_tracebacks'] for r in runs)}; 1-minute load average at peak "
            f"{min(loads):g} to {max(loads):g}; dates {', '.join(sorted({r['started_at'][:10] for r in runs}))}.")


SPREAD = [("time until the page is usable, p50 (s)", "usable_p50_s"),
          ("time until the page is usable, p95 (s)", "usable_p95_s"),
          ("time until the page shows the finished state, p50 (s)", "done_p50_s"),
          ("time until the page shows the finished state, max (s)", "done_max_s"),
          ("time until the HTML page has loaded, p50 (s)", "loaded_p50_s"),
          ("one visit alone, before the class (warm-up, s)", "warmup_visit_s"),
          ("peak server RSS, the server alone (MB)", "peak_server_rss_mb"),
          ("peak RSS of the server with its workers (MB)", "peak_server_tree_rss_mb"),
          ("server CPU time during the sessions (s)", "server_cpu_s_during_sessions"),
          ("CPU time of the 30 Chromium sessions (s)", "browser_cpu_s"),
          ("CPU time of the training workers (s)", "workers_cpu_s"),
          ("server health check latency, p50 (s)", "health_p50_s"),
          ("server health check latency, max (s)", "health_max_s"),
          ("1-minute load average at peak", "load_avg_peak"),
          ("sessions phase, wall (s)", "sessions_phase_s")]


def spread_table() -> str:
    runs = [r for _, r in _runs()]
    rows = [f"| figure (over {len(runs)} runs) | min | median | max |", "|---|---|---|---|"]
    for label, key in SPREAD:
        xs = [r[key] for r in runs if r.get(key) is not None]
        if xs:
            rows.append(f"| {label} | {_fmt(min(xs))} | {_fmt(round(statistics.median(xs), 2))} | {_fmt(max(xs))} |")
    return "\n".join(rows)


def _windows(rows: list, width_s: float = 300) -> str:
    """Mean server RSS in each `width_s` window of the soak's series, as 'a → b → c'."""
    means = []
    for start in range(0, int(rows[-1][0]) + 1, int(width_s)):
        seg = [r[1] for r in rows if start <= r[0] < start + width_s]
        if seg:
            means.append(f"{statistics.mean(seg):.0f}")
    return " → ".join(means)


def _soak_rows(s: dict) -> list[tuple[str, str]]:
    """(figure, value) for one soak's report."""
    m = s["memory"]
    acts = ", ".join(f"{k} {v}" for k, v in sorted(s["actions"].items()))
    asked = f"{s['actions_asked']:,} actions or {s['minutes']:g} min" if s.get("actions_asked") else f"{s['minutes']:g} min"
    bound = s.get("rss_bound_mb")
    rows = [("started (UTC) / wall time", f"{s['started_at'][:10]} {s['started_at'][11:16]} / {s['wall_s']:g} s "
                                          f"({asked} asked)"),
            ("virtual students at once / sessions opened", f"{s['users']} / {s['sessions_opened']}"),
            ("actions in all", f"{s['actions_total']} ({acts})"),
            ("runs in the store at the end, by state", ", ".join(f"{k} {v}" for k, v in s["runs_by_state"].items())),
            ("server RSS: first sample / peak / last (MB)", f"{m['rss_first_mb']:g} / {m['rss_peak_mb']:g} / "
                                                            f"{m['rss_last_mb']:g}"),
            ("RSS bound stated before the run (MB) / held", f"{bound:g} / {'yes' if m['rss_peak_mb'] <= bound else '**no**'}"
             if bound else "- (none stated by the script then; 1 GB in the text)"),
            ("growth bound stated before the run (MB per minute) / held",
             f"{s['growth_bound_mb_per_min']:g} / {'yes' if _slope(s['series']) <= s['growth_bound_mb_per_min'] else '**no**'}"
             if s.get("growth_bound_mb_per_min") is not None else "- (none stated)"),
            ("server RSS: mean of the first / last quarter of the samples (MB)",
             f"{m['rss_first_quarter_mean_mb']:g} / {m['rss_last_quarter_mean_mb']:g} "
             f"(growth {m['growth_last_vs_first_quarter_mb']:+g})"),
            ("peak RSS of the server with its workers (MB)", f"{m['tree_rss_peak_mb']:g}"),
            ("server threads: peak / last", f"{m['threads_peak']} / {m['threads_last']}"),
            ("server RSS, mean over each 5 minutes (MB)", _windows(s["series"])),
            ("server RSS growth over the second half, least-squares slope (MB per minute)", f"{_slope(s['series']):+.1f}"),
            ("memory samples", f"{m['samples']}"),
            ("exception boxes (Streamlit's, never acceptable)", f"{s['exception_boxes']}"),
            ("error boxes (messages, e.g. for a bad address)", f"{s['error_boxes']}"),
            ("pages that broke or timed out, JavaScript errors", f"{s['broken']}"),
            ("tracebacks in the server's log", f"{s['server_tracebacks']}")]
    return rows


def _soak_files() -> list:
    """docs/reliability/soak-*.json, in the order of their numbers."""
    return sorted(DATA.glob("soak-*.json"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))


def _held(value: float, bound: float) -> str:
    """Whether a measured value stayed within the bound stated before its run."""
    return "held" if value <= bound else "**exceeded**"


def soak_table() -> str:
    """One column per docs/reliability/soak-*.json, in the order of their numbers."""
    files = _soak_files()
    if not files:
        return "(no soak measured yet)"
    soaks = [_soak_rows(json.loads(p.read_text())) for p in files]
    rows = ["| figure | " + " | ".join(f"soak {p.stem.split('-', 1)[1]}" for p in files) + " |",
            "|---|" + "---|" * len(files)]
    for i, (label, _) in enumerate(soaks[0]):
        rows.append(f"| {label} | " + " | ".join(s[i][1] for s in soaks) + " |")
    return "\n".join(rows)


def _soak_sentences(s: dict, name: str) -> str:
    """One soak in sentences: traffic covered, defects seen (named), memory against the bounds it stated."""
    m, bound, slope = s["memory"], s.get("rss_bound_mb"), _slope(s["series"])
    growth_bound = s.get("growth_bound_mb_per_min")
    asked = s.get("actions_asked")
    covered = (f"{s['actions_total']:,} of the {asked:,} actions asked" if asked else f"{s['actions_total']:,} actions")
    clean = s["exception_boxes"] == s["broken"] == s["server_tracebacks"] == 0
    text = (f"**Soak {name}**: {covered}, in {s['wall_s'] / 60:.0f} minutes, over {s['sessions_opened']} sessions; "
            f"exception boxes {s['exception_boxes']}, broken pages {s['broken']}, tracebacks in the server's log "
            f"{s['server_tracebacks']}")
    if clean:
        text += ". "
    else:
        seen = [str(x) for x in s.get("exception_examples", []) + s.get("broken_examples", [])][:3]
        text += f" (**not clean**: {'; '.join(f'`{x}`' for x in seen)}). "
    if bound:
        text += (f"The server's RSS peaked at {m['rss_peak_mb']:g} MB against the bound of {bound:g} MB stated before "
                 f"the run: {_held(m['rss_peak_mb'], bound)}. ")
    text += f"Mean RSS per 5 minutes: {_windows(s['series'])} MB; "
    text += f"over the second half its least-squares slope was {slope:+.1f} MB per minute"
    if growth_bound is not None:
        text += (f", against the growth bound of {growth_bound:g} MB per minute stated before the run: "
                 f"{_held(slope, growth_bound)}.")
    elif slope > 0.05:
        text += ", still growing."
    else:
        text += ": no growth."
    return text


def soak_verdict() -> str:
    """Generated sentences on every soak, in the order of their numbers."""
    files = _soak_files()
    if not files:
        return "(no soak measured yet)"
    return "\n\n".join(_soak_sentences(json.loads(p.read_text()), p.stem.split("-", 1)[1]) for p in files)


def _faults() -> dict:
    """docs/reliability/faults.json, with the reruns of single scenarios over it: faults-server-kill.json,
    then faults-rerun.json (the stopped worker and the full disk, measured again after the page learned to name
    them; faults-rerun-1.json, the rerun before the script waited for Resume, is kept but not read)."""
    out = {}
    for name in ("faults.json", "faults-server-kill.json", "faults-rerun.json"):
        path = DATA / name
        if path.is_file():
            data = json.loads(path.read_text())
            out.update({k: v for k, v in data.items() if isinstance(v, dict) and "error" not in v})
    return out


def _kept(c: dict) -> str:
    """'3 → 9, none lost or rewritten' from a reliability_checks.compare() record."""
    bad = len(c["lost"]) + len(c["rewritten"])
    return (f"{c['finished_before']} → {c['finished_after']}, "
            + ("none lost or rewritten" if not bad else f"**{len(c['lost'])} lost, {len(c['rewritten'])} rewritten**"))


ICONS = {"error", "check_circle", "pause_circle", "folder_off", "inventory_2", "timer", "group", "warning", "info",
         "hourglass_disabled"}


def _said(texts) -> str:
    """Texts a page showed, quoted, without the Material icon's name that inner_text puts first."""
    strip = lambda t: t.split(" ", 1)[1] if t.split(" ", 1)[0] in ICONS else t  # noqa: E731
    store = lambda t: re.sub(r"/tmp/lth-fault-[^ :]*?/disk/store", "<store>", t)  # noqa: E731  (a temporary path)
    return " / ".join(f"“{store(strip(t))}”" for t in texts) or "(nothing)"


def faults_table() -> str:
    f = _faults()
    rows = ["| fault | what the user sees | then | finished networks before → after |", "|---|---|---|---|"]
    if "worker_kill" in f:
        w = f["worker_kill"]
        rows.append(f"| SIGKILL of a running worker | within {w['seconds_until_page_showed_it']:g} s, on the open page: "
                    f"{_said(w['status_shown'])} | Resume pressed: {'finished' if w['resume']['page_showed_finished'] else 'not finished'}"
                    f" ({w['final_state']}, {w['worker_starts']} worker starts in all) | {_kept(w['finished_levels'])} |")
    if "worker_stop" in f:
        w = f["worker_stop"]
        t, c = w["left_to_time_limit"], w["cancelled_from_its_page"]
        rows.append(f"| SIGSTOP of a running worker, left alone (`LTH_JOB_TIMEOUT_S={w['time_limit_s']}`) | "
                    f"the progress bar stops: {_said(t['page_when_stopped'])}, 10 s later {_said(t['page_10s_later'])};"
                    + (f" {t['stall_notice_after_s']:g} s after the stop: {_said(t['page_stall_notice'])};"
                       if t.get("stall_notice_after_s") is not None else
                       " no notice that it is stuck;" if "stall_notice_after_s" in t else "")
                    + f" at {t['ended_at_s_after_start']:g} s from the start: {_said(t['page_after'])} | worker gone: "
                    f"{'yes' if t['worker_gone'] else 'no'}; Resume: {t['final_state']} | {_kept(t['finished_levels'])} |")
        rows.append(f"| SIGSTOP, then **Cancel run** on its page | the same frozen bar; Cancel took {c['cancel_took_s']:g} s: "
                    f"{_said(c['page_after'])} | worker gone: {'yes' if c['worker_gone'] else 'no'}; Resume: {c['final_state']} "
                    f"| {_kept(c['finished_levels'])} |")
    if "disk_full" in f:
        d = f["disk_full"]
        r = d["filled_while_training"]
        rows.append(f"| store on a {d['tmpfs_size'].rstrip('m')} MB tmpfs, default free-disk floor (1 GB), Start pressed | "
                    f"{_said(d['default_floor']['page'])} | {d['default_floor']['runs_created']} runs created | - |")
        rows.append(f"| the same tmpfs, floor 0, filled ({r['filled_bytes'] / 2**20:.0f} MiB) while a run trains | "
                    f"the worker dies on `No space left on device` (in its worker.log); stored status: "
                    f"{r['state_on_full_disk']}; the page that was open: {_said(r['page_on_full_disk'])}; a page opened "
                    f"then: {_said(r['fresh_page_on_full_disk']['status'])} | filler deleted, Resume: {r['final_state']}; "
                    f"damaged files {len(r['damaged_files'])}, leftover temp files {len(r['leftover_tmp_files'])} "
                    f"| {_kept(r['finished_levels'])} |")
    if "read_only" in f:
        ro = f["read_only"]
        seen = ro["server_on_read_only_store"]
        rows.append(f"| `mount -o remount,ro` of the store while a worker writes | refused by Linux: "
                    f"“{ro['remount_ro_while_a_worker_writes']['stderr'].splitlines()[0].split(': ', 2)[-1]}” | - | - |")
        rows.append(f"| a server started on a read-only store (a done, an interrupted and a queued run) | on every page: "
                    f"{_said(seen['done']['status'][:1])}; the done run shows its finished state: "
                    f"{'yes' if seen['done']['finished'] else 'no'}, and its Results page draws its charts ({seen['results_page_of_done_run']['error_boxes']} error boxes); Resume or Start: "
                    f"{_said(seen['interrupted_after_pressing_resume'][1:])} | rw again, new server: the interrupted "
                    f"and queued runs resumed by themselves ({', '.join(f'{k} {v}' for k, v in ro['final_states'].items())})"
                    f" | " + "; ".join(f"{k}: {_kept(v)}" for k, v in ro["finished_levels"].items()) + " |")
    if "server_kill" in f:
        k = f["server_kill"]
        roles = k["roles"]
        pages = "; ".join(f"{role}: {_said(k['page_after_restart'][role].get('status', []))}" for role in roles)
        alone = ", ".join(f"{role} {k['states_without_user'][rid]}" for role, rid in roles.items())
        starts = ", ".join(f"{role} {k['worker_starts_per_run'].get(rid, 0)}" for role, rid in roles.items())
        kept = "; ".join(f"{role}: {_kept(k['finished_levels'][rid])}" for role, rid in roles.items())
        at_kill = ", ".join(f"{role}: {k['at_kill'][rid]['status']}" for role, rid in roles.items())
        rows.append(f"| SIGKILL of the server (statuses at the kill: {at_kill}); a new server on the same store "
                    f"| after the restart: {pages} | without any click: {alone}; worker starts per run: {starts} "
                    f"| {kept} |")
    rows.append(f"\nTracebacks in the servers' logs over all these scenarios: {_fault_tracebacks(f)}.")
    return "\n".join(rows)


def _all_kept(f: dict) -> tuple[int, int, int]:
    """(records compared, lost, rewritten) over every compare() record in the fault scenarios."""
    found = []

    def walk(v):
        if isinstance(v, dict):
            if "lost" in v and "rewritten" in v and "finished_before" in v:
                found.append(v)
            else:
                for x in v.values():
                    walk(x)
    walk(f)
    return (sum(c["finished_before"] for c in found), sum(len(c["lost"]) for c in found),
            sum(len(c["rewritten"]) for c in found))


def _fault_tracebacks(f: dict) -> int:
    return sum(v.get("tracebacks", 0) for sc in f.values() for v in
               ([sc["server_log"]] if "server_log" in sc else []) + list(sc.get("server_logs", [])
               if isinstance(sc.get("server_logs"), list) else sc.get("server_logs", {}).values()))


def holds() -> str:
    """Section 6's list of what holds, every number read from the JSON files."""
    out = []
    runs = [r for _, r in _runs()]
    if runs:
        passed = sum(1 for r in runs if not check(r))
        one_per = all(r["worker_starts"] == r["runs_trained"] == r["configs"] == r["runs_done"] for r in runs)
        out.append(f"- **Every page shows its run's finish, one training per unique experiment, at most "
                   f"`LTH_WORKERS` at once**: {passed} of {len(runs)} load runs of {runs[0]['sessions']} simultaneous "
                   f"browser sessions passed; {sum(r['sessions_ok'] for r in runs)} of {sum(r['sessions'] for r in runs)}"
                   f" sessions saw their own run finish with no error; "
                   + ("exactly one worker start per experiment in every run, every run done" if one_per else
                      "**not** one worker start per experiment in every run")
                   + f"; never more than {max(r['peak_workers'] for r in runs)} workers (bound {runs[0]['workers_bound']}).")
        ws = sorted({str(r.get("websocket_status_cross_site")) for r in runs})
        out.append(f"- **Cross-site WebSockets refused**: status {', '.join(ws)} in the {len(runs)} load runs.")
    f = _faults()
    if f:
        n, lost, rewritten = _all_kept(f)
        out.append(f"- **No finished network lost** over {len(f)} fault scenarios (worker killed or stopped, server "
                   f"killed, disk full, read-only store): {n} metrics records hashed before the faults, "
                   f"{lost} lost, {rewritten} rewritten afterwards.")
        t = f.get("worker_stop", {}).get("left_to_time_limit", {})
        if "stall_notice_after_s" in t and t["stall_notice_after_s"] is None:
            out.append(f"- **A stuck worker is not named**: no page said so before the time limit "
                       f"({f['worker_stop']['time_limit_s']} s).")
        if t.get("stall_notice_after_s") is not None:
            out.append(f"- **A stuck worker is named**: the page said so {t['stall_notice_after_s']:g} s after the "
                       f"worker was stopped, long before the time limit ({f['worker_stop']['time_limit_s']} s).")
        d = f.get("disk_full", {}).get("filled_while_training", {})
        said = " ".join(d.get("page_on_full_disk", []) + d.get("fresh_page_on_full_disk", {}).get("status", []))
        if d:
            named = "disk" in said.lower() and "full" in said.lower()
            out.append(f"- **A disk that fills during a run is {'named' if named else 'not named'}**: the stored "
                       f"status reads {d['state_on_full_disk']}, and a page opened then says "
                       + _said(d.get("fresh_page_on_full_disk", {}).get("status", [])) + ".")
    soaks = _soak_files()
    tb = sum(r["server_tracebacks"] for r in runs) + _fault_tracebacks(f)
    boxes = 0
    if soaks:
        last = json.loads(soaks[-1].read_text())
        tb += sum(json.loads(p.read_text())["server_tracebacks"] for p in soaks)
        boxes = sum(json.loads(p.read_text())["exception_boxes"] for p in soaks)
        m, bound, slope = last["memory"], last.get("rss_bound_mb"), _slope(last["series"])
        growth_bound = last.get("growth_bound_mb_per_min")
        out.append(f"- **Server memory** (soak {soaks[-1].stem.split('-', 1)[1]}: {last['actions_total']:,} actions, "
                   f"{last['sessions_opened']} sessions, {last['wall_s'] / 60:.0f} min): peak {m['rss_peak_mb']:g} MB"
                   + (f" against a bound of {bound:g} MB stated before the run ({_held(m['rss_peak_mb'], bound)})"
                      if bound else "")
                   + f"; over the second half it moved {slope:+.1f} MB per minute (least squares)"
                   + (f" against a bound of {growth_bound:g} stated before the run ({_held(slope, growth_bound)})."
                      if growth_bound is not None else "."))
    out.append(f"- **No tracebacks**: {tb} in the servers' logs over every load run, fault scenario and soak; "
               f"{boxes} Streamlit exception boxes seen by the soaks.")
    return "\n".join(out)


TABLES = {"load": load_table, "load-verdict": load_verdict, "load-spread": spread_table,
          "load-before": lambda: load_table(BEFORE), "load-before-verdict": lambda: load_verdict(BEFORE),
          "faults": faults_table, "soak": soak_table, "soak-verdict": soak_verdict,
          "holds": holds}


def write(doc: Path) -> list[str]:
    """Replace every generated table in `doc`; returns the names replaced."""
    text, done = doc.read_text(), []
    for name, make in TABLES.items():
        pat = re.compile(rf"(<!-- BEGIN generated:{re.escape(name)} -->\n)(?:.*?\n)?(<!-- END generated:{re.escape(name)} -->)",
                         re.S)
        if pat.search(text):
            text = pat.sub(lambda m: m[1] + make() + "\n" + m[2], text)
            done.append(name)
    doc.write_text(text)
    return done


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace the tables in docs/RELIABILITY.md")
    a = ap.parse_args(argv)
    if a.write:
        print("replaced:", ", ".join(write(DOCS / "RELIABILITY.md")) or "nothing")
    else:
        for name, make in TABLES.items():
            print(f"## {name}\n{make()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
