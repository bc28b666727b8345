"""Write docs/REPRODUCTION.md and the README's headline paragraph from stored runs: the paper's
claims (a)-(f) measured on this project's own runs, with their spread and their censoring.

    BROWSER_PATH=/usr/bin/chromium python3 scripts/report.py       # report, figures, README
    python3 scripts/report.py --no-figures --run fashion-mnist-full=<run id>   # e.g. mid-run

Each run is named by the `run --json` output of scripts/reproduce.sh (docs/repro/<key>.json)
and read from the gallery, then ./runs (or --store). Every number in the prose comes from
`facts()` (lth_core.claims, .spread, .speed, .results on the stored runs, and the budget
pilot's JSON) or from the paper's values below, cited from ../shared/PAPER.md; the templates
hold no digits (tests/test_report.py checks both).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core import charts, claims, early_stop, gallery, results, speed, spread  # noqa: E402
from lth_core.data import TRAIN_EVAL_EXAMPLES  # noqa: E402
from lth_core.experiment import is_complete, percent_ladder  # noqa: E402
from lth_core.registry import get_arch_info, get_dataset_info  # noqa: E402
from lth_core.runs import locate  # noqa: E402
from lth_core.store import Store  # noqa: E402

DOCS, REPRO = ROOT / "docs", ROOT / "docs" / "repro"
README = ROOT / "README.md"
MARKERS = ("<!-- headline:start -->", "<!-- headline:end -->")
RUNS = (("fashion-mnist-full", "headline"), ("fashion-mnist", "shortened"), ("mnist1d", "shortened"))
ARMS = ("dense", "ticket", "reinit", "random", "oneshot")
ARM_WORDS = {"dense": "dense", "ticket": "ticket", "reinit": "re-init", "random": "random pruning",
             "oneshot": "one-shot"}
PILOT_FRACTION = 0.6  # the budget is long enough when every dense network's minimum falls before 60% of it

# The paper's protocol and results for LeNet-300-100 on MNIST, from ../shared/PAPER.md.
PAPER_PROTOCOL = {"dataset": "mnist", "arch": "lenet300", "iterations": 50_000, "eval_every": 100, "rounds": 20,
                  "trials": 5, "rate": 0.2, "output_rate": 0.1, "lr": 1.2e-3, "batch_size": 60}
PAPER = {"earlier_percent": 38, "reinit_ratio": 2.51, "gain_points": 0.3, "gain_at": 13.5, "holds_to": 3.6,
         "reinit_falls": 21.1, "ticket_falls": 2.9, "f_gain": 0.35, "train_acc": 100}
PAPER_CELLS = {
    "a": "at or above dense down to {holds_to}% remaining; more than {gain_points} points above at {gain_at}%",
    "b": "at {reference}% the ticket stops {earlier_percent}% earlier than dense and {reinit_ratio}× earlier "
         "than its re-init",
    "c": "re-init falls below dense from about {reinit_falls}%; the ticket only at about {ticket_falls}%",
    "d": "random pruning (random mask, original init) loses to the ticket",
    "e": "iterative pruning finds smaller winning tickets than one-shot",
    "f": "training accuracy about {train_acc}% for all; tickets still gain up to {f_gain} test points",
}
CLAIM_NAMES = {"a": "accuracy vs dense", "b": "learning speed", "c": "random re-init",
               "d": "random pruning", "e": "iterative vs one-shot", "f": "generalisation"}


# ---------------------------------------------------------------- numbers, formatted one way everywhere
def pct(v) -> str:
    """% of weights remaining (already a percent)."""
    return f"{v:.1f}%"


def acc(v) -> str:
    """An accuracy fraction as a percent."""
    return f"{100 * v:.2f}%"


def pts(v) -> str:
    """A difference in percentage points, signed."""
    return f"{v:+.2f}"


def its(v) -> str:
    return f"{v:,.0f}"


def times(v) -> str:
    return f"{v:.2f}×"


def share(v) -> str:
    """A fraction as a whole percent."""
    return f"{100 * v:.0f}%"


def span(lo, hi, fmt=pts) -> str:
    return f"{fmt(lo)} to {fmt(hi)}"


# ---------------------------------------------------------------- facts: every number the prose may print
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
                        ("paper_gain", spread.nearest_level(summary, PAPER["gain_at"])),
                        ("best", None if ticket.empty else int(ticket.loc[ticket["mean"].idxmax()].level))):
        if level is not None and derived["dense"] is not None:
            r = ticket[ticket.level == level].iloc[0]
            derived[name] = {"percent": float(r.percent_remaining), "gain": 100 * (r["mean"] - r.dense),
                             "lo": 100 * (r["min"] - r.dense), "hi": 100 * (r["max"] - r.dense)}
    derived["above_levels"] = int(ticket.above.sum()) if len(ticket) else 0
    gap = (nets.early_stop_iteration - nets.early_stop_smoothed).abs()
    derived["argmin_gap"] = {"mean": float(gap.mean()), "max": float(gap.max()),
                             "evals": float(gap.mean() / config.training.eval_every)} if len(gap) else None
    if "reinit" in config.controls and len(levels) > 1:
        derived["ticket_vs_reinit"] = spread.paired_gap(summary, levels[-1]["level"], "ticket", "reinit")
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


# ---------------------------------------------------------------- the claims table's cells
NM = claims.NOT_MEASURABLE


def _verdict(v: str) -> str:
    return f"**{v}**"


def _groups_short(sp: dict) -> str:
    """Which groups the budget censors, in words (no numbers: the verdict is 'not measurable')."""
    bad = [ARM_WORDS[g] for g, v in sp["groups"].items() if not v["measurable"]] if sp else []
    return ", ".join(bad[:-1]) + " and " + bad[-1] if len(bad) > 1 else (bad or ["no"])[0]


def cell(f: dict, k: str) -> str:
    """One claim for one run: verdict, the numbers behind it, and their spread. A claim that is
    not measurable prints no number; one whose arm the run did not train says so."""
    c, d = f["claims"].get(k), f["derived"]
    if c is None:
        return "not run (control not trained)"
    v = c["verdict"]
    if v == NM:
        if k == "b":
            sm = c.get("smoothed")
            sv = sm["vs_dense"]["verdict"] if sm else NM
            return (f"{_verdict(v)}: at the reference level more than half of the {_groups_short(c['raw'])} "
                    f"networks were still improving when training ended; smoothed argmin vs dense: {sv}")
        if k == "f":
            return f"{_verdict(v)}: {c.get('reason', 'the run lacks what it needs')}"
        return f"{_verdict(v)}: no finished pruned level"
    if k in "de":
        return f"{_verdict(v)}: " + _cell_gap(c, d, f, k)
    return f"{_verdict(v)}: " + {"a": _cell_a, "b": _cell_b, "c": _cell_c, "f": _cell_f}[k](c, d, f)


def _cell_a(c, d, f) -> str:
    ref, best = d["reference"], d["best"]
    sparsest = pct(d["sparsest_percent"]) + ("" if f["complete"] else ", so far")
    fall = (f"never clearly below dense for good down to {sparsest} (the sparsest level run)"
            if c["falls_below_at"] is None else
            f"clearly below dense for good from {pct(c['falls_below_at'])}"
            + ("" if c["holds_down_to"] is None else f", holds dense down to {pct(c['holds_down_to'])}"))
    at = [ref] + ([d["paper_gain"]] if d["paper_gain"]["percent"] != ref["percent"] else [])
    gains = "; ".join(f"at {pct(r['percent'])} {pts(r['gain'])} (trials {span(r['lo'], r['hi'])})" for r in at)
    return (f"dense {acc(c['dense_acc'])}; ticket − dense, points: {gains}; best {pts(best['gain'])} at "
            f"{pct(best['percent'])} (trials {span(best['lo'], best['hi'])}); every trial above dense at "
            f"{d['above_levels']} of {c['levels_run']} levels; {fall}; {c['spread']}")


def _speed_part(sp: dict, name: str) -> str:
    vs = sp[f"vs_{name}"]
    if vs["ratio"] is None:
        return f"vs {ARM_WORDS[name]}: {vs['verdict']}"
    trials = f"per trial {span(min(vs['trial_ratios']), max(vs['trial_ratios']), times)}" if vs["trial_ratios"] else ""
    return f"{ARM_WORDS[name]} ÷ ticket {times(vs['ratio'])} ({trials}): {vs['verdict']}"


def _its_range(g: dict) -> str:
    vals = list(g["by_trial"].values())
    return f"{its(g['mean_iteration'])} ({span(min(vals), max(vals), its)})"


def _cell_b(c, d, f) -> str:
    raw, sm = c["raw"], c["smoothed"]
    g = raw["groups"]
    parts = [f"at {pct(raw['percent_remaining'])}, raw argmin: ticket stops at {_its_range(g['ticket'])}, dense "
             f"{_its_range(g['dense'])}" + (f", re-init {_its_range(g['reinit'])}" if "reinit" in g else "")]
    parts.append(_speed_part(raw, "dense") + (f" ({raw['vs_dense']['earlier_percent']:.0f}% earlier)"
                                              if raw["vs_dense"]["verdict"] == "earlier" else ""))
    if "vs_reinit" in raw:
        parts.append(_speed_part(raw, "reinit"))
    smooth = [_speed_part(sm, "dense")] + ([_speed_part(sm, "reinit")] if "vs_reinit" in sm else [])
    parts.append("smoothed argmin: " + "; ".join(smooth))
    apart = [f"{times(raw[f'vs_{n}']['ratio'])} vs {times(sm[f'vs_{n}']['ratio'])} ({ARM_WORDS[n]})"
             for n in ("dense", "reinit") if f"vs_{n}" in raw and raw[f"vs_{n}"]["ratio"] is not None
             and sm[f"vs_{n}"]["ratio"] is not None]
    ag = d["argmin_gap"]
    parts.append("how far apart: raw vs smoothed ratio " + ", ".join(apart) + f"; a network's two argmins are "
                 f"{its(ag['mean'])} iterations apart on average ({ag['evals']:.1f} evaluations; at most "
                 f"{its(ag['max'])}) over the run")
    cens = [f"{ARM_WORDS[n]} {grp['censored']} of {grp['networks']}" for n, grp in g.items()]
    parts.append("censored at this level: " + ", ".join(cens) + f"; {raw['vs_dense']['spread']}")
    return "; ".join(parts)


def _cell_c(c, d, f) -> str:
    sparsest = pct(d["sparsest_percent"]) + ("" if f["complete"] else ", so far")
    r = ("never clearly below dense for good" if c["reinit_below_dense_at"] is None
         else f"clearly below dense for good from {pct(c['reinit_below_dense_at'])}")
    mean = "" if c["reinit_mean_below_at"] is None else f" (its mean first below at {pct(c['reinit_mean_below_at'])})"
    t = (f"the ticket never, down to {sparsest}" if c["ticket_below_dense_at"] is None
         else f"the ticket from {pct(c['ticket_below_dense_at'])}")
    g = d.get("ticket_vs_reinit")
    gap = (f"; at {pct(d['sparsest_percent'])} the ticket beats its re-init by {pts(g['mean'])} points "
           f"(trials {span(g['min'], g['max'])})" if g and g["trials"] else "")
    return f"re-init {r}{mean}; {t}{gap}; {c['spread']}"


def _cell_gap(c, d, f, k) -> str:
    last = c["per_level"][-1]
    below = f" below {pct(claims.SMALL_PERCENT)}" if k == "e" else ""
    return (f"ticket clearly better (every trial) at {c['ticket_clearly_better_levels']} of {c['levels']} levels"
            f"{below}, clearly worse at {c['ticket_clearly_worse_levels']}; mean gap {pts(c['mean_gap_points'])} "
            f"points; at {pct(last['percent_remaining'])} {pts(last['mean'])} "
            f"(trials {span(last['min'], last['max'])}); "
            f"{last['spread']}")


def _cell_f(c, d, f) -> str:
    change = ("larger" if c["gap_change_min"] > 0 else "smaller" if c["gap_change_max"] < 0 else "changed")
    return (f"at {pct(c['percent_remaining'])}, end of training: training accuracy dense {acc(c['dense_train_acc'])}, "
            f"ticket {acc(c['ticket_train_acc'])} (eval mode, {its(TRAIN_EVAL_EXAMPLES)} training examples); "
            f"train − test gap dense {c['dense_gap_points']:.2f}, ticket {c['ticket_gap_points']:.2f} points "
            f"(the ticket's {change}: {span(c['gap_change_min'], c['gap_change_max'])} points per trial); ticket test "
            f"accuracy {pts(c['test_gain_points'])} points vs dense; {spread.spread_note(c['trials'])}")


def censored_cell(f: dict) -> str:
    d = f["derived"]
    raw = ", ".join(f"{ARM_WORDS[a]} {share(d['censored_share'][a])}" for a in ARMS if a in d["censored_share"])
    sm = ", ".join(f"{ARM_WORDS[a]} {share(d['censored_share_smoothed'][a])}" for a in ARMS
                   if a in d["censored_share_smoothed"])
    return f"{raw} (smoothed argmin: {sm})"


# ---------------------------------------------------------------- sections
def _name(kind: str, value: str) -> str:
    """A dataset's or architecture's short title from the registry ("MNIST-1D", not its note)."""
    info = get_dataset_info(value) if kind == "dataset" else get_arch_info(value)
    return info.title.split(" (")[0]


def _label(f: dict) -> str:
    c = f["config"]
    return f"{_name('dataset', c['dataset'])}, {its(c['training']['iterations'])} iterations"


def _status(f: dict) -> str:
    d = f["derived"]
    return "complete" if f["complete"] else f"partial: {d['levels_done']} of {d['levels_planned']} levels so far"


def constants() -> dict:
    """The rule constants the prose cites (lth_core's and this report's), formatted."""
    return {"censor": share(early_stop.CENSOR_FRACTION), "window": early_stop.SMOOTH_WINDOW,
            "reference": pct(speed.REFERENCE_PERCENT), "margin": share(speed.MARGIN),
            "small": pct(claims.SMALL_PERCENT), "train_eval": its(TRAIN_EVAL_EXAMPLES)}


def run_list(runs: list[dict], pilot: dict | None) -> str:
    out = []
    for f in runs:
        c, d = f["config"], f["derived"]
        what = ("**Headline run**" if f["role"] == "headline" else "**Shortened budget**")
        out.append(f"- {what}: {_name('dataset', c['dataset'])}, {_name('arch', c['arch'])}; "
                   f"{its(c['training']['iterations'])} iterations per round, {c['pruning']['rounds']} rounds "
                   f"down to {pct(d['planned_min_percent'])}, {c['trials']} trials; controls "
                   f"{', '.join(ARM_WORDS[a] for a in c['controls'])}. Run `{f['run_id']}` ({_status(f)}).")
    if pilot:
        out.append(f"- **Budget pilot**: {pilot['networks']} dense networks trained {its(pilot['iterations'])} "
                   f"iterations, validation loss every {its(pilot['eval_every'])}: it chose the headline budget "
                   f"(section below).")
    return "\n".join(out)


UNSTATED = "not stated in PAPER.md"


def deviations(runs: list[dict]) -> str:
    """The protocol of each run beside the paper's, and the headline run's deviations in words."""
    P = PAPER_PROTOCOL

    def row(c: dict, f: dict) -> dict:
        t, p = c["training"], c["pruning"]
        return {
            "dataset": _name("dataset", c["dataset"]), "network": _name("arch", c["arch"]),
            "iterations per round": its(t["iterations"]), "validation and test every": its(t["eval_every"]),
            "pruning rounds": f"{p['rounds']} (down to {pct(f['ladder'][-1])})" if f else str(p["rounds"]),
            "pruning per round (output layer)": f"{share(p['rate'])} ({share(p['output_rate'])})",
            "optimizer": f"Adam {t['lr']:g}, batch {t['batch_size']}", "trials": str(c["trials"]),
            "re-init samples per trial and level": "one" if f and "reinit" in c["controls"] else
            (UNSTATED if not f else "none"),
            "controls trained": ", ".join(ARM_WORDS[a] for a in c["controls"]) if f else
            "re-init, random pruning, one-shot",
            "training accuracy": ("eval mode, fixed training subset" if f and f["measured_train"] else
                                  "running minibatch accuracy (older schema)" if f else UNSTATED),
        }
    paper = row({"dataset": P["dataset"], "arch": P["arch"], "trials": P["trials"], "controls": (),
                 "training": {k: P[k] for k in ("iterations", "eval_every", "lr", "batch_size")},
                 "pruning": {"rounds": P["rounds"], "rate": P["rate"], "output_rate": P["output_rate"]}}, None)
    cols = [row(f["config"], f) for f in runs]
    lines = ["| | paper (PAPER.md) | " + " | ".join(f"{_label(f)} ({f['role']})" for f in runs) + " |",
             "|---|---|" + "---|" * len(runs)]
    for k in paper:
        lines.append(f"| {k} | {paper[k]} | " + " | ".join(
            (f"**{c[k]}**" if c[k] != paper[k] and paper[k] != UNSTATED else c[k]) for c in cols) + " |")
    head = next((f for f in runs if f["role"] == "headline"), None)
    if head:
        c, t = head["config"], head["config"]["training"]
        items = []
        if c["dataset"] != P["dataset"]:
            items.append(f"dataset {_name('dataset', P['dataset'])} → {_name('dataset', c['dataset'])} "
                         "(MNIST is not available offline on this machine)")
        if t["iterations"] != P["iterations"]:
            items.append(f"training {its(P['iterations'])} → {its(t['iterations'])} iterations per round "
                         "(chosen by the budget pilot below)")
        if t["eval_every"] != P["eval_every"]:
            items.append(f"validation and test every {its(P['eval_every'])} → {its(t['eval_every'])} iterations")
        if c["pruning"]["rounds"] != P["rounds"]:
            items.append(f"{P['rounds']} → {c['pruning']['rounds']} pruning rounds (down to "
                         f"{pct(head['ladder'][-1])}, the paper's last level for (a))")
        items.append(f"{c['trials']} trials" + (" (as the paper)" if c["trials"] == P["trials"] else
                                                 f" instead of {P['trials']}"))
        if "reinit" in c["controls"]:
            items.append("one random re-initialisation per trial and level (a fresh seeded draw each)")
        missing = [ARM_WORDS[a] for a in ("random", "oneshot") if a not in c["controls"]]
        if missing:
            items.append(f"controls not trained: {', '.join(missing)}, so (d) and (e) are not measured on it")
        lines += ["", "Deviations of the headline run from the paper: " + "; ".join(items) + ". Bold cells "
                  "above differ from the paper's protocol."]
    return "\n".join(lines)


def pilot_section(p: dict, head: dict | None) -> str:
    rows = ["| seed | raw argmin | smoothed argmin | min validation loss | final validation loss |",
            "|---|---|---|---|---|"]
    for s, r, m, lo, fin in zip(p["seeds"], p["raw"], p["smoothed"], p["min_val_loss"], p["final_val_loss"]):
        rows.append(f"| {s} | {its(r)} | {its(m)} | {lo:.4f} | {fin:.4f} |")
    text = [f"`scripts/budget_pilot.py` trained the dense network of each of {p['networks']} trials exactly as "
            f"level zero of a run would ({_name('dataset', p['dataset'])}, {_name('arch', p['arch'])}; same "
            f"initialisation and minibatch order) for {its(p['iterations'])} iterations, validation loss every "
            f"{its(p['eval_every'])}" + (f", in {p['wall_min']:.1f} min" if p["wall_min"] else "") + ":",
            "", *rows, ""]
    rule = (f"The latest minimum, raw or smoothed, is at iteration {its(p['latest'])} (seed {p['latest_seed']}), "
            f"{share(p['latest_share'])} of a budget of {its(p['budget'])}: ")
    rule += (f"every dense network's minimum falls before {share(PILOT_FRACTION)} of it "
             f"({its(p['limit'])} iterations)" if p["fits"] else
             f"not every dense network's minimum falls before {share(PILOT_FRACTION)} of it "
             f"({its(p['limit'])} iterations); that would need {its(p['needed'])} or more")
    rule += (f". Cut at {its(p['budget'])} iterations, the pilot's curves leave {p['censored_at_budget']} of "
             f"{p['networks']} dense networks censored. Raw and smoothed argmins of one seed differ by up to "
             f"{its(p['max_raw_smoothed_gap'])} iterations"
             + (": the loss is flat near its minimum." if p["max_raw_smoothed_gap"] > p["eval_every"] else "."))
    text.append(rule)
    if head:
        hc, pc = head["config"], p["config"]
        if any(hc[k] != pc[k] for k in ("dataset", "arch")) or any(
                hc["training"][k] != pc["training"][k] for k in ("optimizer", "lr", "batch_size")):
            text += ["", "The pilot's setup differs from the headline run's, so it does not speak for its budget."]
        mine = head["derived"]["dense_by_seed"]
        both = [s for s in p["seeds"] if str(s) in mine]
        same = sum(1 for s in both if mine[str(s)] == p["raw"][p["seeds"].index(s)])
        if both:
            text += ["", f"The headline run's own dense networks have their raw argmin at the pilot's iteration for "
                         f"{same} of {len(both)} seeds" + (": Adam at a constant learning rate trains the same "
                                                          "first iterations whatever the budget." if same == len(both)
                                                          else ".")]
    return "\n".join(text)


def censoring_section(runs: list[dict]) -> str:
    lines = ["| run | iterations per round | evaluation every | censored (raw argmin) | censored (smoothed) | (b) |",
             "|---|---|---|---|---|---|"]
    for f in runs:
        d, t = f["derived"], f["config"]["training"]
        cs = lambda key: ", ".join(f"{ARM_WORDS[a]} {share(d[key][a])}" for a in ARMS if a in d[key])  # noqa: E731
        lines.append(f"| {_label(f)} ({f['role']}) | {its(t['iterations'])} | {its(t['eval_every'])} | "
                     f"{cs('censored_share')} | {cs('censored_share_smoothed')} | {f['claims']['b']['verdict']} |")
    words = []
    for f in runs:
        d, n = f["derived"], its(f["config"]["training"]["iterations"])
        words.append(f"{n} iterations ({_name('dataset', f['config']['dataset'])}): "
                     f"{share(d['censored_all'])} of all networks censored, dense "
                     f"{share(d['censored_share']['dense'])}, tickets {share(d['censored_share']['ticket'])}")
    mostly = [_label(f) for f in runs if f["derived"]["censored_all"] > 0.5]
    return "\n".join(lines + ["", "Side by side: " + "; ".join(words) + ". A censored network's early-stopping "
                              "iteration is the end of its budget, not its learning speed: where more than half "
                              "of a group is censored, (b) is not measurable, however the means look."
                              + (f" In {' and '.join(mostly)}, most networks were still improving when training "
                                 "ended, so the accuracy verdicts there, (a) and (c) to (e), compare networks "
                                 "at that budget, not trained to their best." if mostly else "")])


def level_table(f: dict) -> str:
    arms = [a for a in ("ticket", "reinit", "random", "oneshot") if a in ("ticket", *f["config"]["controls"])]
    lines = ["| level | % remaining | " + " | ".join(f"{ARM_WORDS[a]} acc. (min–max), censored" for a in arms)
             + " | ticket early stop (raw / smoothed) |", "|---|---|" + "---|" * (len(arms) + 1)]
    for row in f["levels"]:
        cells = []
        for a in arms:
            r = row["arms"].get(a)
            cells.append("—" if r is None else f"{100 * r['mean']:.2f} ({100 * r['min']:.2f}–"
                                               f"{100 * r['max']:.2f}), {r['censored']} of {r['networks']}")
        t = row["arms"]["ticket"]
        lines.append(f"| {row['level']} | {pct(row['percent'])} | " + " | ".join(cells)
                     + f" | {its(t['early_stop'])} / {its(t['early_stop_smoothed'])} |")
    return "\n".join(lines)


def run_section(f: dict, figures: dict | None, wall: float | None) -> str:
    c, d, t = f["config"], f["derived"], f["config"]["training"]
    head = (f"## {_label(f)} ({f['role']})\n\nRun `{f['run_id']}` ({_status(f)}): {c['trials']} trials (seeds "
            f"{d['seed_first']}–{d['seed_last']}), {c['pruning']['rounds']} rounds at {share(c['pruning']['rate'])} "
            f"per round (output layer {share(c['pruning']['output_rate'])}), down to {pct(d['planned_min_percent'])}; "
            f"{its(t['iterations'])} iterations per round, Adam {t['lr']:g}, batch {t['batch_size']}, validation "
            f"and test every {its(t['eval_every'])} iterations; controls "
            f"{', '.join(ARM_WORDS[a] for a in c['controls'])}."
            + (f" Wall time on this machine: {wall:.1f} min." if wall else ""))
    parts = [head, ""]
    if f["role"] == "shortened":
        parts += ["A shortened-budget example: its early stops are censored as the table below shows, so its "
                  "learning-speed numbers measure the budget.", ""]
    if not f["measured_train"]:
        parts += [results.TRAIN_PROXY_NOTE, ""]
    for name, alt in (("accuracy", "accuracy"), ("early-stop", "early stopping"), ("curves", "learning curves"),
                      ("gap", "generalisation")):
        if figures and name in figures:
            parts += [f"![{alt}]({figures[name]})", ""]
    parts += ["Test accuracy (%) at the early-stopping iteration, mean over trials (min–max), and how many "
              "networks of each level were censored:", "", level_table(f), ""]
    return "\n".join(parts)


def claims_table(runs: list[dict]) -> str:
    ref = {**PAPER, "reference": f"{speed.REFERENCE_PERCENT:g}"}
    paper = f"{_name('arch', PAPER_PROTOCOL['arch'])}, {_name('dataset', PAPER_PROTOCOL['dataset'])}"
    lines = [f"| claim | paper ({paper}) | " + " | ".join(f"{_label(f)} ({f['role']})" for f in runs)
             + " |", "|---|---|" + "---|" * len(runs)]
    for k in "abcdef":
        lines.append(f"| ({k}) {CLAIM_NAMES[k]} | {PAPER_CELLS[k].format(**ref)} | "
                     + " | ".join(cell(f, k) for f in runs) + " |")
    lines.append(f"| censored early stops, share of networks per arm | not reported: every network trained "
                 f"{its(PAPER_PROTOCOL['iterations'])} iterations | " + " | ".join(censored_cell(f) for f in runs)
                 + " |")
    return "\n".join(lines)


def verdict_summary(f: dict) -> str:
    """Which claims hold on a run, grouped by verdict, in words."""
    groups: dict[str, list[str]] = {}
    for k in "abcdef":
        v = f["claims"][k]["verdict"] if k in f["claims"] else "not run"
        groups.setdefault(v, []).append(f"({k})")
    order = [claims.HOLDS, claims.FAILS, claims.UNCLEAR, NM, "not run"]
    return "; ".join(f"{v}: {', '.join(groups[v])}" for v in order if v in groups)


def _sparsest(f: dict) -> str:
    return pct(f["derived"]["sparsest_percent"]) + ("" if f["complete"] else " so far")


def plain(f: dict, k: str) -> str | None:
    """One sentence on claim k for one run, exactly as strong as its verdict (None: not run)."""
    c, d = f["claims"].get(k), f["derived"]
    if c is None:
        return None
    v = c["verdict"]
    if v == NM:
        why = {"b": "more than half of the networks at the reference level were still improving when training "
                    "ended", "f": c.get("reason", "")}.get(k, "no pruned level has finished")
        return f"({k}) is not measurable with this budget: {why}."
    if k == "a":
        ref = d["reference"]
        where = (f"down to {_sparsest(f)}, the sparsest level run" if c["falls_below_at"] is None else
                 f"down to {pct(c['holds_down_to'])} and clearly below it from {pct(c['falls_below_at'])}"
                 if c["holds_down_to"] is not None else f"at no level: clearly below from {pct(c['falls_below_at'])}")
        return (f"(a) {v}: the tickets are never clearly below the dense network's test accuracy "
                f"({acc(c['dense_acc'])}) {where}; at {pct(ref['percent'])} they are {pts(ref['gain'])} points "
                f"(trials {span(ref['lo'], ref['hi'])})." if c["holds_down_to"] is not None or
                c["falls_below_at"] is None else f"(a) {v}: the tickets are {where}.")
    if k == "b":
        raw, sm = c["raw"], c["smoothed"]
        parts = []
        for n in ("dense", "reinit"):
            vs, vs_s = raw.get(f"vs_{n}"), sm.get(f"vs_{n}")
            if vs is None or vs["ratio"] is None:
                continue
            lo, hi = min(vs["trial_ratios"]), max(vs["trial_ratios"])
            more = ([f"{vs['earlier_percent']:.0f}% earlier"] if n == "dense" and vs["verdict"] == "earlier" else [])
            more += [f"per trial {span(lo, hi, times)}"]
            more += [f"smoothed argmin {times(vs_s['ratio'])}"] if vs_s and vs_s["ratio"] is not None else []
            parts.append(f"{times(vs['ratio'])} earlier than {'its ' if n == 'reinit' else ''}{ARM_WORDS[n]} "
                         f"({'; '.join(more)})" if vs["verdict"] == "earlier" else
                         f"{ARM_WORDS[n]} ÷ ticket {times(vs['ratio'])} ({'; '.join(more)}): {vs['verdict']}")
        return (f"(b) {v}: at {pct(raw['percent_remaining'])}, the ticket reaches its minimum validation loss "
                + " and ".join(parts) + f"; paper: {PAPER['earlier_percent']}% earlier than dense and "
                f"{PAPER['reinit_ratio']}× earlier than re-init.")
    if k == "c":
        t = (f"the ticket never is, down to {_sparsest(f)}" if c["ticket_below_dense_at"] is None
             else f"the ticket from {pct(c['ticket_below_dense_at'])}")
        r = ("random re-initialisation of the same masks never falls clearly below dense for good"
             if c["reinit_below_dense_at"] is None else
             f"random re-initialisation of the same masks falls clearly below dense for good from "
             f"{pct(c['reinit_below_dense_at'])}")
        g = d.get("ticket_vs_reinit")
        gap = (f"; at {pct(d['sparsest_percent'])} the ticket beats it by {pts(g['mean'])} points (trials "
               f"{span(g['min'], g['max'])})" if g and g["trials"] else "")
        return f"(c) {v}: {r}; {t}{gap}."
    if k in "de":
        other = "random pruning" if k == "d" else "one-shot pruning"
        below = f" below {pct(claims.SMALL_PERCENT)}" if k == "e" else ""
        return (f"({k}) {v}: the ticket beats {other} in every trial at {c['ticket_clearly_better_levels']} of "
                f"{c['levels']} levels{below} (mean {pts(c['mean_gap_points'])} points).")
    change = "larger" if v == claims.FAILS else "smaller" if v == claims.HOLDS else "not consistently different"
    return (f"(f) {v}: at {pct(c['percent_remaining'])}, at the end of training, the tickets' training accuracy is "
            f"{acc(c['ticket_train_acc'])} against dense's {acc(c['dense_train_acc'])} (paper: about "
            f"{PAPER['train_acc']}% for all), and their train − test gap is {change} than dense's "
            f"({span(c['gap_change_min'], c['gap_change_max'])} points per trial), with test accuracy "
            f"{pts(c['test_gain_points'])} points vs dense.")


def headline_paragraph(f: dict, shortened: list[dict], in_gallery: bool) -> str:
    """The README's headline paragraph, from the headline run's claims, every clause as strong as its verdict."""
    c, d = f["config"], f["derived"]
    text = (f"On real {_name('dataset', c['dataset'])}, this engine's {_name('arch', c['arch'])} was trained "
            f"{its(c['training']['iterations'])} iterations per round, {c['trials']} trials, pruned "
            + (f"down to {pct(d['planned_min_percent'])}" if f["complete"] else
               f"(so far) down to {pct(d['sparsest_percent'])}" if d["sparsest_percent"] else "(no level yet)")
            + f". By claim: {verdict_summary(f)}. ")
    text += " ".join(s for s in (plain(f, k) for k in "abcf") if s) + " "
    text += ("[docs/REPRODUCTION.md](docs/REPRODUCTION.md) puts every claim of the paper next to the measured "
             "value with its spread, lists every deviation from the paper's protocol, and shows the older runs with "
             "shortened budgets (" + "; ".join(f"{its(s['config']['training']['iterations'])} iterations: "
                                              f"{share(s['derived']['censored_all'])} of early stops censored"
                                              for s in shortened) + "). ")
    text += ("The runs ship in `gallery/` and open in the app without training." if in_gallery else
             "The shortened runs ship in `gallery/`; the headline run is in the store until it is copied there.")
    return f"{text}\n\n![{_name('dataset', c['dataset'])}: ticket vs controls](docs/repro/{f['key']}-accuracy.png)"


def export_figures(f: dict, store: Store) -> dict:
    """The run's four charts as PNG (kaleido + chromium), from lth_core.charts; returns their paths."""
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    run_id, c = f["run_id"], f["config"]
    agg = results.aggregate(results.summary_frame(store, run_id))
    curves = results.curves_frame(store, run_id)
    title = _label(f)
    ref = spread.nearest_level(results.summary_frame(store, run_id), speed.REFERENCE_PERCENT)
    last = f["levels"][-1]["level"]
    show = sorted({0, *(lv for lv in (ref, last) if lv)})
    figs = {"accuracy": charts.accuracy_vs_sparsity(agg, all_percents=f["ladder"],
                                                    title=f"{title}: test accuracy at early stop"),
            "early-stop": charts.early_stop_vs_sparsity(agg, all_percents=f["ladder"], iterations=c["training"]
                                                        ["iterations"], title=f"{title}: early-stopping iteration"),
            "curves": charts.learning_curves(curves, show, title=f"{title}: ticket vs re-init learning curves"),
            "gap": charts.generalisation_gap(agg, all_percents=f["ladder"], title=f"{title}: train vs test accuracy")}
    out = {}
    for name, fig in figs.items():
        fig.update_layout(paper_bgcolor="white", plot_bgcolor="white", font_color="#222")
        # The title on top and room under it for a legend of two rows (the censored-marker note wraps)
        height = (fig.layout.height or 420) + 30
        fig.update_layout(margin_t=fig.layout.margin.t + 30, title=dict(yref="container", y=1 - 8 / height,
                                                                         yanchor="top"))
        if fig.layout.legend.yref == "container":  # panels: the legend sits just under the title
            fig.update_layout(legend=dict(y=1 - 44 / height))
        fig.write_image(REPRO / f"{f['key']}-{name}.png", width=1000, height=height, scale=1)
        out[name] = f"repro/{f['key']}-{name}.png"
    return out


