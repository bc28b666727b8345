"""Driving the app headless with Streamlit's AppTest: open a page, check it is clean, read its text,
and the stores the pages read (an empty one, one with a finished tiny run).

Fixtures here are imported by name into the test files that use them.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lth_core.execution import driver
from lth_core.presets import get_preset
from lth_core.store.run_store import Store
from ui import state

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
PAGES = ["pages/learn.py", "pages/atlas.py", "pages/run.py", "pages/results.py", "pages/compare.py", "pages/inside.py",
         "pages/rounds.py", "pages/runs.py"]
TINY = dict(iterations=20, eval_every=10, rounds=2)
LINK = "[Log in](https://example.org)"  # a phishing-style link an address could try to plant


@pytest.fixture(scope="session")
def finished(tmp_path_factory, data_dir, mnist1d):
    """A store holding one finished tiny run: (store root, run id)."""
    root = tmp_path_factory.mktemp("finished-store")
    run_id = driver.run(get_preset("quick").replace(**TINY), Store(root), data_dir=data_dir, processes=1)
    return root, run_id


def shutdown_manager(root: Path) -> None:
    """Stop the job manager the app created for `root` (and any worker it started)."""
    if state.store_root() == Path(root).resolve():
        state.manager().shutdown()  # a shut-down manager is replaced on next use


@pytest.fixture
def empty_store(tmp_path, monkeypatch, data_dir):
    """LTH_STORE pointed at a new empty store (and no gallery): the store root."""
    root = tmp_path / "runs"
    monkeypatch.setenv("LTH_STORE", str(root))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    yield root
    shutdown_manager(root)


@pytest.fixture
def with_run(finished, monkeypatch, tmp_path):
    """LTH_STORE pointed at the store of `finished`: (store root, run id)."""
    root, run_id = finished
    monkeypatch.setenv("LTH_STORE", str(root))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    yield root, run_id
    shutdown_manager(root)


def open_page(page: str | None = None, query: dict | None = None) -> AppTest:
    """Run the app (optionally at a page, with query parameters) and return it."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    if page:
        at.query_params.clear()
        at.query_params.update(query or {})
        at.switch_page(page).run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception was raised while the script ran."""
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    """Every text element the page shows, one per line."""
    parts = [e.value for kind in ("markdown", "caption", "error", "success", "info", "warning", "subheader", "title")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def live_links(md: str) -> list[str]:
    """Links a Streamlit markdown string would render live. Code spans show literally. Inline links
    and <autolinks> need their punctuation unescaped; GFM's bare-URL, www. and e-mail autolinks are
    found in the text after escapes are undone (a browser shows `https\\://x.org` as a live link)."""
    md = re.sub(r"(`+)(.+?)\1", "", md, flags=re.S)
    markup = re.findall(r"\[[^\]]*\]\([^)]*\)|<[a-z][a-z0-9+.-]*:[^>]*>",
                        re.sub(r"\\[!-/:-@\[-`{-~]", "", md))
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)
    return markup + re.findall(r"https?://\S+|www\.\S+|[-.+\w]+@[-\w]+(?:\.[-\w]+)+", text, flags=re.I)
