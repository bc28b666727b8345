"""Calibrate the science guard (tests/test_science_guard.py) on seeds the guard itself never uses.

Runs the guard's config at each calibration seed and writes, per network pair, the
measured gaps the guard checks: ticket - dense at the holding level, ticket - re-init at
the smallest level, and the re-init / ticket early-stop ratio there (with censoring).
The guard's margins are then set well inside the smallest measured gap.

    python scripts/calibrate_guard.py --seeds 10 12 14 --out docs/repro/guard_calibration.json
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from lth_core.analysis import results  # noqa: E402
from lth_core.execution.driver import run  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402
from tests.support.guard_config import GUARD, LEVEL_A, LEVEL_C  # noqa: E402


def measure(summary) -> list[dict]:
    """Per trial: the guard's three quantities."""
    s = summary[~summary.shared_dense].set_index(["trial", "level", "arm"])
    out = []
    for trial in sorted(set(summary.trial)):
        def v(level, arm, col):
            return float(s.loc[(trial, level, arm), col])
        out.append({
            "seed": int(summary[summary.trial == trial].seed.iloc[0]),
            "ticket_minus_dense_points": 100 * (v(LEVEL_A, "ticket", "test_acc_at_early_stop")
                                                - v(0, "ticket", "test_acc_at_early_stop")),
            "ticket_minus_reinit_points": 100 * (v(LEVEL_C, "ticket", "test_acc_at_early_stop")
                                                 - v(LEVEL_C, "reinit", "test_acc_at_early_stop")),
            "reinit_over_ticket_early_stop": v(LEVEL_C, "reinit", "early_stop_smoothed")
            / v(LEVEL_C, "ticket", "early_stop_smoothed"),
            "censored": {arm: bool(s.loc[(trial, LEVEL_C, arm), "censored_smoothed"]) for arm in ("ticket", "reinit")},
        })
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[10, 12, 14], help="base seeds (each runs the guard's trials)")
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "repro" / "guard_calibration.json")
    a = ap.parse_args()
    torch.set_num_threads(1)  # in-process training on a busy machine: extra threads only spin-wait
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        for seed in a.seeds:
            cfg = GUARD.replace(seed=seed)
            run_id = run(cfg, store, processes=a.processes)
            rows += measure(results.summary_frame(store, run_id))
            print(json.dumps(rows[-GUARD.trials:]), flush=True)
    keys = ("ticket_minus_dense_points", "ticket_minus_reinit_points", "reinit_over_ticket_early_stop")
    summary = {k: {"min": min(r[k] for r in rows), "max": max(r[k] for r in rows)} for k in keys}
    summary["censored_networks"] = sum(sum(r["censored"].values()) for r in rows)
    print(json.dumps(summary, indent=1))
    a.out.write_text(json.dumps({"config": GUARD.to_dict(), "seeds": sorted({r["seed"] for r in rows}),
                                 "per_trial": rows, "range": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
