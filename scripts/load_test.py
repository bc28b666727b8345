"""Load test: a real app server, many real browser sessions, a few unique experiments.

    python scripts/load_test.py                      # 30 sessions, 5 configs, LTH_WORKERS=2
    python scripts/load_test.py --sessions 6 --configs 2 --json out.json --diag failed/

Starts `python -m streamlit run ui/server.py` (the app) on a free 127.0.0.1 port with LTH_STORE in a
temporary folder (scripts/reliability_server.py), checks that a WebSocket from a cross-site
page is refused, visits the Run page once (warm-up), then opens one Chromium (Debian's
/usr/bin/chromium, driven by Playwright) with one browser context per session, all at once.
Session i opens the Run page at ?preset=quick&iterations=N&seed=<i mod configs> and waits until
the page is usable: an enabled Start button, the disabled "Training…" button (same key: another
session's run is already queued or running, so there is nothing to press), or the finished
state. It presses Start only when Start is enabled, then stays until the page says what a user
reads when the run is done ("Finished: every level is trained and stored.", ui/progress.py), not
merely a control that any stored run shows.

Meanwhile procwatch.Sampler reads `ps` every 0.2 s: the server's worker processes (`lth_core
work` processes whose parent is the server, so a worker's own fork during `import torch` is not
a second worker; their peak is bounded by LTH_WORKERS), the server's memory, the CPU time of
the workers and of Chromium. Worker starts are counted from the workers' own start records
(procwatch.start_records: the first line of each run's worker.log).

Reported (JSON): sessions that rendered, started and saw their run finish without an error
(Streamlit exception, error box, JavaScript error), worker starts and the runs they trained (one
per unique config), peak workers, peak server RSS, p50/p95 time to a usable page, CPU shares,
server tracebacks. Exit code 1 if a check fails. tests/test_load.py runs a smaller version with
these functions.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from procwatch import Sampler, cpu_seconds, start_records  # noqa: E402  (beside this script)
from reliability_server import start_server, stop_server, websocket_handshake  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("LTH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
START = ".st-key-start button:not([disabled])"      # Start (or Resume): the only button the harness presses
TRAINING = ".st-key-start button[disabled]"         # "Training…": the run is queued or running already
FINISHED = '[data-testid="stAlertContentSuccess"]:has-text("Finished: every level is trained and stored")'  # the run is done
USABLE = f"{START}, {TRAINING}, {FINISHED}"         # the Run page is ready to act on
STARTED = f'[data-testid="stProgress"], {TRAINING}, {FINISHED}'  # the page shows the run
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


# --- the sessions ---------------------------------------------------------------
@dataclass
class Session:
    index: int
    url: str
    loaded_s: float | None = None   # from navigation start to the HTML page (DOMContentLoaded)
    usable_s: float | None = None   # from navigation start to a usable page
    started: bool = False           # the page shows the run (queued, running or finished)
    done_s: float | None = None     # from navigation start to the page showing the finished run
    errors: list = field(default_factory=list)
    xsrf_cookie: bool = False
    pressed_start: bool = False     # False: the page showed the run queued, running or done already
    step: str = "created"           # the last step reached (where a failed session stopped)


def session_urls(port: int, sessions: int, configs: int, iterations: int) -> list[str]:
    """Session i asks for config i mod `configs` (seeds differ): `configs` unique experiments."""
    base = f"http://127.0.0.1:{port}/run?preset=quick&iterations={iterations}&eval_every={min(25, iterations)}"
    return [f"{base}&seed={i % configs}" for i in range(sessions)]


def chromium_available() -> str | None:
    """None if the browser can be driven, else why not."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright (python) is not installed: pip install -r requirements-test.txt"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    return None


async def _read_errors(page) -> list[str]:
    return [(await el.inner_text())[:300] for el in await page.locator(ERRORS).all()]


@dataclass
class Drive:
    """What every session shares: limits, the start signal, and when to stop waiting for a run."""
    timeout_ms: int                 # each page step (load, Start)
    run_timeout_ms: int             # the wait for the run to finish
    barrier: asyncio.Event          # all sessions navigate at once
    give_up: asyncio.Event          # set `grace_s` after every run has finished in the store
    grace_s: float
    diag: Path | None = None        # screenshots of failed sessions go here


