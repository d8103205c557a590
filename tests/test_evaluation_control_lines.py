"""三区三线 pure functions: overlaps measured by hand on tiny squares, the precedence that resolves them,
the 永久基本农田 rule and the first-match zone rules."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from erenhot.evaluation import control_lines as cl

CRS = "EPSG:4525"


def _gdf(*boxes, **cols):
    return gpd.GeoDataFrame(cols or {"n": list(range(len(boxes)))}, geometry=[shapely.box(*b) for b in boxes], crs=CRS)


@pytest.fixture
def overlapping():
    # red line 100 × 100 at the origin; farmland overlaps it by 50 × 100 = 5,000 m² and has a far piece;
    # the boundary (20 × 20 at 90,90) overlaps the red line by 10 × 10 = 100 and the farmland by 20 × 10 = 200 m²
    return {"STBHHX": _gdf((0, 0, 100, 100)),
            "YJJBNT": _gdf((50, 0, 150, 100), (500, 500, 510, 510)),
            "CZKFBJ": _gdf((90, 90, 110, 110))}


def test_overlapping_case_is_reported_with_every_pair_and_area(overlapping):
    summary = cl.overlap_summary(overlapping).set_index(["line_a", "line_b"])
    assert summary.loc[("STBHHX", "YJJBNT"), "area_m2"] == pytest.approx(5000.0)
    assert summary.loc[("STBHHX", "CZKFBJ"), "area_m2"] == pytest.approx(100.0)
    assert summary.loc[("YJJBNT", "CZKFBJ"), "area_m2"] == pytest.approx(200.0)
    assert summary["n_pairs"].tolist() == [1, 1, 1]
    pairs = cl.overlap_pairs(overlapping)
    assert len(pairs) == 3 and pairs["area_m2"].sum() == pytest.approx(5300.0)
    assert set(pairs["index_b"][pairs["line_b"] == "YJJBNT"]) == {0}  # the far farmland piece overlaps nothing
    with pytest.raises(cl.ControlLineOverlapError) as err:
        cl.check_no_overlap(overlapping, 1.0)
    assert len(err.value.pairs) == 3 and "STBHHX ∩ YJJBNT = 5,000.0 m²" in str(err.value)


def test_touching_lines_do_not_overlap():
    lines = {"STBHHX": _gdf((0, 0, 10, 10)), "YJJBNT": _gdf((10, 0, 20, 10)), "CZKFBJ": _gdf()}
    summary = cl.check_no_overlap(lines, 0.0)
    assert summary["area_m2"].tolist() == [0.0, 0.0, 0.0] and summary["n_pairs"].sum() == 0


def test_features_overlapping_inside_one_line_are_reported_and_made_disjoint():
    # two red-line patches of 100 × 100 overlapping by 50 × 100: 5,000 m² would be counted twice
    lines = {"STBHHX": _gdf((0, 0, 100, 100), (50, 0, 150, 100)), "YJJBNT": _gdf(), "CZKFBJ": _gdf()}
    assert cl.self_overlaps(lines).set_index("line").loc["STBHHX", "area_m2"] == pytest.approx(5000.0)
    with pytest.raises(cl.ControlLineOverlapError, match="STBHHX ∩ STBHHX = 5,000.0 m²"):
        cl.check_no_overlap(lines, 1.0)
    flat = cl.make_disjoint(lines["STBHHX"])
    assert flat.geometry.area.tolist() == pytest.approx([10_000.0, 5_000.0]) and flat["n"].tolist() == [0, 1]
    cl.check_no_overlap({**lines, "STBHHX": flat}, 1.0)


def test_overlapping_grade_polygons_give_the_parcel_its_best_grade_once():
    # one 100 × 100 cropland parcel under two overlapping 01-40 polygons (grades 9 and 7, overlap 50 × 100)
    parcel = gpd.GeoDataFrame({"DLBM": ["0103"]}, geometry=[shapely.box(0, 0, 100, 100)], crs=CRS)
    quality = gpd.GeoDataFrame({"LYD": [9, 7]}, geometry=[shapely.box(0, 0, 100, 100), shapely.box(50, 0, 100, 100)], crs=CRS)
    pieces = cl.cropland_quality(parcel, quality, "LYD")
    assert pieces.geometry.area.sum() == pytest.approx(10_000.0)  # not 15,000
    by_grade = pieces.assign(a=pieces.geometry.area).groupby("grade")["a"].sum()
    assert by_grade.to_dict() == pytest.approx({7.0: 5_000.0, 9.0: 5_000.0})


def test_precedence_resolves_to_zero_and_says_what_was_given_up(overlapping):
    resolved, removed = cl.resolve_overlaps(overlapping, ["STBHHX", "YJJBNT", "CZKFBJ"])
    after = cl.check_no_overlap(resolved, 1e-6)
    assert after["area_m2"].max() == pytest.approx(0.0, abs=1e-6)
    # the red line keeps all its land; farmland loses 5,000; the boundary loses 100 to the red line and
    # 100 to the farmland left after the red line (its 20 × 20 = 400 m² keeps 200)
    assert resolved["STBHHX"].area.sum() == pytest.approx(10000.0)
    assert resolved["YJJBNT"].area.sum() == pytest.approx(5000.0 + 100.0)
    assert resolved["CZKFBJ"].area.sum() == pytest.approx(200.0)
    got = {(r.line, r.removed_by): r.area_m2 for r in removed.itertuples()}
    assert got == pytest.approx({("YJJBNT", "STBHHX"): 5000.0, ("CZKFBJ", "STBHHX"): 100.0, ("CZKFBJ", "YJJBNT"): 100.0})
    assert list(resolved["YJJBNT"]["n"]) == [0, 1]  # attributes kept


def test_other_precedence_gives_the_land_to_farmland(overlapping):
    resolved, _ = cl.resolve_overlaps(overlapping, ["YJJBNT", "STBHHX", "CZKFBJ"])
    assert resolved["YJJBNT"].area.sum() == pytest.approx(10100.0)
    assert resolved["STBHHX"].area.sum() == pytest.approx(5000.0)
    assert cl.overlap_summary(resolved)["area_m2"].max() == pytest.approx(0.0, abs=1e-6)


def test_resolution_drops_slivers_and_checks_the_order(overlapping):
    resolved, _ = cl.resolve_overlaps(overlapping, ["STBHHX", "YJJBNT", "CZKFBJ"], min_piece_m2=150.0)
    assert len(resolved["YJJBNT"]) == 1  # the 100 m² far piece is below 150 m²
    assert resolved["CZKFBJ"].area.sum() == pytest.approx(200.0)  # one 200 m² L-shaped piece stays
    with pytest.raises(ValueError, match="every line once"):
        cl.resolve_overlaps(overlapping, ["STBHHX", "YJJBNT"])
    with pytest.raises(ValueError, match="every line once"):
        cl.resolve_overlaps(overlapping, ["STBHHX", "YJJBNT", "YJJBNT"])


def test_lines_in_a_geographic_crs_are_refused():
    geo = gpd.GeoDataFrame({"n": [0]}, geometry=[shapely.box(111, 43, 111.1, 43.1)], crs="EPSG:4490")
    with pytest.raises(ValueError, match="geographic"):
        cl.overlap_summary({"STBHHX": geo, "YJJBNT": geo})


def test_cropland_quality_and_the_farmland_rule_by_hand():
    # two parcels: A (0..100 × 0..100) half graded 11 and half 15; B (200..210) not graded at all
    crop = _gdf((0, 0, 100, 100), (200, 0, 210, 10), DLBM=["0103", "0102"], TBBH=["1", "2"])
    quality = _gdf((0, 0, 50, 100), (50, 0, 100, 100), LYD=[11, 15])
    pieces = cl.cropland_quality(crop, quality, "LYD")
    assert len(pieces) == 3 and pieces.area.sum() == pytest.approx(10100.0)
    by = {(r.TBBH, None if np.isnan(r.grade) else int(r.grade)): r.geometry.area for r in pieces.itertuples()}
    assert by == pytest.approx({("1", 11): 5000.0, ("1", 15): 5000.0, ("2", None): 100.0})
    params = cl.FarmlandParams(eligible_dlbm=("0101", "0102", "0103"), grade_field="LYD", max_grade=14,
                               missing_grade="include", min_patch_m2=1000.0, max_slope_deg=25.0)
    reason = cl.farmland_rule(pieces, params, [1.0, 1.0, 1.0])
    got = {(r.TBBH, None if np.isnan(r.grade) else int(r.grade)): why for r, why in zip(pieces.itertuples(), reason, strict=True)}
    assert got == {("1", 11): "", ("1", 15): "等别", ("2", None): "面积"}
    steep = cl.farmland_rule(pieces, params, [30.0, 1.0, 1.0])
    assert steep.iloc[[i for i, g in enumerate(pieces["grade"]) if g == 11][0]] == "坡度"
    strict = cl.FarmlandParams(("0103",), "LYD", 15, "exclude", 0.0)
    reason = cl.farmland_rule(pieces, strict)
    assert sorted(reason) == sorted(["", "", "非耕地"])  # B is 0102, not eligible under this rule
    with pytest.raises(ValueError, match="include or exclude"):
        cl.farmland_rule(pieces, cl.FarmlandParams(("0103",), "LYD", 15, "maybe", 0.0))
    with pytest.raises(ValueError, match="no field 'ZRD'"):
        cl.cropland_quality(crop, quality, "ZRD")


def test_zone_rules_first_match_wins_and_default():
    eco = np.array([[1, 2, 3, 0]])
    grass = np.array([[1, 1, 0, 0]])
    mining = np.array([[0, 1, 0, 0]])
    rules = [{"code": 7, "conditions": {"mining": [1]}},
             {"code": 2, "conditions": {"grass": [1], "eco_importance": [1]}},
             {"code": 54, "conditions": {"grass": [1]}}]
    layers = {"eco_importance": eco, "grass": grass, "mining": mining}
    assert cl.apply_zone_rules(layers, rules, 2).tolist() == [[2, 7, 2, 2]]
    assert cl.apply_zone_rules(layers, rules[1:], 99, mask=np.array([[True, True, True, False]])).tolist() == [[2, 54, 99, 0]]
    with pytest.raises(KeyError, match="unknown layer 'pastoral'"):
        cl.apply_zone_rules(layers, [{"code": 2, "conditions": {"pastoral": [1]}}], 2)
    with pytest.raises(ValueError, match="no condition"):
        cl.apply_zone_rules(layers, [{"code": 2, "conditions": {}}], 2)
