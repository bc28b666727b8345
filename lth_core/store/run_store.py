"""Run folders: the on-disk source of truth, a resumable cache keyed by run id.

<root>/<run_id>/ holds one run (files named in lth_core/layout.py). Every file is written
atomically with a sha256 of its content, checked on every read: a damaged file raises
Corrupt and only that part recomputes. Nothing is ever unpickled.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load as st_load_np
from safetensors.numpy import save as st_save_np

from lth_core import layout
from lth_core.store.atomic import atomic_write_bytes
from lth_core.config import ExperimentConfig

LOCK_WAIT_S = 0.5  # how long lock() retries before AlreadyRunning (a real holder keeps it for the whole run)
RUN_ID_RE = re.compile(r"\A[0-9a-f]{16}\Z")  # \Z, not $: "$" also matches before a trailing newline
STATES = ("queued", "running", "done", "failed", "cancelled")


class Corrupt(Exception):
    """A store file exists but its content does not match its checksum or format."""


class AlreadyRunning(Exception):
    """Another live process holds the run's lock."""


class ReadOnlyStore(Exception):
    """A write was attempted on a read-only store (the gallery)."""



class StoreUnwritable(OSError):
    """The store's folder cannot be written or created (a bad --store or LTH_STORE)."""


def pack(masks: dict) -> dict[str, np.ndarray]:
    """Masks as bit-packed uint8 arrays (8 weights a byte), for compact storage."""
    return {n: np.packbits(m.flatten().numpy().astype(np.uint8)) for n, m in masks.items()}


def unpack(packed: dict[str, np.ndarray], shapes: dict[str, tuple]) -> dict:
    """Inverse of pack, given each layer's shape."""
    out = {}
    for n, bits in packed.items():
        shape = tuple(shapes[n])
        numel = int(np.prod(shape))
        flat = np.unpackbits(np.asarray(bits, dtype=np.uint8))[:numel]
        out[n] = torch.from_numpy(flat.astype(bool)).reshape(shape)
    return out


def validate_run_id(run_id) -> str:
    """The run id itself, if it is 16 lowercase hex digits; ValueError otherwise."""
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        shown = run_id if isinstance(run_id, str) and len(run_id) <= 40 else f"{str(run_id)[:40]}..."
        raise ValueError(f"invalid run id {shown!r}: a run id is 16 lowercase hex digits, e.g. 3f2a9c0d1b7e4a65")
    return run_id


@contextmanager
def flock_file(path: Path, wait_s: float | None):
    """Hold an exclusive flock on `path` (made if absent) for the with-block; yields whether it was got.
    wait_s: how long to retry while another process holds it (None: wait as long as it takes). The lock
    goes with the process, so a process that dies releases it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if wait_s is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            got = True
        else:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    got = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        got = False
                        break
                    time.sleep(0.02)
        yield got
    finally:
        os.close(fd)


def file_locked(path: Path) -> bool:
    """Whether a live process holds an exclusive flock on the file at `path` (False if it is absent)."""
    if not path.is_file():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


DIGEST_VERSION = "2"  # tensor files name their checksum's version; files without one use the first


def _tensor_digest(arrays: dict[str, np.ndarray], meta: str) -> str:
    """sha256 over the metadata and each tensor's name, dtype, shape and bytes (version 2)."""
    h = hashlib.sha256()
    h.update(_canon({"meta": meta, "tensors": [[k, arrays[k].dtype.str, list(arrays[k].shape)]
                                               for k in sorted(arrays)]}))
    for k in sorted(arrays):
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return h.hexdigest()


