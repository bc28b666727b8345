"""Warm workers: a `work` process that pays its start-up before there is a run to compute.

The app's job manager keeps a few of these ready (LTH_WARM_WORKERS, default 1). Each one
imports torch, loads the dataset most likely to be asked for, takes the optimizer's first
step (which imports torch._dynamo) and starts its own worker processes, which do the same;
then it waits for one run id on its standard input. From the moment it reads one it is an
ordinary worker for that run, started by the manager in its own process group with the
memory limit already set: it renames itself `... lth_core work <run id> ...` (so the process
table, the manager's adoption after a restart and the load test's counts see a worker of
that run), sends its output to the run's worker.log, enforces its own deadline from then,
computes the run and exits. A standby whose manager is gone (its standard input closes)
exits without doing anything. Measured start-up that this moves out of a click's path:
docs/PERFORMANCE.md ("Workers' start-up").
"""
from __future__ import annotations

import os
import sys

STANDBY_FLAG = "--standby"


def warm(datasets: tuple, data_dir: str | None, processes: int):
    """This process's one-off costs, and its worker pool started and warmed: returns the executor."""
    import torch
    torch.set_num_threads(1)
    from lth_core.execution.local import LocalExecutor, warm_process
    warm_process(datasets, data_dir)
    executor = LocalExecutor(processes, warm=(datasets, data_dir))
    executor.start_pool()
    return executor


def wait_for_run() -> str | None:
    """The run id the manager sends (one line), or None when the manager is gone (end of input)."""
    line = sys.stdin.readline()
    return line.strip() or None


def become_worker(run_id: str, store_root: str, log_path) -> None:
    """From here on this process is the run's worker, as the process table, the worker.log and the
    load test's start records see it."""
    try:
        import setproctitle
        setproctitle.setproctitle(f"{sys.executable} -m lth_core work {run_id} --store {store_root} {STANDBY_FLAG}")
    except ImportError:  # without it the manager still adopts the run through its lock and status pid
        pass
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
