"""The claims read the paper's effects off per-network results honestly: spread and censoring count."""
from __future__ import annotations

import random

import pandas as pd
import pytest

from lth_core.analysis import claims, speed, spread
PCTS = [100.0, 80.0, 64.1, 51.3, 41.1, 32.9, 26.3, 21.1, 16.9, 13.5]


def wobble(arm: str, level: int, trial: int, size: float) -> float:
    """Real trials never agree to the last digit, and identical paired differences have no interval and no
    verdict (stats.paired): every value gets a small deterministic wobble of at most `size`."""
    return random.Random(f"{arm}/{level}/{trial}").uniform(-size, size)


def frame(acc: dict, es: dict | None = None, censored: dict | None = None, train: dict | None = None,
          measured: bool = True) -> pd.DataFrame:
    """A summary_frame-shaped table from {arm: [[acc per trial] per level]}; the ticket's level 0
    is the dense network. es / censored / train: same shape, early stops, censoring flags and
    final training accuracies (defaults: 1000, uncensored, 1.0)."""
    rows = []
    for arm, levels in acc.items():
        for level, trials in enumerate(levels):
            if level == 0 and arm != "ticket":
                continue
            for trial, v in enumerate(trials):
                def get(d, default):
                    return d[arm][level][trial] if d and arm in d else default
                e = get(es, 1000) + round(wobble(arm, level, trial, 10))
                v = v + wobble(arm, level, trial, 0.0002)
                rows.append({"trial": trial, "level": level, "arm": arm, "percent_remaining": PCTS[level],
                             "shared_dense": False, "test_acc_at_early_stop": v, "final_test_acc": v,
                             "early_stop_iteration": e, "early_stop_smoothed": e,
                             "censored": get(censored, False), "censored_smoothed": get(censored, False),
                             "train_acc": get(train, 1.0), "train_measured": measured})
    return pd.DataFrame(rows)


DENSE = [0.90, 0.90, 0.90]


def r1(*xs):
    """Percents rounded to the ladder's one decimal (means over trials carry float noise)."""
    return tuple(None if x is None else round(x, 1) for x in xs)


def test_a_noise_dip_does_not_end_the_ticket():
    """A level whose mean dips below dense without a clear paired difference is not a fall."""
    s = frame({"ticket": [DENSE, [0.91, 0.90, 0.92], [0.89, 0.91, 0.895], [0.90, 0.91, 0.92]]})
    cmp = spread.compare_to_dense(s, "ticket")
    assert r1(cmp["falls_below_at"], cmp["as_good_down_to"], cmp["mean_below_at"]) == (None, None, 64.1)  # 3 noisy trials show neither


def test_a_fall_must_persist_to_the_last_level():
    """Clearly below at one level and back at dense later is not 'falls below dense from X%'."""
    s = frame({"reinit": [None, [0.89, 0.88, 0.89], [0.91, 0.90, 0.92], [0.85, 0.86, 0.84], [0.8, 0.8, 0.8]],
               "ticket": [DENSE] + [[0.91, 0.91, 0.91]] * 4})
    assert r1(spread.compare_to_dense(s, "reinit")["falls_below_at"]) == (51.3,)


def test_fall_needs_a_clear_paired_difference():
    """A level whose trials straddle dense is not clearly below it, whatever its mean."""
    s = frame({"ticket": [DENSE, [0.95, 0.95, 0.95], [0.80, 0.85, 0.905]]})
    assert spread.compare_to_dense(s, "ticket")["falls_below_at"] is None


def test_single_trial_gives_no_verdict():
    """One trial is shown by its value and labelled as too few to tell; nothing falls or holds."""
    s = frame({"ticket": [[0.9], [0.91], [0.85]]})
    cmp = spread.compare_to_dense(s, "ticket")
    assert (cmp["falls_below_at"], cmp["as_good_down_to"], cmp["spread"]) == (None, None, "too few trials to tell (n = 1)")


def test_c_holds_only_when_reinit_falls_first():
    """(c) re-init must fall below dense for good at a higher % remaining than the ticket."""
    s = frame({"ticket": [DENSE] + [[0.92] * 3] * 3 + [[0.85] * 3],
               "reinit": [None, [0.91] * 3, [0.85] * 3, [0.84] * 3, [0.80] * 3]})
    c = claims.claim_c(s)
    assert r1(c["reinit_below_dense_at"], c["ticket_below_dense_at"]) == (64.1, 41.1)
    assert c["verdict"] == claims.HOLDS


def test_c_noise_dip_of_reinit_is_not_a_fall():
    """The issue's case: re-init's mean dips below dense at one level, per trial -0.53/+0.62/-0.21."""
    s = frame({"ticket": [DENSE, [0.91] * 3, [0.91] * 3],
               "reinit": [None, [0.8947, 0.9062, 0.8979], [0.905, 0.91, 0.902]]})
    c = claims.claim_c(s)
    assert (c["reinit_below_dense_at"], c["verdict"]) == (None, claims.UNCLEAR)


