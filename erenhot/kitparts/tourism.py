"""Sample deliveries of 文体旅游广电局 (department 6) and 自然资源局 (01-32) for topic 15 文化与旅游发展研究.

Synthetic but placed on the kit's geography (seat, railway station, border port, salt-lake basins,
苏木 seat and 嘎查) so that they agree with the other deliveries (the 01-07 恐龙化石国家地质公园 lies
around the second basin, so the fossil sites of 01-32 do too). Names echo Erenhot's known
attractions (国门, 恐龙, 伊林驿站, 民族文化) but grades, visitor numbers, positions and projects are
invented for illustration:

* ``06-03`` 4A级以上景区分布情况 — ``A级景区.xlsx`` (sheet 1, lon/lat CGCS2000): one row per scenic
  area with 等级 ``grade`` (5A…1A after GB/T 17775-2003), ``type``, 年接待游客 ``visitors_10k``
  (万人次) and 评定年份 ``rating_year``;
* ``06-04`` 全域旅游发展总体规划 — ``tourism_projects.zip`` (shapefile, GBK DBF without ``.cpg``,
  EPSG:4525, points): planned projects with 项目名称 ``XMMC``, 类型 ``XMLX``, 建设性质 ``JSXZ``,
  用地 ``YDMJ`` hm², 总投资 ``ZTZ`` 万元, 开工/完工 ``KGNF``/``WGNF`` and 状态 ``XMZT``;
* ``01-32`` 地质遗迹分布 — ``地质遗迹.zip`` (shapefile, GBK, EPSG:4525, points): 遗迹编号 ``YJBH``,
  名称 ``YJMC``, 类型 ``YJLX`` and 级别 ``JB`` (世界级/国家级/省级/省级以下, DZ/T 0303-2017);
* ``06-06.heritage`` 文物保护单位、历史遗迹与民族文化资源名录 — ``文化遗产名录.csv`` (UTF-8 with BOM,
  lon/lat CGCS2000): ``name``, ``type`` (国门界碑, 边关驿站, 民族文化场所 …), ``level`` (全国重点/
  自治区级/盟市级/旗县级文物保护单位, 国家级/自治区级非物质文化遗产, 未定级) and ``era``.
"""

from __future__ import annotations

import math

DATASETS = ("01-32", "06-03", "06-04", "06-06.heritage")

_SEED = 15000


def _inside(kit, x: float, y: float, margin: float = 400.0) -> tuple[float, float]:
    """(x, y) when it lies ``margin`` m inside the city, else the nearest such point."""
    from shapely.geometry import Point
    from shapely.ops import nearest_points

    core = kit.city.buffer(-margin)
    p = Point(x, y)
    if core.contains(p):
        return float(x), float(y)
    q = nearest_points(core, p)[0]
    return float(q.x), float(q.y)


def _toward(a: tuple[float, float], b: tuple[float, float], dist: float) -> tuple[float, float]:
    """The point ``dist`` m from ``a`` toward ``b``."""
    d = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    return a[0] + (b[0] - a[0]) / d * dist, a[1] + (b[1] - a[1]) / d * dist


def _lonlat(kit, xy: tuple[float, float]) -> tuple[float, float]:
    lon, lat = kit.proj._inv.transform(xy[0], xy[1])
    return round(float(lon), 5), round(float(lat), 5)


def _places(kit) -> dict[str, tuple[float, float]]:
    """Named anchor points (EPSG:4525) of the resources, all inside the city."""
    sx, sy = kit.seat
    b0, b1, b2 = (kit.land.basins[i] for i in range(3))
    port_in = _toward(kit.port, kit.seat, 450.0)
    out = {
        "port": _inside(kit, *port_in),
        "border": _inside(kit, *_toward(kit.port, kit.seat, 150.0), margin=120.0),
        "seat": (sx, sy),
        "museum": (sx - 700.0, sy + 350.0),
        "market": _inside(kit, *_toward(kit.seat, kit.port, 2200.0)),
        "park": (sx + 900.0, sy - 600.0),
        "station_old": (kit.station[0] + 250.0, kit.station[1] - 150.0),
        "yilin": (kit.station[0] - 600.0, kit.station[1] + 400.0),
        "geopark": _inside(kit, b1[0] - 1.5 * b1[2], b1[1] - 0.4 * b1[2]),
        "salt": _inside(kit, b0[0] + 1.3 * b0[2], b0[1]),
        "wetland": _inside(kit, b2[0] - 1.4 * b2[2], b2[1]),
        "sumu": _inside(kit, kit.sumu[0] + 500.0, kit.sumu[1] + 300.0),
        "gacha1": _inside(kit, kit.gacha[0][0] + 400.0, kit.gacha[0][1]),
        "gacha2": _inside(kit, kit.gacha[1][0] - 400.0, kit.gacha[1][1]),
        "road_site": _inside(kit, *_toward(kit.seat, kit.sumu, 9000.0)),
    }
    for k, ang in enumerate((0.3, 1.9, 3.6, 5.0)):
        out[f"fossil{k + 1}"] = _inside(kit, b1[0] + 1.25 * b1[2] * math.cos(ang), b1[1] + 1.25 * b1[2] * math.sin(ang))
    out["section"] = _inside(kit, b1[0] + 2.6 * b1[2], b1[1] + 0.8 * b1[2])
    return out


