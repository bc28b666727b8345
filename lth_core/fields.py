"""Every config field declared once: its kind, range or choices, help text, command-line flag and URL name.

lth_core.config's dataclasses validate against these specs; the CLI flags, the Run form's URL
parameters, widget ranges and help are generated from them, so a new field is one Field here
and one dataclass line. Pure: no torch, no environment, no I/O.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from lth_core.arms import AT_INIT, CHECKS, CONTROLS, CRITERIA
from lth_core.registry import ARCHITECTURES, DATASETS

MAX_ROUNDS = 40
MAX_ITERATIONS = 120_000      # per round; the paper's longest (VGG-19) is 112K
MAX_TRIALS = 10
MAX_BATCH = 60_000            # the largest training set; the dataset's own size narrows it
MAX_SEED = 2**31 - 1
MAX_NETWORK_ITERATIONS = 30_000_000  # iterations x levels x arms x trials
MAX_MILESTONES = 10           # learning-rate drops per round
OPTIMIZERS = ("adam", "sgd")
STRATEGIES = ("layerwise", "global")
RESETS = ("init", "rewind")
DEVICES = ("auto", "cpu", "cuda", "mps")
# What a round removes: single weights, or whole units (lth_core.pruning.structured)
GRANULARITIES = ("unstructured", "neurons", "filters")
AT_INIT_SCOPES = ("global", "layer")  # how an at-init method spends its budget: ranking every prunable layer
#   together, choosing its own layer proportions (the methods' papers); or at IMP's per-layer counts

# kinds: 'int', 'float', 'fraction' (a float in (0, 1) or [0, 1), shown in percent), 'choice' (one of
# choices), 'names' (a comma list of choices), 'levels' (a comma list of pruning levels), 'milestones'
# (a comma list of iterations), 'bool'
NUMBERS = ("int", "float", "fraction")


@dataclass(frozen=True)
class Field:
    """One field of ExperimentConfig (section None), PruningConfig ('pruning') or TrainingConfig
    ('training'); stored=False marks an input that only derives a stored field (target -> rate)."""

    name: str
    section: str | None
    kind: str
    help: str
    lo: float | None = None      # bounds as the config checks them; the form's widgets use `ui`
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    hi_of: str | None = None     # a sibling field whose value narrows hi (eval_every <= iterations)
    ui: tuple | None = None      # (lo, hi) of the form's widget and the URL when narrower than [lo, hi]
    flag: str | None = ""        # the command line's flag ('': --name-with-dashes; None: none)
    url: str | None = ""         # the URL parameter ('': the name; None: not in the URL)
    beyond: bool = False         # beyond the paper: written to the URL only when set (old addresses stay)
    own_check: bool = False      # the dataclass checks it by its own rule (a range that depends on others)
    added: int | None = None     # the schema current when the field was added after runs were stored: at its
    #                              default it is left out of the run id, so their ids stay (lth_core.config)
    stored: bool = True

    @property
    def tip(self) -> str:
        """The help as a sentence, for the form's tooltips."""
        return self.help[:1].upper() + self.help[1:] + "."

    @property
    def cli_flag(self) -> str | None:
        return None if self.flag is None else self.flag or "--" + self.name.replace("_", "-")

    @property
    def param(self) -> str | None:
        return None if self.url is None else self.url or self.name

    @property
    def widget_range(self) -> tuple:
        """Closed (lo, hi) for a widget and the URL: ints for an int field, floats otherwise."""
        kind = int if self.kind == "int" else float
        return tuple(kind(x) for x in (self.ui or (self.lo, self.hi)))

    def range_text(self) -> str:
        """'[1, 40]', '(0, 1)': the bounds as the config checks them."""
        fmt = (lambda v: str(int(v))) if self.kind == "int" else (lambda v: f"{v:g}")
        return f"{'(' if self.lo_open else '['}{fmt(self.lo)}, {fmt(self.hi)}{')' if self.hi_open else ']'}"

    def describe(self) -> str:
        """The help text with what is allowed, as the command line shows it."""
        if self.kind in NUMBERS:
            kind = "an integer" if self.kind == "int" else "a number"
            return f"{self.help}; {kind} in {self.range_text()}" + (f", at most {self.hi_of}" if self.hi_of else "")
        if self.kind == "names":
            return f"{self.help}: comma list of {', '.join(self.choices)} (or none)"
        if self.kind == "choice":
            return f"{self.help}: {', '.join(self.choices)}"
        return self.help


def _fraction(name, section, text, lo_open=True, ui=(0.001, 0.999), **kw) -> Field:
    return Field(name, section, "fraction", text, 0, 1, lo_open=lo_open, hi_open=True, ui=ui, **kw)


