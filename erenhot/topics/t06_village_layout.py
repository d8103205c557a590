"""T06 二连浩特市乡村振兴与嘎查布局优化研究 — 嘎查 classification and layout (lead 自然资源局).

Reads the 格日勒敖都苏木 deliveries 18-01 苏木嘎查基本情况 (嘎查委员会 驻地 points, households, 常住人口
now and 2015), 18-02 嘎查分类基本情况 (present classification, heritage / feature lists), optionally 18-03
苏木嘎查发展现状 (宅基地), the 01-04 boundaries, and the published layers ``t14.travel_time_city``
(minutes to the city, float32 on T02's grid, NaN outside), ``t02.eco_importance`` (1 极重要 …),
``t02.hazard`` (1 极高 … 5 不易发), ``t11.ecological_security_pattern`` (``kind == "source"``) and
optionally ``t11.eco_control_zones`` (``unit_type`` 1 优先保护, reported only). Evaluation spec §5.6 (classes, 暂不分类,
decision-table sketch), §5.4 (geometric projection). Every threshold is in
``erenhot/config/t06_village_layout.yaml``; the classifier is :mod:`erenhot.evaluation.villages`.

Per 嘎查 the indicators are sampled at its 驻地 (``sampling.buffer_radius_m``):

* ``travel_time_min`` — t14.travel_time_city at the 驻地 cell (mean within
  ``sampling.travel_time_fallback_radius_m`` when that cell is NaN — every such fallback is listed in
  the notes, and ``travel_time_sampled`` says how each value was obtained);
* ``eco_extreme_share`` / ``hazard_high_share`` — share of the valid buffer cells in 极重要 / 极高·高;
* ``eco_control_share`` / ``eco_source_share`` — share of the buffer *area* (exact polygon overlay)
  inside T11 优先保护单元 / 生态源地;
* ``population``, ``households``, ``pop_rate_pct`` (geometric mean annual change CZRK2015 → CZRK,
  :func:`erenhot.evaluation.projection.average_annual_growth`), ``heritage_lists`` (18-02 flags).

The ordered rule table classifies the present (18-01 statistics year) and, with the population
projected geometrically (:func:`erenhot.evaluation.projection.compound`), 2025 and 2035. 嘎查 classed
搬迁撤并类 in the first projection year leave the later layouts (``layout.drop_relocated``); from that
first year on their residents and households are counted at the nearest retained 嘎查 of
``layout.merge_target_classes`` (matched by index, never by name; the 中心城区 when there is none), so the
planned totals are conserved in every planning year (:func:`transfer`).

Outputs (GeoParquet points EPSG:4525 unless said): ``t06.village_status`` (嘎查 with indicators),
``t06.village_class_status``, ``t06.village_class_layout_2025`` / ``_2035`` (class, rule, reasons),
``t06.village_layout_2025`` / ``_2035`` (retained 嘎查, planned residents and households incl. those
received; in 2025 the 嘎查 to relocate with planned 0), ``t06.homestead_quota`` (CSV: 规划控制规模 =
planned households × 宅基地 standard, 一户一宅, beside the present 宅基地 of 18-03; 一户多宅 "无数据" when missing),
``t06.classification`` (CSV: every 嘎查 × year with indicators, class and reasons), maps, report.
"""

from __future__ import annotations

import io
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import projection as proj
from erenhot.evaluation import villages as vl
from erenhot.grid import read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records
from erenhot.topics.inputs import TopicInputs

CODE = "t06"
CONFIG = "t06_village_layout"
TRAVEL = "t14.travel_time_city"
HERITAGE_FLAGS = {"CTCL": "中国传统村落", "SSMZTS": "中国少数民族特色村寨", "LSWHMC": "中国历史文化名村", "TSJGLY": "全国特色景观旅游名村"}
REQUIRED_18_01 = ("XZQDM", "XZQMC", "GCMC", "HS", "CZRK", "CZRK2015", "TJND")
TOWN_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def _str_key(frame: pd.DataFrame) -> pd.Series:
    return frame["XZQDM"].astype(str).str.strip() + "|" + frame["GCMC"].astype(str).str.strip()


