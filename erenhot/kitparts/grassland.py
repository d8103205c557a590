"""Sample deliveries of topic 9 (林地草地湿地适宜性评价与保护恢复) from 自然资源局（林草局）, department 1.

Synthetic but consistent with the kit's city, townships and 三调 DLTB (``kit.dltb_gdf``):

* ``01-05`` 林地保护利用规划 — ``forest_plan.zip``: the DLTB forest parcels (shelterbelts 0305/0307),
  the sand-fixing shrub stands the forestry side counts as 灌木林地 where 三调 says 草地 (the 林草重叠),
  and planned 宜林地 patches on grassland near the city; ``LDLX`` 规划地类, ``BHDJ`` 林地保护等级, ``MJ`` hm².
* ``01-08`` 公益林 — ``public_forest.zip`` (EPSG:4490 lon/lat): the shrub stands and the shelterbelts;
  ``SQDJ`` 事权等级, ``BHDJ`` 保护等级, ``LZ`` 林种, ``MJ`` hm².
* ``01-10`` 森林资源调查 — ``forest_inventory.zip``: one 小班 per forest polygon; ``XBH``, ``DL`` 地类,
  ``YSSZ`` 优势树种, ``YBD`` 郁闭度/盖度 0–1, ``MJ`` hm².
* ``01-12`` 湿地、沙化土地 — ``wetland.zip`` (the salt lakes 1102, their flats 1106 and the salt works
  0603 of the DLTB as 湿地 with ``SDL`` 湿地类, ``SDX`` 湿地型) and ``sandy_land.zip`` (``SHLX`` 沙化类型).
* ``01-13`` 草原监测 — ``grassland_types.zip``: 草地类型图 of the monitoring (1 km mapping units, whole
  city) with the 可食产草量 of each unit from the plots: ``CDL`` 草地类, ``KSCL`` kg/hm² (air-dry),
  ``GD`` 盖度 %, ``MJ`` hm².
* ``01-17`` 退化 — ``degraded_land.zip`` (``LX`` 森林/草原/湿地, ``THCD`` 轻度/中度/重度 after GB 19377-2003,
  ``XZQDM``, ``MJ``) and ``degradation.xlsx`` (per township and type: total, degraded by degree and rate).
"""

from __future__ import annotations

import numpy as np

DATASETS = ("01-05", "01-08", "01-10", "01-12", "01-13", "01-17")

_SEED = 9000  # kit.rng(_SEED, k): this part's generators

GRASS = ("0401", "0403", "0404")
FOREST = ("0301", "0305", "0307")
WETLAND = {"1102": ("湖泊湿地", "永久性咸水湖"), "1106": ("沼泽湿地", "内陆盐沼"), "0603": ("人工湿地", "盐田")}

#: 草地类 of the monitoring (names as in erenhot/config/t09_forest_grass_wetland.yaml stocking.types)
#: → (base air-dry edible yield kg/hm², spec §2.5 desert-steppe order of magnitude)
GRASS_TYPES = {"温性草原类": 650.0, "温性荒漠草原类": 380.0, "温性草原化荒漠类": 260.0, "温性荒漠类": 150.0,
               "低地草甸类": 900.0}


def _prov(what: str) -> str:
    from erenhot.samplekit import _SYN_TEXT

    return f"{_SYN_TEXT} (kitparts.grassland: {what})"


def _rep(gdf):
    import shapely

    rp = shapely.point_on_surface(gdf.geometry.values)
    return shapely.get_x(rp), shapely.get_y(rp)


def _clean(geom, grid: float = 0.01):
    import shapely

    from erenhot.samplekit import _multi, _polys

    g = shapely.make_valid(shapely.set_precision(geom, grid))
    parts = [p for p in _polys(g) if p.area >= 100.0]
    return _multi(shapely.union_all(parts)) if parts else None


