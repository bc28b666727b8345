"""The engine's arms beyond the paper, read back from a real store: criteria chains, masks at
initialisation and their checks, structured runs, stability copies, stored final weights."""
from __future__ import annotations

import pytest
import torch

from support.configs import tiny_config
from lth_core import plan
from lth_core.store.complete import is_complete
from lth_core.lottery import state
from lth_core.training import loop as training
from lth_core.arms import COPY_ARM
from lth_core.models.architectures import build
from lth_core.store.run_store import Store
from lth_core.lottery.tasks import get_data
from support.runs import copy_store, run_recording

BEYOND = dict(criteria=("movement", "large_init_large_final"), at_init=("snip", "synflow"),
              at_init_checks=("shuffle", "reinit"), stability_levels=(0, 2), controls=("reinit", "random"))


@pytest.fixture(scope="module")
def beyond(tmp_path_factory, data_dir, mnist1d):
    """One tiny run with every kind of new arm (tests only read it)."""
    return run_recording(tiny_config(**BEYOND), tmp_path_factory.mktemp("beyond"), data_dir)


@pytest.fixture(scope="module")
def rewound(tmp_path_factory, data_dir, mnist1d):
    """A tiny rewinding run with at-init arms and a stability copy of the dense network."""
    cfg = tiny_config(reset="rewind", rewind_iteration=5, at_init=("magnitude_init",), stability_levels=(0, 1))
    return run_recording(cfg, tmp_path_factory.mktemp("rewound"), data_dir)


def _counts(masks):
    return {n: int(m.sum()) for n, m in masks.items()}


def test_every_planned_network_trained_once(beyond):
    """Each (trial, level, arm) of the plan, copies included, is trained exactly once."""
    store, rid, specs = beyond
    cfg = store.config(rid)
    assert sorted(specs) == sorted(f"t{t}-L{lv:02d}-{a}" for t, lv, a in plan.planned_tasks(cfg))
    assert is_complete(cfg, store)


@pytest.mark.parametrize("arm", ["imp_movement", "imp_large_init_large_final", "random"])
def test_new_arms_have_the_tickets_counts(beyond, arm):
    """Criteria and random pruning prune exactly as many weights per layer as the ticket."""
    store, rid, specs = beyond
    for level in (1, 2):
        assert _counts(specs[f"t0-L{level:02d}-{arm}"].masks) == _counts(specs[f"t0-L{level:02d}-ticket"].masks)


@pytest.mark.parametrize("arm, method", [("snip", "snip"), ("synflow", "synflow"), ("snip_shuffle", "snip"),
                                         ("synflow_reinit", "synflow")])
def test_at_init_arms_keep_the_tickets_total_in_their_own_layer_shares(beyond, arm, method):
    """An at-init mask (and each check of it) keeps the ticket's total count; its layer shares are its
    method's own (ranked over all layers), which its checks keep."""
    store, rid, specs = beyond
    for level in (1, 2):
        mine, ticket = _counts(specs[f"t0-L{level:02d}-{arm}"].masks), _counts(specs[f"t0-L{level:02d}-ticket"].masks)
        assert sum(mine.values()) == sum(ticket.values())
        assert mine == _counts(specs[f"t0-L{level:02d}-{method}"].masks)


def test_criteria_chains_nest_and_start_from_the_dense_network(beyond):
    """A criterion's ticket at level 2 keeps a subset of its own level-1 mask, and its survivors
    start from theta_0 like the magnitude ticket's."""
    store, rid, specs = beyond
    one, two = specs["t0-L01-imp_movement"].masks, specs["t0-L02-imp_movement"].masks
    assert all(not (two[n] & ~one[n]).any() for n in one)
    theta0 = store.read_state(rid, "t0/theta0.st")
    assert all(torch.equal(specs["t0-L02-imp_movement"].init_state[n], theta0[n]) for n in theta0)
    assert any(not torch.equal(two[n], specs["t0-L02-ticket"].masks[n]) for n in two)


def test_at_init_checks_shuffle_or_reinit_the_methods_mask(beyond):
    """snip_reinit keeps SNIP's mask on new weights; snip_shuffle keeps theta_0 with moved survivors."""
    store, rid, specs = beyond
    snip, reinit, shuffle = (specs[f"t0-L02-{a}"] for a in ("snip", "snip_reinit", "snip_shuffle"))
    assert all(torch.equal(snip.masks[n], reinit.masks[n]) for n in snip.masks)
    assert any(not torch.equal(snip.init_state[n], reinit.init_state[n]) for n in snip.masks)
    assert all(torch.equal(snip.init_state[n], shuffle.init_state[n]) for n in snip.init_state)
    assert any(not torch.equal(snip.masks[n], shuffle.masks[n]) for n in snip.masks)


def test_stability_copy_shares_start_and_mask_but_not_minibatch_order(beyond):
    """The copy is the same network from the same point, trained on another minibatch order."""
    store, rid, specs = beyond
    ticket, twin = specs["t0-L02-ticket"], specs[f"t0-L02-{COPY_ARM}"]
    assert all(torch.equal(ticket.masks[n], twin.masks[n]) for n in ticket.masks)
    assert all(torch.equal(ticket.init_state[n], twin.init_state[n]) for n in ticket.init_state)
    assert ticket.data_seed != twin.data_seed


