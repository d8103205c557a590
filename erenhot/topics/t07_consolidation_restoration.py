"""T07 二连浩特市国土综合整治与生态保护修复研究 — land consolidation and ecological restoration.

Reads T02's *published* 生态保护重要性 and 土地沙化脆弱性 (and 水土流失脆弱性 when published), T11's
生态安全格局 (corridors), T09's 退化林地、草原与湿地 when published, and the deliveries of the 自然资源局
(mines 01-29/01-34/01-36, 土地整治规划 01-39, red line 01-47, 沙化 01-16, 退化 01-17, 三调 DLTB) and
the 农牧局 (水土流失 04-06); never recomputes an upstream topic. Evaluation spec §1.4 (importance),
§4.4 (生态空间 / 红线), §5.3 (corridors), §0.1 (Erenhot: wind erosion and desertification dominate).

Method (every threshold in ``erenhot/config/t07_consolidation_restoration.yaml``):

1. **Problems** — degradation grade 0–3 per cell = worst of 沙化 (01-16 SHCD), 退化 (t09.degraded_land or
   01-17 THCD), 水土流失 (04-06 QSQD) and untreated mine damage (01-29 YZCD, 01-34 TXCD, 01-36 压占).
2. **Priority** = ``priority.matrix[importance][degradation]`` (1 一级 … 3 三级).
3. **分级分类保护** — 保护保育 / 自然恢复 / 辅助再生 / 生态重建 on ecological land (三调 03/04/11/12);
   T02 极脆弱 land (土地沙化 or 水土流失) outside the red line is at least 自然恢复.
4. **国土综合整治分区** — first matching rule of ``consolidation_zones.order`` (mine, urban, farmland,
   water, eco_restore, eco_protect, steppe), after the five themes of the seed.
5. **Plan** — restoration patches (priority × type × township), mine remediation, consolidation
   projects (01-39 + new mine reclamation), key projects, and the 2025/2035 new restoration area by
   township (``plan.schedule``).

Outputs (catalog ``topics.yaml`` t07; vectors GeoParquet in EPSG:4525, the table CSV):

* ``t07.mine_env_problems`` — one row per problem polygon: ``problem_id``, ``source_dataset``,
  ``mine_id``, ``mine_name``, ``mineral``, ``mine_state``, ``problem_type``, ``degree``,
  ``degradation`` (1–3), ``status``, ``XZQDM``, ``XZQMC``, ``area_hm2``.
* ``t07.mine_env_remediation`` — the untreated problems with ``measures``, ``responsible``,
  ``period``, ``mode`` (修复模式), ``project_id`` (01-39 project covering it, or empty).
* ``t07.restoration_grading`` — ``grade`` 1–4, ``grade_label``, ``XZQDM``, ``XZQMC``, ``area_hm2``.
* ``t07.restoration_plan`` — ``patch_id``, ``priority``, ``priority_label``, ``type``, ``measures``,
  ``period``, ``XZQDM``, ``XZQMC``, ``area_hm2``.
* ``t07.consolidation_zones`` — ``zone_code``, ``zone_name``, ``theme``, ``direction``, ``XZQDM``,
  ``XZQMC``, ``area_km2``.
* ``t07.consolidation_plan`` — ``project_id``, ``project_name``, ``project_type``, ``source``,
  ``zone_name``, ``planned_year``, ``XZQDM``, ``XZQMC``, ``area_hm2``.
* ``t07.key_projects`` — ``project_id``, ``project_name``, ``project_type``, ``period``,
  ``measures``, ``basis``, ``XZQDM``, ``XZQMC``, ``area_hm2``.
* ``t07.new_restoration_area`` — ``XZQDM``, ``XZQMC``, ``type``, ``year``, ``area_hm2`` (cumulative),
  ``increment_hm2``; plus 全市 rows.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features

from erenhot.catalog import Catalog
from erenhot.evaluation import restoration as rs
from erenhot.grid import Grid, boundary_mask, rasterize, read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, int_keys, no_progress, records, township_zones
from erenhot.topics.inputs import TopicInputs

CODE = "t07"
CONFIG = "t07_consolidation_restoration"
CITY_CODE = "152501"
CITY_TOTAL = "全市合计"
PRIORITY_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#fddbc7", 4: "#7b3294"}
GRADE_COLOURS = {1: "#1b7837", 2: "#a6dba0", 3: "#fdb863", 4: "#b2182b"}
ZONE_COLOURS = {1: "#7b3294", 2: "#e31a1c", 3: "#ffd92f", 4: "#1f78b4", 5: "#fd8d3c", 6: "#1b7837", 7: "#c7e9c0"}
PROBLEM_COLOURS = {1: "#d73027", 2: "#fc8d59", 3: "#fee090", 4: "#91bfdb", 5: "#4575b4"}
DEG_LABELS = {1: "轻度", 2: "中度", 3: "重度"}


# ------------------------------------------------------------------------------------------- helpers

def _prefix(dltb: gpd.GeoDataFrame, prefixes) -> gpd.GeoDataFrame:
    return dltb[dltb["DLBM"].astype(str).str.startswith(tuple(str(p) for p in prefixes))]


def _mask(gdf: gpd.GeoDataFrame | None, grid: Grid, *, all_touched: bool = False) -> np.ndarray:
    if gdf is None or len(gdf) == 0:
        return np.zeros(grid.shape, dtype=bool)
    return rasterize(gdf, grid, value=1, all_touched=all_touched).astype(bool)


def _graded(gdf: gpd.GeoDataFrame | None, column: str, mapping: dict[str, int], grid: Grid) -> np.ndarray:
    """Burn ``mapping[gdf[column]]`` with the worst grade winning on overlaps."""
    if gdf is None or len(gdf) == 0:
        return np.zeros(grid.shape, dtype=np.uint8)
    g = gdf.assign(_g=gdf[column].astype(str).map(lambda s: int(mapping.get(s, 0)))).sort_values("_g")
    g = g[g["_g"] > 0]
    return rasterize(g, grid, value="_g", dtype="uint8") if len(g) else np.zeros(grid.shape, dtype=np.uint8)


def _polygons(code: np.ndarray, grid: Grid, name: str = "code") -> gpd.GeoDataFrame:
    """Polygons of the non-zero values of an integer raster (dissolved per value)."""
    shapes = [(shapely.geometry.shape(g), int(v)) for g, v in
              rio_features.shapes(code.astype("int32"), mask=code > 0, transform=grid.transform)]
    gdf = gpd.GeoDataFrame({name: [v for _, v in shapes]}, geometry=[g for g, _ in shapes], crs=f"EPSG:{grid.crs_epsg}")
    return gdf.dissolve(by=name, as_index=False) if len(gdf) else gdf


def _town_cols(gdf: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``XZQDM``/``XZQMC`` of the township holding each feature's representative point."""
    t = townships.to_crs(gdf.crs)[["XZQDM", "XZQMC", "geometry"]]
    pts = gpd.GeoDataFrame({"_i": np.arange(len(gdf))}, geometry=gdf.geometry.representative_point().values, crs=gdf.crs)
    j = gpd.sjoin(pts, t, how="left", predicate="within").drop_duplicates("_i").set_index("_i")
    out = gdf.copy()
    out["XZQDM"] = j["XZQDM"].reindex(range(len(gdf))).fillna("").astype(str).values
    out["XZQMC"] = j["XZQMC"].reindex(range(len(gdf))).fillna("").astype(str).values
    return out


