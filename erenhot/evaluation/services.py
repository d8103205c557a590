"""公共服务设施生活圈覆盖与魅力特色区 (topic 8): pure functions, no I/O.

Rasters are ``(rows, cols)`` arrays on the analysis grid (EPSG:4525, square cells of
``cell_size_m`` m); geometries are in the same metres CRS. Travel time is the raster cost-distance
of :mod:`erenhot.evaluation.accessibility` (``skimage`` ``MCP_Geometric``) over a speed surface
(km/h): walking at one speed for the urban 生活圈 (GB 50180-2018 5/10/15-minute life circles,
walking distance), roads at their grade speed for the rural 苏木/嘎查 service radius. Every
threshold and standard comes from ``t08_charm_quality_life.yaml`` (the composer passes them in).

* :func:`snap_sources` — facility points → source cells (nearest passable cell);
* :func:`nearest_facility` — minutes to the nearest facility of a class and which facility it is;
* :func:`covered_mask` — cells within the urban / rural thresholds;
* :func:`coverage_by_zone` — population covered per township;
* :func:`provision_gap` — per-capita provision (千人指标) against the standard, gap;
* :func:`served_load` — population each facility serves (nearest, within the threshold) and its load;
* :func:`gap_areas` — populated cells outside the threshold as polygons (布局引导区);
* :func:`charm_zones` — 魅力特色区 from clusters of resources (single linkage within a distance)
  joined with the ecological sources they touch;
* :func:`green_space_ratio` — 建成区绿地率 ≈ 三调 0810 公园与绿地 within 城镇 (CZCSXM 201/202) land.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon

from erenhot.evaluation.accessibility import travel_time_and_source
from erenhot.evaluation.transport import nearest_passable_cell

__all__ = [
    "charm_zones",
    "coverage_by_zone",
    "covered_mask",
    "gap_areas",
    "green_space_ratio",
    "nearest_facility",
    "provision_gap",
    "served_load",
    "snap_sources",
]


def snap_sources(xs: Sequence[float], ys: Sequence[float], transform: Any, passable: ArrayLike
                 ) -> list[tuple[int, int] | None]:
    """Source cell ``(row, col)`` of each point: the cell under it, or the nearest passable cell
    when it lies on an impassable one; ``None`` for a point outside the grid or when nothing is passable.

    Args:
        xs, ys: point coordinates in the grid CRS (m).
        transform: the grid's affine transform (north-up).
        passable: bool ``(rows, cols)``.
    """
    mask = np.asarray(passable, dtype=bool)
    inv = ~transform
    out: list[tuple[int, int] | None] = []
    for x, y in zip(xs, ys, strict=True):
        c, r = inv @ (float(x), float(y))
        r, c = int(np.floor(r)), int(np.floor(c))
        if not (0 <= r < mask.shape[0] and 0 <= c < mask.shape[1]):
            out.append(None)
            continue
        out.append(nearest_passable_cell(mask, (r, c)))
    return out


def nearest_facility(speed_kmh: ArrayLike, sources: Sequence[tuple[int, int] | None], cell_size_m: float
                     ) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
    """Minutes to the nearest facility and its index (position in ``sources``).

    One multi-source cost-distance run (:func:`erenhot.evaluation.accessibility.travel_time_and_source`)
    for all facilities of a class; facilities with a ``None`` source are skipped.

    Returns:
        ``(minutes, index)``: float32 minutes (``inf`` where no facility is reachable) and int32
        index (-1 there).

    Raises:
        ValueError: as :func:`travel_time_minutes` (e.g. a source on an impassable cell).
    """
    speed = np.asarray(speed_kmh, dtype=np.float64)
    placed = [(k, rc) for k, rc in enumerate(sources) if rc is not None]
    if not placed:
        return np.full(speed.shape, np.inf, dtype=np.float32), np.full(speed.shape, -1, dtype=np.int32)
    minutes, local = travel_time_and_source(speed, [rc for _, rc in placed], cell_size_m)
    ids = np.array([k for k, _ in placed], dtype=np.int32)
    which = np.where(local >= 0, ids[np.clip(local, 0, None)], -1).astype(np.int32)
    return minutes, which


def covered_mask(urban_minutes: ArrayLike, rural_minutes: ArrayLike, urban: ArrayLike,
                 urban_max_min: float, rural_max_min: float) -> NDArray[np.bool_]:
    """Cells within the service standard: urban cells by ``urban_minutes ≤ urban_max_min`` (the
    生活圈, GB 50180-2018), other cells by ``rural_minutes ≤ rural_max_min`` (苏木/嘎查 service radius).

    Raises:
        ValueError: shapes differ or a threshold is not positive.
    """
    um, rm, u = (np.asarray(a) for a in (urban_minutes, rural_minutes, urban))
    if not (um.shape == rm.shape == u.shape):
        raise ValueError(f"urban minutes {um.shape}, rural minutes {rm.shape} and urban mask {u.shape} differ in shape")
    if not (urban_max_min > 0 and rural_max_min > 0):
        raise ValueError(f"thresholds must be > 0 min, got {urban_max_min}, {rural_max_min}")
    u = u.astype(bool)
    with np.errstate(invalid="ignore"):
        return np.where(u, np.isfinite(um) & (um <= urban_max_min), np.isfinite(rm) & (rm <= rural_max_min))


def coverage_by_zone(covered: ArrayLike, population: ArrayLike, zones: ArrayLike,
                     zone_names: Mapping[int, str]) -> pd.DataFrame:
    """Population (persons per cell) covered per zone, and the whole-city row ``zone = 0``.

    Returns:
        Columns ``zone, zone_name, population, covered_pop, covered_share`` (share NaN for a zone
        without population); the whole city first, named ``全市 whole city``.

    Raises:
        ValueError: shapes differ or a population value is negative.
    """
    cov, pop, z = np.asarray(covered, dtype=bool), np.nan_to_num(np.asarray(population, dtype=np.float64)), np.asarray(zones)
    if not (cov.shape == pop.shape == z.shape):
        raise ValueError(f"covered {cov.shape}, population {pop.shape} and zones {z.shape} differ in shape")
    if (pop < 0).any():
        raise ValueError("population must be ≥ 0 persons per cell")
    rows = []
    for zone, name in [(0, "全市 whole city"), *sorted(zone_names.items())]:
        sel = (z > 0) if zone == 0 else (z == zone)
        total = float(pop[sel].sum())
        got = float(pop[sel & cov].sum())
        rows.append({"zone": int(zone), "zone_name": name, "population": total, "covered_pop": got,
                     "covered_share": got / total if total > 0 else np.nan})
    return pd.DataFrame(rows, columns=["zone", "zone_name", "population", "covered_pop", "covered_share"])


def provision_gap(capacity: float, population: float, per_1000: float | None, population_share: float = 1.0) -> dict[str, float]:
    """Per-capita provision (千人指标) against a standard.

    ``required = population × population_share / 1000 × per_1000``; ``gap = required − capacity``
    (> 0: shortage); ``per_1000_actual = capacity / (population × population_share) × 1000``. With
    ``per_1000`` None only the actual provision is given (required, gap NaN).

    Raises:
        ValueError: negative capacity, population or standard, or a share outside (0, 1].
    """
    if capacity < 0 or population < 0 or (per_1000 is not None and per_1000 < 0):
        raise ValueError(f"capacity, population and standard must be ≥ 0 (got {capacity}, {population}, {per_1000})")
    if not 0 < population_share <= 1:
        raise ValueError(f"population_share must be in (0, 1], got {population_share}")
    base = population * population_share
    actual = capacity / base * 1000.0 if base > 0 else np.nan
    if per_1000 is None:
        return {"per_1000_actual": actual, "required": np.nan, "gap": np.nan}
    required = base / 1000.0 * float(per_1000)
    return {"per_1000_actual": actual, "required": required, "gap": required - capacity}


def served_load(which: ArrayLike, covered: ArrayLike, population: ArrayLike, capacities: Sequence[float],
                per_1000: float | None, population_share: float = 1.0) -> pd.DataFrame:
    """Population each facility serves — cells whose nearest facility it is (``which``) and that
    lie within the standard (``covered``) — and its load ratio.

    ``load = served × population_share / 1000 × per_1000 / capacity`` (1 = exactly at the standard,
    > 1 overloaded); NaN without a standard or with capacity 0.

    Returns:
        One row per facility (index = position): ``served_pop, load``.
    """
    w, cov = np.asarray(which), np.asarray(covered, dtype=bool)
    pop = np.nan_to_num(np.asarray(population, dtype=np.float64))
    n = len(capacities)
    sel = cov & (w >= 0)
    served = np.bincount(w[sel], weights=pop[sel], minlength=n)[:n] if sel.any() else np.zeros(n)
    caps = np.asarray(capacities, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        load = np.where((caps > 0) & (per_1000 is not None),
                        served * population_share / 1000.0 * (per_1000 or 0.0) / caps, np.nan)
    return pd.DataFrame({"served_pop": served, "load": load})


def gap_areas(covered: ArrayLike, population: ArrayLike, transform: Any, min_persons_per_cell: float
              ) -> list[tuple[Polygon, float]]:
    """服务盲区: connected areas of cells with population ≥ ``min_persons_per_cell`` outside the
    standard, as ``(polygon, persons)`` (4-connected, grid CRS), largest population first."""
    from rasterio import features as rio_features

    cov = np.asarray(covered, dtype=bool)
    pop = np.nan_to_num(np.asarray(population, dtype=np.float64))
    mask = (~cov) & (pop >= min_persons_per_cell) & (pop > 0)
    if not mask.any():
        return []
    from scipy import ndimage

    labels, n = ndimage.label(mask)
    persons = ndimage.sum(pop, labels, index=np.arange(1, n + 1))
    by_label: dict[int, list[Any]] = {}
    for geom, lab in rio_features.shapes(labels.astype(np.int32), mask=mask, transform=transform):
        by_label.setdefault(int(lab), []).append(shapely.geometry.shape(geom))
    res = [(shapely.union_all(gs), float(persons[lab - 1])) for lab, gs in by_label.items()]
    return sorted(res, key=lambda t: -t[1])


def charm_zones(resources: gpd.GeoDataFrame, eco_sources: gpd.GeoDataFrame | None, *, link_distance_m: float,
                zone_buffer_m: float, min_resources: int, national_grades: Sequence[str], national_min_score_sum: float,
                level_labels: Mapping[str, str]) -> gpd.GeoDataFrame:
    """魅力特色区: clusters of cultural/tourism resources joined with the ecological sources they touch.

    Rule (config ``charm``): resources closer than ``link_distance_m`` to each other are one cluster
    (single linkage: the union of discs of radius ``link_distance_m / 2``); a cluster of at least
    ``min_resources`` resources is a zone whose area is the union of discs of radius
    ``zone_buffer_m`` around its resources plus every ecological source polygon that area touches.
    Level ``national`` (具有国家影响力) when a member's ``grade`` is in ``national_grades`` or the
    members' ``score`` sum reaches ``national_min_score_sum``, else ``city`` (市级).

    Args:
        resources: points with ``resource_id, name, category, grade, score`` (t15.cultural_tourism_resources).
        eco_sources: polygons (T11 ``kind == "source"``) or None.

    Returns:
        Polygons EPSG of ``resources`` with ``zone_id, level, level_zh, n_resources, score_sum,
        categories, members, eco_sources, area_km2``; largest score sum first.

    Raises:
        ValueError: a needed column is missing, or a distance is not positive.
    """
    need = {"resource_id", "name", "category", "grade", "score"}
    if missing := need - set(resources.columns):
        raise ValueError(f"resources lack columns {sorted(missing)}")
    if not (link_distance_m > 0 and zone_buffer_m > 0):
        raise ValueError("link_distance_m and zone_buffer_m must be > 0")
    cols = ["zone_id", "level", "level_zh", "n_resources", "score_sum", "categories", "members", "eco_sources", "area_km2"]
    if not len(resources):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=resources.crs)
    res = resources.reset_index(drop=True)
    discs = shapely.union_all(res.geometry.buffer(link_distance_m / 2.0).values)
    blobs = list(discs.geoms) if hasattr(discs, "geoms") else [discs]
    eco = eco_sources.reset_index(drop=True) if eco_sources is not None and len(eco_sources) else None
    rows, geoms = [], []
    for blob in blobs:
        members = res[res.geometry.within(blob) | res.geometry.intersects(blob)]
        if len(members) < min_resources:
            continue
        area = shapely.union_all(members.geometry.buffer(zone_buffer_m).values)
        eco_ids: list[str] = []
        if eco is not None:
            hit = eco[eco.geometry.intersects(area)]
            if len(hit):
                area = shapely.union_all([area, *hit.geometry.values])
                id_col = "feature_id" if "feature_id" in hit.columns else None
                eco_ids = [str(v) for v in (hit[id_col] if id_col else hit.index)]
        score = float(members["score"].astype(float).sum())
        national = bool(members["grade"].astype(str).isin([str(g) for g in national_grades]).any()) or score >= national_min_score_sum
        level = "national" if national else "city"
        rows.append({"level": level, "level_zh": level_labels[level], "n_resources": int(len(members)),
                     "score_sum": round(score, 4), "categories": "、".join(sorted(set(members["category"].astype(str)))),
                     "members": "、".join(members["name"].astype(str)), "eco_sources": ",".join(eco_ids),
                     "area_km2": area.area / 1e6})
        geoms.append(MultiPolygon([area]) if isinstance(area, Polygon) else area)
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=resources.crs)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=resources.crs).sort_values("score_sum", ascending=False).reset_index(drop=True)
    out.insert(0, "zone_id", [f"MZ{k + 1:02d}" for k in range(len(out))])
    return out[[*cols, "geometry"]]


def green_space_ratio(dltb: gpd.GeoDataFrame, green_codes: Sequence[str], urban_czcsxm: Sequence[str]) -> dict[str, float]:
    """建成区绿地率 ≈ 三调 公园与绿地 (DLBM in ``green_codes``, e.g. 0810) within 城镇 land (CZCSXM in
    ``urban_czcsxm``, e.g. 201 城市 / 202 建制镇) over that land, as a percentage.

    Returns:
        ``{"green_km2", "urban_km2", "ratio_pct"}`` (ratio NaN when there is no 城镇 land).

    Raises:
        ValueError: DLBM or CZCSXM missing.
    """
    for c in ("DLBM", "CZCSXM"):
        if c not in dltb.columns:
            raise ValueError(f"01-46a.dltb has no column {c!r}")
    czc = dltb["CZCSXM"].fillna("").astype(str)
    urban = dltb[czc.isin([str(c) for c in urban_czcsxm])]
    green = urban[urban["DLBM"].astype(str).isin([str(c) for c in green_codes])]
    u, g = float(urban.geometry.area.sum() / 1e6), float(green.geometry.area.sum() / 1e6)
    return {"green_km2": g, "urban_km2": u, "ratio_pct": g / u * 100.0 if u > 0 else np.nan}
