"""多规合一 — overlay of the current plans with each other and with present land use (pure functions).

Evaluation spec §5.8 (多规合一 conflict analysis): current land use (三调) and the legacy plans
(土地利用总体规划 用途区/建设用地管制区, 城市总体规划 用地, 林地保护利用规划, 生态保护红线, 自然保护地 …)
are overlaid and the overlaps are classified by a configured **conflict-rule table**: every rule
names a layer A with a set of classes and a layer B with a set of classes; where they overlap the
ground is a conflict of the rule's type (e.g. planned construction ∩ 基本农田保护区, 三调草地 ∩ 林地规划
林地 = 林草重叠). Areas are planar areas in EPSG:4525 (CGCS2000 3° Gauss–Krüger zone 37, metres), split
by township (乡镇, 9-digit XZQDM).

Inputs are *plan layers*: GeoDataFrames in EPSG:4525 with a ``cls`` column (the class of the layer:
a 三调 DLBM code, a 用途区 name, a GB 50137-2011 用地代码 …) and polygon geometry. Class patterns of a
rule are :mod:`fnmatch` patterns (``"R*"`` matches R, R1, R21; ``"*"`` every class), compared
case-sensitively with the class text.

The composer (:mod:`erenhot.topics.t01_plan_integration`) builds the layers from the deliveries and
reads the rules from config ``t01_plan_integration.yaml`` (``conflicts.rules``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot.evaluation.control_lines import polygonal

ANALYSIS_EPSG = 4525
CONFLICT_COLUMNS = ["conflict_type", "layer_a", "class_a", "layer_b", "class_b", "xzqdm", "area_m2", "severity", "geometry"]

__all__ = ["CONFLICT_COLUMNS", "ConflictRule", "area_in_unit", "classes_matching", "conflict_area_table",
           "conflict_overlay", "disjoint_classes", "implementation_review", "indicator_gap"]


@dataclass(frozen=True)
class ConflictRule:
    """One row of the conflict-rule table (config ``conflicts.rules``).

    Attributes:
        conflict_type: the name of the conflict type, e.g. ``"规划建设用地占用基本农田"``.
        layer_a, layer_b: names of the plan layers (keys of the ``layers`` mapping).
        classes_a, classes_b: fnmatch patterns of the classes of each layer that take part, in
            priority order (a piece covered by two classes of the same layer is given to the first).
        severity: ``严重`` / ``较重`` / ``一般`` (or any label the configuration uses).
        source: the guideline clause or standard the rule rests on.
    """

    conflict_type: str
    layer_a: str
    classes_a: tuple[str, ...]
    layer_b: str
    classes_b: tuple[str, ...]
    severity: str
    source: str = ""

    @classmethod
    def from_mapping(cls, m: Mapping[str, object]) -> ConflictRule:
        """Build a rule from a configuration mapping (keys as the attributes; lists become tuples).

        Raises:
            ValueError: a key is missing or a class list is empty (names the rule).
        """
        need = ("conflict_type", "layer_a", "classes_a", "layer_b", "classes_b", "severity")
        missing = [k for k in need if k not in m]
        if missing:
            raise ValueError(f"conflict rule {m.get('conflict_type', m)!r}: missing key(s) {missing}")
        ca, cb = tuple(str(c) for c in m["classes_a"]), tuple(str(c) for c in m["classes_b"])  # type: ignore[union-attr]
        if not ca or not cb:
            raise ValueError(f"conflict rule {m['conflict_type']!r}: classes_a and classes_b must not be empty")
        return cls(str(m["conflict_type"]), str(m["layer_a"]), ca, str(m["layer_b"]), cb, str(m["severity"]),
                   str(m.get("source", "")))


def _check_layer(name: str, gdf: gpd.GeoDataFrame) -> None:
    if "cls" not in gdf.columns:
        raise ValueError(f"plan layer {name!r} has no 'cls' column")
    if gdf.crs is None or gdf.crs.to_epsg() != ANALYSIS_EPSG:
        raise ValueError(f"plan layer {name!r} must be in EPSG:{ANALYSIS_EPSG}, got {gdf.crs}")


def classes_matching(values: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The distinct ``values`` matched by ``patterns``, ordered by the first pattern each matches
    (then by value), so that the pattern order of a rule is the priority order."""
    order: dict[str, tuple[int, str]] = {}
    for v in {str(x) for x in values}:
        for i, p in enumerate(patterns):
            if fnmatchcase(v, p):
                order[v] = (i, v)
                break
    return sorted(order, key=lambda v: order[v])


