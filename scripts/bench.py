"""`python scripts/bench.py`: the engine against the plain-PyTorch limit and a DataLoader pipeline.

Reference workload: LeNet-300-100 on Fashion-MNIST (55,000 train / 5,000
validation), batch 60, Adam 1.2e-3, 3 levels (dense + 2 rounds at 20%, output
10%), `--iterations` per level, validation and test every 100 iterations.

Parts, each repeated `--repeats` times, interleaved (medians reported; the whole-process parts and
the scheduler's trials are in scripts/bench_process.py):
- engine:     lth_core.lottery.state.run, everything included (store, masks, progress);
- plain:      a minimal loop over in-memory tensors, masks multiplied in after each step;
- dataloader: torchvision's per-sample PIL -> ToTensor pipeline through a DataLoader;
- parallel:   6 networks (ticket + random re-init x 3 trials) of one level, trained one
              after another, stacked, and on worker processes (scripts/bench_parallel.py).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_parallel  # noqa: E402  (this script's siblings in scripts/)
import bench_process  # noqa: E402
from bench_workload import EVAL_EVERY, reference_config  # noqa: E402
from lth_core.config import ConfigError, TrainingConfig  # noqa: E402
from lth_core.data.datasets import DEBIAN_FASHION_MNIST, DEFAULT_DATA_DIR, IDX_FILES, _find_idx, load  # noqa: E402
from lth_core.execution.driver import run  # noqa: E402
from lth_core.pruning.masks import apply_, ones_like  # noqa: E402
from lth_core.models.architectures import build, prunable_layers  # noqa: E402
from lth_core.pruning.rounds import prune  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402
from lth_core.lottery.tasks import default_processes, get_data, resolve_device, sync  # noqa: E402
from lth_core.training.loop import evaluate, make_optimizer, splits  # noqa: E402

def time_engine(iterations: int, device: str, data_dir) -> float:
    """Wall seconds of a full engine run into a fresh store (data already in memory), with the
    engine's default executor: one network per level, so each trains here, no worker processes."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run(reference_config(iterations, device), Store(tmp), data_dir=data_dir)
        return time.perf_counter() - t


def _fresh_lenet(device: str):
    """LeNet-300-100 at seed 0, its theta_0, prunable layer kinds and an all-ones mask."""
    model = build("lenet300", seed=0).to(device)
    theta0 = {k: v.clone() for k, v in model.state_dict().items()}
    kinds = prunable_layers(model)
    return model, theta0, kinds, ones_like(model, kinds)


def _reset_level(model, theta0, masks, device: str, training: TrainingConfig):
    """Rewind to theta_0 under the mask; returns (param, float mask) pairs and a fresh optimizer."""
    model.load_state_dict(theta0)
    apply_(model, masks)
    params = dict(model.named_parameters())
    dev_masks = [(params[k], m.to(device, torch.float32)) for k, m in masks.items()]
    return dev_masks, make_optimizer(model.parameters(), training)


def _masked_step(model, opt, dev_masks, x, y) -> None:
    """One optimizer step, then the masks multiplied into the weights (the plain way)."""
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        for p, m in dev_masks:
            p.mul_(m)


def time_plain(iterations: int, device: str, data_dir) -> float:
    """Wall seconds of the same work in the plainest loop: the reference limit."""
    data = get_data("fashion-mnist", data_dir, device)
    cfg = reference_config(iterations, device)
    t = time.perf_counter()
    model, theta0, kinds, masks = _fresh_lenet(device)
    gen = torch.Generator().manual_seed(0)
    n = len(data.x_train)
    for level in range(3):
        dev_masks, opt = _reset_level(model, theta0, masks, device, cfg.training)
        order, pos = torch.randperm(n, generator=gen).to(device), 0
        for it in range(iterations):
            if pos + 60 > n:
                order, pos = torch.randperm(n, generator=gen).to(device), 0
            idx = order[pos:pos + 60]
            pos += 60
            _masked_step(model, opt, dev_masks, data.x_train[idx], data.y_train[idx])
            if (it + 1) % EVAL_EVERY == 0:
                model.eval()  # the engine's evaluation (splits and chunk size): the same arithmetic
                sums = [evaluate(model, x, y) for x, y in splits(data)]  # validation, test, training subset
                model.train()
                torch.stack([torch.stack([loss.float(), correct.float()]) for loss, correct in sums]).tolist()
        if level < 2:
            masks = prune(model.state_dict(), masks, kinds, cfg.pruning)
    sync(device)
    return time.perf_counter() - t


def _torchvision_root(tmp: Path) -> Path:
    """Fashion-MNIST laid out as torchvision expects (raw, unzipped idx files)."""
    src = _find_idx(DEFAULT_DATA_DIR / "fashion-mnist") or _find_idx(DEBIAN_FASHION_MNIST)
    raw = tmp / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for key, stem in IDX_FILES.items():
        opener = gzip.open if str(src[key]).endswith(".gz") else open
        with opener(src[key], "rb") as f, open(raw / stem, "wb") as g:
            shutil.copyfileobj(f, g)
    return tmp


