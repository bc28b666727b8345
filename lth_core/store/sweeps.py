"""Sweep records: which runs make up one study, so the app can open them as one overlay.

A sweep's record, <store>/sweeps/<sweep id>.json, holds its name, grid, and per point the
varying values and run id; the runs stay ordinary runs. Its id hashes its points, so asking
for the same study again finds (and resumes) the same record.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

from lth_core.store.atomic import atomic_write_json

SWEEP_ID_RE = re.compile(r"^[0-9a-f]{12}$")


def sweep_id(points: list[dict]) -> str:
    """12 hex digits identifying a sweep by its points (the varying values and their run ids)."""
    body = json.dumps([{"run_id": p["run_id"], "values": p["values"]} for p in points], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def _folder(root: Path | str) -> Path:
    return Path(root) / "sweeps"


def write_sweep(root: Path | str, name: str, spec: dict, points: list[dict]) -> str:
    """Store a sweep's record (atomically; an existing one keeps its creation time); returns its id."""
    sid = sweep_id(points)
    path = _folder(root) / f"{sid}.json"
    created = time.time()
    if path.is_file():
        try:
            created = json.loads(path.read_text()).get("created", created)
        except (OSError, ValueError):
            pass
    atomic_write_json(path, {"id": sid, "name": name, "spec": spec, "points": points, "created": created})
    return sid


def read_sweep(root: Path | str, sid: str) -> dict | None:
    """A sweep's record, or None if there is none (or it cannot be read) under that id."""
    if not SWEEP_ID_RE.match(str(sid)):
        return None
    try:
        rec = json.loads((_folder(root) / f"{sid}.json").read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(rec, dict) and isinstance(rec.get("points"), list) and all(
        isinstance(p, dict) and isinstance(p.get("run_id"), str) and isinstance(p.get("values"), dict)
        for p in rec["points"])
    return rec if ok else None


def list_sweeps(*roots: Path | str) -> list[dict]:
    """Every readable sweep record in these stores, newest first."""
    out = []
    for root in roots:
        folder = _folder(root)
        if not folder.is_dir():
            continue
        for path in folder.glob("*.json"):
            rec = read_sweep(root, path.stem)
            if rec is not None:
                out.append(rec)
    return sorted(out, key=lambda r: -float(r.get("created") or 0))


def point_label(values: dict) -> str:
    """'rate=0.2 · seed=1': a point's varying values, for legends and menus."""
    return " · ".join(f"{k}={v}" for k, v in values.items()) or "(one config)"
