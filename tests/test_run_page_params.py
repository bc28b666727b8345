"""The Run page's controls beyond the paper (issues 13 and 14): pruning criterion and granularity, extra
criteria, masks at initialisation and their checks, stability levels. Each lives in the URL
(ui/params.py), bad values give a message naming the parameter, a paper run's address and run id are
what they were, the estimate counts every planned network, and run labels name the new arms."""
from __future__ import annotations

import pytest

from lth_core import estimate
from lth_core.config import ExperimentConfig
from lth_core.plan import batch_of, planned_tasks, task_steps
from lth_core.presets import PRESETS, get_preset
from support.apptest import assert_clean, empty_store, open_page, texts  # noqa: F401 (fixture)
from ui import links, params, runpick

EXAMPLE = {"criterion": "movement", "granularity": "neurons", "criteria": "magnitude,large_init_large_final",
           "stability_levels": "0,2"}
AT_INIT = {"at_init": "snip,synflow", "at_init_checks": "shuffle,reinit"}
# The quick preset's address and run id as the form wrote them before these controls existed (59ebb5d)
OLD_QUICK = {"dataset": "mnist1d", "arch": "mlp1d", "rate": "0.5", "rounds": "4", "strategy": "layerwise",
             "rewind": "0", "controls": "reinit", "trials": "1", "iterations": "350", "optimizer": "adam",
             "lr": "0.005", "batch_size": "240", "eval_every": "25", "dropout": "0.0", "weight_decay": "0.0",
             "warmup": "0", "lr_milestones": "none", "lr_factor": "0.1", "augment": "false", "seed": "0"}
OLD_IDS = {"quick": "b3fb8f0ac986fd6b", "lenet-fmnist": "45e6e3eb8c42f8d1", "vgg19-cifar10-rewind": "48546794c2ae9f26"}
BEYOND = [name for name in PRESETS if name.startswith("beyond-")]


def config_of(query: dict) -> ExperimentConfig:
    values, problems = params.values_from_params(query)
    assert not problems, problems
    return params.config_from_values(values)


@pytest.mark.parametrize("query", [EXAMPLE, AT_INIT, {"criterion": "magnitude_increase"},
                                   {"dataset": "cifar10", "arch": "conv4", "granularity": "filters"},
                                   {"criteria": "movement"}, {"stability_levels": "4"}])
def test_each_field_round_trips_through_the_url(query):
    """URL -> config -> URL gives back the same parameters, and the config holds them."""
    config = config_of(query)
    back = params.params_from_values(params.values_from_config(config))
    assert {k: back[k] for k in query} == query
    assert config_of(back).run_id() == config.run_id()


def test_the_example_url_builds_the_config_it_names():
    """Every field of the issue's example lands in the config (the at-init arms with unstructured pruning)."""
    c = config_of(EXAMPLE)
    assert (c.pruning.criterion, c.pruning.granularity) == ("movement", "neurons")
    assert c.criteria == ("magnitude", "large_init_large_final") and c.stability_levels == (0, 2)
    c = config_of(AT_INIT)
    assert c.at_init == ("snip", "synflow") and c.at_init_checks == ("shuffle", "reinit")
    assert "snip_shuffle" in c.arms and "synflow_reinit" in c.arms


@pytest.mark.parametrize("name", list(OLD_IDS))
def test_a_paper_runs_address_and_id_are_unchanged(name):
    """A paper experiment's address names none of the new parameters, and keeps its run id."""
    query = params.params_from_values(params.values_from_config(get_preset(name)))
    assert not set(params.BEYOND) & set(query)
    assert config_of(query).run_id() == OLD_IDS[name]


def test_the_old_default_address_opens_the_same_run():
    """A link written before these controls existed gives the same config, the same id and the same URL."""
    config = config_of(OLD_QUICK)
    assert config.run_id() == OLD_IDS["quick"] and config_of({}).run_id() == OLD_IDS["quick"]
    assert params.params_from_values(params.values_from_config(config)) == OLD_QUICK


@pytest.mark.parametrize("query, named, allowed", [
    ({"criterion": "biggest"}, "criterion", "magnitude, magnitude_increase, movement, large_init_large_final"),
    ({"granularity": "filters"}, "granularity", "unstructured, neurons"),  # mlp1d has no filters
    ({"dataset": "fashion-mnist", "granularity": "filters"}, "granularity", "unstructured, neurons"),
    ({"granularity": "channels"}, "granularity", "unstructured, neurons"),
    ({"criteria": "movement,best"}, "criteria", "magnitude_increase, movement"),
    ({"criterion": "movement", "criteria": "movement"}, "criteria", "already the ticket's"),
    ({"at_init": "grasp"}, "at_init", "snip, synflow, magnitude_init"),
    ({"at_init_checks": "flip"}, "at_init_checks", "shuffle, reinit"),
    ({"stability_levels": "0,9"}, "stability_levels", "levels in [0, 4]"),
    ({"granularity": "neurons", "at_init": "snip"}, "at_init", "allowed: none"),
    ({"at_init_checks": "shuffle"}, "at_init_checks", "allowed: none"),
    ({"stability_levels": "-1"}, "stability_levels", "levels in [0, 4]"),
    ({"stability_levels": "x" * 500}, "stability_levels", "levels in [0, 4]"),
])
def test_a_bad_value_names_the_parameter_and_the_allowed_values(query, named, allowed):
    """One message per bad value, naming it and what is allowed; the default stays."""
    values, problems = params.values_from_params(query)
    assert len(problems) == 1 and f"`{named}`" in problems[0] and allowed in problems[0]
    assert values[named] == params.defaults()[named]
    assert len(problems[0]) < 400  # a hostile value is cut short


