"""End to end in a real browser: start the server, press the quick-demo button, watch the run
finish level by level, open its results and save the screenshot the README shows.

Needs the playwright Python package and Debian's /usr/bin/chromium (never
`playwright install`). Locally a missing browser skips; under CI=true it fails,
so CI cannot go green by skipping.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from support import streamlit_server

from lth_core.presets import get_preset
from lth_core.store.run_store import Store

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "screenshot-results.png"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
RUN_TIMEOUT_S = 240

pytestmark = pytest.mark.browser
TICKET = "Winning ticket (iterative pruning)"


def _require_browser():
    """The sync Playwright API, or skip (fail under CI=true) when it or Chromium is missing."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem, sync_playwright = "the playwright Python package is not installed", None
    if problem is None and not CHROMIUM.is_file():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return sync_playwright


_free_port = streamlit_server.free_port  # kept for the scripts and tests that import it from here


@pytest.fixture
def server(tmp_path, mnist1d, data_dir):
    """A real `streamlit run app.py` on a free port with an empty store; always stopped."""
    store = tmp_path / "runs"
    try:
        proc, url = streamlit_server.start({"LTH_STORE": str(store), "LTH_DATA_DIR": str(data_dir),
                                            "LTH_GALLERY": str(tmp_path / "no-gallery")}, tmp_path / "server.log")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield url, store
    finally:
        streamlit_server.stop(proc)
        _stop_workers(Store(store))


def _stop_workers(store: Store) -> None:
    """The app's job workers run in their own process groups and outlive the server: stop any
    still computing a run of this test's store (their pid is in the run's status)."""
    for run_id in store.run_ids():
        st = store.status(run_id)
        if st.get("state") == "running" and st.get("pid"):
            try:
                os.killpg(int(st["pid"]), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _ticket_points(page) -> int:
    """Points on the ticket line of the first accuracy chart on the page (0 if none yet)."""
    return page.evaluate("""(name) => {
        for (const plot of document.querySelectorAll('.js-plotly-plot')) {
            for (const trace of (plot._fullData || [])) {  // decoded by Plotly (data may hold base64 arrays)
                if (trace.name === name && trace.x && trace.x.length !== undefined) return trace.x.length;
            }
        }
        return 0;
    }""", TICKET)


def _full_page_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside its main area, so grow the viewport to the content (until its
    height settles: the table and buttons render last), then shoot."""
    measure = "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight"
    height = 0
    for _ in range(10):
        new = int(page.evaluate(measure))
        if new == height:
            break
        height = new
        page.set_viewport_size({"width": 1400, "height": max(900, height)})
        page.wait_for_timeout(1500)  # let Plotly and the data grid redraw at the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def test_quick_demo_end_to_end(server):
    """Home -> quick demo -> live progress -> every level charted -> results page screenshot."""
    sync_playwright = _require_browser()
    url, store = server
    quick = get_preset("quick")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.goto(url, timeout=60_000)
            page.get_by_role("button", name="Try it: quick demo").click(timeout=60_000)
            page.get_by_role("heading", name="Run an experiment").wait_for(timeout=60_000)
            assert "preset" not in page.url and "rate=0.5" in page.url  # the form is in the address

            page.get_by_text(f"{quick.levels} of {quick.levels} levels finished").wait_for(
                timeout=RUN_TIMEOUT_S * 1000)
            assert Store(store).status(quick.run_id())["state"] == "done"
            deadline = time.time() + 30
            while _ticket_points(page) < quick.levels and time.time() < deadline:
                page.wait_for_timeout(500)
            assert _ticket_points(page) == quick.levels

            page.get_by_role("button", name="Open full results").click()
            page.get_by_role("heading", name="1 · Accuracy as the network shrinks").wait_for(timeout=60_000)
            page.get_by_text(f"{quick.levels} of {quick.levels} levels finished").wait_for(timeout=60_000)
            assert f"run={quick.run_id()}" in page.url
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 4",
                                   timeout=60_000)
            assert _ticket_points(page) == quick.levels
            _full_page_screenshot(page, SCREENSHOT)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 50_000
