"""What a real browser shows that a figure's JSON cannot, for the layout check (tests/test_layout.py)
and the screenshots (scripts/screenshots.py): the pages to visit, waiting until one has settled,
and the checks. Each check returns the offending texts (empty: clean)."""
from __future__ import annotations

import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lth_core.presets import get_preset

GALLERY_RUN = "71143a50cad0a843"  # a finished gallery run: the Results, Inside and Rounds pages show it
BEYOND_RUN = get_preset("beyond-criteria").run_id()  # the gallery's criteria example (Beyond the paper)
# page name -> (URL path and query, charts expected); the paths are app.py's st.Page url_paths
PAGES = {
    "learn": ("/", True),
    "atlas": ("/atlas", True),
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

MEASURE = """() => {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    return {height: main.scrollHeight,
            plots: document.querySelectorAll('.js-plotly-plot .main-svg').length,
            running: !!document.querySelector('[data-testid="stStatusWidget"] button, .stSpinner'),
            skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length};
}"""

# sideways scrolling, elements wider than the screen (outside the widgets that scroll on their own),
# error boxes and tracebacks
_PAGE = """() => {
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
    // Plotly's toolbar, where it can be shown, must not cover a legend entry
    const covered = [];
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const bar = plot.querySelector('.modebar');
        if (!bar || getComputedStyle(plot.querySelector('.modebar-container')).display === 'none') continue;
        const b = bar.getBoundingClientRect();
        for (const t of plot.querySelectorAll('.legendtext')) {
            const r = t.getBoundingClientRect();
            if (r.width > 0 && Math.min(r.right, b.right) - Math.max(r.left, b.left) > 2
                && Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top) > 2) covered.push(t.textContent.trim());
        }
    }
    return {sideways: main ? main.scrollWidth > main.clientWidth + 2 : false, toolbar_over_legend: covered,
            too_wide: [...new Set(wide)].slice(0, 5),
            errors: [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
                      .map(e => e.innerText.slice(0, 120)),
            plots: document.querySelectorAll('.js-plotly-plot').length};
}"""

# Every visible text box of each Plotly figure (tick labels, titles, legend, buttons, slider labels);
# two boxes overlap when they share more than 2 px each way.
_OVERLAPS = """(selector) => {
  const out = [];
  for (const plot of document.querySelectorAll(selector)) {
    const boxes = [...plot.querySelectorAll('text')]
      .filter(t => t.textContent.trim() && getComputedStyle(t).visibility !== 'hidden'
                   && getComputedStyle(t).opacity !== '0' && t.getBBox().width > 0)
      .map(t => ({text: t.textContent.trim(), r: t.getBoundingClientRect()}));
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2) out.push([boxes[i].text, boxes[j].text]);
    }
  }
  return out;
}"""

# Text a figure draws outside its own box (cut off by the page), and labels, buttons and metric
# tiles whose text is wider than they are (shown with an ellipsis or clipped).
_CUT = """(selector) => {
  const out = [];
  for (const plot of document.querySelectorAll(selector)) {
    const box = plot.getBoundingClientRect();
    for (const t of plot.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (t.textContent.trim() && r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1))
        out.push(t.textContent.trim());
    }
  }
  for (const el of document.querySelectorAll('button p, label p, [data-testid="stMetricValue"] div,'
                                            + ' [data-testid="stMetricDelta"] div')) {
    if (el.scrollWidth > el.clientWidth + 1) out.push(el.textContent.trim());
  }
  return out;
}"""


def close_sidebar_on_phone(page) -> bool:
    """At a phone's width the open sidebar covers the page (app.py opens it on wider screens): close it.
    Whether it was clicked shut (the page then moves again)."""
    if page.viewport_size["width"] < 640:
        button = page.locator('[data-testid="stSidebarCollapseButton"] button')
        if button.count() and button.first.is_visible():
            try:
                button.first.click(timeout=5_000)
                return True
            except PlaywrightTimeout:  # gone meanwhile: Streamlit closes it itself when a window narrows
                if button.count() and button.first.is_visible():
                    raise
    return False


def settle(page, want_plots: bool, timeout_s: float = 60, stable: int = 3) -> None:
    """Wait until the script has finished and the page's height and chart count stop changing."""
    page.locator('[data-testid="stApp"]').wait_for(timeout=60_000)
    # a cold server answers with an empty app first: wait for the page's own heading
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_s * 1000)
    close_sidebar_on_phone(page)
    if want_plots:
        try:
            # some chart drawn and shown (a page may also hold a copy hidden at this width: show_by_width)
            page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot .main-svg')]
                .some(e => e.getBoundingClientRect().width > 0)""", timeout=timeout_s * 1000)
        except Exception:  # reported by the checks
            pass
    last, same, deadline = None, 0, time.time() + timeout_s
    while time.time() < deadline and same < stable:
        page.wait_for_timeout(600)
        now = page.evaluate(MEASURE)
        same = same + 1 if now == last and not now["running"] and not now["skeletons"] else 0
        last = now


def checks(page) -> dict:
    """{'sideways', 'too_wide', 'errors', 'plots'} of the page as it is now."""
    return page.evaluate(_PAGE)


# what the checks below look at on the page as it is now: figures, their visible text boxes, and the
# labels, buttons and metric tiles whose width is checked
_LOOKED_AT = """() => ({
    figures: document.querySelectorAll('.js-plotly-plot').length,
    figure_texts: [...document.querySelectorAll('.js-plotly-plot text')].filter(t => t.textContent.trim()).length,
    page_texts: document.querySelectorAll('button p, label p, [data-testid="stMetricValue"] div,'
                                          + ' [data-testid="stMetricDelta"] div').length})"""


def looked_at(page) -> dict:
    """{'figures', 'figure_texts', 'page_texts'}: how much the checks covered on the page as it is now."""
    return page.evaluate(_LOOKED_AT)


def overlapping_text(page, selector: str = ".js-plotly-plot") -> list[list[str]]:
    """Pairs of texts drawn over each other inside the figures matching selector."""
    return page.evaluate(_OVERLAPS, selector)


def cut_text(page, selector: str = ".js-plotly-plot") -> list[str]:
    """Texts cut off: outside their figure's box, or wider than their button, label or metric tile."""
    return page.evaluate(_CUT, selector)
