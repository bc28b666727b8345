"""Cached data and the clickable chart for the "Play through the rounds" page."""
from __future__ import annotations

import streamlit as st

from lth_core.charts import rounds as charts_rounds

from lth_core.analysis import inspection
from lth_core.store.run_store import Store
from ui import data, inside, presenter


@st.cache_data(show_spinner="Preparing the rounds…", max_entries=8)
def figure(root: str, readonly: bool, run_id: str, trial: int, levels: tuple, sig: tuple, stacked: bool = False):
    """The animated four-panel figure of one trial (built once per run, trial, stored levels and layout)."""
    store = Store(root, readonly=readonly)
    config = store.config(run_id)
    layer = inspection.first_layer(config.arch)
    theta0, _ = inside.theta0(root, readonly, run_id, trial)
    masks = [inside.mask(root, readonly, run_id, trial, lv) for lv in levels]
    maps = [inspection.first_layer_map(m, config.arch) for m in masks]
    splits = [inspection.init_split(theta0, m, layer) for m in masks]
    return charts_rounds.rounds_figure(data.config_ladder(config), data.aggregate(store, run_id), levels, maps,
                                       splits, inspection.layer_labels(config.arch)[layer], stacked=stacked)


def show_clickable(fig, stacked, key: str) -> list:
    """Draw the figure, 2 x 2 or stacked by the screen's width (presenter mode: larger fonts), and return
    the points clicked in it."""
    return presenter.show_by_width(fig, stacked, key=key, filename="rounds", clickable=True)
