"""文化与旅游 math (erenhot.evaluation.tourism): grade scores, categories, least times between resources
on a road square with one slow side, corridor selection (spanning tree + must-link) and routed lines,
all by hand."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon

from erenhot.evaluation import tourism as tm
from erenhot.evaluation import transport as tr

SPEEDS = {"一级公路": 60.0, "四级公路": 6.0}
ACCESS_KMH = 6.0  # 100 m of access = 1 min


def _square_graph(extra_component: bool = False):
    # A(0,0) —AB 3 km 60 km/h (3 min)— B(3000,0) —BC 3 min— C(3000,3000) —CD 3 min— D(0,3000)
    # D —DA 3 km at 6 km/h (30 min)— A: the slow side of the square.
    lines = [LineString([(0, 0), (3000, 0)]), LineString([(3000, 0), (3000, 3000)]),
             LineString([(3000, 3000), (0, 3000)]), LineString([(0, 3000), (0, 0)])]
    grades = ["一级公路", "一级公路", "一级公路", "四级公路"]
    if extra_component:  # a road touching nothing else
        lines.append(LineString([(10000, 0), (11000, 0)]))
        grades.append("一级公路")
    return tr.road_graph(gpd.GeoDataFrame({"DLDJ": grades}, geometry=lines, crs=4525), "DLDJ", SPEEDS)


# four resources, each 100 m off one side of the square (1 min of access at 6 km/h)
RESOURCES = {"R1": Point(1500, -100), "R2": Point(3100, 1500), "R3": Point(1500, 3100), "R4": Point(-100, 1000)}


def test_grade_scores_and_their_errors():
    table = {"5A": 1.0, "4A": 0.8, "3A": 0.6}
    assert tm.score_grades(["4A", "5A", " 3A "], table, "06-03 grade").tolist() == [0.8, 1.0, 0.6]
    with pytest.raises(ValueError, match=r"06-03 grade: grade '6A' has no configured score"):
        tm.score_grades(["4A", "6A"], table, "06-03 grade")
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        tm.score_grades(["4A"], {"4A": 80}, "06-03 grade")


def test_categories_from_the_delivered_type():
    cats = ["口岸国门", "历史遗迹", "旅游景区"]
    got = tm.categorise(["边境口岸", "历史文化", "城市休闲", None], {"边境口岸": "口岸国门", "历史文化": "历史遗迹"}, "旅游景区", cats, "06-03 type")
    assert got == ["口岸国门", "历史遗迹", "旅游景区", "旅游景区"]
    with pytest.raises(ValueError, match="06-03 type: categories \\['民族文化'\\]"):
        tm.categorise(["民族民俗"], {"民族民俗": "民族文化"}, "旅游景区", cats, "06-03 type")


def test_least_times_on_a_square_with_one_slow_side():
    g = _square_graph()
    access = tm.attach_resources(g, RESOURCES, ACCESS_KMH)
    assert access == pytest.approx({"R1": 100.0, "R2": 100.0, "R3": 100.0, "R4": 100.0})
    minutes, km, paths = tm.least_times(g, list(RESOURCES))
    # R1→R2: 1 + 1.5 (to B) + 1.5 (to mid BC) + 1 = 5 min over 0.1 + 1.5 + 1.5 + 0.1 = 3.2 km
    assert minutes.loc["R1", "R2"] == pytest.approx(5.0) and km.loc["R1", "R2"] == pytest.approx(3.2)
    # R1→R3: via B and C 1 + 1.5 + 3 + 1.5 + 1 = 8 min (via A, D the slow side: 1 + 1.5 + 30 + 1.5 + 1 = 35)
    assert minutes.loc["R1", "R3"] == pytest.approx(8.0) and km.loc["R1", "R3"] == pytest.approx(6.2)
    # R4 joins DA 1 km north of A: R1→R4 = 1 + 1.5 + 1 km at 6 km/h (10) + 1 = 13.5 min
    assert minutes.loc["R1", "R4"] == pytest.approx(13.5) and km.loc["R1", "R4"] == pytest.approx(2.7)
    # R3→R4: via D 1 + 1.5 + 2 km slow (20) + 1 = 23.5, but round by C, B, A 1 + 1.5 + 3 + 3 + 10 + 1 = 19.5;
    # R2→R4 via B, A: 1 + 1.5 + 3 + 10 + 1 = 16.5
    assert minutes.loc["R3", "R4"] == pytest.approx(19.5) and km.loc["R3", "R4"] == pytest.approx(8.7)
    assert minutes.loc["R2", "R4"] == pytest.approx(16.5)
    assert (minutes.to_numpy() == minutes.to_numpy().T).all() and np.diag(minutes.to_numpy()).tolist() == [0.0] * 4
    assert paths[("R1", "R4")][0] == "R1" and paths[("R1", "R4")][-1] == "R4"
    with pytest.raises(KeyError, match="R9"):
        tm.least_times(g, ["R1", "R9"])


def test_corridors_are_the_spanning_tree_plus_must_links_traced_on_the_roads():
    g = _square_graph()
    tm.attach_resources(g, RESOURCES, ACCESS_KMH)
    minutes, km, paths = tm.least_times(g, list(RESOURCES))
    # Kruskal: R1R2 5, R2R3 5, (R1R3 8 closes a cycle), R1R4 13.5 → total 23.5 min
    pairs = tm.corridor_pairs(minutes, [("R3", "R4"), ("R2", "R1"), ("R1", "国门"), ("R4", "R4")])
    assert pairs == [("R1", "R2", tm.MST), ("R1", "R4", tm.MST), ("R2", "R3", tm.MST), ("R3", "R4", tm.MUST_LINK)]
    assert sum(minutes.loc[a, b] for a, b, k in pairs if k == tm.MST) == pytest.approx(23.5)
    traced = tm.trace_corridors(g, pairs, minutes, km, paths)
    r14 = traced[1]
    assert (r14["from_id"], r14["to_id"], r14["minutes"], r14["length_km"]) == ("R1", "R4", pytest.approx(13.5), pytest.approx(2.7))
    line = r14["geometry"]
    # from R1 down its access edge to (1500, 0), west to A, north to (0, 1000), out to R4
    assert line.coords[0] == (1500.0, -100.0) and line.coords[-1] == (-100.0, 1000.0)
    assert line.length == pytest.approx(2700.0) and Point(0, 0).distance(line) < 1e-6
    must = traced[3]
    assert must["link"] == tm.MUST_LINK and must["geometry"].length == pytest.approx(must["length_km"] * 1000.0)
    # R3 → R4 the long way round by C, B and A (19.5 min), not along the slow side by D (23.5 min)
    assert Point(3000, 0).distance(must["geometry"]) < 1e-6 and Point(0, 3000).distance(must["geometry"]) > 900
    with pytest.raises(ValueError, match="square"):
        tm.corridor_pairs(minutes.iloc[:, :3])


def test_resources_in_another_component_make_a_spanning_forest():
    g = _square_graph(extra_component=True)
    pts = dict(RESOURCES) | {"R5": Point(10500, 50)}
    tm.attach_resources(g, pts, ACCESS_KMH)
    minutes, km, _ = tm.least_times(g, list(pts))
    assert math.isinf(minutes.loc["R1", "R5"]) and math.isinf(km.loc["R5", "R4"])
    pairs = tm.corridor_pairs(minutes, [("R1", "R5")])  # a must-link without a route is skipped
    assert len(pairs) == 3 and all("R5" not in p[:2] for p in pairs)


def test_path_line_turns_each_edge_to_run_along_the_path():
    g = _square_graph()
    line = tm.path_line(g, [(3000.0, 3000.0), (3000.0, 0.0), (0.0, 0.0)])  # C → B → A (edges stored B→C, A→B)
    assert list(line.coords) == [(3000.0, 3000.0), (3000.0, 0.0), (0.0, 0.0)]
    with pytest.raises(ValueError, match="two nodes"):
        tm.path_line(g, [(0.0, 0.0)])


def test_representative_point_of_a_polygon_lies_inside_it():
    ring = Polygon([(0, 0), (10, 0), (10, 10), (8, 10), (8, 2), (2, 2), (2, 10), (0, 10)])  # a U: centroid outside
    p, q = tm.representative_points([ring, Point(3, 4)])
    assert ring.contains(p) and not ring.contains(ring.centroid) and q.equals(Point(3, 4))
    assert isinstance(pd.Series([p]).iloc[0], Point)


def test_township_rows_cover_boundary_and_nearest():
    import geopandas as gpd
    import shapely

    from erenhot.topics.common import township_rows

    towns = gpd.GeoDataFrame({"XZQDM": ["a", "b"]}, geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4525)
    pts = [shapely.Point(5, 5), shapely.Point(10, 5), shapely.Point(25, 5), shapely.box(12, 2, 14, 4), shapely.Point(-3, 5)]
    assert township_rows(pts, towns) == [0, 0, 1, 1, 0]  # inside, on the shared edge (first), nearest, polygon, nearest
    assert township_rows(pts[:1], towns.iloc[0:0]) == [-1]
