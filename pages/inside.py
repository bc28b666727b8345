"""Inside the ticket: which weights survive, where they connect, where they started, what the mask alone does."""
from __future__ import annotations


import streamlit as st

from lth_core.charts import inside as charts

from lth_core.analysis import inspection
from lth_core.data.datasets import DataUnavailable
from lth_core.registry import get_dataset_info
from ui import data, inside, presenter, runpick
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Inside the ticket")
st.caption("A winning ticket is a mask (which connections stay) plus the starting weights θ₀. Look at both.")
picked = runpick.pick_run(key="inside_run")
if picked is None:
    st.stop()
run_id, store = picked
config = store.config(run_id)
root, ro = str(store.root), store.readonly
ladder = data.config_ladder(config)
labels = inspection.layer_labels(config.arch)

c1, c2 = st.columns([1, 3])
with c1:
    trial = st.selectbox("Trial", list(range(config.trials)), key="inside_trial",
                         format_func=lambda t: f"trial {t} (seed {config.seed + t})") if config.trials > 1 else 0
levels = inside.stored_levels(store, run_id, trial, config.levels)
if not levels:
    st.info("No pruned level is stored for this trial yet: the first mask appears when the dense network "
            "has trained.", icon=":material/hourglass_top:")
    st.stop()
with c2:
    level = st.select_slider("Level", levels, value=levels[-1], key="inside_level",
                             format_func=lambda lv: f"{ladder[lv]:.3g}% (level {lv})")

st.markdown("### How each layer was pruned")
presenter.show(charts.layer_remaining(data.layers(store, run_id)[lambda d: d.trial == trial], labels),
               key="layers", filename=f"layers-{run_id}")
st.markdown("**What to look for:** each line is one layer. Layer-wise pruning removes the same share from every "
            "hidden layer, so their lines overlap; the output layer is pruned at half the rate and stays "
            "higher. With global pruning, big layers lose far more than small ones.")

mask = inside.mask(root, ro, run_id, trial, level)
info = inspection.first_layer_map(mask, config.arch)
st.markdown(f"### Which inputs the ticket still listens to · {ladder[level]:.3g}% of weights")
input_label = {"image": "pixel", "sequence": "signal", "kernel": "kernel"}[info["kind"]]
presenter.show(charts.first_layer_image(info, input_label=input_label), key="first", filename=f"first-layer-{run_id}")
look = {"image": "bright pixels keep many connections into the network, dark ones few. If the border "
                 "pixels (blank in almost every image) lose their connections first while the centre, where "
                 "the strokes are, stays connected, the mask has found where the information is.",
        "sequence": "each bar is one of the 40 positions of the MNIST-1D signal. Positions the network needs "
                    "keep more connections.",
        "kernel": "each square is one weight position of the first layer's 3×3 filters, per colour channel: "
                  "the share of filters that keep it."}[info["kind"]]
st.markdown(f"**What to look for:** {look}")

st.markdown("### Which starting weights survive")
layer = st.selectbox("Layer", list(labels), format_func=labels.get, key="inside_layer")
theta0, source = inside.theta0(root, ro, run_id, trial)
kept, pruned = inspection.init_split(theta0, mask, layer)
presenter.show(charts.init_histogram(kept, pruned, labels[layer]), key="hist", filename=f"init-{run_id}")
st.markdown("**What to look for:** the starting values θ₀ of the connections the ticket kept (blue) and of those "
            "it pruned (grey). Pruning looked only at the *trained* weights; if the kept ones still mostly "
            "started far from zero, the starting weights had already decided much of the outcome.")
if source != "stored":
    st.caption("θ₀ is not stored with this run; it was rebuilt from the trial's seed (the same values).")

st.markdown("### The mask alone, without any training")
try:
    acc = inside.untrained_accuracy(root, ro, run_id, trial, level)
except DataUnavailable as exc:
    st.warning(f"Cannot load the test set: {exc}", icon=":material/cloud_off:")
else:
    trained = data.aggregate(store, run_id)
    row = trained[(trained.level == level) & (trained.arm == "ticket")]
    chance = 1 / get_dataset_info(config.dataset).num_classes
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Ticket's mask on θ₀", f"{100 * acc['ticket']:.1f}%", border=True,
              help="The ticket's connections with their starting weights, evaluated with no training.")
    m2.metric("Random mask, same size, on θ₀", f"{100 * acc['random']:.1f}%", border=True)
    m3.metric("Dense network on θ₀", f"{100 * acc['dense']:.1f}%", f"chance: {100 * chance:.0f}%", delta_arrow="off",
              delta_color="off", border=True)
    if len(row):
        m4.metric("The ticket after training", f"{100 * float(row.test_acc_at_early_stop.iloc[0]):.1f}%",
                  border=True, help="From the stored results (test accuracy at early stop).")
    st.markdown(f"**What to look for:** an untrained network guesses at about chance level. If the ticket's mask "
                f"alone does clearly better than a random mask of the same size, the mask has already "
                f"learned something about the task (a *supermask*). Test accuracy on {acc['n']:,} test examples.")
