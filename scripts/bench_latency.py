"""Inference latency of a ticket in four forms, against % weights remaining (issue 14, part 1).

At each level of the paper's IMP ladder for an architecture (its preset's per-layer rates,
every --rounds), four networks are timed on random inputs of the architecture's shape:

- dense:       the unpruned network (timed again at every level, interleaved with the others);
- masked:      the unstructured ticket as it is trained here, zeros in dense weight tensors;
- sparse_csr:  the same ticket stored as torch CSR tensors (lth_core.analysis.latency.sparse_network:
               Linear as W_csr @ x^T, Conv2d as im2col + W_csr @ columns);
- structured:  the physically smaller dense network (lth_core.models.slim) that keeps the same %
               of weights by removing whole units: one fraction of every hidden layer's units.

Masks are random with the ticket's exact per-layer survivor counts: latency depends on how
many weights survive in each layer (and, for the sparse form, where), not on their values.

    python scripts/bench_latency.py run       # writes docs/bench/latency_cpu.json (--out to change)
    python scripts/bench_latency.py doc --json docs/bench/latency_cpu.json \
        --torch-pruning docs/beyond/slim_vs_torch_pruning.json --out docs/beyond/structured_speed.md
"""
from __future__ import annotations

import argparse
import datetime
import inspect
import json
import os
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lth_core.charts.latency import SAME, latency_frame, latency_text  # noqa: E402
from lth_core.analysis.latency import masked_network, sparse_network, time_group  # noqa: E402
from lth_core.pruning.masks import Masks  # noqa: E402
from lth_core.models.architectures import build, layer_sizes  # noqa: E402
from lth_core.presets import base_preset, get_preset  # noqa: E402
from lth_core.pruning.magnitude import counts_after, random_like  # noqa: E402
from lth_core.registry import get_arch_info  # noqa: E402
from lth_core.models.slim import n_params, slim_network, structured_mask, units_for_percent  # noqa: E402
from lth_core.lottery.tasks import resolve_device  # noqa: E402

KINDS = ("dense", "masked", "sparse_csr", "structured")


def ticket_masks(arch: str, rounds: int, seed: int) -> Masks:
    """A random unstructured mask with the per-layer survivor counts of the paper's IMP after `rounds`."""
    sizes = {n: s for n, (_, s) in layer_sizes(arch).items()}
    kinds = {n: k for n, (k, _) in layer_sizes(arch).items()}
    keep = counts_after(sizes, kinds, get_preset(base_preset(arch=arch)).pruning, rounds)
    params = dict(build(arch, 0).named_parameters())
    first = {n: (torch.arange(params[n].numel()) < keep[n]).reshape(params[n].shape) for n in sizes}
    return random_like(first, torch.Generator().manual_seed(seed))


def percent(masks: Masks) -> float:
    """% of prunable weights that survive."""
    return 100.0 * sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values())


def level_networks(arch: str, model: torch.nn.Module, rounds: int, seed: int) -> dict[str, tuple]:
    """{kind: (network, % weights remaining, nonzero prunable weights)} at the IMP level after `rounds`."""
    masks = ticket_masks(arch, rounds, seed)
    pct, nonzero = percent(masks), sum(int(m.sum()) for m in masks.values())
    units = units_for_percent(arch, pct)
    smask = structured_mask(arch, {n: torch.arange(k) for n, k in units.items()})
    return {"dense": (model, 100.0, sum(m.numel() for m in masks.values())),
            "masked": (masked_network(model, masks), pct, nonzero),
            "sparse_csr": (sparse_network(model, masks), pct, nonzero),
            "structured": (slim_network(arch, model.state_dict(), smask), percent(smask),
                           sum(int(m.sum()) for m in smask.values()))}


