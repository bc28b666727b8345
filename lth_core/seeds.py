"""Seeds derived from other seeds, so every random step of a run has its own reproducible stream."""
from __future__ import annotations

import hashlib


def derive_seed(*parts) -> int:
    """A 31-bit seed determined by its parts, e.g. (trial seed, 'reinit', level)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "big") & 0x7FFFFFFF
