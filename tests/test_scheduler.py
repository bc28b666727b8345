"""The dependency-aware scheduler: what waits on what, what starts first, and the same numbers
however the networks were spread over processes."""
from __future__ import annotations

import pytest
import torch

from support.configs import tiny_config
from lth_core.execution.local import LocalExecutor
from lth_core.execution.scheduler import Plan, Scheduler
from lth_core.execution import driver
from lth_core.execution.driver import _plan
from lth_core.lottery import state
from lth_core.presets import get_preset
from lth_core.plan import chain_after, depends_on, planned_tasks
from lth_core.store.run_store import Store


def _scheduler(config, capacity=2, threads=1):
    nodes = planned_tasks(config)
    plan = Plan(nodes=nodes, deps={n: depends_on(config, *n) for n in nodes},
                priority={n: chain_after(config, n[1], n[2]) for n in nodes}, threads={n: threads for n in nodes})
    return Scheduler([plan], capacity), plan


def test_controls_wait_only_for_their_levels_mask():
    """A control at level k needs the ticket of level k-1 (its mask), not the rest of level k-1."""
    c = tiny_config(controls=("reinit", "random", "oneshot"), rounds=3)
    assert depends_on(c, 0, 2, "reinit") == ((0, 1, "ticket"),)
    assert depends_on(c, 0, 2, "random") == ((0, 1, "ticket"),)
    assert depends_on(c, 1, 3, "oneshot") == ((1, 0, "ticket"),)
    assert depends_on(c, 0, 3, "ticket") == ((0, 2, "ticket"),)
    assert depends_on(c, 0, 0, "ticket") == ()


def test_at_init_masks_need_nothing_trained():
    """Masks found at initialisation depend only on theta_0: they may train from the start."""
    c = tiny_config(at_init=("snip",), at_init_checks=("shuffle",))
    assert depends_on(c, 0, 2, "snip") == () and depends_on(c, 0, 2, "snip_shuffle") == ()


def test_ticket_chain_goes_before_controls():
    """When a level's ticket and the previous level's control are both ready, the ticket starts first:
    every later network of the trial waits on it."""
    c = tiny_config(controls=("reinit",), rounds=3)
    sched, plan = _scheduler(c, capacity=1)
    order = []
    while not sched.finished():
        (i, node, _), = sched.take()
        order.append(node)
        sched.finish(i, node)
    tickets = [n for n in order if n[2] == "ticket"]
    assert order[:len(tickets)] == tickets  # the whole chain before any control, with one core
    for k, node in enumerate(order):
        assert all(d in order[:k] for d in plan.deps[node])  # nothing before what it starts from


def test_threads_stay_within_capacity():
    """Running networks never hold more threads than the executor has cores (one may always start)."""
    c = tiny_config(controls=("reinit", "random"), trials=3)
    sched, _ = _scheduler(c, capacity=2, threads=1)
    assert len(sched.ready()) == 3  # the three trials' dense networks
    assert len(sched.take()) == 2 and sched.busy == 2 and sched.take() == []
    wide, _ = _scheduler(c, capacity=2, threads=2)
    assert len(wide.take()) == 1  # a two-thread network fills both cores alone


def test_lone_network_gets_every_core_and_no_worker_processes(tmp_path, data_dir, mnist1d):
    """A chain of single networks trains here with every core's threads: no pool to start."""
    ex = LocalExecutor(2)
    assert ex.threads_for(1) == 2 and ex.threads_for(2) == 1 and ex.threads_for(6) == 1
    c = tiny_config(controls=())
    driver.run(c, Store(tmp_path), data_dir=data_dir, executor=ex)
    assert ex._pool is None
    ex.close()


def test_evaluations_use_threads_only_where_the_network_gains_from_them(tmp_path, data_dir, mnist1d):
    """A lone network evaluates on every core only when it is big enough to gain from threads: the demo's
    MLP evaluates on one thread, so a busy other core (a browser, a second user) cannot stall it."""
    ex = LocalExecutor(2)
    seen = []
    submit = ex.submit
    ex.submit = lambda ref: seen.append((ref.level, ref.threads, ref.eval_threads)) or submit(ref)
    c = tiny_config(controls=())
    driver.run(c, Store(tmp_path), data_dir=data_dir, executor=ex)
    ex.close()
    assert not driver.benefits_from_threads(c)
    assert seen and all(threads == 1 and eval_threads == 1 for _, threads, eval_threads in seen)
    vgg = get_preset("vgg19-cifar10")
    assert driver.benefits_from_threads(vgg)
    assert driver.eval_threads_for(vgg, ex, 0) == ex.threads_for(1) == 2  # the dense network alone: both cores
    assert driver.eval_threads_for(vgg, ex, 1) == 1  # the ticket and its re-init share them


def _metrics(store, rid, config):
    out = {}
    for t, lv, arm in planned_tasks(config):
        rec = store.read_json(rid, f"t{t}/L{lv:02d}/{arm}.json")
        out[(t, lv, arm)] = (rec["history"], rec["layer_remaining"])
    return out


def _masks(store, rid, config):
    return {(t, lv): store.read_masks(rid, f"t{t}/L{lv:02d}/mask_ticket.st")
            for t in range(config.trials) for lv in range(1, config.levels)}


def test_same_numbers_in_process_and_on_worker_processes(tmp_path, data_dir, mnist1d):
    """At equal thread counts (1), the scheduler's order and the processes it uses change nothing:
    every history and every mask is bit-identical to training one network after another here."""
    c = tiny_config(controls=("reinit", "random"), trials=2)
    s1, s2 = Store(tmp_path / "one"), Store(tmp_path / "pool")
    r1 = driver.run(c, s1, data_dir=data_dir, processes=1)
    pool = LocalExecutor(2, max_threads=1)
    r2 = driver.run(c, s2, data_dir=data_dir, executor=pool)
    assert pool._pool is not None  # the second run really used worker processes
    pool.close()
    assert _metrics(s1, r1, c) == _metrics(s2, r2, c)
    m1, m2 = _masks(s1, r1, c), _masks(s2, r2, c)
    assert all(torch.equal(m1[k][n], m2[k][n]) for k in m1 for n in m1[k])


def test_a_failing_task_fails_its_run_with_the_reason(tmp_path, data_dir, mnist1d, monkeypatch):
    """An exception inside a network's training fails the run (status says why) and reaches the caller."""
    from lth_core.lottery import tasks

    def broken(spec):
        raise RuntimeError("boom in " + spec.key)
    monkeypatch.setattr(tasks, "execute", broken)
    store = Store(tmp_path)
    c = tiny_config(controls=())
    with pytest.raises(RuntimeError, match="boom in t0-L00-ticket"):
        driver.run(c, store, data_dir=data_dir, processes=1)
    assert store.status(c.run_id())["state"] == "failed"
    assert "boom" in store.status(c.run_id())["reason"]


def test_plan_marks_stored_networks_done(tmp_path, data_dir, mnist1d):
    """A resumed run's plan starts with what the store holds as done, so nothing trains twice."""
    c = tiny_config(controls=("reinit",))
    store = Store(tmp_path)
    rid = driver.run(c, store, data_dir=data_dir, processes=1)
    plan = _plan(state.RunState(c, store, data_dir, "cpu"), LocalExecutor(1))
    assert plan.done == set(plan.nodes) and rid == c.run_id()
