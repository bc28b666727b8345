"""The layout check: every page, a gallery run's Results page and the exported report, at a phone's,
a projector's and a large screen's size, light and dark, in a real Chromium.

It fails on text drawn over other text inside a figure, text cut off (outside its figure, or wider
than its button, label or metric tile), sideways scrolling, an error box or a traceback, a console
error, and a request to any host but the app's own. Each failure is photographed into
$LTH_LAYOUT_SHOTS (default: a temporary folder named in the failure message).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from lth_core.report.export import report_html
from lth_core.store import gallery
from support import streamlit_server
from support.browser import chromium
from support.layout import (GALLERY_RUN, PAGES, checks, close_sidebar_on_phone, cut_text, looked_at,
                            overlapping_text, settle)

pytestmark = pytest.mark.browser
SIZES = ((1920, 1080), (1280, 720), (390, 844))  # widest first: a phone's width closes the sidebar
THEMES = ("light", "dark")
# Streamlit's client asks for its health and host config under the page's own path first
# (/results/_stcore/health), then at the root: those 404s are its way of finding the server.
PROBE = re.compile(r"/_stcore/(health|host-config)$")
SHOTS = Path(os.environ.get("LTH_LAYOUT_SHOTS") or tempfile.mkdtemp(prefix="lth-layout-"))
COVERED = Counter()  # views, figures, figure_texts, page_texts: what the whole check looked at


@pytest.fixture(scope="module", autouse=True)
def coverage(request):
    """At the end, one line saying how much the check looked at (and SHOTS/coverage.json)."""
    yield
    if COVERED["views"]:
        (SHOTS / "coverage.json").write_text(json.dumps(dict(COVERED)))
        with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
            print(f"\nlayout check: {COVERED['views']} page views (pages x sizes x themes, the report included), "
            f"{COVERED['figures']} figures, {COVERED['figure_texts']} figure text boxes, "
            f"{COVERED['page_texts']} labels, buttons and metric tiles checked")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module", params=THEMES)
def server(request, tmp_path_factory):
    """(theme, base URL) of a real server in that theme, an empty store and the repository's gallery."""
    tmp = tmp_path_factory.mktemp(f"layout-{request.param}")
    proc, url = streamlit_server.start({"LTH_STORE": str(tmp / "runs"), "LTH_GALLERY": str(gallery.GALLERY_ROOT)},
                                       tmp / "server.log", ("--theme.base", request.param))
    try:
        yield request.param, url
    finally:
        streamlit_server.stop(proc)


def _problems(page, url: str | None, console: list, requests: list) -> list[str]:
    found = checks(page)
    out = [f"error box: {e}" for e in found["errors"]]
    if found["sideways"]:
        out.append(f"sideways scrolling: {found['too_wide']}")
    out += [f"toolbar over the legend: {t!r}" for t in found.get("toolbar_over_legend", [])]
    out += [f"text over text: {a!r} / {b!r}" for a, b in overlapping_text(page)]
    out += [f"cut text: {t!r}" for t in cut_text(page)]
    out += [f"console error: {c}" for c in console]
    out += [f"request to another host: {r}" for r in requests if url is None or not r.startswith(url)]
    return out


# where every figure's text is, and the page's height: both settle after a load or a resize
POSITIONS = """() => [document.documentElement.scrollHeight, ...[...document.querySelectorAll('.js-plotly-plot text')]
    .map(t => { const r = t.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)]; })]"""


def _until_still(page, timeout_s: float = 20) -> None:
    """Wait until every figure's text and the page's height stop moving (Plotly widens its margins in a
    second pass; a resize reflows the page)."""
    last, deadline = None, time.time() + timeout_s
    while time.time() < deadline:
        page.wait_for_timeout(250)
        now = page.evaluate(POSITIONS)
        if now == last:
            return
        last = now


def _visit(browser, theme, target, url=None, want_plots=True) -> dict[tuple, list[str]]:
    """Open `target` once and check it at every size, widest first: the viewport is resized in place
    (Streamlit's columns, the app's phone layouts and Plotly's figures all follow the width, and one load
    per page keeps the whole check near the issue's 2 minutes). Returns {size: problems}."""
    ctx = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, color_scheme=theme)
    page = ctx.new_page()
    console, requests = [], []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: console.append(f"failed: {r.url}") if not PROBE.search(r.url) else None)
    page.on("response", lambda r: console.append(f"{r.status}: {r.url}")
            if r.status >= 400 and not PROBE.search(r.url) else None)
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("data:", "blob:", "file:"))
            else None)
    found = {}
    try:
        page.goto(target, wait_until="domcontentloaded", timeout=60_000)
        if url is None:  # the exported report: a plain file, whose charts settle once Plotly's margins do
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        else:
            settle(page, want_plots, stable=1)
        for size in SIZES:
            if size != SIZES[0]:
                page.set_viewport_size({"width": size[0], "height": size[1]})
                _until_still(page)  # the reflow, Streamlit's own sidebar closing included
                if close_sidebar_on_phone(page):
                    _until_still(page)
            else:
                _until_still(page)
            # a failed load is reported by the response and requestfailed handlers, with its URL
            problems = _problems(page, url, [c for c in console if "Failed to load resource" not in c], requests)
            COVERED.update({"views": 1, **looked_at(page)})
            if problems:
                name = re.sub(r"\W+", "-", target.rsplit("/", 1)[-1])[:40] or "learn"
                page.screenshot(path=str(SHOTS / f"{name}-{size[0]}x{size[1]}-{theme}.png"), full_page=True)
            found[size] = problems
        return found
    finally:
        ctx.close()


def _report(what: str, theme: str, found: dict) -> str:
    return "\n".join(f"{what} at {w}x{h} ({theme}); screenshots in {SHOTS}:\n" + "\n".join(p)
                     for (w, h), p in found.items() if p)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_layout(browser, server, name):
    """Every page at every size, in both themes: nothing overlaps, nothing is cut, no errors."""
    theme, url = server
    path, want_plots = PAGES[name]
    found = _visit(browser, theme, url + path, url, want_plots)
    assert set(found) == set(SIZES) and not any(found.values()), _report(name, theme, found)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(report_html(gallery.gallery_store(), GALLERY_RUN))
    return path


@pytest.mark.parametrize("theme", THEMES)
def test_report_layout(browser, report_file, theme):
    """The exported report, the file people hand out, at every size: nothing overlaps or is cut, and it
    fetches nothing."""
    found = _visit(browser, theme, report_file.as_uri())
    assert set(found) == set(SIZES) and not any(found.values()), _report("report", theme, found)
