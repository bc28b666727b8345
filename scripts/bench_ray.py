"""Ray's overhead: the same sweep on the local executor and on a local 1-node Ray cluster.

Run it inside a loopback-only network namespace (Ray binds every interface otherwise):

    unshare --net sh -c 'ip link set lo up; exec python3 scripts/bench_ray.py --repeats 3 --out docs/bench/ray.json'

The sweep: the quick preset (MNIST-1D, 350 iterations, 4 rounds, ticket + re-init) over
--seeds seeds, so 9 networks per seed. Each repeat computes it into a fresh store twice,
alternating which executor goes first: LocalExecutor on every core (its worker processes
started inside the timing), and RayExecutor on a cluster started once beforehand with as
many CPUs (one CPU per task). Prints each repeat, the medians and the per-repeat ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core.execution.local import LocalExecutor  # noqa: E402
from lth_core.execution.driver import run_many  # noqa: E402
from lth_core.presets import get_preset  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402


def sweep(seeds: int):
    return [get_preset("quick").replace(seed=100 + s) for s in range(seeds)]


def once(executor, configs) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        out = run_many(configs, Store(tmp), executor)
        wall = time.perf_counter() - t
    assert set(out.values()) == {"done"}, out
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("bench_ray.json"))
    a = ap.parse_args()
    import ray
    from lth_core.execution.ray import RayExecutor
    cores = os.cpu_count() or 1
    t = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    start_s = time.perf_counter() - t
    configs = sweep(a.seeds)
    from lth_core.lottery.tasks import get_data
    get_data("mnist1d", None, "cpu")  # generated and cached once, outside the timings
    local_s, ray_s = [], []
    try:
        for rep in range(a.repeats):
            order = ("local", "ray") if rep % 2 == 0 else ("ray", "local")
            for name in order:
                ex = LocalExecutor(cores) if name == "local" else RayExecutor()
                try:
                    (local_s if name == "local" else ray_s).append(once(ex, configs))
                finally:
                    ex.close()
                print(f"repeat {rep + 1}/{a.repeats} {name}: {(local_s if name == 'local' else ray_s)[-1]:.2f} s",
                      flush=True)
    finally:
        ray.shutdown()
    ratios = [r / loc for r, loc in zip(ray_s, local_s)]
    report = {"cores": cores, "configs": len(configs), "networks": 9 * len(configs),
              "ray_cluster_start_s": start_s, "local_s": local_s, "ray_s": ray_s,
              "ratio_ray_over_local_per_repeat": ratios, "median_ratio": statistics.median(ratios),
              "median_local_s": statistics.median(local_s), "median_ray_s": statistics.median(ray_s),
              "load_average_1min_at_end": os.getloadavg()[0]}
    print(f"sweep of {len(configs)} quick-preset runs ({9 * len(configs)} networks) on {cores} cores")
    print(f"local: median {report['median_local_s']:.2f} s; ray (1-node cluster, started in {start_s:.1f} s, "
          f"not timed): median {report['median_ray_s']:.2f} s")
    print(f"ray / local per repeat: {', '.join(f'{r:.3f}' for r in ratios)}; median {report['median_ratio']:.3f}")
    a.out.write_text(json.dumps(report, indent=1))
    print(f"figures written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
