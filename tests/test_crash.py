"""Crashes: a worker killed with SIGKILL mid-round, and a server (job manager) stopped mid-run.

The worker is the real one, `python -m lth_core work <run_id>` in its own process group, started
by the JobManager exactly as the app starts it. After the kill the store holds no damaged file; a
new worker resumes at the first unfinished task (finished metrics are not rewritten) and the run
ends with the same numbers as one that was never interrupted (processes=1 in both, so the
arithmetic is the same).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from lth_core.cli import main as cli

from lth_core.execution import driver
from lth_core.store.complete import is_complete

from lth_core.analysis import results
from lth_core.plan import planned_tasks
from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.presets import get_preset
from lth_core.store.run_store import Store

REPO = Path(__file__).resolve().parents[1]
ONE_WORKER = Settings(workers=1, warm_workers=0)  # tasks in turn, no warm workers
# 7 tasks: the dense network, then ticket + reinit + random at levels 1 and 2
CONFIG = get_preset("quick").replace(iterations=60, eval_every=10, rounds=2, controls=("reinit", "random"))
RID = CONFIG.run_id()


def metrics_files(store: Store, run_id: str = RID) -> dict[str, int]:
    """{relative path: mtime in ns} of every metrics record (one per finished task)."""
    base = store.run_dir(run_id)
    return {str(p.relative_to(base)): p.stat().st_mtime_ns for p in base.glob("t*/L*/*.json")}


def wait_for(predicate, timeout_s: float, what: str, poll_s: float = 0.02):
    end = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < end, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(poll_s)


def stray_temp_files(store: Store, run_id: str = RID) -> list[str]:
    """*.tmp files that could matter: anything but the atomic writer's hidden leftovers
    (.<name>.<random>.tmp, which no reader opens and damaged_files ignores)."""
    base = store.run_dir(run_id)
    return [str(p.relative_to(base)) for p in base.rglob("*.tmp") if not re.match(r"^\..+\.tmp$", p.name)]


def kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data_dir, mnist1d):
    """The same run, never interrupted."""
    store = Store(tmp_path_factory.mktemp("reference"))
    driver.run(CONFIG, store, data_dir=data_dir, processes=1)
    return results.summary_frame(store, RID)


def test_worker_killed_mid_round_resumes_from_last_finished_task(tmp_path, reference, executed):
    """SIGKILL in the middle of level 1 loses only the task in flight; the results are unchanged."""
    store = Store(tmp_path / "store")
    jm = JobManager(store, ONE_WORKER, recover=False, processes_per_job=1)  # tasks in turn, as the reference
    try:
        jm.submit(CONFIG, owner="a")
        proc = wait_for(lambda: jm.jobs.get(RID) and jm.jobs[RID].proc, 30, "the worker to start")
        level1 = lambda: [k for k in metrics_files(store) if k.startswith("t0/L01/")]  # noqa: E731
        wait_for(lambda: 1 <= len(level1()) < 3, 120, "one level-1 task to finish", poll_s=0.005)
        kill_group(proc)  # the JobManager's worker, its whole process group, mid-round
        wait_for(lambda: jm.state(RID) is None, 10, "the manager to notice the dead worker")
    finally:
        jm.shutdown()
    finished = metrics_files(store)
    assert 2 <= len(finished) < len(planned_tasks(CONFIG))
    assert store.damaged_files(RID) == []
    assert stray_temp_files(store) == []
    assert store.status(RID)["state"] == "failed"  # marked, with a reason
    assert "code -9" in store.status(RID)["reason"]

    # a new worker picks the run up (`lth_core work`, in this process so its tasks can be counted)
    first = []
    real_progress = Store.write_progress
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Store, "write_progress", lambda self, rid, p: (first.append(p) if not first else None,
                                                                  real_progress(self, rid, p)))
        assert cli.main(["work", RID, "--store", str(store.root), "--processes", "1"]) == 0
    missing = [f"t{t}-L{lv:02d}-{a}" for t, lv, a in planned_tasks(CONFIG)
               if f"t{t}/L{lv:02d}/{a}.json" not in finished]
    assert sorted(executed) == sorted(missing)  # only the unfinished tasks trained again
    assert first[0]["network_iterations_done"] == CONFIG.training.iterations * len(finished)
    after = metrics_files(store)
    assert {k: after[k] for k in finished} == finished  # nothing finished was rewritten
    assert len(after) == len(planned_tasks(CONFIG))
    assert store.damaged_files(RID) == [] and stray_temp_files(store) == []
    assert store.status(RID)["state"] == "done"
    pd.testing.assert_frame_equal(results.summary_frame(store, RID), reference, rtol=1e-9)


def test_sigkill_during_writes_never_leaves_a_damaged_file(tmp_path):
    """Atomic writes: a process killed while writing leaves the old or the new file, never half of one."""
    code = ("import sys, numpy as np\n"
            "from lth_core.store.run_store import Store\n"
            "s, rid = Store(sys.argv[1]), '0123456789abcdef'\n"
            "print('ready', flush=True)\n"
            "i = 0\n"
            "while True:\n"
            "    i += 1\n"
            "    s.write_json(rid, 'm.json', {'i': i, 'pad': 'x' * 50000})\n"
            "    s.write_arrays(rid, 'a.st', {'w': np.full(20000, i, dtype=np.float32)})\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE,
                            start_new_session=True)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.5)
    kill_group(proc)
    store = Store(tmp_path)
    assert store.damaged_files("0123456789abcdef") == []
    assert store.read_json("0123456789abcdef", "m.json")["i"] >= 1
    assert store.read_arrays("0123456789abcdef", "a.st")[0]["w"][0] >= 1


def test_job_manager_restart_loses_no_finished_task_and_continues_runs(tmp_path, mnist1d):
    """A server restart: the running run is requeued and resumes, the queued one still runs."""
    store = Store(tmp_path / "store")
    running, queued = CONFIG.replace(iterations=30), CONFIG.replace(seed=1, iterations=20)
    jm = JobManager(store, ONE_WORKER, recover=False, processes_per_job=1)
    try:
        jm.submit(running, owner="a")
        jm.submit(queued, owner="b")
        wait_for(lambda: len(metrics_files(store, running.run_id())) >= 2, 120, "two finished tasks", poll_s=0.01)
        assert jm.state(queued.run_id()) == "queued"
    finally:
        jm.shutdown(kill=True)  # the server goes down: its workers die with it
    finished = metrics_files(store, running.run_id())
    assert store.status(running.run_id())["state"] == "interrupted"
    assert store.status(queued.run_id())["state"] == "queued"
    assert store.damaged_files(running.run_id()) == []

    jm = JobManager(store, Settings(workers=2, warm_workers=0), recover=True, processes_per_job=1)  # the server comes back
    try:
        assert {running.run_id(), queued.run_id()} <= set(jm.jobs)
        wait_for(lambda: not jm.jobs, 240, "the recovered runs to finish", poll_s=0.1)
    finally:
        jm.shutdown()
    for cfg in (running, queued):
        assert store.status(cfg.run_id())["state"] == "done", store.status(cfg.run_id())
        assert is_complete(cfg, store) and store.damaged_files(cfg.run_id()) == []
    after = metrics_files(store, running.run_id())
    assert {k: after[k] for k in finished} == finished


SERVER = """
import json, sys, time
from lth_core.config import ExperimentConfig
from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.store.run_store import Store
jm = JobManager(Store(sys.argv[1]), Settings(workers=1, warm_workers=0), recover=False, processes_per_job=1)
for owner, d in enumerate(json.loads(sys.argv[2])):
    jm.submit(ExperimentConfig.from_dict(d), owner=str(owner))
