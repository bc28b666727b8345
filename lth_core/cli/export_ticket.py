"""`lth export-ticket <run> --level L [--trial T] --out DIR`: a stored ticket as a checkpoint folder
(lth_core.api.checkpoint), loadable with plain torch."""
from __future__ import annotations

from lth_core.api.start import open_run
from lth_core.api.ticket import TicketError
from lth_core.cli.args import UsageError
from lth_core.service.settings import Settings


def cmd_export_ticket(a, settings: Settings) -> int:
    try:
        run = open_run(a.run, store=a.store or settings.store)
        out = run.export_ticket(a.out, a.level, a.trial)
    except (FileNotFoundError, TicketError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write into {a.out}: {exc.strerror or exc}") from None
    except ValueError as exc:  # --out names a file
        raise UsageError(str(exc)) from None
    meta = run.ticket(a.level, a.trial).metadata
    acc = meta["accuracy"].get("test_acc_at_early_stop")
    print(f"{out}: ticket of run {run.run_id}, level {a.level}, trial {a.trial}, {meta['percent_remaining']:.3g}% "
          f"of weights remaining" + (f", test accuracy at early stop {100 * acc:.2f}%" if acc is not None else ""))
    return 0
