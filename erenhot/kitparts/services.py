"""Sample deliveries of topic 8 (魅力特色发展与高品质生活塑造): public-service facilities and the
城市品质提升指标, synthetic but plausible for Erenhot (≈75,000 residents, almost all in the city seat).

* ``14-01`` 卫生设施 (卫生健康委员会) — ``卫生设施.xlsx``: one row per facility with lon/lat
  (CGCS2000 degrees): 医院, 妇幼保健院, 疾控中心, 社区卫生服务中心 in the city seat and the 边合区, the
  苏木 卫生院 and a 卫生室 at each 嘎查 of ``18-01`` (or at the kit's 嘎查 points); 床位 ``beds``, 人员 ``staff``;
* ``14-02`` 公共服务设施 — ``公共服务设施.xlsx``: 文化 / 体育 / 养老 / 社区服务 facilities with
  建筑或场地面积 ``area_m2`` and 养老床位 ``beds`` (0 for the others);
* ``15-01`` 教育设施 (教育科技局) — ``教育设施.xlsx``: 幼儿园 / 小学 / 初中 / 高中 / 职业学校 with 学位
  ``seats`` and 在校生 ``students``; the pastoral pupils board in the city, so the 苏木 has a
  kindergarten only;
* ``08-07.quality`` 城市品质提升指标 (住房和城乡建设局, added under the catch-all 08-07) —
  ``城市品质提升指标.xlsx``: indicator, year, 现状/目标, value, unit. The reported 城市建成区绿地率 is the
  三调 0810 share of the kit's 城镇 land (CZCSXM 201) plus 2–4 points (the statistical 建成区 counts
  附属绿地 the 三调 files under other classes), so the composer's derived figure differs, as it would.

Urban facilities sit on 城镇 parcels (CZCSXM 201) of the kit's DLTB near the city seat.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DATASETS = ("08-07.quality", "14-01", "14-02", "15-01")

_SEED = 8000  # kit.rng(_SEED, k): this part's generators
_YEAR = 2020


def _prov(what: str) -> str:
    from erenhot.samplekit import _SYN_TEXT

    return f"{_SYN_TEXT} (kitparts.services: {what})"


def _urban_area(kit, township: str, radius_m: float):
    """城镇 parcels (CZCSXM 201) of ``township`` within ``radius_m`` of the seat (the 边合区: all of them)."""
    import shapely
    from shapely.geometry import Point

    gdf = kit.dltb_gdf
    sel = gdf[(gdf["CZCSXM"] == "201") & gdf["ZLDWDM"].str.startswith(township)]
    area = shapely.union_all(sel.geometry.values) if len(sel) else kit.township[township]
    if radius_m:
        near = area.intersection(Point(kit.seat).buffer(radius_m))
        area = near if near.area > 1e5 else area
    return area.buffer(-20.0) if area.buffer(-20.0).area > 1e4 else area


def _rural_places(kit) -> list[tuple[str, float, float]]:
    """(嘎查 name, x, y) from the 18-01 delivery of the agriculture part, else the kit's 嘎查 points."""
    from erenhot.samplekit import _RURAL

    path = kit.dir("18-01") / "gacha.xlsx"
    if path.exists():
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        head = [str(h) for h in rows[0]]
        out = []
        for r in rows[1:]:
            d = dict(zip(head, r))
            if r and str(d.get("XZQDM")) == _RURAL and d.get("经度") is not None:
                x, y = kit.proj.xy(float(d["经度"]), float(d["纬度"]))
                out.append((str(d["GCMC"]), x, y))
        if out:
            return out
    return [(f"嘎查{i}", float(x), float(y)) for i, (x, y) in enumerate(kit.gacha, start=1)]


def _ll(kit, x: float, y: float) -> tuple[float, float]:
    lon, lat = kit.proj._inv.transform(x, y)
    return round(float(lon), 5), round(float(lat), 5)


def _points(kit, area, rng, n: int) -> np.ndarray:
    from erenhot.samplekit import _sample_points

    return _sample_points(area, rng, n)


