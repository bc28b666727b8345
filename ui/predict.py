"""Predict, then reveal (Results page): a student guesses where the ticket and random re-init fall
below dense, then sees the real curves over the guess and how close it was.

A teacher's link may add `guess=required` (charts hidden until this session guessed) and
`guesses=show` (the class's anonymous guesses as a histogram per arm). Storage:
lth_core.store.guesses, under a random per-session token kept in st.session_state.
"""
from __future__ import annotations

import streamlit as st

from lth_core.charts import predict as charts_predict

from lth_core.store import guesses

from lth_core.analysis import spread, stats
from lth_core.charts.style import ARM_NAMES
from ui import presenter, state

GUESS_FLAG, GUESS_VALUES = "guess", ("required", "optional")
SHOW_FLAG, SHOW_VALUES = "guesses", ("show", "hide")
NAMES = {"ticket": "the ticket", "reinit": "random re-init"}


def _flag(name: str, allowed: tuple, default: str) -> str:
    raw = st.query_params.get(name)
    if raw is None:
        return default
    if raw in allowed:
        return raw
    st.warning(f"URL parameter `{name}` must be one of: {', '.join(allowed)}; ignored.", icon=":material/link_off:")
    return default


def arms_for(config) -> tuple[str, ...]:
    """The arms a student can guess for this run: the ticket, and re-init when the run trained it."""
    return tuple(a for a in guesses.ARMS if a in config.arms)


def _keys(run_id: str) -> tuple[str, str]:
    return f"guess_{run_id}", f"guess_token_{run_id}"


def current(run_id: str) -> dict | None:
    """This session's submitted guess for the run ({arm: % or None}), or None."""
    return st.session_state.get(_keys(run_id)[0])


UNSET = "unset"  # a slider's start: no guess yet, so a guess is made by moving it (not by pressing at once)
UNSET_LABEL = "move me to your guess"


def _label(p) -> str:
    return UNSET_LABEL if p == UNSET else guesses.NEVER_LABEL if p is None else f"{p:.3g}%"


def _form(run_id: str, config, ladder) -> None:
    arms = arms_for(config)
    options = [UNSET, *guesses.levels(ladder), None]
    mine = current(run_id) or {}
    with st.form(f"predict_{run_id}", border=True):
        st.markdown("**Predict, then reveal.** Before you look: from how many % of weights remaining will each "
                    "network be *clearly below* the full network's accuracy (paired by trial, at that level and every sparser one)?")
        picks = {arm: st.select_slider(f"{ARM_NAMES[arm]} falls below dense from", options,
                                       value=mine.get(arm, UNSET), format_func=_label,
                                       key=f"guess_{arm}_{run_id}") for arm in arms}
        st.caption(f"Each slider runs from {_label(options[1])} of weights remaining (left) to "
                   f"{guesses.NEVER_LABEL} (right).")
        sent = st.form_submit_button("Lock in my guess", type="primary")
    if not sent:
        return
    if any(p == UNSET for p in picks.values()):
        st.warning("Move every slider to your guess first, then lock it in.", icon=":material/touch_app:")
        return
    gk, tk = _keys(run_id)
    token = st.session_state.get(tk) or guesses.new_token()
    try:
        guesses.save(state.store_root(), run_id, picks, ladder, token, arms=arms)
    except (guesses.GuessError, OSError) as exc:
        st.error(f"Your guess was not saved: {exc}", icon=":material/error:")
        return
    st.session_state[tk], st.session_state[gk] = token, picks


def truth(summary, config) -> tuple[dict | None, str | None]:
    """(per guessable arm, where it really falls below dense: spread.compare_to_dense, None: never; None)
    or, when the run has too few trials to say, (None, 'too few trials to tell (n = k)')."""
    found = {arm: spread.compare_to_dense(summary, arm) for arm in arms_for(config)}
    n = min((c["trials"] for c in found.values()), default=0)
    if n < stats.MIN_TRIALS:
        return None, f"{stats.TOO_FEW} (n = {n})"
    return {arm: c["falls_below_at"] for arm, c in found.items()}, None


def panel(run_id: str, config, ladder, summary) -> bool:
    """The guess form and, with guesses=show, the class's guesses. False while the link requires
    a guess and this session has not made one: the page then stops before any number or chart."""
    required = _flag(GUESS_FLAG, GUESS_VALUES, "optional") == "required"
    if _flag(SHOW_FLAG, SHOW_VALUES, "hide") == "show":
        class_view(run_id, config, ladder, summary)
    if not presenter.active() and (required or current(run_id) is None):
        with st.expander("Predict, then reveal", expanded=required, icon=":material/psychology_alt:"):
            _form(run_id, config, ladder)
    if required and current(run_id) is None:
        st.info("Your teacher asks for a guess first: the charts appear once you lock it in.",
                icon=":material/lock:")
        return False
    return True


def overlay(fig, run_id: str):
    """The accuracy figure with this session's guess drawn over it (unchanged without a guess)."""
    mine = current(run_id)
    return charts_predict.with_guesses(fig, mine) if mine else fig


def reveal(run_id: str, config, ladder, summary) -> None:
    """One sentence: how close this session's guess was (nothing without a guess)."""
    mine = current(run_id)
    if not mine:
        return
    real, few = truth(summary, config)
    if few:
        st.info(f"This run has {few}: it cannot say where each network falls below dense, so "
                f"there is nothing to reveal yet. A run with {stats.MIN_TRIALS} or more trials can.",
                icon=":material/target:")
    else:
        text = guesses.closeness(mine, real, ladder, NAMES)
        st.success(text[:1].upper() + text[1:], icon=":material/target:")


def class_view(run_id: str, config, ladder, summary) -> None:
    """The teacher's view: every stored guess for the run, anonymous, per arm, beside the truth."""
    arms = arms_for(config)
    found = guesses.load(state.store_root(), run_id, ladder, arms)
    st.markdown(f"### The class's guesses ({len(found)})")
    if not found:
        st.caption("No guesses yet. Share this page's link with `guess=required` to collect them.")
        return
    rows = {arm: guesses.distribution(found, ladder, arm) for arm in arms}
    real, few = truth(summary, config)
    presenter.show(charts_predict.guess_histogram(rows, real), key="class_guesses", filename=f"guesses-{run_id}")
    if few:
        st.caption(f"No truth to compare with: this run has {few}.")
        return
    st.caption("Truth (outlined bar): " + "; ".join(f"{NAMES[a]} falls below dense from {_label(real[a])}"
                                                    if real[a] is not None else f"{NAMES[a]} never falls below"
                                                    for a in arms) + ".")
