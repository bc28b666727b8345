"""The science guard's experiment, shared by the guard test and scripts/calibrate_guard.py.

LeNet-300-100 on real Fashion-MNIST, 50% per round for 3 rounds (100, 50.1, 25.1, 12.6%
remaining), 1,000 iterations, ticket and random re-init, 2 trials at seeds 0 and 1. The
calibration runs the same config at other seeds (10 and up), never 0 or 1.
"""
from __future__ import annotations

from lth_core.config import ExperimentConfig, PruningConfig, TrainingConfig

GUARD = ExperimentConfig(dataset="fashion-mnist", arch="lenet300",
                         pruning=PruningConfig(rate=0.5, rounds=3),
                         training=TrainingConfig(iterations=1000, eval_every=50),
                         controls=("reinit",), trials=2, seed=0)
LEVEL_A = 2   # 25.1% remaining: the ticket must hold dense accuracy here
LEVEL_C = 3   # 12.6% remaining: the ticket must beat its re-init here
