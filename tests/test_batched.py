"""Stacked training (lth_core.lottery.batched) gives the numbers one-at-a-time training gives.

Stacking changes only which matmul kernels run (batched instead of one network's), so
results may differ by float rounding: measured here, 1e-7 in validation loss for most
networks after 300 LeNet steps. Adam divides by the root of tiny second moments, which can
magnify rounding in a few weights, so a few networks drift further (up to 0.3 points of test
accuracy after 300 steps). Tolerances below: masks within 0.1% of weights, accuracies within
0.01, validation loss within 0.01.
"""
from __future__ import annotations

import dataclasses

import pytest
import torch

from support.configs import tiny_config
from lth_core.execution import driver
from lth_core.execution.select import local_executor
from lth_core.lottery import state
from lth_core.analysis import results
from lth_core.lottery.batched import can_stack, execute_stacked, groups
from lth_core.store.run_store import Store
from lth_core.lottery.tasks import execute

CONTROLS = ("reinit", "random", "oneshot")


def level1_specs(config, data_dir, tmp_path):
    """Every task of level 1 for `config`, after a real level 0."""
    r = state.RunState(config, Store(tmp_path), str(data_dir), "cpu")
    for trial in range(config.trials):
        spec = r.spec(trial, 0, "ticket")
        r.persist(trial, 0, "ticket", spec, execute(spec))
    return {(t, 1, arm): r.spec(t, 1, arm) for t in range(config.trials) for arm in config.arms}


@pytest.fixture(scope="module")
def rewound_specs(data_dir, mnist1d, tmp_path_factory):
    config = tiny_config(controls=CONTROLS, trials=2, reset="rewind", rewind_iteration=5)
    return level1_specs(config, data_dir, tmp_path_factory.mktemp("specs"))


def test_groups_split_by_start_iteration(rewound_specs):
    """Rewound arms start at step k, re-init at step 0: they cannot share a loop."""
    got = sorted(sorted(g) for g in groups(rewound_specs))
    rewound = sorted(t for t in rewound_specs if t[2] != "reinit")
    assert got == sorted([rewound, sorted(t for t in rewound_specs if t[2] == "reinit")])


def test_networks_with_batchnorm_train_alone(rewound_specs):
    """BatchNorm keeps running statistics (buffers), which vmap cannot stack here."""
    specs = {k: dataclasses.replace(s, arch="resnet18") for k, s in rewound_specs.items()}
    assert not can_stack(next(iter(specs.values())))
    assert sorted(len(g) for g in groups(specs)) == [1] * len(specs)


@pytest.mark.parametrize("snapshot_after", [0, 5])
def test_stacked_matches_one_at_a_time(rewound_specs, snapshot_after):
    """Histories, snapshots (at the start, or mid-run as when rewinding to theta_k) and final
    weights of each network, stacked vs alone."""
    specs = [dataclasses.replace(s, want_final=True, snapshot_at=s.start_iteration + snapshot_after)
             for k, s in rewound_specs.items() if k[2] != "reinit"]
    alone, stacked = [execute(s) for s in specs], execute_stacked(specs)
    for spec, a, b in zip(specs, alone, stacked):
        assert a["key"] == b["key"] == spec.key and a["history"]["iteration"] == b["history"]["iteration"]
        for k in ("val_loss", "val_acc", "test_acc", "train_acc"):
            assert max(abs(x - y) for x, y in zip(a["history"][k], b["history"][k])) <= 0.01, k
        for part in ("final", "snapshot"):
            assert a[part].keys() == b[part].keys()
            assert all(torch.allclose(a[part][n], b[part][n], atol=1e-3) for n in a[part]), part
        if snapshot_after == 0:  # nothing trained yet: the snapshot is the starting weights
            assert all(torch.equal(b["snapshot"][n], spec.init_state[n] * spec.masks.get(n, 1)) for n in b["snapshot"])


def test_stacked_refuses_networks_that_cannot_share_a_loop(rewound_specs):
    """Rewound arms start at step k, re-init at 0: one loop for both would train one of them wrongly."""
    with pytest.raises(ValueError, match="groups"):
        execute_stacked(list(rewound_specs.values()))


def test_stacked_keeps_pruned_weights_at_zero(rewound_specs):
    specs = [dataclasses.replace(s, want_final=True) for s in rewound_specs.values() if s.start_iteration == 0]
    for spec, out in zip(specs, execute_stacked(specs)):
        assert all(not out["final"][n][~m].any() for n, m in spec.masks.items())


@pytest.fixture(scope="module")
def engine_both_ways(data_dir, mnist1d, tmp_path_factory):
    """One config through the engine one at a time and stacked (what LTH_STACK=1 chooses), two stores."""
    # the paper's lr and batch, not the quick demo's (5e-3, 240): a larger step amplifies float
    # rounding differences between the two ways of summing, beyond what "same masks" can tolerate
    config = tiny_config(controls=CONTROLS, trials=2, lr=1.2e-3, batch_size=60)
    stores = []
    for stack in ("0", "1"):
        store = Store(tmp_path_factory.mktemp(f"stack{stack}"))
        executor = local_executor("cpu", 1, stack=stack == "1")
        try:
            driver.run(config, store, data_dir=data_dir, executor=executor)
        finally:
            executor.close()
        stores.append(store)
    return config, stores


def test_engine_stacked_gives_same_masks(engine_both_ways):
    config, (a, b) = engine_both_ways
    rid = config.run_id()
    diff = total = 0
    for t in range(config.trials):
        for lv in range(1, config.levels):
            for arm in ("ticket", "random", "oneshot"):  # re-init reuses the ticket's mask
                ma, mb = a.read_masks(rid, f"t{t}/L{lv:02d}/mask_{arm}.st"), b.read_masks(rid, f"t{t}/L{lv:02d}/mask_{arm}.st")
                diff += sum(int((ma[n] != mb[n]).sum()) for n in ma)
                total += sum(m.numel() for m in ma.values())
    assert total and diff <= 0.001 * total


def test_engine_stacked_gives_same_metrics(engine_both_ways):
    config, (a, b) = engine_both_ways
    fa, fb = (results.summary_frame(s, config.run_id()) for s in (a, b))
    assert len(fa) == len(fb) == config.trials * config.levels * 4  # level 0 is listed under every arm
    acc = [c for c in fa.columns if "acc" in c]
    assert (fa[acc] - fb[acc]).abs().max().max() <= 0.01
    assert (fa.val_loss_at_early_stop - fb.val_loss_at_early_stop).abs().max() <= 0.01
