"""The command line's answers to a store it cannot use: one line on stderr and exit code 2, no traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lth_core.cli import args, main as cli
TINY_RUN = ["run", "--iterations", "20", "--eval-every", "10", "--rounds", "1", "--processes", "1"]


def _unwritable(kind: str, tmp_path) -> str:
    """A store path that cannot be written, even by root: in /proc, a file, or a folder under a file."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return {"proc": "/proc/1/x", "file": str(a_file), "under-a-file": str(a_file / "runs")}[kind]


@pytest.mark.parametrize("given", ["flag", "env"])
@pytest.mark.parametrize("kind", ["proc", "file", "under-a-file"])
def test_an_unwritable_store_gives_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys, kind, given):
    """`--store /proc/1/x` (or LTH_STORE pointing there) is a usage error the user can fix, not a crash."""
    store = _unwritable(kind, tmp_path)
    if given == "env":
        monkeypatch.setenv("LTH_STORE", store)
    code = cli.main(TINY_RUN + (["--store", store] if given == "flag" else []))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and store in err, err


def test_an_unwritable_store_is_reported_before_any_note(tmp_path, capsys):
    """Even with the note about a missing --preset due, the error stays the only line."""
    store = _unwritable("file", tmp_path)
    code = cli.main(TINY_RUN + ["--dataset", "mnist1d", "--store", store])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and len(err.splitlines()) == 1 and err.startswith("error: "), err


def test_a_store_folder_yet_to_be_made_is_accepted_and_nothing_is_created_by_the_check(tmp_path):
    """A new store folder under a writable one is fine; the check itself leaves no folder behind."""
    from lth_core.store.run_store import Store
    Store(tmp_path / "new" / "runs").check_writable()
    assert list(tmp_path.iterdir()) == []


BIG = ["--preset", "conv2-cifar10", "--batch-size", "45000"]  # a valid config, over the default memory limit


def test_a_run_over_the_memory_limit_exits_2_naming_the_estimate_and_the_limit(tmp_path, monkeypatch, capsys):
    """The memory limit is the server's policy, applied before computing: one line, exit code 2."""
    monkeypatch.setenv("LTH_MAX_MEMORY_GB", "4")
    code = cli.main(["run", *BIG, "--store", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and len(err.splitlines()) == 1, err
    assert err.startswith("error: batch_size: ") and "GB at its peak" in err and "the limit is 4 GB" in err
    assert not list(tmp_path.iterdir())  # nothing was created


def test_a_stored_run_is_never_corrupt_under_a_lower_memory_limit(tmp_path, monkeypatch, capsys):
    """A run stored on a machine with more memory still reads, lists and validates here: validation
    knows nothing of the limit."""
    from lth_core.config import ExperimentConfig
    from lth_core.store.run_store import Store
    config = args.config_from_args(args.build_parser().parse_args(["run", *BIG]))
    store = Store(tmp_path)
    run_id = store.create(config)
    monkeypatch.setenv("LTH_MAX_MEMORY_GB", "0.001")
    assert store.config(run_id) == config and ExperimentConfig.from_dict(config.to_dict()).run_id() == run_id
    assert cli.main(["list", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert run_id in out and "corrupt" not in out and "damaged" not in out


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["run", "--bogus"], ["run", "--rate", "20"]])
def test_help_and_a_bad_flag_answer_without_importing_torch(argv):
    """Parsing is pure: `--help` and a typo answer in a fraction of a second, not after importing torch."""
    code = "import sys; from lth_core.cli.main import main; main(%r); print('torch' in sys.modules)" % argv
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout[-500:] + out.stderr[-500:]
