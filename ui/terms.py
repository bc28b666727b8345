"""Hover definitions of the key terms, where they first appear on a page (one glossary)."""
from __future__ import annotations

import html

GLOSSARY = {
    "θ₀": "The network's initial random weights, before any training. A winning ticket is reset to its own θ₀.",
    "early stop": "The iteration with the lowest validation loss: where the network was best on held-out data. "
                  "Its test accuracy is read there.",
    "censored": "Most of these networks were still improving when training ended, so their true early stop is "
                "later than shown: a lower bound, not a speed.",
    "re-init": "Random re-initialisation: the ticket's own connections with fresh random starting weights "
               "instead of its θ₀.",
    "random pruning": "A random mask with the same number of weights per layer as the ticket, reset to θ₀.",
    "prune rate": "The share of the remaining hidden-layer weights removed in each pruning round "
                  "(the output layer loses half as many).",
    "winning ticket": "A subnetwork that, reset to its original initial weights (θ₀) and trained alone, learns at "
                      "least as fast and as well as the full network.",
}


def define(term: str, shown: str | None = None) -> str:
    """HTML for `term` (a GLOSSARY key) with its definition on hover; render with unsafe_allow_html.
    Only the glossary's own text goes in: never user text."""
    text = html.escape(shown or term)
    tip = html.escape(GLOSSARY[term], quote=True)
    return f'<abbr title="{tip}" style="text-decoration: underline dotted; cursor: help">{text}</abbr>'
