"""The Streamlit app, driven headless with AppTest: every page renders, the URL drives the form
and the results, and bad addresses give an error box, never a traceback.

Runs are real (a tiny quick-preset run made once per session); the app reads
them from a temporary store through LTH_STORE.
"""
from __future__ import annotations

import shlex

import pytest

from lth_core.cli import args as cli

from lth_core.presets import PRESETS, get_preset
from lth_core.store.run_store import Store
from ui import params, text
from support.apptest import (PAGES, REPO, assert_clean, empty_store, finished, open_page,  # noqa: F401 (fixtures)
                             shutdown_manager, texts, with_run)

@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(empty_store, page):
    """A fresh install has no runs: each page must say so, not crash."""
    at = open_page(page)
    assert_clean(at)
    assert not at.error
    assert at.title


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_a_finished_run(with_run, page):
    """Each page draws the stored run without an exception or an error box."""
    at = open_page(page)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]


def test_results_page_charts_every_level(with_run):
    """The results page reads every level of the finished run from the store."""
    root, run_id = with_run
    at = open_page("pages/results.py", {"run": run_id})
    assert_clean(at)
    assert "3 of 3 levels finished" in texts(at)
    assert len(at.get("plotly_chart")) >= 4


def test_run_address_opens_the_results_page(with_run):
    """/?run=<id> opens the Results page for that run, not the home page."""
    root, run_id = with_run
    at = open_page(query={"run": run_id})
    assert_clean(at)
    assert [t.value for t in at.title] == ["Results"]
    assert at.selectbox(key="results_run").value == run_id


@pytest.mark.parametrize("bad", ["nothex", "0123456789ABCDEF", "1234", "x" * 100])
def test_malformed_run_id_shows_an_error(with_run, bad):
    """A malformed id explains what a run id looks like."""
    at = open_page(query={"run": bad})
    assert_clean(at)
    assert at.error and "16 lowercase hex digits" in at.error[0].value


def test_unknown_run_id_shows_an_error(with_run):
    """A well-formed id that no store holds says where it looked."""
    at = open_page(query={"run": "0123456789abcdef"})
    assert_clean(at)
    assert at.error and "There is no run `0123456789abcdef`" in at.error[0].value


@pytest.mark.parametrize("query, named", [
    ({"rate": "abc"}, "`rate`"), ({"rate": "1.5"}, "`rate`"), ({"dataset": "imagenet"}, "`dataset`"),
    ({"arch": "conv2"}, "`arch`"), ({"controls": "reinit,magic"}, "`controls`"), ({"rounds": "99"}, "`rounds`"),
    ({"iterations": "-5"}, "`iterations`"), ({"preset": "nope"}, "`preset`"), ({"colour": "red"}, "`colour`"),
    ({"optimizer": "rmsprop"}, "`optimizer`"), ({"dropout": "nan"}, "`dropout`"),
    ({"criterion": "biggest"}, "`criterion`"), ({"granularity": "filters"}, "`granularity`"),
    ({"criteria": "movement,best"}, "`criteria`"), ({"at_init": "grasp"}, "`at_init`"),
    ({"at_init_checks": "flip"}, "`at_init_checks`"), ({"stability_levels": "0,99"}, "`stability_levels`"),
])
def test_bad_query_values_show_an_error_and_fall_back(empty_store, query, named):
    """A bad URL value names the parameter and its allowed values; the form falls back to defaults."""
    at = open_page("pages/run.py", query)
    assert_clean(at)
    assert at.error, f"no error for {query}"
    message = at.error[0].value
    assert named in message and "allowed" in message
    assert at.query_params["dataset"] == "mnist1d"  # the address now holds a valid form


def test_query_string_reproduces_the_form(empty_store):
    """Opening the address the form wrote gives the same experiment (same run id)."""
    config = get_preset("lenet-fmnist").replace(rate=0.3, rounds=3, trials=2, controls=("reinit", "random"))
    query = params.params_from_values(params.values_from_config(config))
    at = open_page("pages/run.py", query)
    assert_clean(at)
    assert not at.error
    assert at.query_params == query
    assert at.number_input(key="f_rate").value == pytest.approx(30.0)
    assert at.number_input(key="f_rounds").value == 3
    assert at.selectbox(key="f_arch").value == "lenet300"


def test_target_sparsity_shows_the_derived_rate(empty_store):
    """Target sparsity P over n rounds prunes 1-(1-P)^(1/n) per round, shown before anything runs."""
    at = open_page("pages/run.py", {"target": "0.875", "rounds": "3"})
    assert_clean(at)
    assert at.radio(key="f_schedule").value == "target"
    assert "**50.00%** of the surviving weights" in texts(at)


