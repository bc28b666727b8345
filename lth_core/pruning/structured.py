"""Structured pruning: whole units go, not single weights (Li et al. 2017).

A unit is a hidden neuron of a fully connected layer (weight row i) or a conv filter
(weight[j]); its outgoing weights in the next layer go with it. Masks stay element masks of
the usual shape, so training, storage and every chart work unchanged. `neurons` removes
hidden fc neurons (conv layers pruned weight by weight); `filters` removes conv filters and
fc neurons. A unit's score is the sum of its surviving incoming weights' scores (for
magnitude, the L1 norm). Each round removes round(rate x alive units) per layer, exact in
units; the output layer loses only columns. Structured pruning is layer-wise.
"""
from __future__ import annotations

import dataclasses

import torch

from lth_core.config import PruningConfig
from lth_core.pruning.criteria import scores as criterion_scores
from lth_core.pruning.magnitude import n_to_prune, next_counts, prune_by_counts, random_like
from lth_core.pruning.masks import Masks


def unit_layers(kinds: dict[str, str], granularity: str) -> list[str]:
    """The layers whose units are pruned whole, in network order."""
    whole = {"neurons": ("fc",), "filters": ("fc", "conv")}.get(granularity, ())
    return [n for n, k in kinds.items() if k in whole]


def alive_rows(mask: torch.Tensor) -> torch.Tensor:
    """Bool vector over a layer's units: True where the unit keeps any incoming weight."""
    return mask.reshape(mask.shape[0], -1).any(1)


def _rate(kind: str, cfg: PruningConfig) -> float:
    return cfg.conv_rate if kind == "conv" else cfg.rate


def units_after(alive: int, rate: float, rounds: int) -> int:
    """Units left of `alive` after `rounds` rounds at `rate` (each removes round(rate x alive))."""
    for _ in range(rounds):
        alive -= n_to_prune(alive, rate)
    return alive


def apply_units(masks: Masks, kinds: dict[str, str], rows: dict[str, torch.Tensor]) -> Masks:
    """Masks with each removed unit's row cleared, and its outgoing weights in the next layer."""
    out = {n: m.clone() for n, m in masks.items()}
    order = list(masks)
    for n, keep in rows.items():
        out[n][~keep] = False
        nxt = order[order.index(n) + 1]
        m = out[nxt]
        if m.dim() == 4 or masks[n].dim() == 2:  # conv -> conv, fc -> fc: one input channel / column
            m[:, ~keep] = False
        else:  # conv -> flatten -> fc: channel j owns columns [j*HW, (j+1)*HW)
            cols = keep.repeat_interleave(m.shape[1] // keep.numel())
            m[:, ~cols] = False
    return out


def prune_units(weights: dict, masks: Masks, kinds: dict[str, str], cfg: PruningConfig,
                init: dict | None, criterion: str, rounds: int = 1) -> Masks:
    """`rounds` rounds' worth of structured pruning in one step (1: an IMP round; the level:
    one-shot pruning from the dense network)."""
    el = criterion_scores(criterion, weights, init, masks, [[n] for n in masks])
    whole = unit_layers(kinds, cfg.granularity)
    new = dict(masks)
    single = [n for n, k in kinds.items() if k == "conv" and n not in whole]  # conv, weight by weight
    if single:
        sub_kinds, sub = {n: kinds[n] for n in single}, {n: masks[n] for n in single}
        layerwise = dataclasses.replace(cfg, strategy="layerwise")
        keep = {n: int(sub[n].sum()) for n in single}
        for _ in range(rounds):
            keep = next_counts({n: torch.ones(keep[n], dtype=torch.bool) for n in single}, sub_kinds, layerwise)
        new.update(prune_by_counts(el, sub, sub_kinds, layerwise, keep, scored=True))
    rows = {}
    for n in whole:
        alive = alive_rows(masks[n])
        unit_scores = (el[n].reshape(masks[n].shape) * masks[n]).reshape(alive.numel(), -1).sum(1)
        n_alive = int(alive.sum())
        rows[n] = _keep_top(unit_scores, alive, n_alive - units_after(n_alive, _rate(kinds[n], cfg), rounds))
    return apply_units(new, kinds, rows)


def _keep_top(scores: torch.Tensor, alive: torch.Tensor, n_remove: int) -> torch.Tensor:
    """alive with the n_remove lowest-scoring alive entries cleared."""
    keep = alive.clone()
    if n_remove > 0:
        masked = torch.where(alive, scores, torch.full_like(scores, float("inf")))
        keep[torch.topk(masked, n_remove, largest=False).indices] = False
    return keep


def random_units(masks: Masks, kinds: dict[str, str], granularity: str, generator: torch.Generator) -> Masks:
    """A random structured mask with the same number of units (and so of weights) in every layer:
    the random-pruning control of a structured ticket. Layers drawn in network order."""
    whole = unit_layers(kinds, granularity)
    single = [n for n, k in kinds.items() if k == "conv" and n not in whole]
    base = {n: torch.ones_like(m) for n, m in masks.items()}
    base.update(random_like({n: masks[n] for n in single}, generator))
    rows = {}
    for n in whole:
        k = int(alive_rows(masks[n]).sum())
        pick = torch.zeros(masks[n].shape[0], dtype=torch.bool)
        pick[torch.randperm(masks[n].shape[0], generator=generator)[:k]] = True
        rows[n] = pick
    return apply_units(base, kinds, rows)


def ladder(weights: dict, kinds: dict[str, str], cfg: PruningConfig) -> list[float]:
    """% of prunable weights remaining at each level 0..rounds. Exact without training: the
    counts depend only on how many units go, never on which, so a simulated run on any weights
    gives them."""
    masks = {n: torch.ones_like(weights[n], dtype=torch.bool) for n in kinds}
    total = sum(m.numel() for m in masks.values())
    out = [100.0]
    for _ in range(cfg.rounds):
        masks = prune_units(weights, masks, kinds, cfg, None, "magnitude")
        out.append(100.0 * sum(int(m.sum()) for m in masks.values()) / total)
    return out
