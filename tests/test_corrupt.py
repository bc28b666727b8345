"""Damaged run folders: every damaged file is detected, reported by name, and only its part recomputed.

One small run (ticket + reinit + one-shot controls, so dense.st exists) is computed once; each test
damages one file of a fresh copy, then checks that the store, `python -m lth_core list` and
runs.run_row report it, and that the next run trains only the tasks that depend on that file and
ends with the same results and no damaged file.

config.json is the run's identity: nothing can be rebuilt from it alone, so `lth_core work` on such
a run fails with a clear reason (never a traceback), the listing shows the run as damaged, and
asking for the same experiment again (its config hashes to the same run id) rewrites it.
"""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from support.configs import tiny_config
from lth_core.cli import main as cli
from lth_core.execution import driver
from lth_core.analysis import results
from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.store.runs import run_row
from lth_core.store.run_store import Corrupt, Store

CONFIG = tiny_config(controls=("reinit", "oneshot"))
RID = CONFIG.run_id()

# file -> tasks the next run must train (and nothing else)
DAMAGE_COST = {
    "config.json": [],                   # rewritten from the config the user asks for again
    "status.json": [],                   # rewritten; the results are all there
    "progress.json": [],
    "t0/theta0.st": [],                  # regenerated from the trial's seed, no training
    "t0/L01/ticket.json": ["t0-L01-ticket"],
    "t0/L02/reinit.json": ["t0-L02-reinit"],
    "t0/L01/mask_ticket.st": ["t0-L00-ticket"],  # made by pruning the dense network
    "t0/dense.st": ["t0-L00-ticket"],            # one-shot pruning needs the trained dense network
    "t0/L02/mask_oneshot.st": [],        # rebuilt from dense.st without training
}


def truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def garble(raw: bytes) -> bytes:
    mid = len(raw) // 2
    return raw[:mid] + bytes(b ^ 0xFF for b in raw[mid:mid + 8]) + raw[mid + 8:]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, data_dir):
    """The finished run and its summary, computed once for the module."""
    store = Store(tmp_path_factory.mktemp("pristine"))
    driver.run(CONFIG, store, data_dir=data_dir, processes=1)
    assert store.damaged_files(RID) == []
    return store, results.summary_frame(store, RID)


@pytest.fixture
def copy(pristine, tmp_path):
    """A private copy of the finished run."""
    store = Store(tmp_path / "store")
    shutil.copytree(pristine[0].run_dir(RID), store.run_dir(RID))
    return store


def damage(store: Store, rel: str, how) -> None:
    path = store.run_dir(RID) / rel
    path.write_bytes(how(path.read_bytes()))


@pytest.mark.parametrize("how", [truncate, garble])
@pytest.mark.parametrize("rel", list(DAMAGE_COST))
def test_damage_is_detected_by_the_store(copy, rel, how):
    """Checksums catch every kind of file, truncated or garbled, on load."""
    damage(copy, rel, how)
    assert copy.damaged_files(RID) == [rel]
    reader = copy.read_json if rel.endswith(".json") else copy.read_arrays
    with pytest.raises(Corrupt):
        reader(RID, rel)


@pytest.mark.parametrize("rel", list(DAMAGE_COST))
def test_damage_is_reported_by_run_row_and_list(copy, rel, capsys):
    """The Runs page (run_row) and `lth_core list` name the run and say it is damaged."""
    damage(copy, rel, garble)
    row = run_row(copy, RID)
    assert rel in row["damaged"]
    assert "damaged" in row["reason"] or row["state"] == "damaged"
    assert cli.main(["list", "--store", str(copy.root)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if RID in ln)
    assert "damaged" in line


@pytest.mark.parametrize("rel, how", [(rel, (truncate, garble)[i % 2]) for i, rel in enumerate(DAMAGE_COST)],
                         ids=[f"{rel}-{('truncated', 'garbled')[i % 2]}" for i, rel in enumerate(DAMAGE_COST)])
def test_next_run_recomputes_only_the_damaged_part(copy, pristine, rel, how, executed, data_dir):
    """Only the tasks that depend on the damaged file train again, and the results come out equal."""
    damage(copy, rel, how)
    driver.run(CONFIG, copy, data_dir=data_dir, processes=1)
    assert executed == DAMAGE_COST[rel]
    assert copy.damaged_files(RID) == []
    assert copy.status(RID)["state"] == "done"
    pd.testing.assert_frame_equal(results.summary_frame(copy, RID), pristine[1], rtol=1e-9)


def test_damaged_config_fails_the_worker_with_a_reason(copy, capsys):
    """A worker cannot rebuild a run whose identity is unreadable: exit 1, one line, status says why."""
    damage(copy, "config.json", truncate)
    assert cli.main(["work", RID, "--store", str(copy.root), "--processes", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "config.json is damaged" in err[0]
    row = run_row(copy, RID)
    assert row["state"] == "damaged" and row["damaged"] == ["config.json"]
    assert copy.status(RID)["state"] == "failed" and "config.json" in copy.status(RID)["reason"]


def test_asking_again_rebuilds_a_damaged_run_through_the_job_manager(copy, data_dir):
    """The app's path: a student presses Start on a damaged run; a worker repairs it, training nothing."""
    damage(copy, "config.json", garble)
    damage(copy, "t0/theta0.st", truncate)
    before = {p: p.stat().st_mtime_ns for p in copy.run_dir(RID).rglob("*.json") if p.parent.name.startswith("L")}
    jm = JobManager(copy, Settings(workers=1, warm_workers=0), recover=False)
    try:
        assert jm.submit(CONFIG, owner="student") == RID
        assert jm.state(RID) in ("queued", "running")
        jm_wait(jm, RID)
    finally:
        jm.shutdown()
    assert copy.damaged_files(RID) == []
    assert copy.status(RID)["state"] == "done"
    assert {p: p.stat().st_mtime_ns for p in before} == before  # no metrics record rewritten: nothing trained


def jm_wait(jm: JobManager, run_id: str, timeout_s: float = 90) -> None:
    import time
    end = time.monotonic() + timeout_s
    while jm.state(run_id) is not None:
        assert time.monotonic() < end, f"job {run_id} still {jm.state(run_id)} after {timeout_s} s"
        time.sleep(0.1)
