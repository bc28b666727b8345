"""One browser setup for the browser tests and the scripts that drive the app: Debian's Chromium
through the playwright package (never `playwright install`), and reading what a chart shows."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
TICKET = "Winning ticket (iterative pruning)"  # the ticket's trace name in the accuracy chart


def require_browser():
    """The sync Playwright API, or skip (fail under CI=true) when it or Chromium is missing."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright  # why: optional; a missing one skips, not errors
    except ImportError:
        problem, sync_playwright = "the playwright Python package is not installed", None
    if problem is None and not CHROMIUM.is_file():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return sync_playwright


def ticket_points(page, name: str = TICKET) -> int:
    """Points on the ticket line of the first accuracy chart on the page (0 if none yet)."""
    return page.evaluate("""(name) => {
        for (const plot of document.querySelectorAll('.js-plotly-plot')) {
            for (const trace of (plot._fullData || [])) {  // decoded by Plotly (data may hold base64 arrays)
                if (trace.name === name && trace.x && trace.x.length !== undefined) return trace.x.length;
            }
        }
        return 0;
    }""", name)


def live_points(page, meta: str = "live") -> int:
    """Points on the live learning-curve traces (their meta is `meta`: lth_core.charts.live.META)."""
    return page.evaluate("""(meta) => {
        let n = 0;
        for (const plot of document.querySelectorAll('.js-plotly-plot')) {
            for (const trace of (plot._fullData || [])) {
                if (trace.meta === meta && trace.x && trace.x.length) n += trace.x.length;
            }
        }
        return n;
    }""", meta)


@contextmanager
def chromium():
    """Debian's Chromium, launched for a module of browser tests and closed after (skip or fail as
    require_browser says when it is missing)."""
    sync_playwright = require_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            yield b
        finally:
            b.close()
