"""Why a worker ended, when it could not say so itself: read from the end of its log."""
from __future__ import annotations

import errno
import os
from pathlib import Path

TAIL_BYTES = 8192
_ENOSPC = os.strerror(errno.ENOSPC)  # "No space left on device"


def log_tail(log: Path, size: int = TAIL_BYTES) -> str:
    """The last `size` bytes of a log as text ('' if it cannot be read)."""
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def disk_was_full(log: Path) -> bool:
    """Whether the worker that wrote this log stopped on a full disk (ENOSPC near its end)."""
    return _ENOSPC in log_tail(log)
