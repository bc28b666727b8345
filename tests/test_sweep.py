"""`python -m lth_core sweep`: a grid expands to validated configs, runs once per distinct config,
resumes from the store, and bad input gets one line naming the problem and the allowed values
(the Compare page's view of a sweep: test_sweep_compare_page.py)."""
from __future__ import annotations

import json

import pytest

from lth_core.cli import main as cli
from lth_core.cli.sweep import SweepError, expand, load_spec
from lth_core.store.run_store import Store
from lth_core.store.sweeps import list_sweeps, read_sweep

TINY = ["--preset", "quick", "--set", "iterations=20", "--set", "eval-every=10", "--set", "rounds=1",
        "--processes", "1"]

STUDY = """
name = "rate x seed"
preset = "quick"
[set]
iterations = 20
eval_every = 10
rounds = 1
controls = "reinit"
augment = false
[grid]
rate = [0.5, 0.7]
seed = [3, 4]
"""


def test_a_sweep_file_expands_to_the_product_of_its_grid(tmp_path):
    """Two rates x two seeds: four configs, each with the file's fixed settings."""
    path = tmp_path / "study.toml"
    path.write_text(STUDY)
    points = expand(load_spec(path, None, None, None, None))
    assert [v for v, _ in points] == [{"rate": 0.5, "seed": 3}, {"rate": 0.5, "seed": 4},
                                      {"rate": 0.7, "seed": 3}, {"rate": 0.7, "seed": 4}]
    assert all(c.training.iterations == 20 and c.controls == ("reinit",) for _, c in points)
    assert {c.pruning.rate for _, c in points} == {0.5, 0.7} and len({c.run_id() for _, c in points}) == 4


def test_flags_override_the_file(tmp_path):
    """--grid on the command line replaces the file's values for that flag."""
    path = tmp_path / "study.toml"
    path.write_text(STUDY)
    points = expand(load_spec(path, None, None, ["seed=9"], None))
    assert [v["seed"] for v, _ in points] == ["9", "9"] and all(c.seed == 9 for _, c in points)


@pytest.mark.parametrize("text, needle", [
    ("preset = 'quick'\n[grid]\nbogus = [1]\n", "allowed: arch"),
    ("preset = 'quick'\n[grid]\nrate = []\n", "non-empty list"),
    ("preset = 'quick'\n[grid]\nrate = [2.0]\n", "point rate=2.0"),
    ("preset = 'quick'\nextra = 1\n", "allowed: name, preset, set, grid"),
    ("preset = 'quick'\n[set]\nrate = 0.2\n[grid]\nrate = [0.5]\n", "both set and swept"),
    ("preset = [\n", "not valid TOML"),
])
def test_a_bad_sweep_file_says_what_is_wrong(tmp_path, text, needle):
    """Unknown keys and flags, empty lists, invalid values and broken TOML: one message each."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SweepError, match=needle):
        expand(load_spec(path, None, None, None, None))


def test_bad_sweep_input_exits_2_with_one_line(tmp_path, capsys):
    """On the command line: a missing file, a malformed --grid and an unknown flag, no traceback."""
    for argv in (["sweep", str(tmp_path / "missing.toml")], ["sweep", "--grid", "rate"],
                 ["sweep", "--grid", "colour=red"]):
        code = cli.main(argv + ["--store", str(tmp_path / "s")])
        err = capsys.readouterr().err
        assert code == cli.EXIT_USAGE and len(err.splitlines()) == 1 and err.startswith("error: "), err


def test_a_sweep_runs_each_distinct_config_once_and_resumes(tmp_path, data_dir, mnist1d, capsys, monkeypatch):
    """Duplicate points share one run; a second call trains nothing and reports every run done."""
    root = str(tmp_path / "s")
    argv = ["sweep", *TINY, "--grid", "seed=0,1,0", "--store", root, "--data-dir", str(data_dir), "--json"]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["points"]) == 3 and len({p["run_id"] for p in first["points"]}) == 2
    assert all(p["state"] == "done" and p["ticket_test_acc"] is not None for p in first["points"])
    from lth_core.lottery import tasks

    def no_training(spec):
        raise AssertionError("trained although the sweep's runs are complete")
    monkeypatch.setattr(tasks, "execute", no_training)
    assert cli.main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["sweep"] == first["sweep"] and [p["state"] for p in second["points"]] == ["done"] * 3


def test_a_sweep_is_recorded_for_the_compare_page(tmp_path, data_dir, mnist1d, capsys):
    """The store keeps the sweep's name, points and run ids, so the app can open it as one overlay."""
    root = tmp_path / "s"
    assert cli.main(["sweep", *TINY, "--grid", "rate=0.5,0.7", "--name", "two rates", "--store", str(root),
                     "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    (rec,) = list_sweeps(root)
    assert rec["name"] == "two rates" and [p["values"]["rate"] for p in rec["points"]] == ["0.5", "0.7"]
    assert all(Store(root).status(p["run_id"])["state"] == "done" for p in rec["points"])
    assert read_sweep(root, rec["id"]) == rec and read_sweep(root, "../../etc") is None
