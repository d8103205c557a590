"""多规合一 (topic 1): conflict overlay, area table, implementation review, indicator gaps — on tiny
hand-made polygons (EPSG:4525 metres) with hand-computed areas."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from erenhot.evaluation.plan_integration import (
    ConflictRule,
    area_in_unit,
    classes_matching,
    conflict_area_table,
    conflict_overlay,
    disjoint_classes,
    implementation_review,
    indicator_gap,
)

X0, Y0 = 37_550_000.0, 4_830_000.0  # inside zone 37 near Erenhot
CRS = "EPSG:4525"


def sq(x, y, w, h):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def layer(classes, geoms):
    return gpd.GeoDataFrame({"cls": classes}, geometry=geoms, crs=CRS)


# two townships split at x = 8: T1 = [0, 8) and T2 = [8, 20) (× 0..10)
ZONES = gpd.GeoDataFrame({"XZQDM": ["152501200", "152501400"]}, geometry=[sq(0, 0, 8, 10), sq(8, 0, 12, 10)], crs=CRS)
NAMES = {"152501200": "苏木", "152501400": "城区"}
RULE = ConflictRule("规划建设用地占用基本农田", "plan", ("M*", "R"), "farm", ("基本农田保护区",), "严重", "test")


def test_two_squares_overlapping_by_a_5_by_10_strip_give_50_m2_split_across_two_townships():
    # A = [0,10]×[0,10] planned industry, B = [5,15]×[0,10] 基本农田 → overlap [5,10]×[0,10] = 50 m²;
    # the township line x = 8 splits it 3×10 = 30 m² (T1) and 2×10 = 20 m² (T2)
    layers = {"plan": layer(["M1"], [sq(0, 0, 10, 10)]), "farm": layer(["基本农田保护区"], [sq(5, 0, 10, 10)])}
    got = conflict_overlay(layers, [RULE], ZONES)
    assert list(got.columns) == ["conflict_type", "layer_a", "class_a", "layer_b", "class_b", "xzqdm", "area_m2",
                                 "severity", "geometry"]
    assert got.crs.to_epsg() == 4525
    by = got.set_index("xzqdm")["area_m2"]
    assert by["152501200"] == pytest.approx(30.0) and by["152501400"] == pytest.approx(20.0)
    assert got["area_m2"].sum() == pytest.approx(50.0)
    assert set(got["class_a"]) == {"M1"} and set(got["severity"]) == {"严重"}
    table = conflict_area_table(got, NAMES, [(RULE.conflict_type, RULE.severity)])
    city = table[table["xzqdm"] == ""].iloc[0]
    assert city["area_hm2"] == pytest.approx(0.005) and city["xzqmc"] == "全市"
    assert table.set_index("xzqdm").loc["152501200", "area_hm2"] == pytest.approx(0.003)


def test_overlapping_features_of_one_layer_count_once_and_priority_follows_the_pattern_order():
    # two planned features overlap on [4,6]×[0,10]: R (listed second) and M2 (matches M*, listed first)
    plan = layer(["R", "M2", "G"], [sq(0, 0, 6, 10), sq(4, 0, 6, 10), sq(0, 0, 20, 10)])
    parts = disjoint_classes(plan, ("M*", "R")).set_index("cls")
    assert parts.geometry.area.to_dict() == pytest.approx({"M2": 60.0, "R": 40.0})  # G is not in the rule
    farm = layer(["基本农田保护区", "基本农田保护区"], [sq(0, 0, 20, 10), sq(0, 0, 20, 10)])  # a duplicate feature
    got = conflict_overlay({"plan": plan, "farm": farm}, [RULE], ZONES)
    assert got["area_m2"].sum() == pytest.approx(100.0)  # the planned 10×10, once
    assert got.groupby("class_a")["area_m2"].sum().to_dict() == pytest.approx({"M2": 60.0, "R": 40.0})


def test_no_overlap_missing_layer_and_slivers_give_an_empty_frame_with_the_columns():
    layers = {"plan": layer(["M"], [sq(0, 0, 5, 10)]), "farm": layer(["基本农田保护区"], [sq(5, 0, 5, 10)])}  # touching only
    assert conflict_overlay(layers, [RULE], ZONES).empty
    absent = ConflictRule("x", "plan", ("*",), "redline", ("*",), "一般")
    got = conflict_overlay(layers, [absent], ZONES)
    assert got.empty and "area_m2" in got.columns and got.crs.to_epsg() == 4525
    sliver = {"plan": layer(["M"], [sq(0, 0, 5.1, 10)]), "farm": layer(["基本农田保护区"], [sq(5, 0, 5, 10)])}  # 1 m²
    assert conflict_overlay(sliver, [RULE], ZONES, min_area_m2=2.0).empty
    assert conflict_overlay(sliver, [RULE], ZONES)["area_m2"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="EPSG:4525"):
        conflict_overlay({"plan": layers["plan"].to_crs(4490), "farm": layers["farm"]}, [RULE], ZONES)
    with pytest.raises(ValueError, match="missing"):
        ConflictRule.from_mapping({"conflict_type": "x", "layer_a": "a"})


def test_classes_matching_orders_by_pattern_then_value():
    assert classes_matching(["R2", "M1", "E1", "R1", "M1"], ["M*", "R*"]) == ["M1", "R1", "R2"]
    assert classes_matching(["0101", "0103", "0401"], ["01*"]) == ["0101", "0103"]
    assert classes_matching(["a"], ["*"]) == ["a"]


def test_implementation_review_by_hand():
    # planned zone [0,10]×[0,10] = 100 m²; actual construction [6,16]×[0,5] = 50 m² of which [6,10]×[0,5] = 20 m² inside
    planned = layer(["城镇村建设用地区"], [sq(0, 0, 10, 10)])
    actual = layer(["0701"], [sq(6, 0, 10, 5)])
    got = implementation_review(actual, planned, ZONES, NAMES).set_index("xzqdm")
    city = got.loc[""]
    assert city["planned_ha"] == pytest.approx(0.01) and city["actual_ha"] == pytest.approx(0.005)
    assert city["actual_inside_ha"] == pytest.approx(0.002) and city["actual_outside_ha"] == pytest.approx(0.003)
    assert city["implementation_rate"] == pytest.approx(0.2) and city["conformity_rate"] == pytest.approx(0.4)
    assert city["planned_unbuilt_ha"] == pytest.approx(0.008)
    # T1 (x < 8): planned 80 m², actual [6,8]×[0,5] = 10 m² all inside; T2: planned 20, actual 40 of which 10 inside
    assert got.loc["152501200", "implementation_rate"] == pytest.approx(10 / 80)
    assert got.loc["152501200", "conformity_rate"] == pytest.approx(1.0)
    assert got.loc["152501400", "actual_outside_ha"] == pytest.approx(0.003)
    empty = implementation_review(actual.iloc[0:0], planned.iloc[0:0], ZONES, NAMES)
    assert np.isnan(empty["implementation_rate"]).all()


def test_area_units_and_indicator_gap():
    assert area_in_unit(1e6, "km²") == pytest.approx(1.0)
    assert area_in_unit(1e4, "公顷") == pytest.approx(1.0)
    assert area_in_unit(10000.0 / 15.0 * 1e4, "万亩") == pytest.approx(1.0)  # 1 万亩 = 666.67 hm²
    with pytest.raises(ValueError, match="unit"):
        area_in_unit(1.0, "acre")
    assert indicator_gap(90.0, 100.0, "min") == (-10.0, "未达标")
    assert indicator_gap(90.0, 100.0, "max") == (-10.0, "达标")
    assert indicator_gap(100.0, 100.0, "min") == (0.0, "达标")
    assert indicator_gap(5.0, 1.0, "none") == (4.0, "—")
    assert indicator_gap(float("nan"), 1.0, "min")[1] == "无现状值"
    with pytest.raises(ValueError):
        indicator_gap(1.0, 1.0, "up")
