"""All runs: every stored run (store and gallery) as a sortable, filterable table of its key numbers;
Open any run, Cancel the runs this session started."""
from __future__ import annotations

import streamlit as st

from ui import errors, runpick, runstable, state
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("All runs")
st.caption(f"Store: `{state.store_root()}`" + (f" · gallery (read-only): `{state.gallery_root()}`"
                                               if state.gallery_root() else ""))


def _list() -> bool:
    """Draw the table and the active runs; True while any run is queued or running."""
    rows = runpick.rows()
    if not rows:
        st.info("No runs are stored yet. Start one on the **Run** page.", icon=":material/info:")
        return False
    stores = state.stores()
    df, infos = runstable.frame(rows, stores)
    by_id = {r["run_id"]: r for r in rows}
    view = runstable.filtered(df)
    runstable.table(view, by_id)
    runstable.active(df, by_id, infos)
    runstable.damaged(df)
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