def _tensor_digest_v1(arrays: dict[str, np.ndarray]) -> str:
    """The first checksum: names and bytes only. Read-only, for files written before version 2
    (the committed gallery's masks)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return h.hexdigest()


class Store:
    """A folder of runs. readonly=True (the gallery) refuses every write."""

    def __init__(self, root: Path | str, readonly: bool = False):
        self.root = Path(root)
        self.readonly = readonly

    # --- paths ------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        return self.root / validate_run_id(run_id)

    def has_run(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / layout.CONFIG).is_file()

    def run_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if RUN_ID_RE.match(p.name) and p.is_dir())

    def _path(self, run_id: str, rel: str) -> Path:
        return self.run_dir(run_id) / rel

    def _check_writable(self):
        if self.readonly:
            raise ReadOnlyStore(f"{self.root} is read-only (the gallery); new runs go to the store")

    def check_writable(self) -> None:
        """StoreUnwritable unless the root is a writable folder, or could be made one (its nearest
        existing parent is a writable folder). Creates nothing, so a mistyped path leaves no trace."""
        self._check_writable()
        try:
            probe = self.root.absolute()
            while not probe.exists():  # False too for a path under a file
                probe = probe.parent
            problem = (f"{probe} is not a folder" if not probe.is_dir()
                       else None if os.access(probe, os.W_OK | os.X_OK) else f"{probe} is not writable")
        except OSError as exc:  # e.g. a name too long for the file system
            problem = exc.strerror or type(exc).__name__
        if problem:
            raise StoreUnwritable(f"cannot write runs to {self.root}: {problem}")

    # --- checksummed files ------------------------------------------------
    def write_json(self, run_id: str, rel: str, obj, durable: bool = True) -> None:
        self._check_writable()
        body = _canon(obj)
        wrapped = {"sha256": hashlib.sha256(body).hexdigest(), "data": obj}
        atomic_write_bytes(self._path(run_id, rel), json.dumps(wrapped, sort_keys=True, allow_nan=False).encode(),
                           durable=durable)

    def read_json(self, run_id: str, rel: str):
        """The object stored at rel; FileNotFoundError if absent, Corrupt if damaged."""
        path = self._path(run_id, rel)
        raw = path.read_bytes()
        try:
            wrapped = json.loads(raw)
            obj, digest = wrapped["data"], wrapped["sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Corrupt(f"{path}: unreadable JSON ({exc.__class__.__name__})") from None
        if hashlib.sha256(_canon(obj)).hexdigest() != digest:
            raise Corrupt(f"{path}: checksum mismatch")
        return obj

    def write_arrays(self, run_id: str, rel: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> None:
        self._check_writable()
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        meta_json = json.dumps(meta or {})
        metadata = {"sha256": _tensor_digest(arrays, meta_json), "digest": DIGEST_VERSION, "meta": meta_json}
        atomic_write_bytes(self._path(run_id, rel), st_save_np(arrays, metadata=metadata))

    def read_arrays(self, run_id: str, rel: str) -> tuple[dict[str, np.ndarray], dict]:
        path = self._path(run_id, rel)
        raw = path.read_bytes()
        try:
            # sorted: safetensors returns tensors in a random (hash map) order, and consumers that
            # walk a mask in order with a seeded generator (random_like) must see the same order
            loaded = st_load_np(raw)
            arrays = {k: loaded[k] for k in sorted(loaded)}
            n = int.from_bytes(raw[:8], "little")
            header = json.loads(raw[8:8 + n])
            metadata = header.get("__metadata__", {})
            meta_json = metadata.get("meta", "{}")
            meta = json.loads(meta_json)
            version = metadata.get("digest", "1")
            digest = _tensor_digest(arrays, meta_json) if version == DIGEST_VERSION else \
                _tensor_digest_v1(arrays) if version == "1" else None
        except Exception as exc:  # safetensors raises its own error types for bad headers
            raise Corrupt(f"{path}: unreadable tensor file ({exc.__class__.__name__})") from None
        if digest is None or metadata.get("sha256") != digest:
            raise Corrupt(f"{path}: checksum mismatch")
        return arrays, meta

    def write_state(self, run_id: str, rel: str, state: dict[str, torch.Tensor]) -> None:
        """A state_dict (float tensors), keys unchanged."""
        self.write_arrays(run_id, rel, {k: v.detach().cpu().numpy() for k, v in state.items()})

    def read_state(self, run_id: str, rel: str) -> dict[str, torch.Tensor]:
        arrays, _ = self.read_arrays(run_id, rel)
        return {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}

    def write_masks(self, run_id: str, rel: str, masks: dict) -> None:
        """Masks bit-packed (8 weights a byte)."""
        self.write_arrays(run_id, rel, pack(masks), {"shapes": {n: list(m.shape) for n, m in masks.items()}})

    def read_masks(self, run_id: str, rel: str) -> dict:
        arrays, meta = self.read_arrays(run_id, rel)
        try:
            return unpack(arrays, meta["shapes"])
        except (KeyError, ValueError, RuntimeError) as exc:
            raise Corrupt(f"{self._path(run_id, rel)}: bad mask layout ({exc})") from None

    # --- run records -------------------------------------------------------
    def create(self, config: ExperimentConfig) -> str:
        """Register a run (status queued) unless it exists; returns its run id."""
        run_id = config.run_id()
        if not self.has_run(run_id) or self._config_damaged(run_id):
            self.write_json(run_id, layout.CONFIG, config.to_dict())
            self.set_status(run_id, "queued")
        return run_id

    def _config_damaged(self, run_id: str) -> bool:
        try:
            self.config(run_id)
            return False
        except (Corrupt, ValueError):
            return True

    def config(self, run_id: str) -> ExperimentConfig:
        """The run's config; Corrupt if config.json is damaged or describes no valid experiment."""
        data = self.read_json(run_id, layout.CONFIG)
        try:
            return ExperimentConfig.from_dict(data)
        except ValueError as exc:  # intact bytes, but not an experiment (ConfigError)
            raise Corrupt(f"{self._path(run_id, 'config.json')}: not a valid config ({exc})") from None

    def set_status(self, run_id: str, state: str, reason: str = "") -> None:
        assert state in STATES
        self.write_json(run_id, layout.STATUS, {"state": state, "reason": reason, "pid": os.getpid(),
                                                 "time": time.time()})

    def status(self, run_id: str) -> dict:
        """{'state', 'reason', ...}; 'running' whose process died reads 'interrupted'."""
        try:
            st = self.read_json(run_id, layout.STATUS)
        except FileNotFoundError:
            return {"state": "unknown", "reason": "no status file"}
        except Corrupt as exc:
            return {"state": "damaged", "reason": str(exc)}
        if not isinstance(st, dict) or st.get("state") not in STATES:  # intact bytes, but no state to act on
            return {"state": "damaged", "reason": f"{self._path(run_id, 'status.json')}: no valid state"}
        if st["state"] == "running" and not self.is_locked(run_id):
            st = {**st, "state": "interrupted", "reason": "its process stopped before the run finished"}
        return st

    def write_progress(self, run_id: str, progress: dict) -> None:
        self.write_json(run_id, layout.PROGRESS, progress, durable=False)

    def write_live(self, run_id: str, task: str, info: dict) -> None:
        self.write_json(run_id, layout.live(task), info, durable=False)

    def live(self, run_id: str, progress: dict | None = None) -> list[dict]:
        """The live records of the networks training now (this attempt of the run only, sorted by
        task name): iteration progress and the learning curve measured so far."""
        if progress is None:
            try:
                progress = self.read_json(run_id, layout.PROGRESS)
            except (FileNotFoundError, Corrupt):
                return []
        live_dir = self._path(run_id, layout.LIVE)
        out = []
        for f in sorted(live_dir.glob("*.json")) if live_dir.is_dir() else ():
            try:
                info = self.read_json(run_id, f"{layout.LIVE}/{f.name}")
            except (FileNotFoundError, Corrupt):
                continue  # finished (removed) or half-written between our listing and reading
            if isinstance(info, dict) and info.get("epoch") == progress.get("epoch"):
                out.append(info)
        return out

    def progress(self, run_id: str) -> dict:
        """Run progress: finished tasks plus the iterations of tasks in flight."""
        try:
            prog = dict(self.read_json(run_id, layout.PROGRESS))
        except (FileNotFoundError, Corrupt):
            return {}
        done = prog.get("network_iterations_done", 0)
        in_flight = sum(info.get("steps", 0) for info in self.live(run_id, prog))
        prog["network_iterations_now"] = done + in_flight
        total = max(prog.get("network_iterations_total", 1), 1)
        prog["fraction"] = min(1.0, (done + in_flight) / total)
        elapsed = time.time() - prog.get("started", time.time())
        rate_done = done + in_flight
        prog["eta_s"] = elapsed / rate_done * (total - rate_done) if rate_done > 0 else None
        return prog

    # --- locking ------------------------------------------------------------
    @contextmanager
    def lock(self, run_id: str):
        """Exclusive lock on a run for the life of this process (released if it dies)."""
        self._check_writable()
        # is_locked() probes with a shared lock for microseconds (every page polling a run's status
        # does): retry for LOCK_WAIT_S before deciding that another process holds the run.
        with flock_file(self._path(run_id, "lock"), LOCK_WAIT_S) as got:
            if not got:
                raise AlreadyRunning(f"run {run_id} is already being computed by another process")
            yield

    def is_locked(self, run_id: str) -> bool:
        return not self.readonly and file_locked(self._path(run_id, "lock"))

    # --- integrity -----------------------------------------------------------
    def damaged_files(self, run_id: str) -> list[str]:
        """Relative paths of files whose content fails its checksum or format."""
        bad = []
        base = self.run_dir(run_id)
        for path in sorted(base.rglob("*")):
            rel = str(path.relative_to(base))
            if not path.is_file() or path.suffix not in (".json", ".st") or rel.startswith("live/"):
                continue
            try:
                (self.read_json if rel.endswith(".json") else self.read_arrays)(run_id, rel)
            except Corrupt:
                bad.append(rel)
        return bad
