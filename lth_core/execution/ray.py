"""Train tasks on a Ray cluster: one Ray task per network (`--executor ray` or LTH_EXECUTOR=ray).

Ray is imported only here, so the local path never needs it. Joins the cluster at `address`
(none: Ray starts a local one). A task receives only a TaskRef and reads and writes the run
store itself, so the store must be on a filesystem every node sees (docs/SCALING.md). A task
whose worker dies is retried (`max_retries`) and finds its results stored or writes them again
atomically. Each task sets torch's thread count to its CPUs, so a network trains the same on
every node; `gpus_per_task` may be a fraction so networks share one GPU.
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from lth_core.lottery.task_ref import TaskRef, run_task

REPO = str(Path(__file__).resolve().parents[2])  # on every node's PYTHONPATH, so tasks import lth_core


def _train(ref: TaskRef) -> dict:
    """The Ray task: one network, from the store to the store; its result names the node."""
    import ray
    import torch
    torch.set_num_threads(max(1, ref.threads))  # Ray's OMP_NUM_THREADS is not torch's setting
    out = run_task(ref)
    out["node"] = ray.get_runtime_context().get_node_id()
    return out


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_task: float | None = None,
                 gpus_per_task: float | None = None, device: str = "cpu", max_retries: int = 3):
        import ray
        self._ray = ray
        self._owns = not ray.is_initialized()
        # every task runs with this checkout on its PYTHONPATH (a shared path on a real cluster, or
        # lth_core installed on each node), whoever started Ray
        self._env = {"env_vars": {"PYTHONPATH": os.pathsep.join(
            p for p in (REPO, os.environ.get("PYTHONPATH", "")) if p)}}
        if self._owns:
            if address:  # join a cluster (its own settings stand)
                ray.init(address=address, log_to_driver=False)
            else:  # a cluster of this machine alone, for this process
                ray.init(include_dashboard=False, log_to_driver=False)
        self.cpus = float(cpus_per_task) if cpus_per_task else 1.0
        self.gpus = float(gpus_per_task) if gpus_per_task is not None else (1.0 if device == "cuda" else 0.0)
        self.max_retries = max_retries
        cluster_cpus = ray.cluster_resources().get("CPU", 1.0)
        self.capacity = max(1, int(cluster_cpus))
        self._remote = ray.remote(_train)
        self._refs: dict = {}   # future -> ObjectRef, to cancel on close
        self.nodes_used: set = set()
        self.submitted = 0

    def threads_for(self, width: int) -> int:
        """Every task trains with its own CPUs' threads, whatever its level's width (the cluster,
        not one machine, is shared)."""
        return max(1, int(self.cpus))

    def submit(self, ref: TaskRef):
        obj = self._remote.options(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=self.max_retries,
                                   retry_exceptions=False, runtime_env=self._env).remote(ref)
        fut = obj.future()
        self._refs[fut] = obj
        self.submitted += 1
        fut.add_done_callback(self._note)
        return fut

    def _note(self, fut) -> None:
        self._refs.pop(fut, None)
        if not fut.cancelled() and fut.exception() is None:
            self.nodes_used.add(fut.result().get("node"))

    def wait(self, futures, timeout: float):
        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)

    def close(self) -> None:
        if self.submitted:  # one line for the log (a job manager's worker.log): where the networks went
            print(f"ray: {self.submitted} tasks on {len(self.nodes_used)} node(s)", file=sys.stderr, flush=True)
        for obj in list(self._refs.values()):
            try:
                self._ray.cancel(obj, force=True)
            except Exception:  # already finished or its worker gone: nothing to cancel
                pass
        self._refs.clear()
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
