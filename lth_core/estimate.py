"""Run-time estimates from costs measured on this machine, before a run starts.

One optimizer step (and one example's evaluation) is timed on random data once per
(arch, batch size, device, threads) and cached. The estimate walks the run's planned networks
(state.planned_tasks) in the batches the engine trains together: a batch takes
ceil(tasks / processes) task durations.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import torch
from torch.nn import functional as F

from lth_core.pruning.at_init import SNIP_BATCHES, SYNFLOW_STEPS
from lth_core.config import ExperimentConfig, TrainingConfig
from lth_core.plan import batch_of, planned_tasks, task_steps
from lth_core.models.architectures import build, prunable_layers
from lth_core.registry import get_arch_info, get_dataset_info
from lth_core.lottery.tasks import sync
from lth_core.training.loop import make_optimizer

STARTUP_S = 8.0   # starting the worker processes (importing torch) and loading the data, roughly, per run
LEVEL_S = 1.0     # per level: building the tasks, pruning, writing masks and metrics, roughly
# steps, roughly, to find a mask at initialisation (SNIP's gradient minibatches; SynFlow's rescorings, each a
# single-example pass, counted as a step to stay on the safe side); magnitude at init only sorts
MASK_STEPS = {"snip": SNIP_BATCHES, "synflow": SYNFLOW_STEPS}
LINE_POINTS = 11  # test-set evaluations along the line between a ticket and its stability copy (lth_core.lottery.stability)
_CACHE: dict = {}


@dataclass(frozen=True)
class Cost:
    """Measured costs on one device; seconds."""

    step_s: float              # one training step (forward, backward, masked update) at batch_size
    eval_s_per_example: float  # one example's forward pass at evaluation time
    device: str
    threads: int
    steps_timed: int           # how many steps the measurement averaged over


def measure(arch: str, batch_size: int, *, device: str = "cpu", threads: int = 1,
            steps: int = 30, budget_s: float = 3.0) -> Cost:
    """Time `steps` real training steps of `arch` (fewer if they take longer than budget_s).
    threads: torch CPU threads while timing (workers run single-threaded). Cached per argument set."""
    key = (arch, int(batch_size), device, int(threads))
    if key in _CACHE:
        return _CACHE[key]
    shape = get_arch_info(arch).input_shapes[0]
    old_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        gen = torch.Generator().manual_seed(0)
        model = build(arch, 0).to(device)
        params = dict(model.named_parameters())
        grad_masks = [(params[n], torch.ones_like(params[n])) for n in prunable_layers(model)]
        opt = make_optimizer(model.parameters(), TrainingConfig(batch_size=batch_size))

        def timed_steps(batch: int, n: int) -> float:
            x = torch.randn((batch, *shape), generator=gen).to(device)
            y = torch.randint(0, 10, (batch,), generator=gen).to(device)
            sync(device)
            t0 = time.perf_counter()
            for _ in range(n):
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                for p, m in grad_masks:
                    p.grad.mul_(m)
                opt.step()
            sync(device)
            return (time.perf_counter() - t0) / n

        # A probe at a small batch first: a large convnet on a CPU takes seconds per
        # step, and its cost grows linearly with the batch, so it is timed small and scaled.
        probe = min(batch_size, 4)
        timed_steps(probe, 1)  # warm-up: allocator, fused kernels, lazy init
        probe_s = timed_steps(probe, 1)
        if probe_s * batch_size / probe * 10 > budget_s:
            done = max(2, min(steps, int(budget_s / max(probe_s, 1e-6))))
            step_s = timed_steps(probe, done) * batch_size / probe
        else:
            timed_steps(batch_size, 1)
            full_s = timed_steps(batch_size, 1)
            done = max(3, min(steps, int(budget_s / max(full_s, 1e-6))))
            step_s = timed_steps(batch_size, done)

        model.eval()
        n_eval = max(8, min(512, int(0.3 / max(probe_s / probe / 3, 1e-7))))
        xe = torch.randn((n_eval, *shape), generator=gen).to(device)
        with torch.no_grad():
            model(xe[:8])
            sync(device)
            t0 = time.perf_counter()
            model(xe)
            sync(device)
        eval_s = (time.perf_counter() - t0) / n_eval
    finally:
        torch.set_num_threads(old_threads)
    cost = Cost(step_s, eval_s, device, int(threads), done)
    _CACHE[key] = cost
    return cost


class EstimateUnavailable(RuntimeError):
    """The step cost could not be measured (the measuring process failed or took too long)."""


def measure_apart(arch: str, batch_size: int, *, device: str = "cpu", threads: int = 1,
                  timeout_s: float = 120) -> Cost:
    """measure() in a process of its own, for the app's server: a torch optimizer imports
    torch._dynamo, Triton and Inductor for good, which a server that draws pages never needs.
    Cached like measure()."""
    key = (arch, int(batch_size), device, int(threads))
    if key in _CACHE:
        return _CACHE[key]
    cmd = [sys.executable, "-m", "lth_core.estimate", arch, str(int(batch_size)), device, str(int(threads))]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EstimateUnavailable(f"timing {arch} took over {timeout_s:g} s") from None
    except OSError as exc:
        raise EstimateUnavailable(f"could not start the timing process ({exc.strerror or exc})") from None
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise EstimateUnavailable(f"the timing process ended with code {out.returncode}: {last}")
    cost = Cost(**json.loads(lines[-1]))
    _CACHE[key] = cost
    return cost


def planned_steps(config: ExperimentConfig) -> int:
    """Optimizer steps the whole run takes: every planned network (the dense one, each arm at each level,
    the stability copies) from its own start (rewound networks train iterations - k), over all trials."""
    return sum(task_steps(config, level, arm) for _, level, arm in planned_tasks(config))


def estimate_seconds(config: ExperimentConfig, cost: Cost, processes: int) -> float:
    """Wall-clock seconds the run should take with `processes` parallel workers: the tasks that the
    engine trains together (experiment.batch_of: a level's arms and trials, its stability copies) in
    waves of `processes`, plus finding the masks at initialisation and evaluating the stability lines."""
    processes = max(1, int(processes))
    info = get_dataset_info(config.dataset)
    per_eval = (info.n_val + info.n_test) * cost.eval_s_per_example
    batches: dict[int, list[float]] = {}
    mask_steps = 0  # found one after another in the main process, once per trial, level and method
    for _, level, arm in planned_tasks(config):
        steps = task_steps(config, level, arm)
        evals = math.ceil(steps / config.training.eval_every)
        batches.setdefault(batch_of(config, level, arm), []).append(steps * cost.step_s + evals * per_eval)
        mask_steps += MASK_STEPS.get(arm, 0)
    lines = len(config.stability_levels) * config.trials * LINE_POINTS * info.n_test
    total = STARTUP_S + mask_steps * cost.step_s + lines * cost.eval_s_per_example
    for durations in batches.values():
        total += math.ceil(len(durations) / processes) * max(durations) + LEVEL_S
    return total


def worker_layout(device: str, processes_per_job: int) -> tuple[int, int]:
    """(processes, threads per process) a job uses: on a CPU every worker process trains
    single-threaded (`lth_core work` sets one thread, as the pool's workers do)."""
    if device != "cpu":
        return 1, 1
    return max(1, processes_per_job), 1


def format_duration(seconds: float | None) -> str:
    """'45 s', '3 min 20 s', '2 h 05 min'; an em dash for None."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400 * 2:
        return f"{s // 3600} h {(s % 3600) // 60:02d} min"
    return f"{s / 86400:.1f} days"


if __name__ == "__main__":  # measure_apart's child: python -m lth_core.estimate ARCH BATCH DEVICE THREADS
    _arch, _batch, _device, _threads = sys.argv[1:5]
    print(json.dumps(asdict(measure(_arch, int(_batch), device=_device, threads=int(_threads)))))
