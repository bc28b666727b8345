"""One number per quantity: the Results page's tiles and the run's report show the same values,
read from the same functions (lth_core.analysis.spread / speed / claims)."""
from __future__ import annotations

import re

import pytest

from lth_core.analysis import speed, spread, results
from lth_core.report import export
from lth_core.execution import driver
from lth_core.presets import get_preset
from lth_core.store.run_store import Store
from support.apptest import assert_clean, open_page, shutdown_manager


@pytest.fixture(scope="module")
def three_trials(tmp_path_factory, data_dir, mnist1d):
    """A tiny quick-preset run with 3 trials (enough for verdicts) and the re-init control."""
    root = tmp_path_factory.mktemp("one-number")
    config = get_preset("quick").replace(iterations=60, eval_every=10, rounds=2, trials=3)
    return root, driver.run(config, Store(root), data_dir=data_dir, processes=1)


@pytest.fixture
def page_and_report(three_trials, monkeypatch, tmp_path):
    root, run_id = three_trials
    monkeypatch.setenv("LTH_STORE", str(root))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    at = open_page("pages/results.py", {"run": run_id})
    assert_clean(at)
    store = Store(root)
    yield {m.label: m for m in at.metric}, export.render_html(store, run_id), results.summary_frame(store, run_id)
    shutdown_manager(root)


def _points(text: str) -> float:
    return float(re.search(r"([+-]\d+\.\d+) points", text).group(1))


def test_ticket_vs_reinit_tile_is_the_reports_claim_c_gap(page_and_report):
    """The tile's gap at the sparsest level is claim (c)'s paired gap there, to the tile's precision."""
    tiles, report, summary = page_and_report
    tile = tiles["Ticket vs random re-init"]
    found = re.search(r"ticket - re-init at [\d.]+%: ([+-]\d+\.\d+) points", report)
    assert found, "the report states claim (c)'s gap"
    assert _points(tile.value) == pytest.approx(float(found.group(1)), abs=0.051)


def test_speed_tile_is_the_reports_claim_b(page_and_report):
    """The learning-speed tile and the report's (b) against dense come from speed.speed_at: same ratio, or
    both 'not measurable'."""
    tiles, report, summary = page_and_report
    vs = speed.speed_at(summary)["vs_dense"]
    tile = tiles["Ticket learning speed vs dense"].value
    if vs["ratio"] is None:
        assert tile == "not measurable" and "raw, at " in report and speed.NOT_MEASURABLE in report
    else:
        assert tile == speed.head(vs)
        assert f"{speed.head(vs)} (ratio {vs['ratio']:.2f}, geometric mean" in report


def test_smallest_ticket_tile_is_the_reports_claim_a(page_and_report):
    """'Smallest winning ticket' is claim (a)'s 'at least as good as dense down to X%' (or says why not)."""
    tiles, report, summary = page_and_report
    cmp = spread.compare_to_dense(summary, "ticket")
    tile = tiles["Smallest winning ticket"].value
    if cmp["as_good_down_to"] is None:
        assert tile == "not shown" and "at least as good as dense down to no level" in report
    else:
        assert tile == f"{cmp['as_good_down_to']:.3g}%"
        assert f"at least as good as dense down to {cmp['as_good_down_to']:.3g}%" in report
