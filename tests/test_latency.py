"""Latency helpers: the sparse form computes what the masked one does, timings are well-formed,
and the chart's caption states what the records say."""
import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from support.runs import latency_records
from lth_core.charts.latency import latency_caption, latency_figure, latency_findings, latency_frame
from lth_core.analysis.latency import SparseConv2d, masked_network, sparse_network, time_forward, time_group
from lth_core.models.architectures import build, layer_sizes, prunable_layers
from lth_core.pruning.magnitude import counts_after
from lth_core.presets import base_preset, get_preset
from lth_core.registry import get_arch_info
from lth_core.models.slim import n_params, slim_network, structured_mask, units_for_percent

FAST = dict(repeats=3, warmup=1, min_repeat_s=0.001)


def random_masks(model, density: float, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    return {n: torch.rand(params[n].shape, generator=g) < density for n in prunable_layers(model)}


def inputs(arch: str, n: int = 3) -> torch.Tensor:
    return torch.randn((n, *get_arch_info(arch).input_shapes[0]), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("arch", ["lenet300", "conv2", "resnet18"])
def test_sparse_forward_equals_masked_dense_forward(arch):
    """CSR Linear and im2col + CSR Conv2d compute the masked dense network's outputs."""
    model = build(arch, 0).eval()
    masks, x = random_masks(model, 0.3), inputs(arch)
    with torch.inference_mode():
        assert torch.allclose(sparse_network(model, masks)(x), masked_network(model, masks)(x), rtol=1e-4, atol=1e-6)


def test_sparse_conv_handles_stride_and_no_padding():
    """im2col geometry: stride 2 and padding 0 give the dense conv's output shape and values."""
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=0)
    x = torch.randn(2, 4, 9, 11)
    with torch.no_grad():
        assert torch.allclose(SparseConv2d(conv)(x), conv(x), rtol=1e-4, atol=1e-6)


def test_sparse_network_leaves_the_model_alone():
    """Making the sparse (or masked) form does not zero the caller's dense weights."""
    model = build("lenet300", 0)
    before = model.state_dict()["1.weight"].clone()
    sparse_network(model, random_masks(model, 0.1))
    masked_network(model, random_masks(model, 0.1))
    assert torch.equal(model.state_dict()["1.weight"], before)


def test_timing_is_ordered():
    """min <= q1 <= median <= q3 <= max, over the requested number of repeats."""
    t = time_forward(build("mlp1d", 0), inputs("mlp1d"), **FAST)
    assert t.min_s <= t.q1_s <= t.median_s <= t.q3_s <= t.max_s and t.repeats == 3


def test_time_forward_restores_the_thread_count():
    """The explicit thread count is for the measurement only."""
    before = torch.get_num_threads()
    time_forward(build("mlp1d", 0), inputs("mlp1d"), threads=1, **FAST)
    assert torch.get_num_threads() == before


def test_throughput_is_batch_over_latency():
    """Examples per second = batch size / seconds per batch."""
    t = time_forward(build("mlp1d", 0), inputs("mlp1d", 8), **FAST)
    assert t.throughput == pytest.approx(8 / t.median_s)


def test_time_group_times_every_network():
    """One Timing per network, each over the same number of repeats."""
    model = build("mlp1d", 0)
    out = time_group({"a": model, "b": masked_network(model, random_masks(model, 0.5))}, inputs("mlp1d"), **FAST)
    assert set(out) == {"a", "b"} and {t.repeats for t in out.values()} == {3}


def test_budget_cuts_repeats_but_keeps_three():
    """A tiny time budget leaves the minimum of 3 repeats, not fewer."""
    out = time_group({"a": build("mlp1d", 0)}, inputs("mlp1d"), repeats=9, warmup=1, min_repeat_s=0.001,
                     budget_s=1e-9)
    assert out["a"].repeats == 3


@pytest.mark.parametrize("arch", ["lenet300", "conv4"])
def test_structured_network_at_100_percent_is_the_dense_network(arch):
    """Slimming at 100% remaining removes nothing: the dense parameter count."""
    model = build(arch, 0)
    keep = {n: torch.arange(k) for n, k in units_for_percent(arch, 100.0).items()}
    assert n_params(slim_network(arch, model.state_dict(), structured_mask(arch, keep))) == n_params(model)


def _bench_script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_latency.py"
    spec = importlib.util.spec_from_file_location("bench_latency", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_masks_have_the_tickets_per_layer_counts():
    """The random masks timed keep exactly the survivors per layer that IMP would after 6 rounds."""
    sizes = {n: s for n, (_, s) in layer_sizes("lenet300").items()}
    kinds = {n: k for n, (k, _) in layer_sizes("lenet300").items()}
    want = counts_after(sizes, kinds, get_preset(base_preset(arch="lenet300")).pruning, 6)
    masks = _bench_script().ticket_masks("lenet300", 6, seed=0)
    assert {n: int(m.sum()) for n, m in masks.items()} == want


def test_frame_speedup_is_dense_over_form():
    """speedup = dense median / form median at the same level; the dense row is 1."""
    d = latency_frame(latency_records(5.0))
    assert list(d[d.kind == "dense"].speedup) == [1.0, 1.0, 1.0]
    assert d[(d.kind == "structured") & (d["round"] == 2)].speedup.iloc[0] == pytest.approx(100.0)


def test_findings_locate_where_sparse_beats_dense():
    """Sparse at 5 ms against dense at 10 ms only at 1%: it first beats dense there."""
    assert latency_findings(latency_records(5.0), "lenet300", 256)["sparse_first_faster_percent"] == 1.0


def test_caption_states_the_measured_ratio():
    """The caption's numbers come from the records (2.00x), not from a fixed text."""
    assert "2.00x faster than dense" in latency_caption(latency_records(5.0), "lenet300", 256)


def test_caption_says_when_sparse_never_wins():
    """If the sparse form is never faster, the caption says so."""
    assert "never beat dense" in latency_caption(latency_records(20.0), "lenet300", 256)


def test_figure_has_one_line_per_form():
    """Dense, masked, sparse and structured each get a trace, on a log x axis."""
    fig = latency_figure(latency_records(5.0), "lenet300", 256)
    assert len(fig.data) == 4 and fig.layout.xaxis.type == "log"
