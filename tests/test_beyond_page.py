"""Beyond the paper, shown: the chart builders on tiny real runs, captions that say only what the
trials' spread supports (checked both ways on constructed frames), the gallery examples' lookup,
and the Beyond page rendered headless for runs with and without the new arms."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from support.configs import tiny_config
from lth_core import beyond_examples
from lth_core.execution import driver
from lth_core.analysis import results
from lth_core.charts import beyond as cb
from lth_core.charts import latency as cl
from lth_core.charts import stability as cs
from lth_core.charts.style import format_table
from lth_core.charts.style import ARM_COLORS, ARM_NAMES, CRITERIA_ARMS
from lth_core.arms import AT_INIT, CHECKS
from lth_core.presets import PRESETS
from lth_core.store.run_store import Store
from support.apptest import APP, assert_clean, shutdown_manager, texts
from support.runs import latency_records

BEYOND = dict(criteria=("magnitude_increase", "movement", "large_init_large_final"), at_init=AT_INIT,
              at_init_checks=CHECKS, stability_levels=(0, 2), controls=("reinit", "random"), trials=2)
STRUCTURED = dict(granularity="neurons", rate=0.3, reset="rewind", rewind_iteration=5, stability_levels=(0, 2),
                  controls=("reinit", "random"), trials=2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir, mnist1d):
    """One store with three tiny runs: every new arm (reset to theta_0), a structured rewinding run,
    and a plain paper run; {name: run id} and the store."""
    store = Store(tmp_path_factory.mktemp("beyond-store"))
    ids = {name: driver.run(tiny_config(**changes), store, data_dir=data_dir, processes=1)
           for name, changes in (("beyond", BEYOND), ("structured", STRUCTURED), ("paper", {}))}
    return store, ids


def summary(runs, name):
    store, ids = runs
    return results.summary_frame(store, ids[name])


def lines(fig):
    return {t.name: t for t in fig.data if t.mode == "lines+markers"}


# --- the charts on real runs ------------------------------------------------------------------

def test_criteria_chart_draws_each_criterion_ticket_with_its_references(runs):
    """One line per criterion's ticket plus the magnitude ticket and re-init, in their own colours."""
    fig = cb.criteria_figure(summary(runs, "beyond"))
    drawn = lines(fig)
    assert set(drawn) == {ARM_NAMES[a] for a in ("ticket", "reinit", *CRITERIA_ARMS)}
    for arm in CRITERIA_ARMS:
        assert drawn[ARM_NAMES[arm]].line.color == ARM_COLORS[arm]
        assert len(drawn[ARM_NAMES[arm]].x) == 3  # the dense start and both pruned levels
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.range[0] > fig.layout.xaxis.range[1]  # reversed


def test_at_init_chart_has_a_panel_per_method_with_its_checks(runs):
    """Each method's panel holds the method, both checks, and the IMP ticket and re-init."""
    fig = cb.at_init_figure(summary(runs, "beyond"))
    assert [a.text for a in fig.layout.annotations][:3] == [cb.short(m) for m in AT_INIT]
    for i, m in enumerate(AT_INIT, start=1):
        axis = "x" if i == 1 else f"x{i}"
        names = {t.name for t in fig.data if t.mode == "lines+markers" and t.xaxis == axis}
        trained = set(summary(runs, "beyond").arm)
        wanted = [a for a in ("ticket", "reinit", m, f"{m}_shuffle", f"{m}_reinit", f"{m}_invert") if a in trained]
        assert names == {ARM_NAMES[a] for a in wanted} and len(wanted) >= 5


@pytest.mark.parametrize("arm, level, cost", [("ticket", 3, 3), ("reinit", 3, 3), ("imp_movement", 2, 2),
                                              ("oneshot", 4, 1), ("random", 4, 0), ("snip", 4, 0),
                                              ("synflow_shuffle", 2, 0), ("ticket", 0, 0)])
