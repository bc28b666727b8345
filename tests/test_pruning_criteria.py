"""Invariants of the pruning that goes beyond the paper: criteria, masks at initialisation and
structured pruning. Pure functions on real architectures' weights; no training."""
from __future__ import annotations

import pytest
import torch

from lth_core.pruning.at_init import at_init_mask, snip_scores
from lth_core.arms import CRITERIA
from lth_core.config import PruningConfig
from lth_core.pruning.criteria import scores
from lth_core.models.architectures import build, prunable_layers
from lth_core.pruning.magnitude import counts_after, next_counts, random_like
from lth_core.pruning.rounds import prune
from lth_core.pruning.structured import alive_rows, ladder, prune_units, random_units, unit_layers


def _net(arch="lenet300", seed=0):
    model = build(arch, seed)
    kinds = prunable_layers(model)
    return model, kinds, {n: p.detach().clone() for n, p in model.named_parameters()}


def _trained_like(state, seed):
    """Weights that moved from `state` (a stand-in for training: scores only need two weight sets)."""
    g = torch.Generator().manual_seed(seed)
    return {n: v + 0.05 * torch.randn(v.shape, generator=g) for n, v in state.items()}


def _random_mask(kinds, state, density, seed):
    g = torch.Generator().manual_seed(seed)
    return {n: torch.rand(state[n].shape, generator=g) < density for n in kinds}


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("strategy", ["layerwise", "global"])
def test_criteria_prune_exact_counts_of_survivors_only(criterion, strategy):
    """Every criterion removes exactly IMP's count, only from surviving weights (masks only shrink)."""
    _, kinds, init = _net()
    final = _trained_like(init, 1)
    masks = _random_mask(kinds, init, 0.6, 2)
    cfg = PruningConfig(rate=0.3, rounds=3, strategy=strategy, criterion=criterion)
    new = prune(final, masks, kinds, cfg, init)
    want = next_counts(masks, kinds, cfg)
    if strategy == "layerwise":
        assert {n: int(m.sum()) for n, m in new.items()} == want
    else:
        assert sum(int(new[n].sum()) for n in kinds if kinds[n] != "output") == want["_pool"]
    assert all(not (new[n] & ~masks[n]).any() for n in kinds)


def test_criteria_scores_differ_and_rank_as_defined():
    """movement keeps the weights that moved most; magnitude_increase those that grew most."""
    _, kinds, init = _net("mlp1d")
    final = _trained_like(init, 3)
    masks = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    cfg = PruningConfig(rate=0.5, rounds=1, criterion="movement")
    kept = prune(final, masks, kinds, cfg, init)
    n = "1.weight"
    moved = (final[n] - init[n]).abs()
    assert moved[kept[n]].min() >= moved[~kept[n]].max()
    grew = prune(final, masks, kinds, PruningConfig(rate=0.5, rounds=1, criterion="magnitude_increase"), init)
    gain = final[n].abs() - init[n].abs()
    assert gain[grew[n]].min() >= gain[~grew[n]].max()
    assert not torch.equal(kept[n], grew[n])


def test_large_init_large_final_keeps_weights_large_at_both_ends():
    """A kept weight is never below a removed one in both |w_i| and |w_f| rank at once."""
    _, kinds, init = _net("mlp1d")
    final = _trained_like(init, 4)
    masks = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    n = "3.weight"
    sc = scores("large_init_large_final", final, init, masks, [[n]])[n]
    kept = prune(final, masks, kinds, PruningConfig(rate=0.5, rounds=1, criterion="large_init_large_final"), init)[n]
    assert sc[kept.flatten()].min() >= sc[~kept.flatten()].max()
    assert int(kept.sum()) == masks[n].numel() - round(0.5 * masks[n].numel())


