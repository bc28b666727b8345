"""Make sure a page runs inside app.py's navigation, never on its own.

Streamlit serves the first request of a fresh server in its old "pages/
folder" mode when a pages/ folder sits beside the entry point: a first visit
to /results (a shared ?run= link) would then run pages/results.py alone, with
no page config, sidebar or navigation. (AppTest starts every run in that mode.)
Each page calls ensure_shell() first; in that mode it switches Streamlit to
st.navigation, runs app.py (which runs this page inside its shell) and stops
the stray copy. No rerun, so a click that started this run is not lost.
"""
from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parents[1] / "app.py"


def ensure_shell() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()
