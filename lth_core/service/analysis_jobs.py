"""Analyses in the background: a detached `python -m lth_core analyse noise ...` per request.

A click must never evaluate in Streamlit's script thread and a closed tab must not stop an
analysis, so start_noise spawns the command in its own process group and returns; the page
polls noise_job_state. One process computes one run + parameters at a time: it holds the
flock of <store>/<run_id>/analysis/noise-<hash>.lock for its life, beside .status.json and
.log (<hash>: analyses.param_hash). Started through the worker protocol, memory capped.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from lth_core import layout
from lth_core.analysis.analyses import AnalysisError, check_ready, compute_noise, noise_params, param_hash, read_noise
from lth_core.service import protocol
from lth_core.store.run_store import AlreadyRunning, Corrupt, Store, file_locked, flock_file

LOCK_WAIT_S = 5.0   # a new worker waits this long for the starter that spawned it to let go of the lock
_children: list[subprocess.Popen] = []  # spawned here; polled so that finished ones are reaped


class AnalysisBusy(AlreadyRunning):
    """Another live process is computing this analysis."""


def _paths(store: Store, run_id: str, params: dict) -> dict[str, str]:
    base = layout.analysis(f"noise-{param_hash(params)}")
    return {"lock": f"{base}.lock", "status": f"{base}.status.json", "log": f"{base}.log"}


def _locked(store: Store, run_id: str, params: dict, wait_s: float):
    """Hold the analysis's flock (retrying for wait_s seconds); yields False if another holds it."""
    return flock_file(store.run_dir(run_id) / _paths(store, run_id, params)["lock"], wait_s)


def _is_locked(store: Store, run_id: str, params: dict) -> bool:
    return file_locked(store.run_dir(run_id) / _paths(store, run_id, params)["lock"])


def _status(store: Store, run_id: str, params: dict) -> dict | None:
    try:
        st = store.read_json(run_id, _paths(store, run_id, params)["status"])
    except (FileNotFoundError, Corrupt):
        return None
    return st if isinstance(st, dict) else None


def _set_status(store: Store, run_id: str, params: dict, state: str, pid: int, message: str = "",
                fraction: float | None = None) -> None:
    store.write_json(run_id, _paths(store, run_id, params)["status"],
                     {"state": state, "pid": pid, "message": message[:500], "fraction": fraction,
                      "hash": param_hash(params), "time": time.time()}, durable=state in ("done", "failed"))


def noise_job_state(store: Store, run_id: str, params: dict) -> dict:
    """{"state": "none" | "queued" | "running" | "done" | "failed", "message": str, "fraction":
    float in [0, 1] or None} of the analysis with these canonical parameters (analyses.noise_params)."""
    for p in list(_children):
        if p.poll() is not None:
            _children.remove(p)
    rec = read_noise(store, run_id, params)
    if rec is not None and rec.get("complete"):
        return {"state": "done", "message": "", "fraction": 1.0}
    st = _status(store, run_id, params) or {}
    if _is_locked(store, run_id, params):
        return {"state": "running" if st.get("state") == "running" else "queued", "message": "",
                "fraction": st.get("fraction")}
    return _unlocked_state(st, rec)


def _unlocked_state(st: dict, rec: dict | None) -> dict:
    """The state when no process holds the analysis's lock, from its status file and partial record."""
    fraction = st.get("fraction")
    if st.get("state") == "failed":
        return {"state": "failed", "message": st.get("message") or "the analysis failed", "fraction": fraction}
    if st.get("state") in ("queued", "running"):
        if isinstance(st.get("pid"), int) and not protocol.exited(st["pid"]):
            return {"state": "queued", "message": "", "fraction": fraction}  # started, not yet holding the lock
        return {"state": "failed", "message": "its process stopped before the analysis finished (its log: "
                f"analysis/noise-{st.get('hash', '...')}.log); start it again to resume", "fraction": fraction}
    partial = f"{len(rec['networks'])} networks computed so far; start it to resume" if rec else ""
    return {"state": "none", "message": partial, "fraction": None}


def command(store: Store, run_id: str, params: dict, data_dir=None) -> list[str]:
    """The command line that computes these parameters (what the background process runs)."""
    cmd = protocol.command("analyse", "noise", run_id,
                           "--levels", ",".join(str(lv) for lv in params["levels"]),
                           "--scales", ",".join(repr(float(s)) for s in params["scales"]),
                           "--draws", str(params["draws"]), "--arms", ",".join(params["arms"]),
                           "--store", str(store.root.resolve()))
    return cmd + (["--data-dir", str(Path(data_dir).resolve())] if data_dir else [])


def start_noise(store: Store, run_id: str, levels=None, scales=None, draws=None, arms=None,
                data_dir=None, *, memory_bytes: int | None) -> dict:
    """Start the noise analysis in a detached process unless done, queued or running; returns
    {"state", "message", "fraction", "params"} at once. Parameters as analyses.compute_noise;
    memory_bytes caps its data memory (None: no cap). Raises BadParams, NoStoredWeights, NotReady."""
    config = store.config(run_id)
    params = noise_params(config, levels, scales, draws, arms)
    state = noise_job_state(store, run_id, params)
    if state["state"] in ("done", "queued", "running"):
        return {**state, "params": params}
    check_ready(store, run_id, config, params)
    with _locked(store, run_id, params, wait_s=0) as got:  # two starters: one spawns, the other sees it
        # under the lock the probe would see our own lock: read the status file alone
        if got and _unlocked_state(_status(store, run_id, params) or {}, None)["state"] in ("none", "failed") \
                and not (read_noise(store, run_id, params) or {}).get("complete"):
            log = store.run_dir(run_id) / _paths(store, run_id, params)["log"]
            with open(log, "ab") as out:
                proc = protocol.spawn(command(store, run_id, params, data_dir), out, memory_bytes)
            _children.append(proc)
            _set_status(store, run_id, params, "queued", proc.pid)
    return {**noise_job_state(store, run_id, params), "params": params}


def run_noise_job(store: Store, run_id: str, params: dict, data_dir=None) -> dict:
    """Compute the analysis in this process under its lock, writing its status as it goes
    (the command line's `analyse noise`); returns the record. AnalysisBusy if another process
    computes it; an AnalysisError or any failure is written as failed, then raised."""
    rec = read_noise(store, run_id, params)
    if rec is not None and rec.get("complete"):
        return rec
    check_ready(store, run_id, store.config(run_id), params)  # a run without weights: no trace left in it
    with _locked(store, run_id, params, wait_s=LOCK_WAIT_S) as got:
        if not got:
            raise AnalysisBusy(f"the noise analysis of run {run_id} with these settings is already being "
                               f"computed by another process")
        pid = os.getpid()
        _set_status(store, run_id, params, "running", pid, fraction=0.0)

        def progress(p):
            _set_status(store, run_id, params, "running", pid, fraction=p["fraction"])
        try:
            rec = compute_noise(store, run_id, params["levels"], params["scales"], params["draws"], params["arms"],
                                data_dir=data_dir, on_progress=progress)
        except AnalysisError as exc:
            _set_status(store, run_id, params, "failed", pid, str(exc))
            raise
        except BaseException as exc:
            _set_status(store, run_id, params, "failed", pid, f"{type(exc).__name__}: {exc}")
            raise
        _set_status(store, run_id, params, "done", pid, fraction=1.0)
        return rec
