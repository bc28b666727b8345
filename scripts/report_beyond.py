"""Write docs/BEYOND.md from the beyond-the-paper gallery runs: for each question, what the
literature found, what these runs show (trials and spread), where they disagree, and the commands.

    python3 scripts/report_beyond.py                 # runs from the gallery, then ./runs (or --store)
    python3 scripts/report_beyond.py --store /path/to/store

Each example is the run of a preset (lth_core/presets.py, beyond-*), found by its run id in the
gallery or the store. Every number in the prose comes from scripts/report_beyond_facts.py on the
stored runs (or from a JSON the benchmarks wrote); the text holds no typed results.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from lth_core.analysis import stats  # noqa: E402
from lth_core.store import gallery  # noqa: E402
from lth_core.store.complete import is_complete  # noqa: E402
from lth_core.presets import get_preset  # noqa: E402
from lth_core.store.runs import locate  # noqa: E402
from lth_core.service.settings import Settings  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402
from report_beyond_facts import (arm_stats, clear_levels, gaps, run_facts, stability_frame,  # noqa: E402
                                 stability_levels, unmeasurable)
from report_beyond_sections import extra_sections, speed_lines  # noqa: E402
from report_format import acc, pct, short_name  # noqa: E402

OUT = ROOT / "docs" / "BEYOND.md"
STABLE_POINTS = 2.0  # barrier (points of test error) under which Frankle et al. (2020) call a network stable
SECTION = {"criteria": 1, "at_init": 2, "noise": 3, "structured": 4, "stability": 5}
# (authors, year, title): cited by key, so the prose templates carry no number
CITATIONS = {"zhou": ("Zhou et al.", 2019, "Deconstructing Lottery Tickets"),
             "snip": ("Lee et al.", 2019, "SNIP: Single-shot Network Pruning based on Connection Sensitivity"),
             "synflow": ("Tanaka et al.", 2020, "Pruning neural networks without any data by iteratively conserving "
                                                "synaptic flow"),
             "pai": ("Frankle et al.", 2021, "Pruning Neural Networks at Initialization: Why are We Missing the Mark?"),
             "li": ("Li et al.", 2017, "Pruning Filters for Efficient ConvNets"),
             "liu": ("Liu et al.", 2019, "Rethinking the Value of Network Pruning"),
             "lmc": ("Frankle et al.", 2020, "Linear Mode Connectivity and the Lottery Ticket Hypothesis")}
CIFAR = short_name("dataset", "cifar10")


def cite(key: str) -> str:
    """'Authors (year, "Title")'."""
    who, year, title = CITATIONS[key]
    return f'{who} ({year}, "{title}")'
WALLTIMES = ROOT / "docs" / "beyond" / "walltimes.json"  # measured while the examples computed
EXAMPLES = {"criteria": "beyond-criteria", "at_init": "beyond-at-init", "structured": "beyond-structured",
            "rewind": "beyond-rewind"}
CRITERIA_WORDS = {"imp_magnitude_increase": "magnitude increase", "imp_movement": "movement",
                  "imp_large_init_large_final": "large init, large final"}
METHOD_WORDS = {"snip": "SNIP", "synflow": "SynFlow", "magnitude_init": "magnitude at init"}


def names(c) -> str:
    """'<network> on <dataset>' in the registry's short titles."""
    return f"{short_name('arch', c.arch)} on {short_name('dataset', c.dataset)}"


def trials(n: int) -> str:
    return f"{n} trial (no spread)" if n == 1 else f"{n} trials"


def cell(s: dict | None) -> str:
    """'mean (min to max)' of an accuracy over trials."""
    if s is None:
        return "–"
    return f"{acc(s['mean'])} ({acc(s['min'])} to {acc(s['max'])})"


def pcts(values: list[float]) -> str:
    return ", ".join(pct(v) for v in values) if values else "no level"


def command(preset: str) -> str:
    return f"python -m lth_core run --preset {preset}"


