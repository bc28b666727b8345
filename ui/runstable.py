"""The All runs table: every stored run (store and gallery) with its key numbers, filters by state,
dataset and text, and the run to open; the runs still computing listed below it with Cancel.

The numbers come from lth_core.analysis.runs_table, cached per run's file signature (a finished run
is read once); each run's state comes from the job manager on every draw. Cells of st.dataframe are
plain text, so run ids and reasons there cannot become markup; elsewhere they go through ui.text.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lth_core.analysis import runs_table, speed, stats
from lth_core.estimate import format_duration
from lth_core.registry import DATASETS
from lth_core.store.run_store import Store
from ui import data, progress, runpick, state, text

STATES = ("done", "running", "queued", "failed", "cancelled", "interrupted", "damaged")
STATE_ICON = {"done": ":material/check_circle:", "running": ":material/autorenew:", "queued": ":material/schedule:",
              "failed": ":material/error:", "cancelled": ":material/cancel:", "interrupted": ":material/pause_circle:",
              "damaged": ":material/broken_image:"}
SHOWN = ["state", "dataset", "arch", "dense_acc", "smallest_ticket", "smallest_ticket_note", "speed_ratio",
         "speed_verdict", "trials", "duration", "date", "experiment", "run_id", "note"]
RULE = (f"At least as good as dense down to this % of weights left: paired by trial with its own dense network, the "
        f"{100 * stats.CONFIDENCE:.0f}% confidence interval of the difference lies above -{stats.MARGIN_POINTS:g} "
        f"points there and at every denser level (the Results page's tile). Fewer than {stats.MIN_TRIALS} trials "
        "give no verdict.")
COLUMNS = {
    "state": st.column_config.TextColumn("State"),
    "dataset": st.column_config.TextColumn("Dataset"),
    "arch": st.column_config.TextColumn("Network"),
    "dense_acc": st.column_config.NumberColumn("Dense acc.", format="%.1f%%", help=(
        "Test accuracy of the unpruned network at early stopping (minimum validation loss), mean over trials.")),
    "smallest_ticket": st.column_config.NumberColumn("Smallest winning ticket", format="%.3g%%", help=RULE),
    "smallest_ticket_note": st.column_config.TextColumn("Ticket note", help=(
        "Why there is no smallest winning ticket: too few trials, or not shown even at the first level.")),
    "speed_ratio": st.column_config.NumberColumn("Learning speed", format="%.2f×", help=(
        "How many times earlier the ticket reaches its minimum validation loss than its dense network, at the level "
        f"nearest {speed.REFERENCE_PERCENT}% left: above 1 it learns faster (2.60× is the Results tile's '2.60× "
        "earlier', 0.80× its '1.25× later'). Empty: most networks were still improving when training ended.")),
    "speed_verdict": st.column_config.TextColumn("Speed verdict"),
    "trials": st.column_config.NumberColumn("Trials", format="%d"),
    "duration": st.column_config.NumberColumn("Duration", format="compact", help=(
        "From the start of the run's last computation to its end (hours:minutes:seconds). Empty while it runs, "
        "and for gallery runs, which keep no start time.")),
    "date": st.column_config.DatetimeColumn("Date (UTC)", format="YYYY-MM-DD HH:mm",
                                            help="When the run last changed state (finished, failed, ...)."),
    "experiment": st.column_config.TextColumn("Experiment"),
    "run_id": st.column_config.TextColumn("Run"),
    "note": st.column_config.TextColumn("Note", help="Why a run stopped, damaged files, gallery notes."),
}


@st.cache_data(show_spinner=False, max_entries=1024)
def _numbers(root: str, readonly: bool, run_id: str, sig: tuple) -> dict:
    """runs_table.run_numbers, read again only when the run's files change."""
    return runs_table.run_numbers(Store(root, readonly=readonly), run_id)


@st.cache_data(show_spinner=False, max_entries=1024)
def _damaged(root: str, readonly: bool, run_id: str, sig: tuple) -> list[str]:
    """Files failing their checksum, re-checked only when the run's files change."""
    return Store(root, readonly=readonly).damaged_files(run_id)


def frame(rows: list[dict], stores: list[Store]) -> tuple[pd.DataFrame, dict]:
    """runs_table.runs_frame with each run's live state (the job manager's), its experiment in words and a
    note; and {run id: progress.run_state} for the runs the store can describe."""
    sigs: dict = {}  # each run's folder walked once per draw, for both caches

    def sig(store: Store, run_id: str) -> tuple:
        key = (str(store.root), run_id)
        if key not in sigs:
            sigs[key] = data.signature(store, run_id)
        return sigs[key]

    df = runs_table.runs_frame(stores, rows=rows, numbers=lambda s, i: _numbers(str(s.root), s.readonly, i, sig(s, i)))
    by_root = {str(s.root): s for s in stores}
    infos, states, notes, damaged = {}, [], [], []
    for r in rows:
        store = by_root[r["store"]]
        if r["dataset"] == "?":
            info, files = {"state": "damaged", "reason": r.get("reason", "")}, list(r.get("damaged") or [])
        else:
            info = infos[r["run_id"]] = progress.run_state(store, r["run_id"])
            files = _damaged(str(store.root), store.readonly, r["run_id"], sig(store, r["run_id"]))
        reason = info.get("reason") or r.get("reason") or ""
        parts = ([reason] if reason and info["state"] in ("failed", "cancelled", "interrupted", "damaged") else []) \
            + ([f"damaged files: {', '.join(files)}"] if files else []) \
            + ([f"gallery, {r['note']}" if r.get("note") else "gallery"] if r["readonly"] else [])
        states.append(info["state"])
        notes.append(" · ".join(parts))
        damaged.append(files)
    df["state"], df["note"], df["damaged"] = states, notes, damaged
    df["experiment"] = [runpick.row_what(r) for r in rows]
    df["duration"] = pd.to_timedelta(df["duration_s"], unit="s")
    return df, infos


