"""docs/BEYOND.md is generated from the gallery's beyond-the-paper examples and stays in step with them."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import report_beyond  # noqa: E402
from lth_core.store import gallery  # noqa: E402
from lth_core.presets import get_preset  # noqa: E402


def test_every_example_is_in_the_gallery():
    """Each question's example ships with the code, so the doc and the Learn page's buttons have it."""
    store = gallery.gallery_store()
    assert all(store.has_run(get_preset(p).run_id()) for p in report_beyond.EXAMPLES.values())


def test_committed_doc_is_what_the_generator_writes(tmp_path):
    """No number in docs/BEYOND.md was typed: regenerating it from the stored runs gives the same text."""
    out = tmp_path / "BEYOND.md"
    assert report_beyond.main(["--store", str(tmp_path / "empty"), "--out", str(out)]) == 0
    assert out.read_text() == (ROOT / "docs" / "BEYOND.md").read_text()
    for section in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5."):
        assert section in out.read_text()
