"""Pure Plotly figure builders for a run's results (no Streamlit).

Inputs are the DataFrames of analysis.results: accuracies are fractions drawn as %;
percent_remaining is on a reversed log axis, dense (100%) on the left, as in the paper.
More builders (layers, masks, the toy network) live in charts/inside.py.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lth_core.training.early_stop import censor_threshold
from lth_core.charts.style import (ARM_COLORS, ARM_DASH, ARM_NAMES, ARM_ORDER, ARM_SYMBOL, DENSE_COLOR, RUN_COLORS,
                                  base_layout, rgba, round_dtick, sparsity_axis)


def _arms(df: pd.DataFrame, arms) -> list[str]:
    present = list(dict.fromkeys(df["arm"])) if "arm" in df else []
    wanted = arms if arms is not None else ARM_ORDER
    return [a for a in ARM_ORDER if a in present and a in wanted]


def _band(fig, x, lo, hi, color, group, row=None, col=None):
    """A translucent min..max band (skipped when every trial agrees, e.g. one trial)."""
    if all(abs(a - b) < 1e-12 for a, b in zip(lo, hi)):
        return
    fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(hi) + list(lo)[::-1], fill="toself", mode="lines",
                             fillcolor=rgba(color, 0.18), line=dict(width=0), hoverinfo="skip",
                             showlegend=False, legendgroup=group), row=row, col=col)


CENSORED_NOTE = "hollow: most still improving at the end (censored)"  # short: one legend line on a phone


def _hollow(d: pd.DataFrame) -> list[bool]:
    """Per row: more than half of the level's networks are censored (lth_core.training.early_stop)."""
    if "censored_fraction" not in d:
        return [False] * len(d)
    return [bool(f > 0.5) for f in d.censored_fraction.fillna(0)]


def arm_metric_figure(agg: pd.DataFrame, metric: str, *, y_title: str, scale: float = 1.0, unit: str = "",
                      arms=None, all_percents=None, title: str | None = None, dense_line: bool = True,
                      decimals: int = 1) -> go.Figure:
    """One line per arm of `metric` (mean over trials, min/max band) against % remaining.
    A level where more than half of the networks are censored gets a hollow marker."""
    fig = base_layout(go.Figure(), title=title)
    show = _arms(agg, arms)
    dense = agg[(agg.level == 0)] if len(agg) else agg
    any_hollow = False
    for arm in reversed(show):  # the ticket drawn last, on top of the shared dense point
        d = agg[agg.arm == arm].sort_values("level")
        color = ARM_COLORS[arm]
        y = d[metric] * scale
        hollow = _hollow(d)
        any_hollow = any_hollow or any(hollow)
        cens = d.censored_fraction if "censored_fraction" in d else [None] * len(d)
        _band(fig, d.percent_remaining, d[f"{metric}_min"] * scale, d[f"{metric}_max"] * scale, color, arm)
        hover = [f"<b>{ARM_NAMES[arm]}</b><br>{p:.3g}% of weights remain (level {lv})<br>"
                 f"{y_title}: {m * scale:.{decimals}f}{unit}"
                 + (f" (min {lo * scale:.{decimals}f}, max {hi * scale:.{decimals}f}; {n} trials)" if n > 1 else "")
                 + (f"<br>{round(f * n)} of {n} still improving at the end (censored)" if f else "")
                 for p, lv, m, lo, hi, n, f in zip(d.percent_remaining, d.level, d[metric], d[f"{metric}_min"],
                                                   d[f"{metric}_max"], d.trials, cens)]
        fig.add_trace(go.Scatter(x=d.percent_remaining, y=y, mode="lines+markers", name=ARM_NAMES[arm],
                                 legendgroup=arm, legendrank=ARM_ORDER.index(arm),
                                 line=dict(color=color, width=3, dash=ARM_DASH[arm]),
                                 marker=dict(size=[11 if h else 8 for h in hollow], color=color,
                                             symbol=[ARM_SYMBOL[arm] + ("-open" if h else "") for h in hollow],
                                             line=dict(width=2, color=color)),
                                 hovertext=hover, hoverinfo="text"))
    if any_hollow:  # a legend entry that says what a hollow marker means
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=CENSORED_NOTE, hoverinfo="skip",
                                 marker=dict(size=11, symbol="circle-open", color=DENSE_COLOR,
                                             line=dict(width=2, color=DENSE_COLOR)), legendrank=99))
    if dense_line and len(dense):
        v = float(dense[metric].iloc[0]) * scale
        fig.add_hline(y=v, line=dict(color=DENSE_COLOR, width=1.5, dash="dot"),
                      annotation_text=f"dense network: {v:.{decimals}f}{unit}", annotation_position="top right",
                      annotation_font_color=DENSE_COLOR)
    sparsity_axis(fig, all_percents if all_percents is not None else list(agg.percent_remaining))
    fig.update_yaxes(title_text=y_title + (f" ({unit.strip()})" if unit.strip() else ""))
    return fig


