"""T14 综合交通体系: network graph, travel-time surface, isochrones and coverage by hand, the 05-04 kit
part, and one run end to end (small kit → ingest → GX validation → T02 on a 1 km grid → T14 → T03,
T03's 区位 read from T14's minutes) without Prefect."""

from __future__ import annotations

import io
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import LineString, Point

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.evaluation import accessibility as acc
from erenhot.evaluation import suitability as suit
from erenhot.evaluation import transport as tr
from erenhot.grid import read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import t02_carrying_capacity as t02
from erenhot.topics import t03_suitability as t03
from erenhot.topics import t14_transport as t14
from kit_helpers import small_kit

SPEEDS = {"一级公路": 60.0, "三级公路": 30.0, "四级公路": 20.0}


# ── travel-time surface and graph: hand-computed shortest times ─────────────────────────────────


def test_travel_time_surface_road_plus_offroad_by_hand():
    # 1 × 8 cells of 100 m; a 60 km/h road on cells 0–4, then off-road at 6 km/h.
    # MCP charges the mean of two cells' costs per step: road 100 m / 1000 m/min = 0.1 min,
    # off-road 100 m / 100 m/min = 1 min. Cell 4 → 4 × 0.1 = 0.4; cell 5: 0.4 + (0.1 + 1)/2 = 0.95;
    # cell 7: 0.95 + 2 × 1 = 2.95 min.
    codes = np.array([[1, 1, 1, 1, 1, 0, 0, 0]])
    speed = acc.speed_surface(codes, {1: 60.0}, 6.0)
    t = acc.travel_time_minutes(speed, [(0, 0)], 100.0)
    assert t[0].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.95, 1.95, 2.95])
    # two sources: each cell takes the nearer (3 cells of road at 0.1 from the west hub, off-road from the east)
    both = acc.travel_time_minutes(speed, [(0, 0), (0, 7)], 100.0)
    assert both[0, 7] == 0.0 and both[0, 6] == pytest.approx(1.0) and both[0, 3] == pytest.approx(0.3)


def test_impassable_strip_forces_the_detour():
    # 5 × 7 cells of 100 m, 6 km/h everywhere (1 min per straight step). A wall (column 3, rows 0–3)
    # outside the passable mask leaves one gap at row 4. Straight (0,0) → (0,6): 6 min; through the gap:
    # (0,0) → (4,3) is 3 diagonal + 1 straight steps = 3√2 + 1, and the same back up → 6√2 + 2 ≈ 10.49 min.
    codes = np.zeros((5, 7), dtype=np.uint8)
    open_speed = acc.speed_surface(codes, {}, 6.0)
    assert acc.travel_time_minutes(open_speed, [(0, 0)], 100.0)[0, 6] == pytest.approx(6.0)
    passable = np.ones((5, 7), dtype=bool)
    passable[0:4, 3] = False
    walled = acc.speed_surface(codes, {}, 6.0, passable_mask=passable)
    t = acc.travel_time_minutes(walled, [(0, 0)], 100.0)
    assert t[0, 6] == pytest.approx(6 * math.sqrt(2) + 2) and t[0, 6] > 6.0
    assert np.isinf(t[0, 3])  # impassable cells are never reached
    # a hub on an impassable cell moves to the nearest passable one
    assert tr.nearest_passable_cell(passable, (1, 3)) in {(1, 2), (1, 4)}
    assert tr.nearest_passable_cell(passable, (0, 0)) == (0, 0)
    assert tr.nearest_passable_cell(passable, (3, 3)) == (3, 2)  # ties at 1 cell: first in row-major order
    assert tr.nearest_passable_cell(np.zeros((2, 2), bool), (0, 0)) is None


