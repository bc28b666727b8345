"""The verdict statistics' error rates, over thousands of simulated curves (lth_core.analysis.stats):
under no effect a 15-level scan calls "clearly" at most at alpha, and with an effect more trials
detect it more often. Monte Carlo, so slow: the science tier."""
from __future__ import annotations

import numpy as np
import pytest

from lth_core.analysis import stats

LEVELS = 15  # levels in one simulated scan, as many as a long run has


def scan(rng: np.random.Generator, trials: int, effect_sd: float) -> list[int]:
    """One simulated curve: per level, `trials` paired differences ~ N(effect, 1); Holm-corrected verdicts."""
    return stats.clearly([stats.paired(rng.normal(effect_sd, 1.0, trials)) for _ in range(LEVELS)])


def test_no_effect_keeps_any_clearly_over_a_scan_at_alpha():
    """Under no effect, the chance of any 'clearly' over a 15-level scan stays at or below alpha."""
    rng = np.random.default_rng(0)
    draws = 4000
    false = sum(any(scan(rng, 5, 0.0)) for _ in range(draws))
    # binomial noise of a rate at alpha over 4,000 draws: 3 standard errors is about 1 point
    assert false / draws <= stats.ALPHA + 3 * (stats.ALPHA * (1 - stats.ALPHA) / draws) ** 0.5


def test_uncorrected_scan_would_exceed_alpha():
    """The check above can fail: without Holm, per-level tests at alpha fire on most no-effect curves."""
    rng = np.random.default_rng(1)
    draws = 500
    hits = sum(any(stats.paired(rng.normal(0, 1, 5)).p <= stats.ALPHA for _ in range(LEVELS)) for _ in range(draws))
    assert hits / draws > 2 * stats.ALPHA


@pytest.mark.parametrize("effect", [-1.5, 1.5])
def test_detection_rises_with_trials(effect):
    """With a true effect, the chance a level is called clear grows with the number of trials: 3 < 5 < 10."""
    rng = np.random.default_rng(2)
    power = [np.mean([scan(rng, n, effect)[0] != 0 for _ in range(600)]) for n in (3, 5, 10)]
    assert power[0] < power[1] < power[2]