def accuracy_vs_sparsity(agg: pd.DataFrame, arms=None, all_percents=None, title=None,
                         min_span: float | None = None) -> go.Figure:
    """Test accuracy at early stopping vs % weights remaining (the paper's Figures 1 and 4).
    min_span: the y axis shows at least this many percentage points, so a few points measured once
    (a run still training) do not stretch their noise over the whole chart."""
    fig = arm_metric_figure(agg, "test_acc_at_early_stop", y_title="test accuracy at early stop", scale=100,
                            unit="%", arms=arms, all_percents=all_percents, title=title)
    cols = [c for c in ("test_acc_at_early_stop_min", "test_acc_at_early_stop_max", "test_acc_at_early_stop")
            if c in agg]
    if min_span and len(agg) and cols:
        lo, hi = 100 * float(agg[cols].min().min()), 100 * float(agg[cols].max().max())
        if hi - lo < min_span:
            mid = min(max((lo + hi) / 2, min_span / 2), 100 - min_span / 2)
            fig.update_yaxes(range=[mid - min_span / 2, mid + min_span / 2])
    return fig


def early_stop_vs_sparsity(agg: pd.DataFrame, arms=None, all_percents=None, title=None,
                           iterations: int | None = None) -> go.Figure:
    """Iteration of minimum validation loss vs % weights remaining (how fast each network learns).
    With `iterations` (the training length), the last 10% of training is shaded: an early stop
    there is censored (lth_core.training.early_stop), a lower bound on the true iteration."""
    fig = arm_metric_figure(agg, "early_stop_iteration", y_title="early-stop iteration", arms=arms,
                            all_percents=all_percents, title=title, decimals=0)
    if iterations:
        fig.add_hrect(y0=censor_threshold(iterations), y1=iterations, line_width=0,
                      fillcolor=rgba(DENSE_COLOR, 0.22), layer="below",
                      annotation_text="last 10% of training: censored", annotation_position="inside top left",
                      annotation_font_color=DENSE_COLOR)
        fig.update_yaxes(range=[0, iterations * 1.04])
    return fig


def _mean_curve(d: pd.DataFrame, metric: str) -> pd.DataFrame:
    return d.groupby("iteration", as_index=False)[metric].agg(["mean", "min", "max"])


CURVE_METRICS = {"test_acc": ("test accuracy (%)", 100, ".1f", "%"), "val_loss": ("validation loss", 1, ".3f", "")}


