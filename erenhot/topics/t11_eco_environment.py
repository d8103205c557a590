"""T11 二连浩特市生态环境保护研究 — ecological and environmental protection of Erenhot.

Reads T02's *published* 生态保护重要性 (and, when published, 土地沙化脆弱性) and the deliveries of the
生态环境分局 and the 自然资源局; never recomputes T02. Evaluation spec §5.3 (security pattern), §1.4
(importance), §4.4 (三区三线), §0.1 (Erenhot), and the 三线一单 environmental control units.

Outputs (catalog ``topics.yaml`` t11; all vectors GeoParquet in EPSG:4525):

* ``t11.ecological_security_pattern`` — **one** GeoParquet holding the whole pattern, told apart by
  the column ``kind``:

  ====================  ==========  ==================================================================
  ``kind``              geometry    columns filled
  ====================  ==========  ==================================================================
  ``source``            Polygon     ``feature_id`` (= source id 1…n), ``area_km2``, ``has_protected``
  ``corridor``          LineString  ``feature_id`` (= corridor id), ``source_a``, ``source_b``,
                                    ``cost`` (resistance·m), ``length_m``
  ``node``              Point       ``feature_id`` (= node id), ``node_kind`` (ridge | junction |
                                    barrier, :data:`erenhot.evaluation.corridors.NODE_KINDS`),
                                    ``corridor_ids`` ("1,3"), ``mcr`` (resistance·m)
  ====================  ==========  ==================================================================

  plus ``label`` (Chinese name of the feature type) on every row. Downstream topics (T07, T04,
  T08) select with ``gdf[gdf.kind == "corridor"]`` etc. Sources = 生态保护极重要 patches ≥
  ``sources.min_area_km2`` joined with the protected areas (01-07, 01-47); resistance = 三调 land
  cover + distance to built-up land, roads and mines (spec §5.3 [S29]); corridors = least-cost
  paths of the source MST; nodes = MCR ridges, corridor junctions and barriers. Computed on a grid
  of ``pattern.cell_size_m`` (or T02's grid when coarser).
* ``t11.eco_control_zones`` — 环境管控单元 (三线一单): ``unit_code`` (ZH + 152501 + type + seq),
  ``unit_type`` 1 优先保护 / 2 重点管控 / 3 一般管控, ``unit_name``, ``XZQDM``, ``XZQMC``,
  ``area_km2``, ``basis``; 优先保护 = red line ∪ protected areas ∪ control zones ∪ 极重要,
  重点管控 = towns, industry, mining and polluted soil, 一般管控 = the rest (``control_zones``).
* ``t11.eco_function_zones`` — the delivered 生态功能区划 (03-02) graded 保护 / 修复 / 维护 from the
  shares of 极重要, red line and 极脆弱 land in each zone.
* ``t11.environment_zones`` — ``theme`` 土壤污染 (Thiessen zones of the 03-06 samples graded by the
  Nemerow index, HJ/T 166-2004) and 水生态 (salt lakes and flats of the 三调 with a belt). 水环境
  zones need 04-10 (水功能区划), which has no delivery contract yet: not produced, said in the report.
* ``t11.report`` — with the environment-quality summaries of 03-04 and the cross-check of the
  key figures of the 环境质量报告书 (03-05).
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features
from scipy import ndimage

from erenhot.catalog import Catalog
from erenhot.evaluation import corridors as corr
from erenhot.grid import Grid, boundary_mask, rasterize, rasterize_codes, read_raster, warp_to_grid
from erenhot.landing import load_delivery
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import (
    LayerWriter,
    Progress,
    area_table,
    begin,
    finish,
    int_keys,
    no_progress,
    records,
    township_zones,
    whole_city,
)
from erenhot.topics.inputs import TopicInputs

CODE = "t11"
CONFIG = "t11_eco_environment"
CITY_CODE = "152501"
SOIL_PART = "土壤污染状况调查点位"
METALS = ("cd", "hg", "as", "pb", "cr", "cu", "ni", "zn")
PATTERN_LABELS = {"source": "生态源地", "corridor": "生态廊道", "node": "生态战略节点"}
CONTROL_COLOURS = {1: "#2e8b57", 2: "#d7301f", 3: "#fdd49e"}
SOIL_COLOURS = {1: "#1a9850", 2: "#a6d96a", 3: "#fee08b", 4: "#f46d43", 5: "#a50026", 6: "#4575b4"}
PATTERN_COLOURS = {1: "#1b7837", 2: "#d9f0d3", 3: "#fee391", 4: "#fdae6b", 5: "#2166ac", 6: "#b2182b"}
LEVEL_COLOURS = {1: "#1b7837", 2: "#e08214", 3: "#80cdc1"}


# ------------------------------------------------------------------------------------------- helpers

def _union_mask(gdfs: list[gpd.GeoDataFrame], grid: Grid) -> np.ndarray:
    out = np.zeros(grid.shape, dtype=bool)
    for g in gdfs:
        if g is not None and len(g):
            out |= rasterize(g, grid, value=1, dtype="uint8").astype(bool)
    return out


def _dlbm_codes(dltb: gpd.GeoDataFrame, grid: Grid, inside: np.ndarray) -> np.ndarray:
    """三调 DLBM strings on ``grid`` (object array); cells inside the city that no parcel centre
    covers take the code of the nearest coded cell (slivers at the boundary of coarse cells)."""
    codes = sorted(dltb["DLBM"].astype(str).unique())
    mapping = {c: i + 1 for i, c in enumerate(codes)}
    lu = rasterize_codes(dltb, "DLBM", grid, mapping)
    if (lu > 0).any():
        _, (ri, ci) = ndimage.distance_transform_edt(lu == 0, return_indices=True)
        lu = np.where(inside & (lu == 0), lu[ri, ci], lu)
    return np.array([None, *codes], dtype=object)[np.where(inside, lu, 0)]


def _prefix_mask(codes: np.ndarray, prefixes: list[str]) -> np.ndarray:
    out = np.zeros(codes.shape, dtype=bool)
    present = codes != None  # noqa: E711 - element-wise on an object array
    for p in prefixes:
        out |= present & np.char.startswith(np.where(present, codes, "").astype(str), str(p))
    return out


def _polygons(code: np.ndarray, grid: Grid, name: str = "code") -> gpd.GeoDataFrame:
    """Polygons of the non-zero values of an integer raster (dissolved per value)."""
    shapes = [(shapely.geometry.shape(g), int(v)) for g, v in
              rio_features.shapes(code.astype("int32"), mask=code > 0, transform=grid.transform)]
    gdf = gpd.GeoDataFrame({name: [v for _, v in shapes]}, geometry=[g for g, _ in shapes], crs=f"EPSG:{grid.crs_epsg}")
    return gdf.dissolve(by=name, as_index=False) if len(gdf) else gdf


def _grade(values: np.ndarray, breaks: list[float]) -> np.ndarray:
    """1-based class by ascending breaks; a value on a break takes the lower (cleaner) class."""
    return (np.digitize(np.asarray(values, dtype=float), np.asarray(breaks, dtype=float), right=True) + 1).astype(int)


# ------------------------------------------------------------------------------------------- soil

def nemerow(samples: pd.DataFrame, screening: dict[str, float]) -> pd.DataFrame:
    """Single-factor indices ``P_i = C_i / S_i`` and the Nemerow index
    ``P_N = √((P_max² + P_mean²) / 2)`` (HJ/T 166-2004) per sample.

    Args:
        samples: one row per sample with a column per metal of ``screening`` (mg/kg).
        screening: metal → risk screening value, mg/kg (GB 15618-2018, config ``soil``).

    Returns:
        ``samples`` plus ``p_<metal>``, ``p_max``, ``p_mean``, ``nemerow`` and ``main_factor`` (the
        metal of ``p_max``).

    Raises:
        KeyError: a metal column is missing.
    """
    out = samples.copy()
    cols = []
    for m, s in screening.items():
        out[f"p_{m}"] = pd.to_numeric(out[m]).astype(float) / float(s)
        cols.append(f"p_{m}")
    p = out[cols].to_numpy(dtype=float)
    out["p_max"] = p.max(axis=1)
    out["p_mean"] = p.mean(axis=1)
    out["nemerow"] = np.sqrt((out["p_max"] ** 2 + out["p_mean"] ** 2) / 2.0)
    out["main_factor"] = [list(screening)[i] for i in p.argmax(axis=1)]
    return out


def soil_zones(points: gpd.GeoDataFrame, city: shapely.Geometry, max_radius_m: float) -> gpd.GeoSeries:
    """Thiessen polygon of each sample, clipped to the city and to ``max_radius_m`` around it
    (one geometry per row of ``points``, same order, EPSG of ``points``)."""
    pts = shapely.multipoints(points.geometry.values)
    cells = shapely.voronoi_polygons(pts, extend_to=city.envelope.buffer(10_000.0))
    cell_list = list(cells.geoms)
    tree = shapely.STRtree(cell_list)
    out = []
    for p in points.geometry.values:
        hit = [cell_list[i] for i in tree.query(p, predicate="intersects")]
        cell = hit[0] if hit else p.buffer(max_radius_m)
        out.append(cell.intersection(p.buffer(max_radius_m)).intersection(city))
    return gpd.GeoSeries(out, crs=points.crs)


# ------------------------------------------------------------------------------------------- environment quality

def air_summary(table: pd.DataFrame, limits: dict[str, float]) -> pd.DataFrame:
    """City air quality per year: the mean over the air stations of each indicator; pollutant
    concentrations get ``limit`` (GB 3095-2012 二级, config) and ``ratio`` = value / limit."""
    air = table[table["category"] == "空气质量"]
    g = air.groupby(["year", "indicator", "unit"], as_index=False)["value"].mean()
    g["limit"] = g["indicator"].map(lambda i: limits.get(i))
    g["ratio"] = g["value"] / g["limit"]
    g["达标"] = np.where(g["limit"].notna(), np.where(g["ratio"] <= 1.0, "是", "否"), "")
    return g.sort_values(["indicator", "year"]).reset_index(drop=True)


def emission_summary(table: pd.DataFrame) -> pd.DataFrame:
    """City emissions (t/a): first and last year and the change in %."""
    em = table[table["category"].isin(["大气污染物排放", "水污染物排放"])]
    rows = []
    for ind, g in em.groupby("indicator"):
        g = g.sort_values("year")
        first, last = g.iloc[0], g.iloc[-1]
        rows.append({"indicator": ind, "category": first["category"], "unit": first["unit"],
                     "first_year": int(first["year"]), "first": float(first["value"]),
                     "last_year": int(last["year"]), "last": float(last["value"]),
                     "change_pct": 100.0 * (float(last["value"]) / float(first["value"]) - 1.0) if first["value"] else np.nan})
    return pd.DataFrame(rows)


def groundwater_summary(table: pd.DataFrame, limits: dict[str, float]) -> pd.DataFrame:
    """Groundwater quality of the latest year per station against GB/T 14848-2017 Ⅲ类 (config)."""
    gw = table[table["category"] == "地下水水质"]
    if gw.empty:
        return pd.DataFrame(columns=["year", "station_id", "station_name", "indicator", "value", "limit", "ratio", "达标"])
    gw = gw[gw["year"] == gw["year"].max()].copy()
    gw["limit"] = gw["indicator"].map(lambda i: limits.get(i))
    gw["ratio"] = gw["value"] / gw["limit"]
    gw["达标"] = np.where(gw["limit"].isna(), "", np.where(gw["ratio"] <= 1.0, "是", "否"))
    return gw[["year", "station_id", "station_name", "indicator", "value", "limit", "ratio", "达标"]].reset_index(drop=True)


def report_key_figures(docx: bytes) -> pd.DataFrame:
    """Rows of the first table of a 环境质量报告书 DOCX whose header reads 指标 | 数值 | 单位."""
    from docx import Document

    doc = Document(io.BytesIO(docx))
    for t in doc.tables:
        head = [c.text.strip() for c in t.rows[0].cells]
        if head[:2] == ["指标", "数值"]:
            rows = []
            for r in t.rows[1:]:
                cells = [c.text.strip() for c in r.cells]
                rows.append({"指标": cells[0], "报告书数值": pd.to_numeric(cells[1], errors="coerce"),
                             "单位": cells[2] if len(cells) > 2 else ""})
            return pd.DataFrame(rows)
    return pd.DataFrame(columns=["指标", "报告书数值", "单位"])


def monitoring_equivalents(table: pd.DataFrame, gw: pd.DataFrame) -> dict[str, float]:
    """The figures of the monitoring table (latest year) that a 环境质量报告书 quotes."""
    year = int(table["year"].max())
    t = table[table["year"] == year]

    def air(ind: str) -> float:
        v = t[(t["category"] == "空气质量") & (t["indicator"] == ind)]["value"]
        return float(v.mean()) if len(v) else np.nan

    def city(ind: str) -> float:
        v = t[(t["station_id"].astype(str) == "CITY") & (t["indicator"] == ind)]["value"]
        return float(v.iloc[0]) if len(v) else np.nan

    gw_ok = float((gw["达标"] == "是").sum() / max((gw["达标"] != "").sum(), 1) * 100.0) if len(gw) else np.nan
    return {"城区空气质量达标天数比例": air("达标天数比例"), "PM10年均浓度": air("PM10"), "PM2.5年均浓度": air("PM2.5"),
            "SO2年均浓度": air("SO2"), "NO2年均浓度": air("NO2"), "集中式饮用水水源地水质达标率": gw_ok,
            "化学需氧量排放量": city("COD排放量"), "氨氮排放量": city("氨氮排放量")}


def _document_bytes(storage: Storage, inputs: TopicInputs, dataset_id: str, suffix: str) -> tuple[str, bytes] | None:
    entry = inputs.readiness["datasets"][dataset_id]
    delivery = load_delivery(storage, dataset_id, entry["version"])
    for f in delivery.files:
        if f.name.lower().endswith(suffix):
            return f.name, storage.read_bytes(delivery.file_path(f.name))
    return None


# ------------------------------------------------------------------------------------------- the run

def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T11 from T02's published layers and the resolved datasets; publish everything.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []

    progress(0.03, "T02 layers and boundaries")
    eco_bytes = inputs.layer_bytes("t02.eco_importance")
    eco, grid, _ = read_raster(eco_bytes)
    fragile = read_raster(inputs.layer_bytes("t02.desertification_fragility"))[0] \
        if inputs.has_layer("t02.desertification_fragility") else None
    if fragile is None:
        notes.append("t02.desertification_fragility not published: function zones are graded 保护/维护 only (no 修复).")
    city = inputs.vector("01-04", "city")
    city_geom = shapely.union_all(city.to_crs(grid.crs_epsg).geometry.values)
    inside = boundary_mask(city, grid)
    townships = inputs.vector("01-04", "townships")
    zones_idx, zone_names = township_zones(townships, grid, inside)
    writer = LayerWriter(pub, topic, grid, city)

    red = inputs.vector("01-47")
    controls = inputs.vector("01-46b")
    pa = inputs.vector("01-07") if inputs.has("01-07") else None
    if pa is None:
        notes.append("自然保护地 (01-07) not delivered: protected areas come from 01-46b and 01-47 only.")
    dltb = inputs.vector("01-46a.dltb") if inputs.has("01-46a.dltb") else None

    # -------------------------------------------------------------------- 1 security pattern
    progress(0.10, "生态安全格局: sources, resistance, MCR, corridors, nodes")
    pcell = max(float(v["pattern"]["cell_size_m"]), grid.cell_size_m)
    pgrid = grid if pcell == grid.cell_size_m else Grid.for_geometry(city, pcell)
    pinside = boundary_mask(city, pgrid)
    eco_p = eco if pgrid is grid else warp_to_grid(eco_bytes, pgrid, "mode", dst_nodata=0).astype(np.uint8)
    eco_p = np.where(pinside, eco_p, 0).astype(np.uint8)
    by_id = {"01-07": pa, "01-47": red}
    protected_p = _union_mask([by_id.get(i) for i in v["sources"]["protected_inputs"]], pgrid) & pinside
    src_params = cfg.params(corr.SourceParams, "sources")
    share_ex = float((np.isin(eco_p, src_params.importance_grades) & pinside).sum() / max(pinside.sum(), 1))
    if share_ex > float(v["sources"]["max_importance_share"]):
        src_params = dataclasses.replace(src_params, importance_grades=())
        notes.append(f"生态保护极重要区 covers {share_ex:.0%} of the city (> sources.max_importance_share "
                     f"{v['sources']['max_importance_share']:.0%}): it does not single out sources, so the sources are the "
                     f"protected areas and the red line ({', '.join(v['sources']['protected_inputs'])}) alone.")
    labels, src_table = corr.ecological_sources(eco_p, pgrid, src_params, protected_p, pinside)
    if dltb is None:
        raise LookupError("t11 needs the 三调 parcels 01-46a.dltb for the resistance surface")
    codes_p = _dlbm_codes(dltb, pgrid, pinside)
    res_params = cfg.params(corr.ResistanceParams, "resistance")
    disturb = _prefix_mask(codes_p, list(v["resistance"]["disturbance_dlbm_codes"]))
    resistance = corr.resistance_surface(codes_p, res_params, pcell, disturb, pinside)
    base = corr.base_resistance(codes_p, res_params.dlbm_classes, res_params.class_resistance,
                                res_params.assumed_class_resistance, pinside)
    n_src = len(src_table)
    corridor_list: list[corr.Corridor] = []
    mcr = np.full(pgrid.shape, np.inf)
    nodes = gpd.GeoDataFrame({"node_id": [], "kind": [], "corridor_ids": [], "mcr": []}, geometry=[], crs=f"EPSG:{pgrid.crs_epsg}")
    if n_src == 0:
        notes.append("no ecological source reaches the size threshold: no corridors or nodes.")
    else:
        mcr = corr.mcr_surface(resistance, labels, pcell)
        if n_src >= 2:
            corridor_list = corr.least_cost_corridors(resistance, labels, pcell, cfg.params(corr.CorridorParams, "corridors"))
            nodes = corr.strategic_nodes(corridor_list, mcr, labels, pgrid, base, float(v["nodes"]["barrier_min_resistance"]))
    lines = corr.corridor_lines(corridor_list, pgrid)
    src_polys = _polygons(labels, pgrid, "feature_id").merge(
        src_table.rename(columns={"source_id": "feature_id"})[["feature_id", "area_km2", "has_protected"]], on="feature_id")
    node_labels = v["labels"]["node_kinds"]
    pattern = pd.concat([
        src_polys.assign(kind="source", label=PATTERN_LABELS["source"]),
        lines.rename(columns={"corridor_id": "feature_id"}).assign(kind="corridor", label=PATTERN_LABELS["corridor"]),
        nodes.rename(columns={"node_id": "feature_id", "kind": "node_kind"})[["feature_id", "node_kind", "corridor_ids", "mcr", "geometry"]]
        .assign(kind="node", label=[node_labels.get(k, PATTERN_LABELS["node"]) for k in nodes["kind"]]),
    ], ignore_index=True)
    cols = ["kind", "feature_id", "label", "area_km2", "has_protected", "source_a", "source_b", "cost", "length_m",
            "node_kind", "corridor_ids", "mcr", "geometry"]
    pattern = gpd.GeoDataFrame(pattern.reindex(columns=cols), geometry="geometry", crs=f"EPSG:{pgrid.crs_epsg}")
    pattern["feature_id"] = pattern["feature_id"].astype("int64")
    pattern["has_protected"] = pattern["has_protected"].astype("boolean")
    for c in ("node_kind", "corridor_ids"):
        pattern[c] = pattern[c].astype("string")

    # MCR zones (report table, map background)
    finite = np.isfinite(mcr) & pinside & (labels == 0)
    mcr_zone = np.zeros(pgrid.shape, dtype=np.uint8)
    mcr_zone[labels > 0] = 1
    if finite.any():
        qb = np.quantile(mcr[finite], v["pattern"]["mcr_zone_breaks_quantiles"])
        mcr_zone[finite] = (np.digitize(mcr[finite], qb, right=True) + 2).astype(np.uint8)
    pattern_map = mcr_zone.copy()
    width = float(v["corridors"]["width_m"])
    if corridor_list:
        pattern_map[corr.corridor_raster(corridor_list, pgrid.shape, pcell, width, labels) > 0] = 5
    for r, c in zip(nodes["row"] if "row" in nodes else [], nodes["col"] if "col" in nodes else [], strict=True):
        pattern_map[int(r), int(c)] = 6
    mcr_labels = int_keys(v["pattern"]["mcr_zone_labels"])
    pattern_labels = {**mcr_labels, 5: "生态廊道", 6: "生态战略节点"}
    mcr_table = pd.DataFrame([{"分区": mcr_labels[k], "面积 km²": float((mcr_zone == k).sum() * pgrid.cell_area_km2)}
                              for k in sorted(mcr_labels)])

    # -------------------------------------------------------------------- 2 soil pollution and water ecology
    progress(0.40, "土壤污染分区 and 水生态分区")
    sv = v["soil"]
    soil_pts = inputs.vector("03-06", SOIL_PART).to_crs(grid.crs_epsg)
    soil_pts.columns = [c.lower() if c != soil_pts.geometry.name else c for c in soil_pts.columns]
    scored = nemerow(pd.DataFrame(soil_pts.drop(columns=soil_pts.geometry.name)), sv["screening_values_mg_kg"])
    scored["grade"] = _grade(scored["nemerow"].to_numpy(), sv["nemerow_breaks"])
    soil_labels = int_keys(sv["grade_labels"])
    scored["grade_label"] = scored["grade"].map(soil_labels)
    soil_geom = soil_zones(soil_pts, city_geom, float(sv["max_radius_m"]))
    soil_gdf = gpd.GeoDataFrame({
        "theme": "土壤污染", "zone": scored["grade_label"].values, "grade": scored["grade"].values.astype("int64"),
        "sample_id": scored["sample_id"].astype(str).values, "nemerow": scored["nemerow"].values,
        "main_factor": scored["main_factor"].values}, geometry=soil_geom.values, crs=f"EPSG:{grid.crs_epsg}")
    soil_gdf = soil_gdf[~soil_gdf.geometry.is_empty].reset_index(drop=True)
    water_codes = dltb[dltb["DLBM"].astype(str).str.startswith(tuple(str(p) for p in v["water_ecology"]["dlbm_prefixes"]))]
    water_geom = shapely.union_all(water_codes.geometry.values).buffer(float(v["water_ecology"]["buffer_m"])).intersection(city_geom) \
        if len(water_codes) else shapely.Polygon()
    water_gdf = gpd.GeoDataFrame({"theme": ["水生态"], "zone": ["水生态保护区（盐湖、滩地及保护带）"], "grade": [0],
                                  "sample_id": [""], "nemerow": [np.nan], "main_factor": [""]},
                                 geometry=[water_geom], crs=f"EPSG:{grid.crs_epsg}")
    env_zones = pd.concat([soil_gdf, water_gdf[~water_gdf.geometry.is_empty]], ignore_index=True)
    env_zones = gpd.GeoDataFrame(env_zones, geometry="geometry", crs=f"EPSG:{grid.crs_epsg}")
    env_zones["area_km2"] = env_zones.geometry.area / 1e6
    notes.append("水环境分区 needs 04-10 水功能区划, which has no delivery contract yet: environment_zones holds the "
                 "土壤污染 and 水生态 themes only.")
    soil_key = soil_gdf[soil_gdf["grade"] >= int(v["control_zones"]["key_soil_min_grade"])]
    soil_table = scored[["sample_id", "land_use", "site_type", "ph", *METALS, "nemerow", "main_factor", "grade_label"]] \
        if "site_type" in scored else scored[["sample_id", "nemerow", "main_factor", "grade_label"]]

    # -------------------------------------------------------------------- 3 control zones (三线一单)
    progress(0.55, "环境管控单元 (优先保护 / 重点管控 / 一般管控)")
    cz = v["control_zones"]
    comp = {"red_line": _union_mask([red], grid), "protected_areas": _union_mask([pa], grid),
            "eco_controls": _union_mask([controls], grid), "eco_importance": np.isin(eco, cz["priority_importance_grades"])}
    priority = np.zeros(grid.shape, dtype=bool)
    for name in cz["priority_components"]:
        priority |= comp[name]
    key = np.zeros(grid.shape, dtype=bool)
    key |= rasterize(dltb[dltb["CZCSXM"].astype(str).isin(cz["key_czcsxm"])], grid, value=1).astype(bool) \
        if dltb["CZCSXM"].astype(str).isin(cz["key_czcsxm"]).any() else key
    key_land = dltb[dltb["DLBM"].astype(str).str.startswith(tuple(cz["key_dlbm_prefixes"]))]
    if len(key_land):
        key |= rasterize(key_land, grid, value=1).astype(bool)
    if len(soil_key):
        key |= rasterize(soil_key, grid, value=1).astype(bool)
    if cz["eco_importance_yields_to_key"] and "eco_importance" in cz["priority_components"]:
        hard = np.zeros(grid.shape, dtype=bool)
        for name in cz["priority_components"]:
            if name != "eco_importance":
                hard |= comp[name]
        priority = hard | (comp["eco_importance"] & ~key)
    masks = {1: priority, 2: key, 3: np.ones(grid.shape, dtype=bool)}
    control = np.zeros(grid.shape, dtype=np.uint8)
    for t in cz["precedence"]:
        control[(control == 0) & masks[int(t)] & inside] = int(t)
    control_labels = int_keys(cz["labels"])
    combo = np.where(control > 0, control.astype(np.int32) * 100 + zones_idx.astype(np.int32), 0)
    units = _polygons(combo, grid, "combo")
    units["unit_type"] = (units["combo"] // 100).astype("int64")
    town = units["combo"] % 100
    units["XZQDM"] = town.map(lambda i: zone_names.get(int(i), " ").split(" ")[0])
    units["XZQMC"] = town.map(lambda i: zone_names.get(int(i), " ").split(" ", 1)[-1])
    units = units.sort_values(["unit_type", "XZQDM"]).reset_index(drop=True)
    units["unit_code"] = [f"{cz['unit_code_prefix']}{CITY_CODE}{t}{i:04d}" for i, t in
                          zip(units.groupby("unit_type").cumcount() + 1, units["unit_type"], strict=True)]
    units["unit_name"] = units["XZQMC"] + units["unit_type"].map(control_labels)
    basis = {1: "+".join({"red_line": "生态保护红线", "protected_areas": "自然保护地", "eco_controls": "生态环境管控区",
                          "eco_importance": "生态保护极重要区"}[c] for c in cz["priority_components"]),
             2: "城镇、工业仓储、采矿盐田、交通场站" + ("、土壤污染风险区" if len(soil_key) else ""), 3: "其余区域"}
    units["basis"] = units["unit_type"].map(basis)
    units["area_km2"] = units.geometry.area / 1e6
    units = gpd.GeoDataFrame(units[["unit_code", "unit_type", "unit_name", "XZQDM", "XZQMC", "area_km2", "basis", "geometry"]],
                             geometry="geometry", crs=f"EPSG:{grid.crs_epsg}")

    # -------------------------------------------------------------------- 4 function zones (03-02) graded
    progress(0.65, "生态功能区划: 保护 / 修复 / 维护")
    fz = inputs.vector("03-02").to_crs(grid.crs_epsg).reset_index(drop=True)
    fz.geometry = fz.geometry.intersection(city_geom)
    fz_idx = rasterize(fz.assign(_i=np.arange(1, len(fz) + 1)), grid, value="_i", dtype="uint8")
    fz_idx = np.where(inside, fz_idx, 0)
    fv = v["function_zones"]
    level_labels = int_keys(fv["level_labels"])
    importance_discriminates = share_ex <= float(v["sources"]["max_importance_share"])
    if not importance_discriminates:
        notes.append("function zones: 极重要 covers most of the city, so the 保护 grade rests on the red-line share alone.")
    rows = []
    for i in range(1, len(fz) + 1):
        m = fz_idx == i
        n = int(m.sum())
        zone_ex = float((m & (eco == 1)).sum() / n) if n else 0.0
        share_red = float((m & comp["red_line"]).sum() / n) if n else 0.0
        share_frag = float((m & (fragile == 1)).sum() / n) if (n and fragile is not None) else 0.0
        if max(zone_ex if importance_discriminates else 0.0, share_red) >= fv["protect_min_share"]:
            level = 1
        elif share_frag >= fv["restore_min_share"]:
            level = 2
        else:
            level = 3
        rows.append({"share_extremely_important": zone_ex, "share_red_line": share_red, "share_very_fragile": share_frag,
                     "level": level, "level_label": level_labels[level]})
    fz = pd.concat([fz, pd.DataFrame(rows)], axis=1)
    fz["area_km2"] = fz.geometry.area / 1e6
    keep = [c for c in ("GNQBM", "GNQMC", "ZDGN", "BHFX") if c in fz.columns]
    fz = gpd.GeoDataFrame(fz[[*keep, "area_km2", "share_extremely_important", "share_red_line", "share_very_fragile",
                              "level", "level_label", "geometry"]], geometry="geometry", crs=f"EPSG:{grid.crs_epsg}")
    fz_name = fz["GNQMC"] if "GNQMC" in fz else pd.Series([f"功能区{i}" for i in range(1, len(fz) + 1)])
    fz_labels = {i + 1: str(n) for i, n in enumerate(fz_name)}

    # -------------------------------------------------------------------- 5 environment quality (03-04, 03-05)
    progress(0.72, "环境质量: 03-04 monitoring and the 03-05 report")
    ev = v["environment"]
    mon = inputs.table("03-04")
    mon["value"] = pd.to_numeric(mon["value"], errors="coerce")
    mon["year"] = pd.to_numeric(mon["year"], errors="coerce").astype("Int64")
    air = air_summary(mon, ev["air_limits"])
    emissions = emission_summary(mon)
    gw = groundwater_summary(mon, ev["groundwater_limits_mg_l"])
    latest = int(mon["year"].max())
    air_latest = air[air["year"] == latest][["indicator", "unit", "value", "limit", "ratio", "达标"]].reset_index(drop=True)
    check = pd.DataFrame(columns=["指标", "报告书数值", "单位", "监测数据", "一致"])
    doc = _document_bytes(storage, inputs, "03-05", ".docx")
    if doc is None:
        notes.append("环境质量报告书 (03-05) is not a DOCX: its key figures were not cross-checked.")
    else:
        figs = report_key_figures(doc[1])
        eq = monitoring_equivalents(mon, gw)
        figs["监测数据"] = figs["指标"].map(eq)
        rel = (figs["报告书数值"] - figs["监测数据"]).abs() / figs["监测数据"].abs().replace(0, np.nan)
        figs["一致"] = np.where(figs["监测数据"].isna(), "无对应", np.where(rel.fillna(0) <= ev["report_tolerance"], "是", "否"))
        check = figs
        if (figs["一致"] == "否").any():
            notes.append(f"环境质量报告书 ({doc[0]}) differs from the monitoring table for: "
                         f"{', '.join(figs.loc[figs['一致'] == '否', '指标'])}.")

    # -------------------------------------------------------------------- 6 write
    progress(0.80, "writing layers, tables and maps")
    writer.vector("t11.ecological_security_pattern", pattern)
    writer.vector("t11.eco_control_zones", units)
    writer.vector("t11.eco_function_zones", fz)
    writer.vector("t11.environment_zones", env_zones)
    areas = area_table(topic, grid, zones_idx, zone_names, [("t11.eco_control_zones", control, control_labels)])
    writer.table(None, "control_zone_areas", areas, "环境管控单元面积 control-unit areas")
    writer.table(None, "ecological_sources", src_table, "生态源地 ecological sources")
    writer.table(None, "air_quality", air, "环境空气质量 air quality by year")
    writer.table(None, "emissions", emissions, "污染物排放 emissions")
    writer.table(None, "groundwater_quality", gw, "地下水水质 groundwater quality")
    writer.table(None, "soil_samples", soil_table, "土壤污染点位评价 soil samples")
    writer.table(None, "report_check", check, "环境质量报告书核对 report cross-check")
    writer.class_map("t11.eco_control_zones", control, control_labels, CONTROL_COLOURS, thumbnail=True,
                     subtitle="环境管控单元（三线一单）")
    fz_colours = {i: LEVEL_COLOURS[int(lv)] for i, lv in enumerate(fz["level"], start=1)}
    writer.class_map("t11.eco_function_zones", fz_idx.astype(np.uint8), fz_labels, fz_colours, thumbnail=True,
                     subtitle="颜色：保护（深绿）/ 修复（橙）/ 维护（青）")
    env_map = np.zeros(grid.shape, dtype=np.uint8)
    if not water_geom.is_empty:
        env_map[rasterize(water_gdf, grid, value=1).astype(bool) & inside] = 6
    for g in sorted(soil_labels):
        sel = soil_gdf[soil_gdf["grade"] == g]
        if len(sel):
            env_map[rasterize(sel, grid, value=1).astype(bool) & inside] = g
    writer.class_map("t11.environment_zones", env_map, {**soil_labels, 6: "水生态保护区"}, SOIL_COLOURS)
    pattern_writer = LayerWriter(pub, topic, pgrid, city)
    pattern_writer.class_map("t11.ecological_security_pattern", pattern_map, pattern_labels, PATTERN_COLOURS, thumbnail=True,
                             subtitle=f"MCR 分区、廊道与战略节点（{pcell:g} m 网格）")
    writer.figures += pattern_writer.figures
    writer.thumbnails += pattern_writer.thumbnails

    # -------------------------------------------------------------------- 7 report
    progress(0.92, "report")
    ver = {d: inputs.version(d) for d in ("01-47", "01-46b", "03-02", "03-04", "03-05", "03-06") if inputs.has(d)}
    ctl = whole_city(areas, "t11.eco_control_zones", "管控单元类型")
    n_corr, n_nodes = len(corridor_list), len(nodes)
    red_km2 = float(comp["red_line"][inside].sum() * grid.cell_area_km2)
    ex_km2 = float(((eco == 1) & inside).sum() * grid.cell_area_km2)
    overlap = float((comp["red_line"] & (eco == 1) & inside).sum() / max((comp["red_line"] & inside).sum(), 1))
    good_days = air[(air["indicator"] == "达标天数比例")].set_index("year")["value"]
    figures = {
        "生态源地 sources": f"{n_src} ({float(src_table['area_km2'].sum()):,.1f} km²)",
        "生态廊道 corridors": f"{n_corr} ({float(lines['length_m'].sum()) / 1000:,.1f} km)",
        "生态战略节点 nodes": f"{n_nodes}",
        "生态保护红线 red line": f"{red_km2:,.1f} km², {overlap:.0%} of it 生态保护极重要",
        "优先保护单元": f"{float(ctl.loc[ctl['管控单元类型'] == control_labels[1], '面积 km²'].sum()):,.1f} km²",
        f"空气质量达标天数比例 {latest}": f"{float(good_days.get(latest, np.nan)):.1f} %",
        "土壤点位 轻度及以上": f"{int((scored['grade'] >= 3).sum())} / {len(scored)}",
    }
    air_trend = air[air["indicator"] == "达标天数比例"][["year", "value"]].rename(columns={"year": "年份", "value": "达标天数比例 %"})
    sections = [
        Section("1 生态安全格局 Ecological security pattern", [
            f"生态源地取 T02 生态保护极重要区（等级 {list(src_params.importance_grades) or '—，极重要区占全市 ' + format(share_ex, '.0%') + '，超过 sources.max_importance_share，不作判别'}）"
            f"中面积 ≥ {src_params.min_area_km2:g} km² 的斑块，"
            f"并入自然保护地与生态保护红线（{', '.join(v['sources']['protected_inputs'])}；规则 {src_params.protected_rule}）。"
            "阻力面由三调地类（01-46a.dltb）与距建设用地、道路、矿区的距离加权（spec §5.3 [S29]），MCR 以 MCP_Geometric 计算；"
            f"廊道为源地间最小累积阻力路径（{v['corridors']['pair_rule']}），节点为 MCR 脊线交点、廊道交汇点与障碍点。"
            f"计算网格 {pcell:g} m。",
            f"生态保护红线（01-47 版本 {ver.get('01-47', '—')}）{red_km2:,.1f} km²，其中 {overlap:.0%} 位于 T02 生态保护极重要区"
            f"（极重要区共 {ex_km2:,.1f} km²）。",
            "成果 `t11.ecological_security_pattern` 为一个 GeoParquet，`kind` 列区分 source / corridor / node。"],
            tables=[("生态源地", src_table), ("MCR 安全分区", mcr_table),
                    ("生态廊道", pd.DataFrame(lines.drop(columns="geometry"))),
                    ("生态战略节点", pd.DataFrame(nodes.drop(columns="geometry")))],
            figures=[f for f in writer.figures if "ecological_security_pattern" in f[1]]),
        Section("2 环境管控单元 Environmental control units (三线一单)", [
            f"优先保护单元 = {basis[1]}；重点管控单元 = {basis[2]}；一般管控单元 = 其余区域。重叠处按 {cz['precedence']} 的先后取值。"
            f"依据：01-47 {ver.get('01-47', '—')}、01-46b {ver.get('01-46b', '—')}、03-06 {ver.get('03-06', '—')}、T02 生态保护重要性。"],
            tables=[("管控单元面积", ctl), ("管控单元清单", pd.DataFrame(units.drop(columns="geometry")))],
            figures=[f for f in writer.figures if "eco_control_zones" in f[1]]),
        Section("3 生态功能区划 Ecological function zones", [
            f"以 03-02（版本 {ver.get('03-02', '—')}）生态功能区划为单元，极重要区或红线占比 ≥ {fv['protect_min_share']:.0%} 为保护，"
            f"极脆弱占比 ≥ {fv['restore_min_share']:.0%} 为修复，其余为维护。"],
            tables=[("功能区分级", pd.DataFrame(fz.drop(columns="geometry")))],
            figures=[f for f in writer.figures if "eco_function_zones" in f[1]]),
        Section("4 环境质量 Environmental quality", [
            f"依据 03-04（版本 {ver.get('03-04', '—')}）监测指标，城市空气质量取各站点均值，对照 GB 3095-2012 二级；"
            "地下水对照 GB/T 14848-2017 Ⅲ类。",
            f"环境质量报告书 03-05（版本 {ver.get('03-05', '—')}）的主要指标与监测数据逐项核对（容差 {ev['report_tolerance']:.0%}）。"],
            tables=[("空气质量达标天数比例", air_trend), (f"{latest} 年空气污染物", air_latest), ("污染物排放总量变化", emissions),
                    (f"{latest} 年地下水水质", gw), ("报告书核对", check)]),
        Section("5 土壤污染与水生态分区 Soil-pollution and water-ecology zones", [
            f"03-06（版本 {ver.get('03-06', '—')}）各点位按 GB 15618-2018 筛选值计算单因子指数与内梅罗综合指数（HJ/T 166-2004），"
            f"以泰森多边形（半径 ≤ {sv['max_radius_m']} m）外推为土壤污染分区；水生态分区取三调水域及滩地外扩 "
            f"{v['water_ecology']['buffer_m']} m。水环境分区需 04-10 水功能区划，暂缺。"],
            tables=[("土壤点位评价", soil_table),
                    ("分区面积", env_zones.groupby(["theme", "zone"], as_index=False)["area_km2"].sum())],
            figures=[f for f in writer.figures if "environment_zones" in f[1]]),
    ]
    summary = {"生态源地": records(src_table), "环境管控单元面积 (km²)": records(ctl), "空气质量": records(air_latest)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
