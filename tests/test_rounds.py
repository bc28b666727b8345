"""Play through the rounds: the animated figure follows the stored run frame by frame
(the page itself: test_rounds_page.py).

Everything is read from the committed gallery's headline run (LeNet-300-100 on
Fashion-MNIST, 16 levels, 5 trials); nothing is trained.
"""
from __future__ import annotations

import numpy as np
import pytest

from lth_core.charts import rounds as charts_rounds

from lth_core.analysis import inspection, results
from lth_core.charts.style import ARM_COLORS
from lth_core.lottery.state import percent_ladder
from lth_core.store.gallery import GALLERY_ROOT, HEADLINE
from lth_core.store.run_store import Store

TRIAL = 0


@pytest.fixture(scope="module")
def run():
    """(store, config, levels, agg, masks, figure) of the headline run's trial 0."""
    store = Store(GALLERY_ROOT, readonly=True)
    config = store.config(HEADLINE)
    levels = list(range(config.levels))
    agg = results.aggregate(results.summary_frame(store, HEADLINE))
    theta0, _ = inspection.load_theta0(store, HEADLINE, TRIAL)
    layer = inspection.first_layer(config.arch)
    masks = [inspection.load_mask(store, HEADLINE, TRIAL, lv) for lv in levels]
    fig = charts_rounds.rounds_figure(percent_ladder(config), agg, levels,
                                      [inspection.first_layer_map(m, config.arch) for m in masks],
                                      [inspection.init_split(theta0, m, layer) for m in masks])
    return store, config, levels, agg, masks, fig


def _frame(fig, k):
    """{trace index: trace} of frame k."""
    frame = fig.frames[k]
    return dict(zip(frame.traces, frame.data))


def test_one_frame_per_level(run):
    """Play steps through every level of the run, each once, in order."""
    _, config, _, _, _, fig = run
    assert [f.name for f in fig.frames] == [f"L{lv}" for lv in range(config.levels)] and config.levels == 16


def test_ladder_highlights_the_frames_level(run):
    """In frame k exactly bar k of the % remaining ladder has the ticket colour."""
    _, _, levels, _, _, fig = run
    for k, lv in enumerate(levels):
        colors = list(_frame(fig, k)[charts_rounds.LADDER].marker.color)
        assert [i for i, c in enumerate(colors) if c == ARM_COLORS["ticket"]] == [lv]


def test_accuracy_points_are_the_stored_means(run):
    """Frame k's accuracy trace has k+1 points: levels 0..k's mean test accuracy at early stop (aggregate)."""
    _, _, levels, agg, _, fig = run
    ticket = agg[agg.arm == "ticket"].sort_values("level")
    for k in range(len(levels)):
        acc = _frame(fig, k)[charts_rounds.ACC]
        want = ticket[ticket.level <= k]
        assert len(acc.y) == k + 1
        np.testing.assert_allclose(acc.y, 100 * want.test_acc_at_early_stop.to_numpy())
        np.testing.assert_allclose(acc.x, want.percent_remaining.to_numpy())


def test_histogram_counts_equal_the_stored_mask(run):
    """The kept and pruned bars of frame k count exactly the first layer's kept and pruned weights at level k."""
    _, config, levels, _, masks, fig = run
    layer = inspection.first_layer(config.arch)
    for k in range(len(levels)):
        traces = _frame(fig, k)
        m = masks[k][layer]
        kept, pruned = int(m.sum()), int(m.numel() - m.sum())
        pruned_counts = traces[charts_rounds.PRUNED].customdata
        assert int(np.sum(traces[charts_rounds.KEPT].customdata)) == kept
        assert int(np.sum(pruned_counts if pruned_counts is not None else [])) == pruned
        assert pruned == 0 if k == 0 else pruned > 0


def test_show_level_starts_at_that_level(run):
    """A click or step to level k shows frame k's data before Play, with the slider on k."""
    *_, fig = run
    shown = charts_rounds.show_level(fig, 7)
    assert shown.layout.sliders[0].active == 7
    assert list(shown.data[charts_rounds.ACC].y) == list(_frame(fig, 7)[charts_rounds.ACC].y)


@pytest.mark.parametrize("points, level", [([{"curve_number": charts_rounds.LADDER, "x": 4, "point_index": 4}], 4),
                                           ([{"curve_number": charts_rounds.ACC, "x": 51.3, "point_index": 3}], 3),
                                           ([{"curve_number": charts_rounds.MASK, "x": 2, "point_index": 2}], None)])
def test_click_picks_the_level(points, level):
    """A click on the ladder or the accuracy chart picks that level; one on the mask image picks none."""
    assert charts_rounds.level_from_click(points, list(range(16))) == level
