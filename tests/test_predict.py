"""Predict, then reveal: the closeness sentence, anonymous guesses in the store, the ladder check,
the class's distribution and the overlay (the Results page's predict panel: test_predict_page.py)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lth_core.charts import results as charts, predict as charts_predict

from lth_core.store import guesses

LADDER = [100.0, 51.2, 26.2, 13.4, 6.87]
RUN = "0123456789abcdef"
NAMES = {"ticket": "the ticket", "reinit": "random re-init"}


@pytest.mark.parametrize("guess, truth, expected", [
    (13.4, 13.4, "the ticket: spot on, it falls below dense from 13.4%"),
    (None, None, "the ticket: spot on, it never falls clearly below dense"),
    (51.2, 13.4, "the ticket: you guessed 51.2%, it falls below dense from 13.4%, 2 levels sparser than your guess"),
    (6.87, 26.2, "the ticket: you guessed 6.87%, it falls below dense from 26.2%, 2 levels denser than your guess"),
    (26.2, 13.4, "the ticket: you guessed 26.2%, it falls below dense from 13.4%, 1 level sparser than your guess"),
    (None, 6.87, "the ticket: you guessed never, but it falls below dense from 6.87%"),
    (26.2, None, "the ticket: you guessed 26.2%, but it never falls clearly below dense within this run"),
])
def test_closeness_sentence(guess, truth, expected):
    """The reveal says how far the guess was from spread's falls_below_at, in levels and direction."""
    assert guesses.arm_closeness("the ticket", guess, truth, LADDER) == expected


def test_closeness_joins_arms_into_one_sentence():
    """Both arms' clauses make one sentence, ending with a full stop."""
    s = guesses.closeness({"ticket": 13.4, "reinit": None}, {"ticket": 13.4, "reinit": None}, LADDER, NAMES)
    assert s == ("the ticket: spot on, it falls below dense from 13.4%; "
                 "random re-init: spot on, it never falls clearly below dense.")


def test_guesses_round_trip_and_are_anonymous(tmp_path):
    """A saved guess reads back unchanged, and its file holds only the values: no session id, no name."""
    token = guesses.new_token()
    guesses.save(tmp_path, RUN, {"ticket": 13.4, "reinit": None}, LADDER, token)
    assert guesses.load(tmp_path, RUN, LADDER) == [{"ticket": 13.4, "reinit": None}]
    files = list((tmp_path / "guesses" / RUN).glob("*.json"))
    assert [f.stem for f in files] == [token]
    stored = json.loads(files[0].read_text())["data"]
    assert stored == {"arms": {"ticket": 13.4, "reinit": None}}


def test_same_token_replaces_its_guess(tmp_path):
    """One session (one token) keeps one guess per run: guessing again replaces it."""
    token = guesses.new_token()
    guesses.save(tmp_path, RUN, {"ticket": 13.4, "reinit": None}, LADDER, token)
    guesses.save(tmp_path, RUN, {"ticket": 6.87, "reinit": 26.2}, LADDER, token)
    assert guesses.load(tmp_path, RUN, LADDER) == [{"ticket": 6.87, "reinit": 26.2}]


@pytest.mark.parametrize("bad", [50.0, 100.0, "13.4; rm -rf", float("nan"), -1, "abc"])
def test_value_off_the_ladder_is_rejected(tmp_path, bad):
    """Only the run's pruned levels (or never) can be guessed; anything else is refused by name."""
    with pytest.raises(guesses.GuessError, match="one of this run's levels"):
        guesses.save(tmp_path, RUN, {"ticket": bad, "reinit": None}, LADDER, guesses.new_token())
    assert not (tmp_path / "guesses" / RUN).exists()


@pytest.mark.parametrize("token", ["../../etc/passwd", "abc", "0" * 31 + "G", None])
def test_bad_token_is_rejected(tmp_path, token):
    """A token never becomes a path unless it is the server's own 32 hex digits."""
    with pytest.raises(guesses.GuessError):
        guesses.save(tmp_path, RUN, {"ticket": 13.4, "reinit": None}, LADDER, token)


def test_guess_count_per_run_is_bounded(tmp_path, monkeypatch):
    """A run keeps at most MAX_PER_RUN guesses; one more is refused with a clear message."""
    monkeypatch.setattr(guesses, "MAX_PER_RUN", 3)
    for _ in range(3):
        guesses.save(tmp_path, RUN, {"ticket": 13.4, "reinit": None}, LADDER, guesses.new_token())
    with pytest.raises(guesses.GuessError, match="already holds 3 guesses"):
        guesses.save(tmp_path, RUN, {"ticket": 13.4, "reinit": None}, LADDER, guesses.new_token())


def test_distribution_counts_guesses():
    """Each level (and never) counts exactly the guesses that named it, zeros included, in ladder order."""
    found = [{"ticket": 13.4, "reinit": None}, {"ticket": 13.4, "reinit": 26.2}, {"ticket": None, "reinit": 26.2}]
    assert [(p, n) for _, p, n in guesses.distribution(found, LADDER, "ticket")] == [
        (51.2, 0), (26.2, 0), (13.4, 2), (6.87, 0), (None, 1)]
    assert [n for _, _, n in guesses.distribution(found, LADDER, "reinit")] == [0, 2, 0, 0, 1]


def test_overlay_marks_the_guessed_percent():
    """The overlay adds one guess line per arm at the guessed %, and leaves the real curves as they were."""
    agg = pd.DataFrame({"level": [0, 1, 1], "arm": ["ticket", "ticket", "reinit"], "percent_remaining": [100, 51.2, 51.2],
                        "test_acc_at_early_stop": [0.9, 0.91, 0.85], "test_acc_at_early_stop_min": [0.9, 0.91, 0.85],
                        "test_acc_at_early_stop_max": [0.9, 0.91, 0.85], "trials": [1, 1, 1]})
    fig = charts.accuracy_vs_sparsity(agg, all_percents=LADDER)
    out = charts_predict.with_guesses(fig, {"ticket": 13.4, "reinit": None})
    added = [t for t in out.data if t.meta and "guess_arm" in t.meta]
    assert len(out.data) == len(fig.data) + 2
    marks = {t.meta["guess_arm"]: list(t.x) for t in added}
    assert marks == {"ticket": [13.4, 13.4], "reinit": [None, None]}


def test_guess_histogram_draws_every_guess_under_its_own_label():
    """The class's guesses chart keeps "never" (the paper's answer for the ticket) and puts each bar
    under its own label: a category axis in ladder order (Plotly reads "64.5%" as a number and drops
    text from a numeric axis), whole-number counts."""
    found = [{"ticket": None, "reinit": 26.2}, {"ticket": None, "reinit": 26.2}, {"ticket": 13.4, "reinit": None}]
    rows = {arm: guesses.distribution(found, LADDER, arm) for arm in ("ticket", "reinit")}
    fig = charts_predict.guess_histogram(rows, {"ticket": None, "reinit": 26.2})
    labels = [label for label, _, _ in rows["ticket"]]
    assert fig.layout.xaxis.type == "category" and list(fig.layout.xaxis.categoryarray) == labels
    assert labels[-1] == guesses.NEVER_LABEL
    drawn = {t.name: dict(zip(t.x, t.y)) for t in fig.data}
    assert sum(sum(d.values()) for d in drawn.values()) == 2 * len(found)
    assert all(drawn[name][guesses.NEVER_LABEL] == 1 + (name.startswith("Winning")) for name in drawn)
    assert fig.layout.yaxis.tickformat == "d" and fig.layout.yaxis.dtick == 1
