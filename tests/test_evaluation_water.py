"""水资源承载力 (topic 12): balance, carrying status, MK/Sen trend, demand, 以水定X, land–water match.

Hand-computed values; volumes in 万m³ (10⁴ m³)."""

import math

import numpy as np
import pandas as pd
import pytest

from erenhot.config import load_config
from erenhot.evaluation import capacity_scale as cs
from erenhot.evaluation.water import (
    SECTORS,
    DemandQuotas,
    StatusParams,
    TrendParams,
    annual_precipitation,
    available_water,
    carrying_status,
    classify_load,
    demand_gap,
    irrigable_area_ha,
    land_water_match,
    precipitation_trend,
    project_demand,
    use_from_bulletin,
    water_balance,
    water_bound_scales,
)

NAME = "t12_water_carrying_capacity"
LABELS = {1: "不超载", 2: "临界状态", 3: "超载", 4: "严重超载"}


def _status(value_on_break="worse", overall_rule="worst"):
    return StatusParams(total_use_ratio_breaks=(0.9, 1.0, 1.2), groundwater_ratio_breaks=(0.9, 1.0, 1.2), labels=LABELS,
                        value_on_break=value_on_break, ratio_decimals=6, overall_rule=overall_rule)


def _trend(alpha=0.05, method="auto", min_years=3):
    return TrendParams(alpha=alpha, method=method, max_missing_days_per_year=5, min_years=min_years,
                       labels={"increase": "显著增加", "none": "不显著", "decrease": "显著减少"})


# ── configuration ───────────────────────────────────────────────────────────────────────────────


def test_the_status_bounds_not_in_the_spec_are_marked_uncertain():
    """(Sources, confidences and notes of every leaf: tests/test_config.py.)"""
    cfg = load_config(NAME)
    # the 技术大纲 bounds are not in the spec: L, with a note to check them
    for path in ("status.total_use_ratio_breaks", "status.groundwater_ratio_breaks", "status.value_on_break"):
        leaf = cfg.leaf(path)
        assert leaf["confidence"] == "L" and "技术大纲" in leaf["note"], path


def test_config_builds_params_and_agrees_with_t03():
    cfg = load_config(NAME)
    status = cfg.params(StatusParams, "status")
    assert status.total_use_ratio_breaks == (0.9, 1.0, 1.2) and status.labels == LABELS
    assert status.value_on_break == "worse"
    trend = cfg.params(TrendParams, "trend")
    assert trend.alpha == 0.05 and trend.labels["none"] == "不显著"
    quotas = cfg.params(DemandQuotas, "demand")
    for year in cfg.get("demand.target_years"):
        assert set(quotas.for_year(year)) == set(DemandQuotas.__dataclass_fields__)
    assert cfg.get("labels.sectors").keys() == set(SECTORS)
    # overrides arrive with string keys from JSON: still usable
    over = load_config(NAME, {"demand.irrigation_m3_per_ha": {"2025": 3000, "2035": 2800}})
    assert over.params(DemandQuotas, "demand").for_year(2035)["irrigation_m3_per_ha"] == 2800
    # values shared with t03 must not drift apart
    t03 = load_config("t03_suitability")
    assert cfg.get("scales.per_capita_urban_land_m2") == t03.get("capacity_scale.per_capita_urban_land_m2")
    assert cfg.get("scales.rainfed_ha") == t03.get("capacity_scale.rainfed_ha")
    assert quotas.for_year(2025)["irrigation_m3_per_ha"] == t03.get("capacity_scale.irrigation_quota_m3_per_ha")


# ── 1. water balance ────────────────────────────────────────────────────────────────────────────


def _bulletin():
    return pd.DataFrame({
        "year": [2021, 2022],
        "use_domestic_10k_m3": [200.0, 210.0], "use_industry_10k_m3": [300.0, 310.0],
        "use_agri_10k_m3": [500.0, 480.0], "use_eco_10k_m3": [100.0, 120.0],
        "use_total_10k_m3": [1100.0, 1120.0],
    })


