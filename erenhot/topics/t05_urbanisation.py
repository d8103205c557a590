"""T05 二连浩特市新型城镇化发展与城镇体系研究 — new-type urbanisation and urban system (lead 自然资源局,
with 住建局).

Reads the validated deliveries 10-02 常住人口 (统计局), 11-01 户籍、城镇、乡村、流动人口 (公安局), 01-04
boundaries and 01-46a.dltb 三调 land use, the published T03 layer ``t03.urban_suitability`` (grid and
where towns may grow) and T12's ``t12.water_bound_scales`` (以水定人 / 以水定城 per target year, rows
selected by ``year`` and ``key``); computes with :mod:`erenhot.evaluation.projection` and
:mod:`erenhot.evaluation.urbanisation` on T03's grid:

* 人口预测 2025/2035 by 综合增长率 (m, k from 11-01), linear and log-linear regression and 年均增长率
  on the 10-02 series, Logistic (config ``projection``); the spread before and after the cap; the chosen
  value and every method capped by T12's 以水定人 of the same year (spec §5.4) → ``t05.population_forecast``;
* 常住 and 户籍人口城镇化率 per year and projected (Logistic on the rate with a configured saturation)
  → ``t05.urbanisation_rate``;
* 城镇建设用地需求 = planned urban population × 人均 per GB 50137-2011 表 4.2.1 (spec §5.5), capped by
  T12's 以水定城 of the same year → ``t05.land_demand``;
* a candidate 城镇开发边界 grown from the present 城镇 land (三调 CZCSXM 201/202) into urban-suitable
  cells, nearest first, to demand × expansion ratio (≤ present × max ratio, spec §4.4): 城镇集中建设区
  (built-up + growth up to the demand) and 城镇弹性发展区 (the rest) → ``t05.development_boundary``;
* 城镇体系: the township-level units with present and projected population and a size rank
  → ``t05.urban_system``; the city's size class (国发〔2014〕51号, config ``urban_system``) in the report.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features as rio_features

from erenhot import maps
from erenhot.catalog import Catalog
from erenhot.evaluation import projection as pj
from erenhot.evaluation import urbanisation as ub
from erenhot.grid import boundary_mask, rasterize, read_raster
from erenhot.reports import Section
from erenhot.storage import Storage
from erenhot.topics.common import LayerWriter, Progress, begin, finish, no_progress, records
from erenhot.topics.inputs import TopicInputs

CODE = "t05"
CONFIG = "t05_urbanisation"
WATER_LAYER = "t12.water_bound_scales"
REGISTERED_STOCK = ["registered_pop", "registered_urban_pop", "registered_rural_pop"]
CITY_CODE = "152501"
METHOD_ZH = {"comprehensive": "综合增长率法", "linear": "线性回归", "log_linear": "指数（对数线性）回归",
             "geometric": "年均增长率法", "logistic": "Logistic 曲线"}
ZONE_LABELS = {1: "现状城镇建设用地（集中建设区）", 2: "新增城镇集中建设区", 3: "城镇弹性发展区", 4: "适宜但未纳入"}
ZONE_COLOURS = {1: "#d7301f", 2: "#fc8d59", 3: "#fee08b", 4: "#d9f0d3"}
GHFQ = {1: "城镇集中建设区", 2: "城镇集中建设区", 3: "城镇弹性发展区"}
NOT_PRODUCED = [
    ("产业布局图 / t05.industry_layout", "no delivered 产业 data is read (07-05 产业发展现状 has no delivery contract); an "
     "industry layout is a planning proposal of topic 10 and the planners"),
    ("发展格局图 / t05.development_pattern (生态、农牧、城镇三类空间)", "a strategic pattern drawn by the planners from the "
     "双评价 (T02/T03) and the 三区三线; not derivable from data without their judgement"),
    ("地下空间开发现状图 / t05.underground_space_status", "needs 08-05 地下空间专项规划 and 08-04 人防工程, which have no "
     "delivery contract yet"),
    ("区域协同布局图 / t05.regional_coordination", "一带一路、京津冀、集赤通 cooperation is a policy narrative; no dataset"),
    ("城镇职能结构 (functions of the urban system)", "职能 are assigned by the planners; t05.urban_system gives size and rank only"),
]


def _city_or_sum(frame: pd.DataFrame, dataset: str, cols: list[str]) -> pd.DataFrame:
    """The city rows (XZQDM 152501) of a population table by year, else the sum of the township rows."""
    f = frame.copy()
    f["XZQDM"] = f["XZQDM"].astype(str)
    f["year"] = f["year"].astype(int)
    city = f[f["XZQDM"] == CITY_CODE]
    if city.empty:
        town = f[f["XZQDM"].str.len() == 9]
        if town.empty:
            raise ValueError(f"{dataset}: neither a city row (XZQDM {CITY_CODE}) nor township rows")
        city = town.groupby("year", as_index=False)[cols].sum(min_count=1)
    return city.sort_values("year").reset_index(drop=True)


def water_bounds_by_year(scales: pd.DataFrame, years: list[int], rule: str) -> dict[int, dict[str, Any]]:
    """T12's 以水定人 (persons, a bound on the *total* resident population) and 以水定城 (km², or None) for
    each target year, from the ``t12.water_bound_scales`` table.

    Rows are selected by the machine-readable columns ``year`` and ``key`` (``water_bound_population``,
    ``water_bound_urban_land``), the value is ``值 value``. A target year T12 does not give: ``rule``
    ``exact`` → error; ``nearest_earlier`` → the newest earlier T12 year (``from_year`` tells which).

    Returns:
        ``{year: {"population", "urban_land_km2", "from_year"}}``.

    Raises:
        ValueError: a column or the 以水定人 rows missing, a year not covered, or an unknown rule (names
            the layer and the year).
    """
    need = {"year", "key", "值 value"}
    if not need <= set(scales.columns):
        raise ValueError(f"{WATER_LAYER}: column(s) {sorted(need - set(scales.columns))} missing (has {list(scales.columns)})")
    if rule not in ("exact", "nearest_earlier"):
        raise ValueError(f"water_bound.year_rule must be exact or nearest_earlier, got {rule!r}")
    s = scales.dropna(subset=["值 value"]).copy()
    s["year"] = s["year"].astype(int)
    s["key"] = s["key"].astype(str)
    pop = s[s["key"] == "water_bound_population"].set_index("year")["值 value"].astype(float)
    land = s[s["key"] == "water_bound_urban_land"].set_index("year")["值 value"].astype(float)
    have = sorted(int(y) for y in pop.index)
    if not have:
        raise ValueError(f"{WATER_LAYER}: no row with key water_bound_population (以水定人)")
    out: dict[int, dict[str, Any]] = {}
    for y in years:
        if y in have:
            src = y
        elif rule == "exact":
            raise ValueError(f"{WATER_LAYER}: no water_bound_population (以水定人) for {y} (T12 gives {have}); add {y} to "
                             "T12's demand.target_years or set water_bound.year_rule = nearest_earlier")
        else:
            earlier = [h for h in have if h < y]
            if not earlier:
                raise ValueError(f"{WATER_LAYER}: no water_bound_population (以水定人) for {y} or an earlier year (T12 gives {have})")
            src = earlier[-1]
        out[int(y)] = {"population": float(pop.loc[src]), "urban_land_km2": float(land.loc[src]) if src in land.index else None,
                       "from_year": int(src)}
    return out


def check_registered(reg: pd.DataFrame, tolerance: float) -> list[str]:
    """11-01 stock checks on the city's 户籍 rows (columns ``year`` and :data:`REGISTERED_STOCK`, 人).

    Missing values are reported first and on their own (column and years); then
    ``registered_urban_pop + registered_rural_pop`` must equal ``registered_pop`` within ``tolerance`` ×
    ``registered_pop`` (config ``checks.registered_sum_tolerance``).

    Returns:
        Notes on non-zero differences within the tolerance.

    Raises:
        ValueError: a missing value, or a difference above the tolerance (names 11-01, column, year, unit).
    """
    missing = {c: [int(y) for y in reg.loc[reg[c].isna(), "year"]] for c in REGISTERED_STOCK}
    missing = {c: ys for c, ys in missing.items() if ys}
    if missing:
        raise ValueError("11-01 户籍人口.csv: missing value(s) of the city (人): "
                         + "; ".join(f"{c} in {ys}" for c, ys in missing.items()))
    total = reg["registered_pop"].astype(float)
    diff = reg["registered_urban_pop"].astype(float) + reg["registered_rural_pop"].astype(float) - total
    over = diff.abs() > float(tolerance) * total
    if over.any():
        detail = ", ".join(f"{int(y)}: {d:+,.0f} 人" for y, d in zip(reg.loc[over, "year"], diff[over]))
        raise ValueError(f"11-01 户籍人口.csv: registered_urban_pop + registered_rural_pop − registered_pop of the city exceeds "
                         f"checks.registered_sum_tolerance = {tolerance:g} × registered_pop ({detail})")
    small = (diff != 0) & ~over
    if small.any():
        return ["11-01: registered_urban_pop + registered_rural_pop differs from registered_pop within the tolerance in "
                + ", ".join(f"{int(y)} ({d:+,.0f} 人)" for y, d in zip(reg.loc[small, "year"], diff[small]))]
    return []


def capped_spread(by_method: dict[str, float], bound: float) -> dict[str, float]:
    """The spread of the methods after each is capped by ``bound`` (spec §5.4: cap all scenario results):
    ``min``, ``max``, ``mean`` of ``min(value, bound)``, ``range_pct`` = (max − min) / mean × 100 and
    ``n_capped`` = how many methods the bound cut."""
    vals = np.array([min(float(v), float(bound)) for v in by_method.values()], dtype=float)
    mean = float(vals.mean())
    return {"min": float(vals.min()), "max": float(vals.max()), "mean": mean,
            "range_pct": float((vals.max() - vals.min()) / mean * 100.0) if mean else float("nan"),
            "n_capped": int(sum(float(v) > float(bound) for v in by_method.values()))}


def city_size_class(population: float, breaks: list[float], labels: list[str]) -> str:
    """城市规模等级 of 国发〔2014〕51号 (config ``urban_system.city_size_breaks``/``labels``); a break value
    belongs to the larger class (以上包括本数).

    Raises:
        ValueError: breaks not increasing or labels not one more than breaks.
    """
    if len(labels) != len(breaks) + 1 or list(breaks) != sorted(breaks):
        raise ValueError("urban_system.city_size_breaks must increase and city_size_labels have one entry more")
    return str(labels[int(np.searchsorted(np.asarray(breaks, dtype=float), float(population), side="right"))])


def _chart(observed: dict[int, float], projs: list[pj.Projection], bound: dict[int, float], chosen: dict[int, float],
           title: str) -> bytes:
    """Projection chart: observed series, each method's curve to the last target year, the water bound."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties, fontManager

    path = str(maps.cjk_font_path())
    fontManager.addfont(path)
    font = FontProperties(fname=path, size=9)
    fig = Figure(figsize=(8.0, 4.8), facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    y0 = min(observed)
    y1 = max(max(p.values) for p in projs) if projs else max(observed)
    years = np.arange(y0, y1 + 1)
    for p in projs:
        ax.plot(years, p.at(years) / 1e4, lw=1.2, label=f"{METHOD_ZH.get(p.method, p.method)}")
    ax.plot(list(observed), np.array(list(observed.values())) / 1e4, "ko", ms=4, label="实际 observed (10-02)")
    ax.plot(list(bound), np.array(list(bound.values())) / 1e4, color="#1f78b4", ls="--", marker="s", ms=5, lw=1.2,
            label="以水定人 water bound (t12)")
    ax.plot(list(chosen), np.array(list(chosen.values())) / 1e4, "r*", ms=11, label="规划人口 planned")
    ax.set_xlabel("年份 year", fontproperties=font)
    ax.set_ylabel("常住人口（万人）", fontproperties=font)
    ax.set_title(title, fontproperties=FontProperties(fname=path, size=12))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(prop=font, loc="best", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
    return buf.getvalue()


def _pick(spread_row: pd.Series, by_method: dict[str, float], rule: str) -> float:
    if rule in ("mean", "median", "min", "max"):
        return float(spread_row[rule])
    if rule in by_method:
        return float(by_method[rule])
    raise ValueError(f"projection.chosen must be mean, median, min, max or a method that ran ({sorted(by_method)}), got {rule!r}")


def _rate_projection(series: dict[int, float], targets: list[int], saturation: float, min_years: int,
                     name: str, notes: list[str]) -> tuple[dict[int, float], str]:
    """Logistic on the rate, or the newest value held when the series cannot carry it."""
    last = max(series)
    if len(series) >= min_years:
        try:
            p = pj.logistic_trend(series, targets, saturation=saturation, name=name)
            return p.values, f"Logistic K = {saturation:g}, r = {p.params['r']:.4f}/a, R² = {p.r2:.3f}"
        except ValueError as e:
            notes.append(f"{name}: Logistic not fitted ({e}); the {last} rate is held.")
    else:
        notes.append(f"{name}: {len(series)} observed year(s) < urbanisation.min_years = {min_years}; the {last} rate is held.")
    return {y: float(series[last]) for y in targets}, f"held at the {last} value"


def run(storage: Storage, catalog: Catalog, readiness: dict[str, Any], overrides: dict[str, Any] | None = None,
        progress: Progress = no_progress) -> dict[str, Any]:
    """Evaluate T05 from the resolved inputs; publish layers, tables, maps and the report.

    Returns:
        JSON-safe result as :func:`erenhot.topics.t02_carrying_capacity.run`.

    Raises:
        erenhot.topics.inputs.InputError: an input the evaluation needs is not resolved (names it).
        ValueError: inconsistent deliveries (names the dataset and column), no projection method the
            data can carry, or a configuration value out of its allowed set.
    """
    begun = begin(storage, catalog, CODE, CONFIG, readiness, overrides, progress)
    if begun.reused is not None:
        return begun.reused
    topic, cfg, pub = begun.topic, begun.cfg, begun.pub
    inputs = TopicInputs(storage, readiness)
    v = cfg.values
    notes: list[str] = []
    targets = [int(y) for y in v["target_years"]]

    progress(0.05, "grid, boundaries, T03 layers")
    suit, grid, _ = read_raster(inputs.layer_bytes("t03.urban_suitability"))
    city = inputs.vector("01-04", "city")
    townships = inputs.vector("01-04", "townships").sort_values("XZQDM").reset_index(drop=True)
    townships["XZQDM"] = townships["XZQDM"].astype(str)
    inside = boundary_mask(city, grid)
    writer = LayerWriter(pub, topic, grid, city)
    cell_km2 = grid.cell_area_km2
    scales = pd.read_csv(io.BytesIO(inputs.layer_bytes(WATER_LAYER)), encoding="utf-8-sig")
    bounds = water_bounds_by_year(scales, targets, str(v["water_bound"]["year_rule"]))
    water_pop = {y: b["population"] for y, b in bounds.items()}
    water_land = {y: b["urban_land_km2"] for y, b in bounds.items()}
    for y, b in bounds.items():
        if b["from_year"] != y:
            notes.append(f"{WATER_LAYER} gives no {y} bound: T12's {b['from_year']} 以水定人/以水定城 cap {y} "
                         "(water_bound.year_rule = nearest_earlier).")

    progress(0.12, "常住人口 10-02 and 户籍人口 11-01")
    res_raw = inputs.table("10-02")
    res = _city_or_sum(res_raw, "10-02", ["resident_pop", "urban_pop"])
    resident = {int(r.year): float(r.resident_pop) for r in res.itertuples() if pd.notna(r.resident_pop)}
    if not resident:
        raise ValueError("10-02 常住人口.csv: no resident_pop value for the city")
    urban_obs = {int(r.year): float(r.urban_pop) for r in res.itertuples() if pd.notna(r.urban_pop) and pd.notna(r.resident_pop)}
    reg_raw = inputs.table("11-01")
    reg_cols = ["registered_pop", "registered_urban_pop", "registered_rural_pop", "births", "deaths", "moved_in", "moved_out",
                "floating_pop"]
    reg = _city_or_sum(reg_raw, "11-01", reg_cols)
    notes += check_registered(reg, float(v["checks"]["registered_sum_tolerance"]))
    prev = reg["registered_pop"].shift(1)
    balance_gap = (reg["registered_pop"] - (prev + reg["births"] - reg["deaths"] + reg["moved_in"] - reg["moved_out"])).iloc[1:]
    if (balance_gap.abs() > 0).any():
        notes.append(f"11-01: the 户籍 stock does not balance with births/deaths/migration in year(s) "
                     f"{reg['year'].iloc[1:][balance_gap.abs() > 0].tolist()} (gap {balance_gap[balance_gap.abs() > 0].round().tolist()}); "
                     "m and k use the year-start stock implied by each year's own flows.")

    progress(0.22, "人口预测 population projection")
    pv = v["projection"]
    base_year = max(resident)
    p0 = resident[base_year]
    rates = ub.natural_and_migration_rates(reg, years=int(pv["rate_years"]))
    sat = pv["logistic_saturation"]
    sat_value = water_pop[targets[-1]] if sat == "water_bound" else float(sat)
    name = "常住人口 resident population"
    projs: list[pj.Projection] = []
    skipped: list[tuple[str, str]] = []
    n_obs = len(resident)
    for method in pv["methods"]:
        try:
            if method == "comprehensive":
                projs.append(pj.comprehensive_growth(p0, base_year, targets, natural_rate=rates["natural_rate"],
                                                     migration_rate=rates["migration_rate"], name=name))
                continue
            if n_obs < int(pv["min_years_regression"]):
                raise ValueError(f"{n_obs} year(s) of 10-02 < projection.min_years_regression = {pv['min_years_regression']}")
            if method == "linear":
                projs.append(pj.linear_trend(resident, targets, name=name))
            elif method == "log_linear":
                projs.append(pj.log_linear_trend(resident, targets, name=name))
            elif method == "geometric":
                projs.append(pj.geometric_growth(resident, targets, name=name))
            elif method == "logistic":
                projs.append(pj.logistic_trend(resident, targets, saturation=sat_value, name=name))
            else:
                raise ValueError(f"unknown projection method {method!r} (config projection.methods)")
        except ValueError as e:
            if "unknown projection method" in str(e):
                raise
            skipped.append((method, str(e)))
    if not projs:
        raise ValueError(f"t05: no projection method could run: {skipped}")
    for m, why in skipped:
        notes.append(f"人口预测 {METHOD_ZH.get(m, m)} ({m}) skipped: {why}")
    spread = pj.spread(projs)
    forecast_rows: list[dict[str, Any]] = []
    planned: dict[int, float] = {}
    chosen: dict[int, float] = {}
    binding: dict[int, str] = {}
    capped: dict[int, dict[str, float]] = {}
    for y in targets:
        by_method = {p.method: p.values[y] for p in projs}
        srow = spread[spread["year"] == y].iloc[0]
        for p in projs:
            par = ", ".join(f"{k}={val:.4g}" for k, val in p.params.items() if k not in ("base_year", "t0", "from_year"))
            forecast_rows.append({"year": y, "item": f"{METHOD_ZH[p.method]} {p.method}", "value": round(p.values[y]),
                                  "unit": "人", "basis": par + (f"; R² = {p.r2:.3f}" if p.r2 is not None else "")})
        for k in ("min", "max", "mean", "median"):
            forecast_rows.append({"year": y, "item": f"spread {k}", "value": round(float(srow[k])), "unit": "人",
                                  "basis": f"{int(srow['n_methods'])} methods" + (f" ({srow[k + '_method']})" if k in ("min", "max") else "")})
        chosen[y] = _pick(srow, by_method, str(pv["chosen"]))
        planned[y], binding[y] = ub.bounded(chosen[y], {"以水定人": water_pop[y]}, own="projection")
        capped[y] = cs_ = capped_spread(by_method, water_pop[y])
        wb = f"{WATER_LAYER} {bounds[y]['from_year']} (key water_bound_population)"
        forecast_rows += [
            {"year": y, "item": "range %", "value": round(float(srow["range_pct"]), 1), "unit": "%", "basis": "(max − min) / mean"},
            {"year": y, "item": "以水定人 water-bound population", "value": round(water_pop[y]), "unit": "人", "basis": wb},
            *[{"year": y, "item": f"capped {k}", "value": round(cs_[k]), "unit": "人",
               "basis": f"{k} of min(method, 以水定人); {cs_['n_capped']} of {len(by_method)} methods above the bound"}
              for k in ("min", "max", "mean")],
            {"year": y, "item": "capped range %", "value": round(cs_["range_pct"], 1), "unit": "%",
             "basis": "(capped max − capped min) / capped mean"},
            {"year": y, "item": f"chosen ({pv['chosen']})", "value": round(chosen[y]), "unit": "人", "basis": "config projection.chosen"},
            {"year": y, "item": "规划常住人口 planned resident population", "value": round(planned[y]), "unit": "人",
             "basis": f"min(chosen, 以水定人); binding: {'以水定人 (water)' if binding[y] != 'projection' else 'projection'}"},
        ]
    forecast = pd.DataFrame(forecast_rows)

    progress(0.34, "城镇化率 urbanisation rates")
    uv = v["urbanisation"]
    res_rate = {y: float(ub.urbanisation_rate(u, resident[y], "10-02 常住人口城镇化率")) for y, u in urban_obs.items()}
    reg_rate = {int(r.year): float(ub.urbanisation_rate(r.registered_urban_pop, r.registered_pop, "11-01 户籍人口城镇化率"))
                for r in reg.itertuples()}
    if not res_rate:
        raise ValueError("10-02 常住人口.csv: urban_pop is empty for every year; the 常住人口城镇化率 needs it")
    res_proj, res_how = _rate_projection(res_rate, targets, float(uv["saturation_resident"]), int(uv["min_years"]),
                                         "常住人口城镇化率", notes)
    reg_proj, reg_how = _rate_projection(reg_rate, targets, float(uv["saturation_registered"]), int(uv["min_years"]),
                                         "户籍人口城镇化率", notes)
    rate_rows = []
    for y in sorted(set(res_rate) | set(reg_rate)):
        rr = reg[reg["year"] == y]
        rate_rows.append({"year": y, "kind": "observed", "resident_pop": resident.get(y), "urban_pop": urban_obs.get(y),
                          "resident_rate": res_rate.get(y), "registered_pop": float(rr["registered_pop"].iloc[0]) if len(rr) else None,
                          "registered_urban_pop": float(rr["registered_urban_pop"].iloc[0]) if len(rr) else None,
                          "registered_rate": reg_rate.get(y),
                          "floating_pop": float(rr["floating_pop"].iloc[0]) if len(rr) else None, "method": "10-02 / 11-01"})
    for y in targets:
        rate_rows.append({"year": y, "kind": "projected", "resident_pop": round(planned[y]), "urban_pop": round(planned[y] * res_proj[y]),
                          "resident_rate": res_proj[y], "registered_pop": None, "registered_urban_pop": None,
                          "registered_rate": reg_proj[y], "floating_pop": None, "method": f"常住: {res_how}; 户籍: {reg_how}"})
    rates_t = pd.DataFrame(rate_rows)
    for c in ("resident_rate", "registered_rate"):
        rates_t[c] = rates_t[c].astype(float).round(4)

    progress(0.45, "城镇建设用地需求 land demand")
    dltb = inputs.vector("01-46a.dltb")
    prefixes = tuple(str(p) for p in v["built_up"]["czcsxm_prefixes"])
    urban_now = dltb[dltb["CZCSXM"].fillna("").astype(str).str.startswith(prefixes)] if "CZCSXM" in dltb.columns else dltb.iloc[0:0]
    if urban_now.empty:
        raise ValueError(f"01-46a.dltb: no patch with CZCSXM starting {list(prefixes)} (现状城镇用地); the demand and the "
                         "development boundary need the present urban land")
    current_km2 = float(urban_now.geometry.area.sum() / 1e6)
    now_year = max(urban_obs)
    urban_pop_now = urban_obs[now_year]
    current_pc = current_km2 * 1e6 / urban_pop_now
    pc = v["per_capita"]
    gb = ub.Gb50137Params(rows=pc["rows"], size_breaks_10k=pc["size_breaks_10k"], overall_min=float(pc["overall_band"][0]),
                          overall_max=float(pc["overall_band"][1]), special_enabled=bool(pc["special_enabled"]),
                          special_max=float(pc["special_max"]))
    demand_rows = []
    demand: dict[int, float] = {}
    for y in targets:
        upop = planned[y] * res_proj[y]
        band = ub.per_capita_band(current_pc, upop, gb)
        per = ub.choose_per_capita(band, str(pc["choice"]))
        need = ub.land_demand_km2(upop, per)
        capped_km2, bind = ub.bounded(need, {"以水定城": water_land[y]} if water_land[y] is not None else {}, own="demand")
        demand[y] = capped_km2
        demand_rows.append({"year": y, "planned_urban_pop": round(upop), "current_land_km2": round(current_km2, 3),
                            "current_urban_pop": round(urban_pop_now), "current_per_capita_m2": round(current_pc, 1),
                            "gb50137_row": band.row_label, "allowed_lo_m2": band.lo, "allowed_hi_m2": band.hi,
                            "special_clause": band.special, "planned_per_capita_m2": round(per, 1),
                            "demand_km2": round(need, 3),
                            "water_bound_land_km2": round(water_land[y], 3) if water_land[y] is not None else None,
                            "water_bound_year": bounds[y]["from_year"],
                            "demand_capped_km2": round(capped_km2, 3), "binding": bind,
                            "change_vs_current_km2": round(capped_km2 - current_km2, 3)})
    land = pd.DataFrame(demand_rows)

    progress(0.55, "城镇开发边界 candidate development boundary")
    bv = v["boundary"]
    by = int(bv["target_year"])
    if by not in demand:
        raise ValueError(f"boundary.target_year {by} is not one of target_years {targets}")
    built = rasterize(urban_now, grid, value=1, dtype="uint8").astype(bool) & inside
    if not built.any():
        built = rasterize(urban_now, grid, value=1, dtype="uint8", all_touched=True).astype(bool) & inside
        notes.append("现状城镇用地 covers no cell centre of the grid: cells touched by it seed the boundary (grid too coarse).")
    allowed = np.isin(suit, [int(c) for c in bv["allowed_classes"]]) & inside
    limits = {}
    if bv["max_ratio_to_current"] is not None:
        limits["现状 × max_ratio_to_current"] = current_km2 * float(bv["max_ratio_to_current"])
    target_km2, target_binding = ub.bounded(demand[by] * float(bv["expansion_ratio"]), limits, own="需求 × expansion_ratio")
    growth = ub.grow_boundary(built, allowed, int(round(target_km2 / cell_km2)), str(bv["distance"]))
    core = ub.grow_boundary(built, allowed, min(int(round(demand[by] / cell_km2)), growth.target_cells), str(bv["distance"]))
    zones = np.zeros(grid.shape, np.uint8)
    zones[allowed & ~growth.mask] = 4
    zones[growth.mask] = 3
    zones[core.mask] = 2
    zones[built] = 1
    zones[~inside] = 0
    boundary_km2 = float(growth.mask.sum() * cell_km2)
    status_zh = {"reached": "已达到目标规模", "shortfall": "适宜用地不足 — not enough urban-suitable land",
                 "built_up_exceeds_target": "现状城镇用地已超过目标规模 — present built-up ≥ target: no new land"}[growth.status]
    shapes = [(shapely.geometry.shape(g), int(val)) for g, val in
              rio_features.shapes(np.where(growth.mask, zones, 0).astype(np.uint8), mask=growth.mask, transform=grid.transform)]
    polys = gpd.GeoDataFrame({"code": [c for _, c in shapes]}, geometry=[g for g, _ in shapes], crs=f"EPSG:{grid.crs_epsg}")
    polys["GHFQMC"] = polys["code"].map(GHFQ)
    polys["LX"] = polys["code"].map({1: "现状", 2: "新增", 3: "新增"})
    polys = polys.dissolve(by=["GHFQMC", "LX"], as_index=False)
    pieces = gpd.overlay(polys[["GHFQMC", "LX", "geometry"]], townships[["XZQDM", "XZQMC", "geometry"]], how="intersection",
                         keep_geom_type=True)
    pieces = pieces[pieces.geometry.area > 0].sort_values(["XZQDM", "GHFQMC", "LX"]).reset_index(drop=True)
    czkfbj = gpd.GeoDataFrame({
        "BSM": [f"{i + 1:08d}" for i in range(len(pieces))], "YSDM": None, "XZQDM": pieces["XZQDM"].astype(str),
        "XZQMC": pieces["XZQMC"].astype(str), "GHFQDM": None, "GHFQMC": pieces["GHFQMC"], "LX": pieces["LX"],
        "MJ": pieces.geometry.area.round(1), "area_km2": (pieces.geometry.area / 1e6).round(4), "target_year": by},
        geometry=pieces.geometry.values, crs=f"EPSG:{grid.crs_epsg}")
    bsum = pd.DataFrame([
        {"项目 item": "规划城镇建设用地需求 demand", "值 value": round(demand[by], 3), "单位 unit": "km²", "依据 basis": f"{by}, t05.land_demand"},
        {"项目 item": "扩展系数 × 需求 demand × expansion ratio", "值 value": round(demand[by] * float(bv["expansion_ratio"]), 3),
         "单位 unit": "km²", "依据 basis": f"boundary.expansion_ratio = {bv['expansion_ratio']}"},
        *[{"项目 item": f"上限 {k}", "值 value": round(val, 3), "单位 unit": "km²", "依据 basis": "spec §4.4"} for k, val in limits.items()],
        {"项目 item": "目标规模 target", "值 value": round(target_km2, 3), "单位 unit": "km²", "依据 basis": f"binding: {target_binding}"},
        {"项目 item": "现状城镇建设用地 present (polygons)", "值 value": round(current_km2, 3), "单位 unit": "km²",
         "依据 basis": f"01-46a.dltb CZCSXM {list(prefixes)}"},
        {"项目 item": "现状（栅格）present (cells)", "值 value": round(growth.seed_cells * cell_km2, 3), "单位 unit": "km²",
         "依据 basis": f"{growth.seed_cells} cells × {cell_km2:g} km²"},
        {"项目 item": "候选城镇开发边界 candidate boundary", "值 value": round(boundary_km2, 3), "单位 unit": "km²",
         "依据 basis": f"{int(growth.mask.sum())} cells; {growth.status}"},
        {"项目 item": "其中城镇集中建设区 concentrated", "值 value": round(float(core.mask.sum() * cell_km2), 3), "单位 unit": "km²", "依据 basis": "现状 + 新增 up to the demand"},
        {"项目 item": "其中城镇弹性发展区 flexible", "值 value": round(float((growth.mask & ~core.mask).sum() * cell_km2), 3), "单位 unit": "km²",
         "依据 basis": "beyond the demand up to the target"},
        {"项目 item": "缺口 shortfall", "值 value": round(growth.shortfall_cells * cell_km2, 3), "单位 unit": "km²",
         "依据 basis": f"suitable classes {list(bv['allowed_classes'])} reachable from the built-up area"},
        {"项目 item": "可用适宜用地 suitable land available", "值 value": round(float((allowed & ~built).sum() * cell_km2), 3), "单位 unit": "km²",
         "依据 basis": "t03.urban_suitability"},
    ])

    progress(0.66, "城镇体系 urban system")
    rr = res_raw.copy()
    rr["XZQDM"] = rr["XZQDM"].astype(str)
    rr["year"] = rr["year"].astype(int)
    tw = rr[(rr["year"] == base_year) & (rr["XZQDM"].isin(set(townships["XZQDM"])))]
    reg_t = reg_raw.copy()
    reg_t["XZQDM"] = reg_t["XZQDM"].astype(str)
    reg_t = reg_t[reg_t["year"].astype(int) == int(reg["year"].max())].set_index("XZQDM")
    system = None
    if len(tw) == len(townships) and tw["resident_pop"].notna().all():
        weight = tw.set_index("XZQDM")["resident_pop"].astype(float)
        share_basis = f"10-02 常住人口 {base_year}"
        present = {k: int(val) for k, val in weight.items()}
    elif set(townships["XZQDM"]) <= set(reg_t.index):
        weight = (reg_t["registered_pop"] + reg_t["floating_pop"]).astype(float).loc[list(townships["XZQDM"])]
        share_basis = f"11-01 户籍 + 流动人口 {int(reg['year'].max())} (10-02 has no township rows)"
        present = {k: int(round(p0 * val / weight.sum())) for k, val in weight.items()}
        notes.append(f"10-02 has no resident_pop for every township in {base_year}: t05.urban_system splits the city's "
                     "resident population by the 11-01 户籍 + 流动人口 of each township (a proxy).")
    else:
        weight = None
        notes.append(f"neither 10-02 nor 11-01 gives every township of 01-04 in {base_year}: t05.urban_system is not derived.")
    if weight is not None:
        share = weight / float(weight.sum())
        sys_rows = []
        for t in townships.itertuples():
            row = {"XZQDM": t.XZQDM, "XZQMC": t.XZQMC, f"resident_{base_year}": present[t.XZQDM],
                   "share": round(float(share[t.XZQDM]), 4), "share_basis": share_basis,
                   "registered": int(reg_t.loc[t.XZQDM, "registered_pop"]) if t.XZQDM in reg_t.index else None,
                   "floating": int(reg_t.loc[t.XZQDM, "floating_pop"]) if t.XZQDM in reg_t.index else None}
            for y in targets:
                row[f"resident_{y}"] = int(round(planned[y] * float(share[t.XZQDM])))
            sys_rows.append(row)
        system = gpd.GeoDataFrame(sys_rows, geometry=list(townships.geometry), crs=townships.crs)
        system["rank"] = system[f"resident_{targets[-1]}"].rank(ascending=False, method="min").astype(int)
        system["area_km2"] = (system.geometry.area / 1e6).round(2)
        system["density_per_km2"] = (system[f"resident_{targets[-1]}"] / system["area_km2"]).round(1)

    progress(0.76, "writing layers and tables")
    writer.table("t05.population_forecast", "population_forecast", forecast, "人口预测 population forecast")
    writer.table("t05.urbanisation_rate", "urbanisation_rate", rates_t, "城镇化率 urbanisation rate")
    writer.table("t05.land_demand", "land_demand", land, "城镇建设用地需求 land demand")
    writer.table(None, "boundary_summary", bsum, "城镇开发边界规模 boundary size")
    writer.vector("t05.development_boundary", czkfbj)
    if system is not None:
        writer.vector("t05.urban_system", system)

    progress(0.84, "maps and chart")
    writer.class_map("t05.development_boundary", zones, ZONE_LABELS, ZONE_COLOURS, thumbnail=True,
                     subtitle=f"{by}年 目标 {target_km2:.1f} km²，边界 {boundary_km2:.1f} km²（{status_zh.split(' — ')[0]}）")
    if system is not None:
        dens = rasterize(system, grid, value="density_per_km2", dtype="float32", fill=np.nan)
        writer.value_map("t05.urban_system", np.where(inside, dens, np.nan), "人/km²", cmap="OrRd",
                         subtitle=f"{targets[-1]}年规划常住人口密度（按乡镇，{system['share_basis'].iloc[0].split(' (')[0]} 占比分配）")
    chart = _chart(resident, projs, water_pop, planned, "二连浩特市常住人口预测（多方法）")
    entry = pub.put("maps/population_projection.png", chart, kind="map")
    writer.figures.append(("二连浩特市常住人口预测（多方法）", entry["name"]))

    progress(0.92, "report")
    last = targets[-1]
    us = v["urban_system"]
    size_now = city_size_class(urban_pop_now, us["city_size_breaks"], us["city_size_labels"])
    size_last = city_size_class(planned[last] * res_proj[last], us["city_size_breaks"], us["city_size_labels"])
    figures = {
        f"规划常住人口 {y}": f"{planned[y]:,.0f} 人 (spread {spread[spread['year'] == y]['min'].iloc[0]:,.0f}–"
                        f"{spread[spread['year'] == y]['max'].iloc[0]:,.0f}, capped {capped[y]['min']:,.0f}–{capped[y]['max']:,.0f}; "
                        f"binding: {binding[y]})" for y in targets}
    figures.update({
        f"以水定人 water bound {y}": f"{water_pop[y]:,.0f} 人 ({WATER_LAYER} {bounds[y]['from_year']})" for y in targets})
    figures.update({
        f"城市规模等级 {now_year} → {last}": f"{size_now} → {size_last} (国发〔2014〕51号; 城镇人口 {urban_pop_now:,.0f} → "
                                          f"{planned[last] * res_proj[last]:,.0f} 人)",
        f"常住人口城镇化率 {now_year} → {last}": f"{res_rate[now_year] * 100:.1f} % → {res_proj[last] * 100:.1f} %",
        f"户籍人口城镇化率 {max(reg_rate)} → {last}": f"{reg_rate[max(reg_rate)] * 100:.1f} % → {reg_proj[last] * 100:.1f} %",
        "现状人均城镇建设用地": f"{current_pc:,.1f} m²/人 ({current_km2:.2f} km² / {urban_pop_now:,.0f} 人, {now_year})",
        f"城镇建设用地需求 {last}": f"{demand[last]:.2f} km²",
        "候选城镇开发边界": f"{boundary_km2:.2f} km² ({growth.status}; target binding: {target_binding})",
    })
    fig = writer.figures

    def figs(*keys: str) -> list[tuple[str, str]]:
        return [f for f in fig if any(k in f[1] for k in keys)]

    bind_text = "; ".join(f"{y}: {'以水定人 binds (the projection exceeds the water bound)' if binding[y] != 'projection' else 'the projection (below the water bound)'}"
                          for y in targets)
    bound_text = "、".join(f"{y} 年 {water_pop[y]:,.0f} 人（T12 {bounds[y]['from_year']} 年）" for y in targets)
    spread_text = "；".join(f"{y} 年 封顶前 {spread[spread['year'] == y]['min'].iloc[0]:,.0f}–{spread[spread['year'] == y]['max'].iloc[0]:,.0f} 人"
                           f"（极差 {spread[spread['year'] == y]['range_pct'].iloc[0]:.1f} %），封顶后 {capped[y]['min']:,.0f}–{capped[y]['max']:,.0f} 人"
                           f"（极差 {capped[y]['range_pct']:.1f} %，{capped[y]['n_capped']}/{len(projs)} 种方法被截）" for y in targets)
    reg_new = reg[reg["year"] == reg["year"].max()].iloc[0]
    fl_year = int(reg_new["year"])
    float_text = (f"{fl_year} 年流动人口 {float(reg_new['floating_pop']):,.0f} 人"
                  + (f"，约占常住人口 {float(reg_new['floating_pop']) / resident[fl_year] * 100:.0f} %" if fl_year in resident else "")
                  if pd.notna(reg_new.get("floating_pop")) else "流动人口规模大")
    over_gb = current_pc > gb.overall_max
    land_why = ([f"现状人均 {current_pc:,.1f} m²/人 高于 GB 50137-2011 上限 {gb.overall_max:g} m²/人：规划人均须调减，需求低于现状用地。"]
                if over_gb else [])
    boundary_why = (
        [f"边界等于现状建成区、无新增用地的原因：现状人均城镇建设用地 {current_pc:,.1f} m²/人 高于 GB 50137-2011 对 I/II/VI/VII 气候区的上限 "
         f"{gb.overall_max:g} m²/人，表 4.2.1 对此只允许调减（允许调整幅度 < 0），规划人均 ≤ {gb.overall_max:g} m²/人"
         f"{'（特例条款未启用）' if not pc['special_enabled'] else ''}；故 {by} 年需求 {demand[by]:.2f} km² 小于现状 {current_km2:.2f} km²，"
         f"需求 × 扩展系数 {bv['expansion_ratio']} = {demand[by] * float(bv['expansion_ratio']):.2f} km² 亦不超过现状，无新增用地 —— 节约集约用地要求先消化存量。"]
        if growth.status == "built_up_exceeds_target" and over_gb else [])
    sections = [
        Section("1 人口预测 Population projection 2025 / 2035",
                [f"基年 {base_year} 常住人口 {p0:,.0f} 人（10-02）。综合增长率 P_n = P_0·(1 + m + k)^n，m = {rates['natural_rate'] * 1000:.2f} ‰、"
                 f"k = {rates['migration_rate'] * 1000:.2f} ‰（11-01 户籍 {rates['first_year']}–{rates['last_year']} 年均）；回归与 Logistic 用 10-02 "
                 f"{min(resident)}–{max(resident)} 序列（{n_obs} 年）。取值规则 projection.chosen = {pv['chosen']}，再以 T12 同年的以水定人"
                 f"（{WATER_LAYER}，key water_bound_population，总人口上限）封顶（spec §5.4）：{bound_text}。约束 binding — {bind_text}.",
                 f"各方法结果亦逐一封顶（spec §5.4 cap all scenario results，表中 capped min/max/mean）：{spread_text}。",
                 f"注意：综合增长率法把 11-01 户籍的自然增长率与机械增长率用于常住人口 P_0。二连浩特是流动人口比重很大的口岸城市（{float_text}），"
                 "户籍迁入迁出不含未落户的流动人口，户籍机械增长率会低估常住人口的实际迁移变化（流入或流出）；该方法的结果不确定性较大，"
                 "应与基于 10-02 常住人口序列的回归、Logistic 结果对照使用。"],
                tables=[("人口预测（人）", forecast)], figures=figs("population_projection")),
        Section("2 城镇化率 Urbanisation rates",
                [f"常住人口城镇化率 = 城镇人口 / 常住人口（10-02）；户籍人口城镇化率 = 城镇户籍人口 / 户籍人口（11-01）。预测：{res_how}（常住），"
                 f"{reg_how}（户籍）；规划城镇人口 = 规划常住人口 × 常住人口城镇化率。"],
                tables=[("城镇化率", rates_t)]),
        Section("3 城镇建设用地需求 Construction-land demand (GB 50137-2011)",
                [f"现状城镇建设用地 = 三调 CZCSXM {list(prefixes)} 图斑 {current_km2:.2f} km²，现状人均 {current_pc:,.1f} m²/人。"
                 f"规划人均按 GB 50137-2011 表 4.2.1（I/II/VI/VII 气候区，spec §5.5）：允许采用指标 ∩ 现状 + 允许调整幅度，取值 "
                 f"per_capita.choice = {pc['choice']}；边远少数民族地区特例（≤{pc['special_max']} m²/人）"
                 f"{'已启用' if pc['special_enabled'] else '未启用（per_capita.special_enabled）'}。需求再以 T12 同年的以水定城"
                 f"（{WATER_LAYER}，key water_bound_urban_land）封顶。", *land_why],
                tables=[("城镇建设用地需求", land)]),
        Section("4 候选城镇开发边界 Candidate 城镇开发边界",
                [f"自现状城镇用地（栅格化于 T03 网格，{grid.cell_size_m:g} m）沿适宜类 {list(bv['allowed_classes'])}（t03.urban_suitability，"
                 f"已排除生态保护极重要区与高风险区）由近及远增长（boundary.distance = {bv['distance']}：euclidean 按直线距离、可含飞地；connected 按只经适宜栅格的成本距离），至 需求 × 扩展系数 与 现状 × 上限比例 的较小者"
                 f"（spec §4.4）。结果：{status_zh}。城镇集中建设区 = 现状 + 至需求规模的新增，其余为城镇弹性发展区；字段按 CZKFBJ（spec §4.1："
                 "BSM, YSDM, XZQDM, XZQMC, GHFQDM, GHFQMC, MJ m²），YSDM/GHFQDM 代码未读到规范，留空。",
                 *boundary_why,
                 "这是由数据推导的候选边界，正式划定须结合永久基本农田、生态保护红线与规划判断。"],
                tables=[("边界规模", bsum)], figures=figs("development_boundary")),
        Section("5 城镇体系 Urban system",
                ([f"{len(townships)} 个乡镇级单元（01-04）的现状与规划常住人口（按 {system['share_basis'].iloc[0]} 占比分配，"
                  "urban_system.allocation）与规模序位；职能结构需规划判断，未给出。"] if system is not None else ["缺乡镇人口：未推导城镇体系。"])
                + [f"城市规模等级（国发〔2014〕51号，按城区常住人口；以 10-02 城镇人口与规划城镇人口近似）：{now_year} 年 {size_now}"
                   f"（{urban_pop_now:,.0f} 人），{last} 年 {size_last}（{planned[last] * res_proj[last]:,.0f} 人）。乡镇级单元不是城市，不套用该标准，只给序位。"],
                tables=[("城镇体系", pd.DataFrame(system.drop(columns="geometry")))] if system is not None else [],
                figures=figs("urban_system")),
        Section("6 未产出 Not produced", [f"**{what}** — {why}." for what, why in NOT_PRODUCED]),
        Section("7 说明 Notes", notes or ["—"]),
    ]
    summary = {"人口预测 forecast": records(forecast[forecast["item"].str.startswith(("规划", "chosen", "以水定人", "capped"))]),
               "城镇建设用地需求 land demand": records(land)}
    progress(0.98, "publishing")
    return finish(storage, catalog, topic, writer, cfg, inputs.sources(catalog), sections, figures, notes, summary)

