"""Moving the atlas page's sliders in a real browser and reading how long the redraw took (shared by
tests/test_browser_teaching.py and scripts/time_atlas.py)."""
from __future__ import annotations

import re
import time

DRAWN = re.compile(r"Drawn in ([0-9.]+) s on the server")
SLIDERS = {"rate": 0, "size": 1}  # the page's two select sliders, in page order


def drawn_caption(page) -> str:
    """The page's 'Drawn in … s on the server' caption ('' before it appears)."""
    loc = page.get_by_text(DRAWN)
    return loc.first.inner_text() if loc.count() else ""


def open_atlas(page, url: str) -> None:
    page.goto(f"{url}/atlas", timeout=60_000)
    page.get_by_text(DRAWN).first.wait_for(timeout=90_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)


def move(page, slider: str, key: str = "ArrowRight") -> dict:
    """Press `key` on a slider; wait until the page's last element, the 'Drawn in' caption, names the
    slider's new value (the rerun has drawn everything above it). Returns {'value', 'server_s',
    'browser_s'}: the page's own server time and the seconds from the key press to that caption."""
    thumb = page.get_by_role("slider").nth(SLIDERS[slider])
    before = thumb.get_attribute("aria-valuetext")
    thumb.focus()
    t0 = time.perf_counter()
    thumb.press(key)
    value = thumb.get_attribute("aria-valuetext")  # the browser moves the thumb at once; the server follows
    if value == before:
        raise AssertionError(f"the {slider} slider did not move with {key}")
    want = f"for {value} per round" if slider == "rate" else f"at {value} of the weights"
    deadline = time.time() + 60
    while want not in (caption := drawn_caption(page)):
        if time.time() > deadline:
            raise TimeoutError(f"the atlas did not redraw for {value} on the {slider} slider: {caption!r}")
        page.wait_for_timeout(10)
    return {"value": value, "server_s": float(DRAWN.search(caption).group(1)), "browser_s": time.perf_counter() - t0}
