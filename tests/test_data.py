"""Data invariants: the file parsers, the split sizes, standardisation and the on-disk cache."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from lth_core.data import datasets as data
from lth_core.data.datasets import DataUnavailable, read_cifar_bin, read_idx

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
LABELS = RNG.integers(0, 10, size=(5,), dtype=np.uint8)


def idx_bytes(arr: np.ndarray) -> bytes:
    """MNIST's idx format: 0, 0, type 0x08 (ubyte), ndim, big-endian dims, then the values."""
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def write_idx(path, raw: bytes, gz: bool):
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("arr", [IMAGES, LABELS], ids=["images", "labels"])
def test_read_idx_parses(tmp_path, arr, gz):
    """Fashion-MNIST and MNIST arrive as idx files, plain or gzipped; the parser must read both exactly."""
    path = write_idx(tmp_path / ("f.gz" if gz else "f"), idx_bytes(arr), gz)
    assert np.array_equal(read_idx(path), arr)


TRUNCATIONS = {
    "body": lambda raw: raw[:-1],
    "header": lambda raw: raw[:6],          # inside the dimension sizes
    "magic": lambda raw: raw[:2],
    "wrong-type": lambda raw: raw[:2] + b"\x0d" + raw[3:],  # 0x0d: float, not ubyte
}


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("name", TRUNCATIONS)
def test_read_idx_rejects_damaged(tmp_path, name, gz):
    """A half-downloaded or wrong file must raise DataUnavailable (shown to the user), not a stray error."""
    raw = TRUNCATIONS[name](idx_bytes(IMAGES))
    path = write_idx(tmp_path / ("f.gz" if gz else "f"), raw, gz)
    with pytest.raises(DataUnavailable):
        read_idx(path)


def test_read_idx_rejects_truncated_gzip_stream(tmp_path):
    """A .gz file cut short by an interrupted download must raise DataUnavailable too."""
    gz = gzip.compress(idx_bytes(IMAGES))
    path = tmp_path / "f.gz"
    path.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataUnavailable):
        read_idx(path)


def fake_cifar(folder, n_train_per_batch=2, n_test=3):
    """A tiny cifar-10-batches-bin folder in the real format; returns the records written."""
    folder.mkdir(parents=True)
    written = {}
    for name, n in [*((f"data_batch_{i}.bin", n_train_per_batch) for i in range(1, 6)), ("test_batch.bin", n_test)]:
        labels = RNG.integers(0, 10, size=(n, 1), dtype=np.uint8)
        pixels = RNG.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        (folder / name).write_bytes(np.concatenate([labels, pixels], axis=1).tobytes())
        written[name] = (labels[:, 0], pixels)
    return written


def test_read_cifar_bin_parses(tmp_path):
    """CIFAR-10's binary records are 1 label byte + 3072 pixel bytes (R plane, G plane, B plane)."""
    written = fake_cifar(tmp_path / "cifar-10-batches-bin")
    x_tr, y_tr, x_te, y_te = read_cifar_bin(tmp_path / "cifar-10-batches-bin")
    train = [written[f"data_batch_{i}.bin"] for i in range(1, 6)]
    assert (x_tr.shape, x_te.shape) == ((10, 3, 32, 32), (3, 3, 32, 32))
    assert np.array_equal(y_tr, np.concatenate([lab for lab, _ in train]))
    assert np.array_equal(y_te, written["test_batch.bin"][0])
    # channel-first: pixel byte 1024 of a record is the first green value
    assert np.array_equal(x_tr.reshape(10, -1), np.concatenate([px for _, px in train]))
    assert x_te[0, 1, 0, 0] == written["test_batch.bin"][1][0, 1024]


def test_read_cifar_bin_rejects_truncated(tmp_path):
    """A truncated batch file must raise DataUnavailable instead of silently shifting every record."""
    folder = tmp_path / "cifar-10-batches-bin"
    fake_cifar(folder)
    raw = (folder / "data_batch_3.bin").read_bytes()
    (folder / "data_batch_3.bin").write_bytes(raw[:-100])
    with pytest.raises(DataUnavailable):
        read_cifar_bin(folder)


