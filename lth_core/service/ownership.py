"""Who may start workers on a store, and who writes a run's status (docs/RELIABILITY.md,
"Who writes a run's status").

The manager holding <store>/manager.lock (an flock, freed when its process dies) recovers the
store and starts workers; a second server on the store joins runs until the holder is gone.
Only the holder of a run's lock writes running, done or failed; "done" is never overwritten.
"""
from __future__ import annotations

import fcntl
import os
import time

from lth_core.service import protocol
from lth_core.service.admission import Job
from lth_core.store.run_store import AlreadyRunning, Store

STORE_LOCK = "manager.lock"  # in the store's root, held by the store's one job manager


def claim(store: Store, create: bool) -> int | None:
    """The descriptor holding the store's manager lock, or None when another manager holds it or
    the store cannot be written. `create`: make a missing store folder first (else None)."""
    if store.readonly:
        return None
    if not store.root.is_dir():
        if not create:
            return None
        try:
            store.check_writable()
            store.root.mkdir(parents=True, exist_ok=True)
        except OSError:  # includes StoreUnwritable: submitting says so
            return None
    try:
        fd = os.open(store.root / STORE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # an unwritable store: submitting says so; nothing to recover or run
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)  # another manager (this process or another server) holds the store
        return None
    return fd


def recover(store: Store, jobs: dict[str, Job]) -> None:
    """Add to `jobs` the runs a previous server left queued or interrupted, unless a live process
    holds the run's lock. A live worker of a previous server is adopted: it counts against the
    worker bound and time limit, and can be cancelled."""
    for run_id in store.run_ids():
        st = store.status(run_id)
        if st.get("state") == "running" and run_id not in jobs and protocol.is_worker(st.get("pid"), run_id):
            started = st.get("time") if isinstance(st.get("time"), (int, float)) else time.time()
            jobs[run_id] = Job(run_id, {"recovered"}, state="running", pid=st["pid"], started=started)
            continue
        if st.get("state") in ("queued", "interrupted") and not store.is_locked(run_id) and run_id not in jobs:
            jobs[run_id] = Job(run_id, {"recovered"})


def may_write(store: Store, run_id: str) -> bool:
    """A manager writes a run's status (failed, cancelled) only when no live process holds the
    run's lock and the run is not done: done is never overwritten."""
    return not store.is_locked(run_id) and store.status(run_id).get("state") != "done"


def mark_done(store: Store, run_id: str) -> None:
    """A complete run whose status is not done (a stale cancel) is set to done, under its lock."""
    if store.readonly or store.status(run_id).get("state") == "done":
        return
    try:
        with store.lock(run_id):
            store.set_status(run_id, "done")
    except AlreadyRunning:  # its holder writes its status
        pass
