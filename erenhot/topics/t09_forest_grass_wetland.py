"""T09 林地草地湿地适宜性评价与保护恢复研究 — forest, grassland and wetland suitability, protection and
restoration of Erenhot (林草局牵头).

Reads T02's published 生态保护重要性 (its grid is the evaluation grid) and, when published, T02's
农业供水条件 (precipitation class) and T03's 牧业适宜性; the 三调 DLTB (01-46a.dltb), the forestry and
grassland deliveries of department 1 (01-05 林地保护利用规划, 01-08 公益林, 01-10 森林资源调查, 01-12 湿地
and 沙化土地, 01-13 草原监测 草地类型与产草量, 01-17 退化) and the soil survey (04-13, optional). Computes
(every threshold from ``erenhot/config/t09_forest_grass_wetland.yaml``):

* 宜林 / 宜草 / 宜湿 suitability by the limiting factor (land use, precipitation, soil texture, sandy
  land, eco importance, productivity, distance to wetland) and the 林草湿 combined evaluation;
* the development layout (保护 / 新增宜林 / 新增宜草 / 新增湿地), the pastoral pattern (牧业生产/生态空间 by
  草原类型), 基本草原 (《草原法》第四十二条);
* the reasonable stocking rate per grassland type (NY/T 635-2015, :mod:`erenhot.evaluation.grassland`)
  and the carrying capacity per township;
* degraded forest, grassland and wetland (01-17) with their restoration measures, cropland inside
  forest/grassland/wetland (已垦 → 退耕还林还草还湿), 林草 overlaps and the 2025/2035 保有量 targets.

Not produced: ``t09.biological_resources`` (重要生物资源分布) — no delivered dataset locates species
(01-18 优势树种、珍贵树种 is optional and gives trees only; no wildlife/plant survey is in the seed).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features
from scipy import ndimage

from erenhot.catalog import Catalog
from erenhot.evaluation import forest_grass_wetland as fgw
from erenhot.evaluation import grassland as gl
from erenhot.grid import Grid, rasterize, rasterize_codes, read_raster
from erenhot.maps import GRADE_COLOURS_5
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import (
    township_zones,
    LayerWriter,
    Progress,
    area_table,
    begin,
    by_township,
    finish,
    int_keys,
    no_progress,
    records,
    whole_city,
)
from erenhot.topics.inputs import TopicInputs

CODE = "t09"
CONFIG = "t09_forest_grass_wetland"
NOT_PRODUCED = {
    "t09.biological_resources": "重要生物资源分布 needs a dataset locating important species: 01-18 优势树种、珍贵树种 "
                                "(optional, trees only) and a wildlife/plant resources survey (陆生野生动植物资源调查), "
                                "which is not among the seed's 资料 items; nothing is drawn rather than a guess.",
}
SUIT_COLOURS = {**{k: GRADE_COLOURS_5[k] for k in (1, 2, 3, 4)}, 5: "#d9d9d9"}
COMBINED_COLOURS = {1: "#68b167", 2: "#cdf57a", 3: "#65cdaa", 4: "#f59a4a", 5: "#d9d9d9"}  # 制图规范 林地/草地/湿地 (spec §4.3)
LAYOUT_LABELS = {1: "林地保护", 2: "新增宜林地", 3: "草地保护", 4: "新增宜草地（还草、改良）", 5: "湿地保护", 6: "新增湿地（还湿）"}
LAYOUT_COLOURS = {1: "#3f8f3e", 2: "#9ad17f", 3: "#cdf57a", 4: "#f1e58a", 5: "#338ec0", 6: "#9fd8ea"}
SPACE_LABELS = {1: "牧业生产空间", 2: "牧业生态空间"}
BASIS_LABELS = {1: "天然/人工牧草地（重要放牧场、人工草地）", 2: "其他草地·重要放牧场（产草量）", 3: "其他草地·防风固沙等特殊作用"}
DEGREES = ("轻度", "中度", "重度")
TYPES_ZH = ("森林", "草原", "湿地")


def _polygons(codes: np.ndarray, grid: Grid, labels: dict[int, str], column: str = "类型") -> gpd.GeoDataFrame:
    """Polygons of a code raster (0 = none), with ``code``, ``column`` label and ``面积 hm²``."""
    shapes = [(shapely.geometry.shape(g), int(v)) for g, v in
              rio_features.shapes(codes.astype(np.int32), mask=codes > 0, transform=grid.transform)]
    gdf = gpd.GeoDataFrame({"code": [v for _, v in shapes], column: [labels.get(v, str(v)) for _, v in shapes]},
                           geometry=[g for g, _ in shapes], crs=grid.crs_epsg)
    gdf["面积 hm²"] = gdf.geometry.area / 1e4
    return gdf


def _burn(gdf: gpd.GeoDataFrame, grid: Grid, column: str, mapping: dict[str, int]) -> np.ndarray:
    if not len(gdf):
        return np.zeros(grid.shape, np.uint8)
    return rasterize_codes(gdf, column, grid, mapping)


def _mask(gdf: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    return rasterize(gdf, grid, value=1, dtype="uint8").astype(bool) if len(gdf) else np.zeros(grid.shape, bool)


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T09 from the resolved inputs and publish its layers, tables, maps and report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.
    """
    run_ = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if run_.reused is not None:
        return run_.reused
    topic, cfg, pub = run_.topic, run_.cfg, run_.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = [f"{k} not produced: {why}" for k, why in NOT_PRODUCED.items()]
    lu_cfg = v["landuse"]
    suit_labels = int_keys(v["labels"]["suitability"])
    comb_labels = int_keys(v["labels"]["combined"])

    progress(0.03, "grid from T02 生态保护重要性; 三调 DLTB")
    eco, grid, _ = read_raster(inputs.layer_bytes("t02.eco_importance"))
    inside = eco > 0
    cell_ha = grid.cell_area_km2 * 100.0
    dltb = inputs.vector("01-46a.dltb")
    dltb["DLBM"] = dltb["DLBM"].astype(str)
    codes = sorted(dltb["DLBM"].unique())
    lu = rasterize_codes(dltb, "DLBM", grid, {c: i + 1 for i, c in enumerate(codes)})
    lu = np.where(inside, lu, 0)

    def lut(table: dict[str, int], default: int) -> np.ndarray:
        arr = np.array([0] + [int(table.get(c, default)) for c in codes], dtype=np.uint8)
        return np.where(inside, arr[lu], 0).astype(np.uint8)

    def is_code(group: list[str]) -> np.ndarray:
        return np.isin(lu, [codes.index(c) + 1 for c in group if c in codes]) & inside

    # the official city boundary and township polygons (01-04), as every topic draws and sums by them
    boundary = inputs.vector("01-04", "city")
    zones, zone_names = township_zones(inputs.vector("01-04", "townships"), grid, inside)
    degr_table = inputs.table("01-17", "degradation")
    writer = LayerWriter(pub, topic, grid, boundary)

    cur_forest, cur_grass = is_code(lu_cfg["forest_dlbm"]), is_code(lu_cfg["grass_dlbm"])
    cur_wet_dltb, cur_water = is_code(lu_cfg["wetland_dlbm"]), is_code(lu_cfg["water_dlbm"])

    progress(0.10, "factors: 01-12 湿地与沙化土地, 01-13 草地类型与产草量, 04-13 土壤, T02 降水")
    wet_poly = inputs.vector("01-12", "wetland")
    sandy = inputs.vector("01-12", "sandy_land")
    cur_wetland = (cur_wet_dltb | cur_water | _mask(wet_poly, grid)) & inside
    sandy_types = sorted(sandy["SHLX"].astype(str).unique())
    sandy_r = _burn(sandy, grid, "SHLX", {t: i + 1 for i, t in enumerate(sandy_types)})

    def sandy_grade(table: dict[str, int]) -> np.ndarray:
        return fgw.grade_by_codes(sandy_r, {i + 1: int(table.get(t, 0)) for i, t in enumerate(sandy_types)})

    if inputs.has("04-13"):
        soil = inputs.vector("04-13")
        textures = sorted(soil["TRZD"].astype(str).unique())
        tex_r = _burn(soil, grid, "TRZD", {t: i + 1 for i, t in enumerate(textures)})
    else:
        textures, tex_r = [], np.zeros(grid.shape, np.uint8)
        notes.append("土壤 (04-13) not delivered: soil texture does not limit any use in this run.")

    def texture_grade(table: dict[str, int]) -> np.ndarray:
        return fgw.grade_by_codes(tex_r, {i + 1: int(table.get(t, 0)) for i, t in enumerate(textures)})

    if inputs.has_layer("t02.water_agri"):
        water_cls = read_raster(inputs.layer_bytes("t02.water_agri"))[0]
    else:
        water_cls = np.zeros(grid.shape, np.uint8)
        notes.append("t02.water_agri not published: precipitation does not limit 宜林/宜草 in this run.")
    slope_grade = np.zeros(grid.shape, np.uint8)
    if inputs.has_layer("t02.slope"):  # not in the catalog entry of T09 today; used when it is added
        slope = read_raster(inputs.layer_bytes("t02.slope"))[0].astype("float64")
        b = v["forest"]["slope_breaks_deg"]
        slope_grade = np.where(np.isnan(slope), 0, 1 + np.searchsorted(b, slope, side="left")).astype(np.uint8)
    else:
        notes.append("坡度 not used: t02.slope is not an input of T09 (Erenhot is flat, spec §0.1, so it would rarely limit).")
    notes.append("地下水埋深 and 土壤含盐量 were not delivered: 宜湿 uses the distance to delivered wetlands as the groundwater "
                 "proxy, salinity enters only as 三调 1204 盐碱地 in the land-use tables.")

    limit_notes = list(notes[len(NOT_PRODUCED):])  # what limits the factor set of this run
    params = cfg.params(gl.StockingParams, "stocking")
    gtypes = inputs.vector("01-13")
    unknown = sorted(set(gtypes["CDL"].astype(str)) - set(params.types))
    if unknown:
        raise ValueError(f"01-13 {inputs.version('01-13')}: grassland types {unknown} have no NY/T 635 coefficients "
                         f"in {CONFIG}.yaml stocking.types (known: {', '.join(params.types)})")
    type_code = {name: int(spec["code"]) for name, spec in params.types.items()}
    type_r = _burn(gtypes, grid, "CDL", type_code)
    yield_r = rasterize(gtypes, grid, value="KSCL", dtype="float32", fill=np.nan) if len(gtypes) else np.full(grid.shape, np.nan, "float32")

    progress(0.22, "宜林 / 宜草 / 宜湿 suitability")
    fc, gc, wc = v["forest"], v["grass"], v["wetland"]
    f_land = lut(fc["landuse_grades"], fgw.NOT_EVALUATED)
    f_eco = np.where((eco == 1) & ~cur_forest, int(fc["eco_extreme_nonforest_grade"]), 0).astype(np.uint8)
    forest = fgw.limiting_grade(
        [np.where(f_land == 5, 0, f_land), fgw.grade_by_codes(water_cls, int_keys(fc["water_grades"])),
         texture_grade(fc["texture_grades"]), sandy_grade(fc["sandy_grades"]), f_eco, slope_grade],
        f_land != fgw.NOT_EVALUATED, inside)
    g_land = lut(gc["landuse_grades"], fgw.NOT_EVALUATED)
    grass = fgw.limiting_grade(
        [np.where(g_land == 5, 0, g_land), fgw.grade_by_codes(water_cls, int_keys(gc["water_grades"])),
         texture_grade(gc["texture_grades"]), sandy_grade(gc["sandy_grades"]),
         fgw.yield_grade(yield_r, gc["yield_breaks_kg_per_ha"]), slope_grade],
        g_land != fgw.NOT_EVALUATED, inside)
    w_land = np.where(cur_wetland, 1, lut(wc["landuse_grades"], fgw.NOT_EVALUATED)).astype(np.uint8)
    dist = ndimage.distance_transform_edt(~cur_wetland) * grid.cell_size_m if cur_wetland.any() else np.full(grid.shape, np.inf)
    not_wet = ~cur_wetland
    wetland = fgw.limiting_grade(
        [np.where(w_land == 5, 0, w_land), np.where(not_wet, fgw.distance_grade(dist, wc["distance_breaks_m"]), 0),
         np.where(not_wet, texture_grade(wc["texture_grades"]), 0)],
        w_land != fgw.NOT_EVALUATED, inside)
    combined = fgw.combined_suitability({"forest": forest, "grass": grass, "wetland": wetland},
                                        v["combined"]["priority"], v["combined"]["max_suitable_grade"], inside)

    progress(0.36, "development layout")
    layout = np.zeros(grid.shape, np.uint8)
    layout[cur_wetland] = 5
    layout[cur_forest & ~cur_wetland] = 1
    layout[cur_grass & ~cur_wetland & ~cur_forest] = 3
    layout[(combined == 1) & ~cur_forest & ~cur_wetland] = 2
    layout[(combined == 3) & ~cur_wetland] = 6
    layout[(combined == 2) & ~cur_grass & ~cur_forest & ~cur_wetland] = 4
    layout = np.where(inside, layout, 0).astype(np.uint8)
    layout_v = _polygons(layout, grid, LAYOUT_LABELS, "布局类型")

    progress(0.44, "stocking rate (NY/T 635-2015) and carrying capacity per township")
    degraded = inputs.vector("01-17", "degraded_land")
    degraded["LX"] = degraded["LX"].astype(str)
    degraded["THCD"] = degraded["THCD"].astype(str)
    grass_deg = _burn(degraded[degraded["LX"] == "草原"], grid, "THCD", {d: i + 1 for i, d in enumerate(DEGREES)})
    pc = v["pastoral"]
    eco_space = cur_grass & (np.isin(type_r, [type_code[t] for t in pc["eco_types"] if t in type_code])
                             | np.isin(grass_deg, [DEGREES.index(d) + 1 for d in pc["eco_degradation"]])
                             | np.isin(sandy_r, [sandy_types.index(t) + 1 for t in pc["eco_sandy"] if t in sandy_types])
                             | np.isin(eco, list(pc["eco_importance_grades"])))
    production = cur_grass & ~eco_space
    grass_types = np.where(cur_grass, type_r, 0)
    no_type = cur_grass & (type_r == 0)
    if no_type.any():
        notes.append(f"{no_type.sum() * cell_ha:,.0f} hm² of 三调 grassland lie outside the 01-13 草地类型图: not in the stocking-rate totals.")
    yields = np.where(cur_grass, yield_r, np.nan)
    by_type = gl.carrying_capacity_raster(zones, grass_types, yields, cell_ha, params, zone_names)
    by_type_prod = gl.carrying_capacity_raster(zones, np.where(production, type_r, 0), yields, cell_ha, params, zone_names)
    totals = gl.township_totals(by_type)
    totals_prod = gl.township_totals(by_type_prod).rename(columns={gl.AREA_HA: "生产空间草地面积 hm²", gl.CAPACITY: "生产空间合理载畜量 羊单位"})
    township_cap = totals.merge(totals_prod[[gl.ZONE, "生产空间草地面积 hm²", "生产空间合理载畜量 羊单位"]], on=gl.ZONE, how="left").fillna(
        {"生产空间草地面积 hm²": 0.0, "生产空间合理载畜量 羊单位": 0.0})
    standard = gl.stocking_standard_table(params)
    whole = gl.carrying_capacity_raster(np.where(inside, 1, 0), grass_types, yields, cell_ha, params, {1: "全市"})
    stocking = standard.merge(whole[[gl.GRASS_TYPE, gl.AREA_HA, gl.YIELD, gl.SU_PER_HA, gl.HA_PER_SU, gl.CAPACITY]],
                              on=gl.GRASS_TYPE, how="left")
    total_capacity = float(np.nansum(township_cap[gl.CAPACITY]))
    prod_capacity = float(np.nansum(township_cap["生产空间合理载畜量 羊单位"]))

    progress(0.52, "pastoral pattern and 基本草原")
    space = np.where(production, 1, np.where(eco_space, 2, 0))
    pastoral_code = np.where(space > 0, space * 10 + grass_types, 0).astype(np.uint8)
    by_code = params.type_by_code
    pastoral_v = _polygons(pastoral_code, grid, {}, "空间类型")
    pastoral_v["空间类型"] = [SPACE_LABELS[c // 10] for c in pastoral_v["code"]]
    pastoral_v["草地类型"] = [by_code.get(c % 10, "草地类型图外") for c in pastoral_v["code"]]
    pastoral_v["管制规则"] = pastoral_v["空间类型"].map(pc["rules"])
    bp = v["basic_pasture"]
    other = is_code(["0404"])
    basis = np.zeros(grid.shape, np.uint8)
    basis[other & np.isin(eco, list(bp["other_grass_eco_grades"]))] = 3
    basis[other & (np.nan_to_num(yield_r, nan=-1.0) >= float(bp["other_grass_min_yield_kg_per_ha"]))] = 2
    basis[is_code(list(bp["dlbm"]))] = 1
    basic_v = _polygons(basis, grid, BASIS_LABELS, "划定依据")

    progress(0.60, "degraded land, restoration, 已垦 → 退耕还林还草还湿, 林草重叠")
    degraded = degraded.assign(面积_hm2=degraded.geometry.area / 1e4)
    degraded_v = degraded.rename(columns={"面积_hm2": "面积 hm²"})
    measures, period = v["restoration"]["measures"], v["restoration"]["period"]
    restoration_v = degraded_v.copy()
    restoration_v["修复措施"] = [measures.get(lx, {}).get(d, "") for lx, d in zip(restoration_v["LX"], restoration_v["THCD"])]
    restoration_v["实施期限"] = restoration_v["THCD"].map(period)
    deg_code = {(lx, d): i * 3 + j + 1 for i, lx in enumerate(TYPES_ZH) for j, d in enumerate(DEGREES)}
    deg_labels = {c: f"{lx}{d}退化" for (lx, d), c in deg_code.items()}
    deg_r = rasterize(degraded.assign(_c=[deg_code.get((a, b), 0) for a, b in zip(degraded["LX"], degraded["THCD"])]),
                      grid, value="_c", dtype="uint8") if len(degraded) else np.zeros(grid.shape, np.uint8)
    deg_r = np.where(inside, deg_r, 0)
    deg_poly = (degraded.assign(MJ_calc=degraded.geometry.area / 1e4).groupby(["XZQDM", "LX"], as_index=False)["MJ_calc"].sum())
    deg_check = degr_table.assign(XZQDM=degr_table["XZQDM"].astype(str)).merge(
        deg_poly.assign(XZQDM=deg_poly["XZQDM"].astype(str)), on=["XZQDM", "LX"], how="left").fillna({"MJ_calc": 0.0})
    deg_check["表列退化面积 hm²"] = deg_check[["light_ha", "moderate_ha", "severe_ha"]].sum(axis=1)
    deg_check = deg_check.rename(columns={"MJ_calc": "图斑退化面积 hm²", "total_ha": "总面积 hm²", "degraded_rate_pct": "退化率 %"})
    deg_check = deg_check[["XZQDM", "XZQMC", "LX", "总面积 hm²", "表列退化面积 hm²", "图斑退化面积 hm²", "退化率 %"]]

    plan = inputs.vector("01-05")
    public = inputs.vector("01-08")
    crop_parcels = dltb[dltb["DLBM"].isin(lu_cfg["cropland_dlbm"])][["DLBM", "geometry"]]
    sources = [("已垦湿地", "还湿", wet_poly), ("已垦林地", "还林", plan), ("已垦草原", "还草", gtypes)]
    pieces = []
    taken = None
    for kind, action, layer in sources:  # earlier sources win where they overlap
        if not len(crop_parcels) or not len(layer):
            continue
        inter = gpd.overlay(crop_parcels, layer[["geometry"]], how="intersection", keep_geom_type=True)
        if taken is not None and len(inter):
            inter = gpd.overlay(inter, taken, how="difference", keep_geom_type=True)
        if len(inter):
            inter = inter.assign(已垦类型=kind, 退耕方向=action)
            pieces.append(inter)
            merged = gpd.GeoDataFrame(geometry=[shapely.union_all(inter.geometry.values)], crs=inter.crs)
            taken = merged if taken is None else gpd.GeoDataFrame(
                geometry=[shapely.union_all([taken.geometry.iloc[0], merged.geometry.iloc[0]])], crs=inter.crs)
    reclaimed_v = (pd.concat(pieces, ignore_index=True) if pieces else
                   gpd.GeoDataFrame({"DLBM": [], "已垦类型": [], "退耕方向": []}, geometry=[], crs=dltb.crs))
    reclaimed_v = gpd.GeoDataFrame(reclaimed_v, geometry="geometry", crs=dltb.crs)
    reclaimed_v["面积 hm²"] = reclaimed_v.geometry.area / 1e4
    if len(reclaimed_v):
        pts = shapely.point_on_surface(reclaimed_v.geometry.values)
        rr = np.clip(((grid.transform.f - shapely.get_y(pts)) / grid.cell_size_m).astype(int), 0, grid.height - 1)
        cc = np.clip(((shapely.get_x(pts) - grid.transform.c) / grid.cell_size_m).astype(int), 0, grid.width - 1)
        reclaimed_v["综合评价"] = [comb_labels.get(int(combined[r, c]), "") for r, c in zip(rr, cc)]
    else:
        reclaimed_v["综合评价"] = []
    reclaim_note = ("已垦林地/草原/湿地 = 三调耕地 inside the 林地保护利用规划 (01-05), the 草原监测 草地类型图 (01-13) or the wetlands "
                 "(01-12); 永久基本农田 was not delivered, so no parcel is excluded for it — check before 退耕.")
    notes.append(reclaim_note)
    recl_code = {"还林": 1, "还草": 2, "还湿": 3}
    recl_r = _burn(reclaimed_v, grid, "退耕方向", recl_code) if len(reclaimed_v) else np.zeros(grid.shape, np.uint8)

    grass_parcels = dltb[dltb["DLBM"].isin(lu_cfg["grass_dlbm"])][["DLBM", "geometry"]]
    overlap_rows = []
    for src, layer, attr in (("01-05 林地保护利用规划", plan, "LDLX"), ("01-08 公益林", public, "SQDJ")):
        if not len(layer):
            continue
        inter = gpd.overlay(layer[[attr, "geometry"]], grass_parcels, how="intersection", keep_geom_type=True)
        if not len(inter):
            continue
        for label, grp in inter.groupby(attr):
            if grp.geometry.area.sum() / 1e4 < float(v["overlap"]["min_area_ha"]):
                continue
            cells = _mask(grp, grid) & inside
            counts = {c: int(((combined == c) & cells).sum()) for c in (1, 2, 3, 4)}
            top = max(counts, key=counts.get) if any(counts.values()) else 0
            advice = {1: "宜林：保留林地，按林地管理（灌草结合）", 2: "宜草：以三调草地为准，调整林地/公益林界线，按草原管理（林草复合）",
                      3: "宜湿：纳入湿地保护", 4: "不宜：核实后按现状管理"}.get(top, "核实")
            overlap_rows.append({"来源 source": src, "林地类别": label, "三调草地面积 hm²": float(grp.geometry.area.sum() / 1e4),
                                 "综合评价 (多数)": comb_labels.get(top, ""), "处置建议": advice})
    overlap = pd.DataFrame(overlap_rows, columns=["来源 source", "林地类别", "三调草地面积 hm²", "综合评价 (多数)", "处置建议"])

    progress(0.70, "保有量 targets 2025 / 2035")
    tc = v["targets"]

    def dltb_ha(group: list[str]) -> float:
        return float(dltb[dltb["DLBM"].isin(group)].geometry.area.sum() / 1e4)

    cur = {"林地": dltb_ha(lu_cfg["forest_dlbm"]), "草地": dltb_ha(lu_cfg["grass_dlbm"]),
           "基本草原": float((basis > 0).sum() * cell_ha), "湿地": dltb_ha(lu_cfg["wetland_dlbm"])}
    new_forest = float((layout == 2).sum() * cell_ha)
    new_forest_on_grass = float(((layout == 2) & cur_grass).sum() * cell_ha)
    new_wet = float((layout == 6).sum() * cell_ha)
    new_wet_on_grass = float(((layout == 6) & cur_grass).sum() * cell_ha)
    return_grass = float(reclaimed_v.loc[reclaimed_v["退耕方向"] == "还草", "面积 hm²"].sum()) if len(reclaimed_v) else 0.0
    nnl = set(tc["no_net_loss"])
    trows = []
    for name in ("林地", "草地", "基本草原", "湿地"):
        row: dict[str, Any] = {"指标": f"{name}保有量" if name != "湿地" else "湿地面积", f"现状 {tc['base_year']} hm²": round(cur[name], 2)}
        for year in tc["years"]:
            y = str(year)
            if name == "林地":
                add, share, rem, how = new_forest, tc["new_forest_share"][y], 0.0, "现状 + 比例 × 新增宜林地"
            elif name == "湿地":
                add, share, rem, how = new_wet, tc["new_wetland_share"][y], 0.0, "现状 + 比例 × 新增宜湿"
            elif name == "草地":
                add, share = return_grass, tc["return_grass_share"][y]
                rem = tc["new_forest_share"][y] * new_forest_on_grass + tc["new_wetland_share"][y] * new_wet_on_grass
                how = "现状 + 比例 × 退耕还草 − 草地上的新增林地、湿地"
            else:
                add, share, rem, how = 0.0, 0.0, 0.0, "不低于现状（《草原法》第四十二条）"
            raw = fgw.target_area(cur[name], add, share, rem, no_net_loss=False)
            val = fgw.target_area(cur[name], add, share, rem, no_net_loss=name in nnl)
            row[f"{year} 目标 hm²"] = round(val, 2)
            row["测算方法"] = how
            row[f"{year} 底线约束起作用"] = bool(val > raw + 1e-9)
        trows.append(row)
    targets = pd.DataFrame(trows)
    notes.append("保有量 targets follow the configured realisation shares; the 全盟 分解 indicators the seed names were not "
                 "delivered, so they are not checked against an upper-level quota.")

    progress(0.78, "area tables and writing layers")
    land_rows = [{"地类": name, "三调面积 hm²": round(cur[name], 2)} for name in ("林地", "草地", "湿地")]
    land_rows += [{"地类": "水域（河湖库塘渠）", "三调面积 hm²": round(dltb_ha(lu_cfg["water_dlbm"]), 2)},
                  {"地类": "林地保护利用规划 林地", "三调面积 hm²": round(float(plan.geometry.area.sum() / 1e4), 2)},
                  {"地类": "公益林", "三调面积 hm²": round(float(public.geometry.area.sum() / 1e4), 2)},
                  {"地类": "森林资源调查 小班", "三调面积 hm²": round(float(inputs.vector("01-10").geometry.area.sum() / 1e4), 2)}]
    land_table = pd.DataFrame(land_rows).rename(columns={"三调面积 hm²": "面积 hm²"})
    areas = area_table(topic, grid, zones, zone_names, [
        ("t09.forest_suitability", forest, suit_labels), ("t09.grass_suitability", grass, suit_labels),
        ("t09.wetland_suitability", wetland, suit_labels), ("t09.combined_suitability", combined, comb_labels)])
    for layer_id, arr in (("t09.forest_suitability", forest), ("t09.grass_suitability", grass),
                          ("t09.wetland_suitability", wetland), ("t09.combined_suitability", combined)):
        writer.raster(layer_id, arr, nodata=0)
    writer.vector("t09.development_layout", layout_v)
    writer.vector("t09.pastoral_pattern", pastoral_v)
    writer.vector("t09.basic_pasture", basic_v)
    writer.vector("t09.degraded_land", degraded_v)
    writer.vector("t09.reclaimed_return", reclaimed_v)
    writer.vector("t09.degraded_restoration", restoration_v)
    writer.table("t09.stocking_rate", "stocking_rate", stocking, "适宜载畜量标准")
    writer.table("t09.targets", "targets", targets, "保有量目标")
    writer.table(None, "carrying_capacity_by_township", township_cap, "分乡镇合理载畜量 carrying capacity by township")
    writer.table(None, "carrying_capacity_by_type", by_type, "分乡镇分草地类型合理载畜量")
    writer.table(None, "area_by_class", areas, "适宜性面积 area by class")
    writer.table(None, "forest_grass_overlap", overlap, "林草重叠 forest–grass overlaps")
    writer.table(None, "degradation_check", deg_check, "退化面积核对 degradation table vs polygons")

    progress(0.86, "maps")
    writer.class_map("t09.forest_suitability", forest, suit_labels, SUIT_COLOURS, thumbnail=True)
    writer.class_map("t09.grass_suitability", grass, suit_labels, SUIT_COLOURS)
    writer.class_map("t09.wetland_suitability", wetland, suit_labels, SUIT_COLOURS)
    writer.class_map("t09.combined_suitability", combined, comb_labels, COMBINED_COLOURS, thumbnail=True)
    writer.class_map("t09.development_layout", layout, LAYOUT_LABELS, LAYOUT_COLOURS, thumbnail=True)
    writer.class_map("t09.pastoral_pattern", np.where(space > 0, space, 0).astype(np.uint8), SPACE_LABELS,
                     {1: "#e6c35c", 2: "#5aa469"}, subtitle="按草原类型区分生产属性与生态属性")
    writer.class_map("t09.basic_pasture", basis, BASIS_LABELS, {1: "#7fbf4d", 2: "#c7e58f", 3: "#4d9a6b"})
    deg_colours = {c: ["#fde0a0", "#f59a4a", "#c0392b"][(c - 1) % 3] for c in deg_labels}
    writer.class_map("t09.degraded_land", deg_r.astype(np.uint8), deg_labels, deg_colours)
    writer.class_map("t09.degraded_restoration", np.where(deg_r > 0, (deg_r - 1) % 3 + 1, 0).astype(np.uint8),
                     {i + 1: f"{d}退化 · {period.get(d, '')}年前修复" for i, d in enumerate(DEGREES)},
                     {1: "#fde0a0", 2: "#f59a4a", 3: "#c0392b"}, subtitle="措施见图层属性 修复措施")
    writer.class_map("t09.reclaimed_return", np.where(inside, recl_r, 0).astype(np.uint8), {1: "退耕还林", 2: "退耕还草", 3: "退耕还湿"},
                     {1: "#68b167", 2: "#cdf57a", 3: "#65cdaa"})

    progress(0.94, "report")

    def block(layer_id: str) -> pd.DataFrame:
        return whole_city(areas, layer_id, "等级")

    def fig(*names: str) -> list[tuple[str, str]]:
        return [f for f in writer.figures if any(f"/{n}.png" in f[1] for n in names)]

    ver = {d: inputs.version(d) for d in ("01-05", "01-08", "01-10", "01-12", "01-13", "01-17", "01-46a.dltb")}
    figures = {
        "现状林地 / 草地 / 湿地 (三调)": f"{cur['林地']:,.1f} / {cur['草地']:,.1f} / {cur['湿地']:,.1f} hm²",
        "新增宜林地 / 新增湿地": f"{new_forest:,.1f} / {new_wet:,.1f} hm²",
        "全市合理载畜量 (全部草地)": f"{total_capacity:,.0f} 羊单位",
        "牧业生产空间合理载畜量": f"{prod_capacity:,.0f} 羊单位",
        "基本草原": f"{cur['基本草原']:,.1f} hm²",
        "退化图斑 degraded polygons": f"{len(degraded_v)} ({float(degraded_v['面积 hm²'].sum()):,.1f} hm²)",
        "已垦 → 退耕 parcels": f"{len(reclaimed_v)} ({float(reclaimed_v['面积 hm²'].sum()) if len(reclaimed_v) else 0.0:,.1f} hm²)",
        "林草重叠 (三调草地上的林地/公益林)": f"{float(overlap['三调草地面积 hm²'].sum()) if len(overlap) else 0.0:,.1f} hm²",
    }
    sections = [
        Section("1 现状 Present forest, grassland and wetland",
                [f"三调地类图斑 01-46a.dltb {ver['01-46a.dltb']}；林地保护利用规划 01-05 {ver['01-05']}、公益林 01-08 {ver['01-08']}、"
                 f"森林资源调查 01-10 {ver['01-10']}、湿地与沙化土地 01-12 {ver['01-12']}。"], tables=[("现状面积", land_table)]),
        Section("2 宜林性、宜草性、宜湿性评价 Suitability",
                ["极限条件法：各因子分为高度适宜/适宜/勉强适宜/不适宜，取最差因子等级；建设用地、耕地、水域等不参评。"
                 "因子：三调地类、降水等级（t02.water_agri）、土壤质地（04-13）、沙化土地类型（01-12）、生态保护重要性（宜林）、"
                 f"可食产草量（宜草，01-13 {ver['01-13']}）、距现有湿地距离（宜湿，地下水埋深代用）。阈值均为 [L]，见配置。"] + limit_notes,
                tables=[("宜林性", block("t09.forest_suitability")), ("宜草性", block("t09.grass_suitability")),
                        ("宜湿性", block("t09.wetland_suitability")),
                        ("分乡镇面积 by township", by_township(areas, ["t09.combined_suitability"]))],
                figures=fig("forest_suitability", "grass_suitability", "wetland_suitability")),
        Section("3 综合评价与林草湿发展布局 Combined evaluation and layout",
                [f"宜林则林、宜草则草、宜湿则湿：同等级时优先 {' > '.join(v['combined']['priority'])}。新增宜林地 {new_forest:,.1f} hm²，"
                 f"其中占三调草地 {new_forest_on_grass:,.1f} hm²；新增湿地 {new_wet:,.1f} hm²。"],
                tables=[("综合评价", whole_city(areas, "t09.combined_suitability", "类别"))],
                figures=fig("combined_suitability", "development_layout")),
        Section("4 适宜载畜量 Stocking rate (NY/T 635-2015)",
                ["A_u = Y·(1−r)·(1+g)·E·U·H·M/(I·D)，I = 1.8 kg 标准干草/(羊单位·d)；Y 为 01-13 草原监测可食产草量，按三调草地图斑统计。"
                 f"全市合理载畜量 {total_capacity:,.0f} 羊单位（全部草地），其中牧业生产空间 {prod_capacity:,.0f} 羊单位；"
                 "生态空间禁牧/休牧，不计入可放牧载畜量。"],
                tables=[("适宜载畜量标准 by grassland type", stocking), ("分乡镇合理载畜量", township_cap)]),
        Section("5 牧业空间格局与基本草原 Pastoral pattern and basic pastures",
                [f"生态属性草地类：{'、'.join(pc['eco_types'])}；另含 {'、'.join(pc['eco_degradation'])}退化草原和 "
                 f"{'、'.join(pc['eco_sandy'])}。管制规则写入图层属性。基本草原按《草原法》第四十二条。"]
                + (["t03.grazing_suitability is published: 牧业生产空间中 T03 牧业适宜/一般适宜 的面积 "
                    f"{float((production & np.isin(read_raster(inputs.layer_bytes('t03.grazing_suitability'))[0], [1, 2])).sum() * cell_ha):,.1f} hm²."]
                   if inputs.has_layer("t03.grazing_suitability") else ["t03.grazing_suitability not published: no comparison with T03."]),
                figures=fig("pastoral_pattern", "basic_pasture")),
        Section("6 退化林地、草原与湿地及修复 Degradation and restoration",
                [f"退化图斑来自 01-17 {ver['01-17']}（GB 19377-2003 轻度/中度/重度）；修复措施与期限按配置 restoration。"],
                tables=[("退化统计核对 (表 vs 图斑)", deg_check)], figures=fig("degraded_land", "degraded_restoration")),
        Section("7 已垦林地、草原、湿地退耕还林还草还湿 Returning reclaimed land", [reclaim_note],
                tables=[("退耕图斑", reclaimed_v.drop(columns="geometry").round(2) if len(reclaimed_v) else pd.DataFrame())],
                figures=fig("reclaimed_return")),
        Section("8 林草重叠 Forest–grass overlaps", ["林地保护利用规划、公益林 与 三调草地 的重叠及按综合评价的处置建议。"],
                tables=[("林草重叠", overlap)]),
        Section("9 保有量目标 Targets 2025 / 2035", ["目标 = 现状 + 实现比例 × 新增潜力 − 转出；列入 no_net_loss 的指标不低于现状。"],
                tables=[("保有量目标", targets)]),
        Section("10 未形成的成果 Outputs not produced", [f"{k}: {why}" for k, why in NOT_PRODUCED.items()]),
    ]
    summary = {"适宜载畜量标准": records(stocking), "保有量目标": records(targets),
               "综合评价 (km²)": records(whole_city(areas, "t09.combined_suitability", "类别"))}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
