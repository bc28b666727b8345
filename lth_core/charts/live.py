"""The networks training now: their learning curves as they are measured, for the live panel.

A worker writes each network's curve so far (validation loss and accuracy at every evaluation)
into its live record (lth_core.lottery.tasks.live_writer); this draws those records, so a student
sees the dense network learning within a second of the click, long before its level is done.
"""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lth_core import layout
from lth_core.charts.style import ARM_COLORS, ARM_DASH, ARM_NAMES, DENSE_COLOR, base_layout

PANELS = ("validation loss (lower is better)", "validation accuracy (%)")
META = "live"  # every live trace's meta (the browser tests and timing script find them by it)


def _label(key: str, percents) -> tuple[str, str, str]:
    """(name, colour, dash) of a live network from its task name."""
    trial, level, arm = layout.parse_task_key(key)
    pct = percents[level] if level < len(percents) else None
    size = f"{pct:.3g}% of weights" if pct is not None else f"level {level}"
    if level == 0:
        return f"dense network (100%), trial {trial}", DENSE_COLOR, "solid"
    return f"{ARM_NAMES.get(arm, arm)}, {size}, trial {trial}", ARM_COLORS.get(arm, DENSE_COLOR), ARM_DASH.get(arm, "solid")


def training_now(records: list[dict], percents, iterations: int) -> go.Figure:
    """Validation loss (top) and accuracy (bottom) against iteration for each network in flight;
    the x axis spans the whole training budget, so the curve grows from left to right."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=PANELS, vertical_spacing=0.12)
    base_layout(fig, height=420, panels=True, legend_below=True)
    for rec in records:
        curve = rec.get("curve") or {}
        if not curve.get("iteration"):
            continue
        name, color, dash = _label(str(rec.get("key", "")), percents)
        for row, metric, scale, fmt in ((1, "val_loss", 1, ".3f"), (2, "val_acc", 100, ".1f")):
            fig.add_trace(go.Scatter(
                x=curve["iteration"], y=[v * scale for v in curve[metric]], mode="lines+markers",
                name=name, meta=META, legendgroup=name, showlegend=row == 1,
                line=dict(color=color, dash=dash, width=2), marker=dict(size=4, color=color),
                hovertemplate=f"{name}<br>iteration %{{x}}<br>%{{y:{fmt}}}<extra></extra>"), row=row, col=1)
    fig.update_xaxes(range=[0, iterations], title_text="training iteration", row=2, col=1)
    fig.update_xaxes(range=[0, iterations], row=1, col=1)
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="accuracy (%)", row=2, col=1)
    return fig
