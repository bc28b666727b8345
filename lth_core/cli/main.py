"""The command line: `python -m lth_core run | sweep | list | work | gallery | report | bench | analyse`.

A bad flag or value, or a store folder that cannot be written, exits with code 2
and one line on stderr; a dataset that cannot be had exits with code 3 and says
what to do. No traceback for any of them.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from pathlib import Path

from lth_core.config import CONTROLS, ConfigError, ExperimentConfig, PruningConfig, parse_milestones
from lth_core.presets import PRESETS, base_preset, get_preset
from lth_core.registry import ARCHITECTURES, compatible_archs, paper_pruning
from lth_core.service.protocol import EXIT_DATA, EXIT_FAILED, EXIT_TAKEN, EXIT_USAGE, START_RECORD  # noqa: F401



class UsageError(Exception):
    """A flag or value the user gave is not allowed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(message)


def _fraction(name, zero: bool = False):
    """A fraction in (0, 1), or [0, 1) when zero is allowed."""
    rng = "[0, 1)" if zero else "(0, 1)"

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number in {rng}, got {text!r}") from None
        if not math.isfinite(v) or not (0 <= v if zero else 0 < v) or not v < 1:
            hint = f" (as a fraction: {v / 100:g} for {v:g}%)" if 1 < v < 100 else ""
            raise argparse.ArgumentTypeError(f"{name} must be in {rng}, got {text}{hint}")
        return v
    return parse


def _int(name, lo, hi):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer in [{lo}, {hi}], got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be an integer in [{lo}, {hi}], got {v}")
        return v
    return parse


def _milestones(text: str) -> tuple:
    try:
        return parse_milestones(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"--lr-milestones {str(exc).split(': ', 1)[1]}") from None


