"""Weight noise (lth_core.analysis.noise): scale 0 is the clean network, noise touches only surviving
weights, every draw is reproducible from its seed, and a trained network loses accuracy under
large noise. Real MNIST-1D networks, trained here or stored by a real tiny run."""
from __future__ import annotations

import pytest
import torch

from support.configs import tiny_config
from lth_core import plan
from lth_core.analysis import noise
from lth_core.models.architectures import build, prunable_layers
from lth_core.seeds import derive_seed
from lth_core.lottery.stability import masked_network
from lth_core.training.loop import cpu_copy, train
from support.runs import make_run

ARCH = "mlp1d"
RUN_CONFIG = tiny_config(controls=("reinit", "random"))  # levels 0-2, three arms at levels 1-2


@pytest.fixture(scope="module")
def stored(tmp_path_factory, data_dir, mnist1d):
    return make_run(tmp_path_factory.mktemp("noise-run"), data_dir, RUN_CONFIG)


@pytest.fixture(scope="module")
def trained(mnist1d):
    """mlp1d trained 350 iterations (the quick preset) with half of its first layer pruned:
    (state, masks, recorded final test accuracy)."""
    model = build(ARCH, 5)
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in model.named_parameters()
             if n in prunable_layers(model)}
    masks["1.weight"] = torch.rand(masks["1.weight"].shape, generator=torch.Generator().manual_seed(99)) < 0.5
    model = masked_network(ARCH, 0.0, model.state_dict(), masks)
    history, _ = train(model, masks, mnist1d, tiny_config(iterations=350, eval_every=350).training, 7)
    return cpu_copy(model.state_dict()), masks, history.test_acc[-1]


def test_scale_zero_is_the_clean_accuracy_exactly(trained, mnist1d):
    """No noise, no change: every draw at scale 0 equals the accuracy that training recorded."""
    state, masks, acc = trained
    out = noise.noise_accuracy(ARCH, 0.0, state, masks, mnist1d.x_test, mnist1d.y_test, [0], 3, seed=1)
    assert out == [[acc, acc, acc]]


def test_scale_zero_equals_the_stored_final_test_accuracy(stored, mnist1d):
    """Issue 13's check: for every network a real run stored, noise at scale 0 on its stored final
    weights equals its metrics record's final test accuracy."""
    store, rid = stored
    dense = {n: torch.ones_like(p, dtype=torch.bool) for n, p in build(ARCH, 0).named_parameters()
             if n in prunable_layers(build(ARCH, 0))}
    checked = 0
    for trial, level, arm in plan.planned_tasks(RUN_CONFIG):
        base = f"t{trial}/L{level:02d}"
        mask_arm = "ticket" if arm == "reinit" else arm  # re-init trains the ticket's mask
        masks = dense if level == 0 else store.read_masks(rid, f"{base}/mask_{mask_arm}.st")
        state = store.read_state(rid, f"{base}/final_{arm}.st")
        recorded = store.read_json(rid, f"{base}/{arm}.json")["history"]["test_acc"][-1]
        got = noise.noise_accuracy(ARCH, 0.0, state, masks, mnist1d.x_test, mnist1d.y_test, [0.0], 1, seed=0)
        assert got == [[recorded]], (trial, level, arm)
        checked += 1
    assert checked == len(plan.planned_tasks(RUN_CONFIG))


@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
def test_pruned_weights_stay_zero(trained, scale):
    """Noise goes to surviving weights only: a pruned connection stays absent."""
    state, masks, _ = trained
    out = noise.noisy_state(state, masks, sorted(masks), scale, torch.Generator().manual_seed(0))
    assert torch.all(out["1.weight"][~masks["1.weight"]] == 0)


def test_surviving_weights_all_move(trained):
    """Every surviving weight of every prunable layer gets noise (Gaussian: never exactly zero)."""
    state, masks, _ = trained
    out = noise.noisy_state(state, masks, sorted(masks), 0.5, torch.Generator().manual_seed(0))
    assert all(torch.all(out[n][m] != state[n][m]) for n, m in masks.items())


def test_biases_are_untouched(trained):
    """Only the prunable weights get noise; biases keep their trained values."""
    state, masks, _ = trained
    out = noise.noisy_state(state, masks, sorted(masks), 1.0, torch.Generator().manual_seed(0))
    assert all(torch.equal(out[k], v) for k, v in state.items() if k not in masks)


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_noise_is_scaled_to_the_layers_std_of_surviving_weights(trained, scale):
    """The added noise's spread is scale x the layer's std (over 6,000 surviving weights: within 5%)."""
    state, masks, _ = trained
    w, m = state["1.weight"], masks["1.weight"]
    out = noise.noisy_state(state, masks, sorted(masks), scale, torch.Generator().manual_seed(0))
    added = (out["1.weight"] - w)[m]
    assert added.std().item() == pytest.approx(scale * w[m].std().item(), rel=0.05)


def test_the_same_seed_gives_the_same_numbers(trained, mnist1d):
    """A stored analysis can be recomputed to the same numbers."""
    state, masks, _ = trained
    args = (ARCH, 0.0, state, masks, mnist1d.x_test, mnist1d.y_test, [0.0, 0.5, 1.0], 3)
    assert noise.noise_accuracy(*args, seed=4) == noise.noise_accuracy(*args, seed=4)


def test_each_draw_comes_from_its_own_seed(trained, mnist1d):
    """Draw j at scale index i is reproducible alone, from derive_seed(seed, 'noise', i, j)."""
    state, masks, _ = trained
    x, y = mnist1d.x_test, mnist1d.y_test
    grid = noise.noise_accuracy(ARCH, 0.0, state, masks, x, y, [0.5, 1.0], 3, seed=4)
    gen = torch.Generator().manual_seed(derive_seed(4, "noise", 1, 2))
    alone = masked_network(ARCH, 0.0, noise.noisy_state(state, masks, sorted(masks), 1.0, gen), masks)
    assert grid[1][2] == int((alone(x).argmax(1) == y).sum()) / len(y)


def test_large_noise_lowers_a_trained_networks_accuracy(trained, mnist1d):
    """Noise three times each layer's spread wipes out what training learned, in every draw."""
    state, masks, acc = trained
    out = noise.noise_accuracy(ARCH, 0.0, state, masks, mnist1d.x_test, mnist1d.y_test, [3.0], 5, seed=2)
    assert max(out[0]) < acc


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "a"])
def test_a_bad_scale_is_refused(trained, mnist1d, bad):
    """Scales are finite and >= 0."""
    state, masks, _ = trained
    with pytest.raises(ValueError):
        noise.noise_accuracy(ARCH, 0.0, state, masks, mnist1d.x_test, mnist1d.y_test, [bad], 1, seed=0)
