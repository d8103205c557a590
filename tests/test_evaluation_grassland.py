"""grassland: NY/T 635-2015 stocking rate, livestock → 羊单位, township capacity, 草畜平衡.

Expected values are computed by hand in the comments from the spec's formula (evaluation spec
§2.2): A_u = Y·(1 − r)·(1 + g)·E·U·H·M / (I·D) 羊单位/hm², A_a = 1/A_u.
"""


import numpy as np
import pandas as pd
import pytest

from erenhot.config import load_config
from erenhot.evaluation.grassland import (
    ACTUAL,
    AREA_HA,
    BALANCE,
    CAPACITY,
    GRASS_TYPE,
    HA_PER_SU,
    HEAD,
    NO_YIELD_AREA_HA,
    OVERLOAD,
    OVERLOAD_PCT,
    REDUCTION,
    SHEEP_UNITS,
    SPECIES,
    SU_FACTOR,
    SU_PER_HA,
    YIELD,
    ZONE,
    BalanceParams,
    LivestockParams,
    StockingCoefficients,
    StockingParams,
    balance_class,
    carrying_capacity_raster,
    carrying_capacity_table,
    grass_livestock_balance,
    hectares_per_sheep_unit,
    livestock_by_township,
    livestock_sheep_units,
    overload_ratio_pct,
    stocking_rate_raster,
    stocking_rate_table,
    stocking_standard_table,
    to_sheep_units,
    township_totals,
)

T09 = "t09_forest_grass_wetland"
T13 = "t13_agri_modernisation"
DESERT = "温性荒漠草原类"


def stocking(overrides=None) -> StockingParams:
    return load_config(T09, overrides).params(StockingParams, "stocking")


def livestock() -> LivestockParams:
    return load_config(T13).params(LivestockParams, "livestock")


def balance() -> BalanceParams:
    return load_config(T13).params(BalanceParams, "balance")


# ── configuration files (the same checks tests/test_config.py makes of t02/t03) ────────────────


def test_config_values_and_confidences_follow_the_spec():
    t09 = load_config(T09)
    # spec §2.1: 羊单位 = 1.8 kg standard hay/day [H]; standard hay 14 % moisture [M]
    assert t09.get("stocking.intake_kg_per_day") == 1.8 and t09.leaf("stocking.intake_kg_per_day")["confidence"] == "H"
    assert t09.get("stocking.standard_hay_moisture_fraction") == 0.14
    # spec §2.3 (recalled table, [L]): desert steppe whole year 40–45 %, cold 50–55 %
    rates = t09.leaf(f"stocking.types.{DESERT}.utilisation_rate_pct")
    assert rates["confidence"] == "L"
    assert rates["value"]["whole_year"] == [40, 45] and rates["value"]["cold"] == [50, 55]
    assert t09.leaf(f"stocking.types.{DESERT}.hay_coefficient")["confidence"] == "L"
    assert t09.get("stocking.grazing_days.whole_year") == 365
    t13 = load_config(T13)
    assert t13.get("livestock.sheep_unit_factors.cattle") == 5.0
    assert t13.leaf("livestock.sheep_unit_factors.sheep")["confidence"] == "H"
    assert t13.leaf("livestock.sheep_unit_factors.camel")["confidence"] == "M"
    assert t13.leaf("balance.overload_breaks_pct")["confidence"] == "L"  # not in the spec


# ── NY/T 635-2015 stocking rate ────────────────────────────────────────────────────────────────


def test_spec_worked_example_by_hand():
    # spec §2.5: Y = 400 kg/hm², U = 0.45, H = 1, g = 0, D = 365, I = 1.8
    # A_u = 400·0.45 / (1.8·365) = 180 / 657 = 0.273973 羊单位/hm²; A_a = 657/180 = 3.65 hm²
    c = StockingCoefficients(utilisation=0.45, hay_coefficient=1.0, grazing_days=365, intake_kg_per_day=1.8)
    assert c.sheep_units_per_ha(400.0) == pytest.approx(0.273973, abs=1e-6)
    assert hectares_per_sheep_unit(c.sheep_units_per_ha(400.0)) == pytest.approx(3.65)


