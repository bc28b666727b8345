"""The Run form's widgets, kept in step with the address bar.

Every control is read from and written to st.query_params (names as in ui/params.py), so
copying the URL reproduces the form; the state is mirrored under FORM_KEY because Streamlit
forgets widgets on pages the user has left. A teacher's link (ui/links.py) fixes chosen
controls: their values are kept under LINK_KEY and put back on every run. The controls beyond
the paper are drawn by ui/beyond_form.py through the same link-aware _widget.
"""
from __future__ import annotations

import streamlit as st

from lth_core.arms import ARMS, CONTROLS
from lth_core.config import ConfigError, ExperimentConfig, PruningConfig, TrainingConfig
from lth_core.data.datasets import availability
from lth_core.fields import FIELD, parse_milestones
from lth_core.models.architectures import layer_sizes
from lth_core.registry import ARCHITECTURES, DATASETS, compatible_archs, is_image
from lth_core.service.admission import LimitReached, check_memory
from ui import beyond_form, links, params, state

FORM_KEY, URL_KEY, LINK_KEY = "_run_form", "_run_form_url", "_run_form_link"
W = "f_"  # widget key prefix


def _pct(name: str) -> tuple[float, float]:
    """A fraction field's widget range in percent (lth_core.fields)."""
    return tuple(round(100 * x, 6) for x in FIELD[name].widget_range)


PCT = _pct("rate")  # rate, target and conv_rate: (0.1, 99.9)
CONTROL_TEXT = {c: ARMS[c].label for c in CONTROLS}  # each control's words come from its declaration
CONTROL_HELP = " ".join(f"**{ARMS[c].label}**: {ARMS[c].question}." for c in CONTROLS) + \
    " Each control trains once per level and trial."
AVAIL_NOTE = {"cached": "ready", "on disk": "on disk", "generated locally": "generated locally",
              "download needed": "download needed"}


def _widget_values(v: dict) -> dict:
    """Form values -> widget values (percentages where the widget shows percent; lists for multi-choice)."""
    out = {}
    for f in params.URL_FIELDS:  # lth_core.fields
        x = v[f.param]
        if f.kind == "fraction":
            x = 100 * x
        elif f.kind in ("names", "levels"):
            x = list(x)
        elif f.kind == "milestones":
            x = ", ".join(map(str, x)) if isinstance(x, tuple) else str(x)
        out[f.param] = x
    return {**out, "schedule": v["schedule"], "custom_rates": v["custom_rates"],
            "reset": "rewind" if v["rewind"] > 0 else "init", "rewind": max(1, v["rewind"])}


def _load(v: dict, only_missing: bool = False) -> None:
    for name, value in _widget_values(v).items():
        if not only_missing or W + name not in st.session_state:
            st.session_state[W + name] = value


def sync_from_url() -> tuple[dict, list[str]]:
    """The form's values: from the address when it changed from outside (a pasted link, a preset
    button), else from this session. Returns (values, problems with the address)."""
    qp = st.query_params.to_dict()
    problems: list[str] = []
    if qp and qp != st.session_state.get(URL_KEY):
        values, problems = params.values_from_params(qp)
        link, more = links.parse(qp)
        st.session_state[LINK_KEY] = (link, values)  # the values a fixed control keeps
        problems += more
        _load(values)
    else:
        values = st.session_state.get(FORM_KEY) or params.defaults()
        _load(values, only_missing=True)
    return values, problems


def link() -> links.Link:
    """What the link this form was opened from fixes (links.NO_LINK: nothing)."""
    return st.session_state.get(LINK_KEY, (links.NO_LINK, None))[0]


def write_url(values: dict) -> None:
    """Put the form, and the link's flags, into the address (only when it changed, so the browser
    history stays clean)."""
    new = {**params.params_from_values(values), **link().flags}
    if st.query_params.to_dict() != new:
        st.query_params.from_dict(new)
    st.session_state[URL_KEY] = new
    st.session_state[FORM_KEY] = values