def time_dataloader(iterations: int, device: str, data_dir) -> float:
    """Wall seconds of the same work fed by torchvision's per-sample DataLoader pipeline."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms
    with tempfile.TemporaryDirectory() as tmp:
        root = _torchvision_root(Path(tmp))
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
        t = time.perf_counter()
        full = datasets.FashionMNIST(str(root), train=True, transform=tf)
        test = datasets.FashionMNIST(str(root), train=False, transform=tf)
        order = torch.randperm(len(full), generator=torch.Generator().manual_seed(0))
        train_set, val_set = Subset(full, order[5000:].tolist()), Subset(full, order[:5000].tolist())
        kw = {"num_workers": 0, "pin_memory": device == "cuda"}
        train_dl = DataLoader(train_set, batch_size=60, shuffle=True, drop_last=True, **kw)
        val_dl, test_dl = DataLoader(val_set, batch_size=1000, **kw), DataLoader(test, batch_size=1000, **kw)
        cfg = reference_config(iterations, device)
        model, theta0, kinds, masks = _fresh_lenet(device)
        for level in range(3):
            dev_masks, opt = _reset_level(model, theta0, masks, device, cfg.training)
            it, batches = 0, iter(train_dl)
            while it < iterations:
                try:
                    x, y = next(batches)
                except StopIteration:
                    batches = iter(train_dl)
                    continue
                _masked_step(model, opt, dev_masks, x.to(device), y.to(device))
                it += 1
                if it % EVAL_EVERY == 0:
                    with torch.no_grad():
                        model.eval()
                        for dl in (val_dl, test_dl):
                            correct = sum(int((model(xb.to(device)).argmax(1) == yb.to(device)).sum()) for xb, yb in dl)
                        model.train()
            if level < 2:
                masks = prune(model.state_dict(), masks, kinds, cfg.pruning)
        sync(device)
        del correct
        return time.perf_counter() - t


def paper_protocol_estimate(report: dict) -> float:
    """Seconds for the paper's LeNet protocol (50,000 iterations; dense, then 16 rounds of
    ticket + re-init) at this bench's measured rates: the lone dense network at the engine's
    rate, each later level's 2 networks at the rate of the mode the engine uses for them."""
    par = report["parts"]["parallel"]
    rate = par["modes"][par["engine_uses"]]["net_it_per_s"]
    return 50_000 / report["parts"]["engine"]["iterations_per_s"] + 16 * 2 * 50_000 / rate


PARTS = ("cli", "plain-process", "open-lth", "trials-one", "trials-all", "pool-start", "engine", "plain", "dataloader",
         "parallel")  # docs/PERFORMANCE.md says what each times


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Time the engine against a plain loop and a DataLoader pipeline.")
    p.add_argument("--repeats", type=int, choices=range(1, 21), default=3, metavar="1..20")
    p.add_argument("--iterations", type=int, default=2000, help="per level, 10..120000")
    p.add_argument("--out", type=Path, default=Path("bench_results.json"))
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--parts", default="cli,plain-process,open-lth,trials-one,trials-all,pool-start",
                   help=f"comma list of {', '.join(PARTS)} (docs/PERFORMANCE.md)")
    p.add_argument("--open-lth", type=Path, help="a checkout of facebookresearch/open_lth, timed on the same workload")
    a = p.parse_args(argv)
    if not 10 <= a.iterations <= 120_000:
        p.error(f"--iterations must be in [10, 120000], got {a.iterations}")
    return a