def build(kit) -> None:
    """Write 14-01, 14-02, 15-01 and 08-07.quality (after the base kit: uses its DLTB and 嘎查)."""
    from erenhot.samplekit import _URBAN, _ZONE, _write_xlsx

    core = _urban_area(kit, _URBAN, 4500.0)
    zone = _urban_area(kit, _ZONE, 0.0)
    sx, sy = kit.sumu
    rural = _rural_places(kit)

    # ── 14-01 卫生设施 ────────────────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 1)
    health: list[list[Any]] = []
    for (name, typ, beds, staff), (x, y) in zip(
            [("二连浩特市医院", "医院", 300, 420), ("二连浩特市蒙医医院", "医院", 120, 160),
             ("二连浩特市妇幼保健院", "妇幼保健院", 40, 70), ("二连浩特市疾病预防控制中心", "疾控中心", 0, 45),
             *[(f"{n}社区卫生服务中心", "社区卫生服务中心", 10, 25) for n in ("北", "南", "西")]],
            _points(kit, core, rng, 7)):
        health.append([name, typ, *_ll(kit, x, y), beds, staff, _YEAR])
    for x, y in _points(kit, zone, rng, 1):
        health.append(["边合区社区卫生服务中心", "社区卫生服务中心", *_ll(kit, x, y), 8, 15, _YEAR])
    health.append(["格日勒敖都苏木卫生院", "卫生院", *_ll(kit, sx + 150.0, sy + 80.0), 10, 14, _YEAR])
    for name, x, y in rural:
        health.append([f"{name}卫生室", "卫生室", *_ll(kit, x + 60.0, y - 40.0), 0, int(rng.integers(1, 3)), _YEAR])
    _write_xlsx(kit.dir("14-01") / "卫生设施.xlsx", "卫生设施",
                ["name", "type", "lon", "lat", "beds", "staff", "year"], health,
                title="全市卫生设施、医院、疾病防控基础数据 (synthetic)",
                description=_prov("one row per facility; lon/lat CGCS2000 degrees; beds 床位, staff 人员"))
    kit.add("14-01", ["卫生设施.xlsx"], True, _prov(f"{len(health)} health facilities with lon/lat, beds and staff, {_YEAR}"))

    # ── 14-02 公共服务设施 ────────────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 2)
    public: list[list[Any]] = []
    urban_rows = [("二连浩特市文化馆", "文化", 4800, 0), ("二连浩特市图书馆", "文化", 3600, 0),
                  ("二连浩特市恐龙博物馆", "文化", 6200, 0), ("二连浩特市体育馆", "体育", 9800, 0),
                  ("全民健身中心", "体育", 12000, 0), ("二连浩特市社会福利院", "养老", 8500, 200),
                  ("北区老年人日间照料中心", "养老", 900, 20), ("南区老年人日间照料中心", "养老", 800, 20),
                  *[(f"{n}社区文化活动站", "文化", 300, 0) for n in ("北", "南", "西")],
                  *[(f"{n}社区健身广场", "体育", 2500, 0) for n in ("北", "南", "西", "东")],
                  *[(f"{n}社区服务中心", "社区服务", 600, 0) for n in ("北", "南", "西")]]
    for (name, typ, area, beds), (x, y) in zip(urban_rows, _points(kit, core, rng, len(urban_rows))):
        public.append([name, typ, *_ll(kit, x, y), area, beds, _YEAR])
    for (name, typ, area, beds), (x, y) in zip([("边合区文体活动中心", "体育", 3000, 0), ("边合区社区服务中心", "社区服务", 500, 0)],
                                               _points(kit, zone, rng, 2)):
        public.append([name, typ, *_ll(kit, x, y), area, beds, _YEAR])
    public += [["格日勒敖都苏木综合文化站", "文化", *_ll(kit, sx - 120.0, sy + 60.0), 400, 0, _YEAR],
               ["格日勒敖都苏木敬老院", "养老", *_ll(kit, sx + 90.0, sy - 140.0), 1200, 30, _YEAR],
               ["格日勒敖都苏木体育场地", "体育", *_ll(kit, sx - 60.0, sy - 90.0), 3000, 0, _YEAR]]
    _write_xlsx(kit.dir("14-02") / "公共服务设施.xlsx", "公共服务设施",
                ["name", "type", "lon", "lat", "area_m2", "beds", "year"], public,
                title="全市公共服务设施建设基本情况 (synthetic)",
                description=_prov("one row per facility; lon/lat CGCS2000 degrees; area_m2 建筑或场地面积, beds 养老床位"))
    kit.add("14-02", ["公共服务设施.xlsx"], True, _prov(f"{len(public)} 文化/体育/养老/社区服务 facilities with lon/lat, {_YEAR}"))

    # ── 15-01 教育设施 ────────────────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 3)
    schools = [*[(f"二连浩特市第{k}幼儿园", "幼儿园", 360) for k in "一二三四五"],
               *[(f"二连浩特市第{k}小学", "小学", 1500) for k in "一二三"],
               ("二连浩特市蒙古族学校", "小学", 900), ("二连浩特市第一中学（初中部）", "初中", 1200),
               ("二连浩特市第二中学", "初中", 1000), ("二连浩特市第一中学（高中部）", "高中", 1200),
               ("二连浩特市职业中学", "职业学校", 600)]
    edu: list[list[Any]] = []
    for (name, typ, seats), (x, y) in zip(schools, _points(kit, core, rng, len(schools))):
        edu.append([name, typ, *_ll(kit, x, y), seats, int(seats * rng.uniform(0.72, 0.98)), _YEAR])
    for (name, typ, seats), (x, y) in zip([("边合区幼儿园", "幼儿园", 180), ("边合区小学", "小学", 540)], _points(kit, zone, rng, 2)):
        edu.append([name, typ, *_ll(kit, x, y), seats, int(seats * rng.uniform(0.6, 0.9)), _YEAR])
    edu.append(["格日勒敖都苏木幼儿园", "幼儿园", *_ll(kit, sx + 40.0, sy + 160.0), 60, 31, _YEAR])
    _write_xlsx(kit.dir("15-01") / "教育设施.xlsx", "教育设施",
                ["name", "type", "lon", "lat", "seats", "students", "year"], edu,
                title="全市教育设施建设基本情况 (synthetic)",
                description=_prov("one row per school; lon/lat CGCS2000 degrees; seats 学位, students 在校生"))
    kit.add("15-01", ["教育设施.xlsx"], True, _prov(f"{len(edu)} schools and kindergartens with lon/lat, seats and pupils, {_YEAR}"))

    # ── 08-07.quality 城市品质提升指标 ─────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 4)
    gdf = kit.dltb_gdf
    urban = gdf[gdf["CZCSXM"].isin(["201", "202"])]
    ua = float(urban.geometry.area.sum())
    green = float(urban[urban["DLBM"] == "0810"].geometry.area.sum())
    now_green = round((green / ua * 100.0 if ua else 30.0) + float(rng.uniform(2.0, 4.0)), 1)
    rows = [["城乡污水处理率", 2020, "现状", 93.5, "%"], ["城乡污水处理率", 2025, "目标", 96.0, "%"],
            ["城乡污水处理率", 2035, "目标", 98.0, "%"],
            ["城市建成区绿地率", 2020, "现状", now_green, "%"], ["城市建成区绿地率", 2025, "目标", round(now_green + 2.5, 1), "%"],
            ["城市建成区绿地率", 2035, "目标", round(now_green + 6.0, 1), "%"],
            ["乡村基本公共服务设施占比", 2020, "现状", 80.0, "%"], ["乡村基本公共服务设施占比", 2025, "目标", 90.0, "%"],
            ["乡村基本公共服务设施占比", 2035, "目标", 100.0, "%"],
            ["工业园区污水废物处理设施用地比例", 2020, "现状", 2.8, "%"], ["工业园区污水废物处理设施用地比例", 2025, "目标", 4.0, "%"],
            ["工业园区污水废物处理设施用地比例", 2035, "目标", 5.0, "%"],
            ["城市生活垃圾无害化处理率", 2020, "现状", 100.0, "%"], ["城市生活垃圾无害化处理率", 2035, "目标", 100.0, "%"]]
    _write_xlsx(kit.dir("08-07.quality") / "城市品质提升指标.xlsx", "品质指标",
                ["indicator", "year", "kind", "value", "unit"], rows,
                title="城市品质提升指标（现状与自治区分解目标）(synthetic)",
                description=_prov("indicator, year, kind 现状/目标, value, unit"))
    kit.add("08-07.quality", ["城市品质提升指标.xlsx"], True,
            _prov(f"{len(rows)} indicator rows (现状 {_YEAR}, 目标 2025/2035); 建成区绿地率 = 三调 0810 share of 城镇 land + 2–4 points"))