def test_mask_cost_counts_trainings_spent_to_find_the_mask(arm, level, cost):
    """IMP at level k costs k trainings, one-shot one, random and at-init masks none."""
    assert cb.mask_cost(arm, level) == cost


def test_cost_chart_puts_at_init_masks_at_zero_and_the_ticket_at_its_level(runs):
    """At level 2: every at-init mask and check at 0 trainings, the ticket and its re-init at 2."""
    f = cb.cost_frame(summary(runs, "beyond"), 2).set_index("arm")
    assert set(f.loc[[*AT_INIT, *(f"{m}_{c}" for m in AT_INIT for c in CHECKS)], "cost"]) == {0}
    assert f.loc["ticket", "cost"] == f.loc["reinit", "cost"] == 2
    assert (f.trials == 2).all()
    assert len(cb.cost_figure(summary(runs, "beyond"), 2).data) == len(f)


def test_stability_frame_reads_every_stored_record(runs):
    """One row per trial and stability level, barrier a fraction >= 0, an error per alpha."""
    store, ids = runs
    f = cs.stability_frame(store, ids["beyond"])
    assert sorted(zip(f.trial, f.level)) == [(0, 0), (0, 2), (1, 0), (1, 2)]
    assert (f.barrier >= 0).all() and all(len(a) == len(e) for a, e in zip(f.alpha, f.test_error))
    assert f[f.level == 0].percent_remaining.eq(100).all()


def test_stability_charts_one_line_per_run_labelled_by_reset(runs):
    """Reset vs rewind: the labels come from each config, one line per run on both charts."""
    store, ids = runs
    pairs = [(cs.stability_label(store.config(ids[n])), cs.stability_frame(store, ids[n]))
             for n in ("beyond", "structured")]
    assert [p[0] for p in pairs] == ["reset to θ₀", "rewind to iteration 5"]
    assert list(lines(cs.stability_figure(pairs))) == [p[0] for p in pairs]
    assert len(lines(cs.interpolation_figure(pairs, 30.0))) == 2
    assert "reset to θ₀" in cs.stability_caption(pairs)
    assert set(cs.stability_table(pairs).Network) == {p[0] for p in pairs}


def test_structured_chart_overlays_an_unstructured_run(runs):
    """Structured ticket, re-init and random, and the other run's ticket when one is given."""
    s, other = summary(runs, "structured"), summary(runs, "paper")
    assert len(lines(cs.structured_figure(s, "neurons"))) == 3
    names = list(lines(cs.structured_figure(s, "neurons", other, other_label="unstructured")))
    assert "unstructured" in names and "Structured ticket (whole neurons)" in names
    assert any("unstructured ticket" in w for w in cs.structured_table(s, other)["Compared with"])


def test_a_run_without_new_arms_gets_captions_that_say_so(runs):
    """The paper's run has no criteria or at-init arms: the captions say so instead of failing."""
    s = summary(runs, "paper")
    assert "no ticket by another criterion" in cb.criteria_caption(s)
    assert "no mask found at initialisation" in cb.at_init_caption(s)
    assert cb.criteria_table(s).empty and cb.at_init_table(s).empty


CAPTION_MAX = 450  # characters: about three lines of the page's text column


def section_outputs(runs) -> dict:
    """{section: (caption, table)} for the tiny runs, the structured run overlaid on the paper's."""
    store, ids = runs
    b, s, p = summary(runs, "beyond"), summary(runs, "structured"), summary(runs, "paper")
    stab = [(cs.stability_label(store.config(ids[n])), cs.stability_frame(store, ids[n]))
            for n in ("beyond", "structured")]
    arch = store.config(ids["beyond"]).arch
    records = latency_records(5.0)
    return {"criteria": (cb.criteria_caption(b), cb.criteria_table(b)),
            "at_init": (cb.at_init_caption(b), cb.at_init_table(b)),
            "structured": (cs.structured_caption(s, p), cs.structured_table(s, p)),
            "stability": (cs.stability_caption(stab, arch), cs.stability_table(stab, arch)),
            "latency": (cl.latency_caption(records, "lenet300", 256), cl.latency_table(records, "lenet300", 256))}


