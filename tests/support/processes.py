"""Small helpers shared by the tests that watch real processes."""
from __future__ import annotations

import time


def wait_for(predicate, timeout_s: float, what: str, poll_s: float = 0.05):
    """predicate()'s first truthy value, polled every poll_s; fails naming `what` after timeout_s."""
    end = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < end, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(poll_s)
    return value
