"""Masks as plain data: {weight name: bool tensor}, True where a weight survives."""
from __future__ import annotations

import torch
from torch import nn

Masks = dict  # {state_dict key: torch.bool tensor of the weight's shape}


def ones_like(model: nn.Module, names) -> Masks:
    """A mask that keeps every weight of the named (prunable) layers."""
    params = dict(model.named_parameters())
    return {n: torch.ones_like(params[n], dtype=torch.bool, device="cpu") for n in names}


def counts(masks: Masks) -> dict[str, int]:
    """Surviving weights per layer."""
    return {n: int(m.sum()) for n, m in masks.items()}


def sizes(masks: Masks) -> dict[str, int]:
    """Total weights per layer (alive or pruned)."""
    return {n: m.numel() for n, m in masks.items()}


def density(masks: Masks) -> float:
    """Fraction of prunable weights that survive, in (0, 1]."""
    total = sum(m.numel() for m in masks.values())
    return sum(int(m.sum()) for m in masks.values()) / total


def apply_(model: nn.Module, masks: Masks) -> nn.Module:
    """Zero the pruned weights in place; state_dict keys stay unchanged."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for n, m in masks.items():
            params[n].mul_(m.to(params[n].device, params[n].dtype))
    return model
