"""A report of one run that travels: one self-contained HTML file, a PDF and slide-sized PNGs.

The HTML holds the config, every chart (interactive, plotly.js inlined so it opens offline),
its caption, the numbers per level and arm, and the paper's claims. The PDF is headless
Chromium printing it with static charts; the PNGs are each chart at 1920x1080 (kaleido).
Everything comes from the same analysis and chart code the app's pages call.
"""
from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from lth_core.charts import captions, results as charts

from lth_core.analysis import claims, results, speed, spread, stats
from lth_core.charts.style import ARM_NAMES, ARM_ORDER
from lth_core.lottery.state import percent_ladder
from lth_core.registry import get_arch_info, get_dataset_info
from lth_core.store.run_store import Store

CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
FIGURES = {"accuracy": "Accuracy as the network shrinks", "early-stop": "How fast each network learns",
           "curves": "Learning curves: ticket vs random re-init", "gap": "Training vs test accuracy"}
SLIDE = {"width": 960, "height": 540, "scale": 2}  # 1920 x 1080 pixels, text sized for a slide
CLAIMS = {"a": "At about 21% remaining the ticket is at least as good as the dense network (test accuracy)",
          "b": "Near 21% remaining the ticket learns faster than dense and than its re-init",
          "c": "Re-initialised, the same connections fall below dense at a larger size than the ticket",
          "d": "Random pruning (random mask, original init) does worse than the ticket",
          "e": f"Iterative pruning beats one-shot below {claims.SMALL_PERCENT:g}% remaining",
          "f": "The ticket generalises better than dense (a smaller train-test gap)"}


class ExportFailed(Exception):
    """The PDF or PNGs could not be made (no browser, kaleido missing); the message says what to do."""


class NothingToReport(ValueError):
    """The run has no finished level yet."""


REPORT_MARGIN = {"l": 80, "b": 70}  # px: room for tick labels and axis titles before Plotly's automargin
LEGEND_ROOM = 110  # px under stacked panels for a legend of up to four lines


def figures(store: Store, run_id: str) -> dict:
    """{name: figure} for the run's four charts on a white background (a document's, not the app
    theme's); the report's headings name them (slide_png adds a title inside)."""
    config = store.config(run_id)
    summary = results.summary_frame(store, run_id)
    if summary.empty:
        raise NothingToReport(f"run {run_id} has no finished level yet; nothing to report")
    agg, ladder = results.aggregate(summary), percent_ladder(config)
    curves = results.curves_frame(store, run_id)
    ref = spread.nearest_level(summary, speed.REFERENCE_PERCENT)
    show = sorted({0, *(lv for lv in (ref, int(summary.level.max())) if lv)})
    figs = {"accuracy": charts.accuracy_vs_sparsity(agg, all_percents=ladder),
            "early-stop": charts.early_stop_vs_sparsity(agg, all_percents=ladder,
                                                        iterations=config.training.iterations),
            "curves": charts.learning_curves(curves, show, columns=1, arms=("ticket", *[a for a in config.controls
                                                                             if a == "reinit"])),
            "gap": charts.generalisation_gap(agg, all_percents=ladder, stacked=True)}
    for name, fig in figs.items():
        # margins wide enough for the tick labels and axis titles from the first draw: the file is read in
        # any browser, however slow, and the app's narrow margins rely on Plotly widening them afterwards
        fig.update_layout(paper_bgcolor="white", plot_bgcolor="white", font_color="#222",
                          margin=dict(l=REPORT_MARGIN["l"], b=REPORT_MARGIN["b"] + (fig.layout.margin.b or 0)))
        if name in ("curves", "gap"):  # stacked panels: the legend under them, where wrapping on a phone is free
            fig.update_layout(legend=dict(yref="container", y=0.0, yanchor="bottom"),
                              margin=dict(t=(fig.layout.margin.t or 0) - 45, b=fig.layout.margin.b + LEGEND_ROOM),
                              height=fig.layout.height + LEGEND_ROOM)
    return figs


