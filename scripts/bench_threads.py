"""Does a second thread speed one network up? ms per training step, 1 thread against every core,
with the machine otherwise idle and with one core kept busy by another process.

The scheduler gives a network several threads only where this pays
(lth_core.execution.driver.benefits_from_threads). Random data of each preset's input shape and batch size, so no dataset is
needed; medians of --steps steps after a warm-up.

    python scripts/bench_threads.py --out docs/bench/threads.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core.execution.driver import benefits_from_threads  # noqa: E402
from lth_core.models.architectures import build  # noqa: E402
from lth_core.presets import get_preset  # noqa: E402
from lth_core.registry import DATASETS  # noqa: E402
from lth_core.training.loop import make_optimizer  # noqa: E402

PRESETS = {"quick": 300, "lenet-fmnist": 300, "conv2-cifar10": 15}  # preset: steps timed


def ms_per_step(preset: str, threads: int, steps: int, device: str = "cpu", warmup: int = 5) -> float:
    """Median milliseconds of one optimizer step (forward, backward, update) of the preset's network."""
    c = get_preset(preset)
    torch.set_num_threads(threads)
    model = build(c.arch, 0).to(device)
    opt = make_optimizer(model.parameters(), c.training)
    x = torch.randn(c.training.batch_size, *DATASETS[c.dataset].input_shape, device=device)
    y = torch.randint(0, 10, (c.training.batch_size,), device=device)
    times = []
    for i in range(steps + warmup):
        t = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("threads.json"))
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    for busy in (False, True):
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for preset, steps in PRESETS.items():
                c = get_preset(preset)
                row = {"preset": preset, "arch": c.arch, "batch": c.training.batch_size, "other_core_busy": busy,
                       "threaded": benefits_from_threads(c),
                       "ms_1_thread": ms_per_step(preset, 1, steps), f"ms_{cores}_threads": ms_per_step(preset, cores, steps)}
                rows.append(row)
                print(row, flush=True)
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
    a.out.write_text(json.dumps({"cores": cores, "torch": torch.__version__, "rows": rows}, indent=1))
    print(f"figures written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
