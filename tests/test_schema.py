"""Runs stored before a measurement changed keep their ids, open, and say what they lack."""
from __future__ import annotations

import pytest

from lth_core import claims, gallery, results
from lth_core.config import SCHEMA_VERSION

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
