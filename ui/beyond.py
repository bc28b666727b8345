"""The "Beyond the paper" page's sections: each draws one question's chart and caption for a run,
picks a second run where the question needs one, and says plainly when a run has no data for it.

Sections: criteria, at_init, structured, stability (from the run's own arms), noise (an
on-demand background analysis) and latency (docs/bench/latency_cpu.json, charts.latency).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from lth_core.charts import beyond as cb
from lth_core.charts import stability as cs
from lth_core.charts.style import format_table
from lth_core.beyond_examples import QUESTIONS, example_run_id, gallery_example, reset_partner
from lth_core.store.gallery import HEADLINE
from lth_core.store.run_store import Store
from ui import data, presenter, runpick, state
from ui.text import plain

LATENCY_JSON = Path(__file__).resolve().parents[1] / "docs" / "bench" / "latency_cpu.json"


LEARN = {  # one plain paragraph per question beyond the paper (the Learn page)
    "criteria": "The paper keeps the weights that are largest after training. Is that the best rule? Other rules "
                "look at how far a weight moved while training, or keep weights that were large both at the "
                "start and at the end. Zhou et al. (2019) found that several rules work about as well, and some "
                "better when the network is very small, as long as they keep the surviving weights' starting "
                "values.",
    "at_init": "Finding a ticket by pruning over and over costs many trainings. Could the connections be chosen "
               "before any training? Methods such as SNIP and SynFlow try, each deciding how many connections every layer "
               "keeps. Frankle et al. (2021) found that their picks do no better when shuffled within each layer or "
               "given fresh random weights: they only learn how many connections each layer should keep, and they "
               "fall short of the real ticket. Their third check keeps the lowest-scored connections instead.",
    "noise": "Add a little random noise to every surviving weight of a trained network and test it again. "
             "Explainers of the paper say winning tickets keep their accuracy under such noise better than other "
             "networks. The paper itself asked something else: add noise to the ticket's starting weights and "
             "train it again. Here you measure the first on a trained run (accuracy against the amount of noise, "
             "for the ticket and its controls); the command line's `analyse noise-init` measures the second.",
    "structured": "Removing single connections leaves every weight matrix the same size, full of zeros, so an "
                  "ordinary processor runs the network no faster. Removing whole neurons makes the matrices "
                  "smaller, which does save time. But Liu et al. (2019) found that such structured tickets do no "
                  "better than the same small network started from fresh random weights.",
    "stability": "Train two copies of a network from the same start, each seeing the examples in a different "
                 "order, and test every network on the straight line between them. If the error stays flat, "
                 "the network is stable. Frankle et al. (2020) found that deep networks become stable only after "
                 "a little training, which is why tickets in deep networks are reset to an early iteration "
                 "(rewinding) rather than to the very start.",
}


def learn_questions() -> None:
    """The Learn page's section: a paragraph per question, each with a button opening its example."""
    for question, text in LEARN.items():
        with st.container(border=True):
            st.markdown(f"**{QUESTIONS[question]}.** {text}")
            run_id = gallery_example(question, state.gallery())
            if run_id is None:
                st.caption("The example run for this question is not in the gallery yet.")
            elif st.button("See it on the Beyond the paper page", key=f"learn_beyond_{question}",
                           icon=":material/science:"):
                st.switch_page("pages/beyond.py", query_params={"run": run_id})


def has(config, section: str) -> bool:
    """Whether a run's config trains what a section draws."""
    return {"criteria": bool(config.criteria), "at_init": bool(config.at_init),
            "structured": config.pruning.granularity != "unstructured",
            "stability": bool(config.stability_levels)}.get(section, False)


def example_button(question: str, key: str) -> None:
    """A button opening the question's gallery example here, or a note that it is not there yet."""
    run_id = gallery_example(question, state.gallery())
    if run_id is None:
        st.caption(f"The gallery example for “{QUESTIONS[question].lower()}” is not in the gallery yet.")
    elif st.button(f"Open the gallery example: {QUESTIONS[question].lower()}", key=key,
                   icon=":material/arrow_forward:"):
        st.query_params["run"] = run_id
        st.session_state.pop("beyond_run", None)
        st.rerun()


@st.cache_data(show_spinner=False, max_entries=32)
def _stability(root: str, readonly: bool, run_id: str, sig: tuple) -> pd.DataFrame:
    return cs.stability_frame(Store(root, readonly=readonly), run_id)


def stability_frame(store: Store, run_id: str) -> pd.DataFrame:
    """charts_stability.stability_frame, cached by the run folder's signature (ui.data)."""
    return _stability(str(store.root), store.readonly, run_id, data.signature(store, run_id))


def _partners(config, run_id: str, want) -> list[str]:
    """Other runs of the same dataset and network whose config satisfies `want(config)`."""
    out = []
    for row in runpick.rows():
        rid = row["run_id"]
        if rid == run_id or row.get("dataset") != config.dataset or row.get("arch") != config.arch:
            continue
        store = state.find(rid)
        try:
            if store is not None and want(store.config(rid)):
                out.append(rid)
        except (OSError, ValueError):
            continue  # a damaged config: not offered
    return out


