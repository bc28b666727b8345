"""The paper's claims (a)-(f), measured on a run's per-network results, with their spread.

Every claim takes the per-network frame of lth_core.analysis.results.summary_frame and
returns plain numbers plus a verdict string, so a report can put the measured
value beside the paper's. Verdicts are one of HOLDS, FAILS, UNCLEAR (the data
do not separate the effect from trial-to-trial noise) or NOT_MEASURABLE (the
budget censors it, or the run lacks what it needs). The definitions of "below
dense" live in lth_core.analysis.spread, those of learning speed in lth_core.analysis.speed.
Accuracies are fractions; percents are % of prunable weights remaining.
"""
from __future__ import annotations

import pandas as pd

from lth_core.analysis.speed import NOT_MEASURABLE, REFERENCE_PERCENT, censored_share, speed_at
from lth_core.analysis.spread import ACC, compare_to_dense, level_table, nearest_level, networks, paired_gap

HOLDS, FAILS, UNCLEAR = "holds", "does not hold", "unclear"
SMALL_PERCENT = 20.0  # (e) compares iterative and one-shot pruning below this % remaining


def claim_a(summary: pd.DataFrame) -> dict:
    """(a) the ticket holds dense test accuracy down to X% (never clearly below it until then)."""
    cmp = compare_to_dense(summary, "ticket")
    t = level_table(summary, "ticket")
    out = {**cmp, "best_acc": None, "best_at_percent": None, "best_gain_points": None,
           "clearly_above_at": [], "verdict": NOT_MEASURABLE}
    if t.empty:
        return out
    best = t.loc[t["mean"].idxmax()]
    ref = nearest_level(summary, REFERENCE_PERCENT)
    ref_row = t[t.level == ref].iloc[0]
    out.update(best_acc=float(best["mean"]), best_at_percent=float(best.percent_remaining),
               best_gain_points=100 * (float(best["mean"]) - cmp["dense_acc"]),
               clearly_above_at=[float(p) for p in t[t.above].percent_remaining],
               reference_percent=float(ref_row.percent_remaining),
               reference_gain_points=100 * (float(ref_row["mean"]) - cmp["dense_acc"]),
               verdict=FAILS if bool(ref_row.below) else HOLDS)
    return out


def claim_b(summary: pd.DataFrame) -> dict:
    """(b) at 21.1% remaining (or the nearest level run) the ticket reaches its minimum validation
    loss earlier than dense (paper: 38% earlier) and than its re-init (paper: 2.51x), counting only
    uncensored networks; raw and smoothed argmins side by side."""
    raw, smooth = speed_at(summary), speed_at(summary, smoothed=True)
    out = {"raw": raw, "smoothed": smooth, "censored_share": censored_share(summary), "verdict": NOT_MEASURABLE}
    if raw is None:
        return out
    verdicts = [raw["vs_dense"]["verdict"]] + ([raw["vs_reinit"]["verdict"]] if "vs_reinit" in raw else [])
    if NOT_MEASURABLE in verdicts:
        out["verdict"] = NOT_MEASURABLE
    elif all(v == "earlier" for v in verdicts):
        out["verdict"] = HOLDS
    elif any(v == "later" for v in verdicts):
        out["verdict"] = FAILS
    else:
        out["verdict"] = UNCLEAR
    return out


def claim_c(summary: pd.DataFrame) -> dict:
    """(c) random re-init falls below dense (for good, beyond the trial spread) at a higher %
    remaining than the ticket does."""
    r, t = compare_to_dense(summary, "reinit"), compare_to_dense(summary, "ticket")
    out = {"reinit_below_dense_at": r["falls_below_at"], "ticket_below_dense_at": t["falls_below_at"],
           "reinit_mean_below_at": r["mean_below_at"], "trials": r["trials"], "spread": r["spread"]}
    if r["levels_run"] == 0:
        return {**out, "verdict": NOT_MEASURABLE}
    if r["falls_below_at"] is None:
        return {**out, "verdict": FAILS}
    holds = t["falls_below_at"] is None or r["falls_below_at"] > t["falls_below_at"]
    return {**out, "verdict": HOLDS if holds else FAILS}


