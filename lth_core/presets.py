"""Named experiment configs: a quick offline demo and the paper's protocols.

Presets are starting points; every field can be overridden afterwards.
"""
from __future__ import annotations

from lth_core.config import ExperimentConfig, PruningConfig, TrainingConfig

PRESETS: dict[str, tuple[str, ExperimentConfig]] = {
    "quick": (
        "MNIST-1D MLP, 4 rounds at 50% per round, ticket vs random re-init: under a minute on 2 CPU cores",
        ExperimentConfig(dataset="mnist1d", arch="mlp1d",
                         pruning=PruningConfig(rate=0.5, rounds=4),
                         training=TrainingConfig(iterations=500, eval_every=25, lr=1.2e-3, batch_size=60),
                         controls=("reinit",))),
    "lenet-fmnist": (
        "LeNet-300-100 on Fashion-MNIST, the paper's optimizer, 3,000 iterations per round, 8 rounds",
        ExperimentConfig(dataset="fashion-mnist", arch="lenet300",
                         pruning=PruningConfig(rate=0.2, rounds=8),
                         training=TrainingConfig(iterations=3000, eval_every=100),
                         controls=("reinit",))),
    "lenet-mnist": (
        "The paper's LeNet-300-100 protocol on MNIST: 50K iterations, 20 rounds at 20% (output 10%), 5 trials",
        ExperimentConfig(dataset="mnist", arch="lenet300",
                         pruning=PruningConfig(rate=0.2, rounds=20),
                         training=TrainingConfig(iterations=50_000, eval_every=100),
                         controls=("reinit",), trials=5)),
    "conv2-cifar10": (
        "The paper's Conv-2 on CIFAR-10: Adam 2e-4, 20K iterations, conv 10% / fc 20% per round",
        ExperimentConfig(dataset="cifar10", arch="conv2",
                         pruning=PruningConfig(rate=0.2, conv_rate=0.1, output_rate=0.1, rounds=20),
                         training=TrainingConfig(iterations=20_000, lr=2e-4, eval_every=100),
                         controls=("reinit",))),
    "conv4-cifar10": (
        "The paper's Conv-4 on CIFAR-10: Adam 3e-4, 25K iterations, conv 10% / fc 20% per round",
        ExperimentConfig(dataset="cifar10", arch="conv4",
                         pruning=PruningConfig(rate=0.2, conv_rate=0.1, output_rate=0.1, rounds=20),
                         training=TrainingConfig(iterations=25_000, lr=3e-4, eval_every=100),
                         controls=("reinit",))),
    "conv6-cifar10": (
        "The paper's Conv-6 on CIFAR-10: Adam 3e-4, 30K iterations, conv 15% / fc 20% per round",
        ExperimentConfig(dataset="cifar10", arch="conv6",
                         pruning=PruningConfig(rate=0.2, conv_rate=0.15, output_rate=0.1, rounds=20),
                         training=TrainingConfig(iterations=30_000, lr=3e-4, eval_every=100),
                         controls=("reinit",))),
}


def get_preset(name: str) -> ExperimentConfig:
    """The preset's config; ValueError lists the valid names."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")
    return PRESETS[name][1]
