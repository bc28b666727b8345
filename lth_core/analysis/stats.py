"""The statistics behind every verdict: paired by trial, with stated confidence (scipy.stats).

THE RULES (the one place they are stated; docs and captions quote them from here):
- Every comparison at a level is paired by trial (same seed, same minibatch order); the
  differences give a mean and a CONFIDENCE (95%) interval from the paired t distribution.
- Fewer than MIN_TRIALS (3) pairs: no verdict ("too few trials to tell"), only the numbers.
- "Clearly above / below": the two-sided paired t-test rejects "no difference"; a scan over a
  curve's levels is Holm-corrected, so any false "clearly" stays at or below ALPHA (5%).
- "At least as good as" (non-inferiority): the interval's lower end lies above -MARGIN_POINTS
  (0.5 points). Not distinguishable is not "holds". "At every level down to X" needs every
  level to pass on its own (an intersection-union test: no correction).
- Learning speed compares early-stopping iterations as log ratios, paired, uncensored pairs
  only (lth_core.training.early_stop).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

ALPHA = 0.05            # family-wise error rate of every "clearly" statement
CONFIDENCE = 1 - ALPHA  # of every interval shown
MIN_TRIALS = 3          # fewer pairs than this give no verdict
MARGIN_POINTS = 0.5     # non-inferiority margin, in points of accuracy (the paper's smallest named gap)
CORRECTION = "Holm"
TOO_FEW = "too few trials to tell"

RULES = (f"Paired by trial; {100 * CONFIDENCE:.0f}% confidence intervals (paired t); a \"clearly\" over a "
         f"curve is Holm-corrected for the levels it scans (family-wise alpha {ALPHA:g}); \"at least as good\" "
         f"means the interval's lower end is above -{MARGIN_POINTS:g} points; fewer than {MIN_TRIALS} trials "
         "give no verdict.")


@dataclass(frozen=True)
class Paired:
    """Per-trial differences (a - b) summarised. Units are those of the input (points, or log ratio)."""

    n: int
    mean: float | None
    low: float | None       # CONFIDENCE interval of the mean difference (None when n < 2)
    high: float | None
    p: float | None         # two-sided paired t-test of "no difference" (None when n < 2 or no spread)
    minimum: float | None
    maximum: float | None

    @property
    def enough(self) -> bool:
        return self.n >= MIN_TRIALS

    def as_dict(self) -> dict:
        """Plain JSON values, with the interval in words (ci_text) for reports."""
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "p": self.p,
                "min": self.minimum, "max": self.maximum, "text": ci_text(self)}

    def note(self) -> str:
        """How much this comparison can tell, in words (trials_note)."""
        return trials_note(self.n)


def trials_note(n: int) -> str:
    """How much a comparison over n paired trials can tell: 'too few trials to tell (n = 2)', '5 trials, 95% CI'."""
    if n == 0:
        return "no trials to compare"
    if n < MIN_TRIALS:
        return f"{TOO_FEW} (n = {n})"
    return f"{n} trials, {100 * CONFIDENCE:.0f}% CI"


def paired(diffs) -> Paired:
    """Mean, confidence interval and two-sided p of per-trial differences (NaNs dropped)."""
    x = np.asarray([float(v) for v in diffs if v is not None and math.isfinite(float(v))], dtype=float)
    n = len(x)
    if n == 0:
        return Paired(0, None, None, None, None, None, None)
    mean = float(x.mean())
    if n < 2:
        return Paired(n, mean, None, None, None, mean, mean)
    if float(np.ptp(x)) <= 1e-9 * max(1.0, abs(mean)):  # identical trials (float noise aside): the t-test is
        return Paired(n, mean, None, None, None, mean, mean)  # undefined, so no interval and no verdict
    res = sps.ttest_1samp(x, 0.0)
    ci = res.confidence_interval(CONFIDENCE)
    return Paired(n, mean, float(ci.low), float(ci.high), float(res.pvalue), float(x.min()), float(x.max()))


def holm(pvalues: list[float | None], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down rejections for a family of tests (None: not testable, never rejected).

    Sorted p_(1) <= ... <= p_(m): reject while p_(i) <= alpha / (m - i + 1), stop at the first that
    is not. m counts only testable hypotheses."""
    idx = sorted((i for i, p in enumerate(pvalues) if p is not None), key=lambda i: pvalues[i])
    m, out = len(idx), [False] * len(pvalues)
    for rank, i in enumerate(idx):
        if pvalues[i] > alpha / (m - rank):
            break
        out[i] = True
    return out


def clearly(results: list[Paired]) -> list[int]:
    """Per comparison of a scanned family: +1 clearly above, -1 clearly below, 0 neither (Holm over
    the family; comparisons with fewer than MIN_TRIALS pairs are never clear and not counted)."""
    ps = [r.p if r.enough else None for r in results]
    return [(1 if r.mean > 0 else -1) if rej else 0 for r, rej in zip(results, holm(ps))]


def at_least_as_good(r: Paired, margin: float = MARGIN_POINTS) -> bool:
    """Non-inferior: enough trials, and the interval's lower end above -margin."""
    return r.enough and r.low is not None and r.low > -margin


def ci_text(r: Paired, unit: str = " points", digits: int = 2) -> str:
    """'+0.33 points (95% CI -0.05 to +0.69, n = 5)', or the plain numbers when there are too few."""
    if r.mean is None:
        return "no trials"
    if not r.enough:
        values = f"{r.mean:+.{digits}f}{unit}"
        if r.n > 1:
            values += f" (trials {r.minimum:+.{digits}f} to {r.maximum:+.{digits}f})"
        return f"{values}; {TOO_FEW} (n = {r.n})"
    if r.low is None:
        return f"{r.mean:+.{digits}f}{unit} (all {r.n} trials identical: no interval, no verdict)"
    return (f"{r.mean:+.{digits}f}{unit} ({100 * CONFIDENCE:.0f}% CI {r.low:+.{digits}f} to {r.high:+.{digits}f}, "
            f"n = {r.n})")


def unpaired(a: list[float], b: list[float]) -> float | None:
    """Two-sided p of Welch's t-test between groups that cannot be paired (different runs); None
    with fewer than MIN_TRIALS on a side or no spread at all."""
    if min(len(a), len(b)) < MIN_TRIALS or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return None
    return float(sps.ttest_ind(a, b, equal_var=False).pvalue)
