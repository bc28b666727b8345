"""Screenshots of every page at a projector's and a phone's size, in the light and dark themes.

    python scripts/screenshots.py [--out docs/screenshots] [--pages learn,results] [--sizes 1280x720,390x844]

Starts one `streamlit run ui/server.py` (the app) per theme (`--theme.base light|dark`) on a free port, with
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from support import streamlit_server  # noqa: E402  (tests/support: start and stop the app)
from support.browser import CHROME_ARGS, CHROMIUM  # noqa: E402  (one browser setup for tests and scripts)
from support.layout import MEASURE, PAGES, SIZES, THEMES, checks, settle  # noqa: E402
CHROMIUM = str(CHROMIUM)
MAX_HEIGHT = 6000  # px: a phone page is long; the rest of it adds little to a screenshot
QUALITY = 60
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
                            found = checks(page)
                            out = args.out / f"{name}-{width}x{height}-{theme}.jpg"
                            shoot(page, out, width, height)
                            if want_plots and not found["plots"]:
                                found["errors"].append("no chart rendered")
                            row = dict(shot=out.name, kb=round(out.stat().st_size / 1024), **found)
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
