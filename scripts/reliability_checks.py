"""What the fault-injection script checks in a store: finished levels (hashed metrics records),
run states, live workers, worker starts, tracebacks in a server's log.

Used by scripts/fault_injection.py. A run's finished networks are its metrics records,
t<k>/L<n>/<arm>.json (lth_core/store/run_store.py): each is written last for its network, atomically, so a
record that exists is a finished network; "no finished level lost" means every record hashed
before a fault is there afterwards with the same bytes.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from procwatch import start_records, work_processes

from lth_core.store.run_store import Store


def wait_for(predicate, timeout_s: float, poll_s: float = 0.2):
    """The predicate's first truthy value, or None after timeout_s."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    return None


def finished_records(root: Path, run_id: str) -> dict[str, str]:
    """{t<k>/L<n>/<arm>.json: sha256 of its bytes}: the finished networks of a run."""
    out = {}
    for f in sorted((root / run_id).glob("t*/L*/*.json")):
        try:
            out[str(f.relative_to(root / run_id))] = hashlib.sha256(f.read_bytes()).hexdigest()
        except OSError:
            pass
    return out


def compare(before: dict[str, str], after: dict[str, str]) -> dict:
    """Finished records lost or rewritten between two snapshots (both must be empty)."""
    return {"finished_before": len(before), "finished_after": len(after),
            "lost": sorted(k for k in before if k not in after),
            "rewritten": sorted(k for k in before if k in after and after[k] != before[k])}


def state(root: Path, run_id: str) -> str:
    """The run's state as every page reads it (running with a free lock reads interrupted)."""
    return Store(root).status(run_id).get("state", "unknown")


def server_log_facts(log: Path) -> dict:
    """{'tracebacks': n} in a server's log (the app hides them from users; the log keeps them)."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    return {"tracebacks": text.count("Traceback (most recent call last)")}


def worker_of(root: Path, run_id: str, parent: int | None = None) -> int | None:
    """Pid of a live `lth_core work` process of this run (child of `parent` if given)."""
    for pid, (ppid, rid) in work_processes(root).items():
        if rid == run_id and (parent is None or ppid == parent):
            return pid
    return None


def starts_per_run(root: Path) -> dict[str, int]:
    """{run id: worker starts}, from the workers' own start records (procwatch.start_records)."""
    out: dict[str, int] = {}
    for r in start_records(root):
        out[r["run"]] = out.get(r["run"], 0) + 1
    return out