def header(f: dict, preset: str) -> str:
    c = f["config"]
    return (f"Run `{f['run_id']}` (preset `{preset}`): {names(c)}, {c.training.iterations:,} "
            f"iterations per round, {trials(f['trials'])}, {f['networks']} networks trained; "
            f"{100 * f['censored']:.0f}% of them were still improving at the end of training (censored "
            f"early stop). Accuracy is test accuracy at the early-stopping iteration; cells give the mean over "
            f"trials and, in brackets, min to max.")


def table(f: dict, arms: list[str], labels: dict) -> list[str]:
    rows = ["| % remaining | " + " | ".join(labels[a] for a in arms) + " |",
            "|---|" + "---|" * len(arms)]
    rows.append(f"| {pct(100.0)} (dense) | " + " | ".join(cell(arm_stats(f["summary"], a, 0)) if i == 0 else "same network"
                                                  for i, a in enumerate(arms)) + " |")
    for level, p in f["levels"]:
        rows.append(f"| {pct(p)} | " + " | ".join(cell(arm_stats(f["summary"], a, level)) for a in arms) + " |")
    return rows


def criteria_section(f: dict, preset: str) -> list[str]:
    s = f["summary"]
    arms = [a for a in CRITERIA_WORDS if a in set(s.arm)]
    labels = {"ticket": "magnitude (the paper)", "reinit": "re-init", **CRITERIA_WORDS}
    out = [f"## {SECTION['criteria']}. Which weights to keep: pruning criteria", "",
           f"**What the literature found.** {cite('zhou')} compared "
           "criteria that score each surviving weight from its initial value w_i and its trained value w_f. "
           "Keeping weights that are large at the end (magnitude, |w_f|) works; keeping those large at both ends "
           "(large init, large final) or those that moved or grew most works as well or better at high sparsity; "
           "the common thread is keeping weights that moved away from zero.", "",
           "**What this run shows.** " + header(f, preset), ""]
    out += table(f, ["ticket"] + arms + ["reinit"], labels) + [""]
    better_any, worse_any = [], []
    for a in arms:
        g = gaps(s, a, "ticket")
        better, worse = clear_levels(g, "clearly_better"), clear_levels(g, "clearly_worse")
        better_any += [CRITERIA_WORDS[a]] if better else []
        worse_any += [CRITERIA_WORDS[a]] if worse else []
        sparsest = g[-1] if g else None
        out.append(f"- **{CRITERIA_WORDS[a]}** against the magnitude ticket, paired by trial: clearly better at "
                   f"{pcts(better)}; clearly worse at {pcts(worse)}"
                   + (f"; at the sparsest level ({pct(sparsest['percent'])}) the gap is {sparsest['text']}"
                      + ("" if sparsest["measurable"] else ", not measurable with this budget") + "."
                      if sparsest and sparsest["mean"] is not None else "."))
    r = gaps(s, "ticket", "reinit")
    out.append(f"- The magnitude ticket against its random re-init: clearly better at "
               f"{pcts(clear_levels(r, 'clearly_better'))}.")
    budget = (f"these networks train {f['config'].training.iterations:,} iterations per round "
              f"({100 * f['censored']:.0f}% of them still improving at the end), with {trials(f['trials'])}")
    out += ["", "**Where this differs, and why it might.** " + (
        ("Here " + " and ".join(better_any) + " clearly beat magnitude at some level, in line with Zhou et al. "
         if better_any else "Here no criterion clearly beats magnitude at any level. ")
        + ("The " + ("tickets" if len(worse_any) > 1 else "ticket") + " kept by " + " and by ".join(worse_any)
           + (" are" if len(worse_any) > 1 else " is") + " clearly worse than magnitude's at some levels (listed "
           "above), unlike the finding above. " if worse_any else
           "Every other difference is within the trials' spread. ")
        + f"They trained {CIFAR} networks and others for much longer; {budget}, so small advantages cannot be "
        "told from noise, and a criterion that needs the weights to have moved far from their start may suffer "
        "most from a short budget."), "",
            "**Command.** `" + command(preset) + "` (its time is in the table of examples above).", ""]
    return out


