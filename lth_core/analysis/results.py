"""Tidy pandas DataFrames of a run's metrics, read from the store, for charts and tables.

Accuracies are fractions in [0, 1]; percent_remaining is in (0, 100]. The dense network
(level 0) is every arm's start, so the summary repeats it per control with shared_dense=True.
"""
from __future__ import annotations

import pandas as pd

from lth_core import layout
from lth_core.training.early_stop import is_censored
from lth_core.models.architectures import layer_sizes
from lth_core.plan import level_arms
from lth_core.store.run_store import Corrupt, Store
from lth_core.training.loop import History

SUMMARY_METRICS = ("early_stop_iteration", "early_stop_smoothed", "test_acc_at_early_stop", "final_test_acc",
                   "train_acc", "train_acc_at_early_stop", "val_acc_at_early_stop", "val_loss_at_early_stop")


def records(store: Store, run_id: str) -> list[dict]:
    """Every intact metrics record of a run (damaged or missing ones are skipped)."""
    config = store.config(run_id)
    out = []
    for trial in range(config.trials):
        for level in range(config.levels):
            for arm in level_arms(config, level):
                try:
                    out.append(store.read_json(run_id, layout.metrics(trial, level, arm)))
                except (FileNotFoundError, Corrupt):
                    continue
    return out


def _percent(rec: dict) -> float:
    return 100.0 * sum(rec["layer_remaining"].values()) / sum(rec["layer_sizes"].values())


def summary_frame(store: Store, run_id: str) -> pd.DataFrame:
    """One row per (level, arm, trial): early stopping (with its censoring flags, see
    lth_core.training.early_stop) and accuracies. train_measured is False for older records whose
    training accuracy is the running minibatch proxy, not a measurement."""
    config = store.config(run_id)
    iters = config.training.iterations
    rows = []
    for rec in records(store, run_id):
        s = History.from_dict(rec["history"]).summary()
        start = config.start_iteration(rec["level"], rec["arm"])
        base = {"run_id": run_id, "trial": rec["trial"], "seed": rec["seed"], "level": rec["level"],
                "percent_remaining": _percent(rec), **s,
                "censored": is_censored(s["early_stop_iteration"], iters, start),
                "censored_smoothed": is_censored(s["early_stop_smoothed"], iters, start),
                "train_measured": "train_measure" in rec}
        rows.append({**base, "arm": rec["arm"], "shared_dense": False})
        if rec["level"] == 0 and rec["arm"] == "ticket":  # the dense network, not its stability copy
            rows += [{**base, "arm": a, "shared_dense": True} for a in config.arms[1:]]
    cols = ["run_id", "trial", "seed", "level", "percent_remaining", "arm", "shared_dense", *SUMMARY_METRICS,
            "censored", "censored_smoothed", "train_measured"]
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(["level", "arm", "trial"], ignore_index=True)


TRAIN_PROXY_NOTE = ("Training accuracy in this run is the running accuracy of its recent minibatches in train mode "
                    "(it predates measured training accuracy), so training-vs-test comparisons are indicative only.")


def measurement_notes(summary: pd.DataFrame) -> list[str]:
    """Plain-words notes on what an older run did not measure (empty for current runs)."""
    if "train_measured" in summary and len(summary) and not summary.train_measured.all():
        return [TRAIN_PROXY_NOTE]
    return []


def aggregate(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean, min and max over trials of each metric, per (level, arm)."""
    if summary.empty:
        return pd.DataFrame(columns=["level", "arm", "percent_remaining", "trials"])
    g = summary.groupby(["level", "arm"], as_index=False)
    out = g.agg(percent_remaining=("percent_remaining", "mean"), trials=("trial", "nunique"))
    if "censored" in summary:  # share of the level's networks whose early stop is censored
        out["censored_fraction"] = g["censored"].mean()["censored"].astype(float).values
    for m in SUMMARY_METRICS:
        stats = g[m].agg(["mean", "min", "max"])
        out[m] = stats["mean"].values
        out[f"{m}_min"] = stats["min"].values
        out[f"{m}_max"] = stats["max"].values
    return out.sort_values(["level", "arm"], ignore_index=True)


def curves_frame(store: Store, run_id: str) -> pd.DataFrame:
    """Long format: one row per evaluation point of every trained network."""
    rows = []
    for rec in records(store, run_id):
        h, pct = rec["history"], _percent(rec)
        for i, it in enumerate(h["iteration"]):
            rows.append({"run_id": run_id, "trial": rec["trial"], "level": rec["level"], "arm": rec["arm"],
                         "percent_remaining": pct, "iteration": it, "val_loss": h["val_loss"][i],
                         "val_acc": h["val_acc"][i], "test_acc": h["test_acc"][i], "train_acc": h["train_acc"][i]})
    cols = ["run_id", "trial", "level", "arm", "percent_remaining", "iteration",
            "val_loss", "val_acc", "test_acc", "train_acc"]
    return pd.DataFrame(rows, columns=cols)


def layers_frame(store: Store, run_id: str) -> pd.DataFrame:
    """One row per (trial, level, arm, layer): surviving weights and % remaining."""
    order = list(layer_sizes(store.config(run_id).arch))  # input to output, not alphabetical
    rows = []
    for rec in records(store, run_id):
        for name in sorted(rec["layer_remaining"], key=lambda n: order.index(n) if n in order else len(order)):
            alive = rec["layer_remaining"][name]
            size = rec["layer_sizes"][name]
            rows.append({"trial": rec["trial"], "level": rec["level"], "arm": rec["arm"], "layer": name,
                         "remaining": alive, "size": size, "percent_remaining": 100.0 * alive / size})
    return pd.DataFrame(rows, columns=["trial", "level", "arm", "layer", "remaining", "size", "percent_remaining"])


def run_json(store: Store, run_id: str) -> dict:
    """The command line's --json object: per level and arm, means over trials plus each trial."""
    config = store.config(run_id)
    summary = summary_frame(store, run_id)
    levels = []
    for level in range(config.levels):
        at = summary[(summary.level == level) & ~summary.shared_dense]
        arms = {}
        for arm, grp in at.groupby("arm"):
            trials = grp[["trial", "seed", "early_stop_iteration", "test_acc_at_early_stop",
                          "final_test_acc", "train_acc"]].to_dict("records")
            arms[arm] = {"early_stop_iteration": float(grp.early_stop_iteration.mean()),
                         "test_acc_at_early_stop": float(grp.test_acc_at_early_stop.mean()),
                         "final_test_acc": float(grp.final_test_acc.mean()),
                         "train_acc": float(grp.train_acc.mean()),
                         "trials": [{k: (int(v) if k in ("trial", "seed", "early_stop_iteration") else float(v))
                                     for k, v in t.items()} for t in trials]}
        pct = float(at.percent_remaining.mean()) if len(at) else None
        levels.append({"level": level, "percent_remaining": pct, "arms": arms})
    return {"run_id": run_id, "config": config.to_dict(), "levels": levels}
