"""三区三线: candidates of the three control lines, their overlaps, the precedence that resolves them, and
the rules that assign 规划分区 and the 生态 / 农业 / 城镇 spaces (pure functions, no I/O).

Definitions (evaluation spec §4.4, from the 2019 中办国办《关于在国土空间规划中统筹划定落实三条控制线的
指导意见》): 生态保护红线 (STBHHX), 永久基本农田 (YJJBNT) and 城镇开发边界 (CZKFBJ) must not overlap; where
candidates conflict, the line higher in the configured precedence keeps the land and the lower lines lose
it (:func:`resolve_overlaps`). :func:`overlap_summary` / :func:`overlap_pairs` measure what overlaps and
:func:`check_no_overlap` raises :class:`ControlLineOverlapError` naming every overlapping pair.

All geometries are polygons in one projected CRS in metres (EPSG:4525 in this project); areas are m².
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

__all__ = [
    "LINE_NAMES",
    "ControlLineOverlapError",
    "FarmlandParams",
    "apply_zone_rules",
    "check_no_overlap",
    "cropland_quality",
    "farmland_rule",
    "overlap_pairs",
    "overlap_summary",
    "polygonal",
    "resolve_overlaps",
]

LINE_NAMES = {"STBHHX": "生态保护红线", "YJJBNT": "永久基本农田", "CZKFBJ": "城镇开发边界"}
"""The three control lines by their table code of the 市级国土空间总体规划数据库规范 (spec §4.1)."""


class ControlLineOverlapError(ValueError):
    """Two or more control lines overlap by more than the tolerance.

    Attributes:
        pairs: the :func:`overlap_summary` rows above the tolerance (line_a, line_b, area_m2, …).
    """

    def __init__(self, pairs: pd.DataFrame, tolerance_m2: float) -> None:
        self.pairs = pairs
        text = "; ".join(f"{r.line_a} ∩ {r.line_b} = {r.area_m2:,.1f} m² ({r.n_pairs} feature pair(s))"
                         for r in pairs.itertuples())
        super().__init__(f"control lines overlap (tolerance {tolerance_m2:g} m²): {text}")


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygon part of a geometry (a difference or intersection may return a GeometryCollection with
    lines or points); None when nothing polygonal remains."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon | shapely.MultiPolygon) and not g.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts)


def union_of(gdf: gpd.GeoDataFrame | None) -> shapely.Geometry:
    """The union of a layer's (made-valid) geometries; an empty polygon for an empty or missing layer."""
    if gdf is None or len(gdf) == 0:
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(gdf.geometry.to_numpy()))


