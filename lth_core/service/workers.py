"""The worker processes of one job manager: started for a run, or handed a run while warm.

A run's worker is `python -m lth_core work <run_id>`, started through the worker protocol.
Warm workers (service.standby) start ahead, up to Settings.warm_workers and only while a slot
is free, so the next run skips the start-up; none are kept when a Ray cluster trains.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from lth_core import layout
from lth_core.service import protocol
from lth_core.service.admission import Job
from lth_core.service.settings import Settings
from lth_core.store.run_store import Store

WARM_DATASETS = ("mnist1d", "fashion-mnist", "mnist")  # small enough to keep loaded in an idle worker


class Workers:
    """Starts and stops the worker processes of one store's job manager (not thread-safe: the
    manager calls it under its lock)."""

    def __init__(self, store: Store, settings: Settings, processes_per_job: int, data_dir: Path | None):
        self.store, self.settings = store, settings
        self.processes_per_job = processes_per_job
        self.data_dir = data_dir
        self.warm = 0 if settings.executor == "ray" else settings.warm_workers
        self.standbys: list[subprocess.Popen] = []
        self.warm_dataset = "mnist1d"  # the quick demo's; then the dataset of the latest run asked for
        self.started_count = 0         # jobs started, cold or warm
        self.handed_over = 0           # jobs started on a warm worker

    def command(self, *args: str) -> list[str]:
        """The `work` command line with this manager's store, limits and executor."""
        s = self.settings
        cmd = protocol.command("work", *args, "--store", str(self.store.root.resolve()),
                               "--processes", str(self.processes_per_job), "--deadline-s", str(s.job_timeout_s),
                               "--executor", s.executor)
        if s.ray_address:
            cmd += ["--ray-address", s.ray_address]
        return cmd + (["--data-dir", str(Path(self.data_dir).resolve())] if self.data_dir else [])

    def asked_for(self, dataset: str) -> None:
        """Warm the next worker with this dataset when it is small enough to keep loaded."""
        if dataset in WARM_DATASETS:
            self.warm_dataset = dataset

    def start(self, job: Job) -> None:
        """Hand the job to a warm worker if one is ready, else start a worker for it."""
        self.standbys = [p for p in self.standbys if p.poll() is None]
        while self.standbys:
            proc = self.standbys.pop(0)
            if protocol.hand_over(proc, job.run_id):
                job.proc, job.state, job.started = proc, "running", time.time()
                self.started_count += 1
                self.handed_over += 1
                return
        with open(self.store.run_dir(job.run_id) / layout.WORKER_LOG, "ab") as out:
            job.proc = protocol.spawn(self.command(job.run_id), out, self.settings.worker_memory_bytes)
        job.state, job.started = "running", time.time()
        self.started_count += 1

    def keep_warm(self, running: int) -> None:
        """Start a warm worker if fewer than Settings.warm_workers wait and a worker slot is free:
        warming (torch imports, data loads) would otherwise take CPU from the runs training now."""
        self.standbys = [p for p in self.standbys if p.poll() is None]
        if running >= self.settings.workers or len(self.standbys) >= self.warm:
            return
        with open(self.store.root / layout.STANDBY_LOG, "ab") as out:
            self.standbys.append(protocol.spawn(
                self.command(protocol.STANDBY_FLAG, "--warm-dataset", self.warm_dataset), out,
                self.settings.worker_memory_bytes, stdin=subprocess.PIPE))

    @staticmethod
    def stop(job: Job) -> None:
        """Kill a job's worker and its process group, started here or adopted; returns once it is gone."""
        if job.proc is not None:
            protocol.kill(job.proc)
        elif job.pid is not None:
            protocol.kill_group(job.pid)

    def close(self) -> None:
        """Kill the idle warm workers (nothing of a run is lost)."""
        for proc in self.standbys:
            protocol.kill(proc)
        self.standbys = []
