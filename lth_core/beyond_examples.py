"""Which gallery example answers each "beyond the paper" question: question -> preset name.

Run ids are never written down here: a preset's run id is its config's hash
(get_preset(name).run_id()), so an example counts as available exactly when a
run with that id is in the gallery. The Learn and Beyond pages read only this.
"""
from __future__ import annotations

from lth_core.presets import PRESETS, get_preset
from lth_core.store.run_store import Store

# question -> preset (lth_core.presets); None: no example chosen yet
BEYOND_EXAMPLES: dict[str, str | None] = {
    "criteria": "beyond-criteria",      # which weights to keep (Zhou et al. 2019)
    "at_init": "beyond-at-init",        # tickets found at initialisation (Frankle et al. 2021)
    "noise": "beyond-criteria",         # robustness to weight noise: any run with stored weights
    "structured": "beyond-structured",  # structured pruning and speed (Liu et al. 2019)
    "stability": "beyond-rewind",       # stability and rewinding (Frankle et al. 2020)
}
QUESTIONS = {"criteria": "Which weights to keep", "at_init": "Tickets at initialisation",
             "noise": "Robustness to weight noise", "structured": "Structured pruning and speed",
             "stability": "Stability and rewinding"}


def example_run_id(question: str) -> str | None:
    """The run id of the question's example preset (None: no preset chosen, or an unknown one)."""
    name = BEYOND_EXAMPLES.get(question)
    return get_preset(name).run_id() if name in PRESETS else None


def gallery_example(question: str, gallery: Store | None) -> str | None:
    """The question's example run id when that run is in `gallery`, else None."""
    run_id = example_run_id(question)
    return run_id if run_id and gallery is not None and gallery.has_run(run_id) else None


def reset_partner(question: str) -> str | None:
    """For stability, the reset-to-theta_0 run paired with the rewinding example: the criteria
    example trains its ticket twice at the same levels with reset='init' (None if not stability)."""
    return example_run_id("criteria") if question == "stability" else None
