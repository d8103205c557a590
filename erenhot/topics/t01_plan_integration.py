"""T01 二连浩特市现行各类国土空间规划一体化评估 — integrated evaluation of the current plans (lead 自然资源局).

Reads only deliveries (no upstream layer): the old plans — 土地利用总体规划（2009—2020年）数据库
(01-46a.tdlyztgh: 土地用途区 TDYTQ, 建设用地管制区 JSYDGZQ), 城市总体规划 用地规划图 (08-07.csztgh, GB
50137-2011 codes), 林地保护利用规划 (01-05), 主体功能区规划 乡级主体功能定位 (02-10.ztgnq) — the control
lines and zonings (生态保护红线 01-47, 自然保护地 01-07, 生态环境管控 01-46b, 生态功能区划 03-02, 土地整治
规划 01-39), the present land use (三调 01-46a.dltb), the plans' indicator tables (01-46a.ghzb), the
resident population (10-02, for 人均 indicators) and the boundaries (01-04). Computes with
:mod:`erenhot.evaluation.plan_integration`, every rule from ``erenhot/config/t01_plan_integration.yaml``:

* 多规差异 (spec §5.8): the pairwise overlay of the plan layers by the conflict-rule table
  ``conflicts.rules`` (layer A classes × layer B classes → conflict type, severity, source) → the
  conflict patches ``t01.plan_conflicts`` (GeoParquet EPSG:4525, areas m²) and their areas by township
  × type ``t01.conflict_area`` (hm²);
* 规划实施评估: planned construction zones of each plan (``implementation.plans``) against the 三调
  城乡建设用地 — planned, built, built inside/outside, 实施率, 规划符合率 by township →
  ``t01.implementation_review``;
* 指标体系评估: the old plans' indicators side by side (01-46a.ghzb), each with a stable key
  (``indicators.keys``), its present value computed from the 三调 where it can be
  (``indicators.present``) and the gap → ``t01.indicator_system``.

Maps are drawn from the vectors burnt on a grid of ``maps.cell_size_m`` over the city (T01 has no
upstream raster); the tables hold the exact vector areas.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot.catalog import Catalog
from erenhot.evaluation import plan_integration as pi
from erenhot.grid import Grid, boundary_mask, rasterize
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records
from erenhot.topics.inputs import TopicInputs

CODE = "t01"
CONFIG = "t01_plan_integration"
#: qualitative colours of the conflict types (rule order; presentation only)
TYPE_COLOURS = ("#d7191c", "#b2182b", "#e66101", "#fdae61", "#fee08b", "#762a83", "#8c510a", "#1a9850", "#66bd63",
                "#a6d96a", "#5e3c99", "#f46d43", "#2c7bb6", "#abd9e9", "#999999", "#4d4d4d")
IMPL_LABELS = {1: "规划内已建设", 2: "规划内未建设", 3: "规划外建设"}
IMPL_COLOURS = {1: "#e31a1c", 2: "#fdbf6f", 3: "#6a3d9a"}


def expand_classes(patterns: list[str] | tuple[str, ...], class_sets: dict[str, list[str]]) -> tuple[str, ...]:
    """Replace ``"@name"`` entries of a class list by the list ``classes.<name>`` of the configuration.

    Raises:
        ValueError: an ``@name`` that the configuration does not define.
    """
    out: list[str] = []
    for p in patterns:
        p = str(p)
        if p.startswith("@"):
            if p[1:] not in class_sets:
                raise ValueError(f"t01 configuration: class set {p!r} is not defined under 'classes' ({sorted(class_sets)})")
            out.extend(str(c) for c in class_sets[p[1:]])
        else:
            out.append(p)
    return tuple(out)


def plan_layers(inputs: TopicInputs, catalog: Catalog, specs: dict[str, dict[str, Any]], townships: gpd.GeoDataFrame,
                notes: list[str]) -> dict[str, gpd.GeoDataFrame]:
    """The plan layers (``cls`` + polygons, EPSG:4525) of the delivered datasets, keyed as in config ``layers``.

    A dataset whose delivery contract has no geometry (02-10.ztgnq) is a table joined to the townships
    by ``XZQDM``. A dataset that is not delivered is left out (a note says so).

    Raises:
        ValueError: a delivered layer lacks its class field (names dataset, part and field).
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for key, spec in specs.items():
        ds, part, field = spec["dataset"], spec.get("part"), spec["field"]
        if not inputs.has(ds):
            notes.append(f"{spec['name_zh']} ({ds}) is not delivered: the conflict rules on layer '{key}' are skipped.")
            continue
        if (catalog.dataset(ds).delivery or {}).get("geometry") != "none":
            gdf = inputs.vector(ds, part)
        else:  # a table (no geometry): join to the townships
            table = inputs.table(ds, part)
            if "XZQDM" not in table.columns:
                raise ValueError(f"t01: dataset {ds} part {part} has neither geometry nor an XZQDM column") from None
            table = table.assign(XZQDM=table["XZQDM"].astype(str))
            gdf = townships[["XZQDM", "geometry"]].merge(table, on="XZQDM", how="inner")
        if field not in gdf.columns:
            raise ValueError(f"t01: dataset {ds} part {part or '(single)'} has no field {field!r} (columns: {list(gdf.columns)})")
        gdf = gdf[gdf[field].notna()]
        out[key] = gpd.GeoDataFrame({"cls": gdf[field].astype(str).str.strip().to_numpy()},
                                    geometry=shapely.make_valid(gdf.geometry.to_numpy()), crs=gdf.crs).to_crs(pi.ANALYSIS_EPSG)
    return out


