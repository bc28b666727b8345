"""The Results page's headline numbers, table and downloads, all computed from stored metrics."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lth_core.analysis import results, speed, spread
from lth_core.charts.style import ARM_NAMES, ARM_ORDER
from ui import presenter


def _points(v: float) -> str:
    return f"{v:+.1f} points"


def _spread(gap: dict) -> str:
    if gap["trials"] <= 1:
        return "single trial, no spread"
    return f"{gap['min']:+.1f} to {gap['max']:+.1f} over {gap['trials']} trials"


def metrics(summary: pd.DataFrame, config) -> None:
    """Up to four headline numbers, each read off the stored results with the shared, spread-
    and censoring-aware definitions of lth_core.analysis.spread and lth_core.analysis.speed."""
    dense = spread.dense_accuracy(summary)
    if dense is None:
        return
    note = dict(delta_color="off", delta_arrow="off", border=True)
    cols = [c for _ in range(2) for c in st.columns(2)] if presenter.active() else st.columns(4)
    cols[0].metric("Dense network", f"{100 * dense:.1f}%", "test accuracy", **note,
                   help="Test accuracy at early stopping of the unpruned network, mean over trials.")
    cmp = spread.compare_to_dense(summary, "ticket")
    table = spread.level_table(summary, "ticket")
    if table.empty:
        return
    if cmp["holds_down_to"] is not None:
        row = table[table.percent_remaining == cmp["holds_down_to"]].iloc[0]
        cols[1].metric("Smallest winning ticket", f"{cmp['holds_down_to']:.3g}%",
                       f"{_points(100 * (row['mean'] - dense))} vs dense · {cmp['spread']}", **note,
                       help="The sparsest level (% of weights remaining) before the ticket falls clearly below "
                            "the dense network for good: clearly below means every trial under the dense mean, "
                            "at that level and every sparser one. A dip that recovers does not count.")
    else:
        cols[1].metric("Smallest winning ticket", "none", "clearly below dense from the first round", **note,
                       help="Every trial of the ticket is below the dense network's mean at every pruned level.")
    sparsest = int(table.level.iloc[-1])
    if "reinit" in config.controls:
        gap = spread.paired_gap(summary, sparsest, "ticket", "reinit")
        if gap["trials"]:
            verdict = " · every trial" if gap["clearly_better"] and gap["trials"] > 1 else ""
            cols[2].metric("Ticket vs random re-init", _points(gap["mean"]),
                           f"at {table.percent_remaining.iloc[-1]:.3g}% · {_spread(gap)}{verdict}", **note,
                           help="Test accuracy of the ticket minus its randomly re-initialised copy (same mask), "
                                "at the sparsest finished level, paired by trial: mean, and the range over trials.")
    sp = speed.speed_at(summary)
    if sp is not None:
        vs = sp["vs_dense"]
        value = f"{vs['ratio']:.2g}× dense" if vs["ratio"] is not None else "not measurable"
        delta = (f"at {sp['percent_remaining']:.3g}% · {vs['verdict']}" if vs["ratio"] is not None else
                 "most networks still improving when training ended")
        cols[3].metric("Ticket learning speed", value, delta, **note,
                       help=f"The dense network's early-stopping iteration (minimum validation loss) divided by the "
                            f"ticket's, at the level nearest {speed.REFERENCE_PERCENT}% remaining (the paper's: 38% "
                            "earlier there). Only networks whose minimum falls before the last 10% of training "
                            "count; when more than half of either group is still improving at the end, the "
                            "budget is too short to measure it.")


def _pct(v) -> str:
    return f"{v:.3g}%"


def dense_sentences(summary: pd.DataFrame, config) -> None:
    """What this run's accuracy chart shows, in words, with the shared definitions (lth_core.analysis.spread)."""
    arms = [a for a in ("ticket", *config.controls) if a in set(summary.arm)]
    parts = []
    for arm in arms:
        c = spread.compare_to_dense(summary, arm)
        if not c["levels_run"]:
            continue
        name = "the ticket" if arm == "ticket" else ARM_NAMES[arm].split(" (")[0].lower()
        if c["falls_below_at"] is None:
            text = f"{name} never falls clearly below dense (checked down to {_pct(c['holds_down_to'])})"
        else:
            text = f"{name} falls clearly below dense from {_pct(c['falls_below_at'])} on"
        if c["mean_below_at"] is not None and c["mean_below_at"] != c["falls_below_at"]:
            text += (f", although its mean dips below dense at {_pct(c['mean_below_at'])}: not in every trial, "
                     "or not for good")
        parts.append(text)
    if parts:
        trials = spread.compare_to_dense(summary, "ticket")["spread"]
        st.markdown(f"**In this run** ({trials}): " + "; ".join(parts) + ".")


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
        if key not in sp:
            continue
        vs = sp[key]
        if vs["ratio"] is None:
            parts.append(f"against {other}, {speed.NOT_MEASURABLE}")
            continue
        rng = (f"per trial {min(vs['trial_ratios']):.2f}× to {max(vs['trial_ratios']):.2f}×"
               if len(vs["trial_ratios"]) > 1 else "single trial, no spread")
        text = {"earlier": f"{vs['ratio']:.2f}× earlier than {other}",
                "later": f"later than {other} ({1 / vs['ratio']:.2f}× as many iterations)",
                }.get(vs["verdict"], f"no clear difference from {other} ({vs['ratio']:.2f}×)")
        parts.append(f"{text} ({rng})")
    st.markdown(f"**In this run**, at {_pct(sp['percent_remaining'])} remaining, the ticket reached its minimum "
                f"validation loss " + "; ".join(parts) + f". Still improving when training ended (censored, left "
                f"out): {cens}.")


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
    """Per level and arm: mean test accuracy at early stop, early-stop iteration, training accuracy."""
    agg = results.aggregate(summary[~summary.shared_dense])
    agg = agg.assign(order=agg.arm.map({a: i for i, a in enumerate(ARM_ORDER)})).sort_values(["level", "order"])
    t = pd.DataFrame({
        "level": agg.level, "weights left (%)": agg.percent_remaining, "network": agg.arm.map(ARM_NAMES),
        "trials": agg.trials, "test acc. (%)": 100 * agg.test_acc_at_early_stop,
        "min (%)": 100 * agg.test_acc_at_early_stop_min, "max (%)": 100 * agg.test_acc_at_early_stop_max,
        "early stop (it.)": agg.early_stop_iteration, "final test acc. (%)": 100 * agg.final_test_acc,
        "train acc. (%)": 100 * agg.train_acc_at_early_stop,
        "still improving (%)": 100 * agg.censored_fraction})
    if agg.trials.max() <= 1:  # one trial: min and max equal the mean
        t = t.drop(columns=["min (%)", "max (%)"])
    help_text = {"test acc. (%)": "Test accuracy at the early-stopping iteration (minimum validation loss).",
                 "early stop (it.)": "Iteration of minimum validation loss.",
                 "final test acc. (%)": "Test accuracy after the last iteration.",
                 "train acc. (%)": "Training accuracy at the early-stopping iteration.",
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
