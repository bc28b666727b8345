"""Chart builders draw what the store holds: one trace per arm, every level, the paper's axes.

One small real run (2 trials, every control) feeds the builders; a layout rule (the live chart's
y range) is checked on a two-row frame written out in the test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from lth_core.charts import inside
from lth_core.charts import results as charts

from lth_core.execution import driver
from lth_core.lottery import state

from lth_core.analysis import inspection, results
from lth_core.charts.style import ARM_COLORS, ARM_NAMES
from lth_core.presets import get_preset
from lth_core.store.run_store import Store

CONFIG = get_preset("quick").replace(iterations=20, eval_every=10, rounds=2, trials=2,
                                     controls=("reinit", "random", "oneshot"))


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir, mnist1d):
    """(store, run id, aggregate, curves, layers) of a finished 2-trial run with every control."""
    store = Store(tmp_path_factory.mktemp("charts-store"))
    run_id = driver.run(CONFIG, store, data_dir=data_dir, processes=1)
    summary = results.summary_frame(store, run_id)
    return store, run_id, results.aggregate(summary), results.curves_frame(store, run_id), \
        results.layers_frame(store, run_id)


def lines(fig: go.Figure) -> list:
    """The data traces (not the translucent min/max bands)."""
    return [t for t in fig.data if getattr(t, "fill", None) != "toself"]


@pytest.mark.parametrize("builder, metric, scale", [
    (charts.accuracy_vs_sparsity, "test_acc_at_early_stop", 100),
    (charts.early_stop_vs_sparsity, "early_stop_iteration", 1),
])
def test_sparsity_charts_have_one_line_per_arm_through_every_level(run, builder, metric, scale):
    """Each arm is one line over all levels, its y values the stored means."""
    _, _, agg, _, _ = run
    fig = builder(agg)
    assert isinstance(fig, go.Figure)
    named = {t.name: t for t in lines(fig) if t.name != charts.CENSORED_NOTE}  # skip the legend key for hollow
    assert set(named) == {ARM_NAMES[a] for a in CONFIG.arms}
    for arm in CONFIG.arms:
        trace = named[ARM_NAMES[arm]]
        want = agg[agg.arm == arm].sort_values("level")
        assert len(trace.x) == CONFIG.levels
        np.testing.assert_allclose(trace.y, want[metric] * scale)
        assert trace.line.color == ARM_COLORS[arm]


def test_sparsity_axis_is_log_and_reversed(run):
    """100% sits on the left of a log axis, as in the paper's figures."""
    fig = charts.accuracy_vs_sparsity(run[2])
    assert fig.layout.xaxis.type == "log"
    lo, hi = fig.layout.xaxis.range
    assert lo > hi and lo >= 2.0  # log10(100) = 2 on the left


def test_trials_draw_a_min_max_band_per_arm(run):
    """With two trials each arm gets a band from the per-level min to max."""
    fig = charts.accuracy_vs_sparsity(run[2])
    bands = [t for t in fig.data if getattr(t, "fill", None) == "toself"]
    assert len(bands) == len(CONFIG.arms)


def test_one_trial_draws_no_band(run):
    """A single trial has no spread to show."""
    agg = results.aggregate(results.summary_frame(run[0], run[1]).query("trial == 0"))
    assert not [t for t in charts.accuracy_vs_sparsity(agg).data if getattr(t, "fill", None) == "toself"]


def test_learning_curves_one_panel_per_level(run):
    """Chosen levels become panels; each pruned panel has the dense reference, ticket and re-init."""
    _, _, _, curves, _ = run
    fig = charts.learning_curves(curves, [0, 1, 2], arms=("ticket", "reinit"))
    assert len(fig.layout.annotations) == 3  # panel titles
    named = [t.name for t in lines(fig)]
    assert named.count("Dense network (100%)") == 3
    assert named.count(ARM_NAMES["ticket"]) == 2 and named.count(ARM_NAMES["reinit"]) == 2
    ticket = next(t for t in lines(fig) if t.name == ARM_NAMES["ticket"])
    assert list(ticket.x) == [10, 20]


def test_generalisation_gap_has_train_test_and_gap_per_arm(run):
    """Per arm: test line, training line and the gap panel."""
    fig = charts.generalisation_gap(run[2])
    assert len(fig.data) == 3 * len(CONFIG.arms)
    gap = [t for t in fig.data if t.xaxis == "x2"]
    agg = run[2]
    t = agg[agg.arm == "ticket"].sort_values("level")
    np.testing.assert_allclose(gap[0].y, 100 * (t.train_acc_at_early_stop - t.test_acc_at_early_stop))


def test_ladder_chart_shows_the_config_ladder():
    """The bars are percent_ladder's values, one per level."""
    ladder = state.percent_ladder(get_preset("lenet-mnist"))
    fig = charts.ladder_chart(ladder)
    np.testing.assert_allclose(fig.data[0].y, ladder)
    assert fig.data[0].text[7] == "21.1%"  # the paper's level 7


def test_layer_remaining_one_line_per_layer(run):
    """Each prunable layer is a line, plus the whole network."""
    store, run_id, _, _, layers = run
    labels = inspection.layer_labels(CONFIG.arch)
    fig = inside.layer_remaining(layers, labels)
    assert [t.name for t in fig.data] == list(labels.values()) + ["whole network"]
    assert fig.data[0].y[0] == pytest.approx(100.0)