def test_default_config_desert_steppe_by_hand():
    # defaults: whole year, lower end of 40–45 % → U = 0.40; g = 0, E = 1, H = 1, M = 0.86/0.86 = 1
    # A_u = 400·0.40 / (1.8·365) = 160/657 = 0.243531; A_a = 657/160 = 4.10625 hm²/羊单位
    p = stocking()
    assert p.utilisation(DESERT) == pytest.approx(0.40)
    su = stocking_rate_raster(np.array([[2]]), np.array([[400.0]]), p)
    assert su[0, 0] == pytest.approx(0.243531, abs=1e-6)
    assert hectares_per_sheep_unit(su)[0, 0] == pytest.approx(4.10625)


def test_complete_stocking_case_every_factor_by_hand():
    # 温性荒漠草原类, warm season, every factor away from 1:
    #   Y = 500 kg/hm² oven-dry matter (w_Y = 0) → M = (1 − 0)/(1 − 0.14) = 1/0.86
    #   r = 0.10 (dry year), g = 0.10 (warm season → applies), E = 0.8, H = 0.9
    #   U = mid of the warm range 40–45 % = 0.425; D = 165 d (warm); I = 1.8 kg/d
    # numerator   500 · 0.9 · 1.1 · 0.8 · 0.425 · 0.9 = 151.47 kg; / 0.86 = 176.127907
    # denominator 1.8 · 165 = 297 kg per 羊单位 over the season
    # A_u = 151.47 / (0.86 · 297) = 151.47 / 255.42 = 51/86 = 0.593023 羊单位/hm²
    # A_a = 86/51 = 1.686275 hm²/羊单位
    p = stocking({
        "stocking.season": "warm",
        "stocking.utilisation_pick": "mid",
        "stocking.yield_moisture_fraction": 0.0,
        "stocking.dry_year_reduction": 0.1,
        f"stocking.types.{DESERT}.regrowth_rate": 0.1,
        f"stocking.types.{DESERT}.edible_proportion": 0.8,
        f"stocking.types.{DESERT}.hay_coefficient": 0.9,
    })
    c = p.coefficients(DESERT)
    assert (c.utilisation, c.regrowth, c.grazing_days) == (pytest.approx(0.425), 0.1, 165)
    assert p.basis_factor == pytest.approx(1 / 0.86)
    su = stocking_rate_raster(np.array([[2, 0]]), np.array([[500.0, 500.0]]), p)
    assert su[0, 0] == pytest.approx(0.593023, abs=1e-6)
    assert np.isnan(su[0, 1])  # code 0 = not grassland
    assert hectares_per_sheep_unit(su[0, 0]) == pytest.approx(1.686275, abs=1e-6)
    table = stocking_rate_table(pd.DataFrame({GRASS_TYPE: [DESERT], YIELD: [500.0]}), p)
    assert table[SU_PER_HA].iloc[0] == pytest.approx(0.593023, abs=1e-6)
    assert table[HA_PER_SU].iloc[0] == pytest.approx(1.686275, abs=1e-6)


def test_regrowth_only_in_warm_and_whole_year_use():
    # cold season: g = 0.5 configured but ignored; U = lower of 50–55 % = 0.50, D = 200 d
    # A_u = 400·0.50 / (1.8·200) = 200/360 = 0.555556
    p = stocking({"stocking.season": "cold", f"stocking.types.{DESERT}.regrowth_rate": 0.5})
    assert p.coefficients(DESERT).regrowth == 0.0
    assert stocking_rate_raster(np.array([[2]]), np.array([[400.0]]), p)[0, 0] == pytest.approx(0.555556, abs=1e-6)
    # whole year: g applies → 160/657 · 1.5 = 240/657 = 0.365297
    p = stocking({f"stocking.types.{DESERT}.regrowth_rate": 0.5})
    assert stocking_rate_raster(np.array([[2]]), np.array([[400.0]]), p)[0, 0] == pytest.approx(0.365297, abs=1e-6)


