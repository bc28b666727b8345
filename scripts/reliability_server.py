"""The app's real server for the reliability scripts (load test, fault injection, soak).

Built on tests/support/streamlit_server.py (the one helper that starts the app, `streamlit run ui/server.py`, on
127.0.0.1 in its own process group): this module adds the environment these scripts need (a
store, a worker bound, no outbound lookups), a wait for the health check, a WebSocket origin
probe, and a stop that also ends the server's workers (each in its own process group).
"""
from __future__ import annotations

import base64
import os
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "tests"):  # lth_core and the shared server helper
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from support import streamlit_server  # noqa: E402  (tests/support/streamlit_server.py)
from procwatch import ps_table, work_processes  # noqa: E402

# Streamlit looks up the machine's external IP over HTTP (checkip.amazonaws.com) to vet an unknown
# WebSocket origin; these proxy variables send that to a closed loopback port, so a run stays local.
_DEAD = "http://127.0.0.1:9"
OFFLINE_ENV = {"HTTP_PROXY": _DEAD, "HTTPS_PROXY": _DEAD, "http_proxy": _DEAD, "https_proxy": _DEAD,
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def server_env(store_root: Path, workers: int, data_dir: Path | None = None, extra: dict | None = None) -> dict:
    """The environment a reliability run gives the server (added to os.environ)."""
    env = {**OFFLINE_ENV, "LTH_STORE": str(store_root), "LTH_WORKERS": str(workers), **(extra or {})}
    if data_dir:
        env["LTH_DATA_DIR"] = str(data_dir)
    return env


def start_server(store_root: Path, workers: int, log: Path, data_dir: Path | None = None,
                 extra_env: dict | None = None, healthy_within_s: float = 90):
    """Serve the app on a free 127.0.0.1 port; returns (process, port) once its health check answers."""
    proc, url = streamlit_server.start(server_env(store_root, workers, data_dir, extra_env), log)
    port = int(url.rsplit(":", 1)[1])
    try:
        wait_healthy(port, proc, healthy_within_s)
    except RuntimeError:
        stop_server(proc)
        raise
    return proc, port


def wait_healthy(port: int, proc, timeout_s: float = 90) -> None:
    """Return once GET /_stcore/health answers 200; RuntimeError if the server exits or never does."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the app server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the app server did not answer on port {port} within {timeout_s} s")


def websocket_handshake(port: int, origin: str | None) -> int:
    """HTTP status of a WebSocket upgrade to the app's stream endpoint sent with this Origin header
    (101: accepted). A cross-site page must be refused, or it could press Start for a student."""
    headers = ["GET /_stcore/stream HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
               "Connection: Upgrade", f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
               "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
    if origin:
        headers.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        first = sock.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")  # 'HTTP/1.1 101 Switching...'
    parts = first.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def kill_workers(server_pid: int) -> list[int]:
    """SIGKILL the process group of every child of the server (its workers); returns their pids."""
    workers = [pid for pid, ppid, _, _ in ps_table() if ppid == server_pid]
    for pgid in workers:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return workers


def stop_server(proc) -> None:
    """Stop the server and everything it started (its workers are in their own process groups)."""
    if proc.poll() is None:
        kill_workers(proc.pid)
    streamlit_server.stop(proc)


def kill_store_workers(store_root: Path) -> list[int]:
    """SIGKILL every `lth_core work` process of a store, whoever its parent (orphans of a killed
    server included); returns their pids."""
    pids = list(work_processes(store_root))
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return pids
