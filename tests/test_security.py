"""Security gates on the source: no pickle from disk, no user text as a path, XSRF protection on.

The store and the data cache are read without unpickling (safetensors, checksummed JSON, torch.load
with weights_only=True); a pickle loaded from a store someone else wrote would run their code. The
only paths the app opens come from the environment, the command line or a validated run id. The
server keeps Streamlit's XSRF protection. These are static checks of the source (AST, not grep,
so comments and strings do not count), each with a planted bad example proving the check bites.
"""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted([*REPO.glob("lth_core/**/*.py"), *REPO.glob("ui/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py",
                  *REPO.glob("scripts/*.py")])
APP_SOURCES = [p for p in SOURCES if p.parts[-2] in ("ui", "pages") or p.name == "app.py"]


def _dotted(node) -> str:
    """'torch.load' for the call target torch.load, '' for anything not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _kw(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value.value if isinstance(k.value, ast.Constant) else "<expr>"
    return None


UNPICKLERS = {"pickle.load", "pickle.loads", "pickle.Unpickler", "cPickle.load", "dill.load", "dill.loads",
              "joblib.load", "shelve.open", "marshal.load", "marshal.loads", "pd.read_pickle", "pandas.read_pickle",
              "cloudpickle.load", "cloudpickle.loads", "yaml.unsafe_load", "eval", "exec"}


def unsafe_loads(source: str, filename: str = "<src>") -> list[str]:
    """Calls that can execute code from data: unpicklers, torch.load without weights_only=True,
    np.load(allow_pickle=True), yaml.load without a safe loader, st.cache_* persisted to disk (pickle)."""
    bad = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{filename}:{node.lineno} {name}"
        if name in UNPICKLERS or name.endswith(".read_pickle"):
            bad.append(where)
        elif name.endswith("torch.load") or name == "torch.serialization.load":
            if _kw(node, "weights_only") is not True:
                bad.append(f"{where} without weights_only=True")
        elif name in ("np.load", "numpy.load") and _kw(node, "allow_pickle") not in (None, False):
            bad.append(f"{where} with allow_pickle")
        elif name == "yaml.load" and "Safe" not in str(ast.unparse(node)):
            bad.append(f"{where} without a safe loader")
        elif re.fullmatch(r"(st|streamlit)\.cache(_data)?", name) and _kw(node, "persist") not in (None, False):
            bad.append(f"{where}(persist=...) pickles results to disk")
    return bad


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_nothing_loads_a_pickle_from_disk(path):
    """No module may unpickle data (or eval it): a crafted store or cache file would run code."""
    assert unsafe_loads(path.read_text(), str(path.relative_to(REPO))) == []


@pytest.mark.parametrize("snippet", [
    "import pickle\npickle.load(open('x', 'rb'))",
    "import torch\ntorch.load('x.pt')",
    "import torch\ntorch.load('x.pt', weights_only=False)",
    "import numpy as np\nnp.load('x.npy', allow_pickle=True)",
    "import pandas as pd\npd.read_pickle('x')",
    "import streamlit as st\n@st.cache_data(persist='disk')\ndef f(): pass",
    "eval(user_text)",
])
def test_the_pickle_check_catches_planted_examples(snippet):
    """The gate above is not vacuous: each of these must be caught."""
    assert unsafe_loads(snippet) != []


def test_the_pickle_check_accepts_safe_loads():
    assert unsafe_loads("import torch, numpy as np\ntorch.load('x', weights_only=True)\nnp.load('y')") == []


# --- nothing a user types becomes a file path -------------------------------------------
FS_CALLS = re.compile(r"^(open|io\.open|Path|pathlib\.Path|os\.path\.join|os\.(remove|unlink|rmdir|makedirs|mkdir|"
                      r"rename|replace|stat|walk|listdir|scandir)|shutil\.\w+|.*\.(unlink|rmdir|rmtree|write_text|"
                      r"write_bytes|read_text|read_bytes|mkdir|glob|rglob|open))$")
# where an app-side path may come from: the code's own location, the environment, the store (whose
# run_dir validates the run id), or os.walk results below such a folder
# (ui/data.py walks the trial folders of run_dir(run_id): `trial` and `root, f` come from that walk)
TRUSTED = ("__file__", "os.environ", "run_dir(", "store_root()", "gallery_root()", "APP", "os.path.join(root, f)",
           "os.walk(trial)", "store.root",
           "LATENCY_JSON")  # ui/beyond.py: the benchmark's JSON beside the code, Path(__file__)-relative


def user_paths(source: str, filename: str = "<src>") -> list[str]:
    """File-system calls whose argument is built from something other than a trusted origin."""
    bad = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call) and FS_CALLS.match(_dotted(node.func) or ""):
            text = ast.unparse(node)
            if node.args and not any(t in text for t in TRUSTED):
                bad.append(f"{filename}:{node.lineno} {text[:100]}")
            elif not node.args and isinstance(node.func, ast.Attribute) and not any(t in text for t in TRUSTED):
                bad.append(f"{filename}:{node.lineno} {text[:100]}")
    return bad


@pytest.mark.parametrize("path", APP_SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_app_opens_only_paths_from_the_environment_or_validated_run_ids(path):
    """A query parameter or form value never reaches open()/Path(): only env, __file__ and run_dir(run_id)."""
    assert user_paths(path.read_text(), str(path.relative_to(REPO))) == []


@pytest.mark.parametrize("snippet", ["open(st.query_params['file'])", "Path(value).read_text()",
                                     "shutil.rmtree(st.session_state['dir'])"])
def test_the_path_check_catches_planted_examples(snippet):
    assert user_paths(snippet) != []


def test_store_root_comes_only_from_env_or_flags():
    """The app's store is $LTH_STORE (or ./runs); the page never builds a Store from what a user typed."""
    stores = []
    for path in APP_SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _dotted(node.func) == "Store":
                stores.append(f"{path.relative_to(REPO)}: {ast.unparse(node)}")
    allowed = re.compile(r"Store\(root[,)]")
    assert stores and all(allowed.search(s) for s in stores), stores
    state = (REPO / "ui" / "state.py").read_text()  # the store and gallery come from the Settings of the environment
    assert "Settings.from_env()" in state and "settings().store" in state and "settings().gallery" in state
    settings = (REPO / "lth_core" / "service" / "settings.py").read_text()
    assert '("LTH_STORE", "store")' in settings and '("LTH_GALLERY", "gallery")' in settings


# --- XSRF ------------------------------------------------------------------------------------
def test_streamlit_config_keeps_xsrf_protection_on():
    """The Start and Cancel buttons change server state: cross-site requests must be refused."""
    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    server = cfg.get("server", {})
    assert server.get("enableXsrfProtection") is True
    assert server.get("enableCORS", True) is True


def test_no_launcher_turns_xsrf_or_cors_off():
    """Neither a script nor the README starts the server with the protection switched off."""
    offenders = []
    for path in [*REPO.glob("scripts/*"), REPO / "README.md", *REPO.glob("docs/*.md"), *REPO.glob(".ci/*")]:
        if path.is_file():
            text = path.read_text(errors="replace")
            if re.search(r"enable(XsrfProtection|CORS)[ =]+(false|0)", text, re.IGNORECASE):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