def _forest(kit):
    """Shrub stands on sandy grassland (counted as 灌木林地 by forestry, 草地 by 三调) and planned 宜林地
    patches near the city; returns (dltb forest parcels, shrub stands, planned patches) in EPSG:4525."""
    import shapely

    from erenhot.samplekit import _RURAL, _blob, _polys, _sample_points

    dltb = kit.dltb_gdf
    forest = dltb[dltb["DLBM"].isin(FOREST)].reset_index(drop=True)
    grass = shapely.union_all(dltb[dltb["DLBM"].isin(GRASS)].geometry.values)
    rural = kit.township[_RURAL]
    rng = kit.rng(_SEED, 1)
    sx, sy = kit.seat

    def stands(n: int, cond, r0: float, r1: float, key: int):
        pts = _sample_points(rural.buffer(-2000), kit.rng(_SEED, key), n, cond)
        out = []
        for x, y in pts:
            b = _blob(x, y, rng.uniform(r0, r1), rng.uniform(0.05, 0.15, 3), rng.uniform(0, 6.28, 3), n=48)
            g = b.intersection(grass)
            parts = [p for p in _polys(g) if p.area > 2e4]
            if parts:
                out.append(shapely.union_all(parts))
        return out

    def sandy(x, y):
        s = kit.land.sample(x, y)
        d = np.hypot(x - sx, y - sy)
        return (s["sand"] > 0.55) & (s["dnorm"] > 2.0) & (d > 8000) & (d < 30000)

    def near(x, y):
        d = np.hypot(x - sx, y - sy)
        return (d > 4000) & (d < 14000) & (kit.land.sample(x, y)["dnorm"] > 2.0)

    shrubs = stands(3, sandy, 900.0, 1500.0, 2)
    planned = stands(4, near, 500.0, 900.0, 3)
    return forest, shrubs, planned


