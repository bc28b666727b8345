"""What an anonymous user sees when something goes wrong (issue 11): a message in a box, never a
traceback, and never a live link made from the address.

Driven headless with AppTest, on copies of a finished tiny run damaged on purpose. AppTest reads
Streamlit's config from the working directory only, so this module loads the repository's
.streamlit/config.toml wherever pytest runs: the tests see what users see.
"""
from __future__ import annotations

import os
import shutil
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from lth_core.fields import MAX_ITERATIONS, MAX_ROUNDS, MAX_TRIALS
from lth_core.store.run_store import Store
from ui import text
from support.apptest import (LINK, PAGES, REPO, assert_clean, empty_store, finished,  # noqa: F401 (fixtures)
                             live_links, open_page, shutdown_manager, texts)


@pytest.fixture(scope="module", autouse=True)
def repository_streamlit_config():
    """Streamlit's options re-read from the repository's .streamlit/config.toml, as `streamlit run app.py`
    in the repository (the load and browser tests) reads them."""
    from streamlit import config
    here = os.getcwd()
    os.chdir(REPO)
    try:
        config.get_config_options(force_reparse=True)
    finally:
        os.chdir(here)


@pytest.fixture
def copy(finished, tmp_path, monkeypatch):
    """A private copy of the finished run's store, served by the app: (root, run id)."""
    root, run_id = finished
    dst = tmp_path / "runs"
    shutil.copytree(root, dst)
    monkeypatch.setenv("LTH_STORE", str(dst))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    yield dst, run_id
    shutdown_manager(dst)


def _query(page: str, run_id: str) -> dict:
    return {"run": run_id} if page in ("pages/results.py", "pages/inside.py") else {}


# --- tracebacks ---------------------------------------------------------------------------------
def test_the_error_details_setting_is_none_and_known_to_this_streamlit():
    """`client.showErrorDetails = "none"` hides the type, message and trace of an uncaught error."""
    from streamlit.config import ShowErrorDetailsConfigOptions
    value = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["client"]["showErrorDetails"]
    assert value == ShowErrorDetailsConfigOptions.NONE.value


def test_an_uncaught_error_shows_users_no_details():
    """A bug must not show a traceback, file paths or the exception's text (the server log keeps them)."""
    at = AppTest.from_string("raise RuntimeError('secret detail in /srv/app/x.py')").run()
    assert at.exception
    error = at.exception[0]
    assert "secret" not in error.message and not error.stack_trace and not error.proto.type


