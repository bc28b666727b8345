"""The Run form as plain values, and their two outside forms: the URL query string and the config.

values (a dict) <-> query parameters (str -> str) <-> ExperimentConfig. Parameter names follow
the command line's flags (--batch-size -> batch_size); `preset=<name>` starts from a preset.
Parsing never raises: a bad value becomes a message naming the parameter and its allowed values,
and the default is used. The controls beyond the paper are written only when they differ from
the defaults, so a paper experiment's address and run id stay stable. The teacher-link flags
(`lock`, `hide`, `only`) are parsed in ui/links.py. No Streamlit here, so it is testable alone.
"""
from __future__ import annotations

from lth_core.config import STRUCTURED_ARCHS, ConfigError, ExperimentConfig, PruningConfig
from lth_core.fields import FIELD, FIELDS, GRANULARITIES, MAX_ITERATIONS, MAX_MILESTONES, parse_milestones
from lth_core.presets import PRESETS, get_preset
from lth_core.registry import DATASETS, compatible_archs, paper_pruning
from ui.text import code, quoted

DEFAULT_PRESET = "quick"
URL_FIELDS = tuple(f for f in FIELDS if f.param)  # lth_core.fields: every field with a URL name, in URL order
# widget ranges; the URL accepts the same ranges so a parsed value always fits its widget
PCT_RANGE = FIELD["rate"].widget_range  # fractions: rate, target, conv_rate (output_rate: from 0, never pruned)
INT_RANGES = {f.param: f.widget_range for f in URL_FIELDS if f.kind == "int"}
FLOAT_RANGES = {f.param: f.widget_range for f in URL_FIELDS if f.kind == "float"}
CHOICES = {f.param: f.choices for f in URL_FIELDS if f.kind == "choice" and not (f.own_check or f.beyond)}
BOOLS = ("true", "false")
# Beyond the paper (docs/BEYOND.md): written to the URL only when set, so a paper run's address is as before
BEYOND = tuple(f.param for f in URL_FIELDS if f.beyond)
LISTS = {f.param: f.choices for f in URL_FIELDS if f.kind == "names"}  # comma lists
PARAMS = ("preset", *(f.param for f in URL_FIELDS))
FLAGS = ("lock", "hide", "only")  # a teacher's link: controls fixed to the link's values (ui/links.py)


def _holder(c: ExperimentConfig, f):
    return c if f.section is None else getattr(c, f.section)


def values_from_config(c: ExperimentConfig) -> dict:
    """The form's values for a config (rate schedule; custom layer rates when they differ from the paper's rule)."""
    p = c.pruning
    custom = abs(p.conv_rate - p.rate) > 1e-12 or abs(p.output_rate - p.rate / 2) > 1e-12
    return {**{f.param: getattr(_holder(c, f), f.name) for f in URL_FIELDS if f.stored}, "schedule": "rate",
            "target": round(1 - (1 - p.rate) ** p.rounds, 6), "custom_rates": custom}


_PLAIN = values_from_config(ExperimentConfig())  # the config's own defaults, as form values


def defaults() -> dict:
    return values_from_config(get_preset(DEFAULT_PRESET))


SCHEDULES = ("rate", "target", "until")  # a rate per round; a total over n rounds; a rate until a total


def per_round_rate(v: dict) -> float:
    """The fc rate per round: given directly, or 1 - (1 - P)^(1/n) for a target P over n rounds."""
    if v["schedule"] == "target":
        return PruningConfig.rate_for_target(v["target"], v["rounds"])
    return v["rate"]


def rounds_of(v: dict) -> int:
    """The rounds: given, or (schedule 'until') the fewest at the rate that prune the target in total."""
    if v["schedule"] == "until":
        return PruningConfig.rounds_until(v["rate"], v["target"])
    return v["rounds"]


def with_arch_pruning(v: dict) -> dict:
    """The values with the paper's pruning for v['arch']: its strategy and its output rate (0 for VGG-19
    and ResNet-18, half the rate otherwise); custom rates switch on where that leaves the usual rule."""
    rate, paper = per_round_rate(v), paper_pruning(v["arch"])
    conv, output = (v["conv_rate"] if v["custom_rates"] else rate), paper.get("output_rate", rate / 2)
    return {**v, "strategy": paper["strategy"], "conv_rate": conv, "output_rate": output,
            "custom_rates": abs(conv - rate) > 1e-12 or abs(output - rate / 2) > 1e-12}