def test_spring_autumn_needs_configured_days():
    with pytest.raises(ValueError, match="spring_autumn"):
        stocking({"stocking.season": "spring_autumn"})
    # with 60 days: U = lower of 25–30 % = 0.25, g not applied → 400·0.25/(1.8·60) = 100/108 = 0.925926
    p = stocking({"stocking.season": "spring_autumn", "stocking.grazing_days.spring_autumn": 60})
    assert stocking_rate_raster(np.array([[2]]), np.array([[400.0]]), p)[0, 0] == pytest.approx(0.925926, abs=1e-6)


def test_standard_table_lists_every_type_in_code_order():
    t = stocking_standard_table(stocking())
    assert t[GRASS_TYPE].tolist() == ["温性草原类", DESERT, "温性草原化荒漠类", "温性荒漠类", "低地草甸类"]
    assert t["代码"].tolist() == [1, 2, 3, 4, 5]
    # lower ends of the whole-year ranges 45, 40, 30, 25, 50 % (spec §2.3)
    assert t["利用率 %"].tolist() == pytest.approx([45, 40, 30, 25, 50])
    # 载畜系数 of the desert steppe: 0.40 / 657 per kg/hm²
    assert t["载畜系数 (羊单位/hm²)/(kg/hm²)"].iloc[1] == pytest.approx(0.40 / 657)


def test_stocking_validation_errors_name_the_value():
    p = stocking()
    with pytest.raises(ValueError, match="-5"):
        stocking_rate_raster(np.array([[2, 2]]), np.array([[400.0, -5.0]]), p)
    with pytest.raises(ValueError, match=r"\[9\]"):
        stocking_rate_raster(np.array([[2, 9]]), np.array([[400.0, 400.0]]), p)
    with pytest.raises(ValueError, match="典型草原"):
        stocking_rate_table(pd.DataFrame({GRASS_TYPE: ["典型草原"], YIELD: [400.0]}), p)
    with pytest.raises(ValueError, match="-1"):
        stocking_rate_table(pd.DataFrame({GRASS_TYPE: [DESERT], YIELD: [-1.0]}), p)
    with pytest.raises(ValueError, match="-3"):
        StockingCoefficients(0.4, 1.0, 365, 1.8).sheep_units_per_ha([-3.0])
    with pytest.raises(ValueError, match="utilisation"):
        StockingCoefficients(45, 1.0, 365, 1.8)  # a percentage where a fraction is expected
    with pytest.raises(ValueError, match="shape"):
        stocking_rate_raster(np.array([[2, 2]]), np.array([[400.0]]), p)
    with pytest.raises(ValueError, match="monsoon"):
        stocking({"stocking.season": "monsoon"})
    # a no-data value outside grassland is not an error; NaN yield on grassland → NaN
    su = stocking_rate_raster(np.array([[0, 2]]), np.array([[-9999.0, np.nan]]), p)
    assert np.isnan(su).all()


# ── township carrying capacity ─────────────────────────────────────────────────────────────────

# 3×3 grid of 1 km cells (100 hm² each); codes 1 温性草原类 (U 0.45), 2 温性荒漠草原类 (U 0.40),
# 5 低地草甸类 (U 0.50); whole year, I·D = 657 kg per 羊单位.
ZONES = np.array([[1, 1, 2], [1, 1, 2], [0, 2, 2]])
TYPES = np.array([[2, 2, 1], [2, 0, 1], [2, 2, 5]])
YIELDS = np.array([[300.0, 500.0, 600.0], [np.nan, 999.0, 400.0], [700.0, 200.0, 100.0]])
NAMES = {1: "格日勒敖都苏木", 2: "城区"}


