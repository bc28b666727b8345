"""A run's state while it computes: what the store holds, what is missing, and the primitives
its arms (lth_core.arms) make their masks and initial weights from.

Per trial: train dense, prune p% of survivors, reset to theta_0 (or theta_k) and retrain, for
`rounds` rounds, with the other arms at every level >= 1, all sharing the trial's minibatch
order. Every network's metrics and weights are stored, so a run resumes; the driver
(execution.driver) decides what trains when.
"""
from __future__ import annotations

import time

import torch

from lth_core import layout
from lth_core.arms import COPY_ARM, get as get_arm
from lth_core.config import ExperimentConfig
from lth_core.lottery.stability import interpolation
from lth_core.lottery.tasks import TaskSpec, get_data
from lth_core.models.architectures import build, layer_sizes, prunable_layers
from lth_core.plan import trial_seed
from lth_core.pruning.at_init import SNIP_BATCHES, at_init_mask
from lth_core.pruning.magnitude import counts_after, ladder, prune_by_counts, random_like
from lth_core.pruning.rounds import prune
from lth_core.pruning.masks import ones_like
from lth_core.pruning.structured import ladder as structured_ladder
from lth_core.pruning.structured import prune_units, random_units
from lth_core.seeds import derive_seed
from lth_core.store.run_store import Corrupt, Store
from lth_core.training.loop import TRAIN_MEASURE, minibatches


def percent_ladder(config: ExperimentConfig) -> list[float]:
    """% of prunable weights remaining at levels 0..rounds, known before anything runs."""
    if config.pruning.granularity != "unstructured":
        model = build(config.arch, 0)
        return structured_ladder(model.state_dict(), prunable_layers(model), config.pruning)
    sizes = layer_sizes(config.arch)
    return ladder({n: s for n, (k, s) in sizes.items()}, {n: k for n, (k, s) in sizes.items()}, config.pruning)