def test_water_balance_by_hand():
    avail = available_water(pd.DataFrame({"surface_available_10k_m3": [100.0], "groundwater_exploitable_10k_m3": [1200.0],
                                          "overlap_10k_m3": [50.0]}))
    assert avail["available_10k_m3"].tolist() == [1250.0]  # 100 + 1200 − 50
    bal = water_balance(avail, use_from_bulletin(_bulletin(), 0.01))
    assert bal["year"].tolist() == [2021, 2022]
    assert bal["use_total_10k_m3"].tolist() == [1100.0, 1120.0]
    assert bal["available_10k_m3"].tolist() == [1250.0, 1250.0]  # one multi-year row → every year
    assert bal["surplus_10k_m3"].tolist() == [150.0, 130.0]
    assert bal["use_to_available"].tolist() == pytest.approx([0.88, 0.896])
    assert bal["use_agri_10k_m3"].tolist() == [500.0, 480.0]
    # per-year availability is joined by year; a use year without availability is an error
    per_year = available_water(pd.DataFrame({"year": [2021], "surface_available_10k_m3": [0.0],
                                             "groundwater_exploitable_10k_m3": [1000.0], "overlap_10k_m3": [0.0]}))
    with pytest.raises(ValueError, match="2022"):
        water_balance(per_year, use_from_bulletin(_bulletin(), 0.01))


def test_bad_volumes_and_sectors_name_the_column_or_sector():
    bad = _bulletin()
    bad.loc[1, "use_eco_10k_m3"] = -5.0
    with pytest.raises(ValueError, match="use_eco_10k_m3"):
        use_from_bulletin(bad, 0.01)
    with pytest.raises(ValueError, match="industry"):
        use_from_bulletin(_bulletin().drop(columns="use_industry_10k_m3"), 0.01)
    mismatch = _bulletin()
    mismatch.loc[0, "use_total_10k_m3"] = 1200.0  # sectors add to 1100
    with pytest.raises(ValueError, match="2021"):
        use_from_bulletin(mismatch, 0.01)
    long = use_from_bulletin(_bulletin(), 0.01)
    avail = pd.DataFrame({"available_10k_m3": [1000.0]})
    with pytest.raises(ValueError, match="'eco'"):
        water_balance(avail, long[~((long.year == 2022) & (long.sector == "eco"))])
    neg = long.copy()
    neg.loc[0, "use_10k_m3"] = -1.0
    with pytest.raises(ValueError, match="use_10k_m3"):
        water_balance(avail, neg)
    with pytest.raises(ValueError, match="livestock"):
        water_balance(avail, pd.concat([long, pd.DataFrame({"year": [2021], "sector": ["livestock"], "use_10k_m3": [1.0]})]))
    with pytest.raises(ValueError, match="groundwater_exploitable_10k_m3"):
        available_water(pd.DataFrame({"surface_available_10k_m3": [1.0], "groundwater_exploitable_10k_m3": [-1.0],
                                      "overlap_10k_m3": [0.0]}))
    with pytest.raises(ValueError, match="overlap_10k_m3"):
        available_water(pd.DataFrame({"surface_available_10k_m3": [10.0], "groundwater_exploitable_10k_m3": [100.0],
                                      "overlap_10k_m3": [20.0]}))


# ── 2. carrying status ──────────────────────────────────────────────────────────────────────────


def test_status_classes_exactly_at_the_boundaries():
    ratios = [0.0, 0.8999, 0.9, 0.95, 1.0, 1.1, 1.2, 1.2001, 3.0, np.nan]
    worse = classify_load(ratios, (0.9, 1.0, 1.2), "worse")
    assert worse.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 4, 0]  # [lo, hi): the break goes up
    better = classify_load(ratios, (0.9, 1.0, 1.2), "better")
    assert better.tolist() == [1, 1, 1, 2, 2, 3, 3, 4, 4, 0]  # (lo, hi]: the break stays down
    with pytest.raises(ValueError):
        classify_load([0.5], (0.9, 1.0, 1.2), "middle")


