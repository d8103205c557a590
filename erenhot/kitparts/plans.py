"""Sample deliveries of topic 1 现行各类国土空间规划一体化评估 (the old plans), synthetic but plausible.

Written after the base kit and the ecology part (parts are built in name order), so the plans can be
drawn against the 三调 DLTB (``kit.dltb_gdf``) and the red line of ``01-47``; the old plans predate
the red line (2018) and the 三调 (2019), so they differ from both — the differences T01 finds:

* ``01-46a.tdlyztgh`` 土地利用总体规划（2009—2020年）数据库 — ``TDYTQ.zip`` 土地用途区 (a partition of the
  city: 基本农田保护区 on the 三调 fields, 一般农地区 around them, 城镇村建设用地区 = the 2009 town
  (smaller than today's built-up area) and the 嘎查 centres, 独立工矿区 at the mines and one planned
  industrial site at the edge of a (later) red-line area, 林业用地区, 自然与文化遗产保护区 around the
  second salt lake, 牧业用地区 elsewhere in the 苏木, 其他用地区 in the urban townships) and ``JSYDGZQ.zip``
  建设用地管制区 (允许建设区 = the 城镇村/独立工矿 zones, 有条件建设区 = an 800 m ring around the town,
  禁止建设区 = the heritage zone and the salt-lake cores, 限制建设区 elsewhere); shapefiles EPSG:4525, GBK;
* ``08-07.csztgh`` 城市总体规划（2011—2030年）用地规划图 — ``用地规划图.zip``: planned urban land use of
  the 中心城区 (GB 50137-2011 codes R2, A1, B1, M1, W1, S1, U1, G1, G2, E2, E9) — larger than the 土规
  town and reaching the 三调 field nearest to the seat (planned industry on 基本农田); EPSG:4525, GBK;
* ``02-10.ztgnq`` 主体功能区规划 乡级主体功能定位 — ``主体功能定位.csv``: the 苏木 a 重点生态功能区, the two
  urban townships 城市化发展区;
* ``01-46a.ghzb`` 现行规划指标 — ``规划指标.xlsx``: the indicators of the 土地利用总体规划, 城市总体规划 and
  林地保护利用规划 (base year/value, 2020/2030 targets, 约束性/预期性), targets set around the 三调 values
  so that some are met and some are not.

Everything is deterministic from the kit seed (``kit.rng(1301 …)``) and synthetic (provenance says so).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from erenhot.samplekit import (
    _RURAL,
    _SYN_TEXT,
    _URBAN,
    _ZONE,
    TOWNSHIPS,
    _blob,
    _multi,
    _polys,
    _shapefile_zip,
    _write_csv,
    _write_xlsx,
)

DATASETS = ("01-46a.ghzb", "01-46a.tdlyztgh", "02-10.ztgnq", "08-07.csztgh")

_SYN = _SYN_TEXT + " (erenhot.kitparts.plans)"
_CULTIVATED = ("0101", "0102", "0103")
_FOREST = ("0301", "0302", "0305", "0307")
#: 三调 codes counted as 建设用地 (evaluation spec §3.4) and as 城乡建设用地/城镇工矿 (config of t01 mirrors these)
_CONSTRUCTION = ("05H1", "0508", "0601", "0602", "0603", "0701", "0702", "08H1", "08H2", "0809", "0810", "09",
                 "1001", "1002", "1003", "1004", "1005", "1007", "1008", "1009", "1103", "1109", "1201")
_URBAN_RURAL = ("05H1", "0508", "0601", "0602", "0603", "0701", "0702", "08H1", "08H2", "0809", "0810", "09", "1004", "1201")


def _clean(g):
    import shapely

    g = shapely.set_precision(shapely.make_valid(g), 0.01)
    parts = [p for p in _polys(g) if p.area >= 100.0]
    return shapely.union_all(parts) if parts else None


def _by_township(kit, pieces: list[tuple[dict[str, Any], Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Split (attributes, geometry) pieces by township: rows get XZQDM; tiny slivers dropped."""
    rows, geoms = [], []
    for attrs, g in pieces:
        for code, _name in TOWNSHIPS:
            q = _clean(g.intersection(kit.township[code]))
            if q is not None and q.area >= 1000.0:
                rows.append({**attrs, "XZQDM": code})
                geoms.append(_multi(q))
    return rows, geoms


def _red_line(kit):
    """The 01-47 red line as one geometry (EPSG:4525), or None when the kit has no red line."""
    import geopandas as gpd
    import shapely

    path = kit.dir("01-47") / "STBHHX.zip"
    if not path.exists():
        return None
    gdf = gpd.read_file(f"zip://{path}!STBHHX.shp", encoding="gbk")
    return shapely.union_all(gdf.geometry.values) if len(gdf) else None


