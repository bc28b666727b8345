"""Typed, frozen, validated experiment configuration and its run id.

The run id hashes every field of the canonical config plus SCHEMA_VERSION, so a changed
default never reuses an old result; invalid values raise ConfigError naming the allowed
values. A field added later (ADDED_FIELDS) is left out of the hash while at its default, so
old run ids hold; such a default is therefore frozen (changing it needs a schema bump).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

from lth_core.arms import CRITERIA, arm_names
from lth_core.arms import get as get_arm
from lth_core.fields import (FIELD, FIELDS, MAX_NETWORK_ITERATIONS, MAX_ROUNDS, ConfigError, Field, check_choice,
                             check_number, check_range, check_value, fields_of, short)
from lth_core.registry import (ARCHITECTURES, DATASETS, compatible_archs, custom_data, custom_model, get_arch_info,
                               get_dataset_info, is_image, paper_pruning)

# What a run measures. 1: training accuracy was the running accuracy over recent minibatches
# (train mode), inputs standardised with the validation split included. 2: training loss and
# accuracy measured in eval mode on a fixed training subset, standardisation on the training
# split only. Old runs keep their ids (the hash of their own schema) and still open.
SCHEMA_VERSION = 2
SCHEMA_VERSIONS = (1, 2)
# Fields added to the config after runs were stored (Field.added), as (section, name) -> the schema current
# when they were added (section None: top level). At their default they are left out of every hash, so
# existing ids (gallery runs, shared ?run= links) stay valid; their defaults must never change.
ADDED_FIELDS = {(f.section, f.name): f.added for f in FIELDS if f.added}

STRUCTURED_ARCHS = {"neurons": ("mlp1d", "lenet300", "conv2", "conv4", "conv6"), "filters": ("conv2", "conv4", "conv6")}
LEGACY_AT_INIT_SCOPE = "layer"  # what runs stored before the field existed did (hashed without the field)


def _check_field(spec: Field, holder) -> None:
    """Check one field of `holder` (a config being built) against its spec and store it in canonical
    form; a bound named by hi_of is the sibling's value (already checked: FIELDS order)."""
    hi = getattr(holder, spec.hi_of) if spec.hi_of else None
    object.__setattr__(holder, spec.name, check_value(spec, getattr(holder, spec.name), hi))


@dataclass(frozen=True)
class PruningConfig:
    """How much of the surviving weights each round removes, and where."""

    strategy: str = "layerwise"  # 'layerwise' (per-layer rates) or 'global' (one threshold)
    rate: float = 0.2            # fraction of surviving fc weights pruned per round, in (0, 1)
    conv_rate: float | None = None    # conv layers' rate per round; None -> same as rate
    output_rate: float | None = None  # output layer's rate, in [0, 1); None -> rate / 2 (as the paper
    #                                   for LeNet and Conv-2/4/6); 0 keeps it whole (VGG-19, ResNet-18)
    rounds: int = 8              # pruning rounds after the dense run, 1..40
    criterion: str = "magnitude"  # which surviving weights a round keeps: one of CRITERIA (lth_core.pruning.criteria)
    granularity: str = "unstructured"  # 'unstructured' weights, or whole 'neurons' / 'filters' (lth_core.pruning.structured)

    def __post_init__(self):
        _check_field(FIELD["rate"], self)  # first: the layer rates left as None follow it
        if self.conv_rate is None:
            object.__setattr__(self, "conv_rate", self.rate)
        if self.output_rate is None:
            object.__setattr__(self, "output_rate", self.rate / 2)
        for spec in fields_of("pruning"):
            _check_field(spec, self)
        if self.granularity != "unstructured" and self.strategy != "layerwise":
            raise ConfigError("granularity", f"{self.granularity!r} pruning is layer-wise; allowed with strategy "
                                             f"'global': unstructured")

    @staticmethod
    def rate_for_target(target: float, rounds: int) -> float:
        """Per-round rate p that reaches total pruning `target` (in (0, 1)) in `rounds` rounds."""
        check_number(FIELD["target"], target), check_number(FIELD["rounds"], rounds)
        return 1.0 - (1.0 - target) ** (1.0 / rounds)

    @staticmethod
    def rounds_until(rate: float, target: float) -> int:
        """The fewest rounds at `rate` per round (in (0, 1)) that prune at least `target` in total (in
        (0, 1)), at most MAX_ROUNDS: the rounds of a lesson where only the rate changes."""
        check_number(FIELD["rate"], rate), check_number(FIELD["target"], target)
        exact = math.log(1.0 - target) / math.log(1.0 - rate)
        return max(1, min(MAX_ROUNDS, math.ceil(exact - 1e-9)))


