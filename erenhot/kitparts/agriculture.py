"""Sample deliveries of topic 13 (农牧业现代化发展格局与乡村牧区建设) from 农牧水务局 (department 4),
自然资源局 (department 1) and 格日勒敖都苏木 (department 18).

Synthetic but consistent with the kit's city, townships, 嘎查 centres (``kit.gacha``) and 三调 DLTB:

* ``18-01`` 苏木嘎查基本情况 — ``gacha.xlsx``: one row per 嘎查 of 格日勒敖都苏木 (at the kit's 嘎查
  centres, 经纬度 of the 嘎查委员会) plus the 城郊牧户 of 社区建设管理局: 户数, 户籍/常住人口 (now and 2015),
  牲畜年末存栏 by species 牛/马/骆驼/绵羊/山羊 (头只), 统计年度.
* ``01-40`` 耕地质量等别 — ``cropland_grade.zip``: the DLTB cropland parcels (0101/0102/0103) with
  国家自然等 ``ZRD``, 利用等 ``LYD``, 经济等 ``JJD`` (1 best … 15 worst; Inner Mongolia's dry
  farmland lies at 11–15), ``DLBM``, ``MJ`` hm².
* ``04-11`` 农牧业区划 — ``agri_zoning.zip``: the 区划 units of the agricultural/pastoral zoning:
  城郊设施农牧业区 around the seat, 北部/南部 荒漠草原畜牧业区 and the 盐湖湿地生态保护区 (DLTB salt lakes
  and flats): ``QHMC`` 区划名称, ``QHLX`` 区划类型 (农业区/牧业区/农牧交错区/生态保护区), ``MJ`` hm².
"""

from __future__ import annotations

import numpy as np

DATASETS = ("18-01", "01-40", "04-11")

_SEED = 13000  # kit.rng(_SEED, k): this part's generators

CROPLAND = ("0101", "0102", "0103")
GACHA_NAMES = ("巴彦敖包嘎查", "伊和乌拉嘎查", "查干淖尔嘎查", "宝音图嘎查", "额很乌苏嘎查", "乌兰嘎查", "希热嘎查")
ZONE_TYPES = ("农业区", "牧业区", "农牧交错区", "生态保护区")


def _prov(what: str) -> str:
    from erenhot.samplekit import _SYN_TEXT

    return f"{_SYN_TEXT} (kitparts.agriculture: {what})"