def make_disjoint(gdf: gpd.GeoDataFrame, min_piece_m2: float = 0.0) -> gpd.GeoDataFrame:
    """The features of one layer made disjoint: each feature loses what earlier rows cover (sort the
    frame first to say who wins, e.g. the best 耕地质量等别 first), so an area is never counted twice
    when a delivery's polygons overlap (01-40 grade polygons, 01-47 red-line patches, …).

    Only features that overlap an earlier one are touched (found with a spatial index). Attributes are
    kept; pieces not larger than ``min_piece_m2`` are dropped. Same CRS as ``gdf``.
    """
    if gdf is None or len(gdf) < 2:
        return gdf
    geoms = np.asarray(shapely.make_valid(gdf.geometry.to_numpy()), dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    earlier: dict[int, list[int]] = {}
    for i, j in zip(left, right, strict=True):
        if j < i:
            earlier.setdefault(int(i), []).append(int(j))
    out = list(geoms)
    for i in sorted(earlier):
        cover = shapely.union_all([out[j] for j in earlier[i] if out[j] is not None])
        out[i] = polygonal(shapely.difference(out[i], cover)) if cover is not None and not cover.is_empty else out[i]
    keep = np.array([g is not None and g.area > min_piece_m2 for g in out])
    res = gdf.loc[keep].copy()
    return gpd.GeoDataFrame(res.drop(columns=gdf.geometry.name),
                            geometry=[g for g, k in zip(out, keep, strict=True) if k], crs=gdf.crs)


def self_overlaps(lines: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Area counted twice inside each line: the sum of its feature areas minus the area of their union.

    Returns:
        Columns ``line, name, area_m2`` (one row per line; 0 when its features are disjoint).
    """
    rows = []
    for k, g in lines.items():
        doubled = 0.0
        if g is not None and len(g):
            doubled = float(shapely.area(shapely.make_valid(g.geometry.to_numpy())).sum() - union_of(g).area)
        rows.append({"line": k, "name": LINE_NAMES.get(k, k), "area_m2": max(doubled, 0.0)})
    return pd.DataFrame(rows, columns=["line", "name", "area_m2"])


def _check_crs(lines: Mapping[str, gpd.GeoDataFrame]) -> None:
    crss = {str(g.crs) for g in lines.values() if g is not None and len(g)}
    if len(crss) > 1:
        raise ValueError(f"control lines are in different CRS: {sorted(crss)}; reproject them to one projected CRS first")
    for name, g in lines.items():
        if g is not None and len(g) and g.crs is not None and not g.crs.is_projected:
            raise ValueError(f"control line {name} is in a geographic CRS ({g.crs}); areas need metres")


def overlap_pairs(lines: Mapping[str, gpd.GeoDataFrame], min_area_m2: float = 0.0) -> pd.DataFrame:
    """Every overlapping pair of features of two different lines.

    Args:
        lines: line code (e.g. ``"STBHHX"``) → polygons (one projected CRS).
        min_area_m2: pairs whose intersection is not larger than this are left out.

    Returns:
        Columns ``line_a, index_a, line_b, index_b, area_m2`` (``index_*`` = the row label in the
        input frame), for line pairs in the order of ``lines``.
    """
    _check_crs(lines)
    rows = []
    for a, b in itertools.combinations(list(lines), 2):
        ga, gb = lines[a], lines[b]
        if ga is None or gb is None or not len(ga) or not len(gb):
            continue
        left = gpd.GeoDataFrame({"index_a": ga.index}, geometry=shapely.make_valid(ga.geometry.to_numpy()), crs=ga.crs)
        right = gpd.GeoDataFrame({"index_b": gb.index}, geometry=shapely.make_valid(gb.geometry.to_numpy()), crs=gb.crs)
        hits = gpd.sjoin(left, right, predicate="intersects", how="inner")
        rgeoms = right.geometry.to_numpy()
        for ia, pos_b, geom in zip(hits["index_a"], hits["index_right"], hits.geometry, strict=True):
            area = float(shapely.intersection(geom, rgeoms[int(pos_b)]).area)
            if area > min_area_m2:
                rows.append({"line_a": a, "index_a": ia, "line_b": b, "index_b": gb.index[int(pos_b)], "area_m2": area})
    return pd.DataFrame(rows, columns=["line_a", "index_a", "line_b", "index_b", "area_m2"])


def overlap_summary(lines: Mapping[str, gpd.GeoDataFrame], min_area_m2: float = 0.0) -> pd.DataFrame:
    """Overlap of every pair of lines (also the pairs that do not overlap, with 0).

    The area is that of the intersection of the two lines' unions, so features overlapping inside one
    line are not counted twice.

    Returns:
        Columns ``line_a, name_a, line_b, name_b, n_pairs, area_m2`` (``n_pairs`` = overlapping
        feature pairs of :func:`overlap_pairs` above ``min_area_m2``), one row per pair of ``lines``.
    """
    _check_crs(lines)
    pairs = overlap_pairs(lines, min_area_m2)
    unions = {k: union_of(v) for k, v in lines.items()}
    rows = []
    for a, b in itertools.combinations(list(lines), 2):
        area = float(shapely.intersection(unions[a], unions[b]).area)
        n = int(((pairs["line_a"] == a) & (pairs["line_b"] == b)).sum())
        rows.append({"line_a": a, "name_a": LINE_NAMES.get(a, a), "line_b": b, "name_b": LINE_NAMES.get(b, b),
                     "n_pairs": n, "area_m2": area if area > min_area_m2 else 0.0})
    return pd.DataFrame(rows, columns=["line_a", "name_a", "line_b", "name_b", "n_pairs", "area_m2"])


def check_no_overlap(lines: Mapping[str, gpd.GeoDataFrame], tolerance_m2: float) -> pd.DataFrame:
    """:func:`overlap_summary`, raising when a pair of lines overlaps by more than ``tolerance_m2`` —
    or when features inside one line overlap by more than that (:func:`self_overlaps`: its area would
    be counted twice), reported as the pair ``line ∩ line``.

    Raises:
        ControlLineOverlapError: names every overlapping pair with its area (``.pairs``).
    """
    summary = overlap_summary(lines, 0.0)
    own = self_overlaps(lines)
    own_rows = pd.DataFrame({"line_a": own["line"], "name_a": own["name"], "line_b": own["line"], "name_b": own["name"],
                             "n_pairs": 0, "area_m2": own["area_m2"]})
    bad = pd.concat([summary[summary["area_m2"] > tolerance_m2], own_rows[own_rows["area_m2"] > tolerance_m2]])
    if len(bad):
        raise ControlLineOverlapError(bad.reset_index(drop=True), tolerance_m2)
    return summary


def resolve_overlaps(lines: Mapping[str, gpd.GeoDataFrame], order: Sequence[str],
                     min_piece_m2: float = 0.0) -> tuple[dict[str, gpd.GeoDataFrame], pd.DataFrame]:
    """Give contested land to the line that comes first in ``order``.

    Each feature of a line loses what any line earlier in ``order`` covers; features that keep no
    polygon larger than ``min_piece_m2`` are dropped. Attributes are kept; the same function makes the
    pieces of one line's components disjoint (``lines`` = component → polygons).

    Args:
        lines: line code → polygons (one projected CRS).
        order: every key of ``lines`` once, highest precedence first — e.g. ``["STBHHX", "YJJBNT",
            "CZKFBJ"]`` after the 2019 指导意见 (config ``control_lines.precedence``).
        min_piece_m2: smallest remaining piece kept (slivers of the difference).

    Returns:
        ``(resolved, removed)``: the lines without overlaps, and a table ``line, removed_by, area_m2``
        of the area each line lost to each earlier line (pairs with no loss are listed with 0).

    Raises:
        ValueError: ``order`` is not a permutation of the keys of ``lines``.
    """
    if sorted(order) != sorted(lines) or len(set(order)) != len(order):
        raise ValueError(f"precedence order {list(order)} must list every line once: {sorted(lines)}")
    _check_crs(lines)
    resolved: dict[str, gpd.GeoDataFrame] = {}
    removed_rows = []
    for i, name in enumerate(order):
        gdf = lines[name]
        if gdf is None or not len(gdf):
            resolved[name] = gdf
            removed_rows += [{"line": name, "removed_by": h, "area_m2": 0.0} for h in order[:i]]
            continue
        geoms = shapely.make_valid(gdf.geometry.to_numpy())
        before = shapely.union_all(geoms)
        higher = [h for h in order[:i]]
        for h in higher:
            hu = union_of(resolved[h]) if resolved[h] is not None else shapely.Polygon()
            removed_rows.append({"line": name, "removed_by": h, "area_m2": float(shapely.intersection(before, hu).area)})
            before = shapely.difference(before, hu)
        block = shapely.union_all([union_of(resolved[h]) for h in higher if resolved[h] is not None]) if higher else shapely.Polygon()
        out = [polygonal(shapely.difference(g, block)) if not block.is_empty else polygonal(g) for g in geoms]
        keep = np.array([g is not None and g.area > min_piece_m2 for g in out])
        res = gdf.loc[keep].copy()
        res = gpd.GeoDataFrame(res.drop(columns=gdf.geometry.name), geometry=[g for g, k in zip(out, keep, strict=True) if k],
                               crs=gdf.crs)
        resolved[name] = res
    return resolved, pd.DataFrame(removed_rows, columns=["line", "removed_by", "area_m2"])


# ── 永久基本农田 candidates ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class FarmlandParams:
    """Rule that turns 三调 耕地 into 永久基本农田 candidates (config ``yjjbnt``).

    Attributes:
        eligible_dlbm: 三调 codes of cultivated land (0101 水田, 0102 水浇地, 0103 旱地; spec §3.1).
        grade_field: field of 01-40 that grades quality (``LYD`` 国家利用等, GB/T 28407-2012, 1 best … 15 worst).
        max_grade: worst grade still taken (grade ≤ max_grade).
        missing_grade: ``"include"`` or ``"exclude"`` cultivated land 01-40 does not grade.
        min_patch_m2: smallest candidate patch kept.
        max_slope_deg: cultivated land steeper than this is left out (坡度 > 25° 退耕), or None.
    """

    eligible_dlbm: tuple[str, ...]
    grade_field: str
    max_grade: int
    missing_grade: str
    min_patch_m2: float
    max_slope_deg: float | None = None


def cropland_quality(cropland: gpd.GeoDataFrame, quality: gpd.GeoDataFrame, grade_field: str) -> gpd.GeoDataFrame:
    """Cut 三调 耕地 parcels by the quality polygons (01-40) so every piece carries one grade.

    Args:
        cropland: 三调 耕地 parcels (columns kept; projected CRS).
        quality: 耕地质量等别 polygons with ``grade_field`` (same CRS).
        grade_field: e.g. ``"LYD"``.

    Returns:
        The pieces with every ``cropland`` column plus ``grade`` (float, NaN where 01-40 has no
        polygon) and ``parcel_index`` (row label of the parcel). Overlapping parcels or grade polygons
        are made disjoint first (:func:`make_disjoint`; the better grade — lower number, GB/T 28407 —
        wins), so the pieces never overlap.

    Raises:
        ValueError: ``grade_field`` is not a column of ``quality``, or the CRS differ.
    """
    if grade_field not in quality.columns:
        raise ValueError(f"耕地质量等别 (01-40) has no field {grade_field!r} (fields: {sorted(map(str, quality.columns))})")
    if len(cropland) and len(quality) and cropland.crs != quality.crs:
        raise ValueError(f"cropland ({cropland.crs}) and 01-40 ({quality.crs}) are in different CRS")
    base = make_disjoint(cropland.assign(parcel_index=cropland.index).reset_index(drop=True))
    if not len(base):
        return gpd.GeoDataFrame(base.assign(grade=pd.Series(dtype=float)), geometry=base.geometry.name, crs=cropland.crs)
    q = quality[[grade_field, quality.geometry.name]].rename(columns={grade_field: "grade"})
    q = gpd.GeoDataFrame(q.assign(grade=pd.to_numeric(q["grade"], errors="coerce")), geometry=quality.geometry.name, crs=quality.crs)
    q = make_disjoint(q.sort_values("grade", kind="stable", na_position="last"))  # overlapping grades: the best one wins
    graded = gpd.overlay(base, q, how="intersection", keep_geom_type=True) if len(q) else base.iloc[0:0].assign(grade=np.nan)
    covered = union_of(q)
    rest = base.copy()
    rest[rest.geometry.name] = [polygonal(shapely.difference(g, covered)) for g in shapely.make_valid(base.geometry.to_numpy())]
    rest = rest[rest.geometry.notna()]
    rest = rest[rest.geometry.area > 0].assign(grade=np.nan)
    out = pd.concat([graded, rest], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=base.geometry.name, crs=cropland.crs)


def farmland_rule(pieces: pd.DataFrame, params: FarmlandParams, slope_deg: Sequence[float] | None = None) -> pd.Series:
    """Why each graded piece is (not) a 永久基本农田 candidate: ``""`` = candidate, else the reason.

    Rules in order: DLBM not cultivated → ``"非耕地"``; slope > ``max_slope_deg`` → ``"坡度"``;
    grade missing and ``missing_grade == "exclude"`` → ``"无等别"``; grade > ``max_grade`` → ``"等别"``;
    area < ``min_patch_m2`` → ``"面积"``.

    Args:
        pieces: :func:`cropland_quality` output (``DLBM``, ``grade``, geometry area in m²).
        slope_deg: slope of each piece (e.g. T02's slope at its representative point), or None.

    Raises:
        ValueError: ``missing_grade`` is not include/exclude, or ``slope_deg`` has the wrong length.
    """
    if params.missing_grade not in ("include", "exclude"):
        raise ValueError(f"yjjbnt.missing_grade must be include or exclude, got {params.missing_grade!r}")
    n = len(pieces)
    reason = pd.Series([""] * n, index=pieces.index, dtype=object)
    dlbm = pieces["DLBM"].astype(str)
    grade = pd.to_numeric(pieces["grade"], errors="coerce")
    area = pieces.geometry.area if isinstance(pieces, gpd.GeoDataFrame) else pieces["area_m2"]
    if slope_deg is not None and len(slope_deg) != n:
        raise ValueError(f"slope_deg has {len(slope_deg)} values for {n} pieces")
    checks = [
        ("非耕地", ~dlbm.isin([str(c) for c in params.eligible_dlbm])),
        ("坡度", pd.Series(np.asarray(slope_deg, float) > params.max_slope_deg, index=pieces.index)
         if (slope_deg is not None and params.max_slope_deg is not None) else pd.Series(False, index=pieces.index)),
        ("无等别", grade.isna() & (params.missing_grade == "exclude")),
        ("等别", grade.notna() & (grade > params.max_grade)),
        ("面积", area < params.min_patch_m2),
    ]
    for label, hit in checks:
        reason[(reason == "") & hit.fillna(False).to_numpy()] = label
    return reason


# ── 规划分区 and spaces ──────────────────────────────────────────────────────────────────────────


def apply_zone_rules(layers: Mapping[str, NDArray], rules: Sequence[Mapping], default_code: int,
                     mask: NDArray[np.bool_] | None = None) -> NDArray[np.uint8]:
    """Planning-zone codes of the cells outside the control lines: the **first** rule whose every
    condition holds sets the code; cells no rule matches get ``default_code`` (config ``zones.rules``).

    Args:
        layers: name → integer raster of one shape (e.g. ``eco_importance`` 1 极重要 2 重要 3 一般,
            ``pastoral`` 1 牧业生产 2 牧业生态, 0/1 land-use masks such as ``cropland``).
        rules: ``{"code": int, "conditions": {layer: [accepted values]}}`` in priority order.
        default_code: code of unmatched cells.
        mask: cells to assign (others 0), or None for all.

    Raises:
        KeyError: a condition names an unknown layer. ValueError: a rule without conditions or a
        code outside 1…255.
    """
    shape = next(iter(layers.values())).shape
    out = np.zeros(shape, dtype=np.uint8)
    todo = np.ones(shape, bool) if mask is None else mask.astype(bool).copy()
    for rule in rules:
        code, conds = int(rule["code"]), rule.get("conditions") or {}
        if not conds:
            raise ValueError(f"zone rule for code {code} has no condition")
        if not 1 <= code <= 255:
            raise ValueError(f"zone code {code} must lie in 1…255")
        hit = todo.copy()
        for name, accepted in conds.items():
            if name not in layers:
                raise KeyError(f"zone rule for code {code} names unknown layer {name!r} (layers: {sorted(layers)})")
            hit &= np.isin(np.asarray(layers[name]), list(accepted))
        out[hit] = code
        todo &= ~hit
    if not 1 <= int(default_code) <= 255:
        raise ValueError(f"default zone code {default_code} must lie in 1…255")
    out[todo] = int(default_code)
    return out