@pytest.mark.parametrize("section", ["criteria", "at_init", "structured", "stability", "latency"])
def test_each_caption_is_three_lines_and_its_numbers_are_in_its_table(runs, section):
    """The paragraph says what to look for in about three lines; the per-comparison numbers are rows."""
    text, table = section_outputs(runs)[section]
    assert len(text) < CAPTION_MAX, text
    assert len(table) >= 2 and table.Verdict.str.len().gt(0).all()
    assert "points (95% CI" not in text and "n = " not in text  # no per-comparison gap left in the paragraph


def test_criteria_table_has_one_row_per_comparison_with_compares_numbers(runs):
    """Each criterion against the magnitude ticket and re-init at their sparsest shared level: compare()'s
    gap and n; with 2 trials no interval (as gap_text), and every verdict a direction only."""
    s = summary(runs, "beyond")
    want = []
    for arm in CRITERIA_ARMS:
        level = cb.sparsest_common(s, (arm, "ticket"))
        want.append((cb.short(arm), "magnitude ticket", cb.compare(s, level, arm, "ticket")))
        if cb.sparsest_common(s, (arm, "reinit")) == level:
            want.append((cb.short(arm), "random re-init", cb.compare(s, level, arm, "reinit")))
    t = cb.criteria_table(s)
    t = t[t["Compared with"] != "dense network"]  # compare_to_dense's rows, when a criterion holds as good as dense
    assert list(zip(t.Network, t["Compared with"], t.n)) == [(n, o, c["trials"]) for n, o, c in want]
    assert t["Difference (points)"].tolist() == pytest.approx([c["mean"] for _, _, c in want])
    assert t["95% CI from (points)"].isna().all() and all("not a verdict" in v for v in t.Verdict)


def test_at_init_table_has_one_row_per_comparison_with_compares_numbers(runs):
    """Per method: its three checks and the IMP ticket at its sparsest level, then IMP against its re-init."""
    s = summary(runs, "beyond")
    want = []
    for m in AT_INIT:
        level = cb.sparsest_common(s, (m,))
        want += [(cb.short(m), cb.compare(s, level, m, f"{m}_{c}")) for c in CHECKS
                 if cb.sparsest_common(s, (m, f"{m}_{c}")) == level]
        if cb.sparsest_common(s, (m, "ticket")) == level:
            want.append((cb.short(m), cb.compare(s, level, m, "ticket")))
    want.append(("IMP ticket", cb.compare(s, cb.sparsest_common(s, ("ticket", "reinit")), "ticket", "reinit")))
    t = cb.at_init_table(s)
    assert list(t.Network) == [n for n, _ in want] and list(t.n) == [c["trials"] for _, c in want]
    assert t["Difference (points)"].tolist() == pytest.approx([c["mean"] for _, c in want])


# --- captions claim no more than the spread (constructed frames) ------------------------------

def frame(values: dict, dense=(0.90, 0.90, 0.90)) -> pd.DataFrame:
    """A summary frame: values = {arm: [accuracy per trial]} at level 1 (50%), dense at level 0."""
    rows = [dict(trial=t, level=0, arm="ticket", percent_remaining=100.0, shared_dense=False,
                 test_acc_at_early_stop=v) for t, v in enumerate(dense)]
    rows += [dict(trial=t, level=1, arm=a, percent_remaining=50.0, shared_dense=False, test_acc_at_early_stop=v)
             for a, vs in values.items() for t, v in enumerate(vs)]
    return pd.DataFrame(rows)


APART = {"ticket": [0.80, 0.81, 0.82], "imp_movement": [0.86, 0.88, 0.87], "reinit": [0.70, 0.71, 0.72]}
# movement is higher on average, but the paired differences (+1, -1, +2 points) do not separate it
OVERLAP = {"ticket": [0.80, 0.84, 0.88], "imp_movement": [0.81, 0.83, 0.90], "reinit": [0.70, 0.71, 0.72]}


