"""Screenshots of every page at a projector's and a phone's size, in the light and dark themes.

    python scripts/screenshots.py [--out docs/screenshots] [--pages learn,results] [--sizes 1280x720,390x844]

Starts one `streamlit run app.py` per theme (`--theme.base light|dark`) on a free port, with
LTH_STORE pointing at an empty temporary folder (the gallery's finished runs are still listed),
visits each page of app.py's navigation in Debian's Chromium (never `playwright install`), waits
for its charts to render and saves docs/screenshots/<page>-<width>x<height>-<theme>.jpg: the whole
page, JPEG quality 60, at most MAX_HEIGHT pixels tall. It also reports, per shot, what a person
would notice: a page wider than the screen (sideways scrolling), an error box, or no chart where
one was expected. Every server it starts is stopped, by its process group, even on errors.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from support import streamlit_server  # noqa: E402  (tests/support: start and stop the app)
from support.browser import CHROME_ARGS, CHROMIUM  # noqa: E402  (one browser setup for tests and scripts)
CHROMIUM = str(CHROMIUM)
GALLERY_RUN = "71143a50cad0a843"  # a finished gallery run: the Results and Inside pages show it
from lth_core.presets import get_preset  # noqa: E402
BEYOND_RUN = get_preset("beyond-criteria").run_id()  # the gallery's criteria example (Beyond the paper)
# page name -> (URL path and query, charts expected); the paths are app.py's st.Page url_paths
PAGES = {
    "learn": ("/", True),
    "run": ("/run", True),
    "results": (f"/results?run={GALLERY_RUN}", True),
    "compare": ("/compare", True),
    "inside": (f"/inside?run={GALLERY_RUN}", True),
    "runs": ("/runs", False),
    "rounds": (f"/rounds?run={GALLERY_RUN}", True),
    "beyond": (f"/beyond?run={BEYOND_RUN}", True),
}
SIZES = ((1280, 720), (390, 844))
THEMES = ("light", "dark")
MAX_HEIGHT = 6000  # px: a phone page is long; the rest of it adds little to a screenshot
QUALITY = 60


MEASURE = """() => {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    return {height: main.scrollHeight,
            plots: document.querySelectorAll('.js-plotly-plot .main-svg').length,
            running: !!document.querySelector('[data-testid="stStatusWidget"] button, .stSpinner'),
            skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length};
}"""
CHECKS = """() => {
    const w = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > w + 2 && el.tagName !== 'INPUT' && getComputedStyle(el).position !== 'fixed') {
            const scroller = el.closest('[data-testid="stDataFrame"], .stTable, pre, .stCode, [data-testid="stDataFrameResizable"], [role="tablist"], .js-plotly-plot');
            if (!scroller) wide.push((el.getAttribute('data-testid') || el.tagName) + ' ' + (el.innerText || '').slice(0, 40).replace(/\\s+/g, ' '));
        }
    }
    const main = document.querySelector('[data-testid="stMain"]');
    return {sideways: main ? main.scrollWidth > main.clientWidth + 2 : false,
            too_wide: [...new Set(wide)].slice(0, 5),
            errors: [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
                      .map(e => e.innerText.slice(0, 120)),
            plots: document.querySelectorAll('.js-plotly-plot').length};
}"""


def settle(page, want_plots: bool, timeout_s: float = 60) -> None:
    """Wait until the script has finished and the page's height and chart count stop changing."""
    page.locator('[data-testid="stApp"]').wait_for(timeout=60_000)
    # a cold server answers with an empty app first: wait for the page's own heading
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_s * 1000)
    if page.viewport_size["width"] < 640:  # app.py opens the sidebar, which covers a phone's page: close it
        button = page.locator('[data-testid="stSidebarCollapseButton"] button')
        if button.count() and button.first.is_visible():
            button.first.click()
    if want_plots:
        try:
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_s * 1000)
        except Exception:  # reported by the checks below
            pass
    last, same, deadline = None, 0, time.time() + timeout_s
    while time.time() < deadline and same < 3:
        page.wait_for_timeout(700)
        now = page.evaluate(MEASURE)
        same = same + 1 if now == last and not now["running"] and not now["skeletons"] else 0
        last = now


def shoot(page, path: Path, width: int, height: int) -> None:
    """Grow the viewport to the content (Streamlit scrolls inside its main area), shoot, restore."""
    full = min(MAX_HEIGHT, max(height, int(page.evaluate(MEASURE)["height"])))
    page.set_viewport_size({"width": width, "height": full})
    page.wait_for_timeout(1200)  # Plotly redraws at the new size
    page.screenshot(path=str(path), full_page=False, type="jpeg", quality=QUALITY)
    page.set_viewport_size({"width": width, "height": height})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES))
    ap.add_argument("--themes", default=",".join(THEMES))
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    pages = [p for p in args.pages.split(",") if p]
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s]
    args.out.mkdir(parents=True, exist_ok=True)
    report = []
    with tempfile.TemporaryDirectory(prefix="lth-shots-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        try:
            for theme in args.themes.split(","):
                store = Path(tmp) / f"runs-{theme}"
                store.mkdir()
                proc, url = streamlit_server.start({"LTH_STORE": str(store)}, Path(tmp) / f"server-{theme}.log",
                                                   ("--theme.base", theme))
                try:
                    for width, height in sizes:
                        ctx = browser.new_context(viewport={"width": width, "height": height},
                                                  color_scheme=theme, device_scale_factor=1)
                        page = ctx.new_page()
                        for name in pages:
                            path, want_plots = PAGES[name]
                            page.goto(url + path, wait_until="domcontentloaded")
                            settle(page, want_plots)
                            checks = page.evaluate(CHECKS)
                            out = args.out / f"{name}-{width}x{height}-{theme}.jpg"
                            shoot(page, out, width, height)
                            if want_plots and not checks["plots"]:
                                checks["errors"].append("no chart rendered")
                            row = dict(shot=out.name, kb=round(out.stat().st_size / 1024), **checks)
                            report.append(row)
                            print(json.dumps(row), flush=True)
                        ctx.close()
                finally:
                    streamlit_server.stop(proc)
        finally:
            browser.close()
    total = sum(r["kb"] for r in report)
    print(f"{len(report)} screenshots, {total / 1024:.1f} MB in {args.out}")
    return 1 if any(r["errors"] or r["sideways"] for r in report) else 0


if __name__ == "__main__":
    sys.exit(main())
