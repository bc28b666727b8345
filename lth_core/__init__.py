"""Lottery Ticket Explorer's engine: find winning tickets by iterative magnitude pruning (IMP).

The Python API (lth_core.api), typed and stable:

    import lth_core
    run = lth_core.run(preset="quick", trials=3)   # -> Run (trained, or opened at once from the store)
    run.summary(), run.levels(), run.table()        # pandas DataFrames (lth_core.analysis)
    run.claims()                                    # the paper's claims with verdicts (analysis.stats)
    run.figure("accuracy")                          # the app's Plotly figures (lth_core.charts)
    run.ticket(level=3)                             # -> Ticket: a torch module, mask applied, θ₀ loaded
    run.ticket(level=3).save("ticket-L3")           # safetensors + JSON + a plain-torch loader
    lth_core.open("3f2a9c0d1b7e4a65")               # a stored run (store or gallery) by id or folder

The names are loaded on first use, so `import lth_core.config` (and `lth --help`) stays free of torch;
their types are in __init__.pyi.
"""
from __future__ import annotations

import importlib

__all__ = ["run", "open", "configure", "Run", "Ticket"]
_NAMES = {"run": "run", "open": "open_run", "configure": "configure", "Run": "Run", "Ticket": "Ticket"}


def __getattr__(name: str):
    if name in _NAMES:
        # why importlib, not an import statement: every `from lth_core import layout` below reads this package,
        # so a written import of the API here would draw the whole engine into one circle; this lookup runs
        # only when a user names lth_core.run (etc.), after the engine has loaded
        return getattr(importlib.import_module("lth_core.api"), _NAMES[name])
    raise AttributeError(f"module 'lth_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
