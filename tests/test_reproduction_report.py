"""The reproduction report (scripts/report.py) says only what its runs say: every number in its
prose comes from the runs, the pilot, the paper's cited values or the rules' constants; a claim
that is not measurable prints no number; the README changes only between its markers."""
from __future__ import annotations

import ast
import copy
import json
import re
import sys
from pathlib import Path

import pytest

from lth_core.analysis import claims, results, speed, spread, stats
from lth_core.training import early_stop

from lth_core.execution import driver
from lth_core.config import ExperimentConfig
from lth_core.data.datasets import TRAIN_EVAL_EXAMPLES
from lth_core.presets import get_preset
from lth_core.registry import ARCHITECTURES, DATASETS
from lth_core.store.run_store import Store
from support.configs import tiny_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import report  # noqa: E402
import report_claims  # noqa: E402
import report_facts  # noqa: E402
import report_quick  # noqa: E402

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
NAMES = sorted({n for info in (*DATASETS.values(), *ARCHITECTURES.values())
                for n in (info.name, info.title, info.title.split(" (")[0])}, key=len, reverse=True)


def prose(markdown: str) -> str:
    """The text a reader reads as claims: code, link targets and registry names removed."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    for name in NAMES:
        text = text.replace(name, " ")
    return text


def numbers(text: str) -> set[str]:
    return {m.replace(",", "") for m in NUMBER.findall(prose(text))}


def leaves(obj):
    """Every number inside nested dicts and lists."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from leaves(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from leaves(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool) and obj == obj and abs(obj) != float("inf"):
        yield obj


def spellings(values) -> set[str]:
    """Each value as the report may print it: as is (a float also as a percent), to 0-4 decimals."""
    out = set()
    for v in values:
        for x in ((v, 100 * v) if isinstance(v, float) else (v,)):
            for fmt in ("{:.0f}", "{:.1f}", "{:.2f}", "{:.4f}", "{:g}"):
                out.add(fmt.format(abs(x)))
    return out


def quick_json() -> tuple[dict, dict]:
    """The quick demo's calibration and browser timing as committed in docs/repro."""
    return tuple(json.loads((report.REPRO / f"quick_{n}.json").read_text()) for n in ("calibration", "demo_timing"))


def shifted_quick() -> dict:
    """quick_facts on the committed JSON with every measured number moved, so a number typed by hand stands out."""
    cal, timing = copy.deepcopy(quick_json())
    cal.update(budget_s=13.0, gap_threshold_points=3.5, gap_seeds_needed=3, baseline_app_s=11.1)
    for c in cal["candidates"]:
        c.update(est_app_s=c["est_app_s"] + 0.33, est_app_s_compute=c["est_app_s_compute"] + 0.33,
                 mean_gap_points=c["mean_gap_points"] + 0.37, min_gap_points=c["min_gap_points"] + 0.37,
                 smallest_percent_remaining=8.12, network_iterations=c["network_iterations"] + 7)
    for r in (*timing["repeats"], timing["median"]):
        r.update(first_point_s=r["first_point_s"] + 2.47, last_point_s=r["last_point_s"] + 2.47)
    timing["cpus"] = 3
    return report_quick.quick_facts(cal, timing, get_preset("quick"))


@pytest.fixture(scope="module")
def tiny(mnist1d, data_dir, tmp_path_factory):
    """A headline-like and a shortened-like run of the tiny config, with every control, plus a pilot."""
    store = Store(tmp_path_factory.mktemp("report-runs"))
    head = tiny_config(controls=("reinit",), trials=2)
    short = tiny_config(controls=("reinit", "random", "oneshot"), trials=2, seed=3, iterations=30)
    ids = [driver.run(c, store, data_dir=data_dir, processes=1) for c in (head, short)]
    runs = [report_facts.facts(store, ids[0], "tiny-head", "headline"),
            report_facts.facts(store, ids[1], "tiny-short", "shortened")]
    curve = {"iteration": [10, 20, 30, 40], "val_loss": [0.9, 0.7, 0.8, 0.85]}
    pilot = {"config": head.to_dict(), "wall_s": 42.0, "trials": [
        {"trial": t, "seed": t, "raw_argmin": 20, "smoothed_argmin": 30 + 10 * t, "min_val_loss": 0.7 + t / 100,
         "final_val_loss": 0.85, **curve} for t in range(2)]}
    pilot = report_facts.pilot_facts(pilot, head.training.iterations)
    quick = shifted_quick()
    md, readme = report.render(runs, pilot, {}, {"tiny-short": 1.5}, (report.REPRO / "report_intro.md").read_text(),
                               0.25, set(), quick)
    return {"store": store, "ids": ids, "runs": runs, "pilot": pilot, "quick": quick, "md": md, "readme": readme}


def allowed(tiny) -> set[str]:
    paper = report_facts.PAPER_PROTOCOL.values()
    consts = [*report_facts.PAPER.values(), *(v for v in paper if not isinstance(v, str)),
              early_stop.CENSOR_FRACTION, early_stop.SMOOTH_WINDOW, speed.REFERENCE_PERCENT, stats.ALPHA,
              stats.CONFIDENCE, stats.MARGIN_POINTS, stats.MIN_TRIALS, claims.TRAIN_PREMISE, spread.CENSORED_LIMIT,
              claims.SMALL_PERCENT, report_facts.PILOT_FRACTION, TRAIN_EVAL_EXAMPLES, 0.25, 1.5]  # gallery MB, wall min
    return spellings([*leaves(tiny["runs"]), *leaves(tiny["pilot"]), *leaves(tiny["quick"]), *consts])