def sentence(text: str) -> str:
    """The text with its first letter capitalised (nothing else changed)."""
    return text[:1].upper() + text[1:]


def too_few(f: dict) -> str | None:
    """'too few trials to tell (n = 2)' for a run with fewer than stats.MIN_TRIALS trials, else None."""
    return f"{stats.TOO_FEW} (n = {f['trials']})" if f["trials"] < stats.MIN_TRIALS else None


CHECK_WORDS = {"shuffle": "shuffled within layers", "reinit": "re-initialised", "invert": "with its scores inverted"}


def at_init_section(f: dict, preset: str) -> list[str]:
    s = f["summary"]
    methods = [m for m in METHOD_WORDS if m in set(s.arm)]
    labels = {"ticket": "IMP ticket", "reinit": "IMP re-init", "random": "IMP shuffled (random)",
              **METHOD_WORDS}
    scope = f["config"].at_init_scope
    out = [f"## {SECTION['at_init']}. Tickets found at initialisation", "",
           f"**What the literature found.** SNIP ({cite('snip')}), SynFlow ({cite('synflow')}) and magnitude at "
           "init find a mask from θ₀ alone, at no training cost. SNIP and SynFlow rank every layer's weights "
           "together, so each method chooses how sparse each layer becomes (SynFlow was designed against the "
           f"layer collapse that fixed layer budgets invite). {cite('pai')} found that these masks do as well when "
           "each layer's mask is shuffled or the weights re-initialised (they survive the sanity checks: what "
           "they find is mostly how sparse each layer should be), that inverting their scores (keeping the "
           "lowest) tells whether the ranking itself matters, and that they fall short of IMP tickets, which do "
           "not survive the checks. The cost to find a mask: IMP spends one full training per round; a mask at "
           "initialisation spends none.", "",
           "**What this run shows.** " + header(f, preset) + " " + (
               "Each at-init method ranks all layers together at the IMP ticket's total count (its own layer "
               "proportions), so its shuffled check keeps those proportions and IMP's random-pruning control "
               "keeps IMP's." if scope == "global" else
               "Each at-init method keeps IMP's exact per-layer counts (the legacy variant), so its shuffled check "
               "equals random pruning at IMP's proportions."), ""]
    out += table(f, ["ticket", "reinit", "random"] + methods, labels) + [""]
    few = too_few(f)
    if few:
        out += [f"With {trials(f['trials'])} this run gives no verdict ({few}); the table shows the values "
                "as measured.", "", "**Command.** `" + command(preset) + "`.", ""]
        return out
    survives, inverted_loses = [], []
    for m in methods:
        beats, lost = [], set()
        held = True
        for check in ("shuffle", "reinit", "invert"):
            if f"{m}_{check}" not in set(s.arm):
                continue
            g = gaps(s, m, f"{m}_{check}")
            better = clear_levels(g, "clearly_better")
            lost |= set(unmeasurable(g))
            beats.append(f"{CHECK_WORDS[check]} at {pcts(better)}")
            if check == "invert":
                inverted_loses.append(bool(better))
            else:
                held &= not better
        survives.append(held)
        vs = gaps(s, "ticket", m)
        lost |= set(unmeasurable(vs))
        out.append(f"- **{METHOD_WORDS[m]}** is clearly better than itself " + "; ".join(beats)
                   + f". The IMP ticket is clearly better than it at {pcts(clear_levels(vs, 'clearly_better'))} and "
                   f"clearly worse at {pcts(clear_levels(vs, 'clearly_worse'))}."
                   + (f" Not measurable with this budget (most networks of a pair still improving at the end) at "
                      f"{pcts(sorted(lost, reverse=True))} for at least one of these comparisons." if lost else ""))
    imp = {c: clear_levels(gaps(s, "ticket", c), "clearly_better") for c in ("reinit", "random") if c in set(s.arm)}
    lost = {c: unmeasurable(gaps(s, "ticket", c)) for c in imp}
    out.append("- The IMP ticket beats its own controls clearly at: " + "; ".join(
        f"{'re-init' if c == 'reinit' else 'random pruning'} {pcts(v)}"
        + (f" (not measurable with this budget at {pcts(lost[c])})" if lost[c] else "") for c, v in imp.items()) + ".")
    out.append(f"- \"Clearly\" here: paired by trial, Holm-corrected over the measurable levels of each "
               f"comparison ({stats.RULES})")
    pieces = []
    pieces.append("no at-init mask is clearly better than its shuffled or re-initialised version at any level where "
                  "the two could be compared, which is what Frankle et al. report; with this budget that is mostly "
                  "the denser levels, so it is an absence of evidence, not a demonstration" if all(survives) else
                  "some at-init mask clearly beats its shuffled or re-initialised version at some level (listed "
                  "above): there it found more than each layer's sparsity, unlike Frankle et al.'s finding")
    if inverted_loses:
        pieces.append("the inversion check separates " + (
            "every method from its inversion at some level (their rankings matter)" if all(inverted_loses) else
            "only some methods from their inversions (listed above)"))
    pieces.append("the IMP ticket clearly beats its re-init at some level" if imp.get("reinit") else
                  "the IMP ticket never clearly beats its re-init here, so this run does not show the contrast "
                  "the literature reports")
    out += ["", "**Where this differs, and why it might.** " + sentence("; ".join(pieces)) + ". " +
            f"This example runs {names(f['config'])} with {trials(f['trials'])}, at a budget fixed before any "
            f"pruned network trained (docs/beyond/at_init_pilot.json); the literature's results are on {CIFAR} "
            "and ImageNet convnets.", "", "**Command.** `" + command(preset) + "`.", ""]
    return out


