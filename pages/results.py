"""Results of one run: the paper's charts, each with what to look for, the numbers, and downloads."""
from __future__ import annotations


import streamlit as st

from lth_core.charts import marks
from lth_core.charts import results as charts

from lth_core.analysis import results, spread, stats
from lth_core.data.datasets import TRAIN_EVAL_EXAMPLES
from ui import data, earlier, presenter, progress, runpick, takeaways, terms
from ui import predict
from ui.boot import ensure_shell

ensure_shell()  # a first visit straight to this page must still get app.py's shell

st.title("Results")
picked = runpick.pick_run(key="results_run")
if picked is None:
    st.stop()
run_id, store = picked
config = store.config(run_id)
ladder = data.config_ladder(config)
st.subheader(runpick.config_label(config))

info = progress.run_state(store, run_id)
if info["state"] != "done":
    progress.panel(run_id, store, chart=False, key="results_live")
summary = data.summary(store, run_id)
if summary.empty:
    st.info("No level has finished yet; the charts appear as soon as the dense network is trained.",
            icon=":material/hourglass_top:")
    st.stop()
own_summary, own_config = summary, config  # this run's own, for its downloads
summary, curves, config = earlier.offer(config, summary, data.curves(store, run_id))  # the demo: + earlier trials
agg = results.aggregate(summary)
finished = data.levels_finished(summary, config)

arms = list(config.arms)
if len(arms) > 1 and not presenter.active():
    arms = st.pills("Show", list(config.arms), selection_mode="multi", default=list(config.arms), key="arms",
                    format_func=lambda a: charts.ARM_NAMES[a]) or ["ticket"]

if not predict.panel(run_id, config, ladder, summary):  # guess=required: no number before a guess
    st.stop()
takeaways.metrics(summary, config)
takeaways.budget_warning(summary, config)
for note in results.measurement_notes(summary):
    st.info(note, icon=":material/history:")

st.markdown("### 1 · Accuracy as the network shrinks")
fig_acc = charts.accuracy_vs_sparsity(agg, arms=arms, all_percents=ladder)
# where the shared statistics say re-init falls below dense for good (None: they do not say so, no mark)
parting = spread.compare_to_dense(summary, "reinit")["falls_below_at"] if "reinit" in arms else None
marks.mark_parting(fig_acc, parting)
fig_acc = predict.overlay(fig_acc, run_id)
presenter.show(fig_acc, key="acc", filename=f"accuracy-vs-sparsity-{run_id}")
st.caption(f"{finished} of {config.levels} levels finished · "
           f"{config.trials} trial{'s' * (config.trials > 1)}" + (" (line: mean, band: min to max)"
                                                                    if config.trials > 1 else ""))
st.markdown("**What to look for:** start at 100% on the left and move right as the network gets smaller. "
            "The blue ticket line staying at (or above) the dotted dense-network line means the small network "
            "learns as well as the big one. A control line falling below the ticket shows what the ticket "
            f"needs: its own starting weights, {terms.define('θ₀')} ({terms.define('re-init')}), or its own "
            f"connections ({terms.define('random pruning')}). "
            + ("A dashed orange line marks where re-init falls below dense for good. " if parting else "") +
            f"The bands show the spread over trials; the sentence below decides, paired by trial with "
            f"{100 * stats.CONFIDENCE:.0f}% confidence, and gives no verdict with fewer than {stats.MIN_TRIALS} trials.",
            unsafe_allow_html=True)
takeaways.dense_sentences(summary, config)
predict.reveal(run_id, config, ladder, summary)

st.markdown("### 2 · How fast each network learns")
fig_es = charts.early_stop_vs_sparsity(agg, arms=arms, all_percents=ladder, iterations=config.training.iterations)
presenter.show(fig_es, key="es", filename=f"early-stop-{run_id}")
st.markdown(f"**What to look for:** the {terms.define('early stop', 'iteration')} where each network was best "
            "on held-out data (lowest validation loss). Lower means it learned faster, *but only for filled markers*. "
            f"A hollow marker ({terms.define('censored')}), "
            "or a point in the grey band (the last 10% of training), means most networks were still improving "
            "when training ended: the true iteration is later, and the point shows the training budget, not "
            "the speed. In the paper, tickets learn *faster* than the dense network until they get very small "
            "(38% earlier at 21.1% remaining), while randomly re-initialised copies slow down.", unsafe_allow_html=True)
