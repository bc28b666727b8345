"""The IMP loop and its controls, resumable from the store.

For each trial: train the dense network (level 0), prune p% of the surviving
weights by magnitude, reset the survivors to theta_0 (or theta_k when
rewinding) and train again, for `rounds` rounds. At every level >= 1 the
enabled controls train too:
  reinit  - the ticket's mask on a fresh, seeded random initialisation;
  random  - a random mask with the ticket's per-layer counts, on the reset weights;
  oneshot - the trained dense network pruned once to this level's counts, reset.
All arms of a level share the minibatch order of their trial, so they differ
only in mask and initial weights.

Beyond the paper (docs/BEYOND.md), a run may also train, per level:
  imp_<criterion> - an IMP ticket of its own chain whose rounds keep weights by another
                    criterion (lth_core.pruning.criteria), from the same dense network;
  <method>        - a mask found at initialisation (lth_core.pruning.at_init) at the level's counts,
                    trained from theta_0; <method>_shuffle / <method>_reinit / <method>_invert its
                  sanity checks (lth_core.pruning.at_init);
  ticket_copy     - at stability_levels, the ticket again with another minibatch order; the
                    error along the line between the two (lth_core.lottery.stability) is stored as
                    t<trial>/L<level>/stability.json.
Every trained network's final weights are stored (final_<arm>.st) for analyses that only
evaluate (lth_core.analysis.noise). The pruning granularity may be structured (lth_core.pruning.structured).

Networks train as soon as what they start from is stored (lth_core.lottery.graph,
lth_core.execution.driver): the ticket chain first, the controls and other trials on
the cores left; an executor (lth_core.execution) decides where. Every finished task
is written to the store at once, so an interrupted run resumes where it stopped
and a finished run is served from the store without training.
"""
from __future__ import annotations

import time
from pathlib import Path

from lth_core.pruning.at_init import at_init_mask
from lth_core.config import COPY_ARM, ExperimentConfig, arm_family, check_parts
from lth_core.pruning.masks import ones_like
from lth_core.models.architectures import build, layer_sizes, prunable_layers
from lth_core.pruning.magnitude import counts_after, prune, prune_by_counts, random_like
from lth_core.pruning.structured import prune_units, random_units
from lth_core.store.run_store import Corrupt, Store
from lth_core.training.loop import TRAIN_MEASURE
from lth_core.lottery.tasks import TaskSpec, derive_seed, resolve_device

import torch


def trial_seed(config: ExperimentConfig, trial: int) -> int:
    return config.seed + trial


def task_steps(config: ExperimentConfig, level: int, arm: str) -> int:
    """Optimizer steps one task takes (rewound networks train iterations - k)."""
    return config.training.iterations - config.start_iteration(level, arm)


def level_arms(config: ExperimentConfig, level: int) -> tuple:
    """The arms trained at a level: the dense network alone at level 0, every arm after; plus
    the stability copy at stability_levels."""
    arms = ("ticket",) if level == 0 else config.arms
    return arms + ((COPY_ARM,) if level in config.stability_levels else ())


def planned_tasks(config: ExperimentConfig) -> list[tuple[int, int, str]]:
    """Every (trial, level, arm) the run trains: the dense network, then all arms per level."""
    return [(trial, level, arm) for level in range(config.levels) for trial in range(config.trials)
            for arm in level_arms(config, level)]


def batch_of(config: ExperimentConfig, level: int, arm: str) -> int:
    """The level whose batch trains a task: its own, except a rewound stability copy of the dense
    network, which starts from theta_k and so waits for level 0 to store it."""
    return 1 if (arm == COPY_ARM and level == 0 and config.reset == "rewind") else level


def percent_ladder(config: ExperimentConfig) -> list[float]:
    """% of prunable weights remaining at levels 0..rounds, known before anything runs."""
    from lth_core.pruning.magnitude import ladder
    if config.pruning.granularity != "unstructured":
        from lth_core.pruning.structured import ladder as structured_ladder
        model = build(config.arch, 0)
        return structured_ladder(model.state_dict(), prunable_layers(model), config.pruning)
    sizes = layer_sizes(config.arch)
    return ladder({n: s for n, (k, s) in sizes.items()}, {n: k for n, (k, s) in sizes.items()}, config.pruning)