def test_compare_is_a_paired_test():
    """'above' / 'below' only where the paired t-test rejects no difference; noisy pairs are 'within'."""
    assert cb.compare(frame(APART), 1, "imp_movement", "ticket")["verdict"] == "above"
    assert cb.compare(frame(APART), 1, "ticket", "imp_movement")["verdict"] == "below"
    assert cb.compare(frame(OVERLAP), 1, "imp_movement", "ticket")["verdict"] == "within"


@pytest.mark.parametrize("n", [1, 2])
def test_compare_gives_no_verdict_below_three_trials(n):
    """With 1 or 2 trials the gap is only a direction ('single'), however large it is."""
    few = {a: v[:n] for a, v in APART.items()}
    assert cb.compare(frame(few, dense=(0.9,) * n), 1, "imp_movement", "ticket")["verdict"] == "single"


def verdicts(table: pd.DataFrame) -> str:
    return " | ".join(table.Verdict)


def test_criteria_table_says_clearly_only_when_the_test_does():
    """A clear paired difference: 'clearly above'; noisy pairs: 'not told apart', never 'clearly above' it."""
    apart, overlap = cb.criteria_table(frame(APART)), cb.criteria_table(frame(OVERLAP))
    row = apart.iloc[0]
    assert (row.Network, row["Compared with"], row.n) == ("Ticket: movement", "magnitude ticket", 3)
    assert row["Difference (points)"] == pytest.approx(6.0) and row["95% CI from (points)"] > 0
    assert "clearly above it, as Zhou" in row.Verdict and "2 clearly higher" in cb.criteria_caption(frame(APART))
    assert "not told apart from it beyond the spread" in verdicts(overlap) and "as Zhou" not in verdicts(overlap)
    assert overlap.iloc[0]["Difference (points)"] == pytest.approx(0.667, abs=1e-3) and overlap.iloc[0].n == 3
    assert "1 within the spread" in cb.criteria_caption(frame(OVERLAP))


def test_a_single_trial_table_gives_directions_not_verdicts():
    """One trial: no 'clearly', no interval, and each row says a gap from so few trials is a direction."""
    few = frame({a: v[:1] for a, v in APART.items()}, dense=(0.9,))
    table, text = cb.criteria_table(few), cb.criteria_caption(few)
    assert "clearly" not in verdicts(table) + text and "too few trials for a verdict" in text
    assert all("a direction, not a verdict" in v for v in table.Verdict)
    assert "higher than the magnitude ticket" in verdicts(table)
    assert table["95% CI from (points)"].isna().all() and (table.n == 1).all()


def test_at_init_table_checks_both_ways():
    """A method inside its checks' spread survives them; one clearly above fails them."""
    survive = {"ticket": [0.85, 0.86, 0.87], "reinit": [0.70, 0.72, 0.71], "snip": [0.75, 0.78, 0.80],
               "snip_shuffle": [0.76, 0.77, 0.81], "snip_reinit": [0.74, 0.79, 0.80]}
    text = verdicts(cb.at_init_table(frame(survive)))
    assert text.count("it survives the check, as reported") == 2
    assert "cheaper but worse, as reported" in text and "does not survive re-init, as reported" in text
    fail = {**survive, "snip": [0.84, 0.86, 0.87]}
    text = verdicts(cb.at_init_table(frame(fail)))
    assert "fails the check" in text and "survives the check" not in text


def stab(barriers_by_level: dict) -> pd.DataFrame:
    rows = [dict(trial=t, level=lv, percent_remaining=100 * 0.5 ** lv, barrier=b, alpha=[0, 1],
                 test_error=[0.1, 0.1]) for lv, bs in barriers_by_level.items() for t, b in enumerate(bs)]
    return pd.DataFrame(rows)


