"""A run's plan, known before anything trains: which networks it trains, in what dependency
order, and how many optimizer steps each takes.

A node is one trained network, (trial, level, arm). The ticket at level k+1 needs the ticket
at level k (its mask prunes that network); each other arm declares its needs (lth_core.arms);
trials are independent. The scheduler runs the longest chains first. Pure: config in, tuples out.
"""
from __future__ import annotations

from lth_core.arms import COPY_ARM, get


def trial_seed(config, trial: int) -> int:
    """The seed of trial `trial`: every random step of the trial derives from it."""
    return config.seed + trial


def level_arms(config, level: int) -> tuple:
    """The arms trained at a level: the dense network alone at level 0, every arm after; plus
    the stability copy at stability_levels."""
    arms = ("ticket",) if level == 0 else config.arms
    return arms + ((COPY_ARM,) if level in config.stability_levels else ())


def planned_tasks(config) -> list[tuple[int, int, str]]:
    """Every (trial, level, arm) the run trains: the dense network, then all arms per level."""
    return [(trial, level, arm) for level in range(config.levels) for trial in range(config.trials)
            for arm in level_arms(config, level)]


def task_steps(config, level: int, arm: str) -> int:
    """Optimizer steps one network takes (rewound networks train iterations - k)."""
    return config.training.iterations - get(arm).start_iteration(config, level)


def depends_on(config, trial: int, level: int, arm: str) -> tuple:
    """The nodes whose stored results this node's training starts from."""
    return get(arm).depends_on(config, trial, level)


def chain_after(config, level: int, arm: str) -> int:
    """How many networks wait on this one in a row: the scheduler's priority, so the critical path
    never waits behind a control."""
    return get(arm).chain(config, level)


def batch_of(config, level: int, arm: str) -> int:
    """The level whose batch trains a network: its own, except a rewound stability copy of the dense
    network, which starts from theta_k and so waits for level 0 to store it."""
    return 1 if (arm == COPY_ARM and level == 0 and config.reset == "rewind") else level


def width(config, level: int) -> int:
    """Networks trained at one level of a run (all trials, all arms): how many can share the cores
    in the steady state."""
    return config.trials * len(level_arms(config, level))