async def _wait_done(page, d: Drive) -> None:
    """The finished state on the page; a page still not showing it `grace_s` after the store says
    every run is done is stuck, and fails at once instead of at the run timeout."""
    done = asyncio.ensure_future(page.locator(FINISHED).first.wait_for(state="visible", timeout=d.run_timeout_ms))
    gave_up = asyncio.ensure_future(d.give_up.wait())
    await asyncio.wait({done, gave_up}, return_when=asyncio.FIRST_COMPLETED)
    gave_up.cancel()
    if not done.done():
        done.cancel()
        raise TimeoutError(f"every run had finished in the store {d.grace_s:g} s earlier; the page never showed it")
    done.result()


async def _one_session(browser, s: Session, d: Drive) -> None:
    """Open the page, press Start, stay on the page (its live panel refreshing) until the run is done."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(f"javascript: {exc}"))
    try:
        await d.barrier.wait()
        t0 = time.monotonic()
        s.step = "loading"
        await page.goto(s.url, wait_until="domcontentloaded", timeout=d.timeout_ms)
        s.loaded_s = time.monotonic() - t0
        s.step = "waiting for the Start button"
        await page.locator(USABLE).first.wait_for(state="visible", timeout=d.timeout_ms)
        s.usable_s = time.monotonic() - t0
        start = page.locator(START)  # never the disabled "Training…" button, which has the same key
        if await start.count():
            s.step = "pressing Start"
            await start.first.click(timeout=d.timeout_ms)
            s.pressed_start = True
        s.step = "waiting for the run to show"
        await page.locator(STARTED).first.wait_for(state="visible", timeout=d.timeout_ms)
        s.started = True
        s.errors += await _read_errors(page)  # e.g. "Cannot start: ..." right after the click
        s.step = "waiting for the run to finish"
        await _wait_done(page, d)
        s.done_s = time.monotonic() - t0
        s.step = "done"
        await page.wait_for_timeout(500)  # the finished page settles before its errors are read
        s.errors += [e for e in await _read_errors(page) if e not in s.errors]
        s.xsrf_cookie = any(c["name"] == "_streamlit_xsrf" for c in await context.cookies())
    except Exception as exc:  # a timeout or a crashed page is this session's failure, reported with it
        s.errors.append(f"{type(exc).__name__} while {s.step}: {str(exc).splitlines()[0][:200]}")
        try:
            s.errors += await _read_errors(page)
            s.errors.append(f"page address: {page.url}")  # the form writes its values there
            body = " ".join((await page.inner_text("body", timeout=5000)).split())
            s.errors.append(f"page text: {body[:600]}")
            if d.diag:
                d.diag.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(d.diag / f"session-{s.index:02d}.png"), full_page=True)
        except Exception:  # the page itself may be gone
            pass
    finally:
        s.errors += page_errors
        await context.close()


async def _watch_store(store_root: Path | None, configs: int, d: Drive) -> None:
    """Set d.give_up grace_s after `configs` runs have all finished in the store."""
    while store_root is not None:
        states = await asyncio.to_thread(store_states, store_root)
        if len(states) >= configs and all(v in ("done", "failed", "cancelled") for v in states.values()):
            await asyncio.sleep(d.grace_s)
            d.give_up.set()
            return
        await asyncio.sleep(1.0)


async def run_sessions(urls: list[str], timeout_s: float = 300, run_timeout_s: float = 900,
                       store_root: Path | None = None, configs: int = 0, grace_s: float = 90,
                       diag: Path | None = None) -> list[Session]:
    """Open every URL in its own browser context of one Chromium, all at once.

    timeout_s bounds each page step (load, Start); run_timeout_s the wait for the run to finish,
    or grace_s after every run of store_root has finished, whichever comes first."""
    from playwright.async_api import async_playwright
    sessions = [Session(i, u) for i, u in enumerate(urls)]
    d = Drive(int(timeout_s * 1000), int(run_timeout_s * 1000), asyncio.Event(), asyncio.Event(), grace_s, diag)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        watcher = asyncio.create_task(_watch_store(store_root, configs, d))
        try:
            tasks = [asyncio.create_task(_one_session(browser, s, d)) for s in sessions]
            await asyncio.sleep(0.5)  # every context exists; now all navigate at once
            d.barrier.set()
            await asyncio.gather(*tasks)
        finally:
            watcher.cancel()
            await browser.close()
    return sessions


async def warm_up(port: int, timeout_s: float = 300) -> float:
    """One visit to the Run page (no Start): seconds until it was usable."""
    from playwright.async_api import async_playwright
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page()
            t0 = time.monotonic()
            await page.goto(f"http://127.0.0.1:{port}/run?preset=quick", timeout=timeout_s * 1000)
            await page.locator(USABLE).first.wait_for(state="visible", timeout=timeout_s * 1000)
            return time.monotonic() - t0
        finally:
            await browser.close()


# --- the whole test -------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 100]) of the values, None if there are none."""
    xs = sorted(values)
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, math.ceil(q / 100 * len(xs)) - 1))
    return xs[k]


