"""The bench's parallel part: one level's 6 networks (ticket + random re-init x 3 trials),
trained one after another, on single-threaded worker processes (CPU only), and stacked
into one computation (lth_core.lottery.batched), all on the same specs in the same process.

Each repeat times every mode back to back, so each repeat's ratios compare modes under the
same machine load. Worker start-up (spawning, importing torch, loading the data, the first
optimizer steps) is paid once per run, not per level, so it is timed on its own.
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import time

from lth_core.lottery.batched import execute_stacked
from lth_core.config import ExperimentConfig, PruningConfig, TrainingConfig
from lth_core.lottery.state import RunState
from lth_core.store.run_store import Store
from lth_core.execution.local import spawn_pool
from lth_core.lottery.tasks import execute, stacks_networks, sync

NETWORKS = 6


def level_specs(config: ExperimentConfig, data_dir, device: str, store: Store) -> list:
    """The 6 TaskSpecs of level 1 (ticket + reinit x 3 trials), after a short real level 0
    (only its mask matters). `config` is the reference workload."""
    cfg = dataclasses.replace(config, trials=3, controls=("reinit",), pruning=PruningConfig(rate=0.2, rounds=1))
    r = RunState(cfg, store, data_dir, device)
    eval_every = cfg.training.eval_every
    for trial in range(3):
        spec = r.spec(trial, 0, "ticket")
        spec.training = TrainingConfig(iterations=eval_every, eval_every=eval_every)
        r.persist(trial, 0, "ticket", spec, execute(spec))
    specs = [r.spec(t, 1, arm) for t in range(3) for arm in ("ticket", "reinit")]
    for s in specs:
        s.store_root = None  # no live-progress files: time the training itself
    return specs


def _timed(fn, device):
    t = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t, out


def _warm(spec) -> int:
    """A short real training in a worker (data, imports, first optimizer steps); its pid."""
    execute(dataclasses.replace(spec, training=TrainingConfig(iterations=100, eval_every=100)))
    time.sleep(0.5)  # keep this worker busy so the other one gets a warm-up too
    return os.getpid()


def _on_workers(specs: list, processes: int) -> tuple[float, float, list]:
    """(start-up s, training s, results) on a fresh pool of single-threaded workers."""
    t = time.perf_counter()
    with spawn_pool(processes) as pool:
        pids: set = set()
        while len(pids) < processes:  # until every worker has trained once
            pids |= set(pool.map(_warm, [specs[0]] * processes))
        start = time.perf_counter() - t
        t = time.perf_counter()
        results = list(pool.map(execute, specs))
        return start, time.perf_counter() - t, results


def _max_diff(a: list, b: list) -> float:
    """Largest |test accuracy difference| at any evaluation point of any network."""
    return max(abs(x - y) for ra, rb in zip(a, b)
               for x, y in zip(ra["history"]["test_acc"], rb["history"]["test_acc"]))


def time_once(specs: list, processes: int, device: str) -> dict:
    """One repeat: seconds per mode for the same networks, and their agreement."""
    out: dict = {}
    out["sequential_s"], seq = _timed(lambda: [execute(s) for s in specs], device)
    out["stacked_s"], stacked = _timed(lambda: execute_stacked(specs), device)
    out["diff"] = {"stacked": _max_diff(seq, stacked)}
    if device == "cpu":
        out["worker_start_up_s"], out["processes_s"], par = _on_workers(specs, processes)
        out["diff"]["processes"] = _max_diff(seq, par)
    return out


def summarise(runs: list, iterations: int, processes: int, device: str) -> tuple[dict, float]:
    """(report entry, headline ratio) from every repeat; prints the table."""
    modes = ["sequential", "stacked"] + (["processes"] if "processes_s" in runs[0] else [])
    chosen = "stacked" if stacks_networks(device) else ("processes" if device == "cpu" else "sequential")
    n = NETWORKS * iterations
    entry: dict = {"networks": NETWORKS, "iterations": iterations, "processes": processes,
                   "engine_uses": chosen, "modes": {}}
    print(f"parallel: {NETWORKS} networks x {iterations} iterations (network-iterations per second; "
          f"ratio = its throughput / one after another, per repeat)")
    for m in modes:
        times = [r[f"{m}_s"] for r in runs]
        per_run = [r["sequential_s"] / r[f"{m}_s"] for r in runs]
        med = statistics.median(times)
        diff = max(r["diff"][m] for r in runs) if m != "sequential" else 0.0
        entry["modes"][m] = {"median_s": med, "net_it_per_s": n / med, "runs_s": times,
                             "ratio_per_repeat": per_run, "ratio_median": statistics.median(per_run),
                             "max_test_acc_difference": diff}
        label = {"sequential": "one after another", "stacked": "stacked (vmap)",
                 "processes": f"{processes} worker processes"}[m]
        print(f"  {label:<22}{med:>8.2f} s {n / med:>7.0f} net-it/s   ratio {statistics.median(per_run):.2f} "
              f"({', '.join(f'{x:.2f}' for x in per_run)})" + (f"   max test-acc diff {diff:.4f}" if diff else ""))
    if "processes" in modes:
        entry["worker_start_up_s"] = statistics.median(r["worker_start_up_s"] for r in runs)
        print(f"  worker start-up, paid once per run: {entry['worker_start_up_s']:.2f} s")
    print(f"  the engine uses: {chosen} on {device}")
    return entry, entry["modes"][chosen]["ratio_median"]
