"""Whether a run is complete in the store: every planned network's metrics and every stability
line present and intact."""
from __future__ import annotations

from lth_core import layout
from lth_core.plan import planned_tasks
from lth_core.store.run_store import Corrupt, Store


def is_complete(config, store: Store, run_id: str | None = None) -> bool:
    """Every planned task's metrics are in the store and intact (run_id: an older schema's run
    of this config; default, the current schema's)."""
    run_id = run_id or config.run_id()
    wanted = [layout.metrics(trial, level, arm) for trial, level, arm in planned_tasks(config)]
    wanted += [layout.stability(trial, level) for trial in range(config.trials) for level in config.stability_levels]
    for rel in wanted:
        try:
            store.read_json(run_id, rel)
        except (FileNotFoundError, Corrupt):
            return False
    return True
