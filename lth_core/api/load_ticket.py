"""Load a lottery ticket exported by the Lottery Ticket Explorer with plain torch and safetensors.

This file imports nothing of lth_core: every exported ticket folder carries a copy of it.

    from load_ticket import load_ticket
    t = load_ticket("ticket-folder")
    net = t.model()               # the ticket: mask applied to θ₀, ready to train (see mask_gradients)
    net = t.model(trained=True)   # the ticket after the run trained it
    t.mask, t.theta0, t.trained, t.metadata   # {state_dict key: tensor} and the JSON metadata

A network that is not a plain nn.Sequential of common layers (ResNet-18, your own module class)
has no description in the metadata: build it yourself and call t.load_into(your_module).
`python load_ticket.py <folder>` prints what the folder holds and checks it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

FORMAT = "lth-ticket/1"
TENSORS, METADATA = "ticket.safetensors", "ticket.json"
LAYERS = ("Linear", "Conv2d", "BatchNorm2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "ReLU",
          "Tanh", "Identity", "Dropout")  # the torch.nn classes a description may name


class TicketFile:
    """An exported ticket: theta0 (masked initial weights), mask, trained (or None), metadata."""

    def __init__(self, theta0: dict, mask: dict, trained: dict | None, metadata: dict):
        self.theta0, self.mask, self.trained, self.metadata = theta0, mask, trained, metadata

    def build(self) -> nn.Module:
        """The untrained architecture, rebuilt from torch.nn classes by name (no code is loaded)."""
        spec = self.metadata.get("architecture")
        if spec is None:
            raise ValueError(f"this ticket's network ({self.metadata.get('arch')}) is not a plain nn.Sequential; "
                             "build it with your own code and call load_into(module)")
        bad = [layer["type"] for layer in spec if layer["type"] not in LAYERS]
        if bad:
            raise ValueError(f"unknown layer type {bad[0]!r}; allowed: {', '.join(LAYERS)}")
        return nn.Sequential(*(getattr(nn, layer["type"])(**layer["args"]) for layer in spec))

    def load_into(self, module: nn.Module, trained: bool = False) -> nn.Module:
        """Load the ticket's weights (trained: after training) into `module`, whose state_dict keys must
        be the ticket's; the pruned weights are zero. Returns the module in eval mode."""
        if trained and self.trained is None:
            raise ValueError("this ticket was exported without trained weights")
        module.load_state_dict(self.trained if trained else self.theta0, strict=True)
        params = dict(module.named_parameters())
        with torch.no_grad():
            for name, m in self.mask.items():
                params[name].mul_(m.to(params[name].dtype))
        return module.eval()

    def model(self, trained: bool = False) -> nn.Module:
        """The ticket as a network: the described architecture with the weights loaded."""
        return self.load_into(self.build(), trained)

    def mask_gradients(self, module: nn.Module) -> nn.Module:
        """Keep pruned weights at zero while you train `module`: each gradient is multiplied by the mask.
        (Weight decay or momentum from earlier steps can still move them; re-apply the mask if you use them.)"""
        params = dict(module.named_parameters())
        for name, m in self.mask.items():
            params[name].register_hook(lambda g, m=m: g * m.to(g.device, g.dtype))
        return module


def load_ticket(folder) -> TicketFile:
    """Read an exported ticket folder (ticket.safetensors + ticket.json)."""
    folder = Path(folder)
    meta = json.loads((folder / METADATA).read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{folder / METADATA}: format {meta.get('format')!r}, this loader reads {FORMAT!r}")
    tensors = load_file(str(folder / TENSORS))
    parts = {kind: {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith(kind + "/")}
             for kind in ("theta0", "mask", "trained")}
    return TicketFile(parts["theta0"], parts["mask"], parts["trained"] or None, meta)


if __name__ == "__main__":
    t = load_ticket(sys.argv[1] if len(sys.argv) > 1 else ".")
    alive = sum(int(m.sum()) for m in t.mask.values())
    total = sum(m.numel() for m in t.mask.values())
    zero = all(bool((t.theta0[k][~m] == 0).all()) for k, m in t.mask.items())
    print(f"run {t.metadata['run_id']}, level {t.metadata['level']}, trial {t.metadata['trial']}: "
          f"{alive:,} of {total:,} prunable weights survive ({100 * alive / total:.3g}%); "
          f"pruned weights zero: {zero}; trained weights: {'yes' if t.trained is not None else 'no'}; "
          f"test accuracy at early stop: {t.metadata.get('accuracy', {}).get('test_acc_at_early_stop')}")
