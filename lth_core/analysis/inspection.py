"""Looking inside a ticket: its masks, its initial weights, and what the mask alone does.

Plain functions for the "Inside the ticket" page and the Learn page's toy network, reading
the store (theta_0 rebuilt from the seed where a run does not keep it) or seeded randomness.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lth_core import layout
from lth_core.config import PruningConfig
from lth_core.plan import trial_seed
from lth_core.pruning.masks import Masks, apply_, ones_like
from lth_core.models.architectures import blueprint, build, glorot_init_, prunable_layers
from lth_core.pruning.magnitude import random_like
from lth_core.pruning.rounds import prune
from lth_core.registry import get_arch_info
from lth_core.store.run_store import Corrupt, Store
from lth_core.training.loop import evaluate


def layer_labels(arch: str) -> dict[str, str]:
    """{weight name: readable label}, e.g. '1.weight' -> 'fc1 · 40→300'."""
    model = blueprint(arch)
    params = dict(model.named_parameters())
    labels, n_conv, n_fc = {}, 0, 0
    for name, kind in prunable_layers(model).items():
        shape = tuple(params[name].shape)
        if kind == "conv":
            n_conv += 1
            labels[name] = f"conv{n_conv} · {shape[1]}→{shape[0]} ch, {shape[2]}×{shape[3]}"
        elif kind == "fc":
            n_fc += 1
            labels[name] = f"fc{n_fc} · {shape[1]}→{shape[0]}"
        else:
            labels[name] = f"output · {shape[1]}→{shape[0]}"
    return labels


def first_layer(arch: str) -> str:
    """Name of the network's first prunable weight (masks read from the store come in
    no particular order)."""
    return next(iter(layer_labels(arch)))


def load_theta0(store: Store, run_id: str, trial: int) -> tuple[dict, str]:
    """(theta_0 state_dict, 'stored' | 'rebuilt from the trial seed')."""
    try:
        return store.read_state(run_id, layout.theta0(trial)), "stored"
    except (FileNotFoundError, Corrupt):
        c = store.config(run_id)
        return build(c.arch, trial_seed(c, trial), c.training.dropout).state_dict(), "rebuilt from the trial seed"


def load_mask(store: Store, run_id: str, trial: int, level: int, arm: str = "ticket") -> Masks:
    """The arm's mask at a level; level 0 (dense) keeps every weight.

    Raises FileNotFoundError or Corrupt when the level has not been stored (intact)."""
    if level == 0:
        model = build(store.config(run_id).arch, 0)
        return ones_like(model, prunable_layers(model))
    return store.read_masks(run_id, layout.mask(trial, level, arm))


def first_layer_map(masks: Masks, arch: str) -> dict:
    """Surviving connections of the first layer per input position: {'layer', 'kind', 'values',
    'max'}, kind 'image' (H x W, channels summed), 'sequence' (L) or 'kernel' (in_ch x kh x kw);
    'max' is a position's count when nothing is pruned."""
    name = first_layer(arch)
    m = masks[name].to(torch.int64)
    shapes = get_arch_info(arch).input_shapes  # none known for your own model: its inputs read as a sequence
    shape = shapes[0] if shapes else (m.shape[1],)
    if m.dim() == 4:  # conv: (out, in, kh, kw) -> survivors per input channel and kernel position
        return {"layer": name, "kind": "kernel", "values": m.sum(0).numpy(), "max": int(m.shape[0])}
    per_input = m.sum(0)                                  # (in_features,)
    if len(shape) == 1:
        return {"layer": name, "kind": "sequence", "values": per_input.numpy(), "max": int(m.shape[0])}
    c, h, w = shape
    values = per_input.reshape(c, h, w).sum(0)            # channels summed: (H, W)
    return {"layer": name, "kind": "image", "values": values.numpy(), "max": int(m.shape[0]) * c}


