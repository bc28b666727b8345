"""Job manager limits, proven with real worker processes (`python -m lth_core work`).

One training per unique config however many sessions ask; per-session and server-wide queue limits
with messages that state the limit; a stuck job killed at its time limit and marked failed with the
reason; cancel that frees the worker at once; never more workers than the bound (sampled with `ps`).
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from lth_core.service.admission import LimitReached
from support.processes import wait_for
from lth_core.presets import get_preset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from procwatch import Sampler, worker_processes  # noqa: E402  (the load test's ps sampler)

TINY = get_preset("quick").replace(iterations=20, eval_every=10, rounds=1)
LONG = get_preset("quick").replace(iterations=100_000, eval_every=10_000, rounds=1)  # outlives every test


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_same_config_from_many_owners_trains_once_and_workers_stay_bounded(manager):
    """Three configs asked by three sessions each: three worker starts, never more than 2 at once."""
    jm = manager(workers=2, max_jobs_per_session=3)
    configs = [TINY.replace(seed=s) for s in range(3)]
    sampler = Sampler(jm.store.root, every_s=0.1)
    sampler.start()
    try:
        for owner in ("ann", "bob", "cy"):
            for c in configs:
                assert jm.submit(c, owner=owner) == c.run_id()
        assert len(jm.jobs) == 3 and all(j.owners == {"ann", "bob", "cy"} for j in jm.jobs.values())
        wait_for(lambda: not jm.jobs, 150, "the three runs to finish", poll_s=0.1)
    finally:
        sampler.stop()
    assert jm.pool.started_count == 3
    assert sorted(sampler.workers_seen.values()) == sorted(c.run_id() for c in configs)
    assert sampler.peak_workers <= 2 and jm.peak_running <= 2
    assert all(jm.store.status(c.run_id())["state"] == "done" for c in configs)
    jm.submit(configs[0], owner="dee")  # asked again later: served from the store
    assert jm.state(configs[0].run_id()) is None and jm.pool.started_count == 3


def test_per_owner_limit_names_the_limit(manager):
    """One session cannot fill the queue: its third run is refused with the per-session limit."""
    jm = manager(workers=1, max_jobs_per_session=2, max_jobs=10)
    jm.submit(LONG.replace(seed=0), owner="me")
    jm.submit(LONG.replace(seed=1), owner="me")
    jm.submit(LONG.replace(seed=1), owner="me")  # the same run again is no new job
    with pytest.raises(LimitReached, match=r"the limit is 2 per session"):
        jm.submit(LONG.replace(seed=2), owner="me")
    jm.submit(LONG.replace(seed=2), owner="someone else")  # other sessions are not affected
    assert len(jm.jobs) == 3


def test_overall_limit_names_the_limit(manager):
    """The server's queue is bounded: the run beyond LTH_MAX_JOBS is refused, saying the limit."""
    jm = manager(workers=1, max_jobs_per_session=5, max_jobs=3)
    for i, owner in enumerate(("a", "b", "c")):
        jm.submit(LONG.replace(seed=i), owner=owner)
    with pytest.raises(LimitReached, match=r"the limit is 3\b"):
        jm.submit(LONG.replace(seed=3), owner="d")
    assert jm.submit(LONG.replace(seed=0), owner="d") == LONG.replace(seed=0).run_id()  # joining is free


def test_limits_come_from_the_environment(tmp_path, monkeypatch, mnist1d):
    """An operator sets the bounds with LTH_WORKERS, LTH_MAX_JOBS, LTH_MAX_JOBS_PER_SESSION, LTH_JOB_TIMEOUT_S:
    the app's job manager runs with them."""
    from ui import state
    for name, value in (("LTH_WORKERS", "3"), ("LTH_MAX_JOBS", "7"), ("LTH_MAX_JOBS_PER_SESSION", "4"),
                        ("LTH_JOB_TIMEOUT_S", "99"), ("LTH_STORE", str(tmp_path / "store"))):
        monkeypatch.setenv(name, value)
    jm = state.manager()
    try:
        s = jm.settings
        assert (s.workers, s.max_jobs, s.max_jobs_per_session, s.job_timeout_s) == (3, 7, 4, 99)
    finally:
        jm.shutdown(kill=True)


