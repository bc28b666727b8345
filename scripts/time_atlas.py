"""Time the atlas page as a student uses it: each move of its rate or size slider, in Chromium.

Starts a real `streamlit run ui/server.py` (the app) on 127.0.0.1 with an empty store and the repository's gallery,
waits --settle seconds (a class server has been up a while: its atlas cache is warm), opens
/atlas and moves the sliders with the arrow keys: through every size and back, across every rate
and back, then through every size at the lowest rate. Records per
move the page's own server time (its "Drawn in" caption) and the browser's time from the key press
to the redrawn caption; prints the medians and writes them to --out. Checks that nothing trained.

    python scripts/time_atlas.py --out docs/repro/atlas_timing.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the server and browser helpers

from support import atlas_moves, streamlit_server  # noqa: E402
from support.browser import CHROME_ARGS, CHROMIUM  # noqa: E402
from support.processes import stop_workers  # noqa: E402
from lth_core.store.run_store import Store  # noqa: E402


def sweep(page, slider: str, key: str, most: int = 30) -> list[dict]:
    """Press `key` on a slider until it stops moving (its end), recording each move."""
    out = []
    for _ in range(most):
        try:
            out.append(dict(atlas_moves.move(page, slider, key), slider=slider))
        except AssertionError:  # at the end of the slider: the key did not move it
            break
    return out


def moves(page) -> list[dict]:
    """Every size at the opening rate and back, then across every rate and back, then every size at
    the lowest rate."""
    return (sweep(page, "size", "ArrowRight") + sweep(page, "size", "ArrowLeft") + sweep(page, "rate", "ArrowRight")
            + sweep(page, "rate", "ArrowLeft") + sweep(page, "size", "ArrowRight"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--settle", type=float, default=20.0, help="seconds the server is up before the first move")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        store = Path(tmp) / "runs"
        proc, url = streamlit_server.start({"LTH_STORE": str(store), "LTH_GALLERY": str(ROOT / "gallery")},
                                           Path(tmp) / "server.log")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.goto(url, timeout=60_000)  # the first page starts the server's atlas warm-up
            page.wait_for_timeout(a.settle * 1000)
            atlas_moves.open_atlas(page, url)
            rows = moves(page)
            trained = sorted(str(x.relative_to(store)) for x in store.rglob("progress.json")) if store.is_dir() else []
        finally:
            browser.close()
            streamlit_server.stop(proc)
            stop_workers(Store(store))
    med = {k: statistics.median(r[k] for r in rows) for k in ("server_s", "browser_s")}
    worst = {k: max(r[k] for r in rows) for k in ("server_s", "browser_s")}
    print(f"{len(rows)} moves: server time median {med['server_s']:.2f} s (max {worst['server_s']:.2f}), "
          f"key press to redrawn page median {med['browser_s']:.2f} s (max {worst['browser_s']:.2f}); "
          f"runs trained: {len(trained)}")
    if a.out:
        a.out.write_text(json.dumps({"moves": rows, "median": med, "max": worst, "trained": trained,
                                     "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0],
                                     "settle_s": a.settle}, indent=1))
    return 1 if trained else 0


if __name__ == "__main__":
    sys.exit(main())
