"""The paper's VGG-19 / ResNet-18 protocols as configs: global pruning with the output layer whole,
step learning-rate schedules, crop/flip augmentation, their presets, and the run ids of old runs.

CIFAR-10 is not needed (nor downloaded): augmentation and training run on random CIFAR-shaped
tensors, pruning on random weights of the real layer shapes.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from lth_core.store.gallery import HEADLINE
import torch
from torch import nn

from lth_core.lottery import batched
from lth_core.training import loop as training

from lth_core.cli import args, main as cli

from lth_core.execution import driver
from lth_core.lottery import state

from lth_core.models import architectures as models
from lth_core.data.augment import PAD, crop_flip, draws
from lth_core.config import ConfigError, ExperimentConfig, PruningConfig, TrainingConfig
from lth_core.data.datasets import Data
from lth_core.pruning.masks import apply_, ones_like
from lth_core.presets import PRESETS, get_preset
from lth_core.pruning.magnitude import counts_after
from lth_core.pruning.rounds import prune
from lth_core.registry import ARCHITECTURES
from lth_core.store.run_store import Store
from lth_core.lottery.tasks import TaskSpec
from ui import params

GALLERY = Path(__file__).resolve().parents[1] / "gallery"
DEEP = ("vgg19", "resnet18")
GLOBAL_0 = PruningConfig(strategy="global", rate=0.2, output_rate=0.0)


def flat_layers(arch: str):
    """(kinds, random weights, full masks) of an architecture's prunable layers, flattened."""
    sizes = models.layer_sizes(arch)
    g = torch.Generator().manual_seed(0)
    weights = {n: torch.randn(s, generator=g) for n, (_, s) in sizes.items()}
    return {n: k for n, (k, _) in sizes.items()}, weights, {n: torch.ones(s, dtype=torch.bool) for n, (_, s) in
                                                            sizes.items()}


def parse(*argv):
    return args.config_from_args(args.build_parser().parse_args(["run", *argv]))


# --- the output layer under global pruning ------------------------------------------------------
@pytest.mark.parametrize("arch", DEEP)
@pytest.mark.parametrize("strategy", ["global", "layerwise"])
def test_output_rate_zero_keeps_the_output_layer_whole(arch, strategy):
    """The paper's 'fc 0%': two rounds later every output weight survives."""
    kinds, weights, masks = flat_layers(arch)
    cfg = PruningConfig(strategy=strategy, rate=0.2, output_rate=0.0)
    for _ in range(2):
        masks = prune(weights, masks, kinds, cfg)
    out = next(n for n, k in kinds.items() if k == "output")
    assert bool(masks[out].all())


@pytest.mark.parametrize("arch", DEEP)
def test_global_counts_are_exact_with_the_output_layer_whole(arch):
    """% remaining is exact: the pool loses round(0.2 x alive) per round, the output layer nothing."""
    kinds, weights, masks = flat_layers(arch)
    sizes = {n: m.numel() for n, m in masks.items()}
    for r in (1, 2):
        masks = prune(weights, masks, kinds, GLOBAL_0)
        want = counts_after(sizes, kinds, GLOBAL_0, r)
        pool = sum(int(m.sum()) for n, m in masks.items() if kinds[n] != "output")
        assert pool == want["_pool"] and sum(int(m.sum()) for m in masks.values()) == sum(want.values())


@pytest.mark.parametrize("arch", DEEP)
def test_global_is_the_default_for_the_deep_networks(arch):
    """A config that names VGG-19 or ResNet-18 and no pruning gets the paper's: global, output 0%."""
    p = ExperimentConfig(dataset="cifar10", arch=arch).pruning
    assert (p.strategy, p.output_rate) == ("global", 0.0)


def test_layerwise_networks_keep_the_paper_rule():
    """Conv-2 and the rest stay layer-wise with the output layer at half the rate."""
    p = ExperimentConfig(dataset="cifar10", arch="conv2", pruning={"rate": 0.3}).pruning
    assert (p.strategy, p.output_rate) == ("layerwise", 0.15)


@pytest.mark.parametrize("value", [-0.1, 1.0])
def test_output_rate_outside_zero_to_one_is_refused(value):
    """0 is allowed (never pruned); below 0 or 1 and above are not, and the range is named."""
    with pytest.raises(ConfigError, match=r"output_rate: .*\[0, 1\)"):
        PruningConfig(output_rate=value)


