"""The Run form keeps its experiment when the browser re-creates its widgets without their state.

Under load (30 browsers on 2 cores, docs/RELIABILITY.md section 1) pages lost their form: every
number fell to its widget's minimum, or the controls to none, so the page described another
experiment and never showed the run it had started. A widget the browser re-creates without its
state takes the default the server sent with it, and sends that back as its value. These tests
emulate exactly that with AppTest: each widget is set to its own default, and the form must not
change. Before the fix the defaults were the widgets' minimums; now they are the form's values.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lth_core.arms import CONTROLS
from lth_core.presets import get_preset
from support.apptest import assert_clean, empty_store, open_page  # noqa: F401  (empty_store: a fixture)
from ui import params

CONFIG = get_preset("lenet-fmnist").replace(rate=0.3, rounds=3, trials=2, iterations=1234, seed=7,
                                            controls=("reinit", "random"))
QUERY = params.params_from_values(params.values_from_config(CONFIG))


def _form_widgets(at: AppTest, kind: str) -> list:
    return [el for el in getattr(at, kind) if el.key and el.key.startswith("f_")]


def _default_value(el, kind: str):
    """The value the widget's default (sent to the browser with it) stands for."""
    p = el.proto
    if kind == "number_input":
        return int(p.default) if isinstance(el.value, int) else p.default
    if kind in ("selectbox", "radio"):
        return list(el.options)[p.default]
    if kind in ("checkbox", "text_input"):
        return p.default
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["number_input", "selectbox", "radio", "checkbox", "text_input"])
def test_every_form_widget_defaults_to_the_forms_value(empty_store, kind):
    """Each widget's default is its current value: a widget that loses its state keeps its value."""
    at = open_page("pages/run.py", QUERY)
    assert_clean(at)
    widgets = _form_widgets(at, kind)
    assert widgets, f"no {kind} on the Run form"
    for el in widgets:
        shown = el.format_func(el.value) if kind in ("selectbox", "radio") else el.value
        expected = pytest.approx(shown) if kind == "number_input" else shown
        assert _default_value(el, kind) == expected, el.key


def test_the_controls_default_to_the_forms_choice(empty_store):
    at = open_page("pages/run.py", QUERY)
    pills = at.pills(key="f_controls")
    assert [list(CONTROLS)[i] for i in pills.proto.default] == ["reinit", "random"]


def test_widgets_recreated_without_state_keep_the_experiment(empty_store):
    """Every number and the controls report their defaults, as re-created widgets do: the address,
    and so the run the page shows, stay the same (before the fix: rate 0.1%, 1 round, 1 iteration)."""
    at = open_page("pages/run.py", QUERY)
    assert_clean(at)
    assert at.query_params == QUERY
    for el in _form_widgets(at, "number_input"):
        if not el.proto.disabled:
            el.set_value(_default_value(el, "number_input"))
    controls = at.pills(key="f_controls")
    controls.set_value([list(CONTROLS)[i] for i in controls.proto.default])
    at.run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.query_params == QUERY
    assert params.config_from_values(params.values_from_params(dict(at.query_params))[0]).run_id() == CONFIG.run_id()