def test_markdown_in_a_list_value_is_escaped():
    """A link planted in a new parameter cannot become a live link in the error box."""
    _, problems = params.values_from_params({"criteria": "[Log in](https://example.org)"})
    assert problems and "](" not in problems[0] and "\\[" in problems[0]


def test_a_presets_value_that_no_longer_fits_gives_way():
    """A preset's stability levels past the URL's rounds, or its granularity on another network, drop quietly."""
    c = config_of({"preset": "beyond-criteria", "rounds": "2"})
    assert c.stability_levels == (0, 1) and len(c.criteria) == 3
    c = config_of({"preset": "beyond-structured", "dataset": "cifar10", "arch": "vgg19"})
    assert c.pruning.granularity == "unstructured"
    c = config_of({"preset": "beyond-criteria", "criterion": "movement"})
    assert "movement" not in c.criteria and c.pruning.criterion == "movement"


@pytest.mark.parametrize("name", BEYOND)
def test_the_estimate_counts_every_planned_network(name):
    """Training time is the steps of every planned network (arms, criteria, at-init, stability copies)."""
    config = get_preset(name).replace(trials=2)
    tasks = planned_tasks(config)
    per_trial = 1 + config.pruning.rounds * len(config.arms) + len(config.stability_levels)
    assert len(tasks) == config.trials * per_trial
    assert estimate.planned_steps(config) == sum(task_steps(config, lv, arm) for _, lv, arm in tasks)
    cost = estimate.Cost(step_s=1e-3, eval_s_per_example=0.0, device="cpu", threads=1, steps_timed=30)
    batches = len({batch_of(config, lv, arm) for _, lv, arm in tasks})
    masks = sum(estimate.MASK_STEPS.get(arm, 0) for _, _, arm in tasks)
    training = estimate.estimate_seconds(config, cost, 1) - estimate.STARTUP_S - batches * estimate.LEVEL_S
    # one worker: the networks train one after another (a rewound batch's all count its longest one's steps)
    expected = (estimate.planned_steps(config) + masks) * cost.step_s
    assert training == pytest.approx(expected) if config.reset == "init" else training >= expected


def test_stability_copies_and_at_init_arms_add_their_networks():
    """Each stability level adds one network per trial; at-init arms and their checks train from iteration 0."""
    base = get_preset("quick").replace(reset="rewind", rewind_iteration=50, trials=2)
    more = base.replace(stability_levels=(0, 2), at_init=("magnitude_init",), at_init_checks=("reinit",))
    added = [t for t in planned_tasks(more) if t not in planned_tasks(base)]
    assert len(added) == 2 * (2 + 2 * base.pruning.rounds)
    assert {task_steps(more, lv, arm) for _, lv, arm in added if arm != "ticket_copy"} == {350}
    assert {task_steps(more, lv, arm) for _, lv, arm in added if arm == "ticket_copy"} == {300}
    cost = estimate.Cost(step_s=1e-3, eval_s_per_example=1e-6, device="cpu", threads=1, steps_timed=30)
    assert estimate.estimate_seconds(more, cost, 1) > estimate.estimate_seconds(base, cost, 1) + 0.3 * len(added)


@pytest.mark.parametrize("name, shows", [
    ("beyond-criteria", ["+ 3 criteria", "stability at 4 levels"]),
    ("beyond-at-init", ["+ SNIP, SynFlow, magnitude at init (shuffled, re-init, inverted checks)"]),
    ("beyond-structured", ["30% of neurons/round × 6"]),
    ("quick", ["50%/round × 4 · vs re-init · 1 trial"]),
])
def test_run_labels_name_the_new_arms(name, shows):
    """The run picker's labels say which extra networks a run trains."""
    config = get_preset(name)
    row = {"run_id": config.run_id(), "dataset": config.dataset, "arch": config.arch, "levels": config.levels,
           "controls": list(config.controls), "trials": config.trials, "rate": config.pruning.rate,
           "iterations": config.training.iterations, "state": "done", **runpick._beyond(config)}
    for label in (runpick.config_label(config), runpick.row_label(row)):
        for text in shows:
            assert text in label, label
    assert "by movement" in runpick.config_label(get_preset("quick").replace(criterion="movement"))


def test_a_teachers_link_knows_the_new_controls():
    """lock=/hide=/only= accept the new control names, each standing for its own widget."""
    link, problems = links.parse({"lock": "criteria,stability_levels", "hide": "at_init"})
    assert not problems
    assert link.locked("criteria") and link.locked("stability_levels") and link.hidden("at_init")
    assert not link.fixes("criterion")