# --- learning-rate schedule -------------------------------------------------------------------
SCHEDULE = [  # (TrainingConfig changes, step index, learning rate)
    (dict(), 0, 0.1),
    (dict(warmup=10), 0, 0.01),
    (dict(warmup=10), 4, 0.05),
    (dict(warmup=10), 50, 0.1),
    (dict(lr_milestones=(20, 30)), 19, 0.1),
    (dict(lr_milestones=(20, 30)), 20, 0.01),
    (dict(lr_milestones=(20, 30)), 30, 0.001),
    (dict(lr_milestones=(20, 30), lr_factor=0.5), 99, 0.025),
    (dict(warmup=20, lr_milestones=(10,)), 9, 0.05),   # warm-up and drop multiply
    (dict(warmup=20, lr_milestones=(10,)), 14, 0.0075),
]


@pytest.mark.parametrize("changes, it, lr", SCHEDULE, ids=[f"{c}@{i}" for c, i, _ in SCHEDULE])
def test_lr_at(changes, it, lr):
    """Warm-up ramps (it + 1) / warmup; each milestone passed multiplies by lr_factor."""
    cfg = TrainingConfig(iterations=100, eval_every=100, optimizer="sgd", lr=0.1, **changes)
    assert training.lr_at(cfg, it) == pytest.approx(lr, rel=1e-12)


def test_stacked_trainer_uses_the_same_schedule():
    """One function sets the rate for both loops, so they cannot drift apart."""
    assert batched.set_lr is training.set_lr


@pytest.mark.parametrize("milestones", [(5, 3), (0,), (100,), "1,a", (1.5,)])
def test_bad_milestones_are_refused_by_name(milestones):
    """Milestones must be increasing iterations inside the run."""
    with pytest.raises(ConfigError, match="lr_milestones: .*increasing iterations in \\[1, 99\\]"):
        TrainingConfig(iterations=100, eval_every=100, lr_milestones=milestones)


# --- augmentation -----------------------------------------------------------------------------
X = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
CENTRE, NO_FLIP = torch.full((6, 2), PAD), torch.zeros(6, dtype=torch.bool)


def test_centre_crop_without_flip_is_the_identity():
    """Offset (PAD, PAD) and no flip leave every image exactly as it was."""
    assert torch.equal(crop_flip(X, CENTRE, NO_FLIP), X)


def test_flip_mirrors_left_right():
    """A flip at the centre offset is torch.flip over the width."""
    assert torch.equal(crop_flip(X, CENTRE, ~NO_FLIP), X.flip(3))


def test_corner_crop_shifts_in_zeros():
    """Offset (0, 0) moves the image down-right by PAD, with zero padding above and to the left."""
    y = crop_flip(X, torch.zeros(6, 2, dtype=torch.long), NO_FLIP)
    assert torch.equal(y[..., PAD:, PAD:], X[..., :-PAD, :-PAD])
    assert not y[..., :PAD, :].any() and not y[..., :, :PAD].any()


def _augmented(seed: int, steps: int = 3) -> list[torch.Tensor]:
    stream = draws(60, 6, seed, "cpu")
    return [crop_flip(X, *next(stream)) for _ in range(steps)]


def test_augmentation_keeps_the_shape():
    """[N, 3, 32, 32] in, [N, 3, 32, 32] out."""
    assert all(y.shape == X.shape for y in _augmented(0))


def test_augmentation_is_determined_by_its_seed():
    """The same seed gives the same crops and flips, so a run is reproducible."""
    assert all(torch.equal(a, b) for a, b in zip(_augmented(7), _augmented(7)))


def test_augmentation_differs_between_seeds():
    """Another seed draws other crops and flips."""
    assert not all(torch.equal(a, b) for a, b in zip(_augmented(7), _augmented(8)))


def test_augmentation_changes_the_batch():
    """Random crops and flips really move pixels (no silent no-op)."""
    assert not any(torch.equal(y, X) for y in _augmented(0))