def _scenic(kit, pl) -> None:
    """06-03: A级景区 table with lon/lat."""
    from erenhot.samplekit import _SYN_TEXT, _write_xlsx

    rows = [  # name, grade, type, place, visitors (万人次), rating year
        ("二连浩特国门景区", "4A", "边境口岸", "port", 48.5, 2012),
        ("二连浩特恐龙地质公园", "4A", "地质遗迹", "geopark", 36.2, 2015),
        ("伊林驿站遗址景区", "3A", "历史文化", "yilin", 12.4, 2018),
        ("二连浩特市博物馆", "3A", "历史文化", "museum", 9.8, 2016),
        ("中蒙边民互市贸易区", "3A", "城市休闲", "market", 21.0, 2017),
        ("恐龙主题公园", "2A", "城市休闲", "park", 15.6, 2014),
        ("格日勒敖都草原牧家游", "3A", "民族民俗", "sumu", 4.1, 2019),
        ("小淖尔湿地景区", "2A", "自然生态", "wetland", 2.3, 2020),
    ]
    out = []
    for name, grade, typ, place, vis, year in rows:
        lon, lat = _lonlat(kit, pl[place])
        out.append([name, grade, typ, vis, year, lon, lat])
    _write_xlsx(kit.dir("06-03") / "A级景区.xlsx", "A级景区", ["name", "grade", "type", "visitors_10k", "rating_year", "lon", "lat"],
                out, title="二连浩特市A级景区分布情况 (synthetic)",
                description=_SYN_TEXT + "; grade after GB/T 17775-2003; visitors_10k 万人次; lon/lat CGCS2000")
    kit.add("06-03", ["A级景区.xlsx"], True,
            _SYN_TEXT + f" (kitparts.tourism: {len(out)} A级景区 at the kit's port, seat, station, basins and 苏木; "
                        "XLSX with lon/lat CGCS2000; names echo Erenhot's attractions, grades and visitor numbers are invented)")


def _heritage(kit, pl) -> None:
    """06-06.heritage: 文物保护单位、历史遗迹与民族文化资源名录 (CSV, lon/lat)."""
    from erenhot.samplekit import _SYN_TEXT, _write_csv

    rows = [  # name, type, level, place, era
        ("中蒙边境界碑（国门段）", "国门界碑", "未定级", "border", "1962年中蒙边界条约"),
        ("二连浩特国门", "口岸设施", "未定级", "port", "现代"),
        ("伊林驿站遗址", "边关驿站", "自治区级文物保护单位", "yilin", "清"),
        ("二连火车站旧址", "近现代重要史迹", "盟市级文物保护单位", "station_old", "1956年"),
        ("张库大道二连段遗迹", "古遗址", "旗县级文物保护单位", "road_site", "清—民国"),
        ("格日勒敖都敖包", "民族文化场所", "未定级", "gacha1", "传统"),
        ("蒙古族长调民歌传习所", "非物质文化遗产", "自治区级非物质文化遗产", "seat", "传统"),
        ("那达慕会场", "民族文化场所", "未定级", "gacha2", "传统"),
    ]
    out = []
    for name, typ, level, place, era in rows:
        lon, lat = _lonlat(kit, pl[place])
        out.append([name, typ, level, era, f"{lon:.5f}", f"{lat:.5f}"])
    _write_csv(kit.dir("06-06.heritage") / "文化遗产名录.csv", ["name", "type", "level", "era", "lon", "lat"], out, bom=True)
    kit.add("06-06.heritage", ["文化遗产名录.csv"], True,
            _SYN_TEXT + f" (kitparts.tourism: {len(out)} 文物保护单位、历史遗迹与民族文化资源 (国门界碑, 伊林驿站, 敖包 …); "
                        "CSV UTF-8 with BOM, lon/lat CGCS2000; levels invented for illustration)")


