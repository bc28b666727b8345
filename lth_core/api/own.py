"""Bring your own model and data to lth_core.run: turn them into a config's names, and check they fit.

model: a factory fn(seed) -> torch.nn.Module at the top level of an importable module, or its
'module:function' name (lth_core.models.custom). data: {'train', 'val', 'test'}, each (inputs, labels)
tensors or a torch Dataset (lth_core.data.custom), or a built-in dataset's name. The same IMP, scheduler,
store, statistics and charts then run on them.
"""
from __future__ import annotations

from pathlib import Path

import torch

from lth_core.data import custom as custom_data
from lth_core.data.datasets import load
from lth_core.models import custom as custom_model
from lth_core.models.architectures import build
from lth_core.registry import get_dataset_info


def names(model, data, data_dir: Path) -> dict:
    """{'arch': ..., 'dataset': ...} for the given model and data (either may be None: the config's own)."""
    out = {}
    if model is not None:
        out["arch"] = custom_model.arch_name(model)
    if data is not None:
        out["dataset"] = data if isinstance(data, str) else custom_data.save(data, data_dir)
    return out


def check_fits(arch: str, dataset: str, data_dir: Path) -> None:
    """The model takes two training examples and answers with one score per class; CustomModelError if not."""
    x = load(dataset, data_dir).x_train[:2]
    classes = get_dataset_info(dataset).num_classes
    model = build(arch, 0).eval()
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:  # whatever the user's forward raises, said with the shapes that caused it
        raise custom_model.CustomModelError(f"the model does not take the data's inputs of shape {tuple(x.shape)}: "
                                            f"{type(exc).__name__}: {exc}") from None
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise custom_model.CustomModelError(f"the model must return one score per class, shape (batch, {classes}); "
                                            f"for inputs of shape {tuple(x.shape)} it returned {got}")
