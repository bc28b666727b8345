"""The training loop: masked SGD/Adam on in-memory tensors, measured every eval_every steps.

The learning rate follows lr_at (warm-up, then drops at the milestones); image batches are
augmented on their device when asked. Pruned weights get a zero gradient before every step,
so they and their optimizer state stay exactly zero. Nothing synchronises with the device
between evaluation points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from lth_core.data.augment import crop_flip, draws
from lth_core.config import TrainingConfig
from lth_core.data.datasets import Data
from lth_core.training.early_stop import argmin_index, smoothed_argmin_index
from lth_core.pruning.masks import Masks
from lth_core.seeds import derive_seed

# Examples per forward pass at evaluation time. On a CPU, chunks that stay in cache are faster
# (docs/PERFORMANCE.md); a GPU wants large chunks.
CPU_EVAL_CHUNK = 1024
GPU_EVAL_EXAMPLES = 10_000  # examples x stacked networks per forward pass on a GPU


def eval_chunk(device: torch.device | str, networks: int = 1) -> int:
    """Examples per forward pass at evaluation time, for `networks` stacked networks."""
    if torch.device(device).type == "cpu":
        return CPU_EVAL_CHUNK
    return max(256, GPU_EVAL_EXAMPLES // networks)  # activations grow with the stack: bound them


# How train_acc / train_loss were measured; stored with every metrics record. Records without
# it (schema 1) hold the running accuracy over the minibatches since the last evaluation, in
# train mode: a proxy, not a measurement.
TRAIN_MEASURE = "eval-mode, fixed training subset"


@dataclass
class History:
    """Measurements at each evaluation point; accuracies are fractions in [0, 1], losses mean
    cross-entropy per example."""

    iteration: list = field(default_factory=list)   # optimizer steps taken so far
    val_loss: list = field(default_factory=list)    # on the validation split
    val_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)   # eval mode, on data.x_train_eval (TRAIN_MEASURE)
    train_loss: list = field(default_factory=list)  # same subset; None in schema-1 records

    def record(self, step: int, val_loss: float, val_acc: float, test_acc: float, train_acc: float,
               train_loss: float | None = None) -> dict:
        """Append one evaluation point; returns it as {field: value}."""
        for k, v in (("iteration", step), ("val_loss", val_loss), ("val_acc", val_acc),
                     ("test_acc", test_acc), ("train_acc", train_acc), ("train_loss", train_loss)):
            getattr(self, k).append(v)
        return {k: getattr(self, k)[-1] for k in History.__dataclass_fields__}

    def early_stop_index(self) -> int:
        """Index of the minimum validation loss (the paper's early-stopping criterion)."""
        return argmin_index(self.val_loss)

    def summary(self) -> dict:
        """Early-stopping iteration (raw and smoothed), accuracy there and at the end."""
        i = self.early_stop_index()
        return {"early_stop_iteration": self.iteration[i],
                "early_stop_smoothed": self.iteration[smoothed_argmin_index(self.val_loss)],
                "test_acc_at_early_stop": self.test_acc[i],
                "val_acc_at_early_stop": self.val_acc[i], "val_loss_at_early_stop": self.val_loss[i],
                "train_acc_at_early_stop": self.train_acc[i],
                "final_test_acc": self.test_acc[-1], "train_acc": self.train_acc[-1],
                "final_train_loss": self.train_loss[-1] if self.train_loss else None}

    def to_dict(self) -> dict:
        def clean(xs):
            return [x if x is None or math.isfinite(x) else None for x in xs]
        return {k: clean(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        """Inverse of to_dict; a field older records lack (train_loss) reads as None."""
        n = len(d["iteration"])
        return cls(**{k: list(d[k]) if k in d else [None] * n for k in cls.__dataclass_fields__})


def make_optimizer(params, cfg: TrainingConfig) -> torch.optim.Optimizer:
    """Adam or SGD with momentum, as the config says; the fused kernels where torch has them
    (faster per step on a CPU too: docs/PERFORMANCE.md)."""
    params = list(params)
    if cfg.optimizer == "adam":
        make = lambda **kw: torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **kw)
    else:
        make = lambda **kw: torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                                            weight_decay=cfg.weight_decay, **kw)
    try:
        return make(fused=True)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device / version
        return make()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed loss, correct count) as device tensors; no host synchronisation."""
    loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    chunk = eval_chunk(x.device)
    for i in range(0, len(x), chunk):
        out = model(x[i:i + chunk])
        loss += F.cross_entropy(out, y[i:i + chunk], reduction="sum")
        correct += (out.argmax(1) == y[i:i + chunk]).sum()
    return loss, correct


def train(model: nn.Module, masks: Masks, data: Data, cfg: TrainingConfig, seed: int, *,
          start_iteration: int = 0, snapshot_at: int | None = None, on_eval=None, eval_threads: int = 0):
    """Train `model` (already on data's device, pruned weights already zero).

    seed: minibatch order and augmentation; start_iteration: steps already counted (k when
    rewinding); snapshot_at: also return a CPU copy of the weights after that many steps
    (theta_k); on_eval(iteration, metrics) at each evaluation, may raise to stop; eval_threads:
    torch threads for evaluation (0: training's own; docs/PERFORMANCE.md).
    Returns (History, snapshot or None)."""
    device = data.x_train.device
    params = dict(model.named_parameters())
    grad_masks = [(params[n], m.to(device, params[n].dtype)) for n, m in masks.items()]
    opt = make_optimizer(model.parameters(), cfg)
    batches = minibatches(len(data.x_train), cfg.batch_size, seed, device)
    augments = augmentations(len(data.x_train), cfg, seed, device)
    history, snapshot = History(), None
    model.train()
    if snapshot_at == start_iteration:
        snapshot = cpu_copy(model.state_dict())
    for it in range(start_iteration, cfg.iterations):
        idx = next(batches)
        xb, yb = data.x_train[idx], data.y_train[idx]
        if augments is not None:
            xb = crop_flip(xb, *next(augments))
        set_lr(opt, cfg, it)
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p, m in grad_masks:
            p.grad.mul_(m)
        opt.step()
        step = it + 1
        if snapshot_at is not None and step == snapshot_at:
            snapshot = cpu_copy(model.state_dict())
        if is_eval_step(step, cfg):
            model.eval()  # dropout off, BatchNorm in inference: every split measured the same way
            own = torch.get_num_threads()
            if eval_threads:
                torch.set_num_threads(eval_threads)
            sums = [evaluate(model, x, y) for x, y in splits(data)]
            torch.set_num_threads(own)
            model.train()
            point = history.record(step, *measurements(data, torch.stack(
                [torch.stack([loss.float(), correct.float()]) for loss, correct in sums]).tolist()))
            if on_eval is not None:
                on_eval(step, point)
    return history, snapshot


def splits(data: Data) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (inputs, labels) measured at each evaluation: validation, test, training subset."""
    return [(data.x_val, data.y_val), (data.x_test, data.y_test), (data.x_train_eval, data.y_train_eval)]


def measurements(data: Data, sums) -> tuple[float, float, float, float, float]:
    """History.record's (val_loss, val_acc, test_acc, train_acc, train_loss) from summed
    [loss, correct] pairs of splits(data), in that order (one network)."""
    (vl, vc), (_, tc), (rl, rc) = sums
    nv, nt, nr = len(data.y_val), len(data.y_test), len(data.y_train_eval)
    return vl / nv, vc / nv, tc / nt, rc / nr, rl / nr


def cpu_copy(state: dict) -> dict:
    """A detached CPU copy of {name: tensor} (a snapshot that later steps do not change)."""
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def minibatches(n: int, batch_size: int, seed: int, device):
    """Endless minibatch indices on `device`: a fresh permutation per epoch (seeded), the
    last incomplete batch of each epoch dropped. The first batch is the epoch's first."""
    gen = torch.Generator().manual_seed(int(seed))
    per_epoch = n // batch_size
    while True:
        order = torch.randperm(n, generator=gen).to(device)  # moved to the device once per epoch
        for pos in range(per_epoch):
            yield order[pos * batch_size:(pos + 1) * batch_size]


def augmentations(n: int, cfg: TrainingConfig, seed: int, device):
    """The crop/flip draws for the minibatches that `seed` orders (None: no augmentation)."""
    return draws(n, cfg.batch_size, derive_seed(seed, "augment"), device) if cfg.augment else None


def lr_at(cfg: TrainingConfig, it: int) -> float:
    """Learning rate of optimizer step `it` (0-based; steps taken so far): cfg.lr ramped linearly
    over the first cfg.warmup steps ((it + 1) / warmup of it), times lr_factor for each milestone
    already passed (milestone m: from the step after m steps on, like torch's MultiStepLR)."""
    warm = min(1.0, (it + 1) / cfg.warmup) if cfg.warmup else 1.0
    return cfg.lr * warm * cfg.lr_factor ** sum(it >= m for m in cfg.lr_milestones)


def set_lr(opt: torch.optim.Optimizer, cfg: TrainingConfig, it: int) -> None:
    """Put lr_at(cfg, it) into every parameter group (nothing to do for a constant rate)."""
    if cfg.warmup or cfg.lr_milestones:
        lr = lr_at(cfg, it)
        for g in opt.param_groups:
            g["lr"] = lr


def is_eval_step(step: int, cfg: TrainingConfig) -> bool:
    return step % cfg.eval_every == 0 or step == cfg.iterations
