"""The README's bring-your-own-model example (examples/fmnist_cnn.py) runs as a user runs it, and its run
opens in the app's Results page: a small CNN of one's own on real Fashion-MNIST, through the same IMP."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import lth_core
from lth_core.api.load_ticket import load_ticket
from support.apptest import REPO, assert_clean, open_page, shutdown_manager, texts


def test_example_runs_and_opens_in_the_app(fashion_mnist, data_dir, tmp_path, monkeypatch):
    store, ticket = tmp_path / "runs", tmp_path / "ticket"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, str(REPO / "examples" / "fmnist_cnn.py"), "--store", str(store),
                          "--data-dir", str(data_dir), "--ticket", str(ticket)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == "", out.stderr[-2000:]  # nothing printed unless asked: no progress bar off a terminal
    run_id = out.stdout.split("Run('", 1)[1][:16]
    run = lth_core.open(run_id, store=store)
    assert run.config.arch.startswith("model:fmnist_cnn:small_cnn@")
    assert run.config.dataset.startswith("tensors@") and ":1x28x28:10:3000,1000,1000" in run.config.dataset
    dense = run.summary().query("level == 0 and arm == 'ticket'").test_acc_at_early_stop.iloc[0]
    assert dense > 0.6, f"the CNN learned little in {seconds:.0f} s: {dense:.3f}"
    assert load_ticket(ticket).model()(fashion_mnist.x_test[:4]).shape == (4, 10)

    # the app imports the factory by name, as a server started in examples/ (or with it installed) would
    monkeypatch.syspath_prepend(str(REPO / "examples"))
    monkeypatch.setenv("LTH_STORE", str(store))
    monkeypatch.setenv("LTH_GALLERY", str(tmp_path / "no-gallery"))
    try:
        at = open_page("pages/results.py", {"run": run_id})
        assert_clean(at)
        assert "Accuracy as the network shrinks" in texts(at) and "your model fmnist_cnn.small_cnn" in texts(at)
    finally:
        shutdown_manager(store)
