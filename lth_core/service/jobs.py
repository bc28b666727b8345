"""The job manager: runs go to bounded worker processes, one per unique config; analyses go to
detached worker processes through the same worker protocol.

Each job is a process in its own group, so a click never blocks on training, a closed tab
does not stop a run, and cancelling kills the whole group. The store is the shared truth: a
done run is served at once, one computing elsewhere is not started twice. Admission:
service.admission; status writers: service.ownership; processes: service.workers; every
limit: one Settings object.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from lth_core import layout
from lth_core.config import ExperimentConfig
from lth_core.service import analysis_jobs, ownership
from lth_core.service.admission import Job, LimitReached, check_disk, check_memory, check_quota, start_order
from lth_core.service.exits import disk_was_full
from lth_core.service.protocol import EXIT_TAKEN, is_worker
from lth_core.service.settings import Settings
from lth_core.service.stall import StallWatch
from lth_core.service.workers import Workers
from lth_core.store.complete import is_complete
from lth_core.store.run_store import Store

POLL_S = 0.3

_registry: dict[str, "JobManager"] = {}
_registry_lock = threading.Lock()


def manager_for(store_root: Path | str, settings: Settings, **kw) -> "JobManager":
    """This process's job manager for a store, made on first use with `settings` (kw go to
    JobManager; a manager already made keeps its own). Held here, not in a Streamlit cache, so
    clearing the app's caches never makes a second one."""
    key = str(Path(store_root).resolve())
    with _registry_lock:
        jm = _registry.get(key)
        if jm is None or jm.closed:
            jm = _registry[key] = JobManager(Store(key), settings, **kw)
        return jm