def _select(layer: gpd.GeoDataFrame, patterns: tuple[str, ...]) -> gpd.GeoDataFrame:
    keep = set(pi.classes_matching(layer["cls"].tolist(), patterns))
    return layer[layer["cls"].isin(keep)]


def present_value(spec: dict[str, Any], unit: str, layers: dict[str, gpd.GeoDataFrame], dltb: gpd.GeoDataFrame,
                  city_area_m2: float, population: dict[str, float], class_sets: dict[str, list[str]],
                  sandiao_year: int, pop_year: int | None) -> tuple[float, str, int | None]:
    """Present value of one indicator by its config rule ``indicators.present.<key>``.

    Methods: ``area`` (Σ 三调 parcel area of ``classes``, optionally only 城镇村属性码 ``czcsxm``, in
    ``unit``), ``share`` (that area / city area × 100, %), ``per_capita`` (area m² / population column
    of 10-02, m²/人), ``layer_area`` (area of a plan layer, in ``unit``), ``none`` (not derivable).

    Returns:
        ``(value, source, year)``; NaN value when it cannot be computed (the source says why).
    """
    method = spec.get("method", "none")
    if method == "none":
        return float("nan"), f"无法由现有资料计算: {spec.get('note', '')}", None
    if method == "layer_area":
        layer = layers.get(spec["layer"])
        if layer is None:
            return float("nan"), f"layer {spec['layer']} not delivered", None
        area = float(shapely.union_all(layer.geometry.to_numpy()).area)
        return pi.area_in_unit(area, unit), f"area of layer {spec['layer']}", None
    codes = set(expand_classes(spec["classes"], class_sets))
    sel = dltb[dltb["DLBM"].isin(codes)]
    if spec.get("czcsxm"):
        sel = sel[sel["CZCSXM"].astype(str).isin([str(c) for c in spec["czcsxm"]])]
    area = float(sel.geometry.area.sum())
    basis = f"三调 {sandiao_year} DLBM {len(codes)} codes" + (f", CZCSXM {list(spec['czcsxm'])}" if spec.get("czcsxm") else "")
    if method == "area":
        return pi.area_in_unit(area, unit), basis, sandiao_year
    if method == "share":
        return 100.0 * area / city_area_m2, basis + " / 市域面积 × 100", sandiao_year
    if method == "per_capita":
        col = spec.get("population", "resident_pop")
        pop = population.get(col, float("nan"))
        if not np.isfinite(pop) or pop <= 0:
            return float("nan"), f"10-02 {col} not delivered", None
        return area / pop, basis + f" / 10-02 {col} {pop_year} ({pop:,.0f} 人)", sandiao_year
    raise ValueError(f"t01 indicators.present: unknown method {method!r}")


