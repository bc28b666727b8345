"""Atlas: scrub through real experiments computed in advance (lth_core/atlas.py). Nothing trains here."""
from __future__ import annotations

import time

import streamlit as st

from lth_core import atlas
from lth_core.charts import marks
from lth_core.charts.style import format_table
from ui import atlas as cached
from ui import data, presenter, state, terms
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Atlas: scrub through pruning")
gallery = state.gallery()
present = cached.present(gallery)
if not present:
    st.info("The atlas is not installed with this copy of the app (its runs belong in the gallery folder; "
            "`python scripts/make_atlas.py --store <folder>` computes them).", icon=":material/info:")
    st.stop()

started = time.perf_counter()
st.markdown(
    "Every chart on this page comes from experiments **computed in advance**: moving a slider only picks which "
    "one to show, so nothing trains and the page answers at once. Pick a " + terms.define("prune rate") +
    " on the left and a network size on the right.", unsafe_allow_html=True)
rates = sorted(present)
left, right = st.columns([1, 2])
with left:
    rate = st.select_slider("Pruning rate per round", rates, value=0.5 if 0.5 in rates else rates[0],
                            format_func=lambda r: f"{r:.0%}", key="atlas_rate")
run_id, root = present[rate], str(gallery.root)
config = gallery.config(run_id)
t = cached.tables(root, run_id)
ladder = t["ladder"]
with right:
    level = st.select_slider("Network size (weights remaining)", list(range(len(ladder))),
                             value=min(st.session_state.get("atlas_level", len(ladder) // 2), len(ladder) - 1),
                             format_func=lambda lv: f"{ladder[lv]:.3g}%", key="atlas_level")
st.caption(f"Computed on {data.computed_on(gallery, run_id)}: {atlas.SETTINGS}; {config.levels - 1} rounds at {rate:.0%} per round, down to "
           f"{ladder[-1]:.3g}% of the weights. Gallery run {run_id}. Bands: min to max over the {config.trials} "
           "trials; verdicts: the app's shared statistics, Holm-corrected over each curve's levels.")

st.markdown(f"### At {ladder[level]:.3g}% of the weights" + (" (the dense network)" if level == 0 else
                                                            f" (after {level} round{'s' * (level > 1)})"))
if level == 0:
    st.caption("The full network: every comparison starts at a smaller size. Move the size slider right.")
else:
    st.dataframe(format_table(t["verdicts"].get(level)), hide_index=True, width="stretch")

acc, es = cached.curve_figures(root, run_id)
curves, mask = cached.level_figures(root, run_id, level)
acc_col, es_col = st.columns(2)
with acc_col:
    presenter.show(marks.mark_level(acc, ladder[level]), key="atlas_acc", filename=f"atlas-accuracy-{rate:g}")
    st.markdown("**What to look for:** the grey band is the size shown above. The blue ticket stays near the "
                "dotted dense line as the network shrinks, "
                "while the " + terms.define("re-init") + " and " + terms.define("random pruning") + " fall away"
                + (f"; the dashed line marks where re-init falls below dense for good ({t['parting']:.3g}%)."
                   if t["parting"] else "."), unsafe_allow_html=True)
with es_col:
    presenter.show(marks.mark_level(es, ladder[level]), key="atlas_es", filename=f"atlas-early-stop-{rate:g}")
    st.markdown("**What to look for:** lower is faster. The ticket's " + terms.define("early stop") +
                " comes at or before the dense network's; a hollow marker is " + terms.define("censored") + ".",
                unsafe_allow_html=True)
curves_col, mask_col = st.columns(2)
with curves_col:
    presenter.show(curves, key="atlas_curves", filename=f"atlas-curves-{rate:g}-{level}")
    st.markdown("**What to look for:** validation loss while each network trains at this size, the mean of the "
                "trials with their spread; each marker is one network's lowest point, its early stop.")
with mask_col:
    if mask is not None:
        presenter.show(mask, key="atlas_mask", filename=f"atlas-mask-{rate:g}-{level}")
        st.markdown("**What to look for:** how many of the 300 connections from each of the 40 input positions "
                    "survive. Pruning by magnitude keeps the inputs the network uses most.")
st.caption(f"Drawn in {time.perf_counter() - started:.2f} s on the server for {rate:.0%} per round at "
           f"{ladder[level]:.3g}% of the weights, from stored results only.")
