"""`python -m lth_core run | list | gallery`: compute one experiment, list the store, fill the gallery."""
from __future__ import annotations

import json
import sys
import threading

from tqdm import tqdm

from lth_core.analysis import results
from lth_core.cli.args import UsageError, config_from_args, preset_name
from lth_core.cli.common import check_memory, executor_from_args, store_of, writable_store
from lth_core.execution import driver
from lth_core.service.settings import Settings
from lth_core.store import gallery
from lth_core.store.run_store import validate_run_id
from lth_core.store.runs import list_runs


def _progress_bar(store, run_id, stop: threading.Event):
    """Poll the store's progress record and draw it with tqdm on stderr."""
    bar = tqdm(total=1000, desc=run_id, unit="‰", file=sys.stderr, leave=True,
               bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}<{remaining}] {postfix}")
    while not stop.wait(0.5):
        prog = store.progress(run_id)
        if prog:
            bar.n = int(1000 * prog.get("fraction", 0))
            bar.set_postfix_str(f"level {prog.get('level', 0)}/{prog.get('levels', 1) - 1}")
    prog = store.progress(run_id)
    bar.n = int(1000 * prog.get("fraction", 0)) if prog else bar.n
    bar.close()


def cmd_run(a, settings: Settings) -> int:
    try:
        config = config_from_args(a)
    except ValueError as exc:  # ConfigError and registry errors name the field and the allowed values
        raise UsageError(str(exc)) from None
    check_memory(config, settings)
    store = writable_store(a, settings)
    if a.preset is None and (a.dataset or a.arch):
        print(f"note: no --preset given; settings without a flag come from preset {preset_name(a)!r}",
              file=sys.stderr)
    run_id = config.run_id()
    stop, thread = threading.Event(), None
    if sys.stderr.isatty():
        thread = threading.Thread(target=_progress_bar, args=(store, run_id, stop), daemon=True)
        thread.start()
    executor = executor_from_args(a, settings, config.device,
                                  warm=((config.dataset,), str(a.data_dir) if a.data_dir else None))
    try:
        driver.run(config, store, data_dir=a.data_dir, executor=executor)
    finally:
        executor.close()
        stop.set()
        if thread:
            thread.join()
    if a.json:
        print(json.dumps(results.run_json(store, run_id)))
    else:
        summary = results.summary_frame(store, run_id)
        agg = results.aggregate(summary[~summary.shared_dense])
        cols = ["level", "arm", "percent_remaining", "early_stop_iteration", "test_acc_at_early_stop", "train_acc"]
        print(f"run {run_id} in {store.run_dir(run_id)}")
        print(agg[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def cmd_list(a, settings: Settings) -> int:
    rows = list_runs(store_of(a, settings))
    if a.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no runs stored")
    for r in rows:
        extra = f" {100 * r['fraction']:.0f}%" if r["state"] == "running" else ""
        why = f" ({r['reason']})" if r.get("reason") else ""
        print(f"{r['run_id']}  {r['state']}{extra}{why}  {r['dataset']}/{r['arch']}  "
              f"{r['levels']} levels  controls={','.join(r['controls']) or '-'}")
    return 0


def cmd_gallery(a, settings: Settings) -> int:
    store = store_of(a, settings)
    root = a.gallery or settings.gallery
    for rid in a.run_ids:
        try:
            validate_run_id(rid)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not store.has_run(rid):
            raise UsageError(f"no run {rid} in {store.root}")
        print(gallery.add(store, rid, root))
    print(f"gallery size: {gallery.size_bytes(root) / 1e6:.2f} MB")
    return 0
