"""docs/BEYOND.md's sections on analyses computed beside a run: robustness to noise, by two protocols
(noise on the ticket's initialisation then retrained, lth_core.analysis.noise_init, on the at-init example;
noise on trained weights, lth_core.analysis.analyses, on the criteria example) and what structured pruning buys in speed
(the latency benchmark's JSON). Numbers come from the stored records only."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lth_core.analysis import analyses, noise_init, spread, stats
from lth_core.store.run_store import Store
from report_format import acc, pct

ROOT = Path(__file__).resolve().parents[1]
LATENCY_JSON = ROOT / "docs" / "bench" / "latency_cpu.json"
SPEED_DOC = "docs/beyond/structured_speed.md"
SECTION_NOISE = 3  # its place among docs/BEYOND.md's sections (scripts/report_beyond.py SECTION)
NOISE_LEVELS = (0, 3, 5)  # dense, a middle level, the sparsest (criteria example: 100%, 12.6%, 3.2%)
ARM_WORDS = {"ticket": "ticket", "reinit": "re-init", "imp_magnitude_increase": "magnitude-increase ticket",
             "imp_movement": "movement ticket", "imp_large_init_large_final": "large-init-large-final ticket"}


def noise_record(store: Store, run_id: str) -> dict | None:
    """The complete noise record of the run at NOISE_LEVELS with the default scales and draws, if stored."""
    params = analyses.noise_params(store.config(run_id), levels=list(NOISE_LEVELS))
    rec = analyses.read_noise(store, run_id, params)
    return rec if rec and rec.get("complete") else None


def per_trial(frame: pd.DataFrame, level: int, arm: str, scale: float) -> pd.Series:
    """Mean accuracy over draws of each trial's network at one noise scale."""
    d = frame[(frame.level == level) & (frame.arm == arm) & (frame.scale == scale)]
    return d.groupby("trial").accuracy.mean()


NOISE_INIT_LEVELS = (1, 2)  # at-init example: the levels whose tickets finish uncensored (chosen before any noise ran)


def _drop(frame: pd.DataFrame, level: int, arm: str, clean: float, scale: float) -> pd.Series:
    """Per trial, points lost between scale `clean` and `scale` (mean over draws)."""
    return 100 * (per_trial(frame, level, arm, clean) - per_trial(frame, level, arm, scale))


