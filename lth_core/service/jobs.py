"""Background job manager: runs go to bounded worker processes, one per unique config.

Each job is a real process (`python -m lth_core work <run_id>`) in its own
process group, so a click in the app never blocks on training, a closed tab
does not stop a run, and cancelling kills the whole group at once. The store
is the shared truth: a run already done is served at once, a run another
process is computing (the command line, another server) is not started twice.

Limits (each with a clear message): concurrent workers (LTH_WORKERS), queued +
running jobs per owner (LTH_MAX_JOBS_PER_SESSION), per client address (LTH_MAX_JOBS_PER_ADDRESS)
and overall (LTH_MAX_JOBS), wall time per job (LTH_JOB_TIMEOUT_S), free disk in the store
(LTH_MIN_FREE_DISK_GB) and each worker's data memory (LTH_WORKER_MEMORY_GB, RLIMIT_DATA). A free
worker takes the oldest queued job of the owner with the fewest running jobs (round-robin by owner),
so one client's many tabs cannot hold every worker while others wait.

Ownership (docs/RELIABILITY.md, "Who writes a run's status"): one manager per process and store
(manager_for), and one per store across processes: a manager holds <store>/manager.lock for its
life; a second one (another server on the same store) joins the runs it is asked for but neither
recovers nor starts workers until the holder is gone, then takes the store over. Only the holder of
a run's lock writes running, done or failed; "done" is never overwritten.
"""
from __future__ import annotations

import fcntl
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lth_core.config import ExperimentConfig
from lth_core.service.exits import disk_was_full
from lth_core.service.stall import StallWatch
from lth_core.lottery.state import is_complete
from lth_core.resources import min_free_disk_gb, worker_memory_bytes
from lth_core.store.run_store import AlreadyRunning, Store
from lth_core.service.protocol import EXIT_TAKEN

POLL_S = 0.3
WAKE_ON_SUBMIT = True  # a submitted job starts at once, not at the next poll (tests that drive ticks turn it off)
STORE_LOCK = "manager.lock"  # in the store's root, held by the store's one job manager
WARM_DATASETS = ("mnist1d", "fashion-mnist", "mnist")  # small enough to keep loaded in an idle worker

_registry: dict[str, "JobManager"] = {}
_registry_lock = threading.Lock()


def manager_for(store_root: Path | str, **kw) -> "JobManager":
    """This process's job manager for a store, made on first use (kw go to JobManager). Held here,
    not in a Streamlit cache, so clearing the app's caches never makes a second one."""
    key = str(Path(store_root).resolve())
    with _registry_lock:
        jm = _registry.get(key)
        if jm is None or jm.closed:
            jm = _registry[key] = JobManager(Store(key), **kw)
        return jm


