"""The networks a run trains at each sparsity level (its arms), each declared once.

An arm says what it needs trained first, its start iteration, how its mask and initial
weights are made, what it stores and how charts draw it; adding one is an entry in ARMS and
its test. Pure: the callables receive the run's state (lottery.state.RunState), so nothing
here imports torch. The paper's arms: ticket, reinit, random, oneshot. Beyond it
(docs/BEYOND.md): imp_<criterion>, <method> (a mask at init), <method>_<check> and ticket_copy.
"""
from __future__ import annotations

from dataclasses import dataclass

CONTROLS = ("reinit", "random", "oneshot")
# which surviving weights a round keeps (lth_core.pruning.criteria)
CRITERIA = ("magnitude", "magnitude_increase", "movement", "large_init_large_final")
AT_INIT = ("snip", "synflow", "magnitude_init")  # masks from theta_0 alone (lth_core.pruning.at_init)
CHECKS = ("shuffle", "reinit", "invert")  # sanity checks of an at-init mask: shuffled per layer; re-initialised;
#                                         inverted (the lowest scores kept instead: Frankle et al. 2021)
COPY_ARM = "ticket_copy"  # the ticket trained again with another minibatch order (stability_levels)

Node = tuple  # (trial, level, arm name): one trained network


@dataclass(frozen=True)
class Arm:
    """One kind of network trained at a level. The defaults describe a control trained on the
    ticket's mask of this level, reset like the ticket, storing nothing beyond its metrics."""

    name: str
    family: str            # 'ticket', 'control', 'criterion', 'at_init', 'check' or 'copy'
    title: str             # its name in charts, tables and reports
    colour: str            # line colour (hex)
    dash: str = "solid"    # Plotly line dash
    symbol: str = "circle"  # Plotly marker symbol
    short: str = ""        # a few words for lists of a run's arms ("re-init"); default: the title's head
    question: str = ""     # what comparing the ticket with it asks, for the form's help
    stores_mask: bool = False  # its mask is made here and kept in the store (mask_<arm>.st)

    @property
    def label(self) -> str:
        """The title without its parenthesis: 'Random re-init'."""
        return self.title.split(" (")[0]

    def depends_on(self, config, trial: int, level: int) -> tuple:
        """The networks whose stored results this one starts from: the ticket of the level before
        (its pruning made this level's mask)."""
        return ((trial, level - 1, "ticket"),)

    def start_iteration(self, config, level: int) -> int:
        """Reset weights are theta_k when rewinding, so training starts at k."""
        return config.rewind_iteration if config.reset == "rewind" else 0

    def chain(self, config, level: int) -> int:
        """How many networks wait on this one in a row (the scheduler runs long chains first)."""
        return 0

    def data_tag(self, level: int) -> tuple:
        """What seeds its minibatch order (with the trial's seed): shared by every arm of a level."""
        return ("data", level)

    def make(self, run, trial: int, level: int) -> tuple:
        """(masks, initial weights) of this network."""
        return run.mask(trial, level), run.start_weights(trial, level)

    def store(self, run, trial: int, level: int, masks, result: dict) -> None:
        """Write what later networks or analyses need from this one, beyond its metrics."""
        if self.stores_mask:
            run.write_mask(trial, level, self.name, masks)

    def complete(self, run, trial: int, level: int) -> bool:
        """Besides its metrics and weights, is everything later networks need from it stored?"""
        return True


class Ticket(Arm):
    """The winning ticket: trained, pruned by magnitude, the survivors reset, trained again."""

    def depends_on(self, config, trial, level):
        return () if level == 0 else super().depends_on(config, trial, level)

    def start_iteration(self, config, level):
        return 0 if level == 0 else super().start_iteration(config, level)

    def chain(self, config, level):
        return config.pruning.rounds - level + 1  # itself and every later round

    def store(self, run, trial, level, masks, result):
        c = run.c
        if level == 0 and result["snapshot"] is not None:
            run.write_state(trial, "rewind", result["snapshot"])
        if level == 0 and "oneshot" in c.controls:
            run.write_state(trial, "dense", result["final"])
        if level < c.pruning.rounds:
            run.write_mask(trial, level + 1, "ticket", run.prune(trial, result["final"], masks))
        if level == 0:  # each extra criterion starts its own chain from the shared dense network
            for crit in c.criteria:
                run.write_mask(trial, 1, f"imp_{crit}", run.prune(trial, result["final"], masks, crit))

    def complete(self, run, trial, level):
        c = run.c
        if level < c.pruning.rounds and run.mask(trial, level + 1) is None:
            return False
        if level > 0:
            return True
        return (all(run.mask(trial, 1, f"imp_{crit}") is not None for crit in c.criteria)
                and (c.reset != "rewind" or run.reset_state(trial) is not None)
                and ("oneshot" not in c.controls or run.stored_state(trial, "dense") is not None))


