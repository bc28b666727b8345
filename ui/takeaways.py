"""The Results page's headline numbers, table and downloads, all computed from stored metrics."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lth_core.analysis import speed, spread, stats
from lth_core.report import export
from lth_core.charts.style import ARM_NAMES


def _points(v: float) -> str:
    return f"{v:+.1f} points"


def _pts(v: float) -> str:  # the short form, for a tile's second line
    return f"{v:+.1f} pts"


def _gap_note(gap: stats.Paired) -> str:
    """The part of a tile that says how sure it is: the interval, or that there are too few trials."""
    if not gap.enough or gap.low is None:
        return gap.note()
    return f"{100 * stats.CONFIDENCE:.0f}% CI {gap.low:+.1f} to {gap.high:+.1f}"


def metrics(summary: pd.DataFrame, config) -> None:
    """Up to four headline numbers, each read off the stored results with the shared, paired and
    censoring-aware definitions of lth_core.analysis.spread, speed and claims."""
    dense = spread.dense_accuracy(summary)
    if dense is None:
        return
    note = dict(delta_color="off", delta_arrow="off", border=True)
    cols = [c for _ in range(2) for c in st.columns(2)]  # 2 x 2: room for each tile's interval on one line
    cols[0].metric("Dense network", f"{100 * dense:.1f}%", "test accuracy at early stop", **note,
                   help="Test accuracy at early stopping (minimum validation loss) of the unpruned network, "
                        "mean over trials.")
    cmp = spread.compare_to_dense(summary, "ticket")
    table = spread.level_table(summary, "ticket")
    if table.empty:
        return
    rule = ("At least as good as dense means: paired by trial with its own dense network, the "
            f"{100 * stats.CONFIDENCE:.0f}% confidence interval of the difference lies above -{stats.MARGIN_POINTS:g} "
            f"points, at that level and every denser one. Fewer than {stats.MIN_TRIALS} trials give no verdict.")
    if not cmp["enough"]:
        cols[1].metric("Smallest winning ticket", "too few trials", f"n = {cmp['trials']}; needs {stats.MIN_TRIALS}",
                       **note, help=rule)
    elif cmp["as_good_down_to"] is not None:
        row = table[table.percent_remaining == cmp["as_good_down_to"]].iloc[0]
        gap = spread.paired_gap(summary, int(row.level), "ticket", "dense")
        cols[1].metric("Smallest winning ticket", f"{cmp['as_good_down_to']:.3g}%",
                       f"{_pts(gap.mean)} vs dense · {_gap_note(gap)}", **note, help=rule)
    else:
        where = f"scan stops at {cmp['not_shown_at']:.3g}%" if cmp["not_shown_at"] is not None else "no level"
        low = f" · CI to {cmp['not_shown_low']:+.1f}" if cmp["not_shown_low"] is not None else ""
        cols[1].metric("Smallest winning ticket", "not shown", where + low, **note, help=rule)
    reinit = spread.pruned_levels(summary, "reinit")
    if "reinit" in config.controls and reinit:
        level = reinit[-1]  # the level of the report's claim (c) gap: re-init's sparsest finished level
        gap = spread.paired_gap(summary, level, "ticket", "reinit")
        if gap.n:
            pct = float(spread.group(summary, level, "reinit").percent_remaining.mean())
            cols[2].metric("Ticket vs random re-init", _points(gap.mean), f"at {pct:.3g}% · {_gap_note(gap)}", **note,
                           help="Test accuracy of the ticket minus its randomly re-initialised copy (same mask), "
                                "at the sparsest level where re-init is finished, paired by trial: the mean "
                                f"difference and its {100 * stats.CONFIDENCE:.0f}% confidence interval.")
    sp = speed.speed_at(summary)
    if sp is not None:
        vs = sp["vs_dense"]
        value = speed.head(vs)
        ci = (f" · {100 * stats.CONFIDENCE:.0f}% CI {vs['low']:.2f} to {vs['high']:.2f}" if vs["low"] is not None
              else "")
        delta = (f"at {sp['percent_remaining']:.3g}%{ci} · {vs['verdict']}" if vs["ratio"] is not None else
                 "most networks still improving when training ended")
        cols[3].metric("Ticket learning speed vs dense", value, delta, **note,
                       help=f"How many times earlier the ticket reaches its minimum validation loss than its own "
                            f"dense network, at the level nearest {speed.REFERENCE_PERCENT}% remaining (the "
                            "paper's: 38% earlier there): the geometric mean of the per-trial ratios, counting "
                            "only trials where neither network's minimum falls in the last 10% of training. "
                            "When more than half of either group is still improving at the end, the budget is "
                            "too short to measure it. The report's claim (b) reads the same numbers.")


def _pct(v) -> str:
    return f"{v:.3g}%"


def dense_sentences(summary: pd.DataFrame, config) -> None:
    """What this run's accuracy chart shows, in words, with the shared definitions (lth_core.analysis.spread)."""
    arms = [a for a in ("ticket", *config.controls) if a in set(summary.arm)]
    parts, trials = [], None
    for arm in arms:
        c = spread.compare_to_dense(summary, arm)
        if not c["levels_run"]:
            continue
        trials = c["trials"] if trials is None else min(trials, c["trials"])
        name = "the ticket" if arm == "ticket" else ARM_NAMES[arm].split(" (")[0].lower()
        if not c["enough"]:
            continue
        if c["falls_below_at"] is not None:
            text = f"{name} falls clearly below dense from {_pct(c['falls_below_at'])} on"
        elif c["clearly_below_at"]:
            text = (f"{name} is clearly below dense at {', '.join(_pct(p) for p in c['clearly_below_at'])}, "
                    "but not for good")
        elif c["as_good_down_to"] is not None:
            text = f"{name} is at least as good as dense down to {_pct(c['as_good_down_to'])}"
        else:
            text = f"{name} is never clearly below dense (checked down to {_pct(c['sparsest'])})"
        if not c["clearly_below_at"] and c["as_good_down_to"] is not None \
                and c["as_good_down_to"] != c["sparsest"]:
            text += f" and never clearly below it down to {_pct(c['sparsest'])}"
        parts.append(text)
    if trials is not None and trials < stats.MIN_TRIALS:
        st.markdown(f"**In this run**: {stats.TOO_FEW} (n = {trials}); with {stats.MIN_TRIALS} or more trials "
                    "the page says where each network falls below dense. The chart shows the values as measured.")
    elif parts:
        st.markdown(f"**In this run** ({trials} trials, paired, {100 * stats.CONFIDENCE:.0f}% confidence, Holm over "
                    "the levels): " + "; ".join(parts) + ".")