# --- store errors on every page -----------------------------------------------------------------
DAMAGE = {
    "config-garbled": lambda store, rid: (store.run_dir(rid) / "config.json").write_text("{garbled"),
    "config-not-an-experiment": lambda store, rid: store.write_json(rid, "config.json", {"dataset": 7}),
    "status-without-state": lambda store, rid: store.write_json(rid, "status.json", {"reason": "x"}),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
@pytest.mark.parametrize("page", PAGES)
def test_every_page_explains_a_damaged_run_instead_of_crashing(copy, page, damage):
    """A run whose config or status is damaged (checksum or content) gives a message, not a traceback."""
    root, run_id = copy
    damage(Store(root), run_id)
    at = open_page(page, _query(page, run_id))
    assert_clean(at)


@pytest.mark.parametrize("page", ["pages/results.py", "pages/inside.py"])
def test_a_damaged_config_is_named_on_the_run_pages(copy, page):
    """Opening a run whose config.json is garbled says that the run is damaged."""
    root, run_id = copy
    DAMAGE["config-garbled"](Store(root), run_id)
    at = open_page(page, {"run": run_id})
    assert_clean(at)
    assert any("damaged" in e.value for e in at.error), texts(at)


@pytest.mark.parametrize("page", ["pages/results.py", "pages/inside.py", "pages/compare.py"])
def test_a_run_deleted_while_the_page_reads_it_gives_a_message(copy, monkeypatch, page):
    """The run folder vanishes between the picker and the reads: the page says so and stays up."""
    from ui import runpick, state
    root, run_id = copy
    at = open_page(page, {"run": run_id})
    assert_clean(at)
    real_pick, real_find = runpick.pick_run, state.find

    def pick_then_delete(*a, **k):
        picked = real_pick(*a, **k)
        shutil.rmtree(root / run_id, ignore_errors=True)
        return picked

    def find_then_delete(rid):
        found = real_find(rid)
        shutil.rmtree(root / rid, ignore_errors=True)
        return found

    monkeypatch.setattr(runpick, "pick_run", pick_then_delete)
    monkeypatch.setattr(state, "find", find_then_delete)
    at.run()
    assert_clean(at)
    assert at.error, texts(at)


def test_an_unwritable_store_is_explained_in_the_app(tmp_path, monkeypatch, data_dir):
    """LTH_STORE at a file: the sidebar warns, and Start says why nothing can be stored."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    monkeypatch.setenv("LTH_STORE", str(a_file))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    try:
        at = open_page("pages/run.py", {"preset": "quick", "iterations": "20", "eval_every": "10", "rounds": "2"})
        assert_clean(at)
        assert any("cannot write runs" in w.value for w in at.sidebar.warning)
        at.button(key="start").click().run()
        assert_clean(at)
        assert any("cannot write runs" in e.value for e in at.error), texts(at)
    finally:
        shutdown_manager(a_file)


# --- markdown injection ---------------------------------------------------------------------------
def test_the_link_check_bites():
    """The check finds a live link, escaped URLs and addresses included (GFM autolinks them after
    undoing escapes, as Chromium showed), and passes code spans and broken-up URLs."""
    assert live_links(f"bad value {LINK}") and live_links("see https://example.org")
    assert live_links(r"\[Log in\]\(https\://example\.org\)") and live_links(r"www\.example\.org")
    assert live_links(r"me\@example\.org") and not live_links(f"`{LINK}`")
    assert not live_links(text.plain(LINK)) and not live_links("\\[Log in\\]")


HOSTILE = [LINK, f"x`{LINK}`y", f"``{LINK}", f"a\n\n{LINK}", "<https://example.org>", "www.example.org",
           "mailto:me@example.org", "WWW.EXAMPLE.ORG", "http://x.org",
           "![](https://example.org/a.png)", ":red[alarm] **bold** <b>html</b> # heading"]


@pytest.mark.parametrize("raw", HOSTILE)
@pytest.mark.parametrize("show", [text.plain, text.quoted, text.code], ids=["plain", "quoted", "code"])
def test_shown_text_is_never_a_live_link_nor_a_line_break(show, raw):
    """Whatever a value holds, ui.text shows it literally: no link, and no line break to start new markup."""
    shown = show(raw)
    assert not live_links(shown) and "\n" not in shown, shown


@pytest.mark.parametrize("page, query", [
    ("pages/run.py", {"dataset": LINK}),
    ("pages/run.py", {"rate": LINK}),
    ("pages/run.py", {"controls": f"reinit,{LINK}"}),
    ("pages/run.py", {"lr_milestones": LINK}),
    ("pages/run.py", {f"x`{LINK}`y": "1"}),
    ("pages/run.py", {"dataset": "https://example.org/login"}),
    ("pages/results.py", {"run": LINK}),
], ids=["dataset", "rate", "controls", "milestones", "unknown-key", "bare-url", "run-id"])
def test_address_text_in_an_error_box_is_never_a_live_link(empty_store, page, query):
    """A shared address cannot plant a phishing link inside the app's own error box."""
    at = open_page(page, query)
    assert_clean(at)
    shown = [e.value for e in at.error]
    assert shown and not [link for s in shown for link in live_links(s)], shown


def test_address_text_in_an_error_box_is_cut_short(empty_store):
    """A 5,000-character value is not echoed in full."""
    at = open_page("pages/run.py", {"dataset": "A" * 5000})
    assert_clean(at)
    assert at.error and all(len(e.value) < 600 for e in at.error)


# --- hostile addresses: the limits named, nothing stored ----------------------------------------
HOSTILE_RUN_PAGE = {"seed": "-1", "rounds": "1000", "iterations": str(10**9), "trials": "100",
                    "batch_size": "999999", "controls": "<script>alert(1)</script>", "dataset": "../../x",
                    "arch": "\u202emlp", "lr": "nan", "rate": "1e999", "evil": "1"}


@pytest.mark.parametrize("page, qp", [("pages/run.py", HOSTILE_RUN_PAGE),
                                      ("app.py", {"run": "../../etc/passwd"}),
                                      ("pages/results.py", {"run": "0123456789abcdef\n"})],
                         ids=["run-page", "results-traversal", "results-newline"])
def test_app_pages_with_hostile_addresses_show_errors_not_exceptions(page, qp, tmp_path, monkeypatch, data_dir):
    """A hostile link renders the page with red boxes naming the problem, never a traceback."""
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "store"))
    at = AppTest.from_file(str(REPO / page), default_timeout=60)
    for k, v in qp.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(e.value for e in at.error)
    assert shown, "the bad address should be reported"
    if page == "pages/run.py":
        for limit in (str(MAX_ROUNDS), str(MAX_ITERATIONS), str(MAX_TRIALS)):
            assert limit in shown
        assert not list(tmp_path.glob("store/*")), "a hostile address must not create anything in the store"
    else:
        assert "16 lowercase hex digits" in shown


def test_a_bad_setting_is_named_in_one_red_box_not_a_traceback(monkeypatch, tmp_path):
    """An operator's typo in an LTH_* variable stops the app with the variable and its allowed values."""
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_WORKERS", "many")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value.replace("\\", "") for e in at.error]  # markdown escapes removed
    assert any("$LTH_WORKERS='many' is not allowed; allowed: a whole number >= 1" in text for text in shown), shown
