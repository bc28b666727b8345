"""Resources an anonymous user can exhaust: memory, workers, disk.

A run too large for the server's memory bound is refused when submitted, with the estimate and the
limit in the message (a stored run is never judged by it); workers run under a hard data-memory limit; a free worker goes to the owner with the
fewest running jobs (round-robin by owner); runs are bounded per client address as well as per
session; new runs are refused while the store's disk is below its floor.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from lth_core.config import ExperimentConfig
from lth_core.execution import driver
from lth_core.presets import PRESETS, get_preset
from lth_core.service.admission import LimitReached, check_memory
from lth_core.service.settings import Settings

LONG = get_preset("quick").replace(iterations=100_000, eval_every=10_000, rounds=1)  # outlives every test


def wait_for(predicate, timeout_s: float, what: str):
    end = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < end, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.05)
    return value


# --- memory -------------------------------------------------------------------------------------
BIG = ExperimentConfig(dataset="cifar10", arch="conv2", training=dict(batch_size=45_000))  # a valid config


def test_a_run_over_the_memory_limit_is_refused_with_the_estimate_and_the_limit(manager):
    jm = manager(background=False)
    with pytest.raises(LimitReached) as err:
        jm.submit(BIG, owner="a")
    text = str(err.value)
    assert text.startswith("batch_size: ") and "GB at its peak" in text and "the limit is 4 GB" in text \
        and "$LTH_MAX_MEMORY_GB" in text
    assert not jm.store.has_run(BIG.run_id()) and not jm.jobs


def test_the_memory_limit_follows_its_environment_variable(manager):
    generous = manager(background=False, max_memory_gb=Settings.from_env({"LTH_MAX_MEMORY_GB": "1000"}).max_memory_gb)
    assert generous.submit(BIG) == BIG.run_id()  # accepted
    generous.shutdown()  # the next manager takes the store over
    tight = manager(background=False, max_memory_gb=Settings.from_env({"LTH_MAX_MEMORY_GB": "0.5"}).max_memory_gb)
    with pytest.raises(LimitReached, match=r"the limit is 0.5 GB"):
        tight.submit(ExperimentConfig(dataset="cifar10", arch="vgg19", training=dict(batch_size=64)))


def test_a_stored_run_is_served_whatever_the_memory_limit(manager, data_dir):
    """The limit guards new work only: a run computed elsewhere (a bigger machine) opens and is served here."""
    jm = manager(background=False, max_memory_gb=1e-6)
    tiny = get_preset("quick").replace(iterations=20, eval_every=10, rounds=1)
    driver.run(tiny, jm.store, data_dir=data_dir, processes=1)
    assert jm.submit(tiny, owner="a") == tiny.run_id() and jm.state(tiny.run_id()) is None
    assert jm.store.status(tiny.run_id())["state"] == "done"


def test_every_preset_fits_the_default_memory_limit():
    for name, (_, config) in PRESETS.items():
        check_memory(config, Settings().max_memory_gb)  # raises LimitReached naming the preset's batch size


def _compiler_modules_after(probe: str) -> list[str]:
    """Which of torch's compiler modules a fresh Python has imported after running `probe`."""
    import ast
    import subprocess
    import sys
    code = probe + "\nimport sys\nprint(sorted(m for m in ('torch._dynamo', 'triton') if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])  # the list printed last


def test_validating_every_architecture_imports_neither_dynamo_nor_triton():
    """The estimate runs in the server for every form: it must not pull in torch's compiler stack, which
    a forward pass on meta tensors did (about 150 MB of the server's memory, for good)."""
    assert _compiler_modules_after(
        "from lth_core.registry import DATASETS\n"
        "from lth_core.models.architectures import _BUILDERS\n"
        "from lth_core.resources import peak_bytes\n"
        "shapes = {'mlp1d': (40,), 'lenet300': DATASETS['mnist'].input_shape}\n"
        "for arch in _BUILDERS:\n"
        "    assert peak_bytes(arch, shapes.get(arch, DATASETS['cifar10'].input_shape), 60) > 0\n") == []


