"""Play through the pruning rounds: one four-panel Plotly figure with one frame per level.

Panels: the % remaining ladder, the ticket's accuracy vs sparsity, the first layer's mask
image, and the histogram of kept vs pruned initial weights. Traces come from the single-chart
builders (charts.results, charts.inside), so look and hover texts match the other pages.
Pure Plotly, no Streamlit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lth_core.charts.style import ARM_COLORS, ARM_NAMES, DENSE_COLOR, base_layout, rgba, round_dtick, sparsity_axis
from lth_core.charts.results import accuracy_vs_sparsity, ladder_chart
from lth_core.charts.inside import first_layer_image, init_histogram

MAX_SIDE = 48
SPACING = 0.2           # between the two columns of panels: room for the colour bar and the next panel's axis
COLORBAR_X = (1 - SPACING) / 2 + 0.01  # the mask's colour bar, just right of its panel           # the mask image is block-averaged down to at most this many cells a side
FRAME_MS = 900          # time per round when playing: slow enough to read on a projector
LADDER, GHOST, ACC, MASK, PRUNED, KEPT = range(6)   # trace order in the figure and in every frame


def as_image(info: dict, max_side: int = MAX_SIDE) -> dict:
    """A first_layer_map dict as a small 2-D 'image' map: a sequence becomes one row, a conv
    kernel its channels summed; images larger than max_side a side are block-averaged."""
    values, top = np.asarray(info["values"], dtype=float), info["max"]
    if info["kind"] == "sequence":
        values = values[None, :]
    elif info["kind"] == "kernel":          # (in_ch, kh, kw) -> (kh, kw)
        top, values = top * values.shape[0], values.sum(0)
    h, w = values.shape
    f = max(1, -(-max(h, w) // max_side))   # ceil: block size
    if f > 1:
        hp, wp = -(-h // f) * f, -(-w // f) * f
        padded = np.full((hp, wp), np.nan)
        padded[:h, :w] = values
        values = np.nanmean(padded.reshape(hp // f, f, wp // f, f), axis=(1, 3))
    return {"layer": info.get("layer"), "kind": "image", "values": values, "max": top}


def _ladder_trace(percents, level: int) -> go.Bar:
    bar = ladder_chart(percents).data[0]
    bar.showlegend = False
    bar.marker.color = [ARM_COLORS["ticket"] if lv == level else rgba(DENSE_COLOR, 0.35)
                        for lv in range(len(percents))]
    bar.textfont = dict(color=[ARM_COLORS["ticket"] if lv == level else DENSE_COLOR for lv in range(len(percents))])
    return bar


def _acc_trace(ticket: pd.DataFrame, level: int, all_percents) -> go.Scatter:
    fig = accuracy_vs_sparsity(ticket[ticket.level <= level], arms=["ticket"], all_percents=all_percents)
    return next(t for t in fig.data if t.name == ARM_NAMES["ticket"])


def _mask_trace(info: dict, bar: dict) -> go.Heatmap:
    heat = first_layer_image(as_image(info), input_label="input").data[0]
    # the colour scale follows each round's most-connected input (as on the Inside page), so the
    # pattern stays visible as the layer thins out; the hover gives the absolute counts
    heat.update(colorbar=dict(title=dict(text="% kept", side="right"), thickness=12, **bar))
    return heat


def _hist_traces(kept: np.ndarray, pruned: np.ndarray, layer_label: str) -> list[go.Bar]:
    traces = {t.name.split(":")[0]: t for t in init_histogram(kept, pruned, layer_label, bins=40).data}
    # level 0 prunes nothing: an empty 'pruned' trace keeps the trace count the same in every frame
    empty = go.Bar(x=[], y=[], customdata=[], name="pruned: 0 weights", marker=dict(color=DENSE_COLOR, opacity=0.65))
    return [traces.get("pruned", empty), traces["kept (the ticket)"]]


def _frame_traces(k: int, level: int, percents, ticket, maps, splits, layer_label, bar: dict) -> list:
    kept, pruned = splits[k]
    return [_ladder_trace(percents, level), _acc_trace(ticket, level, percents), _mask_trace(maps[k], bar),
            *_hist_traces(kept, pruned, layer_label)]


def rounds_figure(percents, agg: pd.DataFrame, levels, maps, splits, layer_label: str = "",
                  start: int | None = None, title=None, stacked: bool = False) -> go.Figure:
    """The animated four-panel figure: 2 x 2, or stacked one above another (a phone's width).

    percents: % remaining per level (data.config_ladder); agg: results.aggregate (ticket only);
    levels: ascending, one frame each ('L<level>'); maps[k] / splits[k]: inspection.first_layer_map
    and init_split at levels[k]; start: the level shown before Play (default the first)."""
    levels = list(levels)
    ticket = agg[agg.arm == "ticket"].sort_values("level")
    k0 = levels.index(start) if start in levels else 0
    grid = dict(rows=4, cols=1, vertical_spacing=0.11) if stacked else \
        dict(rows=2, cols=2, horizontal_spacing=SPACING, vertical_spacing=0.2)
    fig = make_subplots(**grid, subplot_titles=["weights left per round", "ticket's accuracy",
                                                "first layer: inputs kept", "θ₀: kept vs pruned (% of each)"])
    base_layout(fig, title=title, height=1240 if stacked else 820, panels=True)
    at = [(1, 1), (2, 1), (3, 1), (4, 1)] if stacked else [(1, 1), (1, 2), (2, 1), (2, 2)]  # panel -> (row, col)
    mask_y = fig.layout.yaxis3.domain  # the colour bar beside the mask image, as tall as it
    bar = dict(y=sum(mask_y) / 2, len=mask_y[1] - mask_y[0], x=1.0 if stacked else COLORBAR_X)
    first = _frame_traces(k0, levels[k0], percents, ticket, maps, splits, layer_label, bar)
    ghost = go.Scatter(x=ticket.percent_remaining, y=100 * ticket.test_acc_at_early_stop, mode="lines",
                       line=dict(color=rgba(DENSE_COLOR, 0.35), width=1.5, dash="dot"), hoverinfo="skip",
                       showlegend=False, name="all rounds")
    for trace, (r, c) in zip([first[0], ghost, first[1], first[2], first[3], first[4]],
                             [at[0], at[1], at[1], at[2], at[3], at[3]]):
        fig.add_trace(trace, row=r, col=c)
    fig.update_traces(showlegend=False, selector=dict(type="scatter"))
    fig.update_traces(showlegend=False, selector=dict(type="heatmap"))
    fig.frames = [go.Frame(name=f"L{lv}", traces=[LADDER, ACC, MASK, PRUNED, KEPT],
                           data=_frame_traces(k, lv, percents, ticket, maps, splits, layer_label, bar))
                  for k, lv in enumerate(levels)]
    # a quarter of the figure: every 5th round past 8, so the labels fit a phone's width too
    fig.update_xaxes(title_text="round (0 = dense)", row=at[0][0], col=at[0][1],
                     dtick=round_dtick(len(percents) - 1) if len(percents) <= 9 else 5)
    fig.update_yaxes(title_text="weights remaining (%)", range=[0, 115], row=at[0][0], col=at[0][1])
    sparsity_axis(fig, list(percents), row=at[1][0], col=at[1][1], title="weights left (%, log)")
    decades = [t for t in (100, 10, 1, 0.1) if min(percents) * 0.8 <= t]  # a quarter-width panel: few labels
    fig.update_xaxes(tickvals=decades, ticktext=[f"{t:g}%" for t in decades], row=at[1][0], col=at[1][1])
    acc = 100 * ticket.test_acc_at_early_stop
    pad = max(0.5, 0.15 * float(acc.max() - acc.min())) if len(acc) else 1
    fig.update_yaxes(title_text="test accuracy (%)", row=at[1][0], col=at[1][1],
                     range=[float(acc.min()) - pad, float(acc.max()) + pad] if len(acc) else None)
    one_row = all(np.asarray(as_image(m)["values"]).shape[0] == 1 for m in maps)  # a sequence (MNIST-1D)
    # the mask image needs no tick labels (its hover names each input), so it fits a phone's quarter
    fig.update_yaxes(autorange="reversed", scaleanchor="x3", constrain="domain", showgrid=False,
                     title_text=None if one_row else "input rows", showticklabels=False, row=at[2][0], col=at[2][1])
    fig.update_xaxes(showgrid=False, constrain="domain", showticklabels=False, row=at[2][0], col=at[2][1])
    fig.update_xaxes(title_text=f"θ₀{' · ' + layer_label if layer_label else ''}", nticks=4,
                     row=at[3][0], col=at[3][1])
    fig.update_yaxes(title_text=None, row=at[3][0], col=at[3][1])
    # the legend inside the histogram's panel, at its top left
    fig.update_layout(barmode="overlay", bargap=0, uniformtext=dict(minsize=8, mode="hide"),
                      legend=dict(x=fig.layout.xaxis4.domain[0] + 0.02, y=fig.layout.yaxis4.domain[1] - 0.01,
                                  yref="paper", yanchor="top"))
    play = dict(frame=dict(duration=FRAME_MS, redraw=True), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    fig.update_layout(
        # the buttons on a row of their own, the slider below them: apart at every width
        updatemenus=[dict(type="buttons", direction="left", x=0, y=-0.06, xanchor="left", yanchor="top",
                          pad=dict(t=10, r=10), showactive=False,
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])])],
        # short step labels, inset from both ends, so the first and last are not cut
        sliders=[dict(active=k0, x=0.05, len=0.9, y=-0.13, yanchor="top", pad=dict(t=10),
                      currentvalue=dict(prefix="showing: ", suffix=" of weights", font=dict(size=15)),
                      steps=[dict(label=f"{percents[lv]:.3g}%", method="animate",
                                  args=[[f"L{lv}"], dict(frame=dict(duration=0, redraw=True),
                                                         transition=dict(duration=0), mode="immediate")])
                             for lv in levels])])
    fig.update_layout(margin=dict(b=200))
    return fig


def level_from_click(points, levels, ladder_trace: int = LADDER, acc_traces=(GHOST, ACC)) -> int | None:
    """The level a click (Streamlit plotly selection points) picked on the ladder or the
    accuracy chart, or None for a click elsewhere."""
    for p in points or []:
        curve, idx = p.get("curve_number"), p.get("point_index", p.get("point_number"))
        if curve == ladder_trace and p.get("x") is not None:
            lv = int(round(float(p["x"])))
        elif curve in acc_traces and idx is not None:
            lv = int(idx)      # both accuracy traces list the levels in order from level 0
        else:
            continue
        if lv in levels:
            return lv
    return None


def show_level(fig: go.Figure, level: int) -> go.Figure:
    """A copy of a rounds_figure that shows `level` before Play (its frame's data, the slider on it)."""
    out = go.Figure(fig)
    names = [f.name for f in out.frames]
    k = names.index(f"L{level}")
    frame = out.frames[k]
    for idx, trace in zip(frame.traces, frame.data):
        out.data[idx].update(trace.to_plotly_json(), overwrite=True)
    out.layout.sliders[0].active = k
    return out
