"""Benchmark parts timed as a user meets them: whole processes, and the scheduler on many networks.

- cli:           `python -m lth_core run` on the reference workload with default settings, as a user
                 types it (issue #12's command), a fresh store each time: start-up, data load, training,
                 store writes and the printed table all included.
- plain-process: the plain-PyTorch loop (scripts/bench.py time_plain) in a fresh process, its imports
                 and data load included, with torch's default threads.
- open-lth:      facebookresearch/open_lth's `lottery` command on the same workload (LeNet-300-100,
                 Adam 1.2e-3, batch 60, 3 levels of N iterations, 20% per round), given its checkout
                 with --open-lth; it reads the same Fashion-MNIST files, laid out where its MNIST loader
                 looks (no change to its code). It evaluates at the end of each epoch, not every 100.
- trials:        ticket + random re-init x 3 trials of the reference workload (15 networks), computed by
                 experiment.run one network after another in this process (1 thread), then by the
                 dependency-aware scheduler on every core; network-iterations per second of each. The
                 worker processes are started before the timing and their start-up timed apart
                 (pool-start), as the earlier level-by-level figure was measured.
"""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_workload import trials_config
from lth_core.execution.driver import run
from lth_core.execution.local import LocalExecutor
from lth_core.plan import planned_tasks, task_steps
from lth_core.store.run_store import Store

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
CLI_FLAGS = ["--dataset", "fashion-mnist", "--arch", "lenet300", "--rate", "0.2", "--rounds", "2",
             "--eval-every", "100", "--controls", "none", "--trials", "1"]


def _timed(cmd: list[str], **kw) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}: {(proc.stdout + proc.stderr)[-1500:]}")
    return wall


def time_cli(iterations: int, data_dir) -> float:
    """Wall seconds of the command line's run on the reference workload, into a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "lth_core", "run", *CLI_FLAGS, "--iterations", str(iterations), "--store", tmp]
        return _timed(cmd + (["--data-dir", str(data_dir)] if data_dir else []), cwd=REPO)


def time_plain_process(iterations: int, data_dir) -> float:
    """Wall seconds of a fresh process that imports torch, loads the data and runs the plain loop."""
    code = (f"import sys; sys.path[:0] = [{str(SCRIPTS)!r}, {str(REPO)!r}]; from bench import time_plain; "
            f"time_plain({iterations}, 'cpu', {str(data_dir)!r} if {bool(data_dir)} else None)")
    return _timed([sys.executable, "-c", code], cwd=REPO)


def _open_lth_home(tmp: Path, fashion_dir: Path) -> Path:
    """A HOME whose open_lth dataset folder holds Fashion-MNIST under MNIST's file names (the
    same names), unpacked where torchvision's MNIST loader finds them and skips downloading."""
    raw = tmp / "open_lth_datasets" / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        with gzip.open(fashion_dir / f"{name}.gz") as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return tmp


def time_open_lth(checkout: Path, iterations: int, fashion_dir: Path) -> float:
    """Wall seconds of open_lth's lottery command on the workload, with a fresh output folder."""
    with tempfile.TemporaryDirectory() as tmp:
        home = _open_lth_home(Path(tmp), fashion_dir)
        cmd = [sys.executable, "open_lth.py", "lottery", "--default_hparams=mnist_lenet_300_100", "--levels=2",
               f"--training_steps={iterations}it", "--batch_size=60", "--optimizer_name=adam", "--lr=0.0012",
               "--platform=local"]
        return _timed(cmd, cwd=checkout, env={**os.environ, "HOME": str(home)})


def time_trials(iterations: int, data_dir, processes: int) -> float:
    """Wall seconds of experiment.run on ticket + re-init x 3 trials with `processes` cores (1: one
    network after another in this process; more: the scheduler's worker processes, started in the timing)."""
    with tempfile.TemporaryDirectory() as tmp:
        ex = LocalExecutor(processes, warm=(("fashion-mnist",), str(data_dir) if data_dir else None))
        ex.start_pool()  # started and warmed before the timing, as a warm worker's pool is (timed apart:
        t = time.perf_counter()  # time_pool_start)
        try:
            run(trials_config(iterations), Store(tmp), data_dir=data_dir, executor=ex)
        finally:
            ex.close()
        return time.perf_counter() - t


def time_pool_start(data_dir, processes: int) -> float:
    """Wall seconds to start and warm the local executor's worker processes (torch, the data, the
    optimizer's first step): paid once per run, or ahead of the click by a warm worker."""
    ex = LocalExecutor(processes, warm=(("fashion-mnist",), str(data_dir) if data_dir else None))
    t = time.perf_counter()
    try:
        ex.start_pool()
        return time.perf_counter() - t
    finally:
        ex.close()


def trials_network_iterations(iterations: int) -> int:
    c = trials_config(iterations)
    return sum(task_steps(c, lv, arm) for _, lv, arm in planned_tasks(c))
