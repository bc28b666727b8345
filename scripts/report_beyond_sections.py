"""docs/BEYOND.md's sections on analyses computed beside a run: robustness to weight noise
(lth_core.analysis.analyses, stored with the criteria example) and what structured pruning buys in speed
(the latency benchmark's JSON). Numbers come from the stored records only."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lth_core.analysis import analyses
from lth_core.store.run_store import Store
from report_format import acc, pct, pts

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


def noise_section(f: dict, preset: str) -> list[str]:
    store = Store(f["store_root"])
    rec = noise_record(store, f["run_id"])
    out = [f"## {SECTION_NOISE}. Robustness to weight noise", "",
           "**What the literature found.** Explainers of the paper repeat that winning tickets are robust to "
           "noise in their weights. Here each trained network gets Gaussian noise on its surviving weights, scaled "
           "to each layer's standard deviation, at a grid of relative scales, several draws each, and is "
           "evaluated on the test set (no training).", ""]
    if rec is None:
        levels = ",".join(map(str, NOISE_LEVELS))
        return out + [f"Not computed yet: `python -m lth_core analyse noise {f['run_id']} --levels {levels}`.", ""]
    frame = analyses.noise_frame(rec)
    scales = rec["params"]["scales"]
    top, mid = scales[-1], scales[len(scales) // 2]
    draws = rec["params"]["draws"]
    out += [f"**What this run shows.** The criteria example (`{f['run_id']}`), {f['trials']} trials, {draws} draws "
            f"per scale. Test accuracy, mean over trials and draws (min to max over both):", "",
            f"| level (% remaining) | network | clean | scale {mid:g} | scale {top:g} |", "|---|---|---|---|---|"]
    summary = analyses.noise_summary(frame)
    for (level, arm), g in summary.groupby(["level", "arm"]):
        if level > 0 and arm not in ARM_WORDS:
            continue
        cells = []
        for s in (scales[0], mid, top):
            row = g[g.scale == s].iloc[0]
            cells.append(f"{acc(row['mean'])} ({acc(row['min'])} to {acc(row['max'])})")
        name = "dense" if level == 0 else ARM_WORDS[arm]
        out.append(f"| {int(level)} ({pct(g.percent_remaining.iloc[0])}) | {name} | " + " | ".join(cells) + " |")
    out.append("")
    verdicts = []
    for level in sorted(set(frame.level)):
        if level == 0 or "reinit" not in set(frame[frame.level == level].arm):
            continue
        drop_t = per_trial(frame, level, "ticket", scales[0]) - per_trial(frame, level, "ticket", top)
        drop_r = per_trial(frame, level, "reinit", scales[0]) - per_trial(frame, level, "reinit", top)
        gap = (100 * (drop_r - drop_t)).dropna()
        clearly = "clearly" if len(gap) > 1 and ((gap > 0).all() or (gap < 0).all()) else "not clearly"
        side = "less" if gap.mean() > 0 else "more"
        verdicts.append((level, clearly, side))
        out.append(f"- Level {level}: at scale {top:g} the ticket loses {100 * drop_t.mean():.2f} points and its "
                   f"re-init {100 * drop_r.mean():.2f}; the ticket loses {side} ({clearly}: paired by trial, "
                   f"{pts(gap.min())} to {pts(gap.max())} points in the ticket's favour).")
    dense_drop = 100 * (per_trial(frame, 0, "ticket", scales[0]) - per_trial(frame, 0, "ticket", top)).mean()
    out.append(f"- The dense network loses {dense_drop:.2f} points at scale {top:g}.")
    robust = [v for v in verdicts if v[1] == "clearly" and v[2] == "less"]
    out += ["", "**Where this differs, and why it might.** " + (
        "The ticket is clearly more robust than its re-init at " + ", ".join(f"level {v[0]}" for v in robust)
        + ", in line with the claim." if robust else
        "No level shows the ticket clearly more robust than its re-init: the claim is not supported by this "
        "run. Noise here is relative to each layer's spread, so a sparse layer with few large weights and a "
        f"dense one are perturbed alike; with {f['trials']} trials, small differences stay within the spread."), "",
            f"**Command.** `python -m lth_core run --preset {preset}`, then `python -m lth_core analyse noise "
            f"{f['run_id']} --levels {','.join(map(str, NOISE_LEVELS))}` (evaluation only).", ""]
    return out


def speed_lines() -> list[str]:
    """What the latency benchmark measured (its own document holds the tables), if it has run."""
    if not LATENCY_JSON.is_file():
        return []
    from lth_core.charts.latency import LOOK_FOR, latency_caption
    data = json.loads(LATENCY_JSON.read_text())
    records, runs = data.get("records", []), data.get("runs", [])
    out = ["", "**What it buys in speed.** Inference on this CPU (medians of repeated timings, random masks with "
               f"each level's exact counts; tables, spread and commands in [{SPEED_DOC}]({SPEED_DOC[5:]})). "
               + LOOK_FOR.replace("What to look for: ", "The lesson: "), ""]
    for arch, batch in sorted({(r["arch"], r["batch"]) for r in records}):
        out.append("- " + latency_caption(records, arch, batch).replace(LOOK_FOR, "").strip())
    if runs:
        out += ["", "Measured with " + "; ".join(f"`{r['command']}`" for r in runs if r.get("command")) + "."]
    return out


def extra_sections(found: dict) -> list[str]:
    """The noise section (on the criteria example), when that example exists."""
    return noise_section(found["criteria"], "beyond-criteria") if "criteria" in found else []