def figure_paths(f: dict) -> dict:
    """The figures already exported for a run (when --no-figures)."""
    return {n: f"repro/{f['key']}-{n}.png" for n in ("accuracy", "early-stop", "curves", "gap")
            if (REPRO / f"{f['key']}-{n}.png").exists()}


def render(runs: list[dict], pilot: dict | None, figures: dict, walls: dict, intro: str,
           gallery_mb: float | None = None, in_gallery: set = frozenset()) -> tuple[str, str]:
    """(docs/REPRODUCTION.md, the README's headline paragraph); figures: {key: {name: path}}."""
    head = next((f for f in runs if f["role"] == "headline"), None)
    parts = ["# Reproducing the lottery ticket findings", "",
             intro.format(run_list=run_list(runs, pilot), **constants()), "",
             "## The claims, measured", "",
             "Each cell: the verdict, the numbers behind it, and their spread over trials (\"trials a to b\": the "
             "lowest and highest trial). Where a cell says \"at X%\" for one of the paper's levels, X is the level "
             "run nearest to it.", "", claims_table(runs), ""]
    parts += ["Verdicts by run:", ""] + [f"- {_label(f)} ({f['role']}): {verdict_summary(f)}." for f in runs] + [""]
    if head:
        parts += ["In plain words, on the headline run:", ""] + [f"- {s}" for s in (plain(head, k) for k in "abcdef")
                                                                   if s] + [""]
    parts += ["## Deviations from the paper", "", deviations(runs), ""]
    if pilot:
        parts += ["## How the budget was chosen", "", pilot_section(pilot, head), ""]
    parts += ["## Two budgets side by side: censoring", "", censoring_section(runs), ""]
    for f in runs:  # walls: minutes per run key
        parts.append(run_section(f, figures.get(f["key"]), walls.get(f["key"])))
    if gallery_mb is not None:
        shipped = [f"`{f['run_id']}`" for f in runs if f["run_id"] in in_gallery]
        parts += [f"## Gallery\n\nRuns {', '.join(shipped) or 'none yet'} ship in `gallery/` ({gallery_mb:.1f} MB "
                  "in all: configs, metrics and the tickets' masks packed as bits; weights are rebuilt from the "
                  "seeds). The app lists them and opens them without training.", ""]
    readme = headline_paragraph(head, [f for f in runs if f["role"] != "headline"],
                                head["run_id"] in in_gallery) if head else ""
    return "\n".join(parts), readme


