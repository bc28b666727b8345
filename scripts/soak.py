"""Soak: a class's traffic, compressed, against the real server on 127.0.0.1 (issue 11).

    python scripts/soak.py --actions 1800 --minutes 60 --users 6 --json docs/reliability/soak-2.json

How much traffic: a class of 30 students, each clicking about once every 2 minutes for 2 hours,
makes 30 * 120 / 2 = 1,800 actions, the default of --actions. The soak stops after that many
actions, or after --minutes (a cap), whichever comes first.

One server (LTH_WORKERS=2, LTH_JOB_TIMEOUT_S=180 so no run holds a worker for long) and one
Chromium with `--users` virtual students, each a browser context that loops until the time is up,
picking at random: open the Run page of a random preset (small iteration counts, a few seeds, so
runs repeat and are shared) and press Start if it is enabled; Cancel a run it started; wait for a
run to finish; reload the page; open another page (Results of a stored run, Compare, All runs,
Learn, Rounds, Inside); open a bad address (markdown in a parameter, absurd numbers, a path in a
run id, an unknown page or preset); or leave and come back as a new session (a new context).

The bounds on the server's memory are stated before the run (--rss-bound-mb, default RSS_BOUND_MB;
--growth-bound-mb-per-min, default GROWTH_BOUND_MB_PER_MIN, why they are what they are: beside them):
the run fails if the server's RSS ever exceeds the first, or grows faster than the second over the
second half of the run (least squares).

Every `--sample-s` seconds the server's RSS (alone, and with its workers), its thread count and the
number of workers go into the series. Reported: actions by kind, sessions opened, exception boxes
(Streamlit's, which a user must never see) and error boxes (messages: expected for bad addresses),
JavaScript errors, tracebacks in the server's log, runs by final state, and the memory series
with its bounds. Exit code 1 on a traceback, an exception box, a broken page, or memory beyond a bound.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from load_test import CHROMIUM, CHROMIUM_ARGS, ERRORS, START, USABLE
from procwatch import ps_table, tree_rss, worker_processes
from reliability_server import kill_store_workers, start_server, stop_server

from lth_core.presets import PRESETS

EXCEPTION = '[data-testid="stException"]'
BAD_URLS = ["/run?dataset=[Log in](https://example.org)", "/run?iterations=1000000000", "/run?rounds=1000",
            "/run?batch_size=45000&dataset=cifar10&arch=conv2", "/results?run=../../etc/passwd",
            "/results?run=0123456789abcdef", "/results?run=<script>alert(1)</script>", "/nowhere",
            "/run?preset=bogus", "/run?seed=-1&lr=nan", "/compare?runs=zz,yy", "/run?" + "x" * 3000 + "=1",
            "/inside?run=%00", "/rounds?run=ffffffffffffffff"]
PAGES = ["/compare", "/runs", "/learn", "/rounds", "/inside", "/"]
# The bounds on the server's memory, stated before a run. RSS: the server imports torch (the CUDA
# build: about half a gigabyte resident before any page is drawn), Streamlit, pandas and Plotly, and
# keeps size-bounded caches (test sets, masks, estimates); 1.25 GiB leaves room for those, not for a
# leak. Growth: 1 MB per minute over the second half would add at most 2 hours * 60 = 120 MB in a class.
RSS_BOUND_MB = 1280
GROWTH_BOUND_MB_PER_MIN = 1.0
ACTIONS = {"start": 30, "cancel": 8, "wait_finish": 8, "reload": 14, "page": 16, "bad_url": 14, "new_session": 10}


class MemorySeries(threading.Thread):
    """The server's memory every `every_s` seconds: [t_s, rss_mb, tree_rss_mb, threads, workers]."""

    def __init__(self, server_pid: int, store_root: Path, every_s: float):
        super().__init__(daemon=True)
        self.pid, self.root, self.every_s = server_pid, store_root, every_s
        self.rows: list[list] = []
        self.t0 = time.monotonic()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            table = ps_table()
            own, tree = tree_rss(self.pid, table)
            try:
                threads = len(os.listdir(f"/proc/{self.pid}/task"))
            except OSError:
                threads = 0
            self.rows.append([round(time.monotonic() - self.t0, 1), round(own / 2**20, 1), round(tree / 2**20, 1),
                              threads, len(worker_processes(self.root, table, parent=self.pid))])
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


class Tally:
    """What the virtual students did and saw."""

    def __init__(self, budget: int | None = None):
        self.budget = budget               # stop after this many actions (None: only the time limit)
        self.actions: dict[str, int] = {}
        self.sessions = 0
        self.exceptions: list[str] = []    # Streamlit exception boxes: never acceptable
        self.error_boxes = 0               # messages (a bad address must give one)
        self.broken: list[str] = []        # a page that never became usable, JS errors
        self.run_ids: set[str] = set()

    def did(self, kind: str) -> None:
        self.actions[kind] = self.actions.get(kind, 0) + 1

    def spent(self) -> bool:
        """Whether the class's traffic (the action budget) has been played."""
        return self.budget is not None and sum(self.actions.values()) >= self.budget


