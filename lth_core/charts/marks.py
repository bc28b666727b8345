"""Marks drawn on a chart against % weights remaining (a reversed log axis): the level a reader
picked, and where the shared statistics say random re-init falls below the dense network."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from lth_core.charts.style import ARM_COLORS

PARTING_TEXT = "re-init falls below dense here"


def mark_level(fig: go.Figure, percent: float) -> go.Figure:
    """A light vertical band at `percent` (the level the page is showing; its caption says so: a label
    inside the plot would run into the axis labels or the other notes on a narrow chart)."""
    x = math.log10(percent)  # a shape on a log axis is placed in log10 units
    fig.add_shape(type="rect", xref="x", yref="paper", x0=x - 0.03, x1=x + 0.03, y0=0, y1=1, layer="below",
                  line_width=0, fillcolor="rgba(128,128,128,0.22)")
    return fig


def mark_parting(fig: go.Figure, percent: float | None) -> go.Figure:
    """A dashed line where re-init falls below the dense network for good (spread.compare_to_dense's
    falls_below_at); nothing when the data give no such verdict (None)."""
    if percent is None:
        return fig
    x = math.log10(percent)
    fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                  line=dict(color=ARM_COLORS["reinit"], width=1.5, dash="dash"))
    fig.add_annotation(x=x, xref="x", y=0.5, yref="paper", textangle=-90, xshift=-9, text=PARTING_TEXT,
                       showarrow=False, font=dict(size=11, color=ARM_COLORS["reinit"]))
    return fig
