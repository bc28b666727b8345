"""Pruning invariants: exact counts, masks only shrink, smallest magnitudes go, the paper's ladder."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lth_core.lottery import state

from lth_core.models import architectures as models
from lth_core.config import ExperimentConfig, PruningConfig
from lth_core.pruning.masks import counts
from lth_core.presets import get_preset
from lth_core.pruning.magnitude import random_like
from lth_core.pruning.rounds import prune
from lth_core.registry import ARCHITECTURES

PAPER_LADDER = [100.0, 80.0, 64.1, 51.3, 41.1, 32.9, 26.3, 21.1, 16.9, 13.5]

MLP = models.build("mlp1d", seed=0)
MLP_KINDS = models.prunable_layers(MLP)
LENET_KINDS = models.prunable_layers(models.build("lenet300", seed=0))


def trained_like(kinds, seed: int, density: float, arch_model=MLP):
    """(weights, mask) as after training: random weights, a random mask, pruned weights exactly 0."""
    g = torch.Generator().manual_seed(seed)
    params = dict(arch_model.named_parameters())
    weights, masks = {}, {}
    for n in kinds:
        w = torch.randn(params[n].shape, generator=g)
        m = torch.rand(params[n].shape, generator=g) < density
        weights[n], masks[n] = w * m, m
    return weights, masks


def test_lenet_ladder_matches_paper():
    """The % remaining per round is the x-axis of every figure; it must be the paper's."""
    cfg = get_preset("lenet-fmnist").replace(rate=0.2, rounds=9)
    assert cfg.pruning.output_rate == 0.1
    assert [round(p, 1) for p in state.percent_ladder(cfg)] == PAPER_LADDER


@pytest.mark.parametrize("strategy", ["layerwise", "global"])
def test_ladder_matches_counts_of_real_pruning(strategy):
    """The ladder is shown before a run starts, so it must equal what pruning then really keeps."""
    cfg = ExperimentConfig(dataset="mnist1d", arch="mlp1d",
                           pruning=PruningConfig(strategy=strategy, rate=0.3, rounds=6))
    weights, masks = trained_like(MLP_KINDS, seed=1, density=1.0)
    total = sum(m.numel() for m in masks.values())
    seen = [100.0]
    for r in range(cfg.pruning.rounds):
        masks = prune(weights, masks, MLP_KINDS, cfg.pruning)
        weights = {n: w * masks[n] for n, w in weights.items()}
        seen.append(100.0 * sum(counts(masks).values()) / total)
    assert seen == pytest.approx(state.percent_ladder(cfg), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.01, 0.99), seed=st.integers(0, 2**16), density=st.floats(0.05, 1.0))
def test_layerwise_prunes_exact_count_per_layer(rate, seed, density):
    """Layer-wise IMP removes exactly round(rate x alive) weights in each layer, at that layer's rate."""
    cfg = PruningConfig(rate=rate)
    rates = {"fc": cfg.rate, "output": cfg.output_rate}
    weights, masks = trained_like(MLP_KINDS, seed, density)
    new = prune(weights, masks, MLP_KINDS, cfg)
    removed = {n: int(masks[n].sum()) - int(new[n].sum()) for n in masks}
    assert removed == {n: round(rates[k] * int(masks[n].sum())) for n, k in MLP_KINDS.items()}


@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.01, 0.99), seed=st.integers(0, 2**16), density=st.floats(0.05, 1.0))
def test_global_prunes_exact_count_over_pool(rate, seed, density):
    """Global IMP removes exactly round(rate x alive) over the pooled layers, output layer apart."""
    cfg = PruningConfig(strategy="global", rate=rate)
    weights, masks = trained_like(MLP_KINDS, seed, density)
    new = prune(weights, masks, MLP_KINDS, cfg)
    pool = [n for n, k in MLP_KINDS.items() if k != "output"]
    out = next(n for n, k in MLP_KINDS.items() if k == "output")
    alive_pool = sum(int(masks[n].sum()) for n in pool)
    removed_pool = alive_pool - sum(int(new[n].sum()) for n in pool)
    removed_out = int(masks[out].sum()) - int(new[out].sum())
    assert (removed_pool, removed_out) == (round(rate * alive_pool),
                                           round(cfg.output_rate * int(masks[out].sum())))


