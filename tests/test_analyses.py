"""The noise analysis of a stored run (lth_core.analysis.analyses, analysis_jobs, the `analyse` command and
charts_noise): stored with the run and served, resumable, one clear message for a run without
weights or a bad flag, and a background process that really computes it. A real tiny run."""
from __future__ import annotations

import os
import shutil
import time

import pandas as pd
import pytest

from support.configs import tiny_config
from lth_core.analysis import analyses
from lth_core.service import analysis_jobs
from lth_core.service.settings import Settings
from lth_core.charts import noise as charts_noise
from lth_core.cli import main as cli
from lth_core.store.gallery import HEADLINE, gallery_store
from lth_core.store.run_store import Store
from support.runs import make_run

CONFIG = tiny_config(controls=("reinit",), trials=2)   # levels 0-2; ticket and re-init at 1-2
SCALES, DRAWS = [0.0, 0.5, 2.0], 2
CAP = Settings().worker_memory_bytes  # the job manager's default cap on a worker's memory


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir, mnist1d):
    """(store, run id) of a finished tiny run with its weights; tests that write copy it first."""
    return make_run(tmp_path_factory.mktemp("analyses"), data_dir, CONFIG)


@pytest.fixture
def fresh(run, tmp_path):
    """A private copy of the run's store, for tests that write analyses into it."""
    store, rid = run
    shutil.copytree(store.root, tmp_path / "store")
    return Store(tmp_path / "store"), rid


@pytest.fixture(scope="module")
def record(run, data_dir, tmp_path_factory):
    """One computed record (in a copy of the store) and that store."""
    store, rid = run
    root = tmp_path_factory.mktemp("computed") / "store"
    shutil.copytree(store.root, root)
    copy = Store(root)
    return copy, rid, analyses.compute_noise(copy, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir)


def params(store, rid, **kw):
    return analyses.noise_params(store.config(rid), kw.get("levels", [0, 2]), kw.get("scales", SCALES),
                                 kw.get("draws", DRAWS), kw.get("arms"))


# --- the record ----------------------------------------------------------------
def test_every_network_of_the_chosen_levels_and_arms_is_measured(record):
    """Level 0: the dense network per trial; level 2: ticket and re-init per trial."""
    _, _, rec = record
    assert rec["complete"] and sorted(rec["networks"]) == sorted(
        f"t{t}/L{lv:02d}/{a}" for t in range(2) for lv, a in ((0, "ticket"), (2, "ticket"), (2, "reinit")))


def test_scale_zero_equals_the_stored_test_accuracy(record):
    """Issue 13's check, through the whole analysis: scale 0 reproduces each network's stored accuracy."""
    _, _, rec = record
    assert all(net["accuracy"][0] == [net["clean_test_acc"]] * DRAWS for net in rec["networks"].values())


def test_the_stored_record_round_trips(record):
    """What compute_noise returns is what the store serves afterwards."""
    store, rid, rec = record
    assert analyses.read_noise(store, rid, params(store, rid)) == rec


def test_a_computed_analysis_is_served_without_evaluating(record, monkeypatch):
    """Idempotent: the same parameters again read the store, no network is evaluated."""
    store, rid, rec = record
    monkeypatch.setattr(analyses, "noise_accuracy", lambda *a, **k: pytest.fail("evaluated again"))
    assert analyses.compute_noise(store, rid, [2, 0], list(reversed(SCALES)), DRAWS) == rec


def test_an_interrupted_analysis_resumes_where_it_stopped(fresh, data_dir, monkeypatch):
    """Networks measured before an interruption are kept; the next call measures only the rest."""
    store, rid = fresh

    def stop(progress):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        analyses.compute_noise(store, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir, on_progress=stop)
    calls = []
    real = analyses.noise_accuracy
    monkeypatch.setattr(analyses, "noise_accuracy", lambda *a, **k: calls.append(1) or real(*a, **k))
    rec = analyses.compute_noise(store, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir)
    assert rec["complete"] and len(calls) == len(rec["networks"]) - 1


