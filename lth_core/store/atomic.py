"""Atomic file writes: write a temp file in the same folder, fsync, rename, fsync the folder.

A reader never sees a half-written file, and a writer killed mid-write leaves
only a stray *.tmp that nothing reads.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import torch


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> str:
    """Write `data` to `path` atomically; returns its sha256 hex digest.

    durable=False skips the fsync, for progress records rewritten every second: a stale copy after
    a crash does no harm, and the rename still hides partial files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(folder: Path) -> None:
    """fsync a folder: the rename lives in the folder's entries, which the file's own fsync does not
    cover, so without this a power cut can bring back the old file (or none)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_json(path: Path, obj) -> str:
    """JSON (allow_nan=False keeps files strict) written atomically; returns sha256."""
    return atomic_write_bytes(path, json.dumps(obj, indent=1, sort_keys=True, allow_nan=False).encode())


def atomic_torch_save(obj, path: Path) -> str:
    """torch.save of plain tensors/containers, atomically (load with weights_only=True)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(path, buf.getvalue())