def test_every_number_in_the_prose_comes_from_the_data(tiny):
    """Rendered from tiny runs (20-30 iterations, mnist1d), any number typed for the real runs stands out."""
    ok = allowed(tiny)
    assert "## The quick demo's budget" in tiny["md"]
    for text in (tiny["md"], tiny["readme"]):
        assert numbers(text) - ok == set()


@pytest.mark.parametrize("module", sorted(p.name for p in (ROOT / "scripts").glob("report*.py")))
def test_templates_hold_no_digits(module):
    """Each report module's own strings (prose templates) carry no number: only fields do."""
    tree = ast.parse((ROOT / "scripts" / module).read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef)) and n.body and isinstance(n.body[0], ast.Expr)}
    specs = {id(c) for n in ast.walk(tree) if isinstance(n, ast.FormattedValue) and n.format_spec
             for c in ast.walk(n.format_spec)}
    bad = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
           and id(n) not in docstrings | specs and re.search(r"\d", prose(n.value))
           and not re.fullmatch(r"#[0-9a-f]{3,6}", n.value)]
    assert bad == []


def test_intro_holds_no_digits():
    """The intro file's prose carries no number: its placeholders are filled from the rules' constants."""
    assert numbers(re.sub(r"\{\w+\}", " ", (report.REPRO / "report_intro.md").read_text())) == set()


def test_not_measurable_prints_no_number(tiny):
    """Whatever a claim measured, once its verdict is 'not measurable' its cell and sentence show no number."""
    gallery = Store(ROOT / "gallery", readonly=True)
    real = report_facts.facts(gallery, "469a0665c381dd61", "fashion-mnist", "shortened")
    seen = 0
    for f in (*tiny["runs"], real):
        for k in f["claims"]:
            forced = copy.deepcopy(f)
            forced["claims"][k]["verdict"] = claims.NOT_MEASURABLE
            for g in (f, forced):
                if g["claims"][k]["verdict"] == claims.NOT_MEASURABLE:
                    seen += 1
                    assert numbers(report_claims.cell(g, k)) == set(), (k, report_claims.cell(g, k))
                    assert numbers(report_claims.plain(g, k)) == set(), (k, report_claims.plain(g, k))
    assert seen >= 12


def test_facts_use_the_shared_claims(tiny):
    """The report's claims are lth_core.analysis.claims' on the stored run, not a copy of its own."""
    f, store = tiny["runs"][1], tiny["store"]
    expected = report_facts._native(claims.all_claims(results.summary_frame(store, tiny["ids"][1])))
    assert f["claims"] == expected
    assert f["config"]["training"]["iterations"] == 30


def test_readme_changes_only_between_markers(tmp_path, tiny):
    """The headline paragraph replaces the marked block and nothing else; no markers, no write."""
    start, end = report.MARKERS
    readme = tmp_path / "README.md"
    readme.write_text(f"# top\n\n{start}\nold text\n{end}\n\n## next\nkept\n")
    report.update_readme(tiny["readme"], readme)
    text = readme.read_text()
    assert text.startswith(f"# top\n\n{start}\n") and text.endswith(f"{end}\n\n## next\nkept\n")
    assert "old text" not in text and "tiny-head-accuracy.png" in text
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit):
        report.update_readme("x", readme)
    assert readme.read_text() == "no markers\n"


def test_quick_preset_is_the_candidate_with_its_config():
    """The row marked as the preset is the candidate whose config hashes like get_preset("quick"); a preset
    that no candidate matches marks none and checks no requirement."""
    cal, timing = quick_json()
    preset = get_preset("quick")
    same = [c["name"] for c in cal["candidates"] if ExperimentConfig.from_dict(c["config"]).run_id() == preset.run_id()]
    q = report_quick.quick_facts(cal, timing, preset)
    assert [r["name"] for r in q["candidates"] if r["chosen"]] == same and len(same) == 1
    other = report_quick.quick_facts(cal, timing, preset.replace(lr=preset.training.lr * 3))
    assert other["chosen"] is None and other["met"] is None
    assert "No candidate's config equals" in report_quick.quick_section(other)


def test_quick_time_requirement_follows_the_browser():
    """The time requirement is met only by a browser timing of the preset itself, within budget, on no more
    cores than the requirement names; the estimate alone decides nothing."""
    cal, timing = quick_json()
    preset = get_preset("quick")
    met = lambda t: report_quick.quick_facts(cal, t, preset)["met"]["time"]  # noqa: E731
    assert met(timing) == (timing["median"]["last_point_s"] <= cal["budget_s"]
                           and timing["cpus"] <= report_quick.DEMO_CORES)
    slow = copy.deepcopy(timing)
    slow["median"]["last_point_s"] = cal["budget_s"] + 1
    assert met(slow) is False
    assert met({**timing, "config": preset.replace(iterations=preset.training.iterations + 50).to_dict()}) is None
    assert met(None) is None