def test_stuck_job_is_killed_at_the_time_limit_and_marked_failed(manager):
    """A hung worker (SIGSTOP) is killed when its time is up; the run says why; the slot frees."""
    jm = manager(workers=1, job_timeout_s=3)
    rid = jm.submit(LONG, owner="me")
    proc = wait_for(lambda: jm.jobs.get(rid) and jm.jobs[rid].proc, 10, "the worker to start")
    os.killpg(proc.pid, signal.SIGSTOP)  # stuck: it will never finish on its own
    wait_for(lambda: jm.state(rid) is None, 3 + 5, "the time limit to stop the job")
    assert not group_alive(proc.pid)
    status = jm.store.status(rid)
    assert status["state"] == "failed" and "time limit of 3 s" in status["reason"]
    assert "time limit of 3 s" in jm.messages[rid]
    assert worker_processes(jm.store.root) == {}


def test_cancel_frees_the_worker_at_once_and_the_next_job_starts(manager):
    """Cancel kills the worker's process group within a second and hands its slot to the queue."""
    jm = manager(workers=1)
    first, second = jm.submit(LONG.replace(seed=0), owner="a"), jm.submit(LONG.replace(seed=1), owner="b")
    proc = wait_for(lambda: jm.jobs.get(first) and jm.jobs[first].proc, 10, "the first worker to start")
    assert jm.state(second) == "queued"
    t0 = time.monotonic()
    assert jm.cancel(first)
    wait_for(lambda: not group_alive(proc.pid), 1.0, "the cancelled worker to be gone", poll_s=0.01)
    assert time.monotonic() - t0 < 1.0
    assert first not in worker_processes(jm.store.root).values()
    assert jm.store.status(first)["state"] == "cancelled"
    wait_for(lambda: jm.state(second) == "running", 1.5, "the queued job to start", poll_s=0.02)
    assert jm.peak_running <= 1


def test_cancel_by_one_owner_keeps_a_shared_run_for_the_others(manager):
    """Six students share one run: one student's Cancel only detaches them; the last one stops it."""
    jm = manager(workers=1, max_jobs_per_session=1)
    rid = jm.submit(LONG, owner="a")
    jm.submit(LONG, owner="b")
    proc = wait_for(lambda: jm.jobs.get(rid) and jm.jobs[rid].proc, 10, "the worker to start")
    assert jm.cancel(rid, owner="a")
    assert jm.state(rid) == "running" and group_alive(proc.pid)
    jm.submit(LONG.replace(seed=9), owner="a")  # a's slot is free again
    assert jm.cancel(rid, owner="b")
    wait_for(lambda: not group_alive(proc.pid), 1.0, "the worker to be gone", poll_s=0.01)
    assert jm.store.status(rid)["state"] == "cancelled"



def _refuse_fork(jm, run_id, monkeypatch):
    """The worker launch of this run fails as a refused fork does (EAGAIN); others start normally."""
    import subprocess
    real = subprocess.Popen

    def popen(cmd, *a, **k):
        if run_id in cmd:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real(cmd, *a, **k)
    monkeypatch.setattr(subprocess, "Popen", popen)


def _delete_folder(jm, run_id, monkeypatch):
    """Someone removed the queued run's folder (its worker log cannot be opened)."""
    import shutil
    shutil.rmtree(jm.store.run_dir(run_id))


@pytest.mark.parametrize("break_start", [_refuse_fork, _delete_folder], ids=["fork-refused", "folder-deleted"])
def test_a_job_that_cannot_start_fails_with_its_reason_and_the_queue_goes_on(manager, monkeypatch, break_start):
    """A broken first job must not raise on every tick and wedge the queue: it fails, the next one starts."""
    jm = manager(workers=1, background=False)  # no ticks of its own: the test drives them
    broken, fine = jm.submit(LONG.replace(seed=0), owner="a"), jm.submit(LONG.replace(seed=1), owner="b")
    break_start(jm, broken, monkeypatch)
    jm.tick()
    assert jm.state(broken) is None and jm.state(fine) == "running" and jm.pool.started_count == 1
    assert "could not start" in jm.messages[broken]
    if break_start is _delete_folder:
        assert not jm.store.run_dir(broken).exists()  # its status is not written into a new, empty folder
    else:
        status = jm.store.status(broken)
        assert status["state"] == "failed" and "Resource temporarily unavailable" in status["reason"]
