"""Warm workers: a `work` process that pays its start-up before there is a run to compute.

Each imports torch, loads the likeliest dataset, takes a first optimizer step and starts its
own workers, then waits for a run id on stdin (protocol.wait_for_run); from then it is an
ordinary worker of that run, renamed `... lth_core work <run id> ...` so adoption after a
restart sees it. EOF on stdin: the manager is gone, it exits. What it saves:
docs/PERFORMANCE.md ("Workers' start-up").
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
