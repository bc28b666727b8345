"""Links a teacher can hand out: URL flags that hide controls of the Run form or lock them.

Each flag is a comma list of control names (ui/params.py's URL names, less `preset`):
`lock` draws them disabled at the link's value, `hide` does not draw them, `only` hides every
control not named. The strictest flag wins (hidden over locked over free). Some names cover
one control together (`rate`/`target`; `conv_rate`/`output_rate` share the per-layer box).
Unknown names are dropped with a message listing the allowed ones; `none` names no control.
No Streamlit here, so the parsing is testable alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ui.params import FLAGS, PARAMS
from ui.text import quoted

NAMES = tuple(p for p in PARAMS if p != "preset")  # what a flag may name
FREE, LOCKED, HIDDEN = 0, 1, 2  # ordered: the strictest wins
# control name -> the form's widgets it stands for (ui/forms.py draws them under these names)
WIDGETS = {**{n: (n,) for n in NAMES}, "rate": ("schedule", "rate", "target"),
           "target": ("schedule", "rate", "target"), "rewind": ("reset", "rewind"),
           "conv_rate": ("custom_rates", "conv_rate"), "output_rate": ("custom_rates", "output_rate")}


@dataclass(frozen=True)
class Link:
    """What a link fixes: control name and widget name -> FREE, LOCKED or HIDDEN (absent: free), and the
    flags to keep in the URL."""
    controls: dict[str, int] = field(default_factory=dict)
    widgets: dict[str, int] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)

    def hidden(self, widget: str) -> bool:
        return self.widgets.get(widget, FREE) == HIDDEN

    def locked(self, widget: str) -> bool:
        return self.widgets.get(widget, FREE) == LOCKED

    def fixes(self, widget: str) -> bool:
        return self.widgets.get(widget, FREE) != FREE

    def fixed(self) -> tuple[str, ...]:
        """The widget names a student cannot change, in the form's order."""
        return tuple(w for w in self.widgets if self.widgets[w] != FREE)

    def count(self, level: int) -> int:
        """How many controls the link puts at this level (`rate` and `target` count once)."""
        return sum(lv == level for n, lv in self.controls.items() if n != "target")


NO_LINK = Link()
SAME = {"rate": "target", "target": "rate"}  # two names of one control


def _names(flag: str, raw: str, problems: list[str]) -> list[str]:
    """The valid names in one flag's comma list, in NAMES order; one message per unknown name."""
    items = [x.strip() for x in raw.split(",") if x.strip()]
    for bad in [x for x in items if x not in NAMES and x != "none"]:
        problems.append(f"URL parameter `{flag}`: {quoted(bad)} is not a control of the Run page and was ignored; "
                        f"allowed: a comma list of {', '.join(NAMES)}, or none.")
    return [n for n in NAMES if n in items]


def parse(qp: dict) -> tuple[Link, list[str]]:
    """The link's flags from a query string (str -> str), and one message per unknown name in them."""
    problems: list[str] = []
    named = {flag: _names(flag, qp[flag], problems) for flag in FLAGS if flag in qp}
    if not named:
        return NO_LINK, problems
    both = {flag: set(names) | {SAME[n] for n in names if n in SAME} for flag, names in named.items()}
    state = {n: FREE for n in NAMES}
    if "only" in both:
        state = {n: FREE if n in both["only"] else HIDDEN for n in NAMES}
    for flag, level in (("lock", LOCKED), ("hide", HIDDEN)):
        for n in both.get(flag, ()):
            state[n] = max(state[n], level)
    widgets: dict[str, int] = {}
    for n, level in state.items():
        for w in WIDGETS[n]:
            widgets[w] = max(widgets.get(w, FREE), level)
    return Link(state, widgets, {flag: ",".join(names) or "none" for flag, names in named.items()}), problems
