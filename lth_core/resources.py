"""Estimated peak memory of a run, for the server's memory limit.

A run whose estimate is over $LTH_MAX_MEMORY_GB (lth_core.service.settings) is refused when
submitted, by the job manager and the command line alike; a stored run is never judged by it.
The estimate is deliberately simple (docs/RELIABILITY.md, "Resources an anonymous user can
exhaust"): activations for training (TRAIN_FACTOR), the largest layer output for evaluation
(EVAL_CHUNK), parameters with gradients and optimizer state (PARAM_FACTOR), all at 4 bytes.
Datasets and the runtime are not counted: only what a config can make arbitrarily large.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from lth_core.models.architectures import blueprint

BYTES = 4            # float32
TRAIN_FACTOR = 2     # activation + its gradient, per layer, for each example of a batch
PARAM_FACTOR = 8     # weights, gradients, two Adam moments, mask, initial, rewind, best copy
EVAL_CHUNK = 1024    # examples per evaluation pass (lth_core.training.loop.CPU_EVAL_CHUNK)
GB = 1e9


@lru_cache(maxsize=None)
def arch_profile(arch: str, input_shape: tuple) -> tuple[int, int, int]:
    """(activation elements summed over leaf modules, largest single output, parameters) for one
    example of `input_shape` through `arch`, measured with forward hooks on the CPU.

    Uninitialised CPU storage, not the meta device: a meta forward imports torch._dynamo into
    the server for good (docs/RELIABILITY.md, "The memory fix")."""
    model = blueprint(arch).to_empty(device="cpu")
    sizes: list[int] = []

    def hook(_module, _inputs, output):
        if isinstance(output, torch.Tensor):
            sizes.append(output[0].numel())

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    model.eval()
    with torch.no_grad():
        model(torch.zeros((1, *input_shape), device="cpu"))
    for h in handles:
        h.remove()
    return sum(sizes), max(sizes + [int(torch.Size(input_shape).numel())]), sum(
        p.numel() for p in model.parameters())


def peak_bytes(arch: str, input_shape: tuple, batch_size: int) -> int:
    """The estimated peak memory of training `arch` at `batch_size` (see the module's docstring)."""
    acts, largest, params = arch_profile(arch, tuple(input_shape))
    train = acts * batch_size * BYTES * TRAIN_FACTOR
    evaluate = largest * 2 * EVAL_CHUNK * BYTES
    return train + evaluate + params * BYTES * PARAM_FACTOR


def memory_problem(arch: str, input_shape: tuple, batch_size: int, limit_gb: float) -> str | None:
    """Why a run is too large for a memory limit of `limit_gb` GB, or None if it fits."""
    need = peak_bytes(arch, input_shape, batch_size)
    if need <= limit_gb * GB:
        return None
    return (f"the run would need about {need / GB:.1f} GB at its peak; the limit is {limit_gb:g} GB "
            f"($LTH_MAX_MEMORY_GB). Use a smaller batch size")
