"""T08 国土空间魅力特色发展与高品质生活塑造研究 — charm, distinctive development and quality of life
(lead 自然资源局, with 住房和城乡建设局 and 文体旅游广电局).

On T02's analysis grid (``t02.slope``, EPSG:4525), with :mod:`erenhot.evaluation.services` and the
configuration ``t08_charm_quality_life.yaml`` (every standard with its source and H/M/L confidence):

* 公共服务设施: the facilities of 14-01 卫生设施, 14-02 公共服务设施 (文化/体育/养老) and 15-01 教育设施,
  grouped into classes (config ``classes``); for each class the travel time to the nearest facility —
  walking (``travel.walk_kmh``) for the urban 生活圈 of GB 50180-2018 (5/10/15 min) on 城镇 land (三调
  CZCSXM 201/202), driving on T14's speed surface (``t14.speed``: road-grade speeds, off-road speed
  and passable area exactly as T14 computed them) for the rural 苏木/嘎查 service radius; the population covered (``t14.population``) by township; the per-capita provision (千人指标)
  against the standard and the gap by township; the population each facility serves and its load;
  the 服务盲区 (gap areas) → ``t08.public_service_guide``, ``t08.service_coverage``,
  ``t08.life_circle_coverage``;
* 魅力特色区: clusters of T15's cultural and tourism resources (``t15.cultural_tourism_resources``)
  joined with T11's ecological sources (``t11.ecological_security_pattern``, optional) →
  ``t08.charm_zones``; the recreation network = T15's corridors + T11's ecological corridors →
  ``t08.recreation_network``;
* 城市品质提升指标: the 08-07.quality delivery (现状 and 自治区 targets) beside what the data give —
  建成区绿地率 and 人均公园绿地面积 from 三调 0810 within 城镇 land, and the 15-minute walking coverage
  indicators of the 市级国土空间总体规划编制指南 → ``t08.quality_indicators``.

Planning judgements (the charm-space strategy, 历史文化名村 protection lists, 田园综合体, the future
facility programme) are not produced; the report says why.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import services as sv
from erenhot.grid import boundary_mask, rasterize, read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records, township_rows, township_zones
from erenhot.topics.inputs import TopicInputs

CODE = "t08"
CONFIG = "t08_charm_quality_life"
GUIDE_CODES = {"spare": 1, "balanced": 2, "overloaded": 3, "none": 4, "gap": 5}
GUIDE_COLOURS = {1: "#1a9850", 2: "#4575b4", 3: "#d73027", 4: "#878787", 5: "#fdae61"}
NETWORK_COLOURS = ["#e6550d", "#756bb1", "#31a354", "#3182bd", "#d6616b", "#8c6d31"]


def _vector_layer(inputs: TopicInputs, layer_id: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(io.BytesIO(inputs.layer_bytes(layer_id)))


def _facilities(inputs: TopicInputs, dataset_id: str) -> gpd.GeoDataFrame:
    """The standardised facility points of a delivery (EPSG:4525), column names lower-cased.

    Raises:
        ValueError: the delivery has no ``name``/``type`` column.
    """
    gdf = inputs.vector(dataset_id)
    gdf.columns = [c if c == gdf.geometry.name else str(c).lower() for c in gdf.columns]
    for c in ("name", "type"):
        if c not in gdf.columns:
            raise ValueError(f"{dataset_id} {inputs.version(dataset_id)}: facilities have no column {c!r} (columns {list(gdf.columns)})")
    return gdf


def _point_map(writer: LayerWriter, output_id: str, gdf: gpd.GeoDataFrame, codes: list[int], legend: list[tuple[int, str, str]],
               subtitle: str, thumbnail: bool = False) -> None:
    title = f"二连浩特市{writer.topic.output(output_id).name_zh}"
    png = maps.render_point_map(gdf.geometry.x.tolist(), gdf.geometry.y.tolist(), codes, writer.grid, legend, title,
                                boundary=writer.boundary, subtitle=subtitle, sizes=[40.0] * len(gdf))
    writer.map_png(output_id, title, png, thumbnail)


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate topic 8 from the resolved inputs; publish layers, tables, maps and the report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: a required input is not resolved (names it).
        ValueError: ``t14.population`` is not on T02's grid or holds no persons, a facility delivery
            lacks ``name``/``type`` or the capacity column of its class, ``t14.road_network`` has no
            ``speed_kmh``, or a class names an unknown ``urban_mode``.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    tv, cv, gl = v["travel"], v["coverage"], v["coverage"]["guide_labels"]

    progress(0.03, "grid (t02.slope), boundary, townships, population (t14.population)")
    _, grid, _ = read_raster(inputs.layer_bytes("t02.slope"))
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    townships["XZQDM"] = townships["XZQDM"].astype(str)
    inside = boundary_mask(city, grid)
    zones, zone_names = township_zones(townships, grid, inside)
    zone_code = {z: name.split(" ", 1)[0] for z, name in zone_names.items()}
    writer = LayerWriter(pub, topic, grid, city)
    pop_raw, pgrid, _ = read_raster(inputs.layer_bytes("t14.population"))
    if pgrid.shape != grid.shape or pgrid.transform != grid.transform:
        raise ValueError(f"t14.population {pgrid.shape} is not on the grid of t02.slope {grid.shape}: run T14 on T02's current grid")
    population = np.where(inside, np.nan_to_num(pop_raw.astype(np.float64)), 0.0)
    if not population.sum() > 0:
        raise ValueError("t14.population holds no persons (T14 ran without 10-02 常住人口): coverage cannot be computed")
    dltb = inputs.vector("01-46a.dltb")
    dltb["CZCSXM"] = dltb["CZCSXM"].fillna("").astype(str) if "CZCSXM" in dltb.columns else ""
    urban_parcels = dltb[dltb["CZCSXM"].isin([str(c) for c in tv["urban_czcsxm"]])]
    urban = (rasterize(urban_parcels, grid, value=1, dtype="uint8") > 0) & inside if len(urban_parcels) else np.zeros(grid.shape, bool)

    progress(0.10, "speed surfaces: walking (生活圈) and driving (t14.speed)")
    speed, speed_grid, _ = read_raster(inputs.layer_bytes("t14.speed"))
    if speed.shape != grid.shape or speed_grid.transform != grid.transform:
        raise ValueError(f"t14.speed is on another grid ({speed.shape}, {speed_grid.transform}) than t02.slope "
                         f"({grid.shape}, {grid.transform}): rerun topic 14 after topic 2")
    drive = np.nan_to_num(speed.astype(np.float32), nan=0.0)  # T14's surface, passable area included
    walk = np.where(inside, float(tv["walk_kmh"]), 0.0).astype(np.float32)
    cell = grid.cell_size_m

    progress(0.16, "facilities (14-01, 14-02, 15-01)")
    fac = {ds: _facilities(inputs, ds) for ds in ("14-01", "14-02", "15-01")}
    for ds, gdf in fac.items():
        codes = townships["XZQDM"].astype(str).tolist()
        gdf["XZQDM"] = [codes[i] if i >= 0 else "" for i in township_rows(gdf.geometry, townships)]
        outside = gdf[gdf["XZQDM"] == ""]
        if len(outside):
            notes.append(f"{ds}: {len(outside)} facilit(ies) outside every township of 01-04 ({', '.join(outside['name'].astype(str)[:5])}): "
                         "their travel time starts at the nearest cell inside the city.")

    cov_rows, guide_parts, covered_by_class = [], [], {}
    walk15: dict[str, float] = {}
    classes = v["classes"]
    for k, (cname, c) in enumerate(classes.items()):
        progress(0.20 + 0.45 * k / len(classes), f"life circle: {c['label']}")
        src = fac[str(c["dataset"])]
        sel = src[src["type"].astype(str).isin([str(t) for t in c["types"]])].reset_index(drop=True)
        cap_col = str(c["capacity"])
        if cap_col not in sel.columns:
            raise ValueError(f"{c['dataset']} {inputs.version(str(c['dataset']))}: no capacity column {cap_col!r} for class {cname}")
        caps = pd.to_numeric(sel[cap_col], errors="coerce").fillna(0.0).clip(lower=0).to_numpy(dtype=float)
        per_1000 = None if c["per_1000"] is None else float(c["per_1000"])
        share = float(c["population_share"])
        if not len(sel):
            notes.append(f"class {c['label']}: no facility of types {c['types']} in {c['dataset']}: nothing is covered.")
            covered = np.zeros(grid.shape, bool)
            which = np.full(grid.shape, -1, np.int32)
        else:
            sources = sv.snap_sources(sel.geometry.x, sel.geometry.y, grid.transform, inside)
            rmin, rwhich = sv.nearest_facility(drive, sources, cell)
            mode = str(c["urban_mode"])
            if mode == "walk":
                umin, uwhich = sv.nearest_facility(walk, sources, cell)
            elif mode == "drive":
                umin, uwhich = rmin, rwhich
            else:
                raise ValueError(f"classes.{cname}.urban_mode must be walk or drive, got {mode!r}")
            covered = sv.covered_mask(umin, rmin, urban, float(c["urban_min"]), float(c["rural_min"])) & inside
            which = np.where(urban, uwhich, rwhich).astype(np.int32)
            if mode == "walk":
                upop = float(population[urban].sum())
                walk_min = float(v["quality"]["walk_minutes"])
                walk15[cname] = float(population[urban & np.isfinite(umin) & (umin <= walk_min)].sum()) / upop * 100.0 if upop > 0 else np.nan
        covered_by_class[cname] = covered
        by_zone = sv.coverage_by_zone(covered, population, zones, zone_names)
        for r in by_zone.itertuples():
            in_zone = np.ones(len(sel), bool) if r.zone == 0 else (sel["XZQDM"] == zone_code[r.zone]).to_numpy() if len(sel) else np.zeros(0, bool)
            capacity = float(caps[in_zone].sum()) if len(sel) else 0.0
            prov = sv.provision_gap(capacity, float(r.population), per_1000, share)
            cov_rows.append({"class": cname, "class_zh": c["label"], "zone": r.zone_name, "facilities": int(in_zone.sum()) if len(sel) else 0,
                             "population": round(r.population, 1), "covered_pop": round(r.covered_pop, 1),
                             "covered_share": r.covered_share, "urban_min": c["urban_min"], "urban_mode": c["urban_mode"],
                             "rural_min": c["rural_min"], "capacity_field": cap_col, "capacity": capacity,
                             "standard_per_1000": per_1000, "population_share": share,
                             "per_1000_actual": prov["per_1000_actual"], "required": prov["required"], "gap": prov["gap"]})
        if len(sel):
            load = sv.served_load(which, covered, population, caps, per_1000, share)
            lo, hi = (float(b) for b in cv["load_breaks"])
            guide = ["none" if not np.isfinite(x) else "spare" if x < lo else "balanced" if x <= hi else "overloaded" for x in load["load"]]
            guide_parts.append(gpd.GeoDataFrame({
                "class": cname, "class_zh": c["label"], "feature": "facility", "name": sel["name"].astype(str), "type": sel["type"].astype(str),
                "XZQDM": sel["XZQDM"], "capacity": caps, "served_pop": load["served_pop"].round(1), "load": load["load"].round(3),
                "guide_code": [GUIDE_CODES[g] for g in guide], "guide": [gl[g] for g in guide]}, geometry=sel.geometry.values, crs=sel.crs))
        gaps = sv.gap_areas(covered | ~inside, population, grid.transform, float(cv["min_persons_gap_cell"]))
        if gaps:
            guide_parts.append(gpd.GeoDataFrame({
                "class": cname, "class_zh": c["label"], "feature": "gap", "name": [f"{c['label']}服务盲区{i + 1}" for i in range(len(gaps))],
                "type": "", "XZQDM": "", "capacity": np.nan, "served_pop": [round(p, 1) for _, p in gaps], "load": np.nan,
                "guide_code": GUIDE_CODES["gap"], "guide": gl["gap"]}, geometry=[g for g, _ in gaps], crs=f"EPSG:{grid.crs_epsg}"))
    coverage = pd.DataFrame(cov_rows)
    guide_gdf = gpd.GeoDataFrame(pd.concat(guide_parts, ignore_index=True), geometry="geometry", crs=f"EPSG:{grid.crs_epsg}") if guide_parts else \
        gpd.GeoDataFrame({"class": [], "feature": []}, geometry=[], crs=f"EPSG:{grid.crs_epsg}")
    count = np.sum([m.astype(np.uint8) for m in covered_by_class.values()], axis=0).astype(np.uint8)
    met = np.where(inside & (population > 0), count + 1, 0).astype(np.uint8)  # classes met + 1 on populated cells (0 = none)
    walk_m = float(tv["walk_kmh"]) * 1000.0 / 60.0 * min(float(c["urban_min"]) for c in classes.values() if c["urban_mode"] == "walk") \
        if any(c["urban_mode"] == "walk" for c in classes.values()) else np.inf
    if grid.cell_size_m > walk_m:
        notes.append(f"the grid cell ({grid.cell_size_m:g} m) is coarser than the shortest walking life circle ({walk_m:,.0f} m): there "
                     "the urban coverage counts the facility's own cell only; run T02 on a grid of ≤ 100 m for the life circles.")

    progress(0.68, "魅力特色区 and 游憩网络 (T15, T11)")
    resources = _vector_layer(inputs, "t15.cultural_tourism_resources") if inputs.has_layer("t15.cultural_tourism_resources") else None
    pattern = _vector_layer(inputs, "t11.ecological_security_pattern") if inputs.has_layer("t11.ecological_security_pattern") else None
    eco_sources = pattern[pattern["kind"] == "source"] if pattern is not None else None
    ch = v["charm"]
    if resources is None:
        notes.append("t15.cultural_tourism_resources is not published: no 魅力特色区 (the zones are clusters of T15's resources).")
        resources = gpd.GeoDataFrame({"resource_id": [], "name": [], "category": [], "grade": [], "score": []}, geometry=[], crs=f"EPSG:{grid.crs_epsg}")
    if pattern is None:
        notes.append("t11.ecological_security_pattern is not published: 魅力特色区 without ecological sources, no ecological corridors.")
    charm = sv.charm_zones(resources.to_crs(grid.crs_epsg), eco_sources.to_crs(grid.crs_epsg) if eco_sources is not None else None,
                           link_distance_m=float(ch["link_distance_m"]), zone_buffer_m=float(ch["zone_buffer_m"]),
                           min_resources=int(ch["min_resources"]), national_grades=list(ch["national_grades"]),
                           national_min_score_sum=float(ch["national_min_score_sum"]), level_labels=dict(ch["level_labels"]))
    if len(charm):
        charm["geometry"] = charm.geometry.intersection(city.geometry.union_all())
        charm["area_km2"] = charm.geometry.area / 1e6
    net_parts = []
    if inputs.has_layer("t15.tourism_network"):
        tn = _vector_layer(inputs, "t15.tourism_network").to_crs(grid.crs_epsg)
        net_parts.append(gpd.GeoDataFrame({
            "route_id": tn.get("corridor_id", pd.Series(range(len(tn)))).astype(str), "kind": tn.get("kind", "风景廊道").astype(str) if "kind" in tn else "风景廊道",
            "source": "t15.tourism_network", "from_id": tn.get("from_id", ""), "to_id": tn.get("to_id", ""),
            "minutes": tn.get("minutes", np.nan), "length_km": tn.geometry.length / 1000.0}, geometry=tn.geometry.values, crs=tn.crs))
    else:
        notes.append("t15.tourism_network is not published: the recreation network holds the ecological corridors only.")
    if pattern is not None:
        eco_c = pattern[pattern["kind"] == "corridor"].to_crs(grid.crs_epsg)
        net_parts.append(gpd.GeoDataFrame({
            "route_id": eco_c["feature_id"].astype(str), "kind": "生态廊道", "source": "t11.ecological_security_pattern",
            "from_id": eco_c.get("source_a", "").astype(str), "to_id": eco_c.get("source_b", "").astype(str), "minutes": np.nan,
            "length_km": eco_c.geometry.length / 1000.0}, geometry=eco_c.geometry.values, crs=eco_c.crs))
    network = (gpd.GeoDataFrame(pd.concat(net_parts, ignore_index=True), geometry="geometry", crs=f"EPSG:{grid.crs_epsg}") if net_parts
               else gpd.GeoDataFrame({"route_id": [], "kind": [], "source": [], "from_id": [], "to_id": [], "minutes": [], "length_km": []},
                                     geometry=[], crs=f"EPSG:{grid.crs_epsg}"))

    progress(0.76, "城市品质提升指标 quality indicators")
    q = v["quality"]
    green = sv.green_space_ratio(dltb, list(q["green_dlbm"]), list(tv["urban_czcsxm"]))
    urban_pop = float(population[urban].sum())
    qrows = []
    survey_year = int(q["survey_year"])  # the derived figures are of the 三调 (and the population on its land)
    if inputs.has("08-07.quality"):
        qd = inputs.table("08-07.quality")
        ver = inputs.version("08-07.quality")
        for r in qd.itertuples():
            qrows.append({"indicator": str(r.indicator), "year": int(r.year), "kind": str(r.kind), "value": float(r.value), "unit": str(r.unit),
                          "source": f"08-07.quality {ver}", "method": "delivered"})
    else:
        notes.append("城市品质提升指标 (08-07.quality) not delivered: only the indicators derivable from data are listed.")
    derived_kind = "现状（数据推算）"
    qrows.append({"indicator": "城市建成区绿地率", "year": survey_year, "kind": derived_kind, "value": round(green["ratio_pct"], 2), "unit": "%",
                  "source": f"01-46a.dltb {inputs.version('01-46a.dltb')}",
                  "method": f"三调 {'/'.join(q['green_dlbm'])} 公园与绿地 {green['green_km2']:.3f} km² ÷ 城镇用地 (CZCSXM {'/'.join(tv['urban_czcsxm'])}) {green['urban_km2']:.3f} km²"})
    qrows.append({"indicator": "城镇人均公园绿地面积", "year": survey_year, "kind": derived_kind,
                  "value": round(green["green_km2"] * 1e6 / urban_pop, 2) if urban_pop > 0 else np.nan, "unit": "m²/人",
                  "source": "01-46a.dltb, t14.population",
                  "method": f"三调 {'/'.join(q['green_dlbm'])} 面积 ÷ 城镇用地上的常住人口 {urban_pop:,.0f} 人"})
    for cname, label in q["walk15_classes"].items():
        if cname in walk15:
            qrows.append({"indicator": label, "year": survey_year, "kind": derived_kind, "value": round(walk15[cname], 1), "unit": "%",
                          "source": f"{classes[cname]['dataset']}, t14.population",
                          "method": f"城镇用地上常住人口中步行 {tv['walk_kmh']:g} km/h {q['walk_minutes']:g} 分钟内可达{classes[cname]['label']}者的比例"})
    quality = pd.DataFrame(qrows, columns=["indicator", "year", "kind", "value", "unit", "source", "method"])

    progress(0.82, "writing layers and tables")
    writer.raster("t08.life_circle_coverage", met, nodata=0,
                  tags={"MEANING": "number of facility classes whose standard the populated cell meets + 1; 0 = no population or outside"})
    writer.vector("t08.charm_zones", charm)
    writer.vector("t08.recreation_network", network)
    writer.vector("t08.public_service_guide", guide_gdf)
    writer.table("t08.service_coverage", "service_coverage", coverage, "生活圈覆盖与千人指标 coverage and provision")
    writer.table("t08.quality_indicators", "quality_indicators", quality, "城市品质提升指标 quality indicators")

    progress(0.88, "maps")
    n_cls = len(classes)
    cols = v["maps"]["class_colours"]
    palette = [cols.get(min(i, 5), "#999999") for i in range(6)]
    met_labels = {i + 1: f"满足 {i} 类" for i in range(n_cls + 1)}
    met_colours = {i + 1: palette[min(5, round(i * 5 / max(n_cls, 1)))] for i in range(n_cls + 1)}
    writer.class_map("t08.life_circle_coverage", met, met_labels, met_colours, thumbnail=True,
                     subtitle=f"有常住人口的栅格满足生活圈/服务半径标准的设施类别数（共 {n_cls} 类）")
    fac_pts = guide_gdf[guide_gdf["feature"] == "facility"] if len(guide_gdf) else guide_gdf
    gap_polys = guide_gdf[guide_gdf["feature"] == "gap"] if len(guide_gdf) else guide_gdf
    gap_count = np.zeros(grid.shape, np.uint8)
    for g in gap_polys.itertuples():
        gap_count += rasterize(gpd.GeoDataFrame(geometry=[g.geometry], crs=guide_gdf.crs), grid, value=1, dtype="uint8")
    if len(fac_pts):
        legend = [(code, gl[key], GUIDE_COLOURS[code]) for key, code in GUIDE_CODES.items() if key != "gap"]
        _point_map(writer, "t08.public_service_guide", fac_pts, fac_pts["guide_code"].astype(int).tolist(), legend,
                   "设施负荷（服务人口 × 千人指标 ÷ 容量）；服务盲区见表")
    gap_classes = np.where(inside & (gap_count > 0), np.minimum(gap_count, 4), 0).astype(np.uint8)
    png = maps.render_class_map(gap_classes, grid, [(1, "1 类设施盲区", "#fee08b"), (2, "2 类", "#fdae61"), (3, "3 类", "#f46d43"), (4, "≥ 4 类", "#d73027")],
                                "二连浩特市公共服务设施服务盲区", boundary=city, subtitle="有常住人口而未达生活圈/服务半径标准的区域",
                                cell_area_km2=grid.cell_area_km2)
    entry = pub.put("maps/service_gaps.png", png, kind="map")
    writer.figures.append(("二连浩特市公共服务设施服务盲区", entry["name"]))
    charm_r = np.zeros(grid.shape, np.uint8)
    for lvl, code in (("city", 2), ("national", 1)):
        part = charm[charm["level"] == lvl] if len(charm) else charm
        if len(part):
            charm_r = np.where(rasterize(part, grid, value=1, dtype="uint8") > 0, code, charm_r).astype(np.uint8)
    writer.class_map("t08.charm_zones", np.where(inside, charm_r, 0).astype(np.uint8),
                     {1: ch["level_labels"]["national"], 2: ch["level_labels"]["city"]}, {1: "#c51b7d", 2: "#f1b6da"}, thumbnail=True,
                     subtitle="文化与旅游资源聚类（T15）" + ("连同所触及的生态源地（T11）" if pattern is not None else "（T11 生态源地未发布）"))
    kinds = sorted(set(network["kind"].astype(str))) if len(network) else []
    net_codes = {k: i + 1 for i, k in enumerate(kinds)}
    net_r = np.zeros(grid.shape, np.uint8)
    for k in kinds:
        net_r = np.where(rasterize(network[network["kind"] == k], grid, value=1, dtype="uint8", all_touched=True) > 0, net_codes[k], net_r).astype(np.uint8)
    writer.class_map("t08.recreation_network", np.where(inside, net_r, 0).astype(np.uint8), {c: k for k, c in net_codes.items()},
                     {c: NETWORK_COLOURS[(c - 1) % len(NETWORK_COLOURS)] for c in net_codes.values()},
                     subtitle="风景/文化廊道（T15）与生态廊道（T11）")

    progress(0.94, "report")
    whole = coverage[coverage["zone"] == "全市 whole city"]
    figures = {f"{r.class_zh} 覆盖 covered": f"{r.covered_share * 100:.1f} % of {r.population:,.0f} 人" for r in whole.itertuples()
               if np.isfinite(r.covered_share)}
    figures["魅力特色区 charm zones"] = f"{len(charm)} ({int((charm['level'] == 'national').sum()) if len(charm) else 0} 国家级影响力)"
    figures["游憩网络 recreation network"] = f"{float(network['length_km'].sum()) if len(network) else 0.0:,.1f} km"
    figures["建成区绿地率（三调推算）"] = f"{green['ratio_pct']:.1f} %"
    cov_show = coverage[["class_zh", "zone", "facilities", "population", "covered_pop", "covered_share", "capacity", "standard_per_1000",
                         "per_1000_actual", "required", "gap"]].assign(covered_share=lambda d: d["covered_share"] * 100.0).rename(columns={
                             "class_zh": "设施类别", "zone": "乡镇", "facilities": "设施数", "population": "常住人口", "covered_pop": "覆盖人口",
                             "covered_share": "覆盖率 %", "capacity": "容量", "standard_per_1000": "千人指标标准", "per_1000_actual": "现状千人指标",
                             "required": "标准需求", "gap": "缺口（>0 不足）"}).round(2)
    std_rows = pd.DataFrame([{"类别": c["label"], "数据": c["dataset"], "类型": "、".join(c["types"]),
                              "城镇生活圈": f"{'步行' if c['urban_mode'] == 'walk' else '车行'} {c['urban_min']} min",
                              "乡村服务半径": f"车行 {c['rural_min']} min", "容量字段": c["capacity"],
                              "千人指标": "—" if c["per_1000"] is None else f"{c['per_1000']:g}",
                              "依据": cfg.leaf(f"classes.{n}.urban_min")["source"]} for n, c in classes.items()])
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(f"maps/{k}.png" == f[1] for k in keys)]

    guide_tab = (pd.DataFrame(fac_pts.drop(columns=["geometry", "class", "feature", "guide_code"])).reset_index(drop=True).round(3)
                 if len(fac_pts) else pd.DataFrame())
    gap_tab = pd.DataFrame(gap_polys.drop(columns="geometry"))[["class_zh", "name", "served_pop"]].rename(
        columns={"served_pop": "盲区人口"}) if len(gap_polys) else pd.DataFrame()
    sections = [
        Section("1 公共服务设施生活圈覆盖 Life-circle coverage",
                [f"设施：14-01 卫生设施、14-02 公共服务设施、15-01 教育设施（{', '.join(f'{d} {inputs.version(d)}' for d in fac)}）。"
                 f"城镇用地（三调 CZCSXM {'/'.join(tv['urban_czcsxm'])}）上按 GB 50180-2018 生活圈以步行 {tv['walk_kmh']:g} km/h 计时；"
                 "其余地区（苏木、嘎查）按 T14 的通行速度面（t14.speed：路网等级速度、路外速度、可通行范围均同 T14）车行计时（skimage MCP 累积耗费）。"
                 "人口为 T14 的常住人口栅格（t14.population）。标准均为 M/L 置信度、可配置。"],
                tables=[("设施类别与标准", std_rows), ("覆盖与千人指标（全市及分乡镇）", cov_show)],
                figures=figs("life_circle_coverage", "service_gaps")),
        Section("2 公共服务设施布局指引 Layout guidance",
                [f"每处设施的服务人口 = 以其为最近设施且在标准时间内的人口；负荷 = 服务人口 × 千人指标 ÷ 容量，"
                 f"分级 {list(cv['load_breaks'])}（置信度 L）。服务盲区 = 有人口（≥ {cv['min_persons_gap_cell']:g} 人/格）而未达标准的连片区域，"
                 "为新增设施的布局引导区；具体选址、规模与建设时序需规划判断。"],
                tables=[("设施负荷与指引", guide_tab), ("服务盲区", gap_tab)], figures=figs("public_service_guide")),
        Section("3 魅力特色区与自然人文风景游憩网络 Charm zones and recreation network",
                [f"魅力特色区：T15 文化与旅游资源相距 < {ch['link_distance_m']:g} m 者归为一簇（单连接），≥ {ch['min_resources']} 处资源的簇"
                 f"取资源 {ch['zone_buffer_m']:g} m 范围并合并所触及的 T11 生态源地；含 {'/'.join(ch['national_grades'])} 级资源或评分和 ≥ "
                 f"{ch['national_min_score_sum']:g} 者为“{ch['level_labels']['national']}”（规则置信度 L/M）。"
                 "游憩网络为 T15 风景/文化廊道与 T11 生态廊道的合并。"],
                tables=[("魅力特色区", pd.DataFrame(charm.drop(columns="geometry")).round(3) if len(charm) else pd.DataFrame()),
                        ("游憩网络按类型", network.groupby("kind", as_index=False)["length_km"].sum().round(2) if len(network) else pd.DataFrame())],
                figures=figs("charm_zones", "recreation_network")),
        Section("4 城市品质提升指标 Quality indicators",
                ["交付值（08-07.quality：现状与自治区分解目标）与数据推算值并列：建成区绿地率 ≈ 三调 0810 公园与绿地 ÷ 城镇用地；"
                 "三调将附属绿地计入主体用途，推算值一般低于统计口径。15 分钟步行覆盖率按《市级国土空间总体规划编制指南（试行）》指标口径计算。"],
                tables=[("城市品质提升指标", quality)]),
        Section("5 未产出 Not produced",
                ["以下内容需要规划判断或尚无交付契约的资料，未由数据推导，故不伪造：魅力空间格局与发展模式、发展路径和“二连品牌”定位；"
                 "历史文化名村保护目录与要求、文化遗产廊道与田园综合体的选定（需 T15 与文物部门名录及规划方案）；"
                 "公共服务设施的规划选址、规模与建设时序（本研究给出覆盖、千人指标缺口与盲区作为布局指引的依据）；"
                 "区域旅游分布图（t08.tourism_distribution）仅重复 T15 的资源分布，本专题不再单列；08-01 城市绿化、海绵城市规划为文本资料，未读取；"
                 f"城镇步行生活圈沿街道网络的时间（需要 1:500–1:2000 城市道路与人行通道，未交付）：城镇用地上按步行 {tv['walk_kmh']:g} km/h "
                 "均匀通行计算，即步行距离口径（GB 50180-2018 生活圈以步行距离界定），路网只用于乡村与驾车的时间。"]),
        Section("6 说明 Notes", notes or ["—"]),
    ]
    summary = {"覆盖 coverage": records(coverage[coverage["zone"] == "全市 whole city"]), "品质指标 quality": records(quality)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
