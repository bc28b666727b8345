"""The physically smaller dense network of a structured ticket, by plain slicing.

A unit whose incoming row and outgoing weights are all pruned changes nothing, so
`slim_network` slices such units out of every Linear/Conv2d weight, bias and the next
layer's input columns: a forward pass costs fewer multiply-adds on any dense hardware.
Only chain networks (mlp1d, lenet300, conv2/4/6): in VGG-19 and ResNet-18 batch norm and
residual additions tie channels of several layers together, which needs a dependency graph
(Torch-Pruning; scripts/slim_vs_torch_pruning.py compares the two).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lth_core.pruning.masks import Masks, apply_
from lth_core.models.architectures import build, prunable_layers

SUPPORTED = ("mlp1d", "lenet300", "conv2", "conv4", "conv6")


@dataclass(frozen=True)
class Layer:
    """One prunable layer of a chain network, as slicing sees it."""

    name: str       # state_dict key of its weight, e.g. '3.weight'
    units: int      # output units (Linear rows, Conv2d filters)
    in_units: int   # units of the previous prunable layer (or input channels/features)
    per_pair: int   # weights joining one input unit to one output unit (3x3 conv: 9; fc after a flatten: H*W)
    shape: tuple    # the weight's shape


def _check(arch: str) -> None:
    if arch not in SUPPORTED:
        raise ValueError(f"slimming supports the chain networks {', '.join(SUPPORTED)}; {arch!r} has "
                         "batch-norm or residual dependencies between layers (use a dependency graph, "
                         "e.g. Torch-Pruning)")


def chain(arch: str) -> list[Layer]:
    """The prunable layers of `arch`, input to output; ValueError for unsupported archs."""
    _check(arch)
    model = build(arch, 0)
    params = dict(model.named_parameters())
    layers, prev = [], None
    for name in prunable_layers(model):
        w = params[name]
        in_units = w.shape[1] if prev is None or w.dim() == 4 or w.shape[1] == prev else prev
        layers.append(Layer(name, w.shape[0], in_units, w[0].numel() // in_units, tuple(w.shape)))
        prev = w.shape[0]
    return layers


def alive_units(masks: Masks, arch: str) -> dict[str, torch.Tensor]:
    """{weight name of each hidden layer: sorted int64 indices of the units that stay}.

    A unit stays unless its incoming row has no survivor (in a structured mask its outgoing
    weights go with it). The output layer is not listed (its units are the classes)."""
    layers = chain(arch)
    out = {}
    for layer, nxt in zip(layers[:-1], layers[1:]):
        m = masks[layer.name].cpu()
        incoming = m.reshape(layer.units, -1).any(dim=1)
        n_out = masks[nxt.name].shape[0]
        outgoing = masks[nxt.name].cpu().reshape(n_out, layer.units, -1).any(dim=2).any(dim=0)
        out[layer.name] = torch.nonzero(incoming | outgoing).flatten()
    return out


def structured_mask(arch: str, keep: dict[str, torch.Tensor]) -> Masks:
    """The structured mask that keeps exactly the units `keep` ({hidden layer name: indices}):
    every weight between kept (or input/output) units survives. Inverse of alive_units."""
    masks = {}
    prev = None
    for layer in chain(arch):
        rows = torch.zeros(layer.units, dtype=torch.bool)
        rows[keep[layer.name] if layer.name in keep else slice(None)] = True
        cols = torch.ones(layer.in_units, dtype=torch.bool) if prev is None else prev
        pair = rows[:, None] & cols[None, :]                           # (units, in_units)
        shape = (layer.units, layer.in_units * layer.per_pair)
        m = pair[:, :, None].expand(-1, -1, layer.per_pair).reshape(shape)
        masks[layer.name] = m.reshape(layer.shape).clone()
        prev = rows
    return masks


def units_for_percent(arch: str, percent: float) -> dict[str, int]:
    """Units to keep per hidden layer so that about `percent` % (in (0, 100]) of the prunable
    weights remain: every layer keeps the same fraction of its units (at least one), like a width multiplier."""
    layers = chain(arch)
    total = sum(l.units * l.in_units * l.per_pair for l in layers)

    def counts(q: float) -> dict[str, int]:
        return {l.name: max(1, round(q * l.units)) for l in layers[:-1]}

    def weights(keep: dict[str, int]) -> int:
        n, prev = 0, None
        for l in layers:
            units = keep.get(l.name, l.units)
            n += units * (l.in_units if prev is None else prev) * l.per_pair
            prev = units
        return n

    target = percent / 100 * total
    lo, hi = 0.0, 1.0
    for _ in range(40):  # weights(counts(q)) grows with q
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if weights(counts(mid)) < target else (lo, mid)
    return min((counts(lo), counts(hi)), key=lambda c: abs(weights(c) - target))


def _new(cls, *args, **kw) -> nn.Module:
    return torch.nn.utils.skip_init(cls, *args, **kw)  # no random init: every value is copied in


def slim_network(arch: str, state_dict: dict, masks: Masks) -> nn.Module:
    """The dense network without its removed units (eval mode, on the CPU); pruned weights inside
    surviving units are zeroed, so it computes exactly what the masked network does."""
    model = build(arch, 0)
    model.load_state_dict({k: v.detach().cpu() for k, v in state_dict.items()})
    apply_(model, masks)
    keep = alive_units(masks, arch)
    in_idx, in_channels = None, None  # kept input units of the next prunable layer (None: all)
    out = []
    with torch.no_grad():
        for name, m in model.named_children():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                idx = keep.get(f"{name}.weight", torch.arange(m.weight.shape[0]))
                w = m.weight[idx]
                if in_idx is not None and isinstance(m, nn.Linear) and m.in_features != in_channels:
                    hw = m.in_features // in_channels  # flatten of (C, H, W) is channel-major
                    cols = (in_idx[:, None] * hw + torch.arange(hw)[None, :]).flatten()
                    w = w[:, cols]
                elif in_idx is not None:
                    w = w[:, in_idx]
                if isinstance(m, nn.Conv2d):
                    new = _new(nn.Conv2d, w.shape[1], w.shape[0], m.kernel_size, m.stride, m.padding,
                               bias=m.bias is not None)
                else:
                    new = _new(nn.Linear, w.shape[1], w.shape[0], bias=m.bias is not None)
                new.weight.copy_(w)
                if m.bias is not None:
                    new.bias.copy_(m.bias[idx])
                in_idx, in_channels = idx, m.weight.shape[0]
                out.append(new)
            else:
                out.append(m)
    return nn.Sequential(*out).eval()


def n_params(model: nn.Module) -> int:
    """Number of parameters (weights and biases) of a module."""
    return sum(p.numel() for p in model.parameters())
