"""Compare runs: several stored runs' tickets (and optionally their controls) on one chart."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lth_core.charts import results as charts
from lth_core.store.sweeps import list_sweeps, point_label
from ui import data, presenter, runpick, state
from ui.text import quoted
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell


def _beyond(c) -> str:
    """What a run changes beyond the paper that config_label leaves out: granularity, criterion."""
    return ((f" · whole {c.pruning.granularity}" if c.pruning.granularity != "unstructured" else "")
            + (f" · by {c.pruning.criterion.replace('_', ' ')}" if c.pruning.criterion != "magnitude" else ""))


st.title("Compare runs")
st.caption("Overlay the tickets of several runs: different datasets, networks, pruning rates, resets, "
           "granularities (whole neurons or filters vs single weights) or criteria; and any of their other "
           "networks: controls, tickets by other criteria, masks found at initialisation and their checks.")

rows = [r for r in runpick.rows() if r.get("dataset") != "?"]
if not rows:
    st.info("No runs are stored yet. Start one on the **Run** page.", icon=":material/info:")
    st.stop()
labels = {r["run_id"]: runpick.row_label(r) for r in rows}
ids = [r["run_id"] for r in rows]
default = [r["run_id"] for r in rows if r["state"] == "done"][:3] or ids[:1]
sweeps = {s["id"]: s for s in list_sweeps(*[s.root for s in state.stores()])}
wanted = st.query_params.get("sweep")
if wanted is not None and wanted not in sweeps:
    st.warning(f"There is no sweep {quoted(wanted)} in this server's stores; "
               f"{'choose one below' if sweeps else 'run one with python -m lth_core sweep'}.",
               icon=":material/search_off:")
    wanted = None
sweep = None
if sweeps:
    options = [""] + list(sweeps)
    picked = st.selectbox("Open a sweep (all its runs as one overlay)", options,
                          index=options.index(wanted) if wanted else 0, key="compare_sweep",
                          format_func=lambda s: "—" if not s else
                          f"{sweeps[s]['name']} · {len(sweeps[s]['points'])} points · {s}")
    if picked:
        sweep = sweeps[picked]
        if st.query_params.get("sweep") != picked:
            st.query_params["sweep"] = picked
    elif "sweep" in st.query_params:
        del st.query_params["sweep"]
if sweep is not None:  # the sweep's own labels: the values that vary between its points
    for pt in sweep["points"]:
        if pt["run_id"] in labels:
            labels[pt["run_id"]] = f"{point_label(pt['values'])} · {pt['run_id'][:6]}"
    default = list(dict.fromkeys(pt["run_id"] for pt in sweep["points"] if pt["run_id"] in labels))
    missing = len({pt["run_id"] for pt in sweep["points"]}) - len(default)
    if missing:
        st.info(f"{missing} of this sweep's runs are not in the store yet (still to compute, or deleted).",
                icon=":material/hourglass_top:")
    st.session_state["compare_runs"] = default
chosen = st.multiselect("Runs", ids, default=default, format_func=labels.get, key="compare_runs",
                        placeholder="Choose runs to compare")
metric = st.radio("Measure", ["test_acc_at_early_stop", "early_stop_iteration", "final_test_acc"],
                 key="compare_metric", horizontal=True, format_func={
                     "test_acc_at_early_stop": "test accuracy at early stop",
                     "early_stop_iteration": "early-stop iteration",
                     "final_test_acc": "test accuracy at the end of training"}.get)
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
    name = labels[run_id] if sweep is not None else f"{runpick.config_label(config)}{_beyond(config)} · {run_id[:6]}"
    series.append((name, agg))
    configs.append((run_id, config))
if not series:
    st.info("None of the chosen runs has a finished level yet.", icon=":material/hourglass_top:")
    st.stop()
# every arm any chosen run trained: the paper's controls, other criteria's tickets, at-init masks and checks
offered = [a for a in charts.ARM_ORDER if any(a in c.arms for _, c in configs)]
arms = ["ticket"]
if len(offered) > 1:
    arms = st.pills("Networks of each run (one colour per run, one dash per network)", offered,
                    selection_mode="multi", default=["ticket"], key="compare_arms",
                    format_func=lambda a: charts.ARM_NAMES[a].split(" (")[0]) or ["ticket"]
presenter.show(charts.compare_runs(series, metric=metric, arms=arms), key="compare", filename="compare-runs")
st.markdown("**What to look for:** each colour is one run. Compare where each ticket line starts to fall: "
            "the further right it stays high, the smaller the winning tickets that setting finds. "
            "Runs on different datasets start at different accuracies; look at the shape, not only the height. "
            "With several networks per run, each keeps its run's colour and gets its own dash (the legend names it). "
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

if not presenter.active():  # each run's own report, as on the Results page: lth_core.report.export
    from lth_core.report.export import report_html
    st.markdown("**Reports** (one HTML file per run: charts, numbers, claims; works offline)")
    for rid, c in configs:
        st.download_button(f"{runpick.config_label(c)} · {rid[:6]}", lambda rid=rid: report_html(state.find(rid), rid),
                           f"report-{rid}.html", "text/html", key=f"dl_report_{rid}", on_click="ignore",
                           icon=":material/description:")
