"""Make sure a page runs inside app.py's navigation, never on its own.

A fresh server's first request runs in Streamlit's old "pages/ folder" mode, so a first
visit to /results would run pages/results.py alone, with no page config or navigation.
Each page calls ensure_shell() first; in that mode it switches to st.navigation, runs app.py
(which runs this page inside its shell) and stops the stray copy, without a rerun, so the
click that started it is not lost.
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