def _controls(text: str) -> tuple:
    items = [c.strip() for c in text.split(",") if c.strip()]
    if items == ["none"]:
        return ()
    bad = [c for c in items if c not in CONTROLS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown control {bad[0]!r}; allowed: {', '.join(CONTROLS)} or none")
    return tuple(items)


# Beyond the paper (docs/BEYOND.md): the flags of the fields that go past the paper's protocol
BEYOND_FLAGS = (
    ("--criterion", "which surviving weights a round keeps: magnitude (default), magnitude_increase, movement or "
                    "large_init_large_final"),
    ("--granularity", "unstructured (default), neurons (whole hidden fc neurons) or filters (whole conv filters "
                      "and fc neurons; conv nets)"),
    ("--criteria", "extra IMP tickets by other criteria, as arms: comma list of magnitude, magnitude_increase, "
                   "movement, large_init_large_final (or none)"),
    ("--at-init", "masks found at initialisation, as arms: comma list of snip, synflow, magnitude_init (or none)"),
    ("--at-init-checks", "sanity checks of each at-init mask: comma list of shuffle, reinit, invert (or none)"),
    ("--at-init-scope", "how an at-init mask spends its budget: global (default: every layer ranked together, as "
                        "SNIP and SynFlow define it) or layer (IMP's per-layer counts)"),
    ("--stability-levels", "levels where the ticket trains twice to measure its stability (linear mode "
                           "connectivity): comma list, e.g. 0,2,4 (or none)"),
)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m lth_core", description="Find lottery tickets by iterative magnitude pruning.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run (or fetch from the store) one experiment")
    r.add_argument("--preset", choices=list(PRESETS),
                   help="starting config (default: the first preset for --arch, else --dataset's own preset, "
                        "e.g. lenet-fmnist for fashion-mnist, else quick)")
    r.add_argument("--dataset", help="mnist1d, fashion-mnist, mnist or cifar10")
    r.add_argument("--arch", help="mlp1d, lenet300, conv2, conv4, conv6, vgg19 or resnet18 (a new arch brings "
                                  "its paper pruning: global with the output layer whole for vgg19 and resnet18)")
    r.add_argument("--strategy", choices=["layerwise", "global"])
    r.add_argument("--rate", type=_fraction("--rate"),
                   help="fraction of surviving fc weights (under global pruning: of all but the output layer) "
                        "pruned per round. Conv and output rates that the preset derives from it (conv = rate, "
                        "output = rate / 2) follow it; rates the preset sets apart (conv2-cifar10's conv 10%%, "
                        "vgg19's output 0%%) are kept unless --conv-rate / --output-rate are given")
    r.add_argument("--conv-rate", type=_fraction("--conv-rate"), help="per-round rate for conv layers")
    r.add_argument("--output-rate", type=_fraction("--output-rate", zero=True),
                   help="per-round rate for the output layer, in [0, 1) (0: never pruned)")
    r.add_argument("--target", type=_fraction("--target"), help="total pruning P over --rounds rounds")
    r.add_argument("--rounds", type=_int("--rounds", 1, 40))
    r.add_argument("--iterations", type=_int("--iterations", 1, 120_000), help="training iterations per round")
    r.add_argument("--eval-every", type=_int("--eval-every", 1, 120_000))
    r.add_argument("--optimizer", choices=["adam", "sgd"])
    r.add_argument("--lr", type=float)
    r.add_argument("--batch-size", type=_int("--batch-size", 1, 60_000))
    r.add_argument("--dropout", type=float)
    r.add_argument("--momentum", type=float, help="SGD momentum, in [0, 1)")
    r.add_argument("--weight-decay", type=float, help="L2 penalty, in [0, 1]")
    r.add_argument("--warmup", type=_int("--warmup", 0, 120_000), help="linear learning-rate warm-up iterations")
    r.add_argument("--lr-milestones", type=_milestones,
                   help="comma list of iterations after which the learning rate is multiplied by --lr-factor "
                        "(e.g. 20000,25000), or none")
    r.add_argument("--lr-factor", type=float, help="learning-rate multiplier at each milestone, in (0, 1]")
    r.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   help="random 4-pixel crops and horizontal flips of the training images (image datasets)")
    r.add_argument("--controls", type=_controls, help="comma list of reinit,random,oneshot (or none)")
    for flag, text in BEYOND_FLAGS:  # validated by the config, whose message names the allowed values
        r.add_argument(flag, help=text)
    r.add_argument("--trials", type=_int("--trials", 1, 10))
    r.add_argument("--rewind", type=_int("--rewind", 0, 120_000), help="reset to iteration k (0: to init)")
    r.add_argument("--seed", type=_int("--seed", 0, 2**31 - 1))
    r.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    r.add_argument("--processes", type=_int("--processes", 1, 64), help="worker processes (default: every core)")
    r.add_argument("--store", type=Path, help="store folder (default $LTH_STORE or ./runs)")
    r.add_argument("--data-dir", type=Path, help="data folder (default $LTH_DATA_DIR or ./data)")
    r.add_argument("--json", action="store_true", help="print the results as one JSON object")
    add_executor_flags(r)
    from lth_core.cli.sweep import add_parser as add_sweep_parser
    add_executor_flags(add_sweep_parser(sub))
    ls = sub.add_parser("list", help="list stored runs with their status")
    ls.add_argument("--store", type=Path)
    ls.add_argument("--json", action="store_true")
    w = sub.add_parser("work", help="compute a queued run of the store (used by the app's job manager)")
    w.add_argument("run_id", nargs="?", help="the run to compute (omitted with --standby: read from stdin)")
    w.add_argument("--standby", action="store_true",
                   help="warm up first (torch, data, worker processes), then read the run id from stdin "
                        "(the app's warm workers)")
    w.add_argument("--warm-dataset", default="mnist1d", help="with --standby: the dataset to load while waiting")
    w.add_argument("--store", type=Path)
    w.add_argument("--data-dir", type=Path)
    w.add_argument("--processes", type=_int("--processes", 1, 64))
    w.add_argument("--deadline-s", type=float, default=None,
                   help="stop after this many seconds and mark the run failed (the job manager's time limit)")
    add_executor_flags(w)
    g = sub.add_parser("gallery", help="copy finished runs into the read-only gallery folder")
    g.add_argument("run_ids", nargs="+")
    g.add_argument("--store", type=Path)
    g.add_argument("--gallery", type=Path, help="gallery folder (default ./gallery)")
    rp = sub.add_parser("report", help="export a run's report: self-contained HTML, and a PDF and slide PNGs")
    rp.add_argument("run_id")
    rp.add_argument("--pdf", action="store_true", help="also print the report to a PDF (headless Chromium)")
    rp.add_argument("--png", action="store_true", help="also write each chart as a 1920x1080 PNG")
    rp.add_argument("--out", type=Path, default=Path("."), help="folder for the files (default: here)")
    rp.add_argument("--store", type=Path, help="store searched before the gallery (default $LTH_STORE or ./runs)")
    b = sub.add_parser("bench", help="time the engine against a plain loop and a DataLoader pipeline")
    b.add_argument("--repeats", type=_int("--repeats", 1, 20), default=3)
    b.add_argument("--iterations", type=_int("--iterations", 10, 120_000), default=2000)
    b.add_argument("--out", type=Path, default=Path("bench_results.json"))
    b.add_argument("--data-dir", type=Path)
    b.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    b.add_argument("--parts", default="cli,plain-process,open-lth,trials-one,trials-all,pool-start",
                   help="comma list of cli, plain-process, open-lth, trials-one, trials-all, pool-start, engine, "
                        "plain, dataloader, parallel (docs/PERFORMANCE.md)")
    b.add_argument("--open-lth", type=Path, help="a checkout of facebookresearch/open_lth, timed on the same workload")
    _add_analyse_parser(sub)
    return p