def test_carrying_status_table_boundaries_float_noise_and_groundwater():
    # 2021: 11.7 / 13 = 0.8999999999999999 in floating point → rounded to 0.9 → 临界状态 (on the break)
    # 2022: 1300 / 1300 = 1.0 → 超载; 2023: 1200 / 1000 = 1.2 → 严重超载; 2024: 500 / 1000 → 不超载
    use = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "use_total_10k_m3": [11.7, 1300.0, 1200.0, 500.0],
                        "use_groundwater_10k_m3": [11.7, np.nan, 800.0, 500.0]})
    caps = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "total_quota_10k_m3": [13.0, 1300.0, 1000.0, 1000.0],
                         "groundwater_quota_10k_m3": [20.0, 1000.0, 1000.0, 400.0]})
    assert 11.7 / 13.0 < 0.9  # the noise the rounding removes
    t = carrying_status(use, caps, _status())
    total = t[t.indicator == "total_use"].set_index("year")
    assert total.ratio.tolist() == [0.9, 1.0, 1.2, 0.5]
    assert total.status.tolist() == ["临界状态", "超载", "严重超载", "不超载"]
    gw = t[t.indicator == "groundwater"].set_index("year")
    assert gw.index.tolist() == [2021, 2023, 2024]  # 2022 has no groundwater use
    assert gw.ratio.tolist() == [0.585, 0.8, 1.25]
    assert gw.status.tolist() == ["不超载", "不超载", "严重超载"]
    overall = t[t.indicator == "overall"].set_index("year")
    assert overall.status.tolist() == ["临界状态", "超载", "严重超载", "严重超载"]  # worst of the two
    only_total = carrying_status(use, caps, _status(overall_rule="total_use_only"))
    assert only_total[only_total.indicator == "overall"].status.tolist() == ["临界状态", "超载", "严重超载", "不超载"]
    better = carrying_status(use, caps, _status("better"))
    assert better[better.indicator == "total_use"].status.tolist() == ["不超载", "临界状态", "超载", "不超载"]
    with pytest.raises(ValueError, match="2025"):
        carrying_status(pd.DataFrame({"year": [2025], "use_total_10k_m3": [1.0]}), caps, _status())
    with pytest.raises(ValueError, match="use_total_10k_m3"):
        carrying_status(pd.DataFrame({"year": [2021], "use_total_10k_m3": [-1.0]}), caps, _status())


def test_status_params_reject_inconsistent_labels():
    with pytest.raises(ValueError):
        StatusParams(total_use_ratio_breaks=(0.9, 1.0), groundwater_ratio_breaks=(0.9, 1.0, 1.2), labels=LABELS,
                     value_on_break="worse", ratio_decimals=6, overall_rule="worst")


# ── 3. precipitation trend ──────────────────────────────────────────────────────────────────────


def _annual(values, first=2001):
    return pd.Series(values, index=pd.Index(range(first, first + len(values)), name="year"), dtype=float)


def test_mk_tiny_series_p_value_from_hand_computed_s():
    # n = 4 increasing: S = +6 (all 6 pairs concordant). Exact: only 1 of 4! = 24 orderings reaches
    # S = 6, two-sided p = 2/24. Normal approximation: Var S = n(n−1)(2n+5)/18 = 4·3·13/18, z = S/√Var.
    r = precipitation_trend(_annual([100.0, 120.0, 130.0, 160.0]), _trend())
    assert r.tau == 1.0 and r.p_value == pytest.approx(2 / 24, abs=1e-12)
    assert r.significant is False and r.label == "不显著"  # 0.083 > 0.05
    var_s = 4 * 3 * 13 / 18
    p_normal = math.erfc(6 / math.sqrt(var_s) / math.sqrt(2))
    ra = precipitation_trend(_annual([100.0, 120.0, 130.0, 160.0]), _trend(method="asymptotic"))
    assert ra.p_value == pytest.approx(p_normal, rel=1e-9) and ra.p_value == pytest.approx(0.041540, abs=1e-6)
    assert ra.significant and ra.direction == "increase" and ra.label == "显著增加"
    # Sen's slope: pairwise slopes 20, 15, 20, 10, 20, 30 → sorted 10 15 20 20 20 30 → median 20 mm/a
    assert r.slope_mm_per_year == pytest.approx(20.0)
    # p exactly equal to alpha is not significant (p < alpha)
    assert precipitation_trend(_annual([1.0, 2.0, 3.0, 4.0]), _trend(alpha=1 / 12)).significant is False
    assert precipitation_trend(_annual([1.0, 2.0, 3.0, 4.0]), _trend(alpha=1 / 12 + 1e-9)).significant is True


