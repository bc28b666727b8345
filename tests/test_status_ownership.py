"""Who may write a run's status, and how many job managers a store has (issue 11).

Rules: one job manager per process and per store; only the holder of a run's lock writes running,
done or failed; "done" is never overwritten. Each test drives the manager's ticks itself (a manager
without its own thread), so the order of events is fixed, not left to timing.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

import lth_core.service.jobs as jobs
from lth_core.execution import driver
from lth_core.service.admission import Job
from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.presets import get_preset
from lth_core.store.run_store import Store

TINY = get_preset("quick").replace(iterations=20, eval_every=10, rounds=1)
LONG = get_preset("quick").replace(iterations=100_000, eval_every=10_000, rounds=1)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store")


@pytest.fixture
def managers():
    made = []
    yield made
    for jm in made:
        jm.shutdown(kill=True)


def _manager(made, store, recover: bool, **settings):
    """A manager without its own thread (the test drives tick()); keywords are Settings fields."""
    settings.setdefault("workers", 1)
    settings.setdefault("warm_workers", 0)
    jm = JobManager(Store(store.root), Settings(**settings), recover=recover, processes_per_job=1, background=False)
    made.append(jm)
    return jm


def _fake_job(jm, run_id, cmd, started_ago=0.0):
    """A running job whose worker is `cmd` (its own process group, like a real worker)."""
    proc = subprocess.Popen(cmd, start_new_session=True)
    job = Job(run_id, {"a"}, state="running", proc=proc, started=time.time() - started_ago)
    with jm._lock:
        jm.jobs[run_id] = job
    return proc


# --- 1. one manager ---------------------------------------------------------------------------
def test_clearing_streamlit_caches_does_not_make_a_second_manager(tmp_path, monkeypatch):
    """Any client can send clear_cache; the app's manager must survive it (one per process)."""
    import streamlit as st

    from ui import state
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "store"))
    first = state.manager()
    try:
        st.cache_resource.clear()
        assert state.manager() is first
    finally:
        first.shutdown(kill=True)
    again = jobs.manager_for(tmp_path / "store", Settings(warm_workers=0))
    assert again is not first  # a shut-down manager is not handed out again
    again.shutdown(kill=True)


def test_a_second_manager_on_the_same_store_neither_recovers_nor_starts_workers(store, managers):
    """Another server on the same store joins its runs but leaves them to the store's holder."""
    rid = store.create(TINY)  # status queued, as a server leaves it
    first = _manager(managers, store, recover=True)
    assert rid in first.jobs and first.holds_store
    second = _manager(managers, store, recover=True)
    assert not second.holds_store and second.jobs == {}
    assert second.submit(TINY, owner="x") == rid  # joins: the run is the holder's
    second.tick()
    assert second.pool.started_count == 0 and second.jobs == {}
    first.shutdown(kill=True)
    second.claim_store()  # the holder is gone: the next manager takes the store over
    assert second.holds_store and rid in second.jobs


# --- 2. only the owner writes ---------------------------------------------------------------------
def test_a_worker_that_finds_its_run_taken_exits_75_and_the_manager_writes_nothing(store, managers, mnist1d):
    jm = _manager(managers, store, recover=False)
    rid = jm.submit(LONG, owner="a")
    with store.lock(rid):  # another process (the command line, another server) computes it
        store.set_status(rid, "running")
        jm.tick()
        proc = jm.jobs[rid].proc
        assert proc.wait(timeout=120) == 75
        jm.tick()
        assert jm.state(rid) is None
        assert store.status(rid)["state"] == "running"  # the holder's word stands
        assert "another process" in jm.messages[rid]


def test_recovery_does_not_requeue_a_run_whose_lock_is_held(store, managers):
    rid = store.create(TINY)  # queued
    with store.lock(rid):  # a live worker (an orphan of the last server) holds it
        jm = _manager(managers, store, recover=True)
        assert rid not in jm.jobs


