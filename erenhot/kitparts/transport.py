"""Sample delivery of 交通运输局 (department 5) for topic 14 综合交通体系.

Synthetic but consistent with the kit's road network (``kit.roads``, the 05-05 delivery), railway
(``kit.railway``, 02-06), airport runway (``kit.runway``, 21-01), seat and border port:

* ``05-04`` 交通重大项目安排和重点建设项目规划 — ``transport_projects.zip`` (shapefile, GBK DBF without
  ``.cpg``, EPSG:4525, lines): one feature per project with 项目名称 ``XMMC``, 项目类型 ``XMLX``
  (公路/城市道路/铁路/机场), 建设性质 ``JSXZ`` (新建/改扩建), 建设标准 ``JSDJ`` (the road grade after
  construction, or 铁路/机场), 里程 ``LC`` km, 用地面积 ``YDMJ`` hm², 总投资 ``ZTZ`` 万元, 开工/完工年份
  ``KGNF``/``WGNF`` and 项目状态 ``XMZT`` (已建成/在建/前期/规划). The upgrades follow existing 05-05 roads;
  the new 口岸货运通道 and the railway/runway projects follow the kit's port, railway and runway.
  Unit costs (万元/km) are rough magnitudes of Inner Mongolia 公路 projects, for illustration only.
"""

from __future__ import annotations

import math

DATASETS = ("05-04",)

_SEED = 14000
# (XMLX, JSDJ) → (万元 per km, land width m) — illustrative magnitudes
_UNIT = {("公路", "一级公路"): (1800.0, 40.0), ("公路", "二级公路"): (900.0, 30.0), ("公路", "三级公路"): (450.0, 20.0),
         ("公路", "四级公路"): (160.0, 12.0), ("城市道路", "城市道路"): (3200.0, 30.0), ("铁路", "铁路"): (9000.0, 30.0),
         ("机场", "机场"): (45000.0, 150.0)}


