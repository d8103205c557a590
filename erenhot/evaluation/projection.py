"""Projection of an annual series (GDP, population, …) to target years: pure functions, several methods.

Chinese master plans project a quantity by several methods and report their spread (spec §5.4
[S24]: 综合增长率法, 回归分析 (time series), Logistic, …). This module gives the general methods on a
series ``{year: value}``; a topic picks its methods and parameters from its configuration:

* :func:`geometric_growth` — 年均增长率 (average annual growth, geometric) extrapolation;
* :func:`linear_trend` — 线性回归 on time (ordinary least squares);
* :func:`log_linear_trend` — 指数（对数线性）回归: OLS of ln V on time, a constant growth rate;
* :func:`logistic_trend` — Logistic curve with a given saturation value K (linearised OLS);
* :func:`comprehensive_growth` — 综合增长率法 ``P_n = P_0·(1 + m + k)^n`` [S24] [H];
* :func:`compound` — a base value grown at a stated rate (a plan target such as the 十四五 growth rate);
* :func:`spread` — min / max / mean / median across methods per target year.

Values keep the unit of the series (万元, 人, …); years are calendar years (int). Every function
raises :class:`ValueError` naming the series (``name=``) when the data cannot carry the method: fewer
points than the method needs, duplicate or non-finite years/values, non-positive values for the
log-based methods, values outside (0, K) for the logistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Projection", "as_series", "average_annual_growth", "compound", "comprehensive_growth",
           "geometric_growth", "linear_trend", "log_linear_trend", "logistic_trend", "spread"]


@dataclass(frozen=True)
class Projection:
    """A fitted projection method.

    Attributes:
        method: short method key (``geometric``, ``linear``, ``log_linear``, ``logistic``,
            ``comprehensive``, ``compound``).
        name: the series name (for messages and tables).
        params: the fitted/used parameters (rates as fractions per year, e.g. 0.1 = 10 %/a).
        values: ``{target year: projected value}`` in the unit of the series.
        r2: coefficient of determination of a regression on the data it was fitted to (``None`` for
            the non-regression methods); for the log-based fits it is computed on the original scale.
    """

    method: str
    name: str
    params: dict[str, float]
    values: dict[int, float]
    r2: float | None = None
    curve: Callable[[np.ndarray], np.ndarray] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def at(self, years: Iterable[int] | np.ndarray) -> np.ndarray:
        """The method's curve at ``years`` (float array), e.g. for a chart of fit and projection."""
        return np.asarray(self.curve(np.asarray(list(years) if not isinstance(years, np.ndarray) else years, dtype=float)),
                          dtype=float)


