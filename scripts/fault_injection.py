"""Fault injection against the real app server on 127.0.0.1 (issue 11): what a user sees, and
whether any finished level is lost.

    python scripts/fault_injection.py --json docs/reliability/faults.json        # every scenario
    python scripts/fault_injection.py --only worker_kill,disk_full

Scenarios (each its own store, server and Chromium sessions; runs are the quick preset):
- server_kill: SIGKILL of the server while one run is running (a level finished), one is starting
  (its worker process exists, its status still says queued) and one is queued; then a new server
  on the same store.
- worker_kill: SIGKILL of a running worker's process group; then Resume.
- worker_stop: SIGSTOP of a worker, once left to the time limit (LTH_JOB_TIMEOUT_S) and once
  cancelled from its page; then Resume.
- disk_full: the store on a 20 MB tmpfs: first with the default free-disk floor, then with the
  floor at 0 and the disk filled while a run trains; then space freed and Resume.
- read_only: a store with a done, an interrupted and a queued run, remounted read-only (Linux
  refuses that while a worker has a file open for writing: tried, and reported), a server started
  on it; then rw again, a new server, and Resume.
"Finished levels": every metrics record (t<k>/L<n>/<arm>.json) and its bytes, hashed before the
fault and compared once the run is done. Needs root for mount; leaves no process or mount behind.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reliability_browser as rb
from procwatch import work_processes
from reliability_checks import (compare, finished_records, server_log_facts, starts_per_run, state, wait_for,
                                worker_of)
from reliability_server import kill_store_workers, start_server, stop_server

from lth_core.service.stall import STALL_S
from lth_core.store.run_store import Store

ITERATIONS = 150  # per level: the quick preset (5 levels x 2 networks) in about 10 s on an idle machine
STALLED = '[data-testid="stAlertContentWarning"]:has-text("No progress: the worker has used no processor time")'
CANCEL = 'button:has-text("Cancel run")'  # what a user reads and presses on the run's page


# --- helpers ---------------------------------------------------------------------
def start_run(browser, port: int, seed: int) -> tuple[object, str]:
    """A new session opens the Run page for seed `seed`, presses Start; (page, run id)."""
    page = browser.session()
    rb.open_usable(page, rb.run_url(port, seed, ITERATIONS))
    return page, rb.press_start(page)


def resume_and_finish(browser, port: int, seed: int, timeout_s: float = 600) -> dict:
    """A new session opens the run's page; presses Resume if it is offered; waits for the finished
    state. Returns what it saw first and whether it saw the run finish."""
    page = browser.session()
    url = rb.run_url(port, seed, ITERATIONS)
    seen = rb.look(page, url, ready=rb.USABLE)  # its buttons, not only the status above them: drawn first
    if seen.get("start_enabled"):
        rb.press_start(page)
    try:
        page.locator(rb.FINISHED).first.wait_for(state="visible", timeout=timeout_s * 1000)
        finished = True
    except Exception:
        finished = False
    return {"page_before_resume": seen, "pressed_resume": bool(seen.get("start_enabled")),
            "page_showed_finished": finished, "after": rb.status_text(page)}


def wait_levels(root: Path, run_id: str, n: int, timeout_s: float = 300) -> bool:
    return bool(wait_for(lambda: len(finished_records(root, run_id)) >= n, timeout_s))


# --- scenarios -------------------------------------------------------------------
def server_kill(tmp: Path, browser) -> dict:
    root = tmp / "store"
    root.mkdir()
    server, port = start_server(root, 2, tmp / "server1.log")
    try:
        _, a = start_run(browser, port, 0)
        wait_levels(root, a, 2)  # running, with finished networks
        pb, pc = browser.session(), browser.session()
        rb.open_usable(pb, rb.run_url(port, 1, ITERATIONS))
        rb.open_usable(pc, rb.run_url(port, 2, ITERATIONS))
        pb.locator(rb.START).first.click()
        pc.locator(rb.START).first.click()
        def both_queued():  # registered: config.json written (a bare folder may be mid-create)
            ids = [r for r in Store(root).run_ids() if r != a and Store(root).has_run(r)]
            return ids if len(ids) == 2 else None
        ids = wait_for(both_queued, 60, 0.02)
        starting = wait_for(lambda: next((r for r in ids if worker_of(root, r, server.pid)), None), 30, 0.02)
        t_kill = time.time()
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        at_kill = {r: {"status": state(root, r), "worker": worker_of(root, r)} for r in [a, *ids]}
        queued = next(r for r in ids if r != starting)
        before = {r: finished_records(root, r) for r in [a, *ids]}
        time.sleep(3)
        orphans = {r: worker_of(root, r) for r in [a, *ids]}
    finally:
        stop_server(server)
    server2, port2 = start_server(root, 2, tmp / "server2.log")
    try:
        seeds = {r: Store(root).config(r).seed for r in (a, starting, queued)}
        page = browser.session()
        after_restart = {name: rb.look(page, rb.run_url(port2, seeds[r], ITERATIONS))
                         for name, r in (("running", a), ("starting", starting), ("queued", queued))}
        ended = wait_for(lambda: all(state(root, r) in ("done", "failed", "cancelled", "interrupted")
                                     for r in (a, starting, queued)), 600, 1.0)
        final = {r: state(root, r) for r in (a, starting, queued)}
        resumed = {r: resume_and_finish(browser, port2, seeds[r]) for r in (a, starting, queued) if final[r] != "done"}
        wait_for(lambda: all(state(root, r) == "done" for r in (a, starting, queued)), 300, 1.0)
    finally:
        stop_server(server2)
        kill_store_workers(root)
    return {"killed_at_unix": round(t_kill, 1), "at_kill": at_kill,
            "roles": {"running": a, "starting": starting, "queued": queued},
            "orphans_alive_3s_after_kill": orphans, "page_after_restart": after_restart,
            "all_ended_without_user": bool(ended), "states_without_user": final, "resumed_by_user": resumed,
            "final_states": {r: state(root, r) for r in (a, starting, queued)},
            "worker_starts_per_run": starts_per_run(root),
            "finished_levels": {r: compare(before[r], finished_records(root, r)) for r in before},
            "server_logs": {"first": server_log_facts(tmp / "server1.log"),
                            "second": server_log_facts(tmp / "server2.log")}}


def worker_kill(tmp: Path, browser) -> dict:
    root = tmp / "store"
    root.mkdir()
    server, port = start_server(root, 1, tmp / "server.log")
    try:
        page, rid = start_run(browser, port, 10)
        wait_levels(root, rid, 3)
        before = finished_records(root, rid)
        pid = worker_of(root, rid, server.pid)
        t0 = time.monotonic()
        os.killpg(pid, signal.SIGKILL)
        shown = wait_for(lambda: any("failed" in t for t in rb.status_text(page)), 60, 0.5)
        seen_after_s = round(time.monotonic() - t0, 1)
        status_shown = rb.status_text(page)
        resumed = resume_and_finish(browser, port, 10)
        after = finished_records(root, rid)
    finally:
        stop_server(server)
    return {"page_showed_failed": bool(shown), "seconds_until_page_showed_it": seen_after_s,
            "status_shown": status_shown, "resume": resumed, "final_state": state(root, rid),
            "worker_starts": starts_per_run(root).get(rid, 0), "finished_levels": compare(before, after),
            "damaged_files": Store(root).damaged_files(rid), "server_log": server_log_facts(tmp / "server.log")}


def worker_stop(tmp: Path, browser, limit_s: int = 120) -> dict:
    root = tmp / "store"
    root.mkdir()
    server, port = start_server(root, 2, tmp / "server.log", extra_env={"LTH_JOB_TIMEOUT_S": str(limit_s)})
    out = {"time_limit_s": limit_s}
    try:
        for how, seed in (("left_to_time_limit", 20), ("cancelled_from_its_page", 21)):
            page, rid = start_run(browser, port, seed)
            t_start = time.monotonic()
            wait_levels(root, rid, 2)
            before = finished_records(root, rid)
            pid = worker_of(root, rid, server.pid)
            os.kill(pid, signal.SIGSTOP)
            t_stop = time.monotonic()
            page.wait_for_timeout(2000)
            first = rb.status_text(page)
            page.wait_for_timeout(10_000)
            later = rb.status_text(page)
            r = {"stopped_at_s_after_start": round(t_stop - t_start, 1), "page_when_stopped": first,
                 "page_10s_later": later}
            try:  # the page's own notice: the worker's process group has used no CPU for STALL_S
                page.locator(STALLED).first.wait_for(state="visible", timeout=int((STALL_S + 45) * 1000))
                r["stall_notice_after_s"] = round(time.monotonic() - t_stop, 1)
                r["page_stall_notice"] = rb.status_text(page)
            except Exception:  # never shown: reported as such
                r["stall_notice_after_s"] = None
            if how == "cancelled_from_its_page":
                t0 = time.monotonic()
                page.locator(CANCEL).first.click()
                wait_for(lambda: state(root, rid) == "cancelled", 30, 0.1)
                r["cancel_took_s"] = round(time.monotonic() - t0, 2)
            else:
                wait_for(lambda: state(root, rid) in ("failed", "interrupted"), limit_s + 60, 0.5)
                r["ended_at_s_after_start"] = round(time.monotonic() - t_start, 1)
            page.wait_for_timeout(3000)
            r["page_after"] = rb.status_text(page)
            r["state_after"] = state(root, rid)
            r["worker_gone"] = worker_of(root, rid) is None
            r["resume"] = resume_and_finish(browser, port, seed)
            r["final_state"] = state(root, rid)
            r["finished_levels"] = compare(before, finished_records(root, rid))
            r["damaged_files"] = Store(root).damaged_files(rid)
            out[how] = r
    finally:
        stop_server(server)
        for pid in work_processes(root):  # a stopped worker left behind would never exit by itself
            os.kill(pid, signal.SIGCONT)
        kill_store_workers(root)
    out["server_log"] = server_log_facts(tmp / "server.log")
    return out


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def _fill(path: Path) -> int:
    """Write zeros into path until the disk is full; bytes written."""
    n = 0
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 2**20)
                f.flush()
                n += 2**20
        except OSError:
            pass
    return n


def disk_full(tmp: Path, browser) -> dict:
    disk = tmp / "disk"
    _mount_tmpfs(disk, "20m")
    root = disk / "store"
    root.mkdir()
    out = {"tmpfs_size": "20m"}
    try:
        server, port = start_server(root, 1, tmp / "server1.log")  # the default floor, 1 GB
        try:
            page = browser.session()
            rb.open_usable(page, rb.run_url(port, 30, ITERATIONS))
            page.locator(rb.START).first.click()
            page.locator(rb.ERRORS).first.wait_for(state="visible", timeout=60_000)
            out["default_floor"] = {"page": rb.status_text(page), "runs_created": len(Store(root).run_ids())}
        finally:
            stop_server(server)
        server, port = start_server(root, 1, tmp / "server2.log", extra_env={"LTH_MIN_FREE_DISK_GB": "0"})
        try:
            page, rid = start_run(browser, port, 31)
            wait_levels(root, rid, 2)
            before = finished_records(root, rid)
            filled = _fill(disk / "filler")
            ended = wait_for(lambda: state(root, rid) not in ("running", "queued"), 300, 0.5)
            page.wait_for_timeout(3000)
            r = {"filled_bytes": filled, "run_stopped": bool(ended), "state_on_full_disk": state(root, rid),
                 "page_on_full_disk": rb.status_text(page),
                 "fresh_page_on_full_disk": rb.look(browser.session(), rb.run_url(port, 31, ITERATIONS)),
                 "worker_log_tail": (root / rid / "worker.log").read_text(errors="replace")[-600:]}
            (disk / "filler").unlink()
            r["resume"] = resume_and_finish(browser, port, 31)
            r["final_state"] = state(root, rid)
            r["finished_levels"] = compare(before, finished_records(root, rid))
            r["damaged_files"] = Store(root).damaged_files(rid)
            r["leftover_tmp_files"] = [str(p.relative_to(root)) for p in root.rglob(".*.tmp")]
            out["filled_while_training"] = r
        finally:
            stop_server(server)
            kill_store_workers(root)
        out["server_logs"] = [server_log_facts(tmp / f"server{i}.log") for i in (1, 2)]
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    return out


def read_only(tmp: Path, browser) -> dict:
    """A store holding a done run, an interrupted one (server and worker killed after 2 finished
    networks) and a queued one, on a filesystem remounted read-only; a server started on it; then
    rw again, a new server, and Resume."""
    disk = tmp / "disk"
    _mount_tmpfs(disk, "64m")
    root = disk / "store"
    root.mkdir()
    out = {}
    try:
        server, port = start_server(root, 1, tmp / "server1.log", extra_env={"LTH_MIN_FREE_DISK_GB": "0"})
        try:
            done_page, done_id = start_run(browser, port, 40)
            done_page.locator(rb.FINISHED).first.wait_for(state="visible", timeout=600_000)
            _, cut = start_run(browser, port, 41)
            wait_levels(root, cut, 2)
            _, queued = start_run(browser, port, 42)
            busy = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
            out["remount_ro_while_a_worker_writes"] = {"returncode": busy.returncode, "stderr": busy.stderr.strip()}
            if busy.returncode == 0:  # not expected: Linux refuses while a file is open for writing
                subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
        finally:
            stop_server(server)
            kill_store_workers(root)
        time.sleep(1)
        runs = {"done": (done_id, 40), "interrupted": (cut, 41), "queued": (queued, 42)}
        before = {name: finished_records(root, rid) for name, (rid, _) in runs.items()}
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        server, port = start_server(root, 1, tmp / "server2.log")
        try:
            seen = {name: rb.look(browser.session(), rb.run_url(port, seed, ITERATIONS))
                    for name, (rid, seed) in runs.items()}
            seen["results_page_of_done_run"] = rb.look(browser.session(), f"http://127.0.0.1:{port}/results?run="
                                                       f"{done_id}", ready=f"{rb.ERRORS}, .js-plotly-plot")
            page = browser.session()
            rb.open_usable(page, rb.run_url(port, 41, ITERATIONS))
            page.locator(rb.START).first.click()  # Resume, on a read-only store
            page.locator(rb.ERRORS).first.wait_for(state="visible", timeout=60_000)
            seen["interrupted_after_pressing_resume"] = rb.status_text(page)
            page = browser.session()
            rb.open_usable(page, rb.run_url(port, 43, ITERATIONS))
            page.locator(rb.START).first.click()  # a new run, on a read-only store
            page.locator(rb.ERRORS).first.wait_for(state="visible", timeout=60_000)
            seen["new_run_after_pressing_start"] = rb.status_text(page)
            out["server_on_read_only_store"] = seen
            out["states_on_read_only_store"] = {name: state(root, rid) for name, (rid, _) in runs.items()}
        finally:
            stop_server(server)
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        server, port = start_server(root, 1, tmp / "server3.log", extra_env={"LTH_MIN_FREE_DISK_GB": "0"})
        try:
            out["after_rw_again"] = {name: resume_and_finish(browser, port, seed)
                                     for name, (rid, seed) in runs.items() if name != "done"}
        finally:
            stop_server(server)
            kill_store_workers(root)
        out["final_states"] = {name: state(root, rid) for name, (rid, _) in runs.items()}
        out["finished_levels"] = {name: compare(before[name], finished_records(root, rid))
                                  for name, (rid, _) in runs.items()}
        out["damaged_files"] = {name: Store(root).damaged_files(rid) for name, (rid, _) in runs.items()}
        out["server_logs"] = [server_log_facts(tmp / f"server{i}.log") for i in (1, 2, 3)]
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    return out


SCENARIOS = {"server_kill": server_kill, "worker_kill": worker_kill, "worker_stop": worker_stop,
             "disk_full": disk_full, "read_only": read_only}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma list of " + ", ".join(SCENARIOS))
    ap.add_argument("--json", type=Path, help="write the results here")
    a = ap.parse_args(argv)
    names = a.only.split(",") if a.only else list(SCENARIOS)
    results = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
               "load_avg_before": round(os.getloadavg()[0], 2)}
    browser = rb.Browser()
    try:
        for name in names:
            tmp = Path(tempfile.mkdtemp(prefix=f"lth-fault-{name}-"))
            t0 = time.monotonic()
            try:
                results[name] = SCENARIOS[name](tmp, browser)
            except Exception as exc:  # a scenario that breaks is reported, and the others still run
                results[name] = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
            results[name]["wall_s"] = round(time.monotonic() - t0, 1)
            subprocess.run(["umount", str(tmp / "disk")], check=False, capture_output=True)
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
            print(f"{name}: {json.dumps(results[name])[:400]}", file=sys.stderr, flush=True)
    finally:
        browser.close()
    text = json.dumps(results, indent=1)
    if a.json:
        a.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