def _land_use_plan(kit) -> dict[str, Any]:
    """Geometries of the 2009 plan: town, zones, farmland and the planned industrial site."""
    import shapely
    from shapely.geometry import Point, box
    from shapely.ops import nearest_points

    rng = kit.rng(1301)
    city = kit.city
    dltb = kit.dltb_gdf
    sx, sy = kit.seat
    urban, zone, rural = kit.township[_URBAN], kit.township[_ZONE], kit.township[_RURAL]
    town = _blob(sx + 200, sy - 300, 3000.0, rng.uniform(0.03, 0.07, 3), rng.uniform(0, 6.28, 3)).intersection(
        urban.union(zone))
    zc = zone.centroid
    town = town.union(_blob(zc.x, zc.y, 1500.0, rng.uniform(0.03, 0.07, 3), rng.uniform(0, 6.28, 3)).intersection(zone))
    villages = shapely.union_all([box(gx - 250, gy - 250, gx + 250, gy + 250) for gx, gy in kit.gacha])
    mines = shapely.union_all([Point(mx, my).buffer(900.0) for mx, my in kit.mines]) if kit.mines else shapely.Polygon()
    # a planned industrial site half inside a (later) red-line area: the red-line edge point nearest the seat
    site = shapely.Polygon()
    red = _red_line(kit)
    if red is not None and not red.is_empty:
        rural_red = red.intersection(rural)
        if not rural_red.is_empty:
            p = nearest_points(rural_red.boundary, Point(sx, sy))[0]
            site = Point(p.x, p.y).buffer(1200.0).intersection(rural)
    fields = dltb[dltb["DLBM"].isin(_CULTIVATED)]
    farmland = shapely.union_all(fields.geometry.buffer(60.0).values) if len(fields) else shapely.Polygon()
    general_farm = farmland.buffer(400.0).difference(farmland) if not farmland.is_empty else shapely.Polygon()
    forest = dltb[dltb["DLBM"].isin(_FOREST)]
    forestry = shapely.union_all(forest.geometry.buffer(80.0).values) if len(forest) else shapely.Polygon()
    basins = kit.land.basins
    heritage = shapely.Polygon()
    if len(basins) > 1:
        bx, by, R, *_ = basins[1]
        heritage = _blob(bx, by, 2.0 * R, rng.uniform(0.04, 0.1, 3), rng.uniform(0, 6.28, 3)).difference(town)
    lakes = shapely.union_all([kit._basin_polys(i)[0] for i in range(len(basins))]) if basins else shapely.Polygon()
    return {"town": town.intersection(city), "villages": villages.intersection(city), "mines": mines.intersection(city),
            "site": site, "farmland": farmland.intersection(city), "general_farm": general_farm.intersection(city),
            "forestry": forestry.intersection(city), "heritage": heritage.intersection(city),
            "lakes": lakes.intersection(city)}


def _tdlyztgh(kit, g: dict[str, Any]) -> None:
    """01-46a.tdlyztgh: 土地用途区 and 建设用地管制区 (two shapefiles)."""
    import geopandas as gpd
    import shapely

    city = kit.city
    rural = kit.township[_RURAL]
    built = shapely.union_all([g["town"], g["villages"]])
    industry = g["mines"].union(g["site"])
    order = [("基本农田保护区", g["farmland"]), ("城镇村建设用地区", built), ("独立工矿区", industry),
             ("自然与文化遗产保护区", g["heritage"]), ("林业用地区", g["forestry"]), ("一般农地区", g["general_farm"])]
    taken = shapely.Polygon()
    pieces = []
    for name, geom in order:
        geom = geom.difference(taken)
        taken = taken.union(geom)
        pieces.append(({"YTQLX": name}, geom))
    pieces.append(({"YTQLX": "牧业用地区"}, rural.difference(taken)))
    pieces.append(({"YTQLX": "其他用地区"}, city.difference(rural).difference(taken)))
    rows, geoms = _by_township(kit, pieces)
    for k, r in enumerate(rows, start=1):
        r["YTQBH"] = f"YTQ{k:04d}"
        r["MJ"] = round(geoms[k - 1].area / 1e4, 2)
    tdytq = gpd.GeoDataFrame([{k: r[k] for k in ("YTQBH", "YTQLX", "XZQDM", "MJ")} for r in rows], geometry=geoms,
                             crs="EPSG:4525")
    allowed = built.union(industry)
    conditional = g["town"].buffer(800.0).difference(allowed)
    forbidden = g["heritage"].union(g["lakes"]).difference(allowed)
    taken = shapely.union_all([allowed, conditional, forbidden])
    zones = [("允许建设区", allowed), ("有条件建设区", conditional.difference(forbidden)), ("禁止建设区", forbidden),
             ("限制建设区", city.difference(taken))]
    rows, geoms = _by_township(kit, [({"GZQLX": n}, z) for n, z in zones])
    for k, r in enumerate(rows, start=1):
        r["GZQBH"] = f"GZQ{k:04d}"
        r["MJ"] = round(geoms[k - 1].area / 1e4, 2)
    jsydgzq = gpd.GeoDataFrame([{k: r[k] for k in ("GZQBH", "GZQLX", "XZQDM", "MJ")} for r in rows], geometry=geoms,
                               crs="EPSG:4525")
    d = kit.dir("01-46a.tdlyztgh")
    _shapefile_zip(d / "TDYTQ.zip", "TDYTQ", tdytq, title="土地利用总体规划（2009—2020年）土地用途区 (synthetic)",
                   note="polygons EPSG:4525; YTQLX 土地用途区类型, XZQDM 乡镇代码, MJ 公顷")
    _shapefile_zip(d / "JSYDGZQ.zip", "JSYDGZQ", jsydgzq, title="土地利用总体规划（2009—2020年）建设用地管制区 (synthetic)",
                   note="polygons EPSG:4525; GZQLX 管制区类型, XZQDM 乡镇代码, MJ 公顷")
    kit.add("01-46a.tdlyztgh", ["TDYTQ.zip", "JSYDGZQ.zip"], True,
            _SYN + f" ({len(tdytq)} 土地用途区 and {len(jsydgzq)} 建设用地管制区 polygons by township, drawn before the "
                   "red line and the 三调: the 2009 town is smaller than today's built-up area, one 独立工矿区 site lies at "
                   "a red-line edge; shapefiles EPSG:4525, GBK DBF without .cpg)")


