"""Watching processes from outside: `ps` snapshots, the worker processes of a store, their start
records, memory, CPU.

Used by scripts/load_test.py, scripts/fault_injection.py and scripts/soak.py, and by
tests/test_job_limits.py (workers never exceed the bound). Linux only (ps, /proc).

Two ways of counting workers, and why both are needed:
- A worker is a `python -m lth_core work <run_id>` process whose parent is the job manager's
  process (the server). A worker's own children do not count: during `import torch` it forks to
  run `ldconfig -p`, and until that child execs it has the worker's command line, so a `ps`
  sample may catch it. Counting those (as this script once did) read as a third worker.
- Worker starts are counted from the workers' own start records: the first line each worker
  writes to its run's worker.log (lth_core.service.protocol.START_RECORD, "work: started pid N run R at T").
  A record cannot be missed between two samples, nor counted twice.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from scripts/: lth_core lives in the repository root
    sys.path.insert(0, str(REPO))

from lth_core.service.protocol import START_RECORD  # noqa: E402

_START = re.compile(re.escape(START_RECORD) + r" pid (\d+) run ([0-9a-f]{16}) at ([0-9.]+)")


def ps_table() -> list[tuple[int, int, int, str]]:
    """(pid, ppid, rss in bytes, command line) of every process."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,ppid=,rss=,args="],  # -ww: never cut long command lines
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].isdigit():
            rows.append((int(parts[0]), int(parts[1]), int(parts[2]) * 1024, parts[3]))
    return rows


def work_processes(store_root: Path | str, table=None) -> dict[int, tuple[int, str]]:
    """{pid: (parent pid, run id)} of every process whose command line is
    `... lth_core work <run_id> ... --store <store_root>`: workers and their not-yet-exec'd forks. An idle
    warm worker (`work --standby`) is not one until it takes a run and renames itself so."""
    root = str(Path(store_root).resolve())
    found = {}
    for pid, ppid, _, args in table if table is not None else ps_table():
        words = args.split()
        if "lth_core" in words and "work" in words and root in words:
            i = words.index("work")
            if i + 1 < len(words) and re.fullmatch(r"[0-9a-f]{16}", words[i + 1]):  # not an idle warm worker
                found[pid] = (ppid, words[i + 1])
    return found


def worker_processes(store_root: Path | str, table=None, parent: int | None = None) -> dict[int, str]:
    """{pid: run id} of the workers of a store: `lth_core work` processes whose parent is `parent`
    (the job manager's process; default: this process, where tests run the manager)."""
    parent = os.getpid() if parent is None else parent
    return {pid: rid for pid, (ppid, rid) in work_processes(store_root, table).items() if ppid == parent}


def start_records(store_root: Path | str) -> list[dict]:
    """Every worker start in a store, from the workers' own records in each run's worker.log:
    [{'pid', 'run', 'time' (unix s)}], oldest first."""
    found = []
    for log in Path(store_root).glob("*/worker.log"):
        try:
            text = log.read_text(errors="replace")
        except OSError:  # the run folder was removed meanwhile
            continue
        found += [{"pid": int(m[1]), "run": m[2], "time": float(m[3])} for m in _START.finditer(text)]
    return sorted(found, key=lambda r: r["time"])


def descendants(root_pid: int, table) -> set[int]:
    """Pids of every process below root_pid (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for pid, ppid, _, _ in table:
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def tree_rss(root_pid: int, table=None) -> tuple[int, int]:
    """(RSS of the process, RSS of it and all its descendants), in bytes."""
    table = table if table is not None else ps_table()
    rss = {pid: r for pid, _, r, _ in table}
    own = rss.get(root_pid, 0)
    return own, own + sum(rss.get(pid, 0) for pid in descendants(root_pid, table))


def health_latency(port: int) -> float:
    """Seconds the server takes to answer its health check (its event loop's responsiveness)."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=30) as r:
            r.read()
    except OSError:
        return float("inf")
    return time.monotonic() - t0


class Sampler(threading.Thread):
    """Every `every_s` seconds: the workers of a store (children of `server_pid`, else of this
    process), the server's memory, the CPU time of the workers and of Chromium; once a second (its
    own thread) the latency of the server's health check."""

    def __init__(self, store_root, server_pid: int | None = None, every_s: float = 0.2):
        super().__init__(daemon=True)
        self.store_root, self.server_pid, self.every_s = store_root, server_pid, every_s
        self.parent = server_pid if server_pid is not None else os.getpid()
        self.port: int | None = None              # set once the server answers: health checks start
        self.health_s: list[float] = []           # latency of GET /_stcore/health, about once a second
        self.peak_workers = 0
        self.workers_seen: dict[int, str] = {}   # pid -> run id, every worker ever sampled
        self.worker_times: dict[int, list] = {}  # pid -> [first seen, last seen] (monotonic s)
        self.forks_seen: dict[int, int] = {}     # pid -> parent: `lth_core work` command lines not
        #                                          started by the server (a worker's fork before exec)
        self.peak_server_rss = 0                  # the server process alone
        self.peak_tree_rss = 0                    # the server and its workers
        self.peak_load = 0.0                      # the machine's 1-minute load average
        self.cpu: dict[str, dict[int, float]] = {"workers": {}, "browser": {}}  # last CPU seconds seen per pid
        self.samples = 0
        self._halt = threading.Event()
        self._prober: threading.Thread | None = None

    def run(self) -> None:
        while not self._halt.is_set():
            table = ps_table()
            workers = {}
            for pid, (ppid, rid) in work_processes(self.store_root, table).items():
                if ppid == self.parent:
                    workers[pid] = rid
                else:
                    self.forks_seen[pid] = ppid
            self.peak_workers = max(self.peak_workers, len(workers))
            self.workers_seen.update(workers)
            now = time.monotonic()
            for pid in workers:
                self.worker_times.setdefault(pid, [now, now])[1] = now
            mine = descendants(os.getpid(), table)  # this test's Chromium, not another one on the machine
            browsers = [pid for pid, _, _, args in table if pid in mine and "/chromium" in args.split(" ", 1)[0]]
            for kind, pids in (("workers", workers), ("browser", browsers)):
                for pid in pids:
                    try:
                        self.cpu[kind][pid] = cpu_seconds(pid)
                    except (OSError, IndexError, ValueError):  # it has just exited
                        pass
            if self.server_pid:
                own, tree = tree_rss(self.server_pid, table)
                self.peak_server_rss = max(self.peak_server_rss, own)
                self.peak_tree_rss = max(self.peak_tree_rss, tree)
            self.peak_load = max(self.peak_load, os.getloadavg()[0])
            if self.port and self._prober is None:
                self._prober = threading.Thread(target=self._probe, daemon=True)
                self._prober.start()
            self.samples += 1
            self._halt.wait(self.every_s)

    def _probe(self) -> None:
        while not self._halt.wait(1.0):
            self.health_s.append(health_latency(self.port))

    def cpu_total(self, kind: str) -> float:
        """CPU seconds used by the workers or the browser processes while sampled."""
        return sum(self.cpu[kind].values())

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        if self._prober is not None:
            self._prober.join(timeout=35)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process itself has used so far (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int | None:
    """Resident memory of one process (VmRSS), None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