def build(kit) -> None:  # noqa: C901 - one writer per dataset, in order
    import geopandas as gpd
    import shapely
    from rasterio import features
    from scipy import ndimage
    from shapely.geometry import shape

    from erenhot.samplekit import (
        TOWNSHIPS,
        _multi,
        _polys,
        _shapefile_zip,
        _write_xlsx,
    )

    dltb = kit.dltb_gdf
    crs = "EPSG:4525"
    forest, shrubs, planned = _forest(kit)

    # ── 01-05 林地保护利用规划 ───────────────────────────────────────────────────────────────
    ldlx = {"0301": "乔木林地", "0305": "灌木林地", "0307": "其他林地"}
    rows = [(ldlx[c], "Ⅱ级", g) for c, g in zip(forest["DLBM"], forest.geometry)]
    rows += [("灌木林地", "Ⅱ级", g) for g in shrubs]
    rows += [("宜林地", "Ⅳ级", g) for g in planned]
    rows = [(a, b, _clean(g)) for a, b, g in rows]
    rows = [r for r in rows if r[2] is not None]
    plan = gpd.GeoDataFrame({"LDLX": [r[0] for r in rows], "BHDJ": [r[1] for r in rows],
                             "MJ": [round(r[2].area / 1e4, 2) for r in rows], "GHQ": ["2010-2020"] * len(rows)},
                            geometry=[r[2] for r in rows], crs=crs)
    _shapefile_zip(kit.dir("01-05") / "forest_plan.zip", "forest_plan", plan,
                   title="林地保护利用规划（2010—2020年）落界图斑 (synthetic)",
                   note="polygons EPSG:4525; LDLX 规划地类, BHDJ 林地保护等级, MJ 公顷")
    kit.add("01-05", ["forest_plan.zip"], True,
            _prov(f"{len(plan)} 林地落界 polygons: DLTB forest parcels, sand-fixing shrub stands on 三调 grassland, "
                  "planned 宜林地; EPSG:4525, GBK DBF without .cpg"))

    # ── 01-08 公益林 (lon/lat) ─────────────────────────────────────────────────────────────
    pub_rows = [("国家级", "一级", "防风固沙林", g) for g in shrubs]
    pub_rows += [("地方级" if i % 2 else "自治区级", "二级", "农田牧场防护林", g) for i, g in enumerate(forest.geometry)]
    pub_rows = [(a, b, c, _clean(g)) for a, b, c, g in pub_rows]
    pub_rows = [r for r in pub_rows if r[3] is not None]
    pub = gpd.GeoDataFrame({"SQDJ": [r[0] for r in pub_rows], "BHDJ": [r[1] for r in pub_rows],
                            "LZ": [r[2] for r in pub_rows], "MJ": [round(r[3].area / 1e4, 2) for r in pub_rows]},
                           geometry=[_multi(kit.lonlat(r[3])) for r in pub_rows], crs="EPSG:4490")
    _shapefile_zip(kit.dir("01-08") / "public_forest.zip", "public_forest", pub,
                   title="自治区和市级公益林 (synthetic)", note="polygons EPSG:4490 lon/lat; SQDJ 事权等级, BHDJ, LZ 林种, MJ 公顷")
    kit.add("01-08", ["public_forest.zip"], True,
            _prov(f"{len(pub)} 公益林 polygons (shrub stands + shelterbelts), EPSG:4490 lon/lat, GBK DBF"))

    # ── 01-10 森林资源调查 小班 ─────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 4)
    inv = plan[plan["LDLX"] != "宜林地"].reset_index(drop=True)
    species = {"乔木林地": ["杨树", "榆树", "樟子松"], "灌木林地": ["柠条", "梭梭", "沙棘"], "其他林地": ["杨树", "柠条"]}
    ybd = np.round(rng.uniform(0.12, 0.45, len(inv)), 2)
    sick = rng.random(len(inv))
    inventory = gpd.GeoDataFrame({
        "XBH": [f"{i + 1:04d}" for i in range(len(inv))],
        "DL": list(inv["LDLX"]),
        "YSSZ": [species[d][int(rng.integers(len(species[d])))] for d in inv["LDLX"]],
        "YBD": ybd,
        "JKDJ": np.where(sick < 0.15, "不健康", np.where(sick < 0.4, "中健康", np.where(sick < 0.7, "亚健康", "健康"))),
        "MJ": list(inv["MJ"]),
    }, geometry=list(inv.geometry), crs=crs)
    _shapefile_zip(kit.dir("01-10") / "forest_inventory.zip", "forest_inventory", inventory,
                   title="森林资源调查 小班 (synthetic)", note="polygons EPSG:4525; XBH 小班号, DL 地类, YSSZ 优势树种, "
                   "YBD 郁闭度/盖度, JKDJ 森林健康等级, MJ 公顷")
    kit.add("01-10", ["forest_inventory.zip"], True, _prov(f"{len(inventory)} 小班 = the forest polygons of 01-05"))

    # ── 01-12 湿地 + 沙化土地 ───────────────────────────────────────────────────────────────
    wet = dltb[dltb["DLBM"].isin(list(WETLAND))]
    wrows = []
    for code, (sdl, sdx) in WETLAND.items():
        for p in _polys(shapely.union_all(wet[wet["DLBM"] == code].geometry.values)):
            g = _clean(p)
            if g is not None and g.area >= 1e4:
                wrows.append((sdl, sdx, g))
    wetland = gpd.GeoDataFrame({"SDL": [r[0] for r in wrows], "SDX": [r[1] for r in wrows],
                                "MJ": [round(r[2].area / 1e4, 2) for r in wrows]},
                               geometry=[r[2] for r in wrows], crs=crs)
    _shapefile_zip(kit.dir("01-12") / "wetland.zip", "wetland", wetland, title="湿地分布 (synthetic)",
                   note="polygons EPSG:4525; SDL 湿地类, SDX 湿地型 (GB/T 24708-2009), MJ 公顷")
    X, Y, tr = kit._lattice(500.0)
    s = kit.land.sample(X, Y)
    q = s["sand"] - 1.5 * s["fvc"]
    inside = shapely.contains_xy(kit.city, X, Y)
    ths = [float(np.quantile(q[inside], p)) for p in (0.75, 0.90, 0.97)]
    regs = kit._regions(q, tr, ths, smooth=400.0)
    names = ["固定沙地", "半固定沙地", "流动沙地"]
    srows = []
    for k, name in enumerate(names):
        r = regs[k]
        if r is None:
            continue
        if k + 1 < len(regs) and regs[k + 1] is not None:
            r = r.difference(regs[k + 1])
        for p in _polys(r):
            if p.area >= 5e5:
                srows.append((name, _clean(p)))
    srows = [r for r in srows if r[1] is not None]
    sandy = gpd.GeoDataFrame({"SHLX": [r[0] for r in srows], "MJ": [round(r[1].area / 1e4, 2) for r in srows]},
                             geometry=[r[1] for r in srows], crs=crs)
    _shapefile_zip(kit.dir("01-12") / "sandy_land.zip", "sandy_land", sandy, title="沙化土地分布 (synthetic)",
                   note="polygons EPSG:4525; SHLX 沙化土地类型, MJ 公顷")
    kit.add("01-12", ["sandy_land.zip", "wetland.zip"], True,
            _prov(f"{len(wetland)} wetland polygons from the DLTB salt lakes/flats/salt works; "
                  f"{len(sandy)} sandy-land polygons from the kit's sand and cover fields"))

    # ── 01-13 草原监测: 草地类型图 with 可食产草量 ───────────────────────────────────────────
    X, Y, tr = kit._lattice(1000.0)
    s = kit.land.sample(X, Y)
    inside = shapely.contains_xy(kit.city.buffer(1500.0), X, Y)
    fvc = s["fvc"]
    fq = [float(np.quantile(fvc[inside], p)) for p in (0.10, 0.30, 0.93)]
    tcode = np.where(s["dnorm"] < 2.0, 5, np.where(fvc < fq[0], 4, np.where(fvc < fq[1], 3, np.where(fvc < fq[2], 2, 1))))
    tcode = np.where(inside, tcode, 0).astype("int32")
    labels = np.zeros_like(tcode)
    nxt = 0
    for c in range(1, 6):
        lab, n = ndimage.label(tcode == c)
        labels[lab > 0] = lab[lab > 0] + nxt
        nxt += n
    type_names = list(GRASS_TYPES)
    rng = kit.rng(_SEED, 5)
    g_rows = []
    for geom, lab in features.shapes(labels, mask=labels > 0, transform=tr):
        lab = int(lab)
        cells = labels == lab
        c = int(tcode[cells][0])
        name = type_names[c - 1]
        mf = float(fvc[cells].mean())
        poly = shape(geom).intersection(kit.city)
        g = _clean(poly)
        if g is None or g.area < 2e5:
            continue
        y = GRASS_TYPES[name] * float(np.clip(0.75 + 1.5 * (mf - 0.18), 0.5, 1.6)) * float(rng.normal(1.0, 0.06))
        g_rows.append((name, round(y, 1), round(float(np.clip(mf * 100, 3, 80)), 1), g))
    order = {n: i for i, n in enumerate(type_names)}
    g_rows.sort(key=lambda r: (order[r[0]], -round(r[3].centroid.y), round(r[3].centroid.x)))
    gtypes = gpd.GeoDataFrame({"CDL": [r[0] for r in g_rows], "KSCL": [r[1] for r in g_rows],
                               "GD": [r[2] for r in g_rows], "MJ": [round(r[3].area / 1e4, 2) for r in g_rows],
                               "JCND": ["2020"] * len(g_rows)},
                              geometry=[r[3] for r in g_rows], crs=crs)
    _shapefile_zip(kit.dir("01-13") / "grassland_types.zip", "grassland_types", gtypes,
                   title="草原监测 草地类型与可食产草量 (synthetic)",
                   note="polygons EPSG:4525; CDL 草地类, KSCL 可食产草量 kg/hm² (风干重), GD 盖度 %, MJ 公顷, JCND 监测年度")
    kit.add("01-13", ["grassland_types.zip"], True,
            _prov(f"{len(gtypes)} 草地类型 mapping units on a 1 km lattice of the kit's cover and basins; yields "
                  "from the type's desert-steppe order of magnitude (evaluation spec §2.5) scaled by cover"))

    # ── 01-17 退化林地、草原、湿地 ───────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 6)
    town_of = {code: name for code, name in TOWNSHIPS}
    deg_rows = []
    gp = dltb[dltb["DLBM"].isin(GRASS)].reset_index(drop=True)
    x, y = _rep(gp)
    ss = kit.land.sample(x, y)
    score = ss["sand"] - 1.5 * ss["fvc"] + rng.normal(0, 0.05, len(gp))
    t = np.quantile(score, [0.65, 0.85, 0.95])
    deg = np.where(score >= t[2], "重度", np.where(score >= t[1], "中度", np.where(score >= t[0], "轻度", "")))
    fdeg = np.where(inventory["JKDJ"] == "不健康", "中度", np.where(inventory["JKDJ"] == "中健康", "轻度", ""))
    flats = dltb[dltb["DLBM"] == "1106"].reset_index(drop=True)
    wdeg = np.where(rng.random(len(flats)) < 0.3, "轻度", "")
    for lx, frame, degs in (("草原", gp, deg), ("森林", inventory, fdeg), ("湿地", flats, wdeg)):
        for d in ("轻度", "中度", "重度"):
            sel = frame[degs == d]
            if not len(sel):
                continue
            for town, _n in TOWNSHIPS:
                part = shapely.union_all(sel.geometry.values).intersection(kit.township[town])
                for p in _polys(part):
                    g = _clean(p)
                    if g is not None and g.area >= 1e3:
                        deg_rows.append((lx, d, town, g))
    degraded = gpd.GeoDataFrame({"LX": [r[0] for r in deg_rows], "THCD": [r[1] for r in deg_rows],
                                 "XZQDM": [r[2] for r in deg_rows], "MJ": [round(r[3].area / 1e4, 2) for r in deg_rows]},
                                geometry=[r[3] for r in deg_rows], crs=crs)
    _shapefile_zip(kit.dir("01-17") / "degraded_land.zip", "degraded_land", degraded,
                   title="退化林地、草原、湿地分布 (synthetic)",
                   note="polygons EPSG:4525; LX 类型, THCD 退化程度 (GB 19377-2003), XZQDM 乡镇代码, MJ 公顷")
    totals = {"草原": gp, "森林": inventory, "湿地": dltb[dltb["DLBM"].isin(list(WETLAND))]}
    table = []
    for town, tname in TOWNSHIPS:
        tp = kit.township[town]
        for lx, frame in totals.items():
            total = float(frame.geometry.intersection(tp).area.sum()) / 1e4 if len(frame) else 0.0
            by = {d: float(degraded[(degraded["LX"] == lx) & (degraded["THCD"] == d) & (degraded["XZQDM"] == town)]
                           .geometry.area.sum()) / 1e4 for d in ("轻度", "中度", "重度")}
            if total <= 0:
                continue
            rate = 100.0 * sum(by.values()) / total
            table.append([town, tname, lx, round(total, 2), round(by["轻度"], 2), round(by["中度"], 2),
                          round(by["重度"], 2), round(rate, 2), 2020])
    _write_xlsx(kit.dir("01-17") / "degradation.xlsx", "退化统计",
                ["XZQDM", "XZQMC", "LX", "total_ha", "light_ha", "moderate_ha", "severe_ha", "degraded_rate_pct", "year"],
                table, title="森林、草地、湿地退化面积及退化率 (synthetic)",
                description="synthetic sample delivery of erenhot.samplekit (kitparts.grassland)")
    kit.add("01-17", ["degradation.xlsx", "degraded_land.zip"], True,
            _prov(f"{len(degraded)} degraded polygons (草原 by sand and cover, 森林 from 01-10 health, 湿地 flats) "
                  f"and the per-township table of {len(table)} rows computed from them; {town_of[TOWNSHIPS[0][0]]} "
                  "holds most of it"))