def update_readme(paragraph: str, path: Path = README) -> None:
    text = path.read_text()
    start, end = MARKERS
    if start not in text or end not in text:
        raise SystemExit(f"{path} has no {start} ... {end} block to fill")
    before, rest = text.split(start, 1)
    path.write_text(f"{before}{start}\n{paragraph}\n{end}{rest.split(end, 1)[1]}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--store", type=Path, default=ROOT / "runs", help="the store searched after the gallery "
                   "(default ./runs)")
    p.add_argument("--run", action="append", default=[], metavar="KEY=RUN_ID",
                   help="read run KEY (e.g. fashion-mnist-full) from this id instead of docs/repro/KEY.json")
    p.add_argument("--no-figures", action="store_true", help="keep the PNGs already in docs/repro (no kaleido)")
    p.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    a = p.parse_args()
    overrides = dict(item.split("=", 1) for item in a.run)
    stores = [gallery.gallery_store(), Store(a.store, readonly=True)]
    runs, figures = [], {}
    for key, role in RUNS:
        src = REPRO / f"{key}.json"
        run_id = overrides.get(key) or (json.loads(src.read_text())["run_id"] if src.exists() else None)
        if run_id is None:
            raise SystemExit(f"no run for {key}: write {src} (scripts/reproduce.sh) or pass --run {key}=RUN_ID")
        store = locate(run_id, *stores)
        if store is None:
            raise SystemExit(f"run {run_id} ({key}) is in none of {[str(s.root) for s in stores]}")
        f = facts(store, run_id, key, role)
        (REPRO / f"{key}-claims.json").write_text(json.dumps(f["claims"], indent=1) + "\n")
        figures[key] = figure_paths(f) if a.no_figures else export_figures(f, store)
        runs.append(f)
    pilot_path = REPRO / "budget_pilot.json"
    head = next(f for f in runs if f["role"] == "headline")
    pilot = (pilot_facts(json.loads(pilot_path.read_text()), head["config"]["training"]["iterations"])
             if pilot_path.exists() else None)
    walls = json.loads((REPRO / "walltimes.json").read_text()) if (REPRO / "walltimes.json").exists() else {}
    walls = {k: v / 60 for k, v in walls.items()}  # seconds in the file
    shipped = set(gallery.gallery_store().run_ids())
    md, readme = render(runs, pilot, figures, walls, (REPRO / "report_intro.md").read_text(),
                        gallery.size_bytes() / 1e6, shipped)
    (DOCS / "REPRODUCTION.md").write_text(md)
    print(f"wrote {DOCS / 'REPRODUCTION.md'}")
    if not a.no_readme:
        update_readme(readme)
        print(f"rewrote the headline paragraph of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
