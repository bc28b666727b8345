"""The All runs table: one row per stored run with its key numbers, each read off the store through
the functions the Results page's tiles use (spread, speed, claims), never computed anew here.

Units: dense_acc is a fraction in [0, 1]; smallest_ticket is a % of prunable weights left, in
(0, 100]; speed_ratio is the dense network's early-stop iteration over the ticket's (above 1: the
ticket learns faster); duration_s is seconds; date is a UTC timestamp. What the store cannot answer
stays empty (None / NaN / NaT), never a guess.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from lth_core.analysis import speed, spread
from lth_core.analysis.claims import too_few
from lth_core.analysis.results import summary_frame
from lth_core.registry import ARCHITECTURES, DATASETS
from lth_core.store.run_store import Corrupt, Store
from lth_core.store.runs import list_runs

ENDED = ("done", "failed", "cancelled")  # a status written when the run's last computation stopped
NUMBERS = ("dense_acc", "smallest_ticket", "smallest_ticket_note", "speed_ratio", "speed", "speed_verdict",
           "speed_percent")
COLUMNS = ("run_id", "state", "dataset", "arch", "trials", *NUMBERS, "duration_s", "date", "readonly", "reason",
           "store")


def key_numbers(summary: pd.DataFrame) -> dict:
    """One run's headline numbers from its results.summary_frame, as the Results page's tiles give them.

    dense_acc: spread.dense_accuracy (test accuracy at early stop, mean over trials; None until trained);
    smallest_ticket: the ticket's spread.compare_to_dense as_good_down_to (% left), None without a verdict,
        smallest_ticket_note then says why (claims.too_few's "too few trials to tell (n = 1)", or "not shown");
    speed_ratio, speed, speed_verdict, speed_percent: speed.speed_at's ticket vs dense at the level nearest
        speed.REFERENCE_PERCENT: the ratio, speed.head's words ('2.60× earlier'), the verdict, the level's % left.
    """
    out = {**dict.fromkeys(NUMBERS), "smallest_ticket_note": "", "speed": "", "speed_verdict": ""}
    if summary.empty:  # nothing trained yet (the Results page shows no tiles either)
        return out
    out["dense_acc"] = spread.dense_accuracy(summary)
    cmp = spread.compare_to_dense(summary, "ticket")
    if cmp["levels_run"]:  # no pruned level finished yet: nothing to say
        if not cmp["enough"]:
            out["smallest_ticket_note"] = too_few(cmp["trials"])
        elif cmp["as_good_down_to"] is not None:
            out["smallest_ticket"] = cmp["as_good_down_to"]
        else:
            where = f"scan stops at {cmp['not_shown_at']:.3g}%" if cmp["not_shown_at"] is not None else "no level"
            out["smallest_ticket_note"] = f"not shown ({where})"
    sp = speed.speed_at(summary)
    if sp is not None:
        vs = sp["vs_dense"]
        out.update(speed_ratio=vs["ratio"], speed=speed.head(vs), speed_verdict=vs["verdict"],
                   speed_percent=sp["percent_remaining"])
    return out


def run_numbers(store: Store, run_id: str) -> dict:
    """key_numbers of a stored run (reads every metrics record once)."""
    return key_numbers(summary_frame(store, run_id))


def duration_s(store: Store, run_id: str) -> float | None:
    """Seconds from the start of the run's last computation (progress.json's 'started') to the status
    that ended it; None while it runs, or when either time is not stored (gallery runs keep no progress).
    A resumed run counts its last computation only."""
    status = store.status(run_id)
    started, ended = store.progress(run_id).get("started"), status.get("time")
    if status.get("state") not in ENDED or started is None or ended is None or ended < started:
        return None
    return float(ended - started)


def _words(registry: dict, name: str) -> str:
    return registry[name].short if name in registry else name


def runs_frame(stores: list[Store], rows: list[dict] | None = None,
               numbers: Callable[[Store, str], dict] = run_numbers) -> pd.DataFrame:
    """One row per run of `stores` (COLUMNS), newest first.

    rows: store.runs.list_runs rows already read (default: read them, without file checks);
    numbers: (store, run id) -> key_numbers, so a caller can serve it from a cache (default run_numbers).
    A run whose config cannot be read keeps its id, state 'damaged' and reason, and no numbers."""
    by_root = {str(s.root): s for s in stores}
    rows = list_runs(*stores, check_files=False) if rows is None else rows
    out = []
    for r in rows:
        store = by_root[r["store"]]
        row = {"run_id": r["run_id"], "state": r["state"], "dataset": _words(DATASETS, r["dataset"]),
               "arch": _words(ARCHITECTURES, r["arch"]), "trials": r["trials"], **dict.fromkeys(NUMBERS),
               "duration_s": None, "date": r.get("updated"), "readonly": r["readonly"],
               "reason": r.get("reason") or "", "store": r["store"]}
        if r["dataset"] != "?":
            try:
                row.update(numbers(store, r["run_id"]))
                row["duration_s"] = duration_s(store, r["run_id"])
            except (FileNotFoundError, Corrupt) as exc:  # deleted or damaged since the rows were read
                row["reason"] = row["reason"] or str(exc)
        out.append(row)
    df = pd.DataFrame(out, columns=list(COLUMNS))
    for col in ("dense_acc", "smallest_ticket", "speed_ratio", "speed_percent", "duration_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce")  # None -> NaN: sortable float columns
    df["trials"] = df["trials"].astype(int)
    df["date"] = pd.to_datetime(df["date"], unit="s", utc=True)
    return df
