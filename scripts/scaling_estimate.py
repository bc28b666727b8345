"""Time estimates for the paper's VGG-19 protocol, from per-iteration rates measured on this machine.

Measures one training step of VGG-19 on CIFAR-10-shaped tensors (batch 64, SGD with momentum, as the
preset trains it) with 1 thread and with every core, and the quick preset's step for scale; writes the
figures to --json and the estimate block of docs/SCALING.md (between its estimate markers), so no
number there is typed by hand. A GPU's rate can be added with --device cuda where one is present.

    python scripts/scaling_estimate.py --json docs/bench/scaling.json --doc docs/SCALING.md
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "scripts"))
from bench_threads import ms_per_step  # noqa: E402
from lth_core.plan import planned_tasks, task_steps  # noqa: E402
from lth_core.presets import get_preset  # noqa: E402

START, END = "<!-- estimate:start -->", "<!-- estimate:end -->"


def step_seconds(preset: str, device: str, threads: int, steps: int) -> float:
    """Median seconds of one optimizer step on random data of the preset's shape (the first step,
    which pays one-off costs, left out)."""
    return ms_per_step(preset, threads, steps, device, warmup=1) / 1000


def protocol(preset: str, trials: int) -> dict:
    c = get_preset(preset).replace(trials=trials)
    tasks = planned_tasks(c)
    return {"preset": preset, "trials": trials, "rounds": c.pruning.rounds, "networks": len(tasks),
            "iterations_per_round": c.training.iterations,
            "network_iterations": sum(task_steps(c, lv, arm) for _, lv, arm in tasks),
            "chain_iterations": c.levels * c.training.iterations}


def _days(seconds: float) -> str:
    return f"{seconds / 86400:,.0f} days" if seconds >= 2 * 86400 else f"{seconds / 3600:,.1f} hours"


def block(m: dict) -> str:
    p, cores = m["protocol"], m["cores"]
    one, all_ = m["rates"]["vgg19_1_thread_s"], m["rates"][f"vgg19_{cores}_threads_s"]
    lines = [
        f"Measured here ({m['cpu']}, {cores} cores, torch {m['torch']}; `scripts/scaling_estimate.py`, "
        f"median of {m['steps']} steps): one VGG-19 training step at batch 64 takes {one:.2f} s on 1 thread "
        f"and {all_:.2f} s on {cores} threads.",
        "",
        f"The protocol: {p['trials']} trials × ({p['rounds']} rounds + the dense network) × ticket and re-init = "
        f"{p['networks']} networks of {p['iterations_per_round']:,} iterations, {p['network_iterations']:,} "
        f"network-iterations in all. Each trial's ticket chain ({p['rounds'] + 1} networks, "
        f"{p['chain_iterations']:,} iterations) must run in order; everything else runs beside it.",
        "",
        "| where | rate used | estimate |",
        "|---|---|---|",
        f"| this machine, one network after another on 1 core | {one:.2f} s/step | "
        f"{_days(p['network_iterations'] * one)} |",
        f"| this machine, {cores} networks at once (1 core each) | {one:.2f} s/step per core | "
        f"{_days(p['network_iterations'] * one / cores)} |",
        f"| a CPU cluster of 64 such cores, 1 per task | {one:.2f} s/step per core | "
        f"{_days(max(p['network_iterations'] * one / 64, p['chain_iterations'] * one))} (the ticket chain "
        f"alone is {_days(p['chain_iterations'] * one)}) |",
    ]
    if "vgg19_cuda_s" in m["rates"]:
        g = m["rates"]["vgg19_cuda_s"]
        lines.append(f"| one GPU ({m['gpu']}), networks one after another | {g:.4f} s/step | "
                     f"{_days(p['network_iterations'] * g)} |")
    else:
        lines += ["", "No GPU was lent to the session that measured this, so the GPU rate is not measured: "
                      "rerun this script with `--device cuda` on one to add its row."]
    lines += ["", "The CPU rows are what the arithmetic gives, not advice: the protocol is a GPU job."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "scaling.json")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "SCALING.md")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    rates = {"vgg19_1_thread_s": step_seconds("vgg19-cifar10", "cpu", 1, a.steps),
             f"vgg19_{cores}_threads_s": step_seconds("vgg19-cifar10", "cpu", cores, a.steps)}
    if a.device == "cuda":
        rates["vgg19_cuda_s"] = step_seconds("vgg19-cifar10", "cuda", 1, 20)
    m = {"cpu": platform.processor() or platform.machine(), "cores": cores, "torch": torch.__version__,
         "steps": a.steps, "rates": rates, "protocol": protocol("vgg19-cifar10", 5),
         "gpu": torch.cuda.get_device_name(0) if a.device == "cuda" else None,
         "load_average_1min": os.getloadavg()[0]}
    a.json.write_text(json.dumps(m, indent=1))
    text = a.doc.read_text()
    i, j = text.index(START) + len(START), text.index(END)
    a.doc.write_text(text[:i] + "\n" + block(m) + "\n" + text[j:])
    print(block(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