def _split(code: np.ndarray, zones_idx: np.ndarray, grid: Grid, zone_names: dict[int, str]) -> gpd.GeoDataFrame:
    """Polygons of ``code`` × township: columns ``code``, ``XZQDM``, ``XZQMC``."""
    combo = np.where(code > 0, code.astype(np.int32) * 100 + zones_idx.astype(np.int32), 0)
    gdf = _polygons(combo, grid, "combo")
    if len(gdf) == 0:
        return gpd.GeoDataFrame({"code": [], "XZQDM": [], "XZQMC": []}, geometry=[], crs=f"EPSG:{grid.crs_epsg}")
    gdf["code"] = (gdf["combo"] // 100).astype("int64")
    town = gdf["combo"] % 100
    gdf["XZQDM"] = town.map(lambda i: zone_names.get(int(i), " ").split(" ")[0])
    gdf["XZQMC"] = town.map(lambda i: zone_names.get(int(i), " ").split(" ", 1)[-1])
    return gdf.drop(columns="combo")


def mine_problems(mines: gpd.GeoDataFrame, subsidence: gpd.GeoDataFrame, waste: gpd.GeoDataFrame,
                  grades: dict[str, Any]) -> gpd.GeoDataFrame:
    """One table of mine geological-environment problems from 01-29, 01-34 and 01-36.

    ``degradation`` (1–3) = 01-29 ``YZCD`` through ``mine_severity_grades``, 01-34 ``TXCD`` through
    ``subsidence_grades``, ``waste_grade`` for 01-36. Mine attributes are joined by ``KSBH``."""
    crs = mines.crs
    info = mines.drop(columns="geometry").astype({"KSBH": str}).set_index("KSBH")

    def attr(ids, col):
        return [str(info[col].get(i, "")) if col in info else "" for i in ids]

    frames = []
    m_ids = mines["KSBH"].astype(str).tolist()
    frames.append(gpd.GeoDataFrame({
        "source_dataset": "01-29", "mine_id": m_ids, "problem_type": mines["WTLX"].astype(str).values,
        "degree": mines["YZCD"].astype(str).values,
        "degradation": [int(grades["mine_severity_grades"].get(str(s), 0)) for s in mines["YZCD"]],
        "status": mines["ZLZT"].astype(str).values}, geometry=mines.geometry.values, crs=crs))
    if subsidence is not None and len(subsidence):
        ids = subsidence["KSBH"].astype(str).tolist()
        frames.append(gpd.GeoDataFrame({
            "source_dataset": "01-34", "mine_id": ids, "problem_type": "采矿塌陷",
            "degree": subsidence["TXCD"].astype(str).values,
            "degradation": [int(grades["subsidence_grades"].get(str(s), 0)) for s in subsidence["TXCD"]],
            "status": subsidence["ZLZT"].astype(str).values}, geometry=subsidence.to_crs(crs).geometry.values, crs=crs))
    if waste is not None and len(waste):
        ids = waste["KSBH"].astype(str).tolist()
        frames.append(gpd.GeoDataFrame({
            "source_dataset": "01-36", "mine_id": ids, "problem_type": "固体废弃物压占",
            "degree": waste["FQLX"].astype(str).values, "degradation": int(grades["waste_grade"]),
            "status": waste["ZLZT"].astype(str).values}, geometry=waste.to_crs(crs).geometry.values, crs=crs))
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    out["mine_name"] = attr(out["mine_id"], "KSMC")
    out["mineral"] = attr(out["mine_id"], "KZ")
    out["mine_state"] = attr(out["mine_id"], "KCZT")
    out["problem_id"] = [f"WT{i:03d}" for i in range(1, len(out) + 1)]
    out["area_hm2"] = out.geometry.area / 1e4
    return out


def remediation(problems: gpd.GeoDataFrame, projects: gpd.GeoDataFrame | None, cfg: dict[str, Any],
                treated: list[str], periods: dict[int, str]) -> gpd.GeoDataFrame:
    """The untreated problems with measures, responsible party, period and 修复模式; ``project_id`` is the
    01-39 土地复垦 project that covers most of a problem polygon (empty when none)."""
    untreated = problems[~problems["status"].isin(treated)].copy()
    untreated["measures"] = untreated["problem_type"].map(lambda t: cfg["measures"].get(t, ""))
    untreated["responsible"] = untreated["mine_state"].map(lambda s: cfg["responsible"].get(s, "矿山企业"))
    near = set(cfg["near_term_severity"])
    untreated["period"] = [periods[1] if (d in near or g >= 3) else periods[2] for d, g in zip(untreated["degree"], untreated["degradation"], strict=True)]
    untreated["mode"] = untreated["degradation"].map({1: "自然恢复", 2: "辅助再生", 3: "生态重建"}).fillna("自然恢复")
    pid = [""] * len(untreated)
    if projects is not None and len(projects):
        rec = projects[projects["XMLX"].astype(str) == "土地复垦"]
        for k, g in enumerate(untreated.geometry.values):
            best, share = "", 0.0
            for xm, pg in zip(rec["XMBH"].astype(str), rec.geometry.values, strict=True):
                s = g.intersection(pg).area / max(g.area, 1.0)
                if s > max(share, 0.5):
                    best, share = xm, s
            pid[k] = best
    untreated["project_id"] = pid
    return untreated


# ------------------------------------------------------------------------------------------- the run

def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T07 from the upstream layers and the resolved datasets; publish everything.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    dg, pv, gv, zv, plan = v["degradation"], v["priority"], v["grading"], v["consolidation_zones"], v["plan"]
    notes: list[str] = []

    progress(0.03, "upstream layers and boundaries")
    eco, grid, _ = read_raster(inputs.layer_bytes("t02.eco_importance"))
    epsg = f"EPSG:{grid.crs_epsg}"
    fragile = read_raster(inputs.layer_bytes("t02.desertification_fragility"))[0]
    very_fragile = fragile == 1
    if inputs.has_layer("t02.soil_erosion_fragility"):  # 极脆弱 for either process → 自然恢复 outside the red line
        very_fragile |= read_raster(inputs.layer_bytes("t02.soil_erosion_fragility"))[0] == 1
    city = inputs.vector("01-04", "city")
    inside = boundary_mask(city, grid)
    eco = np.where(inside, eco, 0).astype(np.uint8)
    townships = inputs.vector("01-04", "townships")
    zones_idx, zone_names = township_zones(townships, grid, inside)
    writer = LayerWriter(pub, topic, grid, city)
    dltb = inputs.vector("01-46a.dltb")
    red = inputs.vector("01-47")
    red_m = _mask(red, grid) & inside

    # -------------------------------------------------------------------- 1 problems
    progress(0.10, "现状问题: 沙化、退化、水土流失、矿山")
    treated = list(dg["treated_states"])
    mines = inputs.vector("01-29")
    sub = inputs.vector("01-34")
    waste = inputs.vector("01-36")
    problems = mine_problems(mines, sub, waste, dg)
    problems = _town_cols(problems, townships)
    problems = gpd.GeoDataFrame(problems[["problem_id", "source_dataset", "mine_id", "mine_name", "mineral", "mine_state",
                                          "problem_type", "degree", "degradation", "status", "XZQDM", "XZQMC", "area_hm2",
                                          "geometry"]], geometry="geometry", crs=epsg)
    open_problems = problems[~problems["status"].isin(treated)]
    mine_g = _graded(open_problems.assign(_d=open_problems["degradation"].astype(str)), "_d",
                     {str(k): k for k in (1, 2, 3)}, grid)
    sand = inputs.vector("01-16") if inputs.has("01-16") else None
    if sand is None:
        notes.append("01-16 荒漠化和沙化土地 not delivered: desertified land is not counted as degraded.")
    sand_g = _graded(sand, "SHCD", dg["sand_grades"], grid)
    if inputs.has_layer("t09.degraded_land"):
        degraded = gpd.read_parquet(io.BytesIO(inputs.layer_bytes("t09.degraded_land")))
        deg_src = "t09.degraded_land"
    elif inputs.has("01-17"):
        degraded = inputs.vector("01-17", "degraded_land")
        deg_src = "01-17"
    else:
        degraded, deg_src = None, "—"
        notes.append("Neither t09.degraded_land nor 01-17 is available: degraded grassland is not counted.")
    grass_g = _graded(degraded, "THCD", dg["grassland_grades"], grid)
    erosion = inputs.vector("04-06", "soil_erosion") if inputs.has("04-06") else None
    if erosion is None:
        notes.append("04-06 水土流失 not delivered: soil erosion is not counted as degradation.")
    eros_g = _graded(erosion, "QSQD", dg["erosion_grades"], grid)
    layer_arr = {"mine": mine_g, "sand": sand_g, "grassland": grass_g, "erosion": eros_g}
    order = list(dg["precedence"])
    degr, src = rs.degradation_grade([(k, np.where(inside, layer_arr[k], 0)) for k in order])
    type_labels = dict(dg["type_labels"])

    # -------------------------------------------------------------------- 2 priority and grading
    progress(0.25, "修复优先级 (重要性 × 退化) 与分级分类保护")
    matrix = int_keys(pv["matrix"])
    priority = rs.restoration_priority(eco, degr, matrix)
    prio_labels = int_keys(pv["labels"])
    eco_land = _mask(_prefix(dltb, gv["ecological_dlbm_prefixes"]), grid)
    eco_land |= inside & ~_mask(dltb, grid)
    grading = rs.protection_grading(eco, degr, red_m, very_fragile, eco_land & inside,
                                    rebuild_min_degradation=int(gv["rebuild_min_degradation"]),
                                    assist_min_degradation=int(gv["assist_min_degradation"]),
                                    protect_importance=list(gv["protect_importance"]))
    grade_labels = int_keys(gv["labels"])

    # -------------------------------------------------------------------- 3 consolidation zones
    progress(0.40, "国土综合整治分区")
    projects = inputs.vector("01-39")
    projects = projects.assign(XMLX=projects["XMLX"].astype(str))
    urban_towns = townships[townships["XZQDM"].astype(str).isin([str(c) for c in zv["urban_townships"]])]
    water_parcels = _prefix(dltb, zv["water_dlbm_prefixes"])
    masks = {
        "mine": _mask(gpd.GeoDataFrame(geometry=problems.geometry.buffer(float(zv["mine_buffer_m"])), crs=epsg), grid,
                      all_touched=True),
        "urban": _mask(urban_towns, grid) | _mask(_prefix(dltb, zv["urban_dlbm_prefixes"]), grid),
        "farmland": _mask(_prefix(dltb, zv["farmland_dlbm_prefixes"]), grid)
        | _mask(projects[projects["XMLX"].isin(zv["farmland_project_types"])], grid),
        "water": _mask(gpd.GeoDataFrame(geometry=water_parcels.geometry.buffer(float(zv["water_buffer_m"])), crs=epsg), grid)
        if len(water_parcels) else np.zeros(grid.shape, dtype=bool),
        "eco_restore": np.isin(priority, list(zv["eco_restore_priorities"])),
        "eco_protect": red_m,
        "steppe": np.ones(grid.shape, dtype=bool),
    }
    masks = {k: m & inside for k, m in masks.items()}
    zone_codes = {k: int(c) for k, c in zv["codes"].items()}
    zones = rs.first_match(masks, list(zv["order"]), zone_codes)
    zone_labels = {zone_codes[k]: zv["names"][k] for k in zone_codes}
    code_key = {c: k for k, c in zone_codes.items()}
    zone_v = _split(zones, zones_idx, grid, zone_names)
    zone_v["zone_code"] = zone_v["code"]
    zone_v["zone_name"] = zone_v["code"].map(zone_labels)
    zone_v["theme"] = zone_v["code"].map(lambda c: zv["themes"][code_key[int(c)]])
    zone_v["direction"] = zone_v["code"].map(lambda c: zv["directions"][code_key[int(c)]])
    zone_v["area_km2"] = zone_v.geometry.area / 1e6
    zone_v = gpd.GeoDataFrame(zone_v[["zone_code", "zone_name", "theme", "direction", "XZQDM", "XZQMC", "area_km2", "geometry"]]
                              .sort_values(["zone_code", "XZQDM"]).reset_index(drop=True), geometry="geometry", crs=epsg)

    # -------------------------------------------------------------------- 4 restoration plan
    progress(0.55, "生态修复规划、矿山治理、整治项目")
    periods = int_keys(plan["periods"])
    mine_union = shapely.union_all(open_problems.geometry.values) if len(open_problems) else shapely.Polygon()
    type_idx = {k: i + 1 for i, k in enumerate(order)}
    eco_prio = np.where((priority > 0) & (src != type_idx["mine"]), priority.astype(np.int32) * 10 + src, 0)
    eco_v = _split(eco_prio, zones_idx, grid, zone_names)
    eco_v["priority"] = (eco_v["code"] // 10).astype("int64")
    eco_v["type_key"] = [order[int(c) % 10 - 1] for c in eco_v["code"]]
    eco_v["geometry"] = eco_v.geometry.difference(mine_union)
    eco_v = eco_v[~eco_v.geometry.is_empty]
    # mine patches: the untreated problem polygons, priority from importance at the patch and its damage
    mp = open_problems.copy()
    rp = mp.geometry.representative_point()
    cc, rr = ~grid.transform @ (rp.x.values, rp.y.values)
    rows_, cols_ = np.floor(np.asarray(rr)).astype(int), np.floor(np.asarray(cc)).astype(int)
    rows_ = np.clip(rows_, 0, grid.shape[0] - 1)
    cols_ = np.clip(cols_, 0, grid.shape[1] - 1)
    imp_at = eco[rows_, cols_]
    imp_at = np.where(imp_at == 0, 3, imp_at)
    mp["priority"] = rs.restoration_priority(imp_at, mp["degradation"].to_numpy(), matrix)
    mp["type_key"] = "mine"
    plan_v = pd.concat([eco_v[["priority", "type_key", "XZQDM", "XZQMC", "geometry"]],
                        mp[["priority", "type_key", "XZQDM", "XZQMC", "geometry"]]], ignore_index=True)
    plan_v = gpd.GeoDataFrame(plan_v, geometry="geometry", crs=epsg)
    plan_v = plan_v.dissolve(by=["priority", "type_key", "XZQDM", "XZQMC"], as_index=False)
    plan_v["type"] = plan_v["type_key"].map(type_labels)
    plan_v["priority_label"] = plan_v["priority"].map(prio_labels)
    plan_v["measures"] = plan_v["type_key"].map(plan["measures"])
    plan_v["period"] = plan_v["priority"].map(periods)
    plan_v["area_hm2"] = plan_v.geometry.area / 1e4
    plan_v = plan_v.sort_values(["priority", "type_key", "XZQDM"]).reset_index(drop=True)
    plan_v["patch_id"] = [f"XF{i:03d}" for i in range(1, len(plan_v) + 1)]
    plan_v = gpd.GeoDataFrame(plan_v[["patch_id", "priority", "priority_label", "type_key", "type", "measures", "period",
                                      "XZQDM", "XZQMC", "area_hm2", "geometry"]], geometry="geometry", crs=epsg)

    remed = remediation(problems, projects, v["mines"], treated, periods)
    remed = gpd.GeoDataFrame(remed[["problem_id", "mine_id", "mine_name", "mine_state", "problem_type", "degree", "degradation",
                                    "mode", "measures", "responsible", "period", "project_id", "XZQDM", "XZQMC", "area_hm2",
                                    "geometry"]].reset_index(drop=True), geometry="geometry", crs=epsg)

    city_geom = shapely.union_all(city.to_crs(grid.crs_epsg).geometry.values)
    proj = projects.copy()
    proj["geometry"] = proj.geometry.intersection(city_geom)
    proj = _town_cols(proj[~proj.geometry.is_empty].reset_index(drop=True), townships)
    zone_at = []
    for g in proj.geometry.values:
        hit = zone_v[zone_v.intersects(g)]
        zone_at.append(hit.assign(_a=hit.geometry.intersection(g).area).sort_values("_a").iloc[-1]["zone_name"] if len(hit) else "")
    cons = gpd.GeoDataFrame({
        "project_id": proj["XMBH"].astype(str), "project_name": proj["XMMC"].astype(str), "project_type": proj["XMLX"],
        "source": f"01-39 土地整治规划 {inputs.version('01-39')}", "zone_name": zone_at,
        "planned_year": pd.to_numeric(proj["GHNF"], errors="coerce").astype("Int64"), "XZQDM": proj["XZQDM"], "XZQMC": proj["XZQMC"],
        "area_hm2": proj.geometry.area / 1e4}, geometry=proj.geometry.values, crs=epsg)
    new = remed[remed["project_id"] == ""]
    if len(new):
        first_year = {periods[1]: 2025, periods[2]: 2035}
        add = gpd.GeoDataFrame({
            "project_id": [f"XZ{i:03d}" for i in range(1, len(new) + 1)],
            "project_name": [f"{n}{t}治理复垦工程（{i}）" for n, t, i in
                             zip(new["mine_name"], new["problem_type"], new["problem_id"], strict=True)],
            "project_type": "土地复垦", "source": "本研究新增（矿山地质环境问题未纳入 01-39）",
            "zone_name": zone_labels[zone_codes["mine"]],
            "planned_year": pd.array([first_year.get(p, 2035) for p in new["period"]], dtype="Int64"),
            "XZQDM": new["XZQDM"].values, "XZQMC": new["XZQMC"].values, "area_hm2": new["area_hm2"].values},
            geometry=new.geometry.values, crs=epsg)
        cons = gpd.GeoDataFrame(pd.concat([cons, add], ignore_index=True), geometry="geometry", crs=epsg)

    # -------------------------------------------------------------------- 5 key projects
    progress(0.68, "重点区域和重大工程")
    min_ha = float(plan["key_project_min_area_hm2"])
    key_rows = []
    for (tk, town, tname), g in plan_v[plan_v["priority"] == 1].groupby(["type_key", "XZQDM", "XZQMC"]):
        geom = shapely.union_all(g.geometry.values)
        if tk != "mine" and geom.area / 1e4 < min_ha:
            continue
        key_rows.append({"project_name": f"{tname}{type_labels[tk]}{'重大工程' if tk != 'mine' else '（矿山地质环境综合治理工程）'}",
                         "project_type": type_labels[tk], "period": periods[1], "measures": plan["measures"][tk],
                         "basis": "一级修复区（重要性 × 退化）", "XZQDM": town, "XZQMC": tname, "geometry": geom})
    mine_left = open_problems
    if len(mine_left) and not any(r["project_type"] == type_labels["mine"] for r in key_rows):
        for (town, tname), g in mine_left.groupby(["XZQDM", "XZQMC"]):
            key_rows.append({"project_name": f"{tname}矿山地质环境综合治理工程", "project_type": type_labels["mine"],
                             "period": periods[1], "measures": plan["measures"]["mine"], "basis": "未治理矿山地质环境问题",
                             "XZQDM": town, "XZQMC": tname, "geometry": shapely.union_all(g.geometry.values)})
    corridor_note = "t11.ecological_security_pattern has no corridors."
    esp = gpd.read_parquet(io.BytesIO(inputs.layer_bytes("t11.ecological_security_pattern"))).to_crs(grid.crs_epsg)
    corr = esp[esp["kind"] == "corridor"]
    if len(corr):
        belt = shapely.union_all(corr.geometry.buffer(float(plan["corridor_buffer_m"])).values).intersection(city_geom)
        deg_poly = _polygons(np.where(inside & (degr > 0), 1, 0), grid)
        hit = belt.intersection(shapely.union_all(deg_poly.geometry.values)) if len(deg_poly) else shapely.Polygon()
        corridor_note = (f"{len(corr)} corridors of t11; {hit.area / 1e4:,.0f} hm² of their "
                         f"{float(plan['corridor_buffer_m']):g} m belts cross degraded land.")
        if not hit.is_empty and hit.area / 1e4 >= min_ha:
            tmp = _town_cols(gpd.GeoDataFrame(geometry=[hit], crs=epsg), townships)
            key_rows.append({"project_name": "生态廊道连通与修复工程", "project_type": "生态廊道修复", "period": periods[2],
                             "measures": plan["measures"]["corridor"], "basis": "t11 生态廊道穿越退化土地",
                             "XZQDM": tmp["XZQDM"].iloc[0], "XZQMC": tmp["XZQMC"].iloc[0], "geometry": hit})
    key_v = gpd.GeoDataFrame(key_rows, geometry="geometry", crs=epsg) if key_rows else \
        gpd.GeoDataFrame({"project_name": []}, geometry=[], crs=epsg)
    if len(key_v):
        key_v["area_hm2"] = key_v.geometry.area / 1e4
        key_v.insert(0, "project_id", [f"ZDGC{i:02d}" for i in range(1, len(key_v) + 1)])
    else:
        notes.append("No key project reached plan.key_project_min_area_hm2.")

    # -------------------------------------------------------------------- 6 new restoration area
    progress(0.76, "规划期新增国土修复面积分解")
    eco_areas = plan_v[plan_v["type_key"] != "mine"].assign(township=lambda d: d["XZQDM"] + " " + d["XZQMC"])
    eco_areas = eco_areas.rename(columns={"type": "type_"})[["township", "type_", "priority", "area_hm2"]].rename(columns={"type_": "type"})
    sched = {int(y): {int(p): float(s) for p, s in d.items()} for y, d in plan["schedule"].items()}
    parts = [rs.decompose_new_area(pd.DataFrame(eco_areas), sched)]
    # mine patches of the plan (problem polygons dissolved: 01-29 mining areas overlap their subsidence and dumps)
    mine_areas = plan_v[plan_v["type_key"] == "mine"].assign(township=lambda d: d["XZQDM"] + " " + d["XZQMC"], priority=1)
    if len(mine_areas):
        msched = {int(y): {1: float(s)} for y, s in plan["mine_schedule"].items()}
        parts.append(rs.decompose_new_area(pd.DataFrame(mine_areas[["township", "type", "priority", "area_hm2"]]), msched))
    new_area = pd.concat(parts, ignore_index=True)
    city_rows = new_area.groupby(["year", "type"], as_index=False)[["area_hm2", "increment_hm2"]].sum().assign(
        township=f"{CITY_CODE} {CITY_TOTAL}")
    new_area = pd.concat([new_area, city_rows], ignore_index=True)
    new_area["XZQDM"] = new_area["township"].str.split(" ").str[0]
    new_area["XZQMC"] = new_area["township"].str.split(" ", n=1).str[-1]
    new_area = new_area[["XZQDM", "XZQMC", "type", "year", "area_hm2", "increment_hm2"]].sort_values(
        ["year", "XZQDM", "type"]).reset_index(drop=True)

    # -------------------------------------------------------------------- 7 write
    progress(0.82, "writing layers, tables and maps")
    writer.vector("t07.mine_env_problems", problems)
    writer.vector("t07.mine_env_remediation", remed)
    grade_v = _split(grading, zones_idx, grid, zone_names)
    grade_v["grade"] = grade_v["code"]
    grade_v["grade_label"] = grade_v["code"].map(grade_labels)
    grade_v["area_hm2"] = grade_v.geometry.area / 1e4
    grade_v = gpd.GeoDataFrame(grade_v[["grade", "grade_label", "XZQDM", "XZQMC", "area_hm2", "geometry"]],
                               geometry="geometry", crs=epsg)
    writer.vector("t07.restoration_grading", grade_v)
    writer.vector("t07.restoration_plan", plan_v)
    writer.vector("t07.consolidation_zones", zone_v)
    writer.vector("t07.consolidation_plan", cons)
    writer.vector("t07.key_projects", key_v)
    writer.table("t07.new_restoration_area", "new_restoration_area", new_area, "规划期新增国土修复面积分解")
    # problem-area statement (现状问题)
    cell_ha = grid.cell_area_km2 * 100.0
    prob_rows = []
    for k in order:
        arr = np.where(inside, layer_arr[k], 0)
        for gcode, glabel in DEG_LABELS.items():
            prob_rows.append({"类型": type_labels[k], "程度": glabel, "面积 hm²": float((arr == gcode).sum() * cell_ha)})
    prob_table = pd.DataFrame(prob_rows)
    prob_table = prob_table[prob_table["面积 hm²"] > 0].reset_index(drop=True)
    mine_table = problems.drop(columns="geometry").groupby(["problem_type", "status"], as_index=False)["area_hm2"].sum()
    abandoned = mines[mines["KCZT"].astype(str).isin(["废弃", "闭坑"])]
    prio_table = pd.DataFrame([{"优先级": prio_labels[p], "面积 hm²": float(plan_v.loc[plan_v["priority"] == p, "area_hm2"].sum())}
                               for p in sorted(prio_labels)])
    grade_table = grade_v.drop(columns="geometry").groupby("grade_label", as_index=False)["area_hm2"].sum()
    zone_table = zone_v.drop(columns="geometry").groupby(["zone_code", "zone_name", "theme"], as_index=False)["area_km2"].sum()
    matrix_table = pd.DataFrame([{"生态保护重要性": {1: "极重要", 2: "重要", 3: "一般"}[int(i)],
                                  **{f"退化{['无', '轻度', '中度', '重度'][d]}": (prio_labels.get(int(row[d]), "—") if row[d] else "—")
                                     for d in range(4)}} for i, row in matrix.items()])
    writer.table(None, "problem_areas", prob_table, "现状问题面积 problem areas")
    writer.table(None, "mine_problem_summary", mine_table, "矿山地质环境问题汇总")
    writer.table(None, "priority_areas", prio_table, "修复优先级面积")
    # maps
    prio_map = priority.copy()
    prio_map[_mask(open_problems, grid, all_touched=True) & inside] = 4
    writer.class_map("t07.restoration_plan", prio_map, {**prio_labels, 4: "矿山生态修复"}, PRIORITY_COLOURS, thumbnail=True,
                     subtitle="修复优先级 = 生态保护重要性 × 退化程度")
    writer.class_map("t07.consolidation_zones", zones, zone_labels, ZONE_COLOURS, thumbnail=True,
                     subtitle="按自然生态、水资源、环境质量、人居生态、耕地资源主题划分")
    cons_types = {t: i + 1 for i, t in enumerate(sorted(cons["project_type"].unique()))}
    cons_map = rasterize(cons.assign(_c=cons["project_type"].map(cons_types)), grid, value="_c", dtype="uint8", all_touched=True)
    writer.class_map("t07.consolidation_plan", np.where(inside, cons_map, 0).astype(np.uint8),
                     {i: t for t, i in cons_types.items()}, {i: c for i, c in zip(cons_types.values(), ZONE_COLOURS.values(), strict=False)},
                     subtitle="土地整治规划项目（01-39）与新增矿山复垦工程")
    ptypes = {t: i + 1 for i, t in enumerate(sorted(problems["problem_type"].unique()))}
    pmap = rasterize(problems.assign(_c=problems["problem_type"].map(ptypes)), grid, value="_c", dtype="uint8", all_touched=True)
    writer.class_map("t07.mine_env_problems", np.where(inside, pmap, 0).astype(np.uint8), {i: t for t, i in ptypes.items()},
                     {i: PROBLEM_COLOURS.get(i, "#999999") for i in ptypes.values()}, subtitle="图斑按 1 km 网格放大显示")
    rmap = rasterize(remed.assign(_c=(remed["period"] == periods[1]).map({True: 1, False: 2})), grid, value="_c",
                     dtype="uint8", all_touched=True) if len(remed) else np.zeros(grid.shape, np.uint8)
    writer.class_map("t07.mine_env_remediation", np.where(inside, rmap, 0).astype(np.uint8), {1: periods[1], 2: periods[2]},
                     {1: "#d73027", 2: "#fdae61"})
    writer.class_map("t07.restoration_grading", grading, grade_labels, GRADE_COLOURS, thumbnail=True)
    if len(key_v):
        ktypes = {t: i + 1 for i, t in enumerate(sorted(key_v["project_type"].unique()))}
        kmap = rasterize(key_v.assign(_c=key_v["project_type"].map(ktypes)), grid, value="_c", dtype="uint8", all_touched=True)
        writer.class_map("t07.key_projects", np.where(inside, kmap, 0).astype(np.uint8), {i: t for t, i in ktypes.items()},
                         {i: c for i, c in zip(ktypes.values(), PROBLEM_COLOURS.values(), strict=False)})

    # -------------------------------------------------------------------- 8 report
    progress(0.92, "report")
    ver = {d: inputs.version(d) for d in ("01-29", "01-34", "01-36", "01-39", "01-47", "01-16", "01-17", "04-06", "01-46a.dltb")
           if inputs.has(d)}

    def vv(d: str) -> str:
        return ver.get(d, "未交付")

    totals = new_area[new_area["XZQDM"] == CITY_CODE].groupby("year")["area_hm2"].sum()
    figures = {
        "退化土地 degraded land": f"{float((degr > 0).sum() * cell_ha):,.0f} hm²",
        "一级修复区": f"{float(prio_table.iloc[0]['面积 hm²']):,.0f} hm²",
        "矿山地质环境问题": f"{len(problems)} 处 ({float(problems['area_hm2'].sum()):,.1f} hm²), 未治理 {len(remed)} 处",
        "废弃/闭坑矿山": f"{len(abandoned)}",
        "整治项目": f"{len(cons)} ({float(cons['area_hm2'].sum()):,.1f} hm²)",
        "重大工程": f"{len(key_v)}",
        **{f"新增修复面积 {int(y)}": f"{float(a):,.0f} hm²" for y, a in totals.items()},
    }
    by_town = new_area.pivot_table(index=["XZQDM", "XZQMC", "type"], columns="year", values="area_hm2", aggfunc="sum").reset_index()
    by_town.columns = [str(c) for c in by_town.columns]

    def fig(*names):
        return [f for f in writer.figures if any(f"/{n}.png" in f[1] for n in names)]

    sections = [
        Section("1 生态修复现状与问题 Present problems", [
            f"退化程度取各来源的最重者：沙化 01-16（{vv('01-16')}，SHCD）、退化林草湿 {deg_src}"
            f"{'（' + vv('01-17') + '）' if deg_src == '01-17' else ''}（THCD）、水土流失 04-06（{vv('04-06')}，QSQD，"
            "轻度侵蚀为荒漠草原常态不计）、未治理的矿山损毁（01-29 {0}、01-34 {1}、01-36 {2}）。".format(
                vv("01-29"), vv("01-34"), vv("01-36")),
            f"矿山 {len(mines)} 座，其中废弃/闭坑 {len(abandoned)} 座；塌陷区 {len(sub)} 处、固废占地 {len(waste)} 处。"],
            tables=[("现状问题面积（网格统计）", prob_table), ("矿山地质环境问题", mine_table)],
            figures=fig("mine_env_problems")),
        Section("2 修复优先级 Restoration priority", [
            "修复优先级 = T02 生态保护重要性 × 退化程度，按配置 priority.matrix 查表（行：重要性，列：退化程度）。"
            "矩阵为本研究假设（置信度 L），可配置。矿山图斑按其所在网格的重要性与损毁程度定级。"],
            tables=[("优先级矩阵", matrix_table), ("各级修复面积", prio_table)], figures=fig("restoration_plan")),
        Section("3 分级分类保护 Graded protection", [
            "生态用地（三调 03/04/11/12）按《山水林田湖草生态保护修复工程指南（试行）》划为保护保育、自然恢复、"
            f"辅助再生、生态重建：重度退化 → 生态重建，中度 → 辅助再生，轻度或红线外极脆弱 → 自然恢复，"
            f"红线（01-47 {vv('01-47')}）及极重要区 → 保护保育。"],
            tables=[("分级面积", grade_table)], figures=fig("restoration_grading")),
        Section("4 国土综合整治分区 Consolidation zones", [
            f"按 {', '.join(zv['order'])} 的顺序取首个满足的规则（矿山影响带 {zv['mine_buffer_m']} m、城镇乡镇与建设用地、"
            f"耕地园地与 01-39（{vv('01-39')}）整理类项目、盐湖水域外扩 {zv['water_buffer_m']} m、一/二级修复区、生态保护红线、其余荒漠草原）。"],
            tables=[("分区面积", zone_table)], figures=fig("consolidation_zones", "consolidation_plan")),
        Section("5 矿山地质环境治理 Mine remediation", [
            "未治理与治理中的问题图斑逐一给出治理措施、责任主体（生产矿山企业边开采边治理，废弃/闭坑矿山政府主导）、"
            "实施期限与修复模式；已纳入 01-39 土地复垦项目的记其项目编号，其余列为新增复垦工程。"],
            tables=[("治理清单", pd.DataFrame(remed.drop(columns="geometry")).round(2))], figures=fig("mine_env_remediation")),
        Section("6 重点区域和重大工程 Key projects", [
            f"一级修复区按修复类型与乡镇归并为重大工程（非矿山工程面积 ≥ {min_ha:g} hm²）；{corridor_note}"],
            tables=[("重大工程", pd.DataFrame(key_v.drop(columns="geometry")).round(2) if len(key_v) else pd.DataFrame())],
            figures=fig("key_projects")),
        Section("7 规划期新增国土修复面积 New restoration area", [
            f"按配置 plan.schedule {sched} 将各级修复面积分解到 2025、2035 年（累计），矿山问题按 plan.mine_schedule；"
            "规划期目标为本研究假设（置信度 L），需与自然资源局核定。"],
            tables=[("分乡镇分类型新增修复面积（累计 hm²）", by_town.round(1))]),
    ]
    summary = {"修复优先级面积": records(prio_table), "新增修复面积": records(new_area), "综合整治分区": records(zone_table)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
