"""The IMP experiment as a dependency graph: which network needs which one trained first.

A node is one trained network, (trial, level, arm). Within a trial the ticket at level
k+1 needs only the ticket trained at level k (its mask comes from pruning that network);
the controls at level k need only level k's ticket mask (so the ticket of level k-1);
a criterion's own chain needs its previous level; one-shot pruning needs the trained
dense network; masks found at initialisation need nothing trained at all. Trials and
configs are independent. The scheduler (lth_core.execution.scheduler) keeps the longest
chains running first, since every other network waits on them.
"""
from __future__ import annotations

from lth_core.config import COPY_ARM, ExperimentConfig, arm_family

Node = tuple  # (trial, level, arm)


def depends_on(config: ExperimentConfig, trial: int, level: int, arm: str) -> tuple:
    """The nodes whose stored results this node's training starts from."""
    family = arm_family(arm)
    if family in ("at_init", "check"):
        return ()  # theta_0 and a mask computed from it, at counts known in advance
    if arm == "oneshot":
        return ((trial, 0, "ticket"),)  # the trained dense network, pruned once
    if family == "criterion":  # its own chain, which starts from the shared dense network
        return ((trial, 0, "ticket"),) if level == 1 else ((trial, level - 1, arm),)
    if level == 0:
        # the dense network; a rewound stability copy of it starts from theta_k, which the dense
        # network's training stores
        return ((trial, 0, "ticket"),) if (arm == COPY_ARM and config.reset == "rewind") else ()
    return ((trial, level - 1, "ticket"),)  # ticket, reinit, random, ticket_copy: this level's mask


def chain_after(config: ExperimentConfig, level: int, arm: str) -> int:
    """How many networks wait on this one in a row (the length of the chain it heads): the
    scheduler's priority, so the critical path never waits behind a control."""
    if arm == "ticket" or arm_family(arm) == "criterion":
        return config.pruning.rounds - level + 1  # itself and the chain after it
    return 0


def width(config: ExperimentConfig, level: int) -> int:
    """Networks trained at one level of a run (all trials, all arms): how many can share the cores
    in the steady state. A level of one network alone gets every core's threads."""
    from lth_core.lottery.state import level_arms
    return config.trials * len(level_arms(config, level))


MIN_THREADED_WORK = 1e8  # parameters x batch size below which a second thread does not pay


def benefits_from_threads(config: ExperimentConfig) -> bool:
    """Is one network's step big enough for several threads to speed it up? Measured on 2 cores
    (scripts/bench_threads.py, docs/PERFORMANCE.md): conv2 at batch 60 (parameters x batch 2.6e8) gains
    from a second thread; LeNet-300-100 at batch 60 (1.6e7) and the quick demo's MLP (2.5e7) do not, and
    with the other core busy their second thread spin-waits. Below the bar a network trains
    single-threaded, wherever it runs."""
    from lth_core.registry import DATASETS
    from lth_core.resources import arch_profile
    params = arch_profile(config.arch, DATASETS[config.dataset].input_shape)[2]
    return params * config.training.batch_size >= MIN_THREADED_WORK
