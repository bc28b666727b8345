"""What a real browser shows that a figure's JSON cannot: text drawn over other text, and text cut
off by its container. Each check returns the offending texts (empty: the page is clean)."""
from __future__ import annotations

# Every visible text box of each Plotly figure (tick labels, titles, legend, buttons, slider labels);
# two boxes overlap when they share more than 2 px each way. Colour-bar ticks and their axis are drawn by
# Plotly apart from the panels, so they are included; hidden or empty texts are not.
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

# Text a figure draws outside its own box (cut off by the page), and labels or buttons whose text
# is wider than they are (shown with an ellipsis or clipped).
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


def overlapping_text(page, selector: str = ".js-plotly-plot") -> list[list[str]]:
    """Pairs of texts drawn over each other inside the figures matching selector."""
    return page.evaluate(_OVERLAPS, selector)


def cut_text(page, selector: str = ".js-plotly-plot") -> list[str]:
    """Texts cut off: outside their figure's box, or wider than their button, label or metric tile."""
    return page.evaluate(_CUT, selector)