def indicator_table(ghzb: pd.DataFrame, keys: dict[str, str], present: dict[str, dict[str, Any]], **kw: Any) -> pd.DataFrame:
    """The old plans' indicators with key, present value, gap and status (one row per plan and indicator).

    Raises:
        ValueError: 01-46a.ghzb lacks a column, or an area unit is unknown.
    """
    need = ["plan", "indicator", "unit", "base_year", "base_value", "target_year", "target_value", "nature"]
    missing = [c for c in need if c not in ghzb.columns]
    if missing:
        raise ValueError(f"t01: 01-46a.ghzb (规划指标) lacks column(s) {missing}")
    rows = []
    for r in ghzb.itertuples(index=False):
        name = str(r.indicator).strip()
        key = keys.get(name, f"other:{name}")
        spec = present.get(key, {"method": "none", "direction": "none", "note": "no present-value rule (indicators.present)"})
        try:
            value, source, year = present_value(spec, str(r.unit).strip(), **kw)
        except ValueError as exc:
            raise ValueError(f"t01: 01-46a.ghzb indicator {name!r} ({r.plan}): {exc}") from exc
        gap, status = pi.indicator_gap(value, float(r.target_value), spec.get("direction", "none"))
        rows.append({"key": key, "plan": str(r.plan), "indicator": name, "unit": str(r.unit), "nature": str(r.nature),
                     "base_year": int(r.base_year) if pd.notna(r.base_year) else None, "base_value": r.base_value,
                     "target_year": int(r.target_year), "target_value": float(r.target_value),
                     "present_year": year, "present_value": value, "present_source": source,
                     "direction": spec.get("direction", "none"), "gap": gap, "status": status})
    return pd.DataFrame(rows)


