"""Shared fixtures (one data cache per session, real datasets only) and the suite's tiers.

Every test file has one tier, from TIERS below: unit (in-process: the engine, analysis, charts,
config and store, trained on tiny real data), integration (real `lth_core work` worker processes,
the job manager, crashes and signals), e2e (the app's pages in AppTest, a real browser, the load
test, the Ray cluster, whole CLI commands on real data) and science (slow checks that the science
holds: the guard on real Fashion-MNIST, the verdict statistics' error rates by simulation).
Plain `pytest` runs unit and integration; `pytest tests`, a named file, or `-m <tier>` runs what
it names; scripts/test.sh (the README's command, and CI's) runs every tier. A test file missing
from TIERS stops the run, so a new file cannot escape its tier.

Datasets are never mocked. mnist1d is generated once per session (about 8 s)
into a temporary data dir that every test shares; Fashion-MNIST comes from
Debian's dataset-fashion-mnist package, or where apt-get is missing from the checkout's data/fashion-mnist,
where scripts/setup.sh downloads it. Locally a missing Fashion-MNIST skips
the tests that need it; under CI=true it fails them, so CI cannot go green by
silently skipping.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from lth_core.data import datasets as data

from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.store.run_store import Store

# Debian's package, else the checkout's data/, where scripts/setup.sh downloads it where apt-get is missing
FASHION_MNIST_DIRS = (data.DEBIAN_FASHION_MNIST, Path(__file__).resolve().parents[1] / "data" / "fashion-mnist")

TIERS = {
    "unit": (
        "test_accessibility.py", "test_api.py", "test_architecture.py", "test_arms_engine.py", "test_bad_input.py", "test_batched.py",
        "test_beyond_doc.py", "test_charts.py", "test_cifar_protocols.py", "test_claims.py", "test_cli.py",
        "test_cli_run_flags.py", "test_config.py", "test_data.py", "test_early_stop.py", "test_executors.py",
        "test_experiment.py", "test_inspection.py", "test_latency.py", "test_noise.py", "test_noise_init.py", "test_own_model.py",
        "test_predict.py", "test_pruning.py", "test_pruning_criteria.py", "test_reproduction_report.py",
        "test_atlas.py", "test_live_curves.py", "test_rounds.py", "test_runs_table.py", "test_scheduler.py", "test_schema.py", "test_security.py",
        "test_settings.py", "test_slim.py", "test_stability.py", "test_stats.py", "test_store.py", "test_sweep.py",
        "test_training.py", "test_packaging.py"),
    "integration": (
        "test_analyses.py", "test_corrupt.py", "test_ticket_export.py", "test_crash.py", "test_job_limits.py", "test_resources.py",
        "test_status_ownership.py", "test_warm_workers.py", "test_deploy.py", "test_demo_companion.py"),
    "e2e": (
        "test_app_errors.py", "test_app_pages.py", "test_example_own_model.py", "test_bench.py", "test_beyond_page.py", "test_layout.py",
        "test_browser_quick_demo.py", "test_browser_teaching.py", "test_nested_paths.py", "test_form_state.py", "test_load.py",
        "test_predict_page.py", "test_ray.py", "test_ray_executor.py", "test_report_export.py",
        "test_results_match_report.py", "test_rounds_page.py", "test_run_page_params.py", "test_stall.py",
        "test_sweep_compare_page.py", "test_teacher_links.py", "test_install.py"),
    "science": ("test_science_guard.py", "test_stats_error_rates.py"),
}
TIER_OF = {name: tier for tier, names in TIERS.items() for name in names}
DEFAULT_TIERS = ("unit", "integration")  # what plain `pytest` runs: about 3 minutes on 2 cores


def pytest_configure(config):
    """One torch thread: on a shared 2-core machine, OpenMP threads that spin-wait for a busy
    core make these tiny networks 30-50x slower (measured: 12 mlp1d steps, 0.1 s vs 3-6 s)."""
    torch.set_num_threads(1)
    # No warm workers unless a test asks for them (tests/test_warm_workers.py): each is three processes
    # importing torch, which every job manager the suite makes would otherwise start.
    os.environ.setdefault("LTH_WARM_WORKERS", "0")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers added here
def pytest_collection_modifyitems(config, items):
    """Mark every test with its file's tier; plain `pytest` (no paths, no -m) keeps unit and integration."""
    missing = sorted({item.path.name for item in items if item.path.name not in TIER_OF})
    if missing:
        raise pytest.UsageError(f"no tier for {', '.join(missing)}: add each file to TIERS in tests/conftest.py "
                                f"(one of {', '.join(TIERS)})")
    for item in items:
        item.add_marker(TIER_OF[item.path.name])
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.markexpr:
        config.hook.pytest_deselected(items=[i for i in items if TIER_OF[i.path.name] not in DEFAULT_TIERS])
        items[:] = [i for i in items if TIER_OF[i.path.name] in DEFAULT_TIERS]




