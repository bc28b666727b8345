"""Start and stop a real `streamlit run ui/server.py` (the app) on 127.0.0.1: for the browser tests and for the
scripts that measure or photograph the app (scripts/screenshots.py, scripts/time_quick_demo.py).

The server runs in its own process group, so stop() ends it and anything it started.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def entry(root: Path) -> str:
    """What `streamlit run` serves in `root`: ui/server.py (app.py behind its guard for nested addresses),
    or app.py in an older checkout without it (a --baseline of the timing scripts)."""
    return "ui/server.py" if (root / "ui" / "server.py").is_file() else "app.py"


def start(env: dict, log: Path, extra_args=(), root: Path = REPO) -> tuple[subprocess.Popen, str]:
    """Serve `root`/app.py (default: this checkout's) with os.environ updated by `env`, output to `log`;
    waits for the port. Returns (process, base URL); raises RuntimeError with the log's tail if it
    does not start."""
    port = free_port()
    out = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", entry(root), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra_args],
        cwd=root, env=dict(os.environ, **env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()  # the child holds its own copy
    deadline = time.time() + START_TIMEOUT_S
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"streamlit did not start: {Path(log).read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (by its pid): SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