# In the URL's order (ui/params.py writes and lists them so).
FIELDS = (
    Field("dataset", None, "choice", "the dataset", choices=tuple(DATASETS), own_check=True),
    Field("arch", None, "choice", "the network (a new one brings its paper pruning: global with the output "
          "layer whole for vgg19 and resnet18)", choices=tuple(ARCHITECTURES), own_check=True),
    _fraction("rate", "pruning", "fraction of surviving fc weights (under global pruning: of all but the output "
              "layer) pruned per round. Conv and output rates that the preset derives from it (conv = rate, "
              "output = rate / 2) follow it; rates the preset sets apart (conv2-cifar10's conv 10%, vgg19's "
              "output 0%) are kept unless --conv-rate / --output-rate are given"),
    _fraction("target", "pruning", "total pruning P over --rounds rounds (sets the rate per round)", stored=False),
    Field("rounds", "pruning", "int", "pruning rounds after the dense run; each adds one sparsity level", 1,
          MAX_ROUNDS),
    Field("strategy", "pruning", "choice", "layerwise (per-layer rates) or global (one threshold)",
          choices=STRATEGIES),
    _fraction("conv_rate", "pruning", "per-round rate for conv layers (default: the rate)"),
    _fraction("output_rate", "pruning", "per-round rate for the output layer (0: never pruned; default: half the "
              "rate)", lo_open=False, ui=(0.0, 0.999)),
    Field("rewind_iteration", None, "int", "reset to iteration k (0: to init)", 0, MAX_ITERATIONS - 1,
          flag="--rewind", url="rewind", own_check=True),
    Field("controls", None, "names", "networks to compare the ticket with", choices=CONTROLS),
    Field("trials", None, "int", "independent repetitions with different seeds; charts show their mean and min/max "
          "(the paper: 5)", 1, MAX_TRIALS),
    Field("iterations", "training", "int", "optimizer steps each network trains for, per round (the paper's LeNet: "
          "50,000)", 1, MAX_ITERATIONS),
    Field("optimizer", "training", "choice", "the optimizer", choices=OPTIMIZERS),
    Field("lr", "training", "float", "learning rate", 0, 10, lo_open=True, ui=(1e-6, 10.0)),
    Field("batch_size", "training", "int", "examples per step (at most the training set)", 1, MAX_BATCH),
    Field("eval_every", "training", "int", "how often (in iterations) validation and test accuracy are measured; "
          "early stopping is found at this resolution", 1, MAX_ITERATIONS, hi_of="iterations"),
    Field("dropout", "training", "float", "dropout probability on hidden fc layers", 0, 1, hi_open=True,
          ui=(0.0, 0.95)),
    Field("momentum", "training", "float", "SGD momentum", 0, 1, hi_open=True, ui=(0.0, 0.99)),
    Field("weight_decay", "training", "float", "L2 penalty", 0, 1),
    Field("warmup", "training", "int", "the learning rate rises linearly from 0 over these iterations (the paper's "
          "VGG-19: 10,000)", 0, MAX_ITERATIONS, hi_of="iterations"),
    Field("lr_milestones", "training", "milestones", "comma-separated iterations after which the learning rate is "
          "multiplied by the factor (the paper's ResNet-18: 20000, 25000), or none", hi_of="iterations", added=2),
    Field("lr_factor", "training", "float", "learning-rate multiplier at each milestone", 0, 1, lo_open=True,
          ui=(0.001, 1.0), added=2),
    Field("augment", "training", "bool", "each batch is padded by 4 pixels, cropped back at a random offset and "
          "mirrored half the time (image datasets; the paper's VGG-19 and ResNet-18)", added=2),
    Field("seed", None, "int", "trial t uses seed + t; the same seed gives the same run", 0, MAX_SEED),
    Field("criterion", "pruning", "choice", "which surviving weights a round keeps", choices=CRITERIA, beyond=True,
          added=2),
    Field("granularity", "pruning", "choice", "what a round removes: single weights, whole hidden fc neurons, or "
          "whole conv filters and fc neurons (conv nets)", choices=GRANULARITIES, beyond=True, added=2),
    Field("criteria", None, "names", "extra IMP tickets by other criteria, as arms", choices=CRITERIA, beyond=True,
          added=2),
    Field("at_init", None, "names", "masks found at initialisation, as arms", choices=AT_INIT, beyond=True,
          added=2),
    Field("at_init_checks", None, "names", "sanity checks of each at-init mask", choices=CHECKS, beyond=True,
          added=2),
    Field("stability_levels", None, "levels", "levels where the ticket trains twice to measure its stability "
          "(linear mode connectivity): comma list, e.g. 0,2,4 (or none)", beyond=True, own_check=True,
          added=2),
    Field("reset", None, "choice", "reset the survivors to theta_0 (init) or theta_k (rewind)", choices=RESETS,
          flag=None, url=None),  # both follow from --rewind / rewind=
    Field("device", None, "choice", "where to train (auto: cuda, mps, else cpu)", choices=DEVICES, url=None),
    Field("at_init_scope", None, "choice", "how an at-init mask spends its budget: every layer ranked together "
          "(global, as SNIP and SynFlow define it) or IMP's per-layer counts (layer)", choices=AT_INIT_SCOPES,
          url=None),
)
FIELD = {f.name: f for f in FIELDS}


