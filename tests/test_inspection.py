"""The app's engine helpers: looking inside a ticket (lth_core.analysis.inspection) and run-time estimates
(lth_core.estimate)."""
from __future__ import annotations

import pytest
import torch

from lth_core import estimate

from lth_core.execution import driver

from lth_core.analysis import inspection
from lth_core.pruning.masks import counts
from lth_core.presets import get_preset
from lth_core.store.run_store import Store

CONFIG = get_preset("quick").replace(iterations=20, eval_every=10, rounds=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir, mnist1d):
    store = Store(tmp_path_factory.mktemp("inspect-store"))
    return store, driver.run(CONFIG, store, data_dir=data_dir, processes=1)


def test_layer_labels_name_every_prunable_layer_in_order():
    """Readable labels follow the network's order, with fan-in -> fan-out."""
    assert list(inspection.layer_labels("lenet300").values()) == [
        "fc1 · 784→300", "fc2 · 300→100", "output · 100→10"]
    assert inspection.layer_labels("conv2")["0.weight"] == "conv1 · 3→64 ch, 3×3"


def test_first_layer_map_is_an_image_for_28x28_inputs():
    """A dense LeNet mask keeps all 300 connections of every one of the 28x28 pixels."""
    model = torch.nn.Linear(784, 300)
    masks = {"1.weight": torch.ones_like(model.weight, dtype=torch.bool)}
    info = inspection.first_layer_map(masks, "lenet300")
    assert info["kind"] == "image" and info["values"].shape == (28, 28)
    assert (info["values"] == 300).all() and info["max"] == 300


def test_first_layer_map_counts_survivors_per_position(run):
    """Per-position survivor counts add up to the first layer's surviving weights."""
    store, run_id = run
    mask = inspection.load_mask(store, run_id, 0, 2)
    info = inspection.first_layer_map(mask, CONFIG.arch)
    assert info["kind"] == "sequence" and len(info["values"]) == 40
    assert info["values"].sum() == counts(mask)["1.weight"]


def test_level_zero_mask_keeps_everything(run):
    """The dense level has no mask file: every weight is kept."""
    store, run_id = run
    assert all(m.all() for m in inspection.load_mask(store, run_id, 0, 0).values())


def test_theta0_is_rebuilt_identically_when_not_stored(run, tmp_path):
    """Gallery runs omit theta0.st; rebuilding from the trial seed gives the same weights."""
    store, run_id = run
    stored, source = inspection.load_theta0(store, run_id, 0)
    assert source == "stored"
    (store.run_dir(run_id) / "t0" / "theta0.st").rename(tmp_path / "theta0.st")
    try:
        rebuilt, source = inspection.load_theta0(store, run_id, 0)
    finally:
        (tmp_path / "theta0.st").rename(store.run_dir(run_id) / "t0" / "theta0.st")
    assert source == "rebuilt from the trial seed"
    assert all(torch.equal(stored[k], rebuilt[k]) for k in stored)


def test_an_all_pruned_network_predicts_class_zero(run, mnist1d):
    """With every weight masked out the logits are the (zero) biases, so argmax is class 0."""
    store, run_id = run
    theta0, _ = inspection.load_theta0(store, run_id, 0)
    none = {n: torch.zeros_like(m) for n, m in inspection.load_mask(store, run_id, 0, 0).items()}
    acc = inspection.masked_accuracy(CONFIG.arch, theta0, none, mnist1d.x_test, mnist1d.y_test)
    assert acc == pytest.approx(float((mnist1d.y_test == 0).float().mean()))


def test_random_mask_keeps_each_layers_count(run):
    """The random comparison mask has the ticket's per-layer sizes."""
    store, run_id = run
    mask = inspection.load_mask(store, run_id, 0, 2)
    assert counts(inspection.random_mask(mask, 7)) == counts(mask)


def test_toy_network_prunes_exact_counts_and_is_seeded():
    """The Learn page's toy IMP round removes round(rate x n) per layer (output at half) and repeats."""
    a, b = inspection.toy_imp(seed=3, rate=0.5), inspection.toy_imp(seed=3, rate=0.5)
    hidden, output = a["layers"]
    assert int(a["mask"][hidden].sum()) == 24 - 12
    assert int(a["mask"][output].sum()) == 18 - round(0.25 * 18)
    assert (a["theta0"][hidden] == b["theta0"][hidden]).all() and a["ticket_acc"] == b["ticket_acc"]


def test_the_toys_written_out_adam_takes_torchs_steps():
    """inspection.adam_steps (the server's toy network trains without torch's optimizer) against
    torch.optim.Adam from the same start, with one weight masked: the same weights after 50 steps."""
    import torch
    from torch import nn
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(30, 4, generator=gen), torch.randint(0, 3, (30,), generator=gen)
    nets = [nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    start = nets[0][0].weight.detach().clone()
    mask = {"0.weight": (torch.rand(6, 4, generator=gen) > 0.5).float()}
    inspection.adam_steps(nets[0], mask, lambda: nn.functional.cross_entropy(nets[0](x), y), 50, lr=0.03)
    opt = torch.optim.Adam(nets[1].parameters(), lr=0.03)
    for _ in range(50):
        opt.zero_grad()
        nn.functional.cross_entropy(nets[1](x), y).backward()
        nets[1][0].weight.grad.mul_(mask["0.weight"])
        opt.step()
    for (name, a), b in zip(nets[0].state_dict().items(), nets[1].state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), (name, (a - b).abs().max())
    moved = (nets[0][0].weight.detach() - start).abs()
    assert moved[mask["0.weight"] == 0].max() == 0 and moved[mask["0.weight"] == 1].min() > 1e-4


def test_step_cost_is_measured_and_cached():
    """A real timing, positive, and served from the cache the second time."""
    first = estimate.measure("mlp1d", 60, steps=5, budget_s=1.0)
    assert first.step_s > 0 and first.eval_s_per_example > 0
    assert estimate.measure("mlp1d", 60, steps=5, budget_s=1.0) is first


def test_estimate_grows_with_work_and_shrinks_with_processes():
    """More iterations take longer; more worker processes share a level's tasks."""
    cost = estimate.Cost(step_s=0.002, eval_s_per_example=1e-6, device="cpu", threads=1, steps_timed=30)
    quick = get_preset("quick")
    assert estimate.estimate_seconds(quick.replace(iterations=1000), cost, 2) > \
        estimate.estimate_seconds(quick, cost, 2)
    assert estimate.estimate_seconds(quick, cost, 2) < estimate.estimate_seconds(quick, cost, 1)


@pytest.mark.parametrize("seconds, text", [(None, "—"), (5, "5 s"), (200, "3 min 20 s"), (7500, "2 h 05 min")])
def test_durations_read_naturally(seconds, text):
    assert estimate.format_duration(seconds) == text
