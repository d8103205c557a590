"""综合交通体系 (topic 14): the road network as a graph, network length and density by grade,
isochrones and population coverage of the transport hubs (spec §5.7).

Pure functions, no I/O. Geometries are in a projected CRS in metres (EPSG:4525 in the pipeline);
rasters are ``(rows, cols)`` arrays on the analysis grid. The travel-time *surface* itself is the
raster cost-distance of :mod:`erenhot.evaluation.accessibility` (speed surface + ``MCP_Geometric``);
this module adds the *network* view (``networkx`` graph, Dijkstra shortest times) of the roads and
of the railway (:func:`rail_graph`, stations snapped to it by :func:`snap_stations`) and the summaries.

Speeds are km/h by road grade (道路等级 ``DLDJ``, JTG B01-2014 design speeds via spec §5.7 [S32],
configured in ``t14_transport.yaml`` ``roads.speed_kmh``); time of an edge = length / speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

__all__ = [
    "attach_point",
    "coverage_table",
    "distribute_population",
    "edge_minutes",
    "graph_summary",
    "isochrone_polygons",
    "length_by_grade",
    "network_density",
    "nearest_passable_cell",
    "node_key",
    "rail_graph",
    "rail_od",
    "road_graph",
    "shortest_minutes",
    "snap_stations",
    "split_at",
]

NODE_DIGITS = 2  # node keys: coordinates rounded to 1 cm


def node_key(x: float, y: float) -> tuple[float, float]:
    """Graph node id of a point: its coordinates rounded to 1 cm (metres CRS)."""
    return (round(float(x), NODE_DIGITS), round(float(y), NODE_DIGITS))


def edge_minutes(length_m: float, speed_kmh: float) -> float:
    """Minutes to travel ``length_m`` metres at ``speed_kmh`` km/h (= length / speed).

    Raises:
        ValueError: speed not positive.
    """
    if not speed_kmh > 0:
        raise ValueError(f"speed must be > 0 km/h, got {speed_kmh}")
    return float(length_m) / 1000.0 / float(speed_kmh) * 60.0


def _line_parts(geoms: Iterable[Any]) -> list[LineString]:
    out: list[LineString] = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        if g.geom_type == "LineString":
            out.append(g)
        elif g.geom_type in ("MultiLineString", "GeometryCollection"):
            out.extend(_line_parts(g.geoms))
    return out


def road_graph(roads: gpd.GeoDataFrame, grade_column: str, speeds_kmh: Mapping[str, float],
               snap_tolerance_m: float = 5.0) -> nx.Graph:
    """The road network as an undirected ``networkx`` graph (spec §5.7 network alternative).

    Lines are noded at every crossing (``shapely.node``), so nodes are segment ends and
    intersections; a line end that stops within ``snap_tolerance_m`` of another road (a T-junction
    digitised a few cm short or past) is joined to it by a short connector. Each edge carries
    ``length_m``, ``grade`` (the fastest grade of the lines it lies on), ``speed_kmh``, ``minutes``
    (:func:`edge_minutes`) and ``geometry``; nodes carry ``x``, ``y``. Parallel edges between two
    nodes keep the quickest.

    Args:
        roads: line features (LineString/MultiLineString) in a metres CRS.
        grade_column: the grade field (``DLDJ`` of 05-05).
        speeds_kmh: grade → km/h. Features whose grade has no speed are left out (not driveable,
            e.g. railways); count them with ``roads[grade_column].isin(speeds_kmh)`` beforehand.
        snap_tolerance_m: gap (m) up to which dangling ends are joined to the nearest road.

    Raises:
        ValueError: the grade column is missing or a speed is not positive.
    """
    if grade_column not in roads.columns:
        raise ValueError(f"road lines have no grade column {grade_column!r} (columns: {list(roads.columns)})")
    for g, v in speeds_kmh.items():
        if not float(v) > 0:
            raise ValueError(f"speed of grade {g!r} must be > 0 km/h, got {v}")
    known = roads[roads[grade_column].astype(str).isin([str(k) for k in speeds_kmh])]
    src_lines: list[LineString] = []
    src_speed: list[float] = []
    src_grade: list[str] = []
    for grade, geom in zip(known[grade_column].astype(str), known.geometry, strict=True):
        for part in _line_parts([geom]):
            if part.length > 0:
                src_lines.append(part)
                src_speed.append(float(speeds_kmh[grade]))
                src_grade.append(grade)
    graph = nx.Graph()
    if not src_lines:
        return graph
    tree = shapely.STRtree(src_lines)
    # connectors for dangling ends close to another road (extended 5 cm past it so the crossing is found)
    connectors: list[tuple[LineString, int]] = []
    for i, line in enumerate(src_lines):
        for end in (Point(line.coords[0]), Point(line.coords[-1])):
            for j in tree.query(end, predicate="dwithin", distance=snap_tolerance_m):
                if j == i:
                    continue
                other = src_lines[j]
                d = other.distance(end)
                if d <= 1e-9:
                    continue
                near = other.interpolate(other.project(end))
                dx, dy = near.x - end.x, near.y - end.y
                k = (d + 0.05) / d
                connectors.append((LineString([end, (end.x + dx * k, end.y + dy * k)]), i))
    all_lines = src_lines + [c for c, _ in connectors]
    all_speed = src_speed + [src_speed[i] for _, i in connectors]
    all_grade = src_grade + [src_grade[i] for _, i in connectors]
    all_tree = shapely.STRtree(all_lines)
    noded = _line_parts([shapely.node(shapely.MultiLineString(all_lines))])
    for seg in noded:
        if seg.length <= 0:
            continue
        mid = seg.interpolate(0.5, normalized=True)
        hits = all_tree.query(mid, predicate="dwithin", distance=0.01)
        if len(hits) == 0:
            continue
        best = max(hits, key=lambda h: all_speed[h])
        speed = all_speed[best]
        a, b = node_key(*seg.coords[0]), node_key(*seg.coords[-1])
        if a == b:
            continue
        minutes = edge_minutes(seg.length, speed)
        if graph.has_edge(a, b) and graph.edges[a, b]["minutes"] <= minutes:
            continue
        for n in (a, b):
            graph.add_node(n, x=n[0], y=n[1])
        graph.add_edge(a, b, length_m=float(seg.length), grade=all_grade[best], speed_kmh=speed, minutes=minutes,
                       geometry=seg)
    return graph


def split_at(graph: nx.Graph, point: Point) -> tuple[tuple[float, float], float]:
    """Split the road edge nearest ``point`` (never an access edge) at the point's projection onto it.

    The two halves keep the edge's grade and speed. Returns ``(node, distance_m)``: the graph node at
    the projection (an existing node when the projection falls on one) and the distance from
    ``point`` to it.

    Raises:
        ValueError: the graph has no road edge.
    """
    edges = [e for e in graph.edges(data=True) if not e[2]["grade"].startswith("接驳")]  # roads only
    if not edges:
        raise ValueError("the graph has no edge to attach to")
    geoms = [d["geometry"] for _, _, d in edges]
    idx = int(shapely.STRtree(geoms).nearest(point))
    u, v, data = edges[idx]
    line = data["geometry"]
    s = line.project(point)
    proj = line.interpolate(s)
    key = node_key(proj.x, proj.y)
    if key not in graph:
        ends = {node_key(*line.coords[0]): 0.0, node_key(*line.coords[-1]): line.length}
        graph.remove_edge(u, v)
        graph.add_node(key, x=key[0], y=key[1])
        for end, pos in ends.items():
            piece = shapely.ops.substring(line, min(s, pos), max(s, pos))
            length = float(piece.length)
            graph.add_edge(end, key, length_m=length, grade=data["grade"], speed_kmh=data["speed_kmh"],
                           minutes=edge_minutes(length, data["speed_kmh"]) if length > 0 else 0.0, geometry=piece)
    return key, float(point.distance(proj))


def attach_point(graph: nx.Graph, name: Any, point: Point, access_kmh: float) -> float:
    """Add ``name`` as a node at ``point`` (a hub or a 嘎查) joined to the nearest road edge.

    The nearest road edge (never another point's access edge) is split at the point's projection
    onto it (:func:`split_at`) and an access edge (grade ``接驳 access``) of straight-line length at
    ``access_kmh`` (the off-road speed) joins ``name`` to the split node. Returns the access distance (m).

    Raises:
        ValueError: the graph has no edge, or ``access_kmh`` is not positive.
    """
    if not float(access_kmh) > 0:
        raise ValueError(f"access speed must be > 0 km/h, got {access_kmh}")
    key, dist = split_at(graph, point)
    proj = Point(key)
    graph.add_node(name, x=float(point.x), y=float(point.y))
    graph.add_edge(name, key, length_m=dist, grade="接驳 access", speed_kmh=float(access_kmh),
                   minutes=edge_minutes(dist, access_kmh), geometry=LineString([point, proj]) if dist > 0 else LineString([point, point]))
    return dist


def rail_graph(lines: gpd.GeoDataFrame, speed_kmh: float, name_column: str | None = None,
               snap_tolerance_m: float = 5.0) -> nx.Graph:
    """The railway network (02-06) as an undirected ``networkx`` graph, built as :func:`road_graph`
    with every line at one speed: the edge ``grade`` is the line name (``name_column``, e.g.
    ``NAME`` = 集二铁路; ``铁路 railway`` when the column is missing or empty), so
    :func:`length_by_grade` gives the length by line and :func:`graph_summary` the components.

    Raises:
        ValueError: speed not positive.
    """
    if not float(speed_kmh) > 0:
        raise ValueError(f"rail speed must be > 0 km/h, got {speed_kmh}")
    names = (lines[name_column].astype("string").fillna("").str.strip() if name_column and name_column in lines.columns
             else pd.Series("", index=lines.index))
    names = names.where(names != "", "铁路 railway").astype(str)
    tagged = lines.assign(_line=names)
    return road_graph(tagged, "_line", {n: float(speed_kmh) for n in sorted(set(names))}, snap_tolerance_m)


def snap_stations(graph: nx.Graph, stations: gpd.GeoDataFrame, name_column: str | None, max_snap_m: float) -> pd.DataFrame:
    """Join railway stations (22-01 points) to the rail graph: each station within ``max_snap_m`` of a
    line becomes a node on it (the edge is split at the station's projection, :func:`split_at`);
    farther stations are not on the network.

    Returns:
        Columns ``station, snap_m, on_network, node`` in the stations' order (``node`` is None off the
        network); unnamed stations are called ``站点 k``.
    """
    rows = []
    for k, geom in enumerate(stations.geometry):
        raw = stations.iloc[k][name_column] if name_column and name_column in stations.columns else None
        name = str(raw).strip() if raw is not None and not pd.isna(raw) and str(raw).strip() else f"站点 {k + 1}"
        pt = geom if geom.geom_type == "Point" else geom.centroid
        if graph.number_of_edges() == 0:
            rows.append({"station": name, "snap_m": np.nan, "on_network": False, "node": None})
            continue
        edges = [d["geometry"] for _, _, d in graph.edges(data=True)]
        d = float(min(shapely.distance(np.asarray(edges, dtype=object), pt)))
        if d > max_snap_m:
            rows.append({"station": name, "snap_m": d, "on_network": False, "node": None})
            continue
        node, d = split_at(graph, pt)
        rows.append({"station": name, "snap_m": d, "on_network": True, "node": node})
    return pd.DataFrame(rows, columns=["station", "snap_m", "on_network", "node"])


def rail_od(graph: nx.Graph, stations: pd.DataFrame, speed_kmh: float) -> pd.DataFrame:
    """Rail distance (km, shortest path along the lines) and time (min at ``speed_kmh``) between every
    pair of stations on the network (:func:`snap_stations`); ``inf`` km/min for stations in different
    components. Straight-line distance for comparison.

    Returns:
        Columns ``from, to, rail_km, rail_min, straight_km``; empty when fewer than two stations are on it.
    """
    on = stations[stations["on_network"]].reset_index(drop=True)
    rows = []
    for i in range(len(on)):
        a = on.loc[i, "node"]
        dist = nx.single_source_dijkstra_path_length(graph, a, weight="length_m")
        for j in range(i + 1, len(on)):
            b = on.loc[j, "node"]
            km = float(dist.get(b, np.inf)) / 1000.0
            rows.append({"from": on.loc[i, "station"], "to": on.loc[j, "station"], "rail_km": km,
                         "rail_min": km / float(speed_kmh) * 60.0, "straight_km": Point(a).distance(Point(b)) / 1000.0})
    return pd.DataFrame(rows, columns=["from", "to", "rail_km", "rail_min", "straight_km"])


def nearest_passable_cell(passable: ArrayLike, rc: tuple[int, int]) -> tuple[int, int] | None:
    """The passable cell nearest (Euclidean, in cells) to ``rc``; ``rc`` itself when passable,
    ``None`` when no cell is passable. Ties go to the first in row-major order."""
    mask = np.asarray(passable, dtype=bool)
    r, c = int(rc[0]), int(rc[1])
    if 0 <= r < mask.shape[0] and 0 <= c < mask.shape[1] and mask[r, c]:
        return r, c
    rr, cc = np.nonzero(mask)
    if not len(rr):
        return None
    k = int(np.argmin((rr - r) ** 2 + (cc - c) ** 2))
    return int(rr[k]), int(cc[k])


def shortest_minutes(graph: nx.Graph, source: Any, targets: Sequence[Any]) -> dict[Any, float]:
    """Shortest travel time (minutes, Dijkstra on edge ``minutes``) from ``source`` to each target;
    ``inf`` for a target in another component."""
    dist = nx.single_source_dijkstra_path_length(graph, source, weight="minutes")
    return {t: float(dist.get(t, np.inf)) for t in targets}


def length_by_grade(graph: nx.Graph) -> pd.DataFrame:
    """Network length (km) by grade from the graph edges (access edges excluded).

    Columns ``grade, edges, length_km``, fastest grade first.
    """
    rows: dict[str, list[float]] = {}
    for _, _, d in graph.edges(data=True):
        if d["grade"].startswith("接驳"):
            continue
        r = rows.setdefault(d["grade"], [0, 0.0, d["speed_kmh"]])
        r[0] += 1
        r[1] += d["length_m"] / 1000.0
    out = pd.DataFrame([{"grade": g, "edges": int(r[0]), "length_km": r[1], "speed_kmh": r[2]} for g, r in rows.items()],
                       columns=["grade", "edges", "length_km", "speed_kmh"])
    return out.sort_values(["speed_kmh", "grade"], ascending=[False, True]).drop(columns="speed_kmh").reset_index(drop=True)


def graph_summary(graph: nx.Graph) -> dict[str, float]:
    """Nodes, edges, connected components, share of the network length in the largest component,
    and the 道路网连通度 (edges / nodes, a common connectivity index: 1 = tree-like, higher = meshed)."""
    comps = list(nx.connected_components(graph))
    total = sum(d["length_m"] for _, _, d in graph.edges(data=True)) or 1.0
    largest = max(comps, key=len) if comps else set()
    big = sum(d["length_m"] for _, _, d in graph.subgraph(largest).edges(data=True))
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "components": len(comps),
            "largest_component_length_share": big / total,
            "edges_per_node": graph.number_of_edges() / max(graph.number_of_nodes(), 1)}


def network_density(roads: gpd.GeoDataFrame, grade_column: str, zones: gpd.GeoDataFrame, zone_column: str,
                    grades: Sequence[str] | None = None) -> pd.DataFrame:
    """Road length (km) and density (km/km² = length / zone area) by grade and zone (道路网密度).

    Args:
        roads: road lines (metres CRS, same as ``zones``).
        grade_column: grade field; ``grades`` (fastest first) fixes the order and which grades
            count (default: every grade present).
        zones: polygons (the whole city and/or townships); ``zone_column`` names them.

    Returns:
        Columns ``zone, grade, length_km, area_km2, density_km_per_km2``; one ``合计 total`` row per
        zone over all grades.

    Raises:
        ValueError: a column is missing or a zone has no area.
    """
    for frame, col, what in ((roads, grade_column, "roads"), (zones, zone_column, "zones")):
        if col not in frame.columns:
            raise ValueError(f"{what} have no column {col!r}")
    order = list(grades) if grades is not None else sorted(roads[grade_column].astype(str).unique())
    rows = []
    for name, poly in zip(zones[zone_column], zones.geometry, strict=True):
        area = float(poly.area) / 1e6
        if not area > 0:
            raise ValueError(f"zone {name!r} has no area")
        clipped = shapely.intersection(np.asarray(roads.geometry.values), poly)
        lengths = pd.Series(shapely.length(clipped) / 1000.0, index=roads.index).groupby(roads[grade_column].astype(str)).sum()
        for g in order:
            km = float(lengths.get(g, 0.0))
            rows.append({"zone": name, "grade": g, "length_km": km, "area_km2": area, "density_km_per_km2": km / area})
        km = float(lengths[lengths.index.isin(order)].sum())
        rows.append({"zone": name, "grade": "合计 total", "length_km": km, "area_km2": area, "density_km_per_km2": km / area})
    return pd.DataFrame(rows, columns=["zone", "grade", "length_km", "area_km2", "density_km_per_km2"])


def isochrone_polygons(minutes: ArrayLike, transform: Any, bands_min: Sequence[float],
                       inside: ArrayLike | None = None) -> list[tuple[float, MultiPolygon]]:
    """等时圈: for each band ``b`` the area reachable within ``b`` minutes (cells with minutes ≤ b),
    as one (Multi)Polygon in the grid CRS; bands are cumulative (the 30-min area contains the 15).

    Args:
        minutes: travel time raster (NaN/inf = unreachable).
        transform: the grid's affine transform.
        bands_min: increasing band limits, minutes.
        inside: optional bool mask (e.g. the city boundary) the areas are limited to.

    Raises:
        ValueError: bands not strictly increasing or not positive.
    """
    from rasterio import features as rio_features

    bands = [float(b) for b in bands_min]
    if not bands or any(b <= 0 for b in bands) or any(b2 <= b1 for b1, b2 in zip(bands, bands[1:])):
        raise ValueError(f"isochrone bands must be positive and strictly increasing, got {bands_min}")
    t = np.asarray(minutes, dtype=np.float64)
    ok = np.isfinite(t) if inside is None else np.isfinite(t) & np.asarray(inside, dtype=bool)
    out = []
    for b in bands:
        mask = ok & (t <= b)
        polys = [shapely.geometry.shape(g) for g, v in rio_features.shapes(mask.astype(np.uint8), mask=mask, transform=transform) if v == 1]
        merged = shapely.union_all(polys) if polys else MultiPolygon()
        if isinstance(merged, Polygon):
            merged = MultiPolygon([merged])
        out.append((b, merged))
    return out


def distribute_population(zones: ArrayLike, zone_totals: Mapping[int, float], weight: ArrayLike,
                          points: Sequence[tuple[int, int, float]] = ()) -> tuple[NDArray[np.float64], list[str]]:
    """Persons per cell: township totals placed at known points, the rest spread over settlement land.

    For each zone ``z`` (township index raster, 0 = outside) with total ``T`` (10-02 常住人口): the
    point populations ``(row, col, persons)`` lying in ``z`` (18-01 嘎查 常住人口 at the 嘎查委员会) are
    placed on their cells; the remainder ``max(T − Σ points, 0)`` is spread over the zone's cells in
    proportion to ``weight`` (e.g. 1 on 城镇村 settlement land, 三调 CZCSXM 201/202/203), or evenly
    over the zone when it has no weighted cell. Points outside every zone are ignored (noted).

    Returns:
        ``(population, notes)``; the population sums to ``Σ max(T, Σ points)`` over the zones.

    Raises:
        ValueError: arrays differ in shape, a total or weight is negative.
    """
    z = np.asarray(zones)
    w = np.asarray(weight, dtype=np.float64)
    if z.shape != w.shape:
        raise ValueError(f"zones {z.shape} and weight {w.shape} differ in shape")
    if (w < 0).any():
        raise ValueError("weights must be ≥ 0")
    pop = np.zeros(z.shape, dtype=np.float64)
    notes: list[str] = []
    placed: dict[int, float] = {}
    for r, c, p in points:
        if not (0 <= r < z.shape[0] and 0 <= c < z.shape[1]) or z[r, c] == 0:
            notes.append(f"a point with {p:g} persons at cell ({r}, {c}) lies outside every zone: ignored")
            continue
        pop[r, c] += float(p)
        placed[int(z[r, c])] = placed.get(int(z[r, c]), 0.0) + float(p)
    for zone, total in zone_totals.items():
        if total < 0:
            raise ValueError(f"zone {zone}: negative population {total}")
        rest = float(total) - placed.get(int(zone), 0.0)
        if rest < 0:
            notes.append(f"zone {zone}: points hold {placed[int(zone)]:g} persons, more than its total {total:g}; points kept")
            continue
        cells = z == zone
        ww = np.where(cells, w, 0.0)
        if ww.sum() <= 0:
            ww = cells.astype(np.float64)
            if ww.sum() <= 0:
                notes.append(f"zone {zone} has no cell on the grid: its {total:g} persons are not placed")
                continue
            notes.append(f"zone {zone} has no settlement cell: {rest:g} persons spread evenly over it")
        pop += rest * ww / ww.sum()
    return pop, notes


def coverage_table(minutes_by_hub: Mapping[str, ArrayLike], population: ArrayLike,
                   bands_min: Sequence[float]) -> pd.DataFrame:
    """Population within ``b`` minutes of each hub (cumulative bands), persons and share of the total.

    Works on rasters (persons per cell) and on point lists alike (1-D arrays of times and persons).

    Returns:
        Columns ``hub, band_min, persons, share``; share = persons / Σ population.

    Raises:
        ValueError: shapes differ or the population is not positive.
    """
    p = np.nan_to_num(np.asarray(population, dtype=np.float64))
    total = float(p.sum())
    if not total > 0:
        raise ValueError("the population to cover sums to 0")
    rows = []
    for hub, t in minutes_by_hub.items():
        tt = np.asarray(t, dtype=np.float64)
        if tt.shape != p.shape:
            raise ValueError(f"travel time of {hub} {tt.shape} and population {p.shape} differ in shape")
        for b in bands_min:
            persons = float(p[np.isfinite(tt) & (tt <= float(b))].sum())
            rows.append({"hub": hub, "band_min": float(b), "persons": persons, "share": persons / total})
    return pd.DataFrame(rows, columns=["hub", "band_min", "persons", "share"])
