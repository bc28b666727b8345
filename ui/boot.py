"""Make sure a page runs inside app.py's navigation, never on its own.

Streamlit serves the first request of a fresh server in its old "pages/
folder" mode when a pages/ folder sits beside the entry point: a first visit
to /results (a shared ?run= link) would then run pages/results.py alone, with
no page config, sidebar or navigation. Each page calls ensure_shell() first; in
that mode it switches Streamlit to st.navigation and reruns through app.py.
"""
from __future__ import annotations

import streamlit as st


def ensure_shell() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
