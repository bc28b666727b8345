"""End to end in a real browser, on the repository's gallery (no training): the teaching features.

- predict, then reveal (ui/predict.py): a `guess=required` link hides every chart until the
  student locks in a guess with the sliders; then the charts, the guess drawn over the accuracy
  chart and the closeness sentence appear, and `guesses=show` counts the guess;
- play through the rounds (pages/rounds.py): the figure's ▶ Play advances its slider in the
  browser, ❚❚ Pause stops it, and the page's "Next" button steps one round;
- the atlas (pages/atlas.py): moving its rate and size sliders redraws every chart from the gallery
  and starts no training (no run appears in the store, the job manager starts no worker);
- a teacher's link (ui/links.py): `only=rate` shows the rate control at the link's value and
  no other control of the Run form.

Uses tests/support's browser and server helpers; a missing browser skips locally and fails under CI=true.
"""
from __future__ import annotations

import re
import time

import pytest

from support import streamlit_server

from lth_core.store.run_store import Store
from support import atlas_moves
from support.browser import chromium
from support.layout import cut_text, overlapping_text
from support.processes import stop_workers
from support.streamlit_server import REPO

pytestmark = pytest.mark.browser
HEADLINE = "71143a50cad0a843"  # the gallery's headline run (LeNet-300-100 on Fashion-MNIST, 15 rounds)
GALLERY = REPO / "gallery"


@pytest.fixture(scope="module")
def gallery_server(tmp_path_factory, data_dir):
    """A real `streamlit run ui/server.py` (the app) with an empty store that lists the repository's gallery;
    always stopped (its whole process group)."""
    if not (GALLERY / HEADLINE / "config.json").is_file():
        pytest.fail(f"the gallery run {HEADLINE} is missing from {GALLERY}")
    tmp = tmp_path_factory.mktemp("teaching")
    store = tmp / "runs"
    try:
        proc, url = streamlit_server.start({"LTH_STORE": str(store), "LTH_DATA_DIR": str(data_dir),
                                            "LTH_GALLERY": str(GALLERY)}, tmp / "server.log")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield url, store
    finally:
        streamlit_server.stop(proc)
        stop_workers(Store(store))


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _trace_names(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(plot => (plot._fullData || []).map(t => t.name || ''))""")


def _plots(page) -> int:
    return page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")


def _settle(page, ms: int = 1500) -> None:
    """Wait until Streamlit is not running the script (its status widget gone), then a little more."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(ms)


def test_predict_then_reveal(gallery_server, page):
    """guess=required: no chart before the guess; the sliders + Lock in -> charts, guess overlay,
    closeness sentence; guesses=show then counts this guess."""
    url, _ = gallery_server
    page.goto(f"{url}/results?run={HEADLINE}&guess=required", timeout=60_000)
    page.get_by_text("Your teacher asks for a guess first").wait_for(timeout=60_000)
    _settle(page)
    assert _plots(page) == 0, "a chart is shown before the guess"

    sliders = page.get_by_role("slider")
    sliders.first.wait_for(timeout=30_000)
    assert sliders.count() == 2  # the ticket and random re-init
    moved = []
    page.get_by_role("button", name="Lock in my guess").click()  # before moving: asked to move them first
    page.get_by_text("Move every slider to your guess first").wait_for(timeout=30_000)
    assert _plots(page) == 0
    for i, presses in ((0, ["ArrowRight"] * 3), (1, ["ArrowRight", "ArrowRight"])):
        thumb = sliders.nth(i)
        before = thumb.get_attribute("aria-valuetext")  # the option's label, e.g. "13.5%"
        thumb.focus()
        for key in presses:
            thumb.press(key)
            page.wait_for_timeout(150)
        moved.append(thumb.get_attribute("aria-valuetext") != before)
    assert all(moved), "the guess sliders did not move with the arrow keys"
    assert _plots(page) == 0  # a form: nothing is revealed until the guess is locked in
    page.get_by_role("button", name="Lock in my guess").click()

    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=60_000)
    page.get_by_role("heading", name="1 · Accuracy as the network shrinks").wait_for(timeout=60_000)
    deadline = time.time() + 30
    while not any(n.startswith("your guess, ticket") for n in _trace_names(page)) and time.time() < deadline:
        page.wait_for_timeout(500)
    names = _trace_names(page)
    assert any(n.startswith("your guess, ticket") for n in names), names
    assert any(n.startswith("your guess, re-init") for n in names), names
    success = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=re.compile("ticket"))
    success.first.wait_for(timeout=30_000)
    assert page.get_by_text("Your teacher asks for a guess first").count() == 0

    page.goto(f"{url}/results?run={HEADLINE}&guesses=show", timeout=60_000)
    heading = page.get_by_role("heading", name=re.compile(r"The class's guesses \(\d+\)"))
    heading.wait_for(timeout=60_000)
    count = int(re.search(r"\((\d+)\)", heading.inner_text()).group(1))
    assert count >= 1
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(plot => (plot._fullData || [])
              .some(t => t.type === 'bar' && Array.from(t.y || []).some(y => y >= 1)))""", timeout=60_000)


def _slider_active(page):
    """The rounds figure's slider position (layout.sliders[0].active), or None before it is drawn."""
    return page.evaluate("""() => {
        for (const plot of document.querySelectorAll('.js-plotly-plot')) {
            const s = plot._fullLayout && plot._fullLayout.sliders;
            if (s && s.length) return s[0].active;
        }
        return null;
    }""")