class JobManager:
    """Queue and run experiments in worker processes; thread-safe.

    `background=False` starts no thread of its own: the caller drives the manager with tick()."""

    def __init__(self, store: Store, settings: Settings, *, data_dir: Path | None = None,
                 recover: bool = True, processes_per_job: int | None = None, background: bool = True):
        self.store = store
        self.settings = settings
        self.data_dir = data_dir
        self.processes_per_job = processes_per_job or max(1, (os.cpu_count() or 1) // settings.workers)
        self.pool = Workers(store, settings, self.processes_per_job, data_dir)
        self.addresses: dict[str, str] = {}  # owner -> client address (note_address), for its limit
        # a worker whose process group uses no CPU looks stuck (lth_core.service.stall); on Ray the
        # worker rightly waits while remote processes train, so it is not watched there
        self.stalls = None if settings.executor == "ray" else StallWatch()
        self.jobs: dict[str, Job] = {}
        self.peak_running = 0
        self.messages: dict[str, str] = {}   # run_id -> why it stopped, for the page
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by submit: start the job now, not at the next poll
        self.closed = False
        self._recover_pending = recover
        self._store_fd: int | None = None
        self.claim_store()
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="lth-jobs", daemon=True)
            self._thread.start()

    # --- public -------------------------------------------------------------
    def note_address(self, owner: str, address: str | None) -> None:
        """Record a session's client address, so its runs count against that address's limit
        (several tabs or sessions from one client share it). None (unknown) records nothing."""
        if not address:
            return
        with self._lock:
            if len(self.addresses) > 10_000 and owner not in self.addresses:  # forget idle sessions
                busy = {o for j in self.jobs.values() for o in j.owners}
                self.addresses = {o: a for o, a in self.addresses.items() if o in busy}
            self.addresses[owner] = str(address)[:100]

    def submit(self, config: ExperimentConfig, owner: str = "anonymous", address: str | None = None) -> str:
        """Queue a run unless the store has it or it is queued/running; returns its run id.
        LimitReached at a job, memory or disk limit; StoreUnwritable when the store cannot be written.
        `address` (else the owner's noted one) is the client's address."""
        if address:
            self.note_address(owner, address)
        run_id = config.run_id()
        with self._lock:
            if run_id in self.jobs:
                self.jobs[run_id].owners.add(owner)
                return run_id
            if self.store.has_run(run_id) and is_complete(config, self.store) \
                    and not self.store.damaged_files(run_id):  # complete, but its status says otherwise
                ownership.mark_done(self.store, run_id)
                return run_id
            if self.store.is_locked(run_id):
                return run_id  # another process (e.g. the command line) is computing it
            if not self.holds_store:  # no manager yet where no store folder was: make it and claim it
                self.store.check_writable()
                self.store.root.mkdir(parents=True, exist_ok=True)
                self._claim_store()
            if not self.holds_store:
                if self.store.has_run(run_id) and self.store.status(run_id).get("state") == "queued":
                    return run_id  # queued by the store's manager: it will run it
                raise LimitReached(f"another server process manages the store {self.store.root}; "
                                   f"start new runs from that server (or stop it, then retry here).")
            check_memory(config, self.settings.max_memory_gb)
            check_quota(self.jobs, owner, self.addresses, self.settings)
            self.store.check_writable()  # StoreUnwritable names the folder, where a bare OSError would not
            check_disk(self.store.root, self.settings.min_free_disk_gb)
            self.store.create(config)
            self.store.set_status(run_id, "queued")
            self.jobs[run_id] = Job(run_id, {owner}, owner=owner)
            self.messages.pop(run_id, None)
            self._wake.set()
            self.pool.asked_for(config.dataset)
        return run_id

    def start_noise(self, store: Store, run_id: str, **params) -> dict:
        """Start the noise analysis of a run in `store` in a worker process, its memory capped like a
        run's worker (analysis_jobs.start_noise, which params go to: levels, scales, draws, arms)."""
        return analysis_jobs.start_noise(store, run_id, memory_bytes=self.settings.worker_memory_bytes,
                                         data_dir=self.data_dir, **params)

    def cancel(self, run_id: str, owner: str | None = None) -> bool:
        """Stop a queued or running job now (its worker is killed); True if there was one.

        With `owner`, a run other sessions also asked for only loses this owner; it stops when its
        last owner cancels. Without `owner` (an operator), it stops at once."""
        with self._lock:
            job = self.jobs.get(run_id)
            if job is None:
                return False
            if owner is not None:
                job.owners.discard(owner)
                if job.owners - {"recovered"}:
                    return True
            del self.jobs[run_id]
            self.pool.stop(job)
            if ownership.may_write(self.store, run_id):
                self.store.set_status(run_id, "cancelled", "cancelled by a user")
                self.messages[run_id] = "cancelled by a user"
            return True

    def state(self, run_id: str) -> str | None:
        """'queued' or 'running' for a job this manager holds, else None."""
        with self._lock:
            job = self.jobs.get(run_id)
            return job.state if job else None

    def queue_position(self, run_id: str) -> int | None:
        """0 for the next job to start, None if not queued."""
        with self._lock:
            ids = [j.run_id for j in start_order(self.jobs)]
            return ids.index(run_id) if run_id in ids else None

    def running_count(self) -> int:
        with self._lock:
            return sum(1 for j in self.jobs.values() if j.state == "running")

    def idle_s(self, run_id: str) -> float | None:
        """Seconds since the worker of a running job last used CPU time (None: not known)."""
        return None if self.stalls is None or run_id not in self.jobs else self.stalls.idle_s(run_id)

    def shutdown(self, kill: bool = True) -> None:
        """Stop the manager thread (and, by default, its workers; their runs resume later) and
        give up the store to the next manager."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if kill:
                for job in self.jobs.values():
                    self.pool.stop(job)
            self.pool.close()
            self.closed = True
            if self._store_fd is not None:
                os.close(self._store_fd)  # releases the flock
                self._store_fd = None

    @property
    def holds_store(self) -> bool:
        """True while this manager is the store's one manager (it recovers and starts workers)."""
        return self._store_fd is not None

    def claim_store(self) -> None:
        """Become the store's manager if no other holds it (then recover its runs)."""
        with self._lock:
            self._claim_store()

    def tick(self) -> None:
        """One round: reap ended workers, enforce the time limit, start queued jobs on free workers."""
        with self._lock:
            self._claim_store()
            self._reap(time.time())
            if self.stalls is not None:
                self.stalls.keep_only(self.jobs)
            if not self.holds_store:
                return  # another manager holds the store: it starts the workers
            running = sum(1 for j in self.jobs.values() if j.state == "running")
            for job in list(start_order(self.jobs)):
                if running >= self.settings.workers:
                    break
                try:
                    self.pool.start(job)
                except Exception as exc:  # any failure to launch fails this job only, never the queue
                    self._fail_to_start(job, exc)
                    continue
                running += 1
            self.peak_running = max(self.peak_running, running)
            self.pool.keep_warm(running)

    # --- internals ------------------------------------------------------------
    def _claim_store(self) -> None:
        """Take the store-wide lock if no other manager holds it; on taking it, recover. A store
        folder that does not exist yet is created here only for warm workers (none: browsing leaves
        no trace, and submit() creates it)."""
        if self._store_fd is not None or self.closed:
            return
        self._store_fd = ownership.claim(self.store, create=bool(self.pool.warm))
        if self._store_fd is not None and self._recover_pending:
            ownership.recover(self.store, self.jobs)

    def _loop(self) -> None:
        while True:
            self._wake.wait(POLL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception as exc:  # keep the manager alive; the message reaches the page
                self.messages["_manager"] = f"{type(exc).__name__}: {exc}"

    def _reap(self, now: float) -> None:
        """Drop the running jobs whose worker ended (saying why) or ran past the time limit."""
        for run_id, job in list(self.jobs.items()):
            if job.state != "running":
                continue
            if job.proc is None and not is_worker(job.pid, run_id):  # an adopted worker ended:
                del self.jobs[run_id]  # no exit code to read; its own status stands
                self.messages[run_id] = self.store.status(run_id).get("reason", "")
                continue
            code = job.proc.poll() if job.proc is not None else None
            if code is None:
                if self.stalls is not None:
                    self.stalls.sample(run_id, job.proc.pid if job.proc is not None else job.pid)
                if now - job.started > self.settings.job_timeout_s:
                    self.pool.stop(job)
                    why = f"stopped: exceeded the time limit of {self.settings.job_timeout_s} s per run"
                    if ownership.may_write(self.store, run_id):
                        self.store.set_status(run_id, "failed", why)
                        self.messages[run_id] = why
                    del self.jobs[run_id]
                continue
            del self.jobs[run_id]
            if code == EXIT_TAKEN:  # another live process computes it and writes its status
                self.messages[run_id] = "another process is computing this run"
            elif code != 0:
                self._worker_failed(run_id, code)

    def _worker_failed(self, run_id: str, code: int) -> None:
        """A worker exited with an error: mark the run failed with why, unless its status already says
        (the worker wrote it) or another process holds it. A full disk is named: the worker could not
        write why, and the status write here may fail too, so the page also gets the message."""
        st = self.store.status(run_id)
        if st.get("state") in ("failed", "cancelled"):
            self.messages[run_id] = st.get("reason", "")
            return
        why = f"worker process ended with code {code}"
        if disk_was_full(self.store.run_dir(run_id) / layout.WORKER_LOG):
            why = ("the server's disk is full (No space left on device), so the run could not store its "
                   "results; free space before resuming")
        self.messages[run_id] = why
        if ownership.may_write(self.store, run_id):
            try:
                self.store.set_status(run_id, "failed", why)
            except OSError:  # the full disk refuses this too: the message above is what the page shows
                pass

    def _fail_to_start(self, job: Job, exc: Exception) -> None:
        """A job whose worker cannot start (run folder deleted, disk full, fork refused) leaves the
        queue as failed, with the reason; the jobs behind it start as usual."""
        why = f"could not start its worker: {type(exc).__name__}: {exc}"[:500]
        del self.jobs[job.run_id]
        self.messages[job.run_id] = why
        if self.store.has_run(job.run_id):  # a deleted run stays deleted: no status in a new, empty folder
            try:
                self.store.set_status(job.run_id, "failed", why)
            except OSError:  # the disk that refused the start may refuse this too; the message remains
                pass