def test_the_run_page_draws_the_example_url(empty_store):
    """The issue's example address opens with every control set, no error, and is written back unchanged."""
    at = open_page("pages/run.py", {"dataset": "fashion-mnist", **EXAMPLE})
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="f_criterion").value == "movement"
    assert at.radio(key="f_granularity").value == "neurons"
    assert at.radio(key="f_granularity").options == ["single weights", "whole neurons"]  # LeNet has no filters
    assert at.pills(key="f_criteria").value == ["magnitude", "large_init_large_final"]
    assert at.multiselect(key="f_stability_levels").value == [0, 2]
    assert at.pills(key="f_at_init").disabled  # masks at init are unstructured
    assert {k: at.query_params[k] for k in EXAMPLE} == EXAMPLE
    config = config_of({"dataset": "fashion-mnist", **EXAMPLE})
    assert f"{len(planned_tasks(config)):,} networks to train" in texts(at)


def test_the_run_page_keeps_the_default_view_simple(empty_store):
    """Without the new parameters the expander is closed and the address names none of them."""
    at = open_page("pages/run.py")
    assert_clean(at)
    beyond = [e for e in at.expander if e.label == "Beyond the paper"]
    assert beyond and not set(params.BEYOND) & set(at.query_params)


def test_at_init_masks_with_whole_neurons_give_a_message_not_a_traceback(empty_store):
    """At-init masks are unstructured: with granularity=neurons the URL's at_init is refused by name, and
    the form greys the control out."""
    at = open_page("pages/run.py", {"dataset": "fashion-mnist", "granularity": "neurons", "at_init": "snip"})
    assert_clean(at)
    shown = " ".join(e.value for e in at.error)
    assert "`at_init`" in shown and "allowed: none" in shown
    assert at.pills(key="f_at_init").disabled and "at_init" not in at.query_params


def test_a_choice_the_config_refuses_gives_its_message(empty_store):
    """Whole neurons pruned globally: the config's own message, naming granularity, and no traceback."""
    at = open_page("pages/run.py", {"granularity": "neurons", "strategy": "global"})
    assert_clean(at)
    shown = " ".join(e.value for e in at.error)
    assert "granularity" in shown and "layer-wise" in shown
    assert not [b for b in at.button if b.key == "start" and not b.disabled]


def test_greyed_out_controls_follow_the_others(empty_store):
    """Checks open once a mask at init is chosen; whole neurons clear and grey out both."""
    at = open_page("pages/run.py")
    assert at.pills(key="f_at_init_checks").disabled
    at.pills(key="f_at_init").set_value(["snip"]).run()
    assert not at.pills(key="f_at_init_checks").disabled
    at.pills(key="f_at_init_checks").set_value(["reinit"]).run()
    assert (at.query_params["at_init"], at.query_params["at_init_checks"]) == ("snip", "reinit")
    at.radio(key="f_granularity").set_value("neurons").run()
    assert_clean(at)
    assert at.pills(key="f_at_init").disabled and at.pills(key="f_at_init_checks").disabled
    assert "at_init" not in at.query_params and "at_init_checks" not in at.query_params
    assert not at.error, [e.value for e in at.error]
    at.radio(key="f_granularity").set_value("unstructured").run()
    assert not at.pills(key="f_at_init").disabled


def test_widgets_reach_the_url(empty_store):
    """Setting the new widgets writes them to the address; a new criterion leaves the extra ones."""
    at = open_page("pages/run.py")
    at.pills(key="f_criteria").set_value(["movement", "magnitude_increase"]).run()
    at.pills(key="f_at_init").set_value(["synflow"]).run()
    at.pills(key="f_at_init_checks").set_value(["shuffle"]).run()
    at.multiselect(key="f_stability_levels").set_value([1, 3]).run()
    assert_clean(at)
    assert (at.query_params["criteria"], at.query_params["at_init"], at.query_params["at_init_checks"],
            at.query_params["stability_levels"]) == ("magnitude_increase,movement", "synflow", "shuffle", "1,3")
    at.selectbox(key="f_criterion").set_value("movement").run()
    assert_clean(at)
    assert at.query_params["criteria"] == "magnitude_increase" and at.query_params["criterion"] == "movement"
    at.number_input(key="f_rounds").set_value(2).run()
    assert_clean(at)
    assert at.query_params["stability_levels"] == "1"
    assert not at.error, [e.value for e in at.error]


def test_a_run_over_the_memory_limit_is_refused_before_start(empty_store, monkeypatch):
    """The server's memory limit is a policy at submit, not a config rule: the form applies it too, so the
    message (estimate, limit, the variable) shows before Start, and Start stays disabled."""
    monkeypatch.setenv("LTH_MAX_MEMORY_GB", "4")
    at = open_page("pages/run.py", {"dataset": "cifar10", "arch": "conv2", "batch_size": "45000"})
    assert_clean(at)
    shown = " ".join(e.value for e in at.error)
    assert "batch_size" in shown and "GB at its peak" in shown and "the limit is 4 GB" in shown
    assert not [b for b in at.button if b.key == "start" and not b.disabled]