def test_township_capacity_from_rasters_by_hand():
    # zone 1: desert steppe cells 300, 500, NaN (the 999 cell is not grassland)
    #   area 300 hm², no-yield 100 hm²; A = (300 + 500)·0.40/657·100 = 32000/657 = 48.706240
    #   mean yield (300 + 500)/2 = 400; rate 48.706240/200 = 160/657 = 0.243531 羊单位/hm²
    # zone 2 (the (2,0) cell is outside, zone 0):
    #   温性草原类 600, 400 → (1000·0.45)·100/657 = 45000/657 = 68.493151
    #   温性荒漠草原类 200  → 200·0.40·100/657 = 8000/657 = 12.176560
    #   低地草甸类 100      → 100·0.50·100/657 = 5000/657 = 7.610350
    #   total 58000/657 = 88.280061 羊单位 over 400 hm²
    by_type = carrying_capacity_raster(ZONES, TYPES, YIELDS, 100.0, stocking(), NAMES)
    assert by_type[[ZONE, GRASS_TYPE]].values.tolist() == [
        ["格日勒敖都苏木", DESERT], ["城区", "温性草原类"], ["城区", DESERT], ["城区", "低地草甸类"]]
    assert by_type[CAPACITY].tolist() == pytest.approx([48.706240, 68.493151, 12.176560, 7.610350], abs=1e-6)
    assert by_type[AREA_HA].tolist() == [300.0, 200.0, 100.0, 100.0]
    assert by_type[NO_YIELD_AREA_HA].tolist() == [100.0, 0.0, 0.0, 0.0]
    assert by_type[YIELD].tolist() == pytest.approx([400.0, 500.0, 200.0, 100.0])
    assert by_type[SU_PER_HA].iloc[0] == pytest.approx(0.243531, abs=1e-6)
    totals = township_totals(by_type)
    assert totals[ZONE].tolist() == ["格日勒敖都苏木", "城区"]
    assert totals[CAPACITY].tolist() == pytest.approx([48.706240, 88.280061], abs=1e-6)
    assert totals[AREA_HA].tolist() == [300.0, 400.0]
    # 城区: 400 hm² / 88.280061 羊单位 = 657/145 = 4.531034 hm² per 羊单位
    assert totals[HA_PER_SU].iloc[1] == pytest.approx(4.531034, abs=1e-6)


def test_township_capacity_from_polygons_matches_rasters():
    polygons = pd.DataFrame({
        ZONE: ["城区", "格日勒敖都苏木", "城区", "城区", "格日勒敖都苏木"],
        GRASS_TYPE: ["低地草甸类", DESERT, "温性草原类", DESERT, DESERT],
        AREA_HA: [100.0, 200.0, 200.0, 100.0, 100.0],
        YIELD: [100.0, 400.0, 500.0, 200.0, np.nan],
    })
    by_type = carrying_capacity_table(polygons, stocking())
    # zones in order of first appearance, types in code order
    assert by_type[[ZONE, GRASS_TYPE]].values.tolist() == [
        ["城区", "温性草原类"], ["城区", DESERT], ["城区", "低地草甸类"], ["格日勒敖都苏木", DESERT]]
    raster = carrying_capacity_raster(ZONES, TYPES, YIELDS, 100.0, stocking(), NAMES)
    expected = raster.set_index([ZONE, GRASS_TYPE]).loc[list(map(tuple, by_type[[ZONE, GRASS_TYPE]].values))]
    np.testing.assert_allclose(by_type[CAPACITY].to_numpy(), expected[CAPACITY].to_numpy())
    np.testing.assert_allclose(by_type[NO_YIELD_AREA_HA].to_numpy(), expected[NO_YIELD_AREA_HA].to_numpy())
    with pytest.raises(ValueError, match="-10"):
        carrying_capacity_table(polygons.assign(**{AREA_HA: [100.0, -10.0, 1.0, 1.0, 1.0]}), stocking())


def test_zone_type_without_any_yield_is_unknown_not_zero():
    by_type = carrying_capacity_raster(np.array([[1, 1]]), np.array([[2, 2]]), np.array([[np.nan, np.nan]]), 1.0, stocking())
    assert by_type[ZONE].tolist() == [1] and np.isnan(by_type[CAPACITY].iloc[0])
    assert np.isnan(township_totals(by_type)[CAPACITY].iloc[0])


def test_capacity_raster_errors():
    with pytest.raises(ValueError, match=r"\[2\]"):
        carrying_capacity_raster(ZONES, TYPES, YIELDS, 100.0, stocking(), {1: "只有一个"})
    with pytest.raises(ValueError, match="cell_area_ha"):
        carrying_capacity_raster(ZONES, TYPES, YIELDS, 0.0, stocking())
    with pytest.raises(ValueError, match=r"\[7\]"):
        carrying_capacity_raster(ZONES, np.where(TYPES == 5, 7, TYPES), YIELDS, 100.0, stocking())


