"""T02 资源环境承载能力评价 — resource and environment carrying capacity of Erenhot.

Follows the 2020 双评价 guideline's structure as laid out in the domain spec (§1.3–1.8): single
factors on one common grid (EPSG:4525, ``grid.cell_size_m``, 30 m by default) — 土地资源 (slope,
relief, elevation), 水资源 (precipitation / 用水总量控制指标模数), 气候 (≥0 °C 积温 from daily station
means with a lapse-rate correction; THI comfort), 灾害 (geological susceptibility, active-fault
buffers), 生态 (RWEQ 防风固沙 service, NPP biodiversity index, 土地沙化 and 水土流失 fragility →
生态保护重要性) — then the integrated 农业生产 and 城镇建设 承载等级 and the limiting factor of each
cell. Every threshold comes from ``erenhot/config/t02_carrying_capacity.yaml``.

With one meteorological station (530680) the climate factors are uniform over the city except for
the elevation correction of temperature; the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from erenhot.catalog import Catalog
from erenhot.evaluation import carrying_capacity as cc
from erenhot.evaluation import ecology as eco
from erenhot.grid import Grid, boundary_mask, rasterize, rasterize_codes, warp_to_grid
from erenhot.maps import GRADE_COLOURS_5, IMPORTANCE_COLOURS
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

CODE = "t02"
CONFIG = "t02_carrying_capacity"
CAPACITY_LABELS = {1: "高", 2: "较高", 3: "中等", 4: "较低", 5: "低"}
ECO3 = {1: IMPORTANCE_COLOURS.get("极重要", "#1a7f37"), 2: IMPORTANCE_COLOURS.get("重要", "#7bc96f"),
        3: IMPORTANCE_COLOURS.get("一般", "#eef5db")}
LIMIT_COLOURS = {1: "#1f77b4", 2: "#d62728", 3: "#ff7f0e"}



def station_climate(inputs: TopicInputs) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily climate of the first station of ``17-01`` from ``17-02``, with its elevation.

    Raises:
        ValueError: the daily table has no rows for that station.
    """
    stations = inputs.table("17-01")
    station = stations.iloc[0]
    daily = inputs.table("17-02")
    sid = str(station["station_id"]).strip()
    daily = daily[daily["station_id"].astype(str).str.strip() == sid].copy()
    if daily.empty:
        raise ValueError(f"17-02 has no daily rows for station {sid} of 17-01")
    daily["date"] = pd.to_datetime(daily["date"])
    daily = daily.sort_values("date").reset_index(drop=True)
    years = daily["date"].dt.year.value_counts()
    n_years = float(len(years)) if (years >= 360).all() else len(daily) / 365.25
    info = {"station_id": sid, "name": str(station.get("name", "")), "elevation_m": float(station["elevation_m"]),
            "lon": float(station["lon"]), "lat": float(station["lat"]), "n_years": n_years,
            "first": daily["date"].min().date().isoformat(), "last": daily["date"].max().date().isoformat()}
    return daily, info


