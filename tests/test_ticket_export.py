"""An exported ticket is the ticket (NNI issue 2313 shipped "tickets" that were not): its θ₀ and mask
are the stored ones, its pruned weights are exactly zero, and the folder's own loader rebuilds it in a
Python where lth_core cannot be imported, giving the stored network's outputs."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import lth_core
from lth_core import layout
from lth_core.cli.main import main
from lth_core.models.architectures import build
from lth_core.pruning.masks import apply_

LEVEL = 2
# Run in a temporary folder: the repository is taken off sys.path, and any other way to import lth_core
# (an installed copy) is refused, so the loader is shown to need only torch and safetensors.
PLAIN = """
import sys, importlib.abc
sys.path[:] = [p for p in sys.path if p not in ("", {repo!r}) and not p.startswith({repo!r} + "/")]
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "lth_core":
            raise ModuleNotFoundError("lth_core is not importable here")
sys.meta_path.insert(0, Refuse())
try:
    import lth_core
    raise SystemExit("lth_core was importable")
except ModuleNotFoundError:
    pass
import torch
from safetensors.torch import load_file, save_file
torch.set_num_threads(1)
sys.path.insert(0, {folder!r})
from load_ticket import load_ticket
t = load_ticket({folder!r})
x = load_file("inputs.safetensors")["x"]
with torch.no_grad():
    save_file({{"init": t.model()(x), "trained": t.model(trained=True)(x)}}, "outputs.safetensors")
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory, data_dir, mnist1d):
    """A tiny run and its level-2 ticket exported by `lth export-ticket`: (run, folder)."""
    root = tmp_path_factory.mktemp("export-store")
    run = lth_core.run(preset="quick", store=root, data_dir=data_dir, processes=1, progress=False,
                       iterations=20, rounds=2)
    out = tmp_path_factory.mktemp("export") / "ticket"
    assert main(["export-ticket", run.run_id, "--level", str(LEVEL), "--out", str(out), "--store", str(root)]) == 0
    return run, out


def _stored_outputs(run, state: dict, masks: dict, x: torch.Tensor) -> torch.Tensor:
    net = build(run.config.arch, 0)
    net.load_state_dict(state)
    with torch.no_grad():
        return apply_(net, masks).eval()(x)


def test_export_holds_the_stored_ticket(exported):
    """θ₀ at the survivors equals the stored θ₀, the mask equals the stored mask, pruned weights are exactly 0
    in θ₀ and in the trained weights, and θ₀ is not the trained network (the mistake of NNI issue 2313)."""
    run, out = exported
    tensors = load_file(str(out / "ticket.safetensors"))
    theta0 = run.store.read_state(run.run_id, layout.theta0(0))
    masks = run.store.read_masks(run.run_id, layout.mask(0, LEVEL, "ticket"))
    final = run.store.read_state(run.run_id, layout.final(0, LEVEL, "ticket"))
    for name, m in masks.items():
        assert torch.equal(tensors[f"mask/{name}"], m)
        assert torch.equal(tensors[f"theta0/{name}"][m], theta0[name][m])
        assert bool((tensors[f"theta0/{name}"][~m] == 0).all()) and bool((tensors[f"trained/{name}"][~m] == 0).all())
        assert torch.equal(tensors[f"trained/{name}"][m], final[name][m])
        assert not torch.equal(tensors[f"theta0/{name}"][m], final[name][m])
    meta = json.loads((out / "ticket.json").read_text())
    assert meta["run_id"] == run.run_id and meta["level"] == LEVEL and meta["init"] == "theta_0"
    assert meta["config"] == run.config.to_dict()
    alive = sum(int(m.sum()) for m in masks.values())
    assert meta["percent_remaining"] == pytest.approx(100 * alive / sum(m.numel() for m in masks.values()))
    assert meta["accuracy"]["test_acc_at_early_stop"] == pytest.approx(
        run.summary().query(f"level == {LEVEL} and arm == 'ticket'").test_acc_at_early_stop.iloc[0])


def test_plain_torch_loader_gives_the_stored_outputs(exported, mnist1d, tmp_path):
    """The folder's load_ticket.py, run where lth_core cannot be imported, rebuilds the network: its outputs
    on real test inputs equal the stored networks' (the ticket at θ₀, and trained)."""
    run, out = exported
    x = mnist1d.x_test[:256].contiguous()
    save_file({"x": x}, str(tmp_path / "inputs.safetensors"))
    repo = str(Path(lth_core.__file__).resolve().parents[1])
    subprocess.run([sys.executable, "-c", PLAIN.format(repo=repo, folder=str(out))], cwd=tmp_path, check=True)
    got = load_file(str(tmp_path / "outputs.safetensors"))
    masks = run.store.read_masks(run.run_id, layout.mask(0, LEVEL, "ticket"))
    for key, rel in (("init", layout.theta0(0)), ("trained", layout.final(0, LEVEL, "ticket"))):
        want = _stored_outputs(run, run.store.read_state(run.run_id, rel), masks, x)
        assert torch.equal(got[key], want), key


def test_api_save_writes_the_same_ticket(exported, tmp_path):
    """run.ticket(L).save(dir) writes what the command line writes."""
    run, out = exported
    mine = run.ticket(LEVEL).save(tmp_path / "t")
    a, b = load_file(str(out / "ticket.safetensors")), load_file(str(mine / "ticket.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("other_run, argv, message", [
    (None, ["--level", "7"], "level 7 is not in run .*; allowed: 0..2"),
    (None, ["--level", "1", "--trial", "3"], "trial 3 is not in run .*; allowed: 0..0"),
    (None, ["--level", "-1"], "--level must be an integer in"),
    ("0000000000000000", ["--level", "1"], "no run 0000000000000000 in .* or the gallery"),
])
def test_cli_bad_input_is_one_line(exported, tmp_path, capsys, other_run, argv, message):
    """A level or trial the run lacks, or a run the store lacks, exits 2 with one line naming the allowed."""
    run, _ = exported
    code = main(["export-ticket", other_run or run.run_id, *argv, "--out", str(tmp_path / "x"),
                 "--store", str(run.store.root)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert re.search(message, err), err
