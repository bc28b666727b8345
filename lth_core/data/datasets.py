"""Dataset registry -> in-memory tensors (train / validation / test).

Every dataset is parsed once into tensors and cached at `<data_dir>/cache/<name>.pt` (loaded
with weights_only=True); batches are drawn by index, with no per-sample PIL pipeline.
Files come from, in order: <data_dir>/<name> (--data-dir or $LTH_DATA_DIR; default ./data);
for fashion-mnist /usr/share/datasets/fashion-mnist (Debian); torchvision's download;
mnist1d is generated locally by the mnist1d package.
"""
from __future__ import annotations

import gzip
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lth_core.data import custom
from lth_core.store.atomic import atomic_torch_save
from lth_core.registry import custom_data, get_dataset_info

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
SPLIT_SEED = 20190306  # fixed: the validation split is part of the dataset, not of a trial
TRAIN_EVAL_SEED = 20190307  # fixed: the training-accuracy subset is part of the dataset too
TRAIN_EVAL_EXAMPLES = 5000  # training examples measured at each evaluation (eval mode)
CACHE_VERSION = 1
IDX_FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
             "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"


class DataUnavailable(RuntimeError):
    """A dataset's files are not on disk and could not be downloaded."""


@dataclass
class Data:
    """Normalised float32 inputs and int64 labels for the three splits."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_train_eval: torch.Tensor  # a fixed, seeded subset of the training split (TRAIN_EVAL_EXAMPLES)
    y_train_eval: torch.Tensor

    def to(self, device) -> "Data":
        return Data(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


DEFAULT_DATA_DIR = Path("data")  # when a caller gives none (as Settings.data_dir with $LTH_DATA_DIR unset)


# --- file formats -----------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    """Parse an idx file (optionally .gz): MNIST's format for images and labels."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, OSError) as exc:  # cut-off or garbled gzip stream
        raise DataUnavailable(f"{path} is damaged ({type(exc).__name__}); fetch the file again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataUnavailable(f"{path} is not an idx file of unsigned bytes")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataUnavailable(f"{path} is truncated inside its header")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataUnavailable(f"{path} is truncated: expected {int(np.prod(dims))} values, found {body.size}")
    return body.reshape(dims)


def _find_idx(folder: Path) -> dict[str, Path] | None:
    for base in (folder, folder / "raw", *sorted(folder.glob("*/raw"))):
        found = {}
        for key, stem in IDX_FILES.items():
            for cand in (base / stem, base / f"{stem}.gz"):
                if cand.is_file():
                    found[key] = cand
                    break
        if len(found) == 4:
            return found
    return None


def read_cifar_bin(folder: Path) -> tuple[np.ndarray, ...]:
    """Parse CIFAR-10's binary version: records of 1 label byte + 3072 pixel bytes."""
    def load(names):
        xs, ys = [], []
        for name in names:
            raw = np.fromfile(folder / name, dtype=np.uint8)
            if raw.size % 3073:
                raise DataUnavailable(f"{folder / name} is truncated ({raw.size} bytes, not a multiple of 3073)")
            rec = raw.reshape(-1, 3073)
            ys.append(rec[:, 0]), xs.append(rec[:, 1:].reshape(-1, 3, 32, 32))
        return np.concatenate(xs), np.concatenate(ys)
    x_tr, y_tr = load([f"data_batch_{i}.bin" for i in range(1, 6)])
    x_te, y_te = load(["test_batch.bin"])
    return x_tr, y_tr, x_te, y_te


# --- sources ----------------------------------------------------------------
def _mnist_like(name: str, data_dir: Path) -> tuple[np.ndarray, ...]:
    folders = [data_dir / name]
    if name == "fashion-mnist":
        folders.append(DEBIAN_FASHION_MNIST)
    for folder in folders:
        files = _find_idx(folder) if folder.is_dir() else None
        if files:
            return tuple(read_idx(files[k]) for k in ("train_x", "train_y", "test_x", "test_y"))
    _download_torchvision(name, data_dir / name)
    files = _find_idx(data_dir / name)
    if not files:
        raise DataUnavailable(f"{name}: download finished but the idx files are missing in {data_dir / name}")
    return tuple(read_idx(files[k]) for k in ("train_x", "train_y", "test_x", "test_y"))


def _download_torchvision(name: str, root: Path) -> None:
    """torchvision's own downloader (with its mirrors and checksums)."""
    from torchvision import datasets
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    try:
        cls(str(root), train=True, download=True)
        cls(str(root), train=False, download=True)
    except Exception as exc:  # network errors come in many types; all mean the same here
        raise DataUnavailable(_offline_message(name, root, exc)) from exc


def _cifar10(data_dir: Path) -> tuple[np.ndarray, ...]:
    root = data_dir / "cifar10"
    folder = root / "cifar-10-batches-bin"
    if not folder.is_dir():
        archive = root / "cifar-10-binary.tar.gz"
        try:
            if not archive.is_file():
                from torchvision.datasets.utils import download_url
                download_url(CIFAR_URL, str(root), archive.name, CIFAR_MD5)
            with tarfile.open(archive) as tar:
                tar.extractall(root, filter="data")
        except DataUnavailable:
            raise
        except Exception as exc:
            raise DataUnavailable(_offline_message("cifar10", root, exc)) from exc
    return read_cifar_bin(folder)


def _mnist1d() -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args, make_dataset
    args = get_dataset_args()
    args.num_samples = 10_000
    state = np.random.get_state()  # make_dataset reseeds numpy's global generator
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(state)
    return (d["x"].astype(np.float32), d["y"].astype(np.int64),
            d["x_test"].astype(np.float32), d["y_test"].astype(np.int64))


def _offline_message(name: str, root: Path, exc: Exception) -> str:
    info = get_dataset_info(name)
    return (f"{info.title} is not on disk and could not be downloaded into {root} "
            f"({type(exc).__name__}: {str(exc)[:120]}). Offline: {info.offline}.")


# --- public -----------------------------------------------------------------
def _cache_path(name: str, data_dir: Path) -> Path:
    return data_dir / "cache" / f"{name}-v{CACHE_VERSION}.pt"


def availability(name: str, data_dir: Path | None = None) -> str:
    """'cached', 'on disk', 'generated locally', 'download needed' (a network is then required), or 'missing'
    (your own tensors, not in this data folder)."""
    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    get_dataset_info(name)
    if custom_data(name):
        return "on disk" if custom.path(name, data_dir).is_file() else "missing"
    if _cache_path(name, data_dir).is_file():
        return "cached"
    if name == "mnist1d":
        return "generated locally"
    if name == "cifar10":
        root = data_dir / "cifar10"
        found = (root / "cifar-10-batches-bin").is_dir() or (root / "cifar-10-binary.tar.gz").is_file()
        return "on disk" if found else "download needed"
    folders = [data_dir / name] + ([DEBIAN_FASHION_MNIST] if name == "fashion-mnist" else [])
    return "on disk" if any(f.is_dir() and _find_idx(f) for f in folders) else "download needed"


def _raw_arrays(name: str, data_dir: Path) -> dict[str, torch.Tensor]:
    if name == "mnist1d":
        x_tr, y_tr, x_te, y_te = _mnist1d()
    elif name == "cifar10":
        x_tr, y_tr, x_te, y_te = _cifar10(data_dir)
    else:
        x_tr, y_tr, x_te, y_te = _mnist_like(name, data_dir)
    info = get_dataset_info(name)
    if len(x_tr) != info.n_train + info.n_val or len(x_te) != info.n_test:
        raise DataUnavailable(f"{name}: expected {info.n_train + info.n_val} training and {info.n_test} "
                              f"test examples, found {len(x_tr)} and {len(x_te)}")
    return {"x_train": torch.from_numpy(np.array(x_tr)), "y_train": torch.from_numpy(y_tr.astype(np.int64)),
            "x_test": torch.from_numpy(np.array(x_te)), "y_test": torch.from_numpy(y_te.astype(np.int64))}


def load(name: str, data_dir: Path | None = None) -> Data:
    """The dataset as normalised CPU tensors, split into train / validation / test."""
    info = get_dataset_info(name)
    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    if custom_data(name):  # your own tensors, used as given (no standardisation)
        try:
            t = custom.read(name, data_dir)
        except FileNotFoundError as exc:
            raise DataUnavailable(str(exc)) from None
        sub = train_eval_indices(len(t["x_train"]))
        return Data(t["x_train"], t["y_train"], t["x_val"], t["y_val"], t["x_test"], t["y_test"],
                    t["x_train"][sub].contiguous(), t["y_train"][sub])
    cache = _cache_path(name, data_dir)
    arrays = None
    if cache.is_file():
        try:
            arrays = torch.load(cache, weights_only=True)
        except Exception:  # a damaged cache is rebuilt from the source files
            arrays = None
    if arrays is None:
        arrays = _raw_arrays(name, data_dir)
        atomic_torch_save(arrays, cache)
    x_tr, y_tr = arrays["x_train"], arrays["y_train"]
    x_te, y_te = arrays["x_test"], arrays["y_test"]
    x_tr, x_te = x_tr.float(), x_te.float()
    shape = (-1, *info.input_shape)
    x_tr, x_te = x_tr.reshape(shape), x_te.reshape(shape)
    order = torch.randperm(len(x_tr), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val, train = order[: info.n_val], order[info.n_val:]
    # standardise with statistics of the training split only (per channel for images): the
    # validation split decides early stopping, so nothing of it may leak into the inputs
    dims = (0,) if x_tr.dim() == 2 else (0, 2, 3)
    fit = x_tr[train]
    mean, std = fit.mean(dims, keepdim=True), fit.std(dims, keepdim=True).clamp_min(1e-6)
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    x_train, y_train = x_tr[train].contiguous(), y_tr[train]
    sub = train_eval_indices(len(x_train))
    return Data(x_train, y_train, x_tr[val].contiguous(), y_tr[val], x_te.contiguous(), y_te,
                x_train[sub].contiguous(), y_train[sub])


def train_eval_indices(n_train: int) -> torch.Tensor:
    """The fixed, seeded subset of training-split indices on which training loss and accuracy
    are measured (min(TRAIN_EVAL_EXAMPLES, n_train) of them); the same for every network."""
    gen = torch.Generator().manual_seed(TRAIN_EVAL_SEED)
    return torch.randperm(n_train, generator=gen)[:min(TRAIN_EVAL_EXAMPLES, n_train)].sort().values