# --- real datasets ---------------------------------------------------------------------
def test_fashion_mnist_split_sizes(fashion_mnist):
    """The paper's protocol: 55,000 train, 5,000 held-out validation, 10,000 test."""
    d = fashion_mnist
    sizes = [len(t) for t in (d.x_train, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test)]
    assert sizes == [55_000, 55_000, 5_000, 5_000, 10_000, 10_000]


def test_fashion_mnist_shapes_and_labels(fashion_mnist):
    """Images are (1, 28, 28) float32 and labels int64 in 0..9, as the models expect."""
    d = fashion_mnist
    assert (d.x_train.shape[1:] == (1, 28, 28) and d.x_train.dtype == torch.float32
            and d.y_train.dtype == torch.int64 and set(d.y_train.unique().tolist()) == set(range(10)))


def test_fashion_mnist_is_standardised(fashion_mnist):
    """Inputs are standardised with training statistics: mean about 0, std about 1."""
    x = fashion_mnist.x_train
    assert abs(x.mean().item()) < 0.01 and abs(x.std().item() - 1) < 0.01


def test_validation_split_is_disjoint_from_training(fashion_mnist):
    """Early stopping on validation data that is also trained on would be meaningless."""
    d = fashion_mnist
    train = {hash(r.numpy().tobytes()) for r in d.x_train[:, 0].flatten(1)}
    overlap = sum(hash(r.numpy().tobytes()) in train for r in d.x_val[:, 0].flatten(1))
    assert overlap == 0  # measured: no validation image is also a training image


def test_second_load_is_served_from_cache(fashion_mnist, data_dir, monkeypatch):
    """The parsed dataset is cached on disk: the next load must not parse the source files again."""
    assert data._cache_path("fashion-mnist", data_dir).is_file()

    def no_parsing(*a, **k):
        raise AssertionError("parsed the source files although the cache exists")

    monkeypatch.setattr(data, "_raw_arrays", no_parsing)
    again = data.load("fashion-mnist", data_dir=data_dir)
    assert torch.equal(again.x_val, fashion_mnist.x_val) and torch.equal(again.y_test, fashion_mnist.y_test)


def test_damaged_cache_is_rebuilt(fashion_mnist_available, tmp_path):
    """A truncated cache file must be re-parsed from the sources, not crash every later load."""
    cache = data._cache_path("fashion-mnist", tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"PK\x03\x04 truncated")
    d = data.load("fashion-mnist", data_dir=tmp_path)
    assert len(d.x_test) == 10_000


def test_mnist1d_split_sizes(mnist1d):
    """MNIST-1D (the offline default) has 7,000 train, 1,000 validation and 2,000 test examples."""
    d = mnist1d
    sizes = [len(t) for t in (d.x_train, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test)]
    assert sizes == [7_000, 7_000, 1_000, 1_000, 2_000, 2_000]



def test_standardisation_uses_the_training_split_only(fashion_mnist):
    """The training split is exactly standardised; the validation split, unseen by the statistics, is not."""
    assert float(fashion_mnist.x_train.mean()) == pytest.approx(0.0, abs=1e-4)
    assert abs(float(fashion_mnist.x_val.mean())) > 1e-4


def test_training_eval_subset_is_fixed_and_inside_the_training_split(fashion_mnist):
    """5,000 training examples, the same ones on every load, drawn from the training split."""
    idx = data.train_eval_indices(len(fashion_mnist.x_train))
    assert len(idx) == data.TRAIN_EVAL_EXAMPLES == len(fashion_mnist.y_train_eval)
    assert torch.equal(idx, data.train_eval_indices(len(fashion_mnist.x_train)))
    assert torch.equal(fashion_mnist.x_train_eval, fashion_mnist.x_train[idx])
