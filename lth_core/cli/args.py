"""The command line's parser and the config its flags describe; nothing here imports torch.

`run`'s config flags are generated from the field specs (lth_core.fields): their names, ranges,
choices and help. A bad flag or value raises UsageError (one line, no usage dump), so `--help` and
a typo answer at once.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from lth_core.cli.serve import add_app_parser
from lth_core.cli.export_args import add_export_parser
from lth_core.config import ExperimentConfig, PruningConfig
from lth_core.fields import FIELDS, NUMBERS, ConfigError, Field, check_number, parse_milestones
from lth_core.presets import PRESETS, base_preset, get_preset
from lth_core.registry import ARCHITECTURES, compatible_archs, paper_pruning


class UsageError(Exception):
    """A flag or value the user gave is not allowed."""


def one_line(exc) -> str:
    """The message on one printable line: a value the user typed may hold newlines or control
    characters, which are shown escaped (\\n, \\x1b) instead of breaking or styling the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(exc))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(message)


def _number(flag: str, spec: Field):
    """A number in the spec's range (the config's own check); a fraction given in percent gets a hint."""
    def parse(text: str):
        try:
            return check_number(spec, int(text) if spec.kind == "int" else float(text))
        except ValueError as exc:  # not a number, or ConfigError: out of range
            problem = str(exc).split(": ", 1)[1] if isinstance(exc, ConfigError) else \
                f"must be {'an integer' if spec.kind == 'int' else 'a number'} in {spec.range_text()}, got {text!r}"
            v = float(text) if isinstance(exc, ConfigError) else 0
            hint = f" (as a fraction: {v / 100:g} for {v:g}%)" if spec.kind == "fraction" and 1 < v < 100 else ""
            raise argparse.ArgumentTypeError(f"{flag} {problem}{hint}") from None
    return parse


def _names(text: str) -> tuple:
    """A comma list of names ('none': no name); the config checks them and names the allowed ones."""
    return tuple(c.strip() for c in text.split(",") if c.strip() and c.strip() != "none")


def _milestones(text: str) -> tuple:
    try:
        return parse_milestones(text)
    except ValueError as exc:  # ConfigError
        raise argparse.ArgumentTypeError(f"--lr-milestones {str(exc).split(': ', 1)[1]}") from None


def _int(flag: str, lo: int, hi: int):
    return _number(flag, Field(flag, None, "int", "", lo, hi))


def _positive(flag: str, zero: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (v >= 0 if zero else v > 0) or math.isinf(v):
            raise UsageError(f"{flag} must be a number {'>= 0' if zero else '> 0'}, got {text!r}")
        return v
    return parse


def _list_of(flag: str, kind):
    """A comma list of `kind` (int or float) values, e.g. 0,3,6."""
    def parse(text: str) -> list:
        items = [t.strip() for t in text.split(",") if t.strip()]
        try:
            values = [kind(t) for t in items]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a comma list of {'integers' if kind is int else 'numbers'}"
                                             f", e.g. {'0,3,6' if kind is int else '0,0.5,1'}, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{flag} needs at least one value")
        return values
    return parse


def dest(spec: Field) -> str:
    """The attribute a field's flag sets, named after the flag (--rewind: rewind), as sweep files name it."""
    return spec.cli_flag[2:].replace("-", "_")


def add_field_flags(parser) -> None:
    """One flag per config field that has one (lth_core.fields), typed and ranged by its spec."""
    for spec in FIELDS:
        flag = spec.cli_flag
        if flag is None:
            continue
        kw: dict = {"help": spec.describe().replace("%", "%%"), "dest": dest(spec)}
        if spec.kind in NUMBERS:
            kw["type"] = _number(flag, spec)
        elif spec.kind == "choice":
            kw["choices"] = list(spec.choices)
        elif spec.kind == "names":
            kw["type"] = _names
        elif spec.kind == "milestones":
            kw["type"] = _milestones
        elif spec.kind == "bool":
            kw["action"] = argparse.BooleanOptionalAction
        parser.add_argument(flag, **kw)