async def _settle(page, timeout_ms: int) -> None:
    """Wait until the page shows something to act on, or a message."""
    await page.locator(f"{USABLE}, {ERRORS}, h1").first.wait_for(state="visible", timeout=timeout_ms)
    await page.wait_for_timeout(800)


async def _read(page, tally: Tally, where: str) -> None:
    for el in await page.locator(EXCEPTION).all():
        tally.exceptions.append(f"{where}: {(await el.inner_text())[:200]}")
    tally.error_boxes += await page.locator('[data-testid="stAlertContentError"]').count()


async def _student(browser, base: str, end: float, rng: random.Random, tally: Tally, timeout_ms: int) -> None:
    """One virtual student: random actions until `end` (monotonic s), new sessions now and then."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    presets = list(PRESETS)
    context = page = None
    while time.monotonic() < end and not tally.spent():
        if page is None:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            page.on("pageerror", lambda exc: tally.broken.append(f"javascript: {str(exc)[:200]}"))
            tally.sessions += 1
            await page.goto(f"{base}/run?preset=quick", wait_until="domcontentloaded", timeout=timeout_ms)
        kind = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        where = kind
        try:
            if kind == "start":
                preset = rng.choice(presets) if rng.random() < 0.3 else "quick"
                url = f"{base}/run?preset={preset}&iterations={rng.choice([50, 100, 150])}&seed={rng.randrange(6)}"
                where = url
                await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
                await _settle(page, timeout_ms)
                if await page.locator(START).count():
                    await page.locator(START).first.click(timeout=timeout_ms)
                    await page.wait_for_timeout(1500)
            elif kind == "cancel":
                button = page.locator('button:has-text("Cancel run")')
                if await button.count():
                    try:
                        await button.first.click(timeout=10_000)
                    except PlaywrightTimeout:
                        if await button.count():  # still shown, yet could not be pressed: a finding
                            raise
                        kind = "cancel_too_late"  # the run ended first and its page dropped the button
                    await page.wait_for_timeout(1500)
            elif kind == "wait_finish":
                await page.wait_for_timeout(rng.uniform(5_000, 30_000))
            elif kind == "reload":
                await page.reload(wait_until="domcontentloaded", timeout=timeout_ms)
                await _settle(page, timeout_ms)
            elif kind == "page":
                url = base + (f"/results?run={rng.choice(sorted(tally.run_ids))}" if tally.run_ids and rng.random() < 0.4
                              else rng.choice(PAGES))
                where = url
                await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
                await _settle(page, timeout_ms)
            elif kind == "bad_url":
                where = base + rng.choice(BAD_URLS)
                await page.goto(where, wait_until="domcontentloaded", timeout=timeout_ms)
                await _settle(page, timeout_ms)
            elif kind == "new_session":
                await context.close()
                context = page = None
                tally.did(kind)
                continue
            await _read(page, tally, where)
            tally.did(kind)
        except Exception as exc:  # a page that never became usable is a finding, reported
            tally.broken.append(f"{where}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        await asyncio.sleep(rng.uniform(0.5, 3.0))  # a student reads before the next click
    if context is not None:
        await context.close()


async def _drive(base: str, minutes: float, users: int, seed: int, tally: Tally, timeout_ms: int) -> None:
    from playwright.async_api import async_playwright
    end = time.monotonic() + minutes * 60
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.gather(*[_student(browser, base, end, random.Random(seed * 100 + i), tally, timeout_ms)
                                   for i in range(users)])
        finally:
            await browser.close()


def second_half_slope(rows: list) -> float:
    """Least-squares slope of the server's RSS (MB per minute) over the second half of the series:
    growth once the first pages, caches and test sets are loaded."""
    half = rows[len(rows) // 2:]
    mx, my = statistics.mean(r[0] for r in half), statistics.mean(r[1] for r in half)
    return 60 * sum((r[0] - mx) * (r[1] - my) for r in half) / sum((r[0] - mx) ** 2 for r in half)


def _bound(rows: list[list]) -> dict:
    """The memory figures: first, peak and last RSS; mean of the first and last quarter of the samples;
    the growth over the second half."""
    rss = [r[1] for r in rows]
    q = max(1, len(rss) // 4)
    first, last = sum(rss[:q]) / q, sum(rss[-q:]) / q
    return {"samples": len(rss), "rss_first_mb": rss[0], "rss_peak_mb": max(rss), "rss_last_mb": rss[-1],
            "rss_first_quarter_mean_mb": round(first, 1), "rss_last_quarter_mean_mb": round(last, 1),
            "growth_last_vs_first_quarter_mb": round(last - first, 1),
            "tree_rss_peak_mb": max(r[2] for r in rows), "threads_peak": max(r[3] for r in rows),
            "threads_last": rows[-1][3], "second_half_slope_mb_per_min": round(second_half_slope(rows), 2)}


def run_soak(minutes: float, users: int, seed: int, sample_s: float, workers: int = 2,
             actions: int | None = None, rss_bound_mb: float = RSS_BOUND_MB,
             growth_bound: float = GROWTH_BOUND_MB_PER_MIN) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="lth-soak-"))
    root = (tmp / "store").resolve()
    root.mkdir()
    tally = Tally(actions)
    server, port = start_server(root, workers, tmp / "server.log", extra_env={"LTH_JOB_TIMEOUT_S": "180"})
    series = MemorySeries(server.pid, root, sample_s)
    series.start()
    t0 = time.monotonic()
    try:
        def note_runs():  # stored runs become Results pages to visit
            while time.monotonic() - t0 < minutes * 60 and not tally.spent():
                tally.run_ids.update(p.name for p in root.iterdir() if len(p.name) == 16)
                time.sleep(5)
        threading.Thread(target=note_runs, daemon=True).start()
        asyncio.run(_drive(f"http://127.0.0.1:{port}", minutes, users, seed, tally, 120_000))
        time.sleep(sample_s)  # one more sample with the browsers gone
    finally:
        series.stop()
        stop_server(server)
        kill_store_workers(root)
    log = (tmp / "server.log").read_text(errors="replace")
    from lth_core.store.run_store import Store
    store = Store(root)
    states: dict[str, int] = {}
    failed: dict[str, str] = {}  # run id -> the reason its status gives
    for rid in store.run_ids():
        st_ = store.status(rid)
        s = st_.get("state", "unknown")
        states[s] = states.get(s, 0) + 1
        if s == "failed":
            failed[rid] = str(st_.get("reason", ""))[:300]
    report = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - (time.monotonic() - t0))),
              "minutes": minutes, "actions_asked": actions, "rss_bound_mb": rss_bound_mb,
              "growth_bound_mb_per_min": growth_bound, "users": users, "seed": seed, "workers": workers, "cores": os.cpu_count(),
              "wall_s": round(time.monotonic() - t0, 1), "actions": tally.actions,
              "actions_total": sum(tally.actions.values()), "sessions_opened": tally.sessions,
              "exception_boxes": len(tally.exceptions), "exception_examples": tally.exceptions[:10],
              "error_boxes": tally.error_boxes, "broken": len(tally.broken), "broken_examples": tally.broken[:15],
              "server_tracebacks": log.count("Traceback (most recent call last)"),
              "runs_by_state": states, "failed_reasons": failed, "memory": _bound(series.rows), "series_columns":
              ["t_s", "server_rss_mb", "server_and_workers_rss_mb", "server_threads", "workers"],
              "series": series.rows}
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60, help="stop after this long at the latest")
    ap.add_argument("--actions", type=int, default=1800,
                    help="stop after this many actions (1,800: a class of 30 clicking every 2 minutes for 2 hours)")
    ap.add_argument("--rss-bound-mb", type=float, default=RSS_BOUND_MB, help="the server's RSS must stay below this")
    ap.add_argument("--growth-bound-mb-per-min", type=float, default=GROWTH_BOUND_MB_PER_MIN,
                    help="the server's RSS may grow at most this fast over the second half")
    ap.add_argument("--users", type=int, default=6, help="virtual students at once")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample-s", type=float, default=5.0, help="seconds between memory samples")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    for name in ("minutes", "actions", "users", "sample_s", "rss_bound_mb", "growth_bound_mb_per_min"):
        if getattr(a, name) <= 0:
            ap.error(f"--{name.replace('_', '-')} must be positive, not {getattr(a, name)}")
    report = run_soak(a.minutes, a.users, a.seed, a.sample_s, actions=a.actions, rss_bound_mb=a.rss_bound_mb,
                      growth_bound=a.growth_bound_mb_per_min)
    text = json.dumps(report, indent=1)
    if a.json:
        a.json.write_text(text)
    print(json.dumps({k: v for k, v in report.items() if k != "series"}, indent=1))
    m = report["memory"]
    bad = report["server_tracebacks"] or report["exception_boxes"] or report["broken"] or \
        m["rss_peak_mb"] > report["rss_bound_mb"] or m["second_half_slope_mb_per_min"] > report["growth_bound_mb_per_min"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
