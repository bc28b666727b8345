"""The paper's claims (a)-(f) in words, each exactly as strong as its verdict: the claims table
(the paper's value beside each run's cell of verdict, numbers and spread), the plain sentences
on the headline run, and the README's headline paragraph built from them. A claim that is not
measurable prints no number."""
from __future__ import annotations

from lth_core.analysis import claims, speed, spread
from lth_core.data.datasets import TRAIN_EVAL_EXAMPLES
from report_facts import PAPER, PAPER_PROTOCOL
from report_format import ARM_WORDS, ARMS, acc, its, pct, pts, run_label, share, short_name, span, times

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



# ---------------------------------------------------------------- the claims table
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


def claims_table(runs: list[dict]) -> str:
    ref = {**PAPER, "reference": f"{speed.REFERENCE_PERCENT:g}"}
    paper = f"{short_name('arch', PAPER_PROTOCOL['arch'])}, {short_name('dataset', PAPER_PROTOCOL['dataset'])}"
    lines = [f"| claim | paper ({paper}) | " + " | ".join(f"{run_label(f)} ({f['role']})" for f in runs)
             + " |", "|---|---|" + "---|" * len(runs)]
    for k in "abcdef":
        lines.append(f"| ({k}) {CLAIM_NAMES[k]} | {PAPER_CELLS[k].format(**ref)} | "
                     + " | ".join(cell(f, k) for f in runs) + " |")
    lines.append(f"| censored early stops, share of networks per arm | not reported: every network trained "
                 f"{its(PAPER_PROTOCOL['iterations'])} iterations | " + " | ".join(censored_cell(f) for f in runs)
                 + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- in plain words
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
    text = (f"On real {short_name('dataset', c['dataset'])}, this engine's {short_name('arch', c['arch'])} was trained "
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
    return f"{text}\n\n![{short_name('dataset', c['dataset'])}: ticket vs controls](docs/repro/{f['key']}-accuracy.png)"