def test_rate_until_a_size_derives_the_rounds(empty_store):
    """rate + target in the address: the rounds follow, so a lesson that changes only the rate keeps its size."""
    at = open_page("pages/run.py", {"preset": "quick", "rate": "0.2", "target": "0.95", "trials": "3", "only": "rate"})
    assert_clean(at)
    assert at.radio(key="f_schedule").value == "until"
    assert "**14 rounds** prune at least 95%" in texts(at)
    at.number_input(key="f_rate").set_value(50.0).run()
    assert "**5 rounds** prune at least 95%" in texts(at)
    assert at.query_params["rate"] == "0.5" and at.query_params["target"] == "0.95" and "rounds" not in at.query_params


def test_start_submits_the_config_the_controls_describe(empty_store):
    """Setting widgets and pressing Start stores exactly the matching config."""
    at = open_page("pages/run.py")
    at.number_input(key="f_iterations").set_value(20).run()
    at.number_input(key="f_rounds").set_value(2).run()
    at.number_input(key="f_rate").set_value(30.0).run()
    at.pills(key="f_controls").set_value(["reinit", "random"]).run()
    at.number_input(key="f_eval_every").set_value(10).run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="start").click().run()
    assert_clean(at)
    expected = get_preset("quick").replace(iterations=20, eval_every=10, rounds=2, rate=0.3,
                                           controls=("reinit", "random"))
    store = Store(empty_store)
    assert store.run_ids() == [expected.run_id()]
    assert store.config(expected.run_id()) == expected
    assert at.query_params["rate"] == "0.3" and at.query_params["controls"] == "reinit,random"


def test_a_stored_run_opens_at_once_on_the_run_page(with_run):
    """The Run page recognises a config that is already in the store and shows it, with no Start."""
    root, run_id = with_run
    config = Store(root).config(run_id)
    at = open_page("pages/run.py", params.params_from_values(params.values_from_config(config)))
    assert_clean(at)
    assert "3 of 3 levels finished" in texts(at)
    assert not [b for b in at.button if b.key == "start"]


def test_presenter_mode_keeps_every_page_working(with_run):
    """Presenter mode hides controls and enlarges charts; pages still render."""
    root, run_id = with_run
    at = open_page("pages/results.py", {"run": run_id})
    at.toggle(key="presenter").set_value(True).run()
    assert_clean(at)
    assert not [d for d in at.get("download_button")]
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at)


def test_inside_page_reports_untrained_mask_accuracy(with_run):
    """The supermask numbers come from evaluating the stored mask on theta_0."""
    root, run_id = with_run
    at = open_page("pages/inside.py", {"run": run_id})
    assert_clean(at)
    labels = [m.label for m in at.metric]
    assert "Ticket's mask on θ₀" in labels and "Random mask, same size, on θ₀" in labels


@pytest.mark.parametrize("name", list(PRESETS))
def test_form_values_round_trip_every_preset(name):
    """Preset -> form values -> URL -> form values -> config keeps the run id."""
    config = get_preset(name)
    query = params.params_from_values(params.values_from_config(config))
    values, problems = params.values_from_params(query)
    assert not problems
    assert params.config_from_values(values).run_id() == config.run_id()


@pytest.mark.parametrize("name", list(PRESETS))
def test_command_line_shown_is_the_same_experiment(name):
    """The 'same experiment from the command line' gives the same run id as the form."""
    config = get_preset(name).replace(trials=2, controls=("reinit", "oneshot"))
    values = params.values_from_config(config)
    argv = shlex.split(params.cli_command(values))[3:]
    assert cli.config_from_args(cli.build_parser().parse_args(argv)).run_id() == config.run_id()


def test_demo_button_starts_the_quick_preset_and_shows_it(empty_store):
    """The big home-page button queues the quick preset and opens it on the Run page."""
    at = open_page()
    at.button(key="demo").click().run()
    assert_clean(at)
    quick = get_preset("quick")
    assert [t.value for t in at.title] == ["Run an experiment"]
    assert Store(empty_store).run_ids() == [quick.run_id()]
    assert at.query_params == params.params_from_values(params.values_from_config(quick))


