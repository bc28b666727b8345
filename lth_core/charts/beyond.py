"""Beyond the paper, drawn: pruning criteria and masks found at initialisation, each with a
short "what to look for" caption (the question, the literature, how to read the chart, this run in
one line) and a table of the comparisons behind it, one row each with its gap, interval, n and
verdict (structured pruning and stability: charts.stability).

Input: results.summary_frame (accuracies fractions, drawn as %; percent_remaining on the
paper's reversed log axis). Comparisons are paired by trial and judged by analysis.stats
(Holm-corrected where a caption counts levels); below stats.MIN_TRIALS a gap is only a
direction. Pure Plotly, no Streamlit.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lth_core.analysis import spread, stats
from lth_core.charts.style import (ARM_COLORS, ARM_DASH, ARM_NAMES, ARM_ORDER, ARM_SYMBOL, CRITERIA_ARMS,
                                  DENSE_COLOR, base_layout, rgba, sparsity_axis)
from lth_core.arms import AT_INIT, ARMS
from lth_core.arms import family as arm_family

ACC = spread.ACC


def short(arm: str) -> str:
    """An arm's name without its explanation in brackets ('Random re-init')."""
    return ARM_NAMES.get(arm, arm).split(" (")[0]


def arm_line(summary: pd.DataFrame, arm: str, metric: str = ACC) -> pd.DataFrame:
    """Per level of `arm`, dense network first: percent_remaining, mean, min, max over trials, trials.
    The dense point (level 0) is the one network every arm starts from."""
    t = spread.level_table(summary, arm, metric)
    d = spread.networks(summary)
    dense = d[(d.level == 0) & (d.arm == "ticket")]
    rows = []
    if len(dense):
        rows.append({"level": 0, "percent_remaining": float(dense.percent_remaining.mean()),
                     "trials": dense.trial.nunique(), "mean": float(dense[metric].mean()),
                     "min": float(dense[metric].min()), "max": float(dense[metric].max())})
    cols = ["level", "percent_remaining", "trials", "mean", "min", "max"]
    return pd.DataFrame(rows + t[cols].to_dict("records"), columns=cols)


def compare(summary: pd.DataFrame, level: int, arm: str, other: str, metric: str = ACC) -> dict:
    """`arm` against `other` at one level, paired by trial (spread.paired_gap, points) plus verdict:
    'above' / 'below' (paired t-test at stats.ALPHA), 'within', 'single' (under stats.MIN_TRIALS),
    'censored' (over half still improving at the end) or 'none'. One level, one test: a caption
    that scans levels uses clear_levels."""
    g = spread.paired_gap(summary, level, arm, other, metric)
    verdict = "none" if not g.n else "single" if not g.enough else "within"
    if verdict == "within" and spread.censored_fraction(summary, [(level, arm), (level, other)]) > spread.CENSORED_LIMIT:
        verdict = "censored"  # mostly still improving when training ended: no verdict from them
    if verdict == "within" and g.p is not None and g.p <= stats.ALPHA:
        verdict = "above" if g.mean > 0 else "below"
    return {"trials": g.n, "mean": g.mean, "min": g.minimum, "max": g.maximum, "low": g.low, "high": g.high,
            "p": g.p, "paired": g, "verdict": verdict, "level": level}


def clear_levels(summary: pd.DataFrame, levels: list[int], arm: str, other: str, metric: str = ACC) -> list[int]:
    """Per level: +1 `arm` clearly above `other`, -1 clearly below, 0 neither, Holm over `levels`."""
    return stats.clearly([spread.paired_gap(summary, lv, arm, other, metric) for lv in levels])


def sparsest_common(summary: pd.DataFrame, arms) -> int | None:
    """The sparsest pruned level where every one of `arms` has trained networks, among the levels
    with the most trials (a run still computing has fewer trials at its latest levels)."""
    d = spread.networks(summary)
    d = d[(d.level > 0) & d.arm.isin(list(arms))]
    n = d.groupby(["level", "arm"]).trial.nunique().unstack()
    n = n.reindex(columns=list(arms)).dropna()
    if n.empty:
        return None
    trials = n.min(axis=1)
    return int(trials[trials == trials.max()].index.max())


def pct_text(summary: pd.DataFrame, level: int) -> str:
    d = spread.networks(summary)
    return f"{d[d.level == level].percent_remaining.mean():.3g}%"


