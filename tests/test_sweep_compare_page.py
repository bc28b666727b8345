"""A sweep opened on the Compare page: `?sweep=<id>` overlays its runs, and an unknown or hostile id
is named in a warning, escaped. Driven headless with AppTest on a real 2-point sweep."""
from __future__ import annotations

from pathlib import Path

import pytest

from lth_core.cli import main as cli
from lth_core.store.sweeps import list_sweeps

TINY = ["--preset", "quick", "--set", "iterations=20", "--set", "eval-every=10", "--set", "rounds=1",
        "--processes", "1"]


@pytest.fixture
def sweep_store(tmp_path, data_dir, mnist1d, monkeypatch, capsys):
    """A store holding a finished 2-point sweep, served to the app: (root, sweep record)."""
    root = tmp_path / "runs"
    assert cli.main(["sweep", *TINY, "--grid", "rate=0.5,0.7", "--name", "two rates", "--store", str(root),
                     "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("LTH_STORE", str(root))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    yield root, list_sweeps(root)[0]
    from ui import state
    state.manager().shutdown()


def _compare(query: dict):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.run()
    at.query_params.update(query)
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_compare_opens_a_sweep_as_one_overlay(sweep_store):
    """?sweep=<id> selects every run of the sweep, labelled by the values that vary."""
    _, rec = sweep_store
    at = _compare({"sweep": rec["id"]})
    assert at.multiselect(key="compare_runs").value == [p["run_id"] for p in rec["points"]]
    assert at.selectbox(key="compare_sweep").value == rec["id"]
    assert not at.error and not at.warning


def test_compare_names_an_unknown_sweep_without_a_traceback(sweep_store):
    """A wrong or hostile sweep id in a link gets a warning with the value escaped, and the page still works."""
    at = _compare({"sweep": "[Log in](https://example.org)"})
    warning = " ".join(w.value for w in at.warning)
    assert "no sweep" in warning and "](https" not in warning
