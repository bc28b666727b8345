"""A winning ticket taken out of the store: the network with its mask applied and θ₀ loaded.

The ticket is what the paper defines: the mask m found by IMP at a level, applied to the
initial weights θ₀ the pruned network trained from (θ_k in a rewinding run), so that
f(x; m ⊙ θ₀) trained reaches the accuracy the run measured. Its trained weights are kept
beside it. Nothing here writes to the store.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from lth_core import layout
from lth_core.api.checkpoint import save
from lth_core.lottery.state import RunState
from lth_core.models.architectures import build
from lth_core.plan import trial_seed
from lth_core.pruning.masks import apply_, density
from lth_core.store.run_store import Corrupt


class TicketError(ValueError):
    """A ticket that cannot be had: a bad level or trial, a network not trained yet, weights not kept."""


class Ticket(nn.Module):
    """A ticket as a torch module: `ticket(x)` runs `ticket.network`, the plain model (state_dict keys as
    the run stored them). masks: {weight name: bool tensor}, True where a weight survives; init_state:
    the weights its training started from (masked); trained_state: after training (masked; None when the
    run kept no weights, as gallery runs); metadata: run id, config, level, trial, % remaining, accuracy."""

    def __init__(self, network: nn.Module, masks: dict, init_state: dict, trained_state: dict | None,
                 metadata: dict):
        super().__init__()
        self.network, self.masks, self.metadata = network, masks, metadata
        self.init_state, self.trained_state = init_state, trained_state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def extra_repr(self) -> str:
        m = self.metadata
        return f"run={m['run_id']}, level={m['level']}, trial={m['trial']}, {m['percent_remaining']:.3g}% remaining"

    def save(self, out: Path | str) -> Path:
        """Write the ticket as a checkpoint folder (lth_core.api.checkpoint): ticket.safetensors (θ₀ of the
        survivors, the mask, the trained weights), ticket.json (metadata) and load_ticket.py, a loader that
        needs only torch and safetensors. Returns the folder."""
        return save(self, Path(out))


def _check_index(name: str, value, count: int, run_id: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
        raise TicketError(f"{name} {value!r} is not in run {run_id}; allowed: 0..{count - 1}")
    return value


def _masked(state: dict, masks: dict) -> dict:
    return {k: v * masks[k].to(v.dtype) if k in masks else v.clone() for k, v in state.items()}


def _init_state(r: RunState, trial: int, level: int) -> tuple[dict, str]:
    """The weights the ticket of (trial, level) started from, and their name. A run without stored
    weights (the gallery) gets θ₀ rebuilt from its trial's seed, as training made it."""
    c = r.c
    if c.reset == "rewind" and level > 0:
        state = r.stored_state(trial, "rewind")
        if state is None:
            raise TicketError(f"run {r.run_id} keeps no rewound weights θ_k of trial {trial}")
        return state, f"theta_{c.rewind_iteration}"
    try:
        return r.store.read_state(r.run_id, layout.theta0(trial)), "theta_0"
    except (FileNotFoundError, Corrupt):
        return build(c.arch, trial_seed(c, trial), c.training.dropout).state_dict(), "theta_0"


def _accuracy(run, level: int, trial: int) -> dict:
    s = run.summary()
    row = s[(s.level == level) & (s.arm == "ticket") & (s.trial == trial)]
    if row.empty:
        return {}
    r = row.iloc[0]
    return {"test_acc_at_early_stop": float(r.test_acc_at_early_stop), "final_test_acc": float(r.final_test_acc),
            "early_stop_iteration": int(r.early_stop_iteration)}


def ticket_of(run, level: int, trial: int = 0, *, trained: bool = False) -> Ticket:
    """The ticket of a run (lth_core.api.handle.Run) at `level` and `trial`; trained=True loads the
    trained weights into the network instead of the initial ones. TicketError names what is allowed."""
    c = run.config
    level = _check_index("level", level, c.levels, run.run_id)
    trial = _check_index("trial", trial, c.trials, run.run_id)
    r = RunState(c, run.store, run.data_dir, "cpu")
    masks = r.mask(trial, level)
    if masks is None or r.metrics(trial, level, "ticket") is None:
        done = [lv for lv in range(c.levels) if r.metrics(trial, lv, "ticket") is not None]
        raise TicketError(f"the ticket of level {level}, trial {trial} is not trained yet in run {run.run_id}; "
                          f"trained levels: {', '.join(map(str, done)) or 'none'}")
    init, init_name = _init_state(r, trial, level)
    try:
        final = _masked(run.store.read_state(run.run_id, layout.final(trial, level, "ticket")), masks)
    except (FileNotFoundError, Corrupt):
        final = None
    if trained and final is None:
        raise TicketError(f"run {run.run_id} keeps no trained weights for level {level}, trial {trial} "
                          "(gallery runs keep masks and metrics only); use trained=False")
    init = _masked(init, masks)
    network = build(c.arch, 0, c.training.dropout)
    network.load_state_dict(final if trained else init)
    apply_(network, masks).eval()
    meta = {"run_id": run.run_id, "level": level, "trial": trial, "arch": c.arch, "dataset": c.dataset,
            "percent_remaining": 100.0 * density(masks), "init": init_name, "trained": trained,
            "has_trained_weights": final is not None, "accuracy": _accuracy(run, level, trial),
            "prunable": {n: r.kinds[n] for n in masks}, "config": c.to_dict()}
    return Ticket(network, masks, init, final, meta)
