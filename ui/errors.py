"""One way to show problems: a red box with what went wrong and what to do, never a traceback.

Outside text is escaped and cut short (ui/text.py) first. guard() turns the store's errors
(a damaged file, a run deleted while read, an unwritable folder) into such a box: app.py runs
every page inside it, and so do the live panels that redraw on their own.
"""
from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from lth_core.store.run_store import Corrupt, StoreUnwritable
from ui.text import plain

ICON = ":material/error:"
STORE_ERRORS = (Corrupt, OSError)  # OSError: unreadable, removed or unwritable files and folders


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


def damaged_run(run_id: str, why: str) -> None:
    show(f"Run `{run_id}` cannot be opened: its settings (config.json) are damaged ({plain(why)}).",
         "Its results cannot be read back. Start the same experiment again on the **Run** page, or pick "
         "another run.")


def store_error(exc: Exception) -> None:
    """The box for one of STORE_ERRORS."""
    if isinstance(exc, StoreUnwritable):
        show(f"Nothing can be stored: {plain(exc)}.",
             "Runs already stored can still be viewed. Whoever runs this server can point LTH_STORE at a "
             "writable folder.")
    elif isinstance(exc, FileNotFoundError):
        show("A file of this run disappeared while the page was reading it: the run may have been deleted.",
             "Reload the page, or pick another run on the **All runs** page.")
    elif isinstance(exc, Corrupt):
        show(f"A stored file is damaged: {plain(exc)}.",
             "Start the same experiment again on the **Run** page: only the damaged part is recomputed.")
    else:
        show(f"A file could not be read or written: {plain(exc)}.",
             "Try again in a moment; if it persists, tell whoever runs this server.")


@contextmanager
def guard():
    """Run a page (or a fragment's body) and show the store's errors as a box instead of a traceback.
    Streamlit's own stop and rerun signals are not Exceptions, so they pass through untouched."""
    try:
        yield
    except STORE_ERRORS as exc:
        store_error(exc)
