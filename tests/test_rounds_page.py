"""The Rounds page on the committed gallery's headline run: it opens and steps a round without error.
Driven headless with AppTest; nothing is trained."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lth_core.store.gallery import GALLERY_ROOT, HEADLINE
from support.apptest import APP, assert_clean, shutdown_manager


def test_page_renders_on_the_gallery_run(monkeypatch, tmp_path):
    """The page opens on the headline gallery run (θ₀ rebuilt from the seed) and steps a round without error."""
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(GALLERY_ROOT))
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update({"run": HEADLINE})
        at.run()
        at.query_params.clear()
        at.query_params.update({"run": HEADLINE})
        at.switch_page("pages/rounds.py").run()
        assert_clean(at)
        assert any("What to look for" in m.value for m in at.markdown)
        next(b for b in at.button if "Next" in b.label).click().run()
        assert_clean(at)
        assert any("round 1)" in m.value for m in at.markdown)
    finally:
        shutdown_manager(tmp_path / "runs")