def test_rail_graph_lengths_components_and_station_times_by_hand():
    # 集二铁路 A (0,0)–(10000,0), 支线 from (5000,0) north to (5000,4000), an isolated 专用线 (20000–21000, 0).
    lines = gpd.GeoDataFrame({"NAME": ["集二铁路", "支线", "专用线"]},
                             geometry=[LineString([(0, 0), (10000, 0)]), LineString([(5000, 0), (5000, 4000)]),
                                       LineString([(20000, 0), (21000, 0)])], crs=4525)
    g = tr.rail_graph(lines, 80.0, "NAME")
    km = tr.length_by_grade(g).set_index("grade")["length_km"].to_dict()
    assert km == pytest.approx({"集二铁路": 10.0, "支线": 4.0, "专用线": 1.0})
    assert tr.graph_summary(g)["components"] == 2
    stations = gpd.GeoDataFrame({"name": ["甲", "乙", "丙", None]},
                                geometry=[Point(1000, 100), Point(5100, 3000), Point(9000, -2000), Point(20500, 50)], crs=4525)
    snapped = tr.snap_stations(g, stations, "name", 500.0)
    assert snapped["on_network"].tolist() == [True, True, False, True]
    assert snapped["snap_m"].tolist() == pytest.approx([100.0, 100.0, 2000.0, 50.0])
    assert snapped["station"].tolist() == ["甲", "乙", "丙", "站点 4"]
    od = tr.rail_od(g, snapped, 80.0).set_index(["from", "to"])
    # 甲 (1000,0) → junction (5000,0) → 乙 (5000,3000): 4 + 3 = 7 km at 80 km/h = 5.25 min
    assert od.loc[("甲", "乙"), "rail_km"] == pytest.approx(7.0) and od.loc[("甲", "乙"), "rail_min"] == pytest.approx(5.25)
    assert od.loc[("甲", "乙"), "straight_km"] == pytest.approx(math.hypot(4000, 3000) / 1000)
    assert math.isinf(od.loc[("甲", "站点 4"), "rail_km"])  # another component
    assert len(od) == 3  # 丙 is off the network
    # snapping splits edges without changing the length by line or the components
    assert tr.length_by_grade(g).set_index("grade")["length_km"].to_dict() == pytest.approx(km)
    assert tr.graph_summary(g)["components"] == 2
    # one station only: no pair
    assert tr.rail_od(g, snapped.iloc[:1], 80.0).empty


def test_graph_shortest_path_on_a_four_node_network():
    # A(0,0) —一级 3 km→ B(3000,0) —四级 1 km→ C(3000,1000);  A —四级 1 km→ D(0,1000) —三级 3 km→ C
    # A→C: via B 3/60·60 + 1/20·60 = 3 + 3 = 6 min; via D 3 + 6 = 9 min → 6 min.
    roads = gpd.GeoDataFrame({"DLDJ": ["一级公路", "四级公路", "四级公路", "三级公路"]},
                             geometry=[LineString([(0, 0), (3000, 0)]), LineString([(3000, 0), (3000, 1000)]),
                                       LineString([(0, 0), (0, 1000)]), LineString([(0, 1000), (3000, 1000)])], crs=4525)
    g = tr.road_graph(roads, "DLDJ", SPEEDS)
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 4
    got = tr.shortest_minutes(g, (0.0, 0.0), [(3000.0, 1000.0), (0.0, 1000.0)])
    assert got[(3000.0, 1000.0)] == pytest.approx(6.0) and got[(0.0, 1000.0)] == pytest.approx(3.0)
    # a hub 100 m north of the middle of AB joins it at (1500, 0): 100 m at 5 km/h = 1.2 min, then 1.5 min to A
    assert tr.attach_point(g, "hub", Point(1500, 100), 5.0) == pytest.approx(100.0)
    assert tr.shortest_minutes(g, "hub", [(0.0, 0.0)])[(0.0, 0.0)] == pytest.approx(1.2 + 1.5)
    # a second point right beside the first one's access edge still joins the road, not that edge:
    # 50 m at 5 km/h = 0.6 min to (1450, 0), then 1.45 km at 60 km/h = 1.45 min to A
    tr.attach_point(g, "gacha", Point(1450, 50), 5.0)
    assert tr.shortest_minutes(g, "gacha", [(0.0, 0.0)])[(0.0, 0.0)] == pytest.approx(0.6 + 1.45)
    assert tr.graph_summary(g)["components"] == 1
    # a road not touching the others is a second component; a grade without speed (railway) is left out
    roads2 = pd.concat([roads, gpd.GeoDataFrame({"DLDJ": ["四级公路", "铁路"]}, geometry=[
        LineString([(9000, 0), (9000, 500)]), LineString([(0, -10), (3000, -10)])], crs=4525)], ignore_index=True)
    g2 = tr.road_graph(roads2, "DLDJ", SPEEDS)
    assert tr.graph_summary(g2)["components"] == 2
    assert tr.shortest_minutes(g2, (0.0, 0.0), [(9000.0, 0.0)])[(9000.0, 0.0)] == math.inf


