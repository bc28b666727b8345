"""Pure pruning functions: (weights, mask, config) -> new mask.

Pruning only removes still-alive weights, exactly round(rate x alive) per layer (layer-wise)
or over the pooled layers (global); the output layer is always layer-wise at output_rate.
The criterion (pruning.criteria) decides which weights go; structured granularity removes
whole units instead (pruning.structured).
"""
from __future__ import annotations

import torch

from lth_core.config import PruningConfig
from lth_core.pruning.criteria import scores as criterion_scores
from lth_core.pruning.masks import Masks


def layer_rates(kinds: dict[str, str], cfg: PruningConfig) -> dict[str, float]:
    """Per-round rate of each layer by its kind ('conv', 'fc', 'output')."""
    by_kind = {"conv": cfg.conv_rate, "fc": cfg.rate, "output": cfg.output_rate}
    return {n: by_kind[k] for n, k in kinds.items()}


def n_to_prune(alive: int, rate: float) -> int:
    """How many of `alive` weights one round at `rate` removes."""
    return int(round(rate * alive))


def _keep_largest(scores: torch.Tensor, mask: torch.Tensor, n_remove: int) -> torch.Tensor:
    """Remove the n_remove smallest-score alive entries of a flat score vector."""
    scores = torch.where(mask, scores, torch.full_like(scores, float("inf")))
    new = mask.clone()
    if n_remove > 0:
        new[torch.topk(scores, n_remove, largest=False).indices] = False
    return new


def prune_weights(weights: dict[str, torch.Tensor], masks: Masks, kinds: dict[str, str],
                  cfg: PruningConfig, init: dict | None = None, criterion: str | None = None) -> Masks:
    """One unstructured IMP round (lth_core.pruning.rounds.prune chooses by granularity)."""
    criterion = criterion or cfg.criterion
    sc = criterion_scores(criterion, weights, init, masks, scopes(masks, kinds, cfg))
    return prune_by_counts(sc, masks, kinds, cfg, next_counts(masks, kinds, cfg), scored=True)


def scopes(masks: Masks, kinds: dict[str, str], cfg: PruningConfig) -> list[list[str]]:
    """Groups of layers pruned together: each layer alone (layer-wise), or the pooled non-output
    layers plus the output layer alone (global)."""
    if cfg.strategy == "layerwise":
        return [[n] for n in masks]
    pooled = [n for n in masks if kinds[n] != "output"]
    return ([pooled] if pooled else []) + [[n] for n in masks if kinds[n] == "output"]


def next_counts(masks: Masks, kinds: dict[str, str], cfg: PruningConfig) -> dict:
    """Survivor counts after one round: per layer (layer-wise) or {'_pool': n} + output."""
    alive = {n: int(m.sum()) for n, m in masks.items()}
    rates = layer_rates(kinds, cfg)
    if cfg.strategy == "layerwise":
        return {n: a - n_to_prune(a, rates[n]) for n, a in alive.items()}
    out = {n: a - n_to_prune(a, rates[n]) for n, a in alive.items() if kinds[n] == "output"}
    pool = sum(a for n, a in alive.items() if kinds[n] != "output")
    out["_pool"] = pool - n_to_prune(pool, cfg.rate)
    return out


def prune_by_counts(weights: dict[str, torch.Tensor], masks: Masks, kinds: dict[str, str],
                    cfg: PruningConfig, keep: dict, scored: bool = False) -> Masks:
    """Keep the largest-magnitude alive weights so that `keep` counts survive (scored=True:
    `weights` are already scores, higher kept, e.g. from lth_core.pruning.criteria)."""
    if not scored:
        weights = {n: w.detach().abs() for n, w in weights.items() if n in masks}
    new: Masks = {}
    pooled = [n for n in masks if cfg.strategy == "global" and kinds[n] != "output"]
    for n, m in masks.items():
        if n in pooled:
            continue
        flat = m.flatten()
        w = weights[n].flatten().to("cpu", torch.float32)
        new[n] = _keep_largest(w, flat, int(flat.sum()) - keep[n]).reshape(m.shape)
    if pooled:
        flats = [masks[n].flatten() for n in pooled]
        scores = torch.cat([weights[n].flatten().to("cpu", torch.float32) for n in pooled])
        joint = _keep_largest(scores, torch.cat(flats), int(sum(int(f.sum()) for f in flats)) - keep["_pool"])
        for n, piece in zip(pooled, torch.split(joint, [f.numel() for f in flats])):
            new[n] = piece.reshape(masks[n].shape)
    return new


def counts_after(sizes: dict[str, int], kinds: dict[str, str], cfg: PruningConfig, rounds: int) -> dict:
    """Survivor counts after `rounds` IMP rounds from a dense network (known in advance)."""
    counts = {n: s for n, s in sizes.items()}
    if cfg.strategy == "global":
        counts = {n: s for n, s in sizes.items() if kinds[n] == "output"}
        counts["_pool"] = sum(s for n, s in sizes.items() if kinds[n] != "output")
    rates = layer_rates(kinds, cfg)
    for _ in range(rounds):
        counts = {n: (c - n_to_prune(c, cfg.rate if n == "_pool" else rates[n])) for n, c in counts.items()}
    return counts


def ladder(sizes: dict[str, int], kinds: dict[str, str], cfg: PruningConfig) -> list[float]:
    """% of prunable weights remaining at each level 0..rounds (100 first)."""
    total = sum(sizes.values())
    return [100.0 * sum(counts_after(sizes, kinds, cfg, r).values()) / total for r in range(cfg.rounds + 1)]


def random_like(masks: Masks, generator: torch.Generator) -> Masks:
    """A random mask with exactly the same number of survivors in every layer.

    Layers are drawn in sorted-name order, so the result depends only on the generator's seed."""
    drawn = {}
    for n in sorted(masks):
        m = masks[n]
        order = torch.randperm(m.numel(), generator=generator)
        flat = torch.zeros(m.numel(), dtype=torch.bool)
        flat[order[: int(m.sum())]] = True
        drawn[n] = flat.reshape(m.shape)
    return {n: drawn[n] for n in masks}