def pick_partner(label: str, candidates: list[str], preferred: str | None, key: str) -> str | None:
    """A select box of candidate runs with 'none' (default: `preferred` when it is among them,
    else the first candidate)."""
    if not candidates:
        return None
    labels = {r["run_id"]: runpick.row_label(r) for r in runpick.rows()}
    options = [None, *candidates]
    index = options.index(preferred) if preferred in candidates else 1
    return st.selectbox(label, options, index=index, key=key,
                        format_func=lambda r: "none" if r is None else labels.get(r, r))


def caption(text: str, table: pd.DataFrame | None = None) -> None:
    """A computed "what to look for" caption, escaped (ui.text.plain), its opening words in bold; then
    its table of comparisons (one row each, numbers formatted by charts.style.format_table)."""
    st.markdown("**What to look for:** " + plain(text.removeprefix("What to look for: "), limit=6000))
    if table is not None and len(table):
        st.dataframe(format_table(table), hide_index=True, width="stretch",
                     column_config={"Verdict": st.column_config.TextColumn("Verdict", width="large")})


def criteria(summary: pd.DataFrame, ladder, run_id: str) -> None:
    st.markdown("### Which weights to keep: pruning criteria")
    presenter.show(cb.criteria_figure(summary, all_percents=ladder), key="beyond_criteria",
                   filename=f"criteria-{run_id}")
    caption(cb.criteria_caption(summary), cb.criteria_table(summary))


def at_init(summary: pd.DataFrame, ladder, run_id: str) -> None:
    st.markdown("### Tickets found at initialisation, and what finding them costs")
    presenter.show(cb.at_init_figure(summary, all_percents=ladder), key="beyond_at_init",
                   filename=f"at-init-{run_id}")
    d = summary[(summary.level > 0) & ~summary.shared_dense]
    pct = d.groupby("level").percent_remaining.mean()
    if len(pct):
        level = st.select_slider("Size for the cost chart", list(pct.index), value=int(pct.index.max()),
                                 format_func=lambda lv: f"{pct[lv]:.3g}% remaining", key="beyond_cost_level")
        presenter.show(cb.cost_figure(summary, level), key="beyond_cost", filename=f"mask-cost-{run_id}")
    caption(cb.at_init_caption(summary), cb.at_init_table(summary))


def structured(config, summary: pd.DataFrame, ladder, run_id: str) -> None:
    st.markdown(f"### Structured pruning: whole {config.pruning.granularity} removed")
    candidates = _partners(config, run_id, lambda c: c.pruning.granularity == "unstructured")
    # default: the criteria example (same network, budget and ladder, unstructured), else the headline run
    preferred = next((r for r in (example_run_id("criteria"), HEADLINE) if r in candidates), None)
    other_id = pick_partner("Overlay an unstructured run of the same network", candidates, preferred,
                            key="beyond_struct_other")
    other = None
    if other_id is not None and (other_store := state.find(other_id)) is not None:
        other = data.summary(other_store, other_id)
    presenter.show(cs.structured_figure(summary, config.pruning.granularity, other, all_percents=None),
                   key="beyond_structured", filename=f"structured-{run_id}")
    caption(cs.structured_caption(summary, other), cs.structured_table(summary, other))


def stability(config, store: Store, run_id: str) -> None:
    st.markdown("### Stability to SGD noise: reset vs rewinding")
    mine = stability_frame(store, run_id)
    candidates = _partners(config, run_id, lambda c: bool(c.stability_levels)
                           and c.pruning.granularity == config.pruning.granularity
                           and (c.reset, c.rewind_iteration) != (config.reset, config.rewind_iteration))
    preferred = reset_partner("stability") if config.reset == "rewind" else gallery_example("stability",
                                                                                            state.gallery())
    other_id = pick_partner("Compare with a run that resets differently", candidates, preferred,
                            key="beyond_stab_other")
    runs = [(cs.stability_label(config), mine)]
    if other_id is not None and (other_store := state.find(other_id)) is not None:
        runs.append((cs.stability_label(other_store.config(other_id)), stability_frame(other_store, other_id)))
    if mine.empty:
        st.info("No stability measurement of this run has finished yet.", icon=":material/hourglass_top:")
        return
    presenter.show(cs.stability_figure(runs), key="beyond_stability", filename=f"stability-{run_id}")
    pcts = sorted(set(mine.percent_remaining.round(3)), reverse=True)
    pct = st.select_slider("Size for the error along the line", pcts, value=pcts[-1],
                           format_func=lambda p: f"{p:.3g}% remaining", key="beyond_interp_pct")
    presenter.show(cs.interpolation_figure(runs, pct), key="beyond_interp", filename=f"interpolation-{run_id}")
    caption(cs.stability_caption(runs, config.arch), cs.stability_table(runs, config.arch))


