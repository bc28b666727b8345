"""Train tasks on this machine: in this process, on worker processes, or stacked on a GPU.

- CPU: a network nothing else can train beside trains here (no worker to start, no data
  loaded twice), with every core's threads if it gains from them. Networks that share the
  cores train on single-threaded worker processes, spawned when two first run at once and
  kept for the executor's life.
- CUDA (or $LTH_STACK=1): ready networks train stacked into one computation (lottery.batched).
A task reads its inputs from the store and writes its results there: only names and small
summaries cross processes.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

import torch

from lth_core.config import TrainingConfig
from lth_core.lottery.batched import execute_stacked, groups
from lth_core.lottery.state import RunState
from lth_core.lottery.task_ref import TaskRef, run_task
from lth_core.lottery import tasks
from lth_core.lottery.tasks import get_data
from lth_core.store.run_store import Store
from lth_core.training.loop import make_optimizer


def _worker_init(threads: int, warm: tuple) -> None:
    torch.set_num_threads(threads)
    if warm:
        warm_process(*warm)


def spawn_pool(processes: int, warm: tuple = ()) -> ProcessPoolExecutor:
    """Spawned single-threaded workers (fork is unsafe once torch has started threads); warm:
    (datasets, data_dir) they load before their first task."""
    return ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(1, warm))


def warm_process(datasets: tuple, data_dir: str | None, device: str = "cpu") -> None:
    """Pay a worker's one-off costs before its first task: the datasets in use, parsed and in
    memory, and the optimizer's first step (which imports torch._dynamo)."""
    for name in datasets:
        try:
            get_data(name, data_dir, device)
        except Exception:  # a dataset that is not here: the task that needs it says so
            pass
    p = torch.nn.Parameter(torch.zeros(2))
    opt = make_optimizer([p], TrainingConfig())
    p.sum().backward()
    opt.step()


def _result(value) -> Future:
    f: Future = Future()
    f.set_result(value)
    return f


def _error(exc: BaseException) -> Future:
    f: Future = Future()
    f.set_exception(exc)
    return f


class LocalExecutor:
    """Up to `processes` networks at once on this machine (default: every core)."""

    name = "local"

    def __init__(self, processes: int | None = None, max_threads: int | None = None,
                 warm: tuple | None = None):
        self.capacity = max(1, processes or os.cpu_count() or 1)
        self.max_threads = max_threads or self.capacity
        self._warm = warm  # (datasets, data_dir): what the pool's workers load before their first task
        self._pool: ProcessPoolExecutor | None = None

    def threads_for(self, width: int) -> int:
        """Threads of a network whose level has `width` networks: the cores shared among them."""
        return max(1, min(self.max_threads, self.capacity // max(1, width)))

    def start_pool(self) -> None:
        """Start the worker processes now (a warm pool: their imports and data load happen here)."""
        if self._pool is None and self.capacity > 1:
            self._pool = spawn_pool(self.capacity, self._warm or ())
            for f in [self._pool.submit(os.getpid) for _ in range(self.capacity)]:
                f.result()

    def submit(self, ref: TaskRef) -> Future:
        if self.capacity == 1 or ref.alone:
            try:  # nothing else can train meanwhile: here, without a worker process to start
                return _result(run_task(ref))
            except Exception as exc:
                return _error(exc)
        if self._pool is None:
            self.start_pool()
        return self._pool.submit(run_task, ref)

    def wait(self, futures, timeout: float):
        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)

    def close(self) -> None:
        """Stop the worker processes now: a network still training on one (the run was interrupted or
        failed) would otherwise train on, orphaned; the store resumes it from its last finished network."""
        if self._pool is not None:
            procs = list(getattr(self._pool, "_processes", {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
            self._pool = None


class StackedExecutor:
    """Every ready network at once, stacked by architecture and start iteration, in this process."""

    name = "stacked"
    capacity = 1 << 20

    def __init__(self):
        self._queued: list[tuple[TaskRef, Future]] = []

    def threads_for(self, width: int) -> int:
        return 1

    def submit(self, ref: TaskRef) -> Future:
        f: Future = Future()
        self._queued.append((ref, f))
        return f

    def wait(self, futures, timeout: float):
        queued, self._queued = self._queued, []
        runs, specs, refs = {}, {}, {}
        for ref, f in queued:
            try:
                key = ref.config.run_id()
                r = runs.setdefault(key, RunState(ref.config, Store(ref.store_root), ref.data_dir, ref.device,
                                              epoch=ref.epoch))
                if r.task_complete(*ref.node):
                    f.set_result({"key": ref.key, "skipped": True})
                    continue
                specs[(key, ref.node)] = r.spec(*ref.node)
                refs[(key, ref.node)] = (r, f)
            except Exception as exc:
                f.set_exception(exc)
        for group in groups(specs):
            try:
                results = [tasks.execute(specs[group[0]])] if len(group) == 1 else \
                    execute_stacked([specs[t] for t in group])
                for task, result in zip(group, results):
                    r, f = refs[task]
                    r.persist(*task[1], specs[task], result)
                    f.set_result({"key": specs[task].key, "skipped": False})
            except Exception as exc:
                for task in group:
                    if not refs[task][1].done():
                        refs[task][1].set_exception(exc)
        done = {f for f in futures if f.done()}
        return done, set(futures) - done

    def close(self) -> None:
        pass