def test_crossings_and_near_misses_become_nodes():
    # a cross (+) is noded at the crossing; a T-junction digitised 2 cm short is snapped (5 m tolerance)
    roads = gpd.GeoDataFrame({"DLDJ": ["一级公路", "三级公路", "四级公路"]},
                             geometry=[LineString([(0, 0), (2000, 0)]), LineString([(1000, -1000), (1000, 1000)]),
                                       LineString([(500, 800), (500, 0.02)])], crs=4525)
    g = tr.road_graph(roads, "DLDJ", SPEEDS)
    assert (1000.0, 0.0) in g and g.degree[(1000.0, 0.0)] == 4
    t = tr.shortest_minutes(g, (500.0, 800.0), [(2000.0, 0.0)])[(2000.0, 0.0)]
    assert t == pytest.approx(0.8 / 20 * 60 + 1.5 / 60 * 60, abs=0.01)  # 2.4 + 1.5 min
    assert tr.graph_summary(g)["components"] == 1


def test_network_length_and_density_by_grade_by_hand():
    roads = gpd.GeoDataFrame({"DLDJ": ["一级公路", "一级公路", "四级公路"]},
                             geometry=[LineString([(0, 500), (4000, 500)]), LineString([(1000, 0), (1000, 3000)]),
                                       LineString([(3000, 1000), (3000, 4000)])], crs=4525)
    from shapely.geometry import box

    zones = gpd.GeoDataFrame({"zone": ["A", "B"]}, geometry=[box(0, 0, 2000, 2000), box(2000, 0, 4000, 2000)], crs=4525)
    d = tr.network_density(roads, "DLDJ", zones, "zone", ["一级公路", "四级公路"]).set_index(["zone", "grade"])
    # A (4 km²): 2 km of the E–W road + 2 km of the N–S road → 4 km 一级, density 1.0
    assert d.loc[("A", "一级公路"), "length_km"] == pytest.approx(4.0)
    assert d.loc[("A", "一级公路"), "density_km_per_km2"] == pytest.approx(1.0)
    # B: 2 km 一级 + 1 km 四级 (y 1000–2000) → total 3 km, 0.75 km/km²
    assert d.loc[("B", "四级公路"), "length_km"] == pytest.approx(1.0)
    assert d.loc[("B", "合计 total"), "density_km_per_km2"] == pytest.approx(0.75)
    g = tr.road_graph(roads, "DLDJ", SPEEDS)
    lengths = tr.length_by_grade(g).set_index("grade")["length_km"]
    assert lengths.to_dict() == pytest.approx({"一级公路": 7.0, "四级公路": 3.0})
    assert list(tr.length_by_grade(g)["grade"]) == ["一级公路", "四级公路"]  # fastest first


def test_isochrone_areas_on_a_uniform_speed_field():
    # 6 km/h everywhere, 100 m cells: in 30 min one reaches 3 km. With 8-direction moves (steps of
    # 1 and √2 cells) the set within distance r is the octagon with vertices at r on the axes and
    # diagonals: area 2√2·r² = 25.46 km² for r = 3 km (the disc π·r² = 28.3 km² is ≈ 10 % larger).
    n, cell = 81, 100.0
    speed = np.full((n, n), 6.0)
    t = acc.travel_time_minutes(speed, [(40, 40)], cell)
    iso = tr.isochrone_polygons(t, Affine(cell, 0, 0, 0, -cell, n * cell), [15, 30])
    assert [b for b, _ in iso] == [15.0, 30.0]
    a15, a30 = (g.area / 1e6 for _, g in iso)
    assert a30 == pytest.approx(2 * math.sqrt(2) * 9, rel=0.03) and a15 == pytest.approx(2 * math.sqrt(2) * 2.25, rel=0.05)
    assert 0.85 < a30 / (math.pi * 9) < 0.95
    assert iso[1][1].contains(iso[0][1])  # cumulative bands
    with pytest.raises(ValueError, match="increasing"):
        tr.isochrone_polygons(t, Affine.identity(), [30, 15])


