"""The Python API (lth_core.run / open, Run, Ticket): the store's numbers, the app's figures, the
paper's ticket, and one-line errors naming what is allowed."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

import lth_core
from lth_core import atlas, layout
from lth_core.analysis import claims, results
from lth_core.api.ticket import TicketError
from lth_core.charts.style import ARM_NAMES
from lth_core.config import ConfigError
from lth_core.lottery.state import percent_ladder
from lth_core.presets import QUICK
from lth_core.store import gallery

TINY = dict(iterations=20, rounds=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir, mnist1d):
    """A tiny quick-preset run made through the API."""
    return lth_core.run(preset="quick", store=tmp_path_factory.mktemp("api-store"), data_dir=data_dir,
                        processes=1, progress=False, **TINY)


def test_names_load_without_torch():
    """`import lth_core` stays light (the CLI's --help relies on it); the API loads on first use."""
    code = "import sys, lth_core; assert 'torch' not in sys.modules; lth_core.run; assert 'torch' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_second_call_is_served_from_the_store_silently(run, data_dir, capfd):
    """The same config asked again returns the same run at once, and prints nothing unless asked."""
    t0 = time.perf_counter()
    again = lth_core.run(preset="quick", store=run.store.root, data_dir=data_dir, progress=False, **TINY)
    assert again.run_id == run.run_id and time.perf_counter() - t0 < 5
    assert capfd.readouterr() == ("", "")


def test_progress_bar_when_asked(run, data_dir, capfd):
    """progress=True draws a tqdm bar on stderr ending at 100%."""
    lth_core.run(preset="quick", store=run.store.root, data_dir=data_dir, progress=True, **TINY)
    err = capfd.readouterr().err
    assert run.run_id in err and "100%" in err


def test_tables_are_the_stores_numbers(run):
    """levels() holds one row per (level, arm) of the run, and its ticket accuracy is the trial's metric."""
    levels, summary = run.levels(), run.summary()
    assert set(levels.level) == set(range(run.config.levels)) and set(levels.arm) == {"ticket", "reinit"}
    rec = run.store.read_json(run.run_id, layout.metrics(0, 2, "ticket"))
    best = rec["history"]["val_loss"].index(min(rec["history"]["val_loss"]))
    mine = summary[(summary.level == 2) & (summary.arm == "ticket")].test_acc_at_early_stop.iloc[0]
    assert mine == rec["history"]["test_acc"][best]
    table = run.table()  # the app's numbers table: the dense network once, then each arm per pruned level
    assert len(table) == 1 + 2 * 2
    assert table[table.level == 2]["test acc. at early stop (%)"].max() == pytest.approx(100 * max(
        summary[summary.level == 2].test_acc_at_early_stop))


def test_claims_are_the_statistics_modules(run):
    """claims() gives a verdict for (a), (b), (c) (the run has re-init) and (f), as the report does."""
    found = run.claims()
    assert set(found) == {"a", "b", "c", "f"} and all(isinstance(c["verdict"], str) for c in found.values())
    direct = claims.all_claims(results.summary_frame(run.store, run.run_id))  # what the app and report compute
    assert {k: c["verdict"] for k, c in found.items()} == {k: c["verdict"] for k, c in direct.items() if k in found}


@pytest.mark.parametrize("name", ["accuracy", "early-stop", "learning-curves", "validation-loss", "generalisation"])
def test_figures_draw_the_runs_arms(run, name):
    """Every named figure draws the ticket from the run's own numbers."""
    fig = run.figure(name)
    assert any("ticket" in (t.name or "").lower() or "winning" in (t.name or "").lower() for t in fig.data)
    if name == "accuracy":  # the ticket's line is the mean over trials of the run's own numbers, per level
        line = next(t for t in fig.data if t.name == ARM_NAMES["ticket"] and t.mode == "lines+markers")
        want = run.levels().query("arm == 'ticket'").sort_values("level").test_acc_at_early_stop * 100
        assert list(line.y) == pytest.approx(list(want))


def test_ticket_is_the_paper_ticket(run):
    """The ticket's survivors hold θ₀ exactly, its pruned weights are exactly 0, its mask is the stored
    mask, and its size is the level's % remaining; trained=True holds the stored trained weights."""
    ticket, store = run.ticket(2), run.store
    theta0 = store.read_state(run.run_id, layout.theta0(0))
    masks = store.read_masks(run.run_id, layout.mask(0, 2, "ticket"))
    final = store.read_state(run.run_id, layout.final(0, 2, "ticket"))
    state = ticket.network.state_dict()
    for name, m in masks.items():
        assert torch.equal(ticket.masks[name], m)
        assert torch.equal(state[name][m], theta0[name][m]) and bool((state[name][~m] == 0).all())
    assert ticket.metadata["percent_remaining"] == pytest.approx(percent_ladder(run.config)[2])
    trained = run.ticket(2, trained=True).network.state_dict()
    assert all(torch.equal(trained[n], final[n] * masks[n]) for n in masks)


@pytest.mark.parametrize("kwargs, allowed", [(dict(level=3), "0..2"), (dict(level=-1), "0..2"),
                                             (dict(level=1, trial=1), "0..0"), (dict(level="1"), "0..2")])
def test_bad_ticket_names_the_allowed_values(run, kwargs, allowed):
    with pytest.raises(TicketError, match=allowed):
        run.ticket(**kwargs)


def test_bad_names_say_what_is_allowed(run):
    """A wrong figure, setting or preset, or a missing run, is one message naming the allowed values."""
    with pytest.raises(ValueError, match="allowed: accuracy, early-stop"):
        run.figure("acc")
    with pytest.raises(ConfigError, match="unknown setting; allowed: .*iterations"):
        lth_core.configure(preset="quick", iteration=10)
    with pytest.raises(ConfigError, match="allowed: quick"):
        lth_core.configure(preset="quik")
    with pytest.raises(FileNotFoundError, match="no run 0000000000000000 in .* or the gallery"):
        lth_core.open("0000000000000000", store=run.store.root)
    with pytest.raises(FileNotFoundError, match="neither a run id"):
        lth_core.open("no-such-run")


def test_open_by_folder_and_gallery(run):
    """A run opens by its folder; a gallery run opens by id, its ticket's mask is the gallery's stored mask,
    and asking it for trained weights (the gallery keeps none) says so."""
    assert lth_core.open(run.path).levels().equals(run.levels())
    g = lth_core.open(gallery.HEADLINE)
    assert g.store.readonly and g.status()["state"] == "done"
    stored = g.store.read_masks(g.run_id, layout.mask(0, 5, "ticket"))
    ticket = g.ticket(5)
    assert all(torch.equal(ticket.masks[n], stored[n]) for n in stored)
    with pytest.raises(TicketError, match="keeps no trained weights"):
        g.ticket(5, trained=True)


def test_a_gallery_tickets_theta0_is_the_one_a_run_stores(run):
    """A gallery run keeps no theta_0 (it is rebuilt from the trial's seed): the rebuilt survivors must
    equal what a run of the same network and seed stores, or an export would not be the ticket."""
    g = lth_core.open(atlas.companion(QUICK).run_id())  # the quick demo's network, seed 0, trial 0
    assert g.store.readonly and not (g.path / layout.theta0(0)).exists()
    stored = run.store.read_state(run.run_id, layout.theta0(0))  # this module's run: same arch, seed 0
    ticket = g.ticket(2)
    state = ticket.network.state_dict()
    for name, m in ticket.masks.items():
        assert torch.equal(state[name][m], stored[name][m]) and bool((state[name][~m] == 0).all())
