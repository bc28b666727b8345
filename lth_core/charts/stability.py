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
from lth_core.charts.beyond import (CENSORED_TEXT, add_line, arm_line, clear_levels, compare, dense_line, present,
                                    reading, row, single_text, sparsest_common, table)
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
                         "(2019) found structured tickets no better than the same small network re-initialised: the "
                         "kept starting weights stop mattering. Higher is better.")
VS_REINIT = {"above": "the ticket is clearly better, unlike the literature", "below": "re-init is clearly better",
             "within": "within the spread, as the literature found", "censored": CENSORED_TEXT}
VS_UNSTRUCTURED = {"above": "clearly above it (Welch's test, unpaired: different runs)",
                   "below": "clearly below it (Welch's test, unpaired): removing whole units costs accuracy",
                   "within": "not told apart from it (Welch's test, unpaired)",
                   "single": f"fewer than {stats.MIN_TRIALS} trials: a direction, not a verdict"}


def _bands_apart(a: pd.Series, b: pd.Series) -> str:
    """Unpaired (different runs): 'above' / 'below' when Welch's test (stats.unpaired) rejects no
    difference, 'single' with fewer than stats.MIN_TRIALS trials on a side, else 'within'."""
    if min(len(a), len(b)) < stats.MIN_TRIALS:
        return "single"
    p = stats.unpaired(list(a), list(b))
    return "within" if p is None or p > stats.ALPHA else "above" if a.mean() > b.mean() else "below"


def structured_rows(summary: pd.DataFrame, other: pd.DataFrame | None = None) -> list[dict]:
    """The structured ticket against its re-init at the sparsest level (compare), at how many pruned
    levels it is clearly above (clear_levels, Holm), and against `other`'s unstructured ticket at the
    nearest % (unpaired: _bands_apart)."""
    rows = []
    d = spread.networks(summary)
    levels = sorted(set(d[(d.level > 0) & (d.arm == "ticket")].level) & set(d[d.arm == "reinit"].level))
    level = sparsest_common(summary, ("ticket", "reinit"))
    if level is None:
        return rows
    c = compare(summary, level, "ticket", "reinit")
    rows.append(row(summary, "structured ticket", "its re-init", c, "the ticket is " + single_text(c, "re-init")
                    if c["verdict"] == "single" else VS_REINIT[c["verdict"]]))
    ahead = [lv for lv, k in zip(levels, clear_levels(summary, levels, "ticket", "reinit")) if k == 1]
    if ahead and len(levels) > 1:
        rows.append(row(summary, "structured ticket", "its re-init, every pruned level", None,
                        f"clearly above re-init at {len(ahead)} of {len(levels)} pruned levels (Holm-corrected)"))
    if other is not None and present(other, ("ticket",)):
        pct = float(d[d.level == level].percent_remaining.mean())
        o = spread.networks(other)
        olv = spread.nearest_level(other, pct)
        a = d[(d.level == level) & (d.arm == "ticket")][spread.ACC]
        b = o[(o.level == olv) & (o.arm == "ticket")][spread.ACC]
        if len(a) and len(b):
            near = f"unstructured ticket at {o[o.level == olv].percent_remaining.mean():.3g}% (other run, nearest level)"
            r = row(summary, "structured ticket", near, None, VS_UNSTRUCTURED[_bands_apart(a, b)], percent=pct)
            rows.append({**r, "Difference (points)": 100 * (a.mean() - b.mean())})
    return rows


def structured_caption(summary: pd.DataFrame, other: pd.DataFrame | None = None) -> str:
    """The literature and how to read the chart, then this run in one line (structured_table holds the numbers)."""
    rows = structured_rows(summary, other)
    if not rows and present(summary, ("ticket",)):
        return STRUCTURED_LITERATURE + " This run has no re-init control to compare with."
    return STRUCTURED_LITERATURE + reading(rows)


