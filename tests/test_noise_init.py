"""Noise on the ticket's initialisation, then retrained (the paper's protocol): the perturbation and the runs."""
from __future__ import annotations

import pytest
import torch

from lth_core.analysis import noise_init, stats
from lth_core.cli.main import main
from lth_core.execution import driver
from lth_core.presets import get_preset
from lth_core.store.run_store import Store


def test_noisy_init_keeps_pruned_weights_zero_and_scales_with_the_layer():
    """Survivors move by scale x the layer's init std; pruned weights stay exactly zero; other keys untouched."""
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(200, 100, generator=gen) * 0.05
    mask = torch.rand(200, 100, generator=gen) > 0.7
    state = {"w": w * mask, "b": torch.ones(3)}
    out = noise_init.noisy_init(state, {"w": mask}, 1.0, torch.Generator().manual_seed(1))
    assert torch.equal(out["w"][~mask], torch.zeros(int((~mask).sum())))
    assert torch.equal(out["b"], state["b"])
    moved = (out["w"] - state["w"])[mask]
    assert float(moved.std()) == pytest.approx(float((w * mask).double().std(correction=0)), rel=0.05)


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir, mnist1d):
    root = tmp_path_factory.mktemp("noise-init")
    config = get_preset("quick").replace(iterations=40, eval_every=10, rounds=2, trials=3)
    return Store(root), driver.run(config, Store(root), data_dir=data_dir, processes=1)


def test_each_trial_level_and_scale_trains_once_and_is_paired(run, data_dir):
    """One retrained network per (trial, level, scale), compared by trial with the ticket and re-init;
    a second call trains nothing (served from the stored records)."""
    store, run_id = run
    trained = []
    noise_init.compute(store, run_id, [1], [1.0], data_dir=data_dir, on_network=trained.append)
    assert len(trained) == 3
    noise_init.compute(store, run_id, [1], [1.0], data_dir=data_dir, on_network=trained.append)
    assert len(trained) == 3
    row = noise_init.comparisons(store, run_id).iloc[0]
    assert isinstance(row.vs_ticket, stats.Paired) and row.vs_ticket.n == 3 and row.vs_reinit.n == 3


def test_cli_refuses_a_level_outside_the_run(run, capsys):
    """A bad level is named in one line, exit code 2."""
    store, run_id = run
    assert main(["analyse", "noise-init", run_id, "--levels", "9", "--store", str(store.root)]) == 2
    assert "levels must be in 1..2" in capsys.readouterr().err