def milestones_text(ms) -> str:
    """Milestones as the URL and the form's text box write them: '56240,84360' or 'none' (text the
    user typed that is not a valid list passes through, for the config to refuse by name)."""
    if not isinstance(ms, (list, tuple)):
        return str(ms)
    return ",".join(map(str, ms)) or "none"


def config_from_values(v: dict) -> ExperimentConfig:
    """The experiment the form describes; raises ConfigError naming the bad field."""
    parts: dict = {None: {}, "pruning": {}, "training": {}}
    for f in URL_FIELDS:
        if f.stored:
            parts[f.section][f.name] = tuple(v[f.param]) if f.kind in ("names", "levels") else v[f.param]
    parts["pruning"].update(rate=per_round_rate(v), rounds=rounds_of(v),
                            conv_rate=v["conv_rate"] if v["custom_rates"] else None,
                            output_rate=v["output_rate"] if v["custom_rates"] else None)
    return ExperimentConfig(**parts[None], pruning=PruningConfig(**parts["pruning"]), training=parts["training"],
                            reset="rewind" if v["rewind"] > 0 else "init")


def _num(x: float) -> str:
    """Shortest text that reads back as the same float: the URL must name the same run id."""
    return repr(float(x))


def _text(f, value) -> str:
    """A value as the URL writes it."""
    if f.kind == "int":
        return str(value)
    if f.kind in ("float", "fraction"):
        return _num(value)
    if f.kind == "bool":
        return BOOLS[0] if value else BOOLS[1]
    if f.kind == "milestones":
        return milestones_text(value)
    if f.kind in ("names", "levels"):
        return value if isinstance(value, str) else ",".join(map(str, value)) or "none"
    return value


def params_from_values(v: dict) -> dict[str, str]:
    """The query string for the form: every control that shapes the config, explicitly."""
    skip = {"target"} if v["schedule"] == "rate" else {"rate"} if v["schedule"] == "target" else {"rounds"}
    if not v["custom_rates"]:
        skip |= {"conv_rate", "output_rate"}
    if v["optimizer"] != "sgd":  # Adam ignores momentum
        skip.add("momentum")
    skip |= set(BEYOND) - set(beyond_set(v))
    return {f.param: _text(f, v[f.param]) for f in URL_FIELDS if f.param not in skip}


def beyond_set(v: dict) -> tuple[str, ...]:
    """The controls beyond the paper that the values set away from their defaults (BEYOND order)."""
    return tuple(n for n in BEYOND if n in v and (v[n] != _PLAIN[n] if isinstance(_PLAIN[n], (str, float, int))
                                                   else bool(v[n])))


def cli_command(v: dict) -> str:
    """The same experiment as a command line. Every setting is spelled out, the layer rates too:
    without --preset the command line starts from the dataset's preset, whose rates may differ."""
    p = params_from_values(v)
    p.update(conv_rate=_num(v["conv_rate"] if v["custom_rates"] else per_round_rate(v)),
             output_rate=_num(v["output_rate"] if v["custom_rates"] else per_round_rate(v) / 2))
    parts = [(f.cli_flag if v[f.param] else f"--no-{f.cli_flag[2:]}") if f.kind == "bool"
             else f"{f.cli_flag} {p[f.param]}" for f in URL_FIELDS if f.cli_flag and f.param in p]
    return "python -m lth_core run " + " ".join(parts)


def _parse_fraction(name: str, raw: str, problems: list, lo: float | None = None) -> float | None:
    lo, hi = PCT_RANGE[0] if lo is None else lo, PCT_RANGE[1]
    try:
        x = float(raw)
        if lo <= x <= hi:
            return x
    except ValueError:
        pass
    problems.append(f"URL parameter `{name}`: {quoted(raw)} is not allowed; allowed: a fraction in [{lo:g}, {hi:g}] "
                    f"(e.g. 0.2 for 20%).")
    return None


