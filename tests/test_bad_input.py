"""Bad input at every entry point: random values never crash, oversized requests are refused by name.

Entry points: the command line (lth_core.cli.main.main), configs (fields and from_dict of random JSON),
run ids (validate_run_id and the store's paths), and the app's URL query parameters
(ui.params.values_from_params; the pages themselves, opened at hostile addresses, are in test_app_errors.py).
Fuzzed command lines never train: driver.run is replaced by a stub that only records that a
valid config got through; a few real tiny runs check the valid path end to end.
"""
from __future__ import annotations

import contextlib
import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from support.configs import tiny_config
from lth_core.cli import main as cli
from lth_core.execution import driver
from lth_core.config import ConfigError, ExperimentConfig, PruningConfig, TrainingConfig
from lth_core.fields import MAX_ITERATIONS, MAX_NETWORK_ITERATIONS, MAX_ROUNDS, MAX_TRIALS
from lth_core.presets import get_preset
from lth_core.registry import DATASETS
from lth_core.store.run_store import RUN_ID_RE, Store, validate_run_id
from ui import params

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
N_TRAIN = DATASETS["mnist1d"].n_train

text = st.text(max_size=20).filter(lambda s: "\x00" not in s)  # a real argv cannot hold NUL
numbers = st.one_of(st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True, allow_infinity=True))
hostile = st.sampled_from(["", "-1", "0", "1e9", "1e999", "nan", "-inf", "0x10", "1_000", " 3", "3.0", "１２",
                           "../", "../../etc/passwd", "/etc/passwd", "none", "reinit,bogus", "reinit,,random",
                           "a\nb", "\x1b[31mred", "\u202e", "💥" * 30, "9" * 5000, "-h", "--help"])
value = st.one_of(text, numbers.map(str), hostile)


# --- the command line -------------------------------------------------------------
class _WouldRun(Exception):
    """driver.run was reached with a valid config (the stub stands in for training)."""


def _flags() -> list[str]:
    out = set()
    for sub in cli.build_parser()._subparsers._group_actions[0].choices.values():
        for action in sub._actions:
            out.update(action.option_strings)
    return sorted(out)


def call_main(argv: list[str]) -> tuple[int | None, str, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = cli.main(argv)
        except _WouldRun:
            code = None
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_training(monkeypatch, tmp_path):
    """driver.run only records that it was reached."""
    def stub(config, *a, **k):
        assert isinstance(config, ExperimentConfig)
        raise _WouldRun()

    monkeypatch.setattr(driver, "run", stub)
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "store"))


@FUZZ
@given(command=st.sampled_from(["run", "list", "work", "gallery", "bogus", "--json", ""]),
       rest=st.lists(st.one_of(st.sampled_from(_flags()), value), max_size=8))
def test_cli_returns_2_with_one_line_or_runs_never_raises(no_training, tmp_path, command, rest):
    """A typo or hostile value costs the user one error line and exit code 2, never a traceback."""
    argv = [command, *rest] if command else rest
    if command == "gallery":
        argv += ["--gallery", str(tmp_path / "gallery")]
    code, out, err = call_main(argv)
    if code is None:
        return  # a valid config reached the engine
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)


@pytest.mark.parametrize("flags, limit", [
    (["--rounds", "1000"], str(MAX_ROUNDS)),
    (["--iterations", str(10**9)], str(MAX_ITERATIONS)),
    (["--trials", "100"], str(MAX_TRIALS)),
    (["--batch-size", str(N_TRAIN + 1)], str(N_TRAIN)),
    (["--iterations", "120000", "--rounds", "40", "--controls", "reinit,random,oneshot", "--trials", "10"],
     f"{MAX_NETWORK_ITERATIONS:,}"),
])
def test_cli_refuses_oversized_requests_stating_the_limit(no_training, flags, limit):
    """A request beyond a limit must say what the limit is, so the user can fix it at once."""
    code, _, err = call_main(["run", *flags])
    assert code == 2 and len(err.splitlines()) == 1 and limit in err, err


@pytest.mark.parametrize("argv", [["-h"], ["run", "--help"], ["list", "-h"]])
def test_cli_help_returns_0(no_training, argv):
    """--help prints the usage and returns 0 instead of raising SystemExit from main()."""
    code, out, _ = call_main(argv)
    assert code == 0 and "usage:" in out


@pytest.mark.parametrize("extra", [[], ["--rate", "0.3", "--controls", "none"], ["--target", "0.5", "--seed", "7"]])
def test_cli_valid_tiny_runs_succeed(tmp_path, data_dir, extra):
    """The valid path end to end: a tiny run exits 0 and prints its results as JSON."""
    argv = ["run", "--iterations", "20", "--eval-every", "10", "--rounds", "1", "--processes", "1",
            "--store", str(tmp_path), "--json", *extra]
    code, out, err = call_main(argv)
    assert code == 0, err
    assert len(json.loads(out)["levels"]) == 2


# --- configs --------------------------------------------------------------------------
json_values = st.recursive(st.none() | st.booleans() | numbers | st.integers() | text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                           max_leaves=10)
BASE = get_preset("quick").to_dict()


@st.composite
def mutated_config_dicts(draw):
    """The quick preset's dict with a few fields (top-level or nested) replaced by random JSON."""
    d = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from([None, "pruning", "training"]))
        target = d if where is None or not isinstance(d.get(where), dict) else d[where]
        key = draw(st.one_of(st.sampled_from(sorted(target) or ["x"]), text))
        target[key] = draw(json_values)
    if draw(st.booleans()):
        d = draw(json_values)  # sometimes not even an object
    return d


