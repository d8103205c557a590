"""Topic 8 services: life-circle coverage, per-capita provision, facility load, gap areas, 魅力特色区 and
建成区绿地率 by hand on tiny inputs (erenhot.evaluation.services)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import Point, box

from erenhot.evaluation import services as sv

# one row of six 100 m cells; walking 6 km/h = 100 m/min → 1 min per cell step
T = Affine(100.0, 0.0, 0.0, 0.0, -100.0, 100.0)
WALK = np.full((1, 6), 6.0, dtype=np.float32)
POP = np.array([[10.0, 20.0, 30.0, 40.0, 50.0, 60.0]])


def test_nearest_facility_and_coverage_by_hand():
    # facilities on cells 0 and 5: times 0,1,2 | 2,1,0; cell 2 is nearer to 0 (2 < 3), cell 3 to 5
    minutes, which = sv.nearest_facility(WALK, [(0, 0), (0, 5)], 100.0)
    assert minutes[0].tolist() == pytest.approx([0, 1, 2, 2, 1, 0])
    assert which[0].tolist() == [0, 0, 0, 1, 1, 1]
    urban = np.ones((1, 6), bool)
    cov = sv.covered_mask(minutes, minutes, urban, 1.5, 99.0)
    assert cov[0].tolist() == [True, True, False, False, True, True]
    # zone 1 = cells 0–2 (60 persons, 30 covered), zone 2 = cells 3–5 (150 persons, 110 covered)
    table = sv.coverage_by_zone(cov, POP, np.array([[1, 1, 1, 2, 2, 2]]), {1: "A", 2: "B"}).set_index("zone")
    assert table.loc[0, "population"] == 210 and table.loc[0, "covered_pop"] == 140
    assert table.loc[1, "covered_share"] == pytest.approx(0.5) and table.loc[2, "covered_pop"] == 110
    # rural cells use the rural threshold on the rural (driving) minutes
    rural_minutes = np.array([[0.0, 5.0, 50.0, 50.0, 5.0, 0.0]])
    cov2 = sv.covered_mask(minutes, rural_minutes, np.array([[True, True, False, False, False, False]]), 0.5, 10.0)
    assert cov2[0].tolist() == [True, False, False, False, True, True]
    with pytest.raises(ValueError, match="differ in shape"):
        sv.covered_mask(minutes, rural_minutes[:, :3], urban, 1, 1)
    with pytest.raises(ValueError, match="> 0"):
        sv.covered_mask(minutes, minutes, urban, 0, 1)


def test_unreachable_facility_leaves_cells_uncovered():
    speed = WALK.copy()
    speed[0, 2] = 0.0  # impassable cell cuts the row
    minutes, which = sv.nearest_facility(speed, [(0, 0), None], 100.0)  # second facility not on the grid
    assert np.isinf(minutes[0, 3:]).all() and (which[0, 3:] == -1).all() and which[0, 1] == 0


def test_provision_gap_per_1000_by_hand():
    # 5,000 residents, 30 学位/千人 → 150 needed; 100 delivered → gap 50, 20 per 1,000
    assert sv.provision_gap(100, 5000, 30) == pytest.approx({"per_1000_actual": 20.0, "required": 150.0, "gap": 50.0})
    # 养老: 35 beds per 1,000 elderly, 20 % elderly → base 1,000 → 35 needed; 100 beds → surplus 65
    assert sv.provision_gap(100, 5000, 35, 0.2) == pytest.approx({"per_1000_actual": 100.0, "required": 35.0, "gap": -65.0})
    none = sv.provision_gap(100, 5000, None)
    assert none["per_1000_actual"] == pytest.approx(20.0) and np.isnan(none["gap"]) and np.isnan(none["required"])
    assert np.isnan(sv.provision_gap(0, 0, 30)["per_1000_actual"])
    with pytest.raises(ValueError):
        sv.provision_gap(-1, 5000, 30)
    with pytest.raises(ValueError, match="population_share"):
        sv.provision_gap(1, 5000, 30, 0.0)


def test_served_population_and_load_by_hand():
    which = np.array([[0, 0, 0, 1, 1, 1]])
    cov = np.array([[True, True, False, False, True, True]])
    # facility 0 serves 10 + 20 = 30, facility 1 serves 50 + 60 = 110 (cell 3 is outside the standard)
    got = sv.served_load(which, cov, POP, [10.0, 20.0], per_1000=100.0)
    assert got["served_pop"].tolist() == [30.0, 110.0]
    assert got["load"].tolist() == pytest.approx([30 / 1000 * 100 / 10, 110 / 1000 * 100 / 20])  # 0.3, 0.55
    assert sv.served_load(which, cov, POP, [10.0, 0.0], per_1000=None)["load"].isna().all()


def test_gap_areas_are_connected_populated_uncovered_cells():
    cov = np.array([[True, True, False, False, True, False]])
    pop = np.array([[10.0, 20.0, 30.0, 40.0, 50.0, 0.5]])
    gaps = sv.gap_areas(cov, pop, T, min_persons_per_cell=1.0)
    assert len(gaps) == 1  # cells 2–3 (70 persons); cell 5 holds < 1 person
    geom, persons = gaps[0]
    assert persons == pytest.approx(70.0) and geom.area == pytest.approx(20000.0)
    assert geom.bounds == pytest.approx((200.0, 0.0, 400.0, 100.0))
    assert sv.gap_areas(np.ones((1, 6), bool), pop, T, 1.0) == []


def test_snap_sources_moves_to_the_nearest_passable_cell():
    passable = np.array([[True, True, False, True]])
    got = sv.snap_sources([50.0, 250.0, 999.0], [50.0, 50.0, 50.0], T, passable)
    assert got[0] == (0, 0) and got[1] in {(0, 1), (0, 3)} and got[2] is None


def _resources(rows):
    return gpd.GeoDataFrame([{"resource_id": r[0], "name": r[0], "category": r[1], "grade": r[2], "score": r[3]} for r in rows],
                            geometry=[Point(r[4], r[5]) for r in rows], crs=4525)


def test_charm_zones_cluster_resources_and_join_touched_eco_sources():
    res = _resources([("A", "口岸", "4A", 0.9, 0, 0), ("B", "恐龙化石", "省级", 0.6, 3000, 0), ("C", "盐湖", "市级", 0.4, 20000, 0),
                      ("D", "敖包", "市级", 0.3, 23000, 0)])
    eco = gpd.GeoDataFrame({"feature_id": ["S1", "S2"]}, geometry=[box(4000, -500, 6000, 500), box(50000, 0, 51000, 1000)], crs=4525)
    labels = {"national": "国家级", "city": "市级"}
    zones = sv.charm_zones(res, eco, link_distance_m=5000, zone_buffer_m=1000, min_resources=2, national_grades=["4A", "5A"],
                           national_min_score_sum=2.0, level_labels=labels)
    # A–B are 3 km apart (< 5 km): one cluster with a 4A member → national; C–D 3 km apart: city level (0.7 < 2.0)
    assert len(zones) == 2
    ab = zones[zones["members"].str.contains("A")].iloc[0]
    cd = zones[zones["members"].str.contains("C")].iloc[0]
    assert ab["level"] == "national" and ab["n_resources"] == 2 and ab["score_sum"] == pytest.approx(1.5)
    assert ab["eco_sources"] == "S1"  # B's 1 km disc reaches x = 4000: S1 joins; S2 is far
    assert cd["level"] == "city" and cd["eco_sources"] == ""
    # A–B area = two 1 km discs (no overlap at 3 km) + S1 minus its overlap with B's disc
    assert ab["area_km2"] > 2 * np.pi * 1.0 * 0.99 and zones["zone_id"].tolist() == ["MZ01", "MZ02"]
    # a lone resource is no zone with min_resources 2; it is with 1, and the score sum can make a zone national
    lone = sv.charm_zones(res.iloc[[2]], None, link_distance_m=5000, zone_buffer_m=1000, min_resources=1,
                          national_grades=["5A"], national_min_score_sum=0.4, level_labels=labels)
    assert len(lone) == 1 and lone.iloc[0]["level"] == "national"
    assert len(sv.charm_zones(res.iloc[0:0], eco, link_distance_m=5000, zone_buffer_m=1000, min_resources=1,
                              national_grades=[], national_min_score_sum=1, level_labels=labels)) == 0
    with pytest.raises(ValueError, match="lack columns"):
        sv.charm_zones(res.drop(columns="score"), None, link_distance_m=1, zone_buffer_m=1, min_resources=1,
                       national_grades=[], national_min_score_sum=1, level_labels=labels)


def test_green_space_ratio_counts_parks_on_urban_land_only():
    dltb = gpd.GeoDataFrame({"DLBM": ["0810", "0701", "0810", "0810"], "CZCSXM": ["201", "202", "", None]},
                            geometry=[box(0, 0, 100, 100), box(100, 0, 400, 100), box(0, 200, 100, 300), box(0, 400, 50, 450)], crs=4525)
    got = sv.green_space_ratio(dltb, ["0810"], ["201", "202"])
    assert got["ratio_pct"] == pytest.approx(25.0) and got["green_km2"] == pytest.approx(0.01) and got["urban_km2"] == pytest.approx(0.04)
    assert np.isnan(sv.green_space_ratio(dltb, ["0810"], ["209"])["ratio_pct"])
    with pytest.raises(ValueError, match="CZCSXM"):
        sv.green_space_ratio(dltb.drop(columns="CZCSXM"), ["0810"], ["201"])