class _Run:
    """The state of one run while it computes: what is in the store, what is missing."""

    def __init__(self, config: ExperimentConfig, store: Store, data_dir, device: str, *,
                 epoch: float | None = None, at_init_cache: dict | None = None):
        self.c, self.store, self.data_dir, self.device = config, store, data_dir, device
        self.run_id = config.run_id()
        model = build(config.arch, 0)
        self.kinds = prunable_layers(model)
        self.sizes = {n: p.numel() for n, p in model.named_parameters() if n in self.kinds}
        self.epoch = time.time() if epoch is None else epoch
        self._at_init: dict = {} if at_init_cache is None else at_init_cache

    # --- store access that treats damage as absence ------------------------
    def _ok(self, reader, rel):
        try:
            return reader(self.run_id, rel)
        except (FileNotFoundError, Corrupt):
            return None

    def metrics(self, trial, level, arm):
        return self._ok(self.store.read_json, f"t{trial}/L{level:02d}/{arm}.json")

    def mask(self, trial, level, arm="ticket"):
        if level == 0 and arm == "ticket":
            return ones_like(build(self.c.arch, 0), self.kinds)
        return self._ok(self.store.read_masks, f"t{trial}/L{level:02d}/mask_{arm}.st")

    def theta0(self, trial):
        """theta_0, regenerated from the trial's seed (and stored) if missing or damaged."""
        state = self._ok(self.store.read_state, f"t{trial}/theta0.st")
        if state is None:
            state = build(self.c.arch, trial_seed(self.c, trial), self.c.training.dropout).state_dict()
            self.store.write_state(self.run_id, f"t{trial}/theta0.st", state)
        return state

    def reset_state(self, trial):
        if self.c.reset == "rewind":
            return self._ok(self.store.read_state, f"t{trial}/rewind.st")
        return self.theta0(trial)

    def final_damaged(self, trial, level, arm) -> bool:
        """A stored final-weights file that fails its check (rebuilt by training the task again;
        a missing one, from a run stored before weights were kept, is simply not available)."""
        try:
            self.store.read_arrays(self.run_id, f"t{trial}/L{level:02d}/final_{arm}.st")
        except FileNotFoundError:
            return False
        except Corrupt:
            return True
        return False

    def task_complete(self, trial, level, arm) -> bool:
        """Metrics and final weights intact, and everything later levels need from this task."""
        if arm == "ticket":
            return self.ticket_complete(trial, level)
        if self.metrics(trial, level, arm) is None or self.final_damaged(trial, level, arm):
            return False
        if arm_family(arm) == "criterion" and level < self.c.pruning.rounds:
            return self.mask(trial, level + 1, arm) is not None
        return True

    def ticket_complete(self, trial, level) -> bool:
        """Metrics stored, and everything later levels need from this one."""
        if self.metrics(trial, level, "ticket") is None or self.final_damaged(trial, level, "ticket"):
            return False
        if level < self.c.pruning.rounds and self.mask(trial, level + 1) is None:
            return False
        if level == 0 and any(self.mask(trial, 1, f"imp_{c}") is None for c in self.c.criteria):
            return False
        if level == 0:
            if self.c.reset == "rewind" and self.reset_state(trial) is None:
                return False
            if "oneshot" in self.c.controls and self._ok(self.store.read_state, f"t{trial}/dense.st") is None:
                return False
        return True

    # --- tasks -------------------------------------------------------------
    def fresh(self, seed: int) -> dict:
        """A new seeded initialisation (re-init arms)."""
        return build(self.c.arch, seed, self.c.training.dropout).state_dict()

    def at_init(self, trial, level, method, invert: bool = False):
        """The mask `method` finds on theta_0 at this level's count (computed once per run); invert:
        the inversion check's mask (the lowest scores kept)."""
        key = (self.run_id, trial, level, method, invert)
        if key not in self._at_init:
            if any(k[0] != self.run_id for k in self._at_init):  # a worker's cache holds one run's masks
                self._at_init.clear()
            model = build(self.c.arch, 0, self.c.training.dropout)
            model.load_state_dict(self.theta0(trial))
            batches = snip_batches(self.c, self.data_dir, derive_seed(trial_seed(self.c, trial), "snip")) \
                if method == "snip" else None
            self._at_init[key] = at_init_mask(method, model, self.kinds, self.c.pruning, level, batches,
                                              scope=self.c.at_init_scope, invert=invert)
        return self._at_init[key]

    def arm_masks_init(self, trial, level, arm):
        """(masks, initial weights) of one network."""
        c, seed = self.c, trial_seed(self.c, trial)
        family, structured = arm_family(arm), c.pruning.granularity != "unstructured"
        reset = self.theta0(trial) if level == 0 else self.reset_state(trial)
        if family in ("ticket", "criterion"):
            return self.mask(trial, level, arm), reset
        if arm == COPY_ARM:
            return self.mask(trial, level), (self.reset_state(trial) if c.reset == "rewind" else reset)
        if arm == "reinit":
            return self.mask(trial, level), self.fresh(derive_seed(seed, "reinit", level))
        if arm == "random":
            gen = torch.Generator().manual_seed(derive_seed(seed, "random", level))
            ticket = self.mask(trial, level)
            return (random_units(ticket, self.kinds, c.pruning.granularity, gen) if structured
                    else random_like(ticket, gen)), reset
        if arm == "oneshot":
            dense = self.store.read_state(self.run_id, f"t{trial}/dense.st")
            ones = ones_like(build(c.arch, 0), self.kinds)
            if structured:
                return prune_units(dense, ones, self.kinds, c.pruning, None, c.pruning.criterion, rounds=level), reset
            keep = counts_after(self.sizes, self.kinds, c.pruning, level)
            return prune_by_counts(dense, ones, self.kinds, c.pruning, keep), reset
        if family == "at_init":
            return self.at_init(trial, level, arm), self.theta0(trial)
        method, check = check_parts(arm)
        if check == "invert":
            return self.at_init(trial, level, method, invert=True), self.theta0(trial)
        found = self.at_init(trial, level, method)
        if check == "shuffle":
            return random_like(found, torch.Generator().manual_seed(derive_seed(seed, "shuffle", method, level))), \
                self.theta0(trial)
        return found, self.fresh(derive_seed(seed, "reinit", method, level))

    def spec(self, trial, level, arm) -> TaskSpec:
        c, seed = self.c, trial_seed(self.c, trial)
        masks, init = self.arm_masks_init(trial, level, arm)
        tag = ("data-copy", level) if arm == COPY_ARM else ("data", level)
        key = f"t{trial}-L{level:02d}-{arm}"
        return TaskSpec(key=key, arch=c.arch, dropout=c.training.dropout, training=c.training,
                        dataset=c.dataset, data_dir=str(self.data_dir) if self.data_dir else None,
                        device=self.device, init_state=init, masks=masks,
                        data_seed=derive_seed(seed, *tag), start_iteration=c.start_iteration(level, arm),
                        snapshot_at=c.rewind_iteration if (level == 0 and arm == "ticket" and c.reset == "rewind")
                        else None,
                        want_final=True,
                        store_root=str(self.store.root), run_id=self.run_id,
                        epoch=self.epoch)

    def repair_control_masks(self, trial, level) -> None:
        """Rewrite a missing or damaged random / one-shot mask of a trained control (no training:
        the mask is a seeded function of what the store holds, the one its metrics were made with)."""
        for arm in self.c.arms:
            if arm_family(arm) not in ("at_init", "check") and arm not in ("random", "oneshot"):
                continue
            rel = f"t{trial}/L{level:02d}/mask_{arm}.st"
            if self.metrics(trial, level, arm) is not None \
                    and self._ok(self.store.read_masks, rel) is None and self.mask(trial, level) is not None:
                self.store.write_masks(self.run_id, rel, self.spec(trial, level, arm).masks)

    def measure_stability(self, trial: int, level: int) -> None:
        """The error along the line between the ticket and its copy at a stability level, once
        both networks are trained and stored (evaluation only; nothing when either is missing)."""
        from lth_core.lottery.stability import interpolation
        from lth_core.lottery.tasks import get_data
        rel, base = f"t{trial}/L{level:02d}/stability.json", f"t{trial}/L{level:02d}"
        if level not in self.c.stability_levels or self._ok(self.store.read_json, rel) is not None:
            return
        a = self._ok(self.store.read_state, f"{base}/final_ticket.st")
        b = self._ok(self.store.read_state, f"{base}/final_{COPY_ARM}.st")
        if a is None or b is None:
            return
        data = get_data(self.c.dataset, str(self.data_dir) if self.data_dir else None, self.device)
        out = interpolation(self.c.arch, self.c.training.dropout, a, b, self.mask(trial, level),
                            data.x_test, data.y_test)
        self.store.write_json(self.run_id, rel, {"trial": trial, "level": level, **out})

    def persist(self, trial, level, arm, spec: TaskSpec, result: dict) -> None:
        """Write a finished task; downstream artifacts first, metrics last."""
        rid, base, family = self.run_id, f"t{trial}/L{level:02d}", arm_family(arm)
        self.store.write_state(rid, f"{base}/final_{arm}.st", result["final"])
        nxt = f"t{trial}/L{level + 1:02d}"
        if arm == "ticket":
            if level == 0 and result["snapshot"] is not None:
                self.store.write_state(rid, f"t{trial}/rewind.st", result["snapshot"])
            if level == 0 and "oneshot" in self.c.controls:
                self.store.write_state(rid, f"t{trial}/dense.st", result["final"])
            reset = self.reset_state(trial)  # what the survivors go back to: w_i of the criteria
            if level < self.c.pruning.rounds:
                self.store.write_masks(rid, f"{nxt}/mask_ticket.st",
                                       prune(result["final"], spec.masks, self.kinds, self.c.pruning, reset))
            if level == 0:  # each extra criterion starts its own chain from the shared dense network
                for crit in self.c.criteria:
                    self.store.write_masks(rid, f"{nxt}/mask_imp_{crit}.st", prune(
                        result["final"], spec.masks, self.kinds, self.c.pruning, reset, crit))
        elif family == "criterion" and level < self.c.pruning.rounds:
            self.store.write_masks(rid, f"{nxt}/mask_{arm}.st", prune(
                result["final"], spec.masks, self.kinds, self.c.pruning, self.reset_state(trial), arm[4:]))
        elif arm in ("random", "oneshot") or family in ("at_init", "check"):
            self.store.write_masks(rid, f"{base}/mask_{arm}.st", spec.masks)
        self.store.write_json(rid, f"{base}/{arm}.json", {
            "trial": trial, "seed": trial_seed(self.c, trial), "level": level, "arm": arm,
            "layer_remaining": {n: int(m.sum()) for n, m in spec.masks.items()},
            "layer_sizes": self.sizes, "history": result["history"], "train_measure": TRAIN_MEASURE})


