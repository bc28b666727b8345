"""Every number the reproduction report may print, as plain JSON values: one stored run's facts
(lth_core.analysis.claims, .spread, .speed, .results on it), the budget pilot's, and the paper's protocol
and results for LeNet-300-100 on MNIST as cited from ../shared/PAPER.md. The prose modules
(report_claims, report_sections) format these; they compute nothing of their own."""
from __future__ import annotations

import math

from lth_core.analysis import claims, results, speed, spread
from lth_core.training import early_stop
from lth_core.store.complete import is_complete
from lth_core.lottery.state import percent_ladder
from lth_core.store.run_store import Store

PILOT_FRACTION = 0.6  # the budget is long enough when every dense network's minimum falls before 60% of it

# The paper's protocol and results for LeNet-300-100 on MNIST, from ../shared/PAPER.md.
PAPER_PROTOCOL = {"dataset": "mnist", "arch": "lenet300", "iterations": 50_000, "eval_every": 100, "rounds": 20,
                  "trials": 5, "rate": 0.2, "output_rate": 0.1, "lr": 1.2e-3, "batch_size": 60}
PAPER = {"earlier_percent": 38, "reinit_ratio": 2.51, "gain_points": 0.3, "gain_at": 13.5, "holds_to": 3.6,
         "reinit_falls": 21.1, "ticket_falls": 2.9, "f_gain": 0.35, "train_acc": 100}


def _native(v):
    """numpy scalars and tuples as plain JSON values (NaN as None)."""
    if isinstance(v, dict):
        return {str(k): _native(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_native(x) for x in v]
    if hasattr(v, "item"):
        v = v.item()
    return None if isinstance(v, float) and math.isnan(v) else v


def _levels(nets) -> list[dict]:
    """Per level: each arm's accuracy mean/min/max, censored networks, the ticket's early stops."""
    out = []
    for level, at in nets.groupby("level"):
        row = {"level": int(level), "percent": float(at.percent_remaining.mean()), "arms": {}}
        for arm, g in at.groupby("arm"):
            row["arms"][arm] = {"mean": float(g.test_acc_at_early_stop.mean()),
                                "min": float(g.test_acc_at_early_stop.min()),
                                "max": float(g.test_acc_at_early_stop.max()), "networks": len(g),
                                "censored": int(g.censored.sum()), "early_stop": float(g.early_stop_iteration.mean()),
                                "early_stop_smoothed": float(g.early_stop_smoothed.mean())}
        out.append(row)
    return out


def facts(store: Store, run_id: str, key: str, role: str) -> dict:
    """Everything the report says about one run, as plain numbers and strings."""
    config = store.config(run_id)
    summary = results.summary_frame(store, run_id)
    nets = spread.networks(summary)
    c = claims.all_claims(summary)
    ladder = percent_ladder(config)
    levels = _levels(nets)
    ticket = spread.level_table(summary, "ticket")
    derived = {"dense": spread.dense_accuracy(summary), "levels_done": len(levels),
               "levels_planned": config.levels, "planned_min_percent": float(ladder[-1]),
               "sparsest_percent": levels[-1]["percent"] if len(levels) > 1 else None,
               "seed_first": config.seed, "seed_last": config.seed + config.trials - 1,
               "networks": len(nets), "censored_share": speed.censored_share(summary),
               "censored_share_smoothed": speed.censored_share(summary.assign(censored=summary.censored_smoothed)),
               "censored_all": float(nets.censored.mean()) if len(nets) else None,
               "dense_by_seed": {int(r.seed): float(r.early_stop_iteration)
                                 for r in nets[nets.level == 0].itertuples()}}
    for name, level in (("reference", spread.nearest_level(summary, speed.REFERENCE_PERCENT)),
                        ("paper_gain", spread.nearest_level(summary, PAPER["gain_at"]))):
        if level is not None and derived["dense"] is not None:  # ticket - its own trial's dense network, points
            g = spread.paired_gap(summary, level, "ticket", "dense")
            derived[name] = {"percent": float(ticket[ticket.level == level].percent_remaining.iloc[0]),
                             **g.as_dict()}
    derived["above_levels"] = int((ticket.clear == 1).sum()) if len(ticket) else 0  # Holm over the levels
    derived["below_levels"] = int((ticket.clear == -1).sum()) if len(ticket) else 0
    gap = (nets.early_stop_iteration - nets.early_stop_smoothed).abs()
    derived["argmin_gap"] = {"mean": float(gap.mean()), "max": float(gap.max()),
                             "evals": float(gap.mean() / config.training.eval_every)} if len(gap) else None
    if "reinit" in config.controls and len(levels) > 1:
        derived["ticket_vs_reinit"] = spread.paired_gap(summary, levels[-1]["level"], "ticket", "reinit").as_dict()
    return _native({"key": key, "role": role, "run_id": run_id, "config": config.to_dict(),
                    "complete": is_complete(config, store, run_id), "ladder": ladder,
                    "measured_train": bool(nets.train_measured.all()), "claims": c, "derived": derived,
                    "levels": levels})


def pilot_facts(pilot: dict, budget: int) -> dict:
    """What the dense-network pilot says about a budget: where each minimum falls, and how many
    of the pilot's networks a run of `budget` iterations would censor (Adam at a constant
    learning rate trains the same first iterations whatever the budget)."""
    rows = pilot["trials"]
    latest = max(rows, key=lambda r: max(r["raw_argmin"], r["smoothed_argmin"]))
    censored = 0
    for r in rows:
        cut = [v for i, v in zip(r["iteration"], r["val_loss"]) if i <= budget]
        its_cut = [i for i in r["iteration"] if i <= budget]
        censored += bool(cut) and early_stop.is_censored(its_cut[early_stop.argmin_index(cut)], budget)
    latest_it = max(latest["raw_argmin"], latest["smoothed_argmin"])
    return {"iterations": pilot["config"]["training"]["iterations"],
            "eval_every": pilot["config"]["training"]["eval_every"], "networks": len(rows),
            "dataset": pilot["config"]["dataset"], "arch": pilot["config"]["arch"],
            "wall_min": pilot["wall_s"] / 60 if pilot.get("wall_s") else None,
            "config": pilot["config"],
            "seeds": [r["seed"] for r in rows], "raw": [r["raw_argmin"] for r in rows],
            "smoothed": [r["smoothed_argmin"] for r in rows],
            "min_val_loss": [r["min_val_loss"] for r in rows], "final_val_loss": [r["final_val_loss"] for r in rows],
            "latest": latest_it, "latest_seed": latest["seed"], "budget": budget,
            "limit": PILOT_FRACTION * budget, "fits": latest_it < PILOT_FRACTION * budget,
            "latest_share": latest_it / budget, "needed": latest_it / PILOT_FRACTION,
            "censored_at_budget": int(censored),
            "max_raw_smoothed_gap": max(abs(r["raw_argmin"] - r["smoothed_argmin"]) for r in rows)}