def _es(dense, ticket, reinit):
    return {"ticket": [dense] + [ticket] * 9, "reinit": [None] + [reinit] * 9}


ACC10 = {"ticket": [DENSE] + [[0.9] * 3] * 9, "reinit": [None] + [[0.9] * 3] * 9}


def test_b_speed_from_uncensored_networks_at_the_reference_level():
    """(b) compares early stops at 21.1% against dense and re-init: 2x and 3x earlier here."""
    s = frame(ACC10, es=_es([1000, 1000, 1000], [500, 500, 500], [1500, 1500, 1500]))
    b = claims.claim_b(s)
    assert r1(b["raw"]["percent_remaining"]) == (21.1,)
    assert b["raw"]["vs_dense"]["ratio"] == pytest.approx(2.0, rel=0.03)  # geometric mean of the paired ratios
    assert b["raw"]["vs_reinit"]["ratio"] == pytest.approx(3.0, rel=0.03)
    assert b["verdict"] == claims.HOLDS


def test_b_more_than_half_censored_is_not_a_number():
    """(b) when most re-init networks were still improving at the end, the speed-up is not measurable."""
    cens = {"ticket": [[False] * 3] * 10, "reinit": [None] + [[True, True, False]] * 9}
    s = frame(ACC10, es=_es([1000] * 3, [500] * 3, [1500] * 3), censored=cens)
    b = claims.claim_b(s)
    assert b["raw"]["vs_reinit"]["ratio"] is None and b["verdict"] == speed.NOT_MEASURABLE


def test_b_censored_networks_do_not_enter_the_mean():
    """Only uncensored networks' iterations are averaged (one censored dense trial is left out)."""
    cens = {"ticket": [[False, False, True]] + [[False] * 3] * 9, "reinit": [None] + [[False] * 3] * 9}
    s = frame(ACC10, es=_es([1000, 1200, 1900], [500] * 3, [1500] * 3), censored=cens)
    assert claims.claim_b(s)["raw"]["groups"]["dense"]["mean_iteration"] == pytest.approx(1100, abs=15)


def test_b_mixed_trials_are_unclear():
    """A speed-up that one trial contradicts is not reported as holding (its interval includes 1)."""
    s = frame(ACC10, es=_es([1000, 1000, 1000], [500, 500, 1100], [1500] * 3))
    assert claims.claim_b(s)["verdict"] == claims.UNCLEAR


def test_f_uses_the_reference_level_not_the_best_one():
    """(f) reads the gap at 21.1% even when another level has the best test accuracy."""
    acc = {"ticket": [DENSE] + [[0.9] * 3] * 6 + [[0.91, 0.912, 0.915]] + [[0.99] * 3] * 2}
    train = {"ticket": [[1.0] * 3] * 10}
    f = claims.claim_f(frame(acc, train=train))
    assert (r1(f["percent_remaining"]), f["verdict"]) == ((21.1,), claims.HOLDS)
    assert f["ticket_gap_points"] == pytest.approx(8.77, abs=0.01)


def test_f_not_comparable_below_the_premise():
    """(f) compares generalisation only where both networks reach the paper's ~100% training accuracy."""
    acc = {"ticket": [DENSE] + [[0.9] * 3] * 9}
    train = {"ticket": [[0.949] * 3] + [[0.98] * 3] * 9}
    f = claims.claim_f(frame(acc, train=train))
    assert f["verdict"] == claims.NOT_COMPARABLE and "94.90%" in f["premise"]


def test_f_not_measurable_on_a_proxy():
    """(f) refuses to judge a run whose training accuracy is the minibatch proxy."""
    assert claims.claim_f(frame(ACC10, measured=False))["verdict"] == speed.NOT_MEASURABLE


def test_d_counts_levels_where_the_ticket_is_clearly_better():
    """(d) a level counts for the ticket only where the paired difference is clear after Holm."""
    s = frame({"ticket": [DENSE] + [[0.9] * 3] * 4,
               "random": [None, [0.8] * 3, [0.8, 0.8, 0.95], [0.85] * 3, [0.7] * 3]})
    d = claims.claim_d(s)
    assert (d["levels"], d["ticket_clearly_better_levels"], d["verdict"]) == (4, 3, claims.HOLDS)


def test_e_mostly_censored_is_not_measurable():
    """(e) on networks that were mostly still improving at the end says so instead of a verdict."""
    acc = {"ticket": [DENSE] + [[0.9] * 3] * 9, "oneshot": [None] + [[0.8] * 3] * 9}
    cens = {"ticket": [[False] * 3] + [[True] * 3] * 9, "oneshot": [None] + [[True] * 3] * 9}
    assert claims.claim_e(frame(acc, censored=cens))["verdict"] == speed.NOT_MEASURABLE
