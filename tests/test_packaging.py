"""The package's declarations agree: pyproject.toml with requirements*.txt, the `lth` command with
`python -m lth_core`, `lth app` with the app's own Streamlit config, and the installed defaults of
the store, data and gallery with the checkout's (tests/test_install.py installs the real wheel)."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from lth_core.cli import serve as app_cli
from lth_core.cli.main import main
from lth_core.service import settings

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _requirements(path: Path) -> dict[str, Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {Requirement(line).name: Requirement(line) for line in lines if line}


def _declared(items: list[str]) -> dict[str, Requirement]:
    """name -> requirement, leaving out the project's own extras (lottery-ticket-explorer[ray,report])."""
    return {Requirement(i).name: Requirement(i) for i in items if Requirement(i).name != PROJECT["name"]}


def _same(a: dict[str, Requirement], b: dict[str, Requirement]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        assert (a[name].specifier, a[name].extras, a[name].marker) == (b[name].specifier, b[name].extras,
                                                                       b[name].marker), name


def test_requirements_txt_lists_exactly_the_runtime_dependencies():
    """scripts/setup.sh installs requirements.txt; pip install . the pyproject's: the same versions."""
    _same(_requirements(REPO / "requirements.txt"), _declared(PROJECT["dependencies"]))


def test_requirements_test_txt_lists_exactly_the_test_report_and_ray_extras():
    """The [test] extra is the test tools plus [ray] and [report], as requirements-test.txt is."""
    extras = PROJECT["optional-dependencies"]
    assert f"{PROJECT['name']}[ray,report]" in extras["test"]
    _same(_requirements(REPO / "requirements-test.txt"),
          _declared(extras["test"] + extras["ray"] + extras["report"]))


def test_the_lth_command_is_the_same_main_as_python_m_lth_core():
    module, _, function = PROJECT["scripts"]["lth"].partition(":")
    assert (module, function) == ("lth_core.cli.main", "main")
    assert "from lth_core.cli.main import main" in (REPO / "lth_core" / "__main__.py").read_text()


def test_a_checkout_keeps_its_defaults():
    """From a checkout: ./runs, ./data and the repository's gallery, as the tests and README assume."""
    assert settings.FROM_CHECKOUT and settings.APP_ROOT == REPO
    assert settings.default_locations() == {"store": Path("runs"), "data_dir": Path("data"), "gallery": None}


def test_an_installed_package_keeps_runs_and_data_in_the_users_folders(monkeypatch, tmp_path):
    """Installed from a wheel, nothing is written where the package lies: runs in the user's data
    folder, datasets in the user's cache folder (XDG on Linux), the gallery the wheel ships."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    where = settings.default_locations(from_checkout=False)
    assert where["store"] == tmp_path / "share" / "lottery-ticket-explorer" / "runs"
    assert where["data_dir"] == tmp_path / "cache" / "lottery-ticket-explorer" / "data"
    assert where["gallery"] == settings.APP_ROOT / "gallery"


def test_lth_app_serves_the_apps_file_with_its_config_on_127_0_0_1_and_the_users_flags_last():
    """Streamlit reads config.toml only from the working directory, so its guards come as flags;
    the user's flags come last, where Streamlit lets them win."""
    cmd = app_cli.command(["--server.port", "8502"])
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(REPO / "ui" / "server.py")]
    assert "--client.showErrorDetails=none" in cmd and "--server.enableXsrfProtection=true" in cmd
    assert "--runner.postScriptGC=false" in cmd  # no full collection after every page run (docs/PERFORMANCE.md)
    assert cmd.index("--server.address=127.0.0.1") < cmd.index("--server.port") and cmd[-1] == "8502"


def test_every_setting_of_the_apps_config_becomes_a_flag_streamlit_knows():
    """A flag Streamlit does not know would stop `lth app`; its --help lists every flag it takes."""
    known = subprocess.run([sys.executable, "-m", "streamlit", "run", "--help"], capture_output=True, text=True,
                           check=True).stdout
    flags = app_cli.config_flags(REPO / ".streamlit" / "config.toml")
    assert len(flags) >= 5
    assert [f for f in flags if f.split("=")[0] not in known] == []


def test_lth_app_help_is_its_own(capsys):
    assert main(["app", "--help"]) == 0
    assert "usage: lth app [STREAMLIT FLAGS ...]" in capsys.readouterr().out


@pytest.mark.parametrize("name, value", [("LTH_WORKERS", "many"), ("LTH_EXECUTOR", "warp")])
def test_lth_app_refuses_a_bad_variable_in_one_line_before_starting(monkeypatch, capsys, name, value):
    monkeypatch.setenv(name, value)
    assert main(["app"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: ${name}={value!r} is not allowed; allowed: ") and err.count("\n") == 1
