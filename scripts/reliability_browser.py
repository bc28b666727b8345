"""What a user sees: one headless Chromium (Debian's, driven by Playwright's sync API) opening the
app's pages, pressing only enabled buttons, and reading the status the page shows.

Used by scripts/fault_injection.py and scripts/soak.py; scripts/load_test.py drives many sessions
at once with the async API and the same selectors (imported from it).
"""
from __future__ import annotations

import re
import time

from load_test import CHROMIUM, CHROMIUM_ARGS, ERRORS, FINISHED, START, STARTED, TRAINING, USABLE  # noqa: F401

STATUS = ('[data-testid="stProgress"], [data-testid="stAlertContentSuccess"], [data-testid="stAlertContentInfo"], '
          '[data-testid="stAlertContentWarning"], [data-testid="stAlertContentError"], [data-testid="stException"]')
RUN_ID = re.compile(r"run ([0-9a-f]{16})")


class Browser:
    """One Chromium; each `session()` is a new browser context, i.e. a new Streamlit session."""

    def __init__(self):
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)

    def session(self):
        page = self.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)[:300]))
        return page

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._pw.stop()


def run_url(port: int, seed: int, iterations: int, preset: str = "quick") -> str:
    """The Run page for one experiment of `preset`, as the load test's sessions open it."""
    return (f"http://127.0.0.1:{port}/run?preset={preset}&iterations={iterations}"
            f"&eval_every={min(25, iterations)}&seed={seed}")


def open_usable(page, url: str, timeout_s: float = 120) -> None:
    """Open a page and wait until the Run page can be acted on (Start, Training… or finished)."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    page.locator(USABLE).first.wait_for(state="visible", timeout=timeout_s * 1000)


def press_start(page, timeout_s: float = 120) -> str:
    """Press the enabled Start (or Resume) button, wait until the page shows the run; its run id."""
    page.locator(START).first.click(timeout=timeout_s * 1000)
    page.locator(STARTED).first.wait_for(state="visible", timeout=timeout_s * 1000)
    return run_id_on(page)


def run_id_on(page) -> str | None:
    """The run id the Run page names ("… · run <id>"), None if it names none."""
    m = RUN_ID.search(page.inner_text("body", timeout=30_000))
    return m[1] if m else None


def status_text(page) -> list[str]:
    """The status texts the page shows now: progress bar, alerts and exception boxes, one line each."""
    out = []
    for el in page.locator(STATUS).all():
        try:
            text = " ".join(el.inner_text(timeout=5000).split())
        except Exception:  # redrawn meanwhile
            continue
        if text and text not in out:
            out.append(text[:300])
    return out


def look(page, url: str, timeout_s: float = 120, settle_s: float = 2.0, ready: str = f"{USABLE}, {ERRORS}") -> dict:
    """Open `url` fresh, wait for `ready` (default: the Run page can be acted on, or a message),
    and report what a user sees: status texts, whether Start / the finished state show, error
    boxes, JavaScript errors."""
    t0 = time.monotonic()
    try:
        page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
        page.locator(ready).first.wait_for(state="visible", timeout=timeout_s * 1000)
    except Exception as exc:  # the page itself is what went wrong: report it
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    page.wait_for_timeout(settle_s * 1000)
    return {"usable_s": round(time.monotonic() - t0, 1), "status": status_text(page),
            "start_enabled": page.locator(START).count() > 0, "training": page.locator(TRAINING).count() > 0,
            "finished": page.locator(FINISHED).count() > 0, "error_boxes": page.locator(ERRORS).count(),
            "js_errors": list(getattr(page, "js_errors", []))}
