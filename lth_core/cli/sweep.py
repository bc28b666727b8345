"""`python -m lth_core sweep`: a grid of configs, run as one study.

The sweep is every combination of the values named for `run`'s flags (`--grid k=v1,v2`,
`--set k=v`, or a TOML sweep file: docs/SCALING.md). Every point is an ordinary run,
deduplicated by its config hash, so a sweep resumes and shares work with stored runs; all
points share one executor so they fill the cores together.
"""
from __future__ import annotations

import itertools
import json
import sys
import threading
import tomllib
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from lth_core.analysis import results
from lth_core.cli.args import UsageError, build_parser, config_from_args, dest
from lth_core.cli.common import check_memory, executor_from_args, writable_store
from lth_core.config import ConfigError
from lth_core.execution.driver import run_many
from lth_core.fields import FIELDS
from lth_core.plan import planned_tasks, task_steps
from lth_core.service.settings import Settings
from lth_core.store.sweeps import point_label, write_sweep

MAX_POINTS = 500
FILE_KEYS = ("name", "preset", "set", "grid")


class SweepError(ValueError):
    """A sweep file or flag that cannot be used; the message says why and what is allowed."""


def _flag_names() -> dict:
    """{name: option string} of every config flag of `run` (lth_core.fields), as a sweep names them."""
    return {dest(f): f.cli_flag for f in FIELDS if f.cli_flag}


def _pairs(items: list[str] | None, what: str, many: bool) -> dict:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SweepError(f"{what} {item!r}: expected NAME=VALUE" + (",VALUE..." if many else ""))
        out[name.strip().replace("-", "_")] = [v.strip() for v in value.split(",")] if many else value.strip()
    return out


def load_spec(path: Path | None, preset: str | None, sets: list[str] | None, grids: list[str] | None,
              name: str | None) -> dict:
    """The sweep as {'name', 'preset', 'set', 'grid'}: the file (if any), then the flags on top."""
    spec: dict = {"name": "", "preset": None, "set": {}, "grid": {}}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except OSError as exc:
            raise SweepError(f"cannot read the sweep file {path}: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SweepError(f"the sweep file {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(raw) - set(FILE_KEYS))
        if unknown:
            raise SweepError(f"the sweep file {path} has unknown key(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(FILE_KEYS)}")
        for key in ("set", "grid"):
            if not isinstance(raw.get(key, {}), dict):
                raise SweepError(f"the sweep file's [{key}] must be a table of flag = value")
        spec.update(name=str(raw.get("name", "")), preset=raw.get("preset"),
                    set={k.replace("-", "_"): v for k, v in raw.get("set", {}).items()},
                    grid={k.replace("-", "_"): v for k, v in raw.get("grid", {}).items()})
    spec["set"].update(_pairs(sets, "--set", many=False))
    spec["grid"].update(_pairs(grids, "--grid", many=True))
    if preset:
        spec["preset"] = preset
    if name:
        spec["name"] = name
    return spec


def _argv(name: str, value, flags: dict) -> list[str]:
    """`run` arguments for one flag's value (True/False for on/off flags like augment)."""
    if name not in flags:
        raise SweepError(f"{name!r} is not a run flag a sweep can set; allowed: {', '.join(sorted(flags))}")
    flag = flags[name]
    if isinstance(value, bool):
        return [flag if value else flag.replace("--", "--no-", 1)]
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return [flag, str(value)]


def expand(spec: dict) -> list[tuple[dict, object]]:
    """[(the point's varying values, its ExperimentConfig)] for every combination of the grid,
    validated as `run` validates its flags (SweepError names the point and the problem)."""
    parser, flags = build_parser(), _flag_names()
    grid = spec["grid"]
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"grid {key!r} must be a non-empty list of values")
    both = sorted(set(grid) & set(spec["set"]))
    if both:
        raise SweepError(f"{', '.join(both)} both set and swept; keep each in one place")
    count = 1
    for values in grid.values():
        count *= len(values)
    if count > MAX_POINTS:
        raise SweepError(f"the grid has {count} points; the limit is {MAX_POINTS} per sweep")
    base = ["run"] + (["--preset", str(spec["preset"])] if spec.get("preset") else [])
    for key, value in spec["set"].items():
        base += _argv(key, value, flags)
    points = []
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo))
        argv = list(base)
        for key, value in values.items():
            argv += _argv(key, value, flags)
        try:
            config = config_from_args(parser.parse_args(argv))
        except (UsageError, ConfigError, ValueError) as exc:
            raise SweepError(f"point {_label(values)}: {exc}") from None
        points.append((values, config))
    return points


