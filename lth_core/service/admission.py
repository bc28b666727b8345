"""Which runs the job manager accepts, and in which order queued runs start.

A run is refused (LimitReached, stating the limit) when its owner, client address or the server
is at the Settings' limit of queued or running runs, when the disk is below its floor, or when
its estimated memory is over the limit. A free worker takes the oldest job of the owner with
the fewest running (round-robin), so one client's many tabs cannot hold every worker.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from lth_core.config import ExperimentConfig
from lth_core.registry import get_dataset_info
from lth_core.resources import memory_problem
from lth_core.service.settings import Settings


class LimitReached(Exception):
    """A job limit is reached; the message states the limit."""


@dataclass
class Job:
    run_id: str
    owners: set = field(default_factory=set)
    state: str = "queued"          # queued | running
    proc: subprocess.Popen | None = None
    pid: int | None = None         # a worker adopted from a previous server (no Popen to poll)
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    owner: str = ""                # who asked first: the fair-share scheduler's key


def check_memory(config: ExperimentConfig, limit_gb: float) -> None:
    """LimitReached when the run's estimated peak memory is over `limit_gb` GB."""
    problem = memory_problem(config.arch, get_dataset_info(config.dataset).input_shape, config.training.batch_size,
                             limit_gb)
    if problem:
        raise LimitReached(f"batch_size: {problem}")


def check_quota(jobs: dict[str, Job], owner: str, addresses: dict[str, str], settings: Settings) -> None:
    """LimitReached when `owner`, its client address (addresses: owner -> address) or the server
    already has the most runs queued or running that `settings` allow."""
    mine = sum(1 for j in jobs.values() if owner in j.owners)
    if mine >= settings.max_jobs_per_session:
        raise LimitReached(f"you already have {mine} runs queued or running; the limit is "
                           f"{settings.max_jobs_per_session} per session. Wait for one to finish or cancel one.")
    address = addresses.get(owner)
    if address is not None:
        theirs = sum(1 for j in jobs.values() if any(addresses.get(o) == address for o in j.owners))
        if theirs >= settings.max_jobs_per_address:
            raise LimitReached(f"your address already has {theirs} runs queued or running; the limit is "
                               f"{settings.max_jobs_per_address} per address. Wait for one to finish or cancel one.")
    if len(jobs) >= settings.max_jobs:
        raise LimitReached(f"the server has {len(jobs)} runs queued or running; the limit is "
                           f"{settings.max_jobs}. Try again when one has finished.")


def check_disk(root: Path, floor_gb: float) -> None:
    """LimitReached when the disk of the folder `root` has less than `floor_gb` GB free."""
    free = shutil.disk_usage(root).free
    if free < floor_gb * 1e9:
        raise LimitReached(f"the server's disk is nearly full: {free / 1e9:.2f} GB free in the run store, "
                           f"and new runs need at least {floor_gb:g} GB ($LTH_MIN_FREE_DISK_GB). "
                           f"Try again later, or ask the operator to free space.")


def start_order(jobs: dict[str, Job]) -> Iterator[Job]:
    """Queued jobs in the order free workers take them: the owner with the fewest running jobs
    first, oldest first within an owner and between equals."""
    running: dict[str, int] = {}
    for j in jobs.values():
        if j.state == "running":
            running[j.owner] = running.get(j.owner, 0) + 1
    queued = sorted((j for j in jobs.values() if j.state == "queued"), key=lambda j: j.submitted)
    while queued:
        job = min(queued, key=lambda j: running.get(j.owner, 0))  # min keeps the oldest among equals
        queued.remove(job)
        running[job.owner] = running.get(job.owner, 0) + 1
        yield job
