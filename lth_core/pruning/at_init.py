"""Masks found at initialisation, before any training: the "find them earlier" question.

Each method scores theta_0 alone and keeps the top weights at exactly the counts IMP would
have at the same level (lth_core.pruning.magnitude.counts_after: layer-wise or global, the output layer
at its own rate), so an at-init arm and the IMP ticket of a level have the same sparsity.

  magnitude_init  |theta_0|
  snip            |g * theta_0|, g the loss gradient summed over SNIP_BATCHES minibatches
                  (Lee et al. 2019)
  synflow         |theta * d R / d theta| with R the summed output of the network with every
                  parameter made positive, on an all-ones input: data-free. Pruned in
                  SYNFLOW_STEPS steps towards the target (an exponential schedule), rescoring
                  each time, which is what avoids layer collapse (Tanaka et al. 2020)
"""
from __future__ import annotations

import copy

import torch
from torch.nn import functional as F

from lth_core.config import AT_INIT, PruningConfig
from lth_core.pruning.masks import Masks
from lth_core.pruning.magnitude import counts_after, prune_by_counts

SNIP_BATCHES = 10
SYNFLOW_STEPS = 100


def at_init_mask(method: str, model: torch.nn.Module, kinds: dict[str, str], cfg: PruningConfig, level: int,
                 batches=None) -> Masks:
    """The mask `method` finds on `model` (holding theta_0, on the CPU) at IMP level `level`'s counts.
    batches: (inputs, labels) minibatches, needed by snip only."""
    params = dict(model.named_parameters())
    sizes = {n: params[n].numel() for n in kinds}
    ones = {n: torch.ones_like(params[n], dtype=torch.bool) for n in kinds}
    keep = counts_after(sizes, kinds, cfg, level)
    if method == "magnitude_init":
        return prune_by_counts({n: params[n].detach() for n in kinds}, ones, kinds, cfg, keep)
    if method == "snip":
        return prune_by_counts(snip_scores(model, kinds, batches), ones, kinds, cfg, keep, scored=True)
    if method == "synflow":
        return synflow_mask(model, kinds, cfg, sizes, keep)
    raise ValueError(f"unknown at-init method {method!r}; allowed: {', '.join(AT_INIT)}")


def snip_scores(model: torch.nn.Module, kinds: dict[str, str], batches) -> dict:
    """{layer: |g * theta_0|}: connection sensitivity, summed over the given minibatches."""
    net = copy.deepcopy(model).train()
    params = dict(net.named_parameters())
    net.zero_grad()
    for x, y in batches:
        F.cross_entropy(net(x), y).backward()
    return {n: (params[n].grad * params[n]).detach().abs() for n in kinds}


def synflow_mask(model: torch.nn.Module, kinds: dict[str, str], cfg: PruningConfig, sizes: dict, keep: dict) -> Masks:
    """Iterative SynFlow: SYNFLOW_STEPS rescorings, the survivors shrinking geometrically to `keep`."""
    net = copy.deepcopy(model).double().eval()  # float64: the product of many |weights| overflows less
    with torch.no_grad():
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    params = dict(net.named_parameters())
    masks = {n: torch.ones_like(params[n], dtype=torch.bool) for n in kinds}
    full = counts_after(sizes, kinds, cfg, 0)
    x = torch.ones((1, *input_shape(net)), dtype=torch.float64)
    orig = {n: params[n].detach().clone() for n in kinds}
    for step in range(1, SYNFLOW_STEPS + 1):
        with torch.no_grad():
            for n in kinds:
                params[n].copy_(orig[n] * masks[n])
        net.zero_grad()
        net(x).sum().backward()
        score = {n: (params[n].grad * params[n]).detach().abs() for n in kinds}
        frac = step / SYNFLOW_STEPS
        target = {k: int(round(full[k] * (keep[k] / full[k]) ** frac)) if full[k] else 0 for k in keep}
        if step == SYNFLOW_STEPS:
            target = keep
        masks = prune_by_counts(score, masks, kinds, cfg, target, scored=True)
    return masks


def input_shape(model: torch.nn.Module) -> tuple:
    """The input shape (without batch) a registry architecture takes, from its first layer."""
    first = next(m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    if isinstance(first, torch.nn.Linear):
        return (first.in_features,)
    return (first.in_channels, 32, 32)  # every conv architecture here reads 32x32 CIFAR images