# ── livestock → 羊单位 ──────────────────────────────────────────────────────────────────────────


def test_livestock_conversion_by_hand():
    p = livestock()
    # 1000 绵羊·1.0 + 200 山羊·0.9 + 50 牛·5 + 10 马·6 + 5 骆驼·7 = 1000 + 180 + 250 + 60 + 35 = 1525
    assert to_sheep_units({"绵羊": 1000, "山羊": 200, "牛": 50, "马": 10, "骆驼": 5}, p) == pytest.approx(1525)
    # the species keys work too: 1 sheep + 2 camels = 15; 驴 3.5, 骡 5
    assert to_sheep_units({"sheep": 1, "camel": 2}, p) == pytest.approx(15)
    assert p.factor(" 驴 ") == 3.5 and p.factor("骡") == 5.0
    with pytest.raises(ValueError, match="'羊'"):
        p.factor("羊")  # sheep + goat lumped together is refused
    with pytest.raises(ValueError, match="猪"):
        to_sheep_units({"猪": 3}, p)
    with pytest.raises(ValueError, match="-4"):
        to_sheep_units({"牛": -4}, p)


def test_livestock_by_township_by_hand():
    herd = pd.DataFrame({
        ZONE: ["格日勒敖都苏木"] * 4 + ["城区"],
        SPECIES: ["绵羊", "山羊", "牛", "骆驼", "绵羊"],
        HEAD: [30000, 5000, 800, 200, 100],
    })
    rows = livestock_sheep_units(herd, livestock())
    assert rows[SU_FACTOR].tolist() == [1.0, 0.9, 5.0, 7.0, 1.0]
    assert rows[SHEEP_UNITS].tolist() == pytest.approx([30000, 4500, 4000, 1400, 100])
    # 30000 + 4500 + 4000 + 1400 = 39900
    got = livestock_by_township(herd, livestock())
    assert got[ZONE].tolist() == ["格日勒敖都苏木", "城区"]
    assert got[ACTUAL].tolist() == pytest.approx([39900, 100])
    with pytest.raises(ValueError, match="山羊羔"):
        livestock_by_township(herd.assign(**{SPECIES: ["绵羊", "山羊羔", "牛", "骆驼", "绵羊"]}), livestock())
    with pytest.raises(ValueError, match="nan"):
        livestock_by_township(herd.assign(**{HEAD: [1, 2, np.nan, 4, 5]}), livestock())


# ── 草畜平衡 ────────────────────────────────────────────────────────────────────────────────────


def test_overload_ratio_and_classes_exactly_at_the_breaks():
    p = balance()  # breaks 10 / 20 %: ≤10 草畜平衡, (10, 20] 超载, >20 严重超载
    actual = np.array([900.0, 1000.0, 1100.0, 1100.5, 1200.0, 1201.0, 2000.0])
    ratio = overload_ratio_pct(actual, 1000.0)
    # (a − 1000)/1000·100: −10, 0, 10, 10.05, 20, 20.1, 100
    assert ratio.tolist() == pytest.approx([-10.0, 0.0, 10.0, 10.05, 20.0, 20.1, 100.0])
    assert balance_class(ratio, p).tolist() == ["草畜平衡", "草畜平衡", "草畜平衡", "超载", "超载", "严重超载", "严重超载"]
    # float noise: (0.33 − 0.3)/0.3·100 = 10.000000000000009 in binary floating point → still 草畜平衡
    noisy = overload_ratio_pct(0.33, 0.3)
    assert noisy > 10.0
    assert balance_class(noisy, p).tolist() == "草畜平衡"
    # no capacity: livestock → +inf → 严重超载; nothing at all → NaN → None
    edge = overload_ratio_pct([5.0, 0.0], [0.0, 0.0])
    assert np.isinf(edge[0]) and np.isnan(edge[1])
    assert balance_class(edge, p).tolist() == ["严重超载", None]
    with pytest.raises(ValueError, match="-1"):
        overload_ratio_pct(-1.0, 10.0)


