"""Linear interpolation between two trained networks (lth_core.lottery.stability): the invariants of the
error-barrier measurement, on two real networks trained from the same start with different
minibatch orders (MNIST-1D, a ticket mask at 50%)."""
from __future__ import annotations

import pytest
import torch

from support.configs import tiny_config
from lth_core.lottery import stability
from lth_core.models.architectures import build, prunable_layers
from lth_core.training.loop import cpu_copy, train

CONFIG = tiny_config(iterations=60, eval_every=60)


@pytest.fixture(scope="module")
def mask():
    """A random 50% mask of mlp1d's prunable layers (seeded)."""
    model = build("mlp1d", 0)
    return {n: torch.rand(p.shape, generator=torch.Generator().manual_seed(i)) < 0.5
            for i, (n, p) in enumerate(model.named_parameters()) if n in prunable_layers(model)}


@pytest.fixture(scope="module")
def pair(mnist1d, mask):
    """Two copies of one masked network trained from the same weights with different data orders:
    ((state, own test accuracy) for each), exactly what the engine's stability step compares."""
    out = []
    for data_seed in (11, 12):
        model = stability.masked_network("mlp1d", 0.0, build("mlp1d", 3).state_dict(), mask).train()
        history, _ = train(model, mask, mnist1d, CONFIG.training, data_seed)
        out.append((cpu_copy(model.state_dict()), history.test_acc[-1]))
    return out


@pytest.fixture(scope="module")
def line(pair, mask, mnist1d):
    (a, _), (b, _) = pair
    return stability.interpolation("mlp1d", 0.0, a, b, mask, mnist1d.x_test, mnist1d.y_test)


@pytest.mark.parametrize("end", [0, -1])
def test_the_ends_are_the_two_networks_own_test_errors(line, pair, end):
    """alpha = 0 is network a and alpha = 1 is network b: their errors are 1 - their recorded test accuracy."""
    assert line["test_error"][end] == 1 - pair[end][1]


def test_eleven_points_from_zero_to_one(line):
    """The default grid is 0, 0.1, ..., 1 (Frankle et al. 2020 evaluate about 11 points)."""
    assert line["alpha"] == [i / 10 for i in range(11)] and len(line["test_error"]) == 11


def test_the_barrier_is_the_maximum_minus_the_mean_of_the_ends(line):
    """The instability's definition, read off the returned errors."""
    e = line["test_error"]
    assert line["barrier"] == pytest.approx(max(e) - (e[0] + e[-1]) / 2, abs=1e-12)


def test_the_barrier_is_never_negative(line):
    """The maximum includes both ends, so it is at least their mean."""
    assert line["barrier"] >= 0


def test_identical_networks_have_no_barrier(pair, mask, mnist1d):
    """Interpolating a network with itself stays on that network: every point has its error."""
    a, acc = pair[0]
    out = stability.interpolation("mlp1d", 0.0, a, a, mask, mnist1d.x_test, mnist1d.y_test, points=5)
    assert out["barrier"] == 0 and out["test_error"] == [1 - acc] * 5


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 1.0])
def test_pruned_weights_stay_zero_along_the_path(alpha, mask):
    """Even when both states hold junk where the mask prunes, every blended network is masked."""
    a, b = build("mlp1d", 1).state_dict(), build("mlp1d", 2).state_dict()
    blended = stability.blend(a, b, alpha, mask)
    assert all(torch.all(blended[n][~m] == 0) for n, m in mask.items())


def test_junk_in_pruned_weights_does_not_change_the_errors(pair, mask, mnist1d):
    """The mask is applied before evaluating: unmasked states give the same line as masked ones."""
    (a, _), (b, _) = pair
    noisy = [{k: v + (torch.randn_like(v) * ~mask[k] if k in mask else 0) for k, v in s.items()} for s in (a, b)]
    x, y = mnist1d.x_test, mnist1d.y_test
    assert stability.interpolation("mlp1d", 0.0, *noisy, mask, x, y, points=3)["test_error"] == \
        stability.interpolation("mlp1d", 0.0, a, b, mask, x, y, points=3)["test_error"]


def test_the_midpoint_is_the_average_of_the_surviving_weights(mask):
    """alpha = 0.5 gives (a + b) / 2 on every surviving weight."""
    a, b = build("mlp1d", 1).state_dict(), build("mlp1d", 2).state_dict()
    mid = stability.blend(a, b, 0.5, mask)
    assert all(torch.allclose(mid[n][m], (a[n][m] + b[n][m]) / 2) for n, m in mask.items())


@pytest.mark.parametrize("points", [0, 1, 2.5])
def test_fewer_than_two_points_is_refused(points):
    """A line needs both ends."""
    with pytest.raises(ValueError):
        stability.alphas(points)


@pytest.fixture(scope="module")
def stored_line(tmp_path_factory, data_dir, mnist1d):
    """A real tiny run that trains the ticket twice at levels 0 and 2 (stability_levels)."""
    from lth_core.execution import driver
    from lth_core.store.run_store import Store
    store = Store(tmp_path_factory.mktemp("stability-run"))
    return store, driver.run(tiny_config(stability_levels=(0, 2)), store, data_dir=data_dir, processes=1)


@pytest.mark.parametrize("level", [0, 2])
@pytest.mark.parametrize("end, arm", [(0, "ticket"), (-1, "ticket_copy")])
def test_a_stored_lines_ends_are_the_stored_networks_accuracies(stored_line, level, end, arm):
    """Issue 14's check on what the engine stores: stability.json's ends are 1 - the final test accuracy
    in the ticket's and the copy's metrics records."""
    store, rid = stored_line
    line = store.read_json(rid, f"t0/L{level:02d}/stability.json")
    acc = store.read_json(rid, f"t0/L{level:02d}/{arm}.json")["history"]["test_acc"][-1]
    assert line["test_error"][end] == 1 - acc
