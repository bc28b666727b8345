"""The package installs and runs where a user has it, and the set-up works where apt does not exist.

1. The wheel (built with pip from a copy of the checkout) goes into a truly clean virtual environment,
   its dependencies (torch with CUDA's libraries, about 6 GB) from the package index as a user gets
   them: a minute or two where the index is near, so no system site-packages are borrowed (`-s`
   prints the times). Then, from a folder outside the repository: `lth --help`, `lth run --preset
   quick`, the Python API, the shipped gallery and `lth app`, each checked to run the venv's code.
2. scripts/setup.sh runs with apt-get and dpkg off PATH, Debian's Fashion-MNIST hidden (a mount
   namespace) and no network but loopback (a network namespace): it must say it skips apt and get
   Fashion-MNIST through torchvision's own FashionMNIST download, from a local http.server serving
   copies of the Debian files, which stands in for torchvision's mirror. Its venv has the system's
   site-packages, so its `pip install -r requirements.txt` needs no network (part 1 covers pip).

Under CI=true a missing tool (unshare, ip, root, Debian's Fashion-MNIST) is a failure, not a skip.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

from lth_core.data import datasets

REPO = Path(__file__).resolve().parents[1]
TOP_NOT_COPIED = {".git", "runs", "data", "build", ".hypothesis", ".pytest_cache", ".benchmarks", "tmp", ".whl", ".gl"}
MIRROR_PORT = 8000  # inside the test's own network namespace: no other server can hold it


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def _env(**extra: str) -> dict[str, str]:
    """This environment without the checkout's traces (PYTHONPATH, a venv, LTH_* settings)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LTH_", "XDG_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **extra}


def _run(cmd, timeout: float, **kw) -> subprocess.CompletedProcess:
    """Run cmd in its own process group, killed whole at the timeout (no server of it is left)."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                          **kw) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{(out + err)[-4000:]}"
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a copy of the checkout (a build in place would leave build/ behind)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    def ignore(folder, names):  # lth_core/data is code: only the checkout's own data/ and runs/ stay behind
        top = TOP_NOT_COPIED if Path(folder) == REPO else set()
        return {n for n in names if n in top or n == "__pycache__" or n.endswith(".egg-info")}

    shutil.copytree(REPO, src, ignore=ignore, symlinks=True)
    start = time.monotonic()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(root / "dist"), str(src)], 600)
    print(f"\nwheel built in {time.monotonic() - start:.1f} s")
    (built,) = (root / "dist").glob("lottery_ticket_explorer-*.whl")
    return built


@pytest.fixture
def venv(tmp_path):
    """A fresh venv's folder, removed afterwards: with torch and CUDA's libraries it holds about 6 GB."""
    yield tmp_path / "venv"
    shutil.rmtree(tmp_path / "venv", ignore_errors=True)


def _readme_python_example() -> str:
    """The first python code block of README.md's "Python API" section."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Python API"):]
    start = section.index("```python\n") + len("```python\n")
    return section[start:section.index("```", start)]


