"""'Your trial + N computed earlier' on the quick demo's Results page (lth_core.analysis.earlier).

The demo trains trial 0 live; the gallery holds the identical experiment with more trials
(lth_core.atlas.companion). With the student's consent (a toggle, on by default) its other trials
join the live one, so the page's verdicts rest on several trials; the caption says which trial was
trained just now and when the others were computed.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lth_core import atlas
from lth_core.analysis import earlier
from ui import data, state


def _companion(config):
    """(gallery store, run id) of the finished companion experiment of `config`, or None."""
    comp = atlas.companion(config)
    gallery = state.gallery()
    if comp is None or gallery is None or not gallery.has_run(comp.run_id()):
        return None
    if gallery.status(comp.run_id()).get("state") != "done":
        return None
    return gallery, comp.run_id()


def offer(config, summary: pd.DataFrame, curves: pd.DataFrame):
    """(summary, curves, config) to draw: the live run's own, or joined with the earlier trials when
    a companion exists and the toggle is on (config then counts the joined trials)."""
    found = _companion(config)
    if found is None or summary.empty:
        return summary, curves, config
    gallery, rid = found
    comp_config = gallery.config(rid)
    extra = comp_config.trials - config.trials
    if not st.toggle(f"Add the {extra} trials computed earlier (same settings)", value=True, key="earlier_trials",
                     help="One trial cannot tell a real difference from luck; the statistics need at least 3."):
        st.caption("Showing your trial only: one trial gives no verdict, so the sentences below say so.")
        return summary, curves, config
    before = data.summary(gallery, rid)
    joined = earlier.join(summary, before)
    same = earlier.reproduces(summary, before)
    joined_curves = earlier.join(curves, data.curves(gallery, rid), earlier.finished_levels(summary))
    day = data.computed_on(gallery, rid)
    st.caption(f"**Your trial + {extra} computed earlier.** Trial 0 was trained just now, for you; trials 1 to "
               f"{comp_config.trials - 1} of this exact experiment were computed in advance on {day} and ship with "
               f"the app (gallery run {rid}). Each trial has its own seed; the verdicts pair them by trial. "
               "Levels join as your trial finishes them." + (
                   " The earlier run computed trial 0 too: yours matches it exactly, level by level (the "
                   "computation is deterministic)." if same else
                   " The earlier run computed trial 0 too, and yours differs from it (another machine or library "
                   "version computes slightly differently): the verdicts mix the two computations." if same is False
                   else ""))
    return joined, joined_curves, config.replace(trials=comp_config.trials)
