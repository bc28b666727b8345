"""What an anonymous user sees when something goes wrong (issue 11): never a live link made from the address.

Driven headless with AppTest.
"""
from __future__ import annotations

import re

import pytest

from ui import text
from test_app import assert_clean, empty_store, open_page  # noqa: F401 (empty_store: a fixture)


# --- markdown injection ---------------------------------------------------------------------------
LINK = "[Log in](https://example.org)"


def live_links(md: str) -> list[str]:
    """Links a Streamlit markdown string would render live: inline links, autolinks, bare URLs.
    Code spans and backslash-escaped punctuation show literally, so they are removed first."""
    md = re.sub(r"(`+)(.+?)\1", "", md, flags=re.S)
    md = re.sub(r"\\[!-/:-@\[-`{-~]", "", md)
    return re.findall(r"\[[^\]]*\]\([^)]*\)|<[a-z][a-z0-9+.-]*:[^>]*>|https?://\S+|www\.\S+", md)


def test_the_link_check_bites():
    """The check finds a live link, and passes escaped and code-span ones."""
    assert live_links(f"bad value {LINK}") and live_links("see https://example.org")
    assert not live_links(r"\[Log in\]\(https\://example\.org\)") and not live_links(f"`{LINK}`")


HOSTILE = [LINK, f"x`{LINK}`y", f"``{LINK}", f"a\n\n{LINK}", "<https://example.org>", "www.example.org",
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