def filtered(df: pd.DataFrame) -> pd.DataFrame:
    """The rows the filters keep (state, dataset, a text in any word column); no filter keeps all."""
    c1, c2, c3 = st.columns([1, 1, 2])
    states = c1.multiselect("State", STATES, key="runs_state", placeholder="Any state")
    datasets = c2.multiselect("Dataset", sorted({d.short for d in DATASETS.values()}), key="runs_dataset",
                              placeholder="Any dataset")
    query = c3.text_input("Search", key="runs_search", placeholder="run id, network, schedule, note…")
    keep = pd.Series(True, index=df.index)
    if states:
        keep &= df.state.isin(states)
    if datasets:
        keep &= df.dataset.isin(datasets)
    if query.strip():
        words = df[["run_id", "experiment", "dataset", "arch", "state", "note"]].astype(str).agg(" ".join, axis=1)
        keep &= words.str.contains(query.strip(), case=False, regex=False)
    return df[keep].reset_index(drop=True)


def table(view: pd.DataFrame, rows: dict) -> None:
    """The table (sortable by any column), and the run to open: a clicked row or the picker below."""
    shown = view.assign(dense_acc=100 * view.dense_acc)  # the tiles' '87.9%', not a fraction
    event = st.dataframe(shown[SHOWN], column_config=COLUMNS, column_order=SHOWN, hide_index=True, width="stretch",
                         key="runs_table", on_select="rerun", selection_mode="single-row")
    st.caption(f"{len(view)} run{'s' * (len(view) != 1)} shown · click a column to sort, a row to choose it")
    ids = [i for i in view.run_id if rows[i].get("dataset") != "?"]
    if not ids:
        return
    picked = [view.run_id.iloc[i] for i in event.selection.rows if i < len(view)]
    if picked and picked[0] in ids and st.session_state.get("runs_picked") != picked[0]:
        st.session_state["runs_picked"] = st.session_state["runs_open"] = picked[0]  # a newly clicked row
    if st.session_state.get("runs_open") not in ids:
        st.session_state.pop("runs_open", None)
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    chosen = c1.selectbox("Run to open", ids, key="runs_open", format_func=lambda i: runpick.row_label(rows[i]))
    if c2.button("Open", key="open_chosen", icon=":material/insights:", width="stretch"):
        st.switch_page("pages/results.py", query_params={"run": chosen})


def active(view: pd.DataFrame, rows: dict, infos: dict) -> None:
    """The runs queued or running, each with its progress, Open and (for this session's runs) Cancel."""
    live = [i for i, s in zip(view.run_id, view.state) if s in progress.ACTIVE]
    if not live:
        return
    st.subheader("Running and queued")
    for run_id in live:
        row, info = rows[run_id], infos[run_id]
        with st.container(border=True):
            c1, c2, c3 = st.columns([6, 3, 2], vertical_alignment="center")
            c1.markdown(f"**{text.plain(runpick.row_what(row))}**  \n{text.code(run_id)}")
            with c2:
                st.markdown(f"{STATE_ICON.get(info['state'], ':material/help:')} **{info['state']}**")
                if info["state"] == "running":
                    st.progress(min(float(row.get("fraction") or 0), 1.0),
                                text=f"{100 * (row.get('fraction') or 0):.0f}% · about "
                                     f"{format_duration(row.get('eta_s'))} left")
                elif info.get("position") is not None:
                    st.caption(f"{info['position']} run(s) ahead")
            with c3:
                if st.button("Open", key=f"open_{run_id}", icon=":material/insights:", width="stretch"):
                    st.switch_page("pages/results.py", query_params={"run": run_id})
                if info.get("cancellable") and st.button("Cancel", key=f"cancel_{run_id}",
                                                         icon=":material/stop_circle:", width="stretch"):
                    if state.cancel(run_id):
                        st.rerun()
                    st.caption(progress.SHARED_NOTE)


def damaged(view: pd.DataFrame) -> None:
    """Each run with damaged files, by name (recomputed when the run is started again)."""
    for run_id, files, s in zip(view.run_id, view.damaged, view.state):
        if files:
            names = ", ".join(text.code(f) for f in files[:5]) + (" …" if len(files) > 5 else "")
            st.warning(f"Run {text.code(run_id)} has damaged files: {names} (recomputed when the run is started "
                       "again).", icon=":material/broken_image:")
        elif s == "damaged":
            st.warning(f"Run {text.code(run_id)} is damaged: its config cannot be read.",
                       icon=":material/broken_image:")
