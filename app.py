"""Lottery Ticket Explorer: the Streamlit entry point.

Served by `streamlit run ui/server.py` (app.py through st.App, with a guard for nested
addresses; `streamlit run app.py` also works, without it). Page config, navigation over pages/, and the
shared sidebar (presenter mode, where runs are stored). An address with
?run=<run_id> opens that run's results.
"""
from __future__ import annotations

import streamlit as st

from lth_core.service.settings import SettingsError
from ui import atlas, errors, presenter, state
from ui.text import plain

# an emoji, not a :material/ icon: Streamlit fetches a material page icon from fonts.gstatic.com
st.set_page_config(page_title="Lottery Ticket Explorer", page_icon="🎟️",
                   layout="wide", initial_sidebar_state="auto")


def _short(path, keep: int = 32) -> str:
    """A long folder path cut from the left, for the narrow sidebar."""
    text = str(path)
    return text if len(text) <= keep else "…" + text[-(keep - 1):]


PAGES = {
    "learn": st.Page("pages/learn.py", title="Learn", icon=":material/school:", default=True),
    "atlas": st.Page("pages/atlas.py", title="Atlas: scrub through pruning", icon=":material/tune:"),
    "run": st.Page("pages/run.py", title="Run an experiment", icon=":material/play_circle:"),
    "results": st.Page("pages/results.py", title="Results", icon=":material/insights:"),
    "compare": st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
    "inside": st.Page("pages/inside.py", title="Inside the ticket", icon=":material/biotech:"),
    "runs": st.Page("pages/runs.py", title="All runs", icon=":material/list_alt:"),
    "rounds": st.Page("pages/rounds.py", title="Play through the rounds", icon=":material/slideshow:"),
    "beyond": st.Page("pages/beyond.py", title="Beyond the paper", icon=":material/science:"),
}
page = st.navigation({"Explore": [PAGES["learn"], PAGES["atlas"], PAGES["run"], PAGES["results"]],
                      "Dig deeper": [PAGES["compare"], PAGES["inside"], PAGES["rounds"], PAGES["beyond"],
                                     PAGES["runs"]]})
if page.url_path == PAGES["learn"].url_path and "run" in st.query_params:
    # a shared link /?run=<run_id> opens that run's results (the Results page validates the id)
    st.switch_page(PAGES["results"], query_params=st.query_params.to_dict())

try:
    state.settings()
except SettingsError as exc:  # an operator's typo in an LTH_* variable: say which, not a traceback
    errors.show(f"The server's settings are wrong: {plain(exc)}.",
                "Fix that environment variable and restart the server.")
    st.stop()

with st.sidebar:
    presenter.toggle()
    st.caption(f"Runs are stored in `{_short(state.store_root())}`"
               + (f" · gallery (read-only): `{_short(state.gallery_root())}`" if state.gallery_root() else "")
               + ". Set LTH_STORE to change it.",
               help=f"Store: {state.store_root()}" + (f"  \nGallery: {state.gallery_root()}" if state.gallery_root()
                                                      else ""))
    if problem := state.store_problem():
        st.warning(f"New runs cannot be stored: {problem}", icon=":material/folder_off:")
presenter.inject_css()
with errors.guard():  # a damaged, deleted or unwritable store file gives a message, not a traceback
    state.warm_up()
    atlas.warm_in_background(state.gallery())  # the atlas page's charts, computed once per server
    page.run()