def test_the_frame_has_a_row_per_network_scale_and_draw(record):
    """noise_frame is tidy: networks x scales x draws rows, accuracies as fractions."""
    _, _, rec = record
    frame = analyses.noise_frame(rec)
    assert len(frame) == len(rec["networks"]) * len(SCALES) * DRAWS
    assert list(frame.columns) == analyses.FRAME_COLUMNS and frame.accuracy.between(0, 1).all()


def test_different_parameters_are_stored_side_by_side(record, data_dir):
    """A second choice of scales gets its own record; the first stays."""
    store, rid, rec = record
    analyses.compute_noise(store, rid, [0], [0.0, 1.0], 1, data_dir=data_dir)
    assert len(analyses.noise_records(store, rid)) >= 2 and analyses.read_noise(store, rid, params(store, rid)) == rec


# --- parameters and clear errors -------------------------------------------------
@pytest.mark.parametrize("kw", [{"levels": [3]}, {"levels": [-1]}, {"scales": [-0.5]}, {"scales": [float("nan")]},
                                {"draws": 0}, {"arms": ["snip"]}, {"levels": [0], "arms": ["reinit"]}])
def test_bad_parameters_are_refused_with_a_message(run, kw):
    """Levels out of range, negative scales, no draws, an arm the run lacks: BadParams, a message."""
    store, rid = run
    with pytest.raises(analyses.BadParams, match=r"\w"):
        params(store, rid, **kw)


def test_a_run_without_weights_gives_the_user_facing_message(fresh):
    """Runs stored before weights were kept: say so and how to fix it, and leave no trace in the run."""
    store, rid = fresh
    for path in store.run_dir(rid).rglob("final_*.st"):
        path.unlink()
    with pytest.raises(analyses.NoStoredWeights, match="stored without its trained weights.*with another seed"):
        analyses.compute_noise(store, rid, [0], SCALES, DRAWS)
    assert not (store.run_dir(rid) / "analysis").exists()


