"""What a worker's start-up costs, and what warm workers take out of a run's path.

1. In fresh processes (medians of --repeats): starting Python and importing torch, importing the
   engine, loading the quick demo's data from its cache, building the first optimizer (torch.optim
   imports torch._dynamo there), and starting 2 warm worker processes of the local executor.
2. The quick demo through the job manager, as the app runs it, with a worker started for the run
   (LTH_WARM_WORKERS=0) and with a warm one (1), alternated: seconds from submit to the dense
   network stored (the first chart point) and to the run done.

    python scripts/startup_cost.py --repeats 3 --out docs/bench/startup.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = r"""
import time, json, sys
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
from lth_core.presets import get_preset

t2 = time.perf_counter()
from lth_core.lottery.tasks import get_data
get_data("mnist1d", None, "cpu")
t3 = time.perf_counter()
from lth_core.training.loop import make_optimizer
make_optimizer([torch.nn.Parameter(torch.zeros(2))], get_preset("quick").training)
t4 = time.perf_counter()
from lth_core.execution.local import LocalExecutor
ex = LocalExecutor(2, warm=(("mnist1d",), None)); ex.start_pool()
t5 = time.perf_counter()
ex.close()
print(json.dumps({"import_torch_s": t1 - t0, "import_engine_s": t2 - t1, "load_data_s": t3 - t2,
                  "first_optimizer_s": t4 - t3, "start_2_warm_workers_s": t5 - t4}))
"""


def components() -> dict:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    total = time.perf_counter() - t
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "whole_process_s": total}


def through_manager(warm: int) -> dict:
    from dataclasses import replace

    from lth_core.service.jobs import JobManager
    from lth_core.service.settings import Settings
    from lth_core.presets import get_preset
    from lth_core.store.run_store import Store
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        root.mkdir()
        jm = JobManager(Store(root), replace(Settings.from_env(), warm_workers=warm))  # the app's, warm or not
        try:
            if warm:  # as in the app, the warm worker has had time to warm before the click
                deadline = time.time() + 60
                while not jm.pool.standbys and time.time() < deadline:
                    time.sleep(0.1)
                time.sleep(15)
            t = time.perf_counter()
            rid = jm.submit(get_preset("quick"), owner="bench")
            first = None
            while jm.store.status(rid).get("state") != "done":
                if first is None and (jm.store.run_dir(rid) / "t0" / "L00" / "ticket.json").exists():
                    first = time.perf_counter() - t
                assert time.perf_counter() - t < 300, "the quick demo did not finish in 5 minutes"
                time.sleep(0.02)
            return {"first_point_s": first, "done_s": time.perf_counter() - t, "handed_over": jm.pool.handed_over}
        finally:
            jm.shutdown()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("startup.json"))
    a = ap.parse_args()
    comp = [components() for _ in range(a.repeats)]
    runs = {"cold": [], "warm": []}
    for rep in range(a.repeats):
        for name in (("cold", "warm") if rep % 2 == 0 else ("warm", "cold")):
            runs[name].append(through_manager(1 if name == "warm" else 0))
            print(f"repeat {rep + 1} {name}: {runs[name][-1]}", flush=True)
    med = {k: statistics.median(c[k] for c in comp) for k in comp[0]}
    summary = {name: {k: statistics.median(r[k] for r in rs) for k in ("first_point_s", "done_s")}
               for name, rs in runs.items()}
    report = {"components_median_s": med, "components": comp, "quick_demo_through_manager": runs,
              "quick_demo_median_s": summary, "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
    print("start-up components (median s):", {k: round(v, 2) for k, v in med.items()})
    print("quick demo through the job manager (median s):", summary)
    a.out.write_text(json.dumps(report, indent=1))
    print(f"figures written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