def _parse_number(name: str, raw: str, problems: list, integer: bool) -> float | int | None:
    lo, hi = (INT_RANGES if integer else FLOAT_RANGES)[name]
    try:
        x = int(raw) if integer else float(raw)
        if lo <= x <= hi:
            return x
    except ValueError:
        pass
    kind = "an integer" if integer else "a number"
    problems.append(f"URL parameter `{name}`: {quoted(raw)} is not allowed; allowed: {kind} in [{lo:g}, {hi:g}].")
    return None


def _parse_choice(name: str, raw: str, allowed, problems: list) -> str | None:
    if raw in allowed:
        return raw
    problems.append(f"URL parameter `{name}`: {quoted(raw)} is not allowed; allowed: {', '.join(allowed)}.")
    return None


def values_from_params(qp: dict) -> tuple[dict, list[str]]:
    """Form values from a query string, and one message per bad or unknown parameter (its default is used)."""
    problems: list[str] = []
    unknown = [k for k in qp if k not in PARAMS + FLAGS]
    for k in unknown:
        problems.append(f"URL parameter {code(k)} is unknown and was ignored; allowed: {', '.join(PARAMS + FLAGS)}.")
    v = defaults()
    if "preset" in qp:
        name = _parse_choice("preset", qp["preset"], tuple(PRESETS), problems)
        if name:
            v = values_from_config(get_preset(name))
    base = dict(v)
    if "dataset" in qp:
        v["dataset"] = _parse_choice("dataset", qp["dataset"], tuple(DATASETS), problems) or v["dataset"]
    fits = compatible_archs(v["dataset"])
    if "arch" in qp:
        arch = _parse_choice("arch", qp["arch"], fits, problems)
        v["arch"] = arch or (v["arch"] if v["arch"] in fits else fits[0])
    elif v["arch"] not in fits:
        v["arch"] = fits[0]
    for name, allowed in CHOICES.items():
        if name in qp:
            v[name] = _parse_choice(name, qp[name], allowed, problems) or v[name]
    for name in (f.param for f in URL_FIELDS if f.kind == "bool"):
        if name in qp:
            flag = _parse_choice(name, qp[name], BOOLS, problems)
            v[name] = v[name] if flag is None else flag == "true"
    if "lr_milestones" in qp:
        try:
            v["lr_milestones"] = parse_milestones(qp["lr_milestones"])
        except ConfigError:
            problems.append(f"URL parameter `lr_milestones`: {quoted(qp['lr_milestones'])} is not allowed; allowed: "
                            f"none, or a comma list of at most {MAX_MILESTONES} strictly increasing iterations in "
                            f"[1, {MAX_ITERATIONS - 1}] (e.g. 56240,84360).")
    if "rate" in qp and "target" in qp and "rounds" in qp:
        problems.append("URL parameters `rate`, `target` and `rounds` were all given; allowed: two of them (`rate` "
                        "and `target`: the rounds follow). Ignoring `rounds`.")
    for name in INT_RANGES:
        if name in qp:
            x = _parse_number(name, qp[name], problems, integer=True)
            v[name] = base[name] if x is None else x
    for name in FLOAT_RANGES:
        if name in qp:
            x = _parse_number(name, qp[name], problems, integer=False)
            v[name] = base[name] if x is None else x
    if "rate" in qp and "target" in qp:  # a rate until a total: the rounds follow (a lesson on the rate alone)
        rate = _parse_fraction("rate", qp["rate"], problems) or base["rate"]
        target = _parse_fraction("target", qp["target"], problems) or base["target"]
        v.update(schedule="until", rate=rate, target=target, rounds=PruningConfig.rounds_until(rate, target))
    elif "rate" in qp:
        v["schedule"], v["rate"] = "rate", _parse_fraction("rate", qp["rate"], problems) or base["rate"]
    elif "target" in qp:
        x = _parse_fraction("target", qp["target"], problems)
        if x is not None:
            v["schedule"], v["target"] = "target", x
    if ("rate" in qp or "rounds" in qp) and v["schedule"] != "until":
        v["target"] = round(1 - (1 - v["rate"]) ** v["rounds"], 6)
    for name in ("conv_rate", "output_rate"):
        if name in qp:
            x = _parse_fraction(name, qp[name], problems, lo=0.0 if name == "output_rate" else None)
            if x is not None:
                v[name], v["custom_rates"] = x, True
    if v["custom_rates"] and "rate" in qp:  # keep the unspecified one on the paper's rule
        v["conv_rate"] = v["conv_rate"] if "conv_rate" in qp else v["rate"]
        v["output_rate"] = v["output_rate"] if "output_rate" in qp else v["rate"] / 2
    if v["arch"] != base["arch"] and "strategy" not in qp:  # a new network brings its paper pruning
        new = with_arch_pruning(v)
        v = new if "output_rate" not in qp else {**v, "strategy": new["strategy"]}
    if v["optimizer"] != "sgd":  # Adam ignores momentum; the form keeps it at the default
        v["momentum"] = _PLAIN["momentum"]
    if "criterion" in qp:
        v["criterion"] = _parse_choice("criterion", qp["criterion"], LISTS["criteria"], problems) or v["criterion"]
    _parse_beyond(qp, v, problems)
    for name, allowed in LISTS.items():
        if name in qp:
            why = ""
            if name == "criteria":  # the ticket's own criterion is not an extra ticket
                allowed = tuple(c for c in allowed if c != v["criterion"])
                why = f" ({v['criterion']} is already the ticket's `criterion`)"
            v[name] = _parse_list(name, qp[name], allowed, problems, v[name], why)
    v["criteria"] = tuple(c for c in v["criteria"] if c != v["criterion"])  # a preset's, under a new criterion
    for name, where, reason in (("at_init", f"with granularity {quoted(v['granularity'])}",
                                 "masks found at initialisation are unstructured"),
                                ("at_init_checks", "without `at_init`", "the checks test a mask found at init")):
        ok = v["granularity"] == "unstructured" if name == "at_init" else bool(v["at_init"])
        if v[name] and not ok:  # the form offers neither then, and the config would refuse them
            if name in qp:
                problems.append(f"URL parameter `{name}`: {quoted(qp[name])} is not allowed {where}; allowed: "
                                f"none ({reason}).")
            v[name] = ()
    return v, problems


