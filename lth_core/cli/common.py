"""What the commands share: the settings, the store and executor the flags choose, the memory policy,
and the one guard that turns every error a user can fix into one line and an exit code.

The environment is read once, through lth_core.service.settings (the flags win over it).
"""
from __future__ import annotations

import sys

from lth_core.cli.args import UsageError, one_line
from lth_core.config import ConfigError, ExperimentConfig
from lth_core.data.datasets import DataUnavailable
from lth_core.execution.select import make_executor
from lth_core.lottery.tasks import resolve_device
from lth_core.service import admission
from lth_core.service.protocol import EXIT_DATA, EXIT_FAILED, EXIT_USAGE
from lth_core.service.settings import Settings, SettingsError
from lth_core.store.run_store import AlreadyRunning, Corrupt, Store, StoreUnwritable


def store_of(a, settings: Settings, readonly: bool = False) -> Store:
    """The store of --store, else $LTH_STORE, else ./runs."""
    return Store(a.store or settings.store, readonly=readonly)


def writable_store(a, settings: Settings) -> Store:
    """The store of --store (else $LTH_STORE or ./runs); UsageError naming it if it cannot be written."""
    store = store_of(a, settings)
    try:
        store.check_writable()
    except StoreUnwritable as exc:
        raise UsageError(f"{exc}; choose another folder with --store or LTH_STORE") from None
    return store


def executor_from_args(a, settings: Settings, device: str, warm: tuple | None = None):
    """The executor the flags (or $LTH_EXECUTOR) choose; ConfigError names the allowed ones."""
    return make_executor(a.executor or settings.executor, resolve_device(device),
                         processes=a.processes or settings.procs, stack=settings.stack,
                         ray_address=a.ray_address or settings.ray_address, cpus_per_task=a.cpus_per_task,
                         gpus_per_task=a.gpus_per_task, warm=warm)


def check_memory(config: ExperimentConfig, settings: Settings) -> None:
    """The server's memory policy, applied before computing (as the job manager does at submit):
    UsageError naming batch_size when the run's estimated peak is over $LTH_MAX_MEMORY_GB."""
    try:
        admission.check_memory(config, settings.max_memory_gb)
    except admission.LimitReached as exc:
        raise UsageError(str(exc)) from None


def execute(command, a) -> int:
    """Run a command with the environment's settings; a usage error exits 2, a dataset that cannot be
    had 3, a run held or damaged 1, each with one line on stderr."""
    try:
        settings = Settings.from_env()
        if getattr(a, "data_dir", False) is None:  # no --data-dir: the environment's (or ./data)
            a.data_dir = settings.data_dir
        return command(a, settings)
    except (UsageError, ConfigError, SettingsError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except DataUnavailable as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_DATA
    except (AlreadyRunning, Corrupt) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
