"""Robustness to weight noise, drawn: accuracy vs noise scale, and what to look for in it.

Input: analyses.noise_frame (accuracies fractions, drawn as %). One panel per level, one line
per arm (mean over trials and draws) with a min..max band; arms keep their colours from
charts.style, unknown arms take RUN_COLORS. Pure Plotly, no Streamlit.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lth_core.analysis.analyses import noise_summary
from lth_core.charts.style import ARM_COLORS, ARM_DASH, ARM_NAMES, ARM_ORDER, ARM_SYMBOL, RUN_COLORS, base_layout, rgba

PANELS_PER_ROW = 3
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "triangle-down", "pentagon", "hexagon", "cross")


def arm_order(arms) -> list[str]:
    """The paper's arms in their usual order, then any others in the order given."""
    arms = list(dict.fromkeys(arms))
    return [a for a in ARM_ORDER if a in arms] + [a for a in arms if a not in ARM_ORDER]


def arm_style(arm: str, others: list[str]) -> dict:
    """{"color", "name", "dash", "symbol"} of an arm; an unknown arm gets the next free colour
    and shape (by its place in `others`, the unknown arms of the chart) and a readable name."""
    if arm in ARM_COLORS:
        return {"color": ARM_COLORS[arm], "name": ARM_NAMES[arm], "dash": ARM_DASH[arm], "symbol": ARM_SYMBOL[arm]}
    free = [c for c in RUN_COLORS if c not in ARM_COLORS.values()]
    i = others.index(arm) if arm in others else 0
    return {"color": free[i % len(free)], "name": arm.replace("_", " "), "dash": "solid",
            "symbol": SYMBOLS[(i + len(ARM_SYMBOL)) % len(SYMBOLS)]}


def _level_title(d: pd.DataFrame, level: int) -> str:
    p = float(d.percent_remaining.mean()) if len(d) else float("nan")
    return f"level {level}: {p:.3g}% remaining" if math.isfinite(p) else f"level {level}"


def noise_figure(frame: pd.DataFrame, levels=None, arms=None, title: str | None = None,
                 columns: int = PANELS_PER_ROW) -> go.Figure:
    """Test accuracy (%) vs relative noise scale: one panel per level (levels: a subset, default
    all in the frame), one line per arm (arms: a subset), band = min..max over trials and draws.
    columns=1 stacks the panels, with the legend below them (a phone's width)."""
    summary = noise_summary(frame)
    levels = sorted(summary.level.unique()) if levels is None else [lv for lv in levels if lv in set(summary.level)]
    shown = arm_order(summary.arm) if arms is None else [a for a in arm_order(summary.arm) if a in set(arms)]
    others = [a for a in shown if a not in ARM_COLORS]
    n = max(1, len(levels))
    cols = min(n, columns)
    rows = -(-n // cols)
    titles = [_level_title(summary[summary.level == lv], lv) for lv in levels] or [""]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes=True,
                        horizontal_spacing=0.04, vertical_spacing=0.18 if rows > 1 else 0.1)
    base_layout(fig, title=title, height=360 * rows + 60, panels=True, legend_below=cols == 1)
    in_legend: set = set()  # each arm once in the legend, from the first panel that has it
    for k, level in enumerate(levels):
        row, col = k // cols + 1, k % cols + 1
        for arm in shown:
            d = summary[(summary.level == level) & (summary.arm == arm)].sort_values("scale")
            if d.empty:
                continue
            st = arm_style(arm, others)
            if (d["max"] - d["min"]).abs().max() > 1e-12:
                x = list(d.scale)
                fig.add_trace(go.Scatter(x=x + x[::-1], y=list(d["max"] * 100) + list(d["min"] * 100)[::-1],
                                         fill="toself", mode="lines", fillcolor=rgba(st["color"], 0.18),
                                         line=dict(width=0), hoverinfo="skip", showlegend=False,
                                         legendgroup=arm), row=row, col=col)
            hover = [f"<b>{st['name']}</b><br>noise {s:g} x layer std<br>test accuracy {m * 100:.1f}% "
                     f"(min {lo * 100:.1f}, max {hi * 100:.1f}; {t} trial{'s' if t > 1 else ''} x {v // max(t, 1)} "
                     f"draw{'s' if v // max(t, 1) > 1 else ''})"
                     for s, m, lo, hi, t, v in zip(d.scale, d["mean"], d["min"], d["max"], d.trials, d["values"])]
            fig.add_trace(go.Scatter(x=d.scale, y=d["mean"] * 100, mode="lines+markers", name=st["name"],
                                     legendgroup=arm, showlegend=arm not in in_legend,
                                     line=dict(color=st["color"], width=3, dash=st["dash"]),
                                     marker=dict(size=7, color=st["color"], symbol=st["symbol"]),
                                     hovertext=hover, hoverinfo="text"), row=row, col=col)
            in_legend.add(arm)
    fig.update_xaxes(title_text="noise scale (x each layer's weight std)", row=rows)  # under the bottom row only
    fig.update_yaxes(title_text="test accuracy (%)", col=1)
    return fig


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


