"""Comparisons with the dense network along a curve: the one definition every page, takeaway,
report and README sentence uses; the statistics themselves are lth_core.analysis.stats's.

At each pruned level an arm is compared with its own trial's dense network: *clearly below /
above* (Holm-corrected over the curve), *at least as good* (within stats.MARGIN_POINTS),
*falls below from X%* (clearly below at X% and every sparser level: a dip that recovers is
noise), *at least as good down to X%* (at X% and every denser level). Fewer than
stats.MIN_TRIALS trials: nothing is claimed. Input: results.summary_frame (shared_dense rows
ignored). Accuracies are fractions; gaps are points; percents are % of prunable weights left.
"""
from __future__ import annotations

import math

import pandas as pd

from lth_core.analysis import stats

ACC = "test_acc_at_early_stop"
CENSORED_LIMIT = 0.5  # more than half of a comparison's networks censored: not measurable with this budget


def networks(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per trained network (the dense network once, not repeated per control)."""
    if "shared_dense" not in summary or not summary.shared_dense.any():
        return summary
    return summary[~summary.shared_dense]


def group(summary: pd.DataFrame, level: int, arm: str) -> pd.DataFrame:
    """The networks of one arm at one level; arm 'dense' (or level 0) is the dense network."""
    d = networks(summary)
    if arm == "dense" or level == 0:
        return d[(d.level == 0) & (d.arm == "ticket")]
    return d[(d.level == level) & (d.arm == arm)]


def pruned_levels(summary: pd.DataFrame, arm: str) -> list[int]:
    """The pruned levels where `arm` has trained networks, densest first."""
    d = networks(summary)
    return sorted(int(v) for v in set(d[(d.arm == arm) & (d.level > 0)].level))


def dense_accuracy(summary: pd.DataFrame, metric: str = ACC) -> float | None:
    """Mean over trials of the dense network's `metric` (None until it is trained)."""
    d = group(summary, 0, "dense")
    return float(d[metric].mean()) if len(d) else None


def nearest_level(summary: pd.DataFrame, percent: float, arm: str = "ticket") -> int | None:
    """The pruned level of `arm` (default the ticket, whose chain every comparison at a level needs)
    whose % remaining is nearest to `percent` (log scale), or None."""
    d = networks(summary)
    pct = d[(d.level > 0) & (d.arm == arm)].groupby("level").percent_remaining.mean()
    if pct.empty:
        return None
    return int((pct.map(math.log) - math.log(percent)).abs().idxmin())


def censored_fraction(summary: pd.DataFrame, pairs: list[tuple[int, str]]) -> float:
    """Share of censored networks (still improving when training ended) among the (level, arm) groups
    (0 for a frame without censoring flags: it states none)."""
    if "censored" not in summary:
        return 0.0
    flags = pd.concat([group(summary, lv, arm).censored.astype(bool) for lv, arm in pairs]) if pairs else []
    return float(flags.mean()) if len(flags) else 0.0


def paired_diffs(summary: pd.DataFrame, level: int, arm: str, other: str, metric: str = ACC) -> pd.Series:
    """`arm` minus `other` at one level, in points, per trial (trials missing either side dropped)."""
    a = group(summary, level, arm).set_index("trial")[metric]
    b = group(summary, level, other).set_index("trial")[metric]
    return (100 * (a - b)).dropna()


def paired_gap(summary: pd.DataFrame, level: int, arm: str, other: str, metric: str = ACC) -> stats.Paired:
    """`arm` minus `other` at one level, points, paired by trial, with its confidence interval."""
    return stats.paired(paired_diffs(summary, level, arm, other, metric))


def level_table(summary: pd.DataFrame, arm: str, metric: str = ACC, other: str = "dense") -> pd.DataFrame:
    """Per pruned level of `arm` against `other` (default: its trial's dense network): mean, min,
    max, the paired gap (points) with its interval, the censored share and whether it is
    measurable (at most CENSORED_LIMIT), the Holm-corrected direction (clear: +1, -1, 0) and
    non-inferiority (as_good)."""
    summary = networks(summary)  # once: every lookup below reads only these networks
    summary = summary[summary.arm.isin((arm, other)) | ((summary.level == 0) & (summary.arm == "ticket"))]
    d = summary[(summary.arm == arm) & (summary.level > 0)]
    cols = ["level", "percent_remaining", "trials", "mean", "min", "max", "other", "gap", "low", "high", "p",
            "clear", "as_good", "censored", "measurable"]
    if d.empty or group(summary, 0, other).empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for level, g in d.groupby("level"):
        gap = paired_gap(summary, level, arm, other, metric)
        cens = censored_fraction(summary, [(level, arm), (level, other)])
        ok = cens <= CENSORED_LIMIT
        rows.append({"level": int(level), "percent_remaining": float(g.percent_remaining.mean()),
                     "trials": gap.n, "mean": float(g[metric].mean()), "min": float(g[metric].min()),
                     "max": float(g[metric].max()), "other": float(group(summary, level, other)[metric].mean()),
                     "gap": gap.mean, "low": gap.low, "high": gap.high, "p": gap.p, "_paired": gap,
                     "as_good": ok and stats.at_least_as_good(gap), "censored": cens, "measurable": ok})
    t = pd.DataFrame(rows).sort_values("level", ignore_index=True)
    paired = t.pop("_paired")
    clear = dict(zip(t.level[t.measurable], stats.clearly(list(paired[t.measurable]))))
    t["clear"] = [clear.get(lv, 0) for lv in t.level]  # Holm over the measurable levels only
    return t[cols]


def compare_to_dense(summary: pd.DataFrame, arm: str, metric: str = ACC) -> dict:
    """Where `arm` falls below dense for good, and down to where it is at least as good (module docstring).

    falls_below_at / clearly_below_at: % remaining of the fall (None: none) / every clearly-below %;
    as_good_down_to: the sparsest % with every level down to it at least as good, tested densest
        first and stopping at the first not shown (fixed sequence: error at most stats.ALPHA);
    not_shown_at, not_shown_low: that first level and its interval's lower end (points);
    mean_below_at: the first % whose mean gap is negative (shown for contrast);
    enough: at least stats.MIN_TRIALS paired trials at every level (otherwise no verdict)."""
    t = level_table(summary, arm, metric)
    trials = int(t.trials.min()) if len(t) else 0
    out = {"arm": arm, "dense_acc": dense_accuracy(summary, metric), "trials": trials,
           "enough": trials >= stats.MIN_TRIALS, "spread": stats.trials_note(trials), "levels_run": len(t),
           "sparsest": float(t.percent_remaining.iloc[-1]) if len(t) else None,
           "falls_below_at": None, "clearly_below_at": [], "as_good_down_to": None, "not_shown_at": None,
           "not_shown_low": None, "mean_below_at": None}
    if t.empty:
        return out
    judged = t[t.measurable]
    below = [c == -1 for c in judged.clear]
    start = len(below)
    while start > 0 and below[start - 1]:
        start -= 1
    if start < len(below):
        out["falls_below_at"] = float(judged.percent_remaining.iloc[start])
    out["clearly_below_at"] = [float(p) for p in t[t.clear == -1].percent_remaining]
    good = 0
    while good < len(t) and bool(t.as_good.iloc[good]):
        good += 1
    if good:
        out["as_good_down_to"] = float(t.percent_remaining.iloc[good - 1])
    if good < len(t):  # where the scan from the densest level stopped, and how low its interval reaches
        out["not_shown_at"] = float(t.percent_remaining.iloc[good])
        low = t.low.iloc[good]
        out["not_shown_low"] = None if low is None or pd.isna(low) else float(low)
    first_mean = t[t.gap < 0]
    if len(first_mean):
        out["mean_below_at"] = float(first_mean.percent_remaining.iloc[0])
    return out
