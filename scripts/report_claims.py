"""The paper's claims (a)-(f) in words, each exactly as strong as its verdict: the claims table
(the paper's value beside each run's cell of verdict and numbers with their paired intervals), the plain sentences
on the headline run, and the README's headline paragraph built from them. A claim that is not
measurable prints no number."""
from __future__ import annotations

from lth_core.analysis import claims, speed, stats
from lth_core.data.datasets import TRAIN_EVAL_EXAMPLES
from report_facts import PAPER, PAPER_PROTOCOL
from report_format import ARM_WORDS, ARMS, acc, its, pct, run_label, share, short_name, span

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
    """One claim for one run: verdict, the numbers behind it with their paired intervals. A claim
    that is not measurable prints no number; one whose arm the run did not train says so."""
    c, d = f["claims"].get(k), f["derived"]
    if c is None:
        return "not run (control not trained)"
    v = c["verdict"]
    if v == NM:
        if k == "b":
            sm = c.get("smoothed")
            sv = sm["vs_dense"]["verdict"].split(" (n =")[0] if sm else NM  # the count is in the table's own cells
            return (f"{_verdict(v)}: at the reference level more than half of the {_groups_short(c['raw'])} "
                    f"networks were still improving when training ended; smoothed argmin vs dense: {sv}")
        if k == "f":
            return f"{_verdict(v)}: {c.get('reason', 'the run lacks what it needs')}"
        if c.get("censored_share") is not None and c["censored_share"] > 0.5:
            return f"{_verdict(v)}: most of the networks it compares were still improving when training ended"
        return f"{_verdict(v)}: no finished pruned level"
    if k in "de":
        return f"{_verdict(v)}: " + _cell_gap(c, d, f, k)
    return f"{_verdict(v)}: " + {"a": _cell_a, "b": _cell_b, "c": _cell_c, "f": _cell_f}[k](c, d, f)


def _cell_a(c, d, f) -> str:
    ref = d["reference"]
    sparsest = pct(d["sparsest_percent"]) + ("" if f["complete"] else ", so far")
    at = [ref] + ([d["paper_gain"]] if d["paper_gain"]["percent"] != ref["percent"] else [])
    gains = "; ".join(f"at {pct(r['percent'])} {r['text']}" for r in at)
    fall = (f"never clearly below dense for good, down to {sparsest}" if c["falls_below_at"] is None else
            f"clearly below dense for good from {pct(c['falls_below_at'])}")
    return (f"dense {acc(c['dense_acc'])}; ticket − its own dense network, points: {gains}; clearly above dense at "
            f"{d['above_levels']} of {c['levels_run']} levels, clearly below at {d['below_levels']}; {fall}. "
            + _scan(c))


def _scan(c: dict) -> str:
    """Where the densest-first scan for 'at least as good as dense' ended, in words."""
    text = (f"Scanned from the densest level, the tickets are at least as good as dense (within "
            f"{stats.MARGIN_POINTS:g} points) down to {pct(c['as_good_down_to'])}" if c["as_good_down_to"] is not None
            else "Scanned from the densest level, no level is shown at least as good as dense")
    if c.get("not_shown_at") is not None and c.get("not_shown_low") is not None:
        text += (f"; the scan stops at {pct(c['not_shown_at'])}, whose interval reaches "
                 f"{c['not_shown_low']:+.2f} points")
    return text + "."


def _speed_part(sp: dict, name: str) -> str:
    return f"vs {ARM_WORDS[name]}: {speed.describe(sp[f'vs_{name}'])}"


def _its_range(g: dict) -> str:
    vals = list(g["by_trial"].values())
    return f"{its(g['mean_iteration'])} ({span(min(vals), max(vals), its)})" if vals else "none uncensored"


