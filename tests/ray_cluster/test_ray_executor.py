"""The Ray executor on a real 2-node local cluster: same numbers as the local executor, a killed
task retried to the same result, and a sweep spread over both nodes."""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import torch

from support.configs import tiny_config
from lth_core.cli.main import main as cli
from lth_core.execution.local import LocalExecutor
from lth_core.execution.ray import RayExecutor
from lth_core import plan
from lth_core.execution import driver
from lth_core.execution.driver import run_many
from lth_core.store.run_store import Store


def _record(store, config):
    """Every network's history and every ticket mask of a run, to compare two runs exactly."""
    rid = config.run_id()
    hist = {n: store.read_json(rid, f"t{n[0]}/L{n[1]:02d}/{n[2]}.json")["history"]
            for n in plan.planned_tasks(config)}
    masks = {(t, lv): store.read_masks(rid, f"t{t}/L{lv:02d}/mask_ticket.st")
             for t in range(config.trials) for lv in range(1, config.levels)}
    return hist, masks


def _same(a, b) -> bool:
    (h1, m1), (h2, m2) = a, b
    return h1 == h2 and m1.keys() == m2.keys() and all(
        torch.equal(m1[k][n], m2[k][n]) for k in m1 for n in m1[k])


def _local(config, root, data_dir):
    ex = LocalExecutor(2, max_threads=1)  # one thread per network, as each Ray task has 1 CPU
    try:
        driver.run(config, Store(root), data_dir=data_dir, executor=ex)
    finally:
        ex.close()
    return _record(Store(root), config)


def test_ray_gives_the_local_executors_masks_and_metrics(cluster, tmp_path, data_dir):
    """A tiny run under Ray, its networks trained on both nodes, equals the local run bit for bit."""
    config = tiny_config(controls=("reinit", "random"), trials=2)
    ex = RayExecutor()
    driver.run(config, Store(tmp_path / "ray"), data_dir=data_dir, executor=ex)
    ex.close()
    assert Store(tmp_path / "ray").status(config.run_id())["state"] == "done"
    assert len(ex.nodes_used) == 2  # tasks really went to both nodes
    assert _same(_record(Store(tmp_path / "ray"), config), _local(config, tmp_path / "local", data_dir))


def test_a_task_killed_mid_training_is_retried_to_the_same_result(cluster, tmp_path, data_dir):
    """SIGKILL of the Ray worker training the dense network: Ray retries the task, the run completes,
    and every number equals an undisturbed local run."""
    config = tiny_config(controls=("reinit",), iterations=2500, eval_every=100, rounds=1)
    store = Store(tmp_path / "ray")
    ex = RayExecutor()
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(run_many([config], store, ex, data_dir=data_dir)))
    worker.start()
    live = store.run_dir(config.run_id()) / "live" / "t0-L00-ticket.json"
    killed, pids, deadline = None, set(), time.time() + 120
    while worker.is_alive() and time.time() < deadline:
        try:
            rec = json.loads(live.read_text())["data"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
            continue
        pids.add(rec["pid"])
        if killed is None and rec["steps"] < config.training.iterations // 2:
            killed = rec["pid"]
            assert killed != os.getpid()  # a Ray worker, not this driver
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    worker.join(timeout=300)
    ex.close()
    assert killed is not None, "never saw the dense network training mid-way"
    assert outcome.get(config.run_id()) == "done"
    assert pids - {killed}, "no retry of the killed task was seen training"
    assert _same(_record(store, config), _local(config, tmp_path / "local", data_dir))


def test_a_sweep_spreads_over_both_nodes_and_completes(cluster, tmp_path, data_dir, capsys):
    """A 4-point sweep from the command line on the cluster: every run done, both nodes used."""
    root = tmp_path / "sweep"
    code = cli(["sweep", "--preset", "quick", "--set", "iterations=30", "--set", "eval_every=10",
                "--set", "rounds=1", "--grid", "seed=0,1,2,3", "--executor", "ray", "--store", str(root),
                "--data-dir", str(data_dir), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["points"]) == 4
    assert all(p["state"] == "done" for p in out["points"])
    configs = [tiny_config(rounds=1, iterations=30, seed=s) for s in (10, 11)]
    ex = RayExecutor()
    done = run_many(configs, Store(root), ex, data_dir=data_dir)
    ex.close()
    assert set(done.values()) == {"done"} and len(ex.nodes_used) == 2


def test_the_apps_job_manager_hands_runs_to_the_cluster(cluster, tmp_path, data_dir, monkeypatch):
    """LTH_EXECUTOR=ray: the job manager's worker becomes a Ray driver for the cluster at RAY_ADDRESS
    (no warm workers then), and the run completes there."""
    from support.processes import wait_for
    from lth_core.service.jobs import JobManager
    from lth_core.service.settings import Settings
    monkeypatch.setenv("LTH_EXECUTOR", "ray")
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    monkeypatch.setenv("LTH_DATA_DIR", str(data_dir))
    root = tmp_path / "store"
    root.mkdir()
    jm = JobManager(Store(root), Settings.from_env(), recover=False)  # as the app makes it
    try:
        assert jm.pool.warm == 0
        rid = jm.submit(tiny_config(controls=("reinit",)), owner="me")
        wait_for(lambda: jm.store.status(rid).get("state") in ("done", "failed"), 240, "the run to end")
        # the worker writes 'done', then closes its executor, which logs the task count: wait for it to exit
        wait_for(lambda: jm.state(rid) is None, 60, "the worker to exit")
        log = (jm.store.run_dir(rid) / "worker.log").read_text()
        assert jm.store.status(rid)["state"] == "done", log[-2000:]
        assert "ray: 5 tasks on" in log, log[-2000:]  # dense + 2 levels x (ticket, re-init)
    finally:
        jm.shutdown()
