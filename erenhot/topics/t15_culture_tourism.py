"""T15 文化与旅游发展研究 — culture and tourism development of Erenhot (lead 文化广电旅游局).

From the validated deliveries of the resources and T14's road network (configuration
``t15_culture_tourism.yaml``, math in :mod:`erenhot.evaluation.tourism`):

* the inventory of cultural and tourism resources (``t15.cultural_tourism_resources``, points
  EPSG:4525): A级景区 (06-03), 文物保护单位、国门界碑、边关驿站与民族文化 (06-06.heritage), 地质遗迹
  (01-32, 恐龙化石产地) and 自然保护地 (01-07, geoparks and reserves at a representative point, area
  kept), each with a configured category (``categories``) and a 0–1 score from its delivered grade
  (``scores``: GB/T 17775-2003 景区等级, DZ/T 0303-2017 地质遗迹级别, 《文物保护法》 protection levels,
  mapped on the five 旅游资源等级 of GB/T 18972-2017);
* the least network times between the resources and from the hubs (中心城区, 二连口岸 of ``t14.hubs``)
  on T14's road graph (``t14.road_network``, grade speeds of JTG B01-2014 via spec §5.7), resources
  joined to the nearest road at the off-road speed (``network.access_kmh``), roads cut at the
  city boundary (national border, ``network.clip_to_city``);
* the tourism corridors (``t15.tourism_network``, lines): the minimum spanning tree of the least-time
  matrix plus the configured must-link pairs (``corridors.must_link``), each traced as the least-time
  route on the roads — the skeleton of the 全域旅游自然人文风景游憩网络 (seed topic 15 研究要点 3);
* the near-term (近期, ``near_term.period``) projects of the 全域旅游 plan (06-04) with the resource
  each one serves; counts and grades of the resources by category and township (01-04).

The 魅力特色区 is topic 8's; the 旅游发展思路, 跨境旅游 strategy and 公共服务设施 (教育、卫生、文化、养老)
need plans and judgement and are not produced (report section 未产出).
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import tourism as tm
from erenhot.evaluation import transport as tr
from erenhot.grid import read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records, township_rows
from erenhot.topics.inputs import TopicInputs

CODE = "t15"
CONFIG = "t15_culture_tourism"
#: config slug → dataset id, in inventory order
SOURCES = {"scenic": "06-03", "heritage": "06-06.heritage", "geoheritage": "01-32", "protected_areas": "01-07"}
RESOURCE_COLUMNS = ["resource_id", "name", "category", "grade", "score", "source", "type", "area_km2", "township"]
NETWORK_COLUMNS = ["corridor_id", "from_id", "to_id", "from_name", "to_name", "minutes", "length_km", "kind", "link"]
NEAR_COLUMNS = {"XMMC": "项目名称 XMMC", "XMLX": "类型 XMLX", "JSXZ": "建设性质 JSXZ", "YDMJ": "用地 hm²", "ZTZ": "总投资 万元",
                "KGNF": "开工 KGNF", "WGNF": "完工 WGNF", "XMZT": "状态 XMZT"}


def _col(gdf: gpd.GeoDataFrame, names: tuple[str, ...], what: str) -> str:
    """The first of ``names`` present in ``gdf`` (delivered lower case, or upper-cased on read)."""
    for n in names:
        if n in gdf.columns:
            return n
    raise ValueError(f"{what}: none of the columns {list(names)} (columns: {[c for c in gdf.columns if c != 'geometry']})")


def collect_resources(frames: dict[str, gpd.GeoDataFrame], cfg: dict[str, Any], notes: list[str]) -> gpd.GeoDataFrame:
    """The resource inventory from the delivered parts (``frames``: config slug → standardised
    GeoDataFrame in EPSG:4525, absent sources left out).

    * 06-03 ``name``/``grade``/``type``, 06-06.heritage ``name``/``level``/``type``, 01-32
      ``YJMC``/``JB``/``YJLX``: one resource per row, ``resource_id`` = ``<dataset>:<row>`` (0-based
      delivered order);
    * 01-07: one resource per protected area ``MC`` (its 核心保护区/一般控制区 rows merged), at
      ``shapely.point_on_surface`` of the union, ``area_km2`` kept, id = ``01-07:<first row>``; a
      name holding a ``categories.geopark_keywords`` word is a 恐龙化石与地质遗迹 resource.

    Category: ``categories.by_source[slug][type]`` else ``categories.default_by_source[slug]``;
    score: ``scores[slug][grade]`` (:func:`erenhot.evaluation.tourism.score_grades`), replaced by
    ``scores.overrides[name]`` when listed (noted).

    Returns:
        Columns :data:`RESOURCE_COLUMNS` (``township`` empty) and point geometry, EPSG:4525.

    Raises:
        ValueError: a column is missing, a grade has no score, a category is not configured.
    """
    cats = cfg["categories"]
    rows: list[dict[str, Any]] = []
    for slug, ds in SOURCES.items():
        gdf = frames.get(slug)
        if gdf is None:
            continue
        if slug == "protected_areas":
            name_c, grade_c, type_c = (_col(gdf, (c,), f"{ds}") for c in ("MC", "JB", "BHDLX"))
            first = {}
            for k, n in enumerate(gdf[name_c].astype(str)):
                first.setdefault(n, k)
            for n, k in first.items():
                part = gdf[gdf[name_c].astype(str) == n]
                geom = shapely.union_all(part.geometry.values)
                rows.append({"resource_id": f"{ds}:{k}", "name": n, "grade": str(part[grade_c].iloc[0]).strip(),
                             "type": str(part[type_c].iloc[0]).strip(), "area_km2": float(geom.area) / 1e6,
                             "source": ds, "_slug": slug, "geometry": shapely.point_on_surface(geom)})
            continue
        spec = {"scenic": (("name", "NAME"), ("grade", "GRADE"), ("type", "TYPE")),
                "heritage": (("name", "NAME"), ("level", "LEVEL"), ("type", "TYPE")),
                "geoheritage": (("YJMC",), ("JB",), ("YJLX",))}[slug]
        name_c, grade_c, type_c = (_col(gdf, names, ds) for names in spec)
        pts = tm.representative_points(list(gdf.geometry))
        for k, r in enumerate(gdf.itertuples(index=False)):
            rows.append({"resource_id": f"{ds}:{k}", "name": str(getattr(r, name_c)).strip(),
                         "grade": str(getattr(r, grade_c)).strip(), "type": str(getattr(r, type_c)).strip(),
                         "area_km2": np.nan, "source": ds, "_slug": slug, "geometry": pts[k]})
    if not rows:
        raise ValueError("no resource delivered: 06-03 holds no scenic area and no other source was delivered")
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=4525)
    out["category"] = ""
    out["score"] = np.nan
    keywords = [str(w) for w in cats["geopark_keywords"]]
    for slug, idx in out.groupby("_slug").groups.items():
        part = out.loc[idx]
        ds = SOURCES[slug]
        col = {"scenic": "type", "heritage": "type", "protected_areas": "BHDLX"}.get(slug, "")
        mapping = dict(cats["by_source"].get(slug, {}))
        cat = tm.categorise(list(part["type"]), mapping, cats["default_by_source"][slug], cats["list"], f"{ds} {col}".strip())
        if slug == "protected_areas":
            geo = "恐龙化石与地质遗迹"
            cat = [geo if geo in cats["list"] and any(w in n for w in keywords) else c for c, n in zip(cat, part["name"])]
        out.loc[idx, "category"] = cat
        grade_col = {"scenic": "grade", "heritage": "level", "geoheritage": "JB", "protected_areas": "JB"}[slug]
        out.loc[idx, "score"] = tm.score_grades(list(part["grade"]), cfg["scores"][slug], f"{ds} {grade_col}")
    for name, s in cfg["scores"]["overrides"].items():
        hit = out["name"] == name
        if hit.any():
            if not 0.0 <= float(s) <= 1.0:
                raise ValueError(f"scores.overrides: score of {name!r} must lie in [0, 1], got {s}")
            out.loc[hit, "score"] = float(s)
            notes.append(f"score of {name} set to {float(s):g} by scores.overrides (signature resource).")
    out["township"] = ""
    return out[[*RESOURCE_COLUMNS, "geometry"]].reset_index(drop=True)


def township_of(points: gpd.GeoSeries, townships: gpd.GeoDataFrame) -> list[str]:
    """``"XZQDM XZQMC"`` of the township covering each point, else of the nearest one
    (:func:`erenhot.topics.common.township_rows`)."""
    labels = (townships["XZQDM"].astype(str) + " " + townships["XZQMC"].astype(str)).tolist()
    return [labels[i] if i >= 0 else "" for i in township_rows(points, townships)]


def near_term_table(projects: gpd.GeoDataFrame, period: list[int], resources: gpd.GeoDataFrame) -> pd.DataFrame:
    """06-04 projects with a ``近期 near_term`` flag (works overlap ``period``: KGNF ≤ end and WGNF ≥
    start), the nearest resource and its distance (m), sorted by start year."""
    start, end = int(period[0]), int(period[1])
    df = pd.DataFrame(projects.drop(columns="geometry")).copy()
    df["近期 near_term"] = (df["KGNF"].astype(int) <= end) & (df["WGNF"].astype(int) >= start)
    near_name, near_m = [], []
    for g in projects.geometry:
        p = g if g.geom_type == "Point" else shapely.point_on_surface(g)
        d = resources.geometry.distance(p).to_numpy()
        k = int(np.argmin(d)) if len(d) else -1
        near_name.append(resources.iloc[k]["name"] if k >= 0 else "")
        near_m.append(float(d[k]) if k >= 0 else np.nan)
    df["最近资源 nearest resource"] = near_name
    df["距离 m"] = near_m
    df = df.sort_values(["KGNF", "WGNF", "XMMC"]).reset_index(drop=True)
    return df[[*NEAR_COLUMNS, "近期 near_term", "最近资源 nearest resource", "距离 m"]].rename(columns=NEAR_COLUMNS)


def _network_map(writer: LayerWriter, roads: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame, resources: gpd.GeoDataFrame,
                 colours: dict[str, str], title: str) -> bytes:
    """Roads (grey), corridors (red: spanning tree, dashed: must-link) and resources by category."""
    from matplotlib.lines import Line2D

    grid = writer.grid
    left, bottom, right, top = grid.bounds
    extent = (left, right, bottom, top)
    fig, ax = maps.new_map(grid, extent, title, "旅游廊道 = 资源间最短时间路径（最小生成树 + 指定串联）")
    for g in roads.geometry:
        for ln in getattr(g, "geoms", [g]):
            xs, ys = ln.xy
            ax.plot(xs, ys, "-", color="#b0b0b0", lw=0.6, zorder=2)
    handles = [Line2D([], [], color="#b0b0b0", lw=1, label="现状道路（t14.road_network）")]
    for link, style, colour, z in ((tm.MST, "-", "#c51b1b", 4), (tm.MUST_LINK, "--", "#7a0177", 5)):
        part = corridors[corridors["link"] == link]
        for g in part.geometry:
            xs, ys = g.xy
            ax.plot(xs, ys, style, color=colour, lw=2.2, zorder=z)
        if len(part):
            handles.append(Line2D([], [], color=colour, ls=style, lw=2,
                                  label=f"旅游廊道（{'最小生成树' if link == tm.MST else '指定串联'}，{len(part)}）"))
    for cat, colour in colours.items():
        sel = resources[resources["category"] == cat]
        if len(sel):
            ax.scatter(sel.geometry.x, sel.geometry.y, s=40 + 80 * sel["score"].to_numpy(), c=colour, edgecolors="black",
                       linewidths=0.5, zorder=6)
            handles.append(Line2D([], [], marker="o", color=colour, ls="", markersize=8, label=f"{cat}（{len(sel)}）"))
    return maps.finish_map(fig, ax, grid, extent, writer.boundary, handles)


def _put_map(writer: LayerWriter, output_id: str, png: bytes, thumbnail: bool = False) -> None:
    writer.map_png(output_id, f"二连浩特市{writer.topic.output(output_id).name_zh}", png, thumbnail)


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate topic 15 and publish its layers, tables, maps and report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: a required input is not resolved (names it).
        ValueError: ``t14.road_network`` lacks the grade or ``speed_kmh`` column or gives one grade two
            speeds, no road is left, a delivered grade has no configured score, or a category is not configured.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    colours = dict(v["categories"]["colours"])

    progress(0.05, "grid (t02.slope), boundary, townships")
    _, grid, _ = read_raster(inputs.layer_bytes("t02.slope"))
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    city_geom = shapely.union_all(city.geometry.values)
    writer = LayerWriter(pub, topic, grid, city)

    progress(0.12, "resource inventory")
    frames = {slug: inputs.vector(ds) for slug, ds in SOURCES.items() if inputs.has(ds)}
    for slug, ds in SOURCES.items():
        if slug not in frames:
            notes.append(f"{ds} not delivered: its resources are not in the inventory.")
    resources = collect_resources(frames, v, notes)
    resources["township"] = township_of(resources.geometry, townships)
    outside = ~resources.geometry.apply(city_geom.covers)
    if outside.any():
        notes.append(f"{int(outside.sum())} resource(s) lie just outside the city boundary (within the 1 km delivery "
                     f"tolerance): {', '.join(resources.loc[outside, 'name'])}; assigned to the nearest township.")

    progress(0.25, "road graph (t14.road_network)")
    roads = gpd.read_parquet(io.BytesIO(inputs.layer_bytes("t14.road_network")))
    gcol = str(v["network"]["grade_column"])
    for c in (gcol, "speed_kmh"):
        if c not in roads.columns:
            raise ValueError(f"layer t14.road_network has no column {c!r} (columns {list(roads.columns)})")
    per_grade = roads.groupby(roads[gcol].astype(str))["speed_kmh"].agg(["min", "max"])
    bad = per_grade[per_grade["min"] != per_grade["max"]]
    if len(bad):
        raise ValueError(f"layer t14.road_network gives grade(s) {list(bad.index)} more than one speed_kmh")
    speeds = {str(g): float(s) for g, s in per_grade["min"].items()}
    if bool(v["network"]["clip_to_city"]):
        roads = roads.assign(geometry=roads.geometry.intersection(city_geom))
        roads = roads[~roads.geometry.is_empty & roads.geometry.notna()]
    graph = tr.road_graph(roads, gcol, speeds, float(v["network"]["snap_tolerance_m"]))
    if graph.number_of_edges() == 0:
        raise ValueError("t14.road_network holds no road inside the city: no network to route on")
    summary = tr.graph_summary(graph)

    progress(0.35, "attach resources and hubs, least times")
    access_kmh = float(v["network"]["access_kmh"])
    ids = list(resources["resource_id"])
    access = tm.attach_resources(graph, dict(zip(ids, resources.geometry)), access_kmh)
    resources["access_m"] = [access[i] for i in ids]
    hubs = gpd.read_parquet(io.BytesIO(inputs.layer_bytes("t14.hubs")))
    hub_names = [str(h) for h in v["hubs"]["names"]]
    hub_rows = hubs[hubs["hub"].astype(str).isin(hub_names)]
    missing_hubs = sorted(set(hub_names) - set(hub_rows["hub"].astype(str)))
    if missing_hubs:
        notes.append(f"t14.hubs has no hub {missing_hubs}: no times to it.")
    hub_nodes = {f"hub:{r.hub}": (str(r.name_zh), r.geometry) for r in hub_rows.itertuples()}
    tm.attach_resources(graph, {k: g for k, (_n, g) in hub_nodes.items()}, access_kmh)
    minutes, km, paths = tm.least_times(graph, [*ids, *hub_nodes])
    name_of = dict(zip(ids, resources["name"])) | {k: n for k, (n, _g) in hub_nodes.items()}
    geom_of = dict(zip(ids, resources.geometry)) | {k: g for k, (_n, g) in hub_nodes.items()}
    for k, (label, _g) in hub_nodes.items():
        resources[f"min_to_{k.split(':', 1)[1]}"] = [float(minutes.loc[k, i]) for i in ids]
    time_rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            time_rows.append({"pair": "资源—资源 resource pair", "from_id": a, "from_name": name_of[a], "to_id": b, "to_name": name_of[b],
                              "minutes": float(minutes.loc[a, b]), "network_km": float(km.loc[a, b]),
                              "straight_km": geom_of[a].distance(geom_of[b]) / 1000.0})
    for h in hub_nodes:
        for a in ids:
            time_rows.append({"pair": "枢纽—资源 hub to resource", "from_id": h, "from_name": name_of[h], "to_id": a, "to_name": name_of[a],
                              "minutes": float(minutes.loc[h, a]), "network_km": float(km.loc[h, a]),
                              "straight_km": geom_of[h].distance(geom_of[a]) / 1000.0})
    times = pd.DataFrame(time_rows, columns=["pair", "from_id", "from_name", "to_id", "to_name", "minutes", "network_km", "straight_km"])
    unreachable = times[~np.isfinite(times["minutes"])]
    if len(unreachable):
        notes.append(f"{len(unreachable)} pair(s) lie in different road components (no route): minutes = inf.")

    progress(0.5, "tourism corridors (minimum spanning tree + must-link pairs)")
    min_score = float(v["corridors"]["min_score"])
    nodes = [i for i, s in zip(ids, resources["score"]) if s >= min_score]
    first_id: dict[str, str] = {}
    for i, n in zip(ids, resources["name"]):
        first_id.setdefault(str(n), i)
    must = []
    for a, b in v["corridors"]["must_link"]:
        if a in first_id and b in first_id and first_id[a] in nodes and first_id[b] in nodes:
            must.append((first_id[a], first_id[b]))
        else:
            notes.append(f"corridors.must_link {a} — {b}: a resource is not delivered or below corridors.min_score; skipped.")
    pairs = tm.corridor_pairs(minutes.loc[nodes, nodes], must) if len(nodes) >= 2 else []
    traced = tm.trace_corridors(graph, pairs, minutes, km, paths)
    kind = str(v["corridors"]["kind"])
    net_rows = [{"corridor_id": f"C{k + 1:02d}", "from_id": t["from_id"], "to_id": t["to_id"], "from_name": name_of[t["from_id"]],
                 "to_name": name_of[t["to_id"]], "minutes": t["minutes"], "length_km": t["length_km"], "kind": kind,
                 "link": t["link"], "geometry": t["geometry"]} for k, t in enumerate(traced)]
    network = gpd.GeoDataFrame(net_rows, columns=[*NETWORK_COLUMNS, "geometry"], geometry="geometry", crs=4525)
    n_comp = len(nodes) - sum(1 for p in pairs if p[2] == tm.MST) if nodes else 0
    if n_comp > 1:
        notes.append(f"the resources fall into {n_comp} road components: the corridors form a spanning forest.")

    progress(0.62, "summary by category and township; near-term projects")
    summary_rows = []
    for (cat, town), part in [*resources.groupby(["category", "township"]), *(((c, "全市 whole city"), p) for c, p in resources.groupby("category"))]:
        grades = part["grade"].value_counts()
        summary_rows.append({"category": cat, "township": town, "resources": len(part), "mean_score": float(part["score"].mean()),
                             "max_score": float(part["score"].max()),
                             "grades": "、".join(f"{g}×{n}" for g, n in sorted(grades.items(), key=lambda kv: (-kv[1], kv[0])))})
    order = {c: k for k, c in enumerate(v["categories"]["list"])}
    res_summary = pd.DataFrame(summary_rows)
    res_summary = res_summary.assign(_w=res_summary["township"] != "全市 whole city", _c=res_summary["category"].map(order)).sort_values(
        ["_w", "township", "_c"]).drop(columns=["_w", "_c"]).reset_index(drop=True)
    period = list(v["near_term"]["period"])
    if inputs.has("06-04"):
        projects = inputs.vector("06-04")
        near = near_term_table(projects, period, resources)
    else:
        projects = None
        near = pd.DataFrame(columns=[*NEAR_COLUMNS.values(), "近期 near_term", "最近资源 nearest resource", "距离 m"])
        notes.append("全域旅游发展总体规划 (06-04) not delivered: the near-term project list is empty.")
    near_only = near[near["近期 near_term"].astype(bool)] if len(near) else near

    progress(0.72, "writing layers and tables")
    writer.vector("t15.cultural_tourism_resources", resources)
    writer.vector("t15.tourism_network", network)
    writer.table("t15.resource_times", "resource_times", times, "资源间与枢纽至资源最短通行时间 least times")
    writer.table("t15.resource_summary", "resource_summary", res_summary, "文化旅游资源分类分乡镇统计 resources by category and township")
    writer.table("t15.near_term_projects", "near_term_projects", near, "近期旅游建设项目 near-term projects")

    progress(0.8, "maps")
    cat_code = {c: k + 1 for k, c in enumerate(v["categories"]["list"])}
    legend = [(cat_code[c], c, colours.get(c, "#999999")) for c in v["categories"]["list"]]
    label_min = float(v["maps"]["label_min_score"])
    labels = [n if s >= label_min else "" for n, s in zip(resources["name"], resources["score"])]
    png = maps.render_point_map(resources.geometry.x.to_numpy(), resources.geometry.y.to_numpy(),
                                [cat_code[c] for c in resources["category"]], grid, legend,
                                f"二连浩特市{topic.output('t15.cultural_tourism_resources').name_zh}",
                                labels=labels, sizes=[40.0 + 160.0 * s for s in resources["score"]],
                                size_note=f"符号大小表示资源等级得分；标注得分 ≥ {label_min:g} 者", boundary=city,
                                subtitle="A级景区、文物与民族文化、地质遗迹、自然保护地")
    _put_map(writer, "t15.cultural_tourism_resources", png, thumbnail=True)
    _put_map(writer, "t15.tourism_network",
             _network_map(writer, roads, network, resources, colours, f"二连浩特市{topic.output('t15.tourism_network').name_zh}"))
    if projects is not None and len(projects):
        flag = near.groupby("项目名称 XMMC")["近期 near_term"].any()  # two projects may share a name
        pts = tm.representative_points(list(projects.geometry))
        codes = [1 if bool(flag.get(n, False)) else 2 for n in projects["XMMC"]]
        png = maps.render_point_map([p.x for p in pts], [p.y for p in pts], codes, grid,
                                    [(1, f"近期项目（{period[0]}–{period[1]}）", "#d7191c"), (2, "其他项目", "#2b83ba")],
                                    f"二连浩特市{topic.output('t15.near_term_projects').name_zh}",
                                    labels=list(projects["XMMC"]), boundary=city, subtitle="06-04 全域旅游发展总体规划")
    else:
        png = maps.render_point_map([], [], [], grid, [], f"二连浩特市{topic.output('t15.near_term_projects').name_zh}",
                                    boundary=city, subtitle="06-04 未交付")
    _put_map(writer, "t15.near_term_projects", png)

    progress(0.9, "report")
    fig = writer.figures

    def figs(*names: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(f[1] == f"maps/{n}.png" for n in names)]

    hub_cols = [c for c in resources.columns if c.startswith("min_to_")]
    inventory = pd.DataFrame(resources.drop(columns="geometry"))[
        ["resource_id", "name", "category", "grade", "score", "source", "township", "access_m", *hub_cols]]
    nearest = []
    for a in ids:
        row = minutes.loc[a, [b for b in ids if b != a]]
        if len(row) and np.isfinite(row).any():
            b = row.idxmin()
            nearest.append({"资源 resource": name_of[a], "最近资源 nearest": name_of[b], "分钟 min": float(row[b]),
                            "路网 km": float(km.loc[a, b])})
    corridor_show = pd.DataFrame(network.drop(columns="geometry"))[["corridor_id", "from_name", "to_name", "minutes", "length_km", "link"]]
    by_cat = res_summary[res_summary["township"] == "全市 whole city"][["category", "resources", "mean_score", "max_score", "grades"]]
    near_sum = (near_only.groupby("类型 XMLX", as_index=False).agg(项目数=("项目名称 XMMC", "size"), 总投资_万元=("总投资 万元", "sum"))
                if len(near_only) else pd.DataFrame(columns=["类型 XMLX", "项目数", "总投资_万元"]))
    figures = {
        "文化旅游资源 resources": f"{len(resources)} 处（{len(by_cat)} 类）",
        "旅游廊道 corridors": f"{len(network)} 条, {float(network['length_km'].sum()) if len(network) else 0.0:,.1f} km",
        "廊道总时间 corridor minutes": f"{float(network['minutes'].sum()) if len(network) else 0.0:,.0f} min",
        "近期项目 near-term projects": f"{len(near_only)} 项, {float(near_only['总投资 万元'].sum()) if len(near_only) else 0.0:,.0f} 万元",
    }
    src_text = "、".join(f"{ds} {inputs.version(ds)}" for ds in SOURCES.values() if inputs.has(ds))
    sections = [
        Section("1 文化旅游资源清单 Resource inventory",
                [f"资源取自 {src_text}：A级景区（06-03）、文物保护单位与国门界碑、边关驿站、民族文化（06-06.heritage）、地质遗迹（01-32，"
                 "恐龙化石产地等）与自然保护地（01-07，地质公园与保护区取面内代表点，保留面积）。每处资源按配置（categories）归入"
                 f"{'、'.join(v['categories']['list'])}，并按交付等级换算为 0–1 得分（scores：景区 GB/T 17775-2003，地质遗迹 "
                 "DZ/T 0303-2017，文物《文物保护法》保护级别，统一对照 GB/T 18972-2017 旅游资源五级，置信度 L）。"
                 "`t15.cultural_tourism_resources` 为专题八魅力特色区的输入。"],
                tables=[("资源分类汇总（全市）", by_cat.reset_index(drop=True)), ("资源清单", inventory)],
                figures=figs("cultural_tourism_resources")),
        Section("2 资源间可达性 Accessibility between resources",
                [f"路网为专题十四 `t14.road_network`（{summary['edges']} 条边，{summary['components']} 个连通分量，按市界截断 = "
                 f"{bool(v['network']['clip_to_city'])}），速度为其 speed_kmh（JTG B01-2014 设计速度，spec §5.7）。资源与枢纽以路外 "
                 f"{access_kmh:g} km/h 接驳至最近路段（access_m）；两两之间取 Dijkstra 最短时间（`t15.resource_times`，"
                 "network_km 为该最短时间路径的长度）。min_to_* 为至中心城区与二连口岸的网络时间。"],
                tables=[("各资源最近的另一资源", pd.DataFrame(nearest))], figures=[]),
        Section("3 旅游廊道与游憩网络 Tourism corridors",
                [f"以资源间最短时间为权的完全图取最小生成树（Kruskal）：以最少总时间串联全部得分 ≥ {min_score:g} 的资源（{len(nodes)} 处）；"
                 "另按配置 corridors.must_link 直接串联国门、恐龙地质公园、伊林驿站等标志性资源。每条廊道为路网上的最短时间路径"
                 "（`t15.tourism_network`）。廊道是现状路网上的串联骨架，而非新建道路的规划方案。"],
                tables=[("旅游廊道", corridor_show)], figures=figs("tourism_network")),
        Section("4 近期建设内容 Near-term projects",
                [f"06-04 全域旅游发展总体规划的规划项目（{inputs.version('06-04') if inputs.has('06-04') else '未交付'}）；近期为 "
                 f"{period[0]}–{period[1]} 年（开工不晚于期末且完工不早于期初），并列出各项目最近的资源。"],
                tables=[("近期项目汇总", near_sum), ("项目清单", near)], figures=figs("near_term_projects")),
        Section("5 未产出 Not produced",
                ["以下研究要点需要规划判断或尚无交付契约的资料，未由数据推导，故不伪造：城市文化特色与旅游发展思路（06-01 “十三五”旅游业"
                 "发展规划、06-02 文化产业发展规划、06-05 “十四五”规划设想为文本，未读取）；以国门界碑为代表的魅力特色区（专题八以本专题的资源"
                 "与廊道为输入划定）；跨境旅游首选地策略与“一带一路”节点城市定位（需规划判断）；教育、卫生、文化、养老设施的布局"
                 "（14-02、15-01 由专题八公共服务设施研究读取，本专题不重复）。"]),
        Section("6 说明 Notes", notes or ["—"]),
    ]
    summary_tables = {"资源分类 resources by category": records(by_cat), "旅游廊道 corridors": records(corridor_show),
                      "近期项目 near-term": records(near_only)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary_tables)
