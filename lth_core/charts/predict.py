"""Pure Plotly pieces for "predict, then reveal" (no Streamlit): a student's guess drawn over
the accuracy-vs-sparsity figure, and the class's guesses as a histogram beside the truth.

Guesses and truths are % of prunable weights remaining, or None for "never, within this run"
(lth_core.store.guesses, lth_core.analysis.spread.compare_to_dense's falls_below_at).
"""
from __future__ import annotations

import plotly.graph_objects as go

from lth_core.charts.style import ARM_COLORS, ARM_NAMES, base_layout

SHORT = {"ticket": "ticket", "reinit": "re-init"}


def _y_extent(fig: go.Figure) -> tuple[float, float]:
    ys = [y for t in fig.data if t.y is not None for y in t.y if isinstance(y, (int, float))]
    return (min(ys), max(ys)) if ys else (0.0, 100.0)


def with_guesses(fig: go.Figure, guess: dict) -> go.Figure:
    """A copy of `fig` (charts.accuracy_vs_sparsity) with one dotted vertical line and a
    triangle marker per guessed arm at the guessed % remaining; a guess of never becomes a
    legend entry only. The figure's own traces are untouched."""
    out = go.Figure(fig)
    lo, hi = _y_extent(fig)
    for arm, pct in guess.items():
        name = f"your guess, {SHORT.get(arm, arm)}: " + ("never" if pct is None else f"below dense from {pct:.3g}%")
        color = ARM_COLORS.get(arm, "#888888")
        x = [None, None] if pct is None else [pct, pct]
        out.add_trace(go.Scatter(x=x, y=[lo, hi], mode="lines+markers", name=name, legendgroup=f"guess-{arm}",
                                 line=dict(color=color, width=2, dash="dot"),
                                 marker=dict(symbol=["circle", "triangle-down"], size=[0, 14], color=color),
                                 hovertext=name, hoverinfo="text", meta={"guess_arm": arm}))
    return out


def guess_histogram(rows_by_arm: dict, truth: dict | None, title: str | None = None) -> go.Figure:
    """Bars: how many guesses named each level (rows_by_arm[arm] from guesses.distribution),
    grouped by arm; the true level's bar is outlined and labelled "truth"."""
    fig = base_layout(go.Figure(), title=title)
    for arm, rows in rows_by_arm.items():
        labels = [label for label, _, _ in rows]
        counts = [n for _, _, n in rows]
        hit = [truth is not None and p == truth.get(arm) for _, p, _ in rows]  # None: too few trials to know
        fig.add_trace(go.Bar(x=labels, y=counts, name=ARM_NAMES.get(arm, arm), marker_color=ARM_COLORS.get(arm),
                             marker_line=dict(width=[3 if h else 0 for h in hit], color="#222222"),
                             text=["truth" if h else "" for h in hit], textposition="outside"))
    order = [label for rows in rows_by_arm.values() for label, _, _ in rows]
    # categories, not numbers: Plotly reads "64.5%" as 64.5 and drops "never" from a numeric axis
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=list(dict.fromkeys(order)))
    fig.update_yaxes(rangemode="tozero", tickformat="d", dtick=1 if max(
        (n for rows in rows_by_arm.values() for _, _, n in rows), default=0) <= 10 else None)  # whole guesses
    fig.update_layout(barmode="group", xaxis_title="guessed: falls below dense from (% weights remaining)",
                      yaxis_title="guesses")
    return fig