def as_series(data: Mapping[int, float] | pd.Series, name: str = "series", *, min_points: int = 2,
              positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(years, values)`` float arrays sorted by year from a mapping or a year-indexed Series.

    Raises:
        ValueError: fewer than ``min_points`` values, duplicate or non-finite years, non-finite values, or
            (``positive``) a value ≤ 0 — the message names the series and the year.
    """
    items = list(data.items())
    years = np.array([float(k) for k, _ in items], dtype=float)
    values = np.array([float(v) if v is not None else math.nan for _, v in items], dtype=float)
    if len(years) < min_points:
        raise ValueError(f"{name}: {len(years)} value(s); the method needs at least {min_points}")
    if not np.isfinite(years).all():
        raise ValueError(f"{name}: non-finite year in {list(data.keys())}")
    if len(np.unique(years)) != len(years):
        dup = sorted({int(y) for y in years if (years == y).sum() > 1})
        raise ValueError(f"{name}: duplicate year(s) {dup}")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{name}: missing or non-finite value in year(s) {[int(y) for y in years[bad]]}")
    if positive and (values <= 0).any():
        raise ValueError(f"{name}: non-positive value(s) in year(s) {[int(y) for y in years[values <= 0]]}; "
                         "a log-based method needs values > 0")
    order = np.argsort(years)
    return years[order], values[order]


def _targets(target_years: Iterable[int]) -> list[int]:
    out = [int(y) for y in target_years]
    if not out:
        raise ValueError("target_years is empty")
    return out


def _r2(observed: np.ndarray, fitted: np.ndarray) -> float:
    ss_res = float(((observed - fitted) ** 2).sum())
    ss_tot = float(((observed - observed.mean()) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0


def average_annual_growth(v0: float, v1: float, years: float, name: str = "series") -> float:
    """年均增长率 (geometric mean growth): ``r = (V1 / V0)^(1 / n) − 1`` over ``n`` years (fraction per year).

    Raises:
        ValueError: ``n`` ≤ 0 or a value ≤ 0 (names the series).
    """
    if years <= 0:
        raise ValueError(f"{name}: the growth period must be > 0 years, got {years}")
    if v0 <= 0 or v1 <= 0:
        raise ValueError(f"{name}: average annual growth needs positive values, got {v0} and {v1}")
    return (v1 / v0) ** (1.0 / years) - 1.0


def geometric_growth(data: Mapping[int, float] | pd.Series, target_years: Iterable[int], *, name: str = "series",
                     base_year: int | None = None) -> Projection:
    """年均增长率外推 (average-annual-growth extrapolation).

    ``r = (V_last / V_first)^(1 / (t_last − t_first)) − 1`` over the whole series (or from ``base_year``
    on), then ``V(t) = V_last · (1 + r)^(t − t_last)``. Units: V as the series, r per year. The usual
    first method of 综合增长率 / 年均增速 projections in Chinese plans (spec §5.4 [S24]).

    Raises:
        ValueError: fewer than 2 points (from ``base_year`` on) or non-positive values (names the series).
    """
    years, values = as_series(data, name, positive=True)
    if base_year is not None:
        keep = years >= base_year
        years, values = years[keep], values[keep]
        if len(years) < 2:
            raise ValueError(f"{name}: fewer than 2 values from base_year {base_year}")
    r = average_annual_growth(values[0], values[-1], years[-1] - years[0], name)
    t1, v1 = years[-1], values[-1]

    def curve(t: np.ndarray) -> np.ndarray:
        return v1 * (1.0 + r) ** (t - t1)

    return Projection("geometric", name, {"rate": r, "from_year": float(years[0]), "base_year": float(t1), "base_value": float(v1)},
                      {y: float(curve(np.array([y], dtype=float))[0]) for y in _targets(target_years)}, None, curve)


def linear_trend(data: Mapping[int, float] | pd.Series, target_years: Iterable[int], *, name: str = "series") -> Projection:
    """线性回归 on time: OLS ``V = a + b·t`` (t in years), ``V(t)`` read off the line.

    ``params``: ``intercept`` a (at year 0), ``slope`` b (unit of V per year). ``r2`` on the data.
    Source: time-series regression of spec §5.4 [S24] (回归分析).

    Raises:
        ValueError: fewer than 2 points (names the series).
    """
    years, values = as_series(data, name)
    slope, intercept = np.polyfit(years, values, 1)

    def curve(t: np.ndarray) -> np.ndarray:
        return intercept + slope * t

    return Projection("linear", name, {"intercept": float(intercept), "slope": float(slope)},
                      {y: float(intercept + slope * y) for y in _targets(target_years)}, _r2(values, curve(years)), curve)


def log_linear_trend(data: Mapping[int, float] | pd.Series, target_years: Iterable[int], *, name: str = "series") -> Projection:
    """指数（对数线性）回归: OLS ``ln V = a + b·t``, so ``V(t) = exp(a + b·t)`` with growth ``e^b − 1`` per year.

    ``params``: ``a``, ``b`` (per year), ``rate`` = e^b − 1 (fraction per year). ``r2`` on the original
    scale. Source: time-series regression of spec §5.4 [S24] (回归分析, exponential form).

    Raises:
        ValueError: fewer than 2 points or non-positive values (names the series).
    """
    years, values = as_series(data, name, positive=True)
    b, a = np.polyfit(years, np.log(values), 1)

    def curve(t: np.ndarray) -> np.ndarray:
        return np.exp(a + b * t)

    return Projection("log_linear", name, {"a": float(a), "b": float(b), "rate": float(math.expm1(b))},
                      {y: float(math.exp(a + b * y)) for y in _targets(target_years)}, _r2(values, curve(years)), curve)


def logistic_trend(data: Mapping[int, float] | pd.Series, target_years: Iterable[int], *, saturation: float,
                   name: str = "series") -> Projection:
    """Logistic curve with a saturation value K: ``V(t) = K / (1 + c·e^{−r·(t − t0)})`` (spec §5.4 [M]).

    Fitted by OLS of the linearised form ``ln(K / V − 1) = ln c − r·(t − t0)`` with ``t0`` the first
    year of the series. ``params``: ``saturation`` K (unit of V), ``c``, ``r`` (per year), ``t0``.
    ``r2`` on the original scale. K is a planning assumption (resource ceiling, 城镇化 saturation …),
    supplied by the caller from configuration.

    Raises:
        ValueError: fewer than 2 points, K not finite or ≤ 0, or a value outside (0, K) (names the series).
    """
    years, values = as_series(data, name, positive=True)
    k = float(saturation)
    if not math.isfinite(k) or k <= 0:
        raise ValueError(f"{name}: logistic saturation must be a positive number, got {saturation!r}")
    if (values >= k).any():
        raise ValueError(f"{name}: value(s) ≥ saturation {k:g} in year(s) {[int(y) for y in years[values >= k]]}; "
                         "a logistic needs 0 < V < K")
    t0 = years[0]
    slope, intercept = np.polyfit(years - t0, np.log(k / values - 1.0), 1)
    c, r = math.exp(intercept), -slope

    def curve(t: np.ndarray) -> np.ndarray:
        return k / (1.0 + c * np.exp(-r * (t - t0)))

    return Projection("logistic", name, {"saturation": k, "c": float(c), "r": float(r), "t0": float(t0)},
                      {y: float(curve(np.array([y], dtype=float))[0]) for y in _targets(target_years)},
                      _r2(values, curve(years)), curve)


def comprehensive_growth(p0: float, base_year: int, target_years: Iterable[int], *, natural_rate: float,
                         migration_rate: float, name: str = "series") -> Projection:
    """综合增长率法: ``P_n = P_0 · (1 + m + k)^n`` with ``n = year − base_year`` (spec §5.4 [S24] [H]).

    Args:
        p0: base-year value (persons, or any unit).
        natural_rate: m, 自然增长率 (fraction per year, e.g. 0.005 for 5 ‰).
        migration_rate: k, 机械增长率 (net migration, fraction per year).

    Raises:
        ValueError: p0 not finite/≤ 0, or 1 + m + k ≤ 0 (names the series).
    """
    g = float(natural_rate) + float(migration_rate)
    if not math.isfinite(p0) or p0 <= 0:
        raise ValueError(f"{name}: base value P0 must be positive, got {p0}")
    if 1.0 + g <= 0:
        raise ValueError(f"{name}: 1 + m + k must be > 0, got m={natural_rate}, k={migration_rate}")

    def curve(t: np.ndarray) -> np.ndarray:
        return p0 * (1.0 + g) ** (t - base_year)

    return Projection("comprehensive", name, {"p0": float(p0), "base_year": float(base_year), "natural_rate": float(natural_rate),
                                              "migration_rate": float(migration_rate), "rate": g},
                      {y: float(p0 * (1.0 + g) ** (y - base_year)) for y in _targets(target_years)}, None, curve)


def compound(base_value: float, base_year: int, rate: float, target_years: Iterable[int], *, name: str = "series",
             method: str = "compound") -> Projection:
    """A base value grown at a stated annual rate: ``V(t) = V0 · (1 + g)^(t − t0)`` (g fraction per year).

    For plan targets (e.g. the 十四五 GDP growth target, in config) and scenarios; the same form as
    :func:`comprehensive_growth` with one rate.

    Raises:
        ValueError: base value not finite/≤ 0 or 1 + g ≤ 0 (names the series).
    """
    p = comprehensive_growth(base_value, base_year, target_years, natural_rate=rate, migration_rate=0.0, name=name)
    return Projection(method, name, {"base_value": float(base_value), "base_year": float(base_year), "rate": float(rate)},
                      p.values, None, p.curve)


def spread(projections: Iterable[Projection]) -> pd.DataFrame:
    """The spread of several methods per target year.

    Returns:
        One row per target year: ``year, n_methods, min, max, mean, median, range, range_pct``
        (range = max − min; range_pct = range / mean × 100), ``min_method``, ``max_method``; values in
        the unit of the series.

    Raises:
        ValueError: no projections, or projections of different series names.
    """
    projs = list(projections)
    if not projs:
        raise ValueError("spread: no projections given")
    names = {p.name for p in projs}
    if len(names) > 1:
        raise ValueError(f"spread: projections of different series {sorted(names)}")
    years = sorted({y for p in projs for y in p.values})
    rows: list[dict[str, Any]] = []
    for y in years:
        got = [(p.method, p.values[y]) for p in projs if y in p.values]
        vals = np.array([v for _, v in got], dtype=float)
        mean = float(vals.mean())
        rows.append({"year": y, "n_methods": len(got), "min": float(vals.min()), "max": float(vals.max()), "mean": mean,
                     "median": float(np.median(vals)), "range": float(vals.max() - vals.min()),
                     "range_pct": float((vals.max() - vals.min()) / mean * 100.0) if mean else math.nan,
                     "min_method": got[int(vals.argmin())][0], "max_method": got[int(vals.argmax())][0]})
    return pd.DataFrame(rows)
