"""T04 二连浩特市国土空间规划战略定位与总体布局研究 — 三区三线, 规划分区, indicator table, spatial structure
and overall layout (lead 自然资源局, with 发改委).

Reads T02's 生态保护重要性 (its grid is the analysis grid) and slope, T03's suitability and 承载规模, T05's
candidate 城镇开发边界, urban system, population forecast, urbanisation rates and land demand, T11's
ecological security pattern, T12's water targets and 以水定人, T09's pastoral pattern and 保有量 targets
(optional), T14's hubs and road network, and the deliveries 01-04 (boundaries), 01-47 (生态保护红线划定
成果), 01-40 (耕地质量等别), 01-46a.dltb (三调), 01-07 (自然保护地, optional) and 02-06 (railway, optional).
Computes with :mod:`erenhot.evaluation.control_lines` (every rule from
``erenhot/config/t04_strategy_layout.yaml``):

* three control-line candidates (GeoParquet, EPSG:4525, fields of the 市级国土空间总体规划数据库规范 where
  the evaluation spec §4.1 gives them; MJ in m²): ``t04.stbhhx`` 生态保护红线 (01-47 ∪ 01-07 ∪ t11 sources
  ∪ T02 极重要 patches, without construction land and cropland), ``t04.yjjbnt`` 永久基本农田 (三调 耕地 graded by
  01-40, grade/size/slope rule), ``t04.czkfbj`` 城镇开发边界 (t05.development_boundary);
* their overlaps before and after the precedence of config ``control_lines.precedence`` (2019 指导意见)
  → ``t04.control_line_overlaps``; the run fails (:class:`~erenhot.evaluation.control_lines.ControlLineOverlapError`)
  if any pair still overlaps after resolution;
* 规划分区 (spec §4.5): the lines as 生态保护区 / 农田保护区 / 城镇发展区, the rest of the city by the first
  matching rule of ``zones.rules`` on T02/T03/T09 layers and 三调 groups → ``t04.planning_zones``; the
  生态 / 农业 / 城镇 spaces as their union → ``t04.three_spaces``;
* the 约束性 / 预期性 indicator table from the upstream layers (each value with the layer and column it
  comes from, or "not available") → ``t04.indicators``;
* 国土空间结构 (centres, axes, hubs, ecological sources/corridors — only what data gives) and 总体布局
  (zones + lines) with their maps.
"""

from __future__ import annotations

import io
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features
from scipy import ndimage

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import control_lines as cl
from erenhot.evaluation.plan_integration import AREA_UNITS_HA
from erenhot.grid import Grid, boundary_mask, rasterize, read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records
from erenhot.topics.inputs import TopicInputs

CODE = "t04"
CONFIG = "t04_strategy_layout"
LINES = ("STBHHX", "YJJBNT", "CZKFBJ")
LINE_OUTPUT = {"STBHHX": "t04.stbhhx", "YJJBNT": "t04.yjjbnt", "CZKFBJ": "t04.czkfbj"}
LINE_COLOURS = {"STBHHX": "#006d2c", "YJJBNT": "#b8860b", "CZKFBJ": "#cb181d"}
SPACE_CODES = {"生态空间": 1, "农业空间": 2, "城镇空间": 3}
TABLE_LAYERS = ("t03.carrying_scale", "t05.population_forecast", "t05.urbanisation_rate", "t05.land_demand",
                "t12.water_targets", "t12.water_bound_scales", "t09.targets", "t01.indicator_system")
OLD_PLAN_LAYER = "t01.indicator_system"
# units as the old plans' tables write them → (quantity, factor to the base unit of that quantity)
UNIT_FACTORS = {**{u: ("area", f) for u, f in AREA_UNITS_HA.items()},  # the area units T01 reads 01-46a.ghzb with
                "平方米/人": ("per_capita", 1.0), "m²/人": ("per_capita", 1.0), "%": ("share", 1.0),
                "人": ("persons", 1.0), "万人": ("persons", 1e4), "万m³": ("water", 1.0), "万立方米": ("water", 1.0),
                "亿立方米": ("water", 1e4)}


def unit_factor(from_unit: str, to_unit: str) -> float | None:
    """Factor that turns a value in ``from_unit`` into ``to_unit`` (公顷/hm², 平方公里/km², 亩, 万亩,
    平方米/人, %, 人/万人, 万m³/亿立方米); ``None`` when either is unknown or they measure different things.
    1 hm² = 0.01 km² = 15 亩 (GB 3100-1993 法定计量单位; 亩 = 666.67 m²)."""
    a, b = UNIT_FACTORS.get(str(from_unit).strip()), UNIT_FACTORS.get(str(to_unit).strip())
    if str(from_unit).strip() == str(to_unit).strip():
        return 1.0
    if a is None or b is None or a[0] != b[0]:
        return None
    return a[1] / b[1]
NOT_PRODUCED = [
    ("战略定位与发展愿景 strategic positioning and vision", "落实国家战略定位 (一带一路, 向北开放桥头堡, 口岸城市) and the 发展愿景 are "
     "statements the planners and the 发改委 make; no dataset gives them"),
    ("现状问题、机遇与挑战 problems, opportunities and challenges", "a judgement drawn from all topics' reports; the data-given "
     "part is in T02/T03 (承载、适宜、冲突), T12 (水) and T05 (人口)"),
    ("分阶段实施重点 phased priorities and the 管控要求 wording", "planning decisions; the indicator table gives the 2025/2035 figures "
     "the data supports"),
    ("重点片区、重点板块 key areas and blocks", "drawn by the planners; the structure map shows only data-given centres (T05 rank), "
     "hubs (T14), road/rail axes (T14, 02-06) and ecological sources/corridors (T11)"),
    ("指导性指标 beyond the old plans'", "the new plan's indicators are filled from the upstream topics; topic 1's table gives the old "
     "plans' targets beside them only where the same indicator (key) exists; 上级分解 targets are not delivered"),
    ("GHFQDM / YSDM codes", "the code lists of the 市级国土空间总体规划数据库规范 were not read (spec §4.1, §4.5 [L]); the fields are left empty"),
]


# ── helpers ─────────────────────────────────────────────────────────────────────────────────────


def _prefix(series: pd.Series, prefixes: list[str]) -> pd.Series:
    return series.fillna("").astype(str).str.startswith(tuple(str(p) for p in prefixes))