def _schedule_changed() -> None:
    """Carry the current pruning over when switching between a rate and a target (callback)."""
    s, n = st.session_state, st.session_state[W + "rounds"]
    if s[W + "schedule"] == "target":
        s[W + "target"] = 100 * (1 - (1 - s[W + "rate"] / 100) ** n)
    elif s[W + "schedule"] == "rate":
        s[W + "rate"] = round(100 * (1 - (1 - s[W + "target"] / 100) ** (1 / n)), 4)
    # until: the rate and the total both stay; the rounds follow from them


def _rate_pct() -> float:
    """The per-round rate (%) the pruning widgets describe now."""
    s = st.session_state
    if s[W + "schedule"] in ("rate", "until"):
        return s[W + "rate"]
    return 100 * (1 - (1 - s[W + "target"] / 100) ** (1 / s[W + "rounds"]))


def _custom_changed() -> None:
    """Custom layer rates start from the paper's rule for the current rate (callback)."""
    s = st.session_state
    if s[W + "custom_rates"]:
        s[W + "conv_rate"], s[W + "output_rate"] = _rate_pct(), _rate_pct() / 2


def _arch_changed() -> None:
    """A new network brings the paper's pruning for it: VGG-19 and ResNet-18 global with the output
    layer whole, the others layer by layer with the output at half the rate (callback)."""
    s = st.session_state
    v = params.with_arch_pruning({"arch": s[W + "arch"], "schedule": "rate", "rate": _rate_pct() / 100,
                                  "custom_rates": s[W + "custom_rates"], "conv_rate": s[W + "conv_rate"] / 100})
    s[W + "strategy"], s[W + "custom_rates"] = v["strategy"], v["custom_rates"]
    s[W + "conv_rate"], s[W + "output_rate"] = 100 * v["conv_rate"], 100 * v["output_rate"]


def _has_conv(arch: str) -> bool:
    return any(kind == "conv" for kind, _ in layer_sizes(arch).values())


def _pin() -> None:
    """Put the link's values back into the widgets it fixes (a callback may have moved one, e.g. a new
    network's paper pruning; Streamlit drops the state of a widget that is not drawn)."""
    fixed, pins = st.session_state.get(LINK_KEY, (links.NO_LINK, None))
    if pins is not None:
        shown = _widget_values(pins)
        for name in fixed.fixed():
            st.session_state[W + name] = shown[name]


def _shown(*names: str) -> bool:
    """Whether any of these widgets is drawn (a section heading goes with its widgets)."""
    return not all(link().hidden(n) for n in names)


def _widget(name: str, draw, *args, off: bool = False, **kwargs):
    """Draw widget `name` with st.<draw>, disabled if the link locks it (or `off`: cannot apply now);
    if the link hides it, its value without drawing it. Its default is the form's current value
    (_fallback), so a widget whose state is lost comes back as the form was."""
    if link().hidden(name):
        return st.session_state[W + name]
    return draw(*args, key=W + name, disabled=off or link().locked(name),
                **_fallback(draw, args, st.session_state.get(W + name)), **kwargs)


def _fallback(draw, args: tuple, now) -> dict:
    """The default argument of st.<draw> that equals `now`, the widget's value in this session.

    Under load the browser re-created some widgets without their state and sent back their
    defaults, so the form described another experiment (docs/RELIABILITY.md, section 1); with
    the current value as default such a widget keeps its value (a key, not the default, is
    the widget's identity)."""
    if now is None:
        return {}
    if draw is st.number_input:
        lo, hi = args[1], args[2]
        kind = float if isinstance(lo, float) or isinstance(hi, float) else int
        return {"value": kind(min(max(now, lo), hi))}
    if draw is st.checkbox:
        return {"value": bool(now)}
    if draw is st.text_input:
        return {"value": str(now)}
    options = list(args[1])
    if draw in (st.selectbox, st.radio):
        return {"index": options.index(now)} if now in options else {}
    if draw in (st.pills, st.multiselect):
        return {"default": [o for o in now if o in options]}
    return {}


ADVANCED = ("optimizer", "lr", "batch_size", "eval_every", "dropout", "momentum", "weight_decay", "warmup",
            "lr_milestones", "lr_factor", "seed", "augment", "custom_rates", "conv_rate", "output_rate")
