"""Give the headline run its missing arms (random pruning, one-shot) without retraining what it has.

The headline run in the gallery trained dense, ticket and re-init; adding controls changes the run id
(controls are part of the config). Its dense network, tickets and re-inits are the same computation in
the new run (same config fields, seeds and minibatch orders), so their stored records are reused, after
checking that this engine retrains trial 0's dense network bit-identically (its whole history, every
evaluation, compared exactly). The dense networks are retrained anyway (one-shot pruning needs their
trained weights, which the gallery does not keep); their records are compared with the gallery's too.

  python3 scripts/headline_reuse.py check           # retrain t0's dense network, compare, print
  python3 scripts/headline_reuse.py seed --store S  # copy the reusable records into S's new run folder
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from lth_core.config import ExperimentConfig
from lth_core.lottery.experiment import _Run
from lth_core.lottery.tasks import execute
from lth_core.store.run_store import Store

ROOT = Path(__file__).resolve().parent.parent
HEADLINE = "ba305c899da06a3f"
NEW_CONTROLS = ("reinit", "random", "oneshot")


def configs() -> tuple[ExperimentConfig, ExperimentConfig]:
    gallery = Store(ROOT / "gallery", readonly=True)
    old = gallery.config(HEADLINE)
    return old, old.replace(controls=NEW_CONTROLS)


def check() -> bool:
    gallery = Store(ROOT / "gallery", readonly=True)
    old, new = configs()
    stored = gallery.read_json(HEADLINE, "t0/L00/ticket.json")["history"]
    with tempfile.TemporaryDirectory() as tmp:
        run = _Run(new, Store(tmp), ROOT / "data", "cpu")
        spec = run.spec(0, 0, "ticket")
        spec.store_root = None
        fresh = execute(spec)["history"]
    keys = sorted(set(stored) & set(fresh))
    per_key = {k: stored[k] == fresh[k] for k in keys}
    same = all(per_key.values())
    print(json.dumps({"identical_per_key": per_key, "evaluations": len(stored["iteration"]), "bit_identical": same,
                      "first_differences": {k: [stored[k][:3], fresh[k][:3]] for k in keys if not per_key[k]},
                      "old_run": HEADLINE, "new_run": new.run_id()}))
    return same


def seed(store_root: Path) -> str:
    """Copy ticket and re-init records and the ticket masks (levels >= 1) into the new run's folder."""
    gallery = Store(ROOT / "gallery", readonly=True)
    old, new = configs()
    store = Store(store_root)
    rid = store.create(new)
    copied = 0
    for t in range(old.trials):
        for level in range(1, old.levels):
            base = f"t{t}/L{level:02d}"
            for name in ("ticket.json", "reinit.json", "mask_ticket.st"):
                src = gallery.run_dir(HEADLINE) / base / name
                dst = store.run_dir(rid) / base / name
                if src.exists() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)
                    copied += 1
    print(json.dumps({"new_run": rid, "files_copied": copied}))
    return rid


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["check", "seed"])
    p.add_argument("--store", type=Path, default=ROOT / "runs")
    a = p.parse_args()
    if a.what == "check":
        sys.exit(0 if check() else 1)
    seed(a.store)
