"""Early stopping, honestly: the paper's argmin, a smoothed argmin, and the censoring rule.

The early-stopping iteration is that of minimum validation loss. A minimum at the very end of
training measures the budget, not learning speed: such a network is *censored*, and statistics
of learning speed leave it out.

THE RULE (the one place it is stated): a network is censored when its minimum validation loss
falls in the last CENSOR_FRACTION (10%) of its own iterations, i.e. strictly after
start + 0.9 * (iterations - start), with `start` = k when rewinding, else 0. The smoothed
argmin (centred moving average over SMOOTH_WINDOW evaluations) is the robustness check.
"""
from __future__ import annotations

import math

CENSOR_FRACTION = 0.10
SMOOTH_WINDOW = 5  # evaluations in the centred moving average (odd)


def censor_threshold(iterations: int, start: int = 0) -> float:
    """The iteration after which an early stop counts as censored."""
    return start + (1.0 - CENSOR_FRACTION) * (iterations - start)


def is_censored(early_stop_iteration: float, iterations: int, start: int = 0) -> bool:
    """True when the minimum validation loss falls in the last 10% of training (see THE RULE)."""
    return float(early_stop_iteration) > censor_threshold(iterations, start)


def _finite(v) -> float:
    return float(v) if v is not None and math.isfinite(v) else math.inf


def argmin_index(losses: list) -> int:
    """Index of the minimum loss (the earliest one on ties; None / NaN count as +inf)."""
    vals = [_finite(v) for v in losses]
    return min(range(len(vals)), key=lambda i: (vals[i], i))


def smoothed(losses: list, window: int = SMOOTH_WINDOW) -> list[float]:
    """Centred moving average over `window` evaluations (fewer at the two ends)."""
    half = max(0, int(window) // 2)
    vals = [_finite(v) for v in losses]
    out = []
    for i in range(len(vals)):
        part = [v for v in vals[max(0, i - half): i + half + 1] if math.isfinite(v)]
        out.append(sum(part) / len(part) if part else math.inf)
    return out


def smoothed_argmin_index(losses: list, window: int = SMOOTH_WINDOW) -> int:
    """Index of the minimum of the smoothed validation loss."""
    return argmin_index(smoothed(losses, window))
