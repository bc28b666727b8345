"""Load test: a real app server, many real browser sessions, a few unique experiments.

    python scripts/load_test.py                      # 30 sessions, 5 configs, LTH_WORKERS=2
    python scripts/load_test.py --sessions 6 --configs 2 --json out.json --diag failed/

Starts `python -m streamlit run app.py` on a free loopback port with LTH_STORE in a
temporary folder, checks that a WebSocket from a cross-site page is refused,
visits the Run page once (warm-up), then opens one Chromium (Debian's
/usr/bin/chromium, driven by Playwright) with one browser context per session,
all at once. Session i opens the Run page at
?preset=quick&iterations=N&seed=<i mod configs>, waits until the page is usable
(its Start button, or "Open its results" for a run already stored), presses
Start and stays until the page shows the finished run. Meanwhile
procwatch.Sampler reads `ps` every 0.2 s: the `lth_core work` processes of this
store (their peak is bounded by LTH_WORKERS), the server's memory, and the CPU
time of the workers and of Chromium.

Reported (JSON): sessions that rendered, started and finished without an error
(Streamlit exception, error box, JavaScript error), trainings actually run
(worker processes seen and runs done in the store: one per unique config), peak
workers, peak server RSS, p50/p95 time to a usable page, CPU shares, server
tracebacks. Exit code 1 if a check fails. tests/test_load.py runs a smaller
version with these functions.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from procwatch import Sampler, cpu_seconds, ps_table  # noqa: E402  (beside this script)

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python scripts/load_test.py`: lth_core lives in the repository root
    sys.path.insert(0, str(REPO))
CHROMIUM = Path(os.environ.get("LTH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
USABLE = ".st-key-start button, .st-key-open_results button"   # the Run page is ready to act on
STARTED = ('[data-testid="stProgress"], [data-testid="stAlertContentSuccess"], '
           '.st-key-open_results button, .st-key-open_results_after button')
DONE = ".st-key-open_results button, .st-key-open_results_after button"  # the run's results can be opened
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


# --- the server -----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store_root: Path, port: int, workers: int, data_dir: Path | None = None,
                 extra_env: dict | None = None, log=None) -> subprocess.Popen:
    """The app, headless on 127.0.0.1:port, in its own process group."""
    # Streamlit looks up the machine's external IP over HTTP (checkip.amazonaws.com) to vet an unknown
    # WebSocket origin; the proxy variables send that to a closed loopback port, so the test stays local.
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "LTH_STORE": str(store_root), "LTH_WORKERS": str(workers),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
           "http_proxy": dead, "https_proxy": dead, "NO_PROXY": "127.0.0.1,localhost",
           "no_proxy": "127.0.0.1,localhost", **(extra_env or {})}
    if data_dir:
        env["LTH_DATA_DIR"] = str(data_dir)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1"]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def wait_healthy(port: int, proc: subprocess.Popen, timeout_s: float = 90) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the app server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the app server did not answer on port {port} within {timeout_s} s")


def websocket_handshake(port: int, origin: str | None) -> int:
    """HTTP status of a WebSocket upgrade to the app's stream endpoint sent with this Origin header
    (101: accepted). A cross-site page must be refused, or it could press Start for a student."""
    import base64
    headers = [f"GET /_stcore/stream HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
               "Connection: Upgrade", f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
               "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
    if origin:
        headers.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        first = sock.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")  # 'HTTP/1.1 101 Switching...'
    parts = first.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server and everything it started (its workers are in their own process groups)."""
    workers = [pid for pid, ppid, _, _ in ps_table() if ppid == proc.pid]
    for pgid in [proc.pid] + workers:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait(timeout=10)