def speed_sentence(summary: pd.DataFrame) -> None:
    """The ticket's learning speed at the paper's reference level, or why it cannot be measured."""
    sp = speed.speed_at(summary)
    if sp is None:
        return
    share = speed.censored_share(summary)
    cens = ", ".join(f"{'dense' if a == 'dense' else ARM_NAMES[a].split(' (')[0].lower()} {100 * v:.0f}%"
                     for a, v in share.items())
    parts = []
    for key, other in (("vs_dense", "the dense network"), ("vs_reinit", "its random re-init")):
        if key in sp:
            parts.append(f"against {other}, {speed.describe(sp[key])}")
    st.markdown(f"**In this run**, at {_pct(sp['percent_remaining'])} remaining, the ticket's minimum validation "
                f"loss: " + "; ".join(parts) + f". Still improving when training ended (censored, left out): {cens}.")


def budget_warning(summary: pd.DataFrame, config) -> None:
    """Say so when most of a run's networks were still improving at the end of training."""
    nets = spread.networks(summary)
    if nets.empty:
        return
    share = float(nets.censored.mean())
    if share > 0.5:
        st.warning(f"{100 * share:.0f}% of this run's networks were still improving when training ended (their "
                   f"lowest validation loss falls in the last 10% of the {config.training.iterations:,} "
                   "iterations). Their early-stopping iterations show the training budget, not how fast they "
                   "learn, and their accuracies may be below what they would reach. A longer budget "
                   "(more iterations per round) would measure them.", icon=":material/timer:")


def table(summary: pd.DataFrame) -> None:
    """Per level and arm: the report's numbers table (export.numbers_frame), with each column explained."""
    t = export.numbers_frame(summary)
    if t.trials.max() <= 1:  # one trial: min and max equal the mean
        t = t.drop(columns=["min (%)", "max (%)"])
    help_text = {"test acc. at early stop (%)": "Test accuracy at the early-stopping iteration (minimum validation "
                                                "loss), as the paper reads it.",
                 "early stop (it.)": "Iteration of minimum validation loss.",
                 "test acc. at end of training (%)": "Test accuracy after the last iteration.",
                 "train acc. at early stop (%)": "Training accuracy at the early-stopping iteration.",
                 "still improving (%)": "Share of the trials whose minimum validation loss fell in the last 10% "
                                        "of training (censored): their early stop is a lower bound."}
    fmt = {c: st.column_config.NumberColumn(format="%.2f", help=help_text.get(c)) for c in t.columns if "(%)" in c}
    fmt["early stop (it.)"] = st.column_config.NumberColumn(format="%.0f", help=help_text["early stop (it.)"])
    st.dataframe(t, hide_index=True, column_config=fmt, width="stretch")


def downloads(run_id: str, config, summary: pd.DataFrame, figures: dict) -> None:
    """CSV of every trial's metrics, the config, and each chart as a standalone HTML file that works
    offline (plotly.js embedded). figures: {button title: (file stem, figure)}."""
    st.markdown("**Downloads** (for a PNG, use the camera button above any chart)")
    per_trial = summary[~summary.shared_dense].drop(columns=["shared_dense"])
    cols = st.columns(3)
    cols[0].download_button("Metrics of every trial (CSV)", lambda: per_trial.to_csv(index=False),
                            f"metrics-{run_id}.csv", "text/csv", key="dl_csv", on_click="ignore",
                            icon=":material/table:", width="stretch")
    cols[1].download_button("Config (JSON)", lambda: json.dumps({"run_id": run_id, "config": config.to_dict()},
                                                                indent=2),
                            f"config-{run_id}.json", "application/json", key="dl_config", on_click="ignore",
                            icon=":material/data_object:", width="stretch")
    for i, (title, (name, fig)) in enumerate(figures.items(), start=2):
        cols[i % 3].download_button(f"{title} (HTML)", lambda fig=fig: fig.to_html(include_plotlyjs=True),
                                    f"{name}-{run_id}.html", "text/html", key=f"dl_{name}", on_click="ignore",
                                    icon=":material/download:", width="stretch")
