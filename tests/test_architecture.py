"""The layers of lth_core (docs/ARCHITECTURE.md) hold: nothing imports upward, the core is pure, the
engine never imports the app, and an import hidden inside a function says why it is there."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# bottom to top; a module may import its own layer and the layers below it (docs/ARCHITECTURE.md)
LAYERS = [
    ("core", {"registry", "arms", "fields", "seeds", "layout", "plan", "config", "presets", "atlas"}),
    ("store", {"store", "beyond_examples"}),
    ("engine", {"pruning", "models", "data", "training", "resources", "lottery", "estimate"}),
    ("execution", {"execution"}),
    ("analysis", {"analysis"}),
    ("charts", {"charts"}),
    ("report", {"report"}),
    ("service", {"service"}),
    ("cli", {"cli", "api", "__main__"}),  # api: the Python API (lth_core.run, lth_core.open), beside the CLI
]
CORE_STDLIB = {"__future__", "dataclasses", "hashlib", "json", "math", "re", "typing"}  # no torch, os, I/O
MAX_INNER_IMPORTS = 10


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "lth_core").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _layer(module: str) -> int | None:
    """The layer index of an lth_core module (None: the package itself, lth_core/__init__)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return next(i for i, (_, names) in enumerate(LAYERS) if parts[1] in names)


def _imports(path: Path):
    """(line, imported module names, inside a function?) for every import statement of a file."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        yield node.lineno, names, id(node) not in top


def _own(name: str, modules: dict) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


MODULES = _modules()


def test_every_module_has_a_layer():
    """A new package must be placed in a layer before it can be imported from anywhere."""
    assert all(_layer(m) is not None for m in MODULES if m != "lth_core"), \
        [m for m in MODULES if m != "lth_core" and _layer(m) is None]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_imports_upward(module):
    """Each import goes to the module's own layer or below; lth_core never imports the app or Streamlit."""
    here = _layer(module)
    upward = []
    for line, names, _ in _imports(MODULES[module]):
        for name in names:
            root = name.split(".")[0]
            assert root not in ("ui", "pages", "streamlit", "app"), f"{module}:{line} imports {name}"
            target = _own(name, MODULES) if root == "lth_core" else None
            if target and here is not None and (_layer(target) or 0) > here:
                upward.append(f"{module}:{line} -> {target}")
    assert not upward, upward


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) == 0))
def test_core_is_pure(module):
    """The core (config, fields, arms, plan, layout...) imports no torch, no os and no I/O library."""
    for line, names, _ in _imports(MODULES[module]):
        for name in names:
            root = name.split(".")[0]
            assert root == "lth_core" or root in CORE_STDLIB, f"{module}:{line} imports {name}"


def test_imports_inside_functions_are_few_and_say_why():
    """An own-module import hidden in a function (it hides a dependency from the reader) is allowed only
    with a reason on its line or the line above, and at most MAX_INNER_IMPORTS of them."""
    inner, silent = [], []
    for module, path in MODULES.items():
        lines = path.read_text().splitlines()
        for line, names, in_function in _imports(path):
            if in_function and any(n.split(".")[0] == "lth_core" for n in names):
                inner.append(f"{module}:{line}")
                if "#" not in lines[line - 1] and not lines[line - 2].strip().startswith("#"):
                    silent.append(f"{module}:{line}")
    assert len(inner) <= MAX_INNER_IMPORTS, inner
    assert not silent, silent