def latency() -> None:
    """What structured pruning buys on real hardware: the measured chart, when measured here."""
    st.markdown("### What structured pruning buys on real hardware")
    try:
        records = json.loads(LATENCY_JSON.read_text())["records"]
        from lth_core.charts import latency as cl
        frame = cl.latency_frame(records)
    except (OSError, ValueError, KeyError, ImportError):
        st.caption("Not measured on this machine yet: `python scripts/bench_latency.py` writes "
                   "docs/bench/latency_cpu.json, and the chart appears here.")
        return
    keys = sorted({(a, int(b)) for a, b in zip(frame.arch, frame.batch)})
    arch, batch = keys[0] if len(keys) == 1 else st.selectbox(
        "Network and batch", keys, format_func=lambda k: f"{runpick.arch_short(k[0])}, batch {k[1]}",
        key="beyond_latency_key")
    presenter.show(cl.latency_figure(records, arch, batch), key="beyond_latency", filename="latency")
    caption(cl.latency_caption(records, arch, batch), cl.latency_table(records, arch, batch))


def _noise_label(record: dict) -> str:
    """A stored noise analysis in words: its levels, networks, largest scale and draws."""
    p = record.get("params", {})
    return (f"levels {', '.join(map(str, p.get('levels', [])))} · {', '.join(cb.short(a) for a in p.get('arms', []))}"
            f" · noise up to {max(p.get('scales', [0])):g} · {p.get('draws', '?')} draws")


def noise(config, store: Store, run_id: str) -> None:
    """Robustness to weight noise: the analyses stored with the run (a gallery run's too), and for a
    run in the store, a button that starts another in the background, its state while it runs."""
    st.markdown("### Robustness to weight noise")
    try:
        from lth_core.analysis import analyses
        from lth_core.service import analysis_jobs
        from lth_core.charts import noise as charts_noise
    except ImportError:
        st.caption("This analysis is not installed on this server yet.")
        return
    stored = {k: r for k, r in analyses.noise_records(store, run_id).items() if r.get("complete")}
    if stored:
        keys = list(stored)
        key = keys[0] if len(keys) == 1 else st.selectbox(
            "Stored analysis", keys, key="beyond_noise_stored", format_func=lambda k: _noise_label(stored[k]))
        frame = analyses.noise_frame(stored[key])
        presenter.show_by_width(charts_noise.noise_figure(frame), charts_noise.noise_figure(frame, columns=1),
                                key="beyond_noise", filename=f"noise-{run_id}")
        caption(charts_noise.noise_caption(frame), charts_noise.noise_table(frame))
    if store.readonly:
        if not stored:
            st.caption("This run is in the read-only gallery and has no noise analysis stored with it; run the "
                       "same experiment on the **Run** page to analyse it.")
        return
    with st.expander("Compute it for other levels or networks" if stored else "Compute it", expanded=not stored,
                     icon=":material/tune:"):
        _noise_controls(config, store, run_id, analyses, analysis_jobs)


def _noise_controls(config, store: Store, run_id: str, analyses, analysis_jobs) -> None:
    """Levels and networks to analyse, and the state of that choice: done, running, or a start button."""
    levels = st.multiselect("Levels", list(range(config.levels)), default=analyses.default_levels(config.levels),
                            key="beyond_noise_levels",
                            format_func=lambda lv: "dense" if lv == 0 else f"level {lv}") or [0]
    arms = [a for a in analyses.run_arms(config) if a != "ticket_copy"]
    arms = st.multiselect("Networks", arms, default=["ticket", *config.controls], key="beyond_noise_arms",
                          format_func=lambda a: cb.short(a)) or ["ticket"]
    try:
        params = analyses.noise_params(config, levels=levels, arms=arms)
        job = analysis_jobs.noise_job_state(store, run_id, params)
    except analyses.AnalysisError as exc:
        st.info(plain(exc), icon=":material/info:")
        return
    if job["state"] == "done":
        st.caption("This choice is computed and stored: it is among the stored analyses above.")
        return
    if job["state"] in ("queued", "running"):
        _noise_progress(store, run_id, params)
        return
    if job["message"]:
        st.caption(plain(job["message"]))
    n = analyses.evaluations(config, params)
    if st.button(f"Compute it in the background ({n:,} test-set evaluations, no training)", key="beyond_noise_go",
                 icon=":material/play_arrow:"):
        try:
            state.manager().start_noise(store, run_id, levels=levels, arms=arms)
        except (analyses.AnalysisError, analysis_jobs.AnalysisBusy) as exc:
            st.error(plain(exc), icon=":material/error:")
            return
        st.rerun()


@st.fragment(run_every=2)
def _noise_progress(store: Store, run_id: str, params: dict) -> None:
    from lth_core.service import analysis_jobs
    job = analysis_jobs.noise_job_state(store, run_id, params)
    if job["state"] in ("done", "failed"):
        st.rerun()  # the whole section redraws: the chart, or the button to start again
    frac = job.get("fraction") or 0.0
    st.progress(frac, text=f"Noise analysis {job['state']}: {100 * frac:.0f}% (runs in the background; "
                           "leaving the page does not stop it)")
