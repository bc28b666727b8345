"""Bring your own model and data: a small CNN of your own on Fashion-MNIST, through the same IMP.

    python examples/fmnist_cnn.py                 # about half a minute on 2 CPU cores
    python examples/fmnist_cnn.py --iterations 2000 --rounds 5 --trials 3   # a real experiment

The model is a factory `small_cnn(seed) -> nn.Module` at the top level of this file, so worker
processes (and the app, opening the run later) can import it by name. The data are plain tensors:
any (inputs, labels) pairs, or torch Datasets, for train, validation and test. Fashion-MNIST comes
from lth_core's loader here (Debian's dataset-fashion-mnist, or a download); use your own instead.
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

import lth_core
from lth_core.data.datasets import load


def small_cnn(seed: int) -> nn.Module:
    """Two 3x3 conv layers and two fc layers (about 52,000 weights), its initial weights drawn from `seed`."""
    with torch.random.fork_rng(devices=[]):  # seed only this model's draws, not the caller's random state
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # (8, 14, 14)
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (16, 7, 7)
            nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))


def fashion_mnist(n_train: int, n_val: int, n_test: int, data_dir=None) -> dict:
    """The first n examples of each split as (inputs (n, 1, 28, 28), labels (n,)) tensors."""
    d = load("fashion-mnist", data_dir)
    return {"train": (d.x_train[:n_train], d.y_train[:n_train]), "val": (d.x_val[:n_val], d.y_val[:n_val]),
            "test": (d.x_test[:n_test], d.y_test[:n_test])}


def main(argv=None) -> lth_core.Run:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=150, help="training steps per round")
    p.add_argument("--rounds", type=int, default=2, help="pruning rounds (50%% of the survivors each)")
    p.add_argument("--trials", type=int, default=1)
    p.add_argument("--examples", type=int, default=3000, help="training examples used")
    p.add_argument("--store", help="run store (default $LTH_STORE or ./runs)")
    p.add_argument("--data-dir", help="data folder (default $LTH_DATA_DIR or ./data)")
    p.add_argument("--ticket", help="export the last level's ticket into this folder")
    a = p.parse_args(argv)
    data = fashion_mnist(a.examples, 1000, 1000, a.data_dir)
    run = lth_core.run(model=small_cnn, data=data, preset="quick", iterations=a.iterations, rounds=a.rounds,
                       rate=0.5, trials=a.trials, batch_size=60, lr=2e-3, store=a.store, data_dir=a.data_dir)
    print(run)
    print(run.table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for claim, c in run.claims().items():
        print(f"claim ({claim}): {c['verdict']}")
    if a.ticket:
        print(run.ticket(level=a.rounds).save(a.ticket))
    return run


if __name__ == "__main__":
    main()