@pytest.mark.parametrize("strategy", ["layerwise", "global"])
@pytest.mark.parametrize("seed", range(4))
def test_masks_only_shrink(strategy, seed):
    """A pruned weight is never revived, even though pruned weights have the smallest magnitude (0)."""
    weights, masks = trained_like(MLP_KINDS, seed, density=0.4)
    new = prune(weights, masks, MLP_KINDS, PruningConfig(strategy=strategy, rate=0.5))
    assert all(not (new[n] & ~masks[n]).any() for n in masks)


@pytest.mark.parametrize("seed", range(4))
def test_layerwise_removes_smallest_magnitudes(seed):
    """Magnitude pruning: every removed alive weight is no larger in |w| than every survivor (sign ignored)."""
    weights, masks = trained_like(MLP_KINDS, seed, density=0.7)
    new = prune(weights, masks, MLP_KINDS, PruningConfig(rate=0.3))
    for n in masks:
        gone = weights[n].abs()[masks[n] & ~new[n]]
        kept = weights[n].abs()[new[n]]
        assert gone.max() <= kept.min(), n


@pytest.mark.parametrize("seed", range(4))
def test_global_removes_smallest_magnitudes_over_pool(seed):
    """Global pruning uses one threshold over all pooled layers, not one per layer."""
    weights, masks = trained_like(MLP_KINDS, seed, density=0.7)
    # scale one layer down so a per-layer threshold would give a visibly different answer
    weights["1.weight"] = weights["1.weight"] * 0.1
    new = prune(weights, masks, MLP_KINDS, PruningConfig(strategy="global", rate=0.3))
    pool = [n for n, k in MLP_KINDS.items() if k != "output"]
    gone = torch.cat([weights[n].abs()[masks[n] & ~new[n]] for n in pool])
    kept = torch.cat([weights[n].abs()[new[n]] for n in pool])
    assert gone.max() <= kept.min()


@pytest.mark.parametrize("seed", range(4))
def test_random_like_keeps_per_layer_counts(seed):
    """The random-pruning control differs from the ticket only in which weights, not how many."""
    _, masks = trained_like(MLP_KINDS, seed, density=0.3)
    rnd = random_like(masks, torch.Generator().manual_seed(seed))
    assert counts(rnd) == counts(masks) and all(rnd[n].shape == masks[n].shape for n in masks)


def test_random_like_is_a_different_mask():
    """A 'random' control that returned the ticket's own mask would compare the ticket with itself."""
    _, masks = trained_like(MLP_KINDS, 0, density=0.3)
    rnd = random_like(masks, torch.Generator().manual_seed(0))
    assert all(not torch.equal(rnd[n], masks[n]) for n in masks)


def test_random_like_ignores_layer_order():
    """Masks read from the store come back in no fixed layer order (safetensors), so a layer's random
    mask must depend only on the seed and that layer, or the 'random' control is not reproducible."""
    _, masks = trained_like(MLP_KINDS, 0, density=0.3)
    backwards = dict(reversed(list(masks.items())))
    a = random_like(masks, torch.Generator().manual_seed(5))
    b = random_like(backwards, torch.Generator().manual_seed(5))
    assert all(torch.equal(a[n], b[n]) for n in masks)


def test_random_like_is_seeded():
    """Every random step is seeded (habit 6): the same generator seed gives the same mask."""
    _, masks = trained_like(MLP_KINDS, 0, density=0.3)
    a = random_like(masks, torch.Generator().manual_seed(5))
    b = random_like(masks, torch.Generator().manual_seed(5))
    assert all(torch.equal(a[n], b[n]) for n in masks)


@pytest.mark.parametrize("rate", [0.1, 0.2, 0.5])
def test_output_layer_pruned_at_half_rate(rate):
    """The paper prunes the output layer at half the fc rate (LeNet: 20% hidden, 10% output)."""
    model = models.build("lenet300", seed=0)
    weights = {n: p.detach() for n, p in model.named_parameters() if n in LENET_KINDS}
    masks = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    new = prune(weights, masks, LENET_KINDS, PruningConfig(rate=rate))
    out = next(n for n, k in LENET_KINDS.items() if k == "output")
    assert masks[out].numel() - int(new[out].sum()) == round(rate / 2 * masks[out].numel())


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_masks_cover_exactly_conv_and_linear_weights(arch):
    """Biases and batch-norm parameters are never pruned nor counted in '% remaining'."""
    model = models.build(arch, seed=0)
    expected = {f"{name}.weight" for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    assert set(models.prunable_layers(model)) == expected
