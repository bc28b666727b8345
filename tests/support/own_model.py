"""Small models of "your own" for the bring-your-own-model tests: factories fn(seed) -> nn.Module,
importable by name as worker processes and the app import them."""
from __future__ import annotations

import torch
from torch import nn


def mlp(seed: int) -> nn.Module:
    """An MLP for MNIST-1D's 40 inputs: 40-32-10."""
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(40, 32), nn.ReLU(), nn.Linear(32, 10))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    return model


def mlp_other_init(seed: int) -> nn.Module:
    """The same architecture as mlp, another initialisation: a different model."""
    return mlp(seed + 1000)


def mlp_first_layer_only(seed: int) -> nn.Module:
    """mlp, naming its first layer as the only prunable weights."""
    model = mlp(seed)
    model.prunable_weights = ("0.weight",)
    return model


def mlp_bad_name(seed: int) -> nn.Module:
    model = mlp(seed)
    model.prunable_weights = ("fc9.weight",)
    return model


def unseeded(seed: int) -> nn.Module:
    """Ignores its seed: a different network on every call."""
    return nn.Sequential(nn.Linear(40, 10))


def not_a_module(seed: int):
    return [seed]


def wrong_width(seed: int) -> nn.Module:
    """Takes 784 inputs, not MNIST-1D's 40."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 10))


def mnist1d_splits(data, n: int = 1500) -> dict:
    """The first n examples of each MNIST-1D split as (inputs, labels) tensors."""
    return {"train": (data.x_train[:n], data.y_train[:n]), "val": (data.x_val[:n // 3], data.y_val[:n // 3]),
            "test": (data.x_test[:n // 3], data.y_test[:n // 3])}
