"""Settings: every LTH_* variable read once, today's defaults when unset, a bad value named."""
from __future__ import annotations

from pathlib import Path

import pytest

from lth_core.service.settings import Settings, SettingsError


def test_an_empty_environment_gives_the_defaults():
    """Unset and empty variables mean the same: the documented defaults."""
    s = Settings.from_env({"LTH_WORKERS": "", "LTH_STORE": "  "})
    assert s == Settings()
    assert (s.store, s.data_dir, s.gallery, s.executor, s.ray_address) == (Path("runs"), Path("data"), None,
                                                                          "local", None)
    assert (s.max_jobs, s.max_jobs_per_session, s.max_jobs_per_address, s.job_timeout_s) == (20, 2, 4, 3600)
    assert (s.max_memory_gb, s.worker_memory_gb, s.min_free_disk_gb, s.warm_workers) == (4.0, 8.0, 1.0, 1)
    assert s.procs is None and s.stack is None and s.workers >= 1


def test_every_variable_reaches_its_setting():
    s = Settings.from_env({"LTH_STORE": "/s", "LTH_DATA_DIR": "/d", "LTH_GALLERY": "/g", "LTH_EXECUTOR": "ray",
                           "RAY_ADDRESS": "10.0.0.1:6379", "LTH_PROCS": "3", "LTH_STACK": "0", "LTH_WORKERS": "5",
                           "LTH_MAX_JOBS": "7", "LTH_MAX_JOBS_PER_ADDRESS": "6", "LTH_MAX_JOBS_PER_SESSION": "1",
                           "LTH_JOB_TIMEOUT_S": "60", "LTH_WARM_WORKERS": "0", "LTH_MAX_MEMORY_GB": "0.5",
                           "LTH_WORKER_MEMORY_GB": "0", "LTH_MIN_FREE_DISK_GB": "2.5"})
    assert s == Settings(store=Path("/s"), data_dir=Path("/d"), gallery=Path("/g"), executor="ray",
                         ray_address="10.0.0.1:6379", procs=3, stack=False, workers=5, max_jobs=7,
                         max_jobs_per_address=6, max_jobs_per_session=1, job_timeout_s=60, warm_workers=0,
                         max_memory_gb=0.5, worker_memory_gb=0.0, min_free_disk_gb=2.5)
    assert s.worker_memory_bytes is None  # 0: no cap
    assert Settings(worker_memory_gb=3).worker_memory_bytes == 3 * 10**9


@pytest.mark.parametrize("name, value, allowed", [
    ("LTH_EXECUTOR", "warp", "local, ray"),
    ("LTH_STACK", "yes", "0, 1"),
    ("LTH_WORKERS", "0", "a whole number >= 1"),
    ("LTH_MAX_JOBS", "many", "a whole number >= 1"),
    ("LTH_WARM_WORKERS", "-1", "a whole number >= 0"),
    ("LTH_PROCS", "2.5", "a whole number >= 1"),
    ("LTH_MAX_MEMORY_GB", "0", "a number > 0"),
    ("LTH_WORKER_MEMORY_GB", "inf", "a number >= 0"),
    ("LTH_MIN_FREE_DISK_GB", "nan", "a number >= 0"),
])
def test_a_bad_value_names_the_variable_the_value_and_the_allowed_values(name, value, allowed):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})
    assert isinstance(err.value, ValueError) and err.value.name == name
    assert str(err.value) == f"${name}={value!r} is not allowed; allowed: {allowed}"

