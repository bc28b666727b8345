"""Warm workers: a `work` process that pays its start-up before there is a run to compute.

The job manager keeps a few of these ready (Settings.warm_workers, default 1). Each one imports
torch, loads the dataset most likely to be asked for, takes the optimizer's first step (which
imports torch._dynamo) and starts its own worker processes, which do the same; then it waits for
one run id on its standard input (lth_core.service.protocol.wait_for_run). From the moment it reads
one it is an ordinary worker for that run, started by the manager in its own process group with
the memory limit already set: it renames itself `... lth_core work <run id> ...` (so the process
table and the manager's adoption after a restart see a worker of that run), sends its output to
the run's worker.log, enforces its own deadline from then, computes the run and exits. A standby
whose manager is gone (its standard input closes) exits without doing anything. The start-up
this moves out of a click's path is measured in docs/PERFORMANCE.md ("Workers' start-up").
"""
from __future__ import annotations

import os
import sys

import torch

from lth_core.execution.local import LocalExecutor, warm_process
from lth_core.service.protocol import STANDBY_FLAG


def warm(datasets: tuple, data_dir: str | None, processes: int) -> LocalExecutor:
    """This process's one-off costs, and its worker pool started and warmed: returns the executor."""
    torch.set_num_threads(1)
    warm_process(datasets, data_dir)
    executor = LocalExecutor(processes, warm=(datasets, data_dir))
    executor.start_pool()
    return executor


def become_worker(run_id: str, store_root: str, log_path) -> None:
    """From here on this process is the run's worker, as the process table and the worker.log see it."""
    try:
        import setproctitle  # optional: without it the manager still adopts the run through its lock and status pid
        setproctitle.setproctitle(f"{sys.executable} -m lth_core work {run_id} --store {store_root} {STANDBY_FLAG}")
    except ImportError:
        pass
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
