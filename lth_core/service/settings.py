"""The server's settings: every LTH_* variable (and RAY_ADDRESS), read once and validated.

`Settings.from_env()` is the one place the environment is read; the app and the job manager
take their values from one Settings object, and the layers below get them as parameters.
An empty variable counts as unset. A bad value raises SettingsError naming the variable,
the value and what is allowed, so an operator's typo is said, not silently replaced.

Where files live when no variable says (default_locations): run from a checkout (or an editable
install of one), ./runs and ./data in the working directory and the repository's gallery/; installed
from a wheel, the user's data folder for runs and the user's cache folder for datasets (platformdirs:
~/.local/share and ~/.cache on Linux, ~/Library on macOS, %LOCALAPPDATA% on Windows) and the gallery
the wheel ships.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from platformdirs import user_cache_path, user_data_path

from lth_core.registry import EXECUTORS

GB = 1e9
APP_NAME = "lottery-ticket-explorer"  # the folder name under the user's data and cache folders
INSTALL_ROOT = Path(__file__).resolve().parents[2]  # the checkout, or site-packages when installed
# a checkout has this app's own files beside lth_core (site-packages might hold some other package's app.py)
FROM_CHECKOUT = all((INSTALL_ROOT / f).is_file() for f in ("app.py", "pages/results.py", "pyproject.toml"))
APP_ROOT = INSTALL_ROOT if FROM_CHECKOUT else INSTALL_ROOT / "lth_app"  # app.py, pages/, ui/ (setup.py)


def default_locations(from_checkout: bool = FROM_CHECKOUT) -> dict[str, Path | None]:
    """The store, data folder and gallery of an unset environment (gallery None: the repository's)."""
    if from_checkout:
        return {"store": Path("runs"), "data_dir": Path("data"), "gallery": None}
    return {"store": user_data_path(APP_NAME, appauthor=False) / "runs",
            "data_dir": user_cache_path(APP_NAME, appauthor=False) / "data",
            "gallery": APP_ROOT / "gallery"}


class SettingsError(ValueError):
    """An environment variable has a value outside what it allows."""

    def __init__(self, name: str, value: str, allowed: str):
        self.name = name
        super().__init__(f"${name}={value!r} is not allowed; allowed: {allowed}")


def _located(key: str):
    """A Settings field whose default is default_locations()[key], decided when Settings is made."""
    return field(default_factory=lambda: default_locations()[key])


def _half_the_cores() -> int:
    return max(1, (os.cpu_count() or 1) // 2)


@dataclass(frozen=True)
class Settings:
    """What one server (or one command) runs with. Defaults are those of an unset environment."""
    store: Path = _located("store")        # LTH_STORE: the writable run store
    data_dir: Path = _located("data_dir")  # LTH_DATA_DIR: dataset files and caches
    gallery: Path | None = _located("gallery")  # LTH_GALLERY: read-only runs (None: the repository's gallery/)
    executor: str = "local"                # LTH_EXECUTOR: where networks train, one of EXECUTORS
    ray_address: str | None = None         # RAY_ADDRESS: the Ray cluster to join (None: a local one)
    procs: int | None = None               # LTH_PROCS: worker processes per run (None: every core on a CPU)
    stack: bool | None = None              # LTH_STACK: train a level's networks stacked (None: on CUDA only)
    workers: int = field(default_factory=_half_the_cores)  # LTH_WORKERS: runs computed at once
    max_jobs: int = 20                     # LTH_MAX_JOBS: runs queued or running on the server
    max_jobs_per_address: int = 4          # LTH_MAX_JOBS_PER_ADDRESS: ... per client address
    max_jobs_per_session: int = 2          # LTH_MAX_JOBS_PER_SESSION: ... per browser session
    job_timeout_s: int = 3600              # LTH_JOB_TIMEOUT_S: wall time per run, seconds
    warm_workers: int = 1                  # LTH_WARM_WORKERS: idle workers kept started (0: none)
    max_memory_gb: float = 4.0             # LTH_MAX_MEMORY_GB: a run's estimated peak may not exceed it
    worker_memory_gb: float = 8.0          # LTH_WORKER_MEMORY_GB: a worker's data memory cap (0: none)
    min_free_disk_gb: float = 1.0          # LTH_MIN_FREE_DISK_GB: new runs refused below this free disk

    @property
    def worker_memory_bytes(self) -> int | None:
        """The hard cap on a worker's data memory in bytes, None for no cap."""
        return int(self.worker_memory_gb * GB) if self.worker_memory_gb > 0 else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        """The settings an environment describes; SettingsError on a bad value."""
        def get(name):
            raw = env.get(name, "")
            return raw.strip() or None

        values = {}
        for name, key in (("LTH_STORE", "store"), ("LTH_DATA_DIR", "data_dir"), ("LTH_GALLERY", "gallery")):
            if get(name):
                values[key] = Path(get(name))
        if get("LTH_EXECUTOR"):
            values["executor"] = _choice("LTH_EXECUTOR", get("LTH_EXECUTOR"), EXECUTORS)
        values["ray_address"] = get("RAY_ADDRESS")
        if get("LTH_STACK"):
            values["stack"] = _choice("LTH_STACK", get("LTH_STACK"), ("0", "1")) == "1"
        for name, key, lo in (("LTH_PROCS", "procs", 1), ("LTH_WORKERS", "workers", 1),
                              ("LTH_MAX_JOBS", "max_jobs", 1), ("LTH_MAX_JOBS_PER_ADDRESS", "max_jobs_per_address", 1),
                              ("LTH_MAX_JOBS_PER_SESSION", "max_jobs_per_session", 1),
                              ("LTH_JOB_TIMEOUT_S", "job_timeout_s", 1), ("LTH_WARM_WORKERS", "warm_workers", 0)):
            if get(name):
                values[key] = _whole(name, get(name), lo)
        for name, key, positive in (("LTH_MAX_MEMORY_GB", "max_memory_gb", True),
                                    ("LTH_WORKER_MEMORY_GB", "worker_memory_gb", False),
                                    ("LTH_MIN_FREE_DISK_GB", "min_free_disk_gb", False)):
            if get(name):
                values[key] = _number(name, get(name), positive)
        return cls(**values)


def _choice(name: str, raw: str, allowed) -> str:
    if raw not in allowed:
        raise SettingsError(name, raw, ", ".join(allowed))
    return raw


def _whole(name: str, raw: str, lo: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if value < lo:
        raise SettingsError(name, raw, f"a whole number >= {lo}")
    return value


def _number(name: str, raw: str, positive: bool) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise SettingsError(name, raw, "a number > 0" if positive else "a number >= 0")
    return value
