"""Config invariants: a stable run id that hashes every field, and validation that names the field."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lth_core.config import ConfigError, ExperimentConfig, PruningConfig, TrainingConfig
from lth_core.fields import FIELDS, MAX_ITERATIONS, fields_of
from lth_core.presets import PRESETS

REPO = Path(__file__).resolve().parents[1]

# One change per leaf field (some fields need a companion change to stay valid).
FIELD_CHANGES = {
    "dataset": dict(dataset="fashion-mnist", arch="lenet300"),
    "arch": dict(dataset="fashion-mnist", arch="lenet300"),
    "reset": dict(reset="rewind", rewind_iteration=5),
    "rewind_iteration": dict(reset="rewind", rewind_iteration=5),
    "controls": dict(controls=("reinit", "random")),
    "trials": dict(trials=2),
    "seed": dict(seed=1),
    "device": dict(device="cpu"),
    "strategy": dict(strategy="global"),
    "rate": dict(rate=0.3),
    "conv_rate": dict(conv_rate=0.1),
    "output_rate": dict(output_rate=0.2),
    "rounds": dict(rounds=3),
    "iterations": dict(iterations=3001),
    "optimizer": dict(optimizer="sgd"),
    "lr": dict(lr=1e-3),
    "batch_size": dict(batch_size=64),
    "eval_every": dict(eval_every=50),
    "dropout": dict(dropout=0.5),
    "momentum": dict(momentum=0.95),  # unused by Adam, still part of the identity
    "weight_decay": dict(weight_decay=1e-4),
    "warmup": dict(warmup=10),
    "lr_milestones": dict(lr_milestones=(1000, 2000)),
    "lr_factor": dict(lr_factor=0.5),  # unused without milestones, still part of the identity
    "augment": dict(dataset="fashion-mnist", arch="lenet300", augment=True),
    "criterion": dict(criterion="movement"),
    "granularity": dict(granularity="neurons"),
    "criteria": dict(criteria=("movement",)),
    "at_init": dict(at_init=("snip",)),
    "at_init_checks": dict(at_init=("snip",), at_init_checks=("shuffle",)),
    "at_init_scope": dict(at_init=("snip",), at_init_scope="layer"),  # global vs layer: tests/test_schema.py
    "stability_levels": dict(stability_levels=(1,)),
}


def _leaf_fields() -> set[str]:
    top = {f.name for f in dataclasses.fields(ExperimentConfig)} - {"pruning", "training"}
    return (top | {f.name for f in dataclasses.fields(PruningConfig)}
            | {f.name for f in dataclasses.fields(TrainingConfig)})


def test_field_changes_cover_every_field():
    """A new config field without a run-id case here would be unguarded by the next test."""
    assert set(FIELD_CHANGES) == _leaf_fields()


@pytest.mark.parametrize("name", sorted(FIELD_CHANGES))
def test_run_id_changes_with_every_field(name):
    """Hashing every field (defaults included) keeps a changed setting from reusing old results."""
    base = ExperimentConfig()
    assert base.replace(**FIELD_CHANGES[name]).run_id() != base.run_id()


def test_run_id_is_stable_across_processes():
    """The run id names folders on disk, so it must not depend on the process (hash seed, dict order)."""
    code = "from lth_core.config import ExperimentConfig; print(ExperimentConfig().run_id())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == ExperimentConfig().run_id()


def test_run_id_is_16_hex_digits():
    """The store accepts only 16 lowercase hex digits as a folder name."""
    rid = ExperimentConfig().run_id()
    assert len(rid) == 16 and set(rid) <= set("0123456789abcdef")


def test_run_id_ignores_how_a_default_was_spelled():
    """Derived defaults are resolved before hashing: rate/2 spelled out is the same experiment."""
    implicit = ExperimentConfig(pruning=PruningConfig(rate=0.2))
    explicit = ExperimentConfig(pruning=PruningConfig(rate=0.2, conv_rate=0.2, output_rate=0.1))
    assert implicit.run_id() == explicit.run_id()


def test_to_dict_holds_every_nested_field():
    """The hash is over to_dict, so every nested field (at its default too) must be in it."""
    d = ExperimentConfig().to_dict()
    assert (set(d["pruning"]) | set(d["training"]) | set(d)) - {"pruning", "training"} == _leaf_fields()


# (changes to the default config, field named by the error, range text in the message)
INVALID = [
    (dict(rate=0), "rate", "(0, 1)"),
    (dict(rate=1), "rate", "(0, 1)"),
    (dict(rate=-0.1), "rate", "(0, 1)"),
    (dict(rate=math.nan), "rate", "(0, 1)"),
    (dict(rate=math.inf), "rate", "(0, 1)"),
    (dict(rounds=0), "rounds", "[1, 40]"),
    (dict(rounds=41), "rounds", "[1, 40]"),
    (dict(dataset="imagenet"), "dataset", "allowed: mnist1d, fashion-mnist, mnist, cifar10"),
    (dict(dataset="mnist1d", arch="lenet300"), "arch", "allowed: mlp1d"),
    (dict(iterations=MAX_ITERATIONS + 1), "iterations", f"[1, {MAX_ITERATIONS}]"),
    (dict(trials=100), "trials", "[1, 10]"),
    (dict(batch_size=7001), "batch_size", "[1, 7000]"),
    (dict(lr=math.nan), "lr", "(0, 10]"),
    (dict(lr=math.inf), "lr", "(0, 10]"),
]


@pytest.mark.parametrize("changes, field, allowed", INVALID,
                         ids=[f"{f}={list(c.values())[-1]}" for c, f, _ in INVALID])
def test_invalid_value_raises_config_error_naming_field(changes, field, allowed):
    """The form shows the error next to the field, so the error must say which field."""
    with pytest.raises(ConfigError) as info:
        ExperimentConfig().replace(**changes)
    assert info.value.field == field


@pytest.mark.parametrize("changes, field, allowed", INVALID,
                         ids=[f"{f}={list(c.values())[-1]}" for c, f, _ in INVALID])
def test_config_error_message_names_field_and_range(changes, field, allowed):
    """A user fixing a bad value needs the field and the allowed range in the message itself."""
    with pytest.raises(ConfigError) as info:
        ExperimentConfig().replace(**changes)
    msg = str(info.value)
    assert msg.startswith(f"{field}:") and allowed in msg


@pytest.mark.parametrize("target, rounds", [(0.2, 1), (0.5, 3), (0.9, 10), (0.99, 20), (0.999, 40)])
def test_rate_for_target_reaches_target(target, rounds):
    """The paper's (1-p)^n rule: n rounds at the returned rate prune exactly the target fraction."""
    p = PruningConfig.rate_for_target(target, rounds)
    assert (1 - p) ** rounds == pytest.approx(1 - target, rel=1e-12)