def numbers_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """Per level and arm: test accuracy at early stop (mean, min, max), early stop, final test and
    training accuracy, share censored. Accuracies in %."""
    agg = results.aggregate(summary[~summary.shared_dense])
    agg = agg.assign(order=agg.arm.map({a: i for i, a in enumerate(ARM_ORDER)})).sort_values(["level", "order"])
    return pd.DataFrame({
        "level": agg.level, "weights left (%)": agg.percent_remaining, "network": agg.arm.map(ARM_NAMES),
        "trials": agg.trials, "test acc. at early stop (%)": 100 * agg.test_acc_at_early_stop,
        "min (%)": 100 * agg.test_acc_at_early_stop_min, "max (%)": 100 * agg.test_acc_at_early_stop_max,
        "early stop (it.)": agg.early_stop_iteration.round().astype("Int64"),
        "test acc. at end of training (%)": 100 * agg.final_test_acc,
        "train acc. at early stop (%)": 100 * agg.train_acc_at_early_stop,
        "still improving (%)": 100 * agg.censored_fraction})


def _pct(p) -> str:
    return "no level" if p is None else f"{p:.3g}%"


def _pts(x) -> str:
    return "n/a" if x is None else f"{x:+.2f} points"


def _speed(r: dict | None, label: str) -> list[str]:
    if r is None:
        return [f"{label}: no pruned level yet"]
    return [f"{label}, at {r['percent_remaining']:.3g}% vs {other}: {speed.describe(r[key])}"
            for key, other in (("vs_dense", "dense"), ("vs_reinit", "re-init")) if r.get(key) is not None]


def _gap(g: dict | None, what: str) -> list[str]:
    return [] if g is None else [f"{what}: {g['text']}"]