class RunState:
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
        return self._ok(self.store.read_json, layout.metrics(trial, level, arm))

    def mask(self, trial, level, arm="ticket"):
        if level == 0 and arm == "ticket":
            return ones_like(build(self.c.arch, 0), self.kinds)
        return self._ok(self.store.read_masks, layout.mask(trial, level, arm))

    def stored_state(self, trial, kind: str):
        """A trial's stored weights of one kind ('rewind' or 'dense'; None: missing or damaged)."""
        return self._ok(self.store.read_state, {"rewind": layout.rewind, "dense": layout.dense}[kind](trial))

    def theta0(self, trial):
        """theta_0, regenerated from the trial's seed (and stored) if missing or damaged."""
        state = self._ok(self.store.read_state, layout.theta0(trial))
        if state is None:
            state = build(self.c.arch, trial_seed(self.c, trial), self.c.training.dropout).state_dict()
            self.store.write_state(self.run_id, layout.theta0(trial), state)
        return state

    def reset_state(self, trial):
        """What the ticket's survivors go back to: theta_k when rewinding, else theta_0."""
        return self.stored_state(trial, "rewind") if self.c.reset == "rewind" else self.theta0(trial)

    def start_weights(self, trial, level):
        """The weights a network reset like the ticket starts from: theta_0 for the dense network."""
        return self.theta0(trial) if level == 0 else self.reset_state(trial)

    def final_damaged(self, trial, level, arm) -> bool:
        """A stored final-weights file that fails its check (rebuilt by training the task again;
        a missing one, from a run stored before weights were kept, is simply not available)."""
        try:
            self.store.read_arrays(self.run_id, layout.final(trial, level, arm))
        except FileNotFoundError:
            return False
        except Corrupt:
            return True
        return False

    def task_complete(self, trial, level, arm) -> bool:
        """Metrics and final weights intact, and everything later networks need from this one."""
        if self.metrics(trial, level, arm) is None or self.final_damaged(trial, level, arm):
            return False
        return get_arm(arm).complete(self, trial, level)

    # --- primitives the arms make their networks from ----------------------
    def seed(self, trial, *tags) -> int:
        """A seed of this trial for one random step, named by tags."""
        return derive_seed(trial_seed(self.c, trial), *tags)

    def fresh(self, seed: int) -> dict:
        """A new seeded initialisation (re-init arms)."""
        return build(self.c.arch, seed, self.c.training.dropout).state_dict()

    def random_mask(self, masks, seed: int):
        """A random mask with the same per-layer counts (or, structured, units) as `masks`."""
        gen = torch.Generator().manual_seed(seed)
        if self.c.pruning.granularity != "unstructured":
            return random_units(masks, self.kinds, self.c.pruning.granularity, gen)
        return random_like(masks, gen)

    def oneshot_mask(self, trial, level):
        """The trained dense network pruned once to this level's counts."""
        c = self.c
        dense = self.store.read_state(self.run_id, layout.dense(trial))
        ones = ones_like(build(c.arch, 0), self.kinds)
        if c.pruning.granularity != "unstructured":
            return prune_units(dense, ones, self.kinds, c.pruning, None, c.pruning.criterion, rounds=level)
        keep = counts_after(self.sizes, self.kinds, c.pruning, level)
        return prune_by_counts(dense, ones, self.kinds, c.pruning, keep)

    def prune(self, trial, final: dict, masks, criterion: str | None = None):
        """The next round's mask: prune a trained network's survivors (by `criterion`, default
        the run's), scored against the weights they reset to (w_i of the criteria)."""
        return prune(final, masks, self.kinds, self.c.pruning, self.reset_state(trial), criterion)

    def at_init(self, trial, level, method, invert: bool = False):
        """The mask `method` finds on theta_0 at this level's count (computed once per run); invert:
        the inversion check's mask (the lowest scores kept)."""
        key = (self.run_id, trial, level, method, invert)
        if key not in self._at_init:
            if any(k[0] != self.run_id for k in self._at_init):  # a worker's cache holds one run's masks
                self._at_init.clear()
            model = build(self.c.arch, 0, self.c.training.dropout)
            model.load_state_dict(self.theta0(trial))
            batches = snip_batches(self.c, self.data_dir, self.seed(trial, "snip")) if method == "snip" else None
            self._at_init[key] = at_init_mask(method, model, self.kinds, self.c.pruning, level, batches,
                                              scope=self.c.at_init_scope, invert=invert)
        return self._at_init[key]

    def write_mask(self, trial, level, arm, masks) -> None:
        self.store.write_masks(self.run_id, layout.mask(trial, level, arm), masks)

    def write_state(self, trial, kind: str, state: dict) -> None:
        """Store a trial's 'rewind' (theta_k) or 'dense' (trained dense) weights."""
        self.store.write_state(self.run_id, {"rewind": layout.rewind, "dense": layout.dense}[kind](trial), state)

    # --- tasks -------------------------------------------------------------
    def spec(self, trial, level, arm) -> TaskSpec:
        c, a = self.c, get_arm(arm)
        masks, init = a.make(self, trial, level)
        return TaskSpec(key=layout.task_key(trial, level, arm), arch=c.arch, dropout=c.training.dropout,
                        training=c.training, dataset=c.dataset,
                        data_dir=str(self.data_dir) if self.data_dir else None,
                        device=self.device, init_state=init, masks=masks,
                        data_seed=self.seed(trial, *a.data_tag(level)),
                        start_iteration=a.start_iteration(c, level),
                        snapshot_at=c.rewind_iteration if (level == 0 and arm == "ticket" and c.reset == "rewind")
                        else None,
                        want_final=True, store_root=str(self.store.root), run_id=self.run_id, epoch=self.epoch)

    def repair_control_masks(self, trial, level) -> None:
        """Rewrite a missing or damaged stored mask of a trained arm (no training: the mask is a
        seeded function of what the store holds, the one its metrics were made with)."""
        for arm in self.c.arms:
            if not get_arm(arm).stores_mask:
                continue
            rel = layout.mask(trial, level, arm)
            if self.metrics(trial, level, arm) is not None \
                    and self._ok(self.store.read_masks, rel) is None and self.mask(trial, level) is not None:
                self.store.write_masks(self.run_id, rel, self.spec(trial, level, arm).masks)

    def measure_stability(self, trial: int, level: int) -> None:
        """The error along the line between the ticket and its copy at a stability level, once
        both networks are trained and stored (evaluation only; nothing when either is missing)."""
        rel = layout.stability(trial, level)
        if level not in self.c.stability_levels or self._ok(self.store.read_json, rel) is not None:
            return
        a = self._ok(self.store.read_state, layout.final(trial, level, "ticket"))
        b = self._ok(self.store.read_state, layout.final(trial, level, COPY_ARM))
        if a is None or b is None:
            return
        data = get_data(self.c.dataset, str(self.data_dir) if self.data_dir else None, self.device)
        out = interpolation(self.c.arch, self.c.training.dropout, a, b, self.mask(trial, level),
                            data.x_test, data.y_test)
        self.store.write_json(self.run_id, rel, {"trial": trial, "level": level, **out})

    def persist(self, trial, level, arm, spec: TaskSpec, result: dict) -> None:
        """Write a finished task; downstream artifacts first, metrics last."""
        self.store.write_state(self.run_id, layout.final(trial, level, arm), result["final"])
        get_arm(arm).store(self, trial, level, spec.masks, result)
        self.store.write_json(self.run_id, layout.metrics(trial, level, arm), {
            "trial": trial, "seed": trial_seed(self.c, trial), "level": level, "arm": arm,
            "layer_remaining": {n: int(m.sum()) for n, m in spec.masks.items()},
            "layer_sizes": self.sizes, "history": result["history"], "train_measure": TRAIN_MEASURE})


def snip_batches(config: ExperimentConfig, data_dir, seed: int) -> list:
    """SNIP's minibatches: the first SNIP_BATCHES of a seeded order, on the CPU."""
    data = get_data(config.dataset, str(data_dir) if data_dir else None, "cpu")
    order = minibatches(len(data.x_train), config.training.batch_size, seed, "cpu")
    return [(data.x_train[i], data.y_train[i]) for i in (next(order) for _ in range(SNIP_BATCHES))]