def init_split(theta0: dict, masks: Masks, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """theta_0 values of one layer's (kept, pruned) weights, as flat float arrays."""
    w, m = theta0[layer].flatten().numpy(), masks[layer].flatten().numpy()
    return w[m], w[~m]


@torch.no_grad()
def masked_accuracy(arch: str, state: dict, masks: Masks, x: torch.Tensor, y: torch.Tensor) -> float:
    """Test accuracy (fraction) of `state` with `masks` applied and no training at all."""
    model = build(arch, 0)
    model.load_state_dict(state)
    apply_(model, masks).eval()
    _, correct = evaluate(model, x, y)
    return int(correct) / len(x)


def random_mask(masks: Masks, seed: int) -> Masks:
    """A random mask with the same per-layer survivor counts, from a fixed seed."""
    return random_like(masks, torch.Generator().manual_seed(int(seed)))


# --- a toy network for the Learn page --------------------------------------------
def _toy_data(gen: torch.Generator, n_per_class: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
    """Three Gaussian blobs in 4 dimensions: a problem a 4-6-3 network can learn."""
    centres = torch.randn(3, 4, generator=gen) * 1.5
    x = centres.repeat_interleave(n_per_class, 0) + torch.randn(3 * n_per_class, 4, generator=gen)
    return x, torch.arange(3).repeat_interleave(n_per_class)


def adam_steps(model: nn.Module, masks: Masks, loss_fn, steps: int, lr: float, betas=(0.9, 0.999),
               eps: float = 1e-8) -> None:
    """`steps` steps of Adam (torch.optim.Adam's update, written out) with masked gradients, so the
    server's Learn page never imports torch._dynamo through a torch optimizer (docs/RELIABILITY.md,
    "The memory fix")."""
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    for t in range(1, steps + 1):
        grads = torch.autograd.grad(loss_fn(), params)
        with torch.no_grad():
            for name, p, g, (m, v) in zip(names, params, grads, moments):
                if name in masks:
                    g = g * masks[name]
                m.lerp_(g, 1 - betas[0])
                v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
                denom = v.sqrt() / math.sqrt(1 - betas[1] ** t) + eps
                p.addcdiv_(m, denom, value=-lr / (1 - betas[0] ** t))


def _toy_train(model: nn.Module, masks: Masks, x, y, steps: int) -> float:
    adam_steps(model, masks, lambda: nn.functional.cross_entropy(model(x), y), steps, lr=0.03)
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def toy_imp(seed: int = 0, rate: float = 0.5, steps: int = 200) -> dict:
    """One real IMP round on a 4-6-3 network (Gaussian Glorot init from `seed`).

    Returns numpy weights {"theta0", "trained", "ticket_trained"} ({layer: (out, in)}), the 'mask'
    after pruning `rate` (half of it in the output layer), layer names and sizes, and the training
    accuracies (fractions) of the dense network and the retrained ticket."""
    gen = torch.Generator().manual_seed(int(seed))
    x, y = _toy_data(gen)
    model = glorot_init_(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)), gen)
    kinds = prunable_layers(model)
    theta0 = {k: v.clone() for k, v in model.state_dict().items()}
    dense = ones_like(model, kinds)
    dense_acc = _toy_train(model, dense, x, y, steps)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    mask = prune(trained, dense, kinds, PruningConfig(rate=rate, rounds=1))
    model.load_state_dict(theta0)
    apply_(model, mask)
    ticket_acc = _toy_train(model, mask, x, y, steps)

    def weights(state):
        return {n: state[n].numpy().copy() for n in kinds}
    return {"layers": list(kinds), "sizes": [4, 6, 3], "theta0": weights(theta0), "trained": weights(trained),
            "ticket_trained": weights(model.state_dict()), "mask": {n: m.numpy().copy() for n, m in mask.items()},
            "dense_acc": dense_acc, "ticket_acc": ticket_acc, "rate": rate, "seed": seed}