print("submitted", flush=True)
time.sleep(600)
"""


def test_server_killed_hard_leaves_its_worker_to_finish_and_the_queue_to_the_next_server(tmp_path, mnist1d):
    """SIGKILL of the server process alone: its worker (own process group) finishes its run; the
    next server adopts it (it fills the one worker slot), re-queues the queued run and does not
    start the orphan's run a second time."""
    store = Store(tmp_path / "store")
    running, queued = CONFIG.replace(iterations=30), CONFIG.replace(seed=1, iterations=20)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(store.root),
                               json.dumps([running.to_dict(), queued.to_dict()])],
                              cwd=REPO, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert server.stdout.readline().strip() == b"submitted"
        wait_for(lambda: metrics_files(store, running.run_id()), 120, "the first task to finish", poll_s=0.01)
    finally:
        server.kill()  # the server process only, not its worker's process group
        server.wait(timeout=10)
    assert store.status(running.run_id())["state"] == "running"  # its worker still holds the lock
    jm = JobManager(store, ONE_WORKER, recover=True, processes_per_job=1)  # the next server
    try:
        assert set(jm.jobs) == {running.run_id(), queued.run_id()}
        assert jm.jobs[running.run_id()].proc is None and jm.jobs[running.run_id()].pid  # adopted, not restarted
        wait_for(lambda: not jm.jobs, 180, "the queued run to finish", poll_s=0.1)
        wait_for(lambda: store.status(running.run_id())["state"] == "done", 120, "the orphan to finish")
    finally:
        jm.shutdown()
    assert jm.pool.started_count == 1
    for cfg in (running, queued):
        assert is_complete(cfg, store) and store.damaged_files(cfg.run_id()) == []


def test_a_status_probe_does_not_make_a_resuming_worker_give_up(tmp_path):
    """Pages polling an interrupted run's status probe its lock (a shared flock for microseconds);
    a worker taking the run over at that instant must wait it out, not exit as 'already running'."""
    import fcntl
    import threading
    store = Store(tmp_path)
    rid = store.create(CONFIG)
    with store.lock(rid):
        pass  # the lock file exists, as after an interrupted run
    fd = os.open(store.run_dir(rid) / "lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)  # a probe caught in the act
    threading.Timer(0.1, lambda: os.close(fd)).start()
    with store.lock(rid):
        assert store.is_locked(rid)
