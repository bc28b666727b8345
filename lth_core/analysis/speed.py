"""How fast a ticket learns, measured only where the training budget lets it be measured.

Learning speed is the early-stopping iteration (minimum validation loss) at a fixed level. A
censored network (training.early_stop) was still improving at the end, so its iteration says
nothing about speed: statistics use uncensored networks only, and a group more than half
censored is "not measurable with this budget", never a number. Input: results.summary_frame.
"""
from __future__ import annotations

import math

import pandas as pd

from lth_core.analysis import stats
from lth_core.analysis.spread import CENSORED_LIMIT, group, networks, nearest_level

REFERENCE_PERCENT = 21.1   # the paper's reference level (round 7 of LeNet-300-100 at 20%)
NOT_MEASURABLE = "not measurable with this budget"
EARLIER, LATER, NO_CLEAR = "earlier", "later", "no clear difference"


def _group(summary: pd.DataFrame, level: int, arm: str, column: str, censored: str) -> dict:
    g = group(summary, level, arm)
    ok = g[~g[censored].astype(bool)]
    n, n_cens = len(g), int(g[censored].astype(bool).sum())
    return {"networks": n, "censored": n_cens, "measurable": n > 0 and n_cens <= CENSORED_LIMIT * n,
            "mean_iteration": float(ok[column].mean()) if len(ok) else None,
            "by_trial": {int(t): float(v) for t, v in zip(ok.trial, ok[column])}}


def _compare(fast: dict, slow: dict) -> dict:
    """How many times earlier `fast` stops than `slow`: the geometric mean of the per-trial ratios
    slow / fast over trials where neither is censored, with its confidence interval (stats, on log
    ratios), and a verdict: earlier / later when the interval excludes 1, else no clear difference."""
    out = {"ratio": None, "low": None, "high": None, "earlier_percent": None, "trial_ratios": [],
           "pairs": 0, "verdict": NOT_MEASURABLE, "spread": "no uncensored pairs"}
    if not (fast["measurable"] and slow["measurable"]):
        return out
    pairs = [slow["by_trial"][t] / fast["by_trial"][t] for t in sorted(fast["by_trial"]) if t in slow["by_trial"]]
    pairs = [p for p in pairs if p > 0 and math.isfinite(p)]
    r = stats.paired([math.log(p) for p in pairs])
    out.update(pairs=r.n, trial_ratios=pairs, spread=stats.trials_note(r.n) if r.n else "no uncensored pairs")
    if r.mean is None:
        return out
    out.update(ratio=math.exp(r.mean), earlier_percent=100 * (1 - math.exp(-r.mean)))
    if not r.enough:
        out["verdict"] = f"{stats.TOO_FEW} (n = {r.n})"
        return out
    if r.low is None:  # every pair has the same ratio: no interval, so no verdict either way
        out["verdict"] = NO_CLEAR
        return out
    out.update(low=math.exp(r.low), high=math.exp(r.high))
    out["verdict"] = EARLIER if r.low > 0 else LATER if r.high < 0 else NO_CLEAR
    return out


def speed_at(summary: pd.DataFrame, percent: float = REFERENCE_PERCENT, smoothed: bool = False) -> dict | None:
    """The ticket's early stop at the level nearest `percent`, against dense and re-init.

    smoothed=True uses the smoothed argmin (lth_core.training.early_stop) and its own censoring.
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


def describe(vs: dict) -> str:
    """One comparison of speed_at in words: the page, the report and the README all use this.
    The ratio is the other network's early-stop iteration over the ticket's (above 1: the ticket earlier)."""
    if vs["ratio"] is None:
        return vs["verdict"]
    r = vs["ratio"]
    detail = f"ratio {r:.2f}, geometric mean of {vs['pairs']} uncensored trial pairs"
    if vs["low"] is not None:
        detail += f"; {100 * stats.CONFIDENCE:.0f}% CI {vs['low']:.2f} to {vs['high']:.2f}"
    elif vs["pairs"] > 1:
        detail += f"; trials {min(vs['trial_ratios']):.2f} to {max(vs['trial_ratios']):.2f}"
    return f"{head(vs)} ({detail}): {vs['verdict']}"


def head(vs: dict) -> str:
    """'2.60× earlier' or '1.25× later' (the tile and describe(); None ratio: 'not measurable')."""
    r = vs["ratio"]
    if r is None:
        return "not measurable"
    return f"{r:.2f}× earlier" if r >= 1 else f"{1 / r:.2f}× later"
