"""The paper's claims (a)-(f), measured on a run's per-network results, paired by trial.

Each claim takes results.summary_frame and returns plain numbers plus a verdict, so a report
can set the measured value beside the paper's: HOLDS / FAILS (the paired statistics support
it), UNCLEAR (not separable from trial noise), "too few trials to tell", NOT_MEASURABLE (over
half the networks censored, or the run lacks what the claim needs), NOT_COMPARABLE ((f) only:
training accuracy short of the paper's ~100%). Curve definitions: analysis.spread; learning
speed: analysis.speed. Accuracies are fractions; gaps points; percents % of weights left.
"""
from __future__ import annotations

import pandas as pd

from lth_core.analysis import stats
from lth_core.analysis.speed import NOT_MEASURABLE, REFERENCE_PERCENT, censored_share, speed_at
from lth_core.analysis.spread import (ACC, CENSORED_LIMIT, censored_fraction, compare_to_dense, group, level_table,
                                      nearest_level, networks, paired_gap, pruned_levels)

HOLDS, FAILS, UNCLEAR = "holds", "does not hold", "unclear"
NOT_COMPARABLE = "not comparable"
SMALL_PERCENT = 20.0    # (e) compares iterative and one-shot pruning below this % remaining
TRAIN_PREMISE = 0.99    # (f): the paper's networks reach ~100% training accuracy; below this they are not comparable


def too_few(n: int) -> str:
    return f"{stats.TOO_FEW} (n = {n})"


def claim_a(summary: pd.DataFrame) -> dict:
    """(a) at the paper's reference level (21.1%, or the nearest run) the ticket is at least as good as
    its own dense network (non-inferior within stats.MARGIN_POINTS), paired by trial; it does not hold
    when the whole interval lies below -MARGIN_POINTS."""
    cmp = compare_to_dense(summary, "ticket")
    t = level_table(summary, "ticket")
    out = {**cmp, "verdict": NOT_MEASURABLE, "clearly_above_at": [], "clearly_below_at": []}
    if t.empty:
        return out
    ref = nearest_level(summary, REFERENCE_PERCENT)
    row = t[t.level == ref].iloc[0]
    gap = paired_gap(summary, ref, "ticket", "dense")
    cens = censored_fraction(summary, [(ref, "ticket"), (0, "dense")])
    out.update(reference_percent=float(row.percent_remaining), reference_gap=gap.as_dict(), censored_share=cens,
               clearly_above_at=[float(p) for p in t[t.clear == 1].percent_remaining],
               clearly_below_at=[float(p) for p in t[t.clear == -1].percent_remaining])
    if cens > CENSORED_LIMIT:
        out["verdict"] = NOT_MEASURABLE
    elif not gap.enough:
        out["verdict"] = too_few(gap.n)
    elif bool(row.as_good):
        out["verdict"] = HOLDS
    else:  # fails only when the whole interval lies beyond the margin: worse by more than it allows
        out["verdict"] = FAILS if gap.high is not None and gap.high < -stats.MARGIN_POINTS else UNCLEAR
    return out


def claim_b(summary: pd.DataFrame) -> dict:
    """(b) at 21.1% remaining (or the nearest level run) the ticket reaches its minimum validation
    loss earlier than dense (paper: 38% earlier) and than its re-init (paper: 2.51x), counting only
    uncensored networks; raw and smoothed argmins side by side. Holds when both intervals exclude 1."""
    raw, smooth = speed_at(summary), speed_at(summary, smoothed=True)
    out = {"raw": raw, "smoothed": smooth, "censored_share": censored_share(summary), "verdict": NOT_MEASURABLE}
    if raw is None:
        return out
    comps = [raw["vs_dense"]] + ([raw["vs_reinit"]] if "vs_reinit" in raw else [])
    verdicts = [c["verdict"] for c in comps]
    if NOT_MEASURABLE in verdicts:
        out["verdict"] = NOT_MEASURABLE
    elif any(v.startswith(stats.TOO_FEW) for v in verdicts):
        out["verdict"] = too_few(min(c["pairs"] for c in comps))
    elif all(v == "earlier" for v in verdicts):
        out["verdict"] = HOLDS
    elif any(v == "later" for v in verdicts):
        out["verdict"] = FAILS
    else:
        out["verdict"] = UNCLEAR
    return out


def claim_c(summary: pd.DataFrame) -> dict:
    """(c) random re-init falls below dense for good (Holm-corrected) at a higher % remaining than
    the ticket does; plus the paired ticket - re-init gap at the sparsest level."""
    r, t = compare_to_dense(summary, "reinit"), compare_to_dense(summary, "ticket")
    levels = pruned_levels(summary, "reinit")
    out = {"reinit_below_dense_at": r["falls_below_at"], "ticket_below_dense_at": t["falls_below_at"],
           "reinit_mean_below_at": r["mean_below_at"], "trials": r["trials"], "spread": r["spread"],
           "censored_share": censored_fraction(summary, [(lv, a) for lv in levels for a in ("reinit", "ticket")]
                                               + [(0, "dense")])}
    if not levels:
        return {**out, "verdict": NOT_MEASURABLE}
    out["sparsest_percent"] = r["sparsest"]
    out["ticket_vs_reinit_at_sparsest"] = paired_gap(summary, levels[-1], "ticket", "reinit").as_dict()
    if out["censored_share"] > CENSORED_LIMIT:
        return {**out, "verdict": NOT_MEASURABLE}
    if not r["enough"]:
        return {**out, "verdict": too_few(r["trials"])}
    if r["falls_below_at"] is None:
        return {**out, "verdict": UNCLEAR}
    holds = t["falls_below_at"] is None or r["falls_below_at"] > t["falls_below_at"]
    return {**out, "verdict": HOLDS if holds else FAILS}