def _geoheritage(kit, pl) -> None:
    """01-32: 地质遗迹 points (shapefile EPSG:4525)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from erenhot.samplekit import _SYN_TEXT, _shapefile_zip

    rows = [  # YJMC, YJLX, JB, place
        ("二连浩特恐龙化石产地（一号点）", "重要化石产地", "国家级", "fossil1"),
        ("二连浩特恐龙化石产地（二号点）", "重要化石产地", "国家级", "fossil2"),
        ("恐龙蛋化石产地", "重要化石产地", "省级", "fossil3"),
        ("哺乳动物化石产地", "重要化石产地", "省级", "fossil4"),
        ("二连组地层剖面", "地层剖面", "省级", "section"),
        ("盐池盐湖", "水体地貌", "省级以下", "salt"),
    ]
    gdf = gpd.GeoDataFrame({"YJBH": [f"152501DZYJ{k:03d}" for k in range(1, len(rows) + 1)],
                            "YJMC": [r[0] for r in rows], "YJLX": [r[1] for r in rows], "JB": [r[2] for r in rows]},
                           geometry=[Point(round(pl[r[3]][0], 2), round(pl[r[3]][1], 2)) for r in rows], crs="EPSG:4525")
    _shapefile_zip(kit.dir("01-32") / "地质遗迹.zip", "地质遗迹", gdf, title="地质遗迹分布 (synthetic)",
                   note="points EPSG:4525; YJBH 遗迹编号, YJMC 名称, YJLX 类型, JB 级别 (DZ/T 0303-2017)")
    kit.add("01-32", ["地质遗迹.zip"], True,
            _SYN_TEXT + f" (kitparts.tourism: {len(gdf)} 地质遗迹 points around the kit's 恐龙 geopark basin and 盐池; "
                        "shapefile EPSG:4525, GBK DBF without .cpg)")


def _projects(kit, pl) -> None:
    """06-04: planned tourism projects (shapefile points EPSG:4525)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from erenhot.samplekit import _SYN_TEXT, _shapefile_zip

    rng = kit.rng(_SEED, 4)
    rows = [  # XMMC, XMLX, JSXZ, place, YDMJ hm², base 万元, KGNF, WGNF, XMZT
        ("国门景区提升改造工程", "景区提升", "改扩建", "port", 12.0, 18000.0, 2021, 2023, "已建成"),
        ("恐龙地质公园游客服务中心", "旅游设施", "新建", "geopark", 6.5, 9500.0, 2022, 2024, "在建"),
        ("伊林驿站遗址保护展示工程", "文化设施", "改扩建", "yilin", 2.2, 4200.0, 2023, 2025, "前期"),
        ("中蒙跨境旅游集散中心", "口岸旅游", "新建", "market", 8.0, 26000.0, 2024, 2026, "前期"),
        ("格日勒敖都牧家乐集群", "乡村旅游", "新建", "sumu", 15.0, 3600.0, 2025, 2027, "规划"),
        ("小淖尔湿地观鸟栈道", "旅游设施", "新建", "wetland", 3.0, 1500.0, 2026, 2028, "规划"),
        ("恐龙化石产地保护与科普步道", "景区提升", "新建", "fossil2", 4.0, 2800.0, 2022, 2023, "已建成"),
    ]
    ztz = [round(r[5] * float(rng.uniform(0.9, 1.1)) / 10.0) * 10.0 for r in rows]
    gdf = gpd.GeoDataFrame({"XMMC": [r[0] for r in rows], "XMLX": [r[1] for r in rows], "JSXZ": [r[2] for r in rows],
                            "YDMJ": [r[4] for r in rows], "ZTZ": ztz, "KGNF": [r[6] for r in rows],
                            "WGNF": [r[7] for r in rows], "XMZT": [r[8] for r in rows]},
                           geometry=[Point(round(pl[r[3]][0] + 150.0, 2), round(pl[r[3]][1] + 150.0, 2)) for r in rows],
                           crs="EPSG:4525")
    _shapefile_zip(kit.dir("06-04") / "tourism_projects.zip", "tourism_projects", gdf, title="全域旅游发展总体规划 规划项目 (synthetic)",
                   note="points EPSG:4525; XMMC 项目名称, XMLX 项目类型, JSXZ 建设性质, YDMJ 用地面积 hm², ZTZ 总投资 万元, "
                        "KGNF/WGNF 开工/完工年份, XMZT 项目状态")
    kit.add("06-04", ["tourism_projects.zip"], True,
            _SYN_TEXT + f" (kitparts.tourism: {len(gdf)} planned tourism projects beside the kit's resources; shapefile "
                        "EPSG:4525, GBK DBF without .cpg; investment figures illustrative)")


def build(kit) -> None:
    """Write 01-32, 06-03, 06-04 and 06-06.heritage (reads only the kit's geography)."""
    pl = _places(kit)
    _scenic(kit, pl)
    _heritage(kit, pl)
    _geoheritage(kit, pl)
    _projects(kit, pl)