@pytest.mark.parametrize("level", [0, 2])
def test_stability_ends_equal_the_two_networks_accuracies(beyond, level):
    """The line's two ends are the ticket and its copy: their errors are 1 - their stored accuracies."""
    store, rid, _ = beyond
    rec = store.read_json(rid, f"t0/L{level:02d}/stability.json")
    ends = [store.read_json(rid, f"t0/L{level:02d}/{arm}.json")["history"]["test_acc"][-1]
            for arm in ("ticket", COPY_ARM)]
    assert rec["test_error"][0] == pytest.approx(1 - ends[0], abs=1e-9)
    assert rec["test_error"][-1] == pytest.approx(1 - ends[1], abs=1e-9)
    assert rec["barrier"] == pytest.approx(max(rec["test_error"]) - (rec["test_error"][0] + rec["test_error"][-1]) / 2)


@pytest.mark.parametrize("arm", ["ticket", "imp_movement", "synflow_shuffle", COPY_ARM])
def test_stored_final_weights_give_the_stored_accuracy(beyond, data_dir, arm):
    """final_<arm>.st holds the trained network: evaluated again, it gives its last test accuracy."""
    store, rid, _ = beyond
    cfg = store.config(rid)
    state = store.read_state(rid, f"t0/L02/final_{arm}.st")
    model = build(cfg.arch, 0)
    model.load_state_dict(state)
    data = get_data(cfg.dataset, str(data_dir), "cpu")
    model.eval()
    _, correct = training.evaluate(model, data.x_test, data.y_test)
    assert int(correct) / len(data.y_test) == store.read_json(rid, f"t0/L02/{arm}.json")["history"]["test_acc"][-1]


def test_rewound_copy_of_the_dense_network_starts_at_theta_k(rewound):
    """With rewinding, the dense network's copy starts from theta_k at iteration k, like the tickets."""
    store, rid, specs = rewound
    twin = specs[f"t0-L00-{COPY_ARM}"]
    theta_k = store.read_state(rid, "t0/rewind.st")
    assert twin.start_iteration == 5
    assert all(torch.equal(twin.init_state[n], theta_k[n]) for n in theta_k)
    assert store.read_json(rid, "t0/L00/stability.json")["level"] == 0


def test_at_init_arms_train_from_theta0_from_iteration_0_even_when_rewinding(rewound):
    """Masks found at init are trained from theta_0 for the whole budget, not from theta_k."""
    store, rid, specs = rewound
    spec = specs["t0-L01-magnitude_init"]
    theta0 = store.read_state(rid, "t0/theta0.st")
    assert spec.start_iteration == 0
    assert all(torch.equal(spec.init_state[n], theta0[n]) for n in theta0)


def test_damaged_final_weights_are_rebuilt_identically(beyond, tmp_path, data_dir):
    """A garbled final-weights file sends its task through training again, with the same result."""
    store, rid, _ = beyond
    copy = copy_store(store, tmp_path / "s")
    rel = "t0/L01/final_imp_movement.st"
    before = copy.read_state(rid, rel)
    raw = copy.run_dir(rid).joinpath(rel).read_bytes()
    copy.run_dir(rid).joinpath(rel).write_bytes(raw[:-7] + b"garbage")
    _, _, specs = run_recording(store.config(rid), copy.root, data_dir)
    assert list(specs) == ["t0-L01-imp_movement"]
    after = copy.read_state(rid, rel)
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)


def test_structured_run_trains_structured_controls(tmp_path, data_dir, mnist1d):
    """A neurons run's ticket, random control and one-shot control remove whole neurons, equally many."""
    cfg = tiny_config(rate=0.3, granularity="neurons", controls=("reinit", "random", "oneshot"))
    store, rid, specs = run_recording(cfg, tmp_path / "s", data_dir)
    for arm in ("ticket", "random", "oneshot"):
        m = specs[f"t0-L02-{arm}"].masks["1.weight"]
        rows = m.any(1)
        assert int(rows.sum()) == 300 - 90 - 63 and m[rows].all()
        assert _counts(specs[f"t0-L02-{arm}"].masks) == _counts(specs["t0-L02-ticket"].masks)
    pct = state.percent_ladder(cfg)
    stored = store.read_json(rid, "t0/L02/ticket.json")
    assert 100 * sum(stored["layer_remaining"].values()) / sum(stored["layer_sizes"].values()) == pytest.approx(pct[2])


def test_summary_repeats_only_the_dense_network_under_each_arm(beyond):
    """At level 0 every arm shares the dense network; the stability copy is not repeated as if it were."""
    from lth_core.analysis import results
    store, rid, _ = beyond
    s = results.summary_frame(store, rid)
    shared = s[(s.level == 0) & s.shared_dense]
    dense = s[(s.level == 0) & (s.arm == "ticket")].final_test_acc.iloc[0]
    assert len(shared) == len(store.config(rid).arms) - 1
    assert (shared.final_test_acc == dense).all()