def test_runs_page_cancels_a_queued_or_running_run(empty_store):
    """Cancel on the All runs page stops the job and records why."""
    at = open_page("pages/run.py", {"preset": "quick", "iterations": "20", "eval_every": "10", "rounds": "2"})
    at.button(key="start").click().run()
    run_id = Store(empty_store).run_ids()[0]
    at.query_params.clear()
    at.switch_page("pages/runs.py").run()
    assert_clean(at)
    cancel = [b for b in at.button if b.key == f"cancel_{run_id}"]
    if cancel:  # a tiny run may already be done on a fast machine
        cancel[0].click().run()
        assert_clean(at)
        assert Store(empty_store).status(run_id)["state"] == "cancelled"
    assert at.selectbox(key="runs_open").value == run_id  # the only run: the one to open from the table


def test_a_failed_run_shows_its_reason_and_can_be_resumed(finished, tmp_path, monkeypatch):
    """A failed run says why on Results and offers Resume on the Run page."""
    import shutil
    root, run_id = finished
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    Store(copy).set_status(run_id, "failed", "DataUnavailable: no network")
    monkeypatch.setenv("LTH_STORE", str(copy))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    try:
        at = open_page("pages/results.py", {"run": run_id})
        assert_clean(at)
        assert any(text.plain("DataUnavailable: no network") in e.value for e in at.error)  # escaped as typed
        config = Store(copy).config(run_id)
        at = open_page("pages/run.py", params.params_from_values(params.values_from_config(config)))
        assert_clean(at)
        assert at.button(key="start").label == "Resume"
    finally:
        shutdown_manager(copy)


def test_damaged_files_are_listed_on_the_runs_page(finished, tmp_path, monkeypatch):
    """A garbled metrics file is reported by name, not hidden and not a crash."""
    import shutil
    root, run_id = finished
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    (copy / run_id / "t0" / "L01" / "reinit.json").write_text("{garbled")
    monkeypatch.setenv("LTH_STORE", str(copy))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    try:
        at = open_page("pages/runs.py")
        assert_clean(at)
        assert "t0/L01/reinit.json" in texts(at)
        at.switch_page("pages/results.py").run()
        assert_clean(at)
    finally:
        shutdown_manager(copy)


def test_gallery_runs_are_listed_and_open_read_only(finished, tmp_path, monkeypatch):
    """A read-only gallery (without theta_0 files) is listed beside the store and fully browsable."""
    import shutil
    root, run_id = finished
    gallery = tmp_path / "gallery"
    shutil.copytree(root, gallery)
    for f in gallery.rglob("theta0.st"):
        f.unlink()
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(gallery))
    try:
        at = open_page("pages/inside.py", {"run": run_id})
        assert_clean(at)
        assert not at.error
        assert "rebuilt from the trial's seed" in texts(at)
        at = open_page("pages/runs.py")
        assert "gallery" in texts(at)
        assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    finally:
        shutdown_manager(tmp_path / "runs")


def test_switching_controls_keeps_the_form_consistent(empty_store):
    """A new dataset offers only fitting networks; a new schedule starts from the current pruning."""
    at = open_page("pages/run.py")
    at.selectbox(key="f_dataset").set_value("fashion-mnist").run()
    assert_clean(at)
    assert at.selectbox(key="f_arch").value == "lenet300" and len(at.selectbox(key="f_arch").options) == 1
    at.number_input(key="f_rate").set_value(30.0).run()
    at.radio(key="f_schedule").set_value("target").run()
    assert_clean(at)
    assert at.number_input(key="f_target").value == pytest.approx(100 * (1 - 0.7 ** 4), abs=1e-6)
    assert float(at.query_params["target"]) == pytest.approx(1 - 0.7 ** 4, abs=1e-9) and "rate" not in at.query_params
    at.selectbox(key="f_optimizer").set_value("sgd").run()
    assert at.number_input(key="f_momentum").value == pytest.approx(0.9)


def test_choosing_a_deep_network_sets_its_paper_pruning(empty_store, monkeypatch):
    """VGG-19 brings global pruning with the output layer whole; the image-only and schedule controls
    reach the address; back on Conv-2 the paper's layer-wise rule returns."""
    monkeypatch.setenv("LTH_JOB_TIMEOUT_S", str(30 * 24 * 3600))  # a VGG-19 run is days: no time-limit refusal
    at = open_page("pages/run.py")
    at.selectbox(key="f_dataset").set_value("cifar10").run()
    at.selectbox(key="f_arch").set_value("vgg19").run()
    at.checkbox(key="f_augment").check().run()
    at.text_input(key="f_lr_milestones").set_value("100, 200").run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.radio(key="f_strategy").value == "global" and at.number_input(key="f_output_rate").value == 0.0
    assert (at.query_params["output_rate"], at.query_params["augment"], at.query_params["lr_milestones"]) == \
        ("0.0", "true", "100,200")
    at.selectbox(key="f_arch").set_value("conv2").run()
    assert at.radio(key="f_strategy").value == "layerwise" and "output_rate" not in at.query_params


