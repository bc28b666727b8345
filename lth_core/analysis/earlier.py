"""A student's live trial joined with trials of the identical experiment computed earlier.

The quick demo trains one trial live; one trial gives no verdict under the shared statistics
(lth_core.analysis.stats). The gallery ships the same experiment with more trials
(lth_core.atlas.companion), so the demo's Results page can decide from "your trial + N computed
earlier". The join is plain: the live run's rows stay as they are, and the earlier run adds its
rows for the trials the live run does not have, at the levels the live run has finished (so the
charts still fill in level by level as the live trial trains).
"""
from __future__ import annotations

import pandas as pd


def finished_levels(frame: pd.DataFrame) -> set[int]:
    """Levels at which `frame` has a row for every arm it has at all (the dense level: any row)."""
    if frame.empty:
        return set()
    arms = set(frame.arm)
    return {lv for lv, d in frame.groupby("level") if lv == 0 or set(d.arm) >= arms - {"ticket_copy"}}


def join(yours: pd.DataFrame, earlier: pd.DataFrame, levels: set[int] | None = None) -> pd.DataFrame:
    """`yours` plus `earlier`'s rows for other trials, at `levels` (default: those `yours` finished).
    Works on the summary and the curves frames alike (both have trial, level and arm)."""
    levels = finished_levels(yours) if levels is None else levels
    extra = earlier[~earlier.trial.isin(set(yours.trial)) & earlier.level.isin(levels)]
    if extra.empty:
        return yours
    return pd.concat([yours, extra], ignore_index=True).sort_values(["level", "arm", "trial"], ignore_index=True)


def trials_added(yours: pd.DataFrame, joined: pd.DataFrame) -> int:
    """How many trials the join added."""
    return joined.trial.nunique() - yours.trial.nunique() if len(joined) else 0


def reproduces(yours: pd.DataFrame, earlier: pd.DataFrame,
               metrics=("test_acc_at_early_stop", "early_stop_iteration")) -> bool | None:
    """Whether `yours` equals `earlier`'s rows of the same trials at the levels yours has finished,
    metric for metric (None: nothing to compare). The engine is deterministic on a CPU, so a live
    trial that the earlier run also computed should match it exactly."""
    levels = finished_levels(yours)
    keys = ["level", "arm", "trial"]
    a = yours[yours.level.isin(levels)]
    b = earlier[earlier.trial.isin(set(a.trial)) & earlier.level.isin(levels)]
    if a.empty or len(a) != len(b):
        return None if a.empty or b.empty else False
    a, b = (d.sort_values(keys, ignore_index=True)[keys + list(metrics)] for d in (a, b))
    return bool(a.equals(b))