def test_augment_is_refused_for_non_image_data():
    """MNIST-1D is a 1-D signal: cropping and flipping make no sense, and the error says where they do."""
    with pytest.raises(ConfigError, match="augment: .*allowed for: fashion-mnist, mnist, cifar10"):
        ExperimentConfig(training={"augment": True})


@pytest.mark.parametrize("augment", [False, True])
def test_augmented_networks_train_alone(augment):
    """The stacked trainer has no per-network augmentation, so augmented networks are not stacked."""
    spec = TaskSpec(key="k", arch="conv2", dropout=0.0, training=TrainingConfig(augment=augment),
                    dataset="cifar10", data_dir=None, device="cpu", init_state={}, masks={}, data_seed=0)
    assert batched.can_stack(spec) is not augment


# --- a real (tiny) training run on CIFAR-shaped tensors ----------------------------------------
def fake_cifar(n: int = 16) -> Data:
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)
    return Data(x, y, x[:8], y[:8], x[8:], y[8:], x[:8], y[:8])


TINY = TrainingConfig(iterations=2, eval_every=2, optimizer="sgd", lr=0.1, batch_size=8, warmup=1,
                      lr_milestones=(1,), lr_factor=0.5, augment=True)


def train_tiny(seed: int = 0):
    """ResNet-18 (BatchNorm, global pruning) for 2 augmented steps; (model, history, optimizer)."""
    model = models.build("resnet18", seed=0)
    masks = ones_like(model, models.prunable_layers(model))
    apply_(model, masks)
    made, real = [], training.make_optimizer
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training, "make_optimizer", lambda p, c: made.append(real(p, c)) or made[-1])
        history, _ = training.train(model, masks, fake_cifar(), TINY, seed=seed)
    return model, history, made[0]


def test_tiny_augmented_run_trains_and_measures():
    """Two steps through the real loop: one evaluation point, finite numbers."""
    _, history, _ = train_tiny()
    assert history.iteration == [2] and all(map(torch.isfinite, torch.tensor(history.val_loss)))


def test_tiny_run_ends_on_the_scheduled_rate():
    """The optimizer holds lr_at(cfg, last step): warm-up done, one drop taken."""
    _, _, opt = train_tiny()
    assert [g["lr"] for g in opt.param_groups] == [training.lr_at(TINY, 1)] == [0.05]


def test_tiny_augmented_run_is_reproducible():
    """The same data seed gives bit-identical weights: the crops come from the seed, not the clock."""
    a, b = train_tiny(3)[0].state_dict(), train_tiny(3)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_training_loop_augments_every_step(monkeypatch):
    """crop_flip runs once per optimizer step when the config asks for it."""
    calls = []
    monkeypatch.setattr(training, "crop_flip", lambda x, s, f: calls.append(len(x)) or crop_flip(x, s, f))
    train_tiny()
    assert calls == [TINY.batch_size] * TINY.iterations


# --- presets ----------------------------------------------------------------------------------
EPOCH_64 = 45_000 // 64  # 703 full batches of 64
PROTOCOL = {
    "vgg19-cifar10": dict(arch="vgg19", iterations=160 * EPOCH_64, batch_size=64, lr=0.1, warmup=0,
                          lr_milestones=(80 * EPOCH_64, 120 * EPOCH_64), reset="init"),
    "vgg19-cifar10-warmup": dict(arch="vgg19", iterations=160 * EPOCH_64, batch_size=64, lr=0.1, warmup=10_000,
                                 lr_milestones=(80 * EPOCH_64, 120 * EPOCH_64), reset="init"),
    "vgg19-cifar10-rewind": dict(arch="vgg19", iterations=160 * EPOCH_64, batch_size=64, lr=0.1, warmup=0,
                                 lr_milestones=(80 * EPOCH_64, 120 * EPOCH_64), reset="rewind"),
    "resnet18-cifar10": dict(arch="resnet18", iterations=30_000, batch_size=128, lr=0.1, warmup=0,
                             lr_milestones=(20_000, 25_000), reset="init"),
    "resnet18-cifar10-warmup": dict(arch="resnet18", iterations=30_000, batch_size=128, lr=0.03, warmup=20_000,
                                    lr_milestones=(20_000, 25_000), reset="init"),
    "resnet18-cifar10-rewind": dict(arch="resnet18", iterations=30_000, batch_size=128, lr=0.1, warmup=0,
                                    lr_milestones=(20_000, 25_000), reset="rewind"),
}


