"""Climate factors from station series: 积温, 温湿指数 (THI), 干燥度, 起沙风天数, 降雨侵蚀力.

Station series are 1-D arrays of daily values (one value per day, the standard form of dataset
``17-02``: ``tmean_c`` °C, ``precip_mm`` mm, ``rh_pct`` %, ``wind_ms`` m/s at 10 m). Series of
several years give mean **annual** values when ``n_years`` is passed. NaN days are ignored.
Rasters are ``(rows, cols)`` on the EPSG:4525 grid. Every constant (base temperatures, lapse rate,
THI constants, erosivity model constants) is a parameter read from ``t02_carrying_capacity.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from erenhot.evaluation.classify import grade_by_bands

__all__ = [
    "accumulated_temperature",
    "accumulated_temperature_field",
    "aridity_index_accumulated",
    "daily_rainfall_erosivity",
    "monthly_means",
    "sand_wind_days",
    "thi",
    "thi_comfort_grade",
    "wind_at_height",
]


def _series(values: ArrayLike, name: str) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-D daily series, got shape {v.shape}")
    return v


def _check_years(n_years: float) -> None:
    if not n_years > 0:
        raise ValueError(f"n_years must be > 0, got {n_years}")


def accumulated_temperature(daily_tmean: ArrayLike, base_c: float = 0.0, n_years: float = 1.0) -> float:
    """活动积温: Σ of the daily mean temperatures of the days whose mean is ≥ ``base_c``, per year.

    Spec §1.5 (光热条件, ≥0 °C 活动积温, [S5 AgricultureClimate.py]). Simplification: every day
    with mean ≥ base counts (no 5-day "stable passage" rule); in a continental climate the two
    differ little at 0 °C.

    Args:
        daily_tmean: 1-D daily mean temperatures, °C (NaN ignored).
        base_c: threshold temperature, °C (0 for the agricultural indicator).
        n_years: years covered by the series (mean annual result).

    Returns:
        °C·d per year.
    """
    t = _series(daily_tmean, "daily_tmean")
    _check_years(n_years)
    return float(np.sum(t[t >= base_c]) / n_years)


def accumulated_temperature_field(
    daily_tmean: ArrayLike,
    station_elev_m: float,
    dem: ArrayLike,
    lapse_c_per_100m: float,
    base_c: float = 0.0,
    n_years: float = 1.0,
) -> NDArray[np.float32]:
    """Accumulated temperature per cell with a lapse-rate correction (spec §1.5: −0.6 °C/100 m).

    Every daily mean is shifted by ``δ = lapse · (dem − station_elev) / 100`` for the cell, then the
    days with shifted mean ≥ ``base_c`` are summed: ``Σ_{T_d ≥ base − δ} (T_d + δ)``. Computed with
    one sort of the series plus suffix sums and ``searchsorted`` — O(cells · log days), fine on
    10⁷ cells.

    Args:
        daily_tmean: 1-D daily mean temperatures at the station, °C.
        station_elev_m: station elevation, m.
        dem: ``(rows, cols)`` elevations, m (NaN → NaN).
        lapse_c_per_100m: temperature change per 100 m of ascent, °C (negative, e.g. −0.6).
        base_c: threshold temperature, °C.
        n_years: years covered by the series.

    Returns:
        ``float32 (rows, cols)`` °C·d per year.
    """
    t = _series(daily_tmean, "daily_tmean")
    _check_years(n_years)
    t = np.sort(t[~np.isnan(t)])
    suffix = np.concatenate([np.cumsum(t[::-1])[::-1], [0.0]])  # suffix[k] = Σ t[k:]
    z = np.asarray(dem, dtype=np.float64)
    delta = lapse_c_per_100m * (z - station_elev_m) / 100.0
    k = np.searchsorted(t, np.where(np.isnan(delta), 0.0, base_c - delta), side="left")
    total = (suffix[k] + delta * (t.size - k)) / n_years
    return np.where(np.isnan(z), np.nan, total).astype(np.float32)


def thi(t_c: ArrayLike, rh_frac: ArrayLike, rh_coef: float, base_f: float) -> NDArray[np.float64]:
    """温湿指数 ``THI = T − rh_coef·(1 − RH)·(T − base_f)`` with T in °F (spec §1.6, [S5 TownClimate.py]).

    Args:
        t_c: temperature, °C (converted inside: ``T_F = 1.8·t_c + 32``).
        rh_frac: relative humidity as a fraction 0–1 (divide ``rh_pct`` by 100).
        rh_coef, base_f: the formula constants (0.55 and 58 °F in the spec).

    Returns:
        THI (dimensionless, °F scale), broadcast shape of the inputs.
    """
    t_f = np.asarray(t_c, dtype=np.float64) * 1.8 + 32.0
    rh = np.asarray(rh_frac, dtype=np.float64)
    if np.any(rh > 1.0):
        raise ValueError("rh_frac must be a fraction 0–1 (divide percentages by 100)")
    return t_f - rh_coef * (1.0 - rh) * (t_f - base_f)


def thi_comfort_grade(monthly_thi_12: ArrayLike, table: Sequence[Sequence[float | int | None]]) -> NDArray[np.uint8]:
    """Comfort grade (舒适度) = the modal class of the 12 monthly THI values (spec §1.6).

    Args:
        monthly_thi_12: shape ``(12,)`` or ``(12, …)`` — months on axis 0 (NaN months ignored).
        table: bands ``[[lo, hi, grade], …]`` with ``[lo, hi)`` half-open (``None`` = open end),
            e.g. the simplified 5-class table (50–70 好 = 1 … <35 or ≥85 差 = 5);
            see :func:`erenhot.evaluation.classify.grade_by_bands`.

    Returns:
        ``uint8`` of shape ``monthly_thi_12.shape[1:]`` (a 0-d array for a single station):
        grade 1 好 … 5 差, 0 if no month is classified. **Ties go to the worse grade**
        (conservative; the spec does not say).
    """
    v = np.asarray(monthly_thi_12, dtype=np.float64)
    if v.ndim == 0 or v.shape[0] != 12:
        raise ValueError(f"monthly_thi_12 needs 12 months on axis 0, got shape {v.shape}")
    grades = grade_by_bands(v, table)
    best = np.zeros(v.shape[1:], dtype=np.uint8)
    best_count = np.zeros(v.shape[1:], dtype=np.int64)
    for g in range(1, int(grades.max(initial=0)) + 1):
        count = np.sum(grades == g, axis=0)
        take = (count > 0) & (count >= best_count)  # >= : ties move to the worse grade
        best = np.where(take, g, best).astype(np.uint8)
        best_count = np.where(take, count, best_count)
    return best


def monthly_means(series: pd.Series) -> NDArray[np.float64]:
    """Climatological monthly means: mean over years of each calendar month's mean.

    Args:
        series: values indexed by a ``DatetimeIndex`` (daily station data).

    Returns:
        ``float64 (12,)`` for January … December (NaN for a month without data).
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must be indexed by dates (DatetimeIndex)")
    per_month = series.groupby([series.index.year, series.index.month]).mean()
    clim = per_month.groupby(level=1).mean()
    return clim.reindex(range(1, 13)).to_numpy(dtype=np.float64)