def main(args) -> int:
    device = resolve_device(args.device)
    data_dir = args.data_dir
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ConfigError("--parts", f"unknown part {unknown[0]!r}; allowed: {', '.join(PARTS)}")
    if "open-lth" in parts and not args.open_lth:
        parts.remove("open-lth")  # it needs a checkout of facebookresearch/open_lth (--open-lth PATH)
    its = args.iterations
    load_start = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    load("fashion-mnist", data_dir)  # parse / cache outside the timings
    dd = str(data_dir) if data_dir else None
    get_data("fashion-mnist", dd, device)  # the engine's in-process tasks reuse this copy
    time_engine(EVAL_EVERY, device, dd)  # one-off costs outside the timings (the optimizer's first step imports torch._dynamo)
    procs = default_processes(device)
    timers = {"engine": lambda: time_engine(its, device, dd), "plain": lambda: time_plain(its, device, dd),
              "dataloader": lambda: time_dataloader(its, device, dd),
              "cli": lambda: bench_process.time_cli(its, data_dir),
              "plain-process": lambda: bench_process.time_plain_process(its, data_dir),
              "open-lth": lambda: bench_process.time_open_lth(args.open_lth, its, _fashion_dir(data_dir)),
              "trials-one": lambda: bench_process.time_trials(its, data_dir, 1),
              "trials-all": lambda: bench_process.time_trials(its, data_dir, max(2, procs)),
              "pool-start": lambda: bench_process.time_pool_start(data_dir, max(2, procs))}
    samples: dict[str, list] = {p: [] for p in parts}
    with tempfile.TemporaryDirectory() as tmp:
        specs = (bench_parallel.level_specs(reference_config(its, device), dd, device, Store(tmp))
                 if "parallel" in parts else None)
        for rep in range(args.repeats):  # interleaved, so drifting machine load hits every part alike
            for p in parts:
                if p == "parallel":
                    samples[p].append(bench_parallel.time_once(specs, max(2, procs), device))
                else:
                    samples[p].append(timers[p]())
                shown = samples[p][-1] if p != "parallel" else {k: round(v, 2) for k, v in samples[p][-1].items() if k != "diff"}
                print(f"  repeat {rep + 1}/{args.repeats} {p}: {shown}", flush=True)
    net_its = {p: bench_process.trials_network_iterations(its) if p.startswith("trials") else
               0 if p == "pool-start" else 3 * its for p in parts}
    report = {"load_average_1min_at_end": os.getloadavg()[0], "load_average_1min_at_start": load_start,
              "device": device, "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
              "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "iterations_per_level": its,
              "repeats": args.repeats, "parts": {}}
    print(f"\nload average (1 min) at start {load_start:.1f}, at end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"reference workload: LeNet-300-100, Fashion-MNIST, batch 60, 3 levels x {its} iterations, "
          f"eval every {EVAL_EVERY}; device {device}; medians of {args.repeats}")
    print(f"{'part':<14}{'median s':>10}{'it/s':>10}   all runs (s)")
    for p in parts:
        if p == "parallel":
            continue
        med = statistics.median(samples[p])
        report["parts"][p] = {"median_s": med, "iterations_per_s": net_its[p] / med if net_its[p] else None,
                              "runs_s": samples[p],
                              "network_iterations": net_its[p]}
        rate = f"{net_its[p] / med:>10.0f}" if net_its[p] else f"{'-':>10}"
        print(f"{p:<14}{med:>10.2f}{rate}   {', '.join(f'{s:.2f}' for s in samples[p])}")
    # Each ratio is taken within a repeat (its parts ran back to back, under the same machine
    # load), then the median over repeats: on a shared host this is steadier than a ratio of
    # medians taken from different repeats (which is also reported).
    ratios, per_repeat = {}, {}
    pairs = {"cli/plain-process": ("cli", "plain-process"), "open-lth/cli": ("open-lth", "cli"),
             "trials one-after-another/scheduled": ("trials-one", "trials-all"),
             "engine/plain": ("engine", "plain"), "dataloader/engine": ("dataloader", "engine")}
    for name, (a, b) in pairs.items():
        if {a, b} <= set(parts):
            per_repeat[name] = [x / y for x, y in zip(samples[a], samples[b])]
            ratios[name] = statistics.median(per_repeat[name])
            report[f"ratio of medians {name}"] = report["parts"][a]["median_s"] / report["parts"][b]["median_s"]
            print(f"{name}: per repeat {', '.join(f'{x:.2f}' for x in per_repeat[name])}; "
                  f"ratio of the medians {report[f'ratio of medians {name}']:.2f}")
    report["ratios_per_repeat"] = per_repeat
    if "parallel" in parts:
        report["parts"]["parallel"], ratios["parallel/sequential throughput"] = bench_parallel.summarise(
            samples["parallel"], its, max(2, procs), device)
    report["ratios"] = ratios
    for k, v in ratios.items():
        print(f"ratio {k} (median over repeats): {v:.2f}")
    if {"engine", "parallel"} <= set(parts):
        report["paper_protocol_estimate_s"] = paper_protocol_estimate(report)
        print(f"estimate, paper protocol (LeNet-300-100, 50,000 iterations x 16 rounds, re-init, 1 trial; "
              f"from the rates above): {report['paper_protocol_estimate_s'] / 60:.0f} min")
    args.out.write_text(json.dumps(report, indent=1))
    print(f"figures written to {args.out}")
    return 0


def _fashion_dir(data_dir) -> Path:
    """Where the four Fashion-MNIST idx .gz files are (for open_lth's loader)."""
    for folder in ((Path(data_dir) / "fashion-mnist") if data_dir else None, DEFAULT_DATA_DIR / "fashion-mnist",
                   DEBIAN_FASHION_MNIST):
        if folder is not None and all((Path(folder) / f"{n}.gz").is_file() for n in (
                "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
            return Path(folder)
    raise ConfigError("--open-lth", "open_lth reads Fashion-MNIST's idx .gz files; none were found "
                                    f"(looked in the data folder and {DEBIAN_FASHION_MNIST})")


if __name__ == "__main__":
    try:
        sys.exit(main(parse(sys.argv[1:])))
    except ConfigError as exc:  # a bad --parts or --open-lth: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
