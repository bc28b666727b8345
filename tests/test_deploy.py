"""The systemd unit in deploy/ is one systemd accepts, and it runs the app as README and
docs/RELIABILITY.md say a server should: restarted on failure, on 127.0.0.1 only, its store set.
Under CI=true a missing systemd-analyze (scripts/setup.sh --test installs it on Debian) fails."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "lottery-ticket-explorer.service"


def _verify(unit: Path) -> subprocess.CompletedProcess:
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing (bash scripts/setup.sh --test installs it)")
        pytest.skip("systemd-analyze is missing (bash scripts/setup.sh --test installs it)")
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)


def _settings(unit: Path) -> list[tuple[str, str]]:
    lines = (line.strip() for line in unit.read_text().splitlines())
    return [tuple(line.split("=", 1)) for line in lines if "=" in line and not line.startswith("#")]


def test_systemd_analyze_verify_finds_nothing_to_say():
    """verify exits 0 even for a setting it ignores, so a clean unit is one with no output at all."""
    proc = _verify(UNIT)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_verify_would_catch_a_mistyped_setting(tmp_path):
    """The check above can fail: a typo in Restart= is reported."""
    bad = tmp_path / UNIT.name
    bad.write_text(UNIT.read_text().replace("Restart=on-failure", "Restart=on-failur"))
    assert "on-failur" in _verify(bad).stderr


def test_the_unit_restarts_the_app_on_failure_bound_to_127_0_0_1_with_its_store_set():
    settings = _settings(UNIT)
    assert ("Restart", "on-failure") in settings
    environment = [v for k, v in settings if k == "Environment"]
    assert {"LTH_STORE", "LTH_DATA_DIR"} <= {v.split("=")[0] for v in environment if v.split("=", 1)[1].startswith("/")}
    (start,) = [v for k, v in settings if k == "ExecStart"]
    assert " lth app " in start and "--server.address 127.0.0.1" in start