def aridity_index_accumulated(
    daily_tmean: ArrayLike,
    daily_precip: ArrayLike,
    base_c: float = 10.0,
    *,
    coefficient: float,
) -> float:
    """干燥度 ``I = coefficient · ΣT(≥base) / ΣP(≥base period)`` (张宝堃 / 谢良尼诺夫 form).

    Spec §1.4.2 (土地沙化, as coded in [S5 LandDesertification.py]): the accumulated temperature of
    the days with mean ≥ ``base_c`` (10 °C) over the precipitation of the same days; the
    coefficient is 0.16. Sums over the whole series, so several years give the multi-year ratio.

    Args:
        daily_tmean: 1-D daily mean temperatures, °C.
        daily_precip: 1-D daily precipitation, mm (same length; NaN days ignored in both).

    Returns:
        I (dimensionless); ``inf`` if no rain fell in the period, NaN if no day reached ``base_c``.
    """
    t = _series(daily_tmean, "daily_tmean")
    p = _series(daily_precip, "daily_precip")
    if t.shape != p.shape:
        raise ValueError("daily_tmean and daily_precip must have the same length")
    warm = (t >= base_c) & ~np.isnan(p)
    if not np.any(warm):
        return float("nan")
    rain = float(np.sum(p[warm]))
    return float("inf") if rain <= 0 else float(coefficient * np.sum(t[warm]) / rain)


def sand_wind_days(daily_wind_ms: ArrayLike, threshold_ms: float, n_years: float = 1.0) -> float:
    """起沙风天数 W: mean number of days per year with wind speed ≥ ``threshold_ms``.

    Spec §1.4.2 (threshold 5 m/s in many papers, > 6 m/s in [S5]; configurable). Apply
    :func:`wind_at_height` first if the threshold refers to another height than the station's.

    Args:
        daily_wind_ms: 1-D daily wind speeds, m/s (NaN ignored).
        threshold_ms: 起沙风速, m/s.
        n_years: years covered by the series.
    """
    u = _series(daily_wind_ms, "daily_wind_ms")
    _check_years(n_years)
    return float(np.sum(u >= threshold_ms) / n_years)


def wind_at_height(u: ArrayLike, z_from: float, z_to: float, exponent: float) -> NDArray[np.float64]:
    """Power-law wind profile ``u(z_to) = u(z_from) · (z_to / z_from)^exponent`` (spec §1.4.1:
    exponent 1/7, e.g. 10 m station wind → 2 m for RWEQ)."""
    if not (z_from > 0 and z_to > 0):
        raise ValueError("heights must be > 0 m")
    return np.asarray(u, dtype=np.float64) * (z_to / z_from) ** exponent


def daily_rainfall_erosivity(
    daily_precip: ArrayLike,
    months: ArrayLike,
    alpha_warm: float,
    alpha_cold: float,
    exponent: float,
    threshold_mm: float,
    warm_months: Sequence[int],
    n_years: float = 1.0,
) -> float:
    """Annual rainfall erosivity R from daily rainfall (spec §1.4.2, 章文波/谢云 daily model in [S5]).

    ``R = Σ α · P_d^exponent`` over erosive days (``P_d ≥ threshold_mm``), α = ``alpha_warm`` in the
    ``warm_months``, else ``alpha_cold``; divided by ``n_years``.

    Args:
        daily_precip: 1-D daily precipitation, mm.
        months: 1-D calendar month (1–12) of each day.
        alpha_warm, alpha_cold, exponent, threshold_mm, warm_months: model constants
            (0.3937, 0.3101, 1.7265, 12 mm, May–September in the spec).

    Returns:
        R in MJ·mm·hm⁻²·h⁻¹·a⁻¹.
    """
    p = _series(daily_precip, "daily_precip")
    m = np.asarray(months)
    if m.shape != p.shape:
        raise ValueError("months must have the same length as daily_precip")
    _check_years(n_years)
    erosive = p >= threshold_mm  # NaN compares False
    alpha = np.where(np.isin(m, list(warm_months)), alpha_warm, alpha_cold)
    return float(np.sum(alpha[erosive] * p[erosive] ** exponent) / n_years)