def direction(c: dict, other: str) -> str:
    """A gap from too few trials, said as a direction only (single_text adds SINGLE_NOTE)."""
    return f"{'higher than' if c['mean'] > 0 else 'lower than' if c['mean'] < 0 else 'level with'} {other}"


CENSORED_TEXT = "not measurable with this budget (most of these networks were still improving when training ended)"
SINGLE_NOTE = (f"With fewer than {stats.MIN_TRIALS} trials a gap is a direction, not a verdict: "
               "more trials would show whether it holds.")


def single_text(c: dict, other: str) -> str:
    """A gap from too few trials in words: its direction, and that it is no verdict."""
    return f"{direction(c, other)} ({SINGLE_NOTE[0].lower()}{SINGLE_NOTE[1:]})"


# the columns of a section's comparison table (criteria_table, at_init_table, structured_table);
# points are test-accuracy percentage points, first network minus the one compared with
COLUMNS = ["Network", "Compared with", "% remaining", "Difference (points)", "95% CI from (points)",
           "95% CI to (points)", "n", "Verdict"]


def row(summary: pd.DataFrame, network: str, other: str, c: dict | None, verdict: str, percent=None) -> dict:
    """One comparison of a table: compare()'s gap (points) with its interval, none under
    stats.MIN_TRIALS or for identical trials (no verdict there), and the verdict in words; `c` stays
    under "_c" for reading()."""
    d = spread.networks(summary)
    if percent is None and c is not None:
        percent = float(d[d.level == c["level"]].percent_remaining.mean())
    interval = c is not None and c["trials"] >= stats.MIN_TRIALS and c["low"] is not None
    return {"Network": network, "Compared with": other, "% remaining": percent,
            "Difference (points)": c["mean"] if c is not None and c["trials"] else None,
            "95% CI from (points)": c["low"] if interval else None,
            "95% CI to (points)": c["high"] if interval else None,
            "n": c["trials"] if c is not None else None, "Verdict": verdict, "_c": c}


def table(rows: list[dict]) -> pd.DataFrame:
    """The rows of a section's comparisons as a frame with COLUMNS (numbers as numbers, None as NaN)."""
    return pd.DataFrame([{k: v for k, v in r.items() if k != "_c"} for r in rows], columns=COLUMNS)


def reading(rows: list[dict]) -> str:
    """This run in one line: how the table's paired comparisons came out, by compare()'s verdicts."""
    compared = [r["_c"] for r in rows if r.get("_c") is not None]
    if not compared:
        return ""
    words = {"above": "clearly higher", "below": "clearly lower", "within": "within the spread",
             "single": f"too few trials for a verdict (under {stats.MIN_TRIALS})",
             "censored": "not measurable with this budget",
             "none": "not measured"}
    n = {k: sum(c["verdict"] == k for c in compared) for k in words}
    said = ", ".join(f"{v} {words[k]}" for k, v in n.items() if v)
    return f" This run, first network against second (table below): {said}."


def edge_color(arm: str) -> str:
    """A marker's outline: a check's is its method's darker colour, so the cross or x drawn in
    the outline of its marker ('square-x') shows on the lighter fill; others outline in their colour."""
    if arm in ARM_COLORS and arm_family(arm) == "check":
        return ARM_COLORS[ARMS[arm].method]
    return ARM_COLORS.get(arm, DENSE_COLOR)


def add_line(fig, line: pd.DataFrame, arm: str, *, name=None, color=None, dash=None, symbol=None, width=3,
              row=None, col=None, showlegend=True):
    """One arm's mean line with markers and its min..max band (skipped when the trials agree)."""
    color = color or ARM_COLORS[arm]
    name = name or ARM_NAMES.get(arm, arm)
    x = list(line.percent_remaining)
    if (line["max"] - line["min"]).abs().max() > 1e-12:
        fig.add_trace(go.Scatter(x=x + x[::-1], y=list(line["max"] * 100) + list(line["min"] * 100)[::-1],
                                 fill="toself", mode="lines", fillcolor=rgba(color, 0.15), line=dict(width=0),
                                 hoverinfo="skip", showlegend=False, legendgroup=name), row=row, col=col)
    hover = [f"<b>{name}</b><br>{p:.3g}% of weights remain (level {lv})<br>test accuracy {m * 100:.1f}%"
             + (f" (min {lo * 100:.1f}, max {hi * 100:.1f}; {n} trials)" if n > 1 else "")
             for p, lv, m, lo, hi, n in zip(x, line.level, line["mean"], line["min"], line["max"], line.trials)]
    fig.add_trace(go.Scatter(x=x, y=line["mean"] * 100, mode="lines+markers", name=name, legendgroup=name,
                             showlegend=showlegend, line=dict(color=color, width=width, dash=dash or ARM_DASH[arm]),
                             legendrank=ARM_ORDER.index(arm) if arm in ARM_ORDER and symbol is None else 99,
                             marker=dict(size=9, color=color, symbol=symbol or ARM_SYMBOL[arm],
                                         line=dict(width=1.5, color=edge_color(arm) if symbol is None else color)),
                             hovertext=hover, hoverinfo="text"), row=row, col=col)