def _need(frame: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {missing} missing (has {sorted(map(str, frame.columns))})")


def sample_indicators(gacha: gpd.GeoDataFrame, grid, eco: np.ndarray, hazard: np.ndarray, travel: np.ndarray,
                      control: shapely.Geometry | None, sources: shapely.Geometry | None, sp: dict[str, Any]) -> pd.DataFrame:
    """The spatial indicators of every 嘎查 驻地 (one row per row of ``gacha``, same order).

    Args:
        gacha: points in the grid CRS (EPSG:4525).
        grid: the analysis grid of the three rasters.
        eco, hazard: class rasters (0 = outside); travel: float minutes (NaN = no data).
        control, sources: polygon unions (EPSG:4525) or None (share NaN then).
        sp: config ``sampling`` values.

    Returns:
        Columns ``travel_time_min``, ``eco_extreme_share``, ``hazard_high_share``, ``eco_control_share``,
        ``eco_source_share`` (shares 0–1) and ``travel_time_sampled`` — how the travel time was obtained
        (:func:`erenhot.evaluation.villages.sample_value`: ``cell``, ``buffer_mean`` when the 驻地 cell has
        no value, ``none``).
    """
    r = float(sp["buffer_radius_m"])
    rows = []
    for pt in gacha.geometry:
        x, y = float(pt.x), float(pt.y)
        buf = pt.buffer(r, quad_segs=32)

        def area_share(geom):
            if geom is None:
                return float("nan")
            return float(buf.intersection(geom).area / buf.area) if not geom.is_empty else 0.0

        tt, how = vl.sample_value(travel, grid.transform, x, y, float(sp["travel_time_fallback_radius_m"]))
        rows.append({
            "travel_time_min": tt,
            "travel_time_sampled": how,
            "eco_extreme_share": vl.class_share(eco, grid.transform, x, y, r, sp["eco_extreme_classes"]),
            "hazard_high_share": vl.class_share(hazard, grid.transform, x, y, r, sp["hazard_high_grades"]),
            "eco_control_share": area_share(control),
            "eco_source_share": area_share(sources),
        })
    return pd.DataFrame(rows, index=gacha.index)


def _classify_frame(ind: pd.DataFrame, table: vl.RuleTable) -> pd.DataFrame:
    out = [vl.classify({k: (None if pd.isna(v) else float(v)) for k, v in row.items()}, table) for row in ind.to_dict("records")]
    return pd.DataFrame({"class": [c.cls for c in out], "rule": [c.rule for c in out], "reasons": [c.reason_zh for c in out]},
                        index=ind.index)


def _point_map(writer: LayerWriter, output_id: str, gdf: gpd.GeoDataFrame, codes, legend, *, labels=None, sizes=None,
               size_note: str | None = None, subtitle: str | None = None, thumbnail: bool = False, boundary=None) -> None:
    title = f"二连浩特市{writer.topic.output(output_id).name_zh}"
    png = maps.render_point_map(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), list(codes), writer.grid, legend, title,
                                labels=labels, sizes=sizes, size_note=size_note,
                                boundary=writer.boundary if boundary is None else boundary, subtitle=subtitle)
    writer.map_png(output_id, title, png, thumbnail)


def _sizes(pop: pd.Series) -> list[float]:
    return [30.0 + 170.0 * math.sqrt(max(float(p), 0.0) / max(float(pop.max()), 1.0)) for p in pop]


def nearest_targets(points: gpd.GeoSeries, relocated: pd.Series, targets: pd.Series) -> pd.Series:
    """The index label of the nearest target 嘎查 (``targets`` True, not relocated) for every relocated
    row — matched by position, never by name (two 苏木 may have 嘎查 of the same name); ``None`` for a
    relocated row when there is no target (its residents go to the city) and for rows not relocated."""
    pool = points[targets & ~relocated]
    out = [None] * len(points)
    for k, i in enumerate(points.index):
        if bool(relocated[i]) and len(pool):
            out[k] = pool.distance(points[i]).idxmin()
    return pd.Series(out, index=points.index, dtype=object)


def transfer(own: pd.Series, relocated: pd.Series, target: pd.Series) -> tuple[pd.Series, pd.Series, float]:
    """Move the residents (or households) ``own`` of every relocated row to its ``target`` row (an index
    label of ``own``; ``None`` = to the city).

    Returns:
        ``(received, planned, to_city)``: what each row receives; planned = own + received, 0 for a
        relocated row (it moves out in that year); the sum sent to the city. Conserved:
        ``planned.sum() + to_city == own.sum()``.
    """
    received = pd.Series(0.0, index=own.index)
    to_city = 0.0
    moving = relocated.reindex(own.index, fill_value=False).astype(bool)
    for i in own.index[moving]:
        t = target[i]
        if t is None or (isinstance(t, float) and math.isnan(t)):
            to_city += float(own[i])
        else:
            if bool(moving[t]):
                raise ValueError(f"row {i} moves to row {t}, which is relocated itself")
            received[t] += float(own[i])
    planned = (own.astype(float) + received).where(~moving, 0.0)
    return received, planned, to_city


