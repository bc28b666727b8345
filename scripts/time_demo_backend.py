"""Time the quick demo without a browser, beside a busy core: the job manager's warm worker computes it
while another process spins on the other core (as a browser or a second user would).

For each repeat a fresh job manager (its warm worker ready) in a fresh store takes the demo; the
seconds from submit until the dense network and the last ticket are stored are read from the store's
files. With --baseline (another checkout, e.g. a git worktree of an older commit) its repeats alternate
with this checkout's, each in its own process. Prints each repeat and the medians; writes --out.

    python scripts/time_demo_backend.py --repeats 3 --baseline /tmp/old --out docs/bench/demo_backend.json
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

# run in the checkout being timed (its own lth_core): a fresh manager, a warm worker, one demo run
ONE_RUN = """
import json, sys, time
from pathlib import Path
from lth_core.presets import QUICK
from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.store.run_store import Store
root, settle = Path(sys.argv[1]), float(sys.argv[2])
jm = JobManager(Store(root), Settings(store=root, gallery=root / "no-gallery"))
time.sleep(settle)  # the warm worker starts and loads its data meanwhile
wall = time.time()
run_id = jm.submit(QUICK, owner="timing")
last = root / run_id / "t0" / f"L{QUICK.levels - 1:02d}" / "ticket.json"
while not last.exists() and time.time() - wall < 300:
    time.sleep(0.01)
stored = lambda level: (root / run_id / "t0" / f"L{level:02d}" / "ticket.json").stat().st_mtime - wall
print(json.dumps({"dense_stored_s": stored(0), "last_stored_s": stored(QUICK.levels - 1)}))
jm.shutdown()
"""


def one_repeat(checkout: Path, settle_s: float) -> dict:
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-c", ONE_RUN, str(Path(tmp) / "runs"), str(settle_s)],
                                 cwd=checkout, capture_output=True, text=True, timeout=600,
                                 env={**os.environ, "PYTHONPATH": str(checkout)})
    finally:
        hog.kill()
        hog.wait()
    if out.returncode != 0:
        raise SystemExit(f"the timed run failed in {checkout}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def medians(rows: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settle", type=float, default=12.0, help="seconds the warm worker gets before the submit")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout, timed alternately")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {a.repeats}")
    if a.baseline is not None and not (a.baseline / "lth_core").is_dir():
        ap.error(f"--baseline {a.baseline} has no lth_core")
    rows, base = [], []
    for i in range(a.repeats):
        if a.baseline is not None:
            base.append(one_repeat(a.baseline, a.settle))
            print(f"baseline repeat {i + 1}: {base[-1]}", flush=True)
        rows.append(one_repeat(ROOT, a.settle))
        print(f"repeat {i + 1}: {rows[-1]}", flush=True)
    out = {"repeats": rows, "median": medians(rows), "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]}
    if base:
        commit = subprocess.run(["git", "-C", str(a.baseline), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() or None
        out["baseline"] = {"commit": commit, "repeats": base, "median": medians(base)}
    print(json.dumps({k: out[k] for k in ("median",)} | ({"baseline": out["baseline"]["median"]} if base else {})))
    if a.out:
        a.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
