"""The gallery: finished runs shipped with the code, compact and read-only.

A gallery run keeps its config, status, metrics records, computed analyses and the ticket's
bit-packed masks; weights are left out (theta_0 is rebuilt from the seed; trained weights
would be too large), so a new analysis cannot run on it. The app opens gallery runs without
training and never writes there; new runs go to the store.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from lth_core import layout
from lth_core.store.complete import is_complete
from lth_core.store.run_store import Store

GALLERY_ROOT = Path(__file__).resolve().parents[2] / "gallery"
KEEP = (layout.CONFIG, layout.STATUS)
# The reproduction's full-length Fashion-MNIST run (docs/REPRODUCTION.md): 5 trials, 20,000 iterations
# per round, uncensored early stops. The Learn page opens it in one click.
HEADLINE = "71143a50cad0a843"
# The same network trained only 3,000 iterations per round: kept as the lesson on budgets.
SHORTENED = "469a0665c381dd61"
NOTES = {HEADLINE: "full-length budget", SHORTENED: "shortened budget",
         "54637ff2d80f965d": "shortened budget"}


def gallery_store(root: Path | None = None) -> Store:
    """The read-only gallery store."""
    return Store(root or GALLERY_ROOT, readonly=True)


def add(store: Store, run_id: str, root: Path | None = None) -> Path:
    """Copy a finished run's compact part into the gallery; returns its folder."""
    config = store.config(run_id)
    if not is_complete(config, store, run_id):
        raise ValueError(f"run {run_id} is not finished; only finished runs go into the gallery")
    src, dst = store.run_dir(run_id), Path(root or GALLERY_ROOT) / run_id
    if dst.exists():
        shutil.rmtree(dst)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        keep = str(rel) in KEEP or (len(rel.parts) == 3 and rel.parts[1].startswith("L")
                                    and (rel.suffix == ".json" or rel.name == "mask_ticket.st")) \
            or str(rel) in ("analysis/noise.json", "analysis/noise_init.json")  # analyses, not their jobs' logs
        if keep and path.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst / rel)
    bad = gallery_store(dst.parent).damaged_files(run_id)
    if bad:
        raise ValueError(f"copied gallery files fail their checksums: {bad}")
    return dst


def size_bytes(root: Path | None = None) -> int:
    """Total size of the gallery on disk."""
    base = Path(root or GALLERY_ROOT)
    return sum(p.stat().st_size for p in base.rglob("*") if p.is_file()) if base.is_dir() else 0
