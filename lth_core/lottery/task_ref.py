"""One network to train, named rather than carried: what an executor hands a worker.

A TaskRef holds the run's config, its store and which (trial, level, arm). The worker reads
its inputs from the store, trains, and writes its outputs back atomically (state's persist:
the metrics record last). Nothing big crosses a process or node boundary, and a task that
runs twice finds its work done or rewrites the same bytes: one result.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import torch

from lth_core import layout
from lth_core.config import ExperimentConfig
from lth_core.lottery.state import RunState
from lth_core.lottery import tasks
from lth_core.store.run_store import Store


@dataclass(frozen=True)
class TaskRef:
    config: ExperimentConfig
    store_root: str
    data_dir: str | None
    device: str
    trial: int
    level: int
    arm: str
    threads: int = 1          # torch intra-op threads for this network's training steps
    eval_threads: int = 1     # and for its evaluations (large batches: they gain from threads)
    alone: bool = False       # nothing else can train until it is done (it may train in the caller)
    epoch: float = 0.0        # identifies this attempt of the run in live progress

    @property
    def node(self) -> tuple:
        return (self.trial, self.level, self.arm)

    @property
    def key(self) -> str:
        return layout.task_key(self.trial, self.level, self.arm)


_AT_INIT_CACHE: dict = {}  # (run_id, trial, level, method) -> mask: found once per worker process


def run_task(ref: TaskRef) -> dict:
    """Train one network from the store and persist it; {'key', 'skipped', 'seconds', 'pid'}.
    A task whose results are already stored and intact is skipped (a retried task)."""
    t0 = time.perf_counter()
    r = RunState(ref.config, Store(ref.store_root), ref.data_dir, ref.device, epoch=ref.epoch,
             at_init_cache=_AT_INIT_CACHE)
    out = {"key": ref.key, "skipped": True, "seconds": 0.0, "pid": os.getpid()}
    if r.task_complete(*ref.node):
        return out
    spec = r.spec(*ref.node)
    spec.eval_threads = ref.eval_threads
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, ref.threads))
    try:
        result = tasks.execute(spec)
    finally:
        torch.set_num_threads(before)
    r.persist(*ref.node, spec, result)
    out.update(skipped=False, seconds=time.perf_counter() - t0)
    return out
