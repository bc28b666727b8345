"""Is a worker doing anything? The CPU time of its process group, watched over time.

Training always burns CPU, so a worker whose whole process group has used no CPU time for a
while is stopped, deadlocked or waiting forever; its progress bar cannot tell (a slow network
evaluates rarely). The job manager samples each running group (StallWatch) and the page says
so after STALL_S. Linux only (/proc); not used for Ray, where the worker rightly waits.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

STALL_S = 60.0      # no CPU time for this long: the page warns that the worker looks stuck
SAMPLE_S = 5.0      # how often a running worker's group is sampled
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def group_cpu_s(pgid: int) -> float | None:
    """User + system CPU seconds of every live process in process group `pgid`, None if it has none."""
    total, found = 0, False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for name in entries:
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        if int(rest[2]) == pgid:
            total, found = total + int(rest[11]) + int(rest[12]), True
    return total / _TICK if found else None


class StallWatch:
    """When each watched group last used CPU time (clock: time.monotonic)."""

    def __init__(self, every_s: float = SAMPLE_S):
        self.every_s = every_s
        self._seen: dict[str, tuple[float, float, float]] = {}  # key -> (cpu_s, when it last grew, sampled at)

    def sample(self, key: str, pgid: int, now: float | None = None) -> None:
        """Read group `pgid`'s CPU time for `key`, at most once every `every_s`."""
        now = time.monotonic() if now is None else now
        old = self._seen.get(key)
        if old is not None and now - old[2] < self.every_s:
            return
        cpu = group_cpu_s(pgid)
        if cpu is None:
            return
        grew = old is None or cpu > old[0]
        self._seen[key] = (cpu, now if grew else old[1], now)

    def idle_s(self, key: str) -> float | None:
        """Seconds since `key`'s group last used CPU time, as of its latest sample (None: not watched)."""
        old = self._seen.get(key)
        return None if old is None else old[2] - old[1]

    def keep_only(self, keys) -> None:
        """Stop watching every key not in `keys` (jobs that ended)."""
        self._seen = {k: v for k, v in self._seen.items() if k in keys}
