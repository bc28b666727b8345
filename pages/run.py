"""Run an experiment: the form (mirrored in the URL), what it will do before it runs, Start, live progress."""
from __future__ import annotations


import streamlit as st

from lth_core.charts import results as charts
from lth_core.service.admission import LimitReached
from lth_core.models.architectures import layer_sizes
from lth_core.presets import PRESETS
from ui import data, errors, estimates, forms, params, presenter, progress, state
from ui.boot import ensure_shell
from ui.runpick import config_label

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Run an experiment")
st.caption("Choose a dataset, a network and how hard to prune. Everything you set is saved in the page's "
           "address: copy it to share or repeat this exact experiment.")

values, problems = forms.sync_from_url()
for p in problems:
    errors.show(p)

# The run this form describes, if the store already has it, is shown first: progress, then its chart.
status_box = st.container()
if presenter.active():
    with st.expander("Experiment settings", icon=":material/tune:"):
        values = forms.render()
    plan = st.container()
else:
    form_col, plan = st.columns([1.05, 1], gap="large")
    with form_col:
        values = forms.render()
forms.write_url(values)

config, problem = forms.checked_config(values)  # the config's rules and the server's memory limit
run_id = config.run_id() if config is not None else None
home = state.find(run_id) if run_id else None

with plan:
    st.markdown("##### What will happen")
    too_long = None  # why Start is refused: the estimate exceeds the server's time limit per run
    if config is None:
        errors.show(f"This experiment cannot run: {problem}", "Change the setting named above.")
    else:
        ladder = data.config_ladder(config)
        presenter.show(charts.ladder_chart(ladder), key="ladder", filename="percent-remaining")
        n, kind = len(config.arms) - 1, "control" if len(config.arms) == 1 + len(config.controls) else "other network"
        who = f"the ticket and {n} {kind}{'s' * (n > 1)} train" if n else "the ticket trains"
        copies = ", ".join(map(str, config.stability_levels))
        twice = f" At level{'s' * (len(config.stability_levels) > 1)} {copies} the ticket trains a second time, " \
                f"with another minibatch order (stability)." if copies else ""
        pc = config.pruning
        conv = f" ({100 * pc.conv_rate:.3g}% in conv layers)" if pc.conv_rate != pc.rate and any(
            k == "conv" for k, _ in layer_sizes(config.arch).values()) else ""
        st.caption(f"**What to look for:** each bar is one size of network the experiment will train. "
                   f"**{config.levels} levels**: the dense network, then {pc.rounds} rounds at "
                   f"{100 * pc.rate:.3g}% per round{conv}, the output layer at {100 * pc.output_rate:.3g}%, down to "
                   f"**{ladder[-1]:.3g}%** of the weights. "
                   f"At each level {who} {config.training.iterations:,} iterations, × {config.trials} "
                   f"trial{'s' * (config.trials > 1)}.{twice}")
    current = progress.run_state(home, run_id)["state"] if home is not None else None
    if config is not None and current not in ("done", *progress.ACTIVE):
        # only a run that can still be started needs the estimate: timing a network here takes the CPU
        # away from a run that is training (the quick demo lands on this page the moment it starts)
        estimate, seconds = estimates.describe(config)
        st.markdown("Estimated time: " + estimate)
        too_long = estimates.over_limit(seconds)
    if config is not None and too_long and current not in ("done", *progress.ACTIVE):
        errors.show(too_long)
    if current == "done":
        st.success(f"This exact experiment is already stored (run `{run_id}`); its results are shown above.",
                   icon=":material/inventory_2:")
    elif current in progress.ACTIVE:
        st.button("Training… (progress above)", key="start", icon=":material/hourglass_top:", disabled=True,
                  width="stretch")
    elif st.button("Start" if current is None else "Resume", type="primary", key="start",
                   icon=":material/play_arrow:", disabled=config is None or bool(too_long), width="stretch"):
        try:
            state.manager().submit(config, owner=state.owner())
        except LimitReached as exc:
            errors.show(f"Cannot start: {exc}")
        else:
            st.rerun()  # redraw with the run's live status on top and the button disabled
    if config is not None and not presenter.active():
        with st.expander("Same experiment from the command line", icon=":material/terminal:"):
            st.code(params.cli_command(values), language="bash", wrap_lines=True)

with status_box:
    if home is not None:
        with st.container(border=True):
            head, button = st.columns([4, 1], vertical_alignment="center")
            head.markdown(f"**{config_label(config)}** · run `{run_id}`")
            if button.button("Open full results", key="open_results", icon=":material/insights:", width="stretch"):
                st.switch_page("pages/results.py", query_params={"run": run_id})
            progress.panel(run_id, home, key="run_live")

if home is None and not presenter.active() and not forms.link().fixed():  # a preset would undo the link's locks
    st.divider()
    st.markdown("**Start from a preset** (fills in every control above; nothing trains until you press Start):")
    cols = st.columns(3)
    for i, (name, (desc, _)) in enumerate(PRESETS.items()):
        with cols[i % 3]:
            if st.button(name, key=f"preset_{name}", help=desc, width="stretch"):
                st.query_params.from_dict({"preset": name})
                st.rerun()
