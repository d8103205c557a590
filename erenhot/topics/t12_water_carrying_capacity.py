"""T12 二连浩特市水资源承载力评价研究 — water resources carrying capacity (lead 农牧水务局).

Reads the validated 农牧水务局 deliveries (04-03 水资源分布, 04-04 水资源公报, 04-05 水资源评价, 04-06
水土流失, 04-07 三条红线, 04-09 水文数据), the station series 17-02, the 01-04 boundaries and the
01-46a.dltb land use, and T02's published ``t02.water_urban`` grade; computes with
:mod:`erenhot.evaluation.water` (volumes in 万m³) on T02's grid:

* 供需平衡: 可利用水资源量 (04-05 newest assessment) against the use by sector of every bulletin year;
* 承载状况: use / 用水总量控制指标 per year (classes 不超载 / 临界状态 / 超载 / 严重超载 of config
  ``status``), and 现状开采量 / 可开采量 per groundwater zone of 04-03 → ``t12.water_carrying_status``;
* 多年降水变化: Mann–Kendall and Sen's slope of the station's annual totals (17-02), extended by the
  04-05 assessment series when the station record is shorter than ``trend.min_years``;
* single factors (水资源 = 可开采模数, 水环境 = 矿化度, 水生态 = 地下水埋深, 水土流失, t02 用水总量模数)
  and their 协同（综合）承载力;
* 2025/2035 需水预测 by sector, 以水定人 / 以水定城 / 以水定地, targets, the allocation to townships and
  the land–water match; restoration zones from rules of config ``restoration``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import water as w
from erenhot.evaluation.classify import grade_by_bands, grade_by_breaks
from erenhot.grid import boundary_mask, rasterize, read_raster
from erenhot.maps import GRADE_COLOURS_5
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, int_keys, no_progress, records, township_zones
from erenhot.topics.inputs import TopicInputs

CODE = "t12"
CONFIG = "t12_water_carrying_capacity"
STATUS_COLOURS = {1: "#1a7d3c", 2: "#f5e36b", 3: "#f59a4a", 4: "#d7301f"}
FACTORS = {"water_resources": "水资源（可开采模数）", "water_environment": "水环境（地下水矿化度）",
           "water_ecology": "水生态（地下水埋深）", "soil_erosion": "水土流失", "quota_supply": "用水总量控制指标模数（T02）"}
RESTORATION_TYPES = {1: ("盐湖湿地保护修复区", "划定保护范围，控制周边地下水开采，退牧还湿"),
                     2: ("水土流失综合治理区", "封育禁牧、沙障固沙、人工种草"),
                     3: ("地下水超采治理区", "压采限采、关停自备井、再生水与节水替代")}


def caps_for_years(caps: pd.DataFrame, years: list[int], rule: str) -> pd.DataFrame:
    """The 04-07 row that governs each use year: its own, or (``next_target``) the next delivered year's,
    else the newest earlier one. Adds ``quota_year``. ``exact`` keeps only years with their own row."""
    c = caps.dropna(subset=["total_quota_10k_m3"]).copy()
    c["year"] = c["year"].astype(int)
    have = sorted(c["year"])
    rows = []
    for y in years:
        if y in have:
            q = y
        elif rule == "next_target":
            later = [h for h in have if h > y]
            q = later[0] if later else (have[-1] if have else None)
        elif rule == "exact":
            q = None
        else:
            raise ValueError(f"caps.year_rule must be next_target or exact, got {rule!r}")
        if q is not None:
            rows.append(c[c["year"] == q].iloc[0].to_dict() | {"year": int(y), "quota_year": int(q)})
    return pd.DataFrame(rows)


def _cell_centres(grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = grid.shape
    t = grid.transform
    return t.c + (np.arange(cols) + 0.5) * t.a, t.f + (np.arange(rows) + 0.5) * t.e


def _extra_map(writer: LayerWriter, name: str, title: str, classes: np.ndarray, labels: dict[int, str],
               colours: dict[int, str]) -> None:
    legend = [(k, labels[k], colours.get(k, "#999999")) for k in sorted(labels)]
    png = maps.render_class_map(classes, writer.grid, legend, f"二连浩特市{title}", boundary=writer.boundary,
                                cell_area_km2=writer.grid.cell_area_km2)
    entry = writer.pub.put(f"maps/{name}.png", png, kind="map")
    writer.figures.append((f"二连浩特市{title}", entry["name"]))


def _area_km2(gdf: gpd.GeoDataFrame, codes: list[str]) -> float:
    sel = gdf[gdf["DLBM"].astype(str).isin([str(c) for c in codes])]
    return float(sel.geometry.area.sum() / 1e6)


def _share_by_township(gdf: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> dict[str, float]:
    """Area of ``gdf`` per township code (km²), every township present (0 where none)."""
    out = {str(c): 0.0 for c in townships["XZQDM"]}
    if len(gdf):
        pieces = gpd.overlay(gdf[["geometry"]], townships[["XZQDM", "geometry"]], how="intersection", keep_geom_type=True)
        for code, a in pieces.groupby("XZQDM").geometry.apply(lambda g: g.area.sum() / 1e6).items():
            out[str(code)] = float(a)
    return out


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T12 from the resolved inputs; publish layers, tables, maps and the report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: an input the evaluation needs is not resolved (names it).
        ValueError: inconsistent deliveries (from :mod:`erenhot.evaluation.water`, naming the column).
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    status_p = cfg.params(w.StatusParams, "status")
    trend_p = cfg.params(w.TrendParams, "trend")
    quotas = cfg.params(w.DemandQuotas, "demand")
    status_labels = dict(status_p.labels)
    grade_labels = int_keys(v["factors"]["labels"])
    grade_colours = {int(k): c for k, c in GRADE_COLOURS_5.items()}
    sector_zh = v["labels"]["sectors"]

    progress(0.03, "grid and boundaries")
    quota_grade, grid, _ = read_raster(inputs.layer_bytes("t02.water_urban"))
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    townships["XZQDM"] = townships["XZQDM"].astype(str)
    inside = boundary_mask(city, grid)
    zones, zone_names = township_zones(townships, grid, inside)
    writer = LayerWriter(pub, topic, grid, city)
    cell_km2 = grid.cell_area_km2
    dltb = inputs.vector("01-46a.dltb")
    dltb["DLBM"] = dltb["DLBM"].astype(str)

    progress(0.08, "供需平衡 water balance")
    bulletin = inputs.table("04-04")
    caps = inputs.table("04-07")
    assess = inputs.table("04-05", "水资源评价成果")
    newest = assess.sort_values("period_end").iloc[[-1]]
    available = w.available_water(newest[["surface_available_10k_m3", "groundwater_exploitable_10k_m3", "overlap_10k_m3"]])
    avail_10k = float(available["available_10k_m3"].iloc[0])
    use = w.use_from_bulletin(bulletin, float(v["balance"]["bulletin_total_rel_tolerance"]))
    balance = w.water_balance(available, use)
    res_cols = [c for c in ("total_resources_10k_m3", "groundwater_10k_m3", "surface_10k_m3") if c in bulletin.columns]
    balance = balance.merge(bulletin[["year", *res_cols]].astype({"year": int}), on="year", how="left")

    progress(0.14, "承载状况 carrying status")
    use_years = [int(y) for y in balance["year"]]
    caps_use = caps_for_years(caps, use_years, v["caps"]["year_rule"])
    if caps_use.empty:
        raise ValueError("t12: no 用水总量控制指标 (04-07) governs any 水资源公报 (04-04) year")
    borrowed = caps_use[caps_use["quota_year"] != caps_use["year"]]
    if len(borrowed):
        notes.append(f"04-07 has no quota for bulletin year(s) {borrowed['year'].tolist()}: compared with the quota of "
                     f"{sorted(set(borrowed['quota_year']))} (caps.year_rule = {v['caps']['year_rule']}).")
    status_use = balance[balance["year"].isin(caps_use["year"])][["year", "use_total_10k_m3"]]
    status = w.carrying_status(status_use, caps_use[["year", "total_quota_10k_m3"]], status_p)
    status = status.merge(caps_use[["year", "quota_year"]], on="year", how="left")
    city_now = status[status["indicator"] == "overall"].sort_values("year").iloc[-1]
    city_code, city_year = int(city_now["status_code"]), int(city_now["year"])
    city_ratio = float(status[(status["indicator"] == "total_use") & (status["year"] == city_year)]["ratio"].iloc[0])

    gwz = inputs.vector("04-03").copy()
    gwz["area_km2"] = gwz.geometry.area / 1e6
    gwz["exploitable_10k_m3"] = gwz["KCMS"].astype(float) * gwz["area_km2"]
    gwz["resources_10k_m3"] = gwz["ZYMS"].astype(float) * gwz["area_km2"]
    gw_ratio = np.round(gwz["XZKCL"].astype(float).to_numpy() / gwz["exploitable_10k_m3"].to_numpy(), status_p.ratio_decimals)
    gw_code = w.classify_load(gw_ratio, status_p.groundwater_ratio_breaks, status_p.value_on_break)
    overall = np.maximum(gw_code, city_code) if status_p.overall_rule == "worst" else np.full_like(gw_code, city_code)
    carrying = gpd.GeoDataFrame({
        "FQBM": gwz["FQBM"].astype(str), "FQMC": gwz["FQMC"].astype(str),
        "resources_10k_m3": gwz["resources_10k_m3"].round(2), "exploitable_10k_m3": gwz["exploitable_10k_m3"].round(2),
        "abstraction_10k_m3": gwz["XZKCL"].astype(float), "gw_ratio": gw_ratio, "gw_status_code": gw_code,
        "gw_status": [status_labels[int(c)] for c in gw_code], "city_year": city_year, "city_ratio": city_ratio,
        "city_status_code": city_code, "status_code": overall.astype(np.uint8),
        "status": [status_labels[int(c)] for c in overall]}, geometry=gwz.geometry.values, crs=gwz.crs)

    progress(0.22, "水资源分布 and single factors")
    zyms = rasterize(gwz, grid, value="ZYMS", dtype="float32", fill=np.nan)
    kcms = rasterize(gwz, grid, value="KCMS", dtype="float32", fill=np.nan)
    resources = np.where(inside, zyms * cell_km2, np.nan).astype("float32")  # 万m³ per cell
    fv = v["factors"]
    f_res = np.where(inside, grade_by_breaks(kcms, fv["water_resources_breaks"], higher_is_better=True), 0).astype(np.uint8)
    hydro = inputs.vector("04-09")
    hydro.columns = [c.lower() if c != hydro.geometry.name else c for c in hydro.columns]
    wells = hydro[hydro["type"].astype(str) == "地下水监测井"]
    gx, gy = _cell_centres(grid)
    tds = w.idw(wells.geometry.x, wells.geometry.y, pd.to_numeric(wells["mineralization_g_l"], errors="coerce"), gx, gy, fv["idw_power"])
    depth = w.idw(wells.geometry.x, wells.geometry.y, pd.to_numeric(wells["gw_depth_m"], errors="coerce"), gx, gy, fv["idw_power"])
    f_env = np.where(inside, grade_by_breaks(tds, fv["tds_breaks_g_l"], higher_is_better=False), 0).astype(np.uint8)
    f_eco = np.where(inside, grade_by_bands(depth, fv["depth_bands_m"]), 0).astype(np.uint8)
    erosion = inputs.vector("04-06", "soil_erosion").copy()
    ero_grades = fv["erosion_grades"]
    erosion["grade"] = erosion["QSQD"].map(lambda s: int(ero_grades.get(str(s), ero_grades["none"]))).astype("uint8")
    ero_r = rasterize(erosion.sort_values("grade"), grid, value="grade", dtype="uint8", fill=int(ero_grades["none"]))
    f_ero = np.where(inside, ero_r, 0).astype(np.uint8)
    f_quota = np.where(inside, quota_grade, 0).astype(np.uint8)
    factor_grids = {"water_resources": f_res, "water_environment": f_env, "water_ecology": f_eco,
                    "soil_erosion": f_ero, "quota_supply": f_quota}
    comp = v["composite"]
    composite = w.combine_grades(factor_grids, comp["weights"], int(comp["veto"]["grade"]), int(comp["veto"]["floor"]),
                                 comp["veto"]["factors"])
    composite = np.where(inside, composite, 0).astype(np.uint8)

    progress(0.34, "多年降水变化 precipitation trend")
    daily = inputs.table("17-02")
    station_id = None
    if "station_id" in daily.columns and daily["station_id"].astype(str).nunique() > 1:
        station_id = str(daily["station_id"].astype(str).value_counts().index[0])
        notes.append(f"17-02 holds several stations: the trend uses {station_id}, the longest record.")
    annual_st = w.annual_precipitation(daily, trend_p.max_missing_days_per_year, station_id)
    series = pd.DataFrame({"year": annual_st.index.astype(int), "precip_mm": annual_st.to_numpy(), "source": "17-02 气象站"})
    series = series.dropna()
    if len(series) < trend_p.min_years:
        extra = inputs.table("04-05", "降水系列")
        extra = extra[~extra["year"].astype(int).isin(series["year"])].dropna(subset=["precip_mm"])
        notes.append(f"17-02 gives {len(series)} complete year(s), fewer than trend.min_years = {trend_p.min_years}: the "
                     f"04-05 assessment series ({int(extra['year'].min())}–{int(extra['year'].max())}, areal mean) fills the other years.")
        series = pd.concat([pd.DataFrame({"year": extra["year"].astype(int), "precip_mm": extra["precip_mm"].astype(float),
                                          "source": "04-05 水资源评价降水系列"}), series], ignore_index=True)
    series = series.sort_values("year").reset_index(drop=True)
    trend = w.precipitation_trend(series.set_index("year")["precip_mm"], trend_p)
    trend_table = pd.DataFrame([{"项目 item": k, "值 value": val} for k, val in [
        ("年份 years", f"{trend.first_year}–{trend.last_year} ({trend.n_years} a)"),
        ("多年平均降水 mean", f"{series['precip_mm'].mean():.1f} mm"), ("Kendall τ", f"{trend.tau:.3f}"),
        ("p (MK, two-sided)", f"{trend.p_value:.4f}"), ("Sen slope", f"{trend.slope_mm_per_year:+.3f} mm/a "
         f"[{trend.slope_low_mm_per_year:+.3f}, {trend.slope_high_mm_per_year:+.3f}]"),
        ("α", f"{trend.alpha}"), ("结论 result", trend.label)]])

    progress(0.44, "需水预测 2025/2035 and 以水定人/城/地")
    targets_years = [int(y) for y in v["demand"]["target_years"]]
    sc = v["scenario"]
    base_year, base_pop = None, float(sc["base_population"])
    township_pop: dict[str, float] = {}
    if inputs.has("10-02"):
        pop = inputs.table("10-02")
        pop["XZQDM"] = pop["XZQDM"].astype(str)
        city_rows = pop[pop["XZQDM"] == "152501"].sort_values("year")
        if len(city_rows):
            base_year, base_pop = int(city_rows.iloc[-1]["year"]), float(city_rows.iloc[-1]["resident_pop"])
            tw = pop[(pop["year"] == base_year) & (pop["XZQDM"].str.len() == 9)]
            township_pop = {str(r.XZQDM): float(r.resident_pop) for r in tw.itertuples()}
    else:
        notes.append("常住人口 (10-02) not delivered: the demand uses scenario.base_population.")
    base_year = base_year or 2020
    irrigated_ha = _area_km2(dltb, sc["irrigated_dlbm"]) * 100.0
    green_ha_now = _area_km2(dltb, sc["green_dlbm"]) * 100.0
    scen_rows = []
    for y in targets_years:
        p = base_pop * (1.0 + float(sc["population_growth_per_year"])) ** (y - base_year)
        us = float(int_keys(sc["urban_share"])[y])
        scen_rows.append({"year": y, "population_urban": p * us, "population_rural": p * (1 - us),
                          "industry_value_added_10k_yuan": float(int_keys(sc["industry_value_added_10k_yuan"])[y]),
                          "irrigated_area_ha": irrigated_ha, "livestock_sheep_units": float(int_keys(sc["livestock_sheep_units"])[y]),
                          "green_area_ha": green_ha_now * p / base_pop, "ecology_other_10k_m3": float(int_keys(sc["ecology_other_10k_m3"])[y])})
    scenario = pd.DataFrame(scen_rows)
    demand = w.project_demand(scenario, quotas)
    latest_cap = caps.dropna(subset=["total_quota_10k_m3"]).sort_values("year").iloc[-1]
    cap_rows = []
    for y in targets_years:
        own = caps[caps["year"].astype(int) == y]
        if len(own):
            cap_rows.append(own.iloc[0].to_dict() | {"cap_basis": f"04-07 {y}"})
        elif v["caps"]["no_quota_target"] == "available":
            cap_rows.append(latest_cap.to_dict() | {"year": y, "total_quota_10k_m3": avail_10k,
                                                    "cap_basis": f"可利用水资源量 04-05 {newest['assessment'].iloc[0]} (shares 04-07 {int(latest_cap['year'])})"})
        else:
            cap_rows.append(latest_cap.to_dict() | {"year": y, "cap_basis": f"04-07 {int(latest_cap['year'])} (newest)"})
    caps_t = pd.DataFrame(cap_rows)
    now = balance.sort_values("year").iloc[-1]
    first = demand.iloc[0]
    for s_ in w.SECTORS:
        used, need = float(now[f"use_{s_}_10k_m3"]), float(first[f"demand_{s_}_10k_m3"])
        if used > 0 and not 0.5 <= need / used <= 2.0:
            notes.append(f"需水 {sector_zh[s_]} {int(first['year'])} = {need:,.1f} 万m³ differs from the 04-04 use of {int(now['year'])} "
                         f"({used:,.1f} 万m³) by more than a factor 2: check the drivers (config scenario, 01-46a.dltb areas) "
                         f"or the bulletin figure.")
    caps_t["year"] = caps_t["year"].astype(int)
    gap = w.demand_gap(demand, caps_t, status_p)
    scale_rows = []
    for y in targets_years:
        d = demand[demand["year"] == y].iloc[0]
        s = scenario[scenario["year"] == y].iloc[0]
        population = float(s["population_urban"] + s["population_rural"])
        per_capita = (float(d["demand_domestic_10k_m3"]) + float(d["demand_industry_10k_m3"])) * 1e4 / population
        q = quotas.for_year(y)
        livestock_10k = float(s["livestock_sheep_units"]) * q["livestock_l_per_sheep_unit_day"] * 365 / 1000 / 1e4
        cap_row = caps_t[caps_t["year"] == y].iloc[0]
        sc_ = w.water_bound_scales(cap_row, per_capita, float(v["scales"]["per_capita_urban_land_m2"]),
                                   q["irrigation_m3_per_ha"], livestock_10k, float(v["scales"]["rainfed_ha"]))
        scale_rows += [
            {"year": y, "key": "water_bound_population", "项目 item": "以水定人 water-bound population", "值 value": round(sc_["population"]), "单位 unit": "人",
             "依据 basis": f"{cap_row['total_quota_10k_m3']:.1f} 万m³ × {cap_row['domestic_industrial_share']:.3f} ÷ {per_capita:.1f} m³/人·a"},
            {"year": y, "key": "projected_population", "项目 item": "规划人口 projected population", "值 value": round(population), "单位 unit": "人",
             "依据 basis": f"{base_pop:,.0f} ({base_year}) × (1 + {sc['population_growth_per_year']})^{y - base_year}"},
            {"year": y, "key": "water_bound_urban_land", "项目 item": "以水定城 water-bound urban land", "值 value": round(sc_["urban_land_km2"], 2), "单位 unit": "km²",
             "依据 basis": f"× 人均城镇建设用地 {v['scales']['per_capita_urban_land_m2']} m² (GB 50137-2011)"},
            {"year": y, "key": "water_bound_irrigable_area", "项目 item": "以水定地 irrigable area", "值 value": round(sc_["irrigable_area_ha"], 1), "单位 unit": "hm²",
             "依据 basis": f"({sc_['agri_allocation_10k_m3']:.1f} − 牲畜 {livestock_10k:.1f}) 万m³ ÷ {q['irrigation_m3_per_ha']} m³/hm²"},
            {"year": y, "key": "present_irrigated_area", "项目 item": "现状灌溉面积 present irrigated (三调 0101/0102)", "值 value": round(irrigated_ha, 1), "单位 unit": "hm²",
             "依据 basis": "01-46a.dltb"}]
    scales = pd.DataFrame(scale_rows)

    progress(0.55, "农牧业用地与水资源匹配 land–water match")
    land = rasterize(dltb[dltb["DLBM"].isin(v["land_water"]["land_dlbm"])], grid, value=1, dtype="uint8").astype(bool) & inside
    match = w.land_water_match(zones, land, np.nan_to_num(resources), cell_km2)
    match.insert(1, "township", match["zone"].map(zone_names))

    progress(0.62, "水资源调配 allocation to townships")
    lw = v["land_water"]
    weights = {
        "domestic": township_pop if township_pop and set(township_pop) >= set(townships["XZQDM"])
        else _share_by_township(dltb[dltb["DLBM"].isin(lw["urban_dlbm"])], townships),
        "industry": _share_by_township(dltb[dltb["DLBM"].isin(lw["industry_dlbm"])], townships),
        "agri": {townships["XZQDM"].iloc[z - 1]: float(r) for z, r in zip(match["zone"], match["land_km2"])},
        "eco": _share_by_township(dltb[dltb["DLBM"].isin(list(sc["green_dlbm"]) + list(v["restoration"]["wetland_dlbm"]))], townships),
    }
    if not township_pop:
        notes.append("domestic water is allocated to townships by urban land (no 10-02 township rows).")
    res_by_tw = {townships["XZQDM"].iloc[z - 1]: float(r) for z, r in zip(match["zone"], match["water_10k_m3"])}
    alloc_rows, alloc_geom = [], []
    for y in targets_years:
        d = demand[demand["year"] == y].iloc[0]
        g = gap[gap["year"] == y].iloc[0]
        factor = min(1.0, float(g["cap_10k_m3"]) / float(d["demand_total_10k_m3"]))  # proportional cut when demand > cap
        for i, t in townships.iterrows():
            row = {"XZQDM": t["XZQDM"], "XZQMC": t["XZQMC"], "year": y}
            for s_ in w.SECTORS:
                tot = sum(weights[s_].values())
                share = weights[s_].get(t["XZQDM"], 0.0) / tot if tot > 0 else 0.0
                row[f"alloc_{s_}_10k_m3"] = round(float(d[f"demand_{s_}_10k_m3"]) * factor * share, 2)
            row["alloc_total_10k_m3"] = round(sum(row[f"alloc_{s_}_10k_m3"] for s_ in w.SECTORS), 2)
            row["gw_resources_10k_m3"] = round(res_by_tw.get(t["XZQDM"], 0.0), 2)
            row["alloc_to_resources"] = round(row["alloc_total_10k_m3"] / row["gw_resources_10k_m3"], 3) if row["gw_resources_10k_m3"] else np.nan
            alloc_rows.append(row)
            alloc_geom.append(t.geometry)
    allocation = gpd.GeoDataFrame(alloc_rows, geometry=alloc_geom, crs=townships.crs)

    progress(0.68, "水土流失 and 生态修复")
    ero_out = gpd.overlay(erosion[["QSLX", "QSQD", "JCND", "grade", "geometry"]], townships[["XZQDM", "XZQMC", "geometry"]],
                          how="intersection", keep_geom_type=True)
    ero_out["area_km2"] = ero_out.geometry.area / 1e6
    ero_stats = inputs.table("04-06", "水土流失统计").sort_values("year")
    ero_by = (ero_out.groupby(["XZQMC", "QSLX", "QSQD"], as_index=False)["area_km2"].sum().round({"area_km2": 2}))
    rp = v["restoration"]
    resto = []
    wet = dltb[dltb["DLBM"].isin(rp["wetland_dlbm"])]
    if len(wet):
        resto.append((1, wet.geometry.union_all().buffer(float(rp["wetland_buffer_m"])).intersection(city.geometry.union_all())))
    hot = erosion[erosion["QSQD"].isin(rp["erosion_intensities"])]
    if len(hot):
        resto.append((2, hot.geometry.union_all()))
    over = carrying[carrying["gw_status_code"] >= int(rp["groundwater_min_status"])]
    if len(over):
        resto.append((3, over.geometry.union_all()))
    taken = None
    r_rows, r_geom = [], []
    for code, geom in resto:  # priority order: wetland, erosion, groundwater (no overlaps)
        g = geom if taken is None else geom.difference(taken)
        taken = geom if taken is None else taken.union(geom)
        if not g.is_empty:
            r_rows.append({"code": code, "type": RESTORATION_TYPES[code][0], "measures": RESTORATION_TYPES[code][1],
                           "area_km2": round(g.area / 1e6, 2)})
            r_geom.append(g)
    restoration = gpd.GeoDataFrame(r_rows, geometry=r_geom, crs=city.crs) if r_rows else gpd.GeoDataFrame(
        {"code": [], "type": [], "measures": [], "area_km2": []}, geometry=[], crs=city.crs)

    progress(0.74, "目标值 targets 2025/2035")
    water_area_now = _area_km2(dltb, lw["water_dlbm"])
    basis_n = int(rp["erosion_treatment_basis_years"])
    last = ero_stats.tail(basis_n)
    per_year = float(last["treated_km2"].mean())
    stats_year = int(ero_stats["year"].iloc[-1])
    untreated = float(ero_stats["erosion_area_km2"].iloc[-1])
    target_rows = []
    for y in targets_years:
        d = demand[demand["year"] == y].iloc[0]
        g = gap[gap["year"] == y].iloc[0]
        cap_basis = caps_t[caps_t["year"] == y]["cap_basis"].iloc[0]
        target_rows += [
            {"year": y, "indicator": "用水总量 total water use (target)", "value": round(min(float(d["demand_total_10k_m3"]), float(g["cap_10k_m3"])), 1),
             "unit": "万m³", "basis": f"min(需水 {d['demand_total_10k_m3']:.1f}, 上限 {g['cap_10k_m3']:.1f} = {cap_basis})"},
            {"year": y, "indicator": "需水总量 projected demand", "value": round(float(d["demand_total_10k_m3"]), 1), "unit": "万m³",
             "basis": "project_demand, config demand/scenario"},
            *[{"year": y, "indicator": f"需水 {sector_zh[s_]} demand", "value": round(float(d[f"demand_{s_}_10k_m3"]), 1), "unit": "万m³",
               "basis": "project_demand"} for s_ in w.SECTORS],
            {"year": y, "indicator": "需水/上限 承载状况 status", "value": round(float(g["ratio"]), 3), "unit": str(g["status"]),
             "basis": "demand / cap, status classes"},
            {"year": y, "indicator": "重要水域空间保有面积 water area to keep", "value": round(water_area_now, 2), "unit": "km²",
             "basis": "no net loss of the 三调 水域 (land_water.water_dlbm)"},
            {"year": y, "indicator": "水功能区水质达标率 water-function-zone compliance", "value": np.nan, "unit": "%",
             "basis": "not derivable: needs 04-10 水功能区划 and quality monitoring (not delivered)"},
            {"year": y, "indicator": "新增治理水土流失面积 newly treated erosion", "value": round(min(per_year * (y - stats_year), untreated), 1),
             "unit": "km²", "basis": f"mean {per_year:.2f} km²/a of {int(last['year'].min())}–{stats_year} × {y - stats_year} a"},
        ]
    targets = pd.DataFrame(target_rows)

    progress(0.80, "writing layers")
    writer.raster("t12.water_resources", resources, nodata=np.nan, tags={"UNIT": "万m³ per cell"})
    writer.raster("t12.single_factor", f_res, nodata=0, tags={"FACTOR": FACTORS["water_resources"]})
    for name in ("water_environment", "water_ecology", "soil_erosion"):
        from erenhot.grid import write_cog

        pub.put(f"layers/single_factor_{name}.tif", write_cog(factor_grids[name], grid, nodata=0,
                tags={"LAYER": f"t12.single_factor.{name}", "FACTOR": FACTORS[name]}), kind="raster", title=FACTORS[name])
    writer.raster("t12.water_carrying_capacity", composite, nodata=0)
    writer.vector("t12.water_carrying_status", carrying)
    writer.vector("t12.soil_erosion", ero_out)
    writer.vector("t12.water_restoration", restoration)
    writer.vector("t12.water_allocation", allocation)
    writer.table("t12.water_targets", "water_targets", targets, "目标值 targets")
    writer.table(None, "water_balance", balance, "供需平衡 water balance")
    writer.table(None, "carrying_status_by_year", status, "承载状况 carrying status by year")
    writer.table(None, "precipitation_series", series, "年降水量 annual precipitation")
    writer.table(None, "demand", demand.merge(gap, on=["year", "demand_total_10k_m3"]), "需水预测 demand")
    writer.table("t12.water_bound_scales", "water_bound_scales", scales, "以水定人/城/地 water-bound scales")
    writer.table(None, "land_water_match", match, "农牧业用地与水资源匹配 land–water match")
    writer.table(None, "soil_erosion_by_township", ero_by, "水土流失 by township")

    progress(0.86, "maps")
    writer.value_map("t12.water_resources", resources, "万m³/栅格", cmap="Blues", thumbnail=True, subtitle="地下水资源量（04-03 资源模数 × 栅格面积）")
    writer.class_map("t12.single_factor", f_res, grade_labels, grade_colours, subtitle=FACTORS["water_resources"])
    for name in ("water_environment", "water_ecology", "soil_erosion"):
        _extra_map(writer, f"single_factor_{name}", f"单因子评价：{FACTORS[name]}", factor_grids[name], grade_labels, grade_colours)
    writer.class_map("t12.water_carrying_capacity", composite, grade_labels, grade_colours, thumbnail=True)
    status_r = rasterize(carrying, grid, value="status_code", dtype="uint8")
    writer.class_map("t12.water_carrying_status", np.where(inside, status_r, 0).astype(np.uint8), status_labels, STATUS_COLOURS, thumbnail=True,
                     subtitle=f"地下水开采与用水总量（{city_year}年）取较差者")
    ero_labels: dict[int, str] = {}
    for lab, g_ in ero_grades.items():
        if lab != "none" and int(g_) > int(ero_grades["none"]):
            ero_labels[int(g_)] = f"{ero_labels[int(g_)]}/{lab}" if int(g_) in ero_labels else lab
    writer.class_map("t12.soil_erosion", np.where(inside & (ero_r > int(ero_grades["none"])), ero_r, 0).astype(np.uint8),
                     ero_labels, grade_colours)
    if len(restoration):
        rr = rasterize(restoration, grid, value="code", dtype="uint8")
        writer.class_map("t12.water_restoration", rr, {k: t_[0] for k, t_ in RESTORATION_TYPES.items()},
                         {1: "#2b8cbe", 2: "#d95f0e", 3: "#756bb1"})
    last_year = targets_years[-1]
    dens = allocation[allocation["year"] == last_year].assign(d=lambda f: f["alloc_total_10k_m3"] / (f.geometry.area / 1e6))
    writer.value_map("t12.water_allocation", np.where(inside, rasterize(dens, grid, value="d", dtype="float32", fill=np.nan), np.nan),
                     "万m³/km²", cmap="PuBu", subtitle=f"{last_year}年配置水量密度")

    progress(0.94, "report")
    areas = {lab: float((composite == k).sum() * cell_km2) for k, lab in grade_labels.items()}
    comp_table = pd.DataFrame([{"等级 grade": lab, "面积 km²": round(a, 1), "占比 %": round(100 * a / max(sum(areas.values()), 1e-9), 1)}
                               for lab, a in areas.items()])
    latest_bal = balance.sort_values("year").iloc[-1]
    figures = {
        "可利用水资源量 available": f"{avail_10k:,.1f} 万m³ ({newest['assessment'].iloc[0]}水资源评价, 04-05)",
        f"用水总量 {int(latest_bal['year'])}": f"{latest_bal['use_total_10k_m3']:,.1f} 万m³ (use/available {latest_bal['use_to_available']:.2f})",
        f"承载状况 {city_year}": f"{status_labels[city_code]} (use/quota {city_ratio:.3f}, quota of {int(caps_use[caps_use['year'] == city_year]['quota_year'].iloc[0])})",
        "超载地下水分区 overloaded zones": f"{int((gw_code >= 3).sum())} / {len(gw_code)}",
        "多年降水变化": f"{trend.label}, Sen {trend.slope_mm_per_year:+.2f} mm/a, p = {trend.p_value:.3f} ({trend.first_year}–{trend.last_year})",
        **{f"需水 {y}": f"{float(demand[demand['year'] == y]['demand_total_10k_m3'].iloc[0]):,.1f} 万m³" for y in targets_years},
    }
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(k in f[1] for k in keys)]

    sections = [
        Section("1 水资源现状与供需平衡 Water resources and balance",
                [f"可利用水资源量 = 地表水可利用量 + 地下水可开采量 − 重复计算量，取 04-05 {newest['assessment'].iloc[0]}水资源评价"
                 f"（系列 {int(newest['period_start'].iloc[0])}–{int(newest['period_end'].iloc[0])}）；用水量取 04-04 水资源公报分行业用水。"],
                tables=[("供需平衡（万m³）", balance.round(2))], figures=figs("water_resources")),
        Section("2 水资源承载状况 Carrying status",
                [f"用水总量 / 用水总量控制指标（04-07），分级 {list(status_p.total_use_ratio_breaks)} → {', '.join(status_labels.values())}；"
                 f"地下水分区按 现状开采量 / 可开采量（04-03）分级，取两者较差者（overall_rule = {status_p.overall_rule}）。"],
                tables=[("逐年承载状况", status.round(3)),
                         ("地下水分区承载状况", pd.DataFrame(carrying.drop(columns="geometry")).round(3))],
                figures=figs("water_carrying_status")),
        Section("3 多年降水变化 Precipitation trend",
                ["Mann–Kendall 检验（scipy.stats.kendalltau）与 Sen 斜率（scipy.stats.theilslopes）。"],
                tables=[("趋势检验", trend_table), ("年降水量来源", series.groupby("source", as_index=False)
                                                  .agg(years=("year", "size"), first=("year", "min"), last=("year", "max")))]),
        Section("4 单因子与协同承载力 Single factors and combined capacity",
                [f"权重 {dict(comp['weights'])}；短板：任一因子为 {comp['veto']['grade']} 级时综合不优于 {comp['veto']['floor']} 级。"
                 "矿化度与埋深由 04-09 监测井反距离加权插值，井点稀疏，仅供示意。"],
                tables=[("综合承载力面积", comp_table)], figures=figs("single_factor", "water_carrying_capacity")),
        Section("5 需水预测与以水定城 Demand, water-bound scales",
                ["需水 = 定额 × 驱动量（config demand/scenario）；上限为 04-07 控制指标，无指标的目标年取可利用水资源量（caps.no_quota_target）。"],
                tables=[("需水与缺口（万m³）", demand.merge(gap, on=["year", "demand_total_10k_m3"]).round(2)),
                        ("以水定人、以水定城、以水定地", scales)]),
        Section("6 农牧业水土匹配与水资源调配 Land–water match and allocation",
                ["匹配指数 = 水资源占比 / 农牧业用地占比（>1 水多地少，<1 水少地多）；配置水量按各行业驱动面积或人口分到乡镇。"],
                tables=[("水土匹配", match.round(3)), ("乡镇配置（万m³）", pd.DataFrame(allocation.drop(columns="geometry")))],
                figures=figs("water_allocation")),
        Section("7 水土流失与生态修复 Soil erosion and restoration",
                [f"04-06 监测 {int(erosion['JCND'].max())} 年图斑，按乡镇统计；修复分区规则见 config restoration。"],
                tables=[("水土流失面积（km²）", ero_by), ("近年统计", ero_stats),
                        ("修复分区", pd.DataFrame(restoration.drop(columns="geometry")))],
                figures=figs("maps/soil_erosion", "water_restoration")),
        Section("8 目标值 Targets 2025 / 2035", [], tables=[("目标值", targets)]),
        Section("9 说明 Notes", notes or ["—"]),
    ]
    summary = {"目标值 targets": records(targets), "承载状况 status": records(status[status["indicator"] == "overall"])}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
