"""Sample deliveries of topic 11 生态环境保护研究 (ecology and environment), synthetic but plausible.

Datasets (docs/deliveries.md, "Topic 11"):

* ``01-07`` 自然保护地 — shapefile zip (GBK, EPSG:4490 lon/lat): a 国家地质公园 (恐龙化石, 自然公园)
  around the second salt-lake basin and a 自治区级湿地自然保护区 around the third, each split into
  核心保护区 / 一般控制区 (the two-zone system of 《关于建立以国家公园为主体的自然保护地体系的指导意见》 2019).
* ``01-47`` 生态保护红线划定成果 — shapefile zip (EPSG:4525): the protected areas, the salt-lake
  wetlands and the best-vegetated desert steppe (the FVC top ≈12 %, i.e. where T02's 防风固沙 /
  生物多样性 importance is highest) outside the urban townships; ``STGN`` 主导生态功能.
* ``01-46b`` 生态环境管控 — shapefile zip (EPSG:4525): the red line and the protected-area zones as
  control polygons with 管控类型/管控要求.
* ``03-02`` 生态（环境）功能区划 — shapefile zip (EPSG:4490): four zones partitioning the city.
* ``03-04`` 环境容量与监测指标 — XLSX, long table 2015–2019: air quality at two stations (达标天数,
  SO2, NO2, PM10, PM2.5, CO, O3), city emissions (SO2, NOx, 颗粒物, COD, 氨氮, TN, TP) and groundwater
  quality at two drinking-water source fields.
* ``03-05`` 环境质量报告书 — DOCX (2019) whose key-figure table repeats the monitoring figures.
* ``03-06`` 土壤污染状况调查 — XLSX of sample points (lon/lat, pH, 8 metals mg/kg) + a PDF point map;
  samples near the mines and the industrial zone are enriched, a few above GB 15618-2018.

Everything is deterministic from the kit seed (``kit.rng(1100 + k)``) and synthetic (provenance says so).
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from erenhot.samplekit import (
    _SYN_TEXT,
    _URBAN,
    _XLSX_TIME,
    _ZONE,
    _blob,
    _multi,
    _polys,
    _sample_points,
    _shapefile_zip,
    _write_xlsx,
    _zip_bytes,
)

DATASETS = ("01-07", "01-46b", "01-47", "03-02", "03-04", "03-05", "03-06")

YEARS = tuple(range(2015, 2020))
AIR_STATIONS = (("ELHT01", "二连浩特市环境监测站（城区）"), ("ELHT02", "边境经济技术合作区站"))
GW_STATIONS = (("GW01", "北部水源地"), ("GW02", "西部水源地"))
#: indicator → (unit, limit, standard, base level, yearly trend, noise sd) — GB 3095-2012 二级 annual
#: limits (CO: 24 h mean 95th percentile; O3: daily max 8 h mean 90th percentile)
AIR = {
    "SO2": ("μg/m³", 60.0, "GB 3095-2012 二级", 14.0, -1.2, 1.0),
    "NO2": ("μg/m³", 40.0, "GB 3095-2012 二级", 17.0, -0.3, 1.2),
    "PM10": ("μg/m³", 70.0, "GB 3095-2012 二级", 68.0, -2.0, 4.0),
    "PM2.5": ("μg/m³", 35.0, "GB 3095-2012 二级", 21.0, -0.8, 1.5),
    "CO": ("mg/m³", 4.0, "GB 3095-2012 二级", 1.1, -0.03, 0.08),
    "O3": ("μg/m³", 160.0, "GB 3095-2012 二级", 132.0, 1.0, 5.0),
}
EMISSIONS = {  # (category, unit, 2015 level t/a, yearly change fraction)
    "SO2排放量": ("大气污染物排放", "t", 1850.0, -0.06),
    "NOx排放量": ("大气污染物排放", "t", 2300.0, -0.04),
    "颗粒物排放量": ("大气污染物排放", "t", 2650.0, -0.07),
    "COD排放量": ("水污染物排放", "t", 820.0, -0.05),
    "氨氮排放量": ("水污染物排放", "t", 86.0, -0.05),
    "TN排放量": ("水污染物排放", "t", 142.0, -0.03),
    "TP排放量": ("水污染物排放", "t", 12.5, -0.04),
}
GROUNDWATER = {  # GB/T 14848-2017 III 类 limits, mg/L; (limit, level at GW01, level at GW02)
    "总硬度": (450.0, 310.0, 380.0),
    "溶解性总固体": (1000.0, 720.0, 860.0),
    "氟化物": (1.0, 0.85, 1.25),  # fluoride: the known groundwater issue of the region
    "硝酸盐（以N计）": (20.0, 4.5, 6.2),
    "氨氮": (0.5, 0.08, 0.12),
    "耗氧量（CODMn法）": (3.0, 0.9, 1.1),
}
METALS = ("cd", "hg", "as", "pb", "cr", "cu", "ni", "zn")
#: background (mean, sd) mg/kg of desert-steppe soils, and the enrichment factor near sources
SOIL_BACKGROUND = {"cd": (0.08, 0.02), "hg": (0.02, 0.006), "as": (9.0, 2.0), "pb": (19.0, 3.5),
                   "cr": (48.0, 8.0), "cu": (17.0, 3.0), "ni": (24.0, 4.0), "zn": (55.0, 9.0)}


def _xlsx_rows(path, sheet: str, header: list[str], rows: list[list[Any]], title: str) -> None:
    _write_xlsx(path, sheet, header, rows, title=title, description=_SYN_TEXT)


# ---------------------------------------------------------------------------------------------- geography

def _geography(kit) -> dict[str, Any]:
    """Red line pieces, protected areas and function zones in EPSG:4525 (shared by the vector sets)."""
    import shapely

    city = kit.city
    X, Y, tr = kit._lattice(500.0)
    s = kit.land.sample(X, Y)
    inside = shapely.contains_xy(city, X, Y)
    towns = kit.township[_URBAN].union(kit.township[_ZONE])
    settled = towns.buffer(2500.0)
    # protected areas around basins 1 and 2 (basin 0, 盐池, hosts the salt works)
    protected = []
    rng = kit.rng(1101)
    for i, (name, kind, level) in ((1, ("二连浩特恐龙化石国家地质公园", "自然公园", "国家级")),
                                   (2, ("小淖尔湿地自然保护区", "自然保护区", "自治区级"))):
        bx, by, R, *_ = kit.land.basins[i]
        amps = rng.uniform(0.04, 0.10, 3)
        ph = rng.uniform(0, 2 * math.pi, 3)
        outer = _blob(bx, by, 2.3 * R, amps, ph, n=96)
        core = _blob(bx, by, 1.2 * R, amps, ph, n=96)
        outer = outer.intersection(city).difference(settled)
        core = core.intersection(outer)
        protected.append({"MC": name, "BHDLX": kind, "JB": level, "core": core, "outer": outer.difference(core)})
    pa_union = shapely.union_all([p["core"].union(p["outer"]) for p in protected])
    # wetlands of all basins (lake + flats + 1 km), outside the settled area
    wet = []
    for i in range(len(kit.land.basins)):
        core, flat = kit._basin_polys(i)
        wet.append(core.union(flat).buffer(1000.0))
    wetland = shapely.union_all(wet).intersection(city).difference(settled)
    # the best-vegetated steppe: FVC top 12 % of the city (desert steppe with the highest 防风固沙 service)
    fvc = s["fvc"]
    th = float(np.quantile(fvc[inside], 0.88))
    [veg] = kit._regions(fvc, tr, [th], smooth=800.0)
    veg = (veg if veg is not None else shapely.Polygon()).difference(settled)
    pieces: list[tuple[str, str, Any]] = []  # (STGN, HXLX, polygon)
    taken = pa_union
    for p in protected:
        for g in (p["core"], p["outer"]):
            for q in _polys(g):
                if q.area > 1e5:
                    pieces.append(("生物多样性维护", "自然保护地", q))
    for q in _polys(wetland.difference(taken)):
        if q.area > 1e6:
            pieces.append(("生物多样性维护", "生态功能极重要区", q))
    taken = taken.union(wetland)
    for q in _polys(veg.difference(taken)):
        if q.area > 5e6:
            pieces.append(("防风固沙", "生态功能极重要区", q))
    pieces.sort(key=lambda t: (-round(t[2].centroid.y), round(t[2].centroid.x)))
    red = shapely.union_all([q for *_t, q in pieces])
    # function zones (a partition of the city)
    desert_score = s["sand"] - 1.5 * fvc
    dth = float(np.quantile(desert_score[inside], 0.75))
    [sandy] = kit._regions(desert_score, tr, [dth], smooth=800.0)
    human = towns.buffer(2000.0).intersection(city)
    wet_zone = shapely.union_all(wet).buffer(2000.0).intersection(city).difference(human)
    sandy = (sandy if sandy is not None else shapely.Polygon()).difference(human).difference(wet_zone)
    steppe = city.difference(human).difference(wet_zone).difference(sandy)
    zones = [
        ("STGNQ-01", "城镇及口岸人居环境维护区", "人居环境维护", "控制城镇与口岸开发强度，治理扬尘与采暖污染，建设防护林带", human),
        ("STGNQ-02", "盐湖湿地生物多样性保护区", "生物多样性维护", "保护盐湖湿地与恐龙化石遗迹，禁止围垦与采盐扩张", wet_zone),
        ("STGNQ-03", "荒漠草原防风固沙功能区", "防风固沙", "草畜平衡，禁牧休牧轮牧，保护荒漠草原植被", steppe),
        ("STGNQ-04", "沙化土地防风固沙治理区", "防风固沙", "沙化土地封禁保护与综合治理，恢复植被", sandy),
    ]
    return {"protected": protected, "pieces": pieces, "red": red, "zones": zones}


def _protected_areas(kit, geo: dict[str, Any]) -> None:
    import geopandas as gpd

    rows, geoms = [], []
    for k, p in enumerate(geo["protected"], start=1):
        for zone, g in (("核心保护区", p["core"]), ("一般控制区", p["outer"])):
            if g.is_empty:
                continue
            rows.append({"BH": f"ZRBHD{k:02d}", "MC": p["MC"], "BHDLX": p["BHDLX"], "JB": p["JB"], "GNFQ": zone,
                         "MJ": round(g.area / 1e4, 2)})
            geoms.append(_multi(kit.lonlat(g)))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")
    _shapefile_zip(kit.dir("01-07") / "自然保护地.zip", "自然保护地", gdf, title="自然保护地 (synthetic)",
                   note="polygons EPSG:4490 lon/lat; BHDLX 保护地类型; JB 级别; GNFQ 功能分区; MJ 公顷")
    kit.add("01-07", ["自然保护地.zip"], True,
            _SYN_TEXT + " (two protected areas around salt-lake basins, 核心保护区/一般控制区; shapefile "
            "EPSG:4490, GBK DBF without .cpg)")


def _red_line(kit, geo: dict[str, Any]) -> None:
    import geopandas as gpd

    rows, geoms = [], []
    for k, (stgn, hxlx, q) in enumerate(geo["pieces"], start=1):
        rows.append({"HXBH": f"152501STHX{k:03d}", "HXMC": f"二连浩特市{stgn}生态保护红线{k:02d}",
                     "STGN": stgn, "HXLX": hxlx, "MJ": round(q.area / 1e4, 2)})
        geoms.append(_multi(q))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4525")
    _shapefile_zip(kit.dir("01-47") / "STBHHX.zip", "STBHHX", gdf, title="生态保护红线划定成果 (synthetic)",
                   note="polygons EPSG:4525; STGN 主导生态功能; HXLX 划定类型; MJ 公顷")
    kit.add("01-47", ["STBHHX.zip"], True,
            _SYN_TEXT + " (protected areas + salt-lake wetlands + best-vegetated steppe outside the towns; "
            "shapefile EPSG:4525, GBK DBF without .cpg)")


def _controls(kit, geo: dict[str, Any]) -> None:
    import geopandas as gpd

    red_rule = "生态保护红线内自然保护地核心保护区原则上禁止人为活动，其他区域严格禁止开发性、生产性建设活动"
    rows = [{"GKBH": "GK001", "GKLX": "生态保护红线", "GKJB": "禁止开发", "GKYQ": red_rule,
             "MJ": round(geo["red"].area / 1e4, 2)}]
    geoms = [_multi(geo["red"])]
    k = 1
    for p in geo["protected"]:
        for zone, g, level, rule in (("核心保护区", p["core"], "禁止开发", "除法律法规允许的活动外禁止人为活动"),
                                     ("一般控制区", p["outer"], "限制开发", "限制人为活动，允许有限的科研、游憩与基础设施")):
            if g.is_empty:
                continue
            k += 1
            rows.append({"GKBH": f"GK{k:03d}", "GKLX": f"自然保护地{zone}", "GKJB": level,
                         "GKYQ": f"{p['MC']}：{rule}", "MJ": round(g.area / 1e4, 2)})
            geoms.append(_multi(g))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4525")
    _shapefile_zip(kit.dir("01-46b") / "生态环境管控.zip", "生态环境管控", gdf, title="生态环境管控 (synthetic)",
                   note="polygons EPSG:4525; GKLX 管控类型; GKJB 管控级别; GKYQ 管控要求")
    kit.add("01-46b", ["生态环境管控.zip"], True,
            _SYN_TEXT + " (red line and protected-area zones as control polygons; shapefile EPSG:4525, GBK)")


def _function_zones(kit, geo: dict[str, Any]) -> None:
    import geopandas as gpd
    import shapely

    rows, geoms = [], []
    for code, name, func, direction, g in geo["zones"]:
        parts = [q for q in _polys(g) if q.area > 2e5]
        if not parts:
            continue
        mp = _multi(shapely.union_all(parts))
        rows.append({"GNQBM": code, "GNQMC": name, "ZDGN": func, "BHFX": direction, "MJ": round(mp.area / 1e4, 2)})
        geoms.append(_multi(kit.lonlat(mp)))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")
    _shapefile_zip(kit.dir("03-02") / "生态功能区划.zip", "生态功能区划", gdf, title="生态（环境）功能区划 (synthetic)",
                   note="polygons EPSG:4490 lon/lat; GNQBM 功能区编码; ZDGN 主导生态功能; BHFX 保护方向")
    kit.add("03-02", ["生态功能区划.zip"], True,
            _SYN_TEXT + " (four zones partitioning the city; shapefile EPSG:4490, GBK DBF without .cpg)")


# ---------------------------------------------------------------------------------------------- tables

def _monitoring(kit) -> list[list[Any]]:
    rng = kit.rng(1102)
    rows: list[list[Any]] = []
    for sid, sname in AIR_STATIONS:
        off = 1.0 if sid == "ELHT01" else 0.92
        for k, year in enumerate(YEARS):
            days = 366 if year % 4 == 0 else 365
            valid = days - int(rng.integers(2, 9))
            share = float(np.clip(0.84 + 0.012 * k + rng.normal(0, 0.012), 0.75, 0.98))
            good = int(round(valid * share))
            rows += [[year, sid, sname, "空气质量", "有效监测天数", float(valid), "d", None, ""],
                     [year, sid, sname, "空气质量", "达标天数", float(good), "d", None, ""],
                     [year, sid, sname, "空气质量", "达标天数比例", round(100.0 * good / valid, 1), "%", None, ""]]
            for ind, (unit, limit, std, base, trend, sd) in AIR.items():
                v = max((base + trend * k) * off + float(rng.normal(0, sd)), 0.1 * base)
                rows.append([year, sid, sname, "空气质量", ind, round(v, 2 if unit == "mg/m³" else 1), unit, limit, std])
    for k, year in enumerate(YEARS):
        for ind, (cat, unit, level, change) in EMISSIONS.items():
            v = level * (1.0 + change) ** k * (1.0 + float(rng.normal(0, 0.02)))
            rows.append([year, "CITY", "全市", cat, ind, round(v, 1), unit, None, ""])
        rows.append([year, "CITY", "全市", "地表水水质", "劣V类水体比例", 0.0, "%", None,
                     "无国控、区控地表水断面（市域无常年河流）"])
    for j, (sid, sname) in enumerate(GW_STATIONS):
        for year in YEARS:
            for ind, (limit, a, b) in GROUNDWATER.items():
                v = (a, b)[j] * (1.0 + float(rng.normal(0, 0.06)))
                rows.append([year, sid, sname, "地下水水质", ind, round(v, 3 if limit < 5 else 1), "mg/L", limit,
                             "GB/T 14848-2017 Ⅲ类"])
    _xlsx_rows(kit.dir("03-04") / "环境监测指标.xlsx", "监测指标",
               ["year", "station_id", "station_name", "category", "indicator", "value", "unit", "limit", "standard"],
               rows, "近5年生态环境容量与监测指标 (synthetic)")
    kit.add("03-04", ["环境监测指标.xlsx"], True,
            _SYN_TEXT + " (2015–2019: air quality at two stations, city emissions, groundwater at two source fields; "
            "long table, one row per year × station × indicator)")
    return rows


def _key_figures(rows: list[list[Any]]) -> list[tuple[str, float, str]]:
    """The 2019 figures the report's key-figure table quotes (city = mean of the air stations)."""
    year = YEARS[-1]

    def mean(ind: str) -> float:
        vals = [r[5] for r in rows if r[0] == year and r[3] == "空气质量" and r[4] == ind]
        return float(np.mean(vals))

    def city(ind: str) -> float:
        return next(r[5] for r in rows if r[0] == year and r[1] == "CITY" and r[4] == ind)

    gw = [r for r in rows if r[0] == year and r[3] == "地下水水质"]
    ok = sum(1 for r in gw if r[5] <= r[7])
    return [("城区空气质量达标天数比例", round(mean("达标天数比例"), 1), "%"),
            ("PM10年均浓度", round(mean("PM10"), 1), "μg/m³"),
            ("PM2.5年均浓度", round(mean("PM2.5"), 1), "μg/m³"),
            ("SO2年均浓度", round(mean("SO2"), 1), "μg/m³"),
            ("NO2年均浓度", round(mean("NO2"), 1), "μg/m³"),
            ("集中式饮用水水源地水质达标率", round(100.0 * ok / len(gw), 1), "%"),
            ("化学需氧量排放量", round(city("COD排放量"), 1), "t"),
            ("氨氮排放量", round(city("氨氮排放量"), 1), "t")]


