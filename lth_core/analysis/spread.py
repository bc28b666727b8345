"""Spread-aware comparisons with the dense network: the one definition every page, takeaway,
report and README sentence uses.

An arm is *clearly below* dense at a level when every trial is below the dense network's
mean test accuracy (with one trial: its value is; that is then "single trial, no spread").
It *falls below dense from X%* when it is clearly below at the level of X% and at every
later (sparser) level run: a dip that recovers is noise, not a fall. It *holds dense down
to X%* when X% is the sparsest level before that fall (or the sparsest level run, if it
never falls). It is *clearly above* dense when every trial is at or above the dense mean.

Input: the per-network frame of lth_core.analysis.results.summary_frame (rows with
shared_dense=True are ignored). Accuracies are fractions; percents are % of prunable
weights remaining.
"""
from __future__ import annotations

import math

import pandas as pd

ACC = "test_acc_at_early_stop"


def networks(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per trained network (the dense network once, not repeated per control)."""
    return summary[~summary.shared_dense] if "shared_dense" in summary else summary


def spread_note(trials: int) -> str:
    """How much spread a comparison over `trials` trials can show."""
    if trials <= 0:
        return "no trials to compare"
    return "single trial, no spread" if trials == 1 else f"{trials} trials, min to max"


def dense_accuracy(summary: pd.DataFrame, metric: str = ACC) -> float | None:
    """Mean over trials of the dense network's `metric` (None until it is trained)."""
    d = networks(summary)
    d = d[(d.level == 0) & (d.arm == "ticket")]
    return float(d[metric].mean()) if len(d) else None


def nearest_level(summary: pd.DataFrame, percent: float) -> int | None:
    """The pruned level whose % remaining is nearest to `percent` (log scale), or None."""
    d = networks(summary)
    pct = d[d.level > 0].groupby("level").percent_remaining.mean()
    if pct.empty:
        return None
    return int((pct.map(math.log) - math.log(percent)).abs().idxmin())


def level_table(summary: pd.DataFrame, arm: str, metric: str = ACC) -> pd.DataFrame:
    """Per pruned level of `arm`: mean, min, max over trials, the dense mean, and whether
    the arm is clearly below or clearly above dense there (see the module docstring)."""
    dense = dense_accuracy(summary, metric)
    d = networks(summary)
    d = d[(d.arm == arm) & (d.level > 0)]
    cols = ["level", "percent_remaining", "trials", "mean", "min", "max", "dense", "below", "above"]
    if d.empty or dense is None:
        return pd.DataFrame(columns=cols)
    g = d.groupby("level")
    t = pd.DataFrame({"percent_remaining": g.percent_remaining.mean(), "trials": g.trial.nunique(),
                      "mean": g[metric].mean(), "min": g[metric].min(), "max": g[metric].max()})
    t["dense"] = dense
    t["below"] = t["max"] < dense      # every trial below the dense mean
    t["above"] = t["min"] >= dense     # every trial at or above it
    return t.reset_index()[cols].sort_values("level", ignore_index=True)


def compare_to_dense(summary: pd.DataFrame, arm: str, metric: str = ACC) -> dict:
    """Where `arm` falls below dense for good, and down to where it holds (module docstring).

    falls_below_at: % remaining from which it is clearly below at every later level (None: never);
    holds_down_to: the sparsest % before that (None: it falls at the first pruned level);
    mean_below_at: % of the first level whose mean is below dense (noise included: shown for contrast).
    """
    t = level_table(summary, arm, metric)
    trials = int(t.trials.min()) if len(t) else 0
    out = {"arm": arm, "dense_acc": dense_accuracy(summary, metric), "trials": trials,
           "spread": spread_note(trials), "levels_run": len(t), "falls_below_at": None,
           "holds_down_to": None, "mean_below_at": None}
    if t.empty:
        return out
    below = list(t.below)
    start = len(below)
    while start > 0 and below[start - 1]:
        start -= 1
    if start < len(below):
        out["falls_below_at"] = float(t.percent_remaining.iloc[start])
    if start > 0:
        out["holds_down_to"] = float(t.percent_remaining.iloc[start - 1])
    first_mean = t[t["mean"] < t["dense"]]
    if len(first_mean):
        out["mean_below_at"] = float(first_mean.percent_remaining.iloc[0])
    return out


def paired_gap(summary: pd.DataFrame, level: int, arm: str, other: str, metric: str = ACC) -> dict:
    """`arm` minus `other` at one level, in points, paired by trial: mean, min, max and
    whether every trial agrees on the sign ('clearly' better / worse)."""
    d = networks(summary)
    a = d[(d.level == level) & (d.arm == arm)].set_index("trial")[metric]
    if other == "dense":
        b = d[(d.level == 0) & (d.arm == "ticket")].set_index("trial")[metric]
    else:
        b = d[(d.level == level) & (d.arm == other)].set_index("trial")[metric]
    gap = (100 * (a - b)).dropna()
    if gap.empty:
        return {"trials": 0, "mean": None, "min": None, "max": None, "clearly_better": False,
                "clearly_worse": False, "spread": spread_note(0)}
    return {"trials": len(gap), "mean": float(gap.mean()), "min": float(gap.min()), "max": float(gap.max()),
            "clearly_better": bool((gap > 0).all()), "clearly_worse": bool((gap < 0).all()),
            "spread": spread_note(len(gap))}
