"""T03 国土空间开发适宜性评价 — territorial development suitability of Erenhot.

Reads T02's *published* layers (生态保护重要性, 农业/城镇承载等级, 城镇建设条件, 灾害, 坡度) and never
recomputes them. On T02's grid it evaluates (domain spec §1.6–1.8, 2019-draft tables as the
configurable grading profile):

* 区位: topic 14's travel time to the city centre (``t14.travel_time_city``, minutes on T02's grid:
  road speeds by grade after JTG B01, off-road walking — T14 owns the network and its speeds)
  graded by ``location.travel_time_breaks_min`` → 区位优势度;
* 农业生产适宜性 including grazing (牧业, the desert steppe's main production) outside
  生态保护极重要区, with 地块连片度; 城镇建设适宜性 with 区位 and 集中度 and the hard exclusions;
* 承载规模, water first (以水定城 / 以水定人) and the minimum over constraints (短板) → ``t03.carrying_scale``,
  one row per figure with a stable ``key`` column (e.g. ``present_urban_land``, ``urban_carrying_scale``) that
  downstream topics (T04) select by;
* conflicts of current land use (三调) with the results.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features

from erenhot.catalog import Catalog
from erenhot.evaluation import capacity_scale as cs
from erenhot.evaluation import suitability as suit
from erenhot.grid import Grid, boundary_mask, rasterize, read_raster, warp_to_grid
from erenhot.maps import GRADE_COLOURS_5, SUITABILITY_COLOURS
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

CODE = "t03"
CONFIG = "t03_suitability"
LOCATION_LAYER = "t14.travel_time_city"


def location_minutes(inputs: TopicInputs, grid: Grid) -> np.ndarray:
    """T14's travel time to the city centre (minutes, float32, NaN outside) — T03's 区位 input.

    Raises:
        ValueError: the layer does not lie on T02's grid (same CRS, transform and shape), e.g. when
            T14 ran on an older T02 grid; re-run T14 first.
    """
    minutes, tgrid, _ = read_raster(inputs.layer_bytes(LOCATION_LAYER))
    if (tgrid.crs_epsg, tgrid.shape, tuple(tgrid.transform)) != (grid.crs_epsg, grid.shape, tuple(grid.transform)):
        raise ValueError(f"{LOCATION_LAYER} lies on a grid (EPSG:{tgrid.crs_epsg}, {tgrid.shape}, {tuple(tgrid.transform)[:6]}) "
                         f"that differs from T02's (EPSG:{grid.crs_epsg}, {grid.shape}, {tuple(grid.transform)[:6]}): "
                         "re-run topic 14 on the current T02 layers")
    return minutes.astype("float32")


def grid_inputs(inputs: TopicInputs, cfg: Any) -> tuple[dict[str, np.ndarray], suit.SuitabilitySettings, Grid,
                                                       gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """T03's inputs on T02's grid: the block arrays of :func:`erenhot.evaluation.suitability.suitability_block`
    except the patch cells (T02's published layers, T14's minutes, FVC warped bilinearly, 三调 masks rasterised
    at cell centres), the settings, the grid, and the 三调 parcels with the present 城镇 ones (CZCSXM)."""
    v = cfg.values
    eco, grid, _ = read_raster(inputs.layer_bytes("t02.eco_importance"))
    inside = boundary_mask(inputs.vector("01-04", "city"), grid)
    settings = suit.SuitabilitySettings.build(cfg, grid.cell_area_km2)
    dltb = inputs.vector("01-46a.dltb")
    urban_now = dltb[dltb["CZCSXM"].astype(str).isin(v["conflicts"]["urban_czcsxm"])]

    def mask_of(features: gpd.GeoDataFrame) -> np.ndarray:
        return rasterize(features, grid, value=1, dtype="uint8") if len(features) else np.zeros(grid.shape, np.uint8)

    block = {"inside": inside, "eco_importance": eco,
             **{name: read_raster(inputs.layer_bytes(f"t02.{name}"))[0] for name in ("agri_capacity", "urban_capacity", "hazard")},
             "slope": read_raster(inputs.layer_bytes("t02.slope"))[0].astype("float32"),
             "minutes": location_minutes(inputs, grid),
             "fvc": warp_to_grid(inputs.raster_bytes("01-46a.fvc"), grid, "bilinear"),
             "grass": mask_of(dltb[dltb["DLBM"].isin(v["grazing"]["grass_dlbm_codes"])]),
             **{f"dlbm_{name}": mask_of(dltb[dltb["DLBM"].isin(codes)]) for name, codes in v["conflicts"]["dlbm_groups"].items()},
             "urban_land": mask_of(urban_now)}
    return block, settings, grid, dltb, urban_now


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T03 from T02's published layers and the resolved datasets; publish everything.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.
    """
    run = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if run.reused is not None:
        return run.reused
    topic, cfg, pub = run.topic, run.cfg, run.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    suit_labels = int_keys(v["labels"]["suitability"])
    suit_colours = {i: SUITABILITY_COLOURS.get(label, "#cccccc") for i, label in suit_labels.items()}

    progress(0.03, "T02 layers, 区位 (topic 14's travel time), 三调 land-use masks")
    block, settings, grid, dltb, urban_now = grid_inputs(inputs, cfg)
    inside = block["inside"]
    city = inputs.vector("01-04", "city")
    zones, zone_names = township_zones(inputs.vector("01-04", "townships"), grid, inside)
    writer = LayerWriter(pub, topic, grid, city)

    progress(0.30, "集中度 and 连片度: 8-connected patches")
    for name, mask in suit.patch_masks(block, settings).items():
        block[f"{name}_patch_cells"] = suit.patch_cells(mask)

    progress(0.40, "农业生产适宜性 (incl. grazing), 城镇建设适宜性, 现状用地冲突 (one block: the whole grid)")
    out = suit.suitability_block(block, settings)
    location, agri_suit, grazing, urban_suit = out["location"], out["agri_suitability"], out["grazing_suitability"], out["urban_suitability"]
    crop_suit, conflict_code = out["crop_suitability"], out["conflicts"]

    progress(0.55, "承载规模: 以水定城 / 以水定人")
    quota = inputs.table("04-07").dropna(subset=["total_quota_10k_m3"]).sort_values("year").iloc[-1]
    quota_m3 = float(quota["total_quota_10k_m3"]) * 1e4
    wd, sc = v["water_demand"], v["capacity_scale"]
    per_capita_m3 = cs.per_capita_water_m3_per_year(wd["domestic_l_per_day"], wd["industry_share"])
    water_pop = cs.water_bound_population(quota_m3, float(quota["domestic_industrial_share"]), per_capita_m3)
    water_urban_km2 = cs.water_bound_urban_land_km2(water_pop, sc["per_capita_urban_land_m2"])
    land_urban_km2 = float(np.isin(urban_suit, sc["land_bound_suitability_codes"]).sum() * grid.cell_area_km2)
    urban_scale, urban_binding = cs.carrying_scale({k: {"water": water_urban_km2, "land": land_urban_km2}[k] for k in sc["constraint_order"]})
    water_crop_ha = cs.water_bound_cropland_ha(quota_m3, float(quota["agri_share"]), sc["irrigation_quota_m3_per_ha"], sc["rainfed_ha"])
    land_crop_ha = float(np.isin(crop_suit, sc["land_bound_suitability_codes"]).sum() * grid.cell_area_km2 * 100.0)
    crop_scale, crop_binding = cs.carrying_scale({k: {"water": water_crop_ha, "land": land_crop_ha}[k] for k in sc["constraint_order"]})
    urban_now_km2 = float(urban_now.geometry.area.sum() / 1e6)
    population_now = None
    if inputs.has("10-02"):
        pop = inputs.table("10-02")
        city_rows = pop[pop["XZQDM"].astype(str) == "152501"].sort_values("year")
        if len(city_rows):
            population_now = (int(city_rows.iloc[-1]["year"]), float(city_rows.iloc[-1]["resident_pop"]))
    else:
        notes.append("常住人口 (10-02) not delivered: the carrying scale is not compared with the present population.")
    scale_rows = [
        {"key": "water_bound_population", "项目 item": "可承载城镇人口（以水定人）water-bound population", "值 value": round(water_pop), "单位 unit": "人",
         "依据 basis": f"{quota_m3 / 1e4:,.0f} 万m³ × 生活工业占比 {float(quota['domestic_industrial_share']):.2f} ÷ {per_capita_m3:.1f} m³/人·a"},
        {"key": "water_bound_urban_land", "项目 item": "水资源约束城镇建设用地（以水定城）water-bound urban land", "值 value": round(water_urban_km2, 2), "单位 unit": "km²",
         "依据 basis": f"× 人均城镇建设用地 {sc['per_capita_urban_land_m2']} m² (GB 50137-2011 band {sc['per_capita_land_band_m2']})"},
        {"key": "land_bound_urban_land", "项目 item": "土地约束城镇建设用地 land-bound urban land", "值 value": round(land_urban_km2, 2), "单位 unit": "km²",
         "依据 basis": "城镇建设适宜区面积"},
        {"key": "urban_carrying_scale", "项目 item": "城镇建设承载规模（短板）urban carrying scale", "值 value": round(urban_scale, 2), "单位 unit": "km²",
         "依据 basis": f"min, binding: {urban_binding}"},
        {"key": "water_bound_cropland", "项目 item": "可承载耕地规模（以水定地）water-bound cropland", "值 value": round(water_crop_ha, 1), "单位 unit": "hm²",
         "依据 basis": f"农业占比 {float(quota['agri_share']):.2f} × 用水总量 ÷ 综合灌溉定额 {sc['irrigation_quota_m3_per_ha']} m³/hm²"},
        {"key": "land_bound_cropland", "项目 item": "土地约束耕地（种植业适宜）land-bound cropland", "值 value": round(land_crop_ha, 1), "单位 unit": "hm²", "依据 basis": "种植业适宜区面积"},
        {"key": "cropland_carrying_scale", "项目 item": "耕地承载规模（短板）cropland carrying scale", "值 value": round(crop_scale, 1), "单位 unit": "hm²",
         "依据 basis": f"min, binding: {crop_binding}"},
        {"key": "present_urban_land", "项目 item": "现状城镇用地 present urban land (三调 CZCSXM 201/202)", "值 value": round(urban_now_km2, 2), "单位 unit": "km²", "依据 basis": "01-46a.dltb"},
    ]
    if population_now:
        scale_rows.append({"key": "present_resident_population", "项目 item": f"现状常住人口 resident population {population_now[0]}", "值 value": round(population_now[1]),
                           "单位 unit": "人", "依据 basis": "10-02"})
    scale_table = pd.DataFrame(scale_rows)

    progress(0.66, "现状用地冲突 conflicts with present land use: polygons")
    rule_labels = {i: label for i, (_, label, _) in enumerate(settings.conflict_rules, start=1)}
    shapes = [(shapely.geometry.shape(geom), int(val)) for geom, val in
              rio_features.shapes(conflict_code, mask=conflict_code > 0, transform=grid.transform)]
    conflicts = gpd.GeoDataFrame({"rule": [rule_labels[v_] for _, v_ in shapes], "code": [v_ for _, v_ in shapes]},
                                 geometry=[g for g, _ in shapes], crs=grid.crs_epsg)
    conflicts["area_m2"] = conflicts.geometry.area
    conflict_table = (conflicts.groupby("rule", as_index=False).agg(patches=("code", "size"), area_km2=("area_m2", "sum"))
                      .assign(area_km2=lambda d: d["area_km2"] / 1e6)) if len(conflicts) else pd.DataFrame(
                          {"rule": list(rule_labels.values()), "patches": 0, "area_km2": 0.0})

    progress(0.74, "area by class per township")
    loc_labels = int_keys(v["location"]["labels"])
    areas = area_table(topic, grid, zones, zone_names, [
        ("t03.agri_suitability", agri_suit, suit_labels), ("t03.grazing_suitability", grazing, suit_labels),
        ("t03.urban_suitability", urban_suit, suit_labels), ("t03.location", location, loc_labels)])

    progress(0.80, "writing layers")
    for layer_id, arr in [("t03.location", location), ("t03.agri_suitability", agri_suit), ("t03.grazing_suitability", grazing),
                          ("t03.urban_suitability", urban_suit)]:
        writer.raster(layer_id, arr, nodata=0)
    writer.vector("t03.conflicts", conflicts)
    writer.table("t03.carrying_scale", "carrying_scale", scale_table, "承载规模 carrying scale")
    writer.table("t03.area_by_class", "area_by_class", areas, "适宜性面积 area by class")
    writer.table(None, "conflicts_by_rule", conflict_table, "现状用地冲突 conflicts by rule")

    progress(0.86, "maps")
    writer.class_map("t03.urban_suitability", urban_suit, suit_labels, suit_colours, thumbnail=True)
    writer.class_map("t03.agri_suitability", agri_suit, suit_labels, suit_colours, thumbnail=True)
    writer.class_map("t03.grazing_suitability", grazing, suit_labels, suit_colours)
    writer.class_map("t03.location", location, loc_labels, {int(k): c for k, c in GRADE_COLOURS_5.items()})
    if len(rule_labels):
        palette = ["#e41a1c", "#ff7f00", "#984ea3", "#a65628", "#f781bf", "#377eb8", "#4daf4a"]
        writer.class_map("t03.conflicts", conflict_code, rule_labels, {i: palette[(i - 1) % len(palette)] for i in rule_labels})

    progress(0.94, "report")

    def block(layer_id: str) -> pd.DataFrame:
        return whole_city(areas, layer_id, "类别")

    figures = {
        "区位 source": f"{LOCATION_LAYER} ({readiness['layers'][LOCATION_LAYER]['run_key']})",
        "可承载城镇人口（以水定人）": f"{water_pop:,.0f} 人",
        "城镇建设承载规模": f"{urban_scale:,.2f} km² (binding: {urban_binding})",
        "耕地承载规模": f"{crop_scale:,.1f} hm² (binding: {crop_binding})",
        "现状城镇用地": f"{urban_now_km2:,.2f} km²",
        "冲突图斑 conflict patches": f"{len(conflicts)}",
    }
    sections = [
        Section("1 区位与集中度 Location and concentration",
                [f"区位取专题十四的至中心城区通行时间（{LOCATION_LAYER}：道路按等级设计速度 JTG B01、路外步行，栅格累积耗费），"
                 f"按 {v['location']['travel_time_breaks_min']} 分钟分为五级。"],
                tables=[("区位优势度", block("t03.location"))],
                figures=[f for f in writer.figures if "location" in f[1]]),
        Section("2 适宜性 Suitability",
                ["农业生产适宜性含种植业与牧业，取两者较优；生态保护极重要区内不评为适宜。城镇建设适宜性由城镇承载等级经区位、集中度修正，"
                 "并排除生态保护极重要区、坡度 > 25° 和地质灾害极高危险区。"],
                tables=[("农业生产适宜性（含牧业）", block("t03.agri_suitability")), ("牧业适宜性", block("t03.grazing_suitability")),
                        ("城镇建设适宜性", block("t03.urban_suitability")),
                        ("分乡镇面积 by township", by_township(areas, ["t03.agri_suitability", "t03.urban_suitability"]))],
                figures=[f for f in writer.figures if "suitability" in f[1]]),
        Section("3 承载规模 Carrying scale (water first)", ["按水资源优先、取各约束最小值（短板原理）。"], tables=[("承载规模", scale_table)]),
        Section("4 现状用地冲突 Conflicts with present land use", [], tables=[("冲突类型", conflict_table)],
                figures=[f for f in writer.figures if "conflicts" in f[1]]),
    ]
    summary = {"承载规模 carrying scale": records(scale_table),
               "适宜性面积 (km²)": records(pd.concat([whole_city(areas, i, "类别").assign(layer=i) for i in
                                                     ("t03.agri_suitability", "t03.urban_suitability")]))}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
