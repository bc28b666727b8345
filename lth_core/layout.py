"""A run folder's layout: one function per kind of file, used by every reader and writer.

Paths are relative to the run's folder (<store root>/<run id>/) unless a function says
otherwise. Pure: no I/O, no torch.

  config.json                       the canonical config
  status.json                       queued | running | done | failed | cancelled (+ reason)
  progress.json                     written by the run as tasks finish
  worker.log                        the output of the worker process that computes the run
  live/<task>.json                  iteration progress of tasks in flight
  t<trial>/theta0.st                initial weights (theta_0)
  t<trial>/rewind.st                theta_k when rewinding
  t<trial>/dense.st                 the trained dense network (one-shot pruning starts from it)
  t<trial>/L<level>/mask_<arm>.st   a network's mask
  t<trial>/L<level>/final_<arm>.st  a network's trained weights
  t<trial>/L<level>/<arm>.json      a network's metrics record
  t<trial>/L<level>/stability.json  the error along the line between the ticket and its copy
  analysis/noise.json               the post-training noise analysis (lth_core.analysis.analyses)
  analysis/noise-<hash>.{lock,status.json,log}   a background analysis job's files
"""
from __future__ import annotations

CONFIG = "config.json"
STATUS = "status.json"
PROGRESS = "progress.json"
WORKER_LOG = "worker.log"
LIVE = "live"
ANALYSIS = "analysis"
STANDBY_LOG = "standby.log"  # in the store's root: the output of warm workers not yet given a run


def task_key(trial: int, level: int, arm: str) -> str:
    """The one name of a trained network, e.g. 't0-L03-reinit' (live records, executors, logs)."""
    return f"t{trial}-L{level:02d}-{arm}"


def parse_task_key(key: str) -> tuple[int, int, str]:
    """task_key's inverse: 't0-L03-reinit' -> (0, 3, 'reinit'); ValueError for anything else."""
    parts = key.split("-", 2)
    if len(parts) != 3 or not parts[0][1:].isdigit() or not parts[1][1:].isdigit() \
            or parts[0][:1] != "t" or parts[1][:1] != "L" or not parts[2]:
        raise ValueError(f"not a task name like 't0-L03-reinit': {key!r}")
    return int(parts[0][1:]), int(parts[1][1:]), parts[2]


def trial_dir(trial: int) -> str:
    return f"t{trial}"


def level_dir(trial: int, level: int) -> str:
    return f"t{trial}/L{level:02d}"


def theta0(trial: int) -> str:
    return f"t{trial}/theta0.st"


def rewind(trial: int) -> str:
    return f"t{trial}/rewind.st"


def dense(trial: int) -> str:
    return f"t{trial}/dense.st"


def metrics(trial: int, level: int, arm: str) -> str:
    return f"{level_dir(trial, level)}/{arm}.json"


def mask(trial: int, level: int, arm: str = "ticket") -> str:
    return f"{level_dir(trial, level)}/mask_{arm}.st"


def final(trial: int, level: int, arm: str) -> str:
    return f"{level_dir(trial, level)}/final_{arm}.st"


def stability(trial: int, level: int) -> str:
    return f"{level_dir(trial, level)}/stability.json"


def live(task: str) -> str:
    """The live record of a task in flight (task: task_key(...))."""
    return f"{LIVE}/{task}.json"


def analysis(name: str) -> str:
    """A file of the analyses' folder, e.g. 'noise.json' or 'noise-<hash>.log'."""
    return f"{ANALYSIS}/{name}"
