"""Where one quick-demo network's time goes, in one warm process on one core (as a worker trains it).

For the demo's dense network: preparing the task from the store (its theta_0 and masks, the model
built), its 350 training steps alone, its 14 evaluations of the three splits (validation, test, the
fixed training subset) alone, the whole train() call, and writing the result to the store; and one
full garbage collection in a process holding the app's modules, which Streamlit ran after every page
run until the app's config set runner.postScriptGC = false. Median of --repeats; prints them and
writes --out (read by scripts/performance_tables.py).

    python scripts/demo_breakdown.py --repeats 5 --out docs/bench/demo_breakdown.json
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core.execution.local import warm_process  # noqa: E402
from lth_core.lottery import tasks  # noqa: E402
from lth_core.models.architectures import build  # noqa: E402
from lth_core.lottery.state import RunState  # noqa: E402
from lth_core.presets import QUICK  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402
from lth_core.training import loop  # noqa: E402
import ui.progress  # noqa: E402,F401  (the app's modules, with Streamlit, pandas and Plotly: what a collection walks)


def one(store: Store) -> dict:
    r = RunState(QUICK, store, None, "cpu")
    r.theta0(0)
    t = time.perf_counter()
    spec = r.spec(0, 0, "ticket")
    data = tasks.get_data(spec.dataset, spec.data_dir, spec.device)
    model = build(spec.arch, seed=0, dropout=spec.dropout)
    model.load_state_dict(spec.init_state)
    prepare = time.perf_counter() - t
    cfg = QUICK.training
    opt = loop.make_optimizer(model.parameters(), cfg)
    batches = loop.minibatches(len(data.x_train), cfg.batch_size, 0, "cpu")
    t = time.perf_counter()
    for _ in range(cfg.iterations):
        idx = next(batches)
        loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    steps = time.perf_counter() - t
    evals = cfg.iterations // cfg.eval_every
    model.eval()
    t = time.perf_counter()
    for _ in range(evals):
        [loop.evaluate(model, x, y) for x, y in loop.splits(data)]
    evaluation = time.perf_counter() - t
    t = time.perf_counter()
    result = tasks.execute(spec)
    whole = time.perf_counter() - t
    t = time.perf_counter()
    r.persist(0, 0, "ticket", spec, result)
    write = time.perf_counter() - t
    return {"prepare_s": prepare, "steps_s": steps, "evaluations_s": evaluation, "execute_s": whole, "store_write_s": write,
            "evaluations": evals, "eval_examples": sum(len(y) for _, y in loop.splits(data))}


def full_collection_s() -> float:
    """One gc.collect(2) in this process, after importing what the app's server holds."""
    gc.collect(2)
    t = time.perf_counter()
    gc.collect(2)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {a.repeats}")
    torch.set_num_threads(1)
    warm_process((QUICK.dataset,), None)
    rows = []
    for _ in range(a.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(one(Store(Path(tmp) / "runs")))
        rows[-1]["full_gc_s"] = full_collection_s()
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k.endswith("_s")}
    print(", ".join(f"{k} {v:.3f} s" for k, v in med.items()))
    if a.out:
        a.out.write_text(json.dumps({"repeats": rows, "median": med, "load_1min": os.getloadavg()[0],
                                     "evaluations": rows[0]["evaluations"],
                                     "eval_examples": rows[0]["eval_examples"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