def learning_curves(curves: pd.DataFrame, levels, arms=("ticket", "reinit"), metric: str = "test_acc",
                    title=None, iterations: int | None = None, columns: int = 3, legend: bool = True) -> go.Figure:
    """A metric (CURVE_METRICS) vs training iteration, one panel per chosen level, ticket vs controls
    (the paper's Figure 3); the dense network is repeated in each panel as a grey reference. For the
    validation loss, each network's lowest point (its early-stopping iteration) is marked, and with
    `iterations` (the training length) the censored last 10% of training is shaded. columns: panels side
    by side (1 stacks them, readable at any width); legend=False leaves the legend to another figure."""
    y_title, scale, fmt, unit = CURVE_METRICS[metric]
    levels = [lv for lv in levels if lv in set(curves.level)] or [0]
    cols = min(len(levels), columns)
    rows = math.ceil(len(levels) / cols)
    pct = curves.groupby("level").percent_remaining.mean().to_dict()
    titles = [f"{pct.get(lv, 100):.3g}% remaining" + (" (dense)" if lv == 0 else f" · level {lv}") for lv in levels]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes=True,
                        horizontal_spacing=0.04, vertical_spacing=0.16)
    base_layout(fig, title=title, height=360 * rows + 40, panels=True, legend_below=len(levels) == 1)
    dense = curves[(curves.level == 0) & (curves.arm == "ticket")]
    for i, lv in enumerate(levels):
        r, c = i // cols + 1, i % cols + 1
        series = [("dense", dense)] if len(dense) else []
        if lv > 0:
            series += [(a, curves[(curves.level == lv) & (curves.arm == a)]) for a in arms]
        for arm, d in series:
            if d.empty:
                continue
            m = _mean_curve(d, metric)
            color = DENSE_COLOR if arm == "dense" else ARM_COLORS[arm]
            name = "Dense network (100%)" if arm == "dense" else ARM_NAMES[arm]
            _band(fig, m.iteration, m["min"] * scale, m["max"] * scale, color, arm, r, c)
            fig.add_trace(go.Scatter(
                x=m.iteration, y=m["mean"] * scale, mode="lines", name=name, legendgroup=arm, showlegend=(i == 0)
                or (arm != "dense" and i == next(j for j, v in enumerate(levels) if v > 0)),
                line=dict(color=color, width=2.5 if arm != "dense" else 1.5,
                          dash="dot" if arm == "dense" else ARM_DASH.get(arm, "solid")),
                hovertemplate=f"{name}<br>iteration %{{x}}<br>{y_title.split(' (')[0]} %{{y:{fmt}}}{unit}"
                              f"<extra>{titles[i]}</extra>"), row=r, col=c)
            if metric == "val_loss":  # each network's lowest validation loss: where it stops early
                low = d.loc[d.groupby("trial").val_loss.idxmin()]
                fig.add_trace(go.Scatter(
                    x=low.iteration, y=low.val_loss, mode="markers", name=f"{name}: early stop",
                    legendgroup=arm, showlegend=False, customdata=low.trial,
                    marker=dict(color=color, size=9, line=dict(color="white", width=1),
                                symbol="circle" if arm == "dense" else ARM_SYMBOL.get(arm, "circle")),
                    hovertemplate=f"{name}, trial %{{customdata}}<br>lowest validation loss %{{y:.3f}} at "
                                  f"iteration %{{x}}: its early stop<extra>{titles[i]}</extra>"), row=r, col=c)
        if metric == "val_loss" and iterations:
            fig.add_vrect(x0=censor_threshold(iterations), x1=iterations, line_width=0, layer="below",
                          fillcolor=rgba(DENSE_COLOR, 0.22), row=r, col=c,
                          annotation_text="censored" if i == 0 else None, annotation_position="top left",
                          annotation_font_color=DENSE_COLOR)
        fig.update_xaxes(title_text="training iteration" if r == rows else None, row=r, col=c)
    fig.update_yaxes(title_text=y_title, col=1)
    fig.update_layout(showlegend=legend)
    return fig


GAP_PANELS = ("accuracy: training dotted, test solid", "gap: training − test (points)")  # short: a phone


def generalisation_gap(agg: pd.DataFrame, arms=None, all_percents=None, title=None, stacked: bool = False,
                       panel: int | None = None) -> go.Figure:
    """Training vs test accuracy at early stopping across levels, and their gap in points. stacked: the
    two panels one above the other (readable at any width); panel 0 or 1: that panel alone."""
    if panel is not None:
        fig = make_subplots(rows=1, cols=1, subplot_titles=(GAP_PANELS[panel],))
    else:
        fig = make_subplots(rows=2 if stacked else 1, cols=1 if stacked else 2, subplot_titles=GAP_PANELS,
                            **(dict(vertical_spacing=0.18) if stacked else
                               dict(column_widths=[0.6, 0.4], horizontal_spacing=0.1)))
    base_layout(fig, title=title, panels=True, height=760 if stacked and panel is None else 420,
                legend_below=panel is not None)

    def at(k):  # (row, col) of panel k, or None when it is not drawn
        if panel is not None:
            return (1, 1) if k == panel else None
        return (k + 1, 1) if stacked else (1, k + 1)
    percents = all_percents if all_percents is not None else list(agg.percent_remaining)
    for arm in _arms(agg, arms):
        d = agg[agg.arm == arm].sort_values("level")
        color, name = ARM_COLORS[arm], ARM_NAMES[arm]
        train, test = d.train_acc_at_early_stop * 100, d.test_acc_at_early_stop * 100
        tip = "<b>" + name + "</b><br>%{x:.3g}% remain<br>%{y:.1f}"
        if at(0):
            fig.add_trace(go.Scatter(x=d.percent_remaining, y=test, mode="lines+markers", name=name, legendgroup=arm,
                                     line=dict(color=color, width=3), marker=dict(size=7),
                                     hovertemplate=tip + "% test<extra></extra>"), *at(0))
            fig.add_trace(go.Scatter(x=d.percent_remaining, y=train, mode="lines+markers", name=name + " (train)",
                                     legendgroup=arm, showlegend=False, line=dict(color=color, width=2, dash="dot"),
                                     marker=dict(size=5, symbol="circle-open"),
                                     hovertemplate=tip + "% training<extra></extra>"), *at(0))
        if at(1):
            fig.add_trace(go.Scatter(x=d.percent_remaining, y=train - test, mode="lines+markers", name=name,
                                     legendgroup=arm, showlegend=panel == 1, line=dict(color=color, width=2.5),
                                     hovertemplate=tip + " points gap<extra></extra>"), *at(1))
    for k, y_title in enumerate(("accuracy at early stop (%)", "points")):
        if at(k):
            sparsity_axis(fig, percents, *at(k))
            fig.update_yaxes(title_text=y_title, row=at(k)[0], col=at(k)[1])
    return fig