def test_mk_shuffled_series_exact_p_from_inversion_counts():
    # 3, 1, 5, 2, 4: 6 concordant − 4 discordant pairs → S = 2 (4 inversions). Orderings of 5 with
    # ≤ 4 inversions: 1 + 4 + 9 + 15 + 20 = 49 of 120 → two-sided p = 98/120.
    r = precipitation_trend(_annual([3.0, 1.0, 5.0, 2.0, 4.0]), _trend())
    assert r.tau == pytest.approx(0.2) and r.p_value == pytest.approx(98 / 120, abs=1e-12)
    assert r.direction == "none" and r.label == "不显著"


def test_mk_monotonic_long_series_significant_both_ways():
    up = precipitation_trend(_annual([120.0 + 2.0 * i for i in range(20)], first=2000), _trend(min_years=10))
    assert up.significant and up.direction == "increase" and up.label == "显著增加"
    assert up.slope_mm_per_year == pytest.approx(2.0) and up.intercept_mm == pytest.approx(120.0)
    assert up.p_value < 1e-6 and (up.first_year, up.last_year, up.n_years) == (2000, 2019, 20)
    down = precipitation_trend(_annual([200.0 - 1.5 * i for i in range(12)]), _trend(min_years=10))
    assert down.direction == "decrease" and down.label == "显著减少" and down.slope_mm_per_year == pytest.approx(-1.5)


def test_mk_constant_and_symmetric_series_not_significant():
    flat = precipitation_trend(_annual([142.0] * 12), _trend())
    assert (flat.tau, flat.p_value, flat.slope_mm_per_year, flat.direction) == (0.0, 1.0, 0.0, "none")
    # 1, 3, 5, 3, 1: 4 concordant − 4 discordant pairs → S = 0 → z = 0 → p = 1 (ties → normal approximation)
    sym = precipitation_trend(_annual([1.0, 3.0, 5.0, 3.0, 1.0]), _trend())
    assert sym.tau == 0.0 and sym.p_value == pytest.approx(1.0) and sym.label == "不显著"
    with pytest.raises(ValueError, match="at least 10"):
        precipitation_trend(_annual([1.0, 2.0, 3.0, 4.0]), _trend(min_years=10))


def test_annual_precipitation_from_daily_table():
    d20 = pd.date_range("2020-01-01", "2020-12-31", freq="D")  # leap year, 366 days
    d21 = pd.date_range("2021-01-01", "2021-12-31", freq="D")
    p21 = np.full(d21.size, 0.4)
    p21[:10] = np.nan  # 10 missing days
    daily = pd.DataFrame({"station_id": "530680", "date": [d.strftime("%Y-%m-%d") for d in d20.append(d21)],
                          "precip_mm": np.concatenate([np.full(d20.size, 0.5), p21])})
    strict = annual_precipitation(daily, max_missing_days=5)
    assert strict.index.tolist() == [2020, 2021]
    assert strict.loc[2020] == pytest.approx(183.0) and math.isnan(strict.loc[2021])
    lenient = annual_precipitation(daily, max_missing_days=10)
    assert lenient.loc[2021] == pytest.approx(0.4 * 355)
    two = pd.concat([daily, daily.assign(station_id="530681")])
    with pytest.raises(ValueError, match="station_id"):
        annual_precipitation(two, 5)
    assert annual_precipitation(two, 5, station_id="530681").loc[2020] == pytest.approx(183.0)
    neg = daily.copy()
    neg.loc[3, "precip_mm"] = -1.0
    with pytest.raises(ValueError, match="precip_mm"):
        annual_precipitation(neg, 5)


