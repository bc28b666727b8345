"""The Results page's headline numbers, table and downloads, all computed from stored metrics."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lth_core import results
from lth_core.chart_style import ARM_NAMES, ARM_ORDER
from ui import presenter


def _at(agg: pd.DataFrame, level: int, arm: str, metric: str):
    row = agg[(agg.level == level) & (agg.arm == arm)]
    return None if row.empty else float(row[metric].iloc[0])


def metrics(agg: pd.DataFrame, config) -> None:
    """Up to four headline numbers, each read off the stored results."""
    dense = _at(agg, 0, "ticket", "test_acc_at_early_stop")
    if dense is None:
        return
    ticket = agg[(agg.arm == "ticket") & (agg.level > 0)].sort_values("level")
    note = dict(delta_color="off", delta_arrow="off", border=True)
    cols = [c for _ in range(2) for c in st.columns(2)] if presenter.active() else st.columns(4)
    cols[0].metric("Dense network", f"{100 * dense:.1f}%", "test accuracy", **note,
                   help="Test accuracy at early stopping of the unpruned network, mean over trials.")
    holds = ticket[ticket.test_acc_at_early_stop >= dense]
    if len(holds):
        best = holds.iloc[-1]
        cols[1].metric("Smallest winning ticket", f"{best.percent_remaining:.3g}%",
                       f"{100 * (best.test_acc_at_early_stop - dense):+.1f} points vs dense", border=True,
                       help="The sparsest level (% of weights remaining) where the ticket's mean test accuracy "
                            "is not below the dense network's.")
    else:
        cols[1].metric("Smallest winning ticket", "none", "no level ≥ dense", **note,
                       help="No pruned level reached the dense network's mean test accuracy in this run.")
    if not len(ticket):
        return
    last = ticket.iloc[-1]
    for arm in config.controls[:1]:
        other = _at(agg, int(last.level), arm, "test_acc_at_early_stop")
        if other is not None:
            cols[2].metric(f"Ticket vs {ARM_NAMES[arm].split(' (')[0].lower()}",
                           f"{100 * (last.test_acc_at_early_stop - other):+.1f} points",
                           f"at {last.percent_remaining:.3g}% of weights", **note,
                           help="Difference in mean test accuracy at the sparsest finished level.")
    dense_es = _at(agg, 0, "ticket", "early_stop_iteration")
    fastest = ticket.loc[ticket.early_stop_iteration.idxmin()]
    if dense_es and fastest.early_stop_iteration > 0:
        cols[3].metric("Ticket learning speed", f"{dense_es / fastest.early_stop_iteration:.2g}× dense",
                       f"best at {fastest.percent_remaining:.3g}% of weights", **note,
                       help="The dense network's early-stopping iteration divided by the ticket's, at the level "
                            "where the ticket stops earliest.")


def table(summary: pd.DataFrame) -> None:
    """Per level and arm: mean test accuracy at early stop, early-stop iteration, training accuracy."""
    agg = results.aggregate(summary[~summary.shared_dense])
    agg = agg.assign(order=agg.arm.map({a: i for i, a in enumerate(ARM_ORDER)})).sort_values(["level", "order"])
    t = pd.DataFrame({
        "level": agg.level, "weights left (%)": agg.percent_remaining, "network": agg.arm.map(ARM_NAMES),
        "trials": agg.trials, "test acc. (%)": 100 * agg.test_acc_at_early_stop,
        "min (%)": 100 * agg.test_acc_at_early_stop_min, "max (%)": 100 * agg.test_acc_at_early_stop_max,
        "early stop (it.)": agg.early_stop_iteration, "final test acc. (%)": 100 * agg.final_test_acc,
        "train acc. (%)": 100 * agg.train_acc_at_early_stop})
    if agg.trials.max() <= 1:  # one trial: min and max equal the mean
        t = t.drop(columns=["min (%)", "max (%)"])
    help_text = {"test acc. (%)": "Test accuracy at the early-stopping iteration (minimum validation loss).",
                 "early stop (it.)": "Iteration of minimum validation loss.",
                 "final test acc. (%)": "Test accuracy after the last iteration.",
                 "train acc. (%)": "Training accuracy at the early-stopping iteration."}
    fmt = {c: st.column_config.NumberColumn(format="%.2f", help=help_text.get(c)) for c in t.columns if "(%)" in c}
    fmt["early stop (it.)"] = st.column_config.NumberColumn(format="%.0f", help=help_text["early stop (it.)"])
    st.dataframe(t, hide_index=True, column_config=fmt, width="stretch")


def downloads(run_id: str, config, summary: pd.DataFrame, figures: dict) -> None:
    """CSV of every trial's metrics, the config, and each chart as a standalone HTML file that works
    offline (plotly.js embedded). figures: {button title: (file stem, figure)}."""
    st.markdown("**Downloads** (for a PNG, use the camera button above any chart)")
    per_trial = summary[~summary.shared_dense].drop(columns=["shared_dense"])
    cols = st.columns(3)
    cols[0].download_button("Metrics of every trial (CSV)", lambda: per_trial.to_csv(index=False),
                            f"metrics-{run_id}.csv", "text/csv", key="dl_csv", on_click="ignore",
                            icon=":material/table:", width="stretch")
    cols[1].download_button("Config (JSON)", lambda: json.dumps({"run_id": run_id, "config": config.to_dict()},
                                                                indent=2),
                            f"config-{run_id}.json", "application/json", key="dl_config", on_click="ignore",
                            icon=":material/data_object:", width="stretch")
    for i, (title, (name, fig)) in enumerate(figures.items(), start=2):
        cols[i % 3].download_button(f"{title} (HTML)", lambda fig=fig: fig.to_html(include_plotlyjs=True),
                                    f"{name}-{run_id}.html", "text/html", key=f"dl_{name}", on_click="ignore",
                                    icon=":material/download:", width="stretch")