def structured_section(f: dict, preset: str, unstructured: dict | None) -> list[str]:
    s = f["summary"]
    labels = {"ticket": "structured ticket", "reinit": "its re-init", "random": "random whole neurons"}
    out = [f"## {SECTION['structured']}. Structured pruning: whole neurons", "",
           f"**What the literature found.** Pruning whole neurons or filters ({cite('li')}: by the summed magnitude "
           "of their incoming weights) gives a smaller dense network that runs faster on ordinary hardware. "
           f"{cite('liu')} found that structured subnetworks trained from "
           "a fresh initialisation do as well as the pruned ones: structured tickets do not beat re-init.", "",
           "**What this run shows.** " + header(f, preset), ""]
    out += table(f, ["ticket", "reinit", "random"], labels) + [""]
    if too_few(f):
        return out + [f"With {trials(f['trials'])} this run gives no verdict ({too_few(f)}); the table shows the "
                      "values as measured.", "", "**Command.** `" + command(preset) + "`.", ""] + speed_lines() + [""]
    r, rnd = gaps(s, "ticket", "reinit"), gaps(s, "ticket", "random")
    better_r = clear_levels(r, "clearly_better")
    out.append(f"- The structured ticket against its re-init: clearly better at {pcts(better_r)}; clearly worse "
               f"at {pcts(clear_levels(r, 'clearly_worse'))}"
               + (f"; not measurable with this budget at {pcts(unmeasurable(r))}" if unmeasurable(r) else "") + ".")
    out.append(f"- Against random whole-neuron pruning: clearly better at {pcts(clear_levels(rnd, 'clearly_better'))}"
               + (f"; not measurable with this budget at {pcts(unmeasurable(rnd))}" if unmeasurable(rnd) else "")
               + ".")
    if unstructured is not None:
        u = unstructured["summary"]
        rows = []
        for level, p in f["levels"]:
            near = min(unstructured["levels"], key=lambda lp: abs(lp[1] - p))
            st, us = arm_stats(s, "ticket", level), arm_stats(u, "ticket", near[0])
            rows.append(f"| {pct(p)} | {cell(st)} | {pct(near[1])} | {cell(us)} |")
        out += ["", "Against the unstructured magnitude ticket of the criteria example (same network, data and "
                "budget; nearest level by % remaining):", "",
                "| structured % remaining | structured ticket | unstructured % remaining | unstructured ticket |",
                "|---|---|---|---|", *rows]
    out += ["", "**Where this differs, and why it might.** " + (
        "The structured ticket is not clearly better than its re-init at any level where the two could be "
        "compared: consistent with Liu et al., though an absence of evidence rather than a demonstration."
        if not better_r else
        f"Unlike Liu et al.'s finding, the structured ticket clearly beats its re-init at {pcts(better_r)} here. "
        f"{names(f['config'])} with a short budget differs from their {CIFAR} and ImageNet convnets trained "
        f"to convergence; with {trials(f['trials'])} the spread is narrow evidence either way."), "",
            "**Command.** `" + command(preset) + "`.", ""]
    return out + speed_lines() + [""]


