"""The worker protocol: how the job manager starts a worker process and learns how it ended.

A worker (`python -m lth_core work <run>` or `... analyse ...`) runs in its own process group,
so cancelling kills everything it started, under a data-memory cap. A run's worker writes
START_RECORD first in its log; its exit code says how it ended. A warm worker (STANDBY_FLAG)
gets its run id as one line on standard input (hand_over, wait_for_run); EOF: manager gone.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1    # the computation failed; the worker wrote the reason into the run's status
EXIT_USAGE = 2     # a bad flag or value
EXIT_DATA = 3      # a dataset that cannot be had
EXIT_TAKEN = 75    # another live process holds the run's lock (EX_TEMPFAIL); it writes the status
START_RECORD = "work: started"  # first log line: "work: started pid N run R at T"
STANDBY_FLAG = "--standby"      # `work --standby`: a warm worker, waiting for its run id
REPO = Path(__file__).resolve().parents[2]  # workers run from the checkout, so `-m lth_core` resolves


def command(*args: str) -> list[str]:
    """The command line of a worker: this Python running `lth_core` with `args`."""
    return [sys.executable, "-m", "lth_core", *args]


def spawn(cmd: list[str], out, memory_bytes: int | None, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    """Start `cmd` in its own process group, its output to the open file `out`, its data memory
    capped at `memory_bytes` (None: no cap)."""
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=stdin, start_new_session=True,
                            cwd=str(REPO))
    limit_memory(proc.pid, memory_bytes)
    return proc


def limit_memory(pid: int, limit_bytes: int | None) -> None:
    """Cap a process's data memory, so an allocation beyond it fails in the worker, not the server.

    RLIMIT_DATA, not RLIMIT_AS: torch and CUDA map large virtual areas, while RLIMIT_DATA counts
    the heap where tensors live. Set from outside (prlimit) so no preexec_fn runs in a threaded
    server."""
    if limit_bytes is None or not hasattr(resource, "prlimit"):
        return
    try:
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit_bytes, limit_bytes))
    except (OSError, ValueError):  # the process already ended, or the limit is above the hard one
        pass


def exited(pid: int) -> bool:
    """True once pid has exited (gone, or a zombie whose every thread has exited: only then are
    its files, and so its locks, released; a zombie leader's other threads may still be exiting)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:][:1] in ("Z", "X") and threads <= 1


def is_worker(pid, run_id: str) -> bool:
    """True if pid is a live `python -m lth_core work <run_id>` (the process table, not just a
    pid: pids are reused; a zombie's empty command line reads as gone)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:  # a warm worker renames itself (one string with spaces): split on both
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return False
    return "work" in args and run_id in args and any("lth_core" in a for a in args)


def kill(proc: subprocess.Popen) -> None:
    """Kill a worker started here and its process group; returns once it is reaped."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=10)


def kill_group(pid: int, wait_s: float = 10.0) -> None:
    """Kill the process group of a worker that another server started (no Popen to reap), and
    wait up to wait_s for it to exit."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    end = time.monotonic() + wait_s
    while not exited(pid) and time.monotonic() < end:
        time.sleep(0.02)


def hand_over(proc: subprocess.Popen, run_id: str) -> bool:
    """Give a warm worker its run; False if it died meanwhile (it is then killed and reaped)."""
    try:
        proc.stdin.write(f"{run_id}\n".encode())
        proc.stdin.close()
    except OSError:
        kill(proc)
        return False
    return True


def wait_for_run() -> str | None:
    """In a warm worker: the run id the manager hands over, or None when the manager is gone."""
    return sys.stdin.readline().strip() or None
