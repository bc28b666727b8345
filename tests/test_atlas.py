"""The atlas (lth_core/atlas.py): its experiments ship in the gallery, complete and compact; what its
page says at a level follows the shared statistics; the demo's companion joins a live trial."""
from __future__ import annotations

import pytest

from lth_core import atlas
from lth_core.analysis import atlas_view, earlier, results, spread, stats
from lth_core.lottery.state import percent_ladder
from lth_core.presets import QUICK
from lth_core.store import gallery
from lth_core.store.complete import is_complete

G = gallery.gallery_store()


def test_each_rate_runs_down_to_about_three_percent_with_five_trials_and_both_controls():
    for rate in atlas.RATES:
        c = atlas.config(rate)
        ladder = percent_ladder(c)
        assert c.trials == 5 and set(c.controls) == {"reinit", "random"}
        assert ladder[-1] <= 3.5 < ladder[-2], (rate, ladder[-2:])  # "about 3%": the output layer keeps more
        assert c.replace(rate=QUICK.pruning.rate, rounds=QUICK.pruning.rounds, trials=1,
                         controls=QUICK.controls) == QUICK  # otherwise the demo's own experiment
    with pytest.raises(ValueError, match="0.2, 0.35, 0.5, 0.65, 0.8"):
        atlas.config(0.3)


def test_the_companion_is_the_demo_with_more_trials_and_nothing_else_has_one():
    assert atlas.companion(QUICK) == QUICK.replace(trials=atlas.TRIALS)
    assert atlas.companion(QUICK.replace(rate=0.2)) is None
    assert atlas.companion(QUICK.replace(trials=3)) is None  # only a one-trial demo is joined


def test_every_atlas_run_is_in_the_gallery_complete_intact_and_compact():
    total = 0
    for c in atlas.configs():
        rid = c.run_id()
        assert G.has_run(rid), f"atlas run {rid} is missing from the gallery: python scripts/make_atlas.py"
        assert G.config(rid) == c and is_complete(c, G, rid) and not G.damaged_files(rid)
        total += sum(p.stat().st_size for p in G.run_dir(rid).rglob("*") if p.is_file())
    assert total < 8e6, f"the atlas takes {total / 1e6:.1f} MB of the gallery"


def test_verdicts_at_a_level_are_the_shared_level_tables_row():
    rid = atlas.config(0.2).run_id()
    summary = results.summary_frame(G, rid)
    deepest = int(summary.level.max())
    table = atlas_view.verdicts_at(summary, deepest)
    assert list(table.Comparison) == ["Winning ticket − dense network", "re-init − dense network",
                                      "random pruning − dense network", "Winning ticket − re-init"]
    assert set(table.n) == {5}
    for (arm, other), (_, row) in zip(atlas_view.COMPARISONS, table.iterrows()):
        t = spread.level_table(summary, arm, other=other).set_index("level").loc[deepest]
        assert row["Difference (points)"] == pytest.approx(t.gap) and row["95% CI from (points)"] == t.low
        if row.Verdict == "clearly above":  # Holm-corrected rejection implies the plain interval excludes 0
            assert t.low > 0 and t.clear == 1
        if row.Verdict == "clearly below":
            assert t.high < 0 and t.clear == -1
    assert atlas_view.verdicts_at(summary, 0).empty  # nothing is compared at the dense level


def test_verdict_words_follow_the_rules():
    base = {"trials": 5, "measurable": True, "clear": 0, "as_good": False}
    assert atlas_view.verdict({**base, "trials": 2}) == stats.TOO_FEW
    assert atlas_view.verdict({**base, "measurable": False}).startswith("not measurable")
    assert atlas_view.verdict({**base, "clear": -1}) == "clearly below"
    assert atlas_view.verdict({**base, "as_good": True}).startswith("at least as good")
    assert atlas_view.verdict(base) == "not distinguishable"


def test_a_live_trial_joins_the_earlier_trials_at_the_levels_it_has_finished():
    rid = atlas.companion(QUICK).run_id()
    full = results.summary_frame(G, rid)
    yours = full[(full.trial == 0) & (full.level <= 2)].reset_index(drop=True)  # trial 0, two rounds done
    joined = earlier.join(yours, full)
    assert sorted(set(joined.level)) == [0, 1, 2] and joined.trial.nunique() == atlas.TRIALS
    assert earlier.trials_added(yours, joined) == atlas.TRIALS - 1
    assert joined[joined.trial == 0].reset_index(drop=True)[yours.columns].equals(
        yours.sort_values(["level", "arm", "trial"], ignore_index=True)[yours.columns].reset_index(drop=True))
    half = yours[~((yours.level == 2) & (yours.arm == "reinit"))]  # level 2's re-init still training
    assert earlier.finished_levels(half) == {0, 1}
    assert sorted(set(earlier.join(half, full).query("trial > 0").level)) == [0, 1]
    assert spread.level_table(joined, "ticket", other="reinit").trials.min() == atlas.TRIALS


def test_reproduces_compares_the_shared_trials_at_finished_levels():
    rid = atlas.companion(QUICK).run_id()
    full = results.summary_frame(G, rid)
    yours = full[(full.trial == 0) & (full.level <= 1)].reset_index(drop=True)
    assert earlier.reproduces(yours, full) is True
    off = yours.copy()
    off.loc[off.index[-1], "test_acc_at_early_stop"] += 0.001
    assert earlier.reproduces(off, full) is False
    assert earlier.reproduces(yours.iloc[:0], full) is None


def test_marks_sit_at_their_percent_on_the_log_axis():
    """On a Plotly log axis a shape takes data values and an annotation log10 units: the band and the
    line must sit at the level's % (a log10 shape would land off the chart, at 1.3% for 21%)."""
    import math

    import plotly.graph_objects as go

    from lth_core.charts import marks
    fig = marks.mark_parting(marks.mark_level(go.Figure(), 21.0), 13.3)
    band, line = fig.layout.shapes
    assert band.x0 < 21.0 < band.x1 and band.x1 / band.x0 == pytest.approx(10 ** (2 * marks.WIDTH))
    assert line.x0 == line.x1 == 13.3
    assert fig.layout.annotations[0].x == pytest.approx(math.log10(13.3))
    assert marks.mark_parting(go.Figure(), None).layout.shapes == ()  # no verdict, no line
