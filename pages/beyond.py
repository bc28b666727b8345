"""Beyond the paper: pruning criteria, tickets at initialisation, structured pruning, stability,
robustness to noise and real-hardware speed, for a chosen run (sections in ui/beyond.py)."""
from __future__ import annotations

import streamlit as st

from lth_core.analysis import stats
from lth_core.beyond_examples import QUESTIONS
from ui import beyond, data, errors, progress, runpick
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Beyond the paper")
st.caption("What follow-up work found about the lottery ticket, tried on a run: which weights to keep, tickets "
           "found without training, structured pruning, stability to SGD noise, robustness to weight noise. "
           "Each chart says what the literature found and whether this run agrees, paired by trial with stated "
           f"confidence; it gives no verdict from fewer than {stats.MIN_TRIALS} trials or from networks still "
           "improving at the end.")

with errors.guard():
    picked = runpick.pick_run(key="beyond_run")
    if picked is None:
        st.stop()
    run_id, store = picked
    config = store.config(run_id)
    st.subheader(runpick.config_label(config))
    if progress.run_state(store, run_id)["state"] != "done":
        st.caption("This run is still computing: the charts show the levels finished so far.")
    summary = data.summary(store, run_id)
    ladder = data.config_ladder(config)
    sections = [s for s in ("criteria", "at_init", "structured", "stability") if beyond.has(config, s)]
    missing = [s for s in ("criteria", "at_init", "structured", "stability") if s not in sections]
    if missing:
        with st.expander(f"This run does not train: {', '.join(QUESTIONS[s].lower() for s in missing)}. "
                         "Open an example that does", icon=":material/explore:", expanded=not sections):
            for s in missing:
                beyond.example_button(s, key=f"beyond_example_{s}")
    if summary.empty:
        st.info("No level has finished yet; the charts appear as soon as the dense network is trained.",
                icon=":material/hourglass_top:")
    else:
        for s in sections:
            if s == "criteria":
                beyond.criteria(summary, ladder, run_id)
            elif s == "at_init":
                beyond.at_init(summary, ladder, run_id)
            elif s == "structured":
                beyond.structured(config, summary, ladder, run_id)
            else:
                beyond.stability(config, store, run_id)
    # --- sections wired from other modules ---------------------------------------------------
    beyond.noise(config, store, run_id)
    beyond.latency()
