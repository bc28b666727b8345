"""The verdict statistics behave as stated on constructed per-trial data (lth_core.analysis.stats);
their error rates over many simulated curves are checked in test_stats_error_rates.py."""
from __future__ import annotations

import random

import pandas as pd
import pytest
from scipy import stats as sps

from lth_core.analysis import claims, spread, stats

LEVELS = 15
PCTS = [100.0 * 0.8 ** i for i in range(LEVELS + 1)]


def test_paired_interval_is_scipys():
    """The interval is the paired t interval of scipy.stats at the stated confidence."""
    x = [0.2, -0.1, 0.5, 0.3, 0.4]
    r = stats.paired(x)
    ci = sps.ttest_1samp(x, 0).confidence_interval(stats.CONFIDENCE)
    assert (r.low, r.high, r.n) == pytest.approx((ci.low, ci.high, 5))


def test_identical_trials_give_no_interval_and_no_verdict():
    """Paired differences that all agree to the last digit have no t interval: no 'clearly', no 'as good'."""
    r = stats.paired([1.5, 1.5, 1.5, 1.5])
    assert (r.low, r.high, r.p) == (None, None, None)
    assert stats.clearly([r]) == [0] and not stats.at_least_as_good(r)


def test_holm_steps_down():
    """Holm rejects the smallest p at alpha/m, the next at alpha/(m-1), and stops at the first failure."""
    assert stats.holm([0.01, 0.04, 0.03, 0.2], 0.05) == [True, False, False, False]
    assert stats.holm([0.001, 0.02, 0.3], 0.05) == [True, True, False]
    assert stats.holm([None, 0.001], 0.05) == [False, True]


def frame(acc: dict) -> pd.DataFrame:
    """A summary_frame-shaped table from {arm: [[acc per trial] per level]} (the ticket's level 0 is dense)."""
    rows = []
    for arm, levels in acc.items():
        for level, trials in enumerate(levels):
            if trials is None or (level == 0 and arm != "ticket"):
                continue
            for trial, v in enumerate(trials):
                v += random.Random(f"{arm}/{level}/{trial}").uniform(-2e-4, 2e-4)  # trials never tie exactly
                rows.append({"trial": trial, "level": level, "arm": arm, "percent_remaining": PCTS[level],
                             "shared_dense": False, "test_acc_at_early_stop": v, "final_test_acc": v,
                             "early_stop_iteration": 1000 - 40 * level if arm == "ticket" else 1000,
                             "early_stop_smoothed": 1000, "censored": False, "censored_smoothed": False,
                             "train_acc": 1.0, "train_measured": True})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n", [1, 2])
def test_one_or_two_trials_never_give_a_verdict(n):
    """1 or 2 trials: every claim says 'too few trials to tell', even with huge effects."""
    dense = [0.90] * n
    s = frame({"ticket": [dense] + [[0.95] * n] * 8,
               "reinit": [None] + [[0.50] * n] * 8, "random": [None] + [[0.5] * n] * 8,
               "oneshot": [None] + [[0.5] * n] * 8})
    found = claims.all_claims(s)
    assert {k: c["verdict"] for k, c in found.items()} == {k: claims.too_few(n) for k in "abcdef"}
    cmp = spread.compare_to_dense(s, "reinit")
    assert (cmp["falls_below_at"], cmp["as_good_down_to"]) == (None, None)


def test_a_dip_that_recovers_is_not_a_fall():
    """Clearly below at one level, back at dense at every later level: the arm never 'falls below'."""
    dense = [0.90, 0.91, 0.92, 0.90, 0.91]
    below = [d - 0.05 for d in dense]
    s = frame({"ticket": [dense] + [dense] * 2 + [below] + [dense] * 4})
    table = spread.level_table(s, "ticket")
    assert list(table.clear)[2] == -1  # the dip is detected ...
    assert spread.compare_to_dense(s, "ticket")["falls_below_at"] is None  # ... but is not a fall


def test_absence_of_evidence_is_not_at_least_as_good():
    """Noisy trials whose interval reaches below the margin are 'not distinguishable', not 'at least as good'."""
    s = frame({"ticket": [[0.90, 0.91, 0.92], [0.93, 0.88, 0.92]]})
    row = spread.level_table(s, "ticket").iloc[0]
    assert (row.clear, bool(row.as_good)) == (0, False)
    assert claims.claim_a(s)["verdict"] == claims.UNCLEAR
