"""Training invariants: pruned weights and their optimizer state stay exactly zero; early stopping."""
from __future__ import annotations

import math
from unittest import mock

import pytest
import torch

from lth_core.models import architectures as models

from lth_core.training import loop as training
from lth_core.config import TrainingConfig
from lth_core.pruning.masks import apply_
from lth_core.training.loop import History

# optimizer-state entries that must stay zero where a weight is pruned
STATE_KEYS = {"adam": ("exp_avg", "exp_avg_sq"), "sgd": ("momentum_buffer",)}
CASES = [("adam", 0.0), ("adam", 1e-3), ("sgd", 0.0), ("sgd", 1e-3)]
_TRAINED: dict = {}


def train_masked(data, optimizer: str, weight_decay: float):
    """Train mlp1d with a random 30% mask for 12 steps; return (model, masks, the optimizer train used).

    The optimizer is the one training.train really builds: make_optimizer is wrapped, not replaced.
    """
    key = (optimizer, weight_decay)
    if key not in _TRAINED:
        model = models.build("mlp1d", seed=0)
        kinds = models.prunable_layers(model)
        g = torch.Generator().manual_seed(1)
        masks = {n: torch.rand(p.shape, generator=g) < 0.3 for n, p in model.named_parameters() if n in kinds}
        apply_(model, masks)
        cfg = TrainingConfig(iterations=12, eval_every=6, optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 1e-3,
                             weight_decay=weight_decay, warmup=3)
        made = []
        real = training.make_optimizer

        def spy(params, c):
            made.append(real(params, c))
            return made[-1]

        with mock.patch.object(training, "make_optimizer", spy):
            training.train(model, masks, data, cfg, seed=0)
        assert len(made) == 1
        _TRAINED[key] = (model, masks, made[0])
    return _TRAINED[key]


@pytest.mark.parametrize("optimizer, weight_decay", CASES)
def test_pruned_weights_stay_exactly_zero(mnist1d, optimizer, weight_decay):
    """A pruned weight that drifts from 0 silently turns the sparse ticket back into a dense net."""
    model, masks, _ = train_masked(mnist1d, optimizer, weight_decay)
    params = dict(model.named_parameters())
    assert all(torch.count_nonzero(params[n].detach()[~m]) == 0 for n, m in masks.items())


@pytest.mark.parametrize("optimizer, weight_decay", CASES)
def test_surviving_weights_do_train(mnist1d, optimizer, weight_decay):
    """Guards the zero-checks against a vacuous pass: the alive weights did move from theta_0."""
    model, masks, _ = train_masked(mnist1d, optimizer, weight_decay)
    start = models.build("mlp1d", seed=0).state_dict()
    params = dict(model.named_parameters())
    assert all(not torch.equal(params[n].detach()[m], start[n][m]) for n, m in masks.items())


@pytest.mark.parametrize("optimizer, weight_decay", CASES)
def test_optimizer_state_is_zero_at_pruned_weights(mnist1d, optimizer, weight_decay):
    """Nonzero Adam moments or momentum at a pruned weight would push it off zero at the next step."""
    model, masks, opt = train_masked(mnist1d, optimizer, weight_decay)
    params = dict(model.named_parameters())
    for n, m in masks.items():
        state = opt.state[params[n]]
        for key in STATE_KEYS[optimizer]:
            assert torch.count_nonzero(state[key][~m]) == 0, (n, key)
            assert torch.count_nonzero(state[key][m]) > 0, (n, key)  # the state exists and is used


def test_training_is_reproducible(mnist1d):
    """Same seed, same weights and minibatch order: identical history (every random step is seeded)."""
    cfg = TrainingConfig(iterations=10, eval_every=5)
    runs = []
    for _ in range(2):
        model = models.build("mlp1d", seed=3)
        masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in model.named_parameters()
                 if n in models.prunable_layers(model)}
        runs.append(training.train(model, masks, mnist1d, cfg, seed=7)[0])
    assert runs[0] == runs[1]