def test_the_wheel_installs_into_a_clean_venv_and_runs_from_anywhere(wheel, venv, tmp_path):
    """pip install <wheel> in a fresh venv; lth, the API and the app then work from any folder."""
    outside, home = tmp_path / "elsewhere", tmp_path / "home"
    outside.mkdir(), home.mkdir()
    _run([sys.executable, "-m", "venv", str(venv)], 120)
    py, lth = venv / "bin" / "python", venv / "bin" / "lth"
    start = time.monotonic()
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], 900, env=_env())
    print(f"clean venv: pip install of the wheel and its dependencies in {time.monotonic() - start:.1f} s")
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], 60,
                     env=_env()).stdout.strip())
    store, data = tmp_path / "store", tmp_path / "data"
    env = _env(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", LTH_STORE=str(store),
               LTH_DATA_DIR=str(data), LTH_WARM_WORKERS="0")

    helped = _run([str(lth), "--help"], 60, cwd=outside, env=env).stdout
    assert all(c in helped for c in ("run", "sweep", "report", "app"))
    start = time.monotonic()
    ran = json.loads(_run([str(lth), "run", "--preset", "quick", "--json"], 600, cwd=outside, env=env).stdout)
    print(f"lth run --preset quick from the venv: {time.monotonic() - start:.1f} s")
    run_id = ran["run_id"]
    assert (store / run_id / "config.json").is_file()

    gallery_run = sorted(p.name for p in (REPO / "gallery").iterdir() if (p / "config.json").is_file())[0]
    probe = ("import json, lth_core; from lth_core.service.settings import Settings, FROM_CHECKOUT; "
             f"r = lth_core.run(preset='quick'); g = lth_core.open({gallery_run!r}); "
             "s = Settings.from_env({}); "
             "print(json.dumps({'file': lth_core.__file__, 'checkout': FROM_CHECKOUT, 'run': r.run_id, "
             "'rows': len(r.summary()), 'gallery': str(g.path), 'store': str(s.store), 'data': str(s.data_dir)}))")
    seen = json.loads(_run([str(py), "-c", probe], 300, cwd=outside, env=env).stdout.strip().splitlines()[-1])
    assert Path(seen["file"]).is_relative_to(site) and not Path(seen["file"]).is_relative_to(REPO)
    assert seen["checkout"] is False
    assert seen["run"] == run_id and seen["rows"] > 0  # the CLI's run, served from the same store
    assert Path(seen["gallery"]).is_relative_to(site / "lth_app" / "gallery")  # the gallery the wheel ships
    assert seen["store"] == str(home / ".local" / "share" / "lottery-ticket-explorer" / "runs")  # no LTH_STORE
    assert seen["data"] == str(home / ".cache" / "lottery-ticket-explorer" / "data")

    # the README's Python API example, verbatim, from outside the checkout
    example = _readme_python_example()
    start = time.monotonic()
    _run([str(py), "-c", example], 600, cwd=outside, env=env)
    print(f"the README's Python example in the venv: {time.monotonic() - start:.1f} s")
    assert (outside / "ticket-L3" / "ticket.safetensors").is_file() and (outside / "ticket-L3" / "ticket.json").is_file()

    app_py = site / "lth_app" / "app.py"
    rendered = _run([str(py), "-c", "import sys; from streamlit.testing.v1 import AppTest; "
                     "at = AppTest.from_file(sys.argv[1], default_timeout=120).run(); "
                     "assert not at.exception, at.exception; print(len(at.markdown))", str(app_py)],
                    300, cwd=outside, env=env)
    assert int(rendered.stdout.strip().splitlines()[-1]) > 0  # the installed home page drew itself

    port = _free_port()
    app = subprocess.Popen([str(lth), "app", "--server.port", str(port), "--server.headless", "true"],
                           cwd=outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           start_new_session=True)
    try:
        health = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and app.poll() is None and health != b"ok":
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).read()
            except OSError:
                time.sleep(1)
        assert health == b"ok", f"lth app did not serve on 127.0.0.1:{port}"
        cmdline = Path(f"/proc/{app.pid}/cmdline").read_bytes().split(b"\0")
        # the same process, now Streamlit, on the installed app (served through ui/server.py's st.App)
        assert str(site / "lth_app" / "ui" / "server.py").encode() in cmdline
        assert b"--client.showErrorDetails=none" in cmdline
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        try:
            app.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, signal.SIGKILL)
            app.wait(30)


MIRROR_HOOK = '''"""tests/test_install.py's stand-in for the network: torchvision's FashionMNIST downloads from a local
copy (its mirror list and the copy's checksums); the download code itself is torchvision's own."""
import importlib.abc
import importlib.util
import sys

MIRROR, MD5 = {mirror!r}, {md5!r}


class _Mirror(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "torchvision.datasets.mnist":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            module.FashionMNIST.mirrors = [MIRROR]
            module.FashionMNIST.resources = [(f, MD5[f]) for f, _ in module.FashionMNIST.resources]
        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Mirror())
'''