@pytest.mark.parametrize("method", ["snip", "synflow", "magnitude_init"])
@pytest.mark.parametrize("strategy", ["layerwise", "global"])
def test_at_init_masks_at_layer_scope_have_imps_counts(method, strategy, mnist1d):
    """At scope 'layer' an at-init mask has exactly the per-layer (or pooled) counts IMP has at the same level."""
    model, kinds, state = _net("mlp1d")
    cfg = PruningConfig(rate=0.5, rounds=4, strategy=strategy)
    batches = [(mnist1d.x_train[i * 50:(i + 1) * 50], mnist1d.y_train[i * 50:(i + 1) * 50]) for i in range(3)]
    level = 3
    mask = at_init_mask(method, model, kinds, cfg, level, batches, scope="layer")
    want = counts_after({n: state[n].numel() for n in kinds}, kinds, cfg, level)
    got = {n: int(m.sum()) for n, m in mask.items()}
    if strategy == "layerwise":
        assert got == want
    else:
        assert sum(v for n, v in got.items() if kinds[n] != "output") == want["_pool"]
        assert all(got[n] == want[n] for n in kinds if kinds[n] == "output")


@pytest.mark.parametrize("method", ["snip", "synflow", "magnitude_init"])
def test_global_scope_keeps_imps_total_and_chooses_its_own_layers(method, mnist1d):
    """At scope 'global' (the default) the total count equals IMP's, while the layers' shares are the method's."""
    model, kinds, state = _net("lenet300")
    cfg = PruningConfig(rate=0.2, rounds=10)
    batches = [(torch.randn(60, 784), torch.randint(0, 10, (60,)))]
    mask = at_init_mask(method, model, kinds, cfg, 10, batches)
    want = counts_after({n: state[n].numel() for n in kinds}, kinds, cfg, 10)
    got = {n: int(m.sum()) for n, m in mask.items()}
    assert sum(got.values()) == sum(want.values()) and got != want


def test_snip_keeps_the_largest_sensitivities_over_all_layers(mnist1d):
    """SNIP's mask keeps the weights with the largest |g * theta_0| of the whole network."""
    model, kinds, _ = _net("mlp1d")
    batches = [(mnist1d.x_train[:100], mnist1d.y_train[:100])]
    cfg = PruningConfig(rate=0.5, rounds=2)
    mask = at_init_mask("snip", model, kinds, cfg, 1, batches)
    sc = snip_scores(model, kinds, batches)
    kept = torch.cat([sc[n][mask[n]] for n in kinds])
    dropped = torch.cat([sc[n][~mask[n]] for n in kinds])
    assert kept.min() >= dropped.max()


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_inversion_keeps_the_lowest_scores_at_the_same_counts(scope, mnist1d):
    """The inversion check keeps exactly the weights the method ranks lowest, as many per group as the method."""
    model, kinds, _ = _net("mlp1d")
    cfg = PruningConfig(rate=0.5, rounds=2)
    mask = at_init_mask("magnitude_init", model, kinds, cfg, 2, scope=scope)
    inv = at_init_mask("magnitude_init", model, kinds, cfg, 2, scope=scope, invert=True)
    params = dict(model.named_parameters())
    assert sum(int(m.sum()) for m in inv.values()) == sum(int(m.sum()) for m in mask.values())
    groups = [[n] for n in kinds] if scope == "layer" else [list(kinds)]
    for names in groups:
        kept = torch.cat([params[n].detach().abs()[inv[n]] for n in names])
        dropped = torch.cat([params[n].detach().abs()[~inv[n]] for n in names])
        assert kept.max() <= dropped.min()


def test_synflow_is_data_free_and_deterministic():
    """SynFlow needs no data, and the same theta_0 gives the same mask."""
    model, kinds, _ = _net("mlp1d")
    cfg = PruningConfig(rate=0.5, rounds=6)
    a = at_init_mask("synflow", model, kinds, cfg, 5)
    b = at_init_mask("synflow", model, kinds, cfg, 5)
    assert all(torch.equal(a[n], b[n]) for n in kinds)


@pytest.mark.parametrize("arch,granularity", [("lenet300", "neurons"), ("mlp1d", "neurons"),
                                               ("conv2", "filters"), ("conv4", "neurons")])