def add_executor_flags(parser) -> None:
    """Where the networks train: --executor local (default, or $LTH_EXECUTOR) or ray, and Ray's settings."""
    parser.add_argument("--executor", help="local (this machine, the default) or ray (a Ray cluster: "
                                           "$RAY_ADDRESS or --ray-address; docs/SCALING.md); default $LTH_EXECUTOR")
    parser.add_argument("--ray-address", help="the Ray cluster to join (default $RAY_ADDRESS; none: a local one)")
    parser.add_argument("--cpus-per-task", type=_positive("--cpus-per-task"),
                        help="Ray: CPUs (and torch threads) per network (default 1)")
    parser.add_argument("--gpus-per-task", type=_positive("--gpus-per-task", zero=True),
                        help="Ray: GPUs per network, fractions allowed (default 1 on CUDA, else 0)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lth", description="Find lottery tickets by iterative magnitude pruning "
                "(`lth` and `python -m lth_core` are the same command).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run (or fetch from the store) one experiment")
    r.add_argument("--preset", choices=list(PRESETS),
                   help="starting config (default: the first preset for --arch, else --dataset's own preset, "
                        "e.g. lenet-fmnist for fashion-mnist, else quick)")
    add_field_flags(r)
    r.add_argument("--processes", type=_int("--processes", 1, 64), help="worker processes (default: every core)")
    r.add_argument("--store", type=Path, help="store folder (default $LTH_STORE, else ./runs in a checkout or the user data folder when installed)")
    r.add_argument("--data-dir", type=Path, help="data folder (default $LTH_DATA_DIR, else ./data in a checkout or the user cache folder when installed)")
    r.add_argument("--json", action="store_true", help="print the results as one JSON object")
    add_executor_flags(r)
    _add_sweep_parser(sub)
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
    rp.add_argument("--store", type=Path, help="store searched before the gallery (default $LTH_STORE, else ./runs in a checkout or the user data folder when installed)")
    _add_analyse_parser(sub)
    add_export_parser(sub, _int)
    add_app_parser(sub)
    return p


def _add_sweep_parser(sub) -> None:
    s = sub.add_parser("sweep", help="run a grid of configs as one study (a TOML file and/or --grid flags)")
    s.add_argument("file", nargs="?", type=Path, help="sweep file (TOML: name, preset, [set], [grid])")
    s.add_argument("--preset", help="starting config of every point (overrides the file's)")
    s.add_argument("--set", action="append", metavar="NAME=VALUE", help="a run flag fixed for every point")
    s.add_argument("--grid", action="append", metavar="NAME=V1,V2", help="a run flag swept over values")
    s.add_argument("--name", help="the sweep's name (shown on the Compare page)")
    s.add_argument("--dry-run", action="store_true", help="list the points and their run ids; train nothing")
    s.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    s.add_argument("--store", type=Path, help="store folder (default $LTH_STORE, else ./runs in a checkout or the user data folder when installed)")
    s.add_argument("--data-dir", type=Path, help="data folder (default $LTH_DATA_DIR, else ./data in a checkout or the user cache folder when installed)")
    s.add_argument("--processes", type=_int("--processes", 1, 64),
                   help="local executor: networks at once (default: every core)")
    add_executor_flags(s)


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
    nz.add_argument("--store", type=Path, help="store searched before the gallery (default $LTH_STORE, else ./runs in a checkout or the user data folder when installed)")
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
    ni.add_argument("--store", type=Path, help="store holding the run (default $LTH_STORE, else ./runs in a checkout or the user data folder when installed)")
    ni.add_argument("--data-dir", type=Path)


def preset_name(a) -> str:
    """The preset the run starts from: --preset, else base_preset of --dataset / --arch."""
    return a.preset or base_preset(a.dataset, a.arch)


def config_from_args(a) -> ExperimentConfig:
    """Preset, then every field flag given (lth_core.fields), in that order of precedence."""
    c = get_preset(preset_name(a))
    given = {f.name: getattr(a, dest(f)) for f in FIELDS if f.cli_flag and f.stored and getattr(a, dest(f)) is not None}
    if "dataset" in given and "arch" not in given:
        fits = compatible_archs(given["dataset"])
        if fits and c.arch not in fits:
            given["arch"] = fits[0]
    if a.target is not None:
        rounds = a.rounds if a.rounds is not None else c.pruning.rounds
        given["rate"] = PruningConfig.rate_for_target(a.target, rounds)
    arch = given.get("arch", c.arch)
    if arch != c.arch and arch in ARCHITECTURES:  # the new network's paper pruning, where no flag says otherwise
        paper = paper_pruning(arch)
        given.setdefault("strategy", paper["strategy"])
        given.setdefault("output_rate", paper.get("output_rate", given.get("rate", c.pruning.rate) / 2))
    if "iterations" in given and "eval_every" not in given:
        given["eval_every"] = min(c.training.eval_every, given["iterations"])
    if "rewind_iteration" in given:
        given["reset"] = "rewind" if given["rewind_iteration"] > 0 else "init"
    return c.replace(**given)