def test_learn_page_opens_the_shipped_headline_experiment(tmp_path, monkeypatch):
    """The committed gallery's headline run opens from the Learn page in one click, with no training."""
    from lth_core.store.gallery import GALLERY_ROOT, HEADLINE
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(GALLERY_ROOT))
    try:
        at = open_page()
        at.button(key="headline").click().run()
        assert_clean(at)
        assert not at.error
        assert HEADLINE in texts(at) or "Fashion-MNIST" in texts(at)
        assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    finally:
        shutdown_manager(tmp_path / "runs")


def test_all_runs_titles_say_what_each_run_is(tmp_path, monkeypatch):
    """Each gallery run's Experiment cell on All runs is the experiment alone: no state cut inside a
    parenthesis ('... ba305c89 (done'), since the state has its own column."""
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(REPO / "gallery"))
    try:
        at = open_page("pages/runs.py")
        assert_clean(at)
        titles = list(at.dataframe(key="runs_table").value.experiment)
        assert len(titles) >= 5, titles
        assert all(t.count("(") == t.count(")") and "done" not in t for t in titles), titles
    finally:
        shutdown_manager(tmp_path / "runs")


def test_all_runs_table_gives_each_gallery_run_its_results_numbers(tmp_path, monkeypatch):
    """The table lists every gallery run once, with the numbers the Results page's analysis gives it:
    dense accuracy as its tile shows it (%), the smallest winning ticket, learning speed and its verdict."""
    from lth_core.analysis import results, speed, spread
    from lth_core.store.gallery import gallery_store
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(REPO / "gallery"))
    try:
        at = open_page("pages/runs.py")
        assert_clean(at)
        table = at.dataframe(key="runs_table").value
        assert sorted(table.run_id) == GALLERY_RUNS
        assert set(table.state) == {"done"} and table.dense_acc.notna().all()
        store = gallery_store(REPO / "gallery")
        for run_id in GALLERY_RUNS:
            row = table[table.run_id == run_id].iloc[0]
            summary = results.summary_frame(store, run_id)
            cmp, vs = spread.compare_to_dense(summary, "ticket"), speed.speed_at(summary)["vs_dense"]
            assert row.dense_acc == pytest.approx(100 * spread.dense_accuracy(summary)), run_id
            assert (row.smallest_ticket == pytest.approx(cmp["as_good_down_to"]) if cmp["as_good_down_to"]
                    else row.smallest_ticket != row.smallest_ticket), run_id  # NaN: no verdict
            assert (row.speed_ratio == pytest.approx(vs["ratio"]) if vs["ratio"]
                    else row.speed_ratio != row.speed_ratio), run_id
            assert row.speed_verdict == vs["verdict"] and row.trials == store.config(run_id).trials, run_id
        assert table.smallest_ticket.notna().any() and table.speed_ratio.notna().any()  # not all empty
    finally:
        shutdown_manager(tmp_path / "runs")


def test_all_runs_filters_narrow_the_table(tmp_path, monkeypatch):
    """Filtering by state, by dataset or by a text keeps exactly the runs that match; clearing keeps all."""
    from lth_core.presets import get_preset
    store = Store(tmp_path / "runs")
    failed = store.create(get_preset("quick").replace(trials=2))
    store.set_status(failed, "failed", "DataUnavailable: no network")
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(REPO / "gallery"))
    try:
        at = open_page("pages/runs.py")
        assert_clean(at)
        everything = at.dataframe(key="runs_table").value
        assert len(everything) == len(GALLERY_RUNS) + 1
        at.multiselect(key="runs_state").set_value(["failed"]).run()
        rows = at.dataframe(key="runs_table").value
        assert list(rows.run_id) == [failed] and "DataUnavailable" in rows.note.iloc[0]
        at.multiselect(key="runs_state").set_value([]).run()
        at.multiselect(key="runs_dataset").set_value(["Fashion-MNIST"]).run()
        rows = at.dataframe(key="runs_table").value
        fashion = everything[everything.dataset == "Fashion-MNIST"]
        assert 0 < len(rows) < len(everything) and sorted(rows.run_id) == sorted(fashion.run_id)
        at.multiselect(key="runs_dataset").set_value([]).run()
        at.text_input(key="runs_search").set_value(GALLERY_RUNS[0][:8]).run()
        assert list(at.dataframe(key="runs_table").value.run_id) == [GALLERY_RUNS[0]]
        pick = at.selectbox(key="runs_open")
        assert pick.value == GALLERY_RUNS[0] and len(pick.options) == 1
        at.text_input(key="runs_search").set_value("").run()
        assert_clean(at)
        assert len(at.dataframe(key="runs_table").value) == len(everything)
    finally:
        shutdown_manager(tmp_path / "runs")