def test_structured_masks_remove_whole_rows_and_next_columns(arch, granularity):
    """A pruned unit loses its whole incoming row and its outgoing weights in the next layer."""
    _, kinds, init = _net(arch)
    cfg = PruningConfig(rate=0.3, rounds=3, granularity=granularity)
    masks = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    for _ in range(2):
        masks = prune(_trained_like(init, 5), masks, kinds, cfg, init)
    order = list(kinds)
    for n in unit_layers(kinds, granularity):
        rows = alive_rows(masks[n])
        dead = (~rows).nonzero().flatten()
        assert len(dead) > 0
        assert not masks[n][dead].any()
        nxt = masks[order[order.index(n) + 1]]
        cols = nxt.reshape(nxt.shape[0], len(rows), -1) if nxt.dim() == 2 and masks[n].dim() == 4 else nxt
        assert not cols[:, dead].any()


def test_structured_fc_masks_are_alive_rows_times_alive_inputs():
    """In an all-fc net, a structured mask is exactly (units alive) x (inputs alive): no single weight goes."""
    _, kinds, init = _net("lenet300")
    cfg = PruningConfig(rate=0.3, rounds=3, granularity="neurons")
    masks = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    for _ in range(3):
        masks = prune(_trained_like(init, 7), masks, kinds, cfg, init)
    inputs = torch.ones(784, dtype=torch.bool)
    for n in kinds:
        rows = alive_rows(masks[n]) if kinds[n] != "output" else torch.ones(10, dtype=torch.bool)
        assert torch.equal(masks[n], rows[:, None] & inputs[None, :])
        inputs = rows


def test_structured_units_follow_the_round_counts():
    """Each round removes round(rate x alive units) of every unit layer."""
    _, kinds, init = _net("lenet300")
    cfg = PruningConfig(rate=0.3, rounds=3, granularity="neurons")
    masks = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    alive = {"1.weight": 300, "3.weight": 100}
    for _ in range(3):
        masks = prune(_trained_like(init, 6), masks, kinds, cfg, init)
        alive = {n: a - round(0.3 * a) for n, a in alive.items()}
        assert {n: int(alive_rows(masks[n]).sum()) for n in alive} == alive


def test_structured_ladder_matches_real_pruning():
    """The % remaining known in advance equals the masks' real density at every level."""
    _, kinds, init = _net("lenet300")
    cfg = PruningConfig(rate=0.3, rounds=4, granularity="neurons")
    want = ladder(init, kinds, cfg)
    masks = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    total = sum(m.numel() for m in masks.values())
    for level in range(1, 5):
        masks = prune(_trained_like(init, 10 + level), masks, kinds, cfg, init)
        assert 100.0 * sum(int(m.sum()) for m in masks.values()) / total == pytest.approx(want[level])


def test_random_structured_mask_keeps_unit_and_weight_counts():
    """The random control of a structured ticket removes as many units, and weights, per layer."""
    _, kinds, init = _net("conv2")
    cfg = PruningConfig(rate=0.4, rounds=2, granularity="filters")
    masks = prune(init, {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}, kinds, cfg, init)
    rnd = random_units(masks, kinds, "filters", torch.Generator().manual_seed(0))
    assert {n: int(m.sum()) for n, m in rnd.items()} == {n: int(m.sum()) for n, m in masks.items()}
    assert any(not torch.equal(rnd[n], masks[n]) for n in kinds)


def test_one_shot_structured_equals_rounds_worth_of_units():
    """Pruning `rounds` rounds' worth at once leaves the same unit counts as that many rounds."""
    _, kinds, init = _net("lenet300")
    cfg = PruningConfig(rate=0.3, rounds=3, granularity="neurons")
    ones = {n: torch.ones_like(init[n], dtype=torch.bool) for n in kinds}
    once = prune_units(init, ones, kinds, cfg, None, "magnitude", rounds=3)
    assert [int(alive_rows(once[n]).sum()) for n in ("1.weight", "3.weight")] == [103, 34]


def test_random_like_of_an_at_init_mask_is_its_shuffle():
    """The shuffle check keeps every layer's count and moves the survivors."""
    model, kinds, state = _net("mlp1d")
    mask = at_init_mask("magnitude_init", model, kinds, PruningConfig(rate=0.5, rounds=2), 2)
    sh = random_like(mask, torch.Generator().manual_seed(1))
    assert {n: int(m.sum()) for n, m in sh.items()} == {n: int(m.sum()) for n, m in mask.items()}
    assert not torch.equal(sh["1.weight"], mask["1.weight"])