def _docx_bytes(title: str, paragraphs: list[str], table: list[tuple[str, float, str]]) -> bytes:
    import zipfile

    from docx import Document

    doc = Document()
    cp = doc.core_properties
    cp.title, cp.author, cp.last_modified_by = title, "erenhot.samplekit", "erenhot.samplekit"
    cp.subject, cp.keywords = "synthetic sample delivery", "synthetic; erenhot.samplekit"
    cp.created = cp.modified = _XLSX_TIME
    doc.add_heading(title, level=1)
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.add_paragraph("表1 主要环境质量指标")
    t = doc.add_table(rows=1, cols=3)
    t.rows[0].cells[0].text, t.rows[0].cells[1].text, t.rows[0].cells[2].text = "指标", "数值", "单位"
    for name, value, unit in table:
        cells = t.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = name, f"{value:g}", unit
    raw = io.BytesIO()
    doc.save(raw)
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin:  # fixed member timestamps: same bytes each run
        members = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    return _zip_bytes(members)


def _report(kit, rows: list[list[Any]]) -> None:
    figures = _key_figures(rows)
    year = YEARS[-1]
    paras = [
        f"本报告书依据二连浩特市{year}年环境质量监测数据编制（样例数据，synthetic）。",
        f"{year}年城区环境空气质量达标天数比例为{figures[0][1]:g}%，首要污染物为可吸入颗粒物（PM10），"
        "春季沙尘天气是超标的主要原因。",
        "市域无常年地表河流，集中式饮用水水源均为地下水，氟化物为区域地下水的主要超标因子。",
        "主要污染物排放总量持续下降，完成上级下达的总量减排任务。",
    ]
    (kit.dir("03-05") / "环境质量报告书.docx").write_bytes(
        _docx_bytes(f"二连浩特市{year}年环境质量报告书", paras, figures))
    kit.add("03-05", ["环境质量报告书.docx"], True,
            _SYN_TEXT + f" (DOCX, {year}; table 1 repeats the key figures of 03-04)")