def test_learn_page_steps_name_the_share_the_picture_prunes(tmp_path, monkeypatch):
    """Step 3 of the Learn page names the share its slider prunes, at the default and after a move."""
    from lth_core.store.gallery import GALLERY_ROOT
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(GALLERY_ROOT))
    try:
        at = open_page()
        step = next(m.value for m in at.markdown if "3 · Prune" in m.value)
        assert f"here {at.select_slider(key='toy_rate').value:.0%} of them" in step
        at.select_slider(key="toy_rate").set_value(0.25).run()
        assert_clean(at)
        assert "here 25% of them" in next(m.value for m in at.markdown if "3 · Prune" in m.value)
    finally:
        shutdown_manager(tmp_path / "runs")


def test_another_session_is_told_why_it_cannot_cancel(empty_store):
    """A run started by one session shows no Cancel to another (a reload is a new session), and says why."""
    from ui import progress
    starter = open_page("pages/run.py", {"preset": "quick", "iterations": "3000", "eval_every": "100"})
    starter.button(key="start").click().run()
    run_id = Store(empty_store).run_ids()[0]
    other = open_page("pages/results.py", {"run": run_id})
    assert_clean(other)
    assert Store(empty_store).status(run_id).get("state") in ("queued", "running")  # 3,000 its x 5 levels
    assert progress.NOT_YOURS in texts(other)
    assert not [b for b in other.button if b.key and b.key.endswith("_cancel")]
    starter.query_params.clear()
    starter.switch_page("pages/runs.py").run()
    for b in [b for b in starter.button if b.key == f"cancel_{run_id}"]:
        b.click().run()


def test_a_run_longer_than_the_time_limit_cannot_start(empty_store, monkeypatch):
    """A run whose estimate exceeds the server's limit per run ($LTH_JOB_TIMEOUT_S) is refused before
    Start, with the estimate and the limit in the message; under the limit Start is offered."""
    at = open_page("pages/run.py", {"preset": "quick"})
    assert_clean(at)
    assert not at.button(key="start").disabled and "time limit" not in texts(at)
    monkeypatch.setenv("LTH_JOB_TIMEOUT_S", "1")
    at = open_page("pages/run.py", {"preset": "quick"})
    assert_clean(at)
    refusal = [e.value for e in at.error if "longer than this server's limit of 1 s per run" in e.value]
    assert refusal and "would take about" in refusal[0] and "command line" in refusal[0]
    assert at.button(key="start").disabled


GALLERY_RUNS = sorted(p.name for p in (REPO / "gallery").iterdir() if (p / "config.json").is_file())


@pytest.mark.parametrize("run_id", GALLERY_RUNS)
def test_every_gallery_run_opens_on_the_results_page(run_id, tmp_path, monkeypatch):
    """Each shipped run keeps its id and opens with its charts, without an error box or a traceback."""
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(REPO / "gallery"))
    try:
        at = open_page("pages/results.py", {"run": run_id})
        assert_clean(at)
        assert not at.error, [e.value for e in at.error]
        assert len(at.get("plotly_chart")) >= 4
    finally:
        shutdown_manager(tmp_path / "runs")


JARGON = ("theta_0", "θ₀", "network-iterations", "Adam", "lr ", "e-4", "SGD", "iterations")


def test_preset_cards_speak_plainly_and_keep_the_settings_behind_details(tmp_path, monkeypatch):
    """Each preset card on the Learn page says what it shows in plain words; its optimizer, learning rate
    and iteration counts sit inside the card's Details (issue 24: jargon for students)."""
    from lth_core.presets import PRESETS, SUMMARIES
    assert set(SUMMARIES) == set(PRESETS)
    assert not [s for s in SUMMARIES.values() if any(j in s for j in JARGON)]
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(REPO / "gallery"))
    try:
        at = open_page()
        assert_clean(at)
        hidden = {c.value for e in at.expander for c in e.caption}
        shown = [c.value for c in at.caption if c.value not in hidden]
        assert all(s in shown for s in SUMMARIES.values())
        assert not [s for s in shown if s in {d for d, _ in PRESETS.values()}]  # the settings text is hidden
        assert {d for d, _ in PRESETS.values()} <= hidden
    finally:
        shutdown_manager(tmp_path / "runs")
