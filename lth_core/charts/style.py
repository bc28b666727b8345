"""Shared look of every chart: one colour per arm, transparent backgrounds, the sparsity axis.

Mid-saturation colours read on light and dark themes; each arm also has its own marker, and
arms drawn together (CHART_GROUPS) stay apart under simulated colour blindness by colour or
dash and marker (docs/ACCESSIBILITY.md, tests/test_accessibility.py).
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

from lth_core.arms import ARMS, AT_INIT, CHECKS, CRITERIA

PAPER_ARMS = ("ticket", "reinit", "random", "oneshot")  # the paper's arms: every pair apart by colour alone
# each arm's colour, name, dash and marker shape come from its declaration (lth_core.arms); arms differ by
# colour, dash and shape (colour-vision deficiencies, print); "<symbol>-open" (hollow) marks a level
# where most networks are censored
ARM_COLORS = {n: a.colour for n, a in ARMS.items()}
ARM_NAMES = {n: a.title for n, a in ARMS.items()}
ARM_DASH = {n: a.dash for n, a in ARMS.items()}
ARM_SYMBOL = {n: a.symbol for n, a in ARMS.items()}
DENSE_COLOR = "#8C8C8C"
RUN_COLORS = ("#3B82F6", "#F28E2B", "#2CA58D", "#E15759", "#B07AA1", "#EDC948", "#76B7B2", "#FF9DA7",
              "#9C755F", "#59A14F")
GRID = "rgba(128,128,128,0.25)"
# beyond the paper (docs/BEYOND.md): the criteria drawn against the magnitude ticket, the at-init masks
CRITERIA_ARMS = tuple(f"imp_{c}" for c in CRITERIA if c != "magnitude")
AT_INIT_ARMS = tuple(a for m in AT_INIT for a in (m, *(f"{m}_{c}" for c in CHECKS)))
ARM_ORDER = tuple(ARMS)  # the order arms are declared in (lth_core.arms)
# the arms drawn together on one chart (lth_core.charts.beyond): each pair must stay apart for
# every colour-vision deficiency, by colour or by both dash and marker (tests/test_accessibility.py)
CHART_GROUPS = {"paper": PAPER_ARMS, "criteria": ("ticket", "reinit", "random", *CRITERIA_ARMS),
                **{f"at_init:{m}": ("ticket", "reinit", m, f"{m}_shuffle", f"{m}_reinit", f"{m}_invert")
                   for m in AT_INIT},
                "at_init_methods": ("ticket", *AT_INIT), "stability": ("ticket", "ticket_copy")}
OVERLAY_COLOR = "#59A14F"  # a second run drawn over a chart's arms (structured vs unstructured)


def rgba(hex_color: str, alpha: float) -> str:
    """'#RRGGBB' -> 'rgba(r,g,b,alpha)' (for translucent bands)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


MODEBAR_PX = 36  # a right margin for Plotly's toolbar, upright, so it never covers the legend or the data
LEGEND_BELOW_PX = 110  # room under a narrow figure for its x axis and a legend of two or three lines


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 420, panels: bool = False,
                legend_below: bool = False) -> go.Figure:
    """Transparent background, light grid, legend on top: readable in light and dark themes.

    panels=True (subplots) keeps the legend at the very top of the figure, clear of the panel
    titles; legend_below=True puts it under the plot instead, for a figure in a narrow column,
    where a legend that wraps onto more lines would run into the title."""
    top = (70 if title else 40) + (45 if panels and not legend_below else 0) + (25 if legend_below else 0)
    legend = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="")
    if panels:
        legend.update(yref="container", y=0.995 if not title else 0.93, yanchor="top")
    if legend_below:
        legend.update(yref="container", y=0.0, yanchor="bottom")
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left") if title else None, height=height + LEGEND_BELOW_PX * legend_below,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin=dict(l=10, r=MODEBAR_PX, t=top, b=10 + LEGEND_BELOW_PX * legend_below), hovermode="closest",
        legend=legend, modebar=dict(orientation="v"))
    fig.update_xaxes(gridcolor=GRID, zeroline=False, showline=True, linecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zeroline=False, showline=True, linecolor=GRID)
    return fig