def structured_table(summary: pd.DataFrame, other: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per comparison structured_caption summarises (charts.beyond.COLUMNS)."""
    return table(structured_rows(summary, other))


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


STABILITY_LITERATURE = (f"What to look for: two copies trained with different minibatch orders, tested along the "
                        f"line between them; a barrier under {STABLE_PP:g} points is stable. Frankle et al. (2020) "
                        f"found deep networks stable only after rewinding a little into training, LeNet already at "
                        f"initialisation. Lower is more stable.")


SHALLOW = ("mlp1d", "lenet300")  # stable at initialisation in Frankle et al. 2020 (LeNet)
DEEP = ("vgg19", "resnet18")      # unstable at initialisation when sparse, stable after a little rewinding


def _word(r) -> str:
    """'stable' (every trial under STABLE_PP), 'unstable' (every trial at or over it), or 'borderline'."""
    return ("stable" if r["max"] * 100 < STABLE_PP else "unstable" if r["min"] * 100 >= STABLE_PP
            else "borderline")


STABILITY_COLUMNS = ["Network", "Compared with", "% remaining", "Barrier (points)", "Min (points)",
                     "Max (points)", "n", "Verdict"]


def _barrier_row(label: str, other: str, r, verdict: str) -> dict:
    return {"Network": label, "Compared with": other, "% remaining": float(r.percent_remaining),
            "Barrier (points)": 100 * r["mean"], "Min (points)": 100 * r["min"], "Max (points)": 100 * r["max"],
            "n": int(r.trials), "Verdict": verdict}


def stability_rows(runs, arch: str | None = None) -> list[dict]:
    """Per run: its barrier at its densest and sparsest stability levels (every trial under
    STABLE_PP: stable; every trial over: unstable; else borderline); for a reset-to-θ₀ run of
    `arch`, whether its sparsest level agrees with the literature; and where two runs share a
    level, whether their bands separate."""
    rows = []
    lines = [(label, _barrier_line(f)) for label, f in runs if not f.empty]
    for label, line in lines:
        for _, r in line.sort_values("level").iloc[[0, -1]].drop_duplicates("level").iterrows():
            word = _word(r) + (" (the trials fall on both sides)" if _word(r) == "borderline" else "")
            if r.trials == 1:
                word += " (single trial, no spread: a barrier measured once is a direction, not a verdict)"
            rows.append(_barrier_row(label, f"the {STABLE_PP:g}-point threshold", r, word))
        sparsest = line.sort_values("level").iloc[-1]
        if label.startswith("reset") and arch in SHALLOW + DEEP and sparsest.level > 0:
            expected = "stable" if arch in SHALLOW else "unstable"
            got = _word(sparsest) if sparsest.trials >= stats.MIN_TRIALS else None
            rows.append(_barrier_row(label, f"the literature: {expected} expected for this "
                                     f"{'shallow' if arch in SHALLOW else 'deep'} network", sparsest, (
                                         f"with fewer than {stats.MIN_TRIALS} trials this is no verdict" if got is None
                                         else "this run agrees" if got == expected else
                                         "the trials fall on both sides, so this run cannot say" if got == "borderline"
                                         else "this run disagrees")))
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
        rows.append(_barrier_row(la, f"{lb}: {rb['mean'] * 100:.2f} points at {rb.percent_remaining:.3g}% "
                                 f"(sparsest shared size)", ra, v))
    return rows


def stability_caption(runs, arch: str | None = None) -> str:
    """The literature and how to read the charts, then each run's word at its sparsest level in one
    line (stability_table holds the numbers)."""
    lines = [(label, _barrier_line(f)) for label, f in runs if not f.empty]
    if not lines:
        return STABILITY_LITERATURE + " No stability measurement is stored for this run yet."
    said = "; ".join(f"{label} {_word(r)} at {r.percent_remaining:.3g}% ({int(r.trials)} trial"
                     f"{'s' if r.trials > 1 else ''})" for label, line in lines
                     for r in [line.sort_values("level").iloc[-1]])
    return f"{STABILITY_LITERATURE} This run, sparsest level (table below): {said}."


def stability_table(runs, arch: str | None = None) -> pd.DataFrame:
    """One row per measurement or comparison stability_caption summarises (STABILITY_COLUMNS)."""
    return pd.DataFrame(stability_rows(runs, arch), columns=STABILITY_COLUMNS)