def post_training_lines(f: dict) -> list[str]:
    """Protocol B: noise on the trained weights, evaluation only (the criteria example's stored record)."""
    store = Store(f["store_root"])
    rec = noise_record(store, f["run_id"])
    head = ["### B. Noise on the trained weights, evaluated without training", "",
            "A different question from the paper's: each trained network gets Gaussian noise on its surviving "
            "weights, scaled to each layer's standard deviation of surviving weights, at a grid of relative "
            "scales, several draws each, and is evaluated on the test set. Magnitude pruning keeps the largest "
            "weights, so a sparse layer's surviving weights spread wider than a dense layer's: the same relative "
            "scale is a larger absolute disturbance for a ticket.", ""]
    if rec is None:
        levels = ",".join(map(str, NOISE_LEVELS))
        return head + [f"Not computed yet: `python -m lth_core analyse noise {f['run_id']} --levels {levels}`.", ""]
    frame = analyses.noise_frame(rec)
    scales = rec["params"]["scales"]
    clean, top, mid = scales[0], scales[-1], scales[len(scales) // 2]
    out = head + [f"The criteria example (`{f['run_id']}`), {f['trials']} trials, {rec['params']['draws']} draws "
                  f"per scale. Test accuracy, mean over trials and draws (min to max over both):", "",
                  f"| level (% remaining) | network | clean | scale {mid:g} | scale {top:g} |", "|---|---|---|---|---|"]
    summary = analyses.noise_summary(frame)
    for (level, arm), g in summary.groupby(["level", "arm"]):
        if level > 0 and arm not in ARM_WORDS:
            continue
        cells = []
        for sc in (clean, mid, top):
            row = g[g.scale == sc].iloc[0]
            cells.append(f"{acc(row['mean'])} ({acc(row['min'])} to {acc(row['max'])})")
        name = "dense" if level == 0 else ARM_WORDS[arm]
        out.append(f"| {int(level)} ({pct(g.percent_remaining.iloc[0])}) | {name} | " + " | ".join(cells) + " |")
    out.append("")
    dense = _drop(frame, 0, "ticket", clean, top)
    for level in sorted(set(frame.level) - {0}):
        ticket = _drop(frame, level, "ticket", clean, top)
        vs_dense = stats.paired((ticket - dense).dropna())
        line = (f"- Level {level}: at scale {top:g} the ticket loses {ticket.mean():.2f} points, the dense network "
                f"{dense.mean():.2f}; the ticket's loss minus dense's, paired by trial: {stats.ci_text(vs_dense)}")
        if "reinit" in set(frame[frame.level == level].arm):
            vs_reinit = stats.paired((ticket - _drop(frame, level, "reinit", clean, top)).dropna())
            line += f"; minus its re-init's: {stats.ci_text(vs_reinit)}"
        out.append(line + ".")
    return out + [""]


def init_noise_lines(f: dict | None) -> list[str]:
    """Protocol A: noise on the ticket's initial weights, then retrained (the at-init example's records)."""
    head = ["### A. Noise on the ticket's initialisation, then retrained (the paper's protocol)", "",
            "The seeds' claim most likely comes from the paper's appendix on winning-ticket initialisation: "
            "Gaussian noise is added to the ticket's *initial* weights and the ticket is trained again. Here the "
            "noise on each surviving weight is scale × the standard deviation of its layer's initial weights, the "
            "mask and the minibatch order stay the ticket's, and each perturbed ticket is compared, paired by "
            "trial, with the ticket itself and with its random re-initialisation.", ""]
    if f is None:
        return head + ["Not computed yet: the at-init example is not stored.", ""]
    store = Store(f["store_root"])
    cmp = noise_init.comparisons(store, f["run_id"]) if noise_init.records(store, f["run_id"]) else pd.DataFrame()
    if cmp.empty:
        levels = ",".join(map(str, NOISE_INIT_LEVELS))
        return head + [f"Not computed yet: `python -m lth_core analyse noise-init {f['run_id']} --levels {levels}`.",
                       ""]
    out = head + [f"The at-init example (`{f['run_id']}`, {f['trials']} trials). Test accuracy at early stop; the "
                  "differences are paired by trial:", "",
                  "| level (% remaining) | noise scale | perturbed ticket | ticket | re-init | perturbed − ticket | "
                  "perturbed − re-init |", "|---|---|---|---|---|---|---|"]
    def judged(r, arm: str) -> str:
        if not isinstance(getattr(r, f"vs_{arm}", None), stats.Paired):
            return "–"
        if getattr(r, f"censored_vs_{arm}") > spread.CENSORED_LIMIT:
            return "not measurable with this budget (mostly still improving at the end)"
        return stats.ci_text(getattr(r, f"vs_{arm}"))

    for r in cmp.itertuples():
        reinit = acc(r.reinit) if isinstance(getattr(r, "vs_reinit", None), stats.Paired) else "–"
        out.append(f"| {r.level} ({pct(r.percent_remaining)}) | {r.scale:g} | {acc(r.perturbed)} | {acc(r.ticket)} | "
                   f"{reinit} | {judged(r, 'ticket')} | {judged(r, 'reinit')} |")
    said = []
    for arm, words in (("ticket", "the unperturbed ticket"), ("reinit", "the re-init")):
        rows = [r for r in cmp.itertuples() if isinstance(getattr(r, f"vs_{arm}", None), stats.Paired)
                and getattr(r, f"censored_vs_{arm}") <= spread.CENSORED_LIMIT]
        clear = stats.clearly([getattr(r, f"vs_{arm}") for r in rows])  # Holm over the rows of this column
        hits = [f"level {r.level} at scale {r.scale:g} ({'above' if c > 0 else 'below'})" for r, c in zip(rows, clear)
                if c]
        said.append(f"clearly different from {words} at " + (", ".join(hits) if hits else "no row"))
    return out + ["", "Paired by trial and Holm-corrected over each column's measurable rows, the perturbed "
                  "tickets are " + "; ".join(said) + ".", ""]


def noise_section(f: dict | None, preset: str, at_init: dict | None = None) -> list[str]:
    out = [f"## {SECTION_NOISE}. Robustness to noise", "",
           "**What the literature found.** Explainers of the paper repeat that winning tickets are robust to "
           "noise in their weights. Two protocols answer two questions; each result below says which it follows.",
           ""]
    out += init_noise_lines(at_init)
    if f is not None:
        out += post_training_lines(f)
    out += ["**Commands.** " + (f"`python -m lth_core analyse noise-init {at_init['run_id']} --levels "
                                f"{','.join(map(str, NOISE_INIT_LEVELS))}` (trains one network per trial, level "
                                "and scale); " if at_init else "")
            + (f"`python -m lth_core run --preset {preset}`, then `python -m lth_core analyse noise {f['run_id']} "
               f"--levels {','.join(map(str, NOISE_LEVELS))}` (evaluation only)." if f else ""), ""]
    return out


def speed_lines() -> list[str]:
    """What the latency benchmark measured (its own document holds the tables), if it has run."""
    if not LATENCY_JSON.is_file():
        return []
    from lth_core.charts.latency import LOOK_FOR, latency_text
    data = json.loads(LATENCY_JSON.read_text())
    records, runs = data.get("records", []), data.get("runs", [])
    out = ["", "**What it buys in speed.** Inference on this CPU (medians of repeated timings, random masks with "
               f"each level's exact counts; tables, spread and commands in [{SPEED_DOC}]({SPEED_DOC[5:]})). "
               + LOOK_FOR.replace("What to look for: ", "The lesson: "), ""]
    for arch, batch in sorted({(r["arch"], r["batch"]) for r in records}):
        out.append("- " + latency_text(records, arch, batch).replace(LOOK_FOR, "").strip())
    if runs:
        out += ["", "Measured with " + "; ".join(f"`{r['command']}`" for r in runs if r.get("command")) + "."]
    return out


def extra_sections(found: dict) -> list[str]:
    """The noise section: the paper's protocol on the at-init example, the post-training one on the criteria
    example (each when its example exists)."""
    if "criteria" not in found and "at_init" not in found:
        return []
    return noise_section(found.get("criteria"), "beyond-criteria", found.get("at_init"))
