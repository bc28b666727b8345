"""Slimming a structured ticket: the physically smaller network computes what the masked one does."""
import pytest
import torch

from lth_core.pruning.masks import apply_
from lth_core.models.architectures import build, prunable_layers
from lth_core.registry import get_arch_info
from lth_core.models.slim import SUPPORTED, alive_units, chain, n_params, slim_network, structured_mask, units_for_percent


def random_structured_mask(arch: str, seed: int, inner_density: float = 1.0) -> dict:
    """A structured mask drawn at random, written from the convention alone (not from lth_core.models.slim):
    each hidden layer loses a random set of units (rows), and the next layer loses the matching
    columns (after a flatten, all spatial positions of the channel). inner_density < 1 also drops
    random single weights, as unstructured pruning inside surviving units would."""
    g = torch.Generator().manual_seed(seed)
    model = build(arch, 0)
    params = dict(model.named_parameters())
    names = list(prunable_layers(model))
    masks = {n: torch.ones_like(params[n], dtype=torch.bool) for n in names}
    for name, nxt in zip(names[:-1], names[1:]):
        units = masks[name].shape[0]
        dead = torch.randperm(units, generator=g)[: int(torch.randint(0, units, (1,), generator=g))]
        masks[name][dead] = False
        m = masks[nxt]
        m.view(m.shape[0], units, -1)[:, dead] = False  # channel-major flatten: channel j owns a block
    if inner_density < 1:
        for n in names:
            masks[n] &= torch.rand(masks[n].shape, generator=g) < inner_density
    return masks


def ticket(arch: str, seed: int) -> dict:
    """Glorot weights and random non-zero biases (a removed unit's bias must not leak into the outputs)."""
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.randn(v.shape, generator=g) * 0.1 if k.endswith("bias") else v)
            for k, v in build(arch, seed).state_dict().items()}


def masked_outputs(arch, state, masks, x):
    model = build(arch, 0)
    model.load_state_dict(state)
    apply_(model, masks).eval()
    with torch.no_grad():
        return model(x)


def slim_outputs(arch, state, masks, x):
    with torch.no_grad():
        return slim_network(arch, state, masks)(x)


def inputs(arch: str, n: int = 5) -> torch.Tensor:
    return torch.randn((n, *get_arch_info(arch).input_shapes[0]), generator=torch.Generator().manual_seed(7))


@pytest.mark.parametrize("arch", SUPPORTED)
def test_slim_equals_masked_network(arch):
    """Removing whole units is exact: same outputs as the masked network on random inputs."""
    state, masks, x = ticket(arch, 1), random_structured_mask(arch, 2), inputs(arch)
    assert torch.allclose(slim_outputs(arch, state, masks, x), masked_outputs(arch, state, masks, x),
                          rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", SUPPORTED)
def test_slim_has_surviving_weights_and_biases_only(arch):
    """A structured ticket's slim network holds exactly its surviving weights plus the kept units' biases."""
    masks = random_structured_mask(arch, 3)
    slim = slim_network(arch, ticket(arch, 1), masks)
    biases = sum(int(m.reshape(m.shape[0], -1).any(dim=1).sum()) for m in masks.values())
    assert n_params(slim) == sum(int(m.sum()) for m in masks.values()) + biases


@pytest.mark.parametrize("arch", ["lenet300", "conv2"])
def test_slim_exact_with_unstructured_pruning_inside_units(arch):
    """Pruned weights inside surviving units stay zero in the slim network."""
    state, masks, x = ticket(arch, 1), random_structured_mask(arch, 4, inner_density=0.5), inputs(arch)
    assert torch.allclose(slim_outputs(arch, state, masks, x), masked_outputs(arch, state, masks, x),
                          rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", ["mlp1d", "conv4"])
def test_unstructured_mask_removes_no_unit(arch):
    """An unstructured mask at 20% leaves every unit with a survivor: nothing to slim."""
    g = torch.Generator().manual_seed(5)
    model = build(arch, 0)
    params = dict(model.named_parameters())
    masks = {n: torch.rand(params[n].shape, generator=g) < 0.2 for n in prunable_layers(model)}
    assert n_params(slim_network(arch, ticket(arch, 1), masks)) == n_params(model)


@pytest.mark.parametrize("arch", ["mlp1d", "conv4"])
def test_unstructured_mask_slim_equals_masked(arch):
    """With nothing removed, the slim network still computes the masked network's outputs."""
    g = torch.Generator().manual_seed(5)
    model = build(arch, 0)
    params = dict(model.named_parameters())
    masks = {n: torch.rand(params[n].shape, generator=g) < 0.2 for n in prunable_layers(model)}
    state, x = ticket(arch, 1), inputs(arch)
    assert torch.allclose(slim_outputs(arch, state, masks, x), masked_outputs(arch, state, masks, x),
                          rtol=1e-5, atol=1e-5)


def test_unit_with_empty_row_but_live_outgoing_weights_stays():
    """A unit whose incoming row is pruned still emits relu(bias) if its outgoing weights live: it must stay."""
    masks = {n: torch.ones(s.shape, dtype=torch.bool) for n, s in ticket("mlp1d", 0).items() if n.endswith("weight")}
    masks["1.weight"][7] = False
    state, x = ticket("mlp1d", 1), inputs("mlp1d")
    assert 7 in alive_units(masks, "mlp1d")["1.weight"].tolist()
    assert torch.allclose(slim_outputs("mlp1d", state, masks, x), masked_outputs("mlp1d", state, masks, x),
                          rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", SUPPORTED)
def test_structured_mask_is_the_convention(arch):
    """structured_mask(alive_units(m)) rebuilds any structured mask m exactly."""
    masks = random_structured_mask(arch, 6)
    rebuilt = structured_mask(arch, alive_units(masks, arch))
    assert all(torch.equal(rebuilt[n], masks[n]) for n in masks)


@pytest.mark.parametrize("arch", ["lenet300", "conv6"])
def test_units_for_percent_at_100_keeps_every_unit(arch):
    """At 100% remaining no unit is removed."""
    assert units_for_percent(arch, 100.0) == {l.name: l.units for l in chain(arch)[:-1]}


@pytest.mark.parametrize("percent", [51.0, 6.9, 1.8])
def test_units_for_percent_reaches_the_target(percent):
    """The structured network at p% keeps p% of the weights, to within 10% of the target."""
    masks = structured_mask("lenet300", {n: torch.arange(k) for n, k in units_for_percent("lenet300", percent).items()})
    kept = 100 * sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values())
    assert kept == pytest.approx(percent, rel=0.1)


@pytest.mark.parametrize("arch", ["vgg19", "resnet18"])
def test_unsupported_arch_names_the_supported_ones(arch):
    """Batch-norm / residual networks are refused with a message listing what is supported."""
    with pytest.raises(ValueError, match="lenet300"):
        alive_units({}, arch)