def dense_line(fig, summary: pd.DataFrame, row=None, col=None) -> None:
    dense = spread.dense_accuracy(summary)
    if dense is not None:
        fig.add_hline(y=dense * 100, line=dict(color=DENSE_COLOR, width=1.5, dash="dot"), row=row, col=col,
                      annotation_text=f"dense network: {dense * 100:.1f}%", annotation_position="top right",
                      annotation_font_color=DENSE_COLOR)


def present(summary: pd.DataFrame, arms) -> list[str]:
    """Those of `arms` that have at least one trained pruned network in the summary."""
    d = spread.networks(summary)
    have = set(d[d.level > 0].arm)
    return [a for a in arms if a in have]


# --- which weights to keep: pruning criteria (Zhou et al. 2019) ---------------------------------

def criteria_figure(summary: pd.DataFrame, all_percents=None, title: str | None = None) -> go.Figure:
    """Test accuracy vs % remaining: one line per criterion's ticket (mean, min..max band over
    trials), with the magnitude ticket and random re-init as references."""
    fig = base_layout(go.Figure(), title=title, height=460)
    arms = present(summary, ("reinit", *CRITERIA_ARMS, "ticket"))
    for arm in arms:
        add_line(fig, arm_line(summary, arm), arm, width=3 if arm != "reinit" else 2)
    dense_line(fig, summary)
    sparsity_axis(fig, all_percents if all_percents is not None else list(summary.percent_remaining))
    fig.update_yaxes(title_text="test accuracy at early stop (%)")
    return fig


CRITERIA_LITERATURE = ("What to look for: each line is a ticket kept by a different rule. Zhou et al. (2019) found "
                       "that rules keeping weights that end large work, magnitude increase and movement as well or "
                       "better at high sparsity, all above random re-init. Higher is better.")
VS_TICKET = {"above": "clearly above it, as Zhou et al. found for some criteria at high sparsity",
             "below": "clearly below it, where the literature found it about as good: this run disagrees",
             "within": "not told apart from it beyond the spread, consistent with \"about as good\"",
             "censored": CENSORED_TEXT}
VS_REINIT = {"above": "clearly above it, as reported", "below": "clearly below it, unlike the literature",
             "within": "not clearly above it here", "censored": CENSORED_TEXT}


def criteria_rows(summary: pd.DataFrame) -> list[dict]:
    """For each criterion at the sparsest level it shares with the magnitude ticket: its gap to that
    ticket and to re-init (compare), and how far down it is as good as dense (compare_to_dense)."""
    rows = []
    for arm in present(summary, CRITERIA_ARMS) if present(summary, ("ticket",)) else []:
        level = sparsest_common(summary, (arm, "ticket"))
        if level is None:
            continue
        c = compare(summary, level, arm, "ticket")
        rows.append(row(summary, short(arm), "magnitude ticket", c, single_text(c, "the magnitude ticket")
                        if c["verdict"] == "single" else VS_TICKET[c["verdict"]]))
        if sparsest_common(summary, (arm, "reinit")) == level:
            r = compare(summary, level, arm, "reinit")
            rows.append(row(summary, short(arm), "random re-init", r, single_text(r, "re-init")
                            if r["verdict"] == "single" else VS_REINIT[r["verdict"]]))
        held = spread.compare_to_dense(summary, arm)
        if held["as_good_down_to"] is not None:
            rows.append(row(summary, short(arm), "dense network", None, "at least as good as dense down to "
                            f"{held['as_good_down_to']:.3g}%", percent=held["as_good_down_to"]))
    return rows


def criteria_caption(summary: pd.DataFrame) -> str:
    """The literature and how to read the chart, then this run in one line (criteria_table holds the numbers)."""
    if not present(summary, CRITERIA_ARMS) or not present(summary, ("ticket",)):
        return CRITERIA_LITERATURE + " This run has no ticket by another criterion yet."
    return CRITERIA_LITERATURE + reading(criteria_rows(summary))