def snip_batches(config: ExperimentConfig, data_dir, seed: int) -> list:
    """SNIP's minibatches: the first SNIP_BATCHES of a seeded order, on the CPU."""
    from lth_core.pruning.at_init import SNIP_BATCHES
    from lth_core.lottery.tasks import get_data
    from lth_core.training.loop import minibatches
    data = get_data(config.dataset, str(data_dir) if data_dir else None, "cpu")
    order = minibatches(len(data.x_train), config.training.batch_size, seed, "cpu")
    return [(data.x_train[i], data.y_train[i]) for i in (next(order) for _ in range(SNIP_BATCHES))]


def is_complete(config: ExperimentConfig, store: Store, run_id: str | None = None) -> bool:
    """Every planned task's metrics are in the store and intact (run_id: an older schema's run
    of this config; default, the current schema's)."""
    run_id = run_id or config.run_id()
    wanted = [f"t{trial}/L{level:02d}/{arm}.json" for trial, level, arm in planned_tasks(config)]
    wanted += [f"t{trial}/L{level:02d}/stability.json" for trial in range(config.trials)
               for level in config.stability_levels]
    for rel in wanted:
        try:
            store.read_json(run_id, rel)
        except (FileNotFoundError, Corrupt):
            return False
    return True


def run(config: ExperimentConfig, store: Store, *, data_dir: Path | None = None,
        processes: int | None = None, on_progress=None, executor=None) -> str:
    """Compute (or resume) a run in the store; returns its run id.

    executor: who trains the networks (lth_core.execution); default, this machine with
    `processes` cores (None: every core on a CPU; the networks stacked on a GPU).
    on_progress(progress_dict) is called as tasks finish and while they train.
    A run already complete in the store returns at once without training. AlreadyRunning if
    another process computes it; the exception that failed it otherwise.
    """
    from lth_core.execution.driver import run_many
    from lth_core.store.run_store import AlreadyRunning
    run_id = store.create(config)
    # complete and intact: served from the store. A damaged file that no metrics record depends on
    # (theta_0, a control's mask, progress.json) still sends the run through compute to rebuild it.
    if is_complete(config, store) and not store.damaged_files(run_id) and store.status(run_id)["state"] == "done":
        return run_id
    own = executor is None
    if own:
        from lth_core.execution.select import local_executor
        executor = local_executor(resolve_device(config.device), processes,
                                  warm=((config.dataset,), str(data_dir) if data_dir else None))
    try:
        outcome = run_many([config], store, executor, data_dir=data_dir, on_progress=on_progress)[run_id]
    finally:
        if own:
            executor.close()
    if outcome == "taken":
        raise AlreadyRunning(f"run {run_id} is already being computed by another process")
    if isinstance(outcome, BaseException):
        raise outcome
    return run_id
