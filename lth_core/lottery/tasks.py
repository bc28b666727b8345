"""One trained network as a self-contained task, and the processes that run them.

A TaskSpec is plain data (config pieces, weights, mask, seeds), so it runs the same in this
process or a worker. On a CPU, single-threaded worker processes train independent networks
at once (faster than one multi-threaded process for small networks); on a GPU they train
in-process, stacked (lottery.batched), with the data on the device.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from lth_core.config import ConfigError, TrainingConfig
from lth_core.data.datasets import Data, load
from lth_core.pruning.masks import Masks, apply_
from lth_core.models.architectures import build
from lth_core.store.run_store import Store
from lth_core.training.loop import train

LIVE_EVERY_S = 0.5  # at most two live-progress writes per second per task


def resolve_device(name: str) -> str:
    """'auto' -> cuda, then mps, then cpu; an unavailable explicit device raises ConfigError."""
    has = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if name == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if has[d])
    if not has.get(name, False):
        raise ConfigError("device", f"{name!r} is not available here; allowed: auto, "
                         + ", ".join(d for d, ok in has.items() if ok))
    return name


def sync(device: str) -> None:
    """Wait for queued device work (timings only; training never calls this)."""
    if device == "cuda":
        torch.cuda.synchronize()


@dataclass
class TaskSpec:
    """Everything needed to train one network of one (trial, level, arm)."""

    key: str                  # e.g. 't0-L03-ticket'
    arch: str
    dropout: float
    training: TrainingConfig
    dataset: str
    data_dir: str | None
    device: str
    init_state: dict          # {state_dict key: tensor}: theta_0, theta_k or a fresh init
    masks: Masks
    data_seed: int            # orders the minibatches
    start_iteration: int = 0
    snapshot_at: int | None = None
    want_final: bool = False  # return the trained weights (to prune them)
    store_root: str | None = None  # where to write iteration progress (live/<key>.json of run_id)
    run_id: str | None = None
    epoch: float = 0.0        # identifies this attempt of the run in live progress
    eval_threads: int = 0     # torch threads while evaluating (0: the training's own)


_DATA_CACHE: dict = {}


def get_data(dataset: str, data_dir, device: str) -> Data:
    """The dataset on `device`, loaded once per process."""
    key = (dataset, str(data_dir), device)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()  # one dataset at a time is plenty
        _DATA_CACHE[key] = load(dataset, Path(data_dir) if data_dir else None).to(device)
    return _DATA_CACHE[key]


def live_writer(spec: TaskSpec):
    """on_eval callback writing the task's live progress, or None. The record carries the learning
    curve measured so far (iteration, validation loss, validation accuracy at each evaluation), so a
    page can draw the network learning while it trains. The first evaluation is written at once; later
    ones at most every LIVE_EVERY_S, and the last always."""
    if not spec.store_root:
        return None
    store, last = Store(spec.store_root), [0.0]
    curve: dict[str, list] = {"iteration": [], "val_loss": [], "val_acc": []}

    def on_eval(step, metrics):
        for k in curve:
            curve[k].append(step if k == "iteration" else metrics[k])
        now = time.monotonic()
        if len(curve["iteration"]) == 1 or now - last[0] >= LIVE_EVERY_S or step == spec.training.iterations:
            last[0] = now
            store.write_live(spec.run_id, spec.key, {
                "epoch": spec.epoch, "steps": step - spec.start_iteration, "iteration": step,
                "iterations": spec.training.iterations, "key": spec.key,
                "val_acc": metrics["val_acc"], "test_acc": metrics["test_acc"], "pid": os.getpid(),
                "curve": curve})
    return on_eval


def execute(spec: TaskSpec) -> dict:
    """Train the network a spec describes; returns history (+ final weights / snapshot)."""
    data = get_data(spec.dataset, spec.data_dir, spec.device)
    model = build(spec.arch, seed=0, dropout=spec.dropout)
    model.load_state_dict(spec.init_state)
    model = apply_(model.to(spec.device), spec.masks)
    history, snapshot = train(model, spec.masks, data, spec.training, spec.data_seed,
                              start_iteration=spec.start_iteration, snapshot_at=spec.snapshot_at,
                              on_eval=live_writer(spec), eval_threads=spec.eval_threads)
    out = {"key": spec.key, "history": history.to_dict(), "snapshot": snapshot, "final": None}
    if spec.want_final:
        out["final"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return out


def default_processes(device: str) -> int:
    """Worker processes for one run: every core on a CPU, 1 on a GPU (Settings.procs, $LTH_PROCS,
    overrides it in the caller)."""
    return (os.cpu_count() or 1) if device == "cpu" else 1


def stacks_networks(device: str, stack: bool | None = None) -> bool:
    """Train a level's networks as one stacked computation (lottery.batched)? Yes on CUDA, no on a
    CPU, where worker processes are faster (docs/PERFORMANCE.md). `stack` (Settings.stack,
    $LTH_STACK) overrides; None decides by device."""
    return device == "cuda" if stack is None else stack
