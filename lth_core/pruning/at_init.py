"""Masks found at initialisation, before any training: the "find them earlier" question.

Each method scores theta_0 alone and keeps as many top-scoring weights as IMP keeps at the
same level (magnitude.counts_after), so both have the same sparsity. at_init_scope: `global`
ranks every layer together (each method picks its own layer proportions, as SNIP and SynFlow
define it), `layer` uses IMP's per-layer counts. The inversion check (Frankle et al. 2021)
keeps the lowest-scoring weights instead: a method whose scores matter should lose.
Methods: magnitude_init |theta_0|; snip |g * theta_0| (Lee et al. 2019); synflow, data-free
and pruned in SYNFLOW_STEPS rescoring steps to avoid layer collapse (Tanaka et al. 2020).
"""
from __future__ import annotations

import copy
import dataclasses

import torch
from torch.nn import functional as F

from lth_core.arms import AT_INIT
from lth_core.config import PruningConfig
from lth_core.fields import AT_INIT_SCOPES
from lth_core.pruning.masks import Masks
from lth_core.pruning.magnitude import counts_after, prune_by_counts

SNIP_BATCHES = 10
SYNFLOW_STEPS = 100


def budget(sizes: dict[str, int], kinds: dict[str, str], cfg: PruningConfig, level: int, scope: str):
    """(kinds, cfg, counts) to rank with at IMP level `level`: IMP's own per-layer counts (scope
    'layer'), or one pool of every prunable layer holding IMP's total count (scope 'global')."""
    keep = counts_after(sizes, kinds, cfg, level)
    if scope == "layer":
        return kinds, cfg, keep
    if scope != "global":
        raise ValueError(f"unknown at-init scope {scope!r}; allowed: {', '.join(AT_INIT_SCOPES)}")
    pooled = {n: "fc" for n in kinds}  # any kind but "output" joins the global pool
    return pooled, dataclasses.replace(cfg, strategy="global"), {"_pool": sum(keep.values())}


def at_init_mask(method: str, model: torch.nn.Module, kinds: dict[str, str], cfg: PruningConfig, level: int,
                 batches=None, scope: str = "global", invert: bool = False) -> Masks:
    """The mask `method` finds on `model` (holding theta_0, on the CPU) with IMP level `level`'s count.
    batches: (inputs, labels) minibatches, needed by snip only. invert: keep the lowest scores."""
    params = dict(model.named_parameters())
    sizes = {n: params[n].numel() for n in kinds}
    ones = {n: torch.ones_like(params[n], dtype=torch.bool) for n in kinds}
    rank_kinds, rank_cfg, keep = budget(sizes, kinds, cfg, level, scope)
    sign = -1.0 if invert else 1.0
    if method == "magnitude_init":
        scores = {n: sign * params[n].detach().abs() for n in kinds}
        return prune_by_counts(scores, ones, rank_kinds, rank_cfg, keep, scored=True)
    if method == "snip":
        scores = {n: sign * v for n, v in snip_scores(model, kinds, batches).items()}
        return prune_by_counts(scores, ones, rank_kinds, rank_cfg, keep, scored=True)
    if method == "synflow":
        return synflow_mask(model, kinds, rank_kinds, rank_cfg, sizes, keep, sign)
    raise ValueError(f"unknown at-init method {method!r}; allowed: {', '.join(AT_INIT)}")


def snip_scores(model: torch.nn.Module, kinds: dict[str, str], batches) -> dict:
    """{layer: |g * theta_0|}: connection sensitivity, summed over the given minibatches."""
    net = copy.deepcopy(model).train()
    params = dict(net.named_parameters())
    net.zero_grad()
    for x, y in batches:
        F.cross_entropy(net(x), y).backward()
    return {n: (params[n].grad * params[n]).detach().abs() for n in kinds}


def synflow_mask(model: torch.nn.Module, kinds: dict[str, str], rank_kinds: dict[str, str], cfg: PruningConfig,
                 sizes: dict, keep: dict, sign: float = 1.0) -> Masks:
    """Iterative SynFlow: SYNFLOW_STEPS rescorings, the survivors shrinking geometrically to `keep`
    (counts per rank_kinds' grouping; sign -1 ranks the lowest scores first: the inversion check)."""
    net = copy.deepcopy(model).double().eval()  # float64: the product of many |weights| overflows less
    with torch.no_grad():
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    params = dict(net.named_parameters())
    masks = {n: torch.ones_like(params[n], dtype=torch.bool) for n in kinds}
    full = counts_after(sizes, rank_kinds, cfg, 0)
    x = torch.ones((1, *input_shape(net)), dtype=torch.float64)
    orig = {n: params[n].detach().clone() for n in kinds}
    for step in range(1, SYNFLOW_STEPS + 1):
        with torch.no_grad():
            for n in kinds:
                params[n].copy_(orig[n] * masks[n])
        net.zero_grad()
        net(x).sum().backward()
        score = {n: sign * (params[n].grad * params[n]).detach().abs() for n in kinds}
        frac = step / SYNFLOW_STEPS
        target = {k: int(round(full[k] * (keep[k] / full[k]) ** frac)) if full[k] else 0 for k in keep}
        if step == SYNFLOW_STEPS:
            target = keep
        masks = prune_by_counts(score, masks, rank_kinds, cfg, target, scored=True)
    return masks


def input_shape(model: torch.nn.Module) -> tuple:
    """The input shape (without batch) a registry architecture takes, from its first layer."""
    first = next(m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    if isinstance(first, torch.nn.Linear):
        return (first.in_features,)
    return (first.in_channels, 32, 32)  # every conv architecture here reads 32x32 CIFAR images