def _positive(name, zero: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (v >= 0 if zero else v > 0) or math.isinf(v):
            raise UsageError(f"{name} must be a number {'>= 0' if zero else '> 0'}, got {text!r}")
        return v
    return parse


def add_executor_flags(parser) -> None:
    """Where the networks train: --executor local (default, or $LTH_EXECUTOR) or ray, and Ray's settings."""
    parser.add_argument("--executor", help="local (this machine, the default) or ray (a Ray cluster: "
                                           "$RAY_ADDRESS or --ray-address; docs/SCALING.md); default $LTH_EXECUTOR")
    parser.add_argument("--ray-address", help="the Ray cluster to join (default $RAY_ADDRESS; none: a local one)")
    parser.add_argument("--cpus-per-task", type=_positive("--cpus-per-task"),
                        help="Ray: CPUs (and torch threads) per network (default 1)")
    parser.add_argument("--gpus-per-task", type=_positive("--gpus-per-task", zero=True),
                        help="Ray: GPUs per network, fractions allowed (default 1 on CUDA, else 0)")


def executor_from_args(a, device: str, warm: tuple | None = None):
    """The executor the flags (or $LTH_EXECUTOR) choose; ConfigError names the allowed ones."""
    import os
    from lth_core.execution.select import make_executor
    from lth_core.lottery.tasks import resolve_device
    name = a.executor or os.environ.get("LTH_EXECUTOR", "").strip() or "local"
    return make_executor(name, resolve_device(device), processes=a.processes, ray_address=a.ray_address,
                         cpus_per_task=a.cpus_per_task, gpus_per_task=a.gpus_per_task, warm=warm)


def writable_store(a):
    """The store of --store (else $LTH_STORE or ./runs); UsageError naming it if it cannot be written."""
    from lth_core.store.run_store import Store, StoreUnwritable, default_store_root
    store = Store(a.store or default_store_root())
    try:
        store.check_writable()
    except StoreUnwritable as exc:
        raise UsageError(f"{exc}; choose another folder with --store or LTH_STORE") from None
    return store


def preset_name(a) -> str:
    """The preset the run starts from: --preset, else base_preset of --dataset / --arch."""
    return a.preset or base_preset(a.dataset, a.arch)


def config_from_args(a) -> ExperimentConfig:
    """Preset, then every flag given, in that order of precedence."""
    c = get_preset(preset_name(a))
    top = {k: getattr(a, k) for k in ("dataset", "arch", "controls", "trials", "seed", "device", "criteria",
                                      "at_init", "at_init_checks", "at_init_scope", "stability_levels")
           if getattr(a, k) is not None}
    if "dataset" in top and "arch" not in top:
        fits = compatible_archs(top["dataset"])
        if fits and c.arch not in fits:
            top["arch"] = fits[0]
    nested = {k: getattr(a, k) for k in ("strategy", "rate", "conv_rate", "output_rate", "rounds", "iterations",
                                         "eval_every", "optimizer", "lr", "batch_size", "dropout", "momentum",
                                         "weight_decay", "warmup", "lr_milestones", "lr_factor", "augment",
                                         "criterion", "granularity")
              if getattr(a, k) is not None}
    if a.target is not None:
        rounds = a.rounds if a.rounds is not None else c.pruning.rounds
        nested["rate"] = PruningConfig.rate_for_target(a.target, rounds)
    arch = top.get("arch", c.arch)
    if arch != c.arch and arch in ARCHITECTURES:  # the new network's paper pruning, where no flag says otherwise
        paper = paper_pruning(arch)
        nested.setdefault("strategy", paper["strategy"])
        nested.setdefault("output_rate", paper.get("output_rate", nested.get("rate", c.pruning.rate) / 2))
    if "iterations" in nested and "eval_every" not in nested:
        nested["eval_every"] = min(c.training.eval_every, nested["iterations"])
    if a.rewind is not None:
        top.update(reset="rewind" if a.rewind > 0 else "init", rewind_iteration=a.rewind)
    return c.replace(**top, **nested)


def _progress_bar(store, run_id, stop: threading.Event):
    """Poll the store's progress record and draw it with tqdm on stderr."""
    from tqdm import tqdm
    bar = tqdm(total=1000, desc=run_id, unit="‰", file=sys.stderr, leave=True,
               bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}<{remaining}] {postfix}")
    while not stop.wait(0.5):
        prog = store.progress(run_id)
        if prog:
            bar.n = int(1000 * prog.get("fraction", 0))
            bar.set_postfix_str(f"level {prog.get('level', 0)}/{prog.get('levels', 1) - 1}")
    prog = store.progress(run_id)
    bar.n = int(1000 * prog.get("fraction", 0)) if prog else bar.n
    bar.close()


