"""Readable run labels and the run picker shared by Results, Compare and Inside.

The chosen run lives in the address (?run=<run_id>), so a copied URL opens
the same run; a malformed, unknown, deleted or damaged run shows an error, never a traceback.
"""
from __future__ import annotations

import streamlit as st

from lth_core.config import ExperimentConfig
from lth_core.registry import ARCHITECTURES, DATASETS, custom_data, custom_model, get_arch_info
from lth_core.arms import ARMS, AT_INIT, CONTROLS, CRITERIA
from lth_core.store.runs import list_runs
from lth_core.store.run_store import Corrupt, Store, validate_run_id
from ui import errors, state

# short names of every arm a run can add to the ticket (controls, criteria, at-init masks, their checks)
CONTROL_SHORT = {**{c: ARMS[c].short for c in CONTROLS + AT_INIT}, **{c: ARMS[f"imp_{c}"].short for c in CRITERIA},
                 "shuffle": "shuffled", "invert": "inverted"}
BEYOND_KEYS = ("criterion", "granularity", "criteria", "at_init", "at_init_checks", "stability_levels")


def dataset_short(name: str) -> str:
    """'Fashion-MNIST', 'your data' (tensors passed from Python); an unknown name as it is."""
    return DATASETS[name].short if name in DATASETS else custom_data(name).short if custom_data(name) else name


def arch_short(name: str) -> str:
    """'LeNet-300-100', 'your model <module>.<function>'; an unknown name as it is."""
    return ARCHITECTURES[name].short if name in ARCHITECTURES else get_arch_info(name).short \
        if custom_model(name) else name


def _short(names) -> str:
    return ", ".join(CONTROL_SHORT.get(n, n) for n in names)


def _pruning_text(rate: float | None, glob: bool, rounds: int, r: dict) -> str:
    """'20%/round × 8', '30% of neurons/round × 6', '20% global/round × 8 by movement'."""
    unit = f" of {r['granularity']}" if r.get("granularity", "unstructured") != "unstructured" else ""
    by = f" by {_short([r['criterion']])}" if r.get("criterion", "magnitude") != "magnitude" else ""
    amount = f"{100 * rate:.3g}%" if rate is not None else "?"
    return f"{amount}{unit}{' global' * glob}/round × {rounds}{by}"


def _arms_text(controls, r: dict) -> str:
    """'vs re-init + 3 criteria + SNIP, SynFlow (shuffled, re-init checks) · stability at 2 levels'."""
    text = "vs " + _short(controls) if controls else "ticket only"
    criteria, at_init, checks = r.get("criteria") or (), r.get("at_init") or (), r.get("at_init_checks") or ()
    if criteria:
        text += f" + {_short(criteria)} ticket" if len(criteria) == 1 else f" + {len(criteria)} criteria"
    if at_init:
        text += f" + {_short(at_init)}" + (f" ({_short(checks)} checks)" if checks else "")
    levels = r.get("stability_levels") or ()
    if levels:
        text += f" · stability at {len(levels)} level{'s' * (len(levels) > 1)}"
    return text


def _beyond(c: ExperimentConfig) -> dict:
    """The config's fields beyond the paper, as a run row holds them."""
    return {"criterion": c.pruning.criterion, "granularity": c.pruning.granularity, "criteria": list(c.criteria),
            "at_init": list(c.at_init), "at_init_checks": list(c.at_init_checks),
            "stability_levels": list(c.stability_levels)}


def config_label(c: ExperimentConfig) -> str:
    """'MNIST-1D · MLP 40-300-300-10 · 50%/round × 4 · vs re-init · 1 trial · 500 it'."""
    reset = f" · rewind k={c.rewind_iteration}" if c.reset == "rewind" else ""
    r = _beyond(c)
    return (f"{dataset_short(c.dataset)} · {arch_short(c.arch)} · "
            f"{_pruning_text(c.pruning.rate, c.pruning.strategy == 'global', c.pruning.rounds, r)} · "
            f"{_arms_text(c.controls, r)} · {c.trials} trial{'s' * (c.trials > 1)} · "
            f"{c.training.iterations:,} it{reset}")


def row_what(row: dict) -> str:
    """What a run_row's experiment is, in one line (no state, no id)."""
    if row.get("dataset") == "?":
        return "damaged run"
    return (f"{dataset_short(row['dataset'])} · {arch_short(row['arch'])} · "
            f"{_pruning_text(row.get('rate'), False, row['levels'] - 1, row)} · "
            f"{_arms_text(row['controls'], row)} · {row['trials']} trial{'s' * (row['trials'] > 1)}"
            + (f" · {row['iterations']:,} it" if row.get("iterations") else ""))


def row_label(row: dict) -> str:
    """A run_row as one line: what it is, short id, state."""
    if row.get("dataset") == "?":
        return f"damaged · {row['run_id']}"
    what = row_what(row)
    state_text = row["state"] + (f" {100 * row['fraction']:.0f}%" if row["state"] == "running" else "")
    gallery = (f" · gallery, {row['note']}" if row.get("note") else " · gallery") if row.get("readonly") else ""
    return f"{what} · {row['run_id'][:8]} ({state_text}{gallery})"


@st.cache_data(show_spinner=False, max_entries=4096)
def _stored_beyond(root: str, run_id: str, _store: Store) -> dict:
    """_beyond of a stored run's config ({} if it cannot be read). Cached for good: a run id is the
    hash of its config, so the config under an id never changes."""
    try:
        return _beyond(_store.config(run_id))
    except (FileNotFoundError, Corrupt, ValueError):
        return {}


def rows() -> list[dict]:
    """Every run in the store and the gallery, newest first (no file checks: fast), each with the
    fields beyond the paper that its label shows."""
    stores = state.stores()
    by_root = {str(s.root): s for s in stores}
    all_rows = list_runs(*stores, check_files=False)
    for r in all_rows:
        if r.get("dataset") != "?" and "criteria" not in r and r["store"] in by_root:
            r.update(_stored_beyond(r["store"], r["run_id"], by_root[r["store"]]))
    return all_rows


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
