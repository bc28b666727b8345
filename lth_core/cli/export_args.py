"""`export-ticket`'s flags (no torch here, so `--help` answers at once)."""
from __future__ import annotations

from pathlib import Path


def add_export_parser(sub, integer) -> None:
    """The export-ticket subcommand; integer(flag, lo, hi) parses a ranged whole number (cli.args)."""
    e = sub.add_parser("export-ticket", help="write a run's winning ticket as a checkpoint folder: safetensors "
                                             "(θ₀ of the survivors, mask, trained weights), JSON metadata and a "
                                             "plain-torch loader (load_ticket.py)")
    e.add_argument("run", help="run id (searched in the store, then the gallery) or a run's folder")
    e.add_argument("--level", type=integer("--level", 0, 10_000), required=True,
                   help="pruning level, 0 (dense) to the run's rounds")
    e.add_argument("--trial", type=integer("--trial", 0, 10_000), default=0, help="trial (default 0)")
    e.add_argument("--out", type=Path, required=True, help="folder to write (made if absent)")
    e.add_argument("--store", type=Path, help="store searched before the gallery (default $LTH_STORE, else ./runs "
                                              "in a checkout or the user data folder when installed)")
