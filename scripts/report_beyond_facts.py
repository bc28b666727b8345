"""Every number docs/BEYOND.md prints, computed from stored runs (scripts/report_beyond.py writes
the document from these). Comparisons are paired by trial and judged by lth_core.analysis.stats: an
arm is *clearly* better or worse than another at a level only where the paired t-test says so,
Holm-corrected over the levels a statement scans, and never with fewer than stats.MIN_TRIALS trials."""
from __future__ import annotations

import pandas as pd

from lth_core.analysis import results, spread
from lth_core.arms import COPY_ARM
from lth_core.store.run_store import Corrupt, Store

ACC = spread.ACC


def levels(summary: pd.DataFrame) -> list[tuple[int, float]]:
    """(level, % remaining) of every pruned level, densest first."""
    d = spread.networks(summary)
    pct = d[d.level > 0].groupby("level").percent_remaining.mean()
    return [(int(lv), float(p)) for lv, p in pct.items()]


def arm_stats(summary: pd.DataFrame, arm: str, level: int) -> dict | None:
    """Mean, min, max over trials of the accuracy of one arm at one level (level 0: dense)."""
    d = spread.networks(summary)
    d = d[(d.level == level) & (d.arm == ("ticket" if level == 0 else arm))]
    if d.empty:
        return None
    return {"mean": float(d[ACC].mean()), "min": float(d[ACC].min()), "max": float(d[ACC].max()),
            "trials": int(d.trial.nunique()), "censored": float(d.censored.mean())}


def gaps(summary: pd.DataFrame, arm: str, other: str) -> list[dict]:
    """Per pruned level of `arm`, `arm` minus `other` in points, paired by trial, with its interval,
    as spread.level_table judges it: the censored share, whether it is measurable, and `clear`
    (+1 / -1 / 0, Holm-corrected over the measurable levels)."""
    return [{"level": int(r.level), "percent": float(r.percent_remaining),
             **spread.paired_gap(summary, int(r.level), arm, other).as_dict(), "trials": int(r.trials),
             "censored": float(r.censored), "measurable": bool(r.measurable), "clear": int(r.clear)}
            for r in spread.level_table(summary, arm, other=other).itertuples()]


def unmeasurable(gap_rows: list[dict]) -> list[float]:
    """% remaining of the levels where most of the compared networks were still improving at the end."""
    return [g["percent"] for g in gap_rows if not g["measurable"]]


def clear_levels(gap_rows: list[dict], key: str) -> list[float]:
    """% remaining of the levels where the ticket is clearly better (key 'clearly_better') or worse
    ('clearly_worse'), as gaps() judged them; never with fewer than stats.MIN_TRIALS trials."""
    return [g["percent"] for g in gap_rows if g["clear"] == (1 if key == "clearly_better" else -1)]


def run_facts(store: Store, run_id: str) -> dict:
    """The summary frame, config and censoring of one run."""
    summary = results.summary_frame(store, run_id)
    nets = spread.networks(summary)
    return {"run_id": run_id, "config": store.config(run_id), "summary": summary,
            "networks": int(len(nets)), "trials": int(nets.trial.nunique()),
            "censored": float(nets.censored.mean()) if len(nets) else 0.0,
            "dense": spread.dense_accuracy(summary), "levels": levels(summary)}


def stability_frame(store: Store, run_id: str) -> pd.DataFrame:
    """One row per (trial, level) with a stability record: its barrier in points of test error."""
    config = store.config(run_id)
    summary = results.summary_frame(store, run_id)
    pct = spread.networks(summary).groupby("level").percent_remaining.mean()
    rows = []
    for level in config.stability_levels:
        for trial in range(config.trials):
            try:
                rec = store.read_json(run_id, f"t{trial}/L{level:02d}/stability.json")
            except (FileNotFoundError, Corrupt):
                continue
            rows.append({"trial": trial, "level": level, "percent": float(pct.get(level, float("nan"))),
                         "barrier": 100 * rec["barrier"], "end_error": 50 * (rec["test_error"][0] + rec["test_error"][-1])})
    return pd.DataFrame(rows, columns=["trial", "level", "percent", "barrier", "end_error"])


def stability_levels(frame: pd.DataFrame) -> list[dict]:
    """Per level: barrier mean, min, max over trials (points of test error)."""
    out = []
    for level, g in frame.groupby("level"):
        out.append({"level": int(level), "percent": float(g.percent.mean()), "trials": int(len(g)),
                    "mean": float(g.barrier.mean()), "min": float(g.barrier.min()), "max": float(g.barrier.max())})
    return out


def copy_arm() -> str:
    return COPY_ARM