def disjoint_classes(gdf: gpd.GeoDataFrame, patterns: Sequence[str]) -> gpd.GeoDataFrame:
    """The features of a plan layer whose ``cls`` matches ``patterns``, dissolved per class and made
    disjoint (a piece covered by several classes goes to the first in pattern order), so that areas
    are never counted twice when a delivery has overlapping features (e.g. 01-46b).

    Returns:
        GeoDataFrame ``cls, geometry`` (one row per class present; empty classes dropped), same CRS.
    """
    classes = classes_matching(gdf["cls"].astype(str).tolist(), patterns)
    rows, geoms, taken = [], [], None
    for c in classes:
        g = shapely.union_all(shapely.make_valid(gdf.geometry[gdf["cls"].astype(str) == c].to_numpy()))
        if taken is not None:
            g = g.difference(taken)
        taken = g if taken is None else taken.union(g)
        g = polygonal(g)
        if g is not None:
            rows.append(c)
            geoms.append(g)
    return gpd.GeoDataFrame({"cls": rows}, geometry=geoms, crs=gdf.crs)


def conflict_overlay(layers: Mapping[str, gpd.GeoDataFrame], rules: Sequence[ConflictRule],
                     zones: gpd.GeoDataFrame, *, min_area_m2: float = 0.0) -> gpd.GeoDataFrame:
    """Pairwise overlay of plan layers by the conflict-rule table, split by township.

    For each rule: the A classes and the B classes are dissolved and made disjoint
    (:func:`disjoint_classes`), intersected (``geopandas.overlay``, ``how="intersection"``) and the
    result intersected with the township polygons. Rules whose layer is absent from ``layers`` are
    skipped (the caller reports them). Pieces smaller than ``min_area_m2`` (overlay slivers from
    differently digitised boundaries) are dropped.

    Args:
        layers: layer name → GeoDataFrame with ``cls`` and polygons, EPSG:4525.
        rules: the conflict rules.
        zones: township polygons with ``XZQDM`` (EPSG:4525); ground outside every township is dropped.
        min_area_m2: sliver threshold (config ``conflicts.min_area_m2``).

    Returns:
        GeoDataFrame with the columns of ``CONFLICT_COLUMNS`` (``area_m2`` planar m²), one row per
        rule × class pair × township, EPSG:4525; empty (with those columns) when nothing overlaps.

    Raises:
        ValueError: a layer lacks ``cls`` or is not in EPSG:4525; ``zones`` lacks ``XZQDM``.
    """
    if "XZQDM" not in zones.columns:
        raise ValueError("zones must have an XZQDM column (township code)")
    for name, gdf in layers.items():
        _check_layer(name, gdf)
    tw = zones[["XZQDM", "geometry"]].copy()
    tw["XZQDM"] = tw["XZQDM"].astype(str)
    frames = []
    for rule in rules:
        if rule.layer_a not in layers or rule.layer_b not in layers:
            continue
        a = disjoint_classes(layers[rule.layer_a], rule.classes_a).rename(columns={"cls": "class_a"})
        b = disjoint_classes(layers[rule.layer_b], rule.classes_b).rename(columns={"cls": "class_b"})
        if a.empty or b.empty:
            continue
        ab = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
        if ab.empty:
            continue
        pieces = gpd.overlay(ab, tw, how="intersection", keep_geom_type=True)
        if pieces.empty:
            continue
        pieces = pieces.dissolve(by=["class_a", "class_b", "XZQDM"], as_index=False)
        pieces["area_m2"] = pieces.geometry.area
        pieces = pieces[pieces["area_m2"] > min_area_m2]
        frames.append(pd.DataFrame({
            "conflict_type": rule.conflict_type, "layer_a": rule.layer_a, "class_a": pieces["class_a"].astype(str),
            "layer_b": rule.layer_b, "class_b": pieces["class_b"].astype(str), "xzqdm": pieces["XZQDM"].astype(str),
            "area_m2": pieces["area_m2"].astype(float), "severity": rule.severity, "geometry": pieces.geometry.values}))
    if not frames:
        return gpd.GeoDataFrame({c: pd.Series(dtype="float64" if c == "area_m2" else "object")
                                 for c in CONFLICT_COLUMNS if c != "geometry"}, geometry=[], crs=f"EPSG:{ANALYSIS_EPSG}")
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=f"EPSG:{ANALYSIS_EPSG}")[CONFLICT_COLUMNS]


def conflict_area_table(conflicts: gpd.GeoDataFrame, townships: Mapping[str, str], types: Sequence[tuple[str, str]],
                        whole_city: str = "全市") -> pd.DataFrame:
    """Conflict area by township × conflict type in hm² (1 hm² = 10,000 m²).

    Args:
        conflicts: the result of :func:`conflict_overlay`.
        townships: XZQDM → XZQMC, every township to list (zeros where no conflict).
        types: ``(conflict_type, severity)`` of every rule, in table order (zeros where none).
        whole_city: the label of the whole-city rows (xzqdm ``""``).

    Returns:
        ``xzqdm, xzqmc, conflict_type, severity, patches, area_hm2`` — one row per township and
        type, then the whole-city row of each type (sum of the townships).
    """
    rows = []
    for code, name in list(townships.items()) + [("", whole_city)]:
        for ctype, sev in types:
            sel = conflicts[(conflicts["conflict_type"] == ctype) & ((conflicts["xzqdm"] == code) if code else True)]
            patches = int(sum(len(shapely.get_parts(g)) for g in sel.geometry)) if len(sel) else 0
            rows.append({"xzqdm": code, "xzqmc": name, "conflict_type": ctype, "severity": sev, "patches": patches,
                         "area_hm2": float(sel["area_m2"].sum()) / 1e4})
    return pd.DataFrame(rows)