def test_first_layer_image_per_input_kind(run):
    """MNIST-1D gives 40 bars; a 28x28 input a heatmap; a conv layer one panel per channel."""
    store, run_id, _, _, _ = run
    mask = inspection.load_mask(store, run_id, 0, 2)
    fig = inside.first_layer_image(inspection.first_layer_map(mask, CONFIG.arch))
    assert isinstance(fig.data[0], go.Bar) and len(fig.data[0].y) == 40
    image = {"kind": "image", "values": np.full((28, 28), 150), "max": 300}
    assert isinstance(inside.first_layer_image(image).data[0], go.Heatmap)
    kernel = {"kind": "kernel", "values": np.full((3, 3, 3), 32), "max": 64}
    assert len(inside.first_layer_image(kernel).data) == 3


def test_init_histogram_groups_are_percentages(run):
    """Kept and pruned are each normalised to 100% so their shapes compare."""
    store, run_id, _, _, _ = run
    theta0, _ = inspection.load_theta0(store, run_id, 0)
    kept, pruned = inspection.init_split(theta0, inspection.load_mask(store, run_id, 0, 2), "1.weight")
    fig = inside.init_histogram(kept, pruned, "fc1")
    assert len(fig.data) == 2
    for trace in fig.data:
        assert sum(trace.y) == pytest.approx(100.0)


def test_compare_runs_one_colour_per_run(run):
    """Two runs give two ticket lines in different colours; controls add dashed lines."""
    agg = run[2]
    fig = charts.compare_runs([("a", agg), ("b", agg)])
    assert [t.name for t in lines(fig)] == ["a", "b"]
    assert lines(fig)[0].line.color != lines(fig)[1].line.color
    with_controls = charts.compare_runs([("a", agg)], arms=("ticket", "reinit"))
    assert {t.line.dash for t in lines(with_controls)} == {"solid", "dash"}


def test_network_drawing_has_three_panels_and_every_edge():
    """Init, trained-and-marked, ticket: 4x6 + 6x3 edges in each panel."""
    toy = inspection.toy_imp(seed=0, rate=0.5)
    fig = inside.network_drawing(toy)
    edges = [t for t in fig.data if t.mode == "lines"]
    assert len(edges) == 3 * (4 * 6 + 6 * 3)
    assert len(fig.layout.annotations) == 3


def test_figures_export_as_standalone_html(run):
    """The HTML download embeds plotly.js, so it opens offline."""
    html = charts.accuracy_vs_sparsity(run[2]).to_html(include_plotlyjs=True)
    assert '<script src="https://cdn.plot.ly' not in html and len(html) > 1_000_000


def test_censored_levels_are_drawn_hollow(run):
    """A level where most networks' minimum validation loss falls in the last 10% of training gets
    a hollow marker, exactly where the store's histories say so, and the legend explains it."""
    _, _, agg, _, _ = run
    fig = charts.early_stop_vs_sparsity(agg, iterations=CONFIG.training.iterations)
    ticket = next(t for t in fig.data if t.name == ARM_NAMES["ticket"])
    expected = ["circle-open" if f > 0.5 else "circle"
                for f in agg[agg.arm == "ticket"].sort_values("level").censored_fraction]
    assert list(ticket.marker.symbol) == expected
    assert (charts.CENSORED_NOTE in [t.name for t in fig.data]) == ("circle-open" in expected)


def test_early_stop_chart_shades_the_censored_zone(run):
    """The last 10% of training is shaded, from 90% of the iterations to the end."""
    _, _, agg, _, _ = run
    fig = charts.early_stop_vs_sparsity(agg, iterations=1000)
    (shape,) = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (shape.y0, shape.y1) == (900, 1000)


def test_live_accuracy_chart_keeps_a_sensible_range():
    """Two levels measured once, 0.3 points apart, are drawn in a window of at least min_span points
    (the live panel's chart), not stretched over the whole height; a wide spread keeps its own range."""
    agg = pd.DataFrame({"level": [0, 1], "arm": ["ticket", "ticket"], "percent_remaining": [100.0, 50.0],
                        "test_acc_at_early_stop": [0.727, 0.730], "test_acc_at_early_stop_min": [0.727, 0.730],
                        "test_acc_at_early_stop_max": [0.727, 0.730], "trials": [1, 1]})
    lo, hi = charts.accuracy_vs_sparsity(agg, all_percents=[100, 50], min_span=5).layout.yaxis.range
    assert hi - lo == pytest.approx(5) and lo < 72.7 and hi > 73.0
    assert charts.accuracy_vs_sparsity(agg, all_percents=[100, 50]).layout.yaxis.range is None
    wide = agg.assign(test_acc_at_early_stop_min=[0.60, 0.70])
    assert charts.accuracy_vs_sparsity(wide, all_percents=[100, 50], min_span=5).layout.yaxis.range is None


def test_validation_loss_curves_mark_each_networks_early_stop(run):
    """The validation-loss panels mark every network's lowest loss, at its stored early-stop iteration,
    and shade the censored last 10% of training."""
    store, rid, _, curves, _ = run
    summary = results.summary_frame(store, rid)
    iterations = store.config(rid).training.iterations
    fig = charts.learning_curves(curves, [0, 1], arms=["ticket", "reinit"], metric="val_loss", iterations=iterations)
    marks = [t for t in fig.data if t.mode == "markers"]
    got = sorted((int(tr), int(x)) for t in marks if t.name.startswith(ARM_NAMES["reinit"])
                 for tr, x in zip(t.customdata, t.x))
    want = sorted((int(r.trial), int(r.early_stop_iteration)) for r in summary.itertuples()
                  if r.arm == "reinit" and r.level == 1)
    assert got == want and len(got) == store.config(rid).trials
    assert len(fig.layout.shapes) == 2 and fig.layout.shapes[0].x1 == iterations
    assert fig.layout.yaxis.title.text == "validation loss"
