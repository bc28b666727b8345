"""The command line: `python -m lth_core run | sweep | list | work | gallery | report | analyse | export-ticket`.

Bad flags or values and an unwritable store exit 2 with one line on stderr; a missing dataset
exits 3 saying what to do; never a traceback. Each command's module is imported only when it
runs, so `--help` and a bad flag answer without importing torch.
"""
from __future__ import annotations

import sys

from lth_core.cli.serve import cmd_app
from lth_core.cli.args import UsageError, build_parser, one_line
from lth_core.service.protocol import EXIT_USAGE


def _command(name: str):
    """The function that runs a command, (args, settings) -> exit code, its module imported now."""
    if name in ("run", "list", "gallery"):
        from lth_core.cli import commands  # why: imports torch (seconds), which --help must not wait for
        return {"run": commands.cmd_run, "list": commands.cmd_list, "gallery": commands.cmd_gallery}[name]
    if name in ("report", "analyse"):
        from lth_core.cli import stored  # why: imports torch and plotly, which --help must not wait for
        return stored.cmd_report if name == "report" else stored.cmd_analyse
    if name == "export-ticket":
        from lth_core.cli import export_ticket  # why: imports torch, which --help must not wait for
        return export_ticket.cmd_export_ticket
    if name == "sweep":
        from lth_core.cli import sweep  # why: imports torch, which --help must not wait for
        return sweep.cmd_sweep
    from lth_core.cli import work  # why: imports torch, which --help must not wait for
    return work.cmd_work


def main(argv=None) -> int:
    try:
        a = build_parser().parse_args(argv)
    except SystemExit as exc:  # only -h/--help exit here (errors raise UsageError): help was printed
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    if a.command == "app":  # straight to Streamlit: the app imports torch itself, in its own process
        return cmd_app(a)
    command = _command(a.command)
    from lth_core.cli import common  # why: imports torch (its errors are caught there), which --help must not
    return common.execute(command, a)
