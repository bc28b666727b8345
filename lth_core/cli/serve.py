"""`lth app`: serve the Streamlit app from wherever lth_core is, a checkout or an installed wheel.

It runs `python -m streamlit run <APP_ROOT>/ui/server.py` (APP_ROOT: the checkout, or the wheel's lth_app/):
the app's app.py served through st.App, behind its guard for nested addresses (ui/server.py).
Streamlit reads .streamlit/config.toml only from the working directory, and the app's one guards the
server (no error details shown to users, cross-site requests refused), so its settings are passed as
flags; then 127.0.0.1, so a laptop does not serve its network unless asked
(`lth app --server.address 0.0.0.0`, as scripts/start.sh does for a class; deploy/ keeps 127.0.0.1 behind a proxy); then the user's
own Streamlit flags, which win (the last of a repeated flag counts). Nothing here imports torch.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from lth_core.service.protocol import EXIT_FAILED, EXIT_USAGE
from lth_core.service.settings import APP_ROOT, Settings, SettingsError

USAGE = """usage: lth app [STREAMLIT FLAGS ...]

Serve the Lottery Ticket Explorer app at http://127.0.0.1:8501 (from {root}).
Every flag is Streamlit's (`python -m streamlit run --help`), e.g. --server.port 8502, or
--server.address 0.0.0.0 to serve every machine that can reach this one (a class).
The store, data folder and gallery are those of the LTH_* variables (README, "Install")."""


def add_app_parser(sub) -> None:
    """The `app` command; every argument after it is Streamlit's, so this parser knows no '-' flag."""
    p = sub.add_parser("app", help="serve the app (Streamlit) from this checkout or installed package; "
                                   "Streamlit's flags pass through", prefix_chars="+", add_help=False)
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER)


def config_flags(config: Path) -> list[str]:
    """The settings of a Streamlit config.toml as command-line flags: [server] port = 1 -> --server.port=1."""
    with open(config, "rb") as f:
        sections = tomllib.load(f)
    return [f"--{section}.{key}={str(value).lower() if isinstance(value, bool) else value}"
            for section, values in sections.items() for key, value in values.items()]


def command(streamlit_args: list[str], root: Path = APP_ROOT) -> list[str]:
    """The Streamlit command line that serves the app under `root` with these extra flags."""
    return [sys.executable, "-m", "streamlit", "run", str(root / "ui" / "server.py"),
            *config_flags(root / ".streamlit" / "config.toml"), "--server.address=127.0.0.1", *streamlit_args]


def cmd_app(a) -> int:
    """Replace this process with Streamlit (a supervisor's signals then reach the server itself)."""
    if {"-h", "--help"} & set(a.streamlit_args):
        print(USAGE.format(root=APP_ROOT))
        return 0
    try:
        Settings.from_env()  # a bad LTH_* value is said here, in one line, before the server starts
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not (APP_ROOT / "app.py").is_file():
        print(f"error: the app's files are not installed beside lth_core (no {APP_ROOT / 'app.py'}); "
              f"reinstall the package (pip install lottery-ticket-explorer) or run from a checkout", file=sys.stderr)
        return EXIT_FAILED
    cmd = command(a.streamlit_args)
    if os.name != "posix":  # no exec that keeps the process on Windows
        return subprocess.call(cmd)
    os.execv(cmd[0], cmd)