def test_a_gallery_run_without_weights_is_refused_by_the_command_line(tmp_path, capsys):
    """The committed gallery runs kept no weights: `analyse noise` says so in one line, exit code 2."""
    assert gallery_store().has_run(HEADLINE), "the gallery's headline run ships with the code"
    code = cli.main(["analyse", "noise", HEADLINE, "--store", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and len(err.splitlines()) == 1 and "without its trained weights" in err, err


@pytest.mark.parametrize("args", [["0123"], ["ffffffffffffffff"], ["{rid}", "--levels", "a,b"],
                                  ["{rid}", "--levels", "9"], ["{rid}", "--scales", "-1"],
                                  ["{rid}", "--scales", "x"], ["{rid}", "--draws", "0"],
                                  ["{rid}", "--arms", "nope"], []])
def test_bad_input_on_the_command_line_is_one_line_and_exit_code_2(run, capsys, args):
    """A bad id, an unknown run, bad levels/scales/draws/arms or no run at all: one line, code 2."""
    store, rid = run
    argv = ["analyse", "noise"] + [a.format(rid=rid) for a in args] + ["--store", str(store.root)]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and len(err.splitlines()) == 1 and err.startswith("error: "), err


def test_the_command_line_computes_and_stores_the_analysis(fresh, data_dir, capsys):
    """`analyse noise` prints the mean accuracies and stores the record the page reads."""
    store, rid = fresh
    code = cli.main(["analyse", "noise", rid, "--levels", "0,2", "--scales", "0,0.5,2", "--draws", "2",
                     "--store", str(store.root), "--data-dir", str(data_dir)])
    assert code == 0 and rid in capsys.readouterr().out
    assert analyses.read_noise(store, rid, params(store, rid))["complete"]


# --- the background job ---------------------------------------------------------------
def wait_for(store, rid, p, states=("done", "failed"), timeout_s=180):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        st = analysis_jobs.noise_job_state(store, rid, p)
        if st["state"] in states:
            return st
        time.sleep(0.2)
    pytest.fail(f"the analysis did not finish in {timeout_s} s: {st}")


def test_the_background_job_runs_in_another_process_and_finishes(fresh, data_dir):
    """start_noise returns at once; a separate process computes and stores the record."""
    store, rid = fresh
    p = params(store, rid)
    assert analysis_jobs.noise_job_state(store, rid, p)["state"] == "none"
    started = analysis_jobs.start_noise(store, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir, memory_bytes=CAP)
    assert started["state"] in ("queued", "running")
    assert wait_for(store, rid, p)["state"] == "done"
    status = store.read_json(rid, analysis_jobs._paths(store, rid, p)["status"])
    assert status["pid"] != os.getpid() and analyses.read_noise(store, rid, p)["complete"]


def test_a_second_start_does_not_start_a_second_process(fresh, data_dir):
    """At most one process per run and parameters: asking again while it is queued or running joins it."""
    store, rid = fresh
    analysis_jobs.start_noise(store, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir, memory_bytes=CAP)
    before = list(analysis_jobs._children)
    again = analysis_jobs.start_noise(store, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir, memory_bytes=CAP)
    assert again["state"] in ("queued", "running", "done") and analysis_jobs._children == before
    wait_for(store, rid, params(store, rid))


def test_a_failing_job_reports_failed_with_its_message(fresh, data_dir):
    """A damaged weights file fails the background job; the page reads failed and why."""
    store, rid = fresh
    (store.run_dir(rid) / "t1" / "L02" / "final_reinit.st").write_bytes(b"garbage")
    analysis_jobs.start_noise(store, rid, [0, 2], SCALES, DRAWS, data_dir=data_dir, memory_bytes=CAP)
    st = wait_for(store, rid, params(store, rid))
    assert st["state"] == "failed" and "final_reinit.st" in st["message"]


# --- the chart and its caption ------------------------------------------------------------
def synthetic(acc: dict) -> pd.DataFrame:
    """A frame from {arm: [[accuracy per draw] per scale]} at one level, two trials alike."""
    rows = [{"trial": t, "level": 1, "arm": arm, "percent_remaining": 50.0, "scale": s, "draw": d,
             "accuracy": a, "clean_test_acc": grid[0][0]}
            for arm, grid in acc.items() for t in range(2) for s, draws in zip([0.0, 1.0], grid)
            for d, a in enumerate(draws)]
    return pd.DataFrame(rows, columns=analyses.FRAME_COLUMNS)


def test_the_figure_has_a_panel_per_level_and_a_line_per_arm(record):
    """Two levels, two panels; each arm's line in each panel where it was measured (3 lines)."""
    _, _, rec = record
    fig = charts_noise.noise_figure(analyses.noise_frame(rec))
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(fig.layout.annotations) == 2 and len(lines) == 3


def test_an_arm_without_a_house_colour_still_draws(record):
    """An arm chart_style does not know yet gets a free colour, a shape and a readable name."""
    fig = charts_noise.noise_figure(synthetic({"ticket": [[0.9, 0.9], [0.8, 0.8]],
                                               "future_arm": [[0.9, 0.9], [0.5, 0.6]]}))
    names = {t.name for t in fig.data if t.mode == "lines+markers"}
    assert "future arm" in names and len({t.line.color for t in fig.data if t.mode == "lines+markers"}) == 2


def test_the_table_calls_a_difference_real_only_when_the_bands_separate():
    """Separate bands: the top arm is named as more robust; overlapping bands: within the spread."""
    apart = synthetic({"ticket": [[0.9, 0.9], [0.8, 0.82]], "reinit": [[0.9, 0.9], [0.5, 0.6]]})
    overlap = synthetic({"ticket": [[0.9, 0.9], [0.6, 0.82]], "reinit": [[0.9, 0.9], [0.5, 0.7]]})
    table = charts_noise.noise_table(apart)
    assert "stays above every other arm" in table.Verdict[0] and table.Network[0] == "Winning ticket"
    assert "Winning ticket keeps the most" in charts_noise.noise_caption(apart)
    verdicts = " ".join(charts_noise.noise_table(overlap).Verdict)
    assert "overlap" in verdicts and "stays above" not in verdicts
    assert "keeps the most" not in charts_noise.noise_caption(overlap)


def test_the_table_says_when_a_lead_is_only_the_clean_accuracy():
    """The arm that keeps the most but loses more than another under noise is not called more robust."""
    table = charts_noise.noise_table(synthetic({"ticket": [[0.95, 0.95], [0.80, 0.81]],
                                                "reinit": [[0.60, 0.60], [0.55, 0.56]]}))
    assert "part of its lead is its higher accuracy without noise" in table.Verdict[0]
