"""T13 农牧业现代化发展格局与乡村牧区建设研究 — agricultural and pastoral modernisation and the
construction of the 苏木嘎查 of Erenhot (农牧水务局牵头).

Reads T03's published 农业生产适宜性 and 牧业适宜性 (their grid is the evaluation grid), T09's published
适宜载畜量标准 (``t09.stocking_rate``: the NY/T 635-2015 载畜系数 per grassland type), the 三调 DLTB
(01-46a.dltb), the city boundary and townships (01-04), the grassland monitoring (01-13 草地类型 and
可食产草量), the cropland quality grades (01-40 耕地质量等别), the 农牧业区划 (04-11) and the 苏木嘎查
基本情况 (18-01: livestock by species, population, 嘎查委员会 positions). Computes (every threshold from
``erenhot/config/t13_agri_modernisation.yaml``):

* 草畜平衡 per township: livestock → 羊单位 (spec §2.4), carrying capacity = Σ yield × 载畜系数 × area
  on 三调 grassland (spec §2.2, the coefficients T09 published), 超载率 and 应减畜量; the 2025/2035
  减畜 path;
* 草原适宜性等级 (worse of T03 牧业适宜性 and the yield grade) and 耕地适宜性等级 (worse of T03 农业生产
  适宜性 and the 01-40 利用等 grade on the cropland parcels), 极限条件法;
* 农牧业综合区划: the delivered 区划 units with the evaluation's indicators (areas by grade, capacity,
  cropland); 农牧业生产空间 (农业/牧业生产, 限制放牧, 禁牧恢复) with 管控规则 and its 2025/2035 scale;
* 苏木嘎查建设布局: the 嘎查 with their classification (spec §5.6) and 羊单位;
* derived proposals (规划建议, labelled so in the layers and the report — 04-12 / 01-15 plans are not
  delivered): 草牧场建设 2025/2035 — the township feed gap (share_y × 应减畜量, 羊单位) converted to
  improved-pasture area (gap / (n · (uplift − 1)), n = the township's 合理载畜量 羊单位/hm²) and placed on
  the best grassland cells (grade, then distance to 三调 water, then yield; 2035 ⊇ 2025) outside 限制放牧 /
  禁牧恢复 and cropland; 发展战略格局 — 城郊农牧业区 / 农牧业发展核心区 / 生态牧业带 by the rule table
  ``strategy_pattern.rules``.
"""

from __future__ import annotations

from typing import Any

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features
from scipy import ndimage

from erenhot.catalog import Catalog
from erenhot.evaluation import forest_grass_wetland as fgw
from erenhot.evaluation import grassland as gl
from erenhot.grid import Grid, rasterize, read_raster
from erenhot.maps import GRADE_COLOURS_5
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import (
    LayerWriter,
    Progress,
    area_table,
    begin,
    by_township,
    finish,
    int_keys,
    no_progress,
    records,
    township_zones,
    whole_city,
)
from erenhot.topics.inputs import TopicInputs

CODE = "t13"
CONFIG = "t13_agri_modernisation"
NOT_PRODUCED: dict[str, str] = {}  # every catalog output is produced; 草牧场建设 and 发展战略格局 as derived proposals
SPECIES = {"NIU": "牛", "MA": "马", "LUOTUO": "骆驼", "MIANYANG": "绵羊", "SHANYANG": "山羊"}
SPACE_LABELS = {1: "农业生产空间", 2: "牧业生产空间", 3: "限制放牧空间", 4: "禁牧恢复空间"}
SPACE_COLOURS = {1: "#f5d76e", 2: "#a6d96a", 3: "#e6c35c", 4: "#5aa469"}
SUIT_COLOURS = {**{k: GRADE_COLOURS_5[k] for k in (1, 2, 3, 4)}, 5: "#d9d9d9"}
GACHA_COLOURS = {1: "#e34a33", 2: "#fdbb84", 3: "#2b8cbe"}
GACHA_CODES = {"城郊融合类": 1, "集聚提升类": 2, "搬迁撤并类": 3}


def _polygons(codes: np.ndarray, grid: Grid, labels: dict[int, str], column: str) -> gpd.GeoDataFrame:
    shapes = [(shapely.geometry.shape(g), int(v)) for g, v in
              rio_features.shapes(codes.astype(np.int32), mask=codes > 0, transform=grid.transform)]
    gdf = gpd.GeoDataFrame({"code": [v for _, v in shapes], column: [labels.get(v, str(v)) for _, v in shapes]},
                           geometry=[g for g, _ in shapes], crs=grid.crs_epsg)
    gdf["面积 hm²"] = gdf.geometry.area / 1e4
    return gdf