def whole_households(hh: pd.Series) -> pd.Series:
    """Households rounded half up to whole households (moved and counted as whole households)."""
    return np.floor(hh.astype(float) + 0.5)


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Classify every 嘎查 (present, 2025, 2035), lay out the retained ones, compute the 宅基地 control
    scale; publish layers, tables, maps and the report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: an input the evaluation needs is not resolved (names it).
        ValueError: a delivery lacks a column the evaluation needs, the layers do not share T02's grid,
            or the rule table of the configuration is malformed (unknown indicator / operator / threshold).
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    classes = list(v["classes"])
    code_of = {c: i + 1 for i, c in enumerate(classes)}
    colours = v["colours"]
    legend = [(code_of[c], c, colours.get(c, "#999999")) for c in classes]
    table = vl.parse_rules(v["rules"], v["thresholds"], v["indicators"], v["fallback"]["class"], v["fallback"]["reason_zh"],
                           classes, int(v["decimals"]))
    sp = v["sampling"]

    progress(0.05, "grid, boundaries and upstream layers")
    eco, grid, _ = read_raster(inputs.layer_bytes("t02.eco_importance"))
    hazard, hgrid, _ = read_raster(inputs.layer_bytes("t02.hazard"))
    travel, tgrid, _ = read_raster(inputs.layer_bytes(TRAVEL))
    for lid, g in (("t02.hazard", hgrid), (TRAVEL, tgrid)):
        if g.shape != grid.shape or tuple(g.transform)[:6] != tuple(grid.transform)[:6]:
            raise ValueError(f"layer {lid} is not on T02's grid (shape {g.shape} vs {grid.shape}); topic 14 must publish on t02's grid")
    travel = travel.astype("float64")
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships")
    writer = LayerWriter(pub, topic, grid, city)
    esp = gpd.read_parquet(io.BytesIO(inputs.layer_bytes("t11.ecological_security_pattern")))
    _need(esp, ("kind",), "t11.ecological_security_pattern")
    src = esp[esp["kind"].astype(str) == "source"]
    sources = shapely.union_all(src.geometry.to_crs(grid.crs_epsg).values) if len(src) else shapely.Polygon()
    control = None
    if inputs.has_layer("t11.eco_control_zones"):
        zones = gpd.read_parquet(io.BytesIO(inputs.layer_bytes("t11.eco_control_zones")))
        _need(zones, ("unit_type",), "t11.eco_control_zones")
        pri = zones[zones["unit_type"].astype(int).isin([int(t) for t in sp["eco_control_unit_types"]])]
        control = shapely.union_all(pri.geometry.to_crs(grid.crs_epsg).values) if len(pri) else shapely.Polygon()
    else:
        notes.append("t11.eco_control_zones not published: eco_control_share is missing (no rule uses it by default).")

    progress(0.15, "18-01 嘎查 and 18-02 分类基本情况")
    gacha = inputs.vector("18-01").to_crs(grid.crs_epsg).reset_index(drop=True)
    _need(gacha, REQUIRED_18_01, f"18-01 {inputs.version('18-01')}")
    gacha["XZQDM"] = gacha["XZQDM"].astype(str).str.strip()
    gacha["GCMC"] = gacha["GCMC"].astype(str).str.strip()
    gacha["key"] = _str_key(gacha)
    if gacha["key"].duplicated().any():
        raise ValueError(f"18-01 {inputs.version('18-01')}: 嘎查 listed twice: {sorted(gacha.loc[gacha['key'].duplicated(), 'GCMC'])}")
    cls18 = inputs.table("18-02")
    _need(cls18, ("XZQDM", "GCMC", "XZFL", *HERITAGE_FLAGS), f"18-02 {inputs.version('18-02')}")
    cls18["key"] = _str_key(cls18)
    unknown = sorted(set(cls18["key"]) - set(gacha["key"]))
    if unknown:
        notes.append(f"18-02 rows without a 嘎查 in 18-01 (ignored): {unknown}.")
    not_listed = sorted(set(gacha["key"]) - set(cls18["key"]))
    if not_listed:
        notes.append(f"18-02 has no row for {not_listed}: taken as on no heritage list, no present class.")
    cls18 = cls18.drop_duplicates("key").set_index("key")
    flags = cls18.reindex(gacha["key"])[list(HERITAGE_FLAGS)].apply(pd.to_numeric, errors="coerce").fillna(0).astype(int)
    flags.index = gacha.index
    gacha["heritage_lists"] = (flags > 0).sum(axis=1).astype(int)
    gacha["heritage"] = ["、".join(HERITAGE_FLAGS[c] for c in HERITAGE_FLAGS if row[c] > 0) for _, row in flags.iterrows()]
    if "MLMC" in cls18.columns:
        mlmc = cls18.reindex(gacha["key"])["MLMC"].to_numpy()
        gacha["heritage"] = [f"{h}（{m}）" if h and isinstance(m, str) and m.strip() else h for h, m in zip(gacha["heritage"], mlmc)]
    xzfl = cls18.reindex(gacha["key"])["XZFL"].to_numpy()
    gacha["present_class"] = [str(x).strip() if isinstance(x, str) and x.strip() else "" for x in xzfl]

    progress(0.25, "population trend and spatial indicators")
    base_year = int(pd.to_numeric(gacha["TJND"]).max())
    start = int(v["projection"]["trend_start_year"])
    years = [int(y) for y in v["projection"]["years"]]
    if v["projection"]["method"] != "geometric":
        raise ValueError(f"projection.method must be geometric, got {v['projection']['method']!r}")
    rates, proj_pop = [], {y: [] for y in years}
    for row in gacha.itertuples():
        cz, cz15, ty = float(row.CZRK), float(row.CZRK2015), int(row.TJND)
        try:
            r = proj.average_annual_growth(cz15, cz, ty - start, name=f"18-01 {row.GCMC} 常住人口")
        except ValueError as exc:
            r = float("nan")
            notes.append(f"{row.GCMC}: no population trend ({exc}); its population is held at CZRK {cz:.0f}.")
        rates.append(r)
        p = proj.compound(cz, ty, 0.0 if math.isnan(r) else r, years, name=str(row.GCMC)) if cz > 0 else None
        for y in years:
            proj_pop[y].append(p.values[y] if p is not None else 0.0)
    gacha["pop_rate_pct"] = np.array(rates) * 100.0
    spatial = sample_indicators(gacha, grid, eco, hazard, travel, control, sources, sp)
    for c in spatial.columns:
        gacha[c] = spatial[c]
    fb_r = float(sp["travel_time_fallback_radius_m"])
    for i in gacha.index[gacha["travel_time_sampled"] == vl.SAMPLED_BUFFER_MEAN]:
        notes.append(f"Fallback: {TRAVEL} has no value in the 驻地 cell of {gacha.loc[i, 'GCMC']}（{gacha.loc[i, 'XZQMC']}）; "
                     f"travel_time_min = {gacha.loc[i, 'travel_time_min']:.1f} min is the mean of the valid cells within "
                     f"{fb_r:g} m (sampling.travel_time_fallback_radius_m).")
    no_tt = gacha.loc[gacha["travel_time_min"].isna(), "GCMC"].tolist()
    if no_tt:
        notes.append(f"{TRAVEL} has no value at or within {fb_r:g} m of the 驻地 of {no_tt}: the travel-time condition fails for them.")

    ind_names = list(v["indicators"])

    def indicators(pop: pd.Series, hh: pd.Series) -> pd.DataFrame:
        f = pd.DataFrame({"population": pop, "households": hh}, index=gacha.index)
        for n in ind_names:
            if n not in f.columns:
                f[n] = gacha[n]
        return f[ind_names]

    scen: dict[str, dict[str, Any]] = {}
    status_ind = indicators(gacha["CZRK"].astype(float), gacha["HS"].astype(float))
    scen["status"] = {"year": base_year, "ind": status_ind, "res": _classify_frame(status_ind, table)}
    for y in years:
        pop = pd.Series(proj_pop[y], index=gacha.index, dtype=float)
        hh = gacha["HS"].astype(float) * np.where(gacha["CZRK"].astype(float) > 0, pop / gacha["CZRK"].astype(float), 0.0)
        ind = indicators(pop, hh)
        scen[str(y)] = {"year": y, "ind": ind, "res": _classify_frame(ind, table)}

    progress(0.45, "layouts 2025 / 2035")
    lay = v["layout"]
    first = str(years[0])
    relocated = (scen[first]["res"]["class"] == "搬迁撤并类") & bool(lay["drop_relocated"])
    target_ok = scen[first]["res"]["class"].isin(list(lay["merge_target_classes"]))
    merge_idx = nearest_targets(gacha.geometry, relocated, target_ok)
    city_name = str(lay["city_name"])
    dup_name = gacha["GCMC"].duplicated(keep=False)
    shown = gacha["GCMC"].where(~dup_name, gacha["GCMC"] + "（" + gacha["XZQMC"].astype(str) + "）")  # same name in two 苏木
    merge_into = pd.Series([shown[t] if t is not None else (city_name if relocated[i] else "")
                            for i, t in merge_idx.items()], index=gacha.index, dtype=object)
    merge_key = pd.Series([gacha.loc[t, "key"] if t is not None else (city_name if relocated[i] else "")
                           for i, t in merge_idx.items()], index=gacha.index, dtype=object)
    present_in = {str(y): (pd.Series(True, index=gacha.index) if i == 0 else ~relocated) for i, y in enumerate(years)}

    base_cols = ["XZQDM", "XZQMC", "GCMC"]
    hs_std = v["homestead"]["standard_m2_per_household"]
    hs_conf = str(cfg.leaf("homestead.standard_m2_per_household")["confidence"])

    def standard(c: str) -> float:
        return float(hs_std.get(c, hs_std["default"]))

    dev = None
    if inputs.has("18-03"):
        dev = inputs.table("18-03")
        _need(dev, ("XZQDM", "GCMC", "ZJDZS", "ZJDMJ", "XZZJDZS", "YHDZHS"), f"18-03 {inputs.version('18-03')}")
        dev["key"] = _str_key(dev)
        dev = dev.drop_duplicates("key").set_index("key").reindex(gacha["key"])
        dev.index = gacha.index
    else:
        notes.append("18-03 苏木嘎查发展现状 not delivered: the quota is not compared with the present 宅基地.")

    layouts: dict[str, gpd.GeoDataFrame] = {}
    quota_rows = []
    moved_to_city: dict[int, tuple[float, float]] = {}
    no_move = pd.Series(False, index=gacha.index)
    for key, sc in scen.items():
        res, ind = sc["res"], sc["ind"]
        keep = present_in.get(key, pd.Series(True, index=gacha.index))
        # the residents of a 嘎查 relocated in the first projection year count at their target from that year on
        moving = no_move if key == "status" else relocated
        own_hh = whole_households(ind["households"])
        received_pop, planned_pop, city_pop = transfer(ind["population"].astype(float), moving, merge_idx)
        received_hh, planned_hh, city_hh = transfer(own_hh, moving, merge_idx)
        if key != "status":
            moved_to_city[sc["year"]] = (city_pop, city_hh)
            lay_df = gacha.loc[keep, base_cols].copy()
            lay_df["year"] = sc["year"]
            lay_df["class"] = res.loc[keep, "class"]
            lay_df["population_own"] = ind.loc[keep, "population"].round(0)
            lay_df["population_received"] = received_pop[keep].round(0)
            lay_df["population_moved_out"] = ind.loc[keep, "population"].where(moving[keep], 0.0).round(0)
            lay_df["population_planned"] = planned_pop[keep].round(0)
            lay_df["households_own"] = own_hh[keep]
            lay_df["households_received"] = received_hh[keep]
            lay_df["households_planned"] = planned_hh[keep]
            lay_df["to_relocate"] = moving[keep]
            lay_df["merge_into"] = merge_into[keep].where(moving[keep], "")
            lay_df["merge_into_key"] = merge_key[keep].where(moving[keep], "")
            layouts[key] = gpd.GeoDataFrame(lay_df, geometry=gacha.geometry[keep].values, crs=gacha.crs)
        for i in gacha.index[keep]:
            c = res.loc[i, "class"]
            hh = float(planned_hh[i])
            std = standard(c)
            quota = float(v["homestead"]["relocated_quota"]) if (c == "搬迁撤并类" or moving[i]) else \
                vl.homestead_quota(hh, std, homesteads_per_household=int(v["homestead"]["homesteads_per_household"]))
            row = {"XZQDM": gacha.loc[i, "XZQDM"], "XZQMC": gacha.loc[i, "XZQMC"], "GCMC": gacha.loc[i, "GCMC"],
                   "year": sc["year"], "scenario": "现状" if key == "status" else f"{key}年规划", "class": c,
                   "households_own": float(own_hh[i]), "households_received": float(received_hh[i]),
                   "households_moved_out": float(own_hh[i]) if moving[i] else 0.0,
                   "moved_to": merge_into[i] if moving[i] else "",
                   "households": hh, "standard_m2_per_household": std, "standard_confidence": hs_conf,
                   "planned_quota_m2": round(quota, 1), "planned_quota_hm2": round(quota / 1e4, 3)}
            if dev is not None:
                plots, area = dev.loc[i, "ZJDZS"], dev.loc[i, "ZJDMJ"]
                row.update({"present_area_m2": area, "present_plots": plots, "idle_plots": dev.loc[i, "XZZJDZS"],
                            "multi_homestead_households": dev.loc[i, "YHDZHS"],
                            "surplus_m2": round(float(area) - quota, 1) if pd.notna(area) else np.nan,
                            "one_household_one_homestead": vl.one_household_one_homestead(dev.loc[i, "YHDZHS"])})
            quota_rows.append(row)
    for y, (cp, ch) in moved_to_city.items():
        if ch or cp:
            notes.append(f"{y}: {ch:.0f} households ({cp:.0f} residents) of relocated 嘎查 have no retained 嘎查 to join and are "
                         f"counted at {city_name} (not in the 宅基地 control scale).")
    quota_table = pd.DataFrame(quota_rows)
    for c in ("households_own", "households_received", "households_moved_out", "households"):
        quota_table[c] = quota_table[c].astype("int64")  # whole households

    progress(0.6, "tables and layers")
    class_rows = []
    for key, sc in scen.items():
        keep = present_in.get(key, pd.Series(True, index=gacha.index))
        for i in gacha.index:
            row = {"XZQDM": gacha.loc[i, "XZQDM"], "XZQMC": gacha.loc[i, "XZQMC"], "GCMC": gacha.loc[i, "GCMC"],
                   "year": sc["year"], "scenario": "现状" if key == "status" else f"{key}年规划"}
            row.update({n: sc["ind"].loc[i, n] for n in ind_names})
            row.update({"class": sc["res"].loc[i, "class"] if keep[i] else "已搬迁撤并",
                        "rule": sc["res"].loc[i, "rule"] if keep[i] else "relocated",
                        "reasons": sc["res"].loc[i, "reasons"] if keep[i] else f"{first}年分类为搬迁撤并类，并入{merge_into[i]}",
                        "present_class_18_02": gacha.loc[i, "present_class"]})
            class_rows.append(row)
    classification = pd.DataFrame(class_rows)
    for c in ("population", "households"):
        classification[c] = classification[c].round(1)
    for c in ("pop_rate_pct", "travel_time_min", "eco_extreme_share", "hazard_high_share", "eco_control_share", "eco_source_share"):
        if c in classification:
            classification[c] = classification[c].astype(float).round(4)

    status_cols = ["XZQDM", "XZQMC", "GCMC", "HS", "HJRK", "CZRK", "CZRK2015", "TJND", "pop_rate_pct", "travel_time_min",
                   "travel_time_sampled", "eco_extreme_share", "hazard_high_share", "eco_control_share", "eco_source_share", "heritage_lists", "heritage",
                   "present_class"]
    status_cols = [c for c in status_cols if c in gacha.columns]
    village_status = gpd.GeoDataFrame(gacha[status_cols].copy(), geometry=gacha.geometry.values, crs=gacha.crs)
    if dev is not None:
        for c in ("ZJDZS", "ZJDMJ", "XZZJDZS", "YHDZHS"):
            village_status[c] = dev[c].values

    def class_layer(key: str) -> gpd.GeoDataFrame:
        sc = scen[key]
        keep = present_in.get(key, pd.Series(True, index=gacha.index))
        f = gacha.loc[keep, base_cols].copy()
        f["year"] = sc["year"]
        f["population"] = sc["ind"].loc[keep, "population"].round(0)
        f["class"] = sc["res"].loc[keep, "class"]
        f["class_code"] = f["class"].map(code_of).astype("int64")
        f["rule"] = sc["res"].loc[keep, "rule"]
        f["reasons"] = sc["res"].loc[keep, "reasons"]
        f["present_class_18_02"] = gacha.loc[keep, "present_class"]
        return gpd.GeoDataFrame(f, geometry=gacha.geometry[keep].values, crs=gacha.crs)

    class_status = class_layer("status")
    class_layouts = {str(y): class_layer(str(y)) for y in years}
    writer.vector("t06.village_status", village_status)
    writer.vector("t06.village_class_status", class_status)
    for y in years:
        writer.vector(f"t06.village_class_layout_{y}", class_layouts[str(y)])
        writer.vector(f"t06.village_layout_{y}", layouts[str(y)])
    writer.table("t06.classification", "classification", classification, "嘎查分类与理由 classification with reasons")
    writer.table("t06.homestead_quota", "homestead_quota", quota_table, "宅基地控制规模 homestead quota")

    progress(0.75, "maps")
    town_codes = {c: i + 1 for i, c in enumerate(sorted(gacha["XZQDM"].unique()))}
    town_names = dict(zip(gacha["XZQDM"], gacha["XZQMC"]))
    town_legend = [(k, f"{town_names[c]} 嘎查驻地", TOWN_COLOURS[(k - 1) % len(TOWN_COLOURS)]) for c, k in town_codes.items()]
    _point_map(writer, "t06.village_status", village_status, village_status["XZQDM"].map(town_codes), town_legend,
               labels=[f"{n} {int(p)}人" for n, p in zip(gacha["GCMC"], gacha["CZRK"])], sizes=_sizes(gacha["CZRK"]),
               size_note="符号大小表示常住人口", subtitle=f"18-01 苏木嘎查基本情况（{base_year}年），乡镇界 01-04", thumbnail=True,
               boundary=townships)
    _point_map(writer, "t06.village_class_status", class_status, class_status["class_code"], legend,
               labels=list(class_status["GCMC"]), sizes=_sizes(class_status["population"]), size_note="符号大小表示常住人口",
               subtitle=f"{base_year}年现状分类（规则表 config rules）", thumbnail=True)
    for y in years:
        cl = class_layouts[str(y)]
        _point_map(writer, f"t06.village_class_layout_{y}", cl, cl["class_code"], legend, labels=list(cl["GCMC"]),
                   sizes=_sizes(cl["population"]), size_note="符号大小表示预测常住人口", subtitle=f"{y}年村庄分类（人口按趋势预测）")
        lo = layouts[str(y)]
        lab = [f"{n}{'（拟撤并→' + m + '）' if t else ''}" for n, t, m in zip(lo["GCMC"], lo["to_relocate"], lo["merge_into"])]
        _point_map(writer, f"t06.village_layout_{y}", lo, lo["class"].map(code_of), legend, labels=lab,
                   sizes=_sizes(lo["population_planned"]), size_note="符号大小表示规划常住人口（含迁入）",
                   subtitle=f"{y}年村庄布局（搬迁撤并嘎查并入最近的保留嘎查）", thumbnail=y == years[-1])

    progress(0.9, "report")
    rule_rows = []
    for i, r in enumerate(table.rules, start=1):
        conds = [(" 且 ", r.all), (" 或 ", r.any)]
        text = "；".join(j.join(f"{table.indicators[c.indicator]['zh']} {c.op} {c.threshold:g}" for c in cs) for j, cs in conds if cs)
        srcs = sorted({c.threshold_name for c in (*r.all, *r.any) if c.threshold_name})
        rule_rows.append({"顺序": i, "规则": r.id, "分类": r.cls, "条件 (all 且 / any 或)": text,
                          "阈值来源 config": ", ".join(f"thresholds.{s} [{cfg.leaf('thresholds.' + s)['confidence']}]" for s in srcs)})
    rule_rows.append({"顺序": len(table.rules) + 1, "规则": "fallback", "分类": table.fallback, "条件 (all 且 / any 或)": "以上均不满足",
                      "阈值来源 config": "fallback.class [M]"})
    rules_df = pd.DataFrame(rule_rows)

    def summary(key: str) -> pd.Series:
        sc = scen[key]
        keep = present_in.get(key, pd.Series(True, index=gacha.index))
        return sc["res"].loc[keep, "class"].value_counts().reindex(classes, fill_value=0)

    counts = pd.DataFrame({f"{'现状' if k == 'status' else k + '年'}": summary(k) for k in scen}).rename_axis("分类").reset_index()
    compare = class_status[["GCMC", "class", "present_class_18_02"]].copy()
    compare["一致"] = np.where(compare["present_class_18_02"] == "", "（无现行分类）",
                             np.where(compare["class"] == compare["present_class_18_02"], "是", "否"))
    ind_tab = pd.DataFrame(village_status.drop(columns="geometry"))
    for c in ("pop_rate_pct", "travel_time_min", "eco_extreme_share", "hazard_high_share", "eco_control_share", "eco_source_share"):
        if c in ind_tab:
            ind_tab[c] = ind_tab[c].astype(float).round(3)
    trend = pd.DataFrame({"嘎查": gacha["GCMC"], f"{start}年常住人口": gacha["CZRK2015"].astype(float),
                          f"{base_year}年常住人口": gacha["CZRK"].astype(float),
                          "年均变化率 %/a": gacha["pop_rate_pct"].astype(float).round(2),
                          **{f"{y}年预测": np.round(proj_pop[y], 0) for y in years}})
    total = {c: (trend[c].sum() if c not in ("嘎查", "年均变化率 %/a") else "") for c in trend.columns}
    total["嘎查"] = "合计"
    if trend[f"{start}年常住人口"].sum() > 0 and base_year > start:
        total["年均变化率 %/a"] = round(100 * ((trend[f"{base_year}年常住人口"].sum() / trend[f"{start}年常住人口"].sum())
                                          ** (1 / (base_year - start)) - 1), 2)
    trend = pd.concat([trend, pd.DataFrame([total])], ignore_index=True)
    for c in trend.columns:
        if c.endswith("常住人口") or c.endswith("预测"):
            trend[c] = trend[c].astype(float).round(0).astype(int)
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(f[1] == f"maps/{k}.png" for k in keys)]

    reloc_names = gacha.loc[relocated, "GCMC"].tolist()
    figures = {
        "嘎查数 villages": f"{len(gacha)}（{base_year}年，18-01）",
        **{f"{'现状' if k == 'status' else k + '年'}分类": ", ".join(f"{c} {int(n)}" for c, n in summary(k).items() if n) for k in scen},
        f"{years[0]}年后搬迁撤并": "、".join(f"{n}→{merge_into[i]}" for n, i in zip(reloc_names, gacha.index[relocated])) or "无",
        f"宅基地规划控制规模 {years[-1]}": f"{quota_table[quota_table['year'] == years[-1]]['planned_quota_m2'].sum() / 1e4:,.2f} hm²"
                                     f"（户均标准置信度 {hs_conf}）",
    }
    q_now = quota_table[quota_table["scenario"] == "现状"]
    quota_report = quota_table.rename(columns={
        "GCMC": "嘎查", "XZQMC": "苏木", "scenario": "情景", "class": "分类", "households_own": "本嘎查户数",
        "households_received": "迁入户数", "households_moved_out": "迁出户数", "moved_to": "迁入地", "households": "规划户数",
        "standard_m2_per_household": "户均标准 m²/户", "standard_confidence": "标准置信度",
        "planned_quota_m2": "规划控制规模 m²", "present_area_m2": "现状宅基地面积 m²（18-03）", "present_plots": "现状宅基地宗数",
        "idle_plots": "闲置宗数", "multi_homestead_households": "一户多宅户数", "surplus_m2": "现状−规划 m²",
        "one_household_one_homestead": "一户一宅"}).drop(columns=["XZQDM", "year", "planned_quota_hm2"])
    hs_text = "；".join(f"{k} {val} m²/户" for k, val in hs_std.items())
    sections = [
        Section("1 嘎查现状 Present villages",
                [f"18-01 苏木嘎查基本情况（{base_year}年）{len(gacha)} 个嘎查（含城郊牧户）。常住人口年均变化率 = "
                 f"(CZRK / CZRK2015)^(1/({base_year}−{start})) − 1（几何平均，spec §5.4）。空间指标在驻地 "
                 f"{sp['buffer_radius_m']} m 缓冲区内取样：T02 生态保护极重要区与灾害极高/高危险区为栅格占比，"
                 "T11 生态优先保护单元与生态源地为面积占比，T14 至中心城区通行时间取驻地所在栅格（该栅格无值时取 "
                 f"{fb_r:g} m 内有效栅格均值，逐一列于说明；列 travel_time_sampled：cell 驻地栅格，buffer_mean 缓冲区均值，"
                 "none 无值）。"],
                tables=[("嘎查现状与指标", ind_tab), ("农村牧区人口转移态势：常住人口变化与趋势预测（人）", trend)],
                figures=figs("village_status")),
        Section("2 分类规则 Decision table",
                ["规则按顺序判定，首条满足者决定分类（all：全部满足；any：任一满足）；均不满足者暂不分类。"
                 "比较符按配置原样执行（>= 含阈值，> 不含），数值先取 decimals 位小数再比较；缺失指标的条件视为不满足。"
                 "四类村庄的定义见《乡村振兴战略规划（2018—2022年）》，阈值多为本地取值（置信度 L），见配置表。"],
                tables=[("分类规则表", rules_df)]),
        Section("3 现状分类 Present classification",
                ["每个嘎查的理由列出决定其分类的全部指标及阈值；与 18-02 现行分类对照。"],
                tables=[("分类结果与理由", class_status[["GCMC", "class", "rule", "reasons"]].rename(
                    columns={"GCMC": "嘎查", "class": "分类", "rule": "规则", "reasons": "理由"})),
                        ("与现行分类（18-02）对照", compare.rename(columns={"GCMC": "嘎查", "class": "本研究分类",
                                                                      "present_class_18_02": "现行分类"}))],
                figures=figs("village_class_status")),
        Section(f"4 {'、'.join(map(str, years))}年村庄分类与布局 Classification and layout",
                [f"各嘎查常住人口按自身趋势几何外推（erenhot.evaluation.projection.compound），户数按现状户均人口折算；"
                 f"以预测人口重新分类。{years[0]}年分类为搬迁撤并类的嘎查在其后的布局中撤销（layout.drop_relocated = "
                 f"{lay['drop_relocated']}），其人口与户数自{years[0]}年起计入最近的{'、'.join(lay['merge_target_classes'])}嘎查"
                 f"（按嘎查位置匹配，非按名称；无则计入{city_name}），{years[0]}年布局中该嘎查标为拟撤并、规划人口为 0，"
                 "各年规划人口与户数合计守恒。"],
                tables=[("分类数量", counts),
                        ("分年度分类与理由", classification[classification["scenario"] != "现状"][
                            ["GCMC", "year", "population", "class", "rule", "reasons"]])],
                figures=figs(*[f"village_class_layout_{y}" for y in years], *[f"village_layout_{y}" for y in years])),
        Section("5 宅基地控制规模 Homestead control scale",
                [f"规划控制规模 = 规划户数 × 一户一宅（《土地管理法》第六十二条：一户只能拥有一处宅基地，面积不得超过省、自治区、"
                 f"直辖市规定的标准）× 户均宅基地标准（{hs_text}；置信度 {hs_conf}：按记忆取值，须与自治区及锡林郭勒盟现行标准核对，"
                 "可配置）。规划户数 = 本嘎查预测户数 + 迁入户数 − 迁出户数；"
                 f"{years[0]}年分类为搬迁撤并类的嘎查自{years[0]}年起户数计入迁入嘎查（总户数逐年守恒，无保留嘎查时计入"
                 f"{city_name}，见说明），其自身不再新增宅基地（规划控制规模 {float(v['homestead']['relocated_quota']):g} m²）。"
                 "“现状”行为按现状分类计算的规划控制规模（非现状用地），现状宅基地面积（18-03）列于其旁；两者之差为可腾退/盘活规模。"
                 "一户多宅户数缺失者标为“无数据”。"],
                tables=[("宅基地规划控制规模", quota_report)]),
        Section("6 未产出 Not produced",
                ["以下成果需规划人员判断或尚无资料，未由数据生成：国内外、区内外乡村振兴与村庄布局经验总结；农村牧区人口转移与"
                 "城镇人口下乡的政策导向及配套政策；嘎查村景观风貌控制性要求与历史文化景观保护措施（需现场调查与风貌评价）；"
                 "04-12 乡村振兴战略规划、11-01 公安人口流动、t13.sumu_gacha_layout 未读入（见目录 notes）。"]),
        Section("7 说明 Notes", notes or ["—"]),
    ]
    summary_tables = {"分类 classification": records(class_status.drop(columns="geometry")),
                      "宅基地 homestead": records(q_now)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary_tables)
