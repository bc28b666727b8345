"""Write docs/REPRODUCTION.md and the README's headline paragraph from stored runs: the paper's
claims (a)-(f) measured on this project's own runs, with their spread and their censoring.

    BROWSER_PATH=/usr/bin/chromium python3 scripts/report.py       # report, figures, README
    python3 scripts/report.py --no-figures --run fashion-mnist-full=<run id>   # e.g. mid-run

Each run is named by the `run --json` output of scripts/reproduce.sh (docs/repro/<key>.json)
and read from the gallery, then ./runs (or --store). Every number in the prose comes from
`facts()` (lth_core.analysis.claims, .spread, .speed, .results on the stored runs, and the budget
pilot's JSON) or from the paper's values, cited from ../shared/PAPER.md; the templates hold no
digits (tests/test_reproduction_report.py checks both).

This file reads the runs and assembles the document; the rest lives beside it:
    report_facts.py     every number the prose may print (runs, pilot, the paper's values)
    report_format.py    how numbers and names are written
    report_claims.py    the claims table, the plain sentences, the README paragraph
    report_sections.py  runs, deviations, the budget pilot, censoring, each run's section
    report_figures.py   each run's charts as PNG
    report_quick.py     the quick demo's budget: calibrated candidates, requirements, browser timing
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core.analysis import claims, speed, spread, stats  # noqa: E402
from lth_core.training import early_stop

from lth_core.store import gallery
from lth_core.data.datasets import TRAIN_EVAL_EXAMPLES  # noqa: E402
from lth_core.presets import get_preset  # noqa: E402
from lth_core.store.runs import locate  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402
from report_claims import claims_table, headline_paragraph, plain, verdict_summary  # noqa: E402
from report_facts import facts, pilot_facts  # noqa: E402
from report_figures import export_figures, figure_paths  # noqa: E402
from report_format import its, pct, run_label, share  # noqa: E402
from report_quick import quick_facts, quick_section  # noqa: E402
from report_sections import censoring_section, deviations, pilot_section, run_list, run_section  # noqa: E402

DOCS, REPRO = ROOT / "docs", ROOT / "docs" / "repro"
README = ROOT / "README.md"
MARKERS = ("<!-- headline:start -->", "<!-- headline:end -->")
RUNS = (("fashion-mnist-full", "headline"), ("fashion-mnist", "shortened"), ("mnist1d", "shortened"))


def constants() -> dict:
    """The rule constants the prose cites (lth_core's and this report's), formatted."""
    return {"censor": share(early_stop.CENSOR_FRACTION), "window": early_stop.SMOOTH_WINDOW,
            "reference": pct(speed.REFERENCE_PERCENT), "small": pct(claims.SMALL_PERCENT),
            "train_eval": its(TRAIN_EVAL_EXAMPLES), "confidence": share(stats.CONFIDENCE), "alpha": f"{stats.ALPHA:g}",
            "margin_points": f"{stats.MARGIN_POINTS:g}", "min_trials": stats.MIN_TRIALS,
            "correction": stats.CORRECTION, "premise": share(claims.TRAIN_PREMISE),
            "censored_limit": share(spread.CENSORED_LIMIT)}


def render(runs: list[dict], pilot: dict | None, figures: dict, walls: dict, intro: str,
           gallery_mb: float | None = None, in_gallery: set = frozenset(),
           quick: dict | None = None) -> tuple[str, str]:
    """(docs/REPRODUCTION.md, the README's headline paragraph); figures: {key: {name: path}};
    quick: report_quick.quick_facts (None: no quick demo section)."""
    head = next((f for f in runs if f["role"] == "headline"), None)
    parts = ["# Reproducing the lottery ticket findings", "",
             intro.format(run_list=run_list(runs, pilot), **constants()), "",
             "## The claims, measured", "",
             "Each cell: the verdict, and the numbers behind it: differences are paired by trial, with their "
             f"{share(stats.CONFIDENCE)} confidence interval and the number of trials n. Where a cell says \"at X%\" for "
             "one of the paper's levels, X is the level run nearest to it.", "", claims_table(runs), ""]
    parts += ["Verdicts by run:", ""] + [f"- {run_label(f)} ({f['role']}): {verdict_summary(f)}." for f in runs] + [""]
    if head:
        parts += ["In plain words, on the headline run:", ""] + [f"- {s}" for s in (plain(head, k) for k in "abcdef")
                                                                   if s] + [""]
    parts += ["## Deviations from the paper", "", deviations(runs), ""]
    if pilot:
        parts += ["## How the budget was chosen", "", pilot_section(pilot, head), ""]
    parts += ["## Two budgets side by side: censoring", "", censoring_section(runs), ""]
    for f in runs:  # walls: minutes per run key
        parts.append(run_section(f, figures.get(f["key"]), walls.get(f["key"])))
    if quick:
        parts += ["## The quick demo's budget", "", quick_section(quick), ""]
    if gallery_mb is not None:
        shipped = [f"`{f['run_id']}`" for f in runs if f["run_id"] in in_gallery]
        parts += [f"## Gallery\n\nRuns {', '.join(shipped) or 'none yet'} ship in `gallery/` ({gallery_mb:.1f} MB "
                  "in all: configs, metrics and the tickets' masks packed as bits; weights are rebuilt from the "
                  "seeds). The app lists them and opens them without training.", ""]
    readme = headline_paragraph(head, [f for f in runs if f["role"] != "headline"],
                                head["run_id"] in in_gallery) if head else ""
    return "\n".join(parts), readme


def update_readme(paragraph: str, path: Path = README, markers: tuple[str, str] = MARKERS) -> None:
    """Replace the text between the two markers (each on its own line) with `paragraph`."""
    text = path.read_text()
    start, end = markers
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
        figures[key] = figure_paths(f, REPRO) if a.no_figures else export_figures(f, store, REPRO)
        runs.append(f)
    pilot_path = REPRO / "budget_pilot.json"
    head = next(f for f in runs if f["role"] == "headline")
    pilot = (pilot_facts(json.loads(pilot_path.read_text()), head["config"]["training"]["iterations"])
             if pilot_path.exists() else None)
    walls = json.loads((REPRO / "walltimes.json").read_text()) if (REPRO / "walltimes.json").exists() else {}
    walls = {k: v / 60 for k, v in walls.items()}  # seconds in the file
    shipped = set(gallery.gallery_store().run_ids())
    quick = None
    if (REPRO / "quick_calibration.json").exists():
        timing = REPRO / "quick_demo_timing.json"
        quick = quick_facts(json.loads((REPRO / "quick_calibration.json").read_text()),
                            json.loads(timing.read_text()) if timing.exists() else None, get_preset("quick"))
    md, readme = render(runs, pilot, figures, walls, (REPRO / "report_intro.md").read_text(),
                        gallery.size_bytes() / 1e6, shipped, quick)
    (DOCS / "REPRODUCTION.md").write_text(md)
    print(f"wrote {DOCS / 'REPRODUCTION.md'}")
    if not a.no_readme:
        update_readme(readme)
        print(f"rewrote the headline paragraph of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
