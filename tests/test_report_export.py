"""The exported report of a run (lth_core.report.export, `python -m lth_core report`), on a finished
gallery run, so no training is needed.

The browser tests open the HTML from file:// with every network request refused and count the
charts Plotly drew; they also print the PDF and write the slide PNGs. They need the playwright
Python package and Debian's /usr/bin/chromium (never `playwright install`): locally a missing
browser skips; under CI=true it fails (tests/support/browser.py's require_browser).
"""
from __future__ import annotations

import html

import shutil
import subprocess

import pytest

from lth_core.charts import captions

from lth_core.analysis import stats, claims, results
from lth_core.report import export

from lth_core.store import gallery
from lth_core.cli.main import main
from support.apptest import assert_clean, open_page, shutdown_manager
from support.browser import CHROME_ARGS, CHROMIUM, require_browser

RUN = gallery.SHORTENED  # 469a0665c381dd61: fashion-mnist, lenet300, every control, 3 trials


@pytest.fixture(scope="module")
def store():
    s = gallery.gallery_store()
    if not s.has_run(RUN):
        pytest.fail(f"gallery run {RUN} is missing from {s.root}")
    return s


@pytest.fixture(scope="module")
def report(store) -> str:
    return export.report_html(store, RUN)


def test_html_inlines_plotly_once_and_loads_nothing(report):
    from plotly.offline import get_plotlyjs
    assert report.count("plotly.js v") == 1  # the library's banner: inlined once, not per chart
    rest = report.replace(get_plotlyjs(), "")
    assert len(rest) < len(report) and "<script src" not in rest and "http://" not in rest and "https://" not in rest


def test_html_has_every_chart_caption_table_and_the_config(report, store):
    for name in export.FIGURES:
        assert f'id="chart-{name}"' in report
        assert captions.CHARTS[name].split(":")[0][:60].replace("'", "&#x27;") in report
    assert "The numbers" in report and 'class="dataframe numbers"' in report
    assert RUN in report and "fashion-mnist" in report and "lenet300" in report
    assert f"{store.config(RUN).training.iterations}" in report


def test_title_names_the_data_and_network_in_words(report):
    """The report's title says 'Fashion-MNIST, LeNet-300-100', not internal ids (the config section keeps them)."""
    h1 = report.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "Fashion-MNIST, LeNet-300-100" in h1 and "fashion-mnist" not in h1 and "lenet300" not in h1, h1


def test_claims_rows_match_lth_core_claims(report, store):
    found = claims.all_claims(results.summary_frame(store, RUN))
    rows = export.claim_rows(found)
    assert [r["claim"] for r in rows] == sorted(found)
    for r in rows:
        assert r["verdict"] == found[r["claim"]]["verdict"] and r["numbers"]
    assert report.count("<tr class=claim>") == len(found)
    assert html.escape(stats.RULES, quote=True) in report  # how sure the verdicts are, stated once above them


@pytest.mark.parametrize("argv, says", [
    (["report"], "required: run_id"),
    (["report", "nope"], "invalid run id 'nope'"),
    (["report", "0123456789abcdef"], "no run 0123456789abcdef"),
    (["report", RUN, "--bogus"], "unrecognized arguments: --bogus"),
])
def test_cli_rejects_bad_input_with_one_line(argv, says, capsys, tmp_path):
    assert main(argv + ["--store", str(tmp_path)] if len(argv) > 1 else argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_out_must_be_a_folder(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    assert main(["report", RUN, "--out", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_cli_writes_the_html_of_a_gallery_run(capsys, tmp_path):
    assert main(["report", RUN, "--out", str(tmp_path), "--store", str(tmp_path / "empty")]) == 0
    out = tmp_path / f"report-{RUN}.html"
    assert capsys.readouterr().out.split() == [str(out)]
    assert out.stat().st_size > 1_000_000  # plotly.js is inside


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The CLI's full export (HTML, PDF, PNGs) into one folder."""
    require_browser()
    out = tmp_path_factory.mktemp("report")
    assert main(["report", RUN, "--pdf", "--png", "--out", str(out)]) == 0
    return out


@pytest.mark.browser
def test_html_draws_every_chart_offline_from_file(exported):
    sync_playwright = require_browser()
    html = exported / f"report-{RUN}.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            page = browser.new_page()
            requested = []
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                       else (requested.append(route.request.url), route.abort()))
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=20_000)
            drawn = page.evaluate("""[...document.querySelectorAll('.js-plotly-plot')].filter(
                el => el.data && el.data.length > 0 && el.querySelectorAll('.main-svg .trace').length > 0).length""")
            rows = page.locator("tr.claim").count()
        finally:
            browser.close()
    assert drawn == len(export.FIGURES)
    assert rows >= 3 and not errors and not requested


@pytest.mark.browser
def test_pdf_and_slide_pngs(exported):
    from PIL import Image
    for name in export.FIGURES:
        with Image.open(exported / f"{RUN}-{name}.png") as im:
            assert im.size == (1920, 1080)
            assert len(set(im.convert("L").resize((64, 36)).tobytes())) > 8  # a drawing, not a blank
    pdf = (exported / f"report-{RUN}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Subtype /Image") >= len(export.FIGURES)  # every chart printed as a picture
    if shutil.which("pdftoppm"):  # scripts/setup.sh --test installs poppler-utils
        subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(exported / f"report-{RUN}.pdf"),
                        str(exported / "page")], check=True)
        assert list(exported.glob("page*.png"))


@pytest.mark.parametrize("page", ["pages/results.py", "pages/compare.py"])
def test_results_and_compare_pages_offer_the_report(page, tmp_path, monkeypatch):
    """Both pages show the report's download button for a gallery run, without building it."""
    from lth_core.store.gallery import GALLERY_ROOT, gallery_store
    monkeypatch.setenv("LTH_STORE", str(tmp_path / "runs"))
    monkeypatch.setenv("LTH_GALLERY", str(GALLERY_ROOT))
    try:
        at = open_page(page, {"run": RUN} if page.endswith("results.py") else None)
        assert_clean(at)
        labels = [d.proto.label for d in at.get("download_button")]
        shown = [rid[:6] for rid in gallery_store().run_ids()]  # Compare offers one per run it shows
        assert any("Report" in lb or RUN[:6] in lb or lb[-6:] in shown for lb in labels), labels
    finally:
        shutdown_manager(tmp_path / "runs")