def store_states(store_root: Path) -> dict[str, str]:
    """{run id: state} of every run in the store."""
    from lth_core.store.run_store import Store
    store = Store(store_root)
    return {rid: store.status(rid).get("state", "unknown") for rid in store.run_ids()}


def run_load(sessions: int = 30, configs: int = 5, workers: int = 2, iterations: int = 100,
             data_dir: Path | None = None, page_timeout_s: float = 300, run_timeout_s: float = 900,
             keep: Path | None = None, warm: bool = True, diag: Path | None = None) -> dict:
    """Serve the app, drive `sessions` browsers over `configs` unique experiments; returns the figures.

    warm: one visit to the Run page first (the teacher opening it before the class), so the
    sessions measure a running server, not Python importing torch for the first page."""
    why = chromium_available()
    if why:
        raise RuntimeError(why)
    tmp = Path(tempfile.mkdtemp(prefix="lth-load-"))
    store_root = (tmp / "store").resolve()
    store_root.mkdir()
    load_before = os.getloadavg()[0]
    t_begin = time.monotonic()
    result: list[Session] = []
    try:
        server, port = start_server(store_root, workers, tmp / "server.log", data_dir)
        t_ready = time.monotonic() - t_begin
        sampler = Sampler(store_root, server.pid)
        sampler.port = port  # also time the health check
        sampler.start()
        try:
            origins = {"same": websocket_handshake(port, f"http://127.0.0.1:{port}"),
                       "cross_site": websocket_handshake(port, "http://evil.example")}
            warmup_s = asyncio.run(warm_up(port)) if warm else None
            cpu0 = cpu_seconds(server.pid)
            t0_sessions = time.monotonic()
            urls = session_urls(port, sessions, configs, iterations)
            result = asyncio.run(run_sessions(urls, page_timeout_s, run_timeout_s, store_root, configs, diag=diag))
            server_cpu = cpu_seconds(server.pid) - cpu0
            t_sessions = time.monotonic() - t0_sessions
            end = time.monotonic() + 60
            while time.monotonic() < end:  # a run whose sessions all failed may still be finishing
                states = store_states(store_root)
                if all(st in ("done", "failed", "cancelled") for st in states.values()):
                    break
                time.sleep(0.5)
            time.sleep(0.5)  # one more ps sample after the last worker exits
        finally:
            sampler.stop()
            stop_server(server)
        log_text = (tmp / "server.log").read_text(errors="replace")
        if diag:  # keep the evidence: the store (with each run's worker.log) and the server's log
            diag.mkdir(parents=True, exist_ok=True)
            shutil.copytree(store_root, diag / "store", dirs_exist_ok=True)
            shutil.copy(tmp / "server.log", diag / "server.log")
        if keep:
            shutil.copy(tmp / "server.log", keep)
        states = store_states(store_root)
        starts = start_records(store_root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    usable = [x.usable_s for x in result if x.usable_s is not None]
    done = [x.done_s for x in result if x.done_s is not None]
    rnd = lambda v: None if v is None else round(v, 2)  # noqa: E731
    t_wall = time.time() - (time.monotonic() - t_begin)  # unix time of t_begin
    report = {
        "sessions": sessions, "configs": configs, "workers_bound": workers, "iterations": iterations,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_wall)),
        "sessions_ok": sum(1 for x in result if x.started and x.done_s is not None and not x.errors),
        "session_errors": {x.index: x.errors for x in result if x.errors},
        "session_steps": {x.index: x.step for x in result if x.step != "done"},
        "sessions_started": sum(1 for x in result if x.started),
        "sessions_pressed_start": sum(1 for x in result if x.pressed_start),
        "sessions_saw_finished": len(done),
        "xsrf_cookie_sessions": sum(1 for x in result if x.xsrf_cookie),
        "websocket_status_same_origin": origins["same"], "websocket_status_cross_site": origins["cross_site"],
        "runs_in_store": len(states), "runs_done": sum(1 for v in states.values() if v == "done"),
        "run_states": states,
        "worker_starts": len(starts), "runs_trained": len({r["run"] for r in starts}),
        "start_records": [{"pid": r["pid"], "run": r["run"], "at_s": round(r["time"] - t_wall, 1)} for r in starts],
        "ps_workers_seen": len(sampler.workers_seen),
        "ps_work_forks_ignored": len(sampler.forks_seen),
        "peak_workers": sampler.peak_workers,
        "peak_server_rss_mb": round(sampler.peak_server_rss / 2**20, 1),
        "peak_server_tree_rss_mb": round(sampler.peak_tree_rss / 2**20, 1),
        "usable_p50_s": rnd(percentile(usable, 50)), "usable_p95_s": rnd(percentile(usable, 95)),
        "usable_max_s": rnd(max(usable) if usable else None),
        "done_p50_s": rnd(percentile(done, 50)), "done_max_s": rnd(max(done) if done else None),
        "loaded_p50_s": rnd(percentile([x.loaded_s for x in result if x.loaded_s is not None], 50)),
        "server_ready_s": rnd(t_ready), "warmup_visit_s": rnd(warmup_s), "sessions_phase_s": rnd(t_sessions),
        "server_cpu_s_during_sessions": rnd(server_cpu),
        "total_s": rnd(time.monotonic() - t_begin), "ps_samples": sampler.samples, "cores": os.cpu_count(),
        "load_avg_before": round(load_before, 2), "load_avg_peak": round(sampler.peak_load, 2),
        "server_tracebacks": log_text.count("Traceback (most recent call last)"),
        "health_p50_s": rnd(percentile(sampler.health_s, 50)), "health_max_s": rnd(max(sampler.health_s, default=None)),
        "browser_cpu_s": rnd(sampler.cpu_total("browser")), "workers_cpu_s": rnd(sampler.cpu_total("workers")),
    }
    return report