def fields_of(section: str | None) -> tuple[Field, ...]:
    """The stored fields of one dataclass (None: ExperimentConfig's own), in FIELDS order."""
    return tuple(f for f in FIELDS if f.section == section and f.stored)


class ConfigError(ValueError):
    """A config field has a value outside its allowed range."""

    def __init__(self, field_name: str, problem: str):
        self.field = field_name
        super().__init__(f"{field_name}: {problem}")


def check_range(name: str, value: Any, lo: float, hi: float, *, integer: bool,
                lo_open: bool = False, hi_open: bool = False) -> None:
    """ConfigError unless value is a finite number (an integer if asked) within the bounds."""
    kind = "an integer" if integer else "a number"
    fmt = (lambda v: str(int(v))) if integer else (lambda v: f"{v:g}")  # 2147483647, not 2.14748e+09
    rng = f"{'(' if lo_open else '['}{fmt(lo)}, {fmt(hi)}{')' if hi_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, f"must be {kind} in {rng}, got {short(value)}")
    if isinstance(value, int) and not -2**63 <= value < 2**63:  # float() of a huge int overflows
        raise ConfigError(name, f"must be {kind} in {rng}, got {short(value)}")
    if integer and not float(value).is_integer():
        raise ConfigError(name, f"must be {kind} in {rng}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number in {rng}, got {value!r}")
    too_low = value <= lo if lo_open else value < lo
    too_high = value >= hi if hi_open else value > hi
    if too_low or too_high:
        raise ConfigError(name, f"must be {kind} in {rng}, got {value!r}")


def short(value: Any, limit: int = 60) -> str:
    """repr of a user's value, cut so a hostile value cannot flood the message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def check_choice(name: str, value: Any, allowed) -> None:
    """ConfigError naming the allowed values unless value is one of them."""
    if value not in allowed:
        raise ConfigError(name, f"unknown value {short(value)}; allowed: {', '.join(allowed)}")


def check_number(spec: Field, value: Any, hi: float | None = None) -> int | float:
    """A number field's value checked against its spec's range (hi: a narrower upper bound), as int or
    float; ConfigError naming the field and the range otherwise."""
    check_range(spec.name, value, spec.lo, spec.hi if hi is None else hi, integer=spec.kind == "int",
                  lo_open=spec.lo_open, hi_open=spec.hi_open)
    return int(value) if spec.kind == "int" else float(value)


def parse_milestones(value: Any, iterations: int = MAX_ITERATIONS) -> tuple:
    """Learning-rate milestones from a list of iterations or a comma list ('56240,84360'; 'none' or
    '' for none): strictly increasing integers in [1, iterations - 1], at most MAX_MILESTONES."""
    items = value
    if isinstance(value, str):
        items = [m.strip() for m in value.split(",") if m.strip()]
        items = [] if items == ["none"] else [int(m) if re.fullmatch("[0-9]{1,9}", m) else m for m in items]
    ok = isinstance(items, (list, tuple)) and len(items) <= MAX_MILESTONES and all(
        not isinstance(m, bool) and isinstance(m, (int, float)) and 1 <= m < iterations  # finite, in range
        and float(m).is_integer() for m in items) and all(b > a for a, b in zip(items, items[1:]))
    if not ok:
        raise ConfigError("lr_milestones", f"must be a comma list of at most {MAX_MILESTONES} strictly increasing "
                                           f"iterations in [1, {iterations - 1}] (e.g. 56240,84360), or none; "
                                           f"got {short(value)}")
    return tuple(int(m) for m in items)


def check_value(spec: Field, value: Any, hi: float | None = None) -> Any:
    """A field's value checked against its spec, in canonical form (int, float, a tuple of names in
    the choices' order, milestones as a tuple); hi: the sibling's value that bounds it (hi_of).
    ConfigError naming the field and what is allowed otherwise."""
    if spec.kind in NUMBERS:
        return check_number(spec, value, None if hi is None else min(spec.hi, hi))
    if spec.kind == "choice":
        check_choice(spec.name, value, spec.choices)
    elif spec.kind == "bool" and not isinstance(value, bool):
        raise ConfigError(spec.name, f"must be true or false, got {short(value)}")
    elif spec.kind == "milestones":
        return parse_milestones(value, MAX_ITERATIONS if hi is None else int(hi))
    elif spec.kind == "names":  # a list, or a comma list ('none': no name), kept in the choices' order
        if isinstance(value, str):
            value = [c.strip() for c in value.split(",") if c.strip() and c.strip() != "none"]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(spec.name, f"must be a list of {', '.join(spec.choices)}, got {short(value)}")
        for c in value:
            check_choice(spec.name, c, spec.choices)
        return tuple(c for c in spec.choices if c in set(value))
    return value

