"""Pure Plotly builders for looking inside a ticket, and the Learn page's toy network.

Inputs come from lth_core.analysis.results.layers_frame and lth_core.analysis.inspection; no
Streamlit here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lth_core.charts.style import ARM_COLORS, DENSE_COLOR, RUN_COLORS, base_layout, log_axis, round_dtick

POSITIVE, NEGATIVE = "#4C78A8", "#E45756"   # weight signs in the network drawing
HEAT = "Viridis"                             # perceptually uniform, readable on light and dark


def layer_remaining(layers: pd.DataFrame, labels: dict | None = None, arm: str = "ticket",
                    title=None) -> go.Figure:
    """% of each layer's weights remaining after each round (mean over trials), log y axis."""
    labels = labels or {}
    d = layers[layers.arm == arm]
    fig = base_layout(go.Figure(), title=title)
    order = list(dict.fromkeys(d.layer))
    for i, layer in enumerate(order):
        g = d[d.layer == layer].groupby("level", as_index=False).agg(
            percent_remaining=("percent_remaining", "mean"), remaining=("remaining", "mean"), size=("size", "first"))
        name = labels.get(layer, layer)
        fig.add_trace(go.Scatter(
            x=g.level, y=g.percent_remaining, mode="lines+markers", name=name,
            line=dict(color=RUN_COLORS[i % len(RUN_COLORS)], width=2.5), marker=dict(size=7),
            customdata=np.stack([g.remaining, g["size"]], axis=1),
            hovertemplate=f"<b>{name}</b><br>round %{{x}}: %{{y:.3g}}% remain"
                          "<br>%{customdata[0]:,.0f} of %{customdata[1]:,.0f} weights<extra></extra>"))
    total = d.groupby(["level", "trial"]).agg(r=("remaining", "sum"), s=("size", "sum")).reset_index()
    total = total.groupby("level", as_index=False).agg(r=("r", "mean"), s=("s", "first"))
    fig.add_trace(go.Scatter(x=total.level, y=100 * total.r / total.s, mode="lines", name="whole network",
                             line=dict(color=DENSE_COLOR, width=2, dash="dot"),
                             hovertemplate="whole network<br>round %{x}: %{y:.3g}% remain<extra></extra>"))
    fig.update_xaxes(title_text="pruning round (0 = dense)", dtick=round_dtick(len(total) - 1))
    log_axis(fig, list(d.percent_remaining) + list(100 * total.r / total.s),
             "weights remaining in the layer (%, log scale)")
    return fig


def first_layer_image(info: dict, input_label: str = "input", title=None) -> go.Figure:
    """Surviving first-layer connections per input position, from inspection.first_layer_map."""
    values, top, kind = np.asarray(info["values"], dtype=float), max(info["max"], 1), info["kind"]
    pct = 100 * values / top
    if kind == "image":
        h, w = pct.shape
        fig = base_layout(go.Figure(), title=title, height=460)
        fig.add_trace(go.Heatmap(
            z=pct, colorscale=HEAT, zmin=0, zmax=max(float(pct.max()), 1e-9),
            customdata=values, colorbar=dict(title=dict(text="% kept", side="right")),
            hovertemplate=f"{input_label} row %{{y}}, column %{{x}}<br>%{{customdata:.0f}} of {top} connections "
                          "kept (%{z:.1f}%)<extra></extra>"))
        fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False,
                         title_text="pixel row")
        fig.update_xaxes(showgrid=False, constrain="domain", title_text="pixel column")
        return fig
    if kind == "sequence":
        fig = base_layout(go.Figure(), title=title, height=360)
        fig.add_trace(go.Bar(
            x=np.arange(len(pct)), y=pct, marker=dict(color=pct, colorscale=HEAT, cmin=0),
            customdata=values, hovertemplate=f"{input_label} position %{{x}}<br>%{{customdata:.0f}} of {top} "
                                             "connections kept (%{y:.1f}%)<extra></extra>"))
        fig.update_xaxes(title_text=f"{input_label} position (0 = first value of the signal)")
        fig.update_yaxes(title_text="connections kept (%)")
        return fig
    # kernel: (in_channels, kh, kw); one small heatmap per input channel
    names = {3: ["red", "green", "blue"]}.get(pct.shape[0], [f"channel {c}" for c in range(pct.shape[0])])
    shown = min(pct.shape[0], 8)
    fig = make_subplots(rows=1, cols=shown, subplot_titles=[f"{n} channel" if len(n) < 6 else n for n in names[:shown]],
                        horizontal_spacing=0.04)
    base_layout(fig, title=title, height=320)
    for c in range(shown):
        fig.add_trace(go.Heatmap(
            z=pct[c], colorscale=HEAT, zmin=0, zmax=100, showscale=(c == shown - 1), customdata=values[c],
            text=np.round(pct[c]).astype(int), texttemplate="%{text}%",
            colorbar=dict(title=dict(text="% kept")),
            hovertemplate=f"{names[c]}, kernel row %{{y}}, column %{{x}}<br>%{{customdata:.0f}} of {top} filters "
                          "keep this weight (%{z:.1f}%)<extra></extra>"), row=1, col=c + 1)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{c + 1 if c else ''}", showgrid=False,
                         showticklabels=False, row=1, col=c + 1)
        fig.update_xaxes(showgrid=False, showticklabels=False, row=1, col=c + 1)
    return fig