def _setup_without_apt(tmp_path: Path, md5: dict[str, str] | None) -> tuple[subprocess.CompletedProcess, Path]:
    """scripts/setup.sh with apt-get and dpkg off PATH, Debian's Fashion-MNIST hidden and only loopback
    networking; with md5 ({file: checksum} of copies in tmp_path/mirror) a local server stands in for
    torchvision's mirror. Returns the finished process and the data folder it was given."""
    _need(shutil.which("unshare") is not None and shutil.which("ip") is not None, "unshare or ip is missing")
    _need(os.geteuid() == 0, "mount and network namespaces need root here")
    mirror, bin_dir, venv, data = tmp_path / "mirror", tmp_path / "bin", tmp_path / "venv", tmp_path / "data"
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):  # every command but apt's and dpkg's
        for tool in Path(folder).iterdir():
            if not tool.name.startswith(("apt", "dpkg")) and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], 120)
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     60).stdout.strip())
    inner = f"set -e; ip link set lo up; mount -t tmpfs none {datasets.DEBIAN_FASHION_MNIST.parent}; "
    if md5 is not None:
        (site / "_lth_test_mirror.py").write_text(MIRROR_HOOK.format(mirror=f"http://127.0.0.1:{MIRROR_PORT}/",
                                                                     md5=md5))
        (site / "_lth_test_mirror.pth").write_text("import _lth_test_mirror\n")
        inner += (f"python3 -m http.server --bind 127.0.0.1 {MIRROR_PORT} --directory {mirror} "
                  f"2> {tmp_path / 'http.log'} & server=$!; trap 'kill $server' EXIT; "
                  f"until python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {MIRROR_PORT}))' "
                  "2>/dev/null; do sleep 0.2; done; ")
    env = _env(PATH=f"{venv / 'bin'}{os.pathsep}{bin_dir}", LTH_DATA_DIR=str(data))
    assert shutil.which("apt-get", path=env["PATH"]) is None and shutil.which("dpkg", path=env["PATH"]) is None
    start = time.monotonic()
    proc = _run(["unshare", "--net", "--mount", "sh", "-c", inner + f"bash {REPO / 'scripts' / 'setup.sh'}"], 900,
                cwd=tmp_path, env=env)
    print(f"\nsetup.sh without apt ({'a local mirror' if md5 else 'no mirror'}): {time.monotonic() - start:.1f} s")
    assert "apt-get/dpkg not found (not Debian): skipping the system packages" in proc.stderr
    return proc, data


def test_setup_without_apt_gets_fashion_mnist_through_torchvisions_download(tmp_path, fashion_mnist):
    """No apt, no Debian dataset, no network: setup.sh says so and torchvision downloads the data."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    md5 = {}
    for stem in datasets.IDX_FILES.values():
        copy = mirror / f"{stem}.gz"
        shutil.copyfile(datasets.DEBIAN_FASHION_MNIST / copy.name, copy)
        md5[copy.name] = hashlib.md5(copy.read_bytes()).hexdigest()
    _, data = _setup_without_apt(tmp_path, md5)
    log = (tmp_path / "http.log").read_text()
    assert all(f'"GET /{name} HTTP/1.1" 200' in log for name in md5), log  # fetched by torchvision, not found
    assert sorted(p.name for p in (data / "fashion-mnist").rglob("*.gz")) == sorted(md5)
    fetched = datasets.load("fashion-mnist", data_dir=data)  # from the cache setup.sh parsed
    assert datasets.availability("fashion-mnist", data) == "cached"
    assert torch.equal(fetched.x_test, fashion_mnist.x_test) and torch.equal(fetched.y_train, fashion_mnist.y_train)


def test_setup_without_apt_or_network_warns_in_one_line_and_still_succeeds(tmp_path):
    """Offline the app still runs on MNIST-1D: the failed download is one warning line, no traceback."""
    proc, data = _setup_without_apt(tmp_path, md5=None)
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("setup: warning: ")]
    assert len(warnings) == 1 and "Fashion-MNIST is not on disk and could not be downloaded" in warnings[0]
    assert "Traceback" not in proc.stderr and not (data / "cache").exists()
