"""How the reproduction report writes numbers and names, one way everywhere: percents remaining,
accuracies, point differences, iteration counts, ratios, shares, the arms' words and each run's
label and status (scripts/report.py assembles the report from these)."""
from __future__ import annotations

from lth_core.registry import get_arch_info, get_dataset_info

ARMS = ("dense", "ticket", "reinit", "random", "oneshot")
ARM_WORDS = {"dense": "dense", "ticket": "ticket", "reinit": "re-init", "random": "random pruning",
             "oneshot": "one-shot"}


# ---------------------------------------------------------------- numbers, formatted one way everywhere
def pct(v) -> str:
    """% of weights remaining (already a percent)."""
    return f"{v:.1f}%"


def acc(v) -> str:
    """An accuracy fraction as a percent."""
    return f"{100 * v:.2f}%"


def pts(v) -> str:
    """A difference in percentage points, signed."""
    return f"{v:+.2f}"


def its(v) -> str:
    """An iteration (or example) count, with thousands separators."""
    return f"{v:,.0f}"


def share(v) -> str:
    """A fraction as a whole percent."""
    return f"{100 * v:.0f}%"


def span(lo, hi, fmt=pts) -> str:
    """A range from lo to hi, both written by fmt."""
    return f"{fmt(lo)} to {fmt(hi)}"


# ---------------------------------------------------------------- names
def short_name(kind: str, value: str) -> str:
    """A dataset's or architecture's short title from the registry ("MNIST-1D", not its note)."""
    info = get_dataset_info(value) if kind == "dataset" else get_arch_info(value)
    return info.title.split(" (")[0]


def run_label(f: dict) -> str:
    """A run as the report names it: dataset and iterations per round."""
    c = f["config"]
    return f"{short_name('dataset', c['dataset'])}, {its(c['training']['iterations'])} iterations"


def run_status(f: dict) -> str:
    """Complete, or how many of its planned levels a run has finished."""
    d = f["derived"]
    return "complete" if f["complete"] else f"partial: {d['levels_done']} of {d['levels_planned']} levels so far"

