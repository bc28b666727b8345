"""Run an experiment: the form (mirrored in the URL), what it will do before it runs, Start, live progress."""
from __future__ import annotations

import json

import streamlit as st

from lth_core import charts
from lth_core.config import ConfigError
from lth_core.jobs import LimitReached
from lth_core.presets import PRESETS
from ui import data, errors, estimates, forms, params, presenter, progress, state
from ui.runpick import config_label
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Run an experiment")
st.caption("Choose a dataset, a network and how hard to prune. Everything you set is saved in the page's "
           "address: copy it to share or repeat this exact experiment.")

values, problems = forms.sync_from_url()
for p in problems:
    errors.show(p)

if presenter.active():
    with st.expander("Experiment settings", icon=":material/tune:"):
        values = forms.render()
    plan = st.container()
else:
    form_col, plan = st.columns([1.05, 1], gap="large")
    with form_col:
        values = forms.render()
forms.write_url(values)

config, problem = None, None
try:
    config = params.config_from_values(values)
except ConfigError as exc:
    problem = str(exc)

with plan:
    st.markdown("##### What will happen")
    if config is not None:
        ladder = data.ladder(json.dumps(config.to_dict(), sort_keys=True))
        presenter.show(charts.ladder_chart(ladder), key="ladder", filename="percent-remaining")
        st.caption(f"**{config.levels} levels**: the dense network, then {config.pruning.rounds} rounds at "
                   f"{100 * config.pruning.rate:.3g}% per round, down to **{ladder[-1]:.3g}%** of the weights. "
                   f"At each level the ticket{' and ' + str(len(config.controls)) + ' control' + 's' * (len(config.controls) > 1) if config.controls else ''}"
                   f" train{'s' if not config.controls else ''} {config.training.iterations:,} iterations, "
                   f"× {config.trials} trial{'s' * (config.trials > 1)}.")
        st.markdown("Estimated time: " + estimates.describe(config))
    else:
        errors.show(f"This experiment cannot run: {problem}", "Change the setting named above.")

    run_id = config.run_id() if config is not None else None
    home = state.find(run_id) if run_id else None
    done = home is not None and progress.run_state(home, run_id)["state"] == "done"
    if done:
        st.success(f"This exact experiment is already stored (run `{run_id}`): its results open at once.",
                   icon=":material/inventory_2:")
        if st.button("Open its results", type="primary", key="open_results", icon=":material/insights:"):
            st.switch_page("pages/results.py", query_params={"run": run_id})
    elif st.button("Start", type="primary", key="start", icon=":material/play_arrow:", disabled=config is None,
                   width="stretch"):
        try:
            state.manager().submit(config, owner=state.owner())
            home = state.store()
        except LimitReached as exc:
            errors.show(f"Cannot start: {exc}")
    if run_id and not presenter.active():
        with st.expander("Same experiment from the command line", icon=":material/terminal:"):
            st.code(params.cli_command(values), language="bash", wrap_lines=True)
            if values["momentum"] != 0.9 or values["weight_decay"] or values["warmup"]:
                st.caption("Momentum, weight decay and warm-up have no command-line flags; the command above "
                           "uses their defaults.")

if run_id and home is not None:
    st.divider()
    st.subheader(config_label(config))
    info = progress.panel(run_id, home, key="run_live")
    if info["state"] == "done" and not done:
        if st.button("Open full results", key="open_results_after", icon=":material/insights:"):
            st.switch_page("pages/results.py", query_params={"run": run_id})
elif not presenter.active():
    st.divider()
    st.markdown("**Start from a preset** (sets every control above):")
    cols = st.columns(3)
    for i, (name, (desc, _)) in enumerate(PRESETS.items()):
        with cols[i % 3]:
            if st.button(name, key=f"preset_{name}", help=desc, width="stretch"):
                st.query_params.from_dict({"preset": name})
                st.rerun()
