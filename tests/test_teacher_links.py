"""Links a teacher can hand out (ui/links.py): `lock=`, `hide=` and `only=` fix chosen Run-page controls
to the link's values. Driven headless with AppTest, as tests/test_app_pages.py drives the pages."""
from __future__ import annotations

import pytest

from lth_core.store.run_store import Store
from support.apptest import LINK, assert_clean, empty_store, live_links, open_page  # noqa: F401 (fixture)
from ui import links, params

QUICK_20 = {"preset": "quick", "rate": "0.2"}
FLAGS = set(params.FLAGS)


def form_widgets(at) -> set[str]:
    """Keys of the Run form's widgets drawn on the page."""
    kinds = ("number_input", "selectbox", "radio", "checkbox", "text_input", "pills", "multiselect")
    return {w.key for kind in kinds for w in at.get(kind) if (w.key or "").startswith("f_")}


def link_config(query: dict):
    """The experiment the link's own values describe (its flags left out)."""
    values, problems = params.values_from_params({k: v for k, v in query.items() if k not in FLAGS})
    assert not problems
    return params.config_from_values(values)


def test_a_locked_control_is_disabled_at_the_links_value(empty_store):
    """lock=rate draws the rate greyed out, at the rate the link gives."""
    at = open_page("pages/run.py", {**QUICK_20, "lock": "rate"})
    assert_clean(at)
    rate = at.number_input(key="f_rate")
    assert rate.disabled and rate.value == pytest.approx(20.0)
    assert not at.number_input(key="f_rounds").disabled


def test_hidden_controls_are_not_drawn_and_keep_the_links_values(empty_store):
    """hide=dataset,arch draws neither, and the address still names the link's dataset and network."""
    query = {"preset": "lenet-fmnist", "dataset": "mnist1d", "arch": "mlp1d", "hide": "dataset,arch"}
    at = open_page("pages/run.py", query)
    assert_clean(at)
    assert not {"f_dataset", "f_arch"} & form_widgets(at)
    assert (at.query_params["dataset"], at.query_params["arch"]) == ("mnist1d", "mlp1d")


def test_only_rate_shows_only_the_rate_control(empty_store):
    """only=rate: the student sees how much to prune (the rate and its rate-or-target switch), nothing else."""
    at = open_page("pages/run.py", {**QUICK_20, "only": "rate"})
    assert_clean(at)
    assert form_widgets(at) == {"f_schedule", "f_rate"}
    assert at.number_input(key="f_rate").value == pytest.approx(20.0)


def test_the_form_builds_exactly_the_links_config(empty_store):
    """Start under only=rate stores the config the link's values describe (same run id)."""
    query = {"preset": "quick", "rate": "0.3", "iterations": "20", "eval_every": "10", "rounds": "2",
             "controls": "random", "seed": "7", "only": "rate"}
    at = open_page("pages/run.py", query)
    at.button(key="start").click().run()
    assert_clean(at)
    expected = link_config(query)
    assert Store(empty_store).run_ids() == [expected.run_id()]
    assert Store(empty_store).config(expected.run_id()) == expected


def test_the_flags_survive_a_change_of_the_free_control(empty_store):
    """The form rewrites the address on every change: the flags stay, and only the changed value moves."""
    query = {**QUICK_20, "seed": "7", "only": "rate", "lock": "seed"}
    at = open_page("pages/run.py", query)
    at.number_input(key="f_rate").set_value(30.0).run()
    assert_clean(at)
    assert (at.query_params["only"], at.query_params["lock"]) == ("rate", "seed")
    assert at.query_params["rate"] == "0.3" and at.query_params["seed"] == "7"
    assert form_widgets(at) == {"f_schedule", "f_rate"}


def test_a_free_control_cannot_move_a_fixed_one(empty_store):
    """A new network brings its paper pruning, except where the link locks it (strategy stays layer-wise)."""
    at = open_page("pages/run.py", {"dataset": "cifar10", "arch": "conv2", "lock": "strategy"})
    at.selectbox(key="f_arch").set_value("vgg19").run()
    assert_clean(at)
    assert at.radio(key="f_strategy").value == "layerwise" and at.query_params["strategy"] == "layerwise"


def test_the_preset_buttons_are_gone_under_a_link(empty_store):
    """A preset button would replace the address and with it the link's locks."""
    at = open_page("pages/run.py", {**QUICK_20, "lock": "rate"})
    assert_clean(at)
    assert not [b for b in at.button if (b.key or "").startswith("preset_")]


def test_the_command_line_is_still_the_full_experiment(empty_store):
    """The command-line expander spells out every setting, the hidden ones too."""
    at = open_page("pages/run.py", {**QUICK_20, "only": "rate"})
    command = at.code[0].value
    assert "--dataset mnist1d" in command and "--rate 0.2" in command and "--seed 0" in command


def test_an_unknown_control_name_lists_the_allowed_names(empty_store):
    """lock=rate,colour: a message names `lock`, the bad name and every allowed name; rate stays locked."""
    at = open_page("pages/run.py", {**QUICK_20, "lock": "rate,colour"})
    assert_clean(at)
    message = " ".join(e.value for e in at.error)
    assert "`lock`" in message and "colour" in message and ", ".join(links.NAMES) in message
    assert at.number_input(key="f_rate").disabled and at.query_params["lock"] == "rate"


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_markdown_in_a_flag_is_not_a_live_link(empty_store, flag):
    """A flag cannot plant a phishing link in the app's own error box."""
    at = open_page("pages/run.py", {**QUICK_20, flag: f"rate,{LINK}"})
    assert_clean(at)
    shown = [e.value for e in at.error]
    assert shown and not [link for s in shown for link in live_links(s)], shown


def test_a_beyond_the_paper_control_can_be_the_only_one(empty_store):
    """only=criteria: a class chooses which extra criteria to compare, nothing else; a locked stability
    level stays at the link's value."""
    query = {**QUICK_20, "criteria": "movement", "stability_levels": "2", "only": "criteria",
             "lock": "stability_levels"}
    at = open_page("pages/run.py", query)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert form_widgets(at) == {"f_criteria"}
    at.pills(key="f_criteria").set_value(["movement", "magnitude_increase"]).run()
    assert_clean(at)
    assert at.query_params["criteria"] == "magnitude_increase,movement" and at.query_params["stability_levels"] == "2"
    assert (at.query_params["only"], at.query_params["lock"]) == ("criteria", "stability_levels")


def test_a_locked_beyond_control_is_greyed_out(empty_store):
    """lock=criterion draws the criterion disabled at the link's value, the rest free."""
    at = open_page("pages/run.py", {**QUICK_20, "criterion": "movement", "lock": "criterion"})
    assert_clean(at)
    assert at.selectbox(key="f_criterion").disabled and at.selectbox(key="f_criterion").value == "movement"
    assert not at.pills(key="f_criteria").disabled
