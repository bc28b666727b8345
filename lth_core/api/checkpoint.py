"""A ticket as a checkpoint folder that plain torch can load (no lth_core needed).

    <out>/ticket.safetensors   theta0/<key>  the weights the ticket starts from, pruned entries exactly 0
                               mask/<key>    bool, True where a weight survives (prunable weights only)
                               trained/<key> the weights after training, masked (absent if the run kept none)
    <out>/ticket.json          metadata: format, run id, config, level, trial, % remaining, accuracy,
                               and the architecture as a list of torch.nn layers (null when the network
                               is not a plain nn.Sequential of known layers: load into your own module)
    <out>/load_ticket.py       the loader (lth_core/api/load_ticket.py), a copy that needs torch and safetensors

Keys are the network's state_dict keys, unchanged. The architecture is described, not pickled or
traced: the loader rebuilds it from torch.nn classes by name, so nothing executes code from the file.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from safetensors.torch import save as st_save
from torch import nn

import lth_core.api.load_ticket as load_ticket

FORMAT = load_ticket.FORMAT
TENSORS, METADATA = load_ticket.TENSORS, load_ticket.METADATA

# The constructor arguments of each layer type the loader can rebuild (exact types only: a subclass may
# behave differently, so it makes the whole network "not described").
_ARGS = {
    nn.Linear: lambda m: {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None},
    nn.Conv2d: lambda m: {"in_channels": m.in_channels, "out_channels": m.out_channels,
                          "kernel_size": list(m.kernel_size), "stride": list(m.stride),
                          "padding": m.padding if isinstance(m.padding, str) else list(m.padding),
                          "dilation": list(m.dilation), "groups": m.groups, "bias": m.bias is not None},
    nn.BatchNorm2d: lambda m: {"num_features": m.num_features, "eps": m.eps, "momentum": m.momentum,
                               "affine": m.affine, "track_running_stats": m.track_running_stats},
    nn.MaxPool2d: lambda m: {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding},
    nn.AvgPool2d: lambda m: {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding},
    nn.AdaptiveAvgPool2d: lambda m: {"output_size": m.output_size},
    nn.Flatten: lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim},
    nn.ReLU: lambda m: {}, nn.Tanh: lambda m: {}, nn.Identity: lambda m: {},
    nn.Dropout: lambda m: {"p": m.p},
}


def describe(network: nn.Module) -> list[dict] | None:
    """The network as [{'type': torch.nn class name, 'args': {...}}, ...] in order, or None when it is
    not an nn.Sequential made only of the layer types in _ARGS."""
    if type(network) is not nn.Sequential:
        return None
    layers = []
    for m in network:
        if type(m) not in _ARGS:
            return None
        layers.append({"type": type(m).__name__, "args": _ARGS[type(m)](m)})
    return layers


def save(ticket, out: Path) -> Path:
    """Write `ticket` (lth_core.api.ticket.Ticket) into the folder `out` (made if absent); returns it."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; give a folder for the ticket")
    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"theta0/{k}": v.detach().cpu().contiguous() for k, v in ticket.init_state.items()}
    tensors.update({f"mask/{k}": m.detach().cpu().bool().contiguous() for k, m in ticket.masks.items()})
    if ticket.trained_state is not None:
        tensors.update({f"trained/{k}": v.detach().cpu().contiguous() for k, v in ticket.trained_state.items()})
    (out / TENSORS).write_bytes(st_save(tensors, metadata={"format": FORMAT}))  # plain file modes, to share
    meta = {"format": FORMAT, **ticket.metadata, "architecture": describe(ticket.network)}
    (out / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True))
    shutil.copyfile(load_ticket.__file__, out / "load_ticket.py")
    return out