def sparsity_ticks(percents) -> list[float]:
    """Tick positions for a % remaining axis: every level when few (levels within 5% of each other, as two
    runs' ladders drawn together, share one tick), else round numbers."""
    ps = []
    for p in sorted({round(float(p), 1) for p in percents if p and p > 0}, reverse=True):
        if not ps or math.log10(ps[-1] / p) > 0.02:
            ps.append(p)
    if 0 < len(ps) <= 9:
        return ps
    lo = min(ps) if ps else 1.0
    nice = [100, 50, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
    return [v for v in nice if v >= lo * 0.8]


def round_dtick(rounds: int) -> int:
    """Tick spacing for an axis of pruning rounds 0..rounds: every round when few, else every 2nd or 5th
    (sixteen labels side by side run into each other on a phone)."""
    return 1 if rounds <= 8 else 2 if rounds <= 21 else 5


def log_ticks(values) -> list[float]:
    """1-2-5 ticks spanning positive `values` on a log axis (Plotly's own minor labels, '2 3 4 ... 9',
    run into each other in a short range)."""
    vs = [float(v) for v in values if v and v > 0 and math.isfinite(v)] or [1.0]
    lo, hi = math.floor(math.log10(min(vs))), math.ceil(math.log10(max(vs)))
    ticks = [m * 10.0 ** e for e in range(lo, hi + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if min(vs) / 1.5 <= t <= max(vs) * 1.5]
    return inside if len(inside) >= 2 else ticks


def log_axis(fig: go.Figure, values, title: str, axis: str = "y", row=None, col=None) -> None:
    """A log axis with 1-2-5 ticks over `values`."""
    ticks = log_ticks(values)
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(type="log", tickvals=ticks, ticktext=[f"{t:,g}" for t in ticks], title_text=title, row=row, col=col)


def sparsity_axis(fig: go.Figure, percents, row=None, col=None, title="weights remaining (%, log scale)"):
    """Log x axis, reversed (100% on the left), ticks at the given percentages."""
    ticks = sparsity_ticks(percents)
    ps = [p for p in percents if p and p > 0] or [100.0]
    # padding: the end ticks stay clear of the other axis's labels on a narrow chart
    lo, hi = math.log10(min(ps)) - 0.08, math.log10(max(max(ps), 100.0)) + 0.08
    fig.update_xaxes(type="log", range=[hi, lo], tickvals=ticks, ticktext=[f"{t:g}%" for t in ticks],
                     title_text=title, row=row, col=col)


# printf formats of the "what to look for" tables' number columns (charts.beyond, stability, noise,
# latency), read by the Beyond page's st.dataframe column settings (ui/beyond.py)
TABLE_FORMATS = {"% remaining": "{:.3g}%", "Difference (points)": "{:+.1f}", "95% CI from (points)": "{:+.1f}",
                 "95% CI to (points)": "{:+.1f}", "n": "{:.0f}", "Barrier (points)": "{:.2f}", "Min (points)": "{:.2f}",
                 "Max (points)": "{:.2f}", "Level": "{:.0f}", "Accuracy under noise": "{:.1f}%",
                 "Without noise": "{:.1f}%", "Drop (points)": "{:.1f}", "Trials": "{:.0f}", "Draws": "{:.0f}",
                 "ms per batch (median)": "{:.3g}", "Dense time / this time": "{:.2f}x"}  # Python format strings


def format_table(table):
    """A comparisons table as shown: numbers by TABLE_FORMATS, a number a row has none of as a dash."""
    shown = table.copy()
    for c, f in TABLE_FORMATS.items():
        if c in shown:
            shown[c] = ["–" if v is None or v != v else f.format(v) for v in table[c]]  # v != v: NaN
    return shown
