"""Compare runs: several stored runs' tickets (and optionally their controls) on one chart."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lth_core import charts
from ui import data, presenter, runpick, state
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Compare runs")
st.caption("Overlay the tickets of several runs: different datasets, networks, pruning rates or resets.")

rows = [r for r in runpick.rows() if r.get("dataset") != "?"]
if not rows:
    st.info("No runs are stored yet. Start one on the **Run** page.", icon=":material/info:")
    st.stop()
labels = {r["run_id"]: runpick.row_label(r) for r in rows}
ids = [r["run_id"] for r in rows]
default = [r["run_id"] for r in rows if r["state"] == "done"][:3] or ids[:1]
chosen = st.multiselect("Runs", ids, default=default, format_func=labels.get, key="compare_runs",
                        placeholder="Choose runs to compare")
c1, c2 = st.columns([1, 2])
with c1:
    metric = st.radio("Measure", ["test_acc_at_early_stop", "early_stop_iteration", "final_test_acc"],
                      key="compare_metric", format_func={
                          "test_acc_at_early_stop": "test accuracy at early stop",
                          "early_stop_iteration": "early-stop iteration",
                          "final_test_acc": "test accuracy at the end of training"}.get)
with c2:
    with_controls = st.toggle("Also show each run's controls (dashed and dotted)", key="compare_controls")
if not chosen:
    st.stop()

series, configs = [], []
for run_id in chosen:
    store = state.find(run_id)
    if store is None:
        continue
    config = store.config(run_id)
    agg = data.aggregate(store, run_id)
    if agg.empty:
        continue
    series.append((f"{runpick.config_label(config)} · {run_id[:6]}", agg))
    configs.append((run_id, config))
if not series:
    st.info("None of the chosen runs has a finished level yet.", icon=":material/hourglass_top:")
    st.stop()
arms = ("ticket", "reinit", "random", "oneshot") if with_controls else ("ticket",)
presenter.show(charts.compare_runs(series, metric=metric, arms=arms), key="compare", filename="compare-runs")
st.markdown("**What to look for:** each colour is one run. Compare where each ticket line starts to fall: "
            "the further right it stays high, the smaller the winning tickets that setting finds. "
            "Runs on different datasets start at different accuracies; look at the shape, not only the height. "
            "A hollow marker means most of that level's networks were still improving when training ended "
            "(censored): an early-stop iteration there is the training budget, not the speed, so compare "
            "early stops only between filled markers.")

if len(configs) > 1 and not presenter.active():
    st.markdown("**What differs between these runs**")
    flat = {rid[:8]: pd.json_normalize({**c.to_dict(), "controls": ", ".join(c.controls) or "none"}).iloc[0]
            .astype(str) for rid, c in configs}
    table = pd.DataFrame(flat)
    differs = table[table.nunique(axis=1) > 1]
    if differs.empty:
        st.caption("The configs are identical.")
    else:
        st.dataframe(differs, width="stretch")

if not presenter.active():  # each run's own report, as on the Results page: lth_core.export
    from lth_core.export import report_html
    st.markdown("**Reports** (one HTML file per run: charts, numbers, claims; works offline)")
    for rid, c in configs:
        st.download_button(f"{runpick.config_label(c)} · {rid[:6]}", lambda rid=rid: report_html(state.find(rid), rid),
                           f"report-{rid}.html", "text/html", key=f"dl_report_{rid}", on_click="ignore",
                           icon=":material/description:")