def claim_rows(found: dict) -> list[dict]:
    """One row per claim of lth_core.analysis.claims.all_claims: {claim, statement, verdict, numbers}; how
    sure each verdict is follows lth_core.analysis.stats.RULES, stated once above the table."""
    rows = []
    for k in sorted(found):
        c, nums = found[k], []
        if k == "a":
            nums = [f"dense {100 * c['dense_acc']:.2f}% (test, at early stop)" if c.get("dense_acc") is not None
                    else "no dense yet"]
            if c.get("reference_percent") is not None:
                nums += _gap(c["reference_gap"], f"ticket - dense at {c['reference_percent']:.3g}%")
                nums += [f"at least as good as dense down to {_pct(c.get('as_good_down_to'))}",
                         f"falls clearly below dense from {_pct(c.get('falls_below_at'))}",
                         f"clearly above dense at {len(c['clearly_above_at'])} of {c['levels_run']} levels"]
        elif k == "b":
            nums = _speed(c["raw"], "raw") + _speed(c["smoothed"], "smoothed")
        elif k == "c":
            nums = [f"re-init falls clearly below dense from {_pct(c['reinit_below_dense_at'])}",
                    f"ticket falls clearly below dense from {_pct(c['ticket_below_dense_at'])}"]
            if c.get("sparsest_percent") is not None:
                nums += _gap(c.get("ticket_vs_reinit_at_sparsest"), f"ticket - re-init at {c['sparsest_percent']:.3g}%")
        elif k in "de":
            nums = [f"ticket clearly better at {c['ticket_clearly_better_levels']} of {c['levels']} levels, "
                    f"clearly worse at {c['ticket_clearly_worse_levels']}"]
            g = c.get("gap_at_smallest")
            if g is not None:
                nums.append(f"at the sparsest, {g['percent_remaining']:.3g}%: {g['text']}")
        elif k == "f":
            nums = [c[key] for key in ("reason", "premise") if c.get(key)]
            if c.get("dense_gap_points") is not None:
                nums += [f"at {c['percent_remaining']:.3g}%, end of training: training accuracy dense "
                         f"{100 * c['dense_train_acc']:.2f}%, ticket {100 * c['ticket_train_acc']:.2f}%",
                         f"train - test gap dense {c['dense_gap_points']:.2f}, ticket {c['ticket_gap_points']:.2f} "
                         "points"] + _gap(c.get("gap_change"), "gap change (ticket - dense)")
        if isinstance(c.get("censored_share"), float):
            nums.append(f"censored: {100 * c['censored_share']:.0f}% of the networks compared")
        elif isinstance(c.get("censored_share"), dict) and c["censored_share"]:
            nums.append("censored: " + ", ".join(f"{ARM_NAMES.get(a, a)} {100 * v:.0f}%"
                                                 for a, v in c["censored_share"].items()))
        rows.append({"claim": k, "statement": CLAIMS.get(k, k), "verdict": c["verdict"], "numbers": nums})
    return rows


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;max-width:1060px;
margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#666}.caption{color:#333;background:#f6f7f9;border-left:3px solid #4c78a8;padding:.5em .8em}
table.claims{width:100%}td.nums{width:42%}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:right}th{background:#f0f0f0}td.l,th.l{text-align:left}
.v-holds{color:#1a7f37;font-weight:600}.v-not{color:#b42318;font-weight:600}.v-other{color:#9a6700;font-weight:600}
figure{margin:1em 0}figure img{width:100%}
@media print{body{margin:0;max-width:none}table.numbers{font-size:.68em}section.chart,tr{break-inside:avoid}h2{break-after:avoid}}
"""


def _verdict_class(v: str) -> str:
    return "v-holds" if v == claims.HOLDS else "v-not" if v == claims.FAILS else "v-other"


def _config_rows(config) -> str:
    flat = pd.json_normalize(config.to_dict()).iloc[0]
    return "".join(f"<tr><th class=l>{html.escape(str(k))}</th><td class=l>{html.escape(_show(v))}</td></tr>"
                   for k, v in flat.items())


def _show(v) -> str:
    return ", ".join(map(str, v)) or "none" if isinstance(v, (list, tuple)) else str(v)


def render_html(store: Store, run_id: str, images: dict | None = None, figs: dict | None = None) -> str:
    """The report as one HTML document. images ({name: PNG bytes}) puts static pictures in place
    of the interactive charts (the print version); otherwise plotly.js is inlined once in <head>."""
    config = store.config(run_id)
    figs = figs or figures(store, run_id)
    summary = results.summary_frame(store, run_id)
    e = html.escape
    title = f"Lottery ticket run {run_id}: {get_dataset_info(config.dataset).short}, {get_arch_info(config.arch).short}"
    head = f"<meta charset=utf-8><title>{e(title)}</title><style>{CSS}</style>"
    if images is None:
        head += f"<script>{get_plotlyjs()}</script>"
    parts = [f"<h1>{e(title)}</h1>",
             f"<p class=meta>{config.levels} levels, {config.trials} trial{'s' * (config.trials > 1)}, controls: "
             f"{e(', '.join(config.controls) or 'none')}. Exported "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from the run's stored metrics.</p>"]
    for note in results.measurement_notes(summary):
        parts.append(f"<p class=caption>{e(note)}</p>")
    parts.append("<h2>The claims, measured</h2>")
    parts.append(f"<p class=caption>{e(captions.CLAIMS)} {e(stats.RULES)}</p><table class=claims><tr>"
                 "<th class=l>claim</th><th class=l>statement</th><th class=l>verdict</th><th class=l>numbers</th></tr>")
    for r in claim_rows(claims.all_claims(summary)):
        parts.append(f"<tr class=claim><td class=l>({r['claim']})</td><td class=l>{e(r['statement'])}</td>"
                     f"<td class='l {_verdict_class(r['verdict'])}'>{e(r['verdict'])}</td>"
                     f"<td class='l nums'>{'<br>'.join(e(n) for n in r['numbers'])}</td></tr>")
    parts.append("</table>")
    for i, (name, fig) in enumerate(figs.items(), start=1):
        parts.append(f"<section class=chart><h2>{i} · {e(FIGURES[name])}</h2>")
        if images is None:
            parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                                     config={"displaylogo": False}))
        else:
            data = base64.b64encode(images[name]).decode()
            parts.append(f"<figure><img alt='{e(FIGURES[name])}' src='data:image/png;base64,{data}'></figure>")
        parts.append(f"<p class=caption><b>What to look for:</b> {e(captions.CHARTS[name])}</p></section>")
    parts.append(f"<h2>{len(figs) + 1} · The numbers</h2><p class=caption>{e(captions.NUMBERS)}</p>")
    parts.append(numbers_frame(summary).to_html(index=False, float_format=lambda v: f"{v:.2f}", na_rep="–",
                                                classes="numbers", border=0))
    parts.append("<h2>Config</h2><table class=config>" + _config_rows(config) +
                 f"<tr><th class=l>run id</th><td class=l>{e(run_id)}</td></tr></table>")
    parts.append("<script type=application/json id=run-config>" +
                 e(json.dumps({"run_id": run_id, "config": config.to_dict()})) + "</script>")
    return f"<!doctype html><html lang=en><head>{head}</head><body>{''.join(parts)}</body></html>\n"


def report_html(store: Store, run_id: str) -> str:
    """The interactive, self-contained HTML report (what the app's download button serves)."""
    return render_html(store, run_id)


def _titled(fig, title: str):
    """A copy of fig at slide size with its title on top and the legend moved clear of it."""
    fig = go.Figure(fig)
    h = SLIDE["height"]
    fig.update_layout(height=h, margin_t=(fig.layout.margin.t or 0) + 36,
                      title=dict(text=title, x=0.01, xanchor="left", yref="container", y=1 - 10 / h, yanchor="top"))
    if fig.layout.legend.yref == "container":  # panels: the legend sits just under the title
        fig.update_layout(legend=dict(y=1 - 44 / h))
    return fig


def chart_pngs(figs: dict, titles: bool = True) -> dict:
    """{name: PNG bytes} of each chart at slide size (1920x1080), through kaleido and Chromium;
    titles=True writes the chart's name inside the picture (a slide on its own)."""
    os.environ.setdefault("BROWSER_PATH", CHROMIUM)
    try:
        with tempfile.TemporaryDirectory() as tmp:  # one Chromium for all charts (a few seconds each less)
            paths = [Path(tmp) / f"{name}.png" for name in figs]
            pio.write_images([_titled(fig, FIGURES[name]) if titles else fig for name, fig in figs.items()],
                             paths, format="png", **SLIDE)
            return {name: path.read_bytes() for name, path in zip(figs, paths)}
    except Exception as exc:  # kaleido missing, or no Chromium for it
        raise ExportFailed(f"could not draw the charts as PNG ({type(exc).__name__}: {exc}); install kaleido and "
                           f"Chromium, or set BROWSER_PATH to a Chrome/Chromium binary") from None


def html_to_pdf(document: str, path: Path) -> None:
    """Print an HTML document to an A4 PDF with headless Chromium (playwright, the system browser)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise ExportFailed("the PDF needs the playwright Python package (pip install playwright)") from None
    exe = os.environ.get("BROWSER_PATH", CHROMIUM)
    if not Path(exe).is_file():
        raise ExportFailed(f"the PDF needs Chromium at {exe} (apt-get install chromium, or set BROWSER_PATH)")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=CHROME_ARGS)
            try:
                page = browser.new_page()
                page.set_content(document, wait_until="load")
                page.pdf(path=str(path), format="A4", print_background=True,
                         margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except Error as exc:
        raise ExportFailed(f"Chromium could not print the PDF: {str(exc).splitlines()[0]}") from None


def write_report(store: Store, run_id: str, out: Path, pdf: bool = False, png: bool = False) -> list[Path]:
    """Write report-<run_id>.html into out (and .pdf, and <run_id>-<chart>.png per chart); returns
    the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs = figures(store, run_id)
    written = [out / f"report-{run_id}.html"]
    written[0].write_text(render_html(store, run_id, figs=figs), encoding="utf-8")
    if pdf or png:
        if png:
            for name, data in chart_pngs(figs).items():
                path = out / f"{run_id}-{name}.png"
                path.write_bytes(data)
                written.append(path)
        if pdf:
            path = out / f"report-{run_id}.pdf"
            html_to_pdf(render_html(store, run_id, images=chart_pngs(figs, titles=False), figs=figs), path)
            written.append(path)
    return written