def test_stability_table_separates_runs_only_when_bands_do():
    """Rewind clearly more stable only when the barrier bands are apart; stable means every trial < 2 points."""
    reset = stab({0: [0.05, 0.06, 0.07], 2: [0.08, 0.09, 0.10]})
    rewind = stab({0: [0.001, 0.002, 0.003], 2: [0.004, 0.005, 0.006]})
    table = cs.stability_table([("reset to θ₀", reset), ("rewind to iteration 5", rewind)])
    assert "rewind to iteration 5 is clearly more stable" in verdicts(table)
    assert {"unstable", "stable"} <= set(table.Verdict)
    assert table.iloc[1]["Barrier (points)"] == pytest.approx(9.0) and table.iloc[1].n == 3  # reset, sparsest
    text = cs.stability_caption([("reset to θ₀", reset), ("rewind to iteration 5", rewind)])
    assert "reset to θ₀ unstable at 25%" in text and "rewind to iteration 5 stable at 25%" in text
    close = stab({0: [0.001, 0.03, 0.05], 2: [0.004, 0.05, 0.09]})
    table = cs.stability_table([("reset to θ₀", close), ("rewind to iteration 5", rewind)])
    assert "within the spread" in verdicts(table) and "clearly" not in verdicts(table)
    assert "borderline" in verdicts(table)


# --- the gallery examples ---------------------------------------------------------------------

@pytest.mark.parametrize("question", list(beyond_examples.QUESTIONS))
def test_every_question_names_an_existing_preset(question):
    """Each Learn-page question maps to a preset, and so to that preset's run id."""
    assert beyond_examples.BEYOND_EXAMPLES[question] in PRESETS
    assert len(beyond_examples.example_run_id(question)) == 16


def test_gallery_example_only_when_the_gallery_holds_it():
    """The button works only when the example's run is in the gallery."""
    class Gallery:
        def __init__(self, ids):
            self.ids = ids

        def has_run(self, run_id):
            return run_id in self.ids
    rid = beyond_examples.example_run_id("criteria")
    assert beyond_examples.gallery_example("criteria", Gallery({rid})) == rid
    assert beyond_examples.gallery_example("criteria", Gallery(set())) is None
    assert beyond_examples.gallery_example("criteria", None) is None


# --- the page ---------------------------------------------------------------------------------

@pytest.fixture
def app_store(runs, monkeypatch, tmp_path):
    """The runs' store as the app's (no gallery), and no latency measurement (tests set their own)."""
    from ui import beyond
    store, ids = runs
    monkeypatch.setattr(beyond, "LATENCY_JSON", tmp_path / "no-latency.json")
    monkeypatch.setenv("LTH_STORE", str(store.root))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    yield ids
    shutdown_manager(store.root)


def open_beyond(run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"run": run_id})
    at.run()
    at.query_params.clear()
    at.query_params.update({"run": run_id})
    return at.switch_page("pages/beyond.py").run()


@pytest.mark.parametrize("name, sections", [("beyond", 3), ("structured", 2), ("paper", 0)])
def test_beyond_page_renders_each_section_the_run_has(app_store, name, sections):
    """No exception, no error box; one computed caption per section with data (criteria, at-init,
    stability / structured, stability), none for the paper's run, which offers the examples."""
    at = open_beyond(app_store[name])
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert [t.value for t in at.title] == ["Beyond the paper"]
    captions = [m.value.replace("\\", "") for m in at.markdown if "**What to look for:**" in m.value]
    assert len(captions) == sections and all(len(c) < CAPTION_MAX + len("**What to look for:** ") for c in captions)
    assert len(at.dataframe) == sections  # each caption's table of comparisons right under it
    assert "Robustness to weight noise" in texts(at)
    assert at.button(key="beyond_noise_go")  # a stored run can start the noise analysis
    if name == "paper":
        assert "not in the gallery yet" in texts(at)


def test_beyond_page_tables_are_the_comparison_functions_tables(app_store, runs):
    """The page draws lth_core's tables: one row per comparison, the same numbers as formatted for
    reading (charts.style.format_table: a missing number is a dash, never 'None')."""
    at = open_beyond(app_store["beyond"])
    s = summary(runs, "beyond")
    for drawn, want in zip(at.dataframe[:2], (cb.criteria_table(s), cb.at_init_table(s))):
        got = drawn.value.reset_index(drop=True)
        assert list(got.columns) == cb.COLUMNS and len(got) == len(want)
        pd.testing.assert_frame_equal(got.astype(str), format_table(want).astype(str))
        assert "None" not in got.to_string()


