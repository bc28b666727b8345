"""Marks drawn on a chart against % weights remaining (a reversed log axis): the level a reader
picked, and where the shared statistics say random re-init falls below the dense network."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from lth_core.charts.style import ARM_COLORS

PARTING_TEXT = "re-init falls below dense here"
WIDTH = 0.03  # half the level band's width, in decades


def mark_level(fig: go.Figure, percent: float) -> go.Figure:
    """A light vertical band at `percent` (the level the page is showing; its caption says so: a label
    inside the plot would run into the axis labels or the other notes on a narrow chart)."""
    # a shape on a log axis takes data values (an annotation takes log10 units): a band 0.03 decades each side
    fig.add_shape(type="rect", xref="x", yref="paper", x0=percent / 10 ** WIDTH, x1=percent * 10 ** WIDTH, y0=0,
                  y1=1, layer="below", line_width=0, fillcolor="rgba(128,128,128,0.22)")
    return fig


def mark_parting(fig: go.Figure, percent: float | None) -> go.Figure:
    """A dashed line where re-init falls below the dense network for good (spread.compare_to_dense's
    falls_below_at); nothing when the data give no such verdict (None)."""
    if percent is None:
        return fig
    fig.add_shape(type="line", xref="x", yref="paper", x0=percent, x1=percent, y0=0, y1=1,
                  line=dict(color=ARM_COLORS["reinit"], width=1.5, dash="dash"))
    fig.add_annotation(x=math.log10(percent), xref="x", y=0.5, yref="paper", textangle=-90, xshift=-9, text=PARTING_TEXT,
                       showarrow=False, font=dict(size=11, color=ARM_COLORS["reinit"]))
    return fig
