"""The atlas: a grid of real experiments computed in advance, so a student can scrub through
pruning rates and levels without training anything.

It is the quick demo's network, data and optimizer at several pruning rates per round, each down to
about 3% of the weights remaining, with 5 trials of the ticket, its random re-initialisation and
random pruning. `scripts/make_atlas.py` computes it and copies the runs into the gallery (compact:
metrics and the ticket's masks). The same file also names the demo's companion: the quick demo's
exact experiment with 5 trials, whose trials 1-4 join a student's live trial 0 so that the demo's
verdicts rest on several trials. Pure: no torch, no I/O.
"""
from __future__ import annotations

from lth_core.config import ExperimentConfig, PruningConfig
from lth_core.presets import QUICK
from lth_core.registry import ARCHITECTURES, DATASETS

RATES = (0.2, 0.35, 0.5, 0.65, 0.8)  # fraction of the hidden weights pruned per round
TRIALS = 5
TARGET_PRUNED = 0.97  # each rate runs until about 3% of the weights remain
CONTROLS = ("reinit", "random")
_T = QUICK.training
SETTINGS = (f"{DATASETS[QUICK.dataset].short}, the quick demo's {ARCHITECTURES[QUICK.arch].short}, "
            f"{_T.optimizer.capitalize()} {_T.lr:g}, batch {_T.batch_size}, {_T.iterations:,} iterations per round, "
            f"evaluated every {_T.eval_every}; {TRIALS} trials of the ticket, random re-init and random pruning")


def config(rate: float) -> ExperimentConfig:
    """The atlas experiment at one pruning rate per round."""
    if rate not in RATES:
        raise ValueError(f"the atlas has no rate {rate!r}; it has {', '.join(f'{r:g}' for r in RATES)}")
    return QUICK.replace(rate=rate, rounds=PruningConfig.rounds_until(rate, TARGET_PRUNED), trials=TRIALS,
                         controls=CONTROLS)


def companion(demo: ExperimentConfig) -> ExperimentConfig | None:
    """The experiment whose earlier trials join a one-trial run of `demo`: the same config with
    TRIALS trials. None unless `demo` is the quick demo itself (one trial)."""
    if demo.trials != 1 or demo.replace(trials=TRIALS) != QUICK.replace(trials=TRIALS):
        return None
    return QUICK.replace(trials=TRIALS)


def configs() -> list[ExperimentConfig]:
    """Every experiment the atlas ships: one per rate, and the demo's companion."""
    return [config(r) for r in RATES] + [companion(QUICK)]