def stability_section(runs: list[tuple[str, dict, str]]) -> list[str]:
    out = [f"## {SECTION['stability']}. Stability and rewinding: linear mode connectivity", "",
           f"**What the literature found.** {cite('lmc')} train two copies of a network from the same starting point with different "
           "minibatch orders and measure the test error along the straight line between them. The height of "
           "the error barrier (its maximum minus the mean of the two ends) is the instability. IMP finds "
           "matching tickets exactly where the network is stable: small networks such as LeNet are stable from "
           "initialisation, while deep ones (VGG-19 and ResNets) become stable only after a little training, "
           "which is why rewinding to iteration k works where resetting to θ₀ fails.", "",
           "**What these runs show.** Barrier in points of test error, mean over trials (min to max):", "",
           "| % remaining | " + " | ".join(label for label, _, _ in runs) + " |", "|---|" + "---|" * len(runs)]
    per_run = [stability_levels(stability_frame(Store(f["store_root"]), f["run_id"])) for _, f, _ in runs]
    levels = sorted({row["level"] for rows in per_run for row in rows})
    for level in levels:
        cells, p = [], None
        for rows in per_run:
            row = next((r for r in rows if r["level"] == level), None)
            p = p if row is None else row["percent"]
            cells.append("–" if row is None else f"{row['mean']:.2f} ({row['min']:.2f} to {row['max']:.2f})")
        out.append(f"| {pct(p)} | " + " | ".join(cells) + " |")
    verdicts = []
    for (label, _, _), rows in zip(runs, per_run):
        unstable = [pct(r["percent"]) for r in rows if r["min"] >= STABLE_POINTS]
        mixed = [pct(r["percent"]) for r in rows if r["min"] < STABLE_POINTS <= r["max"]]
        verdicts.append(f"{label}: " + (f"unstable in every trial at {', '.join(unstable)}" if unstable else
                                        "no level unstable in every trial")
                        + (f", unstable in some trials at {', '.join(mixed)}" if mixed else "")
                        + (", stable in every trial elsewhere" if unstable or mixed else
                           ", stable in every trial at every level"))
    few = [f"{label}: {too_few(f)}" for label, f, _ in runs if too_few(f)]
    net = names(runs[0][1]["config"]) if runs else ""
    out += ["", "**Where this differs, and why it might.** " + (
        f"Taking a barrier under {STABLE_POINTS:g} points of test error as stable (the threshold Frankle et al. use), "
        f"{net}: " + "; ".join(verdicts) + ". Frankle et al. found LeNet stable from initialisation: compare that with "
        "the reset column, level by level. An unstable level is one where the minibatch order alone sends two "
        "copies into different basins; the rewound column shows whether starting from iteration k removes that. "
        + "These runs are short (" + ", ".join(
            f"{f['config'].training.iterations:,} iterations per round, {100 * f['censored']:.0f}% of networks still "
            f"improving at the end" for _, f, _ in runs[:1]) + ") and have few trials"
        + (f"; as a verdict, {'; '.join(few)}: the per-trial descriptions above are measurements, not findings."
           if few else ".") if per_run else "No stability records yet."), "",
            "**Commands.** " + "; ".join(f"`{command(p)}`" for _, _, p in runs) + ".", ""]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=None, help="store searched after the gallery")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    stores = [gallery.gallery_store(), Store(a.store or Settings.from_env().store)]
    found = {}
    for key, preset in EXAMPLES.items():
        rid = get_preset(preset).run_id()
        st = locate(rid, *stores)
        if st is not None and is_complete(st.config(rid), st, rid):  # an example still computing is left out
            found[key] = {**run_facts(st, rid), "store_root": str(st.root)}
    lines = ["# Beyond the paper", "",
             "The paper leaves open which weights to keep, whether tickets can be found without training, how "
             "robust they are, what structured pruning buys, and why rewinding helps. Each section below gives "
             "what the literature found, what this project's own gallery examples show (with their trials and "
             "spread), where the two differ and why that might be, and the exact commands. Generated by "
             "`python3 scripts/report_beyond.py` from the stored runs; every number comes from them. \"Clearly\" "
             f"follows lth_core/analysis/stats.py: {stats.RULES} A run with fewer than {stats.MIN_TRIALS} trials "
             "gets no verdict.",
             "", "| question | preset | run id | networks | trials | wall time here | CPU time |",
             "|---|---|---|---|---|---|---|"]
    times = json.loads(WALLTIMES.read_text()) if WALLTIMES.is_file() else {}
    for key, preset in EXAMPLES.items():
        f, t = found.get(key), times.get(preset, {})
        cpu = f"{t['cpu_s'] / 60:.0f} min" if t.get("cpu_s") is not None else "not measured"
        clock = f"{t['wall_s'] / 60:.0f} min | {cpu}" if f and t.get("run_id") == f["run_id"] else "– | –"
        lines.append(f"| {key.replace('_', ' ')} | `{preset}` | " + (
            f"`{f['run_id']}` | {f['networks']} | {f['trials']} | {clock} |" if f else "not computed yet | – | – | – | – |"))
    if times.get("_note"):
        lines += ["", times["_note"]]
    lines.append("")
    lines += ["**Old runs and shared links.** Each question is a config field (`pruning.criterion`, "
              "`pruning.granularity`, `criteria`, `at_init`, `at_init_checks`, `at_init_scope`, `stability_levels`) or "
              "an analysis stored beside a run (`analysis/noise.json`, `analysis/noise_init.json`). `at_init_scope` "
              "is left out of the hash at its legacy value (IMP's per-layer counts, what runs stored before it "
              "did) and when a run has no at-init arm. The new fields are listed in `ADDED_FIELDS` "
              "(lth_core/config.py): at their defaults they are left out of the run-id hash, exactly as runs were "
              "hashed before the fields existed, so every gallery run and every `?run=` link keeps its id, and "
              "`tests/test_schema.py` checks the committed gallery runs still hash to their folders. Set to "
              "anything else, a field enters the hash, so a new experiment never reuses an old result. The "
              "engine now also stores each trained network's final weights (`final_<arm>.st`), which the noise "
              "analysis evaluates; runs stored before, and gallery copies (which keep no weights), say so when "
              "asked for a new noise analysis.", ""]
    if "criteria" in found:
        lines += criteria_section(found["criteria"], EXAMPLES["criteria"])
    if "at_init" in found:
        lines += at_init_section(found["at_init"], EXAMPLES["at_init"])
    lines += extra_sections(found)
    if "structured" in found:
        lines += structured_section(found["structured"], EXAMPLES["structured"], found.get("criteria"))
    runs = [(lbl, found[k], EXAMPLES[k]) for k, lbl in (("criteria", "reset to θ₀"),
                                                        ("rewind", "rewound to k")) if k in found]
    if runs:
        for i, (lbl, f, p) in enumerate(runs):
            if f["config"].reset == "rewind":
                runs[i] = (f"rewound to iteration {f['config'].rewind_iteration}", f, p)
        lines += stability_section(runs)
    a.out.write_text("\n".join(lines).rstrip() + "\n")
    print(json.dumps({"wrote": str(a.out), "examples": sorted(found)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