def _cell_b(c, d, f) -> str:
    raw, sm = c["raw"], c["smoothed"]
    g = raw["groups"]
    parts = [f"at {pct(raw['percent_remaining'])}, raw argmin: ticket stops at {_its_range(g['ticket'])}, dense "
             f"{_its_range(g['dense'])}" + (f", re-init {_its_range(g['reinit'])}" if "reinit" in g else "")]
    parts.append(_speed_part(raw, "dense"))
    if "vs_reinit" in raw:
        parts.append(_speed_part(raw, "reinit"))
    smooth = [_speed_part(sm, "dense")] + ([_speed_part(sm, "reinit")] if "vs_reinit" in sm else [])
    parts.append("smoothed argmin: " + "; ".join(smooth))
    ag = d["argmin_gap"]
    parts.append(f"a network's two argmins are {its(ag['mean'])} iterations apart on average ({ag['evals']:.1f} "
                 f"evaluations; at most {its(ag['max'])}) over the run")
    cens = [f"{ARM_WORDS[n]} {grp['censored']} of {grp['networks']}" for n, grp in g.items()]
    parts.append("censored at this level: " + ", ".join(cens))
    return "; ".join(parts)


def _cell_c(c, d, f) -> str:
    sparsest = pct(d["sparsest_percent"]) + ("" if f["complete"] else ", so far")
    r = ("never clearly below dense for good" if c["reinit_below_dense_at"] is None
         else f"clearly below dense for good from {pct(c['reinit_below_dense_at'])}")
    t = (f"the ticket never, down to {sparsest}" if c["ticket_below_dense_at"] is None
         else f"the ticket from {pct(c['ticket_below_dense_at'])}")
    g = c.get("ticket_vs_reinit_at_sparsest")
    gap = f"; ticket − re-init at {pct(c['sparsest_percent'])}: {g['text']}" if g and g["n"] else ""
    return f"re-init {r}; {t}{gap}"


def _cell_gap(c, d, f, k) -> str:
    last = c["gap_at_smallest"]
    below = f" below {pct(claims.SMALL_PERCENT)}" if k == "e" else ""
    return (f"ticket clearly better at {c['ticket_clearly_better_levels']} of {c['levels']} levels{below}, clearly "
            f"worse at {c['ticket_clearly_worse_levels']} (Holm over those levels); at "
            f"{pct(last['percent_remaining'])}: {last['text']}; censored: {share(c['censored_share'])}")


