"""Write docs/REPRODUCTION.md: the paper's claims (a)-(f) measured on this project's own runs.

Usage: BROWSER_PATH=/usr/bin/chromium python3 scripts/report.py
Reads the runs named in docs/repro/<dataset>.json (the `run --json` output of
scripts/reproduce.sh) from the gallery (or --store), exports the project's own
Plotly charts as PNG (kaleido + Debian's chromium) and writes the report with
every number filled in from the runs. Nothing in it is typed by hand except the
paper's values, which come from ../shared/PAPER.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core import charts, claims, gallery, results  # noqa: E402
from lth_core.runs import locate  # noqa: E402
from lth_core.store import Store  # noqa: E402

DOCS = ROOT / "docs"
REPRO = DOCS / "repro"
DATASETS = {"fashion-mnist": "Fashion-MNIST, LeNet-300-100", "mnist1d": "MNIST-1D, MLP 40-300-300-10"}
ARMS = ("ticket", "reinit", "random", "oneshot")

PAPER = {  # LeNet-300-100 on MNIST, from ../shared/PAPER.md
    "a": "at or above dense down to 3.6% remaining (+0.3 points or more at 13.5%)",
    "b": "falls: 38% earlier than dense at 21.1% remaining; rises again below that",
    "c": "re-init falls below dense from about 21.1% remaining; the ticket only at about 2.9%",
    "d": "random pruning (random mask, original init) loses to the ticket",
    "e": "iterative pruning finds smaller winning tickets than one-shot",
    "f": "training accuracy about 100% for all; tickets still gain up to 0.35 test points",
}


def pct(v) -> str:
    return "—" if v is None else f"{v:.1f}%"


def verdicts(c: dict) -> dict[str, tuple[str, bool | None]]:
    """One sentence and a holds? flag per claim, from claims.all_claims."""
    a, b = c["a"], c["b"]
    out = {
        "a": (f"at or above dense ({100 * a['dense_acc']:.2f}%) down to {pct(a['holds_down_to_percent'])}; "
              f"best {100 * a['best_acc']:.2f}% at {pct(a['best_at_percent'])} ({a['best_gain_points']:+.2f} points)",
              a["holds_down_to_percent"] is not None),
        "b": (f"dense stops at iteration {b['dense_iteration']:.0f}; minimum {b['min_iteration']:.0f} at "
              f"{pct(b['min_at_percent'])} ({b['earlier_by_percent']:.0f}% earlier); "
              f"{b['last_iteration']:.0f} at {pct(b['last_percent'])}"
              + ("; the dense network stops in the last 10% of training, so the shortened budget hides "
                 "the true minimum" if b["censored_by_budget"] else ""), b["falls"] and b["rises_after"]),
    }
    if "c" in c:
        cc = c["c"]
        out["c"] = (f"re-init below dense from {pct(cc['reinit_below_dense_at'])}; ticket "
                    f"{'never' if cc['ticket_below_dense_at'] is None else 'from ' + pct(cc['ticket_below_dense_at'])}",
                    cc["holds"])
    if "d" in c:
        d = c["d"]
        out["d"] = (f"ticket better at {d['ticket_better_levels']} of {d['levels']} levels, by "
                    f"{d['mean_gap_points']:.2f} points on average ({d['gap_at_smallest_points']:+.2f} at the smallest)",
                    d["holds"])
    if "e" in c:
        e = c["e"]
        gap = "—" if e["mean_gap_points"] is None else f"{e['mean_gap_points']:+.2f}"
        out["e"] = (f"below 20% remaining, iterative beats one-shot at {e['iterative_better_levels']} of "
                    f"{e['levels']} levels ({gap} points on average)", e["holds"])
    f = c["f"]
    out["f"] = (f"train-test gap {f['dense_gap_points']:.1f} points dense vs {f['ticket_gap_points']:.1f} for the "
                f"best ticket ({pct(f['ticket_best_percent'])}); training accuracy {100 * f['dense_train_acc']:.1f}% "
                f"/ {100 * f['ticket_train_acc']:.1f}%", f["holds"])
    return out


def level_table(agg) -> str:
    arms = [a for a in ARMS if a in set(agg.arm)]
    head = "| level | % remaining | " + " | ".join(f"{a} acc (min–max)" for a in arms) + " | ticket early stop |"
    lines = [head, "|" + "---|" * (len(arms) + 3)]
    for level in sorted(set(agg.level)):
        rows = agg[agg.level == level].set_index("arm")
        cells = []
        for a in arms:
            r = rows.loc[a]
            cells.append(f"{100 * r.test_acc_at_early_stop:.2f} ({100 * r.test_acc_at_early_stop_min:.2f}–"
                         f"{100 * r.test_acc_at_early_stop_max:.2f})")
        t = rows.loc["ticket"]
        lines.append(f"| {level} | {t.percent_remaining:.1f} | " + " | ".join(cells) + f" | {t.early_stop_iteration:.0f} |")
    return "\n".join(lines)


def export(fig, name: str) -> str:
    fig.update_layout(paper_bgcolor="white", plot_bgcolor="white", font_color="#222")
    fig.write_image(REPRO / name, width=1000, height=520, scale=1)
    return f"repro/{name}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--store", type=Path, help="where the runs are (default: the gallery, then ./runs)")
    a = p.parse_args()
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    stores = [Store(a.store)] if a.store else [gallery.gallery_store(), Store(ROOT / "runs")]
    timings = json.loads((REPRO / "walltimes.json").read_text()) if (REPRO / "walltimes.json").exists() else {}
    sections, table_rows = [], {}
    for ds, title in DATASETS.items():
        run_id = json.loads((REPRO / f"{ds}.json").read_text())["run_id"]
        store = locate(run_id, *stores)
        if store is None:
            raise SystemExit(f"run {run_id} ({ds}) is in none of {[str(s.root) for s in stores]}")
        config = store.config(run_id)
        summary = results.summary_frame(store, run_id)
        agg = results.aggregate(summary)
        c = claims.all_claims(agg, config.training.iterations)
        (REPRO / f"{ds}-claims.json").write_text(json.dumps(c, indent=1))
        v = verdicts(c)
        for k, (text, ok) in v.items():
            table_rows.setdefault(k, {})[ds] = (text, ok)
        curves = results.curves_frame(store, run_id)
        pcts = sorted(set(agg.percent_remaining.round(1)), reverse=True)
        show = [lv for lv in (0, 3, 7, config.pruning.rounds) if lv <= config.pruning.rounds]
        figs = {
            "accuracy": export(charts.accuracy_vs_sparsity(agg, title=f"{title}: test accuracy at early stop"), f"{ds}-accuracy.png"),
            "early_stop": export(charts.early_stop_vs_sparsity(agg, title=f"{title}: early-stopping iteration"), f"{ds}-early-stop.png"),
            "curves": export(charts.learning_curves(curves, show, title=f"{title}: ticket vs re-init learning curves"), f"{ds}-curves.png"),
            "gap": export(charts.generalisation_gap(agg, title=f"{title}: train vs test accuracy"), f"{ds}-gap.png"),
        }
        wall = timings.get(ds)
        sections.append("\n".join([
            f"## {title}", "",
            f"Run `{run_id}`: {config.trials} trials (seeds {config.seed}–{config.seed + config.trials - 1}), "
            f"{config.pruning.rounds} rounds at {100 * config.pruning.rate:.0f}% per round "
            f"(output layer {100 * config.pruning.output_rate:.0f}%), down to {pcts[-1]:.1f}% remaining; "
            f"{config.training.iterations:,} iterations per round, Adam {config.training.lr:g}, batch "
            f"{config.training.batch_size}, validation and test every {config.training.eval_every} iterations; "
            f"controls {', '.join(config.controls)}." + (f" Wall time on this machine: {wall / 60:.1f} min." if wall else ""), "",
            f"![accuracy]({figs['accuracy']})", "", f"![early stopping]({figs['early_stop']})", "",
            f"![learning curves]({figs['curves']})", "", f"![generalisation]({figs['gap']})", "",
            "Test accuracy (%) at the early-stopping iteration, mean over trials (min–max):", "",
            level_table(agg), ""]))
    claim_lines = ["| claim | paper (LeNet-300-100, MNIST) | " + " | ".join(DATASETS.values()) + " |",
                   "|---|---|" + "---|" * len(DATASETS)]
    for k in "abcdef":
        cells = []
        for ds in DATASETS:
            text, ok = table_rows.get(k, {}).get(ds, ("not measured", None))
            mark = {True: "**holds**: ", False: "**does not hold**: ", None: ""}[ok]
            cells.append(mark + text)
        claim_lines.append(f"| ({k}) | {PAPER[k]} | " + " | ".join(cells) + " |")
    body = (REPRO / "report_intro.md").read_text() if (REPRO / "report_intro.md").exists() else ""
    discussion = (REPRO / "report_discussion.md").read_text() if (REPRO / "report_discussion.md").exists() else ""
    out = "\n".join(["# Reproducing the lottery ticket findings", "", body,
                     "## The claims, measured", "", *claim_lines, "", discussion, *sections,
                     f"## Gallery\n\nThe runs above ship in `gallery/` ({gallery.size_bytes() / 1e6:.1f} MB: configs, "
                     "metrics and the tickets' masks packed as bits; weights are rebuilt from the seeds). "
                     "The app lists them and opens them without training.", ""])
    (DOCS / "REPRODUCTION.md").write_text(out)
    print(f"wrote {DOCS / 'REPRODUCTION.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