def _gap_claim(summary: pd.DataFrame, other: str) -> dict:
    """The ticket against `other` at each level of `summary`, Holm over those levels. Holds when the
    ticket is clearly better at half the levels or more and clearly worse at none."""
    scanned = summary[summary.level.isin([0, *pruned_levels(summary, other)])]  # Holm over exactly these levels
    t = level_table(scanned, "ticket", other=other)
    per_level = [{"level": int(r.level), "percent_remaining": float(r.percent_remaining), "clear": int(r.clear),
                  **paired_gap(summary, int(r.level), "ticket", other).as_dict()} for r in t.itertuples()]
    better, worse = int((t.clear == 1).sum()), int((t.clear == -1).sum())
    cens = censored_fraction(summary, [(int(lv), a) for lv in t.level for a in ("ticket", other)])
    n = int(t.trials.min()) if len(t) else 0
    out = {"levels": len(t), "ticket_clearly_better_levels": better, "ticket_clearly_worse_levels": worse,
           "trials": n, "censored_share": cens, "per_level": per_level,
           "gap_at_smallest": per_level[-1] if per_level else None}
    if t.empty or cens > CENSORED_LIMIT:
        verdict = NOT_MEASURABLE
    elif n < stats.MIN_TRIALS:
        verdict = too_few(n)
    elif better * 2 >= len(t) and worse == 0:
        verdict = HOLDS
    elif worse * 2 >= len(t) and better == 0:
        verdict = FAILS
    else:
        verdict = UNCLEAR
    return {**out, "verdict": verdict}


def claim_d(summary: pd.DataFrame) -> dict:
    """(d) random pruning (random mask, original init) does worse than the ticket."""
    return _gap_claim(summary, "random")


def claim_e(summary: pd.DataFrame) -> dict:
    """(e) iterative pruning beats one-shot below 20% remaining."""
    small = summary[(summary.level == 0) | (summary.percent_remaining < SMALL_PERCENT)]
    return _gap_claim(small, "oneshot")


def claim_f(summary: pd.DataFrame) -> dict:
    """(f) at the end of training, the ticket at 21.1% (nearest level) generalises better than dense:
    a smaller train - test gap, paired by trial. Only where the premise holds: both reach
    TRAIN_PREMISE training accuracy (measured in eval mode on a fixed training subset)."""
    d = networks(summary)
    level = nearest_level(summary, REFERENCE_PERCENT)
    out = {"level": level, "verdict": NOT_MEASURABLE, "measured": bool(d.train_measured.all()), "trials": 0,
           "when": "end of training"}
    if level is None or not out["measured"]:
        out["reason"] = ("no pruned level yet" if level is None else
                         "this run predates measured training accuracy (its value is a running minibatch proxy)")
        return out
    g = d.assign(gap=100 * (d.train_acc - d.final_test_acc))
    dense = group(g, 0, "dense").set_index("trial")
    tick = group(g, level, "ticket").set_index("trial")
    diff = stats.paired((tick.gap - dense.gap).dropna())
    out.update(percent_remaining=float(tick.percent_remaining.mean()),
               dense_train_acc=float(dense.train_acc.mean()), ticket_train_acc=float(tick.train_acc.mean()),
               dense_gap_points=float(dense.gap.mean()), ticket_gap_points=float(tick.gap.mean()),
               test_gain=stats.paired((100 * (tick.final_test_acc - dense.final_test_acc)).dropna()).as_dict(),
               gap_change=diff.as_dict(), trials=diff.n,
               censored_share=censored_fraction(summary, [(level, "ticket"), (0, "dense")]))
    low_dense, low_ticket = float(dense.train_acc.min()), float(tick.train_acc.min())  # every compared network
    out.update(dense_train_min=low_dense, ticket_train_min=low_ticket)
    low_train = min(low_dense, low_ticket)
    if low_train < TRAIN_PREMISE:
        who = "a dense network" if low_dense <= low_ticket else "a ticket"
        out["verdict"] = NOT_COMPARABLE
        out["premise"] = (f"{who} reached {100 * low_train:.2f}% training accuracy at the end of training; the "
                         f"paper's comparison assumes about 100% (needed: {100 * TRAIN_PREMISE:.0f}%)")
    elif out["censored_share"] > CENSORED_LIMIT:
        out["verdict"] = NOT_MEASURABLE
        out["reason"] = "most of the networks it compares were still improving when training ended"
    elif not diff.enough:
        out["verdict"] = too_few(diff.n)
    else:
        out["verdict"] = HOLDS if diff.high < 0 else FAILS if diff.low > 0 else UNCLEAR
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


__all__ = ["ACC", "HOLDS", "FAILS", "UNCLEAR", "NOT_MEASURABLE", "NOT_COMPARABLE", "TRAIN_PREMISE", "claim_a",
           "claim_b", "claim_c", "claim_d", "claim_e", "claim_f", "all_claims", "too_few"]
