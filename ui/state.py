"""Server-wide resources and per-session identity.

One JobManager per server and store ($LTH_STORE, default ./runs), from the environment's
Settings; a read-only gallery is listed beside it when gallery/ (or $LTH_GALLERY) exists. Each
browser session gets an owner id, so job limits apply per session (and per client address).
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
import torch

from lth_core.presets import get_preset
from lth_core.service.admission import LimitReached, check_memory
from lth_core.service.jobs import JobManager, manager_for
from lth_core.service.settings import Settings
from lth_core.store.gallery import GALLERY_ROOT, gallery_store
from lth_core.store.run_store import Store, StoreUnwritable
from lth_core.store.runs import locate
from ui.text import plain


@contextmanager
def few_threads():
    """Torch work in the server itself (untrained-mask accuracy, the toy network) runs on half the
    cores, so it does not fight the training workers (many threads on a busy 2-core machine run
    several times slower); the previous setting is restored afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def settings() -> Settings:
    """The server's settings, read from its environment ($LTH_STORE, $LTH_WORKERS, ...); a bad
    value raises SettingsError naming the variable and the allowed values."""
    return Settings.from_env()


def store_root() -> Path:
    """Absolute path of the writable store."""
    return settings().store.resolve()


def store_problem() -> str | None:
    """Why new runs cannot be written to the store (escaped for markdown), or None if they can."""
    root = store_root()
    try:
        Store(root).check_writable()
    except StoreUnwritable as exc:
        return plain(exc)
    return None


def gallery_root() -> Path | None:
    """Absolute path of the read-only gallery ($LTH_GALLERY, else the repository's gallery/), if it exists."""
    path = settings().gallery or GALLERY_ROOT
    return path.resolve() if path.is_dir() else None


def manager() -> JobManager:
    """The server's job manager (created on first use; it re-queues interrupted runs). Held by
    lth_core.service.jobs, not st.cache_resource: any client can clear Streamlit's caches, and a second
    manager would run a second set of workers over the same runs."""
    s = settings()
    return manager_for(s.store.resolve(), s, data_dir=s.data_dir.resolve())


def warm_up() -> None:
    """Make the job manager on the server's first page, so its warm workers (LTH_WARM_WORKERS,
    default 1) are warm before the first student asks for a run (nothing when they are off); and
    estimate the quick demo's memory as submit will. The first estimate in a process imports part of
    torch (a quarter of a second), which the demo's click must not wait for; later ones are cached.
    (Not in a background thread: torch code still running there when a short-lived process exits, as
    an AppTest does, aborts it.)"""
    s = settings()
    if s.warm_workers:
        manager()
    try:
        check_memory(get_preset("quick"), s.max_memory_gb)
    except LimitReached:
        pass  # a server whose limit refuses the demo says so when it is asked for


def store() -> Store:
    """The writable store (the job manager's)."""
    return manager().store


def gallery() -> Store | None:
    root = gallery_root()
    return gallery_store(root) if root else None


def stores() -> list[Store]:
    """Every store the app reads: the writable one first, then the gallery."""
    return [store()] + ([g] if (g := gallery()) else [])


def find(run_id: str) -> Store | None:
    """The store holding a (validated) run id, else None."""
    return locate(run_id, *stores())


def cancel(run_id: str) -> bool:
    """Cancel this session's interest in a run: True if its job stopped, False if other sessions
    asked for the same run, so it keeps training for them (JobManager.cancel with an owner)."""
    mgr = manager()
    mgr.cancel(run_id, owner=owner())
    return mgr.state(run_id) is None


def owner() -> str:
    """This browser session's id, used for the per-session job limit. Its client address (when
    Streamlit knows it) is given to the job manager once, for the per-address limit."""
    if "owner" not in st.session_state:
        st.session_state["owner"] = uuid.uuid4().hex[:12]
    if not st.session_state.get("owner_address_noted"):
        address = client_address()
        if address:
            manager().note_address(st.session_state["owner"], address)
            st.session_state["owner_address_noted"] = True
    return st.session_state["owner"]


def client_address() -> str | None:
    """The browser's address as Streamlit sees it (st.context.ip_address, Streamlit 1.45+), or None:
    an older Streamlit, a test harness or a proxy that hides it; the per-session limit still applies."""
    try:
        return getattr(st.context, "ip_address", None) or None
    except Exception:  # no script context (bare mode)
        return None