def _polygons(codes: np.ndarray, grid: Grid) -> gpd.GeoDataFrame:
    """Polygons of a code raster (0 = none) with ``code``."""
    shapes = [(shapely.geometry.shape(g), int(v)) for g, v in
              rio_features.shapes(codes.astype(np.int32), mask=codes > 0, transform=grid.transform)]
    return gpd.GeoDataFrame({"code": [v for _, v in shapes]}, geometry=[g for g, _ in shapes], crs=f"EPSG:{grid.crs_epsg}")


def _clip(gdf: gpd.GeoDataFrame, keep: shapely.Geometry, drop: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """Features intersected with ``keep`` and without ``drop`` (polygon parts only; empty pieces removed)."""
    geoms = shapely.intersection(shapely.make_valid(gdf.geometry.to_numpy()), keep)
    if drop is not None and not drop.is_empty:
        geoms = shapely.difference(geoms, drop)
    geoms = [cl.polygonal(g) for g in geoms]
    ok = np.array([g is not None and g.area > 0 for g in geoms], dtype=bool)
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name).loc[ok].reset_index(drop=True),
                            geometry=[g for g, k in zip(geoms, ok, strict=True) if k], crs=gdf.crs)


def _by_township(gdf: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Split features by township (XZQDM, XZQMC of 01-04)."""
    if not len(gdf):
        return gdf.assign(XZQDM=pd.Series(dtype=str), XZQMC=pd.Series(dtype=str))
    base = gdf.drop(columns=[c for c in ("XZQDM", "XZQMC") if c in gdf.columns])
    out = gpd.overlay(base, townships[["XZQDM", "XZQMC", "geometry"]], how="intersection", keep_geom_type=True)
    return out[out.geometry.area > 0].reset_index(drop=True)


def _with_area(gdf: gpd.GeoDataFrame, km2: bool = True) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    gdf["MJ"] = gdf.geometry.area.round(1)
    if km2:
        gdf["area_km2"] = (gdf.geometry.area / 1e6).round(4)
    return gdf


def _csv(inputs: TopicInputs, layer: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(inputs.layer_bytes(layer)), encoding="utf-8-sig")


def _parquet(inputs: TopicInputs, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(io.BytesIO(inputs.layer_bytes(layer)))


# ── indicator selection ─────────────────────────────────────────────────────────────────────────


def select_value(frames: dict[str, pd.DataFrame], spec: dict[str, Any], year: int | None = None) -> tuple[float | None, str, int | None]:
    """One figure of an upstream layer by a selector of config ``indicators.table``.

    Args:
        frames: layer or dataset id → table (GeoDataFrame for vectors).
        spec: ``{layer, where?, column, agg? (one|sum|first|last), order_by?, scale?}``; in ``where`` a
            value may be a list (any of), ``{"startswith": …}`` or ``"@year"``; ``column`` may be
            ``"@area"`` (polygon area, m²), contain ``@year``, or be ``{"startswith": …}``;
            ``year_column`` names the column that gives the figure's year (else a year in the column name).
        year: the target year for ``@year``.

    Returns:
        ``(value, source, year)``: the value (None when the layer is not among the inputs), the
        source text (layer id, selection, column) and the year of the figure when the rows tell it.

    Raises:
        ValueError: a named column is missing, or ``agg: one`` selects not exactly one row (names the
            layer and the selection).
    """
    layer = str(spec["layer"])
    frame = frames.get(layer)
    if frame is None:
        return None, f"not available: {layer} is not among this run's inputs", None
    sel = frame
    where_txt = []
    for col, want in (spec.get("where") or {}).items():
        if col not in sel.columns:
            raise ValueError(f"t04 indicator: {layer} has no column {col!r} (columns: {list(map(str, frame.columns))})")
        s = sel[col]
        if want == "@year":
            mask, txt = pd.to_numeric(s, errors="coerce") == year, f"{col}={year}"
        elif isinstance(want, dict) and "startswith" in want:
            mask, txt = s.astype(str).str.startswith(str(want["startswith"])), f"{col}^={want['startswith']}"
        elif isinstance(want, list | tuple):
            mask, txt = s.astype(str).isin([str(w) for w in want]), f"{col}∈{list(want)}"
        else:
            mask, txt = s.astype(str) == str(want), f"{col}={want}"
        sel = sel[mask.to_numpy()]
        where_txt.append(txt)
    column = spec["column"]
    if isinstance(column, dict) and "startswith" in column:
        found = [c for c in sel.columns if str(c).startswith(str(column["startswith"]))]
        if len(found) != 1:
            raise ValueError(f"t04 indicator: {layer} has {len(found)} columns starting {column['startswith']!r}")
        column = found[0]
    elif isinstance(column, str) and "@year" in column:
        column = column.replace("@year", str(year))
    if column == "@area":
        values = pd.Series(sel.geometry.area.to_numpy(), index=sel.index)
        col_txt = "polygon area m²"
    else:
        if column not in sel.columns:
            raise ValueError(f"t04 indicator: {layer} has no column {column!r} (columns: {list(map(str, frame.columns))})")
        values = pd.to_numeric(sel[column], errors="coerce")
        text = sel[column][values.isna() & sel[column].notna() & (sel[column].astype(str).str.strip() != "")]
        if len(text):
            raise ValueError(f"t04 indicator: {layer} [{', '.join(where_txt)}] column {column!r} holds text, not a number: "
                             f"{text.astype(str).iloc[0]!r}")
        col_txt = str(column)
    agg = str(spec.get("agg", "one"))
    if agg == "one":
        if len(values) != 1:
            raise ValueError(f"t04 indicator: {layer} [{', '.join(where_txt)}] selects {len(values)} rows, expected one")
        value, rows = float(values.iloc[0]), sel
    elif agg == "sum":
        value, rows = float(values.sum()), sel
    elif agg in ("first", "last"):
        if not len(values):
            raise ValueError(f"t04 indicator: {layer} [{', '.join(where_txt)}] selects no row")
        order = spec.get("order_by")
        ordered = sel.sort_values(order) if order else sel
        pick = ordered.index[0] if agg == "first" else ordered.index[-1]
        value, rows = float(values.loc[pick]), sel.loc[[pick]]
    else:
        raise ValueError(f"t04 indicator: agg must be one, sum, first or last, got {agg!r}")
    value *= float(spec.get("scale", 1.0))
    fig_year = None
    ycol = spec.get("year_column")
    if ycol and ycol in rows.columns and rows[ycol].nunique() == 1:
        fig_year = int(rows[ycol].iloc[0])
    elif (m := re.search(r"(19|20)\d\d", col_txt)) is not None:
        fig_year = int(m.group(0))
    where = f" [{', '.join(where_txt)}]" if where_txt else ""
    return value, f"{layer}{where} · {col_txt}" + (f" ({agg})" if agg != "one" else ""), fig_year


def indicator_table(frames: dict[str, pd.DataFrame], entries: list[dict[str, Any]], years: list[int]) -> pd.DataFrame:
    """The 约束性/预期性 indicator table: one row per config entry with base and target values and sources.

    Columns ``key, name_zh, unit, attribute, base_year, base_value, value_<year>…, old_plan,
    old_plan_target_year, old_plan_target, old_plan_unit, source, note``; a value the inputs do not
    give is empty and ``note`` says why (never invented). ``old_plan*`` are the target of the same
    indicator in the current (old) plans, from topic 1's ``t01.indicator_system`` rows whose ``key``
    is the entry's ``old_plan.key`` (the plan and indicator as delivered in 01-46a.ghzb; the target
    converted to the entry's unit by :func:`unit_factor`, or kept in its own unit with a note when the
    units do not convert), so the new plan's figure stands beside the one it replaces (多规合一, seed
    topic 1 指标体系). Without topic 1's table the columns stay empty.
    """
    rows = []
    for e in entries:
        row: dict[str, Any] = {"key": e["key"], "name_zh": e["name_zh"], "unit": e["unit"], "attribute": e["attribute"],
                               "base_year": None, "base_value": None}
        sources, notes = [], []
        if e.get("base"):
            val, src, yr = select_value(frames, e["base"])
            row["base_value"], row["base_year"] = (round(val, 4) if val is not None else None), yr
            sources.append(f"现状: {src}")
        for y in years:
            row[f"value_{y}"] = None
            if e.get("target"):
                val, src, _ = select_value(frames, e["target"], y)
                row[f"value_{y}"] = round(val, 4) if val is not None else None
                sources.append(f"{y}: {src}")
        row.update(old_plan=None, old_plan_target_year=None, old_plan_target=None, old_plan_unit=None)
        old = e.get("old_plan")
        if old and OLD_PLAN_LAYER in frames:
            t01 = frames[OLD_PLAN_LAYER]
            match = t01[t01["key"].astype(str) == str(old["key"])].sort_values("target_year")
            if len(match):
                last = match.iloc[-1]  # the latest target when several plans give one
                factor = unit_factor(str(last["unit"]), e["unit"])
                row.update(old_plan=f"{last['plan']} · {last['indicator']}", old_plan_target_year=int(last["target_year"]))
                if factor is None:  # shown as delivered, in its own unit
                    row.update(old_plan_target=float(last["target_value"]), old_plan_unit=str(last["unit"]))
                    notes.append(f"the old plan gives {old['key']} in {last['unit']}, not convertible to {e['unit']}")
                else:
                    row.update(old_plan_target=round(float(last["target_value"]) * factor, 4), old_plan_unit=e["unit"])
                sources.append(f"现行规划: {OLD_PLAN_LAYER} [key={old['key']}] · target_value")
            else:
                notes.append(f"the old plans (01-46a.ghzb via {OLD_PLAN_LAYER}) give no {old['key']}")
        if e.get("not_available"):
            notes.append(f"not available: {e['not_available']}")
        row["source"] = "; ".join(sources) if sources else "not available"
        row["note"] = "; ".join(notes)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["base_year"] = out["base_year"].astype("Int64")
    return out


# ── maps ────────────────────────────────────────────────────────────────────────────────────────


def _rgba(classes: np.ndarray, colours: dict[int, str], alpha: float = 1.0) -> np.ndarray:
    from matplotlib import colors

    out = np.zeros((*classes.shape, 4), dtype=float)
    for code, colour in colours.items():
        r, g, b, _ = colors.to_rgba(colour)
        out[classes == code] = (r, g, b, alpha)
    return out


def _layered_map(writer: LayerWriter, title: str, subtitle: str, background: np.ndarray | None,
                 bg_legend: list[tuple[int, str, str]], polys: list[tuple[gpd.GeoDataFrame, str, str, float]],
                 lines: list[tuple[gpd.GeoDataFrame, str, str, float, str]],
                 points: list[tuple[gpd.GeoDataFrame, str, str, float, str]]) -> bytes:
    """A map in the frame and font of :mod:`erenhot.maps`: a class raster, polygon outlines, lines and
    points with a legend (``polys``: (gdf, colour, label, width); ``lines``: (gdf, colour, label, width,
    style); ``points``: (gdf, colour, label, size, marker))."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grid = writer.grid
    left, bottom, right, top = grid.bounds
    extent = (left, right, bottom, top)
    fig, ax = maps.new_map(grid, extent, title, subtitle)
    handles = []
    if background is not None:
        present = set(np.unique(background).tolist())
        ax.imshow(_rgba(background, {c: col for c, _, col in bg_legend}), extent=extent, origin="upper", interpolation="nearest", zorder=1)
        handles += [Patch(facecolor=col, edgecolor="#606060", linewidth=0.4, label=lab) for c, lab, col in bg_legend if c in present]
    for gdf, colour, label, width in polys:
        if gdf is None or not len(gdf):
            continue
        for geom in gdf.geometry:
            for poly in getattr(geom, "geoms", [geom]):
                for ring in [poly.exterior, *poly.interiors]:
                    xs, ys = ring.xy
                    ax.plot(xs, ys, "-", color=colour, lw=width, zorder=3)
        handles.append(Patch(facecolor="none", edgecolor=colour, linewidth=width + 0.6, label=label))
    for gdf, colour, label, width, style in lines:
        if gdf is None or not len(gdf):
            continue
        for geom in gdf.geometry:
            for ln in getattr(geom, "geoms", [geom]):
                xs, ys = ln.xy
                ax.plot(xs, ys, style, color=colour, lw=width, zorder=4)
        handles.append(Line2D([], [], color=colour, ls=style, lw=width, label=label))
    for gdf, colour, label, size, marker in points:
        if gdf is None or not len(gdf):
            continue
        ax.scatter(gdf.geometry.x, gdf.geometry.y, marker=marker, s=size, c=colour, edgecolors="black", linewidths=0.6, zorder=6)
        for x, y, name in zip(gdf.geometry.x, gdf.geometry.y, gdf.get("name", [""] * len(gdf)), strict=True):
            if name:
                ax.text(x + 0.01 * (right - left), y, str(name), fontproperties=maps.map_font(8), zorder=7)
        handles.append(Line2D([], [], marker=marker, color=colour, markeredgecolor="black", ls="", markersize=8, label=label))
    return maps.finish_map(fig, ax, grid, extent, writer.boundary, handles, legend_title="图例")


