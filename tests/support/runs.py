"""Real tiny runs the tests read back (trained in this process, stored in a real store), and
synthetic latency records for the latency chart."""
from __future__ import annotations

import copy
import shutil

import pytest

from lth_core.charts.latency import KINDS
from lth_core.execution import driver
from lth_core.lottery import tasks
from lth_core.store.run_store import Store


def run_recording(config, root, data_dir, processes=1, **kw):
    """Run config into a new Store at root; return (store, run id, {task key: the TaskSpec trained})."""
    specs = {}
    real = tasks.execute

    def recording(spec):
        specs[spec.key] = copy.deepcopy(spec)
        return real(spec)

    store = Store(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tasks, "execute", recording)
        rid = driver.run(config, store, data_dir=data_dir, processes=processes, **kw)
    return store, rid, specs


def copy_store(store: Store, dest) -> Store:
    """A copy of the whole store at dest, to damage or extend without touching the original."""
    shutil.copytree(store.root, dest)
    return Store(dest)


def final_weights_kept(store: Store, run_id: str) -> bool:
    return (store.run_dir(run_id) / "t0" / "L00" / "final_ticket.st").is_file()


def make_run(root, data_dir, config) -> tuple[Store, str]:
    """A real tiny run whose every network's final weights are in the store (final_<arm>.st)."""
    store = Store(root)
    run_id = driver.run(config, store, data_dir=data_dir, processes=1)
    assert final_weights_kept(store, run_id), "the engine stores every network's final weights (final_<arm>.st)"
    return store, run_id


def latency_records(sparse_at_1: float) -> list:
    """Synthetic records: dense 10 ms, masked 10 ms, structured 10 ms x fraction, sparse 40 ms at 100%
    (sparse_at_1 ms at 1% remaining)."""
    out = []
    for r, pct in ((0, 100.0), (1, 10.0), (2, 1.0)):
        ms = {"dense": 10.0, "masked": 10.0, "sparse_csr": 40.0 if pct > 1 else sparse_at_1,
              "structured": 10.0 * pct / 100}
        for kind in KINDS:
            s = ms[kind] / 1e3
            out.append({"arch": "lenet300", "batch": 256, "round": r, "kind": kind,
                        "percent": 100.0 if kind == "dense" else pct, "median_s": s, "q1_s": s * 0.99,
                        "q3_s": s * 1.01, "min_s": s * 0.98, "max_s": s * 1.02, "threads": 1, "device": "cpu",
                        "repeats": 5})
    return out
