"""T14 综合交通体系研究 — the comprehensive transport system of Erenhot (lead 交通运输局).

On T02's analysis grid (``t02.slope``, EPSG:4525) and from the transport deliveries it evaluates
(spec §5.7, configuration ``t14_transport.yaml``):

* the road network (05-05, 道路等级 ``DLDJ``) as a ``networkx`` graph — nodes at segment ends and
  intersections, edges with length and time at the grade speed (JTG B01-2014 via spec §5.7) —
  giving network length by grade, connectivity (components) and shortest network times between
  the hubs and from every 嘎查 (18-01) to the city centre; rail lines (02-06) are not driveable;
* the railway network (02-06) as a second graph with the stations of 22-01 snapped to it: length by
  line, components, and rail distance and time (configured speed) between the stations on it;
* network length and density (km/km²) by grade, whole city and per township (01-04);
* the travel-time surface (raster cost-distance: speed surface by grade, off-road walking,
  ``skimage`` MCP as :mod:`erenhot.evaluation.accessibility`, passable only inside the city boundary
  — ``surface.passable``: the northern boundary is the national border) from each hub — city centre (city
  seat), border port, railway station (22-01 ``二连``), airport (21-01 runway centroid) — and to
  the nearest hub: ``t14.travel_time_city`` is the 区位 input of topic 3 (and 6, 8, 15);
* 15/30/60-min isochrones and the population (10-02 township 常住人口 over 三调 城镇村 land, 18-01 嘎查
  常住人口 at the 嘎查委员会) each hub covers;
* the near-term (近期) project list of 05-04 交通重大项目.

Planning judgements (the future road layout, 步行与自行车系统, 停车设施, 货运系统, targets and policies)
are not produced; the report says why.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from erenhot.catalog import Catalog
from erenhot.evaluation import accessibility as acc
from erenhot.evaluation import transport as tr
from erenhot.grid import boundary_mask, rasterize, rasterize_codes, read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records, township_zones
from erenhot.topics.inputs import TopicInputs

CODE = "t14"
CONFIG = "t14_transport"
HUBS = ("city_centre", "border_port", "railway_station", "airport")
HUB_LAYER = {"city_centre": "t14.travel_time_city", "border_port": "t14.travel_time_port",
             "railway_station": "t14.travel_time_rail", "airport": "t14.travel_time_airport"}
NEAREST = "nearest"
ROAD, RAIL = "公路 road", "铁路 rail"


def _to_crs(lon_lat: list[float], crs: str, target_crs: Any) -> Point:
    return gpd.GeoSeries([Point(*lon_lat)], crs=crs).to_crs(target_crs).iloc[0]


def locate_hubs(inputs: TopicInputs, h: dict[str, Any], notes: list[str], target_crs: Any) -> dict[str, tuple[Point, str]]:
    """The hubs in ``target_crs`` (the grid's) with their source: city centre and border port from the
    configuration (``hubs.city_centre`` / ``hubs.border_port``), the railway station from 22-01
    (required: feature named ``hubs.railway_station_name``, else the station nearest the centre), the
    airport from 21-01 (optional: centroid of the ``aeroway = hubs.airport_aeroway`` features).

    Raises:
        ValueError: 22-01 holds no station.
    """
    centre = _to_crs(h["city_centre"], h["hubs_crs"], target_crs)
    out = {"city_centre": (centre, "config hubs.city_centre"),
           "border_port": (_to_crs(h["border_port"], h["hubs_crs"], target_crs), "config hubs.border_port")}
    st = inputs.vector("22-01")
    if not len(st):
        raise ValueError(f"22-01 {inputs.version('22-01')}: no railway station, the railway-station hub cannot be placed")
    name_col = next((c for c in ("NAME", "name") if c in st.columns), None)
    named = st[st[name_col].astype(str) == h["railway_station_name"]] if name_col else st.iloc[0:0]
    if not len(named):
        notes.append(f"22-01 has no station named {h['railway_station_name']!r}: the station nearest the city centre is the hub.")
    pick = named if len(named) else st
    out["railway_station"] = (min(pick.geometry, key=lambda g: g.distance(centre)).centroid, f"22-01 {inputs.version('22-01')}")
    if inputs.has("21-01"):
        aw = inputs.vector("21-01")
        col = next((c for c in ("AEROWAY", "aeroway") if c in aw.columns), None)
        runway = aw[aw[col] == h["airport_aeroway"]] if col else aw
        out["airport"] = (shapely.union_all((runway if len(runway) else aw).geometry.values).centroid,
                          f"21-01 {inputs.version('21-01')}")
    else:
        notes.append("赛乌素机场 (21-01) not delivered: the airport is not a hub in this run.")
    return out


def township_population(pop: pd.DataFrame, townships: gpd.GeoDataFrame) -> tuple[dict[str, float], int, str]:
    """Newest-year 常住人口 (10-02) per township code, or ``{"city": total}`` when the delivery has
    no complete township rows. Returns ``(totals, year, level)``.

    Raises:
        ValueError: neither township rows nor the city row 152501.
    """
    p = pop.assign(XZQDM=pop["XZQDM"].astype(str)).dropna(subset=["resident_pop"])
    codes = set(townships["XZQDM"].astype(str))
    town = p[p["XZQDM"].isin(codes)]
    if len(town):
        year = int(town["year"].max())
        latest = town[town["year"] == year]
        if set(latest["XZQDM"]) == codes:
            return {r.XZQDM: float(r.resident_pop) for r in latest.itertuples()}, year, "township"
    city = p[p["XZQDM"] == "152501"]
    if not len(city):
        raise ValueError("10-02 常住人口 has neither rows for every township of 01-04 nor the city row 152501")
    row = city.sort_values("year").iloc[-1]
    return {"city": float(row["resident_pop"])}, int(row["year"]), "city"


def near_term_table(projects: gpd.GeoDataFrame, period: list[int]) -> pd.DataFrame:
    """05-04 projects as a table, a ``近期`` flag for works overlapping ``period`` (KGNF ≤ end and
    WGNF ≥ start), sorted by start year. Columns in Chinese with the field codes."""
    start, end = int(period[0]), int(period[1])
    df = pd.DataFrame(projects.drop(columns="geometry"))
    df["近期 near_term"] = (df["KGNF"].astype(int) <= end) & (df["WGNF"].astype(int) >= start)
    df = df.sort_values(["KGNF", "WGNF", "XMMC"]).reset_index(drop=True)
    cols = {"XMMC": "项目名称 XMMC", "XMLX": "类型 XMLX", "JSXZ": "建设性质 JSXZ", "JSDJ": "建设标准 JSDJ", "LC": "里程 km",
            "YDMJ": "用地 hm²", "ZTZ": "总投资 万元", "KGNF": "开工 KGNF", "WGNF": "完工 WGNF", "XMZT": "状态 XMZT"}
    return df[[*cols, "近期 near_term"]].rename(columns=cols)


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate topic 14 and publish its layers, tables, maps and report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        ValueError: the city centre lies outside the grid, 05-05 has no grade column, 22-01 has no
            station, ``surface.passable`` is unknown, or 10-02 has neither township rows nor the city row.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    bands = [float(b) for b in v["isochrones"]["bands_min"]]
    labels = dict(v["hubs"]["labels"])

    progress(0.03, "grid (t02.slope), boundary, townships")
    _, grid, _ = read_raster(inputs.layer_bytes("t02.slope"))
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    inside = boundary_mask(city, grid)
    writer = LayerWriter(pub, topic, grid, city)

    progress(0.08, "road graph (networkx)")
    roads = inputs.vector("05-05")
    gcol = v["roads"]["grade_column"]
    if gcol not in roads.columns:
        raise ValueError(f"05-05 {inputs.version('05-05')}: roads have no grade column {gcol!r} (columns {list(roads.columns)})")
    speeds = {str(k): float(s) for k, s in v["roads"]["speed_kmh"].items()}
    offroad = float(v["roads"]["offroad_kmh"])
    grade_order = sorted(speeds, key=lambda g: -speeds[g])  # fastest first
    unknown = roads[~roads[gcol].astype(str).isin(speeds)]
    if len(unknown):
        notes.append(f"{len(unknown)} road features of 05-05 have a grade without a configured speed "
                     f"({sorted(set(unknown[gcol].astype(str)))}): left out of the graph, off-road on the surface.")
    graph = tr.road_graph(roads, gcol, speeds, float(v["roads"]["snap_tolerance_m"]))
    if graph.number_of_edges() == 0:
        raise ValueError(f"05-05 {inputs.version('05-05')}: no road with a configured grade {sorted(speeds)}")
    summary = tr.graph_summary(graph)

    progress(0.18, "hubs and travel-time surfaces")
    hub_pts = locate_hubs(inputs, v["hubs"], notes, grid.crs_epsg)
    passable_rule = str(v["surface"]["passable"])
    if passable_rule == "city_boundary":
        passable = inside
    elif passable_rule == "grid":
        passable = np.ones(grid.shape, dtype=bool)
        notes.append("surface.passable = grid: the travel-time surface crosses the city boundary (national border included).")
    else:
        raise ValueError(f"surface.passable must be 'city_boundary' or 'grid', got {passable_rule!r}")
    road_codes_map = {g: i + 1 for i, g in enumerate(sorted(speeds, key=lambda g: speeds[g]))}  # slowest first
    known = roads[roads[gcol].astype(str).isin(speeds)]
    known = known.assign(_g=known[gcol].astype(str), _o=known[gcol].astype(str).map(road_codes_map)).sort_values("_o")
    road_codes = rasterize_codes(known, "_g", grid, road_codes_map, all_touched=True)
    speed = acc.speed_surface(road_codes, {c: speeds[g] for g, c in road_codes_map.items()}, offroad, passable_mask=passable)
    minutes: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}  # unmasked (with surface.passable = grid a hub may sit outside the inside mask)
    hub_rc: dict[str, tuple[int, int]] = {}
    hub_shift: dict[str, float] = {}
    for name, (pt, _src) in hub_pts.items():
        try:
            rc = grid.xy_to_rowcol(pt.x, pt.y)
        except ValueError:
            if name == "city_centre":
                raise ValueError("the city centre (config hubs.city_centre) lies outside the analysis grid of t02.slope") from None
            notes.append(f"hub {labels.get(name, name)} lies outside the analysis grid: ignored.")
            continue
        moved = tr.nearest_passable_cell(passable, rc)
        if moved is None:
            raise ValueError("no passable cell on the analysis grid (surface.passable)")
        hub_shift[name] = float(np.hypot(moved[0] - rc[0], moved[1] - rc[1]) * grid.cell_size_m)
        if moved != rc:
            notes.append(f"hub {labels.get(name, name)} lies on an impassable cell (outside the city boundary, surface.passable = "
                         f"{passable_rule}): its travel-time surface starts at the nearest passable cell, {hub_shift[name]:,.0f} m away.")
        hub_rc[name] = moved
        t = acc.travel_time_minutes(speed, [hub_rc[name]], grid.cell_size_m)
        raw[name] = t
        minutes[name] = np.where(inside, t, np.nan).astype("float32")
    nearest = np.fmin.reduce([m for m in minutes.values()]).astype("float32")
    nearest = np.where(inside, nearest, np.nan).astype("float32")

    progress(0.34, "graph: hubs, 嘎查, shortest network times")
    hub_rows = []
    for name, (pt, src) in hub_pts.items():
        access = tr.attach_point(graph, f"hub:{name}", pt, offroad)
        hub_rows.append({"hub": name, "name_zh": labels.get(name, name), "source": src, "x": pt.x, "y": pt.y,
                         "access_m": access, "on_grid": name in minutes, "surface_shift_m": hub_shift.get(name, np.nan),
                         "geometry": pt})
    hubs_gdf = gpd.GeoDataFrame(hub_rows, geometry="geometry", crs=grid.crs_epsg)
    od_rows = []
    hub_names = [h for h in HUBS if h in hub_pts]
    for i, a in enumerate(hub_names):
        dist, paths = nx.single_source_dijkstra(graph, f"hub:{a}", weight="minutes")
        for b in hub_names[i + 1:]:
            key = f"hub:{b}"
            path = paths.get(key)
            km = sum(graph.edges[u, w]["length_m"] for u, w in zip(path, path[1:])) / 1000.0 if path else np.nan
            rc = hub_rc.get(b)
            od_rows.append({"mode": ROAD, "from": labels.get(a, a), "to": labels.get(b, b), "network_min": float(dist.get(key, np.inf)),
                            "network_km": km, "surface_min": float(raw[a][rc]) if a in raw and rc else np.nan,
                            "straight_km": hub_pts[a][0].distance(hub_pts[b][0]) / 1000.0})
    gacha = inputs.vector("18-01") if inputs.has("18-01") else None
    if gacha is not None and len(gacha):
        centre_pt = hub_pts["city_centre"][0]
        names = []
        for k, g in enumerate(gacha.itertuples()):
            node = f"gacha:{k}:{g.GCMC}"
            tr.attach_point(graph, node, g.geometry, offroad)
            names.append((node, g))
        dist, paths = nx.single_source_dijkstra(graph, "hub:city_centre", weight="minutes")
        for node, g in names:
            path = paths.get(node)
            km = sum(graph.edges[u, w]["length_m"] for u, w in zip(path, path[1:])) / 1000.0 if path else np.nan
            try:
                r, c = grid.xy_to_rowcol(g.geometry.x, g.geometry.y)
                surf = float(raw["city_centre"][r, c])
            except ValueError:
                surf = np.nan
            surf = surf if np.isfinite(surf) else np.nan  # a 嘎查 point on an impassable cell
            od_rows.append({"mode": ROAD, "from": f"{g.GCMC} ({g.XZQMC})", "to": labels["city_centre"],
                            "network_min": float(dist.get(node, np.inf)),
                            "network_km": km, "surface_min": surf, "straight_km": g.geometry.distance(centre_pt) / 1000.0})
    else:
        notes.append("苏木嘎查基本情况 (18-01) not delivered: no 嘎查 → centre times, population from 10-02 only.")

    progress(0.40, "rail graph (02-06) and stations (22-01)")
    rcfg = v["rail"]
    rail_kmh = float(rcfg["speed_kmh"])
    stations = inputs.vector("22-01")
    rail_lines = inputs.vector("02-06") if inputs.has("02-06") else None
    rail_g = nx.Graph()
    if rail_lines is not None:
        rail_g = tr.rail_graph(rail_lines, rail_kmh, str(rcfg["line_name_column"]), float(v["roads"]["snap_tolerance_m"]))
    scol = next((c for c in (str(rcfg["station_name_column"]), "NAME", "name") if c in stations.columns), None)
    rail_stations = tr.snap_stations(rail_g, stations, scol, float(rcfg["station_snap_m"]))
    rail_sum = tr.graph_summary(rail_g) if rail_g.number_of_edges() else None
    rail_lines_km = tr.length_by_grade(rail_g).rename(columns={"grade": "线路 line"})
    rail_pairs = tr.rail_od(rail_g, rail_stations, rail_kmh)
    for p in rail_pairs.to_dict("records"):
        od_rows.append({"mode": RAIL, "from": p["from"], "to": p["to"], "network_min": p["rail_min"], "network_km": p["rail_km"],
                        "surface_min": np.nan, "straight_km": p["straight_km"]})
    n_on = int(rail_stations["on_network"].sum())
    if rail_lines is None:
        notes.append("铁路干线、支线 (02-06) not delivered: no rail graph, railway length not reported.")
    elif n_on < 2:
        notes.append(f"{n_on} of {len(rail_stations)} railway station(s) of 22-01 lie on the 02-06 lines "
                     f"(within {float(rcfg['station_snap_m']):g} m): no rail distance or time between stations in the city.")
    od = pd.DataFrame(od_rows, columns=["mode", "from", "to", "network_min", "network_km", "surface_min", "straight_km"])

    progress(0.46, "network length and density by grade")
    by_grade = tr.length_by_grade(graph)
    zones = pd.concat([gpd.GeoDataFrame({"zone": ["全市 whole city"]}, geometry=[shapely.union_all(city.geometry.values)], crs=city.crs),
                       gpd.GeoDataFrame({"zone": (townships["XZQDM"].astype(str) + " " + townships["XZQMC"].astype(str)).tolist()},
                                        geometry=list(townships.geometry), crs=city.crs)], ignore_index=True)
    density = tr.network_density(roads, gcol, zones, "zone", grade_order)
    rail_km = 0.0
    if rail_lines is not None:
        rail_rows = tr.network_density(rail_lines.assign(_g="铁路 railway"), "_g", zones, "zone", ["铁路 railway"])
        rail_rows = rail_rows[rail_rows["grade"] == "铁路 railway"]
        rail_km = float(rail_rows.iloc[0]["length_km"])
        density = pd.concat([density, rail_rows], ignore_index=True)

    progress(0.56, "isochrones")
    iso_rows = []
    for name, t in [*minutes.items(), (NEAREST, nearest)]:
        for band, geom in tr.isochrone_polygons(t, grid.transform, bands, inside):
            iso_rows.append({"hub": name, "hub_zh": labels.get(name, "最近枢纽 nearest hub"), "band_min": band,
                             "area_km2": geom.area / 1e6, "geometry": geom})
    iso = gpd.GeoDataFrame(iso_rows, geometry="geometry", crs=4525)

    progress(0.64, "population and hub coverage")
    population = None
    coverage = pd.DataFrame(columns=["hub", "hub_zh", "band_min", "persons", "share"])
    method = str(v["population"]["method"])
    if inputs.has("10-02"):
        totals, pop_year, level = township_population(inputs.table("10-02"), townships)
        dltb = inputs.vector("01-46a.dltb")
        codes = tuple(str(c) for c in v["population"]["settlement_czcsxm"])
        settle = dltb[dltb["CZCSXM"].astype(str).str.startswith(codes)] if "CZCSXM" in dltb.columns else dltb.iloc[0:0]
        weight = rasterize(settle, grid, value=1, dtype="uint8") if len(settle) else np.zeros(grid.shape, np.uint8)
        touched = rasterize(settle, grid, value=1, dtype="uint8", all_touched=True) if len(settle) else weight
        if level == "township":
            zone_raster, zone_names = township_zones(townships, grid, inside)
            zone_of = {name.split(" ", 1)[0]: z for z, name in zone_names.items()}
            zone_totals = {zone_of[c]: t for c, t in totals.items()}
        else:
            zone_raster = inside.astype(np.uint8)
            zone_totals = {1: totals["city"]}
            notes.append(f"10-02 has no complete township rows: the city total of {pop_year} is spread over the whole city.")
        for z in zone_totals:  # small villages cover no cell centre on a coarse grid: take the cells they touch
            if not (weight[zone_raster == z] > 0).any():
                weight = np.where((zone_raster == z) & (touched > 0), 1, weight).astype(np.uint8)
        pts = []
        if method == "points_then_settlement" and gacha is not None and "CZRK" in gacha.columns:
            for g in gacha.itertuples():
                try:
                    r, c = grid.xy_to_rowcol(g.geometry.x, g.geometry.y)
                except ValueError:
                    continue
                pts.append((r, c, float(g.CZRK)))
        population, pop_notes = tr.distribute_population(zone_raster, zone_totals, weight.astype(float), pts)
        population = np.where(inside, population, 0.0)
        notes.extend(f"population: {n}" for n in pop_notes)
        cov = tr.coverage_table({**minutes, NEAREST: nearest}, population, bands)
        cov.insert(1, "hub_zh", cov["hub"].map(lambda h: labels.get(h, "最近枢纽 nearest hub")))
        coverage = cov
        pop_text = (f"{sum(zone_totals.values()):,.0f} 人 ({pop_year}, 10-02 {inputs.version('10-02')}, "
                    f"{'乡镇' if level == 'township' else '全市'}级)")
    else:
        notes.append("常住人口 (10-02) not delivered: hub coverage of the population is not computed.")
        pop_text = "—"

    progress(0.72, "near-term projects (05-04)")
    if inputs.has("05-04"):
        projects = inputs.vector("05-04")
        near = near_term_table(projects, list(v["near_term"]["period"]))
    else:
        projects = None
        near = pd.DataFrame(columns=["项目名称 XMMC", "类型 XMLX", "建设性质 JSXZ", "建设标准 JSDJ", "里程 km", "用地 hm²",
                                     "总投资 万元", "开工 KGNF", "完工 WGNF", "状态 XMZT", "近期 near_term"])
        notes.append("交通重大项目 (05-04) not delivered: the near-term project list is empty.")
    near_only = near[near["近期 near_term"]] if len(near) else near
    near_sum = (near_only.groupby("类型 XMLX", as_index=False).agg(项目数=("项目名称 XMMC", "size"), 里程_km=("里程 km", "sum"),
                                                                  总投资_万元=("总投资 万元", "sum"))
                if len(near_only) else pd.DataFrame(columns=["类型 XMLX", "项目数", "里程_km", "总投资_万元"]))

    progress(0.78, "writing layers and tables")
    for name, layer_id in HUB_LAYER.items():
        arr = minutes.get(name, np.full(grid.shape, np.nan, dtype="float32"))
        writer.raster(layer_id, arr, nodata=np.nan, tags={"UNIT": "min", "HUB": name})
    writer.raster("t14.accessibility", nearest, nodata=np.nan, tags={"UNIT": "min"})
    writer.raster("t14.speed", np.where(speed > 0, speed, np.nan).astype("float32"), nodata=np.nan,
                  tags={"UNIT": "km/h", "NOTE": "fastest road grade in the cell, off-road speed elsewhere; NaN impassable"})
    if population is not None:
        writer.raster("t14.population", population.astype("float32"), nodata=np.nan, tags={"UNIT": "persons per cell"})
    else:
        writer.raster("t14.population", np.full(grid.shape, np.nan, dtype="float32"), nodata=np.nan)
    net = known.drop(columns=["_g", "_o"]).copy()
    net["speed_kmh"] = net[gcol].astype(str).map(speeds)
    net["length_km"] = net.geometry.length / 1000.0
    net["minutes"] = net["length_km"] / net["speed_kmh"] * 60.0
    writer.vector("t14.road_network", net.reset_index(drop=True))
    writer.vector("t14.hubs", hubs_gdf)
    writer.vector("t14.isochrones", iso)
    writer.table("t14.network_density", "network_density", density, "路网长度与密度 network density")
    writer.table("t14.od_times", "od_times", od, "枢纽间与嘎查至中心城区最短时间 shortest times")
    writer.table("t14.hub_coverage", "hub_coverage", coverage, "枢纽人口覆盖 hub coverage")
    writer.table("t14.near_term_projects", "near_term_projects", near, "近期交通项目 near-term projects")
    graph_table = pd.DataFrame([{"指标 item": k, "值 value": str(val)} for k, val in {
        "节点 nodes": summary["nodes"], "边 edges": summary["edges"], "连通分量 components": summary["components"],
        "最大连通分量长度占比 largest component length share": round(summary["largest_component_length_share"], 4),
        "边/节点 edges per node": round(summary["edges_per_node"], 3)}.items()])
    writer.table(None, "graph_summary", graph_table, "路网图 graph summary")
    rail_table = pd.DataFrame([{"指标 item": k, "值 value": str(val)} for k, val in {
        "铁路线 lines (02-06)": len(rail_lines_km),
        "铁路里程 length km (graph)": round(float(rail_lines_km["length_km"].sum()), 2) if len(rail_lines_km) else 0.0,
        "节点 nodes": rail_g.number_of_nodes(), "边 edges": rail_g.number_of_edges(),
        "连通分量 components": rail_sum["components"] if rail_sum else 0,
        "车站 stations (22-01)": len(rail_stations), "线上车站 stations on the lines": n_on,
        "运行速度 speed km/h (config rail.speed_kmh, L)": f"{rail_kmh:g}"}.items()])
    writer.table(None, "rail_network", rail_table, "铁路网图 rail graph summary")
    rail_station_table = rail_stations.drop(columns="node").rename(
        columns={"station": "车站 station", "snap_m": "距线路 m", "on_network": "在线路上 on the lines"})

    progress(0.86, "maps")
    cap = float(v["maps"]["travel_time_cap_min"])
    writer.value_map("t14.travel_time_city", np.minimum(minutes["city_centre"], cap), "min", cmap="viridis_r", thumbnail=True,
                     subtitle=f"至{labels['city_centre']}（道路按等级设计速度，路外 {offroad:g} km/h）")
    writer.value_map("t14.accessibility", np.minimum(nearest, cap), "min", cmap="viridis_r", thumbnail=True,
                     subtitle="至最近枢纽（中心城区、口岸、火车站、机场）")
    for name in ("border_port", "railway_station", "airport"):
        if name in minutes:
            writer.value_map(HUB_LAYER[name], np.minimum(minutes[name], cap), "min", cmap="viridis_r", subtitle=f"至{labels[name]}")
    band_class = np.zeros(grid.shape, np.uint8)
    edges = [0.0, *bands]
    for k in range(len(bands)):
        band_class[inside & (nearest >= edges[k]) & (nearest <= edges[k + 1]) & (band_class == 0)] = k + 1
    band_class[inside & ~(nearest <= bands[-1])] = len(bands) + 1
    band_labels = {k + 1: f"{edges[k]:g}–{edges[k + 1]:g} 分钟" for k in range(len(bands))} | {len(bands) + 1: f"> {bands[-1]:g} 分钟"}
    palette = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
    writer.class_map("t14.isochrones", band_class, band_labels, {k: palette[(k - 1) % len(palette)] for k in band_labels},
                     subtitle="至最近枢纽的等时圈")
    grade_class = {g: i + 1 for i, g in enumerate(grade_order)}
    net_classes = rasterize_codes(known.assign(_o=-known["_g"].map(grade_class)).sort_values("_o"), "_g", grid, grade_class, all_touched=True)
    net_labels = {c: g for g, c in grade_class.items()}
    road_palette = ["#d7191c", "#fdae61", "#e6c229", "#1a9641", "#4d9221", "#7b3294"]
    net_colours = {c: road_palette[(c - 1) % len(road_palette)] for c in net_labels}
    if rail_lines is not None:
        rail_code = len(grade_class) + 1
        rail_r = rasterize(rail_lines, grid, value=1, dtype="uint8", all_touched=True)
        net_classes = np.where((rail_r > 0) & (net_classes == 0), rail_code, net_classes).astype(np.uint8)
        net_labels[rail_code], net_colours[rail_code] = "铁路", "#333333"
    writer.class_map("t14.road_network", np.where(inside, net_classes, 0).astype(np.uint8), net_labels, net_colours,
                     subtitle="现状路网（05-05 道路等级）与铁路（02-06）")
    if population is not None:
        writer.value_map("t14.population", np.where(population > 0, population, np.nan), "人/格", cmap="magma_r",
                         subtitle="常住人口按城镇村用地与嘎查分布")
    proj_classes = np.where(inside & (road_codes > 0), 1, 0).astype(np.uint8)
    proj_labels, proj_colours = {1: "现状道路"}, {1: "#bbbbbb"}
    if projects is not None and len(projects):
        start, end = (int(x) for x in v["near_term"]["period"])
        pnear = projects[(projects["KGNF"].astype(int) <= end) & (projects["WGNF"].astype(int) >= start)]
        pfar = projects.drop(pnear.index)
        for code, part, label, colour in ((2, pfar, "远期项目", "#2b83ba"), (3, pnear, "近期项目", "#d7191c")):
            if len(part):
                r = rasterize(part, grid, value=1, dtype="uint8", all_touched=True)
                proj_classes[(r > 0) & inside] = code
                proj_labels[code], proj_colours[code] = label, colour
    writer.class_map("t14.near_term_projects", proj_classes, proj_labels, proj_colours,
                     subtitle=f"近期 {v['near_term']['period'][0]}–{v['near_term']['period'][1]}（05-04）")

    progress(0.94, "report")
    inside_km2 = float(inside.sum() * grid.cell_area_km2)
    city_row = density[(density["zone"] == "全市 whole city") & (density["grade"] == "合计 total")].iloc[0]
    figures = {
        "道路总里程 road length": f"{city_row['length_km']:,.1f} km",
        "路网密度 road density": f"{city_row['density_km_per_km2']:.3f} km/km²",
        "铁路里程 railway": f"{rail_km:,.1f} km",
        "路网连通分量 components": f"{summary['components']}",
        "铁路网 rail graph": (f"{rail_sum['components']} 个连通分量, {n_on}/{len(rail_stations)} 个车站在线路上" if rail_sum
                            else "未交付 02-06" if rail_lines is None else "02-06 无线路"),
        "枢纽 hubs": ", ".join(labels.get(h, h) for h in hub_pts),
        "常住人口 population": pop_text,
        "近期项目 near-term projects": f"{len(near_only)} 项, {float(near_only['总投资 万元'].sum()) if len(near_only) else 0.0:,.0f} 万元",
    }
    if len(coverage):
        c30 = coverage[(coverage["hub"] == NEAREST) & (coverage["band_min"] == bands[min(1, len(bands) - 1)])]
        if len(c30):
            figures[f"{bands[min(1, len(bands) - 1)]:g} 分钟内覆盖人口 covered"] = f"{float(c30.iloc[0]['share']) * 100:.1f} %"
    iso_table = iso.drop(columns="geometry").assign(share=lambda d: d["area_km2"] / inside_km2 * 100.0).rename(
        columns={"hub_zh": "枢纽", "band_min": "分钟 min", "area_km2": "面积 km²", "share": "占市域 %"}).drop(columns="hub")
    cov_show = coverage.drop(columns="hub").assign(share=lambda d: d["share"] * 100.0).rename(
        columns={"hub_zh": "枢纽", "band_min": "分钟 min", "persons": "人口 persons", "share": "占比 %"}) if len(coverage) else coverage
    fig = writer.figures
    if rail_lines is None:
        rail_text = "铁路网：02-06 未交付，无铁路网图。"
    else:
        rail_text = (f"铁路网：02-06 {inputs.version('02-06')} 铁路线同样建成 networkx 图（线路名 {rcfg['line_name_column']}），"
                     f"22-01 车站距线路 ≤ {float(rcfg['station_snap_m']):g} m 者作为线上节点；图上 {len(rail_lines_km)} 条线、"
                     f"{rail_sum['components'] if rail_sum else 0} 个连通分量，{n_on}/{len(rail_stations)} 个车站在线路上。")
        if len(rail_pairs):
            rail_text += (f"车站间铁路距离为图上最短路径，时间按运行速度 {rail_kmh:g} km/h（rail.speed_kmh，置信度 L，无时刻表）估算，"
                          "列入最短时间表（mode = 铁路 rail）。")
        else:
            rail_text += ("市域内线上车站不足两个，铁路网不给出市内站间距离与时间：铁路在此是对外通道（集二线向南通集宁、向北经口岸通扎门乌德），"
                          "其作用体现为火车站枢纽及其通行时间面；对外运输时间、班次与运量需时刻表和运量资料，未交付。")
    passable_text = ("通行时间面仅在市域范围内可通行（surface.passable = city_boundary，置信度 M）：北界为中蒙国界，"
                     "出境只经口岸，故不得经蒙古国境内或相邻旗县的格网绕行，出市道路在边界处截断；落在界外格网的枢纽移至最近的可通行格网（见 surface_shift_m）。"
                     if passable_rule == "city_boundary" else
                     "通行时间面在整个分析格网上可通行（surface.passable = grid），含市界外格网，仅供比较。")

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(f"maps/{k}.png" == f[1] for k in keys)]

    sections = [
        Section("1 路网现状与网络图 Road network and graph",
                [f"路网按 05-05 {inputs.version('05-05')} 道路等级（DLDJ）建成无向图（networkx）：节点为路段端点与交叉点，"
                 f"边长为路段长度、通行时间按等级设计速度（JTG B01-2014，spec §5.7）。端点距其他道路 ≤ "
                 f"{v['roads']['snap_tolerance_m']:g} m 视为相交。铁路不可通行（不进入道路图与通行时间面），火车站仅作枢纽。",
                 "路网密度 = 道路长度 ÷ 区域面积（km/km²）。",
                 rail_text],
                tables=[("路网图指标", graph_table), ("分等级里程（图）", by_grade),
                        ("分等级里程与密度（全市及分乡镇）", density), ("铁路网图指标", rail_table),
                        ("铁路分线里程（图）", rail_lines_km), ("车站与铁路线", rail_station_table)],
                figures=figs("road_network")),
        Section("2 枢纽与通行时间 Hubs and travel time",
                [f"通行时间面：道路栅格按等级速度、路外 {offroad:g} km/h，八邻域累积耗费（skimage MCP），分别自中心城区、口岸、火车站、机场起算；"
                 f"{passable_text}"
                 "`t14.travel_time_city` 为专题三区位优势度（及专题六、八、十五）的输入。网络最短时间为图上 Dijkstra，"
                 "枢纽和嘎查经路外接驳边接入最近路段。栅格面上道路按所触及的格网计（all-touched），在粗格网上道路“变宽”、"
                 "可斜穿街区，故栅格时间一般短于网络时间；两者之差反映格网分辨率的影响。"],
                tables=[("枢纽 hubs", pd.DataFrame(hubs_gdf.drop(columns="geometry"))),
                        ("枢纽间与嘎查至中心城区最短时间", od)],
                figures=figs("travel_time_city", "accessibility", "travel_time_port", "travel_time_rail", "travel_time_airport")),
        Section("3 等时圈与人口覆盖 Isochrones and population coverage",
                [f"等时圈 {', '.join(f'{b:g}' for b in bands)} 分钟（累计）。人口：{pop_text}；方法 `{method}` — "
                 "嘎查常住人口（18-01 CZRK）置于嘎查委员会，乡镇常住人口（10-02 最新年度）其余部分均匀分布于三调城镇村用地"
                 f"（CZCSXM {', '.join(v['population']['settlement_czcsxm'])}）。此为分区密度假设（置信度 L），苏木牧户实际分散居住。"],
                tables=[("等时圈面积", iso_table), ("枢纽人口覆盖", cov_show)],
                figures=figs("isochrones", "population")),
        Section("4 近期交通项目 Near-term projects",
                [f"05-04 交通重大项目（{inputs.version('05-04') if inputs.has('05-04') else '未交付'}）；近期为 "
                 f"{v['near_term']['period'][0]}–{v['near_term']['period'][1]} 年（开工不晚于期末且完工不早于期初）。"],
                tables=[("近期项目汇总", near_sum), ("项目清单", near)],
                figures=figs("near_term_projects")),
        Section("5 未产出 Not produced",
                ["以下研究要点需要规划判断或尚无交付契约的资料，未由数据推导，故不伪造：交通发展模式、目标与政策（05-01 “十三五”规划、"
                 "05-02 交通综合规划为文本）；规划道路功能、等级与布局、步行与自行车系统、停车设施、货运交通系统布局（需规划方案，"
                 "05-06 交通基础设施国土空间控制规划、05-03 设施现状、21-02 机场规划、22-02 铁路规划尚无交付契约）。"
                 "`t14.road_network` 为现状路网，`t14.hubs` 为现状枢纽。"]),
    ]
    summary_tables = {"路网密度 network density": records(density[density["zone"] == "全市 whole city"]),
                      "枢纽人口覆盖 hub coverage": records(coverage),
                      "近期项目 near-term": records(near_only)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary_tables)
