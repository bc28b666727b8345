"""Your own model: a factory `fn(seed: int) -> torch.nn.Module`, named by 'module:function'.

A run's networks may train in worker processes (or on other machines), which rebuild the model
from the config alone, so the factory must be importable by name: a function at the top level of
a .py module (a script run as `python my_script.py` counts: its folder is on sys.path). The name
carries a hash of the model's identity (its code, its architecture, its weights from seed 0 and its
prunable weights), so a changed model never reuses stored results: building it where the hash no
longer matches raises CustomModelError. Prunable weights: those of every Linear and Conv layer
(lth_core.models.architectures.prunable_layers), unless the factory sets
`model.prunable_weights = ("conv1.weight", ...)` (state_dict names) on the module it returns.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import sys
from pathlib import Path

import torch
from torch import nn

from lth_core.registry import CUSTOM_MODEL, custom_model

PRUNABLE_ATTR = "prunable_weights"
_CHECKED: set = set()  # names whose hash this process has verified (the check builds the model once more)


class CustomModelError(ValueError):
    """A model factory that cannot be named, imported or built, or that changed since it was named."""


def reference(factory) -> str:
    """'module:function' of a top-level function importable by that name ('__main__' resolved to its file)."""
    if isinstance(factory, str):
        return factory
    module, qualname = getattr(factory, "__module__", None), getattr(factory, "__qualname__", "")
    if not callable(factory) or module is None or "<" in qualname:
        raise CustomModelError(f"{factory!r} is not a named function; give a function defined at the top level of "
                               "a .py module (def my_model(seed): ...), or its 'module:function' name")
    if module == "__main__":
        path = getattr(sys.modules["__main__"], "__file__", None)
        if path is None or str(Path(path).resolve().parent) not in {str(Path(p or ".").resolve()) for p in sys.path}:
            raise CustomModelError("a model factory defined in a notebook or an interactive session cannot be "
                                   "imported by worker processes or the app; put it in a .py module and import it")
        module = Path(path).stem
    return f"{module}:{qualname}"


def resolve(ref: str):
    """The factory a 'module:function' reference names."""
    module, _, qualname = ref.partition(":")
    try:
        target = importlib.import_module(module)  # the user's code, by the name the config records
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise CustomModelError(f"cannot import the model factory {ref!r} ({type(exc).__name__}: {exc}); it must be "
                               "importable here: run from the folder that holds its module, or install it") from None
    return target


def _call(factory, ref: str, seed: int) -> nn.Module:
    model = factory(int(seed))
    if not isinstance(model, nn.Module):
        raise CustomModelError(f"{ref}({seed}) returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _source(obj) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):  # defined where no source is kept (a compiled module): its structure still counts
        return ""


def fingerprint(factory, model: nn.Module) -> str:
    """16 hex digits of sha256 over the factory's source and that of the model's own (non-torch) module classes
    (their forward code), the module's printed structure, its prunable names and every tensor of its
    state_dict (name, dtype, shape, values)."""
    own = sorted({type(m) for m in model.modules() if not type(m).__module__.startswith("torch.")}, key=repr)
    h = hashlib.sha256("\n".join([_source(factory), *map(_source, own), repr(model)]).encode())
    h.update(repr(getattr(model, PRUNABLE_ATTR, None)).encode())
    for name, t in model.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def arch_name(factory) -> str:
    """The architecture name of a factory (or its 'module:function'), with its identity hash. The factory must
    build the same weights from the same seed (seed it: torch.Generator().manual_seed(seed))."""
    ref = reference(factory)
    fn = resolve(ref) if isinstance(factory, str) else factory
    first, again = fingerprint(fn, _call(fn, ref, 0)), fingerprint(fn, _call(fn, ref, 0))
    if first != again:
        raise CustomModelError(f"{ref}(0) built different weights twice; a factory must draw its weights from its "
                               "seed, e.g. with torch.manual_seed(seed) first")
    return f"{CUSTOM_MODEL}{ref}@{first}"


def build(arch: str, seed: int) -> nn.Module:
    """The model of a CUSTOM_MODEL name built from `seed`; CustomModelError when the factory now builds a
    different model than the one the name was made from."""
    module, qualname, digest = custom_model(arch)
    ref = f"{module}:{qualname}"
    factory = resolve(ref)
    if arch not in _CHECKED:
        now = fingerprint(factory, _call(factory, ref, 0))
        if now != digest:
            raise CustomModelError(f"the model {ref} has changed since this run was made (identity {digest}, now "
                                   f"{now}); its results belong to the old model: start a new run")
        _CHECKED.add(arch)
    return _call(factory, ref, seed)
