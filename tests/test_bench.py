"""`python scripts/bench.py` (the benchmark, outside the library), run for real on Fashion-MNIST at a tiny size.

Times are never asserted (they are the bench's output, not its correctness); what is
checked is that every part ran, reported what it measured, and that the parallel
networks agree with the ones trained one after another.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # the bench's reference workload
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench_report(fashion_mnist, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run([sys.executable, "scripts/bench.py", "--iterations", "100", "--repeats", "1",
                           "--device", "cpu", "--out", str(out), "--parts",
                           "cli,plain-process,trials-one,trials-all,engine,plain,dataloader,parallel"], cwd=ROOT, capture_output=True, text=True,
                          env={**{k: v for k, v in os.environ.items() if k != "LTH_STACK"}, "LTH_DATA_DIR": str(data_dir)},
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_reference_workload_is_one_network_per_level():
    """3 levels, 1 trial, no controls: the engine and the plain loop train the same 3 networks
    (the config's default controls would add re-init networks to the engine's share)."""
    from bench_workload import reference_config
    from lth_core.plan import planned_tasks
    assert planned_tasks(reference_config(100, "cpu")) == [(0, 0, "ticket"), (0, 1, "ticket"), (0, 2, "ticket")]


def test_bench_times_every_part(bench_report):
    """Engine, plain loop and DataLoader each report a wall time and iterations per second
    for 3 levels x 100 iterations, and the two ratios the targets are about."""
    report, stdout = bench_report
    for part in ("engine", "plain", "dataloader"):
        p = report["parts"][part]
        assert len(p["runs_s"]) == 1 and p["median_s"] > 0 and f"\n{part} " in stdout
    assert set(report["ratios"]) == {"engine/plain", "dataloader/engine", "parallel/sequential throughput",
                                     "cli/plain-process", "trials one-after-another/scheduled"}
    for part in ("cli", "plain-process", "trials-one", "trials-all"):  # whole processes, and the scheduler
        assert report["parts"][part]["median_s"] > 0 and f"\n{part} " in stdout
    assert report["parts"]["trials-one"]["network_iterations"] == 15 * 100  # 3 trials x (dense + 2 x 2)
    # ratios are taken within each repeat: with one repeat, that repeat's own ratio
    assert report["ratios"]["engine/plain"] == pytest.approx(
        report["parts"]["engine"]["runs_s"][0] / report["parts"]["plain"]["runs_s"][0])
    assert "estimate, paper protocol" in stdout
    assert "ratio engine/plain" in stdout and "figures written to" in stdout


def test_bench_parallel_modes_agree_with_sequential(bench_report):
    """6 networks one after another, stacked, and on 2 worker processes: each mode timed, with
    the same test accuracies (tolerance 0.01: threads and kernels round differently)."""
    p = bench_report[0]["parts"]["parallel"]
    assert set(p["modes"]) == {"sequential", "stacked", "processes"} and p["engine_uses"] == "processes"
    assert p["processes"] >= 2 and p["worker_start_up_s"] > 0
    for name in ("stacked", "processes"):
        mode = p["modes"][name]
        assert len(mode["runs_s"]) == 1 and mode["median_s"] > 0
        assert 0 <= mode["max_test_acc_difference"] <= 0.01


def test_bench_rejects_an_unknown_part(tmp_path):
    proc = subprocess.run([sys.executable, "scripts/bench.py", "--parts", "engine,warp",
                           "--out", str(tmp_path / "b.json")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "warp" in proc.stderr and "allowed: cli, plain-process" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "b.json").exists()
