"""Your own data: train / validation / test tensors, saved once into the data folder by content hash.

lth_core.run(data=...) takes each split as a pair of tensors (inputs, integer labels) or a torch
Dataset of (input, label) pairs, and saves them as <data dir>/custom/<hash>.safetensors, so a worker
process (or the app) reads them by the dataset's name (registry.CUSTOM_DATA), which carries the
hash, the example shape, the classes and the split sizes. Inputs are used as given (float32, no
standardisation): prepare them as your model expects.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file
from safetensors.torch import save as st_save

from lth_core.registry import CUSTOM_DATA, custom_data
from lth_core.store.atomic import atomic_write_bytes

SPLITS = ("train", "val", "test")


class CustomDataError(ValueError):
    """Data that cannot be used: a missing split, mismatched shapes, labels that are not class indices."""


def _tensors(split: str, value) -> tuple[torch.Tensor, torch.Tensor]:
    """(x float32, y int64) of one split given as a pair of tensors or a Dataset of (x, y) pairs."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        x, y = value
    elif isinstance(value, torch.utils.data.Dataset) and hasattr(value, "__len__"):
        pairs = [value[i] for i in range(len(value))]
        x = torch.stack([torch.as_tensor(p[0]) for p in pairs])
        y = torch.as_tensor([int(p[1]) for p in pairs])
    else:
        raise CustomDataError(f"data[{split!r}] must be (inputs, labels) tensors or a torch Dataset of (input, label) "
                              f"pairs, got {type(value).__name__}")
    x, y = torch.as_tensor(x).float().contiguous(), torch.as_tensor(y)
    if y.dtype.is_floating_point or y.dim() != 1 or len(y) != len(x) or len(x) == 0:
        raise CustomDataError(f"data[{split!r}]: labels must be one integer class index per input; got labels of "
                              f"shape {tuple(y.shape)} ({y.dtype}) for {len(x)} inputs")
    return x, y.long().contiguous()


def dataset_name(splits: dict) -> tuple[str, dict[str, torch.Tensor]]:
    """The CUSTOM_DATA name of `splits` ({'train', 'val', 'test'} -> a split) and its tensors to save."""
    if not isinstance(splits, dict) or set(splits) != set(SPLITS):
        got = ", ".join(map(str, splits)) if isinstance(splits, dict) else type(splits).__name__
        raise CustomDataError(f"data must be a dict with exactly the splits {', '.join(SPLITS)}; got {got}")
    arrays = {}
    for split in SPLITS:
        arrays[f"x_{split}"], arrays[f"y_{split}"] = _tensors(split, splits[split])
    shapes = {tuple(arrays[f"x_{s}"].shape[1:]) for s in SPLITS}
    if len(shapes) != 1 or not next(iter(shapes)):
        raise CustomDataError(f"every split's inputs must have one shape per example; got {sorted(shapes)}")
    labels = torch.cat([arrays[f"y_{s}"] for s in SPLITS])
    if int(labels.min()) < 0:
        raise CustomDataError("labels must be class indices 0, 1, 2, ...; found a negative one")
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(f"{k}:{arrays[k].dtype}:{tuple(arrays[k].shape)}".encode())
        h.update(arrays[k].numpy().tobytes())
    shape = "x".join(map(str, next(iter(shapes))))
    sizes = ",".join(str(len(arrays[f"y_{s}"])) for s in SPLITS)
    return f"{CUSTOM_DATA}{h.hexdigest()[:16]}:{shape}:{int(labels.max()) + 1}:{sizes}", arrays


def path(name: str, data_dir: Path) -> Path:
    """Where the tensors of a CUSTOM_DATA name live."""
    return Path(data_dir) / "custom" / f"{name[len(CUSTOM_DATA):][:16]}.safetensors"


def save(splits: dict, data_dir: Path) -> str:
    """Save `splits` into the data folder (once: the file is named by the content's hash); returns the name."""
    name, arrays = dataset_name(splits)
    target = path(name, data_dir)
    if not target.is_file():
        atomic_write_bytes(target, st_save(arrays))
    return name


def read(name: str, data_dir: Path) -> dict[str, torch.Tensor]:
    """The tensors saved for a CUSTOM_DATA name: x_train, y_train, x_val, y_val, x_test, y_test."""
    info, target = custom_data(name), path(name, data_dir)
    if not target.is_file():
        raise FileNotFoundError(f"{info.title}: {target} is missing; it is written by lth_core.run(data=...) into "
                                f"the data folder, and read from the same folder")
    return load_file(str(target))
