"""The report's sections on protocol and budget, beside the claims: the list of runs, the
deviations from the paper's protocol, how the budget pilot chose the headline budget, the
censoring of two budgets side by side, and each run's own section with its per-level table."""
from __future__ import annotations

from lth_core.analysis import results
from report_facts import PAPER_PROTOCOL, PILOT_FRACTION
from report_format import ARM_WORDS, ARMS, its, pct, run_label, run_status, share, short_name

def run_list(runs: list[dict], pilot: dict | None) -> str:
    out = []
    for f in runs:
        c, d = f["config"], f["derived"]
        what = ("**Headline run**" if f["role"] == "headline" else "**Shortened budget**")
        out.append(f"- {what}: {short_name('dataset', c['dataset'])}, {short_name('arch', c['arch'])}; "
                   f"{its(c['training']['iterations'])} iterations per round, {c['pruning']['rounds']} rounds "
                   f"down to {pct(d['planned_min_percent'])}, {c['trials']} trials; controls "
                   f"{', '.join(ARM_WORDS[a] for a in c['controls'])}. Run `{f['run_id']}` ({run_status(f)}).")
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
            "dataset": short_name("dataset", c["dataset"]), "network": short_name("arch", c["arch"]),
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
    lines = ["| | paper (PAPER.md) | " + " | ".join(f"{run_label(f)} ({f['role']})" for f in runs) + " |",
             "|---|---|" + "---|" * len(runs)]
    for k in paper:
        lines.append(f"| {k} | {paper[k]} | " + " | ".join(
            (f"**{c[k]}**" if c[k] != paper[k] and paper[k] != UNSTATED else c[k]) for c in cols) + " |")
    head = next((f for f in runs if f["role"] == "headline"), None)
    if head:
        c, t = head["config"], head["config"]["training"]
        items = []
        if c["dataset"] != P["dataset"]:
            items.append(f"dataset {short_name('dataset', P['dataset'])} → {short_name('dataset', c['dataset'])} "
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
            f"level zero of a run would ({short_name('dataset', p['dataset'])}, {short_name('arch', p['arch'])}; same "
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
        lines.append(f"| {run_label(f)} ({f['role']}) | {its(t['iterations'])} | {its(t['eval_every'])} | "
                     f"{cs('censored_share')} | {cs('censored_share_smoothed')} | {f['claims']['b']['verdict']} |")
    words = []
    for f in runs:
        d, n = f["derived"], its(f["config"]["training"]["iterations"])
        words.append(f"{n} iterations ({short_name('dataset', f['config']['dataset'])}): "
                     f"{share(d['censored_all'])} of all networks censored, dense "
                     f"{share(d['censored_share']['dense'])}, tickets {share(d['censored_share']['ticket'])}")
    mostly = [run_label(f) for f in runs if f["derived"]["censored_all"] > 0.5]
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
    head = (f"## {run_label(f)} ({f['role']})\n\nRun `{f['run_id']}` ({run_status(f)}): {c['trials']} trials (seeds "
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

