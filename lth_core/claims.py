"""The paper's claims (a)-(f), measured on a run's aggregated results.

Each function takes the output of results.aggregate (means over trials, with
min/max) and returns plain numbers plus a verdict, so a report can put the
measured value beside the paper's. Accuracies are fractions; percents are %
of prunable weights remaining.
"""
from __future__ import annotations

import pandas as pd

ACC = "test_acc_at_early_stop"


def _arm(agg: pd.DataFrame, arm: str) -> pd.DataFrame:
    return agg[agg.arm == arm].sort_values("level").set_index("level")


def _dense(agg: pd.DataFrame, col: str = ACC) -> float:
    return float(_arm(agg, "ticket").loc[0, col])


def holds_dense_until(agg: pd.DataFrame, arm: str, tol: float = 0.0) -> float | None:
    """Lowest % remaining down to which `arm` stays at or above dense - tol at every level
    (None if it falls below already at the first pruned level)."""
    dense, last = _dense(agg), None
    for level, row in _arm(agg, arm).iterrows():
        if level == 0:
            continue
        if row[ACC] < dense - tol:
            break
        last = float(row.percent_remaining)
    return last


def first_below_dense(agg: pd.DataFrame, arm: str, tol: float = 0.0) -> float | None:
    """% remaining at the first level where `arm` falls below dense - tol (None: never)."""
    dense = _dense(agg)
    for level, row in _arm(agg, arm).iterrows():
        if level > 0 and row[ACC] < dense - tol:
            return float(row.percent_remaining)
    return None


def claim_a(agg: pd.DataFrame) -> dict:
    """(a) the ticket stays at or above dense test accuracy down to X% remaining."""
    x = holds_dense_until(agg, "ticket")
    t = _arm(agg, "ticket")
    best = t[ACC].idxmax()
    return {"holds_down_to_percent": x, "dense_acc": _dense(agg), "best_acc": float(t.loc[best, ACC]),
            "best_at_percent": float(t.loc[best, "percent_remaining"]),
            "best_gain_points": 100 * (float(t.loc[best, ACC]) - _dense(agg))}


def claim_b(agg: pd.DataFrame, iterations: int | None = None, margin: float = 0.10) -> dict:
    """(b) the ticket's early-stopping iteration falls as pruning proceeds, then rises.

    'Falls' and 'rises' need a change of more than `margin` (10%), so one evaluation
    interval of noise does not count. With `iterations` (the training length), an
    early stop in the last 10% of training is flagged as censored: the true minimum
    of the validation loss may lie beyond the budget.
    """
    t = _arm(agg, "ticket")
    es = t.early_stop_iteration
    low = es.idxmin()
    dense_es, low_es, last_es = float(es.loc[0]), float(es.loc[low]), float(es.iloc[-1])
    censored = iterations is not None and dense_es >= 0.9 * iterations
    return {"dense_iteration": dense_es, "min_iteration": low_es,
            "min_at_percent": float(t.loc[low, "percent_remaining"]),
            "last_iteration": last_es, "last_percent": float(t.percent_remaining.iloc[-1]),
            "falls": low_es < (1 - margin) * dense_es, "rises_after": last_es > (1 + margin) * low_es,
            "censored_by_budget": censored,
            "earlier_by_percent": 100 * (1 - low_es / dense_es) if dense_es else None}


def claim_c(agg: pd.DataFrame) -> dict:
    """(c) random re-init falls below dense at a higher % remaining than the ticket does."""
    r, t = first_below_dense(agg, "reinit"), first_below_dense(agg, "ticket")
    holds = r is not None and (t is None or r > t)
    return {"reinit_below_dense_at": r, "ticket_below_dense_at": t, "holds": holds}


def _gap(agg: pd.DataFrame, arm: str, small_only: float | None = None) -> pd.Series:
    t, o = _arm(agg, "ticket"), _arm(agg, arm)
    levels = [lv for lv in o.index if lv > 0 and lv in t.index
              and (small_only is None or t.loc[lv, "percent_remaining"] < small_only)]
    return pd.Series({float(t.loc[lv, "percent_remaining"]): 100 * (t.loc[lv, ACC] - o.loc[lv, ACC])
                      for lv in levels})


def claim_d(agg: pd.DataFrame) -> dict:
    """(d) random pruning (random mask, original init) does worse than the ticket."""
    gap = _gap(agg, "random")
    return {"levels": len(gap), "ticket_better_levels": int((gap > 0).sum()),
            "mean_gap_points": float(gap.mean()) if len(gap) else None,
            "gap_at_smallest_points": float(gap.iloc[-1]) if len(gap) else None,
            "holds": bool(len(gap)) and bool((gap > 0).mean() >= 0.8)}


def claim_e(agg: pd.DataFrame, small: float = 20.0) -> dict:
    """(e) iterative pruning beats one-shot at small sizes (< `small`% remaining)."""
    gap = _gap(agg, "oneshot", small_only=small)
    return {"levels": len(gap), "iterative_better_levels": int((gap > 0).sum()),
            "mean_gap_points": float(gap.mean()) if len(gap) else None,
            "holds": bool(len(gap)) and float(gap.mean()) > 0}


def claim_f(agg: pd.DataFrame) -> dict:
    """(f) train/test gap of the ticket compared with dense, at the ticket's best level."""
    t = _arm(agg, "ticket")
    gap = 100 * (t.train_acc_at_early_stop - t[ACC])
    best = t[ACC].idxmax()
    return {"dense_train_acc": float(t.loc[0, "train_acc_at_early_stop"]),
            "dense_gap_points": float(gap.loc[0]),
            "ticket_best_percent": float(t.loc[best, "percent_remaining"]),
            "ticket_train_acc": float(t.loc[best, "train_acc_at_early_stop"]),
            "ticket_gap_points": float(gap.loc[best]),
            "holds": float(gap.loc[best]) <= float(gap.loc[0])}


def all_claims(agg: pd.DataFrame, iterations: int | None = None) -> dict:
    """Every claim whose arms the run trained (iterations: training length per round)."""
    arms = set(agg.arm)
    out = {"a": claim_a(agg), "b": claim_b(agg, iterations), "f": claim_f(agg)}
    if "reinit" in arms:
        out["c"] = claim_c(agg)
    if "random" in arms:
        out["d"] = claim_d(agg)
    if "oneshot" in arms:
        out["e"] = claim_e(agg)
    return out
