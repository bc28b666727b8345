"""A stuck worker and a full disk are named on the page, not shown as a frozen bar or "interrupted".

Before: a stopped (SIGSTOP) or hung worker looked like a slow one until the time limit (an hour by
default), and a run whose disk filled up read "interrupted: its process stopped before the run
finished" (docs/RELIABILITY.md, fault injection). Real processes, a real store, the real page.
"""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time

from support.processes import wait_for
from lth_core.service import stall
from lth_core.service.exits import disk_was_full
from lth_core.store.run_store import Store
from support.apptest import assert_clean, empty_store, open_page  # noqa: F401  (empty_store: a fixture)
from ui import progress, state

SPIN = [sys.executable, "-c", "while True: pass"]


def _group_of(cmd):
    return subprocess.Popen(cmd, start_new_session=True)


def test_a_stopped_process_group_shows_as_idle_a_busy_one_does_not():
    busy, stopped = _group_of(SPIN), _group_of(SPIN)
    try:
        watch = stall.StallWatch(every_s=0.1)
        os.killpg(stopped.pid, signal.SIGSTOP)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            watch.sample("busy", busy.pid)
            watch.sample("stopped", stopped.pid)
            time.sleep(0.1)
        assert watch.idle_s("stopped") >= 2.5
        assert watch.idle_s("busy") < 1.0
        assert watch.idle_s("never seen") is None
        watch.keep_only({"busy"})
        assert watch.idle_s("stopped") is None
    finally:
        for p in (busy, stopped):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert stall.group_cpu_s(busy.pid) is None  # the group is gone


def test_the_page_says_a_stopped_worker_looks_stuck(empty_store, monkeypatch):
    """SIGSTOP of a real worker's group: the manager sees its CPU time stand still, and the Run page
    says so (with the stall threshold cut to 1 s), while the bar alone would only freeze."""
    at = open_page("pages/run.py", {"preset": "quick", "iterations": "20000", "eval_every": "1000"})
    at.button(key="start").click().run()
    assert_clean(at)
    jm = state.manager()
    rid = Store(empty_store).run_ids()[0]
    jm.stalls.every_s = 0.2
    job = wait_for(lambda: jm.jobs.get(rid) if jm.state(rid) == "running" else None, 120, "the worker to start")
    wait_for(lambda: Store(empty_store).status(rid).get("state") == "running", 120, "the worker to take its run")
    monkeypatch.setattr(progress, "STALL_S", 1.0)
    at.run()
    assert not at.get("warning") or not any("No progress" in w.value for w in at.warning)
    os.killpg(job.proc.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: (jm.idle_s(rid) or 0) >= 1.5, 30, "the manager to see the worker idle")
        at.run()
        assert_clean(at)
        said = [w.value for w in at.warning if "No progress" in w.value]
        assert said and "Cancel run" in said[0], [w.value for w in at.warning]
    finally:
        os.killpg(job.proc.pid, signal.SIGCONT)
        jm.cancel(rid)


def _log_with_a_real_enospc(path):
    """A worker log ending the way a worker's does when the disk is full: the OS's own error (ENOSPC
    from writing to /dev/full), in a traceback written by a real process."""
    with open(path, "ab") as log:
        subprocess.run([sys.executable, "-c", "open('/dev/full', 'wb').write(b'x' * 65536)"], stderr=log,
                       stdout=log, check=False)


def test_a_full_disk_is_named_when_the_worker_could_not_say_so(empty_store, monkeypatch):
    """The worker died on ENOSPC and the manager's own status write fails too (the disk is still full):
    the page shows the manager's reason, not a bare "interrupted"."""
    empty_store.mkdir(parents=True)
    at = open_page("pages/run.py", {"preset": "quick", "iterations": "20", "eval_every": "10", "rounds": "1"})
    jm = state.manager()
    # the manager has taken the store (and recovered what was there: nothing) before the run appears,
    # so it does not queue the interrupted run again by itself
    wait_for(lambda: jm.holds_store, 30, "the manager to take the store")
    store = Store(empty_store)
    from ui import params
    config = params.config_from_values(params.values_from_params(dict(at.query_params))[0])
    rid = config.run_id()
    store.create(config)
    store.set_status(rid, "running", "")  # what the worker wrote before the disk filled; it is gone now
    log = store.run_dir(rid) / "worker.log"
    _log_with_a_real_enospc(log)
    assert disk_was_full(log) and os.strerror(errno.ENOSPC) in log.read_text()

    def disk_full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(jm.store, "set_status", disk_full)
    jm._worker_failed(rid, 1)
    assert "disk is full" in jm.messages[rid]
    at.run()
    assert_clean(at)
    shown = " ".join(w.value for w in at.warning)
    assert "interrupted" in shown and "disk is full" in shown, shown


def test_a_log_without_enospc_is_not_a_full_disk(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text("work: started pid 1 run abc\nTraceback (most recent call last):\nMemoryError\n")
    assert not disk_was_full(log) and not disk_was_full(tmp_path / "missing.log")
