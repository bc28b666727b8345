"""Robustness to noise in the *initialisation*, then retrained: the paper's protocol for noise.

As in Frankle & Carbin's appendix, the ticket's initial weights (theta_0, or theta_k when
rewinding) get Gaussian noise and the ticket trains again (same mask, same minibatch order):
how much do the exact initial values matter? (analysis.noise perturbs *trained* weights.)
Per prunable layer: theta_0 + scale * std(layer's theta_0) * N(0, 1) on survivors only, so
scale 1 is as large as the initial weights. Compared, paired by trial, with the ticket
(scale 0) and its re-initialisation. Stored in <run>/analysis/noise_init.json
({"t<trial>-L<level>-s<scale>": summary}) after every network, so it resumes.
"""
from __future__ import annotations

import pandas as pd
import torch

from lth_core.analysis import stats
from lth_core.training.early_stop import is_censored
from lth_core.analysis.results import summary_frame
from lth_core.analysis.spread import ACC, networks
from lth_core.lottery.state import RunState
from lth_core.lottery.tasks import execute, resolve_device
from lth_core.seeds import derive_seed
from lth_core.store.run_store import Corrupt, Store
from lth_core.training.loop import History

FILE = "analysis/noise_init.json"
DEFAULT_SCALES = (0.5, 1.0, 2.0)
PROTOCOL = ("noise added to the ticket's initial weights (scale x the layer's initialisation std), then the "
            "ticket retrained with the same mask and minibatch order (the paper's appendix)")


def noisy_init(theta0: dict, masks: dict, scale: float, generator: torch.Generator) -> dict:
    """theta0 with scale * std(layer's theta0) * N(0, 1) added to every masked layer's survivors
    (layers in sorted key order, noise drawn on the CPU); other entries unchanged. scale >= 0."""
    out = dict(theta0)
    for name in sorted(masks):
        w = theta0[name]
        z = torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.dtype)
        out[name] = (w + scale * float(w.double().std(correction=0)) * z) * masks[name].to(w.dtype)
    return out


def _key(trial: int, level: int, scale: float) -> str:
    return f"t{trial}-L{level:02d}-s{scale:g}"


def records(store: Store, run_id: str) -> dict:
    try:
        return store.read_json(run_id, FILE)["records"]
    except (FileNotFoundError, Corrupt):
        return {}


def compute(store: Store, run_id: str, levels: list[int], scales=DEFAULT_SCALES, data_dir=None,
            on_network=None) -> dict:
    """Train every missing (trial, level, scale) perturbed ticket of a finished run, in this process;
    returns the records. on_network(key) is called after each one is stored."""
    config = store.config(run_id)
    bad = [lv for lv in levels if not 1 <= lv < config.levels]
    if bad or any(float(s) <= 0 for s in scales):
        raise ValueError(f"levels must be in 1..{config.levels - 1} and scales > 0; got levels {levels}, "
                         f"scales {list(scales)}")
    run = RunState(config, store, data_dir, resolve_device("cpu"))
    found = records(store, run_id)
    for level in levels:
        for trial in range(config.trials):
            for i, scale in enumerate(scales):
                key = _key(trial, level, scale)
                if key in found:
                    continue
                spec = run.spec(trial, level, "ticket")
                gen = torch.Generator().manual_seed(derive_seed(config.seed + trial, "noise-init", level, i))
                spec.init_state = noisy_init(spec.init_state, spec.masks, float(scale), gen)
                spec.store_root, spec.want_final = None, False
                summary = History.from_dict(execute(spec)["history"]).summary()
                found[key] = {"trial": trial, "level": level, "scale": float(scale), **summary}
                store.write_json(run_id, FILE, {"protocol": PROTOCOL, "records": found})
                if on_network:
                    on_network(key)
    return found


def frame(store: Store, run_id: str) -> pd.DataFrame:
    """One row per perturbed network: trial, level, percent_remaining, scale, test accuracy at early stop,
    and whether its early stop is censored (lth_core.training.early_stop)."""
    config = store.config(run_id)
    pct = networks(summary_frame(store, run_id)).groupby("level").percent_remaining.mean()
    rows = [{"trial": r["trial"], "level": r["level"], "percent_remaining": float(pct.get(r["level"], float("nan"))),
             "scale": r["scale"], ACC: r[ACC],
             "censored": is_censored(r["early_stop_iteration"], config.training.iterations,
                                     config.start_iteration(r["level"], "ticket"))}
            for r in records(store, run_id).values()]
    return pd.DataFrame(rows, columns=["trial", "level", "percent_remaining", "scale", ACC, "censored"])


def comparisons(store: Store, run_id: str) -> pd.DataFrame:
    """Per (level, scale): the perturbed ticket minus the ticket, and minus the re-init, in points,
    paired by trial, with their intervals (stats.paired), and the censored share of each pair of groups
    (a comparison whose networks are mostly censored is not measurable with the run's budget)."""
    perturbed = frame(store, run_id)
    nets = networks(summary_frame(store, run_id))
    rows = []
    for (level, scale), g in perturbed.groupby(["level", "scale"]):
        mine = g.set_index("trial")[ACC]
        row = {"level": int(level), "percent_remaining": float(g.percent_remaining.mean()), "scale": float(scale),
               "perturbed": float(mine.mean())}
        for arm in ("ticket", "reinit"):
            theirs = nets[(nets.level == level) & (nets.arm == arm)]
            other = theirs.set_index("trial")[ACC]
            if len(other):
                row[arm] = float(other.mean())
                row[f"vs_{arm}"] = stats.paired((100 * (mine - other)).dropna())
                flags = pd.concat([g.censored.astype(bool), theirs.censored.astype(bool)])
                row[f"censored_vs_{arm}"] = float(flags.mean())
        rows.append(row)
    return pd.DataFrame(rows)