def test_coverage_counts_on_points():
    pop = np.array([100.0, 200.0, 300.0, 400.0])
    times = {"centre": np.array([5.0, 20.0, 45.0, np.inf]), "port": np.array([70.0, 14.0, 15.0, 61.0])}
    cov = tr.coverage_table(times, pop, [15, 30, 60]).set_index(["hub", "band_min"])
    assert cov.loc[("centre", 15.0), "persons"] == 100 and cov.loc[("centre", 30.0), "persons"] == 300
    assert cov.loc[("centre", 60.0), "persons"] == 600 and cov.loc[("centre", 60.0), "share"] == pytest.approx(0.6)
    assert cov.loc[("port", 15.0), "persons"] == 500 and cov.loc[("port", 60.0), "persons"] == 500
    with pytest.raises(ValueError, match="shape"):
        tr.coverage_table({"x": np.zeros(3)}, pop, [15])


def test_population_points_then_settlement_land():
    zones = np.array([[1, 1, 2, 2], [1, 1, 2, 2]])
    weight = np.array([[1, 0, 0, 0], [1, 0, 0, 0]], dtype=float)  # zone 2 has no settlement cell
    pop, notes = tr.distribute_population(zones, {1: 1000.0, 2: 80.0}, weight, [(1, 1, 200.0), (0, 3, 20.0)])
    # zone 1: 200 at the point, 800 over its two settlement cells; zone 2: 20 at the point, 60 evenly over 4 cells
    assert pop.tolist() == [[400.0, 0.0, 15.0, 35.0], [400.0, 200.0, 15.0, 15.0]]
    assert pop.sum() == pytest.approx(1080.0) and any("no settlement cell" in n for n in notes)


def test_near_term_table_flags_the_period():
    gdf = gpd.GeoDataFrame({"XMMC": ["甲", "乙", "丙"], "XMLX": ["公路"] * 3, "JSXZ": ["新建"] * 3, "JSDJ": ["一级公路"] * 3,
                            "LC": [1.0, 2.0, 3.0], "YDMJ": [1.0] * 3, "ZTZ": [100.0, 200.0, 300.0], "KGNF": [2019, 2024, 2026],
                            "WGNF": [2020, 2026, 2028], "XMZT": ["已建成", "前期", "规划"]},
                           geometry=[LineString([(0, 0), (1, 1)])] * 3, crs=4525)
    t = t14.near_term_table(gdf, [2021, 2025])
    assert t["项目名称 XMMC"].tolist() == ["甲", "乙", "丙"] and t["近期 near_term"].tolist() == [False, True, False]


def test_config_moves_the_road_speeds_to_t14():
    cfg = load_config("t14_transport")
    assert cfg.get("roads.speed_kmh")["高速公路"] == 100 and cfg.leaf("roads.speed_kmh")["confidence"] == "M"
    assert "JTG B01" in cfg.leaf("roads.speed_kmh")["source"] and cfg.get("isochrones.bands_min") == [15, 30, 60]
    assert "roads" not in load_config("t03_suitability").values
    assert cfg.get("surface.passable") == "city_boundary" and cfg.leaf("surface.passable")["confidence"] == "M"
    assert cfg.get("rail.speed_kmh") > 0 and cfg.leaf("rail.speed_kmh")["confidence"] in {"L", "M"}


def test_catalog_and_code_agree_that_the_station_is_required():
    inputs = {i.dataset: i.required for i in load_catalog().topic("t14").dataset_inputs()}
    assert inputs["22-01"] is True and inputs["02-06"] is False