def test_balance_params_are_validated():
    with pytest.raises(ValueError, match="labels"):
        BalanceParams(overload_breaks_pct=(10.0, 20.0), class_labels=("草畜平衡", "超载"))
    with pytest.raises(ValueError, match="increasing"):
        BalanceParams(overload_breaks_pct=(20.0, 10.0), class_labels=("a", "b", "c"))
    four = load_config(T13, {"balance.overload_breaks_pct": [10, 20, 50],
                             "balance.class_labels": ["草畜平衡", "轻度超载", "中度超载", "严重超载"]})
    p4 = four.params(BalanceParams, "balance")
    assert balance_class([50.0, 50.1], p4).tolist() == ["中度超载", "严重超载"]


def test_grass_livestock_balance_per_township_by_hand():
    capacity = pd.DataFrame({ZONE: ["甲嘎查", "乙嘎查", "丙嘎查"], CAPACITY: [1000.0, 2000.0, 500.0],
                             NO_YIELD_AREA_HA: [0.0, 0.0, 30.0]})
    herd = pd.DataFrame({ZONE: ["乙嘎查", "甲嘎查", "丙嘎查"], ACTUAL: [2400.0, 1100.0, 400.0]})
    got = grass_livestock_balance(capacity, herd, balance())
    assert got[ZONE].tolist() == ["甲嘎查", "乙嘎查", "丙嘎查"]
    # 甲: 1100 − 1000 = 100 → 10 % (on the break) → 草畜平衡, but 100 羊单位 above the capacity
    # 乙: 2400 − 2000 = 400 → 20 % (on the break) → 超载; reduce 400
    # 丙: 400 − 500 = −100 → −20 % → 草畜平衡; reduce 0
    assert got[OVERLOAD].tolist() == [100.0, 400.0, -100.0]
    assert got[OVERLOAD_PCT].tolist() == pytest.approx([10.0, 20.0, -20.0])
    assert got[REDUCTION].tolist() == [100.0, 400.0, 0.0]
    assert got[BALANCE].tolist() == ["草畜平衡", "超载", "草畜平衡"]
    assert got[NO_YIELD_AREA_HA].tolist() == [0.0, 0.0, 30.0]


def test_balance_zone_mismatch_raises_or_fills_zero():
    capacity = pd.DataFrame({ZONE: ["甲嘎查", "乙嘎查"], CAPACITY: [1000.0, 2000.0]})
    herd = pd.DataFrame({ZONE: ["甲嘎查", "乙"], ACTUAL: [1000.0, 50.0]})
    with pytest.raises(ValueError, match="乙嘎查"):
        grass_livestock_balance(capacity, herd, balance())
    got = grass_livestock_balance(capacity, herd, balance(), missing="zero")
    assert got[ZONE].tolist() == ["甲嘎查", "乙嘎查", "乙"]
    assert got[ACTUAL].tolist() == [1000.0, 0.0, 50.0]
    assert got[CAPACITY].tolist() == [1000.0, 2000.0, 0.0]
    assert got[BALANCE].tolist() == ["草畜平衡", "草畜平衡", "严重超载"]  # 0 %, −100 %, +inf
    with pytest.raises(ValueError, match="repeated"):
        grass_livestock_balance(pd.concat([capacity, capacity]), herd, balance())


def test_pipeline_rasters_and_herd_to_balance():
    totals = township_totals(carrying_capacity_raster(ZONES, TYPES, YIELDS, 100.0, stocking(), NAMES))
    herd = pd.DataFrame({ZONE: ["格日勒敖都苏木", "格日勒敖都苏木", "城区"], SPECIES: ["绵羊", "牛", "绵羊"],
                         HEAD: [40, 2, 100]})
    got = grass_livestock_balance(totals, livestock_by_township(herd, livestock()), balance())
    # 苏木: 40 + 2·5 = 50 羊单位 vs 32000/657 = 48.706240 → (50 − 48.706240)/48.706240 = 2.656 % → 草畜平衡
    # 城区: 100 vs 58000/657 = 88.280061 → 13.276 % → 超载, reduce 11.719939
    assert got[OVERLOAD_PCT].tolist() == pytest.approx([2.65625, 13.275862], abs=1e-5)
    assert got[BALANCE].tolist() == ["草畜平衡", "超载"]
    assert got[REDUCTION].tolist() == pytest.approx([1.293760, 11.719939], abs=1e-5)