def cmd_run(a) -> int:
    from lth_core.lottery import state as experiment
    from lth_core.analysis import results
    try:
        config = config_from_args(a)
    except ValueError as exc:  # ConfigError and registry errors name the field and the allowed values
        raise UsageError(str(exc)) from None
    store = writable_store(a)
    if a.preset is None and (a.dataset or a.arch):
        print(f"note: no --preset given; settings without a flag come from preset {preset_name(a)!r}",
              file=sys.stderr)
    run_id = config.run_id()
    stop, thread = threading.Event(), None
    if sys.stderr.isatty():
        thread = threading.Thread(target=_progress_bar, args=(store, run_id, stop), daemon=True)
        thread.start()
    executor = executor_from_args(a, config.device, warm=((config.dataset,), str(a.data_dir) if a.data_dir else None))
    try:
        experiment.run(config, store, data_dir=a.data_dir, executor=executor)
    finally:
        executor.close()
        stop.set()
        if thread:
            thread.join()
    if a.json:
        print(json.dumps(results.run_json(store, run_id)))
    else:
        summary = results.summary_frame(store, run_id)
        agg = results.aggregate(summary[~summary.shared_dense])
        cols = ["level", "arm", "percent_remaining", "early_stop_iteration", "test_acc_at_early_stop", "train_acc"]
        print(f"run {run_id} in {store.run_dir(run_id)}")
        print(agg[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def cmd_list(a) -> int:
    from lth_core.store.runs import list_runs
    from lth_core.store.run_store import Store, default_store_root
    rows = list_runs(Store(a.store or default_store_root()))
    if a.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no runs stored")
    for r in rows:
        extra = f" {100 * r['fraction']:.0f}%" if r["state"] == "running" else ""
        why = f" ({r['reason']})" if r.get("reason") else ""
        print(f"{r['run_id']}  {r['state']}{extra}{why}  {r['dataset']}/{r['arch']}  "
              f"{r['levels']} levels  controls={','.join(r['controls']) or '-'}")
    return 0


def cmd_gallery(a) -> int:
    from lth_core.store import gallery
    from lth_core.store.run_store import Store, default_store_root, validate_run_id
    store = Store(a.store or default_store_root())
    for rid in a.run_ids:
        try:
            validate_run_id(rid)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not store.has_run(rid):
            raise UsageError(f"no run {rid} in {store.root}")
        print(gallery.add(store, rid, a.gallery))
    print(f"gallery size: {gallery.size_bytes(a.gallery) / 1e6:.2f} MB")
    return 0


def cmd_report(a) -> int:
    from lth_core.report import export
    from lth_core.store import gallery
    from lth_core.store.runs import locate
    from lth_core.store.run_store import Store, default_store_root, validate_run_id
    try:
        run_id = validate_run_id(a.run_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    stores = [Store(a.store or default_store_root(), readonly=True), gallery.gallery_store()]
    store = locate(run_id, *stores)
    if store is None:
        raise UsageError(f"no run {run_id} in {stores[0].root} or the gallery ({stores[1].root})")
    if a.out.exists() and not a.out.is_dir():
        raise UsageError(f"--out {a.out} is a file, not a folder")
    try:
        paths = export.write_report(store, run_id, a.out, pdf=a.pdf, png=a.png)
    except export.NothingToReport as exc:
        raise UsageError(str(exc)) from None
    except export.ExportFailed as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        raise UsageError(f"cannot write into {a.out}: {exc.strerror or exc}") from None
    for path in paths:
        print(path)
    return 0


# --- analyse: evaluation-only analyses of a stored run (lth_core.analysis.analyses) -----------------
def _list_of(name, kind):
    """A comma list of `kind` (int or float) values, e.g. 0,3,6."""
    def parse(text: str) -> list:
        items = [t.strip() for t in text.split(",") if t.strip()]
        try:
            values = [kind(t) for t in items]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a comma list of {'integers' if kind is int else 'numbers'}"
                                             f", e.g. {'0,3,6' if kind is int else '0,0.5,1'}, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name} needs at least one value")
        return values
    return parse


def _add_analyse_parser(sub) -> None:
    an = sub.add_parser("analyse", help="analyse a stored run without training (noise: robustness to weight noise)")
    kinds = an.add_subparsers(dest="analysis", required=True, parser_class=_Parser)
    nz = kinds.add_parser("noise", help="test accuracy with Gaussian noise on the surviving weights (stored with "
                                        "the run; a finished analysis is served from the store)")
    nz.add_argument("run_id")
    nz.add_argument("--levels", type=_list_of("--levels", int),
                    help="comma list of pruning levels (default: 0, the middle level and the last)")
    nz.add_argument("--scales", type=_list_of("--scales", float),
                    help="comma list of noise scales, relative to each layer's std of surviving weights "
                         "(default 0,0.1,...,1)")
    nz.add_argument("--draws", type=_int("--draws", 1, 100), help="noise draws per scale (default 5)")
    nz.add_argument("--arms", type=lambda t: [x.strip() for x in t.split(",") if x.strip()],
                    help="comma list of arms, e.g. ticket,reinit (default: all of the run's)")
    nz.add_argument("--store", type=Path, help="store searched before the gallery (default $LTH_STORE or ./runs)")
    nz.add_argument("--data-dir", type=Path)
    nz.add_argument("--json", action="store_true", help="print the stored record as one JSON object")
    ni = kinds.add_parser("noise-init", help="the paper's protocol: Gaussian noise on the ticket's initial weights, "
                                             "then retrained; compared with the ticket and its re-init, paired by "
                                             "trial (stored with the run; trains one network per trial, level and "
                                             "scale)")
    ni.add_argument("run_id")
    ni.add_argument("--levels", type=_list_of("--levels", int), required=True, help="comma list of pruned levels")
    ni.add_argument("--scales", type=_list_of("--scales", float),
                    help="comma list of noise scales > 0, relative to each layer's initialisation std "
                         "(default 0.5,1,2)")
    ni.add_argument("--store", type=Path, help="store holding the run (default $LTH_STORE or ./runs)")
    ni.add_argument("--data-dir", type=Path)


def cmd_noise_init(a) -> int:
    from lth_core.analysis import noise_init, stats
    from lth_core.store.run_store import Store, default_store_root, validate_run_id
    try:
        run_id = validate_run_id(a.run_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store = Store(a.store or default_store_root())
    if not store.has_run(run_id):
        raise UsageError(f"no run {run_id} in {store.root} (the gallery is read-only: copy the run to a store)")
    try:
        noise_init.compute(store, run_id, a.levels, a.scales or noise_init.DEFAULT_SCALES, a.data_dir)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for r in noise_init.comparisons(store, run_id).itertuples():
        parts = [f"vs {arm}: {stats.ci_text(getattr(r, f'vs_{arm}'))}" for arm in ("ticket", "reinit")
                 if isinstance(getattr(r, f"vs_{arm}", None), stats.Paired)]
        print(f"level {r.level} ({r.percent_remaining:.3g}%), noise x{r.scale:g}: {100 * r.perturbed:.2f}%; "
              + "; ".join(parts))
    return 0


def cmd_analyse(a) -> int:
    if a.analysis == "noise-init":
        return cmd_noise_init(a)
    from lth_core.analysis import analyses
    from lth_core.service import analysis_jobs
    from lth_core.store import gallery
    from lth_core.store.runs import locate
    from lth_core.store.run_store import Store, default_store_root, validate_run_id
    try:
        run_id = validate_run_id(a.run_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    stores = [Store(a.store or default_store_root()), gallery.gallery_store()]
    store = locate(run_id, *stores)
    if store is None:
        raise UsageError(f"no run {run_id} in {stores[0].root} or the gallery ({stores[1].root})")
    try:
        params = analyses.noise_params(store.config(run_id), a.levels, a.scales, a.draws, a.arms)
        import torch
        torch.set_num_threads(1)  # like `work`: numbers independent of the thread count, no oversubscription
        rec = (analyses.compute_noise(store, run_id, **params, data_dir=a.data_dir) if store.readonly
               else analysis_jobs.run_noise_job(store, run_id, params, a.data_dir))
    except analyses.AnalysisError as exc:  # bad levels/scales/arms, no stored weights, an unfinished run
        raise UsageError(str(exc)) from None
    if a.json:
        print(json.dumps(rec))
        return 0
    summary = analyses.noise_summary(analyses.noise_frame(rec))
    table = summary.pivot_table(index=["level", "arm"], columns="scale", values="mean", sort=False) * 100
    print(f"run {run_id}: mean test accuracy (%) over {int(summary.trials.max())} trial(s) "
          f"and {params['draws']} draw(s), by noise scale (relative to each layer's weight std)")
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


def _one_line(exc) -> str:
    """The message on one printable line: a value the user typed may hold newlines or control
    characters, which are shown escaped (\\n, \\x1b) instead of breaking or styling the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(exc))


def main(argv=None) -> int:
    from lth_core.data.datasets import DataUnavailable
    from lth_core.store.run_store import AlreadyRunning, Corrupt
    try:
        try:
            a = build_parser().parse_args(argv)
        except SystemExit as exc:  # only -h/--help exit here (errors raise UsageError): help was printed
            return exc.code if isinstance(exc.code, int) else 0
        if a.command == "bench":
            from lth_core.cli.bench import main as bench_main
            return bench_main(a)
        from lth_core.cli.sweep import cmd_sweep
        from lth_core.cli.work import cmd_work
        return {"run": cmd_run, "sweep": cmd_sweep, "list": cmd_list, "work": cmd_work, "gallery": cmd_gallery,
                "report": cmd_report, "analyse": cmd_analyse}[a.command](a)
    except (UsageError, ConfigError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except DataUnavailable as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_DATA
    except (AlreadyRunning, Corrupt) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
