"""The Run form's controls beyond the paper (docs/BEYOND.md): pruning criteria, structured granularity,
masks found at initialisation and their checks, stability levels.

A closed expander unless one is set, so a student's first view is the paper's experiment.
Keys, URL names and values are ui/params.py's (BEYOND); ui/forms.py draws them.
"""
from __future__ import annotations

import streamlit as st

from lth_core.arms import AT_INIT, CHECKS, CRITERIA
from ui import params
from ui.runpick import CONTROL_SHORT

BEYOND_HELP = {
    "criterion": "Which surviving weights each round keeps, from the initial weights w_i and the trained ones w_f. "
                 "Magnitude |w_f| is the paper's; the others are from Zhou et al. (2019).",
    "granularity": "Single weights (the paper), or whole hidden neurons or conv filters, ranked by the size of "
                   "their incoming weights: a smaller dense network that runs faster on real hardware. "
                   "Whole units are pruned layer by layer.",
    "criteria": "Train more tickets beside the ticket, each pruned by another rule, all from the same dense "
                "network: which rule finds the best ticket? Each adds one network per level and trial.",
    "at_init": "Masks chosen from the initial weights alone, before any training (SNIP, SynFlow, magnitude at "
               "init), trained at the ticket's sizes: cheaper to find, but as good? Each adds one network per "
               "level and trial. Only when pruning single weights.",
    "at_init_checks": "The literature's sanity checks of each mask found at init: the same mask shuffled within "
                      "each layer, on fresh random weights, and with its scores inverted (the lowest kept). If they "
                      "do as well, only the layer sizes mattered. Choose a mask above first.",
    "stability_levels": "At these levels the ticket trains a second time with another order of minibatches; the "
                        "error along the straight line between the two shows whether training is stable (Frankle "
                        "et al. 2020). One extra network per chosen level and trial.",
}


def render(arch: str, rounds: int, widget, shown, prefix: str) -> dict:
    """The controls beyond the paper, in a closed expander unless one is set; returns their values.
    Choices the config would refuse are not offered, or are greyed out and cleared while they
    cannot apply. widget, shown and the key prefix are the form's (ui/forms.py), obeying a teacher's link."""
    s = st.session_state
    fits = params.granularities(arch)
    if s[prefix + "granularity"] not in fits:  # a new network without neurons or filters to prune
        s[prefix + "granularity"] = "unstructured"
    s[prefix + "stability_levels"] = [x for x in s[prefix + "stability_levels"] if x <= rounds]
    s[prefix + "criteria"] = [c for c in s[prefix + "criteria"] if c != s[prefix + "criterion"]]
    # at-init masks are unstructured, and their checks need one (the config refuses both otherwise); every
    # value is set again because a widget greyed out or back becomes a new widget, fed from session state
    structured = s[prefix + "granularity"] != "unstructured"
    s[prefix + "at_init"] = [] if structured else list(s[prefix + "at_init"] or [])
    s[prefix + "at_init_checks"] = list(s[prefix + "at_init_checks"] or []) if s[prefix + "at_init"] else []
    if shown(*params.BEYOND):
        is_set = params.beyond_set(values(prefix))
        with st.expander("Beyond the paper", icon=":material/science:", expanded=bool(is_set)):
            st.caption("Questions the paper left open, answered by later work. Leave these alone for the "
                       "original experiment.")
            _draw(fits, rounds, widget, {n: s[prefix + n] for n in params.BEYOND})
    return values(prefix)


def _draw(fits: tuple, rounds: int, widget, now: dict) -> None:
    """The widgets; `now` holds their values before this run draws them."""
    criterion = widget("criterion", st.selectbox, "Which weights to keep", list(CRITERIA),
                       format_func=CONTROL_SHORT.get, help=BEYOND_HELP["criterion"])
    widget("granularity", st.radio, "Prune", fits, horizontal=True, help=BEYOND_HELP["granularity"],
           format_func={"unstructured": "single weights", "neurons": "whole neurons",
                        "filters": "whole filters (and neurons)"}.get)
    widget("criteria", st.pills, "Also train tickets kept by", [c for c in CRITERIA if c != criterion],
           selection_mode="multi", format_func=CONTROL_SHORT.get, help=BEYOND_HELP["criteria"])
    widget("at_init", st.pills, "Masks found at initialisation", list(AT_INIT), selection_mode="multi",
           format_func=CONTROL_SHORT.get, help=BEYOND_HELP["at_init"], off=now["granularity"] != "unstructured")
    widget("at_init_checks", st.pills, "Checks of those masks", list(CHECKS), selection_mode="multi",
           format_func={"shuffle": "shuffled per layer", "reinit": "re-initialised", "invert": "scores inverted"}.get,
           help=BEYOND_HELP["at_init_checks"], off=not now["at_init"])
    widget("stability_levels", st.multiselect, "Stability at levels", list(range(rounds + 1)),
           placeholder="none", help=BEYOND_HELP["stability_levels"],
           format_func=lambda x: "0 (dense)" if x == 0 else str(x))


def values(prefix: str) -> dict:
    """The widgets' values as the form keeps them: lists as tuples in the config's order."""
    s = st.session_state
    lists = {"criteria": CRITERIA, "at_init": AT_INIT, "at_init_checks": CHECKS}
    out = {n: tuple(c for c in allowed if c in (s[prefix + n] or ())) for n, allowed in lists.items()}
    return {**out, "criterion": s[prefix + "criterion"], "granularity": s[prefix + "granularity"],
            "stability_levels": tuple(sorted(s[prefix + "stability_levels"] or ()))}
