"""Urbanisation arithmetic (erenhot.evaluation.urbanisation) and the projection methods T05 uses
(erenhot.evaluation.projection) on short series with answers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from erenhot.config import load_config
from erenhot.evaluation import projection as pj
from erenhot.evaluation import urbanisation as ub


def _params(special: bool = False) -> ub.Gb50137Params:
    cfg = load_config("t05_urbanisation")
    lo, hi = cfg.get("per_capita.overall_band")
    return ub.Gb50137Params(rows=cfg.get("per_capita.rows"), size_breaks_10k=cfg.get("per_capita.size_breaks_10k"),
                            overall_min=lo, overall_max=hi, special_enabled=special, special_max=cfg.get("per_capita.special_max"))


# ── GB 50137-2011 表 4.2.1 ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("current", "label", "lo", "hi"), [
    (60.0, "≤65.0", 65.0, 85.0),      # planned 65–85, Δ > 0 → 60.1 … (open) ∩ 65–85
    (65.0, "≤65.0", 65.1, 85.0),      # on the row's upper bound: Δ > 0 → ≥ 65.1
    (65.1, "65.1–75.0", 65.2, 85.1),  # next row: 65–95 ∩ 65.2–85.1
    (70.0, "65.1–75.0", 70.1, 90.0),
    (100.0, "95.1–105.0", 95.0, 110.0),   # ≤20万: Δ −5 … +15 → 95–115 ∩ 90–110
    (115.0, "105.1–115.0", 105.0, 114.9),  # Δ −10 … −0.1 → 105–114.9 ∩ 95–115
    (115.1, ">115.0", 65.0, 115.0),       # planned ≤ 115 (open below: overall 65), Δ < 0 → ≤ 115.0
    (130.0, ">115.0", 65.0, 115.0),
])
def test_per_capita_band_rows_at_their_boundaries(current, label, lo, hi):
    band = ub.per_capita_band(current, 75_000, _params())
    assert band.row_label == label and band.size_class == 0
    assert (band.lo, band.hi) == pytest.approx((lo, hi))


def test_per_capita_band_size_classes_and_errors():
    p = _params()
    # 85.1–95.0 row: Δ +0.1…+20 (≤20万), −5…+20 (20.1–50万), −5…+15 (>50万); planned 80–110
    assert ub.per_capita_band(90.0, 200_000, p).size_class == 0  # 20.0万 belongs to ≤20万
    b = ub.per_capita_band(90.0, 200_001, p)
    assert b.size_class == 1 and (b.lo, b.hi) == pytest.approx((85.0, 110.0))
    b = ub.per_capita_band(90.0, 600_000, p)
    assert b.size_class == 2 and (b.lo, b.hi) == pytest.approx((85.0, 105.0))
    with pytest.raises(ValueError):
        ub.per_capita_band(0.0, 1000, p)
    with pytest.raises(ValueError):
        ub.per_capita_band(80.0, -1, p)
    with pytest.raises(ValueError, match="current_upper"):
        ub.Gb50137Params(rows=[[65.0, 65.0, 85.0, [[0.1, None]]]], size_breaks_10k=[], overall_min=65, overall_max=115)


def test_special_clause_keeps_present_value_up_to_150():
    b = ub.per_capita_band(130.0, 75_000, _params(special=True))
    assert b.special and (b.lo, b.hi) == pytest.approx((65.0, 130.0))
    assert ub.choose_per_capita(b, "current_clamped") == pytest.approx(130.0)
    b = ub.per_capita_band(170.0, 75_000, _params(special=True))
    assert b.hi == pytest.approx(150.0) and ub.choose_per_capita(b, "current_clamped") == pytest.approx(150.0)
    # within the table the clause changes nothing
    assert not ub.per_capita_band(100.0, 75_000, _params(special=True)).special


def test_choose_per_capita_and_land_demand():
    band = ub.per_capita_band(130.0, 75_000, _params())
    assert ub.choose_per_capita(band, "current_clamped") == 115.0
    assert ub.choose_per_capita(band, "lower") == 65.0 and ub.choose_per_capita(band, "middle") == 90.0
    with pytest.raises(ValueError):
        ub.choose_per_capita(band, "best")
    # 80,000 persons × 115 m²/人 = 9.2 km²
    assert ub.land_demand_km2(80_000, 115.0) == pytest.approx(9.2)
    with pytest.raises(ValueError):
        ub.land_demand_km2(80_000, 0.0)


def test_bounded_names_the_binding_bound():
    assert ub.bounded(90_000, {"以水定人": 85_000}) == (85_000.0, "以水定人")
    assert ub.bounded(80_000, {"以水定人": 85_000}) == (80_000.0, "projection")
    assert ub.bounded(80_000, {"a": float("nan"), "b": 79_000, "c": 70_000}) == (70_000.0, "c")
    assert ub.bounded(85_000, {"w": 85_000}) == (85_000.0, "projection")  # a tie does not bite


# ── 城镇化率 and m, k ────────────────────────────────────────────────────────────────────────────


def test_urbanisation_rate():
    assert ub.urbanisation_rate([90, 0], [100, 50]).tolist() == [0.9, 0.0]
    for u, t in ((10, 0), (-1, 10), (11, 10), (float("nan"), 10)):
        with pytest.raises(ValueError):
            ub.urbanisation_rate(u, t)


def test_natural_and_migration_rates_by_hand():
    # year-start stock 1000: births 12, deaths 2 → m = 1 %; in 30, out 10 → k = 2 %; end = 1030
    # next year start 1030: births 10.3 − deaths 0 → 1 %, in 51.5 − out 30.9 → 2 %
    t = pd.DataFrame({"year": [2019, 2020], "registered_pop": [1030, 1030 + 10.3 + 20.6],
                      "births": [12, 10.3], "deaths": [2, 0], "moved_in": [30, 51.5], "moved_out": [10, 30.9]})
    r = ub.natural_and_migration_rates(t)
    assert r["natural_rate"] == pytest.approx(0.01) and r["migration_rate"] == pytest.approx(0.02)
    assert (r["first_year"], r["last_year"], r["n_years"]) == (2019, 2020, 2)
    assert ub.natural_and_migration_rates(t, years=1)["first_year"] == 2020
    with pytest.raises(ValueError, match="moved_out"):
        ub.natural_and_migration_rates(t.drop(columns="moved_out"))


# ── projection methods T05 uses, short series with known answers ─────────────────────────────────


def test_projection_methods_on_a_short_series():
    lin = {2016: 100.0, 2017: 102.0, 2018: 104.0, 2019: 106.0, 2020: 108.0}  # +2 a year
    p = pj.linear_trend(lin, [2025, 2035])
    assert p.values == pytest.approx({2025: 118.0, 2035: 138.0}) and p.r2 == pytest.approx(1.0)
    geo = {2016: 100.0, 2018: 121.0}  # 10 %/a
    assert pj.geometric_growth(geo, [2020]).values[2020] == pytest.approx(146.41)
    exp = {y: 100.0 * 1.05 ** (y - 2016) for y in range(2016, 2021)}
    ll = pj.log_linear_trend(exp, [2025])
    assert ll.params["rate"] == pytest.approx(0.05) and ll.values[2025] == pytest.approx(100.0 * 1.05 ** 9)
    # logistic with K = 200: V = 200 / (1 + 1·e^{−0.1 (t − 2016)}) → at 2016 V = 100
    logi = {y: 200.0 / (1 + math.exp(-0.1 * (y - 2016))) for y in range(2016, 2021)}
    lg = pj.logistic_trend(logi, [2035], saturation=200.0)
    assert lg.params["r"] == pytest.approx(0.1) and lg.values[2035] == pytest.approx(200.0 / (1 + math.exp(-1.9)))
    # 综合增长率: 70,000 × (1 + 0.005 + 0.010)^5
    cg = pj.comprehensive_growth(70_000, 2020, [2025], natural_rate=0.005, migration_rate=0.010)
    assert cg.values[2025] == pytest.approx(70_000 * 1.015 ** 5)
    s = pj.spread([pj.linear_trend(lin, [2025], name="p"), pj.compound(108.0, 2020, 0.0, [2025], name="p")]).iloc[0]
    assert (s["min"], s["max"], s["mean"]) == pytest.approx((108.0, 118.0, 113.0)) and s["min_method"] == "compound"


# ── 城镇开发边界 growth ──────────────────────────────────────────────────────────────────────────


def test_grow_boundary_nearest_first_stops_at_target_and_avoids_unsuitable():
    built = np.zeros((5, 7), bool)
    built[2, 1] = True
    allowed = np.ones((5, 7), bool)
    allowed[:, 3] = False           # an unsuitable column splits the grid …
    allowed[2, 3] = True            # … with one gap in the middle row
    g = ub.grow_boundary(built, allowed, 4, "connected")
    assert g.status == "reached" and g.mask.sum() == 4 and g.added_cells == 3 and g.shortfall_cells == 0
    # the three nearest cells: the 4 orthogonal neighbours are at distance 1; ties by row-major order
    assert sorted(map(tuple, np.argwhere(g.mask))) == [(1, 1), (2, 0), (2, 1), (2, 2)]
    big = ub.grow_boundary(built, allowed, 20, "connected")
    assert big.mask.sum() == 20 and not (big.mask & ~allowed & ~built).any()
    # everything reachable: 5×7 − 4 unsuitable = 31 cells → shortfall of 9 when asking for 40
    full = ub.grow_boundary(built, allowed, 40, "connected")
    assert full.status == "shortfall" and full.mask.sum() == 31 and full.shortfall_cells == 9
    assert not full.mask[~allowed].any()


def test_grow_boundary_never_jumps_an_unsuitable_barrier():
    built = np.zeros((3, 5), bool)
    built[1, 0] = True
    allowed = np.ones((3, 5), bool)
    allowed[:, 2] = False  # a closed barrier: the right side is unreachable
    g = ub.grow_boundary(built, allowed, 10, "connected")
    assert g.status == "shortfall" and g.mask.sum() == 6 and not g.mask[:, 2:].any()
    assert np.isinf(g.distance[:, 3:]).all()
    # euclidean: the nearest allowed cells beyond the barrier are taken (column 3 at distance 3 before column 4)
    e = ub.grow_boundary(built, allowed, 10)
    assert e.status == "reached" and e.mask.sum() == 10 and not e.mask[:, 2].any()
    assert e.mask[:, :2].all() and e.mask[:, 3].sum() == 3 and e.mask[1, 4]
    # all allowed cells: 12 → shortfall of 3 when asking for 15
    assert ub.grow_boundary(built, allowed, 15).shortfall_cells == 3
    with pytest.raises(ValueError, match="distance"):
        ub.grow_boundary(built, allowed, 10, "manhattan")


def test_grow_boundary_keeps_built_up_above_target_and_unsuitable_built_up():
    built = np.zeros((3, 3), bool)
    built[0, :] = True
    allowed = np.zeros((3, 3), bool)  # the present town lies on unsuitable land: it stays
    g = ub.grow_boundary(built, allowed, 2)
    assert g.status == "built_up_exceeds_target" and g.mask.sum() == 3 and g.added_cells == 0
    with pytest.raises(ValueError):
        ub.grow_boundary(np.zeros((2, 2), bool), np.ones((2, 2), bool), 1)
    with pytest.raises(ValueError):
        ub.grow_boundary(built, np.ones((2, 2), bool), 1)
