"""文化与旅游 (topic 15): resource grades as scores, least network times between resources, and the
tourism corridors (旅游廊道) that link them by least-time routes.

Pure functions, no I/O. Geometries are in a projected CRS in metres (EPSG:4525 in the pipeline); the
road graph is the ``networkx`` graph of :func:`erenhot.evaluation.transport.road_graph` (edge
attributes ``minutes``, ``length_m``, ``geometry``; nodes carry ``x``, ``y``), resources join it with
:func:`erenhot.evaluation.transport.attach_point` at the off-road speed.

Corridors: the minimum spanning tree (Kruskal, ``networkx.minimum_spanning_tree``) of the complete
graph of resources weighted by their least network time links every resource with the least total
travel time — the skeleton of a 全域旅游 network that 串联 all resources (seed topic 15 研究要点 3);
configured must-link pairs (e.g. 国门 ↔ 恐龙地质公园) are added when the tree does not already hold them.
Each corridor is traced on the road network as the least-time path.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from erenhot.evaluation import transport as tr

__all__ = [
    "MST",
    "MUST_LINK",
    "attach_resources",
    "categorise",
    "corridor_pairs",
    "least_times",
    "path_line",
    "representative_points",
    "score_grades",
    "trace_corridors",
]

MST = "最小生成树 minimum spanning tree"
MUST_LINK = "指定串联 configured link"


def score_grades(grades: Sequence[Any], table: Mapping[str, float], what: str) -> np.ndarray:
    """Score (0–1) of each delivered grade from a configured grade → score table.

    Args:
        grades: the grades as delivered (e.g. ``4A``, ``国家级``, ``自治区级文物保护单位``); compared as
            stripped strings.
        table: grade → score in [0, 1] (config ``scores.<dataset>``, GB/T 17775-2003 for 景区,
            DZ/T 0303-2017 for 地质遗迹, 《文物保护法》 levels for 文物).
        what: the dataset and column, for the error message (e.g. ``"06-03 grade"``).

    Returns:
        ``float64`` array of scores, one per grade.

    Raises:
        ValueError: a score outside [0, 1], or a grade missing from the table (names it and ``what``).
    """
    for g, s in table.items():
        if not 0.0 <= float(s) <= 1.0:
            raise ValueError(f"score of grade {g!r} must lie in [0, 1], got {s}")
    keys = {str(k).strip(): float(v) for k, v in table.items()}
    out = np.empty(len(grades), dtype=np.float64)
    for i, g in enumerate(grades):
        k = "" if g is None or (isinstance(g, float) and np.isnan(g)) else str(g).strip()
        if k not in keys:
            raise ValueError(f"{what}: grade {k!r} has no configured score (known: {sorted(keys)})")
        out[i] = keys[k]
    return out


def categorise(types: Sequence[Any], mapping: Mapping[str, str], default: str, categories: Sequence[str],
               what: str) -> list[str]:
    """Resource category of each delivered type: ``mapping[type]``, else ``default``.

    Args:
        types: delivered type values (e.g. 06-03 ``type`` 边境口岸).
        mapping: type → category (config ``categories.by_source``).
        default: category of a type the mapping does not list.
        categories: the configured category list (config ``categories.list``).
        what: dataset and column, for the error message.

    Raises:
        ValueError: a mapped or default category is not in ``categories``.
    """
    allowed = set(categories)
    bad = sorted({c for c in [*mapping.values(), default] if c not in allowed})
    if bad:
        raise ValueError(f"{what}: categories {bad} are not in the configured list {list(categories)}")
    return [mapping.get("" if t is None else str(t).strip(), default) for t in types]


def attach_resources(graph: nx.Graph, points: Mapping[Hashable, Point], access_kmh: float) -> dict[Hashable, float]:
    """Join each resource (node name → point) to the nearest road edge with an access edge at
    ``access_kmh`` (:func:`erenhot.evaluation.transport.attach_point`). Returns node → access distance (m).

    Raises:
        ValueError: the graph has no road edge, or the speed is not positive.
    """
    return {name: tr.attach_point(graph, name, pt, access_kmh) for name, pt in points.items()}


def _path_km(graph: nx.Graph, path: Sequence[Hashable]) -> float:
    return sum(graph.edges[u, v]["length_m"] for u, v in zip(path, path[1:])) / 1000.0


def least_times(graph: nx.Graph, nodes: Sequence[Hashable]) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[Hashable, Hashable], list]]:
    """Least network time (Dijkstra on edge ``minutes``) between every pair of ``nodes``.

    Returns:
        ``(minutes, km, paths)``: square frames indexed by the nodes in their order (0 on the
        diagonal, ``inf`` between components); ``km`` is the length of the least-time path (not the
        shortest distance); ``paths[(a, b)]`` the node sequence for ``a`` before ``b`` in ``nodes``.

    Raises:
        KeyError: a node is not in the graph.
    """
    names = list(nodes)
    for n in names:
        if n not in graph:
            raise KeyError(f"node {n!r} is not in the road graph (attach it first)")
    k = len(names)
    mins = np.full((k, k), np.inf)
    km = np.full((k, k), np.inf)
    np.fill_diagonal(mins, 0.0)
    np.fill_diagonal(km, 0.0)
    paths: dict[tuple[Hashable, Hashable], list] = {}
    for i, a in enumerate(names):
        dist, route = nx.single_source_dijkstra(graph, a, weight="minutes")
        for j in range(i + 1, k):
            b = names[j]
            if b in dist:
                mins[i, j] = mins[j, i] = float(dist[b])
                km[i, j] = km[j, i] = _path_km(graph, route[b])
                paths[(a, b)] = list(route[b])
    return (pd.DataFrame(mins, index=names, columns=names), pd.DataFrame(km, index=names, columns=names), paths)


def corridor_pairs(minutes: pd.DataFrame, must_link: Sequence[tuple[Hashable, Hashable]] = ()) -> list[tuple[Hashable, Hashable, str]]:
    """The resource pairs a corridor joins: the minimum spanning tree of the least-time matrix plus
    the must-link pairs not already in it.

    The complete graph holds every pair with a finite time (resources in different road components
    are not joined: the result is then a spanning forest). Ties are broken by the order of the
    matrix (pairs are inserted row by row). A must-link pair naming a resource not in the matrix is
    skipped (the composer notes it).

    Args:
        minutes: square least-time matrix (:func:`least_times`), symmetric.
        must_link: pairs of resource names (config ``corridors.must_link``).

    Returns:
        ``(a, b, kind)`` with ``a`` before ``b`` in the matrix order; kind :data:`MST` or :data:`MUST_LINK`.

    Raises:
        ValueError: the matrix is not square with the same labels on both axes.
    """
    names = list(minutes.index)
    if list(minutes.columns) != names:
        raise ValueError("the least-time matrix must be square with the same labels on both axes")
    pos = {n: i for i, n in enumerate(names)}
    g = nx.Graph()
    g.add_nodes_from(names)
    m = minutes.to_numpy(dtype=float)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if np.isfinite(m[i, j]):
                g.add_edge(names[i], names[j], weight=float(m[i, j]))
    tree = nx.minimum_spanning_tree(g, weight="weight", algorithm="kruskal")
    out: list[tuple[Hashable, Hashable, str]] = []
    seen: set[frozenset] = set()
    for a, b in sorted(tree.edges(), key=lambda e: tuple(sorted((pos[e[0]], pos[e[1]])))):
        a, b = (a, b) if pos[a] < pos[b] else (b, a)
        out.append((a, b, MST))
        seen.add(frozenset((a, b)))
    for a, b in must_link:
        if a not in pos or b not in pos or a == b or frozenset((a, b)) in seen:
            continue
        if not np.isfinite(m[pos[a], pos[b]]):
            continue
        a, b = (a, b) if pos[a] < pos[b] else (b, a)
        out.append((a, b, MUST_LINK))
        seen.add(frozenset((a, b)))
    return out


def path_line(graph: nx.Graph, path: Sequence[Hashable]) -> LineString:
    """The route of a node path as one LineString from the first node to the last: each edge's
    geometry is turned to run from its first node to its second, consecutive duplicates dropped.

    Raises:
        ValueError: fewer than two nodes.
    """
    if len(path) < 2:
        raise ValueError("a route needs at least two nodes")
    coords: list[tuple[float, float]] = []
    for u, v in zip(path, path[1:]):
        geom = graph.edges[u, v]["geometry"]
        pts = list(geom.coords)
        ux, uy = graph.nodes[u]["x"], graph.nodes[u]["y"]
        if (pts[0][0] - ux) ** 2 + (pts[0][1] - uy) ** 2 > (pts[-1][0] - ux) ** 2 + (pts[-1][1] - uy) ** 2:
            pts = pts[::-1]
        for p in pts:
            p2 = (float(p[0]), float(p[1]))
            if not coords or coords[-1] != p2:
                coords.append(p2)
    if len(coords) == 1:
        coords.append(coords[0])
    return LineString(coords)


def trace_corridors(graph: nx.Graph, pairs: Sequence[tuple[Hashable, Hashable, str]], minutes: pd.DataFrame,
                    km: pd.DataFrame, paths: Mapping[tuple[Hashable, Hashable], Sequence[Hashable]]) -> list[dict[str, Any]]:
    """One record per corridor: ``from_id``, ``to_id``, ``minutes`` (least time), ``length_km`` (of
    that route), ``link`` (:data:`MST` or :data:`MUST_LINK`) and ``geometry`` (:func:`path_line`,
    access edges included), in the order of ``pairs``."""
    out = []
    for a, b, kind in pairs:
        path = paths.get((a, b)) or list(reversed(paths[(b, a)]))
        out.append({"from_id": a, "to_id": b, "minutes": float(minutes.loc[a, b]), "length_km": float(km.loc[a, b]),
                    "link": kind, "geometry": path_line(graph, path)})
    return out


def representative_points(geoms: Sequence[Any]) -> list[Point]:
    """A point inside each geometry (``shapely.point_on_surface``; the point itself for points)."""
    return [g if g.geom_type == "Point" else shapely.point_on_surface(g) for g in geoms]
