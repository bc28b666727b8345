"""On-demand analyses of a stored run, stored with the run: robustness to weight noise.

<store>/<run_id>/analysis/noise.json holds {"records": {param key: record}} (atomic writes,
noise.json.lock serialising read-modify-write); noise-<hash>.* are a background job's files.
Keyed by parameters, a choice is computed once; written after every network, it resumes
where it stopped and a complete record needs no data. It needs each network's trained
weights; runs stored without them raise NoStoredWeights with a message for the user.
"""
from __future__ import annotations

import hashlib
import json
import numbers

import pandas as pd

from lth_core import layout
from lth_core.arms import COPY_ARM, family as arm_family
from lth_core.plan import planned_tasks, trial_seed
from lth_core.lottery.tasks import get_data
from lth_core.pruning.masks import counts, ones_like
from lth_core.models.architectures import build, prunable_layers
from lth_core.analysis.noise import check_scales, noise_accuracy
from lth_core.seeds import derive_seed
from lth_core.store.run_store import Corrupt, Store, flock_file

NOISE_FILE = "analysis/noise.json"
DEFAULT_SCALES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # relative to each layer's std
DEFAULT_DRAWS = 5
MAX_SCALES, MAX_SCALE, MAX_DRAWS = 41, 100.0, 100
NO_WEIGHTS = ("this run was stored without its trained weights (gallery runs keep none, and runs made before "
              "weights were kept have none); run the same experiment with another seed, then analyse that run")
FRAME_COLUMNS = ["trial", "level", "arm", "percent_remaining", "scale", "draw", "accuracy", "clean_test_acc"]


class AnalysisError(Exception):
    """An analysis cannot be made as asked; str() is a message for the user."""


class BadParams(AnalysisError, ValueError):
    """Levels, scales, draws or arms that the run does not allow."""


class NoStoredWeights(AnalysisError):
    """The run was stored without its networks' trained weights (runs made before they were kept)."""


class NotReady(AnalysisError):
    """A network the analysis needs is not trained yet (the run is unfinished)."""