def test_play_through_the_rounds(gallery_server, page):
    """▶ Play inside the figure advances its slider; ❚❚ Pause stops it; "Next" steps one round."""
    url, _ = gallery_server
    page.goto(f"{url}/rounds?run={HEADLINE}", timeout=60_000)
    page.get_by_role("heading", name="Play through the rounds").wait_for(timeout=60_000)
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .some(p => p._fullLayout && p._fullLayout.sliders && p._fullLayout.sliders.length)""", timeout=90_000)
    _settle(page, 500)
    start = _slider_active(page)
    assert start == 0
    page.get_by_text("round 0).").first.wait_for(timeout=10_000)
    # the four panels, colour bar, buttons and slider labels apart and whole (at this page's 1400 px)
    assert not overlapping_text(page), overlapping_text(page)
    assert not cut_text(page), cut_text(page)

    # the page draws the figure twice (2 x 2, and stacked for a phone) and shows one by width: the wide one here
    play = page.locator(".st-key-rounds_fig__wide .updatemenu-button").filter(has_text="Play")
    play.scroll_into_view_if_needed()
    play.click()
    deadline = time.time() + 10
    while (_slider_active(page) or 0) <= start and time.time() < deadline:
        page.wait_for_timeout(200)
    advanced = _slider_active(page)
    assert advanced > start, "▶ Play did not advance the rounds figure"

    page.locator(".st-key-rounds_fig__wide .updatemenu-button").filter(has_text="Pause").click()
    page.wait_for_timeout(300)
    paused = _slider_active(page)
    page.wait_for_timeout(2500)
    after = _slider_active(page)
    if paused < 15:  # not at the end already: the pause must hold the frame
        assert after == paused, f"the figure kept playing after Pause ({paused} -> {after})"

    page.get_by_role("button", name="Next ▶").click()
    page.get_by_text("(round 1).").first.wait_for(timeout=30_000)
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .some(p => p._fullLayout && p._fullLayout.sliders && p._fullLayout.sliders.length
                   && p._fullLayout.sliders[0].active === 1)""", timeout=30_000)


def test_teacher_link_only_rate(gallery_server, page):
    """The README's link (only=rate, a rate until a size): the rate shows the link's 20%, the rounds follow
    from it (14 to prune 95%), and the dataset selector and rounds input are gone."""
    url, _ = gallery_server
    page.goto(f"{url}/run?preset=lesson&rate=0.2&target=0.95&only=rate", timeout=60_000)
    page.get_by_role("heading", name="Run an experiment").wait_for(timeout=60_000)
    rate = page.locator('input[aria-label="Prune per round (%)"]')
    rate.wait_for(timeout=60_000)
    _settle(page, 500)
    assert rate.is_visible()
    assert float(rate.input_value()) == pytest.approx(20.0)
    assert rate.is_enabled()
    for label in ("Dataset", "Rounds", "Architecture", "Training iterations per round", "Trials"):
        assert page.locator(f'[aria-label="{label}"]').count() == 0, f"{label} is shown"
        assert page.get_by_text(label, exact=True).count() == 0, f"{label} is shown"
    assert page.get_by_text("Say how much to prune as").count() >= 1  # the rate's schedule radio stays
    assert page.get_by_text("14 rounds").count() >= 1  # the rounds follow from the rate and the target
    assert "only=rate" in page.url


def test_pages_load_nothing_from_other_hosts(gallery_server, page):
    """Offline, nothing may be fetched from another host (the page icon once came from fonts.gstatic.com)."""
    url, _ = gallery_server
    elsewhere = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    for path in ("/", f"/results?run={HEADLINE}", "/beyond"):
        page.goto(url + path, timeout=60_000)
        page.get_by_role("heading").first.wait_for(timeout=60_000)
        _settle(page, 1500)
    assert not elsewhere, sorted(set(elsewhere))


def test_scrubbing_the_atlas_redraws_every_chart_and_trains_nothing(gallery_server, page):
    """Each move of the rate or size slider redraws the page (its caption names the new value) with
    its four charts, and no run is created or started: the atlas only reads the gallery."""
    url, store = gallery_server
    atlas_moves.open_atlas(page, url)
    moves = [atlas_moves.move(page, "size") for _ in range(3)]
    moves += [atlas_moves.move(page, "rate", "ArrowLeft"), atlas_moves.move(page, "size"),
              atlas_moves.move(page, "rate", "ArrowRight")]
    assert len({m["value"] for m in moves}) >= 4
    assert _plots(page) >= 4
    page.get_by_text("Winning ticket − re-init").first.wait_for(state="attached", timeout=10_000)  # the verdicts
    runs = [p.name for p in store.iterdir() if p.is_dir() and (p / "config.json").exists()] if store.is_dir() else []
    assert runs == [], f"scrubbing the atlas created runs: {runs}"
    started = list(store.rglob("progress.json")) if store.is_dir() else []
    assert started == [], f"scrubbing the atlas started training: {started}"
