"""Start or open a run from Python: lth_core.run and lth_core.open.

Where runs live follows the app and the command line (lth_core.service.settings: $LTH_STORE, else
./runs; the gallery is searched too); `store=` overrides. Nothing prints unless asked: a progress
bar (tqdm.auto, a widget in notebooks) shows when progress=True, or by default when the session is
interactive (a notebook, or a terminal on stderr).
"""
from __future__ import annotations

import sys
from pathlib import Path

from tqdm.auto import tqdm

from lth_core import layout
from lth_core.api.own import check_fits, names
from lth_core.api.handle import Run
from lth_core.config import ConfigError, ExperimentConfig, PruningConfig
from lth_core.execution import driver
from lth_core.presets import PRESETS, get_preset
from lth_core.service.settings import Settings
from lth_core.store import gallery
from lth_core.store.run_store import RUN_ID_RE, Store
from lth_core.store.runs import locate

OVERRIDES = ("target",)  # beyond the config's own fields: total fraction pruned, in (0, 1), which sets the rate


def interactive() -> bool:
    """A notebook (an IPython kernel) or a terminal on stderr: where a progress bar is welcome."""
    return "ipykernel" in sys.modules or sys.stderr.isatty()


class _Bar:
    """A tqdm bar fed by the driver's on_progress records (fraction of network-iterations done)."""

    def __init__(self, run_id: str):
        self.bar = tqdm(total=1000, desc=run_id, unit="‰", leave=True, file=sys.stderr,
                        bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}<{remaining}] {postfix}")

    def __call__(self, progress: dict) -> None:
        self.bar.n = int(1000 * progress.get("fraction", 0.0))
        self.bar.set_postfix_str(f"level {progress.get('level', 0)}/{progress.get('levels', 1) - 1}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def configure(config: ExperimentConfig | dict | None = None, preset: str = "quick", **overrides) -> ExperimentConfig:
    """The config a call describes: `config` (an ExperimentConfig or its dict), else the preset's, with
    `overrides` by field name (rate, rounds, iterations, trials, controls, ...; target sets the rate).
    A bad name or value raises ConfigError naming the allowed ones."""
    if config is None:
        if preset not in PRESETS:
            raise ConfigError("preset", f"unknown preset {preset!r}; allowed: {', '.join(PRESETS)}")
        config = get_preset(preset)
    elif isinstance(config, dict):
        config = ExperimentConfig.from_dict(config)
    elif not isinstance(config, ExperimentConfig):
        raise ConfigError("config", f"must be an ExperimentConfig or a dict, got {type(config).__name__}")
    if "target" in overrides:
        target = overrides.pop("target")
        overrides["rate"] = PruningConfig.rate_for_target(target, overrides.get("rounds", config.pruning.rounds))
    if "iterations" in overrides and "eval_every" not in overrides:
        overrides["eval_every"] = min(config.training.eval_every, overrides["iterations"])
    try:
        return config.replace(**overrides)
    except TypeError:  # dataclasses.replace on a name no config section has
        known = sorted({*ExperimentConfig.__dataclass_fields__, *PruningConfig.__dataclass_fields__,
                        *config.training.__dataclass_fields__, *OVERRIDES} - {"pruning", "training"})
        bad = next(k for k in overrides if k not in known)
        raise ConfigError(bad, f"unknown setting; allowed: {', '.join(known)}") from None


def _settings_store(store) -> Store:
    return Store(store if store is not None else Settings.from_env().store)


def run(config: ExperimentConfig | dict | None = None, *, preset: str = "quick", model=None, data=None,
        store: Path | str | None = None, data_dir: Path | str | None = None, processes: int | None = None,
        progress: bool | None = None, **overrides) -> Run:
    """Train a run (or open it at once when the store has it) and return it.

    config: an ExperimentConfig (or its dict); else `preset` (lth_core.presets.PRESETS) with `overrides`
    by field name, e.g. run(preset="quick", trials=3, rate=0.3). model: your own network, a factory
    fn(seed) -> torch.nn.Module defined in an importable module (or its 'module:function' name); data: your
    own {'train', 'val', 'test'} splits, each (inputs, labels) tensors or a torch Dataset (lth_core.api.own).
    store: the run store (default $LTH_STORE, else ./runs); data_dir: datasets (default $LTH_DATA_DIR, else
    ./data); processes: networks trained at once (default: every core); progress: a tqdm bar (None: only
    when interactive). An interrupted run resumes where it stopped."""
    data_path = Path(data_dir) if data_dir is not None else Settings.from_env().data_dir
    mine = names(model, data, data_path)
    config = configure(config, preset, **mine, **overrides)
    if mine:
        check_fits(config.arch, config.dataset, data_path)
    st = _settings_store(store)
    st.check_writable()
    show = interactive() if progress is None else bool(progress)
    bar = _Bar(config.run_id()) if show else None
    try:
        run_id = driver.run(config, st, data_dir=data_path, processes=processes, on_progress=bar)
        if bar is not None:  # a run served from the store reports no progress while it is fetched
            bar({**st.progress(run_id), "fraction": 1.0})
    finally:
        if bar is not None:
            bar.close()
    return Run(st, run_id, data_path)


def open_run(run: str | Path, *, store: Path | str | None = None) -> Run:
    """A stored run, by run id (searched in `store`, default $LTH_STORE or ./runs, then the gallery) or by
    the path of its folder. Opened read-only: reading never changes the store."""
    settings = Settings.from_env()
    text = str(run)
    if RUN_ID_RE.match(text):
        stores = [Store(store if store is not None else settings.store, readonly=True),
                  gallery.gallery_store(settings.gallery)]
        found = locate(text, *stores)
        if found is None:
            raise FileNotFoundError(f"no run {text} in {stores[0].root} or the gallery ({stores[1].root})")
        return Run(found, text, settings.data_dir)
    folder = Path(run)
    if not (folder / layout.CONFIG).is_file() or not RUN_ID_RE.match(folder.name):
        raise FileNotFoundError(f"{text!r} is neither a run id (16 lowercase hex digits) nor a run's folder "
                                "(<store>/<run id> holding config.json)")
    return Run(Store(folder.parent, readonly=True), folder.name, settings.data_dir)