def test_rate_for_target_recovers_paper_rate():
    """20% per round for 9 rounds is 1-0.8^9 in total; inverting it gives 20% back."""
    assert PruningConfig.rate_for_target(1 - 0.8 ** 9, 9) == pytest.approx(0.2, rel=1e-12)


ROUND_TRIP = [cfg for _, cfg in PRESETS.values()] + [
    ExperimentConfig(reset="rewind", rewind_iteration=7, controls=("random", "oneshot"), trials=3, seed=9,
                     pruning=PruningConfig(strategy="global", rate=0.35, rounds=5),
                     training=TrainingConfig(optimizer="sgd", lr=0.05, warmup=100, weight_decay=1e-4)),
]


@pytest.mark.parametrize("cfg", ROUND_TRIP, ids=[*PRESETS, "custom"])
def test_from_dict_round_trips_through_json(cfg):
    """The store keeps config.json; reading it back must give the same config (and run id)."""
    back = ExperimentConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.run_id() == cfg.run_id()


@pytest.mark.parametrize("where", ["top", "pruning", "training"])
def test_from_dict_rejects_unknown_keys(where):
    """A typo in a stored or hand-written config must not be silently dropped."""
    d = ExperimentConfig().to_dict()
    (d if where == "top" else d[where])["bogus_field"] = 1
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(d)
    assert info.value.field == "bogus_field"


def test_every_config_field_is_declared_once_in_the_field_specs():
    """lth_core.fields declares each dataclass field exactly once, in its own section, and nothing more:
    the CLI, the URL and the form are generated from it."""
    for section, kind in ((None, ExperimentConfig), ("pruning", PruningConfig), ("training", TrainingConfig)):
        declared = [f.name for f in fields_of(section)]
        own = [f.name for f in dataclasses.fields(kind) if f.name not in ("pruning", "training")]
        assert sorted(declared) == sorted(own), section
    assert len({f.name for f in FIELDS}) == len(FIELDS)


def test_config_validation_imports_neither_torch_nor_the_memory_estimate():
    """Validation is pure: building every preset imports neither torch nor lth_core.resources."""
    code = ("import sys; from lth_core.presets import PRESETS\n"
            "from lth_core.config import ExperimentConfig\n"
            "[ExperimentConfig.from_dict(c.to_dict()) for _, c in PRESETS.values()]\n"
            "print(sorted(m for m in ('torch', 'lth_core.resources') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
                         env={k: v for k, v in os.environ.items() if not k.startswith("LTH_")})
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr[-1000:]