# ── end to end ──────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t14")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    needed = ["01-04"] + sorted({i.dataset for code in ("t02", "t03", "t14") for i in cat.topic(code).dataset_inputs()
                                 if i.dataset in kit.datasets and i.dataset != "01-04"})
    reports = {}
    for ds in needed:  # the boundary first: the others are checked against it
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        reports[ds] = accept_delivery(storage, cat, latest_delivery(storage, ds))
    failed = {d: r["failures"] for d, r in reports.items() if r["state"] != "validated"}
    assert failed == {}
    r02 = t02.run(storage, cat, check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    ready14 = check_readiness(storage, cat, cat.topic("t14")).to_dict()
    r14 = t14.run(storage, cat, ready14, {})
    ready03 = check_readiness(storage, cat, cat.topic("t03")).to_dict()
    r03 = t03.run(storage, cat, ready03, {})
    return kit, storage, r02, ready14, r14, ready03, r03


def _bytes(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return storage.read_bytes(entry["path"])


def test_every_catalog_output_is_published_and_maps_are_in_the_report(evaluated):
    _, storage, _, ready14, r14, _, _ = evaluated
    assert {o["id"] for o in r14["outputs"]} == {o.id for o in load_catalog().topic("t14").outputs}
    assert {"05-04", "05-05", "22-01", "21-01", "10-02", "18-01"} <= set(ready14["datasets"])
    text = _bytes(storage, r14, "t14.report").decode("utf-8")
    manifest_maps = [p for p in storage.list_files(f"products/t14/{r14['run_key']}/maps") if "thumb_" not in p]
    assert len(manifest_maps) >= 6
    for p in manifest_maps:
        assert f"](maps/{p.rsplit('/', 1)[-1]})" in text, p
    assert "数据溯源" in text and "未产出" in text and ready14["datasets"]["05-04"]["version"] in text


def test_travel_time_layers_on_the_t02_grid(evaluated):
    _, storage, r02, _, r14, _, _ = evaluated
    _, ref, _ = read_raster(_bytes(storage, r02, "t02.slope"))
    city, grid, _ = read_raster(_bytes(storage, r14, "t14.travel_time_city"))
    assert grid.shape == ref.shape and grid.transform == ref.transform and city.dtype == np.float32
    nearest = read_raster(_bytes(storage, r14, "t14.accessibility"))[0]
    inside = np.isfinite(city)
    assert inside.sum() > 1000 and np.nanmin(city) == 0.0
    assert (nearest[inside] <= city[inside] + 1e-4).all()  # the nearest hub is never farther than the centre
    for layer in ("t14.travel_time_port", "t14.travel_time_rail", "t14.travel_time_airport"):
        t = read_raster(_bytes(storage, r14, layer))[0]
        assert np.nanmin(t) == 0.0 and (nearest[inside] <= t[inside] + 1e-4).all()
    # roads make the far corners reachable within a few hours, not a walking day (≈ 100 km at 5 km/h = 20 h)
    assert np.nanpercentile(city, 50) < 240
    # the speed surface other topics (T08) drive on: passable exactly where the times are, off-road speed or a grade speed
    speed = read_raster(_bytes(storage, r14, "t14.speed"))[0]
    cfg = load_config("t14_transport")
    assert np.isfinite(speed[inside]).all() and np.isnan(speed).any()  # no travel across the national border
    assert set(np.unique(speed[inside]).tolist()) <= {float(cfg.get("roads.offroad_kmh")), *map(float, cfg.get("roads.speed_kmh").values())}


def test_network_tables_and_coverage(evaluated):
    kit, storage, _, _, r14, _, _ = evaluated
    dens = pd.read_csv(io.BytesIO(_bytes(storage, r14, "t14.network_density")), encoding="utf-8-sig")
    whole = dens[dens["zone"] == "全市 whole city"].set_index("grade")
    roads = gpd.read_file(f"zip://{kit.files('05-05')[0]}!roads.shp", encoding="gbk")
    for grade, km in (roads.geometry.length.groupby(roads["DLDJ"]).sum() / 1000.0).items():
        assert whole.loc[grade, "length_km"] == pytest.approx(km, rel=0.01)
    towns = dens[(dens["zone"] != "全市 whole city") & (dens["grade"] == "合计 total")]
    assert towns["length_km"].sum() == pytest.approx(whole.loc["合计 total", "length_km"], rel=0.01)
    net = gpd.read_parquet(io.BytesIO(_bytes(storage, r14, "t14.road_network")))
    assert net.crs.to_epsg() == 4525 and {"DLDJ", "speed_kmh", "length_km", "minutes"} <= set(net.columns)
    od = pd.read_csv(io.BytesIO(_bytes(storage, r14, "t14.od_times")), encoding="utf-8-sig")
    road_od = od[od["mode"] == t14.ROAD]
    assert len(road_od) == 6 + 6  # 4 hubs pairwise, 6 rows of 18-01 (5 嘎查 + 城郊牧户) to the centre
    n_stations = len(gpd.read_file(kit.files("22-01")[0]))
    assert len(od) - len(road_od) <= n_stations * (n_stations - 1) // 2  # rail rows between stations on the lines
    assert np.isfinite(od["network_min"]).all() and (od["network_km"] >= od["straight_km"] - 0.01).all()
    cov = pd.read_csv(io.BytesIO(_bytes(storage, r14, "t14.hub_coverage")), encoding="utf-8-sig")
    assert set(cov["band_min"]) == {15.0, 30.0, 60.0} and set(cov["hub"]) >= {"city_centre", "nearest"}
    city = cov[cov["hub"] == "city_centre"].set_index("band_min")["share"]
    assert (np.diff(city.loc[[15.0, 30.0, 60.0]].to_numpy()) >= -1e-9).all() and city[60.0] <= 1.0 + 1e-9
    assert city[30.0] > 0.8  # most residents live in the seat
    pop = read_raster(_bytes(storage, r14, "t14.population"))[0]
    people = pd.read_csv(kit.files("10-02")[0], encoding="utf-8-sig")
    latest = people[(people["year"] == people["year"].max()) & (people["XZQDM"].astype(str) != "152501")]["resident_pop"].sum()
    assert np.nansum(pop) == pytest.approx(latest, rel=0.01)
    iso = gpd.read_parquet(io.BytesIO(_bytes(storage, r14, "t14.isochrones")))
    assert set(iso["band_min"]) == {15.0, 30.0, 60.0} and len(iso) == 5 * 3
    hubs = gpd.read_parquet(io.BytesIO(_bytes(storage, r14, "t14.hubs")))
    assert list(hubs["hub"]) == ["city_centre", "border_port", "railway_station", "airport"]
    assert (hubs["surface_shift_m"] >= 0).all()  # every hub starts on a passable cell (moved when outside the city)
    near = pd.read_csv(io.BytesIO(_bytes(storage, r14, "t14.near_term_projects")), encoding="utf-8-sig")
    projects = gpd.read_file(f"zip://{kit.files('05-04')[0]}!transport_projects.shp", encoding="gbk")
    assert len(near) == len(projects) and 0 < near["近期 near_term"].sum() < len(near)


def test_t03_takes_its_location_from_t14(evaluated):
    _, storage, _, _, r14, ready03, r03 = evaluated
    assert "t14.travel_time_city" in ready03["layers"] and not {"05-05", "22-01", "21-01"} & set(ready03["datasets"])
    assert "t03.travel_time" not in {o["id"] for o in r03["outputs"]}
    minutes, grid, _ = read_raster(_bytes(storage, r14, "t14.travel_time_city"))
    location = read_raster(_bytes(storage, r03, "t03.location"))[0]
    breaks = load_config("t03_suitability").get("location.travel_time_breaks_min")
    expected = np.where(np.isfinite(minutes), suit.location_grade(minutes, breaks), 0).astype(np.uint8)
    assert (location == expected).all() and len(set(np.unique(location)) - {0}) >= 3


def test_t03_refuses_minutes_on_another_grid(evaluated):
    _, storage, r02, _, r14, _, _ = evaluated
    from erenhot.grid import Grid, write_cog
    from erenhot.topics.inputs import TopicInputs

    minutes, grid, _ = read_raster(_bytes(storage, r14, "t14.travel_time_city"))
    other = Grid(crs_epsg=4525, transform=Affine(500, 0, grid.transform.c, 0, -500, grid.transform.f),
                 width=grid.width * 2, height=grid.height * 2)
    storage.write_bytes("tmp/other.tif", write_cog(np.zeros(other.shape, np.float32), other, nodata=np.nan))
    inputs = TopicInputs(storage, {"layers": {"t14.travel_time_city": {"path": "tmp/other.tif"}}})
    with pytest.raises(ValueError, match="differs from T02"):
        t03.location_minutes(inputs, grid)


def test_gx_suite_rejects_a_project_finished_before_it_started(evaluated, tmp_path):
    # last in the module: it lands a second (invalid) 05-04 version in the shared storage
    kit, storage, *_ = evaluated
    from erenhot.samplekit import _shapefile_zip

    gdf = gpd.read_file(f"zip://{kit.files('05-04')[0]}!transport_projects.shp", encoding="gbk")
    gdf.loc[0, "WGNF"] = int(gdf.loc[0, "KGNF"]) - 1
    bad = tmp_path / "transport_projects.zip"
    _shapefile_zip(bad, "transport_projects", gdf, title="bad 05-04")
    cat = load_catalog()
    ingest(storage, cat, "5", "05-04", [bad])
    report = accept_delivery(storage, cat, latest_delivery(storage, "05-04"))
    assert report["state"] != "validated" and "WGNF" in str(report["failures"])
