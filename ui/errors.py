"""One way to show problems: a red box with what went wrong and what to do, never a traceback.

Text that came from outside (the address, an exception's message) is escaped
and cut short (ui/text.py) before it goes into a box.
"""
from __future__ import annotations

import streamlit as st

from ui.text import plain

ICON = ":material/error:"


def show(message: str, hint: str | None = None) -> None:
    """An error box; `hint` says what the user can do about it."""
    st.error(message + (f"\n\n{hint}" if hint else ""), icon=ICON)


def bad_run_id(message: str) -> None:
    show(f"Cannot open this run: {plain(message)}.",
         "Pick a run from the list below, or see every stored run on the **All runs** page.")


def unknown_run(run_id: str, places: list[str]) -> None:
    show(f"There is no run `{run_id}` in {' or '.join(places)}.",
         "It may have been deleted, or the address was copied from another server. "
         "Pick a run from the list below, or start it again on the **Run** page.")
