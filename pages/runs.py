"""All runs: every stored run (store and gallery) with its status, Open and Cancel."""
from __future__ import annotations

import streamlit as st

from lth_core.estimate import format_duration
from ui import data, errors, progress, runpick, state
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("All runs")
st.caption(f"Store: `{state.store_root()}`" + (f" · gallery (read-only): `{state.gallery_root()}`"
                                               if state.gallery_root() else ""))


@st.cache_data(show_spinner=False, max_entries=512)
def _damaged(root: str, readonly: bool, run_id: str, sig: tuple) -> list[str]:
    """Files failing their checksum, re-checked only when the run's files change."""
    from lth_core.store.run_store import Store
    return Store(root, readonly=readonly).damaged_files(run_id)


STATE_ICON = {"done": ":material/check_circle:", "running": ":material/autorenew:", "queued": ":material/schedule:",
              "failed": ":material/error:", "cancelled": ":material/cancel:", "interrupted": ":material/pause_circle:",
              "damaged": ":material/broken_image:"}


def _row(row: dict, store) -> None:
    info = progress.run_state(store, row["run_id"]) if row["dataset"] != "?" else {"state": "damaged"}
    s = info["state"]
    damaged = [] if row["dataset"] == "?" else _damaged(str(store.root), store.readonly, row["run_id"],
                                                        data.signature(store, row["run_id"]))
    with st.container(border=True):
        c1, c2, c3 = st.columns([6, 3, 2], vertical_alignment="center")
        c1.markdown(f"**{runpick.row_what(row)}**  \n`{row['run_id']}`"
                    + (" · gallery" if row["readonly"] else ""))
        with c2:
            st.markdown(f"{STATE_ICON.get(s, ':material/help:')} **{s}**")
            if s == "running":
                st.progress(min(float(row.get("fraction") or 0), 1.0),
                            text=f"{100 * (row.get('fraction') or 0):.0f}% · about "
                                 f"{format_duration(row.get('eta_s'))} left")
            elif s == "queued" and info.get("position") is not None:
                st.caption(f"{info['position']} run(s) ahead")
            reason = info.get("reason") or row.get("reason")
            if s in ("failed", "cancelled", "interrupted", "damaged") and reason:
                st.caption(reason)
            if damaged:
                st.caption(f":red[damaged files: {', '.join(damaged[:3])}{' …' if len(damaged) > 3 else ''}] "
                           "(recomputed when the run is started again)")
        with c3:
            if row["dataset"] != "?" and st.button("Open", key=f"open_{row['run_id']}", icon=":material/insights:",
                                                   width="stretch"):
                st.switch_page("pages/results.py", query_params={"run": row["run_id"]})
            if info.get("cancellable") and st.button("Cancel", key=f"cancel_{row['run_id']}",
                                                     icon=":material/stop_circle:", width="stretch"):
                if state.cancel(row["run_id"]):
                    st.rerun()
                st.caption(progress.SHARED_NOTE)


def _list() -> bool:
    rows = runpick.rows()
    if not rows:
        st.info("No runs are stored yet. Start one on the **Run** page.", icon=":material/info:")
        return False
    by_root = {str(s.root): s for s in state.stores()}
    for row in rows:
        _row(row, by_root[row["store"]])
    return _any_active(rows)


def _any_active(rows) -> bool:
    return any(r["state"] in ("queued", "running") for r in rows) or bool(state.manager().jobs)


@st.fragment(run_every=2.0)
def _live_list() -> None:
    with errors.guard():  # a fragment's own reruns happen outside app.py's guard
        if not _list():
            st.rerun(scope="app")


if _any_active(runpick.rows()):
    _live_list()
else:
    _list()