def init_histogram(kept: np.ndarray, pruned: np.ndarray, layer_label: str = "", bins: int = 60,
                   title=None) -> go.Figure:
    """Distribution of the initial weights (theta_0) of kept vs pruned connections, each as % of its group."""
    both = np.concatenate([kept, pruned]) if len(pruned) else kept
    lo, hi = (float(both.min()), float(both.max())) if len(both) else (-1.0, 1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig = base_layout(go.Figure(), title=title, height=380)
    for values, name, color in ((pruned, "pruned", DENSE_COLOR), (kept, "kept (the ticket)", ARM_COLORS["ticket"])):
        if not len(values):
            continue
        counts, _ = np.histogram(values, bins=edges)
        fig.add_trace(go.Bar(
            x=centres, y=100 * counts / len(values), width=width, name=f"{name}: {len(values):,} weights",
            marker=dict(color=color, opacity=0.65, line=dict(width=0)), customdata=counts,
            hovertemplate=f"{name}<br>θ₀ in %{{x:.3f}} ± {width / 2:.3f}<br>%{{customdata:,}} weights "
                          "(%{y:.2f}% of the group)<extra></extra>"))
    fig.update_layout(barmode="overlay", bargap=0)
    fig.update_xaxes(title_text=f"initial weight value θ₀{' · ' + layer_label if layer_label else ''}")
    fig.update_yaxes(title_text="share of the group's weights (%)")
    return fig


def _layer_positions(sizes) -> list[list[tuple[float, float]]]:
    """Node (x, y) per layer: layers at x = 0, 1, 2; nodes centred vertically."""
    return [[(float(i), (n - 1) / 2 - k) for k in range(n)] for i, n in enumerate(sizes)]


def network_drawing(toy: dict, title=None) -> go.Figure:
    """Three panels of a toy 4-6-3 network (inspection.toy_imp): the random init, the trained
    network with its smallest weights marked for pruning, and the ticket reset to theta_0.
    Line width follows |weight|, colour its sign; pruned connections are faint grey."""
    rate = toy["rate"]
    # two short lines per title: three panels side by side stay apart on a phone
    panels = [("① random<br>start θ₀", toy["theta0"], False),
              (f"② trained,<br>{rate:.0%} marked", toy["trained"], "marked"),
              ("③ ticket:<br>back to θ₀", toy["theta0"], True)]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.03)
    base_layout(fig, title=title, height=380)
    pos = _layer_positions(toy["sizes"])
    peak = max(float(np.abs(w).max()) for w in toy["theta0"].values()) or 1.0
    peak_trained = max(float(np.abs(w).max()) for w in toy["trained"].values()) or 1.0
    for c, (_, weights, mode) in enumerate(panels, start=1):
        scale = peak_trained if mode == "marked" else peak
        hx, hy, htext = [], [], []
        for li, layer in enumerate(toy["layers"]):
            w, m = weights[layer], toy["mask"][layer]
            for j in range(w.shape[0]):          # w: (out, in)
                for i in range(w.shape[1]):
                    (x0, y0), (x1, y1) = pos[li][i], pos[li + 1][j]
                    alive = bool(m[j, i]) or mode is False
                    value = float(w[j, i])
                    if alive:
                        color = POSITIVE if value >= 0 else NEGATIVE
                        width, dash = 0.6 + 5 * abs(value) / scale, "solid"
                    elif mode == "marked":
                        color, width, dash = DENSE_COLOR, 1.2, "dot"
                    else:
                        color, width, dash = "rgba(140,140,140,0.18)", 0.8, "dot"
                    fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                                             line=dict(color=color, width=width, dash=dash)), row=1, col=c)
                    hx.append((x0 + x1) / 2), hy.append((y0 + y1) / 2)
                    state = "kept" if bool(m[j, i]) else "pruned"
                    htext.append(f"weight {value:+.2f}" + ("" if mode is False else f" · {state}"))
        fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", marker=dict(size=9, opacity=0), hovertext=htext,
                                 hoverinfo="text", showlegend=False), row=1, col=c)
        nx = [p[0] for layer in pos for p in layer]
        ny = [p[1] for layer in pos for p in layer]
        fig.add_trace(go.Scatter(x=nx, y=ny, mode="markers", hoverinfo="skip", showlegend=False,
                                 marker=dict(size=15, color="#BFC5CD", line=dict(color="#5B6570", width=1.5))),
                      row=1, col=c)
        fig.update_xaxes(visible=False, range=[-0.25, 2.25], row=1, col=c)
        fig.update_yaxes(visible=False, range=[-3.1, 3.1], row=1, col=c)
    fig.update_layout(margin=dict(l=5, r=5, t=60, b=5))
    return fig