# drawn by hand here or in ui/beyond_form.py; any other field with a URL name gets a plain widget (_other_fields)
HAND_DRAWN = ADVANCED + ("dataset", "arch", "rate", "target", "rounds", "strategy", "rewind", "controls", "trials",
                         "iterations", "criterion", "granularity", "criteria", "at_init", "at_init_checks",
                         "stability_levels")


def _other_fields() -> dict:
    """A plain widget for each field (lth_core.fields) the form does not draw by hand: its help as the
    label, its range or choices; returns their values."""
    out = {}
    for f in params.URL_FIELDS:
        if f.param in HAND_DRAWN:
            continue
        label, tip = f.help[:1].upper() + f.help[1:], f.tip
        if f.kind in ("int", "float"):
            out[f.param] = _widget(f.param, st.number_input, label, *f.widget_range, help=tip)
        elif f.kind == "fraction":
            out[f.param] = _widget(f.param, st.number_input, label + " (%)", *(100 * x for x in f.widget_range),
                                   help=tip) / 100
        elif f.kind == "choice":
            out[f.param] = _widget(f.param, st.selectbox, label, list(f.choices), help=tip)
        elif f.kind == "bool":
            out[f.param] = bool(_widget(f.param, st.checkbox, label, help=tip))
        elif f.kind == "names":
            out[f.param] = tuple(_widget(f.param, st.multiselect, label, list(f.choices), help=tip) or ())
    return out