@dataclass(frozen=True)
class TrainingConfig:
    """One training run: optimizer, schedule and how often to measure."""

    iterations: int = 3000   # optimizer steps per round, 1..MAX_ITERATIONS
    optimizer: str = "adam"  # 'adam' or 'sgd'
    lr: float = 1.2e-3       # learning rate, in (0, 10]
    batch_size: int = 60     # examples per step, 1..training-set size
    eval_every: int = 100    # iterations between validation/test measurements
    dropout: float = 0.0     # dropout probability on hidden fc layers, in [0, 1)
    momentum: float = 0.9    # SGD momentum, in [0, 1)
    weight_decay: float = 0.0  # L2 penalty, in [0, 1]
    warmup: int = 0          # linear learning-rate warm-up iterations, 0..iterations
    lr_milestones: tuple = ()  # iterations after which the lr is multiplied by lr_factor: increasing,
    #                            each in [1, iterations - 1] (a step schedule; () keeps it constant)
    lr_factor: float = 0.1   # lr multiplier at each milestone, in (0, 1]
    augment: bool = False    # random crop (4-pixel zero padding) and horizontal flip of each
    #                          training batch; image datasets only

    def __post_init__(self):
        for spec in fields_of("training"):
            _check_field(spec, self)


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole lottery-ticket experiment: IMP plus its controls, over trials."""

    dataset: str = "mnist1d"
    arch: str = "mlp1d"
    pruning: PruningConfig = None  # None, or a dict lacking fields: the arch's paper pruning fills them in
    training: TrainingConfig = field(default_factory=TrainingConfig)
    reset: str = "init"          # 'init' (theta_0) or 'rewind' (theta_k, k = rewind_iteration)
    rewind_iteration: int = 0    # k for reset='rewind', 1..iterations-1; 0 otherwise
    controls: tuple = ("reinit",)  # any of 'reinit', 'random', 'oneshot'
    trials: int = 1              # independent seeds, 1..MAX_TRIALS
    seed: int = 0                # base seed; trial t uses seed + t
    device: str = "auto"         # 'auto' (cuda, mps, cpu), 'cpu', 'cuda' or 'mps'
    criteria: tuple = ()         # extra IMP tickets, one per criterion (CRITERIA), as arms 'imp_<criterion>'
    at_init: tuple = ()          # masks found at initialisation (AT_INIT), as arms of the same names
    at_init_checks: tuple = ()   # sanity checks (CHECKS) of each at-init mask, as arms '<method>_<check>'
    at_init_scope: str = "global"  # AT_INIT_SCOPES: the total count ranked over every layer, or IMP's per-layer counts
    stability_levels: tuple = ()  # levels (0..rounds) where the ticket trains twice (COPY_ARM) to measure
    #                               linear mode connectivity (lth_core.lottery.stability)

    def __post_init__(self):
        if self.pruning is None:
            object.__setattr__(self, "pruning", {})
        if isinstance(self.pruning, dict) and isinstance(self.arch, str) and self.arch in ARCHITECTURES:
            # e.g. VGG-19 prunes globally with its output layer whole unless told otherwise
            object.__setattr__(self, "pruning", {**paper_pruning(self.arch), **self.pruning})
        for name, kind in (("pruning", PruningConfig), ("training", TrainingConfig)):
            if isinstance(getattr(self, name), dict):
                sub = getattr(self, name)
                bad = set(sub) - {f.name for f in dataclasses.fields(kind)}
                if bad:  # a ConfigError naming the key, not Python's TypeError for an unexpected keyword
                    raise ConfigError(sorted(map(str, bad))[0][:60], f"unknown {name} field; allowed: "
                                      f"{', '.join(f.name for f in dataclasses.fields(kind))}")
                object.__setattr__(self, name, kind(**sub))
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(name, f"must be an object of {name} fields, got {short(getattr(self, name))}")
        for name, known in (("dataset", DATASETS), ("arch", ARCHITECTURES)):
            if not (custom_data if name == "dataset" else custom_model)(getattr(self, name)):  # your own: by hash
                check_choice(name, getattr(self, name), tuple(known))
        fits = compatible_archs(self.dataset)
        if self.arch not in fits and not custom_model(self.arch):
            raise ConfigError("arch", f"{self.arch!r} does not fit dataset {self.dataset!r}; "
                                      f"allowed: {', '.join(fits)}")
        if self.training.augment and not is_image(self.dataset):
            raise ConfigError("augment", f"crops and flips need images, and {self.dataset!r} has none; allowed "
                                         f"for: {', '.join(d for d in DATASETS if is_image(d))}")
        if self.training.dropout > 0 and not get_arch_info(self.arch).dropout:
            takes = ", ".join(a for a, info in ARCHITECTURES.items() if info.dropout)
            raise ConfigError("dropout", f"{self.arch!r} has no hidden fc layer to put dropout on; dropout > 0 "
                                         f"is allowed for: {takes}")
        n_train = get_dataset_info(self.dataset).n_train
        if self.training.batch_size > n_train:
            raise ConfigError("batch_size", f"must be in [1, {n_train}] (the training-set size of "
                                            f"{self.dataset}), got {self.training.batch_size}")
        for spec in fields_of(None):
            if not spec.own_check:
                _check_field(spec, self)
        if self.reset == "rewind":
            check_range("rewind_iteration", self.rewind_iteration, 1,
                          self.training.iterations - 1, integer=True)
        elif self.rewind_iteration not in (0, None):
            raise ConfigError("rewind_iteration", "must be 0 unless reset is 'rewind'")
        object.__setattr__(self, "rewind_iteration", int(self.rewind_iteration or 0))
        self._check_beyond()
        work = self.network_iterations()
        if work > MAX_NETWORK_ITERATIONS:
            raise ConfigError("iterations", f"the run would train {work:,} network-iterations "
                                            f"(iterations x levels x arms x trials); the limit is "
                                            f"{MAX_NETWORK_ITERATIONS:,}")
        # No memory check here: the server's memory limit is a policy applied when a run is submitted
        # (lth_core.resources.memory_problem), so a stored run stays valid on any machine.

    def _check_beyond(self) -> None:
        """The rules that tie the fields beyond the paper together (criteria, at-init arms, structured
        pruning), and the stability levels, which the rounds bound."""
        if self.pruning.criterion in self.criteria:
            raise ConfigError("criteria", f"{self.pruning.criterion!r} is already the ticket's criterion; allowed: "
                                          f"{', '.join(c for c in CRITERIA if c != self.pruning.criterion)}")
        if self.at_init_checks and not self.at_init:
            raise ConfigError("at_init_checks", "checks need an at-init method to check; set at_init too")
        gran = self.pruning.granularity
        if gran != "unstructured":
            if self.arch not in STRUCTURED_ARCHS[gran]:
                raise ConfigError("granularity", f"{gran!r} pruning does not fit {self.arch!r}; allowed for: "
                                                 f"{', '.join(STRUCTURED_ARCHS[gran])}")
            if self.at_init:
                raise ConfigError("at_init", f"masks at initialisation are unstructured; allowed with "
                                             f"granularity {gran!r}: none")
        levels = self.stability_levels
        if isinstance(levels, str):
            levels = [v.strip() for v in levels.split(",") if v.strip() and v.strip() != "none"]
            levels = [int(v) if v.isdigit() and len(v) < 4 else v for v in levels]
        if not isinstance(levels, (list, tuple)):
            raise ConfigError("stability_levels", f"must be a list of levels in [0, {self.pruning.rounds}], "
                                                  f"got {short(levels)}")
        for v in levels:
            check_range("stability_levels", v, 0, self.pruning.rounds, integer=True)
        object.__setattr__(self, "stability_levels", tuple(sorted({int(v) for v in levels})))

    # --- derived facts -------------------------------------------------
    @property
    def levels(self) -> int:
        """Number of sparsity levels: the dense network plus one per round."""
        return self.pruning.rounds + 1

    @property
    def arms(self) -> tuple:
        """Every network family trained at each level >= 1: the ticket, the controls, the extra
        criteria's tickets, the at-init masks and their checks (the stability copy is not one: it
        trains at stability_levels only)."""
        return arm_names(self.controls, self.criteria, self.at_init, self.at_init_checks)

    def start_iteration(self, level: int, arm: str) -> int:
        """The iteration a network's training starts from: k (rewind_iteration) for networks reset to
        theta_k (the ticket, arms sharing its reset, the stability copy), 0 for the dense network and
        those trained from theta_0 or a fresh init; each arm declares it (lth_core.arms)."""
        return get_arm(arm).start_iteration(self, level)

    def network_iterations(self) -> int:
        """Total optimizer steps the run will take over all levels, arms and trials (at most)."""
        per_trial = 1 + self.pruning.rounds * len(self.arms) + len(self.stability_levels)
        return self.training.iterations * per_trial * self.trials

    def to_dict(self) -> dict:
        """Canonical plain-data form (JSON-safe)."""
        d = dataclasses.asdict(self)
        for name in ("controls", "criteria", "at_init", "at_init_checks", "stability_levels"):
            d[name] = list(getattr(self, name))
        d["training"]["lr_milestones"] = list(self.training.lr_milestones)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ExperimentConfig":
        """Inverse of to_dict; unknown keys raise ConfigError."""
        if not isinstance(d, dict):
            raise ConfigError("config", "must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(d) - known
        if extra:
            raise ConfigError(sorted(extra)[0], f"unknown field; allowed: {', '.join(sorted(known))}")
        d = dict(d)
        if d.get("at_init") and "at_init_scope" not in d:  # stored before the field: IMP's per-layer counts
            d["at_init_scope"] = LEGACY_AT_INIT_SCOPE
        for key, sub in (("pruning", PruningConfig), ("training", TrainingConfig)):
            if key in d and isinstance(d[key], dict):
                sub_known = {f.name for f in dataclasses.fields(sub)}
                bad = set(d[key]) - sub_known
                if bad:
                    raise ConfigError(sorted(bad)[0], f"unknown field; allowed: {', '.join(sorted(sub_known))}")
                d[key] = sub(**d[key])
        for name in ("controls", "criteria", "at_init", "at_init_checks", "stability_levels"):
            if name in d and isinstance(d[name], list):
                d[name] = tuple(d[name])
        return cls(**d)

    def run_id(self, schema: int = SCHEMA_VERSION) -> str:
        """Stable 16-hex-digit hash of the canonical config and the schema version.

        Every field is hashed, except a field added later (ADDED_FIELDS) while at its default, as
        runs stored before it existed were hashed."""
        d = self.to_dict()
        for section, name in ADDED_FIELDS:
            holder = d if section is None else d[section]
            if holder[name] == _default(section, name):
                del holder[name]
        # at_init_scope changes nothing without at-init arms, and its legacy value is how runs stored
        # before it existed were computed: in both cases it is left out, so their ids stay valid
        if not self.at_init or self.at_init_scope == LEGACY_AT_INIT_SCOPE:
            del d["at_init_scope"]
        payload = json.dumps({"schema": schema, "config": d}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def schema_of(self, run_id: str) -> int | None:
        """The schema version under which this config hashes to run_id (None: no known one)."""
        return next((v for v in SCHEMA_VERSIONS if self.run_id(v) == run_id), None)

    def replace(self, **changes) -> "ExperimentConfig":
        """Copy with top-level or nested changes ('rate', 'iterations', ... are routed)."""
        pruning_keys = {f.name for f in dataclasses.fields(PruningConfig)}
        training_keys = {f.name for f in dataclasses.fields(TrainingConfig)}
        p = {k: changes.pop(k) for k in list(changes) if k in pruning_keys}
        t = {k: changes.pop(k) for k in list(changes) if k in training_keys}
        pruning = self.pruning
        if p:
            base = dataclasses.asdict(pruning)
            if "rate" in p:  # derived rates (conv = rate, output = rate / 2) follow a new rate; a rate set
                # apart from it (Conv-2's conv 10%, VGG-19's output 0%) stays unless given
                if math.isclose(base["conv_rate"], base["rate"], rel_tol=1e-12):
                    base.pop("conv_rate")
                if math.isclose(base["output_rate"], base["rate"] / 2, rel_tol=1e-12):
                    base.pop("output_rate")
            pruning = PruningConfig(**{**base, **p})
        training = dataclasses.replace(self.training, **t) if t else self.training
        return dataclasses.replace(self, pruning=pruning, training=training, **changes)


def _default(section: str | None, name: str):
    """A field's default in to_dict's plain form (tuples as lists)."""
    kind = {None: ExperimentConfig, "pruning": PruningConfig, "training": TrainingConfig}[section]
    f = next(f for f in dataclasses.fields(kind) if f.name == name)
    value = f.default_factory() if f.default is dataclasses.MISSING else f.default
    return list(value) if isinstance(value, tuple) else value
