"""The All runs table's rows (lth_core.analysis.runs_table) on real tiny runs: every stored run once, its
numbers exactly what the Results page's analysis functions give, no verdict from too few trials, and
times only where the store keeps them."""
from __future__ import annotations

import math

import pytest

from lth_core import layout
from lth_core.analysis import claims, results, runs_table, speed, spread
from lth_core.execution import driver
from lth_core.presets import get_preset
from lth_core.store.run_store import Store
from support.runs import copy_store

TINY = dict(iterations=20, eval_every=10, rounds=2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir, mnist1d):
    """A store with a finished 3-trial run, a finished 1-trial run and a queued run: (store, ids)."""
    store = Store(tmp_path_factory.mktemp("runs-table"))
    quick = get_preset("quick").replace(**TINY)
    three = driver.run(quick.replace(trials=3), store, data_dir=data_dir, processes=1)
    one = driver.run(quick, store, data_dir=data_dir, processes=1)
    queued = store.create(quick.replace(trials=2))  # registered, nothing trained yet
    return store, {"three": three, "one": one, "queued": queued}


def _row(df, run_id):
    rows = df[df.run_id == run_id]
    assert len(rows) == 1, f"{run_id} listed {len(rows)} times"
    return rows.iloc[0]


def _same(a, b) -> bool:
    """Equal, with None and NaN both meaning 'no number'."""
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


def test_every_stored_run_has_one_row(runs):
    """The table lists each run of the store once, with its state and dataset in words."""
    store, ids = runs
    df = runs_table.runs_frame([store])
    assert sorted(df.run_id) == sorted(ids.values())
    assert _row(df, ids["three"]).state == "done" and _row(df, ids["queued"]).state == "queued"
    assert set(df.dataset) == {"MNIST-1D"} and list(df.columns) == list(runs_table.COLUMNS)


@pytest.mark.parametrize("which", ["three", "one"])
def test_numbers_are_the_results_pages(runs, which):
    """Dense accuracy, smallest winning ticket and learning speed equal the shared analysis functions' values."""
    store, ids = runs
    run_id = ids[which]
    row = _row(runs_table.runs_frame([store]), run_id)
    summary = results.summary_frame(store, run_id)
    cmp = spread.compare_to_dense(summary, "ticket")
    vs = speed.speed_at(summary)["vs_dense"]
    assert row.dense_acc == pytest.approx(spread.dense_accuracy(summary)) and 0 < row.dense_acc <= 1
    assert _same(row.smallest_ticket, cmp["as_good_down_to"] if cmp["enough"] else None)
    assert _same(row.speed_ratio, vs["ratio"])
    assert (row.speed, row.speed_verdict) == (speed.head(vs), vs["verdict"])
    assert row.trials == store.config(run_id).trials


def test_too_few_trials_give_no_smallest_ticket(runs):
    """One trial cannot show a ticket as good as dense: no number, the app's 'too few trials' words instead."""
    store, ids = runs
    row = _row(runs_table.runs_frame([store]), ids["one"])
    assert math.isnan(row.smallest_ticket)
    assert row.smallest_ticket_note == claims.too_few(1) and "too few trials" in row.smallest_ticket_note


def test_a_run_with_three_trials_has_a_verdict(runs):
    """With enough trials the cell holds either the smallest ticket's % or why it is not shown."""
    store, ids = runs
    row = _row(runs_table.runs_frame([store]), ids["three"])
    assert math.isnan(row.smallest_ticket) != (row.smallest_ticket_note == "")
    assert "too few" not in row.smallest_ticket_note


def test_a_queued_run_has_no_numbers(runs):
    """Nothing trained: every number is empty, not zero."""
    store, ids = runs
    row = _row(runs_table.runs_frame([store]), ids["queued"])
    assert all(math.isnan(row[c]) for c in ("dense_acc", "smallest_ticket", "speed_ratio", "duration_s"))
    assert row.speed == "" and row.smallest_ticket_note == ""


def test_duration_and_date_come_from_the_store(runs, tmp_path):
    """Duration is the stored start to the stored end; a run without its start time has none (not a guess)."""
    store, ids = runs
    run_id = ids["three"]
    row = _row(runs_table.runs_frame([store]), run_id)
    status, started = store.status(run_id), store.progress(run_id)["started"]
    assert row.duration_s == pytest.approx(status["time"] - started) and row.duration_s > 0
    assert row.date.timestamp() == pytest.approx(status["time"])
    copy = copy_store(store, tmp_path / "copy")
    (copy.run_dir(run_id) / layout.PROGRESS).unlink()  # as a gallery run: no progress.json
    gallery = Store(copy.root, readonly=True)
    assert math.isnan(_row(runs_table.runs_frame([gallery]), run_id).duration_s)


def test_numbers_come_through_the_given_reader(runs):
    """A caller's (cached) reader is asked once per run that has a config, and its numbers are used."""
    store, ids = runs
    asked = []

    def reader(s, run_id):
        asked.append(run_id)
        return runs_table.run_numbers(s, run_id)

    df = runs_table.runs_frame([store], numbers=reader)
    assert sorted(asked) == sorted(ids.values())
    assert _row(df, ids["three"]).dense_acc == pytest.approx(runs_table.run_numbers(store, ids["three"])["dense_acc"])


def test_a_run_with_a_damaged_config_is_listed_without_numbers(runs, tmp_path):
    """A garbled config.json keeps the run in the table, as damaged, with its reason."""
    store, ids = runs
    copy = copy_store(store, tmp_path / "copy")
    (copy.run_dir(ids["one"]) / layout.CONFIG).write_text("{garbled")
    row = _row(runs_table.runs_frame([copy]), ids["one"])
    assert row.state == "damaged" and "config" in row.reason and math.isnan(row.dense_acc)