NOISE_COLUMNS = ["Level", "% remaining", "Network", "Noise scales", "Accuracy under noise",
                 "Without noise", "Drop (points)", "Trials", "Draws", "Verdict"]


def _level_rows(frame: pd.DataFrame, summary: pd.DataFrame, level: int) -> list[dict]:
    """One level, one row per arm (most kept first): its mean accuracy over the noisy scales and without
    noise; on the first row, whether its band clears every other arm's (at how many scales) and
    whether it also loses the least (else its lead is its clean accuracy)."""
    d = summary[(summary.level == level) & (summary.scale > 0)]
    clean = frame[frame.level == level].groupby("arm").clean_test_acc.mean()
    scales = sorted(d.scale.unique())
    kept = d.groupby("arm")["mean"].mean().sort_values(ascending=False)
    arms = list(kept.index)
    names = {a: arm_style(a, [x for x in arms if x not in ARM_COLORS])["name"].split(" (")[0] for a in arms}
    trials = int(d.trials.max())
    draws = int(d["values"].max()) // max(trials, 1)
    rows = [{"Level": int(level), "% remaining": float(d.percent_remaining.mean()), "Network": names[a],
             "Noise scales": f"{scales[0]:g}" if len(scales) == 1 else f"{scales[0]:g} to {scales[-1]:g}",
             "Accuracy under noise": 100 * float(kept[a]), "Without noise": 100 * float(clean[a]),
             "Drop (points)": 100 * float(clean[a] - kept[a]), "Trials": trials, "Draws": draws, "Verdict": ""}
            for a in arms]
    if len(arms) < 2:
        return rows
    best, rest = arms[0], arms[1:]
    wide = d.pivot_table(index="scale", columns="arm", values=["min", "max"])
    clear = [sc for sc in scales if all(wide.loc[sc, ("min", best)] > wide.loc[sc, ("max", a)] for a in rest)]
    if not clear:
        text = ("the bands (min..max over trials and draws) overlap at every scale: the difference is within the "
                "spread, so no arm is clearly more robust here")
    else:
        where = "every scale" if len(clear) == len(scales) else \
            f"{len(clear)} of {len(scales)} scales ({', '.join(f'{sc:g}' for sc in clear)}); elsewhere they overlap"
        text = f"keeps the most, and its band stays above every other arm's at {where}"
        drops = {a: clean[a] - kept[a] for a in arms}
        least = min(drops, key=drops.get)
        if least != best:
            text += (f"; it loses more than {names[least]} ({100 * drops[best]:.1f} points against "
                     f"{100 * drops[least]:.1f}): part of its lead is its higher accuracy without noise")
    rows[0]["Verdict"] = text + ("; single trial: the bands show the spread between noise draws only, not between "
                                 "trials" if trials == 1 else "")
    return rows


INTRO = ("Lines that stay high further to the right keep their accuracy under larger noise (scaled to each "
         "layer's weight spread, so sparse and dense are disturbed alike). Explainers of the paper say winning "
         "tickets are robust to weight noise: compare the ticket with its controls.")


def noise_rows(frame: pd.DataFrame) -> list[dict]:
    """Per level, per arm: the numbers and verdict noise_caption summarises (empty without noisy scales)."""
    summary = noise_summary(frame)
    if summary.empty or summary.scale.max() == 0:
        return []
    return [r for lv in sorted(summary.level.unique()) for r in _level_rows(frame, summary, lv)]


def noise_caption(frame: pd.DataFrame) -> str:
    """What to look for, then this analysis in one line: at how many levels one arm's min..max band
    clears the others' at some scale (only then is a difference more than the spread; noise_table)."""
    summary = noise_summary(frame)
    if summary.empty:
        return INTRO + " No results yet."
    if summary.scale.max() == 0:
        return INTRO + " Only scale 0 (no noise) was measured: add larger scales to compare arms."
    rows = noise_rows(frame)
    levels = sorted({r["Level"] for r in rows})
    ahead: dict = {}  # network -> the levels where it keeps the most and its band clears the others' somewhere
    for r in rows:
        if r["Verdict"].startswith("keeps the most"):
            ahead.setdefault(r["Network"], []).append(str(r["Level"]))
    said = "; ".join(f"{net} keeps the most, its band above the others' at some scale, at level "
                     f"{', '.join(lvs)}" for net, lvs in ahead.items()) or "no band stays above the others'"
    return f"{INTRO} Here, {len(levels)} level{'s' * (len(levels) > 1)} (table below): {said}."


def noise_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per level and arm (NOISE_COLUMNS), the numbers and verdicts noise_caption summarises."""
    return pd.DataFrame(noise_rows(frame), columns=NOISE_COLUMNS)