def test_last_iteration_is_always_evaluated(mnist1d):
    """Evaluating only every eval_every steps must not skip the end of training."""
    model = models.build("mlp1d", seed=0)
    history, _ = training.train(model, {}, mnist1d, TrainingConfig(iterations=25, eval_every=10), seed=0)
    assert history.iteration == [10, 20, 25]


def test_snapshot_is_theta_k(mnist1d):
    """Rewinding resets to theta_k: the snapshot at step k equals a network trained for exactly k steps."""
    k = 4
    full, short = models.build("mlp1d", seed=0), models.build("mlp1d", seed=0)
    _, snap = training.train(full, {}, mnist1d, TrainingConfig(iterations=10, eval_every=5), seed=0, snapshot_at=k)
    training.train(short, {}, mnist1d, TrainingConfig(iterations=k, eval_every=k), seed=0)
    assert all(torch.equal(snap[n], v) for n, v in short.state_dict().items())


def history(val_loss, test_acc=None):
    n = len(val_loss)
    test_acc = test_acc or [0.1 * (i + 1) for i in range(n)]
    return History(iteration=[100 * (i + 1) for i in range(n)], val_loss=list(val_loss),
                   val_acc=[0.5] * n, test_acc=list(test_acc), train_acc=[0.9] * n)


@pytest.mark.parametrize("val_loss, expected", [
    ([3.0, 2.0, 1.0, 2.0], 2),
    ([1.0, 2.0, 3.0], 0),
    ([2.0, 0.5, 0.5, 0.7], 1),          # ties: the first (earliest) minimum
    ([0.4, 0.4, 0.4], 0),
    ([math.nan, 1.0, 0.9], 2),          # a diverged point is never the minimum
    ([None, 2.0, 2.0], 1),              # None: stored NaN (JSON has no NaN)
    ([math.inf, math.nan], 0),
])
def test_early_stop_index_is_first_argmin_of_val_loss(val_loss, expected):
    """The paper's early-stopping iteration is that of minimum validation loss (the earliest on ties)."""
    assert history(val_loss).early_stop_index() == expected


def test_summary_reports_test_acc_at_early_stop():
    """The reported accuracy is the test accuracy at the early-stopping iteration, not the last one."""
    h = history([3.0, 1.0, 2.0], test_acc=[0.2, 0.7, 0.9])
    s = h.summary()
    assert (s["early_stop_iteration"], s["test_acc_at_early_stop"], s["final_test_acc"]) == (200, 0.7, 0.9)


def test_history_json_round_trip_drops_nan():
    """Histories are stored as strict JSON: NaN becomes None and reads back as a missing point."""
    h = history([1.0, math.nan])
    back = History.from_dict(h.to_dict())
    assert back.val_loss == [1.0, None] and back.early_stop_index() == 0


def test_training_accuracy_is_measured_in_eval_mode_on_the_fixed_subset(mnist1d):
    """train_acc / train_loss at an evaluation equal a fresh eval-mode pass over data.x_train_eval
    (dropout off), not the running accuracy of the minibatches."""
    model = models.build("mlp1d", seed=3, dropout=0.5)
    kinds = models.prunable_layers(model)
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in model.named_parameters() if n in kinds}
    cfg = TrainingConfig(iterations=30, eval_every=30, dropout=0.5)
    history, _ = training.train(model, masks, mnist1d, cfg, seed=0)
    model.eval()
    loss, correct = training.evaluate(model, mnist1d.x_train_eval, mnist1d.y_train_eval)
    n = len(mnist1d.y_train_eval)
    assert history.train_acc[-1] == pytest.approx(float(correct) / n, abs=1e-9)
    assert history.train_loss[-1] == pytest.approx(float(loss) / n, rel=1e-5)


def test_old_history_without_train_loss_still_loads():
    """Schema-1 records have no train_loss: it reads as None, the rest is intact."""
    h = History.from_dict({"iteration": [1, 2], "val_loss": [1.0, 0.5], "val_acc": [0.1, 0.2],
                           "test_acc": [0.1, 0.3], "train_acc": [0.2, 0.4]})
    assert h.train_loss == [None, None] and h.summary()["test_acc_at_early_stop"] == 0.3