def check(report: dict) -> list[str]:
    """What the report violates: every session saw its run finish, one worker start per unique
    config (from the workers' start records, and the same number of server children in `ps`),
    every run done, workers bounded, cross-site WebSockets refused, no tracebacks."""
    bad = []
    if report["sessions_ok"] != report["sessions"]:
        bad.append(f"{report['sessions_ok']}/{report['sessions']} sessions rendered, started and saw their run "
                   f"finish without error: {json.dumps(report['session_errors'])[:800]}")
    if report["runs_trained"] != report["configs"] or report["worker_starts"] != report["configs"]:
        bad.append(f"{report['worker_starts']} worker starts for {report['runs_trained']} runs; "
                   f"expected one per unique config ({report['configs']})")
    if report["ps_workers_seen"] != report["worker_starts"]:
        bad.append(f"ps saw {report['ps_workers_seen']} workers (children of the server), "
                   f"the workers recorded {report['worker_starts']} starts")
    if report["runs_done"] != report["configs"]:
        bad.append(f"{report['runs_done']} runs done of {report['configs']}: {report['run_states']}")
    if report["websocket_status_cross_site"] == 101 or report["websocket_status_same_origin"] != 101:
        bad.append(f"WebSocket from a cross-site page: {report['websocket_status_cross_site']} (must be refused), "
                   f"same origin: {report['websocket_status_same_origin']} (must be 101)")
    if report["server_tracebacks"]:
        bad.append(f"the server logged {report['server_tracebacks']} tracebacks")
    if report["peak_workers"] > report["workers_bound"]:
        bad.append(f"peak {report['peak_workers']} worker processes, above the bound {report['workers_bound']}")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--configs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2, help="LTH_WORKERS for the server")
    ap.add_argument("--iterations", type=int, default=100, help="training iterations per level of each run")
    ap.add_argument("--page-timeout", type=float, default=300, help="seconds each page step may take")
    ap.add_argument("--run-timeout", type=float, default=900, help="seconds a session waits for its run")
    ap.add_argument("--json", type=Path, help="also write the report here")
    ap.add_argument("--server-log", type=Path, help="keep the server's log here")
    ap.add_argument("--cold", action="store_true", help="no warm-up visit: the sessions hit a fresh server")
    ap.add_argument("--diag", type=Path, help="save screenshots of failed sessions in this folder")
    ap.add_argument("--data-dir", type=Path, help="LTH_DATA_DIR for the server (default: its own, ./data)")
    a = ap.parse_args(argv)
    report = run_load(a.sessions, a.configs, a.workers, a.iterations, data_dir=a.data_dir,
                      page_timeout_s=a.page_timeout, run_timeout_s=a.run_timeout, keep=a.server_log,
                      warm=not a.cold, diag=a.diag)
    text = json.dumps(report, indent=1)
    print(text)
    if a.json:
        a.json.write_text(text)
    bad = check(report)
    for b in bad:
        print(f"FAIL: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
