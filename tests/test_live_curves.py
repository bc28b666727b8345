"""Live learning curves: while a network trains, its live record carries the curve measured so far,
the store reads it back, and the live chart draws it (issue 25: feedback from the first second)."""
from __future__ import annotations

import math
import threading

from lth_core import layout
from lth_core.charts.live import META, training_now
from lth_core.execution import driver
from lth_core.store.run_store import Store
from support.configs import tiny_config
from ui import progress


def test_live_records_carry_the_curve_as_measured_and_match_the_stored_history(tmp_path, data_dir, mnist1d,
                                                                               monkeypatch):
    """Every live write is read back through Store.live; each curve is a prefix of the network's
    stored history (the same measurements, not a separate estimate), and the first evaluation is
    written at once."""
    seen: list[dict] = []
    real = Store.write_live

    def observing(self, run_id, task, info):
        real(self, run_id, task, info)
        seen.extend(r for r in self.live(run_id) if r["key"] == task)

    monkeypatch.setattr(Store, "write_live", observing)
    store = Store(tmp_path / "runs")
    config = tiny_config(iterations=60, eval_every=10, rounds=1)
    run_id = driver.run(config, store, data_dir=data_dir, processes=1)
    assert {r["key"] for r in seen} == {"t0-L00-ticket", "t0-L01-ticket", "t0-L01-reinit"}
    for rec in seen:
        trial, level, arm = layout.parse_task_key(rec["key"])
        stored = store.read_json(run_id, layout.metrics(trial, level, arm))["history"]
        n = len(rec["curve"]["iteration"])
        assert n >= 1 and rec["curve"]["iteration"] == stored["iteration"][:n]
        assert rec["curve"]["val_loss"] == stored["val_loss"][:n] and rec["curve"]["val_acc"] == stored["val_acc"][:n]
    firsts = [r for r in seen if len(r["curve"]["iteration"]) == 1]
    assert len(firsts) == 3, "each network's first evaluation is written at once"
    assert store.live(run_id) == [], "a finished run leaves no live records"


def test_store_live_skips_other_attempts_and_damaged_records(tmp_path):
    store = Store(tmp_path / "runs")
    run_id = store.create(tiny_config())
    store.write_progress(run_id, {"epoch": 2.0})
    store.write_live(run_id, "t0-L00-ticket", {"epoch": 2.0, "key": "t0-L00-ticket", "steps": 5})
    store.write_live(run_id, "t0-L01-ticket", {"epoch": 1.0, "key": "t0-L01-ticket", "steps": 9})  # a stale attempt
    (store.run_dir(run_id) / layout.live("t0-L01-reinit")).write_text("{half a reco")
    assert [r["key"] for r in store.live(run_id)] == ["t0-L00-ticket"]
    assert store.progress(run_id)["network_iterations_now"] == 5


def test_training_now_draws_each_network_in_flight_over_the_whole_budget():
    recs = [{"key": "t0-L00-ticket", "curve": {"iteration": [25, 50], "val_loss": [2.0, 1.5], "val_acc": [0.3, 0.5]}},
            {"key": "t1-L02-reinit", "curve": {"iteration": [25], "val_loss": [2.2], "val_acc": [0.2]}},
            {"key": "t0-L01-random", "curve": {"iteration": [], "val_loss": [], "val_acc": []}}]
    fig = training_now(recs, [100.0, 51.0, 26.0], 350)
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert names == ["dense network (100%), trial 0", "Random re-init (same mask), 26% of weights, trial 1"]
    acc = [t for t in fig.data if t.yaxis == "y2"]
    assert [list(t.y) for t in acc] == [[30.0, 50.0], [20.0]]
    assert all(t.meta == META for t in fig.data) and len(fig.data) == 4
    assert list(fig.layout.xaxis2.range) == [0, 350] and not math.isnan(fig.data[0].y[0])


def test_parse_task_key_inverts_task_key_and_refuses_anything_else():
    assert layout.parse_task_key(layout.task_key(3, 12, "imp_grad")) == (3, 12, "imp_grad")
    for bad in ("t0-L01", "x0-L01-ticket", "t0-Lx-ticket", "t-L01-ticket", "t0-L01-"):
        try:
            layout.parse_task_key(bad)
        except ValueError as exc:
            assert "t0-L03-reinit" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def _curve_record(epoch: float) -> dict:
    return {"epoch": epoch, "key": "t0-L00-ticket", "steps": 25,
            "curve": {"iteration": [25], "val_loss": [1.2], "val_acc": [0.5]}}


def test_the_panel_waits_for_the_first_curve_only_before_any_network_is_done(tmp_path):
    """Just after the click the panel waits (at most FAST_S) for the worker's first live record and draws
    it in the same redraw; once a network is done, or when no record comes, it does not wait for one."""
    store = Store(tmp_path / "runs")
    run_id = store.create(tiny_config())
    store.write_progress(run_id, {"epoch": 1.0, "network_iterations_done": 0})
    writer = threading.Timer(0.05, store.write_live, (run_id, "t0-L00-ticket", _curve_record(1.0)))
    writer.start()
    records = progress._first_curve(store, run_id, store.progress(run_id))
    writer.join()
    assert [r["key"] for r in records] == ["t0-L00-ticket"]

    other = store.create(tiny_config(iterations=30))
    store.write_progress(other, {"epoch": 1.0, "network_iterations_done": 0})
    assert progress._first_curve(store, other, store.progress(other)) == []  # none came: gives up, draws nothing

    store.write_progress(other, {"epoch": 1.0, "network_iterations_done": 30})
    late = threading.Timer(progress.FAST_S, store.write_live, (other, "t0-L01-ticket", _curve_record(1.0)))
    late.start()
    assert progress._first_curve(store, other, store.progress(other)) == []  # a level is done: no wait at all
    late.join()


def test_a_run_about_to_start_counts_as_starting_and_one_behind_it_does_not(manager, monkeypatch):
    """The panel redraws fast (FAST_S) from the click on: a run first in line with a worker slot free is
    'starting' (the manager takes it within moments); a run queued behind it is not."""
    jm = manager(background=False, workers=1)
    monkeypatch.setattr(progress.state, "manager", lambda: jm)
    monkeypatch.setattr(progress.state, "owner", lambda: "me")
    first = jm.submit(tiny_config(), owner="me")
    second = jm.submit(tiny_config(iterations=30), owner="me")
    assert progress.run_state(jm.store, first)["starting"] is True
    assert progress.run_state(jm.store, second)["starting"] is False