def _is_worker(pid, run_id: str) -> bool:
    """True if pid is a live `python -m lth_core work <run_id>` (the process table, not just a
    pid: pids are reused; a zombie's empty command line reads as gone)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:  # a warm worker renames itself (one string with spaces): split on both
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return False
    return "work" in args and run_id in args and any("lth_core" in a for a in args)


def _limit_memory(pid: int) -> None:
    """Cap a worker's data memory at $LTH_WORKER_MEMORY_GB (default 8 GB; 0: no cap): an allocation
    beyond it fails in the worker (a MemoryError, the run marked failed), not on the server. RLIMIT_DATA,
    not RLIMIT_AS: torch maps its libraries (and CUDA large virtual areas) beyond any useful address-space
    cap, while RLIMIT_DATA counts the heap and private anonymous memory, where tensors live. Set from
    here (prlimit, Linux) on the new process, so no preexec_fn runs in a forked threaded server."""
    limit = worker_memory_bytes()
    if limit is None or not hasattr(resource, "prlimit"):
        return
    try:
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
    except (OSError, ValueError):  # the process already ended, or the limit is above the hard one
        pass


def _exited(pid: int) -> bool:
    """True once pid has exited (gone, or a zombie whose every thread has exited: only then are
    its files, and so its locks, released; a zombie leader's other threads may still be exiting)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:][:1] in ("Z", "X") and threads <= 1


class LimitReached(Exception):
    """A job limit is reached; the message states the limit."""


def _env_int(name: str, default: int, lo: int = 1) -> int:
    raw = os.environ.get(name, "")
    try:
        v = int(raw)
    except ValueError:
        return default
    return v if v >= lo else default


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


class JobManager:
    """Queue and run experiments in worker processes; thread-safe."""

    def __init__(self, store: Store, *, workers: int | None = None, max_jobs: int | None = None,
                 max_per_owner: int | None = None, timeout_s: float | None = None,
                 data_dir: Path | None = None, recover: bool = True, processes_per_job: int | None = None,
                 max_per_address: int | None = None, warm_workers: int | None = None):
        cores = os.cpu_count() or 1
        self.store = store
        self.workers = workers or _env_int("LTH_WORKERS", max(1, cores // 2))
        self.max_jobs = max_jobs or _env_int("LTH_MAX_JOBS", 20)
        self.max_per_owner = max_per_owner or _env_int("LTH_MAX_JOBS_PER_SESSION", 2)
        self.max_per_address = max_per_address or _env_int("LTH_MAX_JOBS_PER_ADDRESS", 4)
        self.addresses: dict[str, str] = {}  # owner -> client address (note_address), for its limit
        self.timeout_s = timeout_s or _env_int("LTH_JOB_TIMEOUT_S", 3600)
        self.processes_per_job = processes_per_job or max(1, cores // self.workers)
        # warm workers (lth_core.service.standby): none when the networks train on a Ray cluster
        ray = os.environ.get("LTH_EXECUTOR", "").strip() == "ray"
        self.warm_workers = 0 if ray else (warm_workers if warm_workers is not None
                                           else _env_int("LTH_WARM_WORKERS", 1, lo=0))
        self.standbys: list[subprocess.Popen] = []
        # a worker whose process group uses no CPU looks stuck (lth_core.service.stall); on Ray the
        # worker rightly waits while remote processes train, so it is not watched there
        self.stalls = None if ray else StallWatch()
        self.warm_dataset = "mnist1d"  # the quick demo's; then the dataset of the latest run asked for
        self.handed_over = 0             # jobs started on a warm worker
        self.data_dir = data_dir
        self.jobs: dict[str, Job] = {}
        self.peak_running = 0
        self.started_count = 0
        self.messages: dict[str, str] = {}   # run_id -> why it stopped, for the page
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by submit: start the job now, not at the next poll
        self.closed = False
        self._recover_pending = recover
        self._store_fd: int | None = None
        self._claim_store()
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
        LimitReached at a job limit or when the store's disk is nearly full, StoreUnwritable when
        the store's folder cannot be written. `address` (else the one note_address recorded for the
        owner) is the client's address, for the per-address limit."""
        if address:
            self.note_address(owner, address)
        run_id = config.run_id()
        with self._lock:
            if run_id in self.jobs:
                self.jobs[run_id].owners.add(owner)
                return run_id
            if self.store.has_run(run_id) and is_complete(config, self.store) \
                    and not self.store.damaged_files(run_id):  # complete, but its status says otherwise
                self._mark_done(run_id)
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
            mine = sum(1 for j in self.jobs.values() if owner in j.owners)
            if mine >= self.max_per_owner:
                raise LimitReached(f"you already have {mine} runs queued or running; the limit is "
                                   f"{self.max_per_owner} per session. Wait for one to finish or cancel one.")
            address = self.addresses.get(owner)
            if address is not None:
                theirs = sum(1 for j in self.jobs.values() if any(self.addresses.get(o) == address for o in j.owners))
                if theirs >= self.max_per_address:
                    raise LimitReached(f"your address already has {theirs} runs queued or running; the limit is "
                                       f"{self.max_per_address} per address. Wait for one to finish or cancel one.")
            if len(self.jobs) >= self.max_jobs:
                raise LimitReached(f"the server has {len(self.jobs)} runs queued or running; the limit is "
                                   f"{self.max_jobs}. Try again when one has finished.")
            self.store.check_writable()  # StoreUnwritable names the folder, where a bare OSError would not
            self._check_disk()
            self.store.create(config)
            self.store.set_status(run_id, "queued")
            self.jobs[run_id] = Job(run_id, {owner}, owner=owner)
            self.messages.pop(run_id, None)
            if WAKE_ON_SUBMIT:
                self._wake.set()
            if config.dataset in WARM_DATASETS:
                self.warm_dataset = config.dataset
        return run_id

    def cancel(self, run_id: str, owner: str | None = None) -> bool:
        """Stop a queued or running job now (its worker is killed); True if there was one.

        With `owner`, a run that other sessions also asked for is not stopped for them: this owner
        only leaves it (and it no longer counts against the owner's limit); the job stops when the
        last owner cancels. Without `owner` (an operator), the job stops at once."""
        with self._lock:
            job = self.jobs.get(run_id)
            if job is None:
                return False
            if owner is not None:
                job.owners.discard(owner)
                if job.owners - {"recovered"}:
                    return True
            del self.jobs[run_id]
            self._kill_job(job)
            if self._may_write(run_id):
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
            ids = [j.run_id for j in self._next_jobs()]  # the order free workers take them
            return ids.index(run_id) if run_id in ids else None

    def running_count(self) -> int:
        with self._lock:
            return sum(1 for j in self.jobs.values() if j.state == "running")

    def shutdown(self, kill: bool = True) -> None:
        """Stop the manager thread (and, by default, its workers; their runs resume later) and
        give up the store to the next manager."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        with self._lock:
            if kill:
                for job in self.jobs.values():
                    self._kill_job(job)
            for proc in self.standbys:  # idle: nothing of a run is lost
                self._kill(proc)
            self.standbys = []
            self.closed = True
            if self._store_fd is not None:
                os.close(self._store_fd)  # releases the flock
                self._store_fd = None

    @property
    def holds_store(self) -> bool:
        """True while this manager is the store's one manager (it recovers and starts workers)."""
        return self._store_fd is not None

    # --- internals ------------------------------------------------------------
    def _claim_store(self) -> None:
        """Take the store-wide lock if no other manager holds it; on taking it, recover. A store
        folder that does not exist yet is created here only for warm workers (LTH_WARM_WORKERS=0:
        browsing leaves no trace, and submit() creates it)."""
        if self._store_fd is not None or self.closed or self.store.readonly:
            return
        if not self.store.root.is_dir():
            if not self.warm_workers:
                return
            try:  # warm workers need the store's lock (and their log) before the first run is asked for
                self.store.check_writable()
                self.store.root.mkdir(parents=True, exist_ok=True)
            except OSError:  # includes StoreUnwritable: submit() says so; nothing to warm
                return
        try:
            fd = os.open(self.store.root / STORE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # an unwritable store: submit() says so; nothing to recover or run
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # another manager (this process or another server) holds the store
            return
        self._store_fd = fd
        if self._recover_pending:
            self._recover()

    def _recover(self) -> None:
        """Runs left queued or interrupted by a previous server are queued again, unless a live
        process (an orphaned worker, the command line) holds the run's lock. A live worker of a
        previous server (the pid in its status, checked in the process table) is adopted: it counts
        against the worker bound and the time limit (from when it started), and can be cancelled."""
        for run_id in self.store.run_ids():
            st = self.store.status(run_id)
            if st.get("state") == "running" and run_id not in self.jobs and _is_worker(st.get("pid"), run_id):
                started = st.get("time") if isinstance(st.get("time"), (int, float)) else time.time()
                self.jobs[run_id] = Job(run_id, {"recovered"}, state="running", pid=st["pid"], started=started)
                continue
            if st.get("state") in ("queued", "interrupted") and not self.store.is_locked(run_id) \
                    and run_id not in self.jobs:
                self.jobs[run_id] = Job(run_id, {"recovered"})

    def _check_disk(self) -> None:
        """LimitReached when the store's disk has less free space than $LTH_MIN_FREE_DISK_GB."""
        floor = min_free_disk_gb()
        free = shutil.disk_usage(self.store.root).free
        if free < floor * 1e9:
            raise LimitReached(f"the server's disk is nearly full: {free / 1e9:.2f} GB free in the run store, "
                               f"and new runs need at least {floor:g} GB ($LTH_MIN_FREE_DISK_GB). "
                               f"Try again later, or ask the operator to free space.")

    def _next_jobs(self):
        """Queued jobs in the order free workers take them: round-robin by owner (the owner with
        the fewest running jobs first, so one client's many tabs cannot hold every worker), oldest
        first within an owner and between equals."""
        running: dict[str, int] = {}
        for j in self.jobs.values():
            if j.state == "running":
                running[j.owner] = running.get(j.owner, 0) + 1
        queued = sorted((j for j in self.jobs.values() if j.state == "queued"), key=lambda j: j.submitted)
        while queued:
            job = min(queued, key=lambda j: running.get(j.owner, 0))  # min keeps the oldest among equals
            queued.remove(job)
            running[job.owner] = running.get(job.owner, 0) + 1
            yield job

    def _may_write(self, run_id: str) -> bool:
        """A manager writes a run's status (failed, cancelled) only when no live process holds the
        run's lock and the run is not done: done is never overwritten."""
        return not self.store.is_locked(run_id) and self.store.status(run_id).get("state") != "done"

    def _mark_done(self, run_id: str) -> None:
        """A complete run whose status is not done (a stale cancel) is set to done, under its lock."""
        if self.store.readonly or self.store.status(run_id).get("state") == "done":
            return
        try:
            with self.store.lock(run_id):
                self.store.set_status(run_id, "done")
        except AlreadyRunning:  # its holder writes its status
            pass

    def _loop(self) -> None:
        while True:
            self._wake.wait(POLL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._tick()
            except Exception as exc:  # keep the manager alive; the message reaches the page
                self.messages["_manager"] = f"{type(exc).__name__}: {exc}"

    def _tick(self) -> None:
        with self._lock:
            self._claim_store()
            now = time.time()
            for run_id, job in list(self.jobs.items()):
                if job.state != "running":
                    continue
                if job.proc is None and not _is_worker(job.pid, run_id):  # an adopted worker ended:
                    del self.jobs[run_id]  # no exit code to read; its own status stands
                    self.messages[run_id] = self.store.status(run_id).get("reason", "")
                    continue
                code = job.proc.poll() if job.proc is not None else None
                if code is None:
                    if self.stalls is not None:
                        self.stalls.sample(run_id, job.proc.pid if job.proc is not None else job.pid)
                    if now - job.started > self.timeout_s:
                        self._kill_job(job)
                        why = f"stopped: exceeded the time limit of {self.timeout_s} s per run"
                        if self._may_write(run_id):
                            self.store.set_status(run_id, "failed", why)
                            self.messages[run_id] = why
                        del self.jobs[run_id]
                    continue
                del self.jobs[run_id]
                if code == EXIT_TAKEN:  # another live process computes it and writes its status
                    self.messages[run_id] = "another process is computing this run"
                elif code != 0:
                    self._worker_failed(run_id, code)
            if self.stalls is not None:
                self.stalls.keep_only(self.jobs)
            if not self.holds_store:
                return  # another manager holds the store: it starts the workers
            running = sum(1 for j in self.jobs.values() if j.state == "running")
            for job in list(self._next_jobs()):
                if running >= self.workers:
                    break
                try:
                    self._start(job)
                except Exception as exc:  # any failure to launch fails this job only, never the queue
                    self._fail_to_start(job, exc)
                    continue
                running += 1
            self.peak_running = max(self.peak_running, running)
            self._keep_warm(running)

    def _worker_failed(self, run_id: str, code: int) -> None:
        """A worker exited with an error: mark the run failed with why, unless its status already says
        (the worker wrote it) or another process holds it. A full disk is named: the worker could not
        write why, and the status write here may fail too, so the page also gets the message."""
        st = self.store.status(run_id)
        if st.get("state") in ("failed", "cancelled"):
            self.messages[run_id] = st.get("reason", "")
            return
        why = f"worker process ended with code {code}"
        if disk_was_full(self.store.run_dir(run_id) / "worker.log"):
            why = ("the server's disk is full (No space left on device), so the run could not store its "
                   "results; free space before resuming")
        self.messages[run_id] = why
        if self._may_write(run_id):
            try:
                self.store.set_status(run_id, "failed", why)
            except OSError:  # the full disk refuses this too: the message above is what the page shows
                pass

    def idle_s(self, run_id: str) -> float | None:
        """Seconds since the worker of a running job last used CPU time (None: not known)."""
        return None if self.stalls is None or run_id not in self.jobs else self.stalls.idle_s(run_id)

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

    def _work_cmd(self, *args: str) -> list[str]:
        cmd = [sys.executable, "-m", "lth_core", "work", *args, "--store", str(self.store.root.resolve()),
               "--processes", str(self.processes_per_job), "--deadline-s", str(self.timeout_s)]
        return cmd + (["--data-dir", str(Path(self.data_dir).resolve())] if self.data_dir else [])

    def _spawn(self, cmd: list[str], out, stdin) -> subprocess.Popen:
        """A worker process in its own process group (cancel kills the group), memory-capped."""
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=stdin, start_new_session=True,
                                cwd=str(Path(__file__).resolve().parents[2]))
        _limit_memory(proc.pid)
        return proc

    def _keep_warm(self, running: int) -> None:
        """Start warm workers up to LTH_WARM_WORKERS, but only while a worker slot is free: warming
        (torch imports, data loads) would otherwise take CPU from the runs training now."""
        self.standbys = [p for p in self.standbys if p.poll() is None]
        if running >= self.workers or len(self.standbys) >= self.warm_workers:
            return
        with open(self.store.root / "standby.log", "ab") as out:
            self.standbys.append(self._spawn(self._work_cmd("--standby", "--warm-dataset", self.warm_dataset),
                                             out, subprocess.PIPE))

    def _start(self, job: Job) -> None:
        """Hand the job to a warm worker if one is ready, else start a worker for it."""
        self.standbys = [p for p in self.standbys if p.poll() is None]
        if self.standbys:
            proc = self.standbys.pop(0)
            try:
                proc.stdin.write(f"{job.run_id}\n".encode())
                proc.stdin.close()
            except OSError:  # it died just now: start a worker the usual way
                self._kill(proc)
            else:
                job.proc, job.state, job.started = proc, "running", time.time()
                self.started_count += 1
                self.handed_over += 1
                return
        log = self.store.run_dir(job.run_id) / "worker.log"
        with open(log, "ab") as out:
            job.proc = self._spawn(self._work_cmd(job.run_id), out, subprocess.DEVNULL)
        job.state, job.started = "running", time.time()
        self.started_count += 1

    def _kill_job(self, job: Job) -> None:
        """Kill a job's worker and its process group, started here or adopted; returns once it is gone."""
        if job.proc is not None:
            self._kill(job.proc)
        elif job.pid is not None:
            try:
                os.killpg(job.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            end = time.monotonic() + 10
            while not _exited(job.pid) and time.monotonic() < end:
                time.sleep(0.02)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait(timeout=10)