def _sample(arr: np.ndarray, grid: Grid, geoms) -> np.ndarray:
    """Values of ``arr`` at a point on each geometry (clipped to the grid)."""
    pts = shapely.point_on_surface(np.asarray(geoms))
    rr = np.clip(((grid.transform.f - shapely.get_y(pts)) / grid.cell_size_m).astype(int), 0, grid.height - 1)
    cc = np.clip(((shapely.get_x(pts) - grid.transform.c) / grid.cell_size_m).astype(int), 0, grid.width - 1)
    return arr[rr, cc]


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T13 from the resolved inputs and publish its layers, tables, maps and report.

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
    gs, cs, ps = v["grassland_suitability"], v["cropland_suitability"], v["production_space"]
    g_labels, c_labels = int_keys(gs["labels"]), int_keys(cs["labels"])

    progress(0.03, "grid from T03 牧业适宜性; 三调 DLTB; townships")
    grazing, grid, _ = read_raster(inputs.layer_bytes("t03.grazing_suitability"))
    agri = read_raster(inputs.layer_bytes("t03.agri_suitability"))[0]
    inside = grazing > 0
    cell_ha = grid.cell_area_km2 * 100.0
    boundary = inputs.vector("01-04", "city")
    zones, zone_names = township_zones(inputs.vector("01-04", "townships"), grid, inside)
    writer = LayerWriter(pub, topic, grid, boundary)
    dltb = inputs.vector("01-46a.dltb")
    dltb["DLBM"] = dltb["DLBM"].astype(str)

    def dltb_mask(codes: list[str]) -> np.ndarray:
        sel = dltb[dltb["DLBM"].isin(codes)]
        return (rasterize(sel, grid, value=1, dtype="uint8").astype(bool) & inside) if len(sel) else np.zeros(grid.shape, bool)

    grass = dltb_mask(list(v["landuse"]["grass_dlbm"]))
    excluded = dltb_mask([c for c in dltb["DLBM"].unique() if c.startswith(tuple(cs["exclude_dlbm_prefixes"]))])

    progress(0.12, "草原适宜性: T03 牧业适宜性 × 01-13 可食产草量")
    gtypes = inputs.vector("01-13")
    gtypes["CDL"] = gtypes["CDL"].astype(str)
    yield_r = rasterize(gtypes, grid, value="KSCL", dtype="float32", fill=np.nan) if len(gtypes) else np.full(grid.shape, np.nan, "float32")
    type_list = sorted(gtypes["CDL"].unique())
    type_idx = rasterize(gtypes.assign(_c=[type_list.index(t) + 1 for t in gtypes["CDL"]]), grid, value="_c", dtype="uint8")
    # higher yield is better: grade 1 for Y ≥ b1, … (a yield on a break takes the better grade)
    y_grade = gl.grade_ascending(-yield_r.astype("float64"), [-float(b) for b in gs["yield_breaks_kg_per_ha"]])
    t03_g = fgw.grade_by_codes(grazing, int_keys(gs["grazing_grade_map"]))
    g_grade = np.maximum(t03_g, y_grade)
    g_grade = np.where(g_grade == 0, 4, g_grade)  # no yield and no T03 class cannot happen inside; be safe
    grass_suit = np.where(grass, g_grade, np.where(inside, 5, 0)).astype(np.uint8)

    progress(0.22, "耕地适宜性: T03 农业生产适宜性 × 01-40 利用等")
    parcels = inputs.vector("01-40")
    parcels["DLBM"] = parcels["DLBM"].astype(str)
    t03_a = fgw.grade_by_codes(agri, int_keys(cs["agri_grade_map"]))
    q_grade = gl.grade_ascending(parcels["LYD"].astype(float).to_numpy(), list(cs["quality_breaks"]))
    parcels["等别等级"] = q_grade
    parcels["T03等级"] = _sample(t03_a, grid, parcels.geometry.values) if len(parcels) else []
    parcels["耕地适宜性等级"] = np.maximum(parcels["等别等级"].to_numpy(int), parcels["T03等级"].to_numpy(int)) if len(parcels) else []
    parcels["等级名称"] = [c_labels.get(int(g), "") for g in parcels["耕地适宜性等级"]]
    parcels["面积 hm²"] = parcels.geometry.area / 1e4
    q_r = (rasterize(parcels.assign(_g=parcels["等别等级"].astype("uint8")), grid, value="_g", dtype="uint8", all_touched=True)
           if len(parcels) else np.zeros(grid.shape, np.uint8))
    t03_out = fgw.grade_by_codes(agri, int_keys(cs["agri_grade_map_outside"]))
    crop_suit = np.where(q_r > 0, np.maximum(q_r, t03_a), t03_out)
    crop_suit = np.where(inside & excluded & (q_r == 0), 5, np.where(inside, np.where(crop_suit == 0, 5, crop_suit), 0)).astype(np.uint8)

    progress(0.34, "草畜平衡: 18-01 牲畜存栏 → 羊单位; 合理载畜量 by township (t09.stocking_rate × 01-13)")
    standard = pd.read_csv(io.BytesIO(inputs.layer_bytes("t09.stocking_rate")), encoding="utf-8-sig")
    type_names = np.array([""] + type_list, dtype=object)[np.where(grass, type_idx, 0)]
    by_type = gl.capacity_from_standard(zones, type_names, np.where(grass, yield_r, np.nan), cell_ha, standard, zone_names)
    capacity = gl.township_totals(by_type)
    lp = cfg.params(gl.LivestockParams, "livestock")
    gacha = inputs.vector("18-01")
    gacha["乡镇"] = [f"{d} {n}" for d, n in zip(gacha["XZQDM"].astype(str), gacha["XZQMC"].astype(str))]
    long = gacha.melt(id_vars=["乡镇", "GCMC"], value_vars=list(SPECIES), var_name="_s", value_name=gl.HEAD)
    long[gl.SPECIES] = long["_s"].map(SPECIES)
    livestock = gl.livestock_by_township(long, lp)
    unknown_towns = sorted(set(livestock[gl.ZONE]) - set(zone_names.values()))
    if unknown_towns:
        raise ValueError(f"18-01 {inputs.version('18-01')}: townships {unknown_towns} are not in 01-04 "
                         f"({', '.join(zone_names.values())})")
    balance = gl.grass_livestock_balance(capacity, livestock, cfg.params(gl.BalanceParams, "balance"), missing="zero")
    total_cap = float(np.nansum(balance[gl.CAPACITY]))
    total_act = float(balance[gl.ACTUAL].sum())
    total_ratio = float(gl.overload_ratio_pct(total_act, total_cap)) if total_cap > 0 else float("nan")
    path = gl.reduction_path(total_act, total_cap, v["targets"]["overload_removed_share"])
    su_rows = gl.livestock_sheep_units(long, lp)
    per_gacha = su_rows.groupby(["乡镇", "GCMC"], sort=False)[gl.SHEEP_UNITS].sum().reset_index()
    species_table = su_rows.groupby(gl.SPECIES, sort=False).agg(
        **{gl.HEAD: (gl.HEAD, "sum"), gl.SU_FACTOR: (gl.SU_FACTOR, "first"), gl.SHEEP_UNITS: (gl.SHEEP_UNITS, "sum")}).reset_index()

    progress(0.46, "农牧业生产空间")
    space = np.zeros(grid.shape, np.uint8)
    space[grass & np.isin(grass_suit, list(ps["pasture_grades"]))] = 2
    space[grass & (grass_suit == 3)] = 3
    space[grass & (grass_suit == 4)] = 4
    space_v = _polygons(space, grid, SPACE_LABELS, "空间类型")
    keep = parcels[parcels["耕地适宜性等级"] <= int(ps["cropland_max_grade"])]
    if len(keep):
        crop_geom = shapely.union_all(keep.geometry.values)
        space_v["geometry"] = space_v.geometry.difference(crop_geom)
        space_v = space_v[~space_v.geometry.is_empty].copy()
        crop_v = gpd.GeoDataFrame({"code": [1] * len(keep), "空间类型": [SPACE_LABELS[1]] * len(keep)},
                                  geometry=list(keep.geometry.values), crs=space_v.crs)
        space_v = pd.concat([crop_v, space_v], ignore_index=True)
    space_v = gpd.GeoDataFrame(space_v, geometry="geometry", crs=grid.crs_epsg)
    space_v["面积 hm²"] = space_v.geometry.area / 1e4
    space_v["管控规则"] = space_v["空间类型"].map(ps["rules"])
    space_area = space_v.groupby("空间类型", sort=False)["面积 hm²"].sum()
    pasture_ha = float(space_area.get(SPACE_LABELS[2], 0.0))
    limited_ha = float(space_area.get(SPACE_LABELS[3], 0.0))
    crop_now = float(parcels["面积 hm²"].sum())
    crop_keep = float(keep["面积 hm²"].sum()) if len(keep) else 0.0
    scale_rows = [{"年份": "现状", "农业生产空间 hm²": crop_now, "牧业生产空间 hm²": pasture_ha, "限制放牧空间 hm²": limited_ha,
                   "载畜量 羊单位": total_act}]
    for _, r in path.iterrows():
        scale_rows.append({"年份": r["年份"], "农业生产空间 hm²": crop_keep, "牧业生产空间 hm²": pasture_ha,
                           "限制放牧空间 hm²": limited_ha, "载畜量 羊单位": r["目标载畜量 羊单位"]})
    scale = pd.DataFrame(scale_rows)
    scale["合理载畜量 羊单位"] = total_cap
    return_grass = parcels[parcels["耕地适宜性等级"] > int(ps["cropland_max_grade"])]

    progress(0.56, "农牧业综合区划 (04-11 units)")
    zoning = inputs.vector("04-11")
    zoning = zoning.reset_index(drop=True)
    z_r = rasterize(zoning.assign(_z=np.arange(1, len(zoning) + 1)), grid, value="_z", dtype="uint16") if len(zoning) else np.zeros(grid.shape, np.uint16)
    z_r = np.where(inside, z_r, 0)
    unit_names = {i + 1: str(n) for i, n in enumerate(zoning["QHMC"])}
    unit_cap = gl.township_totals(gl.capacity_from_standard(z_r, type_names, np.where(grass, yield_r, np.nan), cell_ha,
                                                            standard, unit_names)) if (z_r > 0).any() else pd.DataFrame(columns=[gl.ZONE, gl.CAPACITY])
    cap_by_unit = dict(zip(unit_cap[gl.ZONE], unit_cap[gl.CAPACITY]))
    rows = []
    for i, r in zoning.iterrows():
        cells = z_r == i + 1
        row = {"草地面积 hm²": float((cells & grass).sum() * cell_ha)}
        for g in (1, 2, 3, 4):
            row[f"草原{g_labels[g]} hm²"] = float((cells & (grass_suit == g)).sum() * cell_ha)
        row["耕地面积 hm²"] = float(parcels.geometry.intersection(r.geometry).area.sum() / 1e4) if len(parcels) else 0.0
        row["合理载畜量 羊单位"] = float(cap_by_unit.get(str(r["QHMC"]), 0.0))
        good = row["草原高度适宜 hm²"] + row["草原适宜 hm²"]
        row["评价主导功能"] = ("生态保护" if r["QHLX"] == "生态保护区" or good < 0.3 * max(row["草地面积 hm²"], 1e-9)
                          else ("农牧结合" if row["耕地面积 hm²"] > 0 else "牧业生产"))
        rows.append(row)
    zoning_v = gpd.GeoDataFrame(pd.concat([zoning.drop(columns="geometry").reset_index(drop=True), pd.DataFrame(rows)], axis=1),
                                geometry=zoning.geometry.values, crs=zoning.crs)
    zoning_v["面积 hm²"] = zoning_v.geometry.area / 1e4
    kinds = sorted(zoning_v["QHLX"].astype(str).unique())
    zone_kind_r = np.zeros(grid.shape, np.uint8)
    for i, k in enumerate(zoning_v["QHLX"].astype(str)):
        zone_kind_r[z_r == i + 1] = kinds.index(k) + 1

    progress(0.66, "苏木嘎查建设布局 (spec §5.6)")
    urban = dltb[dltb["DLBM"].isin(v["landuse"]["urban_dlbm"])]
    urban_geom = shapely.union_all(urban.geometry.values) if len(urban) else None
    gc = v["gacha"]
    dist_km = (np.array([urban_geom.distance(p) for p in gacha.geometry]) / 1000.0 if urban_geom is not None
               else np.full(len(gacha), np.inf))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (gacha["CZRK"].astype(float) - gacha["CZRK2015"].astype(float)) / gacha["CZRK2015"].astype(float)
    unsuitable = _sample(grass_suit, grid, gacha.geometry.values) == 4 if len(gacha) else np.zeros(0, bool)
    layout_v = gpd.GeoDataFrame(gacha[["XZQDM", "XZQMC", "GCMC", "HS", "CZRK", "CZRK2015"]].copy(), geometry=gacha.geometry.values,
                                crs=gacha.crs)
    layout_v["人口变化率 %"] = change.to_numpy()
    layout_v["距城区 km"] = dist_km
    layout_v["驻地草原不适宜"] = unsuitable
    layout_v["嘎查分类"] = gl.gacha_class(dist_km, change.to_numpy(), unsuitable, float(gc["suburban_km"]), float(gc["decline_pct"]))
    layout_v["折合羊单位"] = per_gacha[gl.SHEEP_UNITS].to_numpy()
    layout_v["户均羊单位"] = layout_v["折合羊单位"] / layout_v["HS"].astype(float)
    homes = dltb[dltb["DLBM"] == "0702"]
    layout_v["宅基地面积 hm² (1 km内)"] = [float(homes.geometry.intersection(p.buffer(1000.0)).area.sum() / 1e4) if len(homes) else 0.0
                                     for p in layout_v.geometry]
    gacha_r = np.zeros(grid.shape, np.uint8)
    if len(layout_v):
        dots = layout_v.assign(_c=[GACHA_CODES[c] for c in layout_v["嘎查分类"]])
        dots = dots.set_geometry(dots.geometry.buffer(max(grid.cell_size_m, 1500.0)))
        gacha_r = np.where(inside, rasterize(dots, grid, value="_c", dtype="uint8"), 0).astype(np.uint8)

    progress(0.70, "规划建议: 草牧场建设 2025/2035 (饲草缺口 → 面积 → 最适宜草地), 发展战略格局")
    pc, sp = v["pasture_construction"], v["strategy_pattern"]
    label = str(pc["label"])
    uplift = float(pc["uplift_factor"])
    years = {str(k): float(s) for k, s in pc["year_shares"].items()}
    if list(years) != ["2025", "2035"]:
        raise ValueError(f"pasture_construction.year_shares: the catalog has t13.pasture_2025 / _2035, got years {list(years)}")
    water = dltb_mask(list(pc["water_dlbm"]))
    water_km = (ndimage.distance_transform_edt(~water) * grid.cell_size_m / 1000.0 if water.any()
                else np.zeros(grid.shape))
    eligible = grass & np.isin(grass_suit, list(pc["grades"])) & (q_r == 0)
    rank = gl.rank_within_zones(zones, eligible, grass_suit, water_km, -np.nan_to_num(yield_r.astype("float64")))
    rate = dict(zip(capacity[gl.ZONE], capacity[gl.SU_PER_HA]))
    zone_ids = {n: k for k, n in zone_names.items()}
    p_rows, selected = [], {}
    for y, share in years.items():
        sel = np.zeros(grid.shape, bool)
        for _, b in balance.iterrows():
            name = b[gl.ZONE]
            gap = share * float(b[gl.REDUCTION])
            n_rate = float(rate.get(name, np.nan))
            need = float(gl.improved_pasture_area_ha(np.array([gap]), np.array([n_rate]), uplift)[0])
            zid = zone_ids.get(name, -1)
            avail = float(((rank >= 0) & (zones == zid)).sum() * cell_ha)
            n_cells = int(np.ceil(need / cell_ha - 1e-9)) if np.isfinite(need) else 0
            sel |= (zones == zid) & (rank >= 0) & (rank < n_cells)
            got = float(((zones == zid) & (rank >= 0) & (rank < n_cells)).sum() * cell_ha)
            p_rows.append({"年度": y, gl.ZONE: name, "饲草缺口 羊单位": gap, gl.SU_PER_HA: n_rate, "增产倍数": uplift,
                           "需建面积 hm²": need if np.isfinite(need) else 0.0, "可建面积 hm²": avail, "建议面积 hm²": got,
                           "未落地面积 hm²": max((need if np.isfinite(need) else 0.0) - got, 0.0)})
        selected[y] = sel
    pasture_table = pd.DataFrame(p_rows)
    y_list = list(years)
    types = int_keys(pc["construction_types"])

    def pasture_layer(upto: int) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        """Sites built by y_list[upto]: code = zone·100 + year index·10 + grade (each year's sites are new)."""
        codes = np.zeros(grid.shape, np.int32)
        for i in range(upto, -1, -1):
            codes = np.where(selected[y_list[i]], zones.astype(np.int32) * 100 + (i + 1) * 10 + grass_suit, codes)
        shapes = [(shapely.geometry.shape(g), int(c)) for g, c in
                  rio_features.shapes(codes, mask=codes > 0, transform=grid.transform)]
        cs_ = [c for _, c in shapes]
        gdf = gpd.GeoDataFrame({
            "建设类型": [types.get(c % 10, "") for c in cs_], "年度": [y_list[(c // 10) % 10 - 1] for c in cs_],
            gl.ZONE: [zone_names.get(c // 100, "") for c in cs_],
            "草原适宜性等级": [g_labels.get(c % 10, "") for c in cs_],
        }, geometry=[g for g, _ in shapes], crs=grid.crs_epsg)
        gdf["面积 hm²"] = gdf.geometry.area / 1e4
        gdf["依据"] = [f"{z} 饲草缺口按减畜路径 {years[y]:.0%} × 应减畜量，按增产倍数 {uplift:g} 折算面积，落在草原适宜性最高的草地"
                     for z, y in zip(gdf[gl.ZONE], gdf["年度"])]
        gdf["性质"] = label
        m = np.zeros(grid.shape, np.uint8)
        m[codes > 0] = ((codes[codes > 0] // 10) % 10).astype(np.uint8)
        return gdf, m

    pasture_v = {y: pasture_layer(i) for i, y in enumerate(y_list)}

    prod_cells = (space == 2) | (q_r > 0)
    rules = list(sp["rules"])
    by_code = {int(r["code"]): r for r in rules}
    if len(rules) != 3:
        raise ValueError(f"strategy_pattern.rules: three rules (城郊, 核心, 其余) in order, got {len(rules)}")
    suburb_code, core_code, rest_code = (int(r["code"]) for r in rules)
    strat = np.where(inside, rest_code, 0).astype(np.uint8)
    for i, r in zoning_v.iterrows():
        cells = (z_r == i + 1) & inside
        share_ = float((cells & prod_cells).sum() / max(cells.sum(), 1))
        if r["评价主导功能"] in list(sp["core_functions"]) and share_ >= float(sp["core_min_share"]):
            strat[cells] = core_code
    urban_r = (rasterize(urban, grid, value=1, dtype="uint8").astype(bool) if len(urban) else np.zeros(grid.shape, bool))
    if urban_r.any():
        city_km = ndimage.distance_transform_edt(~urban_r) * grid.cell_size_m / 1000.0
        strat[inside & (city_km <= float(sp["suburban_km"]))] = suburb_code
    strategy_v = _polygons(strat, grid, {c: str(r["name"]) for c, r in by_code.items()}, "格局类型")
    strategy_v["判定规则"] = strategy_v["code"].map(lambda c: by_code[c]["when"])
    strategy_v["发展导向"] = strategy_v["code"].map(lambda c: by_code[c]["导向"])
    strategy_v["性质"] = label.replace("草畜平衡与草原适宜性", "农牧业区划、生产空间与城区距离")

    progress(0.76, "writing layers and tables")
    areas = area_table(topic, grid, zones, zone_names, [("t13.grassland_suitability", grass_suit, g_labels),
                                                        ("t13.cropland_suitability", crop_suit, c_labels)])
    writer.raster("t13.grassland_suitability", grass_suit, nodata=0)
    writer.raster("t13.cropland_suitability", crop_suit, nodata=0)
    writer.vector("t13.agri_zoning", zoning_v)
    writer.vector("t13.production_space", space_v)
    writer.vector("t13.sumu_gacha_layout", layout_v)
    for y in y_list:
        writer.vector(f"t13.pasture_{y}", pasture_v[y][0])
    writer.vector("t13.strategy_pattern", strategy_v)
    writer.table(None, "pasture_construction", pasture_table, "草牧场建设规划建议面积 2025/2035 (饲草缺口折算)")
    writer.table(None, "grass_livestock_balance", balance, "草畜平衡 grass–livestock balance by township")
    writer.table(None, "livestock_by_species", species_table, "牲畜存栏与羊单位 livestock by species")
    writer.table(None, "capacity_by_type", by_type, "分乡镇分草地类型合理载畜量")
    writer.table(None, "reduction_path", path, "减畜路径 2025/2035")
    writer.table(None, "production_space_scale", scale, "农牧业生产空间规模 2025/2035")
    writer.table(None, "cropland_parcels", parcels.drop(columns="geometry"), "耕地图斑适宜性 cropland parcels")
    writer.table(None, "area_by_class", areas, "适宜性面积 area by class")

    progress(0.84, "maps")
    writer.class_map("t13.grassland_suitability", grass_suit, g_labels, SUIT_COLOURS, thumbnail=True)
    writer.class_map("t13.cropland_suitability", crop_suit, c_labels, SUIT_COLOURS,
                     subtitle="01-40 图斑内取 T03 与利用等的较差等级")
    writer.class_map("t13.agri_zoning", zone_kind_r, {i + 1: k for i, k in enumerate(kinds)},
                     {i + 1: c for i, c in enumerate(["#f5d76e", "#a6d96a", "#e6c35c", "#5aa469", "#9ecae1"])}, thumbnail=True,
                     subtitle="区划单元来自 04-11，属性为本次评价指标")
    writer.class_map("t13.production_space", space, SPACE_LABELS, SPACE_COLOURS, subtitle="耕地图斑见图层（矢量）")
    writer.class_map("t13.sumu_gacha_layout", gacha_r, {c: k for k, c in GACHA_CODES.items()}, GACHA_COLOURS,
                     subtitle="嘎查委员会驻地（按分类着色）")
    year_labels = {i + 1: (f"{y}年前建设" if i == 0 else f"{y_list[i - 1]}–{y}年新增") for i, y in enumerate(y_list)}
    year_colours = {i + 1: c for i, c in enumerate(["#238b45", "#74c476", "#c7e9c0"])}
    for y in y_list:
        writer.class_map(f"t13.pasture_{y}", pasture_v[y][1], year_labels, year_colours, subtitle="规划建议（由评价推导，非交付规划）")
    writer.class_map("t13.strategy_pattern", strat, {c: str(r["name"]) for c, r in by_code.items()},
                     {1: "#fdae61", 2: "#a6d96a", 3: "#5aa469"}, thumbnail=False, subtitle="规划建议（由评价推导，非交付规划）")

    progress(0.92, "report")
    ver = {d: inputs.version(d) for d in ("01-13", "01-40", "04-11", "18-01", "01-46a.dltb")}
    over_towns = balance[balance[gl.REDUCTION] > 0]
    figures = {
        "现状载畜量 (18-01)": f"{total_act:,.0f} 羊单位",
        "合理载畜量 (01-13 × t09.stocking_rate)": f"{total_cap:,.0f} 羊单位",
        "全市超载率": f"{total_ratio:,.1f} %",
        "应减畜量": f"{max(total_act - total_cap, 0.0):,.0f} 羊单位",
        "农业生产空间 (保留耕地)": f"{crop_keep:,.1f} hm² of {crop_now:,.1f} hm²",
        "牧业生产空间 / 限制放牧空间": f"{pasture_ha:,.0f} / {limited_ha:,.0f} hm²",
        "草牧场建设规划建议 2025 / 2035": " / ".join(f"{float(pasture_v[y][0]['面积 hm²'].sum()):,.0f} hm²" for y in y_list)
        + " (未落地 " + " / ".join(f"{float(pasture_table.loc[pasture_table['年度'] == y, '未落地面积 hm²'].sum()):,.0f}" for y in y_list)
        + " hm²，可建草地不足)",
        "嘎查分类": ", ".join(f"{k} {int((layout_v['嘎查分类'] == k).sum())}" for k in GACHA_CODES),
    }
    def figs(*names: str) -> list[tuple[str, str]]:
        """The maps of these outputs (``maps/<name>.png``), for a report section."""
        return [f for f in writer.figures if any(f[1] == f"maps/{n}.png" for n in names)]

    sections = [
        Section("1 草畜平衡 Grass–livestock balance",
                [f"现状载畜量 = Σ 存栏 × 折算系数（配置 livestock，spec §2.4）；牲畜存栏来自 18-01 {ver['18-01']}。"
                 f"合理载畜量 = Σ 可食产草量 × 载畜系数 × 面积，草地类型与产草量来自 01-13 {ver['01-13']}，载畜系数为 T09 发布的"
                 "适宜载畜量标准（NY/T 635-2015，t09.stocking_rate），范围为三调草地（0401/0403/0404）。超载率 = (现状 − 合理)/合理 × 100 %，"
                 f"分级见配置 balance [L]。全市现状 {total_act:,.0f} 羊单位，合理 {total_cap:,.0f} 羊单位，超载率 {total_ratio:,.1f} %；"
                 f"{len(over_towns)} 个乡镇需减畜。"],
                tables=[("草畜平衡 by township", balance), ("牲畜存栏与羊单位", species_table), ("减畜路径", path)]),
        Section("2 草原适宜性等级 Grassland suitability",
                [f"极限条件法：取 T03 牧业适宜性（配置 grazing_grade_map {gs['grazing_grade_map']}）与可食产草量等级（配置 yield_breaks_kg_per_ha [L]）的较差者；"
                 "仅评价三调草地，其余为不参评。"],
                tables=[("草原适宜性", whole_city(areas, "t13.grassland_suitability", "等级")),
                        ("分乡镇 by township", by_township(areas, ["t13.grassland_suitability"]))],
                figures=figs("grassland_suitability")),
        Section("3 耕地适宜性等级 Cropland suitability",
                [f"01-40 {ver['01-40']} 耕地图斑：取国家利用等分级（配置 quality_breaks [L]）与 T03 农业生产适宜性的较差者；"
                 "图斑内 T03 等级按 agri_grade_map、图斑外（潜在耕地）按 agri_grade_map_outside 折算；建设用地、交通、水域、其他土地不参评。"
                 f"现状耕地 {crop_now:,.1f} hm²，其中 {len(return_grass)} 个图斑 ({float(return_grass['面积 hm²'].sum()):,.1f} hm²) "
                 "等级低于生产空间门槛，列为退耕还草候选。"],
                tables=[("耕地图斑", parcels.drop(columns="geometry").round(2))], figures=figs("cropland_suitability")),
        Section("4 农牧业综合区划 Zoning",
                [f"区划单元来自 04-11 {ver['04-11']}；每个单元统计草原适宜性面积、耕地面积与合理载畜量，并按评价给出主导功能"
                 "（适宜以上草原 < 30 % → 生态保护；有耕地 → 农牧结合；否则牧业生产）。"],
                tables=[("区划单元指标", zoning_v.drop(columns="geometry").round(1))], figures=figs("agri_zoning")),
        Section("5 农牧业生产空间与规模 Production space 2025/2035",
                ["牧业生产空间 = 草原适宜性高度适宜/适宜；勉强适宜 → 限制放牧；不适宜 → 禁牧恢复；农业生产空间 = 等级不低于门槛的耕地图斑。"
                 "规模：空间范围按评价保持，载畜量按减畜路径（配置 targets.overload_removed_share [L]）下降到合理载畜量。"],
                tables=[("生产空间规模", scale)], figures=figs("production_space")),
        Section("6 苏木嘎查建设布局 Sumu and gacha layout",
                [f"嘎查分类（spec §5.6）：距城区 ≤ {gc['suburban_km']} km → 城郊融合类；常住人口较2015年下降 ≥ {gc['decline_pct']} % "
                 "或驻地草原不适宜 → 搬迁撤并类（候选）；其余 → 集聚提升类。特色保护类需要传统村落/历史文化名录，未交付，未判定。"],
                tables=[("嘎查", layout_v.drop(columns="geometry").round(2))], figures=figs("sumu_gacha_layout")),
        Section("7 规划建议：草牧场建设与发展战略格局 Derived proposals (not a delivered plan)",
                [f"以下三个图层是由本专题评价推导的规划建议（{label}），不是已交付的规划：04-12 农牧业相关规划与 01-15 "
                 "草原畜牧业发展规划未交付，t12.water_allocation 不作为输入。",
                 f"草牧场建设 2025/2035：各乡镇饲草缺口 = 减畜路径比例（配置 pasture_construction.year_shares {years} [L]）× 应减畜量；"
                 f"建设面积 = 缺口 / (天然草地合理载畜量 羊单位/hm² × (增产倍数 {uplift:g} − 1))（配置 uplift_factor [L]）；"
                 f"按乡镇在草原适宜性等级 {list(pc['grades'])} 的三调草地（不含耕地图斑、限制放牧与禁牧恢复空间）中依次选取"
                 "等级较高、距三调水域较近、产草量较高的栅格；2035 年包含 2025 年的建设点位。可建草地不足时差额列为未落地面积。",
                 f"发展战略格局：按配置 strategy_pattern.rules 依次判定 — 距城区 ≤ {sp['suburban_km']} km → {rules[0]['name']}；"
                 f"区划单元评价主导功能属于 {list(sp['core_functions'])} 且生产空间占比 ≥ {sp['core_min_share']} → {rules[1]['name']}；"
                 f"其余 → {rules[2]['name']}。"],
                tables=[("草牧场建设规划建议面积", pasture_table.round(2)),
                        ("发展战略格局规则", pd.DataFrame(rules))],
                figures=figs("pasture_2025", "pasture_2035", "strategy_pattern")),
    ]
    if NOT_PRODUCED:
        sections.append(Section("8 未形成的成果 Outputs not produced", [f"{k}: {why}" for k, why in NOT_PRODUCED.items()]))
    summary = {"草畜平衡": records(balance), "生产空间规模": records(scale),
               "草原适宜性 (km²)": records(whole_city(areas, "t13.grassland_suitability", "等级"))}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
