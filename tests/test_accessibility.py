"""The arms stay tellable apart by people with the common colour-vision deficiencies.

Each arm's colour is simulated for protanopia, deuteranopia and tritanopia (Machado,
Oliveira & Fernandes 2009, severity 1, applied in linear sRGB) and converted to CIELAB;
two arms count as distinguishable when their CIE76 colour difference is at least
MIN_DELTA_E, or when they also differ in both dash style and marker shape. The numbers
are in docs/ACCESSIBILITY.md (`python tests/test_accessibility.py` prints them).
"""
from __future__ import annotations

import itertools
import math

import pytest

from lth_core.charts import results as charts
from lth_core.charts.style import ARM_COLORS, ARM_DASH, ARM_ORDER, ARM_SYMBOL, CHART_GROUPS, DENSE_COLOR, PAPER_ARMS

MACHADO = {  # linear-RGB simulation matrices, severity 1.0
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}
# ΔE*ab ≈ 2.3 is one just-noticeable difference between patches side by side; thin lines
# and small markers need several times that. 20 (about ten JNDs, "clearly different
# colours" in the usual categorical-palette guidance) is demanded of arm pairs that
# share a dash or a marker; pairs differing in both may be closer (shape carries them).
MIN_DELTA_E = 20.0


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def lab(hex_color: str, deficiency: str | None = None) -> tuple[float, float, float]:
    """CIELAB (D65) of a '#RRGGBB' colour, as seen with the given deficiency (None: typical vision)."""
    rgb = [_linear(int(hex_color[i:i + 2], 16) / 255) for i in (1, 3, 5)]
    if deficiency:
        rgb = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb)))) for row in MACHADO[deficiency]]
    r, g, b = rgb
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
    f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def delta_e(a: str, b: str, deficiency: str | None = None) -> float:
    return math.dist(lab(a, deficiency), lab(b, deficiency))


def min_pair(deficiency: str | None, arms=PAPER_ARMS) -> tuple[float, str, str]:
    return min((delta_e(ARM_COLORS[a], ARM_COLORS[b], deficiency), a, b)
               for a, b in itertools.combinations(arms, 2))


GROUP_PAIRS = sorted({tuple(sorted(p)) for arms in CHART_GROUPS.values() for p in itertools.combinations(arms, 2)})


def test_simulation_is_sane():
    assert delta_e("#3B82F6", "#3B82F6", "deuteranopia") == 0
    assert lab("#FFFFFF")[0] == pytest.approx(100, abs=0.01)
    # red and green, far apart to typical vision, collapse for a deuteranope
    assert delta_e("#D62728", "#2CA02C") > 3 * delta_e("#D62728", "#2CA02C", "deuteranopia")


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
@pytest.mark.parametrize("a,b", GROUP_PAIRS)
def test_arms_distinguishable(a, b, deficiency):
    """Every pair of arms drawn on one chart (chart_style.CHART_GROUPS, the paper's four included)."""
    by_shape = ARM_DASH[a] != ARM_DASH[b] and ARM_SYMBOL[a] != ARM_SYMBOL[b]
    assert by_shape or delta_e(ARM_COLORS[a], ARM_COLORS[b], deficiency) >= MIN_DELTA_E


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
def test_palette_meets_threshold_by_colour_alone(deficiency):
    """Stronger than the rule above: the paper's four arms are kept apart by colour alone."""
    assert min_pair(deficiency)[0] >= MIN_DELTA_E


def test_every_arm_has_its_own_dash_and_marker():
    """The paper's arms each have their own dash; every arm (beyond the paper too) its own marker."""
    assert len({ARM_DASH[a] for a in PAPER_ARMS}) == len(PAPER_ARMS)
    assert len({ARM_SYMBOL[a] for a in ARM_ORDER}) == len(ARM_ORDER)
    assert set(ARM_ORDER) == set(ARM_COLORS) == set(ARM_DASH) == set(ARM_SYMBOL)
    assert not any(ARM_SYMBOL[a].endswith("-open") for a in ARM_ORDER)  # hollow is kept for "censored"


def test_arm_chart_uses_per_arm_markers(monkeypatch):
    import pandas as pd
    rows = [dict(arm=arm, level=lv, percent_remaining=100 * 0.8 ** lv, test_acc=0.9, test_acc_min=0.89,
                 test_acc_max=0.91, trials=1, censored_fraction=0.0) for arm in ARM_ORDER for lv in range(3)]
    fig = charts.arm_metric_figure(pd.DataFrame(rows), "test_acc", y_title="accuracy")
    seen = {t.legendgroup: set(t.marker.symbol) for t in fig.data if t.mode == "lines+markers"}
    assert seen == {arm: {ARM_SYMBOL[arm]} for arm in ARM_ORDER}


def test_dense_line_differs_from_arms_by_dash_or_colour():
    """The grey dense-network line is dotted; an arm it could be confused with must not be
    both dotted and close to grey for anyone."""
    for arm in ARM_ORDER:
        worst = min(delta_e(DENSE_COLOR, ARM_COLORS[arm], d) for d in MACHADO)
        assert ARM_DASH[arm] != "dot" or worst >= MIN_DELTA_E / 2, arm


if __name__ == "__main__":
    for d in [None, *MACHADO]:
        for name, arms in CHART_GROUPS.items():
            v, a, b = min_pair(d, arms)
            print(f"  {d or 'typical vision'} · {name}: min ΔE {v:.1f} ({a}-{b})")
        v, a, b = min_pair(d)
        grey = min((delta_e(DENSE_COLOR, ARM_COLORS[x], d), x) for x in ARM_ORDER)
        print(f"{d or 'typical vision'}: min ΔE {v:.1f} ({a}-{b}); closest to dense grey: {grey[1]} {grey[0]:.1f}")
