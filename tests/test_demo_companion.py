"""The quick demo's companion in the gallery is the demo's own experiment: a fresh run of the demo
reproduces the companion's trial 0 exactly, so 'your trial + 4 computed earlier' joins trials of one
and the same experiment (lth_core.atlas.companion, lth_core.analysis.earlier)."""
from __future__ import annotations

from lth_core import atlas
from lth_core.analysis import earlier, results
from lth_core.execution import driver
from lth_core.presets import QUICK
from lth_core.store import gallery
from lth_core.store.run_store import Store


def test_a_fresh_demo_run_reproduces_the_companions_trial_0(tmp_path, data_dir, mnist1d):
    store = Store(tmp_path / "runs")
    run_id = driver.run(QUICK, store, data_dir=data_dir, processes=2)  # worker processes, as the app runs it
    yours = results.summary_frame(store, run_id)
    before = results.summary_frame(gallery.gallery_store(), atlas.companion(QUICK).run_id())
    assert set(yours.trial) == {0} and yours.level.max() == QUICK.levels - 1
    assert earlier.reproduces(yours, before) is True
    joined = earlier.join(yours, before)
    assert joined.trial.nunique() == atlas.TRIALS and earlier.trials_added(yours, joined) == atlas.TRIALS - 1
