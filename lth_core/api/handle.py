"""A stored run as one object: its config, tables, claims, figures and tickets.

Every table and figure comes from the same functions the app and the report use
(lth_core.analysis, lth_core.charts), read from the store: nothing is recomputed here.
Accuracies in tables are fractions in [0, 1]; percent_remaining is in (0, 100].
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from lth_core.analysis import claims, results
from lth_core.api.ticket import Ticket, ticket_of
from lth_core.charts import results as charts
from lth_core.config import ExperimentConfig
from lth_core.lottery.state import percent_ladder
from lth_core.report.export import numbers_frame
from lth_core.store.run_store import Store

FIGURES = ("accuracy", "early-stop", "learning-curves", "validation-loss", "generalisation")


class Run:
    """One run of a store (or of the gallery), opened by lth_core.run or lth_core.open."""

    def __init__(self, store: Store, run_id: str, data_dir: Path | None = None):
        self.store, self.run_id, self.data_dir = store, run_id, data_dir
        self.config: ExperimentConfig = store.config(run_id)

    def __repr__(self) -> str:
        c = self.config
        return (f"Run({self.run_id!r}, {c.dataset}/{c.arch}, {c.levels} levels, {c.trials} trial(s), "
                f"{self.status()['state']}, store={str(self.store.root)!r})")

    @property
    def path(self) -> Path:
        """The run's folder."""
        return self.store.run_dir(self.run_id)

    def status(self) -> dict:
        """{'state': queued | running | done | failed | cancelled | interrupted, 'reason': ...}."""
        state = self.store.status(self.run_id)
        return {"state": "done", "reason": ""} if state["state"] == "unknown" and self.store.readonly else state

    def percents(self) -> list[float]:
        """% of prunable weights remaining at levels 0..rounds, in (0, 100]."""
        return percent_ladder(self.config)

    # --- tables (lth_core.analysis.results) ------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per trained network (level, arm, trial): early stop, accuracies, censoring.
        The dense network (level 0) is repeated once per control with shared_dense=True."""
        return results.summary_frame(self.store, self.run_id)

    def levels(self) -> pd.DataFrame:
        """Mean, min and max over trials per (level, arm): the numbers the charts draw."""
        return results.aggregate(self.summary())

    def table(self) -> pd.DataFrame:
        """The app's and the report's numbers table (accuracies in %), one row per level and network."""
        return numbers_frame(self.summary())

    def curves(self) -> pd.DataFrame:
        """Every evaluation point of every network: the learning curves, long format."""
        return results.curves_frame(self.store, self.run_id)

    def layers(self) -> pd.DataFrame:
        """Surviving weights per layer of every network."""
        return results.layers_frame(self.store, self.run_id)

    def claims(self) -> dict:
        """The paper's claims (a)-(f) this run can speak to, each a dict with its measured numbers and a
        'verdict' (holds / does not hold / unclear / too few trials / not measurable), decided by
        lth_core.analysis.stats exactly as in the app and the report."""
        return claims.all_claims(self.summary())

    # --- figures (lth_core.charts.results) ---------------------------------------
    def figure(self, name: str = "accuracy", *, arms=None, levels=None) -> go.Figure:
        """The app's Plotly figure `name`, one of FIGURES. arms: the networks drawn (default: all);
        levels: the levels of the learning-curve figures (default: dense, middle and last)."""
        if name not in FIGURES:
            raise ValueError(f"unknown figure {name!r}; allowed: {', '.join(FIGURES)}")
        agg, ladder = self.levels(), self.percents()
        if name == "accuracy":
            return charts.accuracy_vs_sparsity(agg, arms=arms, all_percents=ladder)
        if name == "early-stop":
            return charts.early_stop_vs_sparsity(agg, arms=arms, all_percents=ladder,
                                                 iterations=self.config.training.iterations)
        if name == "generalisation":
            return charts.generalisation_gap(agg, arms=arms, all_percents=ladder)
        curves = self.curves()
        done = sorted(set(curves.level))
        if levels is None:
            levels = list(dict.fromkeys(lv for lv in (0, done[len(done) // 2], done[-1]))) if done else []
        bad = [lv for lv in levels if lv not in done]
        if bad:
            raise ValueError(f"no trained level {bad[0]!r} in run {self.run_id}; allowed: "
                             f"{', '.join(map(str, done)) or 'none yet'}")
        others = [a for a in (arms or self.config.arms) if a != "ticket"] or ["reinit"]
        return charts.learning_curves(curves, levels, arms=["ticket", *others],
                                      metric="test_acc" if name == "learning-curves" else "val_loss",
                                      iterations=self.config.training.iterations)

    # --- tickets (lth_core.api.ticket) -------------------------------------------
    def ticket(self, level: int, trial: int = 0, *, trained: bool = False) -> Ticket:
        """The winning ticket of `level` (0..rounds) and `trial` (0..trials-1) as a torch module: the
        network with its mask applied and the weights its training started from (θ₀, or θ_k in a
        rewinding run); trained=True: the weights that network reached after training, masked."""
        return ticket_of(self, level, trial, trained=trained)

    def export_ticket(self, out: Path | str, level: int, trial: int = 0) -> Path:
        """Write the ticket of (level, trial) as a checkpoint folder (see Ticket.save); returns it."""
        return self.ticket(level, trial).save(out)
