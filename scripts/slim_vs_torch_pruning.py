"""Plain slicing (lth_core.models.slim) against Torch-Pruning's DependencyGraph, on the same structured tickets.

For lenet300 and conv4, a structured ticket (random units removed per hidden layer, at the
counts lth_core.models.slim.units_for_percent gives for --percent; Glorot weights and random
non-zero biases) is made physically smaller both ways. The script checks that the two give
the same layer shapes, parameter counts and outputs (and the masked network's outputs), and
times building each (median of --repeats, from (state dict, mask) to the smaller network).
It also asks Torch-Pruning which layers removing the stem's channels drags along in
resnet18, the case plain slicing refuses.

Torch-Pruning is optional (pip install torch-pruning==1.6.1); it is not in requirements.txt.

    python scripts/slim_vs_torch_pruning.py --out docs/beyond/slim_vs_torch_pruning.json
"""
from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

import torch
import torch_pruning as tp
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lth_core.pruning.masks import apply_  # noqa: E402
from lth_core.models.architectures import build  # noqa: E402
from lth_core.registry import get_arch_info  # noqa: E402
from lth_core.models.slim import alive_units, chain, n_params, slim_network, structured_mask, units_for_percent  # noqa: E402


def structured_ticket(arch: str, percent: float, seed: int):
    """(state dict, structured mask): random kept units at the counts for `percent`, random biases."""
    g = torch.Generator().manual_seed(seed)
    keep = {n: torch.randperm(l, generator=g)[:k].sort().values
            for (n, k), l in zip(units_for_percent(arch, percent).items(), (x.units for x in chain(arch)))}
    state = {k: (torch.randn(v.shape, generator=g) * 0.1 if k.endswith("bias") else v)
             for k, v in build(arch, seed).state_dict().items()}
    return state, structured_mask(arch, keep)


def masked_model(arch: str, state: dict, masks: dict) -> nn.Module:
    model = build(arch, 0)
    model.load_state_dict(state)
    return apply_(model, masks).eval()


def torch_pruning_slim(arch: str, masked: nn.Module, masks: dict) -> nn.Module:
    """Remove the same units with Torch-Pruning: one dependency group per hidden layer."""
    model = copy.deepcopy(masked)
    x = torch.randn((1, *get_arch_info(arch).input_shapes[0]))
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=x)
    modules = dict(model.named_modules())
    for name, alive in alive_units(masks, arch).items():
        layer = modules[name.rsplit(".", 1)[0]]
        # indices are of the layer as it is now; earlier layers' removals do not shift its own outputs
        dead = sorted(set(range(layer.weight.shape[0])) - set(alive.tolist()))
        fn = tp.prune_conv_out_channels if isinstance(layer, nn.Conv2d) else tp.prune_linear_out_channels
        if dead:
            graph.get_pruning_group(layer, fn, idxs=dead).prune()
    return model


def median_s(fn, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "repeats": repeats}


def shapes(model: nn.Module) -> list:
    return [list(p.shape) for p in model.parameters()]


def compare(arch: str, percent: float, repeats: int, seed: int) -> dict:
    state, masks = structured_ticket(arch, percent, seed)
    masked = masked_model(arch, state, masks)
    x = torch.randn((64, *get_arch_info(arch).input_shapes[0]), generator=torch.Generator().manual_seed(seed))
    sliced, pruned = slim_network(arch, state, masks), torch_pruning_slim(arch, masked, masks)
    with torch.inference_mode():
        y_mask, y_slice, y_tp = masked(x), sliced(x), pruned.eval()(x)
    kept = sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values())
    return {"arch": arch, "percent_remaining": 100 * kept,
            "units_kept": {n: len(v) for n, v in alive_units(masks, arch).items()},
            "params": {"dense": n_params(masked), "slicing": n_params(sliced), "torch_pruning": n_params(pruned)},
            "same_shapes": shapes(sliced) == shapes(pruned),
            "outputs_identical": bool(torch.equal(y_slice, y_tp)),
            "max_abs_diff_slicing_vs_torch_pruning": float((y_slice - y_tp).abs().max()),
            "max_abs_diff_slicing_vs_masked": float((y_slice - y_mask).abs().max()),
            "build_s": {"slicing": median_s(lambda: slim_network(arch, state, masks), repeats),
                        "torch_pruning": median_s(lambda: torch_pruning_slim(
                            arch, masked_model(arch, state, masks), masks), repeats)}}


def resnet_group() -> dict:
    """What removing 4 of the stem conv's 16 channels drags along in resnet18 (residual additions)."""
    model = build("resnet18", 0).eval()
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=torch.randn(1, 3, 32, 32))
    removed = [0, 1, 2, 3]
    group = graph.get_pruning_group(model.conv, tp.prune_conv_out_channels, idxs=removed)
    layers = sorted({dep.target.name.split(" ")[0] for dep, _ in group
                     if isinstance(dep.target.module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))})
    return {"removed_channels": len(removed), "stem_channels": model.conv.out_channels,
            "coupled_layers": len(layers), "layers": layers}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--percent", type=float, default=26.0, help="%% of weights the structured tickets keep")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    result = {"torch": torch.__version__, "torch_pruning": metadata.version("torch-pruning"),
              "python": platform.python_version(), "threads": 1,
              "archs": [compare(a, args.percent, args.repeats, args.seed) for a in ("lenet300", "conv4")],
              "resnet18_stem_group": resnet_group()}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