def render() -> dict:
    """Draw the controls (state already loaded by sync_from_url); returns the form's values."""
    s = st.session_state
    _pin()
    if link().fixed():
        st.caption(f"The link you opened fixes some settings to its values ({link().count(links.HIDDEN)} hidden, "
                   f"{link().count(links.LOCKED)} shown greyed out).", help="Open the page without `lock`, `hide` or "
                   "`only` in the address to change every setting.")
    if _shown("dataset", "arch"):
        st.markdown("##### 1 · Data and network")
    datasets = list(DATASETS)
    if link().fixes("arch") and not link().fixes("dataset"):  # only datasets the fixed network fits
        datasets = [d for d in DATASETS if s[W + "arch"] in compatible_archs(d)]
    ds = _widget("dataset", st.selectbox, "Dataset", datasets,
                 format_func=lambda n: f"{DATASETS[n].title} · {AVAIL_NOTE[availability(n)]}",
                 help="'ready': parsed and cached; 'on disk': found, parsed on first use; "
                      "'download needed': a network connection is required the first time.")
    if availability(ds) == "download needed":
        st.warning(f"{DATASETS[ds].title} is not on this machine and will be downloaded when the run starts. "
                   f"Offline: {DATASETS[ds].offline}.", icon=":material/cloud_download:")
    fits = compatible_archs(ds)
    if s.get(W + "arch") not in fits:
        s[W + "arch"] = fits[0]
        _arch_changed()
    arch = _widget("arch", st.selectbox, "Architecture", fits, format_func=lambda a: ARCHITECTURES[a].title,
                   on_change=_arch_changed,
                   help="Only the networks whose input fits this dataset are offered. Choosing one sets "
                        "the paper's pruning for it (VGG-19, ResNet-18: global, output layer unpruned).")

    if _shown("rate", "rounds", "strategy", "reset"):
        st.markdown("##### 2 · Pruning")
    schedule = _widget("schedule", st.radio, "Say how much to prune as", list(params.SCHEDULES), horizontal=True,
                       on_change=_schedule_changed,
                       format_func={"rate": "a rate per round", "target": "a target sparsity",
                                    "until": "a rate, until a size"}.get)
    c1, c2 = st.columns(2)
    if schedule == "until":  # the rounds follow from the rate and the total: change the rate alone
        with c1:
            rate = _widget("rate", st.number_input, "Prune per round (%)", *PCT, step=5.0, format="%.1f",
                           help="Share of the surviving weights removed each round (the paper: 20%).") / 100
        with c2:
            target = _widget("target", st.number_input, "Until pruned in total (%)", *PCT, step=5.0,
                             format="%.1f", help="Rounds continue until at least this share is pruned.") / 100
        rounds = PruningConfig.rounds_until(rate, target)
        if _shown("rate", "target"):
            st.caption(f"At {100 * rate:.3g}% per round, **{rounds} round{'s' * (rounds > 1)}** prune at least "
                       f"{100 * target:.3g}% ({100 * (1 - rate) ** rounds:.3g}% of each hidden layer remains).")
    else:
        with c2:
            rounds = _widget("rounds", st.number_input, "Rounds", *params.INT_RANGES["rounds"], step=1,
                             help=FIELD["rounds"].tip)
        with c1:
            if schedule == "rate":
                rate = _widget("rate", st.number_input, "Prune per round (%)", *PCT, step=5.0, format="%.1f",
                               help="Share of the surviving weights removed each round (the paper: 20%). "
                                    "The output layer is pruned at half this rate, as in the paper.") / 100
                target = 1 - (1 - rate) ** rounds
            else:
                target = _widget("target", st.number_input, "Prune in total (%)", *PCT, step=5.0,
                                 format="%.1f", help="Share of the weights removed after the last round.") / 100
                rate = 1 - (1 - target) ** (1 / rounds)
    if schedule == "target" and _shown("target"):
        st.caption(f"Each round prunes 1 − (1 − P)^(1/n) = 1 − (1 − {target:.3g})^(1/{rounds}) = "
                   f"**{100 * rate:.2f}%** of the surviving weights.")
    strategy = _widget("strategy", st.radio, "Where", ["layerwise", "global"], horizontal=True,
                       format_func={"layerwise": "layer by layer", "global": "globally (one threshold)"}.get,
                       help="Layer-wise prunes the same share of every layer (the paper's LeNet and Conv nets); "
                            "global ranks all weights together (the paper's VGG-19 and ResNet-18).")
    reset = _widget("reset", st.radio, "Then reset the surviving weights to", ["init", "rewind"], horizontal=True,
                    format_func={"init": "their initial values θ₀", "rewind": "their values at iteration k"}.get,
                    help="Resetting to θ₀ is the original lottery ticket experiment; rewinding to an early "
                         "iteration k (Frankle et al., 2019) finds tickets in deeper networks.")
    rewind = 0
    if reset == "rewind":
        rewind = _widget("rewind", st.number_input, "k (iteration to rewind to)", 1,
                         params.INT_RANGES["rewind"][1], step=100)

    if _shown("controls", "iterations", "trials"):
        st.markdown("##### 3 · Controls and training")
    controls = _widget("controls", st.pills, "Controls to compare the ticket with", list(CONTROLS),
                       selection_mode="multi", format_func=CONTROL_TEXT.get, help=CONTROL_HELP)
    c1, c2 = st.columns(2)
    with c1:
        iterations = _widget("iterations", st.number_input, "Training iterations per round", 1,
                             params.INT_RANGES["iterations"][1], step=100,
                             help=FIELD["iterations"].tip)
    with c2:
        trials = _widget("trials", st.number_input, "Trials", *params.INT_RANGES["trials"], step=1,
                         help=FIELD["trials"].tip)

    box = st.expander("Advanced", icon=":material/tune:") if _shown(*ADVANCED) else st.container()
    with box:
        a1, a2 = st.columns(2)
        with a1:
            optimizer = _widget("optimizer", st.selectbox, "Optimizer", ["adam", "sgd"],
                                format_func={"adam": "Adam", "sgd": "SGD with momentum"}.get)
            lr = _widget("lr", st.number_input, "Learning rate", *params.FLOAT_RANGES["lr"], step=1e-4, format="%g")
            batch_size = _widget("batch_size", st.number_input, "Batch size", *params.INT_RANGES["batch_size"],
                                 step=10)
            eval_every = _widget("eval_every", st.number_input, "Evaluate every (iterations)",
                                 *params.INT_RANGES["eval_every"], step=25,
                                 help=FIELD["eval_every"].tip)
        with a2:
            dropout = 0.0  # VGG-19 and ResNet-18 have no hidden fc layer to put it on
            if ARCHITECTURES[arch].dropout:
                dropout = _widget("dropout", st.number_input, "Dropout on hidden fc layers",
                                  *params.FLOAT_RANGES["dropout"], step=0.05, format="%.2f")
            momentum = TrainingConfig().momentum  # Adam ignores it; fixed so the URL (which omits it) stays exact
            if optimizer == "sgd":
                momentum = _widget("momentum", st.number_input, "Momentum", *params.FLOAT_RANGES["momentum"],
                                   step=0.05, format="%.2f")
            weight_decay = _widget("weight_decay", st.number_input, "Weight decay",
                                   *params.FLOAT_RANGES["weight_decay"], step=1e-4, format="%g")
            warmup = _widget("warmup", st.number_input, "Learning-rate warm-up (iterations)",
                             *params.INT_RANGES["warmup"], step=100,
                             help=FIELD["warmup"].tip)
            milestones = _widget("lr_milestones", st.text_input, "Learning-rate drops after iterations",
                                 placeholder="none, or e.g. 20000, 25000",
                                 help=FIELD["lr_milestones"].tip)
            lr_factor = _widget("lr_factor", st.number_input, "Factor at each drop", *params.FLOAT_RANGES["lr_factor"],
                                step=0.05, format="%g")
            seed = _widget("seed", st.number_input, "Seed", *params.INT_RANGES["seed"], step=1,
                           help=FIELD["seed"].tip)
        augment = False
        if is_image(ds):
            augment = _widget("augment", st.checkbox, "Augment training images",
                              help=FIELD["augment"].tip)
        custom = _widget("custom_rates", st.checkbox, "Custom per-layer rates", on_change=_custom_changed,
                         help="Off: conv layers at the rate above and the output layer at half of it "
                              "(the paper's rule for LeNet). VGG-19 and ResNet-18 leave the output layer "
                              "unpruned (0%).")
        conv_rate, output_rate = rate, rate / 2
        if custom:
            r1, r2 = st.columns(2)
            with r1:
                if _has_conv(arch):
                    conv_rate = _widget("conv_rate", st.number_input, "Conv layers per round (%)", *PCT,
                                        step=5.0, format="%.1f") / 100
            with r2:
                output_rate = _widget("output_rate", st.number_input, "Output layer per round (%)", *_pct("output_rate"),
                                      step=5.0, format="%.1f", help="0: never pruned.") / 100
        others = _other_fields()
    beyond = beyond_form.render(arch, int(rounds), _widget, _shown, W)  # criteria, at-init, structured, stability
    return {"dataset": ds, "arch": arch, "schedule": schedule, "rate": rate, "target": target, "rounds": int(rounds),
            "strategy": strategy, "custom_rates": custom, "conv_rate": conv_rate, "output_rate": output_rate,
            "rewind": int(rewind), "controls": tuple(c for c in CONTROLS if c in (controls or [])),
            "trials": int(trials), "iterations": int(iterations), "optimizer": optimizer, "lr": float(lr),
            "batch_size": int(batch_size), "eval_every": int(eval_every), "dropout": float(dropout),
            "momentum": float(momentum), "weight_decay": float(weight_decay), "warmup": int(warmup),
            "lr_milestones": _milestones(milestones), "lr_factor": float(lr_factor), "augment": bool(augment),
            "seed": int(seed), **others, **beyond}


def checked_config(values: dict) -> tuple[ExperimentConfig | None, str | None]:
    """The experiment the form describes, or None and why it cannot run: the config's own rules, then
    the server's memory limit (the job manager applies the same at Start), so the user reads it first."""
    try:
        config = params.config_from_values(values)
        check_memory(config, state.settings().max_memory_gb)
    except (ConfigError, LimitReached) as exc:
        return None, str(exc)
    return config, None


def _milestones(text: str):
    """The text box's milestones as a tuple, or the text itself when it is not a valid list (the
    config then refuses it, naming lr_milestones and the allowed values)."""
    try:
        return parse_milestones(text)
    except ConfigError:
        return text
