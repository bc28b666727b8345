"""Compute runs: hand their networks to an executor in dependency order, and keep the store current.

One loop serves one run or many (a sweep): the scheduler picks which networks start, the
executor trains and stores them, and as each finishes this loop records progress, measures
stability lines whose two networks are stored, and releases what waited on it. A failed task
drops its run; the others go on.
"""
from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

from lth_core import layout
from lth_core.arms import COPY_ARM
from lth_core.config import ExperimentConfig
from lth_core.execution.scheduler import Plan, Scheduler
from lth_core.execution.select import local_executor
from lth_core.lottery.state import RunState
from lth_core.lottery.task_ref import TaskRef
from lth_core.lottery.tasks import resolve_device
from lth_core.plan import chain_after, depends_on, planned_tasks, task_steps, width
from lth_core.registry import get_dataset_info
from lth_core.resources import arch_profile
from lth_core.store.complete import is_complete
from lth_core.store.run_store import AlreadyRunning, Store

POLL_S = 1.0  # progress is rewritten at least this often while networks train
MIN_THREADED_WORK = 1e8  # parameters x batch size below which a second thread does not pay (docs/PERFORMANCE.md)


def benefits_from_threads(config: ExperimentConfig) -> bool:
    """Is one network's step big enough for several threads to speed it up? Below the bar a network
    trains single-threaded wherever it runs (with the other core busy, a second thread spin-waits)."""
    params = arch_profile(config.arch, get_dataset_info(config.dataset).input_shape)[2]
    return params * config.training.batch_size >= MIN_THREADED_WORK


def eval_threads_for(config: ExperimentConfig, executor, level: int) -> int:
    """Threads for a network's evaluations: its level's share of the cores where a network is big
    enough to gain from them, else 1. A small network's evaluation gains little from a second thread,
    and where anything else uses the other core (a browser, a server, another user) its threads wait on
    each other: the quick demo's dense network, alone on the cores, trained several times slower while
    its page drew itself (docs/PERFORMANCE.md, the quick demo)."""
    return executor.threads_for(width(config, level)) if benefits_from_threads(config) else 1


class _Progress:
    """progress.json of one run: network-iterations done of all planned."""

    def __init__(self, r: RunState):
        self.r, c = r, r.c
        self.total = sum(task_steps(c, lv, arm) for _, lv, arm in planned_tasks(c))
        self.done = sum(task_steps(c, lv, arm) for t, lv, arm in planned_tasks(c) if r.metrics(t, lv, arm) is not None)

    def write(self, plan: Plan, on_progress) -> None:
        r = self.r
        open_levels = [n[1] for n in plan.nodes if n not in plan.done]
        level = min(open_levels) if open_levels else r.c.levels - 1
        r.store.write_progress(r.run_id, {
            "epoch": r.epoch, "started": r.epoch, "level": level, "levels": r.c.levels,
            "network_iterations_done": self.done, "network_iterations_total": self.total})
        if on_progress is not None:
            on_progress({**r.store.progress(r.run_id), "run_id": r.run_id})


def _plan(r: RunState, executor) -> Plan:
    c = r.c
    nodes = planned_tasks(c)
    return Plan(nodes=nodes, deps={n: depends_on(c, *n) for n in nodes},
                priority={n: chain_after(c, n[1], n[2]) for n in nodes},
                threads={n: executor.threads_for(width(c, n[1])) if benefits_from_threads(c) else 1
                         for n in nodes},
                done={n for n in nodes if r.task_complete(*n)})


def _prepare(r: RunState) -> None:
    """Before any training: stale live records gone, theta_0 of every trial stored, control masks
    and stability lines that need no training rebuilt."""
    shutil.rmtree(r.store.run_dir(r.run_id) / layout.LIVE, ignore_errors=True)
    for trial in range(r.c.trials):
        r.theta0(trial)  # regenerated from the trial's seed if missing or damaged (no training)
        for level in range(1, r.c.levels):
            if r.mask(trial, level) is not None:
                r.repair_control_masks(trial, level)
        for level in r.c.stability_levels:
            r.measure_stability(trial, level)


def _after(r: RunState, progress: _Progress, node: tuple, was_stored: bool) -> None:
    """A network just finished: count its steps, drop its live record, and do what it unlocks."""
    trial, level, arm = node
    if not was_stored:  # a re-run only to rebuild artifacts is already counted
        progress.done += task_steps(r.c, level, arm)
    (r.store.run_dir(r.run_id) / layout.live(layout.task_key(trial, level, arm))).unlink(missing_ok=True)
    if arm == "ticket" and level + 1 < r.c.levels:
        r.repair_control_masks(trial, level + 1)
    if arm in ("ticket", COPY_ARM):
        r.measure_stability(trial, level)


