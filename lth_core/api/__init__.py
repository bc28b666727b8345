"""The Python API: train or open a run, read its tables, claims and figures, take a ticket away.

    import lth_core
    run = lth_core.run(preset="quick", trials=3)     # trains, or opens at once if the store has it
    run.levels()                                     # pandas: mean/min/max per level and network
    run.claims()["a"]["verdict"]                     # the paper's claims, from analysis.stats
    run.figure("accuracy").show()                    # the app's Plotly figure
    ticket = run.ticket(level=3)                     # torch module: mask applied, θ₀ loaded
    ticket.save("ticket-L3")                         # safetensors + JSON + a plain-torch loader

This package sits on top of the engine, beside the command line; nothing below imports it.
"""
from __future__ import annotations

from lth_core.api.handle import Run
from lth_core.api.start import configure, open_run, run
from lth_core.api.ticket import Ticket

__all__ = ["Run", "Ticket", "configure", "open_run", "run"]