class Reinit(Arm):
    """The ticket's mask on a fresh, seeded initialisation: is the initialisation what matters?"""

    def start_iteration(self, config, level):
        return 0

    def make(self, run, trial, level):
        return run.mask(trial, level), run.fresh(run.seed(trial, "reinit", level))


class RandomMask(Arm):
    """A random mask with the ticket's per-layer counts (or units), on the ticket's reset weights."""

    def make(self, run, trial, level):
        return run.random_mask(run.mask(trial, level), run.seed(trial, "random", level)), \
            run.start_weights(trial, level)


class OneShot(Arm):
    """The trained dense network pruned once to this level's counts, survivors reset."""

    def depends_on(self, config, trial, level):
        return ((trial, 0, "ticket"),)

    def make(self, run, trial, level):
        return run.oneshot_mask(trial, level), run.start_weights(trial, level)


@dataclass(frozen=True)
class Criterion(Arm):
    """An IMP chain of its own whose rounds keep weights by another criterion."""

    criterion: str = "magnitude"

    def depends_on(self, config, trial, level):
        return ((trial, 0, "ticket"),) if level == 1 else ((trial, level - 1, self.name),)

    def chain(self, config, level):
        return config.pruning.rounds - level + 1

    def make(self, run, trial, level):
        return run.mask(trial, level, self.name), run.start_weights(trial, level)

    def store(self, run, trial, level, masks, result):
        if level < run.c.pruning.rounds:
            run.write_mask(trial, level + 1, self.name, run.prune(trial, result["final"], masks, self.criterion))

    def complete(self, run, trial, level):
        return level >= run.c.pruning.rounds or run.mask(trial, level + 1, self.name) is not None


@dataclass(frozen=True)
class AtInit(Arm):
    """A mask found on theta_0 alone, at the level's count, trained from theta_0."""

    method: str = "snip"

    def depends_on(self, config, trial, level):
        return ()  # theta_0 and a mask computed from it, at counts known in advance

    def start_iteration(self, config, level):
        return 0

    def make(self, run, trial, level):
        return run.at_init(trial, level, self.method), run.theta0(trial)


@dataclass(frozen=True)
class Check(AtInit):
    """A sanity check of an at-init mask: shuffled per layer, re-initialised, or inverted."""

    check: str = "shuffle"

    def make(self, run, trial, level):
        if self.check == "invert":
            return run.at_init(trial, level, self.method, invert=True), run.theta0(trial)
        found = run.at_init(trial, level, self.method)
        if self.check == "shuffle":
            return run.random_mask(found, run.seed(trial, "shuffle", self.method, level)), run.theta0(trial)
        return found, run.fresh(run.seed(trial, "reinit", self.method, level))


class Copy(Arm):
    """The ticket again with another minibatch order, at stability levels: the error along the
    line between the two measures linear mode connectivity (lth_core.lottery.stability)."""

    def depends_on(self, config, trial, level):
        if level == 0:  # a rewound copy of the dense network starts from theta_k, which the dense run stores
            return ((trial, 0, "ticket"),) if config.reset == "rewind" else ()
        return super().depends_on(config, trial, level)

    def data_tag(self, level):
        return ("data-copy", level)

    def make(self, run, trial, level):
        reset = run.reset_state(trial) if run.c.reset == "rewind" else run.start_weights(trial, level)
        return run.mask(trial, level), reset


def _tint(hex_color: str, f: float = 0.55) -> str:
    """`hex_color` mixed with white by `f` (0: unchanged, 1: white): a lighter variant of one hue."""
    h = hex_color.lstrip("#")
    return "#" + "".join(f"{round(v + (255 - v) * f):02X}" for v in (int(h[i:i + 2], 16) for i in (0, 2, 4)))


