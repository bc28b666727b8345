"""End to end in a real browser: start the server, press the quick-demo button, watch the networks
learn (live curves) and the run finish level by level, open its results (joined with the gallery's
4 earlier trials of the same experiment, so its verdicts rest on 5) and save the screenshot the
README shows.

Needs the playwright Python package and Debian's /usr/bin/chromium (never
`playwright install`). Locally a missing browser skips; under CI=true it fails,
so CI cannot go green by skipping.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from support import streamlit_server
from support.browser import CHROME_ARGS, CHROMIUM, live_points, require_browser, ticket_points
from support.processes import stop_workers

from lth_core import atlas
from lth_core.presets import get_preset
from lth_core.store.run_store import Store

REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "docs" / "screenshot-results.png"
RUN_TIMEOUT_S = 240

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path, mnist1d, data_dir):
    """A real `streamlit run ui/server.py` (the app) on a free port with an empty store; always stopped."""
    store = tmp_path / "runs"
    try:
        proc, url = streamlit_server.start({"LTH_STORE": str(store), "LTH_DATA_DIR": str(data_dir),
                                            "LTH_GALLERY": str(REPO / "gallery")}, tmp_path / "server.log")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield url, store
    finally:
        streamlit_server.stop(proc)
        stop_workers(Store(store))


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
    sync_playwright = require_browser()
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

            done_text, live_seen = f"{quick.levels} of {quick.levels} levels finished", 0
            deadline = time.time() + RUN_TIMEOUT_S
            while not page.get_by_text(done_text).count() and time.time() < deadline:
                live_seen = max(live_seen, live_points(page))  # the networks' curves while they train
                page.wait_for_timeout(100)
            page.get_by_text(done_text).wait_for(timeout=10_000)
            assert live_seen >= 1, "no live learning curve was shown while the networks trained"
            assert Store(store).status(quick.run_id())["state"] == "done"
            deadline = time.time() + 30
            while ticket_points(page) < quick.levels and time.time() < deadline:
                page.wait_for_timeout(500)
            assert ticket_points(page) == quick.levels

            page.get_by_role("button", name="Open full results").click()
            page.get_by_role("heading", name="1 · Accuracy as the network shrinks").wait_for(timeout=60_000)
            page.get_by_text(f"{quick.levels} of {quick.levels} levels finished").wait_for(timeout=60_000)
            assert f"run={quick.run_id()}" in page.url
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 4",
                                   timeout=60_000)
            assert ticket_points(page) == quick.levels
            extra = atlas.TRIALS - 1
            page.get_by_text(f"Your trial + {extra} computed earlier").wait_for(timeout=30_000)
            page.get_by_text("yours matches it exactly").wait_for(timeout=10_000)
            body = page.inner_text("body")
            assert f"In this run ({atlas.TRIALS} trials, paired" in body and "too few trials to tell" not in body
            assert "Ticket vs random re-init" in body and "95% CI" in body
            _full_page_screenshot(page, SCREENSHOT)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 50_000