def _level_gaps(summary: pd.DataFrame, other: str, below: float | None = None) -> list[dict]:
    pct = networks(summary).groupby("level").percent_remaining.mean()
    levels = sorted(set(networks(summary).query("arm == @other").level) - {0})
    return [{"level": lv, "percent_remaining": float(pct[lv]), **paired_gap(summary, lv, "ticket", other)}
            for lv in levels if below is None or pct[lv] < below]


def _gap_claim(gaps: list[dict], share: float) -> dict:
    better = sum(g["clearly_better"] for g in gaps)
    worse = sum(g["clearly_worse"] for g in gaps)
    means = [g["mean"] for g in gaps if g["mean"] is not None]
    verdict = (NOT_MEASURABLE if not gaps else HOLDS if better >= share * len(gaps)
               else FAILS if worse >= share * len(gaps) else UNCLEAR)
    return {"levels": len(gaps), "ticket_clearly_better_levels": better, "ticket_clearly_worse_levels": worse,
            "mean_gap_points": sum(means) / len(means) if means else None,
            "gap_at_smallest_points": gaps[-1]["mean"] if gaps else None, "per_level": gaps, "verdict": verdict}


def claim_d(summary: pd.DataFrame) -> dict:
    """(d) random pruning (random mask, original init) does worse than the ticket: the ticket is
    clearly better (every trial) at 80% or more of the levels."""
    return _gap_claim(_level_gaps(summary, "random"), 0.8)


def claim_e(summary: pd.DataFrame) -> dict:
    """(e) iterative pruning beats one-shot below 20% remaining (clearly, at over half the levels)."""
    return _gap_claim(_level_gaps(summary, "oneshot", SMALL_PERCENT), 0.5 + 1e-9)


def claim_f(summary: pd.DataFrame) -> dict:
    """(f) at the end of training, the ticket at 21.1% (nearest level) generalises better than
    dense: a smaller train-test gap, paired by trial. Needs training accuracy measured in eval
    mode on a fixed training subset; older runs only have a minibatch proxy."""
    d = networks(summary)
    level = nearest_level(summary, REFERENCE_PERCENT)
    out = {"level": level, "verdict": NOT_MEASURABLE, "measured": bool(d.train_measured.all())}
    if level is None or not out["measured"]:
        out["reason"] = ("no pruned level yet" if level is None else
                         "this run predates measured training accuracy (its value is a running minibatch proxy)")
        return out
    g = d.assign(gap=100 * (d.train_acc - d.final_test_acc))
    dense = g[(g.level == 0) & (g.arm == "ticket")].set_index("trial")
    tick = g[(g.level == level) & (g.arm == "ticket")].set_index("trial")
    diff = (tick.gap - dense.gap).dropna()
    out.update(percent_remaining=float(tick.percent_remaining.mean()),
               dense_train_acc=float(dense.train_acc.mean()), ticket_train_acc=float(tick.train_acc.mean()),
               dense_gap_points=float(dense.gap.mean()), ticket_gap_points=float(tick.gap.mean()),
               test_gain_points=float(100 * (tick.final_test_acc.mean() - dense.final_test_acc.mean())),
               gap_change_min=float(diff.min()) if len(diff) else None,
               gap_change_max=float(diff.max()) if len(diff) else None, trials=len(diff))
    if len(diff):
        out["verdict"] = HOLDS if (diff < 0).all() else FAILS if (diff > 0).all() else UNCLEAR
    return out


def all_claims(summary: pd.DataFrame) -> dict:
    """Every claim whose arms the run trained."""
    arms = set(networks(summary).arm)
    out = {"a": claim_a(summary), "b": claim_b(summary), "f": claim_f(summary)}
    if "reinit" in arms:
        out["c"] = claim_c(summary)
    if "random" in arms:
        out["d"] = claim_d(summary)
    if "oneshot" in arms:
        out["e"] = claim_e(summary)
    return out


__all__ = ["ACC", "HOLDS", "FAILS", "UNCLEAR", "NOT_MEASURABLE", "claim_a", "claim_b", "claim_c", "claim_d",
           "claim_e", "claim_f", "all_claims"]
