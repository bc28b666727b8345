"""What the store holds: one status row per run, for `list` and the app's Runs page."""
from __future__ import annotations

from lth_core import layout
from lth_core.store.gallery import NOTES
from lth_core.store.run_store import Corrupt, Store


def run_row(store: Store, run_id: str, check_files: bool = True) -> dict:
    """Status, progress, config summary and damaged files of one stored run."""
    row = {"run_id": run_id, "store": str(store.root), "readonly": store.readonly}
    try:
        c = store.config(run_id)
        row.update(dataset=c.dataset, arch=c.arch, levels=c.levels, controls=list(c.controls),
                   trials=c.trials, rate=c.pruning.rate, iterations=c.training.iterations)
    except (FileNotFoundError, Corrupt, ValueError) as exc:
        row.update(state="damaged", reason=f"config unreadable: {exc}", dataset="?", arch="?", levels=0,
                   controls=[], trials=0, rate=None, iterations=None, fraction=0.0, damaged=[layout.CONFIG])
        return row
    st = store.status(run_id)
    if store.readonly and st.get("state") == "unknown":
        st = {"state": "done", "reason": ""}
    prog = store.progress(run_id)
    row.update(state=st.get("state", "unknown"), reason=st.get("reason", ""),
               fraction=1.0 if st.get("state") == "done" else float(prog.get("fraction", 0.0)),
               eta_s=prog.get("eta_s"), updated=st.get("time"))
    row["note"] = NOTES.get(run_id, "") if store.readonly else ""
    row["damaged"] = store.damaged_files(run_id) if check_files else []
    if row["damaged"]:
        row["reason"] = (row["reason"] + "; " if row["reason"] else "") + \
            f"damaged: {', '.join(row['damaged'][:3])}{' ...' if len(row['damaged']) > 3 else ''} (recomputed on next run)"
    return row


def list_runs(*stores: Store, check_files: bool = True) -> list[dict]:
    """Rows for every run in the given stores, newest first."""
    rows = [run_row(s, rid, check_files) for s in stores for rid in s.run_ids()]
    return sorted(rows, key=lambda r: -(r.get("updated") or 0))


def locate(run_id: str, *stores: Store):
    """The first store holding run_id, else None (run_id must already be validated)."""
    return next((s for s in stores if s.has_run(run_id)), None)