def test_a_failing_worker_does_not_overwrite_done(store, managers):
    rid = store.create(TINY)
    jm = _manager(managers, store, recover=False)
    store.set_status(rid, "done")
    proc = _fake_job(jm, rid, [sys.executable, "-c", "raise SystemExit(1)"])
    proc.wait(timeout=30)
    jm.tick()
    assert jm.state(rid) is None and store.status(rid)["state"] == "done"


def test_the_time_limit_does_not_overwrite_done(store, managers):
    rid = store.create(TINY)
    jm = _manager(managers, store, recover=False, job_timeout_s=1)
    store.set_status(rid, "done")
    _fake_job(jm, rid, [sys.executable, "-c", "import time; time.sleep(60)"], started_ago=10)
    jm.tick()
    assert jm.state(rid) is None and store.status(rid)["state"] == "done"


def test_cancel_does_not_overwrite_done(store, managers):
    rid = store.create(TINY)
    jm = _manager(managers, store, recover=False)
    store.set_status(rid, "done")
    _fake_job(jm, rid, [sys.executable, "-c", "import time; time.sleep(60)"])
    assert jm.cancel(rid)
    assert store.status(rid)["state"] == "done"


def test_submitting_a_complete_run_marked_cancelled_marks_it_done(store, managers, data_dir, mnist1d):
    """A wrong status on a complete run is fixed from the app: submitting it again sets done."""
    driver.run(TINY, store, data_dir=data_dir, processes=1)
    rid = TINY.run_id()
    store.set_status(rid, "cancelled", "cancelled by a user")
    jm = _manager(managers, store, recover=False)
    assert jm.submit(TINY, owner="a") == rid
    assert jm.state(rid) is None and store.status(rid)["state"] == "done"


# --- 3. orphans ----------------------------------------------------------------------------------
REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def _worker(store, rid, data_dir, *extra):
    """A worker started as the job manager starts one, by a server that is no longer there."""
    return subprocess.Popen([sys.executable, "-m", "lth_core", "work", rid, "--store", str(store.root),
                             "--processes", "1", "--data-dir", str(data_dir), *extra],
                            cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_stops_itself_at_its_deadline_and_says_why(store, data_dir, mnist1d):
    """No server is left to enforce the time limit: the worker does, and writes the reason."""
    rid = store.create(LONG)
    proc = _worker(store, rid, data_dir, "--deadline-s", "3")
    try:
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    status = store.status(rid)
    assert status["state"] == "failed" and "time limit of 3 s" in status["reason"], status


def test_a_new_manager_adopts_a_live_orphan_within_the_worker_bound_and_time_limit(store, managers, data_dir, mnist1d):
    """A server died; its worker trains on. The next manager adopts it through the pid in its
    status: it fills the one worker slot, and the time limit (counted from its start) stops it."""
    rid = store.create(LONG)
    proc = _worker(store, rid, data_dir)
    try:
        end = time.monotonic() + 90
        while store.status(rid)["state"] != "running":
            assert time.monotonic() < end and proc.poll() is None, "the orphan never started"
            time.sleep(0.05)
        jm = _manager(managers, store, recover=True, workers=1)
        assert jm.state(rid) == "running" and jm.jobs[rid].pid == proc.pid
        queued = jm.submit(TINY, owner="a")
        jm.tick()
        assert jm.state(queued) == "queued" and jm.pool.started_count == 0  # the orphan holds the slot
        # the limit counts from the status's start time, which may be only milliseconds old here:
        # wait until it has surely passed (a 0.01 s limit checked at once raced with that write)
        jm.settings = replace(jm.settings, job_timeout_s=0.5)
        time.sleep(max(0.0, jm.jobs[rid].started + 0.6 - time.time()))
        jm.tick()
        assert jm.state(rid) is None  # dropped at the time limit...
        # ...and killed (SIGKILL, not its own exit); a killed process blocked in a write under a loaded
        # disk (the full suite) leaves the kernel only when the write returns, so allow it time
        assert proc.wait(timeout=60) == -signal.SIGKILL
        status = store.status(rid)
        assert status["state"] == "failed" and "time limit" in status["reason"], status
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