def grid_inputs(inputs: TopicInputs, cfg: Any, grid: Grid, inside: np.ndarray, notes: list[str],
                progress: Progress = no_progress) -> tuple[dict[str, np.ndarray], cc.CapacitySettings, dict[str, Any], pd.Series]:
    """T02's inputs brought onto ``grid``: the block arrays of :mod:`erenhot.evaluation.carrying_capacity`
    (DEM and rasters warped bilinearly, vectors rasterised at cell centres, fault lines with all touched
    cells), the run's :class:`~erenhot.evaluation.carrying_capacity.CapacitySettings`, the station facts
    and the 04-07 quota row used. Appends to ``notes`` what was not available.
    """
    v = cfg.values
    area_km2 = float(inside.sum() * grid.cell_area_km2)
    progress(0.08, "inputs onto the grid: DEM, land use, soil, vegetation cover")
    dem = warp_to_grid(inputs.raster_bytes("01-03"), grid, "bilinear").astype("float32")
    dltb = inputs.vector("01-46a.dltb")
    codes = sorted(dltb["DLBM"].astype(str).unique())
    soil = inputs.vector("04-13")
    textures = sorted(soil["TRZD"].astype(str).unique())
    block: dict[str, np.ndarray] = {
        "inside": inside, "dem": dem,
        "land_use": rasterize_codes(dltb, "DLBM", grid, {c: i + 1 for i, c in enumerate(codes)}),
        "texture": rasterize_codes(soil, "TRZD", grid, {t: i + 1 for i, t in enumerate(textures)}),
        "fvc": warp_to_grid(inputs.raster_bytes("01-46a.fvc"), grid, "bilinear"),
        **{c.lower(): rasterize(soil, grid, value=c, dtype="float32", fill=np.nan) for c in ("SAND", "SILT", "CLAY", "OM", "CACO3")},
    }

    progress(0.24, "climate of station 17-02, 用水总量控制指标")
    daily, station = station_climate(inputs)
    quota = inputs.table("04-07").dropna(subset=["total_quota_10k_m3"]).sort_values("year").iloc[-1]
    quota_m3 = float(quota["total_quota_10k_m3"]) * 1e4

    progress(0.44, "hazards: geological susceptibility and active faults")
    hz = v["hazard"]
    geoh = inputs.vector("01-28")
    geoh = geoh.assign(grade=geoh["YFCD"].map(hz["susceptibility_grades"]).fillna(hz["background_grade"]).astype(int))
    block["susceptibility"] = rasterize(geoh, grid, value="grade", dtype="uint8", fill=int(hz["background_grade"]))
    faults = inputs.vector("01-27")
    for activity, distance in hz["fault_buffer_m"].items():
        sel = faults[faults["HDX"] == activity]
        if float(distance) > 0:
            block[f"fault_{activity}"] = (rasterize(sel, grid, value=1, dtype="uint8", all_touched=True) if len(sel)
                                          else np.zeros(grid.shape, np.uint8))

    progress(0.52, "ecology inputs: NPP, 土地沙化 monitoring")
    ev = v["ecology"]
    biodiversity = inputs.has("01-46a.npp") and "biodiversity" in ev["services"]
    if biodiversity:
        block["npp"] = warp_to_grid(inputs.raster_bytes("01-46a.npp"), grid, "bilinear")
        notes.append("生物多样性维护功能: NPP index with F_pre = F_tem = 1 (one station: precipitation and temperature "
                     "do not vary across the city); F_alt from the DEM.")
    else:
        notes.append("生物多样性维护功能 not evaluated: the optional NPP dataset 01-46a.npp was not delivered/validated; "
                     "service importance rests on 防风固沙 alone.")
    de = ev["desertification"]
    severe_monitoring = inputs.has("01-16")
    if severe_monitoring:
        des = inputs.vector("01-16")
        sel = des[des["SHCD"].isin(de["monitored_severe_classes"])]
        block["severe"] = rasterize(sel, grid, value=1, dtype="uint8") if len(sel) else np.zeros(grid.shape, np.uint8)
    else:
        notes.append("土地沙化 monitoring (01-16) not available: fragility from I, W, K, C only.")
    dem_inside = dem[inside & ~np.isnan(dem)]
    settings = cc.CapacitySettings.build(cfg, daily, station, area_km2=area_km2, quota_m3=quota_m3, dlbm_codes=codes,
                                         textures=textures, biodiversity=biodiversity, severe_monitoring=severe_monitoring,
                                         dem_range=(float(dem_inside.min()), float(dem_inside.max())) if dem_inside.size else (np.nan, np.nan))

    return block, settings, station, quota


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T02 from the resolved inputs and publish layers, tables, maps and the report.

    Args:
        readiness: the resolved inputs (dataset → validated version and standard manifest).
        overrides: dotted config paths → values (e.g. ``{"grid.cell_size_m": 300}``).
        progress: callback ``(fraction 0–1, step)``.

    Returns:
        JSON-safe result: run key, outputs (id, uri, sha256), small summary tables, figures,
        thumbnails, report URIs; ``skipped`` when the run key is unchanged and the products intact.
    """
    run = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if run.reused is not None:
        return run.reused
    topic, cfg, pub = run.topic, run.cfg, run.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []

    progress(0.02, "grid and administrative divisions")
    city = inputs.vector("01-04", "city")
    cell = float(v["grid"]["cell_size_m"])
    grid = Grid.for_geometry(city, cell)
    inside = boundary_mask(city, grid)
    zones, zone_names = township_zones(inputs.vector("01-04", "townships"), grid, inside)
    area_km2 = float(inside.sum() * grid.cell_area_km2)
    writer = LayerWriter(pub, topic, grid, city)

    block, settings, station, quota = grid_inputs(inputs, cfg, grid, inside, notes, progress)
    quota_m3 = settings.water_rule["quota_m3"]
    ev, de, hz = v["ecology"], v["ecology"]["desertification"], v["hazard"]

    progress(0.60, "single factors, 承载等级 and limiting factors (one block: the whole grid)")
    layers = cc.capacity_block(block, settings)
    services = cc.service_layers(settings)
    break_values = {name: eco.cumulative_share_breaks(lambda name=name: [np.nan_to_num(layers[name])[inside]], settings.service_breaks)
                    for name in services}
    layers.update(cc.importance_block({"inside": inside, **layers}, break_values))
    slope, at = layers["slope"], layers["accumulated_temp"]
    wind_service = layers["wind_erosion_service"]
    service_importance, eco_importance = layers["service_importance"], layers["eco_importance"]
    g_desert, g_soil = layers["desertification_fragility"], layers["soil_erosion_fragility"]
    agri_cap, urban_cap, hazard = layers["agri_capacity"], layers["urban_capacity"], layers["hazard"]
    land_agri, land_urban = layers["land_agri"], layers["land_urban"]
    agri_limit, urban_limit = layers["agri_limiting_factor"], layers["urban_limiting_factor"]
    agri_limit_labels = {i + 1: v["agri"]["limiting_factor_names"][n] for i, n in enumerate(settings.agri_limit_order)}
    urban_limit_labels = {i + 1: v["urban"]["limiting_factor_names"][n] for i, n in enumerate(settings.urban_limit_order)}
    at_station, aridity, wind_days, erosivity = settings.at_station, settings.aridity, settings.wind_days, settings.erosivity
    annual_precip, modulus = settings.figures["annual_precip_mm"], settings.figures["quota_modulus_m3_per_km2"]
    comfort_grade = settings.comfort
    breaks = settings.service_breaks
    n_inside = max(int(inside.sum()), 1)
    share_extreme = float((eco_importance == 1).sum()) / n_inside
    if share_extreme > 0.5:
        notes.append(
            f"生态保护极重要区 covers {share_extreme:.0%} of the city: 服务功能极重要 (top {breaks[0]:.0%} of the cumulative "
            f"service) {float((service_importance == 1).sum()) / n_inside:.0%}, 土地沙化 极脆弱 "
            f"{float((g_desert == 1).sum()) / n_inside:.0%} (I = {aridity:.2f}, W = {wind_days:.0f} d/a). The final breaks "
            f"{list(de['final_breaks'])} (equal thirds, [S5]) versus the red-line guide's {list(de['final_breaks_alternative'])} "
            "[L] and the wind threshold decide this share: check them against the official tables "
            "(config ecology.desertification.*).")

    progress(0.80, "area by grade per township")
    hazard_labels = int_keys(hz["labels"])
    eco_labels = int_keys(ev["labels"])
    frag_labels = int_keys(ev["fragility_labels"])
    class_layers = [("t02.eco_importance", eco_importance, eco_labels), ("t02.service_importance", service_importance, eco_labels),
                    ("t02.desertification_fragility", g_desert, frag_labels), ("t02.soil_erosion_fragility", g_soil, frag_labels),
                    ("t02.agri_capacity", agri_cap, CAPACITY_LABELS), ("t02.urban_capacity", urban_cap, CAPACITY_LABELS),
                    ("t02.land_agri", land_agri, CAPACITY_LABELS), ("t02.land_urban", land_urban, CAPACITY_LABELS),
                    ("t02.hazard", hazard, hazard_labels), ("t02.agri_limiting_factor", agri_limit, agri_limit_labels),
                    ("t02.urban_limiting_factor", urban_limit, urban_limit_labels)]
    areas = area_table(topic, grid, zones, zone_names, class_layers)

    progress(0.84, "writing layers (COG GeoTIFF)")
    for name in cc.VALUE_LAYERS:
        if name in layers:
            writer.raster(f"t02.{name}", layers[name], nodata=np.nan)
    for name in cc.CLASS_LAYERS:
        writer.raster(f"t02.{name}", layers[name], nodata=0)
    writer.table("t02.area_by_grade", "area_by_grade", areas, "面积统计 area by grade")

    progress(0.88, "maps")
    grades5 = {int(k): c for k, c in GRADE_COLOURS_5.items()}
    writer.class_map("t02.eco_importance", eco_importance, eco_labels, ECO3, thumbnail=True)
    writer.class_map("t02.agri_capacity", agri_cap, CAPACITY_LABELS, grades5, thumbnail=True)
    writer.class_map("t02.urban_capacity", urban_cap, CAPACITY_LABELS, grades5, thumbnail=True)
    writer.class_map("t02.land_urban", land_urban, CAPACITY_LABELS, grades5)
    writer.class_map("t02.land_agri", land_agri, CAPACITY_LABELS, grades5)
    writer.class_map("t02.hazard", hazard, hazard_labels, {1: "#7f0000", 2: "#d7301f", 3: "#fc8d59", 4: "#fdcc8a", 5: "#fef0d9"})
    writer.class_map("t02.desertification_fragility", g_desert, frag_labels, ECO3)
    writer.class_map("t02.agri_limiting_factor", agri_limit, agri_limit_labels, LIMIT_COLOURS)
    writer.class_map("t02.urban_limiting_factor", urban_limit, urban_limit_labels, LIMIT_COLOURS)
    writer.value_map("t02.accumulated_temp", at, "°C·d", cmap="YlOrRd")
    writer.value_map("t02.wind_erosion_service", wind_service, "t/(hm²·a)", cmap="YlGn")
    writer.value_map("t02.slope", slope, "°", cmap="magma_r")

    progress(0.94, "report")
    figures = {
        "评价网格 grid": f"EPSG:{grid.crs_epsg}, {cell:g} m, {grid.shape[0]}×{grid.shape[1]} cells, 市域 {area_km2:,.1f} km²",
        "站点 station": f"{station['station_id']} {station['name']} ({station['lon']:.2f}°E, {station['lat']:.2f}°N, {station['elevation_m']:.1f} m), "
                        f"{station['first']} – {station['last']}",
        "≥0°C积温（站点，由日平均气温计算）": f"{at_station:,.1f} °C·d",
        "≥0°C积温（市域，海拔订正）": f"{np.nanmin(at):,.0f} – {np.nanmax(at):,.0f} °C·d",
        "年降水量 annual precipitation": f"{annual_precip:,.1f} mm",
        "干燥度 aridity index I": f"{aridity:.2f}",
        "起沙风天数 W": f"{wind_days:.1f} d/a",
        "降雨侵蚀力 R": f"{erosivity:.1f} MJ·mm·hm⁻²·h⁻¹·a⁻¹",
        "用水总量控制指标": f"{quota_m3 / 1e4:,.0f} 万m³ ({int(quota['year'])}), 模数 {modulus:,.0f} m³/km²",
        "舒适度 comfort (modal monthly THI class)": f"{comfort_grade} {int_keys(v['urban']['comfort']['labels']).get(comfort_grade, '')}",
    }

    def block(layer_id: str) -> pd.DataFrame:
        return whole_city(areas, layer_id, "等级")

    sections = [
        Section("1 评价范围与数据 Scope and data",
                [f"评价范围为二连浩特市域，统一采用 CGCS2000 / 3° 高斯-克吕格第37带（EPSG:4525），{cell:g} m 栅格。",
                 "气候因子来自气象站 " + figures["站点 station"] + "；单站资料下气候因子在市域内仅随海拔订正变化。"],
                notes=[f"{k}: {val}" for k, val in figures.items()]),
        Section("2 单项评价 Single-factor evaluation",
                ["土地资源、水资源、光热条件、舒适度、灾害与生态各要素分级如下（1 = 高/好 … 5 = 低/差）。"],
                tables=[("农业耕作条件（土地资源）", block("t02.land_agri")), ("城镇建设条件（土地资源）", block("t02.land_urban")),
                        ("自然灾害危险性", block("t02.hazard")), ("土地沙化脆弱性", block("t02.desertification_fragility")),
                        ("水土流失脆弱性", block("t02.soil_erosion_fragility"))],
                figures=[f for f in writer.figures if any(s in f[1] for s in ("land_", "hazard", "accumulated", "wind_erosion", "slope", "desert"))]),
        Section("3 生态保护重要性 Ecological protection importance",
                ["生态保护重要性 = 生态系统服务功能重要性（防风固沙、生物多样性，按累计服务量 50 %/80 % 分级）与生态脆弱性（土地沙化、水土流失）取高。"],
                tables=[("生态保护重要性", block("t02.eco_importance")), ("生态系统服务功能重要性", block("t02.service_importance"))],
                figures=[f for f in writer.figures if "eco_importance" in f[1]]),
        Section("4 承载能力集成评价 Integrated carrying capacity",
                ["农业生产承载等级 = 土地资源 × 水资源 × 光热条件（判别矩阵）；城镇建设承载等级 = 土地资源 × 水资源，经灾害与舒适度修正。"],
                tables=[("农业生产承载等级", block("t02.agri_capacity")), ("城镇建设承载等级", block("t02.urban_capacity")),
                        ("农业生产限制性要素", block("t02.agri_limiting_factor")), ("城镇建设限制性要素", block("t02.urban_limiting_factor")),
                        ("分乡镇面积 by township", by_township(areas, ["t02.eco_importance", "t02.agri_capacity", "t02.urban_capacity"]))],
                figures=[f for f in writer.figures if any(s in f[1] for s in ("capacity", "limiting"))]),
    ]
    summary = {"承载等级面积 (km²)": records(pd.concat([whole_city(areas, i, "等级").assign(layer=i) for i in
                                                      ("t02.eco_importance", "t02.agri_capacity", "t02.urban_capacity")]))}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