takeaways.speed_sentence(summary)

st.markdown("### 3 · Learning curves: ticket vs random re-init")
available = sorted(set(curves.level))
default = [lv for lv in (0, available[len(available) // 2], available[-1]) if lv in available]
default = list(dict.fromkeys(default))
chosen = default if presenter.active() else st.multiselect(
    "Levels", available, default=default, key="curve_levels",
    format_func=lambda lv: f"{ladder[lv]:.3g}% remaining" + (" (dense)" if lv == 0 else f" (level {lv})"))
curve_arms = [a for a in arms if a != "ticket"] or ["reinit"]
shown = chosen or default


def panels(metric: str, key: str, name: str) -> None:
    """One figure per level, side by side on a wide screen and one under another on a phone (Streamlit
    stacks columns there); the legend once, on the first level that has every network."""
    with_legend = next((lv for lv in shown if lv > 0), shown[0])
    for col, lv in zip(st.columns(len(shown)), shown):
        with col:
            presenter.show(charts.learning_curves(curves, [lv], arms=["ticket", *curve_arms], metric=metric,
                                                  iterations=config.training.iterations, legend=lv == with_legend),
                           key=f"{key}_{lv}", filename=f"{name}-{run_id}-level{lv}")


panels("test_acc", "curves", "learning-curves")
st.markdown("**What to look for:** test accuracy while each network trains. The grey dotted line is the full "
            "network. A winning ticket (blue) climbs at least as fast and as high; the same connections with "
            "fresh random weights (orange, dashed) climb slower and level off lower, most clearly at small sizes.")
panels("val_loss", "val_loss", "validation-loss")
st.markdown("**What to look for:** the validation loss behind chart 2. Each marker is one network's lowest "
            "point: its early-stopping iteration, where its test accuracy is read. A marker in the grey band "
            "(the last 10% of training) means the loss was still falling when training ended: that network is "
            "censored, and its early stop says more about the budget than about its speed.")

st.markdown("### 4 · Training vs test accuracy")
for k, col in enumerate(st.columns([3, 2])):  # side by side on a wide screen, one under another on a phone
    with col:
        presenter.show(charts.generalisation_gap(agg, arms=arms, all_percents=ladder, panel=k), key=f"gap_{k}",
                       filename=f"generalisation-{run_id}-{k}")
measured = bool(summary.train_measured.all()) if len(summary) else True
st.markdown("**What to look for:** dotted lines are accuracy on the training examples, solid lines on unseen "
            "test examples, both at the early-stopping iteration. The right panel is the gap between them: how "
            "much better the network does on what it has seen. A smaller gap means it generalises better; the "
            "paper finds tickets gain test accuracy while training accuracy stays the same (the report's claim (f) "
            "reads the same gap at the end of training, and only when the networks reach the paper's near-100% "
            "training accuracy). " + (
                f"Training accuracy is measured like test accuracy (dropout off) on a fixed set of "
                f"{TRAIN_EVAL_EXAMPLES:,} training examples." if measured else
                "In this run training accuracy is the running accuracy of recent minibatches (the run predates "
                "measured training accuracy), so read the gap as indicative only."))

if not presenter.active():
    st.markdown("### 5 · The numbers")
    takeaways.table(summary)
    st.caption("Means over trials; test accuracy is read at the early-stopping iteration (minimum "
               "validation loss), as in the paper. Every number comes from the run's stored metrics"
               + (" and the earlier trials' (the downloads below hold this run's own)." if len(own_summary) != len(summary)
                  else "."))
    takeaways.downloads(run_id, own_config, own_summary, {
        "Accuracy chart": ("accuracy-vs-sparsity", fig_acc), "Early-stop chart": ("early-stop", fig_es),
        "Learning curves": ("learning-curves", charts.learning_curves(curves, shown, arms=["ticket", *curve_arms])),
        "Train vs test chart": ("generalisation", charts.generalisation_gap(agg, arms=arms, all_percents=ladder))})

if not presenter.active():  # the whole run as one file that opens offline: lth_core.report.export
    from lth_core.report.export import report_html
    st.download_button("Report of this run (HTML: charts, numbers, claims; works offline)",
                       lambda: report_html(store, run_id), f"report-{run_id}.html", "text/html", key="dl_report",
                       on_click="ignore", icon=":material/description:")
