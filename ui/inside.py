"""Cached computations for the "Inside the ticket" page (masks, theta_0, untrained-mask accuracy)."""
from __future__ import annotations

import streamlit as st

from lth_core.analysis import inspection
from lth_core.store.run_store import Corrupt, Store
from ui import data
from ui.state import few_threads

FAST_ARCHS = ("mlp1d", "lenet300")  # the whole test set in well under a second on a CPU
SUBSET = 1000                       # test examples used for the larger (conv) networks


def _store(root: str, readonly: bool) -> Store:
    return Store(root, readonly=readonly)


@st.cache_data(show_spinner=False, max_entries=32)
def mask(root: str, readonly: bool, run_id: str, trial: int, level: int):
    """The ticket's mask at a level, or None when that level is not stored (yet)."""
    try:
        return inspection.load_mask(_store(root, readonly), run_id, trial, level)
    except (FileNotFoundError, Corrupt):
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def theta0(root: str, readonly: bool, run_id: str, trial: int):
    """(theta_0, where it came from: 'stored' or 'rebuilt from the trial seed')."""
    return inspection.load_theta0(_store(root, readonly), run_id, trial)


def stored_levels(store: Store, run_id: str, trial: int, levels: int) -> list[int]:
    """Pruned levels (>= 1) whose ticket mask is in the store."""
    return [lv for lv in range(1, levels) if mask(str(store.root), store.readonly, run_id, trial, lv) is not None]


@st.cache_data(show_spinner="Evaluating the masks on the test set…", max_entries=64)
def untrained_accuracy(root: str, readonly: bool, run_id: str, trial: int, level: int) -> dict:
    """Test accuracy with no training at all: theta_0 dense, with the ticket's mask, and with
    a random mask of the same per-layer sizes. Returns fractions and the number of examples."""
    store = _store(root, readonly)
    config = store.config(run_id)
    d = data.dataset(config.dataset)
    n = len(d.x_test) if config.arch in FAST_ARCHS else min(SUBSET, len(d.x_test))
    x, y = d.x_test[:n], d.y_test[:n]
    state, _ = theta0(root, readonly, run_id, trial)
    m = mask(root, readonly, run_id, trial, level)
    dense = mask(root, readonly, run_id, trial, 0)
    with few_threads():
        return {"n": n, "dense": inspection.masked_accuracy(config.arch, state, dense, x, y),
                "ticket": inspection.masked_accuracy(config.arch, state, m, x, y),
                "random": inspection.masked_accuracy(config.arch, state, inspection.random_mask(m, 1000 + level),
                                                     x, y)}