def assert_valid_or_config_error(make):
    try:
        config = make()
    except ValueError as exc:  # ConfigError is a ValueError; both must say what is wrong
        assert str(exc).strip()
        return None
    assert ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    return config


@FUZZ
@given(d=mutated_config_dicts())
def test_from_dict_of_random_json_raises_only_config_errors(d):
    """A config read from a file or a request is either valid or refused with a ValueError message."""
    assert_valid_or_config_error(lambda: ExperimentConfig.from_dict(d))


@FUZZ
@given(cls=st.sampled_from([ExperimentConfig, PruningConfig, TrainingConfig]), data=st.data())
def test_config_fields_with_random_values_raise_only_config_errors(cls, data):
    """Every field, given any value, is validated: ValueError with a message, never TypeError & co."""
    import dataclasses
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = data.draw(st.dictionaries(st.sampled_from(names), json_values | st.integers(-10**400, 10**400),
                                       max_size=3))
    if cls is ExperimentConfig:
        assert_valid_or_config_error(lambda: cls(**kwargs))
    else:
        try:
            cls(**kwargs)
        except ValueError as exc:
            assert str(exc).strip()


@pytest.mark.parametrize("make, limit", [
    (lambda: PruningConfig(rounds=1000), f"[1, {MAX_ROUNDS}]"),
    (lambda: TrainingConfig(iterations=10**9), f"[1, {MAX_ITERATIONS}]"),
    (lambda: ExperimentConfig(trials=100), f"[1, {MAX_TRIALS}]"),
    (lambda: tiny_config(batch_size=N_TRAIN + 1), f"[1, {N_TRAIN}]"),
    (lambda: get_preset("quick").replace(iterations=120_000, rounds=40, controls=("reinit", "random", "oneshot"),
                                         trials=10), f"{MAX_NETWORK_ITERATIONS:,}"),
    (lambda: ExperimentConfig(seed=2**31), "2147483647"),
])
def test_oversized_configs_are_refused_stating_the_limit(make, limit):
    """1,000 rounds, 10^9 iterations, 100 trials, a batch larger than the data: refused, limit named."""
    with pytest.raises(ConfigError) as info:
        make()
    assert limit in str(info.value)


# --- run ids ----------------------------------------------------------------------------
ESCAPES = ["../", "..", "../../etc/passwd", "/etc/passwd", "/", "~root", "0123456789abcdef/../../x",
           "0123456789abcdef\n", "\n0123456789abcdef", "0123456789abcde\x00", "０１２３４５６７８９ａｂｃｄｅｆ",
           "0123456789ABCDEF", "0" * 10_000, "", " 0123456789abcdef", "0123456789abcdef ", "C:\\Windows"]


@pytest.mark.parametrize("raw", ESCAPES + [None, 17, b"0123456789abcdef", ["0123456789abcdef"]])
def test_validate_run_id_refuses_anything_but_16_hex_digits(raw):
    """A run id becomes a folder name; nothing else may pass (a trailing newline included)."""
    with pytest.raises(ValueError):
        validate_run_id(raw)


@FUZZ
@given(raw=st.one_of(text, st.text(alphabet="0123456789abcdef./\\\n ", min_size=14, max_size=18),
                     st.sampled_from(ESCAPES)))
def test_no_run_id_leaves_the_store(tmp_path, raw):
    """Whatever the address says, a run folder is a direct child of the store root, or refused."""
    store = Store(tmp_path)
    try:
        path = store.run_dir(raw)
    except ValueError as exc:
        assert "16 lowercase hex digits" in str(exc) and len(str(exc)) < 200
        return
    assert RUN_ID_RE.match(raw) and path.parent == store.root and path.name == raw


# --- the app: URL query parameters and form values --------------------------------------
PARAM_NAMES = list(params.PARAMS) + ["run", "evil", ""]


@FUZZ
@given(qp=st.dictionaries(st.sampled_from(PARAM_NAMES) | text, value, max_size=8))
def test_query_params_never_raise_and_give_a_config_or_a_config_error(qp):
    """Any address gives form values plus messages; the values make a config or a ConfigError."""
    values, problems = params.values_from_params(qp)
    assert all(isinstance(p, str) and p for p in problems)
    assert set(values) == set(params.defaults())
    assert_valid_or_config_error(lambda: params.config_from_values(values))


@FUZZ
@given(qp=st.dictionaries(st.sampled_from(list(params.PARAMS)), value, max_size=6))
@example(qp={"rate": "0.001953125"})
def test_a_valid_form_survives_the_round_trip_through_the_url(qp):
    """Whatever the form ends up holding, its URL reproduces the same experiment without complaint."""
    values, _ = params.values_from_params(qp)
    try:
        config = params.config_from_values(values)
    except ValueError:
        return
    again, problems = params.values_from_params(params.params_from_values(values))
    assert problems == [] and params.config_from_values(again) == config


@pytest.mark.parametrize("name, raw, limit", [("rounds", "1000", str(MAX_ROUNDS)),
                                              ("iterations", str(10**9), str(MAX_ITERATIONS)),
                                              ("trials", "100", str(MAX_TRIALS))])
def test_oversized_url_values_are_refused_stating_the_limit(name, raw, limit):
    """The address gets the same limits as the form, with the limit in the message."""
    values, problems = params.values_from_params({name: raw})
    assert any(name in p and limit in p for p in problems), problems
    assert values[name] == params.defaults()[name]