def criteria_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison criteria_caption summarises (COLUMNS)."""
    return table(criteria_rows(summary))


# --- tickets at initialisation (Frankle et al. 2021) ---------------------------------------------

def mask_cost(arm: str, level: int) -> int:
    """Trainings spent to find the mask a network at `level` uses: an IMP mask needs the `level`
    trainings of the chain before it (dense, then each round), one-shot pruning one (the dense
    network), a random or at-init mask none (SNIP's few minibatch gradients are not a training)."""
    fam = arm_family(arm)
    if level == 0:
        return 0
    if arm == "oneshot":
        return 1
    if arm == "random" or fam in ("at_init", "check"):
        return 0
    return level  # ticket, its re-init (same mask), criteria's tickets, the stability copy


def at_init_methods(summary: pd.DataFrame) -> list[str]:
    """The at-init methods (AT_INIT) with trained pruned networks in this summary."""
    return present(summary, AT_INIT)


def at_init_figure(summary: pd.DataFrame, all_percents=None, title: str | None = None) -> go.Figure:
    """One panel per at-init method: its mask, its sanity checks (layers shuffled, re-initialised,
    scores inverted; lighter, dotted, dashed and dash-dotted), against the IMP ticket and its re-init."""
    methods = at_init_methods(summary) or list(AT_INIT[:1])
    fig = make_subplots(rows=1, cols=len(methods), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[short(m) for m in methods])
    base_layout(fig, title=title, height=440, panels=True)
    shown = set()
    for i, m in enumerate(methods, start=1):
        for arm in present(summary, ("reinit", "ticket", f"{m}_reinit", f"{m}_shuffle", f"{m}_invert", m)):
            add_line(fig, arm_line(summary, arm), arm, row=1, col=i, showlegend=arm not in shown,
                      width=3 if arm in (m, "ticket") else 2)
            shown.add(arm)
        sparsity_axis(fig, all_percents if all_percents is not None else list(summary.percent_remaining),
                      row=1, col=i, title="weights remaining (%)")
    fig.update_yaxes(title_text="test accuracy at early stop (%)", col=1)
    return fig


def cost_frame(summary: pd.DataFrame, level: int) -> pd.DataFrame:
    """Per arm at `level` (the paper's arms and the at-init masks with their checks): trainings
    spent to find its mask (mask_cost), and accuracy mean/min/max over trials."""
    d = spread.networks(summary)
    d = d[(d.level == level) & d.arm.map(lambda a: arm_family(a) in ("ticket", "control", "at_init", "check"))]
    rows = [{"arm": arm, "cost": mask_cost(arm, level), "trials": g.trial.nunique(), "mean": g[ACC].mean(),
             "min": g[ACC].min(), "max": g[ACC].max()} for arm, g in d.groupby("arm")]
    return pd.DataFrame(rows, columns=["arm", "cost", "trials", "mean", "min", "max"])


def cost_figure(summary: pd.DataFrame, level: int, title: str | None = None) -> go.Figure:
    """Accuracy at one level against the trainings spent to find each mask: at-init masks sit at
    0, the IMP ticket at `level`; "cheaper but worse" is a point to the left and lower."""
    fig = base_layout(go.Figure(), title=title, height=420)
    f = cost_frame(summary, level)
    order = {a: i for i, a in enumerate(ARM_COLORS)}
    f = f.assign(o=f.arm.map(lambda a: order.get(a, 99))).sort_values("o")
    spread_x = {}  # arms at the same cost are spread a little sideways so their bars do not hide
    for _, r in f.iterrows():
        k = spread_x.setdefault(r.cost, [])
        k.append(r.arm)
    for _, r in f.iterrows():
        same = spread_x[r.cost]
        x = r.cost + 0.12 * (same.index(r.arm) - (len(same) - 1) / 2) * max(1, level) / 4
        name, color = ARM_NAMES.get(r.arm, r.arm), ARM_COLORS.get(r.arm, DENSE_COLOR)
        fig.add_trace(go.Scatter(
            x=[x], y=[r["mean"] * 100], mode="markers", name=name,
            error_y=dict(type="data", symmetric=False, array=[(r["max"] - r["mean"]) * 100],
                         arrayminus=[(r["mean"] - r["min"]) * 100], color=color, thickness=1.5),
            legendrank=ARM_ORDER.index(r.arm) if r.arm in ARM_ORDER else 99,
            marker=dict(size=13, color=color, symbol=ARM_SYMBOL.get(r.arm, "circle"),
                        line=dict(width=2, color=edge_color(r.arm))),
            hovertemplate=f"<b>{name}</b><br>{r.cost} trainings to find the mask<br>test accuracy "
                          f"{r['mean'] * 100:.1f}% (min {r['min'] * 100:.1f}, max {r['max'] * 100:.1f}; "
                          f"{r.trials} trial{'s' * (r.trials > 1)})<extra></extra>"))
    dense_line(fig, summary)
    fig.update_xaxes(title_text=f"trainings spent to find the mask (at {pct_text(summary, level)} remaining)",
                     tickvals=sorted(set(f.cost)) or [0], rangemode="tozero")
    fig.update_yaxes(title_text="test accuracy at early stop (%)")
    return fig


AT_INIT_LITERATURE = ("What to look for: an at-init mask costs no training. Frankle et al. (2021) found SNIP, "
                      "SynFlow and magnitude at init no better than their layer-shuffled or re-initialised versions "
                      "and short of IMP, whose ticket loses accuracy when re-initialised; scores that matter beat "
                      "their inversion.")
VS_INVERT = {"above": "it is clearly better: its scores carry information",
             "below": "it is clearly worse than its own inversion: its ranking hurts here",
             "within": "it is not told apart from its inversion: no sign here that its scores matter",
             "censored": CENSORED_TEXT}
VS_CHECK = {"above": "it is clearly better: it fails the check, its mask carries more than per-layer sparsity "
                     "here, unlike the literature",
            "below": "it is clearly worse than its own check",
            "within": "it is not told apart from its check: it survives the check, as reported (an absence of "
                      "evidence, not a demonstration)", "censored": CENSORED_TEXT}
VS_IMP = {"below": "clearly below: cheaper but worse, as reported", "above": "clearly above, unlike the literature",
          "within": "not told apart beyond the spread", "censored": CENSORED_TEXT}
IMP_VS_REINIT = {"above": "it does not survive re-init, as reported",
                 "below": "re-init is clearly better here, unlike the literature",
                 "within": "re-init is not clearly worse here, so this run does not show what the literature "
                           "reports", "censored": CENSORED_TEXT}


def at_init_rows(summary: pd.DataFrame) -> list[dict]:
    """Per method at the sparsest level it shares with the IMP ticket: against each of its checks and
    against IMP (compare); then the IMP ticket against its re-init at their sparsest shared level."""
    rows = []
    for m in at_init_methods(summary):
        level = sparsest_common(summary, (m,))
        for check, what in (("shuffle", "layers shuffled"), ("reinit", "re-initialised"), ("invert", "inverted")):
            if sparsest_common(summary, (m, f"{m}_{check}")) == level:
                c = compare(summary, level, m, f"{m}_{check}")
                words = VS_INVERT if check == "invert" else VS_CHECK
                rows.append(row(summary, short(m), f"itself, {what}", c, "it is " + single_text(
                    c, "its inversion" if check == "invert" else "the check") if c["verdict"] == "single"
                    else words[c["verdict"]]))
        if sparsest_common(summary, (m, "ticket")) == level:
            c = compare(summary, level, m, "ticket")
            rows.append(row(summary, short(m), "IMP ticket", c, single_text(c, "the IMP ticket")
                            if c["verdict"] == "single" else VS_IMP[c["verdict"]]))
    level = sparsest_common(summary, ("ticket", "reinit"))
    if level is not None and at_init_methods(summary):  # as before: only beside a method
        c = compare(summary, level, "ticket", "reinit")
        rows.append(row(summary, "IMP ticket", "its re-init", c, "the ticket is " + single_text(c, "its re-init")
                        if c["verdict"] == "single" else IMP_VS_REINIT[c["verdict"]]))
    return rows


def at_init_caption(summary: pd.DataFrame) -> str:
    """The literature and how to read the charts, then this run in one line (at_init_table holds the numbers)."""
    if not at_init_methods(summary):
        return AT_INIT_LITERATURE + " This run has no mask found at initialisation."
    return AT_INIT_LITERATURE + reading(at_init_rows(summary))


def at_init_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison at_init_caption summarises (COLUMNS)."""
    return table(at_init_rows(summary))