@pytest.mark.parametrize("name", PROTOCOL)
def test_deep_presets_follow_the_paper(name):
    """SGD with momentum 0.9, the paper's budget, batch, drops (/10), warm-up, augmentation, global 20%
    with the output layer whole."""
    c, want = get_preset(name), PROTOCOL[name]
    t, p = c.training, c.pruning
    got = dict(arch=c.arch, iterations=t.iterations, batch_size=t.batch_size, lr=t.lr, warmup=t.warmup,
               lr_milestones=t.lr_milestones, reset=c.reset)
    assert got == want and c.dataset == "cifar10"
    assert (t.optimizer, t.momentum, t.lr_factor, t.weight_decay, t.augment) == ("sgd", 0.9, 0.1, 1e-4, True)
    assert (p.strategy, p.rate, p.output_rate) == ("global", 0.2, 0.0)


@pytest.mark.parametrize("name", [n for n in PROTOCOL if n.endswith("-rewind")])
def test_rewind_presets_rewind_early(name):
    """Late resetting rewinds to an early iteration: a few hundred to a few thousand, under 5% of training."""
    c = get_preset(name)
    assert 100 <= c.rewind_iteration <= 2000 and c.rewind_iteration < 0.05 * c.training.iterations


def test_deep_presets_fit_the_work_limit_with_one_trial():
    """Every preset constructs (validation included) and the deep ones say they use 1 trial."""
    for name in PROTOCOL:
        assert get_preset(name).trials == 1 and "1 trial" in PRESETS[name][0]


def test_deep_preset_ladder_reaches_the_papers_smallest_ticket():
    """20 rounds at 20% reach below the 1.5% remaining where the paper's VGG-19 tickets end."""
    assert state.percent_ladder(get_preset("vgg19-cifar10"))[-1] < 1.5


# --- dropout ----------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", DEEP)
def test_dropout_is_refused_where_there_is_no_fc_layer(arch):
    """VGG-19 and ResNet-18 would ignore dropout silently; the error names the networks that take it."""
    with pytest.raises(ConfigError, match="dropout: .*allowed for: mlp1d, lenet300, conv2, conv4, conv6"):
        ExperimentConfig(dataset="cifar10", arch=arch, training={"dropout": 0.5})


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_registry_knows_which_networks_use_dropout(arch):
    """ArchInfo.dropout says exactly whether the built network has a Dropout layer."""
    with torch.device("meta"):
        net = models._BUILDERS[arch](0.5)
    assert any(isinstance(m, nn.Dropout) for m in net.modules()) == ARCHITECTURES[arch].dropout


# --- command line -----------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["conv2-cifar10", "conv4-cifar10", "conv6-cifar10"])
def test_rate_flag_keeps_a_presets_own_conv_rate(preset):
    """--rate changes the fc rate; the preset's conv rate stays, its derived output rate follows."""
    c = parse("--preset", preset, "--rate", "0.3")
    assert (c.pruning.rate, c.pruning.conv_rate, c.pruning.output_rate) == \
        (0.3, get_preset(preset).pruning.conv_rate, 0.15)


def test_rate_flag_keeps_an_unpruned_output_layer():
    """VGG-19's output 0% is not 'half the rate': --rate leaves it at 0."""
    assert parse("--preset", "vgg19-cifar10", "--rate", "0.3").pruning.output_rate == 0.0


@pytest.mark.parametrize("dataset, preset", [("fashion-mnist", "lenet-fmnist"), ("mnist", "lenet-mnist"),
                                             ("cifar10", "conv2-cifar10"), ("mnist1d", "quick")])
def test_dataset_without_preset_starts_from_the_datasets_own(dataset, preset):
    """Unflagged settings (eval interval, budget, optimizer) come from the dataset's protocol."""
    assert parse("--dataset", dataset) == get_preset(preset)


def test_arch_without_preset_starts_from_its_own_protocol():
    """--dataset cifar10 --arch vgg19 is the VGG-19 protocol, not Conv-2's settings on VGG-19."""
    assert parse("--dataset", "cifar10", "--arch", "vgg19") == get_preset("vgg19-cifar10")


