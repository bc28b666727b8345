"""The beyond-the-paper flags of `python -m lth_core run`: they reach the config, and a bad value is
one line naming the field and the allowed values, with exit code 2."""
from __future__ import annotations

import pytest

from lth_core.cli import args, main as cli
def _config(*flags):
    return args.config_from_args(args.build_parser().parse_args(["run", "--preset", "quick", *flags]))


def test_flags_reach_the_config():
    """Each flag sets its field, comma lists included."""
    c = _config("--criterion", "movement", "--criteria", "magnitude,large_init_large_final",
                "--at-init", "synflow,snip", "--at-init-checks", "shuffle", "--stability-levels", "2,0")
    assert c.pruning.criterion == "movement"
    assert c.criteria == ("magnitude", "large_init_large_final")
    assert c.at_init == ("snip", "synflow") and c.at_init_checks == ("shuffle",)
    assert c.stability_levels == (0, 2)
    assert _config("--granularity", "neurons").pruning.granularity == "neurons"


def test_no_flag_leaves_the_preset_and_its_run_id():
    """Without the new flags, the quick preset's run id is what it always was."""
    from lth_core.presets import get_preset
    assert _config().run_id() == get_preset("quick").run_id()


@pytest.mark.parametrize("flags,field", [
    (["--criteria", "bogus"], "criteria"),
    (["--granularity", "filters"], "granularity"),        # filters need conv layers: mlp1d has none
    (["--at-init", "snip", "--granularity", "neurons"], "at_init"),
    (["--at-init-checks", "shuffle"], "at_init_checks"),  # a check with no method to check
    (["--stability-levels", "9"], "stability_levels"),    # quick has 4 rounds
    (["--criterion", "magnitude", "--criteria", "magnitude"], "criteria"),
])
def test_bad_values_give_one_line_and_exit_2(tmp_path, capsys, flags, field):
    """A refused combination names its field, with no traceback."""
    code = cli.main(["run", "--preset", "quick", "--store", str(tmp_path), *flags])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {field}"), err
