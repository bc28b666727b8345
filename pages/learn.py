"""Learn (home page): the hypothesis and the four IMP steps beside live pictures, and one-click presets."""
from __future__ import annotations


import streamlit as st

from lth_core.charts import inside as charts
from lth_core.charts.results import ladder_chart
from lth_core.data.datasets import availability
from lth_core.store.gallery import HEADLINE, SHORTENED
from lth_core.service.admission import LimitReached
from lth_core.presets import PRESETS, SUMMARIES, get_preset
from ui import beyond, data, errors, params, presenter, state, terms
from ui.runpick import config_label
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Lottery Ticket Explorer")
st.markdown("#### Inside a big neural network hides a small one that learns just as well, "
            "if it starts from the right weights. Find it yourself.")

if st.button("Try it: quick demo (trains live, in seconds)", type="primary", key="demo", icon=":material/play_arrow:"):
    quick = get_preset("quick")
    try:
        state.manager().submit(quick, owner=state.owner())
    except LimitReached as exc:
        errors.show(f"Cannot start the demo: {exc}")
    else:
        st.switch_page("pages/run.py", query_params=params.params_from_values(params.values_from_config(quick)))
if st.button("Or scrub through the atlas: 5 pruning rates × 5 trials computed in advance, answers at once",
             key="atlas", icon=":material/tune:"):
    st.switch_page("pages/atlas.py")
st.caption("Trains a small network on MNIST-1D (a built-in, one-dimensional cousin of handwritten digits), "
           "removes half of its connections four times, and compares the pruned network with a copy that "
           "starts from fresh random weights. You will watch the chart fill in as it trains. Its training "
           "budget is long enough for the dense network's validation loss to bottom out before the end.")
if state.gallery() is not None and state.gallery().has_run(HEADLINE):
    full = state.gallery().config(HEADLINE)
    if st.button(f"See the finished paper experiment: LeNet-300-100 on Fashion-MNIST, {full.trials} trials, "
                 f"{full.training.iterations:,} iterations per round (opens at once)",
                 key="headline", icon=":material/insights:"):
        st.switch_page("pages/results.py", query_params={"run": HEADLINE})
    if state.gallery().has_run(SHORTENED):
        short = state.gallery().config(SHORTENED)
        if st.button(f"The same network with a shortened budget ({short.training.iterations:,} iterations "
                     "per round): what a budget too short hides", key="shortened", icon=":material/timer:"):
            st.switch_page("pages/results.py", query_params={"run": SHORTENED})
        st.caption(f"With {short.training.iterations:,} iterations most networks are still improving when "
                   "training stops, so their early-stopping iterations measure the budget, not how fast they "
                   "learn; the full-length run gives them room. Compare the two early-stopping charts.")
st.divider()
st.header("The hypothesis")
st.info("A randomly initialised dense network contains a subnetwork that, **initialised the same way** and "
        "trained in isolation, matches the test accuracy of the original network after at most the same "
        "number of iterations. Such a subnetwork is a **winning ticket**.  \n"
        "— Frankle & Carbin, *The Lottery Ticket Hypothesis*, ICLR 2019", icon=":material/confirmation_number:")

st.header("How to find a winning ticket")
steps, picture = st.columns([1, 1.6], gap="large")
with picture:
    rate = st.select_slider("Prune this share of the hidden connections", [0.25, 0.5, 0.75], value=0.5,
                            format_func=lambda r: f"{r:.0%}", key="toy_rate")
with steps:
    st.markdown(
        "**1 · Start at random.** Give every connection a random weight and *write these starting "
        f"weights down* ({terms.define('θ₀')}).\n\n"
        "**2 · Train.** Let the network learn the task as usual.\n\n"
        "**3 · Prune.** Remove the connections whose trained weights are smallest (closest to zero): "
        f"here {rate:.0%} of them (the paper prunes 10-20% per round). They mattered least.\n\n"
        "**4 · Rewind.** Put the surviving connections back to their *starting* weights θ₀, and go back "
        "to step 2.\n\n"
        "Each round keeps a share of what survived, so the network shrinks geometrically: "
        "after *n* rounds of *p*, (1 − p)ⁿ of it remains.", unsafe_allow_html=True)
