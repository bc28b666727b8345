"""Shared fixtures: one data cache per session, real datasets only, tiny configs.

Datasets are never mocked. mnist1d is generated once per session (about 8 s)
into a temporary data dir that every test shares; Fashion-MNIST comes from
Debian's dataset-fashion-mnist package. Locally a missing Fashion-MNIST skips
the tests that need it; under CI=true it fails them, so CI cannot go green by
silently skipping.
"""
from __future__ import annotations

import os

import pytest
import torch

from lth_core.data import datasets as data

from lth_core.execution import driver
from lth_core.service.jobs import JobManager
from lth_core.service.settings import Settings
from lth_core.store.run_store import Store
from lth_core.presets import get_preset
from support.configs import tiny_config  # noqa: F401  (tests import it from here)

FASHION_MNIST_DIR = data.DEBIAN_FASHION_MNIST


def pytest_configure(config):
    """One torch thread: on a shared 2-core machine, OpenMP threads that spin-wait for a busy
    core make these tiny networks 30-50x slower (measured: 12 mlp1d steps, 0.1 s vs 3-6 s)."""
    torch.set_num_threads(1)
    # No warm workers unless a test asks for them (tests/test_warm.py): each is three processes
    # importing torch, which every job manager the suite makes would otherwise start.
    os.environ.setdefault("LTH_WARM_WORKERS", "0")




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
    """Skip locally when Fashion-MNIST is not installed; fail under CI=true."""
    files = [FASHION_MNIST_DIR / f"{stem}.gz" for stem in data.IDX_FILES.values()]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        msg = (f"Fashion-MNIST is not installed (missing {', '.join(missing)}); "
               f"apt-get install dataset-fashion-mnist")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return FASHION_MNIST_DIR


@pytest.fixture(scope="session")
def fashion_mnist(fashion_mnist_available, data_dir):
    """Real Fashion-MNIST, parsed once per session into the shared data dir's cache."""
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
