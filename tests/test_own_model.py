"""Your own model and data (lth_core.run(model=..., data=...)) run through the same IMP, store and
statistics; the run id covers the model's and the data's identity; bad input says what is allowed."""
from __future__ import annotations

import importlib

import pytest
import torch

import lth_core
from lth_core import layout
from lth_core.config import ConfigError
from lth_core.data.custom import CustomDataError, dataset_name
from lth_core.lottery.state import percent_ladder
from lth_core.models import custom
from lth_core.models.architectures import build, prunable_layers
from lth_core.pruning.magnitude import counts_after
from support import own_model

TINY = dict(preset="quick", iterations=20, rounds=2, processes=1, progress=False)


@pytest.fixture(scope="module")
def splits(mnist1d):
    return own_model.mnist1d_splits(mnist1d)


@pytest.fixture(scope="module")
def own_run(tmp_path_factory, data_dir, splits):
    """A tiny run of own_model.mlp on MNIST-1D tensors passed from Python."""
    return lth_core.run(model=own_model.mlp, data=splits, store=tmp_path_factory.mktemp("own"), data_dir=data_dir,
                        **TINY)


def test_same_imp_runs_on_your_model(own_run):
    """Every planned network trained; the ticket's masks keep exactly IMP's per-layer counts of the model's
    Linear weights (fc at the rate, output at half), and its survivors start from the factory's θ₀."""
    c, store = own_run.config, own_run.store
    assert set(own_run.levels().arm) == {"ticket", "reinit"} and own_run.status()["state"] == "done"
    model = own_model.mlp(c.seed)
    kinds = prunable_layers(model)
    assert kinds == {"0.weight": "fc", "2.weight": "output"}
    sizes = {n: p.numel() for n, p in model.named_parameters() if n in kinds}
    for level in range(1, c.levels):
        masks = store.read_masks(own_run.run_id, layout.mask(0, level, "ticket"))
        assert {n: int(m.sum()) for n, m in masks.items()} == counts_after(sizes, kinds, c.pruning, level)
    theta0 = store.read_state(own_run.run_id, layout.theta0(0))
    assert all(torch.equal(theta0[k], v) for k, v in model.state_dict().items())
    ticket = own_run.ticket(2)
    assert ticket.metadata["percent_remaining"] == pytest.approx(percent_ladder(c)[2])


def test_run_id_covers_model_and_data(own_run, data_dir, splits):
    """The same factory and data name the same run; another initialisation, or one changed label, does not."""
    again = lth_core.configure(preset="quick", arch=custom.arch_name(own_model.mlp), dataset=own_run.config.dataset,
                               iterations=20, rounds=2)
    assert again.run_id() == own_run.run_id
    other = custom.arch_name(own_model.mlp_other_init)
    assert other.split("@")[1] != own_run.config.arch.split("@")[1]
    x, y = splits["test"]
    changed = {**splits, "test": (x, torch.cat([(y[:1] + 1) % 10, y[1:]]))}
    assert dataset_name(changed)[0] != own_run.config.dataset and dataset_name(splits)[0] == own_run.config.dataset


def test_a_changed_model_never_reuses_results(own_run):
    """A name whose hash the factory no longer builds (the model was edited) refuses to build."""
    digest = own_run.config.arch.rsplit("@", 1)[1]
    stale = own_run.config.arch.replace(digest, "0" * 16)
    with pytest.raises(custom.CustomModelError, match="has changed since this run was made"):
        build(stale, 0)


SCALED = """
import torch
from torch import nn

class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(40, 10)

    def forward(self, x):
        return self.fc(x) * {factor}

def build(seed):
    torch.manual_seed(seed)
    return Scaled()
"""


def test_edited_forward_code_is_another_model(tmp_path, monkeypatch):
    """Editing a model class's forward (same structure, same weights) changes the model's identity."""
    (tmp_path / "scaled_model.py").write_text(SCALED.format(factor=2))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("scaled_model")
    before = custom.arch_name("scaled_model:build")
    (tmp_path / "scaled_model.py").write_text(SCALED.format(factor=3))
    importlib.reload(module)
    after = custom.arch_name("scaled_model:build")
    assert before.split("@")[0] == after.split("@")[0] and before != after
    with pytest.raises(custom.CustomModelError, match="has changed"):
        build(before, 0)


def test_prunable_weights_by_name():
    """A model naming its prunable weights has exactly those pruned; a wrong name lists the model's."""
    assert prunable_layers(own_model.mlp_first_layer_only(0)) == {"0.weight": "fc"}
    with pytest.raises(ValueError, match="'fc9.weight' is not a parameter of the model; allowed: 0.weight, 0.bias"):
        prunable_layers(own_model.mlp_bad_name(0))


@pytest.mark.parametrize("model, message", [
    (lambda seed: own_model.mlp(seed), "not a named function"),
    (own_model.not_a_module, "returned list, not a torch.nn.Module"),
    (own_model.unseeded, "built different weights twice"),
    (own_model.wrong_width, r"does not take the data's inputs of shape \(2, 40\)"),
    ("support.own_model:missing", "cannot import the model factory 'support.own_model:missing'"),
])
def test_bad_model_says_why(model, message, splits, data_dir, tmp_path):
    with pytest.raises(custom.CustomModelError, match=message):
        lth_core.run(model=model, data=splits, store=tmp_path, data_dir=data_dir, **TINY)


@pytest.mark.parametrize("change, message", [
    (lambda s: {"train": s["train"], "test": s["test"]}, "exactly the splits train, val, test; got train, test"),
    (lambda s: {**s, "val": (s["val"][0], s["val"][1].float())}, "one integer class index per input"),
    (lambda s: {**s, "val": (s["val"][0][:, :20], s["val"][1])}, "one shape per example"),
    (lambda s: {**s, "test": "test.pt"}, "must be \\(inputs, labels\\) tensors or a torch Dataset"),
])
def test_bad_data_says_why(change, message, splits, data_dir, tmp_path):
    with pytest.raises(CustomDataError, match=message):
        lth_core.run(model=own_model.mlp, data=change(splits), store=tmp_path, data_dir=data_dir, **TINY)


def test_dataset_splits_and_config_checks(splits, data_dir, tmp_path):
    """A torch Dataset is taken as a split; a batch larger than the training split names its size."""
    x, y = splits["train"]
    as_dataset = {**splits, "train": torch.utils.data.TensorDataset(x, y)}
    assert dataset_name(as_dataset)[0] == dataset_name(splits)[0]
    with pytest.raises(ConfigError, match=r"batch_size: must be in \[1, 1500\]"):
        lth_core.run(model=own_model.mlp, data=splits, store=tmp_path, data_dir=data_dir, **{**TINY, "batch_size": 2000})
