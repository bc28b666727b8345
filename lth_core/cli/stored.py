"""`python -m lth_core report | analyse`: a stored run's report files, and analyses without retraining
(noise on the trained weights: lth_core.analysis.analyses; noise on the initial weights, retrained:
lth_core.analysis.noise_init)."""
from __future__ import annotations

import json
import sys

import torch

from lth_core.analysis import analyses, noise_init, stats
from lth_core.cli.args import UsageError, one_line
from lth_core.cli.common import store_of
from lth_core.report import export
from lth_core.service import analysis_jobs
from lth_core.service.protocol import EXIT_FAILED
from lth_core.service.settings import Settings
from lth_core.store import gallery
from lth_core.store.run_store import validate_run_id
from lth_core.store.runs import locate


def _valid_id(text: str) -> str:
    try:
        return validate_run_id(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _find(run_id: str, a, settings: Settings, readonly: bool):
    """The store holding the run: --store (or $LTH_STORE) first, then the gallery."""
    stores = [store_of(a, settings, readonly=readonly), gallery.gallery_store(settings.gallery)]
    store = locate(run_id, *stores)
    if store is None:
        raise UsageError(f"no run {run_id} in {stores[0].root} or the gallery ({stores[1].root})")
    return store


def cmd_report(a, settings: Settings) -> int:
    run_id = _valid_id(a.run_id)
    store = _find(run_id, a, settings, readonly=True)
    if a.out.exists() and not a.out.is_dir():
        raise UsageError(f"--out {a.out} is a file, not a folder")
    try:
        paths = export.write_report(store, run_id, a.out, pdf=a.pdf, png=a.png)
    except export.NothingToReport as exc:
        raise UsageError(str(exc)) from None
    except export.ExportFailed as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        raise UsageError(f"cannot write into {a.out}: {exc.strerror or exc}") from None
    for path in paths:
        print(path)
    return 0


def cmd_noise_init(a, settings: Settings) -> int:
    run_id = _valid_id(a.run_id)
    store = store_of(a, settings)
    if not store.has_run(run_id):
        raise UsageError(f"no run {run_id} in {store.root} (the gallery is read-only: copy the run to a store)")
    try:
        noise_init.compute(store, run_id, a.levels, a.scales or noise_init.DEFAULT_SCALES, a.data_dir)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for r in noise_init.comparisons(store, run_id).itertuples():
        parts = [f"vs {arm}: {stats.ci_text(getattr(r, f'vs_{arm}'))}" for arm in ("ticket", "reinit")
                 if isinstance(getattr(r, f"vs_{arm}", None), stats.Paired)]
        print(f"level {r.level} ({r.percent_remaining:.3g}%), noise x{r.scale:g}: {100 * r.perturbed:.2f}%; "
              + "; ".join(parts))
    return 0


def cmd_analyse(a, settings: Settings) -> int:
    if a.analysis == "noise-init":
        return cmd_noise_init(a, settings)
    run_id = _valid_id(a.run_id)
    store = _find(run_id, a, settings, readonly=False)
    try:
        params = analyses.noise_params(store.config(run_id), a.levels, a.scales, a.draws, a.arms)
        torch.set_num_threads(1)  # like `work`: numbers independent of the thread count, no oversubscription
        rec = (analyses.compute_noise(store, run_id, **params, data_dir=a.data_dir) if store.readonly
               else analysis_jobs.run_noise_job(store, run_id, params, a.data_dir))
    except analyses.AnalysisError as exc:  # bad levels/scales/arms, no stored weights, an unfinished run
        raise UsageError(str(exc)) from None
    if a.json:
        print(json.dumps(rec))
        return 0
    summary = analyses.noise_summary(analyses.noise_frame(rec))
    table = summary.pivot_table(index=["level", "arm"], columns="scale", values="mean", sort=False) * 100
    print(f"run {run_id}: mean test accuracy (%) over {int(summary.trials.max())} trial(s) "
          f"and {params['draws']} draw(s), by noise scale (relative to each layer's weight std)")
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    return 0
