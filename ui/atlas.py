"""Cached reads and figures for the atlas page: each rate's tables and charts are computed once per
server, so moving a slider only picks among them (the gallery is read-only: nothing changes)."""
from __future__ import annotations

import threading

import streamlit as st

from lth_core import atlas
from lth_core.analysis import atlas_view, inspection, results, spread
from lth_core.charts import inside as inside_charts
from lth_core.charts import marks
from lth_core.charts import results as charts
from lth_core.lottery.state import percent_ladder
from lth_core.store.run_store import Store


def _gallery(root: str) -> Store:
    return Store(root, readonly=True)


@st.cache_data(show_spinner=False, max_entries=16)
def tables(root: str, run_id: str) -> dict:
    """{'summary', 'agg', 'curves', 'verdicts' (per level), 'parting' (% or None), 'ladder'}."""
    g = _gallery(root)
    summary = results.summary_frame(g, run_id)
    return {"summary": summary, "agg": results.aggregate(summary), "curves": results.curves_frame(g, run_id),
            "verdicts": atlas_view.verdicts(summary), "ladder": percent_ladder(g.config(run_id)),
            "parting": spread.compare_to_dense(summary, "reinit")["falls_below_at"]}


@st.cache_data(show_spinner=False, max_entries=16)
def curve_figures(root: str, run_id: str) -> tuple:
    """(accuracy, early stop) against % remaining, before the level mark."""
    t, config = tables(root, run_id), _gallery(root).config(run_id)
    acc = charts.accuracy_vs_sparsity(t["agg"], arms=list(config.arms), all_percents=t["ladder"])
    marks.mark_parting(acc, t["parting"])
    es = charts.early_stop_vs_sparsity(t["agg"], arms=list(config.arms), all_percents=t["ladder"],
                                       iterations=config.training.iterations)
    return acc, es


@st.cache_data(show_spinner=False, max_entries=128)
def level_figures(root: str, run_id: str, level: int) -> tuple:
    """(validation-loss curves at the level, the ticket's first-layer mask of trial 0 or None)."""
    t, config = tables(root, run_id), _gallery(root).config(run_id)
    curves = charts.learning_curves(t["curves"], [level], arms=list(config.arms), metric="val_loss",
                                    iterations=config.training.iterations)
    try:
        m = inspection.load_mask(_gallery(root), run_id, 0, level)
    except FileNotFoundError:
        return curves, None
    mask = inside_charts.first_layer_image(inspection.first_layer_map(m, config.arch), input_label="signal",
                                           title="Ticket's first layer, trial 0")
    return curves, mask


_WARMING = threading.Lock()
_warmed: set[str] = set()


def present(gallery: Store | None) -> dict[float, str]:
    """{rate: run id} of the atlas runs this gallery holds."""
    if gallery is None:
        return {}
    return {r: atlas.config(r).run_id() for r in atlas.RATES if gallery.has_run(atlas.config(r).run_id())}


def warm_in_background(gallery: Store | None) -> None:
    """Once per server: compute every atlas rate's tables, its two curve charts and its dense level's
    charts in a background thread, so even the first student to move the rate slider gets an answer at
    once (another size's two charts are made on its first visit: a few hundredths of a second)."""
    if gallery is None:
        return
    root = str(gallery.root)
    with _WARMING:
        if root in _warmed:
            return
        _warmed.add(root)
    run_ids = list(present(gallery).values())

    def warm():
        for run_id in run_ids:
            curve_figures(root, run_id)
            level_figures(root, run_id, 0)

    threading.Thread(target=warm, name="atlas-warm-up", daemon=True).start()
