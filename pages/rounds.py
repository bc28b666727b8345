"""Play through the rounds: the ladder, the first layer's mask, the kept/pruned θ₀ and the accuracy, round by round."""
from __future__ import annotations

import streamlit as st

from lth_core.charts import rounds as charts_rounds
from ui import data, inside, rounds, runpick
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Play through the rounds")
st.caption("Iterative pruning, one round at a time: how many weights remain, which inputs the first layer still "
           "listens to, which starting weights survive, and what accuracy the ticket reaches.")
picked = runpick.pick_run(key="rounds_run")
if picked is None:
    st.stop()
run_id, store = picked
config = store.config(run_id)
ladder = data.config_ladder(config)

c1, c2 = st.columns([1, 3])
with c1:
    trial = st.selectbox("Trial", list(range(config.trials)), key="rounds_trial",
                         format_func=lambda t: f"trial {t} (seed {config.seed + t})") if config.trials > 1 else 0
done = set(data.aggregate(store, run_id).query("arm == 'ticket'").level)
levels = []
for lv in [0, *inside.stored_levels(store, run_id, trial, config.levels)]:
    if lv != len(levels) or lv not in done:  # play the rounds finished so far, in order, without gaps
        break
    levels.append(lv)
if len(levels) < 2:
    st.info("Nothing to play yet: the animation needs the dense network and at least one pruned round stored.",
            icon=":material/hourglass_top:")
    st.stop()

key = f"rounds_level_{run_id}_{trial}"
level = min(st.session_state.get(key, levels[0]), levels[-1])
points = [p for k in ("rounds_fig__wide", "rounds_fig__narrow")  # the figure in its two layouts (by width)
          for p in st.session_state.get(k, {}).get("selection", {}).get("points") or []]
if str(points) != st.session_state.get(f"{key}_click"):  # a new click; an old selection must not undo a step
    st.session_state[f"{key}_click"] = str(points)
    clicked = charts_rounds.level_from_click(points, levels)
    level = level if clicked is None else clicked
with c2:
    b1, b2, b3 = st.columns([1, 1, 3])
    if b1.button("◀ Previous", disabled=level <= levels[0], width="stretch"):
        level -= 1
    if b2.button("Next ▶", disabled=level >= levels[-1], width="stretch"):
        level += 1
    b3.markdown(f"Starting at **{ladder[level]:.3g}% of weights** (round {level}).")
st.session_state[key] = level

args = (str(store.root), store.readonly, run_id, trial, tuple(levels), data.signature(store, run_id))
rounds.show_clickable(charts_rounds.show_level(rounds.figure(*args), level),
                      charts_rounds.show_level(rounds.figure(*args, stacked=True), level), key="rounds_fig")
st.markdown(
    "**What to look for:** press **▶ Play** (or drag the slider) and watch the four views move together. "
    "Top left, the highlighted bar falls by the same share each round. Top right, the ticket's accuracy "
    "point appears round by round (the dotted grey line is where it will go): it usually holds level with "
    "the dense network, or rises a little, while most weights go, and drops only at the last rounds. Bottom "
    "left, bright inputs keep many of their connections and dark ones few (the colour scale follows each "
    "round's best-connected input); watch whether a shape forms, as the blank border going dark on MNIST. "
    "Bottom right, the "
    "kept weights (blue) are mostly those that *started* far from zero, though pruning only looked at "
    "the trained values.")
st.caption("Linked views are **click-to-link**: click a bar of the ladder or a point of the accuracy chart to "
           "show that round in all four panels (hovering alone cannot link them here). The buttons above step "
           "one round; ▶ Play and ❚❚ Pause run in your browser, so playback stays smooth.")