def _label(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "the sweep"


def summary_rows(store, points: list[dict]) -> list[dict]:
    """Per point: its values, run id, state, dense and sparsest-ticket test accuracy (means over trials)."""
    rows = []
    for p in points:
        row = {**p["values"], "run_id": p["run_id"], "state": store.status(p["run_id"]).get("state")}
        try:
            summary = results.summary_frame(store, p["run_id"])
            agg = results.aggregate(summary[~summary.shared_dense])
            tickets = agg[agg.arm == "ticket"].sort_values("level")
            row.update(dense_test_acc=float(tickets.iloc[0].test_acc_at_early_stop),
                       remaining_pct=float(tickets.iloc[-1].percent_remaining),
                       ticket_test_acc=float(tickets.iloc[-1].test_acc_at_early_stop))
        except Exception:  # a run that failed or holds no finished level yet: its state says so
            row.update(dense_test_acc=None, remaining_pct=None, ticket_test_acc=None)
        rows.append(row)
    return rows


def _bar(totals: dict, stop: threading.Event):
    """One progress bar over every run of the sweep (network-iterations done of all planned)."""
    bar = tqdm(total=1000, desc="sweep", unit="‰", file=sys.stderr, leave=True,
               bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}<{remaining}] {postfix}")
    while not stop.wait(0.5):
        done = sum(d for d, _ in totals.values())
        total = sum(t for _, t in totals.values()) or 1
        bar.n = int(1000 * done / total)
        bar.set_postfix_str(f"{sum(1 for d, t in totals.values() if d >= t)}/{len(totals)} runs")
        bar.refresh()
    bar.close()


def cmd_sweep(a, settings: Settings) -> int:
    try:
        spec = load_spec(a.file, a.preset, a.set, a.grid, a.name)
        points = expand(spec)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    for values, config in points:  # the server's memory policy, before anything is computed
        try:
            check_memory(config, settings)
        except UsageError as exc:
            raise UsageError(f"point {_label(values)}: {exc}") from None
    store = writable_store(a, settings)
    recs = [{"values": v, "run_id": c.run_id()} for v, c in points]
    name = spec["name"] or " × ".join(spec["grid"]) or "sweep"
    if a.dry_run:
        for r in recs:
            print(f"{r['run_id']}  {point_label(r['values'])}")
        print(f"{len(recs)} points, {len({r['run_id'] for r in recs})} distinct runs", file=sys.stderr)
        return 0
    store.root.mkdir(parents=True, exist_ok=True)
    sid = write_sweep(store.root, name, {k: spec[k] for k in ("preset", "set", "grid")}, recs)
    print(f"sweep {sid} ({name}): {len(recs)} points in {store.root}", file=sys.stderr)
    configs = [c for _, c in points]
    totals = {c.run_id(): (0, sum(task_steps(c, lv, arm) for _, lv, arm in planned_tasks(c))) for c in configs}

    def progress(prog):
        rid = prog.get("run_id")
        if rid in totals:
            totals[rid] = (prog.get("fraction", 0.0) * totals[rid][1], totals[rid][1])

    stop, thread = threading.Event(), None
    if sys.stderr.isatty():
        thread = threading.Thread(target=_bar, args=(totals, stop), daemon=True)
        thread.start()
    warm = (tuple({c.dataset for c in configs}), str(a.data_dir) if a.data_dir else None)
    executor = executor_from_args(a, settings, configs[0].device, warm=warm)
    try:
        outcome = run_many(configs, store, executor, data_dir=a.data_dir, on_progress=progress)
    finally:
        executor.close()
        stop.set()
        if thread:
            thread.join()
    rows = summary_rows(store, recs)
    for row in rows:
        got = outcome.get(row["run_id"])
        if got == "taken":
            row["state"] = "computed by another process"
    if a.json:
        print(json.dumps({"sweep": sid, "name": name, "points": rows}))
    else:
        table = pd.DataFrame(rows)
        print(f"sweep {sid}: {name}  (open it on the Compare page)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    failed = [r for r in rows if r["state"] not in ("done", "computed by another process")]
    return 1 if failed else 0

