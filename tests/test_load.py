"""The load test, small: a real server, 6 Chromium sessions over 2 configs, the same checks as the full run.

scripts/load_test.py holds the machinery (server, browser sessions, ps sampler, start records,
checks); the full 30-session runs and their figures are in docs/RELIABILITY.md. A session counts
as finished only when its page shows the finished state's own element (FINISHED), and it presses
only an enabled Start button. Under CI=true a missing Chromium or Playwright fails this test
instead of skipping it.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import load_test  # noqa: E402
import procwatch  # noqa: E402

from support.configs import tiny_config  # noqa: E402

SESSIONS, CONFIGS, WORKERS = 6, 2, 2


@pytest.fixture(scope="module")
def report(data_dir, mnist1d):
    why = load_test.chromium_available()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the load test needs a browser: {why}")
        pytest.skip(why)
    return load_test.run_load(SESSIONS, CONFIGS, WORKERS, iterations=40, data_dir=data_dir,
                              page_timeout_s=150, run_timeout_s=240)


@pytest.mark.browser
def test_every_session_renders_starts_and_finishes_without_error(report):
    """Six students at once: each page loads, Start works, the finished run shows, no error box."""
    assert report["sessions_ok"] == SESSIONS, report["session_errors"]


@pytest.mark.browser
def test_every_session_saw_the_finished_state(report):
    """The finish check is real: every page showed the element drawn only for a done run, and at
    least one session per config pressed an enabled Start (the others joined its run)."""
    assert report["sessions_saw_finished"] == SESSIONS
    assert CONFIGS <= report["sessions_pressed_start"] <= SESSIONS


@pytest.mark.browser
def test_one_training_per_unique_config(report):
    """Three sessions per config, one worker start per config (the workers' own start records, and
    as many server children in `ps`), and each run done in the store."""
    assert report["worker_starts"] == CONFIGS and report["runs_trained"] == CONFIGS, report["start_records"]
    assert report["ps_workers_seen"] == CONFIGS
    assert report["runs_done"] == CONFIGS == report["runs_in_store"], report["run_states"]


@pytest.mark.browser
def test_worker_processes_stay_within_the_bound(report):
    """`ps` never shows more workers (children of the server) than LTH_WORKERS."""
    assert 1 <= report["peak_workers"] <= WORKERS


@pytest.mark.browser
def test_the_server_refuses_cross_site_websockets_and_sets_the_xsrf_cookie(report):
    """A page on another site cannot drive a student's session; Streamlit's XSRF cookie is set."""
    assert report["websocket_status_cross_site"] == 403 and report["websocket_status_same_origin"] == 101
    assert report["xsrf_cookie_sessions"] == SESSIONS


@pytest.mark.browser
def test_the_full_check_passes(report):
    """The script's own verdict on the figures it reports."""
    assert load_test.check(report) == []
    assert report["usable_p95_s"] is not None


def test_a_workers_own_fork_is_not_a_second_worker(tmp_path):
    """During `import torch` a worker forks (ldconfig -p): until it execs, the child has the worker's
    command line. Only children of the server count, so one worker reads as one (the old count: 2)."""
    root, rid = str(tmp_path.resolve()), "0123456789abcdef"
    args = f"python -m lth_core work {rid} --store {root} --processes 1"
    table = [(100, 1, 0, "python -m streamlit run app.py"), (200, 100, 0, args), (201, 200, 0, args)]
    assert len(procwatch.work_processes(root, table)) == 2
    assert procwatch.worker_processes(root, table, parent=100) == {200: rid}


def test_worker_starts_come_from_the_workers_own_records(manager):
    """A real worker writes one start record (its pid, its run) to the run's worker.log."""
    jm = manager(workers=1)
    rid = jm.submit(tiny_config(seed=5), owner="a")
    end = time.monotonic() + 120
    while jm.jobs and time.monotonic() < end:
        time.sleep(0.1)
    records = procwatch.start_records(jm.store.root)
    assert [r["run"] for r in records] == [rid] and jm.pool.started_count == 1
    assert records[0]["pid"] == jm.store.status(rid)["pid"]  # the worker that wrote done
