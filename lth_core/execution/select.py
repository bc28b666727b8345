"""Choosing an executor: by name, from the command line, the app's settings, or a sweep.

Executors (`EXECUTORS`): `local` trains on this machine (lth_core.execution.local);
`ray` hands each network to a Ray cluster as one task (lth_core.execution.ray), and
imports Ray only when chosen, so the local path needs nothing beyond torch.
"""
from __future__ import annotations

from lth_core.config import ConfigError
from lth_core.execution.local import LocalExecutor, StackedExecutor
from lth_core.execution.ray import RayExecutor
from lth_core.lottery.tasks import default_processes, stacks_networks
from lth_core.registry import EXECUTORS


def local_executor(device: str, processes: int | None = None, warm: tuple | None = None,
                   stack: bool | None = None):
    """This machine's executor for `device`: stacked networks on CUDA (or with stack=True), else
    up to `processes` networks at once (default: every core)."""
    if stacks_networks(device, stack):
        return StackedExecutor()
    return LocalExecutor(processes or default_processes(device), warm=warm)


def make_executor(name: str, device: str, *, processes: int | None = None, ray_address: str | None = None,
                  cpus_per_task: float | None = None, gpus_per_task: float | None = None, warm: tuple | None = None,
                  stack: bool | None = None):
    """The executor called `name`; ConfigError naming the allowed ones otherwise. processes and
    stack: as local_executor's; ray_address: the Ray cluster to join (None: a local one)."""
    if name == "local":
        return local_executor(device, processes, warm, stack)
    if name == "ray":
        try:
            import ray  # noqa: F401  (optional: imported only when chosen)
        except ImportError:
            raise ConfigError("executor", "ray is not installed here; install it with pip install 'ray>=2.40' "
                                          "(docs/SCALING.md), or use --executor local") from None
        return RayExecutor(address=ray_address, cpus_per_task=cpus_per_task,
                           gpus_per_task=gpus_per_task, device=device)
    raise ConfigError("executor", f"{name!r} is not an executor; allowed: {', '.join(EXECUTORS)}")
