"""Measure where the dense network's validation loss bottoms out, to choose a training budget.

Trains the dense network of each trial exactly as the engine's level 0 would (same theta_0,
same minibatch order, same evaluation), for a long budget, and prints for each seed the raw
argmin of the validation loss, the smoothed argmin, and the loss curve's shape. With Adam at a
constant learning rate, a run with a shorter budget trains exactly the first iterations of
these curves, so the pilot tells what any budget up to its own would record.

    python scripts/budget_pilot.py --iterations 25000 --eval-every 500 --trials 5 \
        --out docs/repro/budget_pilot.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lth_core.config import ExperimentConfig  # noqa: E402
from lth_core.training.early_stop import argmin_index, smoothed, smoothed_argmin_index  # noqa: E402
from lth_core.plan import trial_seed  # noqa: E402
from lth_core.pruning.masks import ones_like  # noqa: E402
from lth_core.models.architectures import build, prunable_layers  # noqa: E402
from lth_core.execution.local import spawn_pool  # noqa: E402
from lth_core.lottery.tasks import TaskSpec, execute  # noqa: E402
from lth_core.seeds import derive_seed  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--arch", default="lenet300")
    ap.add_argument("--iterations", type=int, default=25_000)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    config = ExperimentConfig(dataset=a.dataset, arch=a.arch, trials=a.trials, seed=a.seed,
                              training={"iterations": a.iterations, "eval_every": a.eval_every})
    kinds = prunable_layers(build(a.arch, 0))
    specs = []
    for t in range(a.trials):
        seed = trial_seed(config, t)
        specs.append(TaskSpec(key=f"t{t}-L00-ticket", arch=a.arch, dropout=0.0, training=config.training,
                              dataset=a.dataset, data_dir=None, device="cpu",
                              init_state=build(a.arch, seed, 0.0).state_dict(),
                              masks=ones_like(build(a.arch, 0), kinds), data_seed=derive_seed(seed, "data", 0)))
    t0 = time.time()
    pool = spawn_pool(a.processes)
    try:
        results = list(pool.map(execute, specs))
    finally:
        pool.shutdown()
    wall = time.time() - t0
    rows = []
    for t, res in enumerate(results):
        h = res["history"]
        it, vl = h["iteration"], h["val_loss"]
        raw, sm = it[argmin_index(vl)], it[smoothed_argmin_index(vl)]
        rows.append({"trial": t, "seed": trial_seed(config, t), "raw_argmin": raw, "smoothed_argmin": sm,
                     "min_val_loss": min(vl), "final_val_loss": vl[-1], "iteration": it, "val_loss": vl,
                     "val_loss_smoothed": smoothed(vl), "test_acc": h["test_acc"], "train_acc": h["train_acc"]})
        print(f"seed {rows[-1]['seed']}: raw argmin {raw:>6}  smoothed argmin {sm:>6}  "
              f"min val loss {min(vl):.4f}  final {vl[-1]:.4f}")
    worst = max(max(r["raw_argmin"], r["smoothed_argmin"]) for r in rows)
    print(f"latest minimum over seeds (raw or smoothed): {worst}; it falls before 60% of a budget of "
          f"{worst / 0.6:,.0f}+ iterations. Wall time {wall:.0f} s for {a.trials} networks.")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({"config": config.to_dict(), "wall_s": wall, "processes": a.processes,
                                     "trials": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
