"""What the atlas page says at one level: the paper's comparisons, each with its verdict.

Every comparison is the shared definition (lth_core.analysis.spread.level_table): paired by trial,
a confidence interval, Holm-corrected over the levels of its curve (a student scrubbing through
every level is making exactly that family of comparisons), no verdict from too few trials or
from mostly censored networks.
"""
from __future__ import annotations

import pandas as pd

from lth_core.analysis import spread, stats
from lth_core.arms import ARMS

COMPARISONS = (("ticket", "dense"), ("reinit", "dense"), ("random", "dense"), ("ticket", "reinit"))
COLUMNS = ["Comparison", "Difference (points)", "95% CI from (points)", "95% CI to (points)", "n", "Verdict"]


def _name(arm: str) -> str:
    return "dense network" if arm == "dense" else (ARMS[arm].short or ARMS[arm].label)


def verdict(row: dict) -> str:
    """The words for one compared level (a level_table row)."""
    if row["trials"] < stats.MIN_TRIALS:
        return stats.TOO_FEW
    if not row["measurable"]:
        return "not measurable: most still improving at the end (censored)"
    if row["clear"] == 1:
        return "clearly above"
    if row["clear"] == -1:
        return "clearly below"
    if row["as_good"]:
        return f"at least as good (within {stats.MARGIN_POINTS:g} points)"
    return "not distinguishable"


def verdicts(summary: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """{level: one row per comparison (COMPARISONS, those whose arms the run has)} for every pruned
    level; each comparison's curve is tested once, Holm over its levels."""
    arms = set(summary.arm)
    rows: dict[int, list] = {}
    for arm, other in COMPARISONS:
        if arm not in arms or (other != "dense" and other not in arms):
            continue
        for r in spread.level_table(summary, arm, other=other).to_dict("records"):
            rows.setdefault(int(r["level"]), []).append({
                "Comparison": f"{_name(arm)} − {_name(other)}", "Difference (points)": r["gap"],
                "95% CI from (points)": r["low"], "95% CI to (points)": r["high"], "n": r["trials"],
                "Verdict": verdict(r)})
    return {lv: pd.DataFrame(r, columns=COLUMNS) for lv, r in rows.items()}


def verdicts_at(summary: pd.DataFrame, level: int) -> pd.DataFrame:
    """verdicts(summary) at one level (empty at the dense level, or a level not trained)."""
    return verdicts(summary).get(level, pd.DataFrame(columns=COLUMNS))
