"""Store invariants: safe run ids, checksummed reads, atomic writes, a read-only gallery."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from lth_core.store import atomic
from lth_core.config import ExperimentConfig
from lth_core.store.run_store import Corrupt, ReadOnlyStore, Store, validate_run_id

RID = ExperimentConfig().run_id()
MASKS = {"a.weight": torch.rand(7, 3) < 0.5, "b.weight": torch.rand(13) < 0.5}  # sizes not multiples of 8


@pytest.mark.parametrize("bad", ["../etc", "", "ABC", "0123456789abcdef0", "0123456789ABCDEF",
                                 "0123456789abcde/", "0123456789abcdef\n", None, 17])
def test_validate_run_id_rejects(bad):
    """A run id becomes a folder name: anything but 16 lowercase hex digits could escape the store."""
    with pytest.raises(ValueError):
        validate_run_id(bad)


def test_validate_run_id_accepts_real_run_id():
    """Every config's own run id must be accepted."""
    assert validate_run_id(RID) == RID


def test_run_dir_refuses_path_traversal(tmp_path):
    """Paths are built only from validated ids, so '../' can never leave the store root."""
    with pytest.raises(ValueError):
        Store(tmp_path).run_dir("../etc")


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _change_value(raw: bytes) -> bytes:
    wrapped = json.loads(raw)
    wrapped["data"]["x"] = 2  # valid JSON, wrong checksum
    return json.dumps(wrapped).encode()


def _drop_checksum(raw: bytes) -> bytes:
    return json.dumps(json.loads(raw)["data"]).encode()


@pytest.mark.parametrize("damage", [_truncate, _change_value, _drop_checksum, lambda raw: b"\x00\xff garbage"],
                         ids=["truncated", "changed", "no-checksum", "garbage"])
def test_read_json_detects_damage(tmp_path, damage):
    """A damaged metrics file must raise Corrupt, never be returned as if it were a result."""
    store = Store(tmp_path)
    store.write_json(RID, "m.json", {"x": 1, "y": [0.5, 0.25]})
    path = store.run_dir(RID) / "m.json"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(Corrupt):
        store.read_json(RID, "m.json")


@pytest.mark.parametrize("cut", [lambda raw: raw[:-3], lambda raw: raw[:5], lambda raw: raw[:-1] + bytes([raw[-1] ^ 1])],
                         ids=["truncated", "header-cut", "bit-flip"])
def test_read_masks_detects_damage(tmp_path, cut):
    """A damaged mask file must raise Corrupt, so the run recomputes it instead of training a wrong mask."""
    store = Store(tmp_path)
    store.write_masks(RID, "mask.st", MASKS)
    path = store.run_dir(RID) / "mask.st"
    path.write_bytes(cut(path.read_bytes()))
    with pytest.raises(Corrupt):
        store.read_masks(RID, "mask.st")


def test_masks_round_trip(tmp_path):
    """Bit-packing must give back exactly the mask that was stored, shapes included."""
    store = Store(tmp_path)
    store.write_masks(RID, "mask.st", MASKS)
    back = store.read_masks(RID, "mask.st")
    assert back.keys() == MASKS.keys() and all(torch.equal(back[n], MASKS[n]) for n in MASKS)


def test_state_round_trip(tmp_path):
    """theta_0 is stored and reloaded: it must come back bit for bit, keys unchanged."""
    store = Store(tmp_path)
    state = {"0.weight": torch.randn(4, 5), "0.bias": torch.zeros(4)}
    store.write_state(RID, "theta0.st", state)
    back = store.read_state(RID, "theta0.st")
    assert back.keys() == state.keys() and all(torch.equal(back[k], state[k]) for k in state)


def test_writes_leave_no_temp_files(tmp_path):
    """Atomic writes go through a temp file that must be renamed away, never left behind."""
    store = Store(tmp_path)
    store.write_json(RID, "a.json", {"x": 1})
    store.write_json(RID, "a.json", {"x": 2})
    store.write_masks(RID, "t0/mask.st", MASKS)
    store.write_state(RID, "t0/theta0.st", {"w": torch.ones(3)})
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    """A writer that dies mid-write leaves the previous version intact and no temp file."""
    store = Store(tmp_path)
    store.write_json(RID, "a.json", {"x": 1})

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(OSError):
        store.write_json(RID, "a.json", {"x": 2})
    monkeypatch.undo()
    assert store.read_json(RID, "a.json") == {"x": 1} and not list(tmp_path.rglob("*.tmp"))


READONLY_WRITES = {
    "write_json": lambda s: s.write_json(RID, "a.json", {"x": 1}),
    "write_state": lambda s: s.write_state(RID, "theta0.st", {"w": torch.ones(2)}),
    "write_masks": lambda s: s.write_masks(RID, "mask.st", MASKS),
    "write_arrays": lambda s: s.write_arrays(RID, "a.st", {"a": np.zeros(2)}),
    "create": lambda s: s.create(ExperimentConfig()),
    "set_status": lambda s: s.set_status(RID, "done"),
    "lock": lambda s: s.lock(RID).__enter__(),
}


@pytest.mark.parametrize("write", READONLY_WRITES.values(), ids=READONLY_WRITES.keys())
def test_readonly_store_refuses_writes(tmp_path, write):
    """The gallery is shipped read-only: no code path may modify it."""
    with pytest.raises(ReadOnlyStore):
        write(Store(tmp_path, readonly=True))