# --- the sessions ---------------------------------------------------------------
@dataclass
class Session:
    index: int
    url: str
    loaded_s: float | None = None   # from navigation start to the HTML page (DOMContentLoaded)
    usable_s: float | None = None   # from navigation start to a usable page
    started: bool = False           # Start pressed and the page shows the run
    done_s: float | None = None     # from navigation start to the page showing the finished run
    errors: list = field(default_factory=list)
    xsrf_cookie: bool = False
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
    """The finished run on the page; a page still not showing it `grace_s` after the store says
    every run is done is stuck, and fails at once instead of at the run timeout."""
    done = asyncio.ensure_future(page.locator(DONE).first.wait_for(state="visible", timeout=d.run_timeout_ms))
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
        start = page.locator(".st-key-start button")
        s.step = "pressing Start"
        if await start.count():
            await start.first.click(timeout=d.timeout_ms)
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
    from lth_core.store import Store
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
    port = free_port()
    load_before = os.getloadavg()[0]
    t_begin = time.monotonic()
    result: list[Session] = []
    try:
        with open(tmp / "server.log", "wb") as log:
            server = start_server(store_root, port, workers, data_dir, log=log)
            sampler = Sampler(store_root, server.pid)
            sampler.start()
            try:
                wait_healthy(port, server)
                sampler.port = port  # from now on, also time the health check
                t_ready = time.monotonic() - t_begin
                origins = {"same": websocket_handshake(port, f"http://127.0.0.1:{port}"),
                           "cross_site": websocket_handshake(port, "http://evil.example")}
                warmup_s = asyncio.run(warm_up(port)) if warm else None
                cpu0 = cpu_seconds(server.pid)
                urls = session_urls(port, sessions, configs, iterations)
                result = asyncio.run(run_sessions(urls, page_timeout_s, run_timeout_s, store_root, configs,
                                                  diag=diag))
                server_cpu = cpu_seconds(server.pid) - cpu0
                t_sessions = time.monotonic() - t_begin - t_ready
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    usable = [x.usable_s for x in result if x.usable_s is not None]
    done = [x.done_s for x in result if x.done_s is not None]
    rnd = lambda v: None if v is None else round(v, 2)  # noqa: E731
    report = {
        "sessions": sessions, "configs": configs, "workers_bound": workers, "iterations": iterations,
        "sessions_ok": sum(1 for x in result if x.started and x.done_s is not None and not x.errors),
        "session_errors": {x.index: x.errors for x in result if x.errors},
        "sessions_started": sum(1 for x in result if x.started),
        "sessions_saw_done": len(done),
        "xsrf_cookie_sessions": sum(1 for x in result if x.xsrf_cookie),
        "websocket_status_same_origin": origins["same"], "websocket_status_cross_site": origins["cross_site"],
        "runs_in_store": len(states), "runs_done": sum(1 for v in states.values() if v == "done"),
        "run_states": states,
        "worker_starts": len(sampler.workers_seen), "runs_trained": len(set(sampler.workers_seen.values())),
        "workers": {pid: {"run": rid, "parent": sampler.worker_times[pid][0],
                          "seen_s": [round(t - t_begin, 1) for t in sampler.worker_times[pid][1:]]}
                    for pid, rid in sampler.workers_seen.items()},
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
    """What the report violates: every session fine, one training per unique config, workers bounded."""
    bad = []
    if report["sessions_ok"] != report["sessions"]:
        bad.append(f"{report['sessions_ok']}/{report['sessions']} sessions rendered, started and finished "
                   f"without error: "
                   f"{json.dumps(report['session_errors'])[:800]}")
    if report["runs_trained"] != report["configs"] or report["worker_starts"] != report["configs"]:
        bad.append(f"{report['worker_starts']} worker starts for {report['runs_trained']} runs; "
                   f"expected one per unique config ({report['configs']})")
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
    a = ap.parse_args(argv)
    report = run_load(a.sessions, a.configs, a.workers, a.iterations, page_timeout_s=a.page_timeout,
                      run_timeout_s=a.run_timeout, keep=a.server_log, warm=not a.cold, diag=a.diag)
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
