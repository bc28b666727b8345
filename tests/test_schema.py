"""Runs stored before a measurement changed keep their ids, open, and say what they lack."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lth_core.analysis import claims, results

from lth_core.store import gallery
from lth_core.config import SCHEMA_VERSION, ExperimentConfig

STORE = gallery.gallery_store()
OLD = [rid for rid in STORE.run_ids() if STORE.config(rid).schema_of(rid) == 1]


def test_gallery_has_schema_one_runs():
    """The shortened-budget examples predate schema 2 and stay in the gallery."""
    assert len(OLD) >= 2


@pytest.mark.parametrize("run_id", OLD)
def test_old_run_id_is_its_config_hashed_under_schema_one(run_id):
    """A shared ?run= link to an old run keeps working: its id is still derivable from its config."""
    config = STORE.config(run_id)
    assert config.run_id(1) == run_id and config.run_id() != run_id and SCHEMA_VERSION > 1


@pytest.mark.parametrize("run_id", OLD)
def test_old_run_opens_with_a_note_on_training_accuracy(run_id):
    """Its results load, flagged as lacking measured training accuracy, and (f) is not judged on the proxy."""
    summary = results.summary_frame(STORE, run_id)
    assert len(summary) and not summary.train_measured.any()
    assert results.measurement_notes(summary) == [results.TRAIN_PROXY_NOTE]
    assert claims.claim_f(summary)["verdict"] == claims.NOT_MEASURABLE


def test_headline_preset_reproduces_the_gallery_run():
    """`--preset lenet-fmnist-full` is exactly the gallery's headline run (same id: served, not retrained)."""
    from lth_core.presets import get_preset
    assert get_preset("lenet-fmnist-full").run_id() == gallery.HEADLINE


def test_headline_run_is_current_and_complete():
    """The headline run measures what schema 2 measures, and every planned network is stored."""
    from lth_core.store.complete import is_complete
    config = STORE.config(gallery.HEADLINE)
    assert config.schema_of(gallery.HEADLINE) == SCHEMA_VERSION and is_complete(config, STORE, gallery.HEADLINE)


def test_headline_dense_networks_stop_before_sixty_percent_of_the_budget():
    """The budget is long enough: in every trial the dense network's minimum validation loss
    (raw and smoothed) falls before 60% of the training iterations."""
    s = results.summary_frame(STORE, gallery.HEADLINE)
    dense = s[(s.level == 0) & ~s.shared_dense]
    limit = 0.6 * STORE.config(gallery.HEADLINE).training.iterations
    assert len(dense) == 5 and (dense.early_stop_iteration < limit).all() and (dense.early_stop_smoothed < limit).all()


@pytest.mark.parametrize("run_id", STORE.run_ids())
def test_every_gallery_run_still_hashes_to_its_folder(run_id):
    """Config fields added since (ADDED_FIELDS, e.g. criteria, granularity) leave every stored id unchanged."""
    assert STORE.config(run_id).schema_of(run_id) is not None


def test_at_init_scope_keeps_stored_ids_and_separates_new_runs():
    """A config stored before at_init_scope existed loads as 'layer' with its old id; 'global' is a new run;
    a run without at-init arms hashes as it always did."""
    stored = json.loads((Path(__file__).parent / "data" / "legacy_at_init_config.json").read_text())["data"]
    legacy = ExperimentConfig.from_dict(stored)  # the at-init example's config as stored before the field
    assert legacy.at_init_scope == "layer" and legacy.run_id() == "d8fc91b11065e990"
    assert legacy.replace(at_init_scope="global").run_id() != legacy.run_id()
    plain = ExperimentConfig()
    assert plain.replace(at_init_scope="layer").run_id() == plain.run_id()
