"""Watching and stopping real processes: polling for a condition, and the app's job workers."""
from __future__ import annotations

import os
import signal
import time

from lth_core.store.run_store import Store


def wait_for(predicate, timeout_s: float, what: str, poll_s: float = 0.05):
    """predicate()'s first truthy value, polled every poll_s; fails naming `what` after timeout_s."""
    end = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < end, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(poll_s)
    return value


def stop_workers(store: Store) -> None:
    """The app's job workers run in their own process groups and outlive the server: stop any
    still computing a run of this store (their pid is in the run's status)."""
    for run_id in store.run_ids():
        st = store.status(run_id)
        if st.get("state") == "running" and st.get("pid"):
            try:
                os.killpg(int(st["pid"]), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
