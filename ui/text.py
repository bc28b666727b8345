"""Text from outside (an address, a typed value, an error's message) made safe to show in markdown.

Streamlit draws messages as markdown, so a copied value could become a live link, an image or
HTML inside the app's own error box. Every such value goes through plain() or code(), which
also cut it short. Escaping does not stop GFM autolinks (they run after escapes are undone),
so plain() puts a zero-width space where a URL or address would begin. No Streamlit here.
"""
from __future__ import annotations

import re

SHORT = 60  # characters of a user's value shown in a message
# every ASCII punctuation mark: CommonMark lets each be backslash-escaped, and each may start markup
# (links, emphasis, HTML, headings, lists, tables, autolinks, Streamlit's :colour[...] and $math$)
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
ZWSP = "\u200b"
# where GFM's autolink literals start to match: "http(s)://", "www.", "@" of an e-mail address
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.I)


def cut(text: str, limit: int = SHORT) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _printable(text: str) -> str:
    """Line breaks and control characters written as escapes (\\n, \\x1b): they would end a paragraph."""
    return text if text.isprintable() else repr(text)[1:-1]


def plain(text, limit: int = 300) -> str:
    """`text` shown as typed: cut to `limit` characters, then every punctuation mark escaped."""
    return _PUNCT.sub(r"\\\1", _AUTOLINK.sub(ZWSP, _printable(cut(str(text), limit))))


def quoted(value, limit: int = SHORT) -> str:
    """A value someone gave, in quotes as Python shows it ('abc'), cut and escaped."""
    return plain(repr(cut(str(value), limit)), limit=4 * limit + 2)  # room for repr's escapes


def code(text, limit: int = SHORT) -> str:
    """`text` as a code span (shown literally, in a code font), cut; backticks inside cannot close it."""
    text = _printable(cut(str(text), limit)) or " "
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"
