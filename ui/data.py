"""Cached reads of the store for the pages.

The store is the source of truth; these caches only speed up reading it. Each reader takes a
signature of the run's folder (file count, newest mtime), so a growing run is read again.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from lth_core.analysis import inspection, results
from lth_core.data.datasets import load
from lth_core.lottery.state import percent_ladder
from lth_core.store.run_store import Store
from ui.state import few_threads, settings


def signature(store: Store, run_id: str) -> tuple:
    """(number of files, newest mtime) of a run's trial folders: changes when results land."""
    count, newest = 0, 0.0
    for trial in Path(store.run_dir(run_id)).glob("t*"):
        for root, _, files in os.walk(trial):
            for f in files:
                if f.endswith((".json", ".st")):
                    count += 1
                    newest = max(newest, os.stat(os.path.join(root, f)).st_mtime)
    return count, newest


def _store(root: str, readonly: bool) -> Store:
    return Store(root, readonly=readonly)


@st.cache_data(show_spinner=False, max_entries=64)
def _summary(root: str, readonly: bool, run_id: str, sig: tuple) -> pd.DataFrame:
    return results.summary_frame(_store(root, readonly), run_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _curves(root: str, readonly: bool, run_id: str, sig: tuple) -> pd.DataFrame:
    return results.curves_frame(_store(root, readonly), run_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _layers(root: str, readonly: bool, run_id: str, sig: tuple) -> pd.DataFrame:
    return results.layers_frame(_store(root, readonly), run_id)


def summary(store: Store, run_id: str) -> pd.DataFrame:
    """results.summary_frame: one row per (level, arm, trial), dense repeated per control."""
    return _summary(str(store.root), store.readonly, run_id, signature(store, run_id))


def aggregate(store: Store, run_id: str) -> pd.DataFrame:
    """Mean/min/max over trials per (level, arm); every arm starts from the shared dense level."""
    return results.aggregate(summary(store, run_id))


def curves(store: Store, run_id: str) -> pd.DataFrame:
    return _curves(str(store.root), store.readonly, run_id, signature(store, run_id))


def layers(store: Store, run_id: str) -> pd.DataFrame:
    return _layers(str(store.root), store.readonly, run_id, signature(store, run_id))


def levels_finished(summary_df: pd.DataFrame, config) -> int:
    """Levels whose every trial and arm has stored metrics."""
    if summary_df.empty:
        return 0
    real = summary_df[~summary_df.shared_dense.astype(bool)]
    done = 0
    for level in range(config.levels):
        want = config.trials * (1 if level == 0 else len(config.arms))
        if len(real[real.level == level][["trial", "arm"]].drop_duplicates()) >= want:
            done += 1
    return done


def config_ladder(config) -> list[float]:
    """% remaining per level of an ExperimentConfig, cached by its canonical JSON."""
    import json
    return ladder(json.dumps(config.to_dict(), sort_keys=True))


@st.cache_data(show_spinner=False, max_entries=256)
def ladder(config_json: str) -> list[float]:
    """% remaining per level of a config (given as canonical JSON so it can be cached)."""
    import json
    from lth_core.config import ExperimentConfig
    return percent_ladder(ExperimentConfig.from_dict(json.loads(config_json)))


@st.cache_resource(show_spinner="Loading the test set…", max_entries=2)
def dataset(name: str):
    """A dataset's tensors, loaded once per server (read-only use), from the server's data folder."""
    return load(name, settings().data_dir)


@st.cache_data(show_spinner=False, max_entries=16)
def toy(seed: int, rate: float) -> dict:
    with few_threads():
        return inspection.toy_imp(seed=seed, rate=rate)


def computed_on(store: Store, run_id: str) -> str:
    """The UTC day a run's status was last written (for a finished run: when it finished), or 'an earlier date'."""
    when = store.status(run_id).get("time")
    if not isinstance(when, (int, float)):
        return "an earlier date"
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%d")
