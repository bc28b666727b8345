"""Which networks to start now: dependency-aware, critical path first, within a thread budget.

The scheduler sees nodes (run, trial, level, arm) and their dependencies (lth_core.plan) and
knows nothing of training. Ready nodes start longest-chain first (the ticket chain every
other network of its trial waits on), then by trial and level, so the critical path is
always running. A node's `threads` depend only on its level's size, so numbers never depend
on timing; nodes start while threads stay within capacity, and one always may when none runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    """One run's part of the schedule: its nodes, what each needs, and the order to prefer."""
    nodes: list                       # [(trial, level, arm)], every node of the run
    deps: dict                        # node -> tuple of nodes
    priority: dict                    # node -> larger first (chain length)
    threads: dict                     # node -> threads it trains with
    done: set = field(default_factory=set)
    running: set = field(default_factory=set)
    dropped: bool = False             # the run failed: start nothing more of it


class Scheduler:
    def __init__(self, plans: list[Plan], capacity: int):
        self.plans, self.capacity = plans, max(1, int(capacity))
        self.busy = 0  # threads of the nodes running now
        self.alone = False  # the last take() started the only network that could train

    def ready(self) -> list[tuple[int, tuple]]:
        """(plan index, node) of every node that may start now, in the order to start them."""
        out = []
        for i, p in enumerate(self.plans):
            if p.dropped:
                continue
            for n in p.nodes:
                if n not in p.done and n not in p.running and all(d in p.done for d in p.deps[n]):
                    out.append((i, n))
        return sorted(out, key=lambda item: (-self.plans[item[0]].priority[item[1]], item[0],
                                             item[1][0], item[1][1], item[1][2]))

    def take(self) -> list[tuple[int, tuple, int]]:
        """Mark as running, and return, the nodes to start now: (plan index, node, threads)."""
        started = []
        ready = self.ready()
        self.alone = not self.busy and len(ready) == 1  # the one network that can train now
        for i, n in ready:
            threads = self.plans[i].threads[n]
            if self.busy and self.busy + threads > self.capacity:
                break  # the next in line waits for cores (no overtaking: the critical path goes first)
            self.plans[i].running.add(n)
            self.busy += threads
            started.append((i, n, threads))
        return started

    def finish(self, i: int, node: tuple, ok: bool = True) -> None:
        p = self.plans[i]
        p.running.discard(node)
        self.busy -= p.threads[node]
        if ok:
            p.done.add(node)

    def drop(self, i: int) -> None:
        self.plans[i].dropped = True

    def running(self) -> int:
        return sum(len(p.running) for p in self.plans)

    def finished(self) -> bool:
        """Nothing running, and nothing left that could ever start."""
        return not self.running() and not self.ready()