def granularities(arch: str) -> tuple[str, ...]:
    """The granularities `arch` can be pruned at: unstructured always, neurons or filters where it has them."""
    return tuple(g for g in GRANULARITIES if g == "unstructured" or arch in STRUCTURED_ARCHS[g])


def _parse_list(name: str, raw: str, allowed, problems: list, default: tuple, why: str = "") -> tuple:
    """A comma list of allowed names ('none' or empty: no name), in the order of `allowed`; the default
    with a message (ending in `why`) when a name is not allowed."""
    items = [c.strip() for c in raw.split(",") if c.strip()]
    bad = [c for c in items if c not in allowed and c != "none"]
    if bad:
        problems.append(f"URL parameter {code(name)}: {quoted(bad[0])} is not allowed; allowed: a comma list of "
                        f"{', '.join(allowed)}, or none{why}.")
        return default
    return tuple(c for c in allowed if c in items)


def _parse_beyond(qp: dict, v: dict, problems: list) -> None:
    """The granularity the network allows and the stability levels its rounds allow (in place); a preset's
    value that no longer fits (another network, fewer rounds) gives way quietly, a URL's with a message."""
    fits = granularities(v["arch"])
    if "granularity" in qp:
        v["granularity"] = _parse_choice("granularity", qp["granularity"], fits, problems) or v["granularity"]
    if v["granularity"] not in fits:
        v["granularity"] = "unstructured"
    levels = tuple(range(v["rounds"] + 1))
    if "stability_levels" in qp:
        items = [x.strip() for x in qp["stability_levels"].split(",") if x.strip() and x.strip() != "none"]
        bad = [x for x in items if not (x.isdigit() and len(x) < 4 and int(x) in levels)]
        if bad:
            problems.append(f"URL parameter `stability_levels`: {quoted(bad[0])} is not allowed; allowed: a comma "
                            f"list of levels in [0, {v['rounds']}] (0: the dense network; up to the rounds), or none.")
        else:
            v["stability_levels"] = tuple(sorted({int(x) for x in items}))
    v["stability_levels"] = tuple(x for x in v["stability_levels"] if x in levels)
