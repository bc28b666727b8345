"""Beyond the paper, drawn (part 2): structured tickets against their controls, and stability
to SGD noise for reset vs rewinding, each with a caption whose verdicts come from the runs.

Structured input: results.summary_frame of a 'neurons' or 'filters' run (optionally one
unstructured run to overlay). Stability input: stability_frame per run. Barriers and errors
are fractions, drawn in points / %. Pure Plotly, no Streamlit.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from lth_core import layout
from lth_core.analysis import spread, stats
from lth_core.charts.style import DENSE_COLOR, OVERLAY_COLOR, RUN_COLORS, base_layout, rgba, sparsity_axis
from lth_core.charts.beyond import (CENSORED_TEXT, add_line, arm_line, clear_levels, close_caption, compare, dense_line, direction, gap_text,
                                    pct_text, present, sparsest_common)
from lth_core.analysis.results import summary_frame
from lth_core.store.run_store import Corrupt, Store

STABLE_PP = 2.0  # Frankle et al. 2020 call a network stable when its error barrier is below 2 points
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "pentagon", "star")


# --- structured pruning (Liu et al. 2019) --------------------------------------------------------

def structured_figure(summary: pd.DataFrame, granularity: str, other: pd.DataFrame | None = None,
                      other_label: str = "unstructured ticket (other run)", all_percents=None,
                      title: str | None = None) -> go.Figure:
    """Accuracy vs % remaining of a structured run's ticket, its re-init and random structured
    pruning (the paper's arm styles); `other` (an unstructured run's summary) adds its ticket."""
    fig = base_layout(go.Figure(), title=title, height=460)
    unit = {"neurons": "neurons", "filters": "filters"}.get(granularity, granularity)
    names = {"ticket": f"Structured ticket (whole {unit})", "reinit": "Structured ticket, re-initialised",
             "random": f"Random {unit} removed"}
    for arm in present(summary, ("random", "reinit", "ticket")):
        add_line(fig, arm_line(summary, arm), arm, name=names[arm])
    percents = list(summary.percent_remaining)
    if other is not None and present(other, ("ticket",)):
        add_line(fig, arm_line(other, "ticket"), "ticket", name=other_label, color=OVERLAY_COLOR,
                  dash="longdash", symbol="star", width=2)
        percents += list(other.percent_remaining)
    dense_line(fig, summary)
    sparsity_axis(fig, all_percents if all_percents is not None else percents)
    fig.update_yaxes(title_text="test accuracy at early stop (%)")
    return fig


STRUCTURED_LITERATURE = ("What to look for: whole units are removed, so the network really gets smaller. Liu et al. "
                         "(2019, \"Rethinking the value of network pruning\") found that structured tickets do not "
                         "beat the same small architecture re-initialised: with structured pruning the kept "
                         "starting weights stop mattering.")


def _bands_apart(a: pd.Series, b: pd.Series) -> str:
    """Unpaired (different runs): 'above' / 'below' when Welch's test (stats.unpaired) rejects no
    difference, 'single' with fewer than stats.MIN_TRIALS trials on a side, else 'within'."""
    if min(len(a), len(b)) < stats.MIN_TRIALS:
        return "single"
    p = stats.unpaired(list(a), list(b))
    return "within" if p is None or p > stats.ALPHA else "above" if a.mean() > b.mean() else "below"


def structured_caption(summary: pd.DataFrame, other: pd.DataFrame | None = None) -> str:
    """The literature; the structured ticket against its re-init at the sparsest level (agrees
    unless clearly above); against the unstructured ticket at the nearest % (unpaired: bands)."""
    parts, compared = [STRUCTURED_LITERATURE], []
    d = spread.networks(summary)
    levels = sorted(set(d[(d.level > 0) & (d.arm == "ticket")].level) & set(d[d.arm == "reinit"].level))
    level = sparsest_common(summary, ("ticket", "reinit"))
    if level is not None:
        c = compare(summary, level, "ticket", "reinit")
        compared.append(c)
        parts.append(f"At {pct_text(summary, level)} remaining, the structured ticket minus its re-init "
                     f"({gap_text(c)}): " + {
                         "above": "the ticket is clearly better, unlike the literature.",
                         "below": "re-init is clearly better.",
                         "within": "within the spread, as the literature found.",
                         "single": f"the ticket is {direction(c, 're-init')}.", "censored": CENSORED_TEXT}[c["verdict"]])
        ahead = [lv for lv, c in zip(levels, clear_levels(summary, levels, "ticket", "reinit")) if c == 1]
        if ahead and len(levels) > 1:
            parts.append(f"The ticket is clearly above re-init at {len(ahead)} of {len(levels)} pruned levels.")
    elif present(summary, ("ticket",)):
        parts.append("This run has no re-init control to compare with.")
    if other is not None and present(other, ("ticket",)) and level is not None:
        pct = float(d[d.level == level].percent_remaining.mean())
        o = spread.networks(other)
        olv = spread.nearest_level(other, pct)
        a = d[(d.level == level) & (d.arm == "ticket")][spread.ACC]
        b = o[(o.level == olv) & (o.arm == "ticket")][spread.ACC]
        if len(a) and len(b):
            v = _bands_apart(a, b)
            gap = 100 * (a.mean() - b.mean())
            parts.append(f"Against the unstructured ticket at {o[o.level == olv].percent_remaining.mean():.3g}% "
                         f"(nearest level), the structured one is {gap:+.1f} points " + {
                             "above": "and clearly above it (Welch's test, unpaired: different runs).",
                             "below": "and clearly below it (Welch's test, unpaired): removing whole units costs "
                                      "accuracy.",
                             "within": "(not told apart from it: Welch's test, unpaired).",
                             "single": f"(fewer than {stats.MIN_TRIALS} trials: a direction, not a verdict)."}[v])
    return close_caption(parts, compared)


# --- stability to SGD noise (Frankle et al. 2020) ------------------------------------------------

def stability_label(config) -> str:
    """'reset to θ₀' or 'rewind to iteration k' (config.reset / rewind_iteration)."""
    return f"rewind to iteration {config.rewind_iteration}" if config.reset == "rewind" else "reset to θ₀"


def stability_frame(store: Store, run_id: str) -> pd.DataFrame:
    """One row per (trial, level) with a stored stability record: percent_remaining, barrier
    (fraction of test error), alpha and test_error (lists). Damaged or missing records are skipped."""
    config = store.config(run_id)
    summary = spread.networks(summary_frame(store, run_id))
    pct = summary.groupby("level").percent_remaining.mean().to_dict()
    rows = []
    for trial in range(config.trials):
        for level in config.stability_levels:
            try:
                rec = store.read_json(run_id, layout.stability(trial, level))
            except (FileNotFoundError, Corrupt):
                continue
            rows.append({"trial": trial, "level": level, "percent_remaining": pct.get(level, float("nan")),
                         "barrier": float(rec["barrier"]), "alpha": list(rec["alpha"]),
                         "test_error": list(rec["test_error"])})
    return pd.DataFrame(rows, columns=["trial", "level", "percent_remaining", "barrier", "alpha", "test_error"])


def _barrier_line(frame: pd.DataFrame) -> pd.DataFrame:
    g = frame.groupby("level")
    return pd.DataFrame({"percent_remaining": g.percent_remaining.mean(), "trials": g.trial.nunique(),
                         "mean": g.barrier.mean(), "min": g.barrier.min(), "max": g.barrier.max()}).reset_index()


def stability_figure(runs, title: str | None = None) -> go.Figure:
    """Instability (error barrier, percentage points) vs % remaining: runs is a list of
    (label, stability_frame); one line per run, mean over trials with a min..max band."""
    fig = base_layout(go.Figure(), title=title, height=420)
    percents = []
    for i, (label, frame) in enumerate(runs):
        if frame.empty:
            continue
        line = _barrier_line(frame)
        color = RUN_COLORS[i % len(RUN_COLORS)]
        x = list(line.percent_remaining)
        percents += x
        if (line["max"] - line["min"]).abs().max() > 1e-12:
            fig.add_trace(go.Scatter(x=x + x[::-1], y=list(line["max"] * 100) + list(line["min"] * 100)[::-1],
                                     fill="toself", mode="lines", fillcolor=rgba(color, 0.15), line=dict(width=0),
                                     hoverinfo="skip", showlegend=False, legendgroup=label))
        fig.add_trace(go.Scatter(x=x, y=line["mean"] * 100, mode="lines+markers", name=label, legendgroup=label,
                                 line=dict(color=color, width=3, dash=("solid", "dash", "dot")[i % 3]),
                                 marker=dict(size=9, color=color, symbol=SYMBOLS[i % len(SYMBOLS)]),
                                 hovertemplate=f"<b>{label}</b><br>%{{x:.3g}}% remain<br>error barrier "
                                               "%{y:.2f} points<extra></extra>"))
    fig.add_hline(y=STABLE_PP, line=dict(color=DENSE_COLOR, width=1, dash="dot"), annotation_font_color=DENSE_COLOR,
                  annotation_text=f"{STABLE_PP:g} points: stable below", annotation_position="top right")
    sparsity_axis(fig, percents or [100])
    fig.update_yaxes(title_text="instability: error barrier (points)", rangemode="tozero")
    fig.update_layout(showlegend=True)  # a single run's line is still named
    return fig


def interpolation_figure(runs, percent: float, title: str | None = None) -> go.Figure:
    """Test error (%) along the straight line between the two copies, at the stability level of
    each run nearest to `percent` (log scale); mean over trials with a min..max band."""
    fig = base_layout(go.Figure(), title=title, height=380)
    for i, (label, frame) in enumerate(runs):
        if frame.empty:
            continue
        level = _nearest(frame, percent)
        d = frame[frame.level == level]
        errs = pd.DataFrame(list(d.test_error)) * 100
        alpha = list(d.alpha.iloc[0])
        color = RUN_COLORS[i % len(RUN_COLORS)]
        name = f"{label} · {d.percent_remaining.mean():.3g}% remaining"
        if len(d) > 1:
            fig.add_trace(go.Scatter(x=alpha + alpha[::-1], y=list(errs.max()) + list(errs.min())[::-1],
                                     fill="toself", mode="lines", fillcolor=rgba(color, 0.15), line=dict(width=0),
                                     hoverinfo="skip", showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=alpha, y=errs.mean(), mode="lines+markers", name=name, legendgroup=name,
                                 line=dict(color=color, width=3, dash=("solid", "dash", "dot")[i % 3]),
                                 marker=dict(size=7, color=color, symbol=SYMBOLS[i % len(SYMBOLS)]),
                                 hovertemplate=f"<b>{name}</b><br>α = %{{x:.1f}}<br>test error %{{y:.2f}}%"
                                               "<extra></extra>"))
    fig.update_xaxes(title_text="α along the line from copy 1 (0) to copy 2 (1)", range=[-0.02, 1.02])
    fig.update_yaxes(title_text="test error (%)")
    fig.update_layout(showlegend=True)
    return fig


def _nearest(frame: pd.DataFrame, percent: float) -> int:
    """The stability level whose % remaining is nearest to `percent` on a log scale."""
    pct = frame.groupby("level").percent_remaining.mean()
    return int((pct.map(lambda p: abs(math.log(max(p, 1e-9)) - math.log(max(percent, 1e-9))))).idxmin())


STABILITY_LITERATURE = (f"What to look for: two copies of the same network trained with different minibatch orders, "
                        f"then every network on the straight line between them tested. A flat line (barrier near 0) "
                        f"means SGD noise did not matter: the network is stable. Frankle et al. (2020, \"Linear "
                        f"mode connectivity and the lottery ticket hypothesis\") found that deep networks are "
                        f"unstable at initialisation and become stable only after rewinding a little way into "
                        f"training, which is when IMP starts finding tickets; LeNet is stable already at "
                        f"initialisation. They call a barrier under {STABLE_PP:g} points stable.")


SHALLOW = ("mlp1d", "lenet300")  # stable at initialisation in Frankle et al. 2020 (LeNet)
DEEP = ("vgg19", "resnet18")      # unstable at initialisation when sparse, stable after a little rewinding


def _word(r) -> str:
    """'stable' (every trial under STABLE_PP), 'unstable' (every trial at or over it), or 'borderline'."""
    return ("stable" if r["max"] * 100 < STABLE_PP else "unstable" if r["min"] * 100 >= STABLE_PP
            else "borderline")


def stability_caption(runs, arch: str | None = None) -> str:
    """Per run: whether it is stable at its densest and sparsest stability levels (every trial
    under STABLE_PP: stable; every trial over: unstable; else borderline); for a reset-to-θ₀ run
    of `arch`, whether its sparsest level agrees with the literature; and where two runs share a
    level, whether their bands separate."""
    parts = [STABILITY_LITERATURE]
    lines = [(label, _barrier_line(f)) for label, f in runs if not f.empty]
    if not lines:
        return STABILITY_LITERATURE + " No stability measurement is stored for this run yet."
    for label, line in lines:
        said = []
        for _, r in line.sort_values("level").iloc[[0, -1]].drop_duplicates("level").iterrows():
            word = _word(r) + (" (the trials fall on both sides)" if _word(r) == "borderline" else "")
            rng = (f"{r['mean'] * 100:.2f} points, single trial" if r.trials == 1 else
                   f"{r['mean'] * 100:.2f} points, min {r['min'] * 100:.2f} to max {r['max'] * 100:.2f} over "
                   f"{int(r.trials)} trials")
            said.append(f"at {r.percent_remaining:.3g}% remaining the barrier is {rng}: {word}")
        parts.append(f"{label}: " + "; ".join(said) + ".")
        sparsest = line.sort_values("level").iloc[-1]
        if label.startswith("reset") and arch in SHALLOW + DEEP and sparsest.level > 0:
            expected = "stable" if arch in SHALLOW else "unstable"
            got = _word(sparsest) if sparsest.trials >= stats.MIN_TRIALS else None
            parts.append(f"For this {'shallow' if arch in SHALLOW else 'deep'} network the literature expects the "
                         f"sparse ticket reset to θ₀ to be {expected}: " + (
                             f"with fewer than {stats.MIN_TRIALS} trials this is no verdict." if got is None else
                             "this run agrees." if got == expected else
                             "the trials fall on both sides, so this run cannot say." if got == "borderline" else
                             "this run disagrees."))
    if len(lines) >= 2:
        (la, a), (lb, b) = lines[0], lines[1]
        ra = a.loc[a.percent_remaining.idxmin()]
        rb = b.loc[(b.percent_remaining - ra.percent_remaining).abs().idxmin()]
        if min(ra.trials, rb.trials) < stats.MIN_TRIALS:
            v = f"with fewer than {stats.MIN_TRIALS} trials this is a direction, not a verdict"
        elif ra["min"] > rb["max"]:
            v = f"the bands are apart: {lb} is clearly more stable"
        elif ra["max"] < rb["min"]:
            v = f"the bands are apart: {la} is clearly more stable"
        else:
            v = "the bands overlap: within the spread"
        parts.append(f"Sparsest shared size: {la} {ra['mean'] * 100:.2f} points at {ra.percent_remaining:.3g}% vs {lb} "
                     f"{rb['mean'] * 100:.2f} at {rb.percent_remaining:.3g}%; {v}.")
    if any(line.trials.min() == 1 for _, line in lines):
        parts.append("Single trial, no spread at some sizes: a barrier measured once is a direction, not a verdict.")
    return " ".join(parts)