def ladder_chart(percents, title=None) -> go.Figure:
    """% of weights remaining after each pruning round (known before anything runs)."""
    rounds = list(range(len(percents)))
    fig = base_layout(go.Figure(), title=title, height=320)
    colors = [DENSE_COLOR] + [ARM_COLORS["ticket"]] * (len(rounds) - 1)
    fig.add_trace(go.Bar(x=rounds, y=list(percents), marker_color=colors,
                         text=[f"{p:.3g}%" for p in percents] if len(rounds) <= 21 else None,
                         textposition="outside", cliponaxis=False, name="weights remaining",
                         hovertemplate="after round %{x}: %{y:.3g}% of weights remain<extra></extra>"))
    fig.update_xaxes(title_text="pruning round (0 = dense network)", dtick=round_dtick(len(rounds) - 1))
    fig.update_yaxes(title_text="weights remaining (%)", range=[0, 112])
    # a bar's label is hidden where it does not fit beside its neighbours (a phone), not drawn over them
    fig.update_layout(showlegend=False, bargap=0.25, uniformtext=dict(minsize=9, mode="hide"))
    return fig


def wrap(text: str, width: int = 38) -> str:
    """A long legend entry on several lines, broken at ' · ' (a run's label does not fit a phone)."""
    lines: list[str] = []
    for part in text.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "<br>".join(lines)


def compare_runs(runs, metric: str = "test_acc_at_early_stop", arms=("ticket",), title=None) -> go.Figure:
    """Several runs on one chart: runs is a list of (label, aggregate DataFrame);
    one colour per run, one dash style per arm; hollow markers where most networks are censored."""
    scale, unit, y_title = ((100, "%", "test accuracy at early stop") if metric == "test_acc_at_early_stop" else
                            (100, "%", "final test accuracy") if metric == "final_test_acc" else
                            (1, "", "early-stop iteration"))
    fig = base_layout(go.Figure(), title=title, height=480)
    percents = []
    for i, (label, agg) in enumerate(runs):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        for arm in _arms(agg, arms):
            d = agg[agg.arm == arm].sort_values("level")
            percents += list(d.percent_remaining)
            _band(fig, d.percent_remaining, d[f"{metric}_min"] * scale, d[f"{metric}_max"] * scale, color, label)
            name = label if arm == "ticket" else f"{label} · {ARM_NAMES[arm].split(' (')[0].lower()}"
            hollow = _hollow(d)
            fig.add_trace(go.Scatter(
                x=d.percent_remaining, y=d[metric] * scale, mode="lines+markers", name=wrap(name), legendgroup=label,
                line=dict(color=color, width=3 if arm == "ticket" else 2, dash=ARM_DASH[arm]),
                marker=dict(size=[10 if h else 7 for h in hollow],
                            symbol=[ARM_SYMBOL[arm] + ("-open" if h else "") for h in hollow],
                            line=dict(width=2, color=color)),
                hovertemplate=f"<b>{name}</b><br>%{{x:.3g}}% remain<br>{y_title}: %{{y:.1f}}{unit}<extra></extra>"))
    sparsity_axis(fig, percents or [100])
    fig.update_yaxes(title_text=y_title + (f" ({unit})" if unit else ""))
    return fig
