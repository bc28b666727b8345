"""Stability to SGD noise: test error along the straight line between two trained networks.

Linear mode connectivity (Frankle et al. 2020): two copies trained from the same weights with
different minibatch orders are evaluated at (1 - alpha) * a + alpha * b, with the ticket's mask
applied. The instability is the error barrier on that line (maximum error minus the mean of the
ends): near 0, a stable network. Every floating entry is interpolated, BatchNorm statistics
included. Also home of the two steps every evaluation-only analysis shares: rebuild a masked
network from a stored state, and measure its accuracy. Pure: no store, no Streamlit.
"""
from __future__ import annotations

import torch
from torch import nn

from lth_core.pruning.masks import Masks, apply_
from lth_core.models.architectures import build
from lth_core.training.loop import evaluate


def masked_network(arch: str, dropout: float, state: dict, masks: Masks, device="cpu") -> nn.Module:
    """The network `arch` holding `state` ({state_dict key: tensor}) with the pruned weights
    zeroed, on `device`, in eval mode (dropout off, BatchNorm on its running statistics)."""
    return load_masked_(build(arch, seed=0, dropout=dropout).to(device), state, masks)


def load_masked_(model: nn.Module, state: dict, masks: Masks) -> nn.Module:
    """Load `state` into `model` in place (on the model's device), zero the pruned weights,
    switch to eval mode; returns the model. Reusing one model saves rebuilding it per draw."""
    model.load_state_dict(state)
    return apply_(model, masks).eval()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of (x, y) classified correctly, in [0, 1]: correct / len(y), computed exactly as
    training's evaluation records test_acc (lth_core.training.loop.evaluate, same chunks)."""
    _, correct = evaluate(model, x, y)
    return int(correct) / len(y)


def blend(state_a: dict, state_b: dict, alpha: float, masks: Masks) -> dict:
    """The state (1 - alpha) * a + alpha * b for every floating entry (integer entries, such as
    BatchNorm's batch counter, come from a), with the pruned weights of `masks` set to zero.
    alpha in [0, 1]; at 0 and 1 the surviving weights equal a's and b's exactly."""
    if state_a.keys() != state_b.keys():
        raise ValueError("the two states hold different entries: "
                         f"{sorted(set(state_a) ^ set(state_b))[:5]}")
    out = {}
    for k, a in state_a.items():
        b = state_b[k]
        if a.shape != b.shape:
            raise ValueError(f"{k}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
        # (1 - alpha) * a + alpha * b, not torch.lerp: exact at both ends for finite weights
        out[k] = (1 - alpha) * a + alpha * b.to(a.dtype) if a.is_floating_point() else a.clone()
    for k, m in masks.items():
        out[k] = out[k] * m.to(out[k].dtype)
    return out


def alphas(points: int) -> list[float]:
    """`points` evenly spaced interpolation weights from 0 to 1 inclusive (points >= 2)."""
    if not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    return [round(i / (points - 1), 12) for i in range(points)]


def barrier(errors) -> float:
    """Instability: max(errors) - mean(errors[0], errors[-1]), a fraction in [0, 1].
    Never negative, since the maximum includes both ends."""
    errors = list(errors)
    return max(errors) - (errors[0] + errors[-1]) / 2


def interpolation(arch: str, dropout: float, state_a: dict, state_b: dict, masks: Masks,
                  x: torch.Tensor, y: torch.Tensor, points: int = 11) -> dict:
    """Test error along the line from network a to network b (same architecture, same mask).

    state_a, state_b: trained state dicts; masks: the ticket's (all-ones for dense); x, y: the test
    split on the evaluation device. Returns {"alpha": [0, ..., 1], "test_error": fractions in [0, 1],
    "barrier": max error minus the mean of the two ends, in [0, 1]}."""
    grid = alphas(points)
    model = build(arch, seed=0, dropout=dropout).to(x.device)
    errors = []
    for alpha in grid:
        errors.append(1 - accuracy(load_masked_(model, blend(state_a, state_b, alpha, masks), masks), x, y))
    return {"alpha": grid, "test_error": errors, "barrier": barrier(errors)}