# --- parameters ----------------------------------------------------------------
def default_levels(levels: int) -> list[int]:
    """The dense network, the middle level and the last: a cheap first look (levels >= 1)."""
    return sorted({0, (levels - 1) // 2, levels - 1})


def run_arms(config) -> list[str]:
    """Every arm the run trains, in the engine's order (lth_core.lottery.state.planned_tasks); the
    stability copy (a second ticket, at stability_levels only) last."""
    arms = list(dict.fromkeys(arm for _, _, arm in planned_tasks(config)))
    return [a for a in arms if a != COPY_ARM] + [a for a in arms if a == COPY_ARM]


def _integer(v) -> int | None:
    """v as a Python int if it is an integer (numpy's too, not bool), else None."""
    return int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else None


def noise_params(config, levels=None, scales=None, draws=None, arms=None) -> dict:
    """Canonical parameters for a run's config: levels sorted and unique in [0, config.levels),
    scales sorted and unique in [0, MAX_SCALE], draws in [1, MAX_DRAWS], arms (None: all of the
    run's but the stability copy) in the run's order. BadParams, with the allowed values, otherwise."""
    n = config.levels
    levels = default_levels(n) if levels is None else list(levels)
    bad = [lv for lv in levels if _integer(lv) is None or not 0 <= lv < n]
    if bad or not levels:
        raise BadParams(f"levels must be integers from 0 to {n - 1} (this run has {n} levels), got {bad[:1] or 'none'}")
    levels = [_integer(lv) for lv in levels]
    try:
        scales = check_scales(DEFAULT_SCALES if scales is None else scales)
    except ValueError as exc:
        raise BadParams(str(exc)) from None
    scales = sorted(set(scales))
    if not scales or len(scales) > MAX_SCALES or scales[-1] > MAX_SCALE:
        raise BadParams(f"give 1 to {MAX_SCALES} noise scales, each from 0 to {MAX_SCALE:g}, got {len(scales)}"
                        + (f" up to {scales[-1]:g}" if scales else ""))
    given, draws = draws, _integer(DEFAULT_DRAWS if draws is None else draws)
    if draws is None or not 1 <= draws <= MAX_DRAWS:
        raise BadParams(f"draws must be an integer from 1 to {MAX_DRAWS}, got {given!r}")
    valid = run_arms(config)
    arms = [a for a in valid if a != COPY_ARM] if arms is None else list(arms)
    unknown = [a for a in arms if a not in valid]
    if unknown or not arms:
        raise BadParams(f"unknown arm {unknown[0] if unknown else 'none'!r} for this run; it has {', '.join(valid)}")
    params = {"levels": sorted(set(levels)), "scales": scales, "draws": draws,
              "arms": [a for a in valid if a in set(arms)]}
    if not networks(config, params):
        raise BadParams(f"no network of arm(s) {', '.join(params['arms'])} is trained at level(s) "
                        f"{', '.join(map(str, params['levels']))}; only the dense network (ticket) is at level 0")
    return params


def param_key(params: dict) -> str:
    """The record's key in noise.json: the canonical parameters as compact JSON."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def param_hash(params: dict) -> str:
    """16 hex digits naming one parameter choice in file names (a job's lock, status, log)."""
    return hashlib.sha256(param_key(params).encode()).hexdigest()[:16]


def networks(config, params: dict) -> list[tuple[int, int, str]]:
    """(trial, level, arm) of every network the analysis evaluates (level 0: the dense network)."""
    return [(t, lv, a) for t, lv, a in planned_tasks(config) if lv in params["levels"] and a in params["arms"]]


def evaluations(config, params: dict) -> int:
    """Test-set evaluations the analysis takes: one at scale 0, `draws` at every other scale."""
    per = sum(1 if s == 0 else params["draws"] for s in params["scales"])
    return per * len(networks(config, params))


# --- the store -----------------------------------------------------------------
def _key(trial: int, level: int, arm: str) -> str:
    """A network's key in noise.json (its metrics record's path, without '.json')."""
    return f"{layout.level_dir(trial, level)}/{arm}"


def weights_stored(store: Store, run_id: str) -> bool:
    """Whether the run kept its trained weights (the dense network's, trial 0)."""
    return (store.run_dir(run_id) / layout.final(0, 0, "ticket")).is_file()


def check_ready(store: Store, run_id: str, config, params: dict) -> None:
    """NoStoredWeights / NotReady unless every network the analysis needs is trained and kept."""
    if not weights_stored(store, run_id):
        raise NoStoredWeights(NO_WEIGHTS)
    base = store.run_dir(run_id)
    for t, lv, a in networks(config, params):
        if not (base / layout.metrics(t, lv, a)).is_file():
            raise NotReady(f"level {lv} ({a}, trial {t}) is not trained yet; wait for the run to finish")
        if not (base / layout.final(t, lv, a)).is_file():
            raise NoStoredWeights(f"{NO_WEIGHTS} (level {lv}, {a}, trial {t} has none)")


def noise_records(store: Store, run_id: str) -> dict:
    """Every stored noise record of the run, {param key: record}; {} if none (or the file is damaged,
    which the next computation rewrites)."""
    try:
        data = store.read_json(run_id, NOISE_FILE)
    except (FileNotFoundError, Corrupt):
        return {}
    return data.get("records", {}) if isinstance(data, dict) else {}


def read_noise(store: Store, run_id: str, params: dict) -> dict | None:
    """The stored record for these canonical parameters (complete or partial), or None."""
    return noise_records(store, run_id).get(param_key(params))


def _file_lock(store: Store, run_id: str):
    """Exclusive lock on noise.json's read-modify-write (held for milliseconds; waits)."""
    return flock_file(store.run_dir(run_id) / f"{NOISE_FILE}.lock", None)


def _update(store: Store, run_id: str, params: dict, change) -> dict:
    """Apply change(record) to the stored record under the file lock; returns the new record."""
    key = param_key(params)
    with _file_lock(store, run_id):
        records = noise_records(store, run_id)
        rec = records.get(key) or {"run_id": run_id, "params": params, "complete": False, "networks": {}}
        change(rec)
        records[key] = rec
        store.write_json(run_id, NOISE_FILE, {"records": records})
    return rec


def _mask(store: Store, run_id: str, trial: int, level: int, arm: str, dense):
    """The mask the network trained with: its own file; else the ticket's for the arms that train
    the ticket's mask (re-init, the stability copy: lth_core.lottery.state); all ones at level 0."""
    shares_ticket = arm == "reinit" or arm_family(arm) == "copy"
    for owner in (arm,) + (("ticket",) if shares_ticket else ()):
        if level == 0 and owner == "ticket":
            return dense
        try:
            return store.read_masks(run_id, layout.mask(trial, level, owner))
        except FileNotFoundError:
            continue
    if level == 0:
        return dense
    raise NotReady(f"level {level} ({arm}, trial {trial}) has no stored mask")


def _network_entry(store, run_id, config, x, y, params, trial, level, arm, dense) -> dict:
    """One network's noise accuracies, with its clean stored test accuracy."""
    metrics = store.read_json(run_id, layout.metrics(trial, level, arm))
    masks = _mask(store, run_id, trial, level, arm, dense)
    if counts(masks) != {n: int(c) for n, c in metrics.get("layer_remaining", counts(masks)).items()}:
        raise Corrupt(f"{_key(trial, level, arm)}: the mask does not match the network's metrics record")
    state = store.read_state(run_id, layout.final(trial, level, arm))
    seed = derive_seed(trial_seed(config, trial), "noise", level, arm)
    acc = noise_accuracy(config.arch, config.training.dropout, state, masks, x, y, params["scales"],
                         params["draws"], seed)
    total = sum(m.numel() for m in masks.values())
    return {"trial": trial, "level": level, "arm": arm, "accuracy": acc,
            "percent_remaining": 100.0 * sum(counts(masks).values()) / total,
            "clean_test_acc": metrics["history"]["test_acc"][-1]}


def compute_noise(store: Store, run_id: str, levels=None, scales=None, draws=None, arms=None,
                  data_dir=None, on_progress=None) -> dict:
    """The noise record of a run for these parameters: from the store when complete, else computed
    (resuming a partial record) and stored network by network.

    levels / scales (relative, >= 0) / draws per scale / arms: None for the defaults (all arms).
    on_progress({"networks_done", "networks_total", "fraction"}) after each network. Raises
    BadParams, NoStoredWeights, NotReady. Returns {"run_id", "params", "complete", "networks":
    {"t<trial>/L<level>/<arm>": {..., "clean_test_acc", "accuracy": [scale][draw]}}}."""
    config = store.config(run_id)
    params = noise_params(config, levels, scales, draws, arms)
    rec = read_noise(store, run_id, params)
    if rec is not None and rec.get("complete"):
        return rec
    check_ready(store, run_id, config, params)
    data = get_data(config.dataset, data_dir, "cpu")
    model = build(config.arch, 0)
    dense = ones_like(model, prunable_layers(model))  # the mask of a level-0 network
    todo = networks(config, params)
    done = set((rec or {}).get("networks", {}))
    for i, (t, lv, a) in enumerate(todo):
        key = _key(t, lv, a)
        if key not in done:
            entry = _network_entry(store, run_id, config, data.x_test, data.y_test, params, t, lv, a, dense)
            rec = _update(store, run_id, params, lambda r: r["networks"].__setitem__(key, entry))
        if on_progress is not None:
            on_progress({"networks_done": i + 1, "networks_total": len(todo), "fraction": (i + 1) / len(todo)})
    return _update(store, run_id, params, lambda r: r.__setitem__("complete", True))


# --- tidy data -----------------------------------------------------------------
def noise_frame(record: dict | None) -> pd.DataFrame:
    """One row per (trial, level, arm, scale, draw): FRAME_COLUMNS, accuracies as fractions."""
    rows = []
    for net in (record or {}).get("networks", {}).values():
        for scale, accs in zip(record["params"]["scales"], net["accuracy"]):
            rows += [{"trial": net["trial"], "level": net["level"], "arm": net["arm"],
                      "percent_remaining": net["percent_remaining"], "scale": scale, "draw": d,
                      "accuracy": acc, "clean_test_acc": net["clean_test_acc"]} for d, acc in enumerate(accs)]
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    return frame.sort_values(["level", "arm", "trial", "scale", "draw"], ignore_index=True)


def noise_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (level, arm, scale): mean accuracy over trials and draws, its min and max, the number of
    networks (trials) and of values, and the mean % remaining."""
    cols = ["level", "arm", "scale", "percent_remaining", "mean", "min", "max", "trials", "values"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    g = frame.groupby(["level", "arm", "scale"], sort=True)
    out = g.accuracy.agg(["mean", "min", "max"]).reset_index()
    out["percent_remaining"] = g.percent_remaining.mean().values
    out["trials"] = g.trial.nunique().values
    out["values"] = g.accuracy.size().values
    return out[cols]