def implementation_review(actual: gpd.GeoDataFrame, planned: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                          townships: Mapping[str, str], whole_city: str = "全市") -> pd.DataFrame:
    """Planned against actual construction land, per township (规划实施评估).

    ``planned`` is the zone a plan set aside for construction (e.g. 土地利用总体规划 城镇村建设用地区 /
    独立工矿区 / 允许建设区), ``actual`` the present construction land (三调 建设用地). Both are
    dissolved first, so overlapping features count once.

    Returns:
        ``xzqdm, xzqmc, planned_ha, actual_ha, actual_inside_ha, actual_outside_ha, planned_unbuilt_ha,
        implementation_rate, conformity_rate`` with 实施率 ``implementation_rate = actual_inside /
        planned`` (share of the planned zone that is built) and 规划符合率 ``conformity_rate =
        actual_inside / actual`` (share of the construction that lies inside the planned zone); NaN
        when the denominator is 0. One row per township, then the whole city. Areas hm².

    Raises:
        ValueError: an input is not in EPSG:4525 or ``zones`` lacks ``XZQDM``.
    """
    for name, g in (("actual", actual), ("planned", planned), ("zones", zones)):
        if g.crs is None or g.crs.to_epsg() != ANALYSIS_EPSG:
            raise ValueError(f"implementation_review: {name} must be in EPSG:{ANALYSIS_EPSG}, got {g.crs}")
    if "XZQDM" not in zones.columns:
        raise ValueError("zones must have an XZQDM column (township code)")
    act = shapely.union_all(shapely.make_valid(actual.geometry.to_numpy())) if len(actual) else shapely.Polygon()
    plan = shapely.union_all(shapely.make_valid(planned.geometry.to_numpy())) if len(planned) else shapely.Polygon()
    inside = act.intersection(plan)
    rows = []
    geoms = {str(r.XZQDM): r.geometry for r in zones.itertuples()}
    for code, name in list(townships.items()) + [("", whole_city)]:
        tw = shapely.union_all(list(geoms.values())) if not code else geoms.get(code, shapely.Polygon())
        p = plan.intersection(tw).area / 1e4
        a = act.intersection(tw).area / 1e4
        i = inside.intersection(tw).area / 1e4
        rows.append({"xzqdm": code, "xzqmc": name, "planned_ha": p, "actual_ha": a, "actual_inside_ha": i,
                     "actual_outside_ha": a - i, "planned_unbuilt_ha": p - i,
                     "implementation_rate": i / p if p > 0 else np.nan, "conformity_rate": i / a if a > 0 else np.nan})
    return pd.DataFrame(rows)


#: hectares per unit of the area units indicator tables use
AREA_UNITS_HA = {"hm²": 1.0, "hm2": 1.0, "公顷": 1.0, "ha": 1.0, "km²": 100.0, "km2": 100.0, "平方公里": 100.0,
                 "万亩": 10000.0 / 15.0, "亩": 1.0 / 15.0, "m²": 1e-4, "平方米": 1e-4}


def area_in_unit(area_m2: float, unit: str) -> float:
    """An area in m² expressed in ``unit`` (hm²/公顷/ha, km²/平方公里, 万亩, 亩, m²; 1 亩 = 1/15 hm²).

    Raises:
        ValueError: unknown unit.
    """
    u = str(unit).strip()
    if u not in AREA_UNITS_HA:
        raise ValueError(f"unknown area unit {unit!r} (known: {sorted(AREA_UNITS_HA)})")
    return area_m2 / 1e4 / AREA_UNITS_HA[u]


def indicator_gap(present: float, target: float, direction: str) -> tuple[float, str]:
    """Gap ``present − target`` and its status for one indicator.

    Args:
        direction: ``min`` (the target is a floor, e.g. 耕地保有量: met when present ≥ target), ``max``
            (a ceiling, e.g. 建设用地总规模: met when present ≤ target) or ``none`` (expected value only).

    Returns:
        ``(gap, status)`` with status ``达标`` / ``未达标`` / ``—`` (direction none) / ``无现状值``
        (present or target is NaN).

    Raises:
        ValueError: unknown direction.
    """
    if direction not in ("min", "max", "none"):
        raise ValueError(f"indicator direction must be min, max or none, got {direction!r}")
    if present is None or target is None or not np.isfinite(present) or not np.isfinite(target):
        return float("nan"), "无现状值"
    gap = float(present) - float(target)
    if direction == "none":
        return gap, "—"
    ok = gap >= 0 if direction == "min" else gap <= 0
    return gap, "达标" if ok else "未达标"