with picture:
    toy = data.toy(0, rate)
    presenter.show(charts.network_drawing(toy), key="toy", filename="toy-network")
    st.caption(f"A real 4-6-3 network (seed 0) on a toy task with three classes. Blue: positive weights, red: "
               f"negative, thicker: larger. ① its random start, ② after training, with the smallest {rate:.0%} "
               f"(dotted) marked for removal (the output layer loses half as many, as in the paper), ③ the "
               f"ticket: the survivors back at their starting values. Trained on the toy task, the full "
               f"network reaches {toy['dense_acc']:.0%} accuracy and the ticket {toy['ticket_acc']:.0%}.")

st.header("How fast the network shrinks")
lc, rc = st.columns([1, 2], gap="large")
with lc:
    ladder_preset = st.selectbox("Experiment", list(PRESETS), index=list(PRESETS).index("lenet-mnist"),
                                 key="ladder_preset", format_func=lambda n: f"{n}: {PRESETS[n][0]}")
    c = get_preset(ladder_preset)
    st.markdown(f"{c.pruning.rounds} rounds at {100 * c.pruning.rate:.3g}% per round"
                + (f" ({100 * c.pruning.conv_rate:.3g}% in conv layers)" if c.pruning.conv_rate != c.pruning.rate
                   else "") + ", the output layer at "
                f"{100 * c.pruning.output_rate:.3g}%. Known before anything is trained.")
    st.caption("For LeNet-300-100 these are the paper's own levels: 100, 80.0, 64.1, 51.3, 41.1 … 3.6% "
               "after 15 rounds.")
with rc:
    presenter.show(ladder_chart(data.config_ladder(c)), key="ladder",
                   filename="percent-remaining")

st.header("Is it the ticket, or just any small network?")
st.markdown(
    "To tell, every experiment here trains **controls** beside the ticket, at the same sizes:\n"
    f"- **Random {terms.define('re-init')}**: the ticket's exact connections, but fresh random starting weights. "
    "If this does worse, *the starting weights matter*.\n"
    "- **Random pruning**: the same number of connections per layer, chosen at random, original weights. "
    "If this does worse, *which connections survive matters*.\n"
    "- **One-shot pruning**: prune the trained dense network once, straight to each size. "
    "If this does worse, *pruning a little at a time helps*.\n\n"
    "In the paper, winning tickets keep the dense network's accuracy down to a few percent of its weights, "
    "learn faster, and beat both random controls clearly.", unsafe_allow_html=True)

st.header("Beyond the paper: what came next")
st.caption("The paper ends with open questions. Follow-up work answered many of them; each example below "
           "runs one of these questions beside the original, with the literature's answer and this run's.")
beyond.learn_questions()

st.header("Open an experiment")
st.caption("Each button fills in the Run page; nothing trains until you press Start there.")
cols = st.columns(3)
for i, (name, (desc, cfg)) in enumerate(PRESETS.items()):
    with cols[i % 3].container(border=True):
        st.markdown(f"**{name}**")
        st.caption(SUMMARIES[name])  # in plain words; the settings behind Details
        with st.expander("Details"):
            st.caption(desc)
            st.caption(f"{config_label(cfg)} · {cfg.network_iterations():,} network-iterations · "
                       f"data: {availability(cfg.dataset)}")
        if st.button("Open on the Run page", key=f"open_{name}", icon=":material/arrow_forward:"):
            st.switch_page("pages/run.py", query_params={"preset": name})

with st.expander("Words used in this app", icon=":material/menu_book:"):
    st.markdown(
        "- **Weights remaining (%)**: the share of connections still in the network (biases are not counted).\n"
        "- **Level**: one size of the network; level 0 is the dense network, each pruning round adds one.\n"
        "- **Early stopping**: the iteration where the validation loss is lowest; accuracy is read there.\n"
        "- **Trial**: a repetition with another random seed; charts show the mean and the min–max range.\n"
        "- **Layer-wise / global pruning**: the same share from every layer, or one threshold for all.\n"
        "- **θ₀ / rewinding**: the starting weights; rewinding resets to the weights at an early iteration k "
        "instead (used for deep networks).")
