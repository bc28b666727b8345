"""Inference latency: how long one forward pass takes, and the sparse-tensor form of a ticket.

time_forward and time_group time forward passes as a benchmark should on a noisy shared
machine: thread count set explicitly, warm-up first, inference mode, enough calls per repeat,
and the median over repeats with its spread; on a GPU the device is synchronised per reading.
sparse_network stores an unstructured ticket as CSR tensors (Conv2d via im2col: torch has no
sparse convolution). Latency depends only on where weights survive, not their values, so
random masks with the right per-layer counts measure what a trained ticket would.
"""
from __future__ import annotations

import copy
import math
import statistics
import time
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from lth_core.pruning.masks import Masks, apply_
from lth_core.lottery.tasks import sync


@dataclass(frozen=True)
class Timing:
    """Seconds per forward pass of one batch, over `repeats` timed repeats."""

    median_s: float
    q1_s: float       # lower quartile
    q3_s: float       # upper quartile
    min_s: float
    max_s: float
    repeats: int
    calls: int        # forward calls averaged within each repeat
    batch: int
    threads: int
    device: str

    @property
    def throughput(self) -> float:
        """Examples per second at the median latency."""
        return self.batch / self.median_s

    def to_dict(self) -> dict:
        return {**asdict(self), "throughput_per_s": self.throughput}


def _quartiles(xs: list[float]) -> tuple[float, float]:
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def time_forward(model: nn.Module, x: torch.Tensor, *, repeats: int = 7, warmup: int = 2,
                 min_repeat_s: float = 0.05, threads: int = 1, device: str = "cpu") -> Timing:
    """Seconds per forward pass of `model` on the batch `x` (both moved to `device`).

    repeats: timed repeats (median reported); warmup: untimed calls first; min_repeat_s: each
    repeat makes enough calls to last this long; threads: torch CPU threads, restored after."""
    return time_group({"model": model}, x, repeats=repeats, warmup=warmup, min_repeat_s=min_repeat_s,
                      threads=threads, device=device)["model"]


def time_group(models: dict[str, nn.Module], x: torch.Tensor, *, repeats: int = 7, warmup: int = 2,
               min_repeat_s: float = 0.05, threads: int = 1, device: str = "cpu",
               budget_s: float | None = None) -> dict[str, Timing]:
    """time_forward for several networks on the same batch, interleaved in a rotating order, so a
    burst of outside load falls on all alike and their ratios stay fair.

    budget_s: if given, fewer repeats (never below 3) where `repeats` rounds would take longer."""
    old = torch.get_num_threads()
    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    try:
        x = x.to(device)
        models = {k: m.to(device).eval() for k, m in models.items()}
        calls, first_s, times = {}, {}, {k: [] for k in models}
        with torch.inference_mode():
            for k, model in models.items():
                for _ in range(max(1, warmup)):
                    model(x)
                sync(device)
                t = time.perf_counter()
                model(x)
                sync(device)
                first_s[k] = max(time.perf_counter() - t, 1e-9)
                calls[k] = max(1, math.ceil(min_repeat_s / first_s[k]))
            names = list(models)
            if budget_s is not None:
                round_s = sum(calls[k] * first_s[k] for k in names)
                repeats = max(min(3, repeats), min(repeats, int(budget_s / max(round_s, 1e-9))))
            for i in range(max(1, repeats)):
                for k in names[i % len(names):] + names[:i % len(names)]:
                    t = time.perf_counter()
                    for _ in range(calls[k]):
                        models[k](x)
                    sync(device)
                    times[k].append((time.perf_counter() - t) / calls[k])
    finally:
        torch.set_num_threads(old)
    out = {}
    for k, ts in times.items():
        q1, q3 = _quartiles(ts)
        out[k] = Timing(statistics.median(ts), q1, q3, min(ts), max(ts), len(ts), calls[k],
                        int(x.shape[0]), threads, str(device))
    return out


def _csr(weight: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": known, and what we measure
        warnings.simplefilter("ignore", UserWarning)
        return weight.detach().reshape(weight.shape[0], -1).to_sparse_csr()


class SparseLinear(nn.Module):
    """A Linear layer whose (out, in) weight is a CSR tensor: y = (W @ x^T)^T + b."""

    def __init__(self, layer: nn.Linear):
        super().__init__()
        self.register_buffer("weight", _csr(layer.weight))
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # x: (B, in) -> (B, out)
        y = (self.weight @ x.t()).t()
        return y if self.bias is None else y + self.bias


class SparseConv2d(nn.Module):
    """A Conv2d as im2col + CSR matmul: (out, C*k*k) sparse weight times unfolded input columns."""

    def __init__(self, layer: nn.Conv2d):
        super().__init__()
        if layer.groups != 1 or layer.dilation != (1, 1):
            raise ValueError("SparseConv2d supports groups=1 and dilation=1 only")
        self.register_buffer("weight", _csr(layer.weight))
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().clone())
        self.kernel_size, self.stride, self.padding = layer.kernel_size, layer.stride, layer.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # x: (B, C, H, W) -> (B, out, H', W')
        b, _, h, w = x.shape
        cols = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # (B, C*k*k, L)
        h_out = (h + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        w_out = (w + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        y = self.weight @ cols.transpose(0, 1).reshape(cols.shape[1], -1)              # (out, B*L)
        y = y.reshape(-1, b, h_out * w_out).transpose(0, 1).reshape(b, -1, h_out, w_out)
        return y if self.bias is None else y + self.bias[None, :, None, None]


def sparse_network(model: nn.Module, masks: Masks) -> nn.Module:
    """A copy of `model` with the mask applied and every masked Linear/Conv2d stored as CSR (eval mode).

    Computes what the masked dense network computes (up to float summation order)."""
    sparse = apply_(copy.deepcopy(model), masks).eval()
    masked = {n.rsplit(".", 1)[0] for n in masks}
    for name, module in list(sparse.named_modules()):
        if name not in masked:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = sparse.get_submodule(parent_name) if parent_name else sparse
        new = SparseConv2d(module) if isinstance(module, nn.Conv2d) else SparseLinear(module)
        setattr(parent, child, new)
    return sparse


def masked_network(model: nn.Module, masks: Masks) -> nn.Module:
    """A copy of `model` with the pruned weights zeroed: the unstructured ticket on dense kernels (eval mode)."""
    return apply_(copy.deepcopy(model), masks).eval()
