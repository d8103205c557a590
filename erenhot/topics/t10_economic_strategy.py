"""T10 二连浩特市经济社会发展战略与区域协同发展研究 — economic and social development strategy (lead 发改委).

Reads the 统计局 yearbook 10-01 (printed sheets normalised by :mod:`erenhot.yearbook` at acceptance:
主要经济指标 by year, 分地区主要经济指标 of the newest year), the 发改委 project list 02-07, the 01-04
boundaries, the 01-46a.dltb land use, the resident population 10-02 (optional) and T02's ``t02.slope``
as the analysis grid (EPSG:4525); computes:

* 地区生产总值 and its 三次产业 structure by year (万元, current prices; shares, nominal growth, per capita)
  → ``t10.gdp_series``;
* GDP projections to 2025 and 2035 by the methods of config ``projection.methods``
  (:mod:`erenhot.evaluation.projection`: 年均增长率, linear and log-linear regression on time, Logistic),
  their spread, and the comparison with the 十四五 growth target and the 远景 path (config ``target``; the
  vision multiple applies to the last target year) → ``t10.gdp_forecast`` and a projection chart; every
  growth rate from the base year is measured from the same delivered base value (:func:`forecast_table`);
  the methods are fitted to current prices, the real target is carried over with ``target.price_growth``;
* 经济密度 (万元/km²): each township's sector value added spread over its carrier land-use cells with
  the weights of config ``density.sector_weights`` (dasymetric mapping, :func:`dasymetric_allocation`)
  → ``t10.economic_density`` on T02's grid, and per township (GDP / area) → ``t10.economic_density_township``;
  without the 分地区 sheet the city output is spread over the whole city as one zone (:func:`city_wide_allocation`);
* the major projects located from their lon/lat → ``t10.major_projects`` (table) and
  ``t10.major_project_sites`` (points EPSG:4525, 重大项目分布图);
* the present opening-up corridors and nodes (:func:`opening_corridors`: railway 02-06 and trunk roads
  05-05 leaving the city, to Mongolia or inland; the road port, railway station and airport as topic 14
  published them in ``t14.hubs``, 口岸 projects 02-07)
  → ``t10.opening_up`` (对外开放通道与节点现状图) — data, not the strategic pattern.

Strategy maps that need planners' judgement (国土空间战略布局图, 区域协同发展战略图, 对外开放战略格局,
主要产业布局) are not produced; the report says so.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import projection as pj
from erenhot.grid import Grid, boundary_mask, rasterize_codes, read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, int_keys, no_progress, records, township_zones
from erenhot.topics.inputs import TopicInputs

CODE = "t10"
CONFIG = "t10_economic_strategy"
SECTORS = ("primary", "secondary", "tertiary")
HUBS_LAYER = "t14.hubs"
#: hubs of topic 14 that are opening-up nodes, with their kind in ``t10.opening_up``
HUB_NODES = {"border_port": "公路口岸", "railway_station": "铁路口岸站", "airport": "航空口岸"}
SECTOR_ZH = {"primary": "第一产业", "secondary": "第二产业", "tertiary": "第三产业"}
METHOD_ZH = {"geometric": "年均增长率外推", "linear": "线性回归", "log_linear": "指数（对数线性）回归",
             "logistic": "Logistic 曲线", "target": "十四五目标路径", "vision": "远景（翻一番）路径"}
#: normalised yearbook columns (10-01, erenhot.yearbook) → names used here
MAIN_COLUMNS = {"年份": "year", "地区生产总值": "gdp_10k_yuan", "三次产业增加值_第一产业": "primary_10k_yuan",
                "三次产业增加值_第二产业": "secondary_10k_yuan", "三次产业增加值_第三产业": "tertiary_10k_yuan",
                "人均地区生产总值": "per_capita_yuan", "年末常住人口": "population"}
TOWNSHIP_COLUMNS = {"地区": "name", "年份": "year", "地区生产总值": "gdp_10k_yuan", "第一产业": "primary_10k_yuan",
                    "第二产业": "secondary_10k_yuan", "第三产业": "tertiary_10k_yuan"}
DENSITY_COLOURS = {1: "#ffffcc", 2: "#fed976", 3: "#fd8d3c", 4: "#e31a1c", 5: "#800026"}


def _rename(frame: pd.DataFrame, columns: Mapping[str, str], where: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: normalised yearbook table lacks column(s) {missing} (has {list(frame.columns)})")
    return frame[list(columns)].rename(columns=dict(columns))


def gdp_series(main: pd.DataFrame, population: pd.DataFrame | None = None, *, sum_tolerance: float
               ) -> tuple[pd.DataFrame, list[str]]:
    """GDP and structure by year from the normalised 主要经济指标 sheet of 10-01.

    Args:
        main: the standardised part ``主要经济指标`` (columns of :data:`MAIN_COLUMNS`; 万元, 元/人, 人).
        population: 10-02 rows (``XZQDM, year, resident_pop``) or ``None``; the city rows (152501) give
            ``population_10_02`` and ``per_capita_10_02_yuan`` = GDP × 10⁴ / population.
        sum_tolerance: relative tolerance of Σ sectors vs 地区生产总值 (config ``series.sum_tolerance``).

    Returns:
        ``(table, notes)``: one row per year with ``gdp_10k_yuan``, the three sectors (万元), their shares
        (``*_share_pct``, % of GDP), ``growth_pct`` (nominal year-on-year, %), ``per_capita_yuan`` (as
        printed), ``population``; notes list rows whose sectors do not add up to GDP within ``sum_tolerance``.

    Raises:
        ValueError: a missing column, a year twice, or GDP ≤ 0 (names 10-01 主要经济指标 and the year).
    """
    where = "10-01 主要经济指标"
    t = _rename(main, MAIN_COLUMNS, where).copy()
    t = t.dropna(subset=["year"])
    t["year"] = t["year"].astype(int)
    if t["year"].duplicated().any():
        raise ValueError(f"{where}: year(s) {sorted(t.loc[t['year'].duplicated(), 'year'].tolist())} appear twice")
    bad = t[~(t["gdp_10k_yuan"] > 0)]
    if len(bad):
        raise ValueError(f"{where}: 地区生产总值 missing or ≤ 0 in year(s) {bad['year'].tolist()}")
    t = t.sort_values("year").reset_index(drop=True)
    notes = []
    total = t[[f"{s}_10k_yuan" for s in SECTORS]].sum(axis=1, min_count=3)
    off = t[(total - t["gdp_10k_yuan"]).abs() > float(sum_tolerance) * t["gdp_10k_yuan"]]
    if len(off):
        notes.append(f"{where}: the three sectors do not add up to 地区生产总值 (±{float(sum_tolerance):.1%}) in year(s) "
                     f"{off['year'].tolist()}; shares are of the printed GDP.")
    for s in SECTORS:
        t[f"{s}_share_pct"] = t[f"{s}_10k_yuan"] / t["gdp_10k_yuan"] * 100.0
    gap = t["year"].diff()
    t["growth_pct"] = np.where(gap == 1, (t["gdp_10k_yuan"] / t["gdp_10k_yuan"].shift(1) - 1.0) * 100.0, np.nan)
    if population is not None and len(population):
        p = population.copy()
        p["XZQDM"] = p["XZQDM"].astype(str)
        city = p[p["XZQDM"] == "152501"][["year", "resident_pop"]].astype({"year": int})
        t = t.merge(city.rename(columns={"resident_pop": "population_10_02"}), on="year", how="left")
        t["per_capita_10_02_yuan"] = t["gdp_10k_yuan"] * 1e4 / t["population_10_02"]
    return t, notes


def project_gdp(series: pd.Series, target_years: list[int], methods: list[str], *, window_years: int,
                saturation_multiple: float, name: str = "地区生产总值") -> list[pj.Projection]:
    """Fit the configured methods to a GDP series ``{year: 万元}`` and project to ``target_years``.

    Methods (config ``projection.methods``): ``geometric`` (年均增长率 over the last ``window_years``
    years, whole series when 0 or longer), ``linear``, ``log_linear``, ``logistic`` (saturation =
    ``saturation_multiple`` × the newest value). Formulas: :mod:`erenhot.evaluation.projection`.

    Raises:
        ValueError: an unknown method, fewer than two methods, or a series the method cannot carry.
    """
    unknown = sorted(set(methods) - {"geometric", "linear", "log_linear", "logistic"})
    if unknown:
        raise ValueError(f"projection.methods: unknown method(s) {unknown}")
    if len(set(methods)) < 2:
        raise ValueError("projection.methods: at least two methods are needed for a spread")
    last_year = int(series.index.max())
    out = []
    for m in methods:
        if m == "geometric":
            base = last_year - int(window_years) if window_years and window_years < len(series) else None
            out.append(pj.geometric_growth(series, target_years, name=name, base_year=base))
        elif m == "linear":
            out.append(pj.linear_trend(series, target_years, name=name))
        elif m == "log_linear":
            out.append(pj.log_linear_trend(series, target_years, name=name))
        else:
            out.append(pj.logistic_trend(series, target_years, saturation=float(saturation_multiple) * float(series.loc[last_year]),
                                         name=name))
    return out


def dasymetric_allocation(zones: np.ndarray, landuse: np.ndarray, code_ids: Mapping[str, int],
                          values: Mapping[int, Mapping[str, float]], weights: Mapping[str, Mapping[str, float]],
                          cell_km2: float, fallback: str = "uniform") -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    """Spread each zone's sector output over its carrier land-use cells (dasymetric mapping).

    For zone z and sector s with output V (万元) and carrier weight w(c) of the cell's land-use code
    (config ``density.sector_weights``): ``value(cell) = V · w(cell) / Σ_{cells of z} w``; the economic
    density is ``Σ_s value(cell) / cell_km2`` (万元/km²). When a zone has no carrier cell for a sector
    (``Σ w = 0``), ``fallback`` ``uniform`` spreads V evenly over the zone's cells (listed in the
    returned notes); ``error`` raises.

    Args:
        zones: int array (rows, cols), zone index per cell, 0 = outside.
        landuse: int array of the same shape, land-use class id per cell (0 = none), ids of ``code_ids``.
        code_ids: 三调 DLBM code → class id used in ``landuse``.
        values: ``{zone: {sector: 万元}}``.
        weights: ``{sector: {DLBM code: weight ≥ 0}}``.
        cell_km2: cell area (km²).

    Returns:
        ``(density, per_sector, notes)``: density float32 (万元/km², NaN outside the zones), the value per
        cell by sector (万元, float64, 0 outside), and notes on fallbacks and zones without cells.

    Raises:
        ValueError: shapes differ, a negative weight or value, a weight for a code without id, or
            (``fallback="error"``) a zone/sector without carrier cells.
    """
    if zones.shape != landuse.shape:
        raise ValueError(f"zones {zones.shape} and land use {landuse.shape} differ in shape")
    if fallback not in ("uniform", "error"):
        raise ValueError(f"density.fallback must be uniform or error, got {fallback!r}")
    n_ids = max([0, *code_ids.values()]) + 1
    per_sector: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for s, wmap in weights.items():
        lut = np.zeros(n_ids, dtype=float)
        for code, w in wmap.items():
            if float(w) < 0:
                raise ValueError(f"density.sector_weights.{s}: negative weight for {code}")
            if str(code) not in code_ids:
                raise ValueError(f"density.sector_weights.{s}: code {code} has no land-use class id")
            lut[code_ids[str(code)]] = float(w)
        w_cell = lut[landuse]
        out = np.zeros(zones.shape, dtype=float)
        for z, by_sector in values.items():
            v = float(by_sector.get(s, 0.0) or 0.0)
            if v < 0:
                raise ValueError(f"zone {z}: negative {s} output {v}")
            mask = zones == z
            n = int(mask.sum())
            if v == 0:
                continue
            if n == 0:
                notes.append(f"zone {z} has no cell on the grid: its {s} output ({v:,.0f} 万元) is not mapped.")
                continue
            total_w = float(w_cell[mask].sum())
            if total_w > 0:
                out[mask] += v * w_cell[mask] / total_w
            elif fallback == "uniform":
                out[mask] += v / n
                notes.append(f"zone {z}: no {s} carrier land-use cell — its {v:,.0f} 万元 spread evenly over its {n} cells.")
            else:
                raise ValueError(f"zone {z}: no {s} carrier land-use cell for {v:,.0f} 万元 (density.fallback = error)")
        per_sector[s] = out
    total = sum(per_sector.values()) if per_sector else np.zeros(zones.shape)
    density = np.where(zones > 0, total / cell_km2, np.nan).astype("float32")
    return density, per_sector, notes


def city_wide_allocation(zones: np.ndarray, landuse: np.ndarray, code_ids: Mapping[str, int], city_values: Mapping[str, float],
                         weights: Mapping[str, Mapping[str, float]], cell_km2: float, fallback: str = "uniform"
                         ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[int, dict[str, float]], list[str]]:
    """The dasymetric step when 10-01 has no 分地区 sheet: the city's sector output (``{sector: 万元}``)
    is spread over the carrier land use of the whole city as one zone (every cell with ``zones > 0``),
    so land use alone places it — no prior split among townships (a split by area would give the
    grassland 苏木 most of the urban output).

    Returns:
        ``(density, per_sector, by_zone, notes)`` as :func:`dasymetric_allocation`, plus ``by_zone``
        ``{township zone: {sector: 万元 that landed in it}}`` — an estimate, not a statistic. Notes name
        "the whole city" instead of a zone.
    """
    whole = np.where(zones > 0, 1, 0)
    density, per_sector, notes = dasymetric_allocation(whole, landuse, code_ids, {1: dict(city_values)}, weights, cell_km2,
                                                       fallback)
    notes = [n.replace("zone 1", "the whole city") for n in notes]
    by_zone = {int(z): {s: float(a[zones == z].sum()) for s, a in per_sector.items()} for z in np.unique(zones) if z > 0}
    return density, per_sector, by_zone, notes


def density_classes(density: np.ndarray, breaks: list[float]) -> np.ndarray:
    """Display classes of the 经济密度分布图: 1 … len(breaks)+1 from low to high density, classes
    ``[lo, hi)`` (a value on a break goes to the higher class, as the labels "10–100", "≥10,000" read);
    0 where NaN (outside). Breaks: config ``density.class_breaks`` (万元/km²)."""
    b = np.sort(np.asarray(breaks, dtype=float))
    if len(b) == 0 or len(np.unique(b)) != len(b):
        raise ValueError(f"density.class_breaks must be distinct numbers, got {breaks}")
    cls = 1 + np.searchsorted(b, np.nan_to_num(density, nan=-np.inf), side="right")
    return np.where(np.isfinite(density), cls, 0).astype(np.uint8)


def township_values(towns: pd.DataFrame, townships: gpd.GeoDataFrame, aliases: Mapping[str, str]) -> pd.DataFrame:
    """The 分地区 rows of 10-01 matched to 01-04 townships by name (``density.township_names`` aliases).

    Returns the rows with ``XZQDM``, ``XZQMC`` added. Raises ValueError naming 10-01 分地区主要经济指标
    and the unmatched names.
    """
    t = _rename(towns, TOWNSHIP_COLUMNS, "10-01 分地区主要经济指标").copy()
    t["name"] = t["name"].astype(str).str.strip()
    by_name = {str(r.XZQMC): str(r.XZQDM) for r in townships.itertuples()}
    t["XZQMC"] = t["name"].map(lambda n: aliases.get(n, n))
    t["XZQDM"] = t["XZQMC"].map(by_name)
    missing = t[t["XZQDM"].isna()]["name"].tolist()
    if missing:
        raise ValueError(f"10-01 分地区主要经济指标: 地区 {missing} match no 01-04 township ({sorted(by_name)}); "
                         "add a spelling to density.township_names")
    return t


def major_projects(sites: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, period: list[int], epsg: int = 4525
                   ) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame, list[str]]:
    """The located project list of 02-07 重大项目.

    Each project point (from its lon/lat, CGCS2000, transformed to EPSG:``epsg`` at acceptance) gets the
    township it lies in (``XZQDM``, ``XZQMC``; spatial join ``within``), a ``location_check`` of its
    delivered 建设地点 against that township, ``in_plan_period`` (its 建设年限 overlaps ``period``,
    config ``projects.plan_period``) and its coordinates ``x_4525``/``y_4525`` (m); rows by 总投资 descending.

    Returns:
        ``(projects, by_industry, sites, notes)``: the table, the sum per 行业 (count, 用地 hm², 总投资 万元,
        share %), the points with the table's columns, and notes on mismatched locations.

    Raises:
        ValueError: a contract column is missing, or start_year > end_year (names 02-07 and the project).
    """
    sites = sites.copy()
    sites.columns = [c.lower() if c != sites.geometry.name else c for c in sites.columns]
    need = ["name", "industry", "location", "land_hm2", "investment_10k_yuan", "start_year", "end_year"]
    lacking = [c for c in need if c not in sites.columns]
    if lacking:
        raise ValueError(f"02-07 重大项目: column(s) {lacking} missing")
    backwards = sites[sites["start_year"].astype(int) > sites["end_year"].astype(int)]
    if len(backwards):
        raise ValueError(f"02-07 重大项目: start_year > end_year for {backwards['name'].tolist()}")
    sites = sites.to_crs(epsg)
    joined = gpd.sjoin(sites, townships[["XZQDM", "XZQMC", "geometry"]].to_crs(epsg), how="left", predicate="within")
    joined = joined.drop(columns="index_right")
    joined = joined[~joined.index.duplicated()]
    joined["in_plan_period"] = (joined["start_year"].astype(int) <= period[1]) & (joined["end_year"].astype(int) >= period[0])
    joined["location_check"] = np.where(joined["XZQMC"].astype(str) == joined["location"].astype(str), "一致 matches",
                                        "不一致: point lies in " + joined["XZQMC"].fillna("outside the city").astype(str))
    joined["x_4525"] = joined.geometry.x.round(1)
    joined["y_4525"] = joined.geometry.y.round(1)
    joined = joined.sort_values("investment_10k_yuan", ascending=False).reset_index(drop=True)
    notes = []
    mismatched = joined[joined["location_check"] != "一致 matches"]
    if len(mismatched):
        notes.append(f"02-07: {len(mismatched)} project(s) lie outside the township their 建设地点 names "
                     f"({', '.join(mismatched['name'].astype(str))}; see location_check).")
    cols = ["name", "industry", "location", "XZQDM", "XZQMC", "location_check", "lon", "lat", "x_4525", "y_4525", "land_hm2",
            "investment_10k_yuan", "start_year", "end_year", "in_plan_period", "approval"]
    projects = pd.DataFrame(joined[[c for c in cols if c in joined.columns]])
    by_industry = (projects.groupby("industry", as_index=False)
                   .agg(projects=("name", "size"), land_hm2=("land_hm2", "sum"), investment_10k_yuan=("investment_10k_yuan", "sum"))
                   .sort_values("investment_10k_yuan", ascending=False).reset_index(drop=True))
    by_industry["investment_share_pct"] = by_industry["investment_10k_yuan"] / by_industry["investment_10k_yuan"].sum() * 100
    site_gdf = gpd.GeoDataFrame(projects.drop(columns=["lon", "lat"], errors="ignore"), geometry=joined.geometry.values, crs=epsg)
    return projects, by_industry, site_gdf, notes


def _growth_pct(value: float, base: float, years: int) -> float:
    """:func:`erenhot.evaluation.projection.average_annual_growth` in %, NaN for a period ≤ 0 years
    (a target year not after the base)."""
    return pj.average_annual_growth(base, value, years) * 100.0 if years > 0 else float("nan")


def vision_path(base_value: float, base_year: int, vision_year: int, multiple: float, price_growth: float) -> tuple[float, float]:
    """The 远景 reference: ``multiple`` × the base-year GDP in real terms by ``vision_year`` (the last
    configured target year), at current prices ``base · multiple · (1 + price)^n`` with n = vision_year −
    base_year. Returns ``(value 万元, real rate per year = multiple^(1/n) − 1)``.

    Raises:
        ValueError: ``vision_year`` not after ``base_year``.
    """
    n = int(vision_year) - int(base_year)
    if n <= 0:
        raise ValueError(f"projection.target_years: the vision year {vision_year} must be after target.base_year {base_year}")
    return base_value * multiple * (1 + price_growth) ** n, multiple ** (1 / n) - 1


def forecast_table(projs: list[pj.Projection], spread: pd.DataFrame, target: pj.Projection, *, base_year: int, base_value: float,
                   base_basis: str, last_year: int, last_gdp: float, g_real: float, price_growth: float, vision_year: int,
                   vision_multiple: float) -> pd.DataFrame:
    """The rows of ``t10.gdp_forecast``: each method, the spread statistics, the 十四五 target path and
    the 远景 path, per target year.

    Every row's ``growth_from_<base_year>_pct`` is measured from the same base, ``base_value`` (the
    delivered 10-01 value of ``base_year``, else the methods' mean there — ``base_basis``), not from each
    curve's own fitted base-year value, so the rates compare with the target rate. ``vs_reference_pct`` =
    value / (target path in the 十四五 years, 远景 path in ``vision_year``) − 1 (%). All values are current
    prices: the target's real rate is carried to current prices with ``price_growth``.
    """
    g_nominal = (1 + g_real) * (1 + price_growth) - 1
    vision_value, vision_rate = vision_path(base_value, base_year, vision_year, vision_multiple, price_growth)
    years = sorted({y for p in projs for y in p.values})
    ref = {y: target.values[y] if y in target.values else (vision_value if y == vision_year else np.nan) for y in years}
    col = f"growth_from_{base_year}_pct"

    def row(year: int, method: str, zh: str, val: float, r2: Any, basis: str) -> dict[str, Any]:
        r = ref.get(year, np.nan)
        return {"year": year, "method": method, "方法": zh, "gdp_10k_yuan": val, "gdp_100m_yuan": val / 1e4,
                "growth_from_last_year_pct": _growth_pct(val, last_gdp, year - last_year),
                col: _growth_pct(val, base_value, year - base_year),
                "vs_reference_pct": (val / r - 1) * 100 if r == r else np.nan, "r2": r2, "basis": basis}

    rows = [row(y, p.method, METHOD_ZH[p.method], p.values[y], p.r2, ", ".join(f"{k}={v:.6g}" for k, v in p.params.items()))
            for p in projs for y in years]
    for r in spread.itertuples():
        for stat in ("min", "max", "mean", "median"):
            rows.append(row(int(r.year), f"spread_{stat}", f"方法区间 {stat}", float(getattr(r, stat)), np.nan,
                            f"{int(r.n_methods)} methods; range {r.range:,.0f} 万元 ({r.range_pct:.1f} % of the mean); "
                            f"low {r.min_method}, high {r.max_method}"))
    for y, val in target.values.items():
        rows.append(row(y, "target", METHOD_ZH["target"], val, np.nan,
                        f"{base_value:,.0f} ({base_basis}) × (1 + {g_real:.3f}) × (1 + price {price_growth:.3f}) per year "
                        f"= {g_nominal:.2%}/a current prices; target.fourteenth_fyp_growth — 二连浩特市十四五规划纲要 not delivered, "
                        "confidence L"))
    rows.append(row(vision_year, "vision", f"{vision_year}{METHOD_ZH['vision']}", vision_value, np.nan,
                    f"{base_year} ({base_basis}) × {vision_multiple:g} (real, {vision_rate:.2%}/a) × price {price_growth:.3f}/a; "
                    "target.vision_2035_multiple"))
    return pd.DataFrame(rows)


def _bearing(dx: float, dy: float) -> float:
    """Grid bearing in degrees clockwise from north."""
    return float(np.degrees(np.arctan2(dx, dy)) % 360.0)


def opening_corridors(lines: gpd.GeoDataFrame, boundary, origin: tuple[float, float], toward: tuple[float, float],
                      exit_buffer_m: float, sector_deg: float) -> gpd.GeoDataFrame:
    """External corridors (对外通道) among railway/road lines and the direction each leaves the city.

    Lines are dissolved by ``(kind, name, grade)``; every end point of a dissolved line within
    ``exit_buffer_m`` of the boundary ring is an exit. An exit whose grid bearing from ``origin`` is within
    ± ``sector_deg`` of the bearing origin → ``toward`` (扎门乌德) is a 对蒙 exit, else a 腹地 (inland)
    exit. Lines without an exit are internal and left out. Config ``opening_up`` (exit_buffer_m,
    mongolia_sector_deg, mongolia_toward_lonlat).

    Args:
        lines: line features (EPSG:4525) with columns ``kind`` (铁路/公路), ``name``, ``grade``.
        boundary: the city polygon (EPSG:4525 shapely geometry).
        origin, toward: (x, y) in EPSG:4525 m.

    Returns:
        GeoDataFrame (EPSG:4525): ``kind, name, grade, exits_to_mongolia, exits_inland, role`` (对蒙通道 /
        对蒙及腹地贯通通道 / 腹地通道), ``length_km`` (inside the city), line geometry.
    """
    import shapely

    ring = boundary.boundary
    ref = _bearing(toward[0] - origin[0], toward[1] - origin[1])
    rows, geoms = [], []
    if len(lines) == 0:
        return gpd.GeoDataFrame({"kind": [], "name": [], "grade": [], "exits_to_mongolia": [], "exits_inland": [], "role": [],
                                 "length_km": []}, geometry=[], crs=lines.crs)
    for (kind, name, grade), grp in lines.groupby(["kind", "name", "grade"], dropna=False, sort=True):
        merged = shapely.line_merge(shapely.union_all(grp.geometry.values))
        parts = list(getattr(merged, "geoms", [merged]))
        ends = [pt for part in parts if not part.is_empty for pt in (part.coords[0], part.coords[-1])]
        to_mn = inland = 0
        for x, y in {(round(a, 1), round(b, 1)) for a, b in ends}:
            if ring.distance(shapely.Point(x, y)) > exit_buffer_m:
                continue
            diff = abs((_bearing(x - origin[0], y - origin[1]) - ref + 180.0) % 360.0 - 180.0)
            if diff <= sector_deg:
                to_mn += 1
            else:
                inland += 1
        if to_mn + inland == 0:
            continue
        role = "对蒙及腹地贯通通道" if to_mn and inland else ("对蒙通道" if to_mn else "腹地通道")
        rows.append({"kind": kind, "name": name, "grade": grade, "exits_to_mongolia": to_mn, "exits_inland": inland,
                     "role": role, "length_km": round(merged.intersection(boundary).length / 1000.0, 2)})
        geoms.append(merged)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=lines.crs) if rows else gpd.GeoDataFrame(
        {"kind": [], "name": [], "grade": [], "exits_to_mongolia": [], "exits_inland": [], "role": [], "length_km": []},
        geometry=[], crs=lines.crs)


def _opening_map(writer: LayerWriter, corridors: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, title: str) -> bytes:
    """Corridors coloured by role, nodes by kind, on the city outline (maps' frame and font)."""
    grid = writer.grid
    left, bottom, right, top = grid.bounds
    extent = (left, right, bottom, top)
    fig, ax = maps.new_map(grid, extent, title, "据交付的铁路、公路、车站、机场与口岸项目（现状，非规划）")
    role_style = {"对蒙通道": "#d7301f", "对蒙及腹地贯通通道": "#7a0177", "腹地通道": "#2171b5"}
    from matplotlib.lines import Line2D

    handles = []
    for role, colour in role_style.items():
        sel = corridors[corridors["role"] == role]
        for kind, style in (("铁路", "--"), ("公路", "-")):
            part = sel[sel["kind"] == kind]
            for g in part.geometry:
                for ln in getattr(g, "geoms", [g]):
                    xs, ys = ln.xy
                    ax.plot(xs, ys, style, color=colour, lw=2.2 if kind == "铁路" else 1.6, zorder=4)
            if len(part):
                handles.append(Line2D([], [], color=colour, ls=style, lw=2, label=f"{role}（{kind}）"))
    markers = {"铁路口岸站": ("s", "#000000"), "航空口岸": ("^", "#238b45"), "口岸项目": ("*", "#fd8d3c")}
    for kind, (m, c) in markers.items():
        sel = nodes[nodes["kind"] == kind] if len(nodes) else nodes
        if len(sel):
            ax.scatter(sel.geometry.x, sel.geometry.y, marker=m, s=90, c=c, edgecolors="black", linewidths=0.5, zorder=6)
            handles.append(Line2D([], [], marker=m, color=c, ls="", markersize=9, label=kind))
    return maps.finish_map(fig, ax, grid, extent, writer.boundary, handles)


def _landuse_ids(dltb: gpd.GeoDataFrame, grid: Grid, weights: Mapping[str, Mapping[str, float]]) -> tuple[np.ndarray, dict[str, int]]:
    codes = sorted({str(c) for w in weights.values() for c in w})
    ids = {c: i + 1 for i, c in enumerate(codes)}
    return rasterize_codes(dltb, "DLBM", grid, ids), ids


def _projection_chart(series: pd.Series, projs: list[pj.Projection], target_path: dict[int, float],
                      vision: dict[int, float], years: list[int]) -> bytes:
    """History and each method's curve (亿元), the target and vision paths, as a PNG."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5.2), facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    font = maps.map_font(9)
    t = np.arange(int(series.index.min()), max(years) + 1)
    ax.plot(series.index, series.to_numpy() / 1e4, "ko", label="统计年鉴 yearbook (10-01)")
    for p in projs:
        ax.plot(t, p.at(t) / 1e4, "-", label=f"{METHOD_ZH[p.method]} {p.method}")
    ax.plot(list(target_path), np.array(list(target_path.values())) / 1e4, "k--", lw=2, label=METHOD_ZH["target"])
    ax.plot(list(vision), np.array(list(vision.values())) / 1e4, "k:", lw=2, label=f"{max(vision)}{METHOD_ZH['vision']}")
    for y in years:
        ax.axvline(y, color="#999999", lw=0.6)
    ax.set_xlabel("年份", fontproperties=font)
    ax.set_ylabel("地区生产总值（亿元，当年价）", fontproperties=font)
    ax.set_title("二连浩特市地区生产总值预测", fontproperties=maps.map_font(13))
    ax.legend(prop=font, loc="upper left")
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _projects_map(writer: LayerWriter, sites: gpd.GeoDataFrame, title: str) -> bytes:
    """Project points coloured by 行业, sized by 总投资, on the city outline (maps' frame and font)."""
    grid = writer.grid
    left, bottom, right, top = grid.bounds
    extent = (left, right, bottom, top)
    fig, ax = maps.new_map(grid, extent, title, "点大小示意总投资（万元）")
    industries = sorted(sites["industry"].astype(str).unique())
    palette = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999", "#66c2a5", "#ffd92f"]
    inv = sites["investment_10k_yuan"].astype(float).fillna(0.0)
    size = 20 + 280 * np.sqrt(inv / max(float(inv.max()), 1.0))
    for i, ind in enumerate(industries):
        sel = (sites["industry"].astype(str) == ind).to_numpy()
        ax.scatter(sites.geometry.x[sel], sites.geometry.y[sel], s=size[sel], c=palette[i % len(palette)],
                   edgecolors="black", linewidths=0.5, alpha=0.85, label=ind, zorder=5)
    return maps.finish_map(fig, ax, grid, extent, writer.boundary)


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T10 from the resolved inputs; publish layers, tables, maps and the report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: an input the evaluation needs is not resolved (names it).
        ValueError: inconsistent deliveries (names dataset, part and column) or configuration.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []

    progress(0.05, "grid, boundaries, land use")
    _, grid, _ = read_raster(inputs.layer_bytes("t02.slope"))
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    townships["XZQDM"] = townships["XZQDM"].astype(str)
    inside = boundary_mask(city, grid)
    zones, zone_names = township_zones(townships, grid, inside)
    writer = LayerWriter(pub, topic, grid, city)
    dltb = inputs.vector("01-46a.dltb")
    dltb["DLBM"] = dltb["DLBM"].astype(str)
    population = inputs.table("10-02") if inputs.has("10-02") else None
    if population is None:
        notes.append("常住人口 (10-02) not delivered: per-capita GDP only as printed in the yearbook.")

    progress(0.15, "GDP series (10-01 主要经济指标)")
    sum_tol = float(v["series"]["sum_tolerance"])
    series_t, series_notes = gdp_series(inputs.table("10-01", "主要经济指标"), population, sum_tolerance=sum_tol)
    notes += series_notes
    gdp = series_t.set_index("year")["gdp_10k_yuan"]
    last_year = int(gdp.index.max())

    progress(0.25, "projections 2025/2035")
    pv = v["projection"]
    tv = v["target"]
    target_years = sorted(int(y) for y in pv["target_years"])
    base_year = int(tv["base_year"])
    fit_years = sorted(set(target_years) | {base_year})
    projs = project_gdp(gdp, fit_years, list(pv["methods"]), window_years=int(pv["geometric_window_years"]),
                        saturation_multiple=float(pv["logistic_saturation_multiple"]))
    projs = [replace(p, values={y: p.values[y] for y in target_years}) for p in projs]  # the base year was only fitted
    spread = pj.spread(projs)
    price = float(tv["price_growth"])
    g_real = float(tv["fourteenth_fyp_growth"])
    g_nominal = (1 + g_real) * (1 + price) - 1
    if base_year in gdp.index:
        base_value, base_basis = float(gdp.loc[base_year]), f"10-01 {base_year}"
    else:
        base_value = float(np.mean([p.at([base_year])[0] for p in projs]))
        base_basis = f"mean of the {len(projs)} methods at {base_year} (the yearbook ends {last_year})"
        notes.append(f"十四五 base: the yearbook ends {last_year}; the {base_year} base GDP is the mean of the methods "
                     f"({base_value:,.0f} 万元).")
    end_fyp = base_year + 5
    target = pj.compound(base_value, base_year, g_nominal, [y for y in target_years if y <= end_fyp] or [end_fyp],
                         name="地区生产总值", method="target")
    vision_mult = float(tv["vision_2035_multiple"])
    vision_year = target_years[-1]  # the 远景 multiple refers to the last configured target year (2035)
    vision_value, vision_rate = vision_path(base_value, base_year, vision_year, vision_mult, price)
    last_gdp = float(gdp.loc[last_year])
    forecast = forecast_table(projs, spread, target, base_year=base_year, base_value=base_value, base_basis=base_basis,
                              last_year=last_year, last_gdp=last_gdp, g_real=g_real, price_growth=price, vision_year=vision_year,
                              vision_multiple=vision_mult)

    progress(0.40, "economic density (dasymetric)")
    dv = v["density"]
    weights = {s: dict(dv["sector_weights"][s]) for s in SECTORS}
    landuse, code_ids = _landuse_ids(dltb, grid, weights)
    zone_of = {str(townships["XZQDM"].iloc[z - 1]): z for z in zone_names}
    values: dict[int, dict[str, float]] = {}
    density_year = last_year
    towns_t = None
    try:
        towns_raw = inputs.table("10-01", "分地区主要经济指标")
    except LookupError:
        towns_raw = None
    if towns_raw is not None and len(towns_raw):
        towns_t = township_values(towns_raw, townships, dict(dv["township_names"]))
        density_year = int(towns_t["year"].max())
        towns_t = towns_t[towns_t["year"] == density_year]
        for r in towns_t.itertuples():
            values[zone_of[r.XZQDM]] = {s: float(getattr(r, f"{s}_10k_yuan")) for s in SECTORS}
        missing_towns = sorted(set(townships["XZQDM"]) - set(towns_t["XZQDM"]))
        if missing_towns:
            notes.append(f"10-01 分地区 {density_year} has no row for township(s) {missing_towns}: they get no output.")
        if density_year in gdp.index:
            city_total = float(gdp.loc[density_year])
            diff = float(towns_t["gdp_10k_yuan"].sum()) / city_total - 1
            if abs(diff) > sum_tol:
                notes.append(f"10-01 分地区 {density_year} adds up to {diff:+.1%} of the city GDP of 主要经济指标.")
        density, per_sector, dens_notes = dasymetric_allocation(zones, landuse, code_ids, values, weights, grid.cell_area_km2,
                                                                str(dv["fallback"]))
        dens_notes = [n.replace("zone ", "township ") for n in dens_notes]
        for z, nm in zone_names.items():
            dens_notes = [n.replace(f"township {z}:", f"township {nm}:").replace(f"township {z} ", f"township {nm} ")
                          for n in dens_notes]
        township_basis = f"10-01 分地区 {density_year}"
    else:
        city_row = series_t[series_t["year"] == last_year].iloc[0]
        density, per_sector, values, dens_notes = city_wide_allocation(
            zones, landuse, code_ids, {s: float(city_row[f"{s}_10k_yuan"]) for s in SECTORS}, weights, grid.cell_area_km2,
            str(dv["fallback"]))
        township_basis = f"estimate: 10-01 city {last_year} output placed by land use"
        notes.append(f"10-01 has no 分地区 sheet: the city's {last_year} sector output (主要经济指标) is spread over the carrier "
                     "land use of the whole city as one zone, so land use alone places it (no prior split among townships by "
                     "area); the township figures of section 3 are what lands in each township — estimates, not statistics.")
    notes += dens_notes
    density_class = density_classes(density, list(dv["class_breaks"]))

    progress(0.55, "economic density by township")
    tw_rows = []
    for z, nm in zone_names.items():
        t = townships.iloc[z - 1]
        area = float(t.geometry.area / 1e6)
        val = values.get(z, {})
        g = sum(val.get(s, 0.0) for s in SECTORS)
        row = {"XZQDM": t["XZQDM"], "XZQMC": t["XZQMC"], "year": density_year, "basis": township_basis, "area_km2": area,
               "gdp_10k_yuan": g,
               **{f"{s}_10k_yuan": val.get(s, 0.0) for s in SECTORS},
               "density_10k_yuan_km2": g / area if area else np.nan,
               "mapped_10k_yuan": float(sum(per_sector[s][zones == z].sum() for s in SECTORS))}
        if population is not None:
            pp = population.copy()
            pp["XZQDM"] = pp["XZQDM"].astype(str)
            hit = pp[(pp["XZQDM"] == t["XZQDM"]) & (pp["year"].astype(int) == density_year)]
            row["resident_pop"] = float(hit["resident_pop"].iloc[0]) if len(hit) else np.nan
            row["per_capita_yuan"] = g * 1e4 / row["resident_pop"] if row["resident_pop"] and row["resident_pop"] == row["resident_pop"] else np.nan
        tw_rows.append(row)
    density_tw = pd.DataFrame(tw_rows)
    city_area = float(city.geometry.area.sum() / 1e6)
    city_g = float(density_tw["gdp_10k_yuan"].sum())
    density_tw = pd.concat([density_tw, pd.DataFrame([{"XZQDM": "152501", "XZQMC": "全市 whole city", "year": density_year,
                                                       "basis": "sum of the townships",
                                                       "area_km2": city_area, "gdp_10k_yuan": city_g,
                                                       **{f"{s}_10k_yuan": float(density_tw[f"{s}_10k_yuan"].sum()) for s in SECTORS},
                                                       "density_10k_yuan_km2": city_g / city_area,
                                                       "mapped_10k_yuan": float(density_tw["mapped_10k_yuan"].sum()),
                                                       **({"resident_pop": float(density_tw["resident_pop"].sum(min_count=len(density_tw))),
                                                           "per_capita_yuan": city_g * 1e4 / float(density_tw["resident_pop"].sum())}
                                                          if "resident_pop" in density_tw and density_tw["resident_pop"].notna().all() else {})}])],
                           ignore_index=True)

    progress(0.65, "major projects (02-07)")
    period = [int(y) for y in v["projects"]["plan_period"]]
    projects, by_industry, site_gdf, proj_notes = major_projects(inputs.vector("02-07"), townships, period, grid.crs_epsg)
    notes += proj_notes

    progress(0.70, "opening-up corridors and nodes")
    ov = v["opening_up"]
    from pyproj import Transformer

    to_grid = Transformer.from_crs(4490, grid.crs_epsg, always_xy=True)
    toward = to_grid.transform(*[float(c) for c in ov["mongolia_toward_lonlat"]])
    node_rows, node_geoms = [], []
    # the hubs topic 14 located and published (t14.hubs: hub, name_zh, source, point geometry)
    hubs = gpd.read_parquet(io.BytesIO(inputs.layer_bytes(HUBS_LAYER))).to_crs(grid.crs_epsg)
    by_hub = {str(r.hub): r for r in hubs.itertuples()}
    for hub, kind in HUB_NODES.items():
        if hub in by_hub:
            r = by_hub[hub]
            node_rows.append({"kind": kind, "name": str(r.name_zh), "source": f"{HUBS_LAYER} ({r.source})"})
            node_geoms.append(r.geometry)
    origin_hub = next((h for h in ("railway_station", "city_centre") if h in by_hub), None)
    if origin_hub is None:
        raise ValueError(f"{HUBS_LAYER} holds neither the railway station nor the city centre (hubs: {sorted(by_hub)}): "
                         "no origin for the corridor directions; re-run topic 14")
    pt = by_hub[origin_hub].geometry
    origin, origin_basis = (pt.x, pt.y), f"the {origin_hub.replace('_', ' ')} of {HUBS_LAYER} ({by_hub[origin_hub].source})"
    port_ind = {str(x) for x in ov["port_industries"]}
    for r in site_gdf.itertuples():
        if str(r.industry) in port_ind:
            node_rows.append({"kind": "口岸项目", "name": str(r.name), "source": "02-07"})
            node_geoms.append(r.geometry)
    line_parts = []
    if inputs.has("02-06"):
        rail = inputs.vector("02-06").to_crs(grid.crs_epsg)
        ncol = next((c for c in ("NAME", "name") if c in rail.columns), None)
        line_parts.append(gpd.GeoDataFrame({"kind": "铁路", "name": rail[ncol].astype(str) if ncol else "铁路", "grade": "铁路"},
                                           geometry=rail.geometry.values, crs=grid.crs_epsg))
    else:
        notes.append("铁路 (02-06) not delivered: no railway corridor in the opening-up layer.")
    if inputs.has("05-05"):
        roads = inputs.vector("05-05").to_crs(grid.crs_epsg)
        roads = roads[roads["DLDJ"].astype(str).isin([str(g) for g in ov["corridor_road_grades"]])]
        line_parts.append(gpd.GeoDataFrame({"kind": "公路", "name": roads["NAME"].astype(str), "grade": roads["DLDJ"].astype(str)},
                                           geometry=roads.geometry.values, crs=grid.crs_epsg))
    else:
        notes.append("交通路网 (05-05) not delivered: no road corridor in the opening-up layer.")
    lines_all = (pd.concat(line_parts, ignore_index=True) if line_parts
                 else gpd.GeoDataFrame({"kind": [], "name": [], "grade": []}, geometry=[], crs=grid.crs_epsg))
    corridors = opening_corridors(gpd.GeoDataFrame(lines_all, crs=grid.crs_epsg), city.geometry.union_all(), origin, toward,
                                  float(ov["exit_buffer_m"]), float(ov["mongolia_sector_deg"]))
    nodes = gpd.GeoDataFrame(node_rows, geometry=node_geoms, crs=grid.crs_epsg) if node_rows else gpd.GeoDataFrame(
        {"kind": [], "name": [], "source": []}, geometry=[], crs=grid.crs_epsg)
    opening = gpd.GeoDataFrame(pd.concat([corridors.assign(element="通道 corridor"), nodes.assign(element="节点 node")],
                                         ignore_index=True), crs=grid.crs_epsg)

    progress(0.75, "writing layers and tables")
    writer.table("t10.gdp_series", "gdp_series", series_t, "地区生产总值及结构")
    writer.table("t10.gdp_forecast", "gdp_forecast", forecast, "目标年地区生产总值预测")
    writer.raster("t10.economic_density", density, nodata=np.nan, tags={"UNIT": "万元/km²", "YEAR": str(density_year)})
    writer.table("t10.economic_density_township", "economic_density_township", density_tw, "分苏木镇经济密度")
    writer.table("t10.major_projects", "major_projects", projects, "重大项目清单")
    writer.vector("t10.major_project_sites", site_gdf)
    writer.table(None, "projects_by_industry", by_industry, "重大项目分行业汇总")
    writer.table(None, "gdp_forecast_spread", spread, "预测方法区间 spread")
    writer.vector("t10.opening_up", opening)

    progress(0.85, "maps and chart")
    writer.class_map("t10.economic_density", density_class, int_keys(dv["class_labels"]), DENSITY_COLOURS, thumbnail=True,
                     subtitle=f"{density_year}年 地区生产总值按土地利用分配（万元/km²）")
    writer.map_png("t10.major_project_sites", f"二连浩特市{topic.output('t10.major_project_sites').name_zh}",
                _projects_map(writer, site_gdf, f"二连浩特市{topic.output('t10.major_project_sites').map_zh or '重大项目分布图'}"), True)
    writer.map_png("t10.opening_up", f"二连浩特市{topic.output('t10.opening_up').name_zh}",
                _opening_map(writer, corridors, nodes, f"二连浩特市{topic.output('t10.opening_up').map_zh or '对外开放通道与节点现状图'}"),
                False)
    target_path = {base_year: base_value, **target.values}
    chart = _projection_chart(gdp, projs, target_path, {base_year: base_value, vision_year: vision_value}, target_years)
    pub.put("maps/gdp_projection.png", chart, kind="map")
    writer.figures.append(("二连浩特市地区生产总值预测", "maps/gdp_projection.png"))

    progress(0.93, "report")
    last = series_t.iloc[-1]
    first = series_t.iloc[0]
    cagr = pj.average_annual_growth(float(first["gdp_10k_yuan"]), float(last["gdp_10k_yuan"]), last_year - int(first["year"]))
    figures = {
        f"地区生产总值 {last_year}": f"{last['gdp_10k_yuan'] / 1e4:,.2f} 亿元 (10-01)",
        f"三次产业结构 {last_year}": " : ".join(f"{last[f'{s}_share_pct']:.1f}" for s in SECTORS),
        f"年均增长 {int(first['year'])}–{last_year}": f"{cagr:.2%} (nominal)",
        **{f"预测 {int(r.year)}": f"{r.min / 1e4:,.1f}–{r.max / 1e4:,.1f} 亿元 (mean {r.mean / 1e4:,.1f}, {int(r.n_methods)} methods)"
           for r in spread.itertuples()},
        "十四五目标 growth": f"{g_real:.1%}/a real (config, L) → 2025 {target.values.get(end_fyp, np.nan) / 1e4:,.1f} 亿元",
        f"经济密度 {density_year}": f"{city_g / city_area:,.1f} 万元/km² (city)",
        "重大项目": f"{len(projects)} projects, {projects['investment_10k_yuan'].sum() / 1e4:,.1f} 亿元",
    }
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(k in f[1] for k in keys)]

    share_cols = ["year", "gdp_10k_yuan"] + [f"{s}_share_pct" for s in SECTORS] + ["growth_pct", "per_capita_yuan"]
    method_rows = [{"方法 method": f"{METHOD_ZH[p.method]} ({p.method})", "公式 formula": {
        "geometric": "V(t) = V_last·(1+r)^(t−t_last), r = (V_last/V_first)^(1/n) − 1",
        "linear": "V = a + b·t (OLS)", "log_linear": "ln V = a + b·t (OLS), growth e^b − 1",
        "logistic": "V = K / (1 + c·e^{−r(t−t0)}), ln(K/V − 1) by OLS"}[p.method],
        "参数 params": ", ".join(f"{k}={val:.4g}" for k, val in p.params.items()), "R²": None if p.r2 is None else round(p.r2, 4)}
        for p in projs]
    not_produced = [
        "国土空间战略布局图 (t10.strategic_layout) — needs planners' judgement on the development strategy and 定位; "
        "02-01/02-02/02-03 are documents (十四五 前期研究, 十三五 规划 and 中期评估) and are not read.",
        "区域协同发展战略图 (t10.regional_coordination) — a strategy drawing (中蒙俄经济走廊, 呼包鄂, 锡林郭勒 cooperation) "
        "that no delivered dataset carries.",
        "对外开放战略格局图 — the strategic pattern (开放功能区, 通道定位) is a planning decision and 09-01/09-02 (口岸、商务规划, "
        "对蒙合作纲要) have no contract; section 5 maps only the present corridors and nodes found in the delivered layers "
        "(t10.opening_up, 对外开放通道与节点现状图) as its data base.",
        "主要产业发展方向和空间布局 (t10.industry_layout) — 07-05/07-06 (产业发展现状及规划, 重点项目规划分布) have no delivery "
        "contract; the economic density above shows the present distribution only.",
        "十三五规划评估, 新型城镇化意见, 配套政策建议 — text for the planners; not derivable from data.",
    ]
    sections = [
        Section("1 经济发展现状 GDP and structure",
                [f"10-01 统计年鉴 主要经济指标 {int(first['year'])}–{last_year}（当年价，万元），由 erenhot.yearbook 规范化（标题行、单位行、"
                 f"多行表头、千分位、“—”缺测、注释）。{int(first['year'])}–{last_year} 年均名义增长 {cagr:.2%}。"],
                tables=[("地区生产总值及三次产业结构", series_t[share_cols].round(2))]),
        Section(f"2 目标年地区生产总值预测 GDP projection {' / '.join(str(y) for y in target_years)}",
                [f"方法 {', '.join(METHOD_ZH[p.method] for p in projs)}（erenhot.evaluation.projection，spec §5.4 [S24]）；"
                 f"年均增长率取最近 {pv['geometric_window_years']} 年；Logistic 饱和值 K = {pv['logistic_saturation_multiple']} × {last_year} 年 GDP（L）。",
                 f"十四五 增速目标 {g_real:.1%}/a（可比价，config target.fourteenth_fyp_growth，来源：二连浩特市十四五规划纲要 — 本次未交付，置信度 L），"
                 f"按价格指数 {price:.1%}/a 折算为现价 {g_nominal:.2%}/a，基期 {base_year}（{base_basis}）。{vision_year} 参照：{base_year} 年的 "
                 f"{vision_mult:g} 倍（实际 {vision_rate:.2%}/a，config target.vision_2035_multiple，用于最后一个目标年）。"
                 f"vs_reference_pct = 预测 / 目标路径 − 1；growth_from_{base_year}_pct 各行（各方法、区间、目标、远景）均自同一基期值 "
                 f"{base_value:,.0f} 万元（{base_basis}）起算，而非各曲线自身在 {base_year} 年的拟合值，故可与目标增速直接比较。",
                 f"注意 NOTE：各预测方法拟合的是现价（当年价）GDP 序列，而十四五目标是可比价（实际）增速；比较时目标按配置的价格增长 "
                 f"{price:.1%}/a（target.price_growth，置信度 L，未交付价格指数）折算为现价。因此方法区间和 vs_reference_pct 含通货膨胀："
                 "价格增长假设每偏差 1 个百分点，目标路径每年即偏差约 1 个百分点。The projection methods are fitted to current-price GDP "
                 "while the 十四五 target is a real rate: the comparison converts the target with the configured price growth, so the "
                 "spread and the gaps to the target include inflation."],
                tables=[("预测方法与参数", pd.DataFrame(method_rows)), ("预测方法区间", spread.round(1)),
                        ("目标年 GDP（万元）", forecast.round(2))],
                figures=figs("gdp_projection")),
        Section("3 经济密度 Economic density",
                [(f"{density_year} 年各苏木镇（地区）三次产业增加值（10-01 分地区）" if towns_t is not None else
                  f"10-01 无分地区表：{density_year} 年全市三次产业增加值（主要经济指标）以全市为一个分区（不先按面积分到苏木镇），"
                  "仅由土地利用定位；下表各苏木镇数值是落在其内的份额（估计值，非统计数）。全市")
                 + f"按土地利用（01-46a.dltb，栅格中心点地类）分配到 "
                 f"{grid.cell_size_m:g} m 栅格（T02 网格）：一产 → 耕地、草地；二产 → 工业、采矿用地；三产 → 商服、物流仓储、住宅、"
                 "公共服务、口岸交通用地；权重见 config density.sector_weights（置信度 L，可调）。无承载地类的产业按乡镇均匀分配。"],
                tables=[("分苏木镇经济密度", density_tw.round(2))], figures=figs("economic_density")),
        Section("4 重大项目 Major projects",
                [f"02-07 重大项目 {len(projects)} 项，总投资 {projects['investment_10k_yuan'].sum() / 1e4:,.1f} 亿元，"
                 f"十四五期间（{period[0]}–{period[1]}）在建 {int(projects['in_plan_period'].sum())} 项；位置按经纬度（CGCS2000）定位。"],
                tables=[("重大项目清单", projects.drop(columns=["x_4525", "y_4525"], errors="ignore")),
                        ("分行业汇总", by_industry.round(2))],
                figures=figs("major_project_sites")),
        Section("5 对外开放通道与节点（现状）Opening-up corridors and nodes (present)",
                [f"铁路（02-06）与 {'/'.join(ov['corridor_road_grades'])}（05-05）线路的端点距市界 ≤ {ov['exit_buffer_m']} m 者为出市通道；"
                 f"自 {origin_basis} 看，出口方位在扎门乌德方向 ±{ov['mongolia_sector_deg']}° 内为对蒙出口，否则为腹地出口。"
                 "节点：铁路口岸站（22-01）、赛乌素机场（21-01）、口岸项目（02-07 行业 ∈ opening_up.port_industries）。"
                 "这是现状要素的识别，不是对外开放战略格局（见“未产出”）。"],
                tables=[("出市通道", pd.DataFrame(corridors.drop(columns="geometry"))),
                        ("开放节点", pd.DataFrame(nodes.drop(columns="geometry")))],
                figures=figs("opening_up")),
        Section("6 未产出 Not produced", not_produced),
        Section("7 说明 Notes", notes or ["—"]),
    ]
    summary = {"目标年GDP forecast": records(forecast), "经济密度 by township": records(density_tw)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)
