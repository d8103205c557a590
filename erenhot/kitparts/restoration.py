"""Sample deliveries of topic 7 国土综合整治与生态保护修复研究 (mines and land consolidation), synthetic.

Datasets (docs/deliveries.md, "Topic 7"):

* ``01-29`` 矿山地质环境监测 — ``矿山地质环境.zip`` (shapefile, GBK, EPSG:4490 lon/lat): one 矿区范围
  polygon per mine — the kit's four mining sites (``kit.mines``, the 0602 parcels of the DLTB and the
  enriched soil samples of 03-06) plus two abandoned quarries beside the graded roads — with 矿种
  ``KZ``, 开采状态 ``KCZT``, main problem ``WTLX``, severity ``YZCD`` and remediation state ``ZLZT``.
* ``01-34`` 采矿塌陷区 — ``采矿塌陷区.zip`` (shapefile, GBK, EPSG:4525): subsidence basins beside the
  underground mines (``TXCD`` 轻度/中度/重度).
* ``01-36`` 矿山固体废弃物占用破坏土地 — ``矿山固废占地.zip`` (shapefile, GBK, EPSG:4525): waste dumps,
  waste-rock heaps and a tailings pond beside the mines (``FQLX``, occupied land class ``ZYDL``).
* ``01-39`` 土地整治规划 — ``土地整治规划.zip`` (shapefile, GBK, EPSG:4490): the planned projects of a
  土地整治规划 (2016—2020): 土地复垦 of the abandoned/stopped mines, 土地整理 and 高标准农田建设 of the
  small fields near the city, 生态修复 (沙化土地治理) of two severely sandy patches.

Everything is deterministic from the kit seed (``kit.rng(700 + k)``) and synthetic (provenance says so).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from erenhot.samplekit import _RURAL, _SYN_TEXT, _URBAN, _blob, _multi, _polys, _sample_points, _shapefile_zip

DATASETS = ("01-29", "01-34", "01-36", "01-39")

#: per kit mine: (name, 矿种, 开采状态, main problem, severity, remediation state, underground?)
MINES = (
    ("格日勒敖都铅锌矿", "铅锌矿", "生产", "采矿塌陷", "严重", "治理中", True),
    ("北部铁矿", "铁矿", "生产", "固体废弃物压占", "较严重", "未治理", False),
    ("西部建筑用砂石矿", "建筑用砂石", "停产", "地形地貌景观破坏", "较严重", "未治理", False),
    ("南部水泥用灰岩矿", "水泥用灰岩", "闭坑", "土地损毁", "一般", "已治理", True),
)
QUARRIES = (("废弃花岗岩采石场一", "建筑石料用花岗岩", "严重"), ("废弃花岗岩采石场二", "建筑石料用花岗岩", "较严重"))


def _township(kit, geom) -> str:
    c = geom.representative_point()
    for code, poly in kit.township.items():
        if poly.contains(c):
            return code
    return _RURAL


def _mines(kit) -> list[dict[str, Any]]:
    """The six mines in EPSG:4525 (the kit's four + two abandoned quarries near the roads)."""
    import shapely

    city = kit.city
    out = []
    rng = kit.rng(701)
    for k, ((mx, my), (name, kz, state, problem, sev, status, under)) in enumerate(zip(kit.mines, MINES, strict=False)):
        r = float(rng.uniform(1000.0, 1400.0))
        g = _blob(mx, my, r, rng.uniform(0.05, 0.12, 3), rng.uniform(0, 2 * math.pi, 3), n=64).intersection(city)
        out.append({"k": k, "xy": (mx, my), "r": r, "geom": g, "KSMC": name, "KZ": kz, "KCZT": state, "WTLX": problem,
                    "YZCD": sev, "ZLZT": status, "under": under})
    roads = shapely.union_all([ln for ln, dldj, _n, _w in kit.roads if dldj != "城市道路"])
    rural = kit.township[_RURAL].buffer(-2000.0)
    taken = shapely.union_all([m["geom"].buffer(5000.0) for m in out] + [kit.township[_URBAN].buffer(8000.0)])
    near = roads.buffer(2500.0).difference(roads.buffer(800.0)).intersection(rural).difference(taken)
    pts = _sample_points(near, kit.rng(702), 8)
    chosen: list[tuple[float, float]] = []
    for x, y in pts:  # two quarries at least 15 km apart
        if all(math.hypot(x - a, y - b) > 15000.0 for a, b in chosen):
            chosen.append((float(x), float(y)))
        if len(chosen) == len(QUARRIES):
            break
    for j, ((qx, qy), (name, kz, sev)) in enumerate(zip(chosen, QUARRIES, strict=False)):
        r = float(rng.uniform(350.0, 550.0))
        g = _blob(qx, qy, r, rng.uniform(0.05, 0.15, 3), rng.uniform(0, 2 * math.pi, 3), n=48).intersection(city)
        out.append({"k": len(MINES) + j, "xy": (qx, qy), "r": r, "geom": g, "KSMC": name, "KZ": kz, "KCZT": "废弃",
                    "WTLX": "地形地貌景观破坏", "YZCD": sev, "ZLZT": "未治理", "under": False})
    for i, m in enumerate(out, start=1):
        m["KSBH"] = f"KS152501{i:03d}"
    return out


def _offset_blob(rng, m, dist_f: float, r_lo: float, r_hi: float, city, n: int = 40):
    ang = float(rng.uniform(0, 2 * math.pi))
    d = m["r"] * dist_f
    cx, cy = m["xy"][0] + d * math.cos(ang), m["xy"][1] + d * math.sin(ang)
    return _blob(cx, cy, float(rng.uniform(r_lo, r_hi)), rng.uniform(0.05, 0.15, 3), rng.uniform(0, 2 * math.pi, 3),
                 n=n).intersection(city)


def _write(kit, ds: str, fname: str, layer: str, rows: list[dict[str, Any]], geoms: list, crs: str, title: str,
           note: str, prov: str) -> None:
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(rows, geometry=[_multi(g) for g in geoms], crs=crs)
    _shapefile_zip(kit.dir(ds) / fname, layer, gdf, title=title, note=note)
    kit.add(ds, [fname], True, _SYN_TEXT + prov)


def _severe_sand(kit):
    """Two severely sandy patches (the same sand score as the kit's 01-16, top 6 %), ≤ 4 km across."""
    import shapely

    X, Y, tr = kit._lattice(500.0)
    s = kit.land.sample(X, Y)
    q = s["sand"] - 1.5 * s["fvc"]
    inside = shapely.contains_xy(kit.city, X, Y)
    [reg] = kit._regions(q, tr, [float(np.quantile(q[inside], 0.94))])
    parts = sorted([p for p in _polys(reg) if p.area > 2e6], key=lambda p: (-round(p.area), round(p.centroid.x)))
    out = []
    for p in parts[:2]:
        c = p.representative_point()
        out.append(p.intersection(c.buffer(2000.0)).intersection(kit.city))
    return out


def build(kit) -> None:
    """Write the four deliveries of topic 7 (see the module docstring)."""
    import shapely

    city = kit.city
    mines = _mines(kit)
    # 01-29 矿山地质环境监测
    rows = [{"KSBH": m["KSBH"], "KSMC": m["KSMC"], "KZ": m["KZ"], "KCZT": m["KCZT"], "WTLX": m["WTLX"],
             "YZCD": m["YZCD"], "ZLZT": m["ZLZT"], "XZQDM": _township(kit, m["geom"]), "JCND": 2019,
             "MJ": round(m["geom"].area / 1e4, 2)} for m in mines]
    _write(kit, "01-29", "矿山地质环境.zip", "矿山地质环境", rows, [kit.lonlat(m["geom"]) for m in mines], "EPSG:4490",
           "矿山地质环境监测成果 (synthetic)",
           "polygons EPSG:4490 lon/lat; 矿区范围; KZ 矿种; KCZT 开采状态; WTLX 主要矿山地质环境问题; YZCD 严重程度; "
           "ZLZT 治理状态; MJ 公顷",
           f" ({len(mines)} mines: the kit's four mining sites and two abandoned quarries beside the roads; shapefile "
           "EPSG:4490, GBK DBF without .cpg)")
    # 01-34 采矿塌陷区
    rng = kit.rng(703)
    rows, geoms = [], []
    for m in mines:
        if not m["under"]:
            continue
        degrees = ("重度", "中度") if m["KCZT"] != "闭坑" else ("轻度",)
        for deg in degrees:
            g = _offset_blob(rng, m, 0.45, 250.0, 450.0, city)
            geoms.append(g)
            rows.append({"TXBH": f"TX{len(rows) + 1:03d}", "KSBH": m["KSBH"], "TXCD": deg,
                         "ZLZT": "已治理" if m["ZLZT"] == "已治理" else "未治理",
                         "XZQDM": _township(kit, g), "MJ": round(g.area / 1e4, 2)})
    _write(kit, "01-34", "采矿塌陷区.zip", "采矿塌陷区", rows, geoms, "EPSG:4525", "采矿塌陷区 (synthetic)",
           "polygons EPSG:4525; TXCD 塌陷程度; ZLZT 治理状态; MJ 公顷",
           f" ({len(rows)} subsidence basins beside the underground mines; shapefile EPSG:4525, GBK)")
    # 01-36 矿山固体废弃物占用破坏土地
    rng = kit.rng(704)
    kinds = {1: ("尾矿库",), 2: ("排土场", "废石堆"), 3: ("废石堆",), 5: ("废石堆",)}  # by KSBH sequence
    rows, geoms = [], []
    for i, m in enumerate(mines, start=1):
        for kind in kinds.get(i, ()):
            g = _offset_blob(rng, m, 1.0, 200.0, 380.0, city)
            geoms.append(g)
            rows.append({"FQBH": f"GF{len(rows) + 1:03d}", "KSBH": m["KSBH"], "FQLX": kind, "ZYDL": "天然牧草地",
                         "ZLZT": "治理中" if m["ZLZT"] == "治理中" else "未治理",
                         "XZQDM": _township(kit, g), "MJ": round(g.area / 1e4, 2)})
    _write(kit, "01-36", "矿山固废占地.zip", "矿山固废占地", rows, geoms, "EPSG:4525",
           "矿山固体废弃物占用破坏土地 (synthetic)",
           "polygons EPSG:4525; FQLX 固废类型; ZYDL 占用地类; ZLZT 治理状态; MJ 公顷",
           f" ({len(rows)} waste dumps / heaps / a tailings pond beside the mines; shapefile EPSG:4525, GBK)")
    # 01-39 土地整治规划
    projects: list[tuple[str, str, Any]] = []  # (XMLX, name, geometry)
    for m in mines:
        if m["KCZT"] in ("停产", "废弃"):
            projects.append(("土地复垦", f"{m['KSMC']}损毁土地复垦项目", m["geom"]))
    dltb = kit.dltb_gdf
    fields = dltb[dltb["DLBM"].astype(str).str.startswith("01")]
    if len(fields):
        fgeom = shapely.union_all(fields.geometry.values).buffer(150.0)
        for j, p in enumerate(sorted(_polys(fgeom), key=lambda p: (round(p.centroid.x), round(p.centroid.y)))[:4]):
            kind = "高标准农田建设" if j == 0 else "土地整理"
            projects.append((kind, f"城郊{kind}项目{j + 1}", p.intersection(city)))
    for j, p in enumerate(_severe_sand(kit), start=1):
        projects.append(("生态修复", f"沙化土地综合治理项目{j}", p))
    projects = [(t, n, g) for t, n, g in projects if not g.is_empty and g.area > 1e4]
    rows = [{"XMBH": f"TDZZ{i:03d}", "XMMC": n, "XMLX": t, "XZQDM": _township(kit, g), "GHNF": 2018 + (i % 3),
             "GHQ": "2016—2020", "MJ": round(g.area / 1e4, 2)} for i, (t, n, g) in enumerate(projects, start=1)]
    _write(kit, "01-39", "土地整治规划.zip", "土地整治规划", rows, [kit.lonlat(g) for _t, _n, g in projects], "EPSG:4490",
           "二连浩特市土地整治规划（2016—2020年）项目布局 (synthetic)",
           "polygons EPSG:4490 lon/lat; XMLX 项目类型; GHNF 计划实施年度; GHQ 规划期; MJ 建设规模 公顷",
           f" ({len(rows)} planned projects: 土地复垦 of stopped/abandoned mines, 土地整理/高标准农田 of the fields near "
           "the city, 生态修复 of two severely sandy patches; shapefile EPSG:4490, GBK DBF without .cpg)")