_CSZTGH_NAMES = {"R2": "二类居住用地", "A1": "行政办公用地", "B1": "商业用地", "M1": "一类工业用地", "M2": "二类工业用地",
                 "W1": "一类物流仓储用地", "S1": "城市道路用地", "U1": "供应设施用地", "G1": "公园绿地", "G2": "防护绿地",
                 "E2": "农林用地", "E9": "其他非建设用地"}


def _csztgh(kit, g: dict[str, Any]) -> None:
    """08-07.csztgh: 城市总体规划 用地规划图 of the 中心城区 (Voronoi blocks with GB 50137-2011 codes)."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import Point, box

    from erenhot.samplekit import _sample_points

    rng = kit.rng(1302)
    sx, sy = kit.seat
    city = kit.city
    zone = kit.township[_ZONE]
    area = _blob(sx + 300, sy - 200, 5200.0, rng.uniform(0.03, 0.08, 3), rng.uniform(0, 6.28, 3)).union(zone)
    fields = kit.dltb_gdf[kit.dltb_gdf["DLBM"].isin(_CULTIVATED)]
    farm_site = shapely.Polygon()
    if len(fields):
        d = fields.geometry.centroid.distance(Point(sx, sy))
        near = fields.geometry.loc[d.idxmin()]
        bx0, by0, bx1, by1 = near.bounds
        farm_site = box(bx0 - 150, by0 - 150, bx1 + 150, by1 + 150)  # planned industry over the nearest field
    area = area.intersection(city)
    seeds = _sample_points(area, kit.rng(1303), 70)
    seeds = seeds[np.lexsort((seeds[:, 0], seeds[:, 1]))]
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=area.envelope.buffer(2000), ordered=True)
    inner = [("R2", 0.42), ("A1", 0.1), ("B1", 0.2), ("G1", 0.1), ("S1", 0.1), ("U1", 0.08)]
    outer = [("R2", 0.25), ("M1", 0.2), ("W1", 0.15), ("U1", 0.05), ("G2", 0.12), ("E2", 0.1), ("E9", 0.13)]
    in_zone = [("W1", 0.4), ("B1", 0.2), ("M1", 0.25), ("G2", 0.05), ("S1", 0.1)]

    def pick(mix, u):
        acc = 0.0
        for code, w in mix:
            acc += w
            if u < acc:
                return code
        return mix[-1][0]

    pieces = []
    for c in cells.geoms:
        q = c.intersection(area).difference(farm_site)
        if q.is_empty:
            continue
        p = q.representative_point()
        dist = math.hypot(p.x - sx, p.y - sy)
        mix = in_zone if zone.contains(p) else inner if dist < 2500 else outer
        pieces.append((pick(mix, float(rng.random())), q))
    if not farm_site.is_empty:
        pieces.append(("M2", farm_site.intersection(city)))
    rows, geoms = [], []
    for code, q in pieces:
        q = _clean(q)
        if q is not None and q.area >= 1000.0:
            rows.append({"YDDM": code, "YDMC": _CSZTGH_NAMES[code], "MJ": round(q.area / 1e4, 2)})
            geoms.append(_multi(q))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4525")
    _shapefile_zip(kit.dir("08-07.csztgh") / "用地规划图.zip", "用地规划图", gdf,
                   title="二连浩特市城市总体规划（2011—2030年）中心城区用地规划图 (synthetic)",
                   note="polygons EPSG:4525; YDDM 用地代码 (GB 50137-2011), YDMC 用地名称, MJ 公顷")
    kit.add("08-07.csztgh", ["用地规划图.zip"], True,
            _SYN + f" ({len(gdf)} planned land-use blocks of the 中心城区, GB 50137-2011 codes; the plan reaches beyond the "
                   "土规 town and over the 三调 field nearest to the seat; shapefile EPSG:4525, GBK DBF without .cpg)")


def _ztgnq(kit) -> None:
    """02-10.ztgnq: 乡级主体功能定位 (one row per township)."""
    pos = {_RURAL: "重点生态功能区", _URBAN: "城市化发展区", _ZONE: "城市化发展区"}
    _write_csv(kit.dir("02-10.ztgnq") / "主体功能定位.csv", ["XZQDM", "XZQMC", "ZTGNDW"],
               [[code, name, pos[code]] for code, name in TOWNSHIPS], bom=True)
    kit.add("02-10.ztgnq", ["主体功能定位.csv"], True,
            _SYN + " (乡级主体功能定位 of the three townships after the 内蒙古自治区主体功能区规划: the 苏木 in the 重点生态功能区; "
                   "UTF-8 with BOM)")


def _indicators(kit) -> None:
    """01-46a.ghzb: the indicators of the old plans, targets around the 三调 values."""
    dltb = kit.dltb_gdf
    city_ha = kit.city.area / 1e4

    def ha(codes, czcsxm=None):
        sel = dltb[dltb["DLBM"].isin(codes)]
        if czcsxm is not None:
            sel = sel[sel["CZCSXM"].isin(czcsxm)]
        return float(sel.geometry.area.sum()) / 1e4

    cult, cons, ur, forest = ha(_CULTIVATED), ha(_CONSTRUCTION), ha(_URBAN_RURAL), ha(_FOREST)
    city_built_km2 = ha(_URBAN_RURAL, ["201"]) / 100.0
    r = lambda v, n=1: round(float(v), n)  # noqa: E731
    land = "土地利用总体规划（2009—2020年）"
    urban = "城市总体规划（2011—2030年）"
    forestry = "林地保护利用规划（2010—2020年）"
    rows = [
        [land, "耕地保有量", "公顷", 2005, r(cult * 1.2), 2020, r(cult * 1.1), "约束性"],
        [land, "基本农田保护面积", "公顷", 2005, r(cult * 1.0), 2020, r(cult * 0.95), "约束性"],
        [land, "建设用地总规模", "公顷", 2005, r(cons * 0.8), 2020, r(cons * 1.05), "预期性"],
        [land, "城乡建设用地规模", "公顷", 2005, r(ur * 0.75), 2020, r(ur * 0.92), "约束性"],
        [land, "人均城镇工矿用地", "平方米/人", 2005, 260.0, 2020, 240.0, "约束性"],
        [land, "新增建设用地总量", "公顷", 2005, 0.0, 2020, r(cons * 0.25), "预期性"],
        [urban, "城市建设用地", "平方公里", 2010, r(city_built_km2 * 0.7, 2), 2030, r(city_built_km2 * 1.4, 2), "预期性"],
        [urban, "人均城市建设用地", "平方米/人", 2010, 135.0, 2030, 120.0, "约束性"],
        [urban, "国土开发强度", "%", 2010, r(100 * cons * 0.8 / city_ha, 2), 2030, r(100 * cons * 1.2 / city_ha, 2), "预期性"],
        [forestry, "林地保有量", "公顷", 2009, r(forest * 1.1), 2020, r(forest * 1.5), "约束性"],
        [forestry, "森林覆盖率", "%", 2009, r(100 * forest / city_ha, 2), 2020, r(150 * forest / city_ha, 2), "约束性"],
    ]
    _write_xlsx(kit.dir("01-46a.ghzb") / "规划指标.xlsx", "规划指标",
                ["plan", "indicator", "unit", "base_year", "base_value", "target_year", "target_value", "nature"], rows,
                title="现行规划主要指标 (synthetic)",
                description=_SYN + "; targets of the 土地利用总体规划, 城市总体规划 and 林地保护利用规划")
    kit.add("01-46a.ghzb", ["规划指标.xlsx"], True,
            _SYN + f" ({len(rows)} indicators of three plans; targets set around the synthetic 三调 areas so that some are met "
                   "and some not)")


def build(kit) -> None:
    """Write 01-46a.tdlyztgh, 08-07.csztgh, 02-10.ztgnq and 01-46a.ghzb (after the base kit and 01-47)."""
    g = _land_use_plan(kit)
    _tdlyztgh(kit, g)
    _csztgh(kit, g)
    _ztgnq(kit)
    _indicators(kit)
