"""Latency of a ticket's four forms against % weights remaining: a tidy frame, a Plotly figure
and a "what to look for" caption whose findings are computed from the measurement.

Input: the "records" of scripts/bench_latency.py (docs/bench/latency_cpu.json), one per
(arch, batch, IMP round, kind), with analysis.latency's Timing fields. No Streamlit.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lth_core.charts.style import ARM_COLORS, DENSE_COLOR, base_layout, log_axis, rgba, sparsity_axis

KINDS = ("dense", "masked", "sparse_csr", "structured")
KIND_NAMES = {"dense": "Dense network (timed beside each level)",
              "masked": "Unstructured ticket: zeros in dense weights",
              "sparse_csr": "Unstructured ticket: sparse CSR tensors",
              "structured": "Structured ticket: smaller dense network"}
KIND_COLORS = {"dense": DENSE_COLOR, "masked": ARM_COLORS["ticket"], "sparse_csr": "#2CA58D",
               "structured": ARM_COLORS["reinit"]}
KIND_DASH = {"dense": "dot", "masked": "solid", "sparse_csr": "dash", "structured": "dashdot"}
KIND_SYMBOL = {"dense": "circle-open", "masked": "circle", "sparse_csr": "diamond", "structured": "square"}
SAME = 0.10   # a ratio to dense within 10% is "about the same", whatever the quartiles say
LOOK_FOR = ("What to look for: zeros in a dense weight tensor cost as much as any other number, so an "
            "unstructured ticket runs no faster on dense hardware; stored as a sparse tensor it pays off only "
            "once it is very sparse. Removing whole units shrinks every matrix product, so a structured "
            "network saves time directly.")


def latency_frame(records) -> pd.DataFrame:
    """One row per (arch, batch, round, kind): milliseconds per batch (median, quartiles, min, max),
    examples per second, and speedup = the dense network's median / this median at the same level
    (> 1 is faster than dense), and verdict: 'faster' | 'slower' | 'same' than dense beyond the
    spread between repeats. The dense row of a level sits at that level's ticket % (x of the chart)."""
    d = pd.DataFrame(list(records))
    for col in ("median", "q1", "q3", "min", "max"):
        d[f"{col}_ms"] = 1e3 * d[f"{col}_s"]
    keys = ["arch", "batch", "round"]
    dense = d[d.kind == "dense"].set_index(keys)["median_s"].rename("dense_s")
    ticket = d[d.kind == "masked"].set_index(keys)["percent"].rename("level_percent")
    dq = d[d.kind == "dense"].set_index(keys)[["q1_s", "q3_s"]].rename(columns=lambda c: "dense_" + c)
    d = d.join(dense, on=keys).join(ticket, on=keys).join(dq, on=keys)
    d["speedup"] = d.dense_s / d.median_s
    # faster / slower only where the ratio passes SAME and the quartile ranges over repeats do not overlap
    faster = (d.speedup > 1 + SAME) & (d.q3_s < d.dense_q1_s)
    slower = (d.speedup < 1 / (1 + SAME)) & (d.q1_s > d.dense_q3_s)
    d["verdict"] = "same"
    d.loc[faster, "verdict"], d.loc[slower, "verdict"] = "faster", "slower"
    d["x_percent"] = d.percent.where(d.kind != "dense", d.level_percent)
    return d.sort_values(keys + ["kind"], ascending=[True, True, True, True]).reset_index(drop=True)


def latency_figure(records, arch: str, batch: int, *, metric: str = "latency", title: str | None = None) -> go.Figure:
    """Latency (ms per batch, log y) or throughput (examples/s) against % weights remaining (log x,
    100% on the left), one line per form; error bars span the quartiles over repeats."""
    d = latency_frame(records)
    d = d[(d.arch == arch) & (d.batch == batch)]
    fig = base_layout(go.Figure(), title=title, height=440)
    for kind in KINDS:
        k = d[d.kind == kind].sort_values("x_percent", ascending=False)
        if k.empty:
            continue
        if metric == "throughput":
            y = k.batch / k.median_s
            err = dict(type="data", array=k.batch / k.q1_s - y, arrayminus=y - k.batch / k.q3_s)
            hover = "%{x:.3g}% remaining: %{y:,.0f} examples/s<extra>" + KIND_NAMES[kind] + "</extra>"
        else:
            y = k.median_ms
            err = dict(type="data", array=k.q3_ms - y, arrayminus=y - k.q1_ms)
            hover = "%{x:.3g}% remaining: %{y:.3g} ms per batch<extra>" + KIND_NAMES[kind] + "</extra>"
        fig.add_trace(go.Scatter(x=k.x_percent, y=y, name=KIND_NAMES[kind], mode="lines+markers",
                                 line=dict(color=KIND_COLORS[kind], dash=KIND_DASH[kind], width=2),
                                 marker=dict(symbol=KIND_SYMBOL[kind], size=8),
                                 error_y=dict(err, color=rgba(KIND_COLORS[kind], 0.6), thickness=1.2, width=4),
                                 hovertemplate=hover))
    sparsity_axis(fig, list(d.x_percent))
    shown = [v for t in fig.data for v in t.y]
    log_axis(fig, shown, "examples per second (log scale)" if metric == "throughput"
             else f"ms per batch of {batch} (log scale)")
    return fig


def _times(ratio: float, verdict: str) -> str:
    """A dense-time / time ratio in words, 'about as fast' where it is within the spread."""
    if verdict == "same":
        return f"about as fast as dense ({ratio:.2f}x, within the spread)"
    return f"{ratio:.2f}x faster than dense" if verdict == "faster" else f"{1 / ratio:.2f}x slower than dense"


