"""The censoring rule and the smoothed early stop (lth_core.training.early_stop)."""
from __future__ import annotations

import pytest

from lth_core.training.early_stop import argmin_index, censor_threshold, is_censored, smoothed_argmin_index


@pytest.mark.parametrize("stop,iterations,start,censored", [
    (500, 500, 0, True),      # the last evaluation
    (475, 500, 0, True),      # inside the last 10%
    (450, 500, 0, False),     # exactly at 90%: the loss rose over the last 10%
    (8500, 20000, 0, False),
    (19000, 20000, 0, True),
    (1900, 2000, 1000, False),  # a rewound network trains 1000..2000: its last 10% starts after 1900
    (1950, 2000, 1000, True),
])
def test_censored_means_minimum_in_the_last_tenth_of_training(stop, iterations, start, censored):
    """A network whose validation loss is lowest in its last 10% of iterations was still improving."""
    assert is_censored(stop, iterations, start) is censored


def test_threshold_is_ninety_percent_of_the_networks_own_training():
    """The rule counts the iterations a network trained, not the config's total."""
    assert censor_threshold(2000, 1000) == pytest.approx(1900)


def test_argmin_takes_the_earliest_of_equal_minima():
    """Ties go to the earlier evaluation, as a validation-loss early stop would."""
    assert argmin_index([3.0, 1.0, 2.0, 1.0]) == 1


def test_argmin_skips_missing_values():
    """None or NaN losses never win the argmin."""
    assert argmin_index([None, float("nan"), 2.0, 1.5]) == 3


def test_smoothed_argmin_ignores_a_lone_dip_on_a_plateau():
    """One lucky evaluation late on a flat plateau moves the raw argmin, not the smoothed one."""
    losses = [1.0, 0.6, 0.40, 0.31, 0.30, 0.30, 0.31, 0.36, 0.40, 0.29, 0.45, 0.50, 0.55]
    assert (argmin_index(losses), smoothed_argmin_index(losses, 5)) == (9, 5)
