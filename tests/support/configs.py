"""Tiny configs shared by the tests (also by tests/ray_cluster, whose own conftest shadows this folder's)."""
from __future__ import annotations

from lth_core.presets import get_preset


def tiny_config(**changes):
    """The quick preset cut to 20 iterations and 2 rounds: a whole run in about a second."""
    base = dict(iterations=20, eval_every=10, rounds=2)
    return get_preset("quick").replace(**{**base, **changes})