# ── 4. demand projection ────────────────────────────────────────────────────────────────────────


QUOTAS = DemandQuotas(
    domestic_urban_l_per_person_day={2035: 120}, domestic_rural_l_per_person_day={2035: 60},
    industry_m3_per_10k_yuan={2035: 15}, irrigation_m3_per_ha={2035: 4500},
    livestock_l_per_sheep_unit_day={2035: 8}, greening_m3_per_ha={2035: 4000},
)
SCENARIO = pd.DataFrame({"year": [2035], "population_urban": [50_000], "population_rural": [5_000],
                         "industry_value_added_10k_yuan": [200_000.0], "irrigated_area_ha": [1_000.0],
                         "livestock_sheep_units": [200_000], "green_area_ha": [500.0], "ecology_other_10k_m3": [10.0]})


def test_demand_projection_and_gap_worked_by_hand():
    d = project_demand(SCENARIO, QUOTAS).iloc[0]
    # 生活: (50,000·120 + 5,000·60) L/d = 6,300,000 L/d · 365 = 2,299,500 m³ = 229.95 万m³
    assert d.demand_domestic_10k_m3 == pytest.approx(229.95)
    # 工业: 200,000 万元 · 15 m³/万元 = 3,000,000 m³ = 300 万m³
    assert d.demand_industry_10k_m3 == pytest.approx(300.0)
    # 农业: 1,000 hm² · 4,500 = 450 万m³; livestock 200,000 · 8 L/d · 365 = 584,000 m³ = 58.4 万m³
    assert d.demand_agri_10k_m3 == pytest.approx(508.4)
    # 生态: 500 hm² · 4,000 = 200 万m³ + 10
    assert d.demand_eco_10k_m3 == pytest.approx(210.0)
    assert d.demand_total_10k_m3 == pytest.approx(1248.35)
    caps = pd.DataFrame({"year": [2035], "total_quota_10k_m3": [1200.0], "agri_share": [0.5],
                         "domestic_industrial_share": [0.4], "ecological_share": [0.1]})
    g = demand_gap(project_demand(SCENARIO, QUOTAS), caps, _status()).iloc[0]
    assert g.gap_10k_m3 == pytest.approx(-48.35)  # 缺口
    assert g.ratio == pytest.approx(1.040292) and g.status == "超载"  # 1248.35 / 1200 rounded to 6 decimals
    assert g.cap_agri_10k_m3 == pytest.approx(600.0) and g.gap_agri_10k_m3 == pytest.approx(91.6)
    assert g.gap_domestic_industrial_10k_m3 == pytest.approx(480.0 - 529.95)
    assert g.gap_eco_10k_m3 == pytest.approx(120.0 - 210.0)
    with pytest.raises(ValueError, match="2035"):
        demand_gap(project_demand(SCENARIO, QUOTAS), caps.assign(year=2025), _status())


def test_demand_bad_input_names_column_and_year():
    with pytest.raises(ValueError, match="irrigated_area_ha"):
        project_demand(SCENARIO.drop(columns="irrigated_area_ha"), QUOTAS)
    with pytest.raises(ValueError, match="population_rural"):
        project_demand(SCENARIO.assign(population_rural=-1), QUOTAS)
    with pytest.raises(ValueError, match="2025"):
        project_demand(SCENARIO.assign(year=2025), QUOTAS)
    optional_absent = SCENARIO.drop(columns=["livestock_sheep_units", "green_area_ha", "ecology_other_10k_m3"])
    d = project_demand(optional_absent, QUOTAS).iloc[0]
    assert d.demand_agri_10k_m3 == pytest.approx(450.0) and d.demand_eco_10k_m3 == 0.0


