"""Predict, then reveal, on the Results page: `guess=required` hides the charts until a guess is
locked in, and `guesses=show` draws the class's guesses. Driven headless with AppTest."""
from __future__ import annotations

from lth_core.analysis import stats
from lth_core.lottery.state import percent_ladder
from lth_core.store import guesses
from lth_core.store.run_store import Store
from support.apptest import assert_clean, finished, open_page, with_run  # noqa: F401 (fixtures)


def test_guess_required_hides_charts_until_a_guess(with_run):
    """With guess=required, no chart is drawn until this session submits a guess; then they all are."""
    root, run_id = with_run
    at = open_page("pages/results.py", {"run": run_id, "guess": "required"})
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 0
    assert at.select_slider(key=f"guess_ticket_{run_id}")
    at.button[0].click().run()  # the form's submit, "Lock in my guess", before any slider moved
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 0 and any("Move every slider" in w.value for w in at.warning)
    config = Store(root).config(run_id)
    ladder = percent_ladder(config)
    for arm in (a for a in guesses.ARMS if a in config.arms):
        at.select_slider(key=f"guess_{arm}_{run_id}").set_value(guesses.levels(ladder)[0])
    at.button[0].click().run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) >= 4
    if config.trials < stats.MIN_TRIALS:  # the reveal needs a verdict, and too few trials give none
        assert any(f"too few trials to tell (n = {config.trials})" in s.value for s in at.info)
    else:
        assert any("spot on" in s.value or "you guessed" in s.value for s in at.success)
    arms = tuple(a for a in guesses.ARMS if a in config.arms)
    assert len(guesses.load(root, run_id, ladder, arms)) >= 1


def test_teacher_view_shows_the_class_guesses(with_run):
    """guesses=show draws the stored guesses (how many, as a histogram) without asking for one."""
    root, run_id = with_run
    config = Store(root).config(run_id)
    arms = tuple(a for a in guesses.ARMS if a in config.arms)
    ladder = percent_ladder(config)
    guesses.save(root, run_id, {a: None for a in arms}, ladder, guesses.new_token(), arms=arms)
    n = len(guesses.load(root, run_id, ladder, arms))
    at = open_page("pages/results.py", {"run": run_id, "guesses": "show"})
    assert_clean(at)
    assert f"### The class's guesses ({n})" in [m.value for m in at.markdown]
    bars = at.get("plotly_chart")[0].proto.spec
    assert '"type":"bar"' in bars.replace(" ", "")
