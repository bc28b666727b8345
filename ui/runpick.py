"""Readable run labels and the run picker shared by Results, Compare and Inside.

The chosen run lives in the address (?run=<run_id>), so a copied URL opens
the same run; a malformed, unknown, deleted or damaged run shows an error, never a traceback.
"""
from __future__ import annotations

import streamlit as st

from lth_core.config import ExperimentConfig
from lth_core.registry import ARCHITECTURES, DATASETS
from lth_core.runs import list_runs
from lth_core.store import Store, validate_run_id
from ui import errors, state

CONTROL_SHORT = {"reinit": "re-init", "random": "random pruning", "oneshot": "one-shot"}


def dataset_short(name: str) -> str:
    return DATASETS[name].title.split(" (")[0] if name in DATASETS else name


def arch_short(name: str) -> str:
    return ARCHITECTURES[name].title.split(" (")[0] if name in ARCHITECTURES else name


def _controls_text(controls) -> str:
    return "vs " + ", ".join(CONTROL_SHORT.get(c, c) for c in controls) if controls else "ticket only"


def config_label(c: ExperimentConfig) -> str:
    """'MNIST-1D · MLP 40-300-300-10 · 50%/round × 4 · vs re-init · 1 trial · 500 it'."""
    reset = f" · rewind k={c.rewind_iteration}" if c.reset == "rewind" else ""
    glob = " global" if c.pruning.strategy == "global" else ""
    return (f"{dataset_short(c.dataset)} · {arch_short(c.arch)} · {100 * c.pruning.rate:.3g}%{glob}/round × "
            f"{c.pruning.rounds} · {_controls_text(c.controls)} · {c.trials} trial{'s' * (c.trials > 1)} · "
            f"{c.training.iterations:,} it{reset}")


def row_label(row: dict) -> str:
    """A run_row as one line: state, what it is, short id."""
    if row.get("dataset") == "?":
        return f"damaged · {row['run_id']}"
    rate = f"{100 * row['rate']:.3g}%" if row.get("rate") is not None else "?"
    what = (f"{dataset_short(row['dataset'])} · {arch_short(row['arch'])} · {rate}/round × {row['levels'] - 1} · "
            f"{_controls_text(row['controls'])} · {row['trials']} trial{'s' * (row['trials'] > 1)}"
            + (f" · {row['iterations']:,} it" if row.get("iterations") else ""))
    state_text = row["state"] + (f" {100 * row['fraction']:.0f}%" if row["state"] == "running" else "")
    gallery = (f" · gallery, {row['note']}" if row.get("note") else " · gallery") if row.get("readonly") else ""
    return f"{what} · {row['run_id'][:8]} ({state_text}{gallery})"


def rows() -> list[dict]:
    """Every run in the store and the gallery, newest first (no file checks: fast)."""
    return list_runs(*state.stores(), check_files=False)


def _to_url(key: str) -> None:
    value = st.session_state.get(key)
    if value:
        st.query_params["run"] = value


def pick_run(key: str = "pick_run", label: str = "Run") -> tuple[str, Store] | None:
    """A select box of stored runs bound to ?run=; returns (run_id, its store) or None."""
    all_rows = rows()
    ids = [r["run_id"] for r in all_rows]
    labels = {r["run_id"]: row_label(r) for r in all_rows}
    raw = st.query_params.get("run")
    chosen = None
    if raw is not None:
        try:
            run_id = validate_run_id(raw)
        except ValueError as exc:
            errors.bad_run_id(str(exc))
        else:
            if run_id in ids:
                chosen = run_id
            else:
                places = [f"the store ({state.store_root()})"]
                if state.gallery_root():
                    places.append(f"the gallery ({state.gallery_root()})")
                errors.unknown_run(run_id, places)
    elif ids:
        done = [r["run_id"] for r in all_rows if r["state"] == "done"]
        chosen = (done or ids)[0]
        st.query_params["run"] = chosen
    if not ids:
        st.info("No runs are stored yet. Start one on the **Run** page (the quick demo takes about a minute).",
                icon=":material/info:")
        return None
    if st.session_state.get(key) != chosen or key not in st.session_state:
        st.session_state[key] = chosen
    st.selectbox(label, ids, format_func=lambda i: labels.get(i, i), key=key, placeholder="Choose a run",
                 on_change=_to_url, args=(key,))
    if chosen is None:
        return None
    row = next(r for r in all_rows if r["run_id"] == chosen)
    store = state.find(chosen)
    if store is None:  # deleted since the list was read
        errors.unknown_run(chosen, [f"the store ({state.store_root()})"])
        return None
    if row.get("dataset") == "?":  # run_row could not read its config
        errors.damaged_run(chosen, row.get("reason", ""))
        return None
    return chosen, store