def _soil_survey(kit) -> None:
    import shapely

    rng = kit.rng(1103)
    city = kit.city
    inner = city.buffer(-500.0)
    background = _sample_points(inner, kit.rng(1104), 36)
    industry = _sample_points(kit.township[_ZONE].intersection(inner), kit.rng(1105), 8)
    near_mines = []
    for k, (mx, my) in enumerate(kit.mines):
        pts = _sample_points(shapely.Point(mx, my).buffer(1500.0).intersection(inner), kit.rng(1106, k), 4)
        near_mines.append(pts)
    urban = _sample_points(kit.township[_URBAN].intersection(inner), kit.rng(1107), 6)
    groups = [("背景点", "未利用地", background, {}),
              ("重点行业企业用地", "建设用地", industry, {"zn": 2.2, "cu": 1.8, "pb": 2.0, "cd": 2.5}),
              ("城区", "建设用地", urban, {"pb": 1.6, "zn": 1.5})]
    for k, pts in enumerate(near_mines):
        boost = {"as": 3.4, "pb": 9.5, "cd": 8.0, "zn": 3.0} if k < 2 else {"as": 1.5, "pb": 2.0}
        groups.append((f"矿区{k + 1}", "采矿用地", pts, boost))
    rows = []
    n = 0
    for label, use, pts, boost in groups:
        for x, y in pts:
            n += 1
            lon, lat = kit.proj.to_lonlat(shapely.Point(x, y)).coords[0]
            vals = []
            for m in METALS:
                mu, sd = SOIL_BACKGROUND[m]
                v = max(mu + float(rng.normal(0, sd)), 0.3 * mu) * boost.get(m, 1.0) * float(rng.uniform(0.8, 1.2))
                vals.append(round(v, 3 if mu < 1 else 1))
            rows.append([f"TR{n:03d}", round(lon, 6), round(lat, 6), use, label,
                         round(float(rng.uniform(7.9, 9.1)), 2), *vals])
    header = ["sample_id", "lon", "lat", "land_use", "site_type", "ph", *METALS]
    _xlsx_rows(kit.dir("03-06") / "土壤污染状况调查点位.xlsx", "调查点位", header, rows,
               "土壤污染状况调查点位与检测结果 (synthetic)")
    (kit.dir("03-06") / "土壤污染状况调查点位图.pdf").write_bytes(_soil_map(kit, rows))
    kit.add("03-06", ["土壤污染状况调查点位.xlsx", "土壤污染状况调查点位图.pdf"], True,
            _SYN_TEXT + f" ({len(rows)} sample points, CGCS2000 lon/lat, metals mg/kg; samples near two mines and "
            "the industrial zone enriched; point map as PDF)")


def _soil_map(kit, rows: list[list[Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from erenhot.maps import map_font

    fig, ax = plt.subplots(figsize=(5, 5))
    xs, ys = zip(*[kit.proj.xy(r[1], r[2]) for r in rows], strict=True)
    bx, by = kit.city.exterior.xy if kit.city.geom_type == "Polygon" else kit.city.geoms[0].exterior.xy
    ax.plot(bx, by, color="#333333", lw=0.8)
    ax.scatter(xs, ys, s=8, c="#c0392b")
    ax.set_title("二连浩特市土壤污染状况调查点位图（样例）", fontproperties=map_font(10))
    ax.set_aspect("equal")
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "Producer": "erenhot.samplekit",
                                             "Title": "土壤污染状况调查点位图 (synthetic)"})
    plt.close(fig)
    return buf.getvalue()


def build(kit) -> None:
    """Write the seven deliveries of topic 11 (see the module docstring)."""
    geo = _geography(kit)
    _protected_areas(kit, geo)
    _red_line(kit, geo)
    _controls(kit, geo)
    _function_zones(kit, geo)
    rows = _monitoring(kit)
    _report(kit, rows)
    _soil_survey(kit)
