"""The command line's answers to a store it cannot use: one line on stderr and exit code 2, no traceback."""
from __future__ import annotations

import pytest

from lth_core.cli import main as cli
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
