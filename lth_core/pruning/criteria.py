"""Pruning criteria (Zhou et al. 2019, "Deconstructing Lottery Tickets"): which surviving
weights a round keeps, scored from the start weights (w_i: theta_0 or theta_k) and the
trained ones (w_f). Higher score = kept.

  magnitude               |w_f|            the paper's criterion (the default)
  magnitude_increase      |w_f| - |w_i|    weights that grew
  movement                |w_f - w_i|      weights that moved
  large_init_large_final  min(rank |w_i|, rank |w_f|), ranks in [0, 1] among one scope's
                          survivors, so the top n are "both large" with the count exact.
Scores are only compared among surviving weights.
"""
from __future__ import annotations

import torch

from lth_core.arms import CRITERIA


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", torch.float32).flatten()


def _ranks(values: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
    """Fraction of the alive entries strictly below each entry, in [0, 1); 0 for pruned ones."""
    out = torch.zeros_like(values)
    idx = alive.nonzero().flatten()
    if len(idx):
        order = torch.argsort(values[idx], stable=True)
        out[idx[order]] = torch.arange(len(idx), dtype=values.dtype) / len(idx)
    return out


def scores(criterion: str, final: dict, init: dict, masks: dict, scopes: list[list[str]]) -> dict:
    """{layer: flat float32 score vector} for every masked layer. scopes: groups of layer names
    pruned together (one layer each for layer-wise pruning; the pooled layers for global)."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; allowed: {', '.join(CRITERIA)}")
    wf = {n: _flat(final[n]) for n in masks}
    if criterion == "magnitude":
        return {n: w.abs() for n, w in wf.items()}
    wi = {n: _flat(init[n]) for n in masks}
    if criterion == "magnitude_increase":
        return {n: wf[n].abs() - wi[n].abs() for n in masks}
    if criterion == "movement":
        return {n: (wf[n] - wi[n]).abs() for n in masks}
    out = {}
    for scope in scopes:  # large_init_large_final: ranks within the scope that is pruned together
        alive = torch.cat([masks[n].flatten() for n in scope])
        r_i = _ranks(torch.cat([wi[n].abs() for n in scope]), alive)
        r_f = _ranks(torch.cat([wf[n].abs() for n in scope]), alive)
        both = torch.minimum(r_i, r_f)
        for n, piece in zip(scope, torch.split(both, [masks[n].numel() for n in scope])):
            out[n] = piece
    return out
