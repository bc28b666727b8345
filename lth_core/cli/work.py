"""`python -m lth_core work`: compute one queued run of the store (the app's job manager starts these).

Started for its run, or ahead as a warm worker (`--standby`) that reads its run id from stdin.
It writes its start record first, holds the run's lock while computing, enforces its deadline,
and exits with EXIT_TAKEN when another live process holds the run.
"""
from __future__ import annotations

import os
import signal
import sys
import time

import torch

from lth_core import layout
from lth_core.cli.args import UsageError, one_line
from lth_core.cli.common import executor_from_args, store_of
from lth_core.execution import driver
from lth_core.lottery.tasks import resolve_device
from lth_core.service import protocol, standby
from lth_core.service.protocol import EXIT_FAILED, EXIT_TAKEN, START_RECORD
from lth_core.service.settings import Settings
from lth_core.store.run_store import AlreadyRunning, Corrupt, validate_run_id


def cmd_work(a, settings: Settings) -> int:
    store = store_of(a, settings)
    executor = None
    if a.standby:
        executor = standby.warm((a.warm_dataset,), str(a.data_dir) if a.data_dir else None, a.processes or 1)
        a.run_id = protocol.wait_for_run()
        if a.run_id is None:  # the manager is gone before handing over a run: nothing to do
            executor.close()
            return 0
    elif a.run_id is None:
        raise UsageError("work needs a run id (or --standby)")
    try:
        return _work(a, settings, store, executor)
    finally:
        if executor is not None:
            executor.close()


def _work(a, settings: Settings, store, warm_executor) -> int:
    try:
        run_id = validate_run_id(a.run_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not store.has_run(run_id):
        raise UsageError(f"no run {run_id} in {store.root}")
    if warm_executor is not None:
        standby.become_worker(run_id, str(store.root), store.run_dir(run_id) / layout.WORKER_LOG)
    try:
        config = store.config(run_id)
    except (Corrupt, ValueError) as exc:  # config.json is the run's identity: nothing can be rebuilt from it
        why = (f"config.json is damaged, so the run cannot be rebuilt from the store; start the same "
               f"experiment again to recreate it ({exc})")
        store.set_status(run_id, "failed", why[:500])
        raise Corrupt(why) from None
    device = resolve_device(config.device)
    if device == "cpu":
        # Single-threaded, like the pool's workers: a run's numbers then do not depend on how many
        # processes computed which task (a resumed run equals an uninterrupted one), and the job
        # manager's workers do not oversubscribe the cores they share.
        torch.set_num_threads(1)
    # the worker's own start record (the job manager sends stdout to the run's worker.log): one line
    # per worker process, so what started can be counted from the logs (lth_core.service.protocol)
    print(f"{START_RECORD} pid {os.getpid()} run {run_id} at {time.time():.3f}", flush=True)
    if a.deadline_s is not None and a.deadline_s > 0:
        _stop_at_deadline(store, run_id, a.deadline_s)
    warm_fits = warm_executor is not None and device == "cpu" and (a.executor or settings.executor) == "local"
    executor = warm_executor if warm_fits else \
        executor_from_args(a, settings, config.device, warm=((config.dataset,), str(a.data_dir) if a.data_dir else None))
    try:
        driver.run(config, store, data_dir=a.data_dir, executor=executor)
    except AlreadyRunning as exc:  # its holder computes it and writes its status; the manager writes nothing
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_TAKEN
    finally:
        if executor is not warm_executor:
            executor.close()
    return 0


def _stop_at_deadline(store, run_id: str, deadline_s: float) -> None:
    """The worker enforces its own time limit, so it stops even when the server that started it
    died: at the deadline it writes failed (it holds the run's lock: it is the run's owner, and a
    run that finished meanwhile keeps done), then kills its process group (its task pool with it)."""
    def stop(signum, frame):
        why = f"stopped: exceeded the time limit of {deadline_s:g} s per run"
        if store.is_locked(run_id) and store.status(run_id).get("state") == "running":
            store.set_status(run_id, "failed", why)
        print(f"error: {why}", file=sys.stderr, flush=True)
        if os.getpgid(0) == os.getpid():  # its own process group (the job manager starts it so)
            os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(EXIT_FAILED)
    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, deadline_s)
