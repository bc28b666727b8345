"""The bench's reference workload, shared by its in-process and whole-process parts.

LeNet-300-100 on Fashion-MNIST, batch 60, Adam 1.2e-3, 3 levels (dense + 2 rounds at 20%),
validation and test every EVAL_EVERY iterations.
"""
from __future__ import annotations

from lth_core.config import ExperimentConfig, PruningConfig, TrainingConfig

EVAL_EVERY = 100


def reference_config(iterations: int, device: str) -> ExperimentConfig:
    """The reference workload: 3 levels (dense + 2 rounds at 20%), 1 trial, no controls."""
    return ExperimentConfig(dataset="fashion-mnist", arch="lenet300", pruning=PruningConfig(rate=0.2, rounds=2),
                            training=TrainingConfig(iterations=iterations, eval_every=EVAL_EVERY),
                            controls=(), trials=1, device=device)


def trials_config(iterations: int) -> ExperimentConfig:
    """Ticket + random re-init x 3 trials of the reference workload (15 networks)."""
    return reference_config(iterations, "cpu").replace(trials=3, controls=("reinit",))
