"""Robustness to weight noise: test accuracy after Gaussian noise on the surviving weights.

Each prunable layer's survivors get scale * std(that layer's survivors) * N(0, 1); pruned
weights stay zero, biases and BatchNorm are untouched. Scaling by each layer's own spread
makes one scale mean the same disturbance in a wide dense layer and a sparse one; scale 0
reproduces the clean accuracy exactly. Each draw is seeded on its own (derive_seed) and drawn
on the CPU, so numbers do not depend on the device. Evaluation only; no store, no Streamlit.
"""
from __future__ import annotations

import math

import torch

from lth_core.pruning.masks import Masks
from lth_core.models.architectures import build, prunable_layers
from lth_core.seeds import derive_seed
from lth_core.lottery.stability import accuracy, load_masked_


def layer_std(weight: torch.Tensor, mask: torch.Tensor) -> float:
    """Standard deviation (population, ddof 0) of a layer's surviving weights; 0 when none survive."""
    alive = weight[mask.to(weight.device)]
    return float(alive.double().std(correction=0)) if alive.numel() else 0.0


def noisy_state(state: dict, masks: Masks, layers, scale: float, generator: torch.Generator) -> dict:
    """A copy of `state` with scale * std * N(0, 1) added to the surviving weights of each
    layer in `layers` (state_dict keys, walked in the order given); everything else unchanged.
    scale >= 0, relative to each layer's std of surviving weights."""
    out = dict(state)
    for name in layers:
        w = state[name]
        mask = masks[name].to(w.device) if name in masks else torch.ones_like(w, dtype=torch.bool)
        z = torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.device, w.dtype)
        out[name] = (w + scale * layer_std(w, mask) * z) * mask.to(w.dtype)
    return out


def check_scales(scales) -> list[float]:
    """The scales as floats, each finite and >= 0; ValueError naming the first bad one."""
    out = []
    for s in scales:
        try:
            v = float(s)
        except (TypeError, ValueError):
            raise ValueError(f"a noise scale must be a number >= 0, got {s!r}") from None
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"a noise scale must be a finite number >= 0, got {s!r}")
        out.append(v)
    return out


def noise_accuracy(arch: str, dropout: float, state: dict, masks: Masks, x: torch.Tensor, y: torch.Tensor,
                   scales, draws: int, seed: int) -> list[list[float]]:
    """Test accuracy (fraction in [0, 1]) of the trained network `state` under weight noise.

    masks: the ticket's {weight key: bool tensor} ({} means dense); x, y: the test split on the
    evaluation device; scales: relative scales >= 0; draws: per scale (>= 1); seed: base of every
    draw's seed. Returns out[scale index][draw index]; scale 0 is the clean accuracy exactly."""
    scales = check_scales(scales)
    if not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
    model = build(arch, seed=0, dropout=dropout).to(x.device)
    layers = sorted(prunable_layers(model))
    clean = None
    out = []
    for i, scale in enumerate(scales):
        if scale == 0:
            if clean is None:
                clean = accuracy(load_masked_(model, state, masks), x, y)
            out.append([clean] * draws)
            continue
        row = []
        for j in range(draws):
            gen = torch.Generator().manual_seed(derive_seed(int(seed), "noise", i, j))
            row.append(accuracy(load_masked_(model, noisy_state(state, masks, layers, scale, gen), masks), x, y))
        out.append(row)
    return out