def _type_map(conflicts: gpd.GeoDataFrame, types: list[tuple[str, str]], order: list[str], grid: Grid,
              inside: np.ndarray) -> tuple[np.ndarray, dict[int, str], dict[int, str]]:
    codes = {t: i + 1 for i, (t, _s) in enumerate(types)}
    rank = {s: i for i, s in enumerate(order)}
    # burnt last = drawn on top: the most severe types, and within a severity the earlier rule
    g = conflicts.assign(code=conflicts["conflict_type"].map(codes),
                         rank=conflicts["severity"].map(lambda s: -rank.get(s, len(order))))
    g = g.assign(neg_code=-g["code"]).sort_values(["rank", "neg_code"])
    arr = rasterize(g, grid, value="code", dtype="uint8") if len(g) else np.zeros(grid.shape, "uint8")
    labels = {c: f"{t}（{s}）" for (t, s), c in zip(types, codes.values())}
    colours = {c: TYPE_COLOURS[(c - 1) % len(TYPE_COLOURS)] for c in codes.values()}
    return np.where(inside, arr, 0).astype(np.uint8), labels, colours


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T01 from the resolved inputs; publish the conflicts, tables, maps and the report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: a required input is not resolved (names it).
        ValueError: a delivery lacks a field the configuration names, or a rule is malformed.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    class_sets = {k: list(vals) for k, vals in v["classes"].items()}

    progress(0.05, "boundaries and plan layers")
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    townships["XZQDM"] = townships["XZQDM"].astype(str)
    tw_names = dict(zip(townships["XZQDM"], townships["XZQMC"].astype(str)))
    city_area_m2 = float(city.geometry.area.sum())
    dltb = inputs.vector("01-46a.dltb")
    dltb["DLBM"] = dltb["DLBM"].astype(str)
    if "CZCSXM" not in dltb.columns:
        dltb["CZCSXM"] = ""
    dltb["CZCSXM"] = dltb["CZCSXM"].fillna("").astype(str)
    specs = v["layers"]
    layers = plan_layers(inputs, catalog, specs, townships, notes)
    zh = {k: s["name_zh"] for k, s in specs.items()}

    progress(0.2, "多规差异 conflict overlay")
    rules = []
    for m in v["conflicts"]["rules"]:
        r = pi.ConflictRule.from_mapping(m)
        for lk in (r.layer_a, r.layer_b):
            if lk not in specs:
                raise ValueError(f"t01 conflicts.rules {r.conflict_type!r}: layer {lk!r} is not under 'layers' ({sorted(specs)})")
        rules.append(pi.ConflictRule(r.conflict_type, zh[r.layer_a], expand_classes(r.classes_a, class_sets), zh[r.layer_b],
                                     expand_classes(r.classes_b, class_sets), r.severity, r.source))
    skipped = [r.conflict_type for r in rules if r.layer_a not in {zh[k] for k in layers} or r.layer_b not in {zh[k] for k in layers}]
    if skipped:
        notes.append(f"conflict types not evaluated (a layer is not delivered): {', '.join(skipped)}.")
    by_zh = {zh[k]: g for k, g in layers.items()}
    conflicts = pi.conflict_overlay(by_zh, rules, townships, min_area_m2=float(v["conflicts"]["min_area_m2"]))
    types = [(r.conflict_type, r.severity) for r in rules if r.conflict_type not in skipped]
    area = pi.conflict_area_table(conflicts, tw_names, types)

    progress(0.5, "规划实施评估 implementation review")
    impl_frames, impl_geoms = [], {}
    for p in v["implementation"]["plans"]:
        parts = [_select(layers[s["layer"]], expand_classes(s["classes"], class_sets)) for s in p["planned"] if s["layer"] in layers]
        if not parts or p["actual_layer"] not in layers:
            notes.append(f"implementation review of {p['plan']}: a layer is not delivered, not evaluated.")
            continue
        planned = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=f"EPSG:{pi.ANALYSIS_EPSG}")
        actual = _select(layers[p["actual_layer"]], expand_classes(p["actual_classes"], class_sets))
        zones = townships
        if p.get("extent_layer"):
            if p["extent_layer"] not in layers:
                notes.append(f"implementation review of {p['plan']}: its extent layer {p['extent_layer']} is not delivered, not evaluated.")
                continue
            ext = shapely.union_all(layers[p["extent_layer"]].geometry.to_numpy())
            zones = townships.assign(geometry=townships.geometry.intersection(ext))
        t = pi.implementation_review(actual, planned, zones, tw_names)
        t.insert(0, "plan", p["plan"])
        impl_frames.append(t)
        impl_geoms[p["plan"]] = (planned, actual, zones)
    impl = pd.concat(impl_frames, ignore_index=True) if impl_frames else pd.DataFrame(
        columns=["plan", "xzqdm", "xzqmc", "planned_ha", "actual_ha", "actual_inside_ha", "actual_outside_ha",
                 "planned_unbuilt_ha", "implementation_rate", "conformity_rate"])

    progress(0.62, "指标体系 indicators")
    population: dict[str, float] = {}
    pop_year = None
    if inputs.has("10-02"):
        pop = inputs.table("10-02")
        pop["XZQDM"] = pop["XZQDM"].astype(str)
        city_code = str(city["XZQDM"].iloc[0]) if "XZQDM" in city.columns and len(city) else ""
        rows = pop[pop["XZQDM"] == city_code].sort_values("year")
        if not len(rows):
            notes.append(f"常住人口 (10-02) has no row for the city (XZQDM {city_code or '?'} of 01-04): "
                         "the 人均 indicators have no present value.")
        if len(rows):
            last = rows.iloc[-1]
            pop_year = int(last["year"])
            population = {c: float(last[c]) for c in ("resident_pop", "urban_pop") if c in rows.columns and pd.notna(last[c])}
    else:
        notes.append("常住人口 (10-02) not delivered: the 人均 indicators have no present value.")
    ghzb = inputs.table("01-46a.ghzb")
    indicators = indicator_table(ghzb, dict(v["indicators"]["keys"]), dict(v["indicators"]["present"]), layers=layers,
                                 dltb=dltb, city_area_m2=city_area_m2, population=population, class_sets=class_sets,
                                 sandiao_year=int(v["indicators"]["sandiao_year"]), pop_year=pop_year)
    unmapped = indicators[indicators["key"].str.startswith("other:")]["indicator"].tolist()
    if unmapped:
        notes.append(f"01-46a.ghzb indicators without a key in indicators.keys (kept as other:<name>): {', '.join(unmapped)}.")

    progress(0.72, "writing layers and tables")
    grid = Grid.for_geometry(city, float(v["maps"]["cell_size_m"]))
    inside = boundary_mask(city, grid)
    writer = LayerWriter(pub, topic, grid, city)
    writer.vector("t01.plan_conflicts", conflicts)
    writer.table("t01.conflict_area", "conflict_area", area, "多规差异面积 conflict area by township")
    writer.table("t01.implementation_review", "implementation_review", impl, "规划实施评估 implementation review")
    writer.table("t01.indicator_system", "indicator_system", indicators, "现行规划指标评估 indicators")
    layer_rows = []
    for k, g in layers.items():
        s = specs[k]
        a = g.assign(a=g.geometry.area).groupby("cls")["a"].sum().sort_values(ascending=False)
        layer_rows.append({"layer": s["name_zh"], "dataset": s["dataset"], "features": len(g), "classes": len(a),
                           "area_km2": round(float(shapely.union_all(g.geometry.to_numpy()).area) / 1e6, 2),
                           "largest_classes": "、".join(f"{c} {x / 1e6:,.1f} km²" for c, x in a.head(4).items())})
    layer_table = pd.DataFrame(layer_rows)
    writer.table(None, "plan_layers", layer_table, "现行规划图层 plan layers")

    progress(0.8, "maps")
    order = list(v["conflicts"]["severity_order"])
    classes, labels, colours = _type_map(conflicts, types, order, grid, inside)
    writer.class_map("t01.plan_conflicts", classes, labels, colours, thumbnail=True,
                     subtitle=f"{len(conflicts)} 个差异图斑（按乡镇拆分），严重者置顶")
    mp = v["implementation"]["map_plan"]
    if mp in impl_geoms:
        planned, actual, zones = impl_geoms[mp]
        plan_u = shapely.union_all(planned.geometry.to_numpy())
        act_u = shapely.union_all(actual.geometry.to_numpy())
        pieces = gpd.GeoDataFrame({"code": [2, 1, 3]}, geometry=[plan_u.difference(act_u), plan_u.intersection(act_u),
                                                                   act_u.difference(plan_u)], crs=f"EPSG:{pi.ANALYSIS_EPSG}")
        pieces = pieces[~pieces.geometry.is_empty]
        arr = rasterize(pieces, grid, value="code", dtype="uint8") if len(pieces) else np.zeros(grid.shape, "uint8")
        writer.class_map("t01.implementation_review", np.where(inside, arr, 0).astype(np.uint8), IMPL_LABELS, IMPL_COLOURS,
                         subtitle=f"{mp}：建设用地区与三调城乡建设用地")

    progress(0.9, "report")
    city_rows = area[area["xzqdm"] == ""]
    pivot = area[area["xzqdm"] != ""].pivot_table(index=["conflict_type", "severity"], columns="xzqmc", values="area_hm2",
                                                  aggfunc="sum", sort=False).reset_index()
    pivot = pivot.merge(city_rows[["conflict_type", "patches", "area_hm2"]].rename(
        columns={"patches": "图斑数", "area_hm2": "全市 hm²"}), on="conflict_type").round(2)
    impl_show = impl.assign(implementation_rate=impl["implementation_rate"] * 100, conformity_rate=impl["conformity_rate"] * 100).rename(
        columns={"implementation_rate": "实施率 %", "conformity_rate": "规划符合率 %"}).round(2)
    side = indicators.pivot_table(index=["key", "indicator", "unit"], columns="plan", values="target_value", aggfunc="first",
                                  sort=False).reset_index()
    pres = indicators.drop_duplicates("key").set_index("key")
    side["现状值 present"] = side["key"].map(pres["present_value"]).round(2)
    side["现状来源 source"] = side["key"].map(pres["present_source"])
    ind_show = indicators[["plan", "indicator", "unit", "nature", "base_year", "base_value", "target_year", "target_value",
                           "present_value", "gap", "status"]].round(2)
    severe = city_rows[city_rows["severity"] == order[0]]["area_hm2"].sum() if order else 0.0
    lu = impl[(impl["xzqdm"] == "")]
    figures = {
        "差异图斑 conflict patches": f"{len(conflicts)} ({conflicts['area_m2'].sum() / 1e4:,.1f} hm², types overlapping counted per type)",
        f"{order[0] if order else ''}差异面积": f"{severe:,.1f} hm²",
        **{f"实施率 {r.plan}": f"{100 * r.implementation_rate:.1f} %; 规划符合率 {100 * r.conformity_rate:.1f} %"
           for r in lu.itertuples() if np.isfinite(r.implementation_rate)},
        "指标达标 indicators met": f"{int((indicators['status'] == '达标').sum())} / {int(indicators['status'].isin(['达标', '未达标']).sum())}",
    }
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(k in f[1] for k in keys)]

    rule_table = pd.DataFrame([{"差异类型": r.conflict_type, "图层A": r.layer_a, "A类": "、".join(r.classes_a[:6]) + ("…" if len(r.classes_a) > 6 else ""),
                                "图层B": r.layer_b, "B类": "、".join(r.classes_b[:6]) + ("…" if len(r.classes_b) > 6 else ""),
                                "程度": r.severity, "依据": r.source} for r in rules])
    not_produced = [
        "国土空间总体规划指标体系（新体系）的提出 — proposing the new indicator system and its target values is a planners' "
        "judgement on the old indicators evaluated in section 4; this run evaluates, it does not propose.",
        "各类规划管制规则差异分析 — needs the plan texts (管制规则 of the 土规, 城规, 林地规划, 红线管控办法); the deliveries hold "
        "only the zones, so the rule texts are not compared.",
        "各类规划发展历程、主要内容与优劣势分析；多规合一解决措施与编制建议 — written analysis of the plan texts (02-02 十三五规划, 02-03 "
        "中期评估, 05-06 交通控制规划, 08-02 市政规划, 01-20 矿产资源规划 are documents without a contract and are not read).",
        "生态、农业、城镇空间优化建议 — planners' proposals; the conflict patches and the implementation review are their basis.",
    ]
    sections = [
        Section("1 现行规划图层 Current plans",
                ["各规划图层统一到 CGCS2000 / EPSG:4525，按图层的类别字段（config layers）参与叠加；面积为平面面积。"],
                tables=[("现行规划图层", layer_table)]),
        Section("2 多规差异分析 Conflicts between plans",
                ["按冲突规则表（config conflicts.rules，spec §5.8）两两叠加：图层A的类别集合与图层B的类别集合重叠处即为该类差异；"
                 "同一图层内重叠要素按规则中类别的先后只计一次；按乡镇拆分，面积小于 "
                 f"{v['conflicts']['min_area_m2']} m² 的碎片舍去。不同差异类型可覆盖同一地块（各自计面积）。"],
                tables=[("差异类型与规则", rule_table), ("差异面积（hm²）按乡镇", pivot)], figures=figs("plan_conflicts")),
        Section("3 规划实施评估 Implementation review",
                ["规划建设用地区（config implementation.plans）与三调城乡建设用地叠加：实施率 = 规划区内已建 / 规划区面积；"
                 "规划符合率 = 规划区内已建 / 现状建设用地。城市总体规划仅覆盖中心城区，其现状建设用地只统计规划范围内。"],
                tables=[("规划实施评估（hm²）", impl_show)], figures=figs("implementation_review")),
        Section("4 现行规划指标评估 Indicators of the current plans",
                [f"01-46a.ghzb 各规划指标并列，现状值由三调（{v['indicators']['sandiao_year']}）按 config indicators.present 计算；"
                 "约束性指标 direction=min 为下限（保有量），max 为上限（规模）。"],
                tables=[("指标并列 side by side（目标值）", side), ("指标评估", ind_show)]),
        Section("5 未产出 Not produced", not_produced),
        Section("6 说明 Notes", notes or ["—"]),
    ]
    summary = {"多规差异 conflicts (whole city)": records(city_rows), "指标评估 indicators": records(indicators)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