def _cell_f(c, d, f) -> str:
    premise = "" if c.get("premise") is None else f"{c['premise']}; "
    return (f"{premise}at {pct(c['percent_remaining'])}, end of training: training accuracy dense "
            f"{acc(c['dense_train_acc'])}, ticket {acc(c['ticket_train_acc'])} (eval mode, {its(TRAIN_EVAL_EXAMPLES)} training examples); "
            f"train − test gap dense {c['dense_gap_points']:.2f}, ticket {c['ticket_gap_points']:.2f} points; "
            f"change (ticket − dense): {c['gap_change']['text']}; test accuracy at the end of training, ticket − "
            f"dense: {c['test_gain']['text']}")


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
    order = [claims.HOLDS, claims.FAILS, claims.UNCLEAR, *sorted(v for v in groups if v.startswith(stats.TOO_FEW)),
             claims.NOT_COMPARABLE, NM, "not run"]
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
                    "ended", "f": c.get("reason", "")}.get(k, "more than half of the networks it compares were "
                                                              "still improving when training ended")
        return f"({k}) is not measurable with this budget: {why}."
    if v.startswith(stats.TOO_FEW):
        return f"({k}): {v}."
    if k == "a":
        ref = d["reference"]
        fall = (f"they are never clearly below it down to {_sparsest(f)}" if c["falls_below_at"] is None else
                f"they are clearly below it for good from {pct(c['falls_below_at'])}")
        margin = (f", so at that level they are at least as good as dense within the {stats.MARGIN_POINTS:g}-point "
                  "margin" if v == claims.HOLDS else "")
        return (f"(a) {v}: paired with their own dense network ({acc(c['dense_acc'])}), at {pct(ref['percent'])} the "
                f"tickets differ by {ref['text']}{margin}; {fall}. {_scan(c)}")
    if k == "b":
        raw = c["raw"]
        parts = [f"against {'its ' if n == 'reinit' else ''}{ARM_WORDS[n]}, {speed.describe(raw[f'vs_{n}'])}"
                 for n in ("dense", "reinit") if raw.get(f"vs_{n}") is not None]
        return (f"(b) {v}: at {pct(raw['percent_remaining'])}, the ticket reaches its minimum validation loss "
                + "; ".join(parts) + f" (paper: {PAPER['earlier_percent']}% earlier than dense, "
                f"{PAPER['reinit_ratio']}× earlier than re-init).")
    if k == "c":
        t = (f"the ticket never is, down to {_sparsest(f)}" if c["ticket_below_dense_at"] is None
             else f"the ticket from {pct(c['ticket_below_dense_at'])}")
        r = ("random re-initialisation of the same masks is never clearly below dense for good"
             if c["reinit_below_dense_at"] is None else
             f"random re-initialisation of the same masks falls clearly below dense for good from "
             f"{pct(c['reinit_below_dense_at'])}")
        g = c.get("ticket_vs_reinit_at_sparsest")
        gap = f"; ticket − re-init at {pct(c['sparsest_percent'])}: {g['text']}" if g and g["n"] else ""
        return f"(c) {v}: {r}; {t}{gap}."
    if k in "de":
        other = "random pruning" if k == "d" else "one-shot pruning"
        below = f" below {pct(claims.SMALL_PERCENT)}" if k == "e" else ""
        return (f"({k}) {v}: the ticket is clearly better than {other} at {c['ticket_clearly_better_levels']} of "
                f"{c['levels']} levels{below} and clearly worse at {c['ticket_clearly_worse_levels']}; at "
                f"{pct(c['gap_at_smallest']['percent_remaining'])}: {c['gap_at_smallest']['text']}.")
    if v == claims.NOT_COMPARABLE:
        return f"(f) {v}: {c['premise']}."
    return (f"(f) {v}: at {pct(c['percent_remaining'])}, at the end of training, the tickets' training accuracy is "
            f"{acc(c['ticket_train_acc'])} against dense's {acc(c['dense_train_acc'])}; their train − test gap "
            f"minus dense's is {c['gap_change']['text']}.")


def headline_paragraph(f: dict, shortened: list[dict], in_gallery: bool) -> str:
    """The README's headline paragraph, from the headline run's claims, every clause as strong as its verdict."""
    c, d = f["config"], f["derived"]
    text = (f"On real {short_name('dataset', c['dataset'])}, this engine's {short_name('arch', c['arch'])} was trained "
            f"{its(c['training']['iterations'])} iterations per round, {c['trials']} trials, pruned "
            + (f"down to {pct(d['planned_min_percent'])}" if f["complete"] else
               f"(so far) down to {pct(d['sparsest_percent'])}" if d["sparsest_percent"] else "(no level yet)")
            + f". By claim: {verdict_summary(f)}. ")
    text += " ".join(s for s in (plain(f, k) for k in "abcdef") if s) + " "
    text += ("[docs/REPRODUCTION.md](docs/REPRODUCTION.md) puts every claim of the paper next to the measured "
             f"value with its paired {share(stats.CONFIDENCE)} interval, lists every deviation from the paper's "
             "protocol, and shows the older runs with shortened budgets (" + "; ".join(f"{its(s['config']['training']['iterations'])} iterations: "
                                              f"{share(s['derived']['censored_all'])} of early stops censored"
                                              for s in shortened) + "). ")
    text += ("The runs ship in `gallery/` and open in the app without training." if in_gallery else
             "The shortened runs ship in `gallery/`; the headline run is in the store until it is copied there.")
    return f"{text}\n\n![{short_name('dataset', c['dataset'])}: ticket vs controls](docs/repro/{f['key']}-accuracy.png)"