def test_readonly_store_writes_nothing(tmp_path):
    """A refused write must not leave a partial folder or file behind either."""
    store = Store(tmp_path, readonly=True)
    for write in READONLY_WRITES.values():
        with pytest.raises(ReadOnlyStore):
            write(store)
    assert list(tmp_path.iterdir()) == []


def test_damaged_files_lists_exactly_the_damaged(tmp_path):
    """The integrity check must name the damaged file and nothing that is intact."""
    store = Store(tmp_path)
    store.write_json(RID, "t0/L00/ticket.json", {"x": 1})
    store.write_masks(RID, "t0/L01/mask_ticket.st", MASKS)
    store.write_state(RID, "t0/theta0.st", {"w": torch.ones(3)})
    path = store.run_dir(RID) / "t0" / "theta0.st"
    path.write_bytes(path.read_bytes()[:-2])
    assert store.damaged_files(RID) == ["t0/theta0.st"]


def test_running_status_without_live_process_reads_interrupted(tmp_path):
    """A run whose process died (no lock held) must not show as 'running' forever."""
    store = Store(tmp_path)
    store.create(ExperimentConfig())
    store.set_status(RID, "running")
    assert store.status(RID)["state"] == "interrupted"


def test_running_status_with_lock_reads_running(tmp_path):
    """While the computing process holds the lock the run reads 'running'."""
    store = Store(tmp_path)
    store.create(ExperimentConfig())
    with store.lock(RID):
        store.set_status(RID, "running")
        assert store.status(RID)["state"] == "running"



# --- issue 11: what the checksums cover -------------------------------------------------------
def _edit_header(path, edit) -> None:
    """Rewrite a safetensors file's JSON header with `edit(header)`, tensor bytes untouched."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    edit(header)
    new = json.dumps(header).encode()
    path.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n:])


def _reshape(header):
    header["w"]["shape"] = [3, 4]  # stored as (4, 3): same bytes, another shape


def _retype(header):
    header["w"]["dtype"] = "I32"  # same width as F32: the bytes read back as other numbers


def _remeta(header):
    meta = json.loads(header["__metadata__"]["meta"])
    meta["note"] = "changed"
    header["__metadata__"]["meta"] = json.dumps(meta)


@pytest.mark.parametrize("edit", [_reshape, _retype, _remeta], ids=["shape", "dtype", "metadata"])
def test_tensor_checksum_covers_shape_dtype_and_metadata(tmp_path, edit):
    """A header that lies about a tensor's shape or type, or about its metadata, must read as Corrupt."""
    store = Store(tmp_path)
    store.write_arrays(RID, "a.st", {"w": np.arange(12, dtype=np.float32).reshape(4, 3)}, {"note": "original"})
    _edit_header(store.run_dir(RID) / "a.st", edit)
    with pytest.raises(Corrupt):
        store.read_arrays(RID, "a.st")


def test_mask_with_its_shapes_changed_reads_as_corrupt(tmp_path):
    """A mask whose stored shapes were swapped (same size) would prune the wrong weights: refuse it."""
    store = Store(tmp_path)
    store.write_masks(RID, "mask.st", MASKS)

    def swap(header):
        meta = json.loads(header["__metadata__"]["meta"])
        meta["shapes"]["a.weight"] = [3, 7]
        header["__metadata__"]["meta"] = json.dumps(meta)

    _edit_header(store.run_dir(RID) / "mask.st", swap)
    with pytest.raises(Corrupt):
        store.read_masks(RID, "mask.st")


def test_files_with_the_old_checksum_still_read(tmp_path):
    """Runs written before the checksum covered shapes (the committed gallery's masks) stay readable."""
    from safetensors.numpy import save
    arrays = {"w": np.arange(6, dtype=np.float32)}
    old = hashlib.sha256(b"w" + arrays["w"].tobytes()).hexdigest()  # the first format: names and bytes only
    store = Store(tmp_path)
    path = store.run_dir(RID) / "old.st"
    path.parent.mkdir(parents=True)
    path.write_bytes(save(arrays, metadata={"sha256": old, "meta": "{}"}))
    back, _ = store.read_arrays(RID, "old.st")
    assert np.array_equal(back["w"], arrays["w"])


def test_committed_gallery_runs_still_verify():
    """The gallery's masks were written by the old checksum; every file must still verify."""
    from lth_core.store.gallery import GALLERY_ROOT
    gallery = Store(GALLERY_ROOT, readonly=True)
    assert gallery.run_ids()
    assert {rid: gallery.damaged_files(rid) for rid in gallery.run_ids()} == {rid: [] for rid in gallery.run_ids()}


# --- issue 11: a status file without a state -------------------------------------------------
@pytest.mark.parametrize("record", [{"reason": "x"}, {"state": "bogus"}, ["running"]],
                         ids=["no-state", "unknown-state", "not-an-object"])
def test_status_with_a_valid_checksum_but_no_state_reads_damaged(tmp_path, record):
    """A status record without a known state is damaged, not a KeyError that breaks recovery and every page."""
    store = Store(tmp_path)
    store.create(ExperimentConfig())
    store.write_json(RID, "status.json", record)
    assert store.status(RID)["state"] == "damaged"


# --- issue 11: durable renames ---------------------------------------------------------------
@pytest.mark.parametrize("durable", [True, False])
def test_durable_write_fsyncs_the_folder_after_the_rename(tmp_path, monkeypatch, durable):
    """A rename lives in the folder's entry: without the folder's fsync a power cut can lose the new file."""
    import os
    import stat
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    atomic.atomic_write_bytes(tmp_path / "a.json", b"{}", durable=durable)
    assert events == (["fsync file", "rename", "fsync folder"] if durable else ["rename"])
