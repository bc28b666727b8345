"""Compute the atlas (lth_core/atlas.py) and copy its runs into the gallery.

Trains every atlas experiment in a work store (resumable: a finished network is never trained
again, so an interrupted run picks up where it stopped), then copies each finished run's compact
part into gallery/ and prints the gallery's size.

    python scripts/make_atlas.py --store /tmp/atlas-store            # 2 worker processes
    python scripts/make_atlas.py --store /tmp/atlas-store --processes 1
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core import atlas  # noqa: E402
from lth_core.execution.driver import run_many  # noqa: E402
from lth_core.execution.select import local_executor  # noqa: E402
from lth_core.store import gallery  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True, help="work store for the full runs (kept for resuming)")
    ap.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--gallery", type=Path, default=None, help="gallery folder (default: the repo's gallery/)")
    a = ap.parse_args()
    if a.processes < 1:
        ap.error(f"--processes must be at least 1, got {a.processes}")
    store = Store(a.store)
    configs = atlas.configs()
    t0 = time.perf_counter()
    executor = local_executor("cpu", a.processes, warm=(("mnist1d",), None))
    try:
        outcomes = run_many(configs, store, executor)
    finally:
        executor.close()
    print(f"trained in {time.perf_counter() - t0:.0f} s")
    failed = {rid: out for rid, out in outcomes.items() if out != "done"}
    if failed:
        print(f"not finished: {failed}", file=sys.stderr)
        return 1
    for config in configs:
        print(gallery.add(store, config.run_id(), a.gallery))
    print(f"gallery size: {gallery.size_bytes(a.gallery) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
