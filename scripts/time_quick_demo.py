"""Time the quick demo as a student sees it: click on the home page to first and last chart point.

Starts a real `streamlit run ui/server.py` (the app) on 127.0.0.1 with a fresh, empty store for each repeat,
drives Debian's Chromium with Playwright, clicks "Try it: quick demo", and records the seconds
until the live accuracy chart shows its first ticket point and all of them. Prints each repeat
and the medians; writes them to --out.

    python scripts/time_quick_demo.py --repeats 3 --out docs/repro/quick_demo_timing.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the server and browser helpers

from lth_core.presets import get_preset  # noqa: E402
from support import streamlit_server  # noqa: E402
from support.browser import CHROME_ARGS, CHROMIUM, live_points, ticket_points  # noqa: E402
from support.processes import stop_workers  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402


def _stored_times(store: Path, wall0: float, levels: int) -> dict:
    """Seconds after the click at which the worker reached each stage, from the store's own records:
    the worker began computing the run (progress.json), and each level's ticket was stored (its file's
    time). A chart can show a point only after its level is stored; the rest is the page's delay."""
    out = {"worker_started_s": None}
    prog = list(store.glob("*/progress.json"))  # 'started': when the worker began computing the run
    if prog:
        out["worker_started_s"] = json.loads(prog[0].read_text())["data"]["started"] - wall0
    for level in range(levels):
        files = list(store.glob(f"*/t0/L{level:02d}/ticket.json"))
        out[f"level{level}_stored_s"] = files[0].stat().st_mtime - wall0 if files else None
    out["first_stored_s"], out["last_stored_s"] = out["level0_stored_s"], out[f"level{levels - 1}_stored_s"]
    return out


HZ = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def _page_cpu(server_pid: int) -> dict:
    """CPU seconds so far of the app server's process and of every Chromium process: what showing the
    page costs the 2 cores the workers train on."""
    browser = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"chromium" in (entry / "cmdline").read_bytes():
                    browser += _cpu_s(int(entry.name))
            except OSError:
                continue
    return {"server": _cpu_s(server_pid), "browser": browser}


def one_repeat(p, levels: int, settle_s: float, root: Path = ROOT) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "runs"
        proc, url = streamlit_server.start({"LTH_STORE": str(store), "LTH_GALLERY": str(store / "no-gallery")},
                                           Path(tmp) / "server.log", root=root)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.goto(url, timeout=60_000)
            button = page.get_by_role("button", name="Try it: quick demo")
            button.wait_for(timeout=60_000)
            page.wait_for_timeout(settle_s * 1000)  # a class server has been up a while: its warm worker is ready
            warm = any(f.name == "standby.log" for f in store.iterdir()) if store.is_dir() else False
            cpu0 = _page_cpu(proc.pid)
            t0, wall0 = time.perf_counter(), time.time()
            button.click()
            first = last = feedback = None
            while time.perf_counter() - t0 < 240:
                n = ticket_points(page)
                now = time.perf_counter() - t0
                if feedback is None and (n >= 1 or live_points(page) >= 1):
                    feedback = now  # the first measurement on the page: a live curve point, or a chart point
                if n >= 1 and first is None:
                    first = now
                if n >= levels:
                    last = now
                    break
                page.wait_for_timeout(100)
            cpu1 = _page_cpu(proc.pid)
            return {"first_feedback_s": feedback, "first_point_s": first, "last_point_s": last,
                    "warm_worker_started": warm, "server_cpu_s": cpu1["server"] - cpu0["server"],
                    "browser_cpu_s": cpu1["browser"] - cpu0["browser"],
                    **_stored_times(store, wall0, levels)}
        finally:
            browser.close()
            streamlit_server.stop(proc)
            stop_workers(Store(store))


def medians(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if k.endswith("_s")]
    return {k: statistics.median(r[k] for r in rows) if all(r[k] is not None for r in rows) else None for k in keys}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--settle", type=float, default=20.0,
                    help="seconds the server is up before the click (its warm worker warms meanwhile)")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another checkout of the app (e.g. a git worktree of an older commit): its repeats "
                         "alternate with this checkout's, and the ratios are taken within each pair")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {a.repeats}")
    if a.baseline is not None and not (a.baseline / "app.py").is_file():
        ap.error(f"--baseline {a.baseline} has no app.py")
    from playwright.sync_api import sync_playwright
    quick = get_preset("quick")
    rows, base = [], []
    with sync_playwright() as p:
        for i in range(a.repeats):
            if a.baseline is not None:
                base.append(one_repeat(p, quick.levels, a.settle, a.baseline))
                print(f"baseline repeat {i + 1}: {base[-1]}", flush=True)
            rows.append(one_repeat(p, quick.levels, a.settle))
            print(f"repeat {i + 1}: {rows[-1]}", flush=True)
    med = medians(rows)
    print(f"median over {len(rows)}: first feedback {med['first_feedback_s']:.1f} s, first point "
          f"{med['first_point_s']:.1f} s, last point {med['last_point_s']:.1f} s")
    out = {"config": quick.to_dict(), "repeats": rows, "median": med, "cpus": os.cpu_count(), "settle_s": a.settle,
           "load_1min": os.getloadavg()[0]}
    if base:
        commit = subprocess.run(["git", "-C", str(a.baseline), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() or None
        out["baseline"] = {"root": str(a.baseline), "commit": commit, "repeats": base, "median": medians(base),
                           "ratio_median": {k: statistics.median(b[k] / r[k] for b, r in zip(base, rows))
                                            for k in ("first_point_s", "last_point_s")}}
        print(f"baseline median: {out['baseline']['median']}; baseline/this within pairs: {out['baseline']['ratio_median']}")
    if a.out:
        a.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
