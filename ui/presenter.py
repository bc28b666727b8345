"""Presenter mode: bigger fonts and charts, fewer controls, for projecting to a class.

Charts go through show() so that every page sizes them the same way and the
Plotly toolbar offers a crisp PNG download.
"""
from __future__ import annotations

import streamlit as st

KEY = "presenter"

BASE_CSS = """
<style>
.st-key-demo button { font-size: 1.35rem; padding: 0.8rem 1.6rem; min-height: 3.6rem; }
.st-key-demo button p { font-size: 1.35rem; font-weight: 600; }
.st-key-start button p { font-size: 1.1rem; font-weight: 600; }
[data-testid="stMetricValue"] { font-size: 1.9rem; }
/* show_by_width: one layout of a figure for a phone, another for wider screens */
@media (max-width: 640px) { [class*="__wide"] { display: none !important; } }
/* a phone: Plotly's toolbar would sit on the legend; the page's download buttons remain */
@media (max-width: 640px) { .js-plotly-plot .modebar-container { display: none !important; } }
@media (min-width: 641px) { [class*="__narrow"] { display: none !important; } }
</style>
"""

PRESENTER_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stAppDeployButton"] { visibility: hidden; }
.block-container { padding-top: 1.2rem; max-width: 100%; }
h1 { font-size: 2.7rem !important; }
h2 { font-size: 2.0rem !important; }
[data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stMetricValue"] { font-size: 2.1rem; }
.presenter-hide { display: none; }
</style>
"""


def active() -> bool:
    """True while presenter mode is on (the sidebar toggle)."""
    return bool(st.session_state.get(KEY, False))


def toggle() -> None:
    """The sidebar switch; its state persists across pages because the sidebar is always drawn."""
    st.toggle("Presenter mode", key=KEY,
              help="For projecting to a class: larger text and charts, and fewer controls on each page.")


def inject_css() -> None:
    st.html(BASE_CSS + (PRESENTER_CSS if active() else ""))


def show(fig, key: str | None = None, filename: str = "lottery-ticket-chart", clickable: bool = False):
    """Draw a Plotly figure full width; larger fonts and height in presenter mode.
    clickable=True: clicks select points, and the selected points are returned (a list)."""
    if active():
        # explicit sizes: Streamlit's chart theme sets tick and title fonts that a global font would not override
        fig.update_layout(font=dict(size=19), height=int((fig.layout.height or 420) * 1.3),
                          hoverlabel=dict(font_size=18), legend=dict(font=dict(size=17)))
        fig.update_xaxes(tickfont=dict(size=16), title_font=dict(size=18))
        fig.update_yaxes(tickfont=dict(size=16), title_font=dict(size=18))
        fig.update_annotations(font_size=18)
        fig.update_traces(selector=dict(mode="lines+markers"), marker_size=11)
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2}}
    if not clickable:
        st.plotly_chart(fig, key=key, config=config)
        return None
    event = st.plotly_chart(fig, key=key, config=config, on_select="rerun", selection_mode="points")
    return list(event.selection.points) if event else []


def show_by_width(wide, narrow, key: str, filename: str = "lottery-ticket-chart", clickable: bool = False):
    """Two layouts of one figure: `narrow` (panels one above another) on a phone, `wide` elsewhere; the
    page's CSS shows one by the screen's width, since the server cannot know it."""
    a = show(wide, key=f"{key}__wide", filename=filename, clickable=clickable)
    b = show(narrow, key=f"{key}__narrow", filename=filename, clickable=clickable)
    return (a or []) + (b or []) if clickable else None
