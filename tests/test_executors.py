"""Choosing an executor: a wrong name, a bad Ray setting or a missing Ray is one line and exit
code 2 naming the allowed values; the local path never imports Ray."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lth_core.cli import main as cli

TINY = ["run", "--preset", "quick", "--iterations", "20", "--eval-every", "10", "--rounds", "1"]


@pytest.mark.parametrize("argv, env, needle", [
    (["--executor", "nope"], {}, "allowed: local, ray"),
    ([], {"LTH_EXECUTOR": "warp"}, "allowed: local, ray"),
    (["--cpus-per-task", "0"], {}, "--cpus-per-task must be a number > 0"),
    (["--gpus-per-task", "-1"], {}, "--gpus-per-task must be a number >= 0"),
])
def test_a_bad_executor_setting_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, env, needle):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code = cli.main(TINY + argv + ["--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and len(err.splitlines()) == 1 and needle in err, err


def test_ray_missing_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    """--executor ray without Ray installed: the pip command, not an ImportError traceback."""
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    code = cli.main(TINY + ["--executor", "ray", "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and "pip install" in err and "Traceback" not in err, err


def test_the_local_path_never_imports_ray(tmp_path, data_dir, mnist1d):
    """A run and a sweep on the local executor leave Ray unimported (it stays an optional dependency)."""
    code = ("import sys; from lth_core.cli.main import main; "
            f"assert main({TINY + ['--processes', '1', '--store', str(tmp_path / 's'), '--data-dir', str(data_dir)]!r}) == 0; "
            f"assert main(['sweep', '--preset', 'quick', '--set', 'iterations=20', '--set', 'rounds=1', "
            f"'--grid', 'seed=0,1', '--processes', '1', '--store', {str(tmp_path / 's')!r}, "
            f"'--data-dir', {str(data_dir)!r}]) == 0; "
            "assert 'ray' not in sys.modules, 'ray was imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
