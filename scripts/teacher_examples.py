"""Run the README's teacher examples and write their verdicts into the README (generated, not typed).

Each example is the address a teacher hands out; its experiment is read from that address exactly as
the Run page reads it (ui.params, no Streamlit), trained into the store (./runs, or --store), and its
claims (a)-(c) (lth_core.analysis.claims, paired by trial) are written between the README's
<!-- teacher:start --> and <!-- teacher:end --> markers, with docs/repro/teacher_examples.json beside.

    python3 scripts/teacher_examples.py            # run what is missing, then rewrite the block
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lth_core.analysis import claims, results, speed, stats  # noqa: E402
from lth_core import plan
from lth_core.execution import driver
from lth_core.store.run_store import Store  # noqa: E402
from ui import params  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from report import update_readme  # noqa: E402

EXAMPLES = (  # (what the class is asked, the address's query)
    ("change only the rate (20% per round, until 95% is pruned)",
     {"preset": "lesson", "rate": "0.2", "target": "0.95", "only": "rate"}),
    ("the same lesson at 50% per round",
     {"preset": "lesson", "rate": "0.5", "target": "0.95", "only": "rate"}),
)
MARKERS = ("<!-- teacher:start -->", "<!-- teacher:end -->")


def config_of(query: dict):
    values, problems = params.values_from_params(query)
    if problems:
        raise SystemExit(f"example {query} does not parse: {problems}")
    return params.config_from_values(values)


def describe(what: str, query: dict, run_id: str, found: dict, rounds: int, networks: int) -> str:
    """One bullet: the address, the experiment, and claims (a)-(c) as the app states them."""
    address = "/run?" + "&".join(f"{k}={v}" for k, v in query.items())
    a, b = found["a"], found["b"]
    parts = [f"(a) {a['verdict']}" + (f" (ticket − dense at {a['reference_percent']:.3g}%: "
                                       f"{a['reference_gap']['text']})" if a.get("reference_gap") else "")]
    if b.get("raw"):
        parts.append(f"(b) {b['verdict']} (vs dense: {speed.describe(b['raw']['vs_dense'])})")
    if "c" in found:
        c = found["c"]
        gap = c.get("ticket_vs_reinit_at_sparsest")
        parts.append(f"(c) {c['verdict']}" + (f" (re-init falls clearly below dense from "
                                               f"{c['reinit_below_dense_at']:.3g}%)" if c["reinit_below_dense_at"]
                                              else "") + (f"; ticket − re-init at {c['sparsest_percent']:.3g}%: "
                                                          f"{gap['text']}" if gap else ""))
    return (f"- {what}: `{address}` (run `{run_id}`, {rounds} rounds, {networks} networks): "
            + "; ".join(parts) + ".")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=ROOT / "runs")
    ap.add_argument("--processes", type=int, default=2)
    a = ap.parse_args()
    store, lines, record = Store(a.store), [], []
    for what, query in EXAMPLES:
        config = config_of(query)
        run_id = driver.run(config, store, processes=a.processes)
        found = claims.all_claims(results.summary_frame(store, run_id))
        lines.append(describe(what, query, run_id, found, config.pruning.rounds,
                              len(plan.planned_tasks(config))))
        record.append({"what": what, "query": query, "run_id": run_id, "config": config.to_dict(),
                       "verdicts": {k: c["verdict"] for k, c in found.items()}})
    block = (f"Measured on this project's own runs of these addresses ({stats.RULES}):\n\n" + "\n".join(lines))
    (ROOT / "docs" / "repro" / "teacher_examples.json").write_text(json.dumps(record, indent=1) + "\n")
    update_readme(block, markers=MARKERS)
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