# ── 5. water-bound scales ───────────────────────────────────────────────────────────────────────


def test_irrigable_area_worked_case():
    # 以水定地: (900 − 58.4) 万m³ = 8,416,000 m³ / 4,500 m³/hm² = 1,870.22 hm²
    assert irrigable_area_ha(900.0, 4500.0, livestock_10k_m3=58.4) == pytest.approx(8_416_000 / 4500)
    assert irrigable_area_ha(900.0, 4500.0) == pytest.approx(2000.0)
    assert irrigable_area_ha(900.0, 4500.0, rainfed_ha=50.0) == pytest.approx(2050.0)
    assert irrigable_area_ha(50.0, 4500.0, livestock_10k_m3=58.4) == 0.0  # livestock takes it all
    with pytest.raises(ValueError):
        irrigable_area_ha(-1.0, 4500.0)
    with pytest.raises(ValueError):
        irrigable_area_ha(900.0, 0.0)


def test_water_bound_scales_reuse_capacity_scale():
    row = {"total_quota_10k_m3": 1500.0, "domestic_industrial_share": 0.3, "agri_share": 0.6}
    per_capita = cs.per_capita_water_m3_per_year(150.0, 0.4)  # 91.25 m³/人/a
    s = water_bound_scales(row, per_capita, 115.0, 4500.0)
    # 以水定人: 1500 万m³ · 0.3 = 4,500,000 m³ / 91.25 = 49,315.07 persons; 以水定城: × 115 m² = 5.6712 km²
    assert s["population"] == pytest.approx(4_500_000 / 91.25)
    assert s["urban_land_km2"] == pytest.approx(4_500_000 / 91.25 * 115 / 1e6)
    assert s["population"] == pytest.approx(cs.water_bound_population(1.5e7, 0.3, per_capita))
    assert s["agri_allocation_10k_m3"] == pytest.approx(900.0) and s["irrigable_area_ha"] == pytest.approx(2000.0)
    assert s["irrigable_area_ha"] == pytest.approx(cs.water_bound_cropland_ha(1.5e7, 0.6, 4500.0))
    with pytest.raises(ValueError, match="agri_share"):
        water_bound_scales({"total_quota_10k_m3": 1500.0, "domestic_industrial_share": 0.3}, per_capita, 115.0, 4500.0)


# ── 6. land–water match ─────────────────────────────────────────────────────────────────────────


def test_land_water_match_by_hand():
    zones = np.array([[1, 1, 2], [2, 2, 0]])
    land = np.array([[1, 0, 1], [1, 1, 1]], dtype=bool)  # zone 1: 1 cell, zone 2: 3 cells (zone 0 ignored)
    t = land_water_match(zones, land, {1: 30.0, 2: 70.0}, 0.5).set_index("zone")
    assert t.land_km2.tolist() == [0.5, 1.5] and t.land_share.tolist() == [0.25, 0.75]
    assert t.water_share.tolist() == pytest.approx([0.3, 0.7])
    assert t.match_index.tolist() == pytest.approx([1.2, 0.7 / 0.75])
    water = np.array([[10.0, 20.0, 40.0], [10.0, np.nan, 99.0]])  # per cell; zone 0 ignored
    r = land_water_match(zones, land, water, 0.5).set_index("zone")
    assert r.water_10k_m3.tolist() == [30.0, 50.0] and r.match_index.tolist() == pytest.approx([0.375 / 0.25, 0.625 / 0.75])
    no_land = land_water_match(zones, np.array([[0, 0, 1], [1, 0, 0]]), {1: 30.0, 2: 70.0}, 0.5).set_index("zone")
    assert math.isnan(no_land.match_index[1]) and no_land.match_index[2] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="missing \\[2\\]"):
        land_water_match(zones, land, {1: 30.0}, 0.5)
    with pytest.raises(ValueError):
        land_water_match(zones, land, {1: 30.0, 2: -1.0}, 0.5)
