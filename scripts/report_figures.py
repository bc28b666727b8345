"""The report's figures: each run's four charts from lth_core.charts.results, exported as PNG (kaleido +
chromium) into docs/repro, or, with --no-figures, the ones already there. Paths come back
relative to docs/, as REPRODUCTION.md links them."""
from __future__ import annotations

import os
from pathlib import Path

from lth_core.charts import results as charts

from lth_core.analysis import results, speed, spread
from lth_core.store.run_store import Store
from report_format import run_label

FIGURES = ("accuracy", "early-stop", "curves", "gap")


def _png(f: dict, name: str, folder: Path) -> tuple[Path, str]:
    """Where a run's figure lies, and its link from docs/ (folder is a folder of docs/)."""
    file = f"{f['key']}-{name}.png"
    return folder / file, f"{folder.name}/{file}"


def export_figures(f: dict, store: Store, folder: Path) -> dict:
    """The run's four charts as PNG files in folder, from lth_core.charts.results; returns {name: link}."""
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    run_id, c = f["run_id"], f["config"]
    agg = results.aggregate(results.summary_frame(store, run_id))
    curves = results.curves_frame(store, run_id)
    title = run_label(f)
    ref = spread.nearest_level(results.summary_frame(store, run_id), speed.REFERENCE_PERCENT)
    last = f["levels"][-1]["level"]
    show = sorted({0, *(lv for lv in (ref, last) if lv)})
    figs = {"accuracy": charts.accuracy_vs_sparsity(agg, all_percents=f["ladder"],
                                                    title=f"{title}: test accuracy at early stop"),
            "early-stop": charts.early_stop_vs_sparsity(agg, all_percents=f["ladder"], iterations=c["training"]
                                                        ["iterations"], title=f"{title}: early-stopping iteration"),
            "curves": charts.learning_curves(curves, show, title=f"{title}: ticket vs re-init learning curves"),
            "gap": charts.generalisation_gap(agg, all_percents=f["ladder"], title=f"{title}: train vs test accuracy")}
    out = {}
    for name in FIGURES:
        fig = figs[name]
        fig.update_layout(paper_bgcolor="white", plot_bgcolor="white", font_color="#222")
        # The title on top and room under it for a legend of two rows (the censored-marker note wraps)
        height = (fig.layout.height or 420) + 30
        fig.update_layout(margin_t=fig.layout.margin.t + 30, title=dict(yref="container", y=1 - 8 / height,
                                                                         yanchor="top"))
        if fig.layout.legend.yref == "container":  # panels: the legend sits just under the title
            fig.update_layout(legend=dict(y=1 - 44 / height))
        path, out[name] = _png(f, name, folder)
        fig.write_image(path, width=1000, height=height, scale=1)
    return out


def figure_paths(f: dict, folder: Path) -> dict:
    """The figures already exported for a run into folder (when --no-figures): {name: link}."""
    out = {}
    for name in FIGURES:
        path, link = _png(f, name, folder)
        if path.exists():
            out[name] = link
    return out