TICKET_COLOUR = "#3B82F6"
# IMP tickets by other criteria: hues no paper arm uses, each its own dash, so they stay apart from the
# ticket and re-init they are drawn against (docs/ACCESSIBILITY.md)
_CRITERIA = {"magnitude_increase": ("#8C564B", "magnitude increase", "(|w_f| − |w_i|)", "longdash", "pentagon"),
             "movement": ("#17BECF", "movement", "(|w_f − w_i|)", "longdashdot", "star"),
             "large_init_large_final": ("#E377C2", "large init, large final", "(both kept large)", "solid",
                                        "hexagon"),
             # the paper's criterion, as an extra arm when the ticket itself keeps weights by another
             "magnitude": ("#1F4E9C", "magnitude", "(|w_f|)", "longdash", "star-triangle-up")}
# masks found at initialisation: one green hue family; each method's checks are its lighter tint,
# dotted (shuffled layout, like random pruning) or dashed (fresh weights, like random re-init)
_AT_INIT = {"snip": ("#0E5E3A", "SNIP", "SNIP", "cross", ("square-x", "square-cross", "triangle-down")),
            "synflow": ("#24BE70", "SynFlow", "SynFlow", "x", ("diamond-x", "diamond-cross", "triangle-left")),
            "magnitude_init": ("#8F9A10", "Magnitude at init", "magnitude at init", "hourglass",
                               ("circle-x", "circle-cross", "triangle-right"))}
_CHECK_STYLE = {"shuffle": ("layers shuffled", "dot"), "reinit": ("re-initialised", "dash"),
                "invert": ("scores inverted", "dashdot")}


def _registry() -> dict[str, Arm]:
    arms = [Ticket("ticket", "ticket", "Winning ticket (iterative pruning)", TICKET_COLOUR),
            Reinit("reinit", "control", "Random re-init (same mask)", "#F28E2B", "dash", "square", short="re-init",
                   question="the ticket's mask on fresh random weights (does the initialisation matter?)"),
            RandomMask("random", "control", "Random pruning (same sparsity)", "#B07AA1", "dot", "diamond",
                       short="random pruning", stores_mask=True, question="a random mask with the same per-layer "
                       "sparsity on the original weights (does the structure matter?)"),
            OneShot("oneshot", "control", "One-shot pruning", "#D62728", "dashdot", "triangle-up",
                    short="one-shot", stores_mask=True, question="prune the trained dense network once to each "
                    "level's size (is iterating needed?)")]
    for crit, (colour, words, formula, dash, symbol) in _CRITERIA.items():
        arms.append(Criterion(f"imp_{crit}", "criterion", f"Ticket: {words} {formula}", colour, dash, symbol,
                              short=words, criterion=crit))
    for method, (colour, words, short, symbol, check_symbols) in _AT_INIT.items():
        arms.append(AtInit(method, "at_init", f"{words} (mask at init)", colour, "solid", symbol, short=short,
                           stores_mask=True, method=method))
        for check, check_symbol in zip(CHECKS, check_symbols):
            phrase, dash = _CHECK_STYLE[check]
            arms.append(Check(f"{method}_{check}", "check", f"{words}, {phrase} (check)", _tint(colour), dash,
                              check_symbol, stores_mask=True, method=method, check=check))
    arms.append(Copy(COPY_ARM, "copy", "Ticket, second copy (stability)", _tint(TICKET_COLOUR), "dot", "hexagram"))
    return {a.name: a for a in arms}


ARMS: dict[str, Arm] = _registry()


def get(name: str) -> Arm:
    """The arm of this name; ValueError listing the valid names otherwise."""
    try:
        return ARMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown arm {name!r}; allowed: {', '.join(ARMS)}") from None


def arm_names(controls=(), criteria=(), at_init=(), checks=()) -> tuple:
    """The arms trained at each level >= 1, in the engine's order: the ticket, the controls, the
    extra criteria's tickets, the at-init masks and their checks (the stability copy is not one:
    it trains at stability levels only)."""
    return (("ticket",) + tuple(controls) + tuple(f"imp_{c}" for c in criteria) + tuple(at_init)
            + tuple(f"{m}_{c}" for m in at_init for c in checks))


def family(name: str) -> str:
    """What kind of network an arm trains (Arm.family)."""
    return get(name).family