def test_beyond_page_unknown_run_is_an_error_box(app_store):
    """A run id no store holds: the picker's error box, never a traceback."""
    at = open_beyond("0123456789abcdef")
    assert_clean(at)
    assert at.error and "There is no run" in at.error[0].value


def test_compare_page_offers_the_new_arms_of_the_chosen_runs(app_store):
    """Criteria tickets, at-init masks and their checks can be overlaid on the Compare page."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="compare_runs").set_value([app_store["beyond"], app_store["structured"]]).run()
    assert_clean(at)
    offered = {o.content for o in at.get("button_group")[0].proto.options}
    for arm in ("imp_movement", "snip", "synflow_shuffle", "magnitude_init_reinit"):
        assert ARM_NAMES[arm].split(" (")[0] in offered
    assert "whole neurons" in at.get("plotly_chart")[0].proto.spec  # the structured run's label says so


def test_learn_page_opens_the_beyond_page_on_a_gallery_example(runs, monkeypatch, tmp_path):
    """With the example in the gallery, the Learn page's button opens it on the Beyond page."""
    store, ids = runs
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "empty"))
    monkeypatch.setenv("LTH_GALLERY", str(store.root))
    monkeypatch.setattr(beyond_examples, "example_run_id",
                        lambda q: ids["beyond"] if q == "criteria" else "0123456789abcdef")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert_clean(at)
    assert "not in the gallery yet" in texts(at)
    at.button(key="learn_beyond_criteria").click().run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Beyond the paper"]
    assert at.selectbox(key="beyond_run").value == ids["beyond"]
    shutdown_manager(tmp_path / "empty")


def test_beyond_page_on_an_empty_store_says_so(monkeypatch, tmp_path, data_dir):
    """No runs at all: an info box pointing at the Run page, no error."""
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/beyond.py").run()
    assert_clean(at)
    assert not at.error and "No runs are stored yet" in texts(at)
    shutdown_manager(tmp_path / "runs")


def test_beyond_page_shows_the_measured_latency_when_present(app_store, monkeypatch, tmp_path):
    """With docs/bench/latency_cpu.json present, its chart and computed caption are drawn."""
    import json

    from ui import beyond
    path = tmp_path / "latency_cpu.json"
    path.write_text(json.dumps({"records": latency_records(5.0)}))
    monkeypatch.setattr(beyond, "LATENCY_JSON", path)
    at = open_beyond(app_store["paper"])
    assert_clean(at)
    assert "2.00x faster than dense" in texts(at).replace("\\", "")  # markdown escapes removed
    monkeypatch.setattr(beyond, "LATENCY_JSON", tmp_path / "missing.json")
    assert "Not measured on this machine yet" in texts(open_beyond(app_store["paper"]))


def test_a_gallery_run_shows_its_stored_noise_analysis(tmp_path, monkeypatch, data_dir, mnist1d):
    """A read-only run with a noise analysis stored beside it: the chart and its computed caption,
    and no button (nothing can be written into the gallery)."""
    from lth_core.analysis import analyses
    from ui import beyond
    store = Store(tmp_path / "gallery")
    run_id = driver.run(tiny_config(), store, data_dir=data_dir, processes=1)
    analyses.compute_noise(store, run_id, levels=[0, 2], scales=[0.0, 0.5], draws=1, arms=["ticket", "reinit"],
                           data_dir=data_dir)
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "empty"))
    monkeypatch.setenv("LTH_GALLERY", str(store.root))
    monkeypatch.setattr(beyond, "LATENCY_JSON", tmp_path / "no-latency.json")
    at = open_beyond(run_id)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert any("Lines that stay high" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "beyond_noise_go"]
    shutdown_manager(tmp_path / "empty")
