"""The claim calculators read the paper's effects correctly off aggregated results."""
from __future__ import annotations

import pandas as pd
import pytest

from lth_core import claims

PCTS = [100.0, 80.0, 64.1, 51.3, 41.1]


def agg(acc: dict, es: dict | None = None) -> pd.DataFrame:
    """A results.aggregate-shaped frame from {arm: [acc per level]} (and early stops)."""
    rows = []
    for arm, values in acc.items():
        for level, v in enumerate(values):
            e = (es or {}).get(arm, [1000] * len(values))[level]
            rows.append({"level": level, "arm": arm, "percent_remaining": PCTS[level],
                         "test_acc_at_early_stop": v, "early_stop_iteration": e,
                         "train_acc_at_early_stop": 1.0})
    return pd.DataFrame(rows)


def test_a_finds_the_lowest_level_still_at_dense():
    """(a) stops at the first level below dense, even if a later level recovers."""
    a = agg({"ticket": [0.90, 0.91, 0.90, 0.89, 0.95]})
    assert claims.holds_dense_until(a, "ticket") == 64.1


def test_a_none_when_the_first_pruned_level_is_already_worse():
    """(a) reports no sparsity at all when pruning hurts at once."""
    assert claims.holds_dense_until(agg({"ticket": [0.9, 0.8, 0.8, 0.8, 0.8]}), "ticket") is None


def test_c_holds_only_when_reinit_drops_first():
    """(c) compares where each arm first falls below dense."""
    a = agg({"ticket": [0.9, 0.91, 0.9, 0.88, 0.85], "reinit": [0.9, 0.89, 0.87, 0.85, 0.8]})
    c = claims.claim_c(a)
    assert (c["reinit_below_dense_at"], c["ticket_below_dense_at"], c["holds"]) == (80.0, 51.3, True)


@pytest.mark.parametrize("es,falls,rises", [([1000, 900, 500, 600, 900], True, True),
                                            ([1000, 990, 980, 985, 990], False, False)])
def test_b_needs_more_than_noise(es, falls, rises):
    """(b) a change within 10% of the early-stop iteration is noise, not a trend."""
    b = claims.claim_b(agg({"ticket": [0.9] * 5}, {"ticket": es}))
    assert (b["falls"], b["rises_after"]) == (falls, rises)


def test_b_flags_a_budget_that_hides_the_minimum():
    """(b) an early stop in the last 10% of training may be cut off by the budget."""
    assert claims.claim_b(agg({"ticket": [0.9] * 5}), iterations=1000)["censored_by_budget"]


def test_d_counts_levels_where_the_ticket_wins():
    """(d) the ticket must beat random pruning at most levels to hold."""
    d = claims.claim_d(agg({"ticket": [0.9, 0.9, 0.9, 0.9, 0.9], "random": [0.9, 0.8, 0.8, 0.95, 0.7]}))
    assert (d["levels"], d["ticket_better_levels"], d["holds"]) == (4, 3, False)