def compute(runs: list[RunState], executor, on_progress=None) -> dict[int, BaseException]:
    """Train every missing network of `runs` (each already locked by the caller) on `executor`.
    Returns {index in runs: the exception that stopped that run}; empty when all are complete.
    on_progress(progress) is called for a run whenever its progress is written."""
    for r in runs:
        _prepare(r)
    plans = [_plan(r, executor) for r in runs]
    progress = [_Progress(r) for r in runs]
    stored = [{n for n in p.nodes if r.metrics(*n) is not None} for p, r in zip(plans, runs)]
    sched = Scheduler(plans, executor.capacity)
    for i, p in enumerate(plans):
        progress[i].write(p, on_progress)
    futures: dict = {}
    failures: dict[int, BaseException] = {}
    while True:
        for i, node, threads in sched.take():
            r = runs[i]
            ref = TaskRef(config=r.c, store_root=str(r.store.root),
                          data_dir=str(r.data_dir) if r.data_dir else None, device=r.device,
                          trial=node[0], level=node[1], arm=node[2], threads=threads, epoch=r.epoch,
                          alone=sched.alone, eval_threads=eval_threads_for(r.c, executor, node[1]))
            futures[executor.submit(ref)] = (i, node)
        if not futures:
            break
        finished, _ = executor.wait(set(futures), POLL_S)
        for f in finished:
            i, node = futures.pop(f)
            exc = f.exception()
            sched.finish(i, node, ok=exc is None)
            if exc is not None:
                sched.drop(i)
                failures.setdefault(i, exc)
                if all(p.dropped for p in plans):
                    return failures  # nothing left worth waiting for; the caller closes the executor
                continue
            _after(runs[i], progress[i], node, node in stored[i])
            progress[i].write(plans[i], on_progress)
        if not finished:
            for i, p in enumerate(plans):
                if p.running:
                    progress[i].write(p, on_progress)
    return failures


def run_many(configs: list, store, executor, *, data_dir=None, on_progress=None) -> dict:
    """Compute every config not yet complete in `store` on one executor, each run locked for the
    whole computation. Returns {run_id: 'done' | 'taken' | the exception that failed it};
    KeyboardInterrupt marks the runs it stopped cancelled, then propagates."""
    out: dict = {}
    with ExitStack() as locks:
        runs = []
        for config in configs:
            run_id = store.create(config)
            if run_id in out or any(r.run_id == run_id for r in runs):
                continue
            complete = is_complete(config, store) and not store.damaged_files(run_id)
            try:
                locks.enter_context(store.lock(run_id))
            except AlreadyRunning:
                out[run_id] = "done" if complete else "taken"  # its holder writes its status
                continue
            if complete:
                if store.status(run_id)["state"] != "done":
                    store.set_status(run_id, "done")
                out[run_id] = "done"
                continue
            store.set_status(run_id, "running")
            runs.append(RunState(config, store, data_dir, resolve_device(config.device)))
        try:
            failures = compute(runs, executor, on_progress) if runs else {}
        except KeyboardInterrupt:
            for r in runs:
                store.set_status(r.run_id, "cancelled", "interrupted by the user")
            raise
        except BaseException as exc:
            for r in runs:
                store.set_status(r.run_id, "failed", f"{type(exc).__name__}: {exc}"[:500])
            raise
        for i, r in enumerate(runs):
            exc = failures.get(i)
            store.set_status(r.run_id, "failed" if exc else "done",
                             f"{type(exc).__name__}: {exc}"[:500] if exc else "")
            out[r.run_id] = exc or "done"
    return out


def run(config: ExperimentConfig, store: Store, *, data_dir: Path | None = None,
        processes: int | None = None, on_progress=None, executor=None) -> str:
    """Compute (or resume) a run in the store; returns its run id.

    executor: who trains the networks (default: this machine with `processes` cores; None: every
    core, or stacked on a GPU); on_progress(progress_dict) as tasks finish and train. A complete
    run returns at once. AlreadyRunning if another process computes it."""
    run_id = store.create(config)
    # complete and intact: served from the store. A damaged file that no metrics record depends on
    # (theta_0, a control's mask, progress.json) still sends the run through compute to rebuild it.
    if is_complete(config, store) and not store.damaged_files(run_id) and store.status(run_id)["state"] == "done":
        return run_id
    own = executor is None
    if own:
        executor = local_executor(resolve_device(config.device), processes,
                                  warm=((config.dataset,), str(data_dir) if data_dir else None))
    try:
        outcome = run_many([config], store, executor, data_dir=data_dir, on_progress=on_progress)[run_id]
    finally:
        if own:
            executor.close()
    if outcome == "taken":
        raise AlreadyRunning(f"run {run_id} is already being computed by another process")
    if isinstance(outcome, BaseException):
        raise outcome
    return run_id