def latency_findings(records, arch: str, batch: int) -> dict:
    """The numbers the caption states: per form, its % remaining, speed-up (dense / form) and
    verdict at each level (densest first), and where the sparse form first beats dense."""
    d = latency_frame(records)
    d = d[(d.arch == arch) & (d.batch == batch)].sort_values("percent", ascending=False)
    out = {"arch": arch, "batch": batch, "threads": int(d.threads.iloc[0]), "device": str(d.device.iloc[0])}
    for kind in ("masked", "sparse_csr", "structured"):
        k = d[d.kind == kind]
        out[kind] = {"percent": [float(p) for p in k.percent], "speedup": [float(s) for s in k.speedup],
                     "verdict": list(k.verdict)}
    sp = out["sparse_csr"]
    faster = [p for p, v in zip(sp["percent"], sp["verdict"]) if v == "faster"]
    out["sparse_first_faster_percent"] = max(faster) if faster else None
    return out


def latency_text(records, arch: str, batch: int) -> str:
    """LOOK_FOR, then what this measurement shows in full sentences, numbers computed from `records`
    (the documents' text: docs/BEYOND.md, scripts/bench_latency.py; the page draws latency_caption
    and latency_table)."""
    f = latency_findings(records, arch, batch)
    m, s, st = f["masked"], f["sparse_csr"], f["structured"]
    where = "CPU" if f["device"] == "cpu" else f["device"].upper()
    parts = [f"Here ({arch}, batch {batch}, {f['threads']} {where} thread{'s' if f['threads'] > 1 else ''}, "
             "medians over repeats):"]
    lo, hi = min(m["speedup"]), max(m["speedup"])
    n_same = sum(v == "same" for v in m["verdict"])
    if n_same == len(m["verdict"]):
        parts.append(f"the masked ticket runs about as fast as dense at every level ({lo:.2f}x to {hi:.2f}x "
                     "the dense speed, within the spread), so its zeros save nothing;")
    else:
        parts.append(f"the masked ticket runs at {lo:.2f}x to {hi:.2f}x the dense speed, within the spread at "
                     f"{n_same} of {len(m['verdict'])} levels; at the sparsest ({m['percent'][-1]:.3g}%) it is "
                     f"{_times(m['speedup'][-1], m['verdict'][-1])};")
    first = f["sparse_first_faster_percent"]
    if first is None:
        parts.append(f"as sparse tensors it never beats dense ({_times(s['speedup'][0], s['verdict'][0])} at "
                     f"{s['percent'][0]:.3g}%, {_times(s['speedup'][-1], s['verdict'][-1])} at "
                     f"{s['percent'][-1]:.3g}%);")
    else:
        parts.append(f"as sparse tensors it is {_times(s['speedup'][0], s['verdict'][0])} at {s['percent'][0]:.3g}% "
                     f"and first beats dense at {first:.3g}% remaining "
                     f"({_times(s['speedup'][-1], s['verdict'][-1])} at {s['percent'][-1]:.3g}%);")
    mid = len(st["percent"]) // 2
    at_mid = (f"{_times(st['speedup'][mid], st['verdict'][mid])} at {st['percent'][mid]:.3g}% and "
              if mid < len(st["percent"]) - 1 else "")
    parts.append(f"the structured network is {at_mid}{_times(st['speedup'][-1], st['verdict'][-1])} at "
                 f"{st['percent'][-1]:.3g}%.")
    return LOOK_FOR + " " + " ".join(parts)


SHORT_LOOK_FOR = ("What to look for: zeros in dense weights cost as much as any number, so an unstructured ticket "
                  "is no faster unless stored as sparse tensors and very sparse; a structured (smaller) network "
                  "saves time directly. Lower is faster.")
TABLE_COLUMNS = ["Form", "% remaining", "ms per batch (median)", "Dense time / this time", "Verdict"]


def latency_caption(records, arch: str, batch: int) -> str:
    """SHORT_LOOK_FOR, then this measurement in one line (latency_table holds every level's numbers)."""
    f = latency_findings(records, arch, batch)
    m, s, st = f["masked"], f["sparse_csr"], f["structured"]
    where = "CPU" if f["device"] == "cpu" else f["device"].upper()
    first = f["sparse_first_faster_percent"]
    sparse = ("never beat dense" if first is None else f"first beat dense at {first:.3g}% "
              f"({_times(s['speedup'][-1], s['verdict'][-1])} at {s['percent'][-1]:.3g}%)")
    return (f"{SHORT_LOOK_FOR} Here ({arch}, batch {batch}, {f['threads']} {where} "
            f"thread{'s' if f['threads'] > 1 else ''}): masked within dense's spread at "
            f"{sum(v == 'same' for v in m['verdict'])} of {len(m['verdict'])} levels; sparse tensors "
            f"{sparse}; structured {_times(st['speedup'][-1], st['verdict'][-1])} at "
            f"{st['percent'][-1]:.3g}%.")


def latency_table(records, arch: str, batch: int) -> pd.DataFrame:
    """One row per form and level (densest first): median ms per batch, dense / this (> 1 is faster)
    and the verdict in words, as latency_caption and latency_text state them."""
    d = latency_frame(records)
    d = d[(d.arch == arch) & (d.batch == batch) & (d.kind != "dense")]
    rows = [{"Form": KIND_NAMES[r.kind], "% remaining": float(r.percent), "ms per batch (median)": float(r.median_ms),
             "Dense time / this time": float(r.speedup), "Verdict": _times(float(r.speedup), r.verdict)}
            for kind in ("masked", "sparse_csr", "structured")
            for r in d[d.kind == kind].sort_values("percent", ascending=False).itertuples()]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