def bench_arch(arch: str, rounds: list[int], batches: list[int], *, repeats: int, warmup: int,
               threads: int, device: str, seed: int, budget_s: float | None = None, log=print) -> list[dict]:
    """One record per (batch, level, kind): its Timing, % remaining and parameter counts.

    The four kinds of a level are timed interleaved (lth_core.analysis.latency.time_group), the dense
    network with them, so that each level's ratios to dense come from the same minutes."""
    model = build(arch, seed)
    shape = get_arch_info(arch).input_shapes[0]
    records = []
    for batch in batches:
        x = torch.randn((batch, *shape), generator=torch.Generator().manual_seed(seed))
        for r in rounds:
            nets = level_networks(arch, model, r, seed)
            timings = time_group({k: n for k, (n, _, _) in nets.items()}, x, repeats=repeats, warmup=warmup,
                                 threads=threads, device=device, budget_s=budget_s)
            for kind, (net, pct, nonzero) in nets.items():
                t = timings[kind]
                records.append({"arch": arch, "kind": kind, "round": r, "percent": pct, "params": n_params(net),
                                "nonzero_weights": nonzero, **t.to_dict()})
                log(f"{arch} b={batch} r={r:<2} {kind:<10} {pct:6.2f}%  {1e3 * t.median_s:9.3f} ms "
                    f"[{1e3 * t.min_s:.3f}, {1e3 * t.max_s:.3f}]")
    return records


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(args) -> dict:
    device = resolve_device(args.device)
    meta = {"date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "device": device, "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
            "cpu": _cpu_name(), "cores": os.cpu_count(), "threads": args.threads, "torch": torch.__version__,
            "python": platform.python_version(), "repeats": args.repeats, "warmup": args.warmup,
            "rounds": args.rounds, "batches": args.batches, "seed": args.seed, "archs": args.archs,
            "budget_s": args.budget_s,
            "load_average_1min_at_start": os.getloadavg()[0],
            "command": "python scripts/bench_latency.py " + " ".join(sys.argv[1:])}
    result = {"runs": [], "records": []}
    if args.append and args.out and args.out.exists():
        result = json.loads(args.out.read_text())
        result["records"] = [r for r in result["records"] if r["arch"] not in args.archs]
    for arch in args.archs:
        result["records"] += bench_arch(arch, args.rounds, args.batches, repeats=args.repeats, warmup=args.warmup,
                                        threads=args.threads, device=device, seed=args.seed, budget_s=args.budget_s)
    meta["load_average_1min_at_end"] = os.getloadavg()[0]
    result["runs"] = [m for m in result["runs"] if not set(m["archs"]) & set(args.archs)] + [meta]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def _ms(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _cell(rec: dict) -> str:
    """'median [q1-q3]' in ms, with the ratio dense / this beside non-dense forms."""
    text = f"{_ms(rec['median_ms'])} [{_ms(rec['q1_ms'])}-{_ms(rec['q3_ms'])}]"
    return text if rec["kind"] == "dense" else f"{text} ({rec['speedup']:.2f}x)"


def latency_tables(records) -> str:
    """Markdown: one table per (arch, batch), ms per batch, median [quartiles] (dense / form)."""
    d = latency_frame(records)
    out = []
    groups = [(a, b) for a in dict.fromkeys(r["arch"] for r in records)   # in the order measured
              for b in sorted({r["batch"] for r in records if r["arch"] == a})]
    for arch, batch in groups:
        g = d[(d.arch == arch) & (d.batch == batch)]
        reps = sorted({int(r) for r in g.repeats})
        n_reps = f"{reps[0]}-{reps[-1]}" if len(reps) > 1 else str(reps[0])
        out += [f"**{arch}, batch {batch}** (ms per batch: median [quartiles] over {n_reps} repeats; "
                "in brackets after it: dense time / this time, above 1 is faster)", "",
                "| weights remaining | dense | unstructured, masked | unstructured, sparse CSR "
                "| structured: weights remaining | structured |", "|---|---|---|---|---|---|"]
        for _, lvl in g.groupby("round"):
            rec = {r["kind"]: r for r in lvl.to_dict("records")}
            out.append(f"| {rec['masked']['percent']:.3g}% | {_cell(rec['dense'])} | {_cell(rec['masked'])} "
                       f"| {_cell(rec['sparse_csr'])} | {rec['structured']['percent']:.3g}% "
                       f"| {_cell(rec['structured'])} |")
        out += ["", latency_text(records, arch, batch), ""]
    return "\n".join(out)


def spread_note(records, runs) -> str:
    """The noise in words: widest quartile range relative to the median, and the load averages."""
    d = latency_frame(records)
    d["rel_iqr"] = (d.q3_s - d.q1_s) / d.median_s
    w = d.loc[d.rel_iqr.idxmax()]
    loads = ", ".join(f"{'/'.join(m['archs'])}: {m['load_average_1min_at_start']:.1f} at the start, "
                      f"{m['load_average_1min_at_end']:.1f} at the end" for m in runs)
    busy = [a for m in runs if max(m["load_average_1min_at_start"], m["load_average_1min_at_end"]) > 2 * m["cores"]
            for a in m["archs"]]
    rough = (f" The load exceeded twice the core count in the runs of {', '.join(busy)}: read their ratios as "
             "rough (the forms of a level were timed interleaved, so a burst slows all of them, but not equally) "
             "and re-run the commands below on a quiet machine for firmer numbers." if busy else "")
    return (f"The machine was shared while this ran (1-minute load average on {runs[0]['cores']} cores, read at "
            f"the start and end of each run: {loads}). "
            f"The quartile range is at most {100 * w.rel_iqr:.0f}% of the median "
            f"({w.arch}, {w.kind}, batch {w.batch}, {w.percent:.3g}%); its median over all points is "
            f"{100 * d.rel_iqr.median():.0f}%. Ratios within {100 * SAME:.0f}% of 1, or whose quartile ranges "
            "overlap the dense network's, are called about as fast as dense." + rough)


def torch_pruning_section(tp: dict, slim_lines: int) -> str:
    """The slicing vs Torch-Pruning comparison and the decision, from scripts/slim_vs_torch_pruning.py's JSON."""
    rows = ["| arch | weights remaining | parameters: dense / slicing / Torch-Pruning | same shapes "
            "| outputs identical (max abs diff) | build ms: slicing / Torch-Pruning |", "|---|---|---|---|---|---|"]
    for a in tp["archs"]:
        p, b = a["params"], a["build_s"]
        rows.append(f"| {a['arch']} | {a['percent_remaining']:.3g}% | {p['dense']:,} / {p['slicing']:,} / "
                    f"{p['torch_pruning']:,} | {'yes' if a['same_shapes'] else 'NO'} | "
                    f"{'yes' if a['outputs_identical'] else 'no'} "
                    f"({a['max_abs_diff_slicing_vs_torch_pruning']:.2g}) | "
                    f"{1e3 * b['slicing']['median_s']:.3g} / {1e3 * b['torch_pruning']['median_s']:.3g} |")
    agree = all(a["same_shapes"] and a["params"]["slicing"] == a["params"]["torch_pruning"] for a in tp["archs"])
    g = tp["resnet18_stem_group"]
    faster = [a["arch"] for a in tp["archs"]
              if a["build_s"]["slicing"]["median_s"] < a["build_s"]["torch_pruning"]["median_s"]]
    speed = (f"slicing built faster for {', '.join(faster)}" if faster else "Torch-Pruning built faster everywhere")
    lines = "\n".join(rows)
    return (f"{lines}\n\n"
            f"Both ways give {'the same' if agree else 'DIFFERENT'} layer shapes and parameter counts, and outputs "
            f"that differ from the masked network by at most "
            f"{max(a['max_abs_diff_slicing_vs_masked'] for a in tp['archs']):.2g} (float summation order). "
            f"Build times are milliseconds either way ({speed}; medians of "
            f"{tp['archs'][0]['build_s']['slicing']['repeats']}), so speed does not decide.\n\n"
            "**Decision: plain slicing (lth_core.models.slim).** For the chain networks these structured tickets come "
            "from (mlp1d, lenet300, conv2/4/6) the dependency between layers is only 'unit i of this layer is "
            "input i of the next' (and, after the flatten, the H*W columns of channel i), which slicing handles "
            f"exactly in one module of {slim_lines} lines with no new dependency, and which the tests check "
            "against the masked network's outputs. Torch-Pruning (kept optional, not in requirements.txt; tested "
            f"with {tp['torch_pruning']}) earns its place for residual and batch-norm networks: in resnet18, "
            f"removing {g['removed_channels']} of the stem conv's {g['stem_channels']} channels drags along "
            f"{g['coupled_layers']} layers through the residual additions ({', '.join(g['layers'])}); "
            "slim_network refuses vgg19 and resnet18 with a ValueError that says so.")


def _lines(path: str) -> int:
    return len((Path(__file__).resolve().parents[1] / path).read_text().splitlines())


def _rates(records) -> str:
    """Each architecture's preset rates in words, checked against the % remaining the records were timed at."""
    out = []
    for arch in dict.fromkeys(r["arch"] for r in records):
        cfg = get_preset(base_preset(arch=arch)).pruning
        for r in records:
            if r["arch"] == arch and r["kind"] == "masked" and abs(percent(ticket_masks(arch, r["round"], 0))
                                                                   - r["percent"]) > 1e-9:
                raise ValueError(f"{arch}: the preset's pruning rates changed since the measurement; re-run it")
        kinds = {k for k, _ in layer_sizes(arch).values()}
        named = [f"conv {100 * cfg.conv_rate:g}%"] if "conv" in kinds else []
        out.append(f"{arch} " + ", ".join(named + [f"fc {100 * cfg.rate:g}%", f"output {100 * cfg.output_rate:g}%"]))
    return "; ".join(out)


def write_doc(latency_json: Path, tp_json: Path, out: Path) -> str:
    """docs/beyond/structured_speed.md from the two JSON files; every number in it comes from them."""
    data, tp = json.loads(latency_json.read_text()), json.loads(tp_json.read_text())
    runs, records = data["runs"], data["records"]
    m = runs[0]
    cuda = [r for r in runs if r["device"] == "cuda"]
    gpu = (f"GPU: {', '.join(r['gpu'] for r in cuda)}." if cuda else
           "No CUDA GPU was available for this measurement, so only CPU numbers are reported; the code "
           "takes `--device cuda` (time_group synchronises the device before reading the clock).")
    archs = list(dict.fromkeys(r["arch"] for r in records))
    text = DOC.format(
        rates=_rates(records), rounds=", ".join(str(r) for r in sorted({r["round"] for r in records})),
        shapes="; ".join(f"{a}: {'x'.join(map(str, get_arch_info(a).input_shapes[0]))}" for a in archs),
        min_ms=1e3 * inspect.signature(time_group).parameters["min_repeat_s"].default,
        cpu=m["cpu"], cores=m["cores"], threads=", ".join(sorted({str(r["threads"]) for r in runs})),
        torch=m["torch"], python=m["python"], dates=", ".join(r["date_utc"] for r in runs), gpu=gpu,
        tables=latency_tables(records), spread=spread_note(records, runs),
        torch_pruning=torch_pruning_section(tp, _lines("lth_core/models/slim.py")), tp_threads=tp["threads"],
        commands="\n".join(r["command"] for r in runs),
        tp_command="python scripts/slim_vs_torch_pruning.py --out docs/beyond/slim_vs_torch_pruning.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


DOC = """<!-- generated by `python scripts/bench_latency.py doc` from docs/bench/latency_cpu.json and
docs/beyond/slim_vs_torch_pruning.json; edit the template in scripts/bench_latency.py, not this file -->
## Structured pruning: the physical network, and what it buys on real hardware

**What the literature says.** An unstructured ticket keeps its pruned weights as zeros inside dense
tensors, and dense hardware multiplies zeros as fast as any other number, so it runs no faster; sparse
formats pay off only at high sparsity. Removing whole units (neurons, conv filters; Li et al. 2017)
leaves a smaller dense network that is faster on any hardware.

**What was timed.** Inference (torch.inference_mode) of one batch, in four forms, at the levels of the
paper's IMP ladder for each architecture (its preset's per-round rates: {rates}; after rounds {rounds}):

- *dense*: the unpruned network, timed again beside every level;
- *unstructured, masked*: the ticket as this project trains it, zeros in dense weights;
- *unstructured, sparse CSR*: the same ticket with every prunable weight stored as a torch CSR tensor
  (`lth_core.analysis.latency.sparse_network`): Linear layers compute `W_csr @ x^T`; torch has no sparse
  convolution, so a conv unfolds its input (im2col, `F.unfold`) and computes `W_csr @ columns`.
  COO tensors were slower still in an exploratory run that is not part of this record;
- *structured*: the physically smaller dense network (`lth_core.models.slim.slim_network`) that keeps about
  the same % of weights by keeping the same fraction of every hidden layer's units
  (`lth_core.models.slim.units_for_percent`); its own % is in the table.

Masks are random with exactly the ticket's survivor count in every layer: latency depends on how many
weights survive per layer (and, for CSR, on their positions), not on their trained values, so no training
is needed. Inputs are random tensors of the architecture's input shape ({shapes}). Each level's four
forms are timed interleaved (`lth_core.analysis.latency.time_group`): warm-up calls, then repeats in a rotating
order, each repeat long enough to be timed (at least {min_ms:g} ms, or one call), median reported with
the quartiles. CPU: {cpu}, {cores} cores, torch {torch}, Python {python},
torch threads: {threads} (set explicitly). Measured {dates}. {gpu}

### Results

{tables}

{spread}

### The physical network: plain slicing or Torch-Pruning

`lth_core.models.slim.slim_network(arch, state_dict, masks)` removes every unit whose incoming and outgoing
weights are all pruned (for a structured mask: every pruned unit), slicing Linear/Conv2d weights, biases
and the next layer's input columns. The tests (tests/test_slim.py) check, for every supported architecture
with random structured masks, that its outputs equal the masked network's, and that its parameter count
is the surviving weights plus the surviving units' biases. Against Torch-Pruning's DependencyGraph removing
the same units, on structured tickets (random units, random non-zero biases; timing from state dict and
mask to the smaller network, {tp_threads} torch thread):

{torch_pruning}

### Commands

```
pip install torch-pruning==1.6.1   # optional, only for the comparison
{tp_command}
{commands}
python scripts/bench_latency.py doc
```

### Left out

- GPU timings (no GPU in this task); VGG-19 and ResNet-18 (slicing refuses them; see above).
- Structured tickets' accuracy: the masks here are random (latency only). Whether structured tickets
  train as well as re-init is the granularity experiment's question, not this one.
"""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure and write the JSON")
    r.add_argument("--archs", nargs="+", default=["lenet300", "conv4"])
    r.add_argument("--rounds", nargs="+", type=int, default=[0, 3, 6, 9, 12, 15, 18],
                   help="IMP rounds (the paper's per-layer rates for the arch) whose sparsity is timed")
    r.add_argument("--batches", nargs="+", type=int, default=[1, 256])
    r.add_argument("--repeats", type=int, default=7, help="timed repeats per point (median reported)")
    r.add_argument("--warmup", type=int, default=2)
    r.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    r.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--budget-s", type=float, default=None,
                   help="fewer repeats (at least 3) where a level's repeats would take longer than this")
    r.add_argument("--out", type=Path, default=Path("docs/bench/latency_cpu.json"))
    r.add_argument("--append", action="store_true",
                   help="keep the other architectures' records already in --out (re-measure only --archs)")
    d = sub.add_parser("doc", help="write the markdown section from the JSON files")
    d.add_argument("--json", type=Path, default=Path("docs/bench/latency_cpu.json"))
    d.add_argument("--torch-pruning", type=Path, default=Path("docs/beyond/slim_vs_torch_pruning.json"))
    d.add_argument("--out", type=Path, default=Path("docs/beyond/structured_speed.md"))
    args = ap.parse_args(argv)
    if args.cmd == "run":
        run(args)
    else:
        write_doc(args.json, args.torch_pruning, args.out)


if __name__ == "__main__":
    main()