def _put_map(writer: LayerWriter, output_id: str, png: bytes, thumbnail: bool = False) -> None:
    out = writer.topic.output(output_id)
    writer.map_png(output_id, f"二连浩特市{out.map_zh or out.name_zh}", png, thumbnail)


# ── the composer ────────────────────────────────────────────────────────────────────────────────


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Draft the 三区三线, 规划分区, spaces, indicator table and structure of T04; publish them.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: a required input is not resolved (names it).
        erenhot.evaluation.control_lines.ControlLineOverlapError: lines still overlap after resolution.
        ValueError: an input lacks a field a rule needs (names the dataset/layer and field).
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []

    progress(0.03, "grid, boundaries, 三调")
    eco, grid, _ = read_raster(inputs.layer_bytes("t02.eco_importance"))
    slope = read_raster(inputs.layer_bytes("t02.slope"))[0].astype("float32")
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    townships["XZQDM"] = townships["XZQDM"].astype(str)
    city_geom = cl.union_of(city)
    inside = boundary_mask(city, grid)
    touch = boundary_mask(city, grid, all_touched=True)
    writer = LayerWriter(pub, topic, grid, city)
    dltb = inputs.vector("01-46a.dltb")
    dltb["DLBM"] = dltb["DLBM"].astype(str)
    crs = f"EPSG:{grid.crs_epsg}"

    # ── 生态保护红线 candidates ───────────────────────────────────────────────────────────────
    progress(0.10, "生态保护红线 candidates")
    sv = v["stbhhx"]
    exclude = cl.union_of(dltb[_prefix(dltb["DLBM"], sv["exclude_dlbm"])])
    comps: dict[str, gpd.GeoDataFrame] = {}
    cols = ["LHLX", "HXMC", "STGN", "LY"]
    for comp in sv["components"]:
        if comp == "01-47":
            red = inputs.vector("01-47")
            for f in ("HXLX", "HXMC", "STGN"):
                if f not in red.columns:
                    raise ValueError(f"01-47 生态保护红线划定成果 has no field {f} (fields: {sorted(map(str, red.columns))})")
            g = gpd.GeoDataFrame({"LHLX": red["HXLX"].astype(str), "HXMC": red["HXMC"].astype(str), "STGN": red["STGN"].astype(str),
                                  "LY": "01-47 现状生态保护红线"}, geometry=red.geometry.values, crs=red.crs)
        elif comp == "01-07":
            if not inputs.has("01-07"):
                notes.append("自然保护地 (01-07) not delivered: the red-line candidates lack it.")
                continue
            pa = inputs.vector("01-07")
            pa = pa[pa["GNFQ"].astype(str).isin(sv["protected_zones"])]
            g = gpd.GeoDataFrame({"LHLX": "自然保护地", "HXMC": pa["MC"].astype(str) + " " + pa["GNFQ"].astype(str), "STGN": None,
                                  "LY": "01-07 自然保护地"}, geometry=pa.geometry.values, crs=pa.crs)
        elif comp == "t11_sources":
            pat = _parquet(inputs, "t11.ecological_security_pattern")
            src = pat[pat["kind"] == "source"]
            g = gpd.GeoDataFrame({"LHLX": "其他", "HXMC": [f"生态源地 {int(i)}" for i in src["feature_id"]], "STGN": None,
                                  "LY": "t11.ecological_security_pattern 生态源地"}, geometry=src.geometry.values, crs=src.crs)
        elif comp == "t02_extreme":
            ext = (eco == int(sv["extreme_class"])) & inside
            share = float(ext.sum() / max(int(inside.sum()), 1))
            if share > float(sv["extreme_max_share"]):
                notes.append(f"生态保护极重要区 covers {share:.0%} of the city (> stbhhx.extreme_max_share {sv['extreme_max_share']:.0%}): "
                             "it does not single out red-line land and is not a candidate component; the red line rests on 01-47, "
                             "01-07 and the T11 sources.")
                continue
            natural = rasterize(dltb[_prefix(dltb["DLBM"], sv["extreme_dlbm_prefixes"])], grid, value=1, dtype="uint8").astype(bool)
            lab, n = ndimage.label(ext & natural)
            sizes = ndimage.sum(np.ones_like(lab), lab, index=np.arange(1, n + 1)) * grid.cell_area_km2 if n else np.array([])
            keep_ids = np.flatnonzero(sizes >= float(sv["extreme_min_patch_km2"])) + 1
            polys = _polygons(np.isin(lab, keep_ids).astype(np.uint8), grid)
            g = gpd.GeoDataFrame({"LHLX": "生态功能极重要区", "HXMC": "双评价生态保护极重要区", "STGN": None,
                                  "LY": "t02.eco_importance 极重要"}, index=polys.index, geometry=polys.geometry.values, crs=crs)
        else:
            raise ValueError(f"stbhhx.components: unknown component {comp!r} (01-47, 01-07, t11_sources, t02_extreme)")
        g = _clip(g.to_crs(crs)[cols + ["geometry"]], city_geom, exclude)
        comps[comp] = cl.make_disjoint(g.reset_index(drop=True))  # overlapping patches of one source: counted once
    if not comps:
        raise ValueError("stbhhx.components gives no red-line candidate")
    disjoint, _ = cl.resolve_overlaps(comps, list(comps), 0.0)
    stbhhx = pd.concat([g for g in disjoint.values() if g is not None and len(g)], ignore_index=True)
    stbhhx = gpd.GeoDataFrame(stbhhx, geometry="geometry", crs=crs)

    # ── 永久基本农田 candidates ───────────────────────────────────────────────────────────────
    progress(0.22, "永久基本农田 candidates")
    fp = cfg.params(cl.FarmlandParams, "yjjbnt")
    quality = inputs.vector("01-40").to_crs(crs)
    cropland = dltb[dltb["DLBM"].isin(fp.eligible_dlbm)].to_crs(crs)
    pieces = cl.cropland_quality(cropland, quality, fp.grade_field)
    reps = pieces.geometry.representative_point() if len(pieces) else gpd.GeoSeries([], crs=crs)
    sl = []
    for p in reps:
        r, c = grid.xy_to_rowcol(p.x, p.y)
        sl.append(float(slope[r, c]) if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1] else np.nan)
    reason = cl.farmland_rule(pieces, fp, sl)
    rejected = (pd.DataFrame({"reason": reason, "area_ha": pieces.geometry.area / 1e4})
                .query("reason != ''").groupby("reason", as_index=False)["area_ha"].sum()) if len(pieces) else pd.DataFrame(columns=["reason", "area_ha"])
    cand = pieces[(reason == "").to_numpy()].copy()
    cand["grade"] = cand["grade"].astype(float)
    yjjbnt = gpd.GeoDataFrame({
        "TBBH": cand["TBBH"].astype(str) if "TBBH" in cand else None, "DLBM": cand["DLBM"].astype(str),
        "DLMC": cand["DLMC"].astype(str) if "DLMC" in cand else None,
        "ZLDWDM": cand["ZLDWDM"].astype(str) if "ZLDWDM" in cand else None,
        "ZLDWMC": cand["ZLDWMC"].astype(str) if "ZLDWMC" in cand else None,
        fp.grade_field: cand["grade"], "slope_deg": np.asarray(sl, float)[(reason == "").to_numpy()] if len(sl) else []},
        geometry=cand.geometry.values, crs=crs)

    # ── 城镇开发边界 ───────────────────────────────────────────────────────────────────────────
    progress(0.30, "城镇开发边界")
    bnd = _parquet(inputs, "t05.development_boundary").to_crs(crs)
    for f in ("GHFQMC",):
        if f not in bnd.columns:
            raise ValueError(f"t05.development_boundary has no field {f}")
    czkfbj = gpd.GeoDataFrame({"GHFQDM": None, "GHFQMC": bnd["GHFQMC"].astype(str),
                               "LX": bnd["LX"].astype(str) if "LX" in bnd else None}, geometry=bnd.geometry.values, crs=crs)
    czkfbj = cl.make_disjoint(czkfbj)

    # ── overlaps and precedence ─────────────────────────────────────────────────────────────
    progress(0.36, "overlaps and precedence")
    cv = v["control_lines"]
    lines = {"STBHHX": stbhhx, "YJJBNT": yjjbnt, "CZKFBJ": czkfbj}
    pairs_before = cl.overlap_pairs(lines)
    before = cl.overlap_summary(lines)
    resolved, removed = cl.resolve_overlaps(lines, list(cv["precedence"]), float(cv["min_piece_m2"]))
    after = cl.check_no_overlap(resolved, float(cv["overlap_tolerance_m2"]))
    overlaps = pd.concat([before.assign(stage="划定前 candidates"), after.assign(stage="协调后 resolved")], ignore_index=True)
    overlaps["area_km2"] = (overlaps["area_m2"] / 1e6).round(6)
    overlaps = overlaps[["stage", "line_a", "name_a", "line_b", "name_b", "n_pairs", "area_m2", "area_km2"]]
    removed["name"] = removed["line"].map(cl.LINE_NAMES)
    removed["removed_by_name"] = removed["removed_by"].map(cl.LINE_NAMES)

    county = {"XJXZQDM": str(sv["county_code"]), "XJXZQMC": str(sv["county_name"]), "SJXZQMC": str(sv["prefecture_name"])}
    st = _with_area(_by_township(resolved["STBHHX"], townships))
    st = st.assign(BSM=[f"{i + 1:08d}" for i in range(len(st))], YSDM=None, **county)
    st = st[["BSM", "YSDM", "XJXZQDM", "XJXZQMC", "SJXZQMC", "XZQDM", "XZQMC", "LHLX", "HXMC", "STGN", "LY", "MJ", "area_km2", "geometry"]]
    yj = _with_area(_by_township(resolved["YJJBNT"], townships))
    yj = yj.assign(BSM=[f"{i + 1:08d}" for i in range(len(yj))], YSDM=None, YJJBNTTBBH=[f"{i + 1:06d}" for i in range(len(yj))])
    yj["YJJBNTMJ"] = yj["MJ"]
    yj["area_ha"] = (yj.geometry.area / 1e4).round(4)
    yj = yj[["BSM", "YSDM", "XZQDM", "XZQMC", "YJJBNTTBBH", "TBBH", "DLBM", "DLMC", "ZLDWDM", "ZLDWMC", fp.grade_field, "slope_deg",
             "YJJBNTMJ", "MJ", "area_ha", "geometry"]]
    cz = _with_area(_by_township(resolved["CZKFBJ"], townships))
    cz = cz.assign(BSM=[f"{i + 1:08d}" for i in range(len(cz))], YSDM=None)
    cz = cz[["BSM", "YSDM", "XZQDM", "XZQMC", "GHFQDM", "GHFQMC", "LX", "MJ", "area_km2", "geometry"]]
    final = {"STBHHX": st, "YJJBNT": yj, "CZKFBJ": cz}
    cl.check_no_overlap(final, float(cv["overlap_tolerance_m2"]))  # the published lines themselves, after the township split

    # ── 规划分区 and spaces ────────────────────────────────────────────────────────────────────
    progress(0.48, "规划分区 and the three spaces")
    zv = v["zones"]
    zlabels = {int(k): val for k, val in zv["labels"].items()}
    layers: dict[str, np.ndarray] = {
        "eco_importance": eco, "agri_suitability": read_raster(inputs.layer_bytes("t03.agri_suitability"))[0],
        "urban_suitability": read_raster(inputs.layer_bytes("t03.urban_suitability"))[0]}
    for group, codes in zv["dlbm_groups"].items():
        sel = dltb[_prefix(dltb["DLBM"], codes)]
        layers[group] = rasterize(sel, grid, value=1, dtype="uint8") if len(sel) else np.zeros(grid.shape, np.uint8)
    pastoral = np.zeros(grid.shape, np.uint8)
    if inputs.has_layer("t09.pastoral_pattern"):
        pp = _parquet(inputs, "t09.pastoral_pattern")
        pp = pp.assign(_c=pp["空间类型"].map({"牧业生产空间": 1, "牧业生态空间": 2}).fillna(0).astype(int))
        pp = pp[pp["_c"] > 0]
        if len(pp):
            pastoral = rasterize(pp, grid, value="_c", dtype="uint8")
    else:
        notes.append("t09.pastoral_pattern not published: grassland zones follow 生态保护重要性 alone (rules without T09).")
    layers["pastoral"] = pastoral
    other = cl.apply_zone_rules(layers, zv["rules"], int(zv["default_code"]), touch)
    lines_union = shapely.union_all([cl.union_of(g) for g in final.values()])
    oth = _polygons(other, grid).dissolve(by="code", as_index=False)
    oth = _clip(oth, city_geom, lines_union)
    ghfq_codes = {k: int(c) for k, c in zv["ghfq_codes"].items()}
    unknown = sorted(set(final["CZKFBJ"]["GHFQMC"].astype(str)) - set(ghfq_codes))
    if unknown:
        raise ValueError(f"t05.development_boundary: GHFQMC value(s) {unknown} have no zone code in zones.ghfq_codes "
                         f"(known: {sorted(ghfq_codes)})")
    line_zones = [final["STBHHX"][["geometry"]].assign(code=int(zv["line_codes"]["STBHHX"])),
                  final["YJJBNT"][["geometry"]].assign(code=int(zv["line_codes"]["YJJBNT"])),
                  final["CZKFBJ"][["GHFQMC", "geometry"]].assign(
                      code=lambda d: d["GHFQMC"].map(ghfq_codes).astype(int))
                  .drop(columns="GHFQMC")]
    zones_all = pd.concat([*[z for z in line_zones if len(z)], oth[["code", "geometry"]]], ignore_index=True)
    zones_all = gpd.GeoDataFrame(zones_all, geometry="geometry", crs=crs).dissolve(by="code", as_index=False)
    unknown = sorted(set(zones_all["code"]) - set(zlabels))
    if unknown:
        raise ValueError(f"zones.labels has no entry for zone code(s) {unknown}")
    zones_all["GHFQMC"] = zones_all["code"].map(lambda c: zlabels[c]["name"])
    zones_all["EJFQMC"] = zones_all["code"].map(lambda c: zlabels[c]["level2"] or None)
    zones_all["KJLX"] = zones_all["code"].map(lambda c: zlabels[c]["space"])
    pz = _with_area(_by_township(zones_all, townships))
    pz = pz.assign(BSM=[f"{i + 1:08d}" for i in range(len(pz))], GHFQDM=None)
    pz = pz[["BSM", "GHFQDM", "GHFQMC", "EJFQMC", "code", "KJLX", "XZQDM", "XZQMC", "MJ", "area_km2", "geometry"]]
    spaces = zones_all.dissolve(by="KJLX", as_index=False)[["KJLX", "geometry"]]
    spaces = _with_area(spaces)
    spaces["share"] = (spaces.geometry.area / spaces.geometry.area.sum()).round(4)
    spaces = spaces.rename(columns={"KJLX": "KJMC"})
    spaces["code"] = spaces["KJMC"].map(SPACE_CODES)
    spaces = spaces[["code", "KJMC", "MJ", "area_km2", "share", "geometry"]]

    # raster of zones for the maps (lines burnt over the rule zones; areas come from the vectors)
    zone_map = np.where(inside, other, 0).astype(np.uint8)
    for name in reversed(list(cv["precedence"])):
        z = line_zones[LINES.index(name)]
        if len(z):
            zone_map = np.where(rasterize(z, grid, value="code", dtype="uint8") > 0,
                                rasterize(z, grid, value="code", dtype="uint8"), zone_map)
    zone_map = np.where(inside, zone_map, 0).astype(np.uint8)
    space_map = np.zeros(grid.shape, np.uint8)
    for c, lab in zlabels.items():
        space_map[zone_map == c] = SPACE_CODES[lab["space"]]

    zone_area = (pz.groupby(["GHFQMC", "EJFQMC"], dropna=False, as_index=False)["area_km2"].sum()
                 .assign(share=lambda d: (d["area_km2"] / d["area_km2"].sum() * 100).round(2)))
    zone_area["EJFQMC"] = zone_area["EJFQMC"].fillna("—")
    zone_by_township = pz.groupby(["XZQDM", "XZQMC", "GHFQMC"], as_index=False)["area_km2"].sum()

    # ── indicator table ─────────────────────────────────────────────────────────────────────
    progress(0.62, "indicator table")
    iv = v["indicators"]
    frames: dict[str, pd.DataFrame] = {}
    for layer in TABLE_LAYERS:
        if inputs.has_layer(layer):
            frames[layer] = _csv(inputs, layer)
    # the delivered red line as one area inside the city (overlapping patches counted once), as the target is
    frames["01-47"] = gpd.GeoDataFrame(geometry=[shapely.intersection(cl.union_of(inputs.vector("01-47").to_crs(crs)), city_geom)], crs=crs)
    frames["01-46a.dltb"] = dltb
    if inputs.has("01-07"):
        frames["01-07"] = inputs.vector("01-07").to_crs(crs)
    frames.update({LINE_OUTPUT[k]: g for k, g in final.items()})
    years = [int(y) for y in iv["years"]]
    indicators = indicator_table(frames, list(iv["table"]), years)
    if "t09.targets" not in frames:
        notes.append("t09.targets not published: 林地/草原/基本草原/湿地 保有量 are not available.")

    # ── 国土空间结构 ──────────────────────────────────────────────────────────────────────────
    progress(0.72, "国土空间结构 spatial structure")
    stv = v["structure"]
    feats = []
    if inputs.has_layer("t05.urban_system"):
        system = _parquet(inputs, "t05.urban_system").to_crs(crs)
        levels = {int(k): s for k, s in stv["centre_levels"].items()}
        pop_col = sorted([c for c in system.columns if re.fullmatch(r"resident_\d{4}", str(c))])[-1]
        for r in system.itertuples():
            part = cz[cz["XZQDM"].astype(str) == str(r.XZQDM)]
            pt = cl.union_of(part).representative_point() if len(part) else r.geometry.representative_point()
            feats.append({"kind": "centre", "label": levels.get(int(r.rank), "一般节点"), "name": str(r.XZQMC),
                          "level": int(r.rank), "value": float(getattr(r, pop_col)), "source": f"t05.urban_system rank, {pop_col}",
                          "geometry": pt})
    else:
        notes.append("t05.urban_system not published: the structure has no centres.")
    hubs = _parquet(inputs, "t14.hubs").to_crs(crs)
    for r in hubs.itertuples():
        if r.hub in stv["hub_names"]:
            feats.append({"kind": "hub", "label": stv["hub_names"][r.hub], "name": str(r.name_zh), "level": None, "value": None,
                          "source": "t14.hubs", "geometry": r.geometry})
    roads = _parquet(inputs, "t14.road_network").to_crs(crs)
    axes = roads[roads["DLDJ"].astype(str).isin(stv["axis_road_grades"])]
    if len(axes):
        axes = axes.assign(NAME=axes["NAME"].fillna("").astype(str)).dissolve(by=["NAME", "DLDJ"], as_index=False)
        for r in axes.itertuples():
            feats.append({"kind": "axis", "label": "交通发展轴（公路）", "name": r.NAME, "level": str(r.DLDJ), "value": None,
                          "source": "t14.road_network DLDJ", "geometry": shapely.line_merge(r.geometry) if r.geometry.geom_type == "MultiLineString" else r.geometry})
    else:
        notes.append(f"t14.road_network has no road of grades {stv['axis_road_grades']}: no road axis.")
    if inputs.has("02-06"):
        rail = inputs.vector("02-06").to_crs(crs)
        for r in rail.itertuples():
            feats.append({"kind": "axis", "label": "交通发展轴（铁路）", "name": str(getattr(r, "NAME", "")), "level": "铁路", "value": None,
                          "source": "02-06 铁路", "geometry": r.geometry})
    pat = _parquet(inputs, "t11.ecological_security_pattern").to_crs(crs)
    for r in pat.itertuples():
        kind = {"source": "eco_source", "corridor": "eco_corridor", "node": "eco_node"}.get(r.kind)
        if kind:
            feats.append({"kind": kind, "label": str(r.label), "name": f"{r.label} {int(r.feature_id)}", "level": None,
                          "value": None, "source": "t11.ecological_security_pattern", "geometry": r.geometry})
    structure = gpd.GeoDataFrame(feats, geometry="geometry", crs=crs)
    structure["level"] = structure["level"].astype("string")
    structure["value"] = structure["value"].astype(float)

    # ── 总体布局 ───────────────────────────────────────────────────────────────────────────────
    layout = zones_all.assign(kind="规划分区", name=zones_all["EJFQMC"].fillna(zones_all["GHFQMC"]))
    line_rows = [gpd.GeoDataFrame({"kind": ["控制线"], "code": [None], "GHFQMC": [None], "EJFQMC": [None], "KJLX": [None],
                                   "name": [cl.LINE_NAMES[k]], "line": [k]}, geometry=[cl.union_of(g)], crs=crs)
                 for k, g in final.items() if len(g)]
    layout = pd.concat([layout.assign(line=None), *line_rows], ignore_index=True)
    layout = gpd.GeoDataFrame(layout, geometry="geometry", crs=crs)
    layout["code"] = layout["code"].astype("Int64")
    layout = _with_area(layout)[["kind", "line", "code", "GHFQMC", "EJFQMC", "KJLX", "name", "MJ", "area_km2", "geometry"]]

    # ── write ───────────────────────────────────────────────────────────────────────────────
    progress(0.80, "writing layers, tables and maps")
    writer.vector("t04.stbhhx", st)
    writer.vector("t04.yjjbnt", yj)
    writer.vector("t04.czkfbj", cz)
    writer.vector("t04.planning_zones", pz)
    writer.vector("t04.three_spaces", spaces)
    writer.vector("t04.spatial_structure", structure)
    writer.vector("t04.overall_layout", layout)
    writer.table("t04.control_line_overlaps", "control_line_overlaps", overlaps, "三条控制线重叠 overlaps")
    writer.table("t04.indicators", "indicators", indicators, "指标表 indicators")
    writer.table(None, "overlap_pairs_candidates", pairs_before, "候选控制线重叠图斑对 overlapping feature pairs (candidates)")
    writer.table(None, "resolution", removed, "按优先序调出的面积 area given up by precedence")
    writer.table(None, "farmland_rejected", rejected, "未纳入永久基本农田的耕地 cropland left out, by reason")
    writer.table(None, "zone_area", zone_area, "规划分区面积 zone areas")
    writer.table(None, "zone_area_by_township", zone_by_township, "分乡镇规划分区面积 zone areas by township")

    space_labels = {c: k for k, c in SPACE_CODES.items()}
    writer.class_map("t04.three_spaces", space_map, space_labels, {SPACE_CODES[k]: c for k, c in zv["space_colours"].items()},
                     subtitle="由规划分区归并；图例面积为栅格近似，准确面积见三类空间表（矢量）")
    zone_names = {c: (f"{lab['name']}·{lab['level2']}" if lab["level2"] else lab["name"]) for c, lab in zlabels.items()}
    zone_colours = {int(k): c for k, c in zv["colours"].items()}
    writer.class_map("t04.planning_zones", zone_map, zone_names, zone_colours, thumbnail=True,
                     subtitle="控制线内按控制线，其余按分区规则；图例面积为栅格近似，准确面积见规划分区面积表（矢量）")
    line_polys = [(gpd.GeoDataFrame(geometry=[cl.union_of(final[k])], crs=crs), LINE_COLOURS[k], cl.LINE_NAMES[k], 1.6)
                  for k in cv["precedence"] if len(final[k])]
    bg = [(c, zone_names[c], zone_colours.get(c, "#cccccc")) for c in sorted(zlabels)]
    s = structure
    png = _layered_map(writer, f"二连浩特市{topic.output('t04.overall_layout').map_zh}", "规划分区与三条控制线（候选，须规划判断后定稿）",
                       zone_map, bg, line_polys, [], [(s[s["kind"] == "centre"], "#ffffff", "城镇中心", 110, "o")])
    _put_map(writer, "t04.overall_layout", png, thumbnail=True)
    sbg = [(c, k, zv["space_colours"][k]) for k, c in SPACE_CODES.items()]
    png = _layered_map(
        writer, f"二连浩特市{topic.output('t04.spatial_structure').map_zh}", "数据给出的中心、轴线、枢纽与生态源地/廊道（重点片区须规划判断）",
        space_map, sbg, [(s[s["kind"] == "eco_source"], "#005a32", "生态源地（T11）", 1.2)],
        [(s[(s["kind"] == "axis") & (s["level"] != "铁路")], "#b30000", "交通发展轴（公路）", 2.4, "-"),
         (s[(s["kind"] == "axis") & (s["level"] == "铁路")], "#252525", "交通发展轴（铁路）", 2.4, "--"),
         (s[s["kind"] == "eco_corridor"], "#238b45", "生态廊道（T11）", 2.0, ":")],
        [(s[(s["kind"] == "centre") & (s["level"] == "1")], "#d7301f", "主中心", 220, "*"),
         (s[(s["kind"] == "centre") & (s["level"] == "2")], "#fc8d59", "副中心", 130, "o"),
         (s[(s["kind"] == "centre") & ~s["level"].isin(["1", "2"])], "#fee08b", "一般节点", 80, "o"),
         (s[s["kind"] == "hub"], "#3182bd", "口岸与交通枢纽（T14）", 90, "s"),
         (s[s["kind"] == "eco_node"].assign(name=""), "#41ab5d", "生态节点（T11）", 50, "^")])
    _put_map(writer, "t04.spatial_structure", png)

    # ── report ──────────────────────────────────────────────────────────────────────────────
    progress(0.92, "report")
    area = {k: float(g.geometry.area.sum() / 1e6) for k, g in final.items()}
    city_km2 = float(city_geom.area / 1e6)
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(k in f[1] for k in keys)]

    before_total = float(before["area_m2"].sum() / 1e6)
    line_table = pd.DataFrame([{"控制线": cl.LINE_NAMES[k], "代码": k, "图斑数": len(final[k]), "面积 km²": round(area[k], 4),
                                "占市域 %": round(area[k] / city_km2 * 100, 3)} for k in LINES])
    comp_table = st.groupby(["LY", "LHLX"], as_index=False)["area_km2"].sum()
    space_table = spaces.drop(columns="geometry").assign(share=lambda d: d["share"] * 100).rename(columns={"share": "占比 %"})
    figures = {
        **{f"{cl.LINE_NAMES[k]} {k}": f"{area[k]:,.3f} km²" for k in LINES},
        "候选重叠 overlap before resolution": f"{before_total:,.4f} km²",
        "协调后重叠 overlap after resolution": f"{float(after['area_m2'].sum()):,.1f} m²",
        "优先序 precedence": " > ".join(cl.LINE_NAMES[k] for k in cv["precedence"]),
        **{f"{r.KJMC}": f"{r.area_km2:,.2f} km² ({r.share * 100:.1f} %)" for r in spaces.itertuples()},
    }
    sections = [
        Section("1 三条控制线 The three control lines (candidates)", [
            "生态保护红线候选 = " + "、".join(sv["components"]) + "（按此顺序，前者优先标注共有部分），扣除建设用地与耕地（stbhhx.exclude_dlbm），"
            "并裁至市域。字段按数据库规范 STBHHX（spec §4.1：BSM, YSDM, XJXZQDM, XJXZQMC, SJXZQMC, LHLX, MJ m²），另加乡镇 XZQDM/XZQMC、"
            "名称 HXMC、主导功能 STGN 与来源 LY。",
            f"永久基本农田候选 = 三调耕地 {list(fp.eligible_dlbm)} 按 01-40 {fp.grade_field} 分割（字段按 YJJBNT：BSM, YSDM, XZQDM, XZQMC, "
            f"YJJBNTTBBH, TBBH, DLBM, DLMC, ZLDWDM, ZLDWMC, YJJBNTMJ m²），取等别 ≤ {fp.max_grade}、"
            f"坡度 ≤ {fp.max_slope_deg}°（T02 坡度）、图斑 ≥ {fp.min_patch_m2:g} m²，无等别的耕地 {fp.missing_grade}。",
            "城镇开发边界 = 专题五候选边界 t05.development_boundary（GHFQMC 城镇集中建设区/城镇弹性发展区）。",
            f"三线冲突按优先序 {' > '.join(cl.LINE_NAMES[k] for k in cv['precedence'])} 协调（2019 中办国办指导意见；config "
            f"control_lines.precedence）：后序控制线让出与前序重叠部分；协调后任两线重叠须 ≤ {cv['overlap_tolerance_m2']} m²，否则运行失败。"],
            tables=[("三条控制线", line_table), ("生态保护红线来源", comp_table), ("控制线两两重叠（协调前/后）", overlaps),
                    ("按优先序调出的面积", removed), ("未纳入永久基本农田的耕地", rejected)]),
        Section("2 三区 Ecological, agricultural and urban space",
                ["三类空间由规划分区归并（zones.labels space）：生态保护区、生态控制区 → 生态空间；农田保护区、乡村发展区 → 农业空间；"
                 "城镇发展区、矿产能源发展区 → 城镇空间。"],
                tables=[("三类空间", space_table)], figures=figs("three_spaces")),
        Section("3 规划分区 Planning zones",
                ["控制线内：生态保护区 = 生态保护红线，农田保护区 = 永久基本农田，城镇发展区 = 城镇开发边界（二级按 GHFQMC）。其余土地按 zones.rules "
                 "第一条满足的规则分区（T02 生态保护重要性、T09 牧业生产/生态空间、三调地类组）；GHFQDM 代码未读到规范，留空。"],
                tables=[("规划分区面积", zone_area), ("分乡镇规划分区面积", zone_by_township)], figures=figs("planning_zones")),
        Section("4 指标表 Indicator table (约束性 / 预期性)",
                ["每项取自上游图层（来源列给出图层、筛选条件与字段）；上游未给出的指标留空并注明原因，不作估算。"],
                tables=[("规划指标", indicators)]),
        Section("5 国土空间结构 Spatial structure",
                ["中心：专题五城镇体系的规模序位（1 主中心、2 副中心，其余一般节点），点位取该乡镇城镇开发边界的代表点；轴线：专题十四路网中 "
                 f"{stv['axis_road_grades']} 等级道路与 02-06 铁路；口岸与交通枢纽：专题十四；生态源地、廊道与节点：专题十一。"],
                figures=figs("spatial_structure")),
        Section("6 总体布局 Overall layout", ["规划分区叠加三条控制线（候选）。"], figures=figs("overall_layout")),
        Section("7 未产出 Not produced", [f"**{what}** — {why}." for what, why in NOT_PRODUCED]),
        Section("8 说明 Notes", notes or ["—"]),
    ]
    summary = {"控制线 lines": records(line_table), "重叠 overlaps": records(overlaps), "指标 indicators": records(indicators)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
