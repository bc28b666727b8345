"""How fast a ticket learns, measured only where the training budget lets it be measured.

The paper's learning speed is the early-stopping iteration (minimum validation loss),
compared at a fixed level: at 21.1% remaining the ticket stops 38% earlier than the
dense network and 2.51x earlier than its random re-initialisation. A censored network
(lth_core.analysis.early_stop) was still improving when training ended, so its iteration says
nothing about speed: every statistic here uses uncensored networks only, and a group in
which more than half of the networks are censored makes the comparison "not measurable
with this budget", never a number.

Input: the per-network frame of lth_core.analysis.results.summary_frame.
"""
from __future__ import annotations

import pandas as pd

from lth_core.analysis.spread import networks, nearest_level, spread_note

REFERENCE_PERCENT = 21.1   # the paper's reference level (round 7 of LeNet-300-100 at 20%)
MARGIN = 0.10              # a speed-up of less than 10% is within one evaluation interval's noise
NOT_MEASURABLE = "not measurable with this budget"


def _group(summary: pd.DataFrame, level: int, arm: str, column: str, censored: str) -> dict:
    d = networks(summary)
    g = d[(d.level == level) & (d.arm == arm)] if level > 0 else d[(d.level == 0) & (d.arm == "ticket")]
    ok = g[~g[censored].astype(bool)]
    n, n_cens = len(g), int(g[censored].astype(bool).sum())
    return {"networks": n, "censored": n_cens, "measurable": n > 0 and n_cens <= n / 2,
            "mean_iteration": float(ok[column].mean()) if len(ok) else None,
            "by_trial": {int(t): float(v) for t, v in zip(ok.trial, ok[column])}}


def _compare(fast: dict, slow: dict) -> dict:
    """slow / fast as an 'x times earlier' ratio, with per-trial ratios and a verdict."""
    out = {"ratio": None, "earlier_percent": None, "trial_ratios": [], "verdict": NOT_MEASURABLE,
           "spread": spread_note(0)}
    if not (fast["measurable"] and slow["measurable"]):
        return out
    ratio = slow["mean_iteration"] / fast["mean_iteration"]
    pairs = [slow["by_trial"][t] / fast["by_trial"][t] for t in fast["by_trial"] if t in slow["by_trial"]]
    out.update(ratio=ratio, earlier_percent=100 * (1 - fast["mean_iteration"] / slow["mean_iteration"]),
               trial_ratios=pairs, spread=spread_note(len(pairs)))
    if ratio > 1 + MARGIN and all(p > 1 for p in pairs):
        out["verdict"] = "earlier"
    elif ratio < 1 / (1 + MARGIN) and all(p < 1 for p in pairs):
        out["verdict"] = "later"
    else:
        out["verdict"] = "no clear difference"
    return out


def speed_at(summary: pd.DataFrame, percent: float = REFERENCE_PERCENT, smoothed: bool = False) -> dict | None:
    """The ticket's early stop at the level nearest `percent`, against dense and re-init.

    smoothed=True uses the smoothed argmin (lth_core.analysis.early_stop) and its own censoring.
    Returns None until a pruned level of the ticket is finished."""
    level = nearest_level(summary, percent)
    if level is None:
        return None
    column, censored = (("early_stop_smoothed", "censored_smoothed") if smoothed
                        else ("early_stop_iteration", "censored"))
    groups = {"dense": _group(summary, 0, "ticket", column, censored),
              "ticket": _group(summary, level, "ticket", column, censored)}
    if "reinit" in set(networks(summary).arm):
        groups["reinit"] = _group(summary, level, "reinit", column, censored)
    pct = networks(summary)
    pct = float(pct[pct.level == level].percent_remaining.mean())
    out = {"level": level, "percent_remaining": pct, "groups": groups,
           "vs_dense": _compare(groups["ticket"], groups["dense"])}
    if "reinit" in groups:
        out["vs_reinit"] = _compare(groups["ticket"], groups["reinit"])
    return out


def censored_share(summary: pd.DataFrame) -> dict:
    """Share of censored networks per arm (the dense network counted once, as 'dense')."""
    d = networks(summary).copy()
    d.loc[d.level == 0, "arm"] = "dense"
    return {arm: float(g.censored.mean()) for arm, g in d.groupby("arm")}