@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """One data dir for the session, also exported as LTH_DATA_DIR (and a tmp LTH_STORE),
    so nothing writes into the repository's ./data or ./runs."""
    root = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTH_DATA_DIR", str(root))
        mp.setenv("LTH_STORE", str(tmp_path_factory.mktemp("runs")))
        yield root


@pytest.fixture(scope="session")
def mnist1d(data_dir):
    """MNIST-1D, generated once per session into the shared data dir."""
    return data.load("mnist1d", data_dir=data_dir)


@pytest.fixture(scope="session")
def fashion_mnist_available():
    """The folder holding Fashion-MNIST's files; skip locally when there is none, fail under CI=true."""
    found = next((d for d in FASHION_MNIST_DIRS if d.is_dir() and data._find_idx(d)), None)
    if found is None:
        msg = (f"Fashion-MNIST is not installed (looked in {' and '.join(map(str, FASHION_MNIST_DIRS))}); "
               f"bash scripts/setup.sh installs it (apt-get install dataset-fashion-mnist) or downloads it")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return found


@pytest.fixture(scope="session")
def fashion_mnist(fashion_mnist_available, data_dir):
    """Real Fashion-MNIST, parsed once per session into the shared data dir's cache."""
    if fashion_mnist_available != data.DEBIAN_FASHION_MNIST:  # setup.sh's download, read where it lies
        (data_dir / "fashion-mnist").symlink_to(fashion_mnist_available, target_is_directory=True)
    return data.load("fashion-mnist", data_dir=data_dir)


@pytest.fixture
def executed(monkeypatch):
    """Keys of the tasks driver.run trains in this process (processes=1), in order."""
    from lth_core.lottery import tasks
    keys: list[str] = []
    real = tasks.execute

    def counting(spec):
        keys.append(spec.key)
        return real(spec)

    monkeypatch.setattr(tasks, "execute", counting)
    return keys


@pytest.fixture
def manager(tmp_path, mnist1d):
    """A factory of job managers on a fresh store; each is shut down (workers killed) afterwards.
    Keywords are Settings fields (no warm workers unless asked), `processes_per_job`, or `background`
    (False: the test drives the manager with tick())."""
    made = []

    def make(background: bool = True, processes_per_job: int = 1, **settings):
        settings.setdefault("warm_workers", 0)
        jm = JobManager(Store(tmp_path / "store"), Settings(**settings), recover=False, processes_per_job=processes_per_job,
                        background=background)
        made.append(jm)
        return jm

    yield make
    for jm in made:
        jm.shutdown(kill=True)


# The Ray cluster tests start Ray, which must run in a loopback-only network namespace:
# tests/test_ray.py runs them there (with LTH_RAY_NETNS=1); no other collection picks them up.
collect_ignore = [] if os.environ.get("LTH_RAY_NETNS") == "1" else ["ray_cluster"]