def build(kit) -> None:
    import geopandas as gpd
    import shapely
    from shapely.geometry import Point

    from erenhot.samplekit import _RURAL, _URBAN, TOWNSHIPS, _multi, _polys, _shapefile_zip, _write_xlsx

    crs = "EPSG:4525"
    dltb = kit.dltb_gdf
    names = dict(TOWNSHIPS)
    sx, sy = kit.seat

    # ── 18-01 苏木嘎查基本情况 ──────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 1)
    rows = []
    places = [(_RURAL, GACHA_NAMES[i % len(GACHA_NAMES)], g) for i, g in enumerate(kit.gacha)]
    places.append((_URBAN, "城郊牧户（社区）", (sx + 6000.0, sy - 4000.0)))
    for town, gname, (gx, gy) in places:
        suburban = town == _URBAN
        hs = int(rng.integers(25, 60) if suburban else rng.integers(90, 220))
        rk = int(hs * rng.uniform(2.6, 3.2))
        cz = int(rk * rng.uniform(0.45, 0.75))
        cz15 = int(cz * rng.uniform(0.95, 1.45))
        scale = 0.15 if suburban else 1.0
        herd = [int(scale * rng.uniform(a, b)) for a, b in ((350, 900), (60, 220), (80, 420), (5000, 9500), (1200, 3200))]
        p = kit.lonlat(Point(gx, gy))
        rows.append([town, names[town], gname, round(p.x, 6), round(p.y, 6), hs, rk, cz, cz15, *herd, 2020])
    header = ["XZQDM", "XZQMC", "GCMC", "经度", "纬度", "HS", "HJRK", "CZRK", "CZRK2015",
              "NIU", "MA", "LUOTUO", "MIANYANG", "SHANYANG", "TJND"]
    _write_xlsx(kit.dir("18-01") / "gacha.xlsx", "嘎查基本情况", header, rows,
                title="苏木嘎查基本情况（户数、人口、牲畜年末存栏）(synthetic)",
                description="synthetic sample delivery of erenhot.samplekit (kitparts.agriculture)")
    kit.add("18-01", ["gacha.xlsx"], True,
            _prov(f"{len(rows)} rows: the kit's {len(kit.gacha)} 嘎查 centres of 格日勒敖都苏木 and the 城郊牧户 of "
                  "社区建设管理局; livestock heads drawn in desert-steppe ranges (≈15,000 羊单位 per 嘎查)"))

    # ── 01-40 耕地质量等别 ─────────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 2)
    crop = dltb[dltb["DLBM"].isin(CROPLAND)].reset_index(drop=True)
    zrd = rng.integers(11, 15, len(crop))
    lyd = np.minimum(zrd + rng.integers(0, 2, len(crop)), 15)
    jjd = np.minimum(lyd + rng.integers(0, 2, len(crop)), 15)
    grade = gpd.GeoDataFrame({"DLBM": list(crop["DLBM"]), "ZRD": zrd.astype(int), "LYD": lyd.astype(int),
                              "JJD": jjd.astype(int), "MJ": np.round(crop.geometry.area / 1e4, 2), "PDND": ["2020"] * len(crop)},
                             geometry=[_multi(g) for g in crop.geometry], crs=crs)
    _shapefile_zip(kit.dir("01-40") / "cropland_grade.zip", "cropland_grade", grade,
                   title="耕地质量等别更新评价成果 (synthetic)",
                   note="polygons EPSG:4525; DLBM 三调地类, ZRD 国家自然等, LYD 国家利用等, JJD 国家经济等 (1 best – 15 worst), MJ 公顷")
    kit.add("01-40", ["cropland_grade.zip"], True,
            _prov(f"{len(grade)} cropland parcels of the DLTB with national 自然等/利用等/经济等 11–15"))

    # ── 04-11 农牧业区划 ──────────────────────────────────────────────────────────────────
    city = kit.city
    wet = shapely.union_all(dltb[dltb["DLBM"].isin(["1102", "1106"])].geometry.values).buffer(500.0).intersection(city)
    suburb = Point(sx, sy).buffer(12000.0, quad_segs=32).intersection(city).difference(wet)
    rest = city.difference(suburb).difference(wet)
    xmin, _ymin, xmax, _ymax = city.bounds
    north = rest.intersection(shapely.box(xmin - 1, sy, xmax + 1, city.bounds[3] + 1))
    south = rest.difference(north)
    units = [("城郊设施农牧业区", "农牧交错区", suburb), ("北部荒漠草原畜牧业区", "牧业区", north),
             ("南部荒漠草原畜牧业区", "牧业区", south), ("盐湖湿地生态保护区", "生态保护区", wet)]
    zrows = []
    for name, kind, g in units:
        parts = [p for p in _polys(shapely.make_valid(shapely.set_precision(g, 0.01))) if p.area >= 1e4]
        if parts:
            zrows.append((name, kind, _multi(shapely.union_all(parts))))
    zoning = gpd.GeoDataFrame({"QHMC": [r[0] for r in zrows], "QHLX": [r[1] for r in zrows],
                               "MJ": [round(r[2].area / 1e4, 2) for r in zrows]},
                              geometry=[r[2] for r in zrows], crs=crs)
    _shapefile_zip(kit.dir("04-11") / "agri_zoning.zip", "agri_zoning", zoning, title="农牧业区划 (synthetic)",
                   note="polygons EPSG:4525; QHMC 区划名称, QHLX 区划类型 (农业区/牧业区/农牧交错区/生态保护区), MJ 公顷")
    kit.add("04-11", ["agri_zoning.zip"], True,
            _prov(f"{len(zoning)} 区划 units: 12 km 城郊 ring around the seat, north/south steppe, DLTB salt lakes + 500 m"))