def build(kit) -> None:
    import geopandas as gpd
    import shapely
    from shapely.geometry import LineString, Point
    from shapely.ops import linemerge, nearest_points

    from erenhot.samplekit import _SYN_TEXT, _lines, _shapefile_zip

    rng = kit.rng(_SEED, 1)
    city = kit.city

    def road(name: str):
        parts = [g for g, _dldj, n, _w in kit.roads if n == name]
        if not parts:
            return None
        merged = linemerge(parts) if len(parts) > 1 else parts[0]
        return merged

    projects: list[tuple[str, str, str, str, object, int, int, str]] = []  # name, XMLX, JSXZ, JSDJ, geom, KG, WG, ZT

    def add(name, xmlx, jsxz, jsdj, geom, kg, wg, zt):
        if geom is None:
            return
        geom = geom.intersection(city)
        parts = [p for p in _lines(geom) if p.length > 100]
        if parts:
            projects.append((name, xmlx, jsxz, jsdj, linemerge(parts) if len(parts) > 1 else parts[0], kg, wg, zt))

    add("口岸路一级公路改扩建工程", "公路", "改扩建", "一级公路", road("口岸路"), 2019, 2021, "已建成")
    add("二连浩特至赛乌素机场公路提级改造", "公路", "改扩建", "一级公路", road("机场路"), 2022, 2024, "在建")
    add("X901 格日勒敖都苏木连接线提级改造", "公路", "改扩建", "二级公路", road("X901"), 2023, 2025, "前期")
    for i in range(1, 10):
        g = road(f"Y{i:03d}")
        if g is None:
            break
        kg = 2021 + (i - 1) // 2 if i <= 4 else 2026 + (i - 5) // 2
        add(f"Y{i:03d} 嘎查通硬化路工程", "公路", "改扩建", "三级公路", g, kg, kg + 1,
            "已建成" if kg + 1 <= 2021 else ("在建" if kg <= 2022 else "规划" if kg >= 2026 else "前期"))
    # new freight road: port → the 二广高速 (bypasses the seat)
    g55 = road("二广高速")
    px, py = kit.port
    if g55 is not None:
        sx, sy = kit.seat
        dx, dy = px - sx, py - sy
        d = math.hypot(dx, dy) or 1.0
        ex, ey = -dy / d, dx / d  # to the side of the seat → port direction
        a = (px - dx / d * 1500.0, py - dy / d * 1500.0)
        mid = (sx + ex * 4500.0, sy + ey * 4500.0)
        target = nearest_points(g55, Point(mid))[0]
        add("口岸货运专用通道（新建）", "公路", "新建", "一级公路",
            LineString([a, (a[0] + ex * 3000.0, a[1] + ey * 3000.0), mid, target.coords[0]]), 2024, 2026, "前期")
    # urban streets: two new streets between the existing ones (offset 325 m)
    streets = sorted([(g, n) for g, dldj, n, _w in kit.roads if dldj == "城市道路"], key=lambda t: (-t[0].length, t[1]))[:2]
    for k, (g, n) in enumerate(streets, start=1):
        add(f"中心城区路网加密工程（{n}辅路）", "城市道路", "新建", "城市道路", g.offset_curve(325.0), 2021 + k, 2022 + k, "在建" if k == 1 else "前期")
    # railway: the station throat and the first km south (扩能改造)
    st = Point(kit.station).buffer(6000.0)
    rail = [r.intersection(st) for r in kit.railway]
    rail = [p for r in rail for p in _lines(r)]
    if rail:
        add("集二铁路二连站扩能改造", "铁路", "改扩建", "铁路", max(rail, key=lambda g: g.length), 2023, 2026, "前期")
    # airport: runway extension by 600 m in its direction
    rw = kit.runway
    (x0, y0), (x1, y1) = rw.coords[0], rw.coords[-1]
    L = rw.length
    ux, uy = (x1 - x0) / L, (y1 - y0) / L
    add("赛乌素机场跑道延长及航站区改扩建", "机场", "改扩建", "机场", LineString([(x1, y1), (x1 + ux * 600.0, y1 + uy * 600.0)]),
        2025, 2027, "规划")

    rows = []
    for name, xmlx, jsxz, jsdj, geom, kg, wg, zt in projects:
        km = geom.length / 1000.0
        per_km, width = _UNIT[(xmlx, jsdj)]
        factor = 0.6 if jsxz == "改扩建" and xmlx in ("公路", "城市道路") else 1.0
        ztz = round(per_km * km * factor * float(rng.uniform(0.85, 1.15)) / 10.0) * 10.0
        ydmj = round(km * 1000.0 * width * (0.4 if jsxz == "改扩建" and xmlx == "公路" else 1.0) / 1e4, 2)
        rows.append((name, xmlx, jsxz, jsdj, round(km, 2), ydmj, float(ztz), kg, wg, zt, shapely.set_precision(geom, 0.01)))
    gdf = gpd.GeoDataFrame({"XMMC": [r[0] for r in rows], "XMLX": [r[1] for r in rows], "JSXZ": [r[2] for r in rows],
                            "JSDJ": [r[3] for r in rows], "LC": [r[4] for r in rows], "YDMJ": [r[5] for r in rows],
                            "ZTZ": [r[6] for r in rows], "KGNF": [int(r[7]) for r in rows], "WGNF": [int(r[8]) for r in rows],
                            "XMZT": [r[9] for r in rows]},
                           geometry=[r[10] for r in rows], crs="EPSG:4525")
    _shapefile_zip(kit.dir("05-04") / "transport_projects.zip", "transport_projects", gdf,
                   title="交通重大项目安排和重点建设项目规划 (synthetic)",
                   note="lines EPSG:4525; XMMC 项目名称, XMLX 项目类型, JSXZ 建设性质, JSDJ 建设标准, LC 里程 km, "
                        "YDMJ 用地面积 hm², ZTZ 总投资 万元, KGNF/WGNF 开工/完工年份, XMZT 项目状态")
    kit.add("05-04", ["transport_projects.zip"], True,
            _SYN_TEXT + f" (kitparts.transport: {len(gdf)} projects along the kit's 05-05 roads, 02-06 railway and "
                        "21-01 runway; shapefile EPSG:4525, GBK DBF without .cpg; investment from illustrative unit costs)")