def test_the_run_pages_time_estimate_imports_neither_dynamo_nor_triton():
    """The Run page times a training step; building the optimizer for it imported torch._dynamo (and
    Triton) into the server for good. The page's cost function must time it in another process, and
    still return a real measurement."""
    assert _compiler_modules_after(
        "from ui.estimates import _cost\n"
        "cost = _cost('lenet300', 60, 'cpu', 1)\n"
        "assert cost.step_s > 0 and cost.eval_s_per_example > 0 and cost.steps_timed >= 3, cost\n") == []


def test_the_learn_pages_toy_network_imports_neither_dynamo_nor_triton():
    """The Learn page trains a toy network in the server; with torch.optim.Adam that imported torch._dynamo."""
    assert _compiler_modules_after(
        "from lth_core.analysis.inspection import toy_imp\n"
        "toy = toy_imp(seed=0, rate=0.5)\n"
        "assert toy['dense_acc'] > 0.5, toy['dense_acc']\n") == []


def test_a_worker_runs_under_a_hard_data_memory_limit(manager):
    jm = manager(workers=1, worker_memory_gb=3)
    run_id = jm.submit(LONG, owner="a")
    job = wait_for(lambda: jm.jobs[run_id].proc, 10, "the worker to start")
    limits = Path(f"/proc/{job.pid}/limits").read_text()
    line = next(row for row in limits.splitlines() if row.startswith("Max data size"))
    assert line.split()[3:5] == [str(3 * 10**9)] * 2, line


# --- fair share ---------------------------------------------------------------------------------
def test_a_free_worker_goes_to_the_owner_with_the_fewest_running_jobs(manager):
    jm = manager(workers=2, max_jobs_per_session=10)
    first, second = (jm.submit(LONG.replace(seed=s), owner="many-tabs") for s in (10, 11))
    wait_for(lambda: jm.running_count() == 2, 10, "the first two runs to start")
    more = [jm.submit(LONG.replace(seed=s), owner="many-tabs") for s in (1, 2, 3)]
    other = jm.submit(LONG.replace(seed=9), owner="another-session")  # asked last
    assert jm.queue_position(other) == 0   # next: its owner has no run going
    assert [jm.queue_position(r) for r in more] == [1, 2, 3]
    jm.cancel(first)  # one worker frees up: many-tabs still has one running, another-session none
    wait_for(lambda: jm.state(other) == "running", 10, "the other session's run to start")
    assert all(jm.state(r) == "queued" for r in more)


def test_runs_are_bounded_per_client_address_as_well_as_per_session(manager):
    jm = manager(workers=1, max_jobs_per_session=2, max_jobs_per_address=3)
    for tab in ("tab1", "tab2", "tab3"):
        jm.note_address(tab, "203.0.113.7")
    jm.submit(LONG, owner="tab1")
    jm.submit(LONG.replace(seed=1), owner="tab1")
    jm.submit(LONG.replace(seed=2), owner="tab2")
    with pytest.raises(LimitReached, match=r"your address already has 3 runs .* the limit is 3 per address"):
        jm.submit(LONG.replace(seed=3), owner="tab3")
    jm.submit(LONG.replace(seed=4), owner="elsewhere", address="198.51.100.2")  # another client: accepted
    jm.submit(LONG.replace(seed=5), owner="no-address")  # unknown address: the session limit only


def test_the_app_falls_back_to_the_session_limit_without_a_client_address():
    from ui.state import client_address
    assert client_address() is None  # no Streamlit session here: no address, no error


# --- disk ---------------------------------------------------------------------------------------
def test_no_run_is_queued_while_the_store_disk_is_below_its_floor(manager):
    jm = manager(workers=1, min_free_disk_gb=1e6)
    with pytest.raises(LimitReached, match=r"GB free in the run store, and new runs need at least 1e\+06 GB "
                                          r"\(\$LTH_MIN_FREE_DISK_GB\)"):
        jm.submit(LONG, owner="a")
    assert not jm.store.has_run(LONG.run_id()) and not jm.jobs
    jm.settings = replace(jm.settings, min_free_disk_gb=0)
    assert jm.submit(LONG, owner="a") == LONG.run_id()