def test_dataset_without_preset_says_which_preset_filled_in(monkeypatch, tmp_path):
    """One line on stderr names the preset, before any training starts."""
    class Reached(Exception):
        pass

    def stub(*a, **k):
        raise Reached
    monkeypatch.setattr(driver, "run", stub)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(Reached):
        cli.main(["run", "--dataset", "fashion-mnist", "--store", str(tmp_path)])
    assert err.getvalue().splitlines() == [
        "note: no --preset given; settings without a flag come from preset 'lenet-fmnist'"]


@pytest.mark.parametrize("flags, field, value", [
    (["--output-rate", "0"], "output_rate", 0.0),
    (["--lr-milestones", "20000,25000"], "lr_milestones", (20_000, 25_000)),
    (["--lr-milestones", "none"], "lr_milestones", ()),
    (["--lr-factor", "0.2"], "lr_factor", 0.2),
    (["--no-augment"], "augment", False),
    (["--warmup", "500"], "warmup", 500),
    (["--weight-decay", "0.0005"], "weight_decay", 5e-4),
])
def test_protocol_flags_reach_the_config(flags, field, value):
    """Every protocol setting has a flag, so the form's 'same experiment' command is complete."""
    c = parse("--preset", "resnet18-cifar10", *flags)
    assert getattr(c.pruning if field == "output_rate" else c.training, field) == value


# --- the Run page's URL -------------------------------------------------------------------------
@pytest.mark.parametrize("name, raw, allowed", [("augment", "yes", "true, false"),
                                                ("lr_milestones", "5,3", "strictly increasing iterations"),
                                                ("lr_factor", "2", "[0.001, 1]"),
                                                ("output_rate", "-0.1", "[0, 0.999]")])
def test_bad_url_values_name_the_allowed_values(name, raw, allowed):
    """A bad address value is reported with what is allowed, and its default is used."""
    values, problems = params.values_from_params({name: raw})
    assert len(problems) == 1 and f"`{name}`" in problems[0] and allowed in problems[0]
    assert values[name] == params.defaults()[name]


def test_url_accepts_the_vgg19_protocol():
    """Milestones, factor, augmentation and a whole output layer under global pruning read back."""
    values, problems = params.values_from_params({
        "dataset": "cifar10", "arch": "vgg19", "strategy": "global", "output_rate": "0", "augment": "true",
        "lr_milestones": "100,200", "lr_factor": "0.5", "iterations": "300", "eval_every": "100"})
    c = params.config_from_values(values)
    assert not problems and c.pruning.output_rate == 0.0 and c.pruning.strategy == "global"
    assert (c.training.lr_milestones, c.training.lr_factor, c.training.augment) == ((100, 200), 0.5, True)


def test_url_naming_a_deep_network_gets_its_paper_pruning():
    """?arch=resnet18 without a strategy prunes globally with the output layer whole."""
    values, _ = params.values_from_params({"dataset": "cifar10", "arch": "resnet18"})
    p = params.config_from_values(values).pruning
    assert (p.strategy, p.output_rate) == ("global", 0.0)


# --- run ids of runs stored under schema 1 -------------------------------------------------------
GALLERY_RUNS = sorted(p.name for p in GALLERY.iterdir() if (p / "config.json").is_file())
SCHEMA_1_RUNS = ("469a0665c381dd61", "54637ff2d80f965d")  # the shortened-budget runs, stored before schema 2


@pytest.mark.parametrize("run_id", GALLERY_RUNS)
def test_gallery_runs_keep_their_ids(run_id):
    """config.json without the new fields loads, and hashes to its folder's name under the schema it
    was stored with (the shortened-budget runs: schema 1)."""
    config = Store(GALLERY, readonly=True).config(run_id)
    assert config.run_id(config.schema_of(run_id)) == run_id
    assert config.schema_of(run_id) == (1 if run_id in SCHEMA_1_RUNS else 2)


@pytest.mark.parametrize("run_id", GALLERY_RUNS)
def test_a_new_field_set_matches_no_schema_1_run(run_id):
    """A run stored before milestones existed cannot have used them: setting one claims no stored id."""
    config = Store(GALLERY, readonly=True).config(run_id).replace(lr_milestones=(10,))
    assert config.schema_of(run_id) is None
