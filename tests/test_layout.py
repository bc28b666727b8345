"""The layout check: every page, a gallery run's Results page and the exported report, at a phone's,
a projector's and a large screen's size, light and dark, in a real Chromium.

It fails on text drawn over other text inside a figure, text cut off (outside its figure, or wider
than its button, label or metric tile), sideways scrolling, an error box or a traceback, a console
error, and a request to any host but the app's own. Each failure is photographed into
$LTH_LAYOUT_SHOTS (default: a temporary folder named in the failure message).
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from lth_core.report.export import report_html
from lth_core.store import gallery
from support import streamlit_server
from support.browser import chromium
from support.layout import GALLERY_RUN, PAGES, checks, cut_text, overlapping_text, settle

pytestmark = pytest.mark.browser
SIZES = ((390, 844), (1280, 720), (1920, 1080))
THEMES = ("light", "dark")
# Streamlit's client asks for its health and host config under the page's own path first
# (/results/_stcore/health), then at the root: those 404s are its way of finding the server.
PROBE = re.compile(r"/_stcore/(health|host-config)$")
SHOTS = Path(os.environ.get("LTH_LAYOUT_SHOTS") or tempfile.mkdtemp(prefix="lth-layout-"))


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


TEXT_BOXES = """() => [...document.querySelectorAll('.js-plotly-plot text')]
    .map(t => { const r = t.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)]; })"""


def _until_still(page, timeout_s: float = 20) -> None:
    """Wait until every figure's text stops moving (Plotly widens its margins in a second pass)."""
    last, deadline = None, time.time() + timeout_s
    while time.time() < deadline:
        page.wait_for_timeout(500)
        now = page.evaluate(TEXT_BOXES)
        if now == last:
            return
        last = now


def _visit(browser, theme, size, target, url=None, want_plots=True) -> list[str]:
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=theme)
    page = ctx.new_page()
    console, requests = [], []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: console.append(f"failed: {r.url}") if not PROBE.search(r.url) else None)
    page.on("response", lambda r: console.append(f"{r.status}: {r.url}")
            if r.status >= 400 and not PROBE.search(r.url) else None)
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("data:", "blob:", "file:"))
            else None)
    try:
        page.goto(target, wait_until="domcontentloaded", timeout=60_000)
        if url is None:  # the exported report: a plain file, whose charts settle once Plotly's margins do
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            _until_still(page)
        else:
            settle(page, want_plots, stable=2)
        # a failed load is reported by the response and requestfailed handlers, with its URL
        problems = _problems(page, url, [c for c in console if "Failed to load resource" not in c], requests)
        if problems:
            name = re.sub(r"\W+", "-", target.rsplit("/", 1)[-1])[:40] or "learn"
            page.screenshot(path=str(SHOTS / f"{name}-{size[0]}x{size[1]}-{theme}.png"), full_page=True)
        return problems
    finally:
        ctx.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_layout(browser, server, name, size):
    """Every page at every size, in both themes: nothing overlaps, nothing is cut, no errors."""
    theme, url = server
    path, want_plots = PAGES[name]
    problems = _visit(browser, theme, size, url + path, url, want_plots)
    assert not problems, f"{name} at {size[0]}x{size[1]} ({theme}); screenshots in {SHOTS}:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(report_html(gallery.gallery_store(), GALLERY_RUN))
    return path


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("theme", THEMES)
def test_report_layout(browser, report_file, theme, size):
    """The exported report, the file people hand out, at every size: nothing overlaps or is cut, and it
    fetches nothing."""
    problems = _visit(browser, theme, size, report_file.as_uri())
    assert not problems, f"report at {size[0]}x{size[1]} ({theme}); screenshots in {SHOTS}:\n" + "\n".join(problems)
