"""水资源承载力 (topic 12, lead 农牧水务局): water balance, carrying status against the 三条红线,
precipitation trend, sector demand projection, water-bound scales and the land–water match.

Units: **volumes in 万m³ (10⁴ m³)** throughout, as delivered in ``04-04`` (水资源公报) and ``04-07``
(三条红线控制指标); populations in persons, areas in hm² (ha) or km², precipitation in mm.
Tables are pandas DataFrames with the documented columns; extra columns are ignored. Every class
break, quota and rule comes from ``erenhot/config/t12_water_carrying_capacity.yaml`` through the
parameter dataclasses below (``cfg.params(StatusParams, "status")``, …); nothing here knows a value.

The 以水定人 / 以水定城 / 以水定地 formulas of spec §1.8 / §5.4 live in
:mod:`erenhot.evaluation.capacity_scale` (m³) and are called here, not repeated.
Bad input (negative volumes, a missing sector or column, NaN where a number is needed) raises
``ValueError`` naming the column or sector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from erenhot.evaluation import capacity_scale as cs
from erenhot.evaluation.classify import grade_by_bands, grade_by_breaks

__all__ = [
    "SECTORS",
    "DemandQuotas",
    "StatusParams",
    "TrendParams",
    "TrendResult",
    "annual_precipitation",
    "available_water",
    "carrying_status",
    "classify_load",
    "demand_gap",
    "combine_grades",
    "idw",
    "irrigable_area_ha",
    "land_water_match",
    "precipitation_trend",
    "project_demand",
    "use_from_bulletin",
    "water_balance",
    "water_bound_scales",
]

SECTORS: tuple[str, ...] = ("domestic", "industry", "agri", "eco")
"""The four 用水 sectors of the 水资源公报 (生活, 工业, 农业 incl. irrigation and livestock, 生态), keyed
as in the ``04-04`` columns ``use_<sector>_10k_m3``; Chinese labels in config ``labels.sectors``."""

_DAYS_PER_YEAR = 365.0  # L/d quotas → annual volumes, as in capacity_scale.per_capita_water_m3_per_year
_M3_PER_10K_M3 = 1.0e4


# ── validation helpers ──────────────────────────────────────────────────────────────────────────


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}")


def _numbers(df: pd.DataFrame, column: str, what: str, *, allow_nan: bool = False) -> pd.Series:
    """The column as float; ValueError naming the column for non-numbers, NaN or negative values."""
    try:
        s = pd.to_numeric(df[column], errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: column {column!r} must be numeric") from exc
    if not allow_nan and s.isna().any():
        raise ValueError(f"{what}: column {column!r} has missing values (rows {list(s.index[s.isna()])})")
    if (s < 0).any():
        bad = df.loc[s < 0, "year"].tolist() if "year" in df.columns else list(s.index[s < 0])
        raise ValueError(f"{what}: column {column!r} has negative values (year/row {bad})")
    return s


def _years(df: pd.DataFrame, what: str) -> pd.Series:
    _require(df, ["year"], what)
    y = pd.to_numeric(df["year"], errors="coerce")
    if y.isna().any() or (y != y.round()).any():
        raise ValueError(f"{what}: column 'year' must hold whole years")
    if y.duplicated().any():
        raise ValueError(f"{what}: one row per year, duplicated year(s) {sorted(set(y[y.duplicated()].astype(int)))}")
    return y.astype(int)


# ── 1. water balance ────────────────────────────────────────────────────────────────────────────


def available_water(resources: pd.DataFrame) -> pd.DataFrame:
    """可利用水资源量 = 地表水可利用量 + 地下水可开采量 − 重复计算量, 万m³.

    Args:
        resources: columns ``surface_available_10k_m3`` (地表水可利用量), ``groundwater_exploitable_10k_m3``
            (地下水可开采量) and ``overlap_10k_m3`` (重复计算量 between them, e.g. channel seepage that
            recharges the aquifer; pass 0 explicitly when none), all 万m³ ≥ 0; optional ``year``
            (one row per year). Without ``year`` the table holds one row: a multi-year assessment
            (04-05 第三次水资源评价) that :func:`water_balance` applies to every year.

    Returns:
        The input's ``year`` (if any), the three components and ``available_10k_m3``.

    Raises:
        ValueError: missing column, NaN or negative volume (naming the column), an overlap larger
            than either component, duplicated years, or several rows without ``year``.
    """
    what = "available_water"
    cols = ["surface_available_10k_m3", "groundwater_exploitable_10k_m3", "overlap_10k_m3"]
    _require(resources, cols, what)
    out = pd.DataFrame(index=resources.index)
    if "year" in resources.columns:
        out["year"] = _years(resources, what)
    elif len(resources) != 1:
        raise ValueError(f"{what}: without a 'year' column the table must have exactly one row")
    for c in cols:
        out[c] = _numbers(resources, c, what)
    too_big = out["overlap_10k_m3"] > np.minimum(out["surface_available_10k_m3"], out["groundwater_exploitable_10k_m3"])
    if too_big.any():
        raise ValueError(f"{what}: column 'overlap_10k_m3' exceeds the smaller of the surface and groundwater volumes (rows {list(out.index[too_big])})")
    out["available_10k_m3"] = out[cols[0]] + out[cols[1]] - out[cols[2]]
    return out.reset_index(drop=True)


def use_from_bulletin(bulletin: pd.DataFrame, rel_tolerance: float) -> pd.DataFrame:
    """The 04-04 水资源公报 table (one row per year, ``use_<sector>_10k_m3`` columns) → the long use table.

    Args:
        bulletin: columns ``year`` and ``use_domestic_10k_m3``, ``use_industry_10k_m3``,
            ``use_agri_10k_m3``, ``use_eco_10k_m3`` (万m³ ≥ 0); if ``use_total_10k_m3`` is present,
            the sectors must add up to it within ``rel_tolerance`` (config
            ``balance.bulletin_total_rel_tolerance``).

    Returns:
        Long table ``year, sector, use_10k_m3`` (one row per year and sector of :data:`SECTORS`).

    Raises:
        ValueError: missing sector column, NaN or negative use (naming the column), duplicated
            years, or sectors that do not add up to the reported total.
    """
    what = "use_from_bulletin"
    years = _years(bulletin, what)
    missing = [s for s in SECTORS if f"use_{s}_10k_m3" not in bulletin.columns]
    if missing:
        raise ValueError(f"{what}: missing sector(s) {missing} (columns {[f'use_{s}_10k_m3' for s in missing]})")
    vols = {s: _numbers(bulletin, f"use_{s}_10k_m3", what) for s in SECTORS}
    if "use_total_10k_m3" in bulletin.columns:
        total = _numbers(bulletin, "use_total_10k_m3", what)
        diff = (sum(vols.values()) - total).abs()
        bad = diff > rel_tolerance * total.abs()
        if bad.any():
            raise ValueError(f"{what}: the sectors do not add up to 'use_total_10k_m3' in year(s) {years[bad].tolist()}")
    rows = [{"year": int(y), "sector": s, "use_10k_m3": float(vols[s].iloc[i])} for i, y in enumerate(years) for s in SECTORS]
    return pd.DataFrame(rows, columns=["year", "sector", "use_10k_m3"])


def _wide_use(use: pd.DataFrame) -> pd.DataFrame:
    what = "water_balance use"
    _require(use, ["year", "sector", "use_10k_m3"], what)
    vol = _numbers(use, "use_10k_m3", what)
    sector = use["sector"].astype(str)
    unknown = sorted(set(sector) - set(SECTORS))
    if unknown:
        raise ValueError(f"{what}: unknown sector(s) {unknown} in column 'sector' (expected {list(SECTORS)})")
    frame = pd.DataFrame({"year": pd.to_numeric(use["year"], errors="raise").astype(int), "sector": sector, "v": vol})
    if frame.duplicated(["year", "sector"]).any():
        raise ValueError(f"{what}: duplicated (year, sector) rows")
    wide = frame.pivot(index="year", columns="sector", values="v")
    for year, row in wide.reindex(columns=list(SECTORS)).iterrows():
        absent = [s for s in SECTORS if pd.isna(row[s])]
        if absent:
            raise ValueError(f"{what}: year {year}: missing sector(s) {absent} in column 'sector' (give 0 for none)")
    wide = wide[list(SECTORS)].rename(columns={s: f"use_{s}_10k_m3" for s in SECTORS})
    return wide.reset_index()


def water_balance(available: pd.DataFrame, use: pd.DataFrame) -> pd.DataFrame:
    """Per-year 供需平衡: available water against the use by sector.

    Args:
        available: output of :func:`available_water` (``available_10k_m3``, with ``year`` or one
            row without it for every year).
        use: long table ``year, sector, use_10k_m3`` (万m³ ≥ 0; every year needs all four
            :data:`SECTORS`, 0 for none), e.g. from :func:`use_from_bulletin`.

    Returns:
        One row per use year: ``year, available_10k_m3, use_domestic_10k_m3, use_industry_10k_m3,
        use_agri_10k_m3, use_eco_10k_m3, use_total_10k_m3, surplus_10k_m3`` (available − use;
        negative = deficit) and ``use_to_available`` (use / available; ``inf`` if nothing is
        available but something is used, NaN if both are 0).

    Raises:
        ValueError: a missing or unknown sector (naming it), negative volumes (naming the column),
            or use years without an available volume.
    """
    wide = _wide_use(use)
    _require(available, ["available_10k_m3"], "water_balance available")
    avail_vol = _numbers(available, "available_10k_m3", "water_balance available")
    if "year" in available.columns:
        years = _years(available, "water_balance available")
        lookup = dict(zip(years, avail_vol))
        missing = sorted(set(wide["year"]) - set(lookup))
        if missing:
            raise ValueError(f"water_balance: no available water for year(s) {missing}")
        wide.insert(1, "available_10k_m3", wide["year"].map(lookup).astype(float))
    else:
        if len(available) != 1:
            raise ValueError("water_balance: an available table without 'year' must have exactly one row")
        wide.insert(1, "available_10k_m3", float(avail_vol.iloc[0]))
    wide["use_total_10k_m3"] = wide[[f"use_{s}_10k_m3" for s in SECTORS]].sum(axis=1)
    wide["surplus_10k_m3"] = wide["available_10k_m3"] - wide["use_total_10k_m3"]
    with np.errstate(divide="ignore", invalid="ignore"):
        wide["use_to_available"] = wide["use_total_10k_m3"].to_numpy() / wide["available_10k_m3"].to_numpy()
    wide.columns.name = None
    return wide


# ── 2. carrying status against the 三条红线 ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class StatusParams:
    """Carrying-status classes (config ``status``; 水利部《全国水资源承载能力监测预警技术大纲》as
    recalled [L] — the evaluation spec gives no classes).

    Attributes:
        total_use_ratio_breaks: (0.9, 1.0, 1.2): ratio 用水总量 / 用水总量控制指标.
        groundwater_ratio_breaks: (0.9, 1.0, 1.2): ratio 地下水开采量 / 地下水控制指标.
        labels: class code → label, ``{1: 不超载, 2: 临界状态, 3: 超载, 4: 严重超载}``.
        value_on_break: ``"worse"`` — classes are ``[lo, hi)``, a ratio exactly on a break takes
            the more loaded class (0.9 → 临界状态, 1.0 → 超载, 1.2 → 严重超载); ``"better"`` — classes
            are ``(lo, hi]`` (0.9 → 不超载, 1.0 → 临界状态, 1.2 → 超载).
        ratio_decimals: 6: the ratio is rounded to this many decimals before classing, so that
            11.7 / 13 (= 0.8999999999999999 in floating point) is exactly 0.9.
        overall_rule: ``"worst"`` (the overall status is the worse of the indicators given) or
            ``"total_use_only"``.
    """

    total_use_ratio_breaks: tuple[float, ...]
    groundwater_ratio_breaks: tuple[float, ...]
    labels: Mapping[int, str]
    value_on_break: str
    ratio_decimals: int
    overall_rule: str

    def __post_init__(self) -> None:
        if self.value_on_break not in ("worse", "better"):
            raise ValueError(f"value_on_break must be 'worse' or 'better', got {self.value_on_break!r}")
        if self.overall_rule not in ("worst", "total_use_only"):
            raise ValueError(f"overall_rule must be 'worst' or 'total_use_only', got {self.overall_rule!r}")
        object.__setattr__(self, "labels", {int(k): str(v) for k, v in self.labels.items()})
        for name in ("total_use_ratio_breaks", "groundwater_ratio_breaks"):
            breaks = tuple(float(b) for b in getattr(self, name))
            if list(breaks) != sorted(set(breaks)) or not breaks:
                raise ValueError(f"{name} must be strictly increasing, got {breaks}")
            if set(self.labels) != set(range(1, len(breaks) + 2)):
                raise ValueError(f"labels must name classes 1…{len(breaks) + 1} for {name}, got {sorted(self.labels)}")
            object.__setattr__(self, name, breaks)

    def breaks(self, indicator: str) -> tuple[float, ...]:
        """The ratio breaks of ``"total_use"`` or ``"groundwater"``."""
        if indicator == "total_use":
            return self.total_use_ratio_breaks
        if indicator == "groundwater":
            return self.groundwater_ratio_breaks
        raise ValueError(f"unknown indicator {indicator!r} (total_use | groundwater)")


def classify_load(ratio: ArrayLike, breaks: Sequence[float], value_on_break: str) -> NDArray[np.uint8]:
    """Class a load ratio (use / cap) into ``len(breaks) + 1`` classes, 1 = least loaded (不超载).

    Args:
        ratio: any shape, ≥ 0 (round it first, see :class:`StatusParams`); NaN → 0 (no data).
        breaks: increasing class limits, e.g. ``(0.9, 1.0, 1.2)``.
        value_on_break: ``"worse"``: a ratio equal to a break belongs to the class above it
            (``[lo, hi)``, via :func:`~erenhot.evaluation.classify.grade_by_bands`); ``"better"``:
            to the class below it (``(lo, hi]``, via :func:`~erenhot.evaluation.classify.grade_by_breaks`).

    Returns:
        ``uint8`` codes 1 … len(breaks)+1, 0 where NaN.
    """
    r = np.asarray(ratio, dtype=np.float64)
    if np.any(np.isinf(r)):
        raise ValueError("ratio must be finite (a cap of 0 has no load ratio)")
    b = [float(x) for x in breaks]
    if value_on_break == "worse":
        edges: list[float | None] = [None, *b, None]
        return grade_by_bands(r, [[edges[i], edges[i + 1], i + 1] for i in range(len(b) + 1)])
    if value_on_break == "better":
        return grade_by_breaks(r, b, higher_is_better=False)
    raise ValueError(f"value_on_break must be 'worse' or 'better', got {value_on_break!r}")


def _load(use: pd.Series, cap: pd.Series, params: StatusParams, indicator: str) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
    if (cap <= 0).any():
        raise ValueError(f"carrying status ({indicator}): the cap must be > 0")
    ratio = np.round(use.to_numpy(dtype=float) / cap.to_numpy(dtype=float), params.ratio_decimals)
    return ratio, classify_load(ratio, params.breaks(indicator), params.value_on_break)


def carrying_status(use: pd.DataFrame, caps: pd.DataFrame, params: StatusParams) -> pd.DataFrame:
    """水资源承载状况 per year against the 用水总量控制指标 (and the groundwater cap where given).

    ``ratio = round(use / cap, ratio_decimals)`` classed by :func:`classify_load` with the breaks
    of the indicator (技术大纲 [L]: <0.9 不超载, 0.9–1.0 临界状态, 1.0–1.2 超载, ≥1.2 严重超载 with
    ``value_on_break = "worse"``).

    Args:
        use: ``year``, ``use_total_10k_m3`` (万m³, e.g. from :func:`water_balance`) and optionally
            ``use_groundwater_10k_m3`` (地下水开采量).
        caps: the ``04-07`` table: ``year``, ``total_quota_10k_m3`` and optionally
            ``groundwater_quota_10k_m3`` (NaN = no groundwater cap that year).
        params: :class:`StatusParams` (config ``status``).

    Returns:
        Long table ``year, indicator, use_10k_m3, cap_10k_m3, ratio, status_code, status`` with
        indicator ``total_use``, ``groundwater`` (years with both a groundwater use and a cap) and
        ``overall`` (``overall_rule``: the worst code of the year's indicators; use/cap/ratio NaN).

    Raises:
        ValueError: missing columns, negative or NaN use, a cap ≤ 0, use years without a cap.
    """
    uy = _years(use, "carrying_status use")
    cy = _years(caps, "carrying_status caps")
    total_use = _numbers(use, "use_total_10k_m3", "carrying_status use")
    total_cap = _numbers(caps, "total_quota_10k_m3", "carrying_status caps")
    cap_of = dict(zip(cy, total_cap))
    missing = sorted(set(uy) - set(cap_of))
    if missing:
        raise ValueError(f"carrying_status: no 用水总量控制指标 (total_quota_10k_m3) for year(s) {missing}")
    frames = []
    cap_t = uy.map(cap_of).astype(float)
    ratio, code = _load(total_use, cap_t, params, "total_use")
    frames.append(pd.DataFrame({"year": uy.to_numpy(), "indicator": "total_use", "use_10k_m3": total_use.to_numpy(),
                                "cap_10k_m3": cap_t.to_numpy(), "ratio": ratio, "status_code": code}))
    if "use_groundwater_10k_m3" in use.columns and "groundwater_quota_10k_m3" in caps.columns:
        gw_use = _numbers(use, "use_groundwater_10k_m3", "carrying_status use", allow_nan=True)
        gw_cap_of = dict(zip(cy, _numbers(caps, "groundwater_quota_10k_m3", "carrying_status caps", allow_nan=True)))
        gw_cap = uy.map(gw_cap_of).astype(float)
        keep = (gw_use.notna() & gw_cap.notna()).to_numpy()
        if keep.any():
            ratio, code = _load(gw_use[keep], gw_cap[keep], params, "groundwater")
            frames.append(pd.DataFrame({"year": uy[keep].to_numpy(), "indicator": "groundwater", "use_10k_m3": gw_use[keep].to_numpy(),
                                        "cap_10k_m3": gw_cap[keep].to_numpy(), "ratio": ratio, "status_code": code}))
    table = pd.concat(frames, ignore_index=True)
    basis = table if params.overall_rule == "worst" else table[table["indicator"] == "total_use"]
    overall = basis.groupby("year", as_index=False)["status_code"].max()
    overall["indicator"] = "overall"
    table = pd.concat([table, overall], ignore_index=True)
    table["status_code"] = table["status_code"].astype(np.uint8)
    table["status"] = table["status_code"].map(lambda c: params.labels.get(int(c), ""))
    order = {"total_use": 0, "groundwater": 1, "overall": 2}
    table = table.sort_values(["year", "indicator"], key=lambda s: s.map(order) if s.name == "indicator" else s)
    return table[["year", "indicator", "use_10k_m3", "cap_10k_m3", "ratio", "status_code", "status"]].reset_index(drop=True)


# ── 3. precipitation trend ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TrendParams:
    """Mann–Kendall / Sen's slope (config ``trend``).

    Attributes:
        alpha: 0.05; significant means ``p < alpha`` (p = alpha is not significant).
        method: ``"auto"`` | ``"exact"`` | ``"asymptotic"`` — passed to ``scipy.stats.kendalltau``.
        max_missing_days_per_year: 5: years with more missing daily values get no annual total.
        min_years: 10: fewer valid years → ValueError.
        labels: ``{increase: 显著增加, none: 不显著, decrease: 显著减少}``.
    """

    alpha: float
    method: str
    max_missing_days_per_year: int
    min_years: int
    labels: Mapping[str, str]

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.method not in ("auto", "exact", "asymptotic"):
            raise ValueError(f"method must be auto | exact | asymptotic, got {self.method!r}")
        if set(self.labels) != {"increase", "none", "decrease"}:
            raise ValueError(f"labels need the keys increase, none, decrease, got {sorted(self.labels)}")
        if self.min_years < 3:
            raise ValueError(f"min_years must be ≥ 3, got {self.min_years}")


@dataclass(frozen=True)
class TrendResult:
    """Outcome of :func:`precipitation_trend`.

    Attributes:
        n_years, first_year, last_year: the valid years used.
        tau: Kendall's τ_b of (year, precipitation); its sign is the sign of the MK statistic S.
        p_value: two-sided p-value of the MK test (scipy ``kendalltau``, ``method``).
        method: the configured ``kendalltau`` method.
        slope_mm_per_year: Sen's slope (median of pairwise slopes, ``scipy.stats.theilslopes``), mm/a.
        intercept_mm: the Sen line's value at ``first_year``, mm.
        slope_low_mm_per_year, slope_high_mm_per_year: the slope's ``1 − alpha`` confidence interval.
        alpha: the significance level used.
        significant: ``p_value < alpha``.
        direction: ``"increase"`` | ``"none"`` | ``"decrease"``.
        label: its Chinese label (显著增加 / 不显著 / 显著减少).
    """

    n_years: int
    first_year: int
    last_year: int
    tau: float
    p_value: float
    method: str
    slope_mm_per_year: float
    intercept_mm: float
    slope_low_mm_per_year: float
    slope_high_mm_per_year: float
    alpha: float
    significant: bool
    direction: str
    label: str


def annual_precipitation(daily: pd.DataFrame, max_missing_days: int, station_id: str | None = None) -> pd.Series:
    """Annual precipitation totals from the daily station table (dataset ``17-02`` standard form).

    Args:
        daily: columns ``date`` (datetime or ``YYYY-MM-DD``) and ``precip_mm`` (mm ≥ 0, NaN =
            missing), optionally ``station_id``.
        max_missing_days: config ``trend.max_missing_days_per_year``: a calendar year (365/366
            days) with more days absent or NaN gets NaN instead of a total; an accepted year's
            total is the sum over its available days.
        station_id: the station to use when the table holds several (compared as strings).

    Returns:
        float Series ``precip_mm`` indexed by ``year`` from the first to the last year of the
        series (whole years without data included, NaN).

    Raises:
        ValueError: missing columns, negative precipitation (naming ``precip_mm``), duplicated
            dates, several stations without ``station_id``, an unknown station, no rows.
    """
    what = "annual_precipitation"
    _require(daily, ["date", "precip_mm"], what)
    df = daily
    if "station_id" in df.columns:
        ids = df["station_id"].astype(str)
        if station_id is not None:
            df = df[ids == str(station_id)]
            if df.empty:
                raise ValueError(f"{what}: no rows for station_id {station_id!r}")
        elif ids.nunique() > 1:
            raise ValueError(f"{what}: several stations {sorted(ids.unique())}; pass station_id")
    if df.empty:
        raise ValueError(f"{what}: no daily rows")
    dates = pd.to_datetime(df["date"], errors="raise")
    if dates.duplicated().any():
        raise ValueError(f"{what}: duplicated dates in column 'date', e.g. {dates[dates.duplicated()].iloc[0].date()}")
    p = pd.Series(_numbers(df, "precip_mm", what, allow_nan=True).to_numpy(), index=pd.DatetimeIndex(dates))
    by_year = p.groupby(p.index.year)
    totals, valid = by_year.sum(min_count=1), by_year.count()
    years = pd.RangeIndex(int(p.index.year.min()), int(p.index.year.max()) + 1, name="year")
    totals, valid = totals.reindex(years), valid.reindex(years, fill_value=0)
    days = pd.Series([366 if pd.Timestamp(year=y, month=1, day=1).is_leap_year else 365 for y in years], index=years)
    out = totals.where(days - valid <= max_missing_days).astype(float)
    out.name = "precip_mm"
    return out


def precipitation_trend(annual: pd.Series, params: TrendParams) -> TrendResult:
    """Multi-year precipitation trend: Mann–Kendall test and Sen's slope (topic 12 "多年降水量变化").

    The MK test is Kendall's τ between time and the series: ``scipy.stats.kendalltau(years, values,
    method=params.method)`` — with ``auto`` an exact permutation p-value for short series without
    ties, else the normal approximation with the tie-corrected MK variance
    ``Var S = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18`` (no continuity correction, unlike the textbook
    ``Z = (S − 1)/√Var S``). Sen's slope is ``scipy.stats.theilslopes``. A constant series has
    S = 0 and an undefined τ: it is reported as τ = 0, p = 1, slope 0 (不显著).

    Args:
        annual: annual totals in mm indexed by year (e.g. :func:`annual_precipitation`); NaN years
            are dropped, gaps between years are allowed (slope per calendar year).
        params: :class:`TrendParams` (config ``trend``).

    Returns:
        :class:`TrendResult`; direction from the sign of τ when ``p < alpha``.

    Raises:
        ValueError: fewer than ``min_years`` valid years, negative totals, or ``method="exact"``
            with tied values (from scipy).
    """
    s = annual.dropna()
    if len(s) < params.min_years:
        raise ValueError(f"precipitation_trend: {len(s)} valid years, at least {params.min_years} needed")
    values = s.to_numpy(dtype=float)
    if np.any(values < 0):
        raise ValueError("precipitation_trend: negative annual precipitation")
    years = np.asarray(s.index, dtype=float)
    if np.unique(years).size != years.size:
        raise ValueError("precipitation_trend: duplicated years in the index")
    order = np.argsort(years)
    years, values = years[order], values[order]
    first = years[0]
    if np.all(values == values[0]):
        tau, p = 0.0, 1.0
    else:
        res = stats.kendalltau(years, values, method=params.method)
        tau, p = float(res.statistic), float(res.pvalue)
    sen = stats.theilslopes(values, years - first, alpha=1.0 - params.alpha)
    significant = bool(p < params.alpha)
    direction = "none" if not significant or tau == 0 else ("increase" if tau > 0 else "decrease")
    return TrendResult(
        n_years=int(years.size), first_year=int(first), last_year=int(years[-1]), tau=tau, p_value=p,
        method=params.method, slope_mm_per_year=float(sen.slope), intercept_mm=float(sen.intercept),
        slope_low_mm_per_year=float(sen.low_slope), slope_high_mm_per_year=float(sen.high_slope),
        alpha=params.alpha, significant=significant, direction=direction, label=str(params.labels[direction]),
    )


# ── 4. demand projection ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class DemandQuotas:
    """用水定额 by target year (config ``demand``; DB15/T 385 内蒙古《行业用水定额》, values [L]).

    Every field maps a target year to a quota (keys may be int or str, they are made int).

    Attributes:
        domestic_urban_l_per_person_day: 城镇居民生活, L/人/d.
        domestic_rural_l_per_person_day: 农村牧区居民生活, L/人/d.
        industry_m3_per_10k_yuan: 万元工业增加值用水量, m³/万元.
        irrigation_m3_per_ha: 综合灌溉定额 (gross), m³/hm².
        livestock_l_per_sheep_unit_day: 牲畜用水, L/羊单位/d.
        greening_m3_per_ha: 绿化 (生态) 用水, m³/hm²/a.
    """

    domestic_urban_l_per_person_day: Mapping[int, float]
    domestic_rural_l_per_person_day: Mapping[int, float]
    industry_m3_per_10k_yuan: Mapping[int, float]
    irrigation_m3_per_ha: Mapping[int, float]
    livestock_l_per_sheep_unit_day: Mapping[int, float]
    greening_m3_per_ha: Mapping[int, float]

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            table = {int(k): float(v) for k, v in dict(getattr(self, name)).items()}
            bad = {k: v for k, v in table.items() if not v >= 0}
            if bad:
                raise ValueError(f"{name}: quotas must be ≥ 0, got {bad}")
            object.__setattr__(self, name, table)

    def for_year(self, year: int) -> dict[str, float]:
        """All quotas of one target year; ValueError naming the quota and year if one is absent."""
        out = {}
        for name in self.__dataclass_fields__:
            table = getattr(self, name)
            if int(year) not in table:
                raise ValueError(f"{name}: no quota for year {year} (years {sorted(table)})")
            out[name] = table[int(year)]
        return out


_SCENARIO_REQUIRED = ("population_urban", "population_rural", "industry_value_added_10k_yuan", "irrigated_area_ha")
_SCENARIO_OPTIONAL = ("livestock_sheep_units", "green_area_ha", "ecology_other_10k_m3")


def project_demand(scenario: pd.DataFrame, quotas: DemandQuotas) -> pd.DataFrame:
    """需水预测 by sector for the target years (2025, 2035), 万m³/a.

    * 生活 = (P_urban · q_urban + P_rural · q_rural) [L/d] · 365 / 1000 / 10⁴
    * 工业 = 工业增加值 [万元] · q_industry [m³/万元] / 10⁴
    * 农业 = 灌溉面积 [hm²] · 综合灌溉定额 [m³/hm²] / 10⁴ + 羊单位 · q_livestock [L/d] · 365 / 1000 / 10⁴
    * 生态 = 绿化面积 [hm²] · q_greening [m³/hm²] / 10⁴ + ``ecology_other_10k_m3``

    Args:
        scenario: one row per target year: ``year``, ``population_urban``, ``population_rural``
            (persons), ``industry_value_added_10k_yuan`` (万元), ``irrigated_area_ha`` (hm²);
            optional (0 when absent) ``livestock_sheep_units`` (羊单位), ``green_area_ha`` (hm²),
            ``ecology_other_10k_m3`` (e.g. 河湖补水, 万m³).
        quotas: :class:`DemandQuotas` (config ``demand``), with an entry for every scenario year.

    Returns:
        ``year, demand_domestic_10k_m3, demand_industry_10k_m3, demand_agri_10k_m3,
        demand_eco_10k_m3, demand_total_10k_m3``.

    Raises:
        ValueError: missing column, NaN or negative driver (naming the column), a year without quotas.
    """
    what = "project_demand"
    years = _years(scenario, what)
    _require(scenario, _SCENARIO_REQUIRED, what)
    x = {c: _numbers(scenario, c, what) for c in _SCENARIO_REQUIRED}
    for c in _SCENARIO_OPTIONAL:
        x[c] = _numbers(scenario, c, what) if c in scenario.columns else pd.Series(0.0, index=scenario.index)
    rows = []
    for i, year in zip(scenario.index, years):
        q = quotas.for_year(int(year))
        litres_per_day = x["population_urban"][i] * q["domestic_urban_l_per_person_day"] + x["population_rural"][i] * q["domestic_rural_l_per_person_day"]
        domestic = litres_per_day * _DAYS_PER_YEAR / 1000.0 / _M3_PER_10K_M3
        industry = x["industry_value_added_10k_yuan"][i] * q["industry_m3_per_10k_yuan"] / _M3_PER_10K_M3
        livestock = x["livestock_sheep_units"][i] * q["livestock_l_per_sheep_unit_day"] * _DAYS_PER_YEAR / 1000.0 / _M3_PER_10K_M3
        agri = x["irrigated_area_ha"][i] * q["irrigation_m3_per_ha"] / _M3_PER_10K_M3 + livestock
        eco = x["green_area_ha"][i] * q["greening_m3_per_ha"] / _M3_PER_10K_M3 + x["ecology_other_10k_m3"][i]
        rows.append({"year": int(year), "demand_domestic_10k_m3": domestic, "demand_industry_10k_m3": industry,
                     "demand_agri_10k_m3": agri, "demand_eco_10k_m3": eco})
    out = pd.DataFrame(rows)
    out["demand_total_10k_m3"] = out[[f"demand_{s}_10k_m3" for s in SECTORS]].sum(axis=1)
    return out


def demand_gap(demand: pd.DataFrame, caps: pd.DataFrame, params: StatusParams) -> pd.DataFrame:
    """Projected demand against the 用水总量控制指标 of the same year → the gap (缺口) and its status.

    Args:
        demand: output of :func:`project_demand`.
        caps: the ``04-07`` table with rows for the target years: ``year``, ``total_quota_10k_m3``;
            optionally ``agri_share``, ``domestic_industrial_share``, ``ecological_share``
            (fractions of the total cap allocated to the sectors).
        params: :class:`StatusParams` (the ``total_use`` breaks class demand / cap).

    Returns:
        Per year ``year, demand_total_10k_m3, cap_10k_m3, gap_10k_m3`` (cap − demand: negative =
        缺口 shortfall, positive = 余量), ``ratio, status_code, status``; with the shares also
        ``cap_agri_10k_m3, gap_agri_10k_m3, cap_domestic_industrial_10k_m3,
        gap_domestic_industrial_10k_m3, cap_eco_10k_m3, gap_eco_10k_m3`` (a share column that is
        absent or NaN gives NaN there).

    Raises:
        ValueError: demand years without a cap, a cap ≤ 0, shares outside 0–1.
    """
    dy = _years(demand, "demand_gap demand")
    cy = _years(caps, "demand_gap caps")
    cap_of = dict(zip(cy, _numbers(caps, "total_quota_10k_m3", "demand_gap caps")))
    missing = sorted(set(dy) - set(cap_of))
    if missing:
        raise ValueError(f"demand_gap: no 用水总量控制指标 (total_quota_10k_m3) for year(s) {missing}")
    total = _numbers(demand, "demand_total_10k_m3", "demand_gap demand")
    cap = dy.map(cap_of).astype(float)
    ratio, code = _load(total, cap, params, "total_use")
    out = pd.DataFrame({"year": dy.to_numpy(), "demand_total_10k_m3": total.to_numpy(), "cap_10k_m3": cap.to_numpy(),
                        "gap_10k_m3": (cap - total).to_numpy(), "ratio": ratio, "status_code": code})
    out["status"] = out["status_code"].map(lambda c: params.labels.get(int(c), ""))
    sector_demand = {
        "agri": ("agri_share", demand.get("demand_agri_10k_m3")),
        "domestic_industrial": ("domestic_industrial_share",
                                None if "demand_domestic_10k_m3" not in demand or "demand_industry_10k_m3" not in demand
                                else demand["demand_domestic_10k_m3"] + demand["demand_industry_10k_m3"]),
        "eco": ("ecological_share", demand.get("demand_eco_10k_m3")),
    }
    if any(col in caps.columns for col, _ in sector_demand.values()):
        for key, (col, dem) in sector_demand.items():
            if col in caps.columns:
                share_of = dict(zip(cy, _numbers(caps, col, "demand_gap caps", allow_nan=True)))
                share = dy.map(share_of).astype(float)
                if (share > 1).any():
                    raise ValueError(f"demand_gap caps: column {col!r} must be a fraction 0–1")
            else:
                share = pd.Series(np.nan, index=dy.index)
            sector_cap = (share * cap).to_numpy()
            out[f"cap_{key}_10k_m3"] = sector_cap
            out[f"gap_{key}_10k_m3"] = sector_cap - (np.nan if dem is None else dem.to_numpy(dtype=float))
    return out


# ── 5. water-bound scales (以水定人 / 以水定城 / 以水定地) ──────────────────────────────────────


def irrigable_area_ha(agri_allocation_10k_m3: float, irrigation_m3_per_ha: float,
                      livestock_10k_m3: float = 0.0, rainfed_ha: float = 0.0) -> float:
    """以水定地: irrigable area = (农业用水配置量 − 牲畜用水) / 综合灌溉定额 + 纯雨养面积, hm².

    Calls :func:`erenhot.evaluation.capacity_scale.water_bound_cropland_ha` (spec §1.8 [S5
    ChengZai.py]) with the net agricultural allocation in m³ and a share of 1. In the pastoral
    city 农业用水 includes livestock water, which is served first; if it exceeds the allocation no
    water is left for irrigation (0 hm² of irrigation, see :func:`demand_gap` for the shortfall).

    Args:
        agri_allocation_10k_m3: water allocated to agriculture, 万m³ (e.g. agri_share × 用水总量控制指标).
        irrigation_m3_per_ha: 综合灌溉定额, m³/hm² (> 0).
        livestock_10k_m3: livestock demand inside the allocation, 万m³.
        rainfed_ha: 纯雨养农业面积, hm² (config ``scales.rainfed_ha``).

    Raises:
        ValueError: negative volumes or area, quota ≤ 0.
    """
    if agri_allocation_10k_m3 < 0 or livestock_10k_m3 < 0:
        raise ValueError("agri_allocation_10k_m3 and livestock_10k_m3 must be ≥ 0")
    net_m3 = max(agri_allocation_10k_m3 - livestock_10k_m3, 0.0) * _M3_PER_10K_M3
    return cs.water_bound_cropland_ha(net_m3, 1.0, irrigation_m3_per_ha, rainfed_ha)


def water_bound_scales(
    cap_row: Mapping[str, Any],
    per_capita_m3_per_year: float,
    per_capita_urban_land_m2: float,
    irrigation_m3_per_ha: float,
    livestock_10k_m3: float = 0.0,
    rainfed_ha: float = 0.0,
) -> dict[str, float]:
    """以水定人 / 以水定城 / 以水定地 for one year of the ``04-07`` 三条红线 table.

    * 以水定人 = :func:`~erenhot.evaluation.capacity_scale.water_bound_population` (cap × 生活与工业
      用水占比 / 人均需水量, spec §1.8, §5.4);
    * 以水定城 = :func:`~erenhot.evaluation.capacity_scale.water_bound_urban_land_km2` (× 人均城镇建设
      用地, GB 50137-2011, spec §5.5);
    * 以水定地 = :func:`irrigable_area_ha` on ``agri_share × cap``.

    Args:
        cap_row: a row of ``04-07`` with ``total_quota_10k_m3`` (万m³), ``domestic_industrial_share``
            and ``agri_share`` (fractions).
        per_capita_m3_per_year: comprehensive domestic + industrial demand, m³/人/a — e.g.
            :func:`~erenhot.evaluation.capacity_scale.per_capita_water_m3_per_year` or the
            projection's (domestic + industry) × 10⁴ / population.
        per_capita_urban_land_m2: 人均城镇建设用地, m²/人 (config ``scales.per_capita_urban_land_m2``).
        irrigation_m3_per_ha: 综合灌溉定额 of the year, m³/hm².
        livestock_10k_m3, rainfed_ha: see :func:`irrigable_area_ha`.

    Returns:
        ``{"domestic_industrial_allocation_10k_m3", "population", "urban_land_km2",
        "agri_allocation_10k_m3", "irrigable_area_ha"}``.

    Raises:
        ValueError: a missing or NaN key (naming it), shares outside 0–1, non-positive quotas.
    """
    vals = {}
    for key in ("total_quota_10k_m3", "domestic_industrial_share", "agri_share"):
        if key not in cap_row or pd.isna(cap_row[key]):
            raise ValueError(f"water_bound_scales: cap_row needs {key!r}")
        vals[key] = float(cap_row[key])
    if vals["total_quota_10k_m3"] < 0:
        raise ValueError("water_bound_scales: 'total_quota_10k_m3' must be ≥ 0")
    cap_m3 = vals["total_quota_10k_m3"] * _M3_PER_10K_M3
    population = cs.water_bound_population(cap_m3, vals["domestic_industrial_share"], per_capita_m3_per_year)
    if not 0.0 <= vals["agri_share"] <= 1.0:
        raise ValueError(f"water_bound_scales: 'agri_share' must be a fraction 0–1, got {vals['agri_share']}")
    agri_alloc = vals["total_quota_10k_m3"] * vals["agri_share"]
    return {
        "domestic_industrial_allocation_10k_m3": vals["total_quota_10k_m3"] * vals["domestic_industrial_share"],
        "population": population,
        "urban_land_km2": cs.water_bound_urban_land_km2(population, per_capita_urban_land_m2),
        "agri_allocation_10k_m3": agri_alloc,
        "irrigable_area_ha": irrigable_area_ha(agri_alloc, irrigation_m3_per_ha, livestock_10k_m3, rainfed_ha),
    }


# ── 6. spatial match of farming/grazing land and water ─────────────────────────────────────────


def land_water_match(
    zones: ArrayLike,
    land: ArrayLike,
    water: ArrayLike | Mapping[int, float],
    cell_area_km2: float,
) -> pd.DataFrame:
    """农牧业用地与水资源的空间匹配 per township: land share versus water share.

    ``match_index = water_share / land_share`` where the shares are the zone's fractions of the
    city totals (zones > 0): 1 = the zone holds as much of the water as of the farming/grazing
    land; > 1 relatively water-rich, < 1 relatively water-short (水少地多). NaN for a zone without
    land (its water share is still reported).

    Args:
        zones: integer ``(rows, cols)`` zone ids on the EPSG:4525 grid (苏木/社区 index, 0 = outside).
        land: ``(rows, cols)`` farming/grazing land (耕地 ∪ 草地) as bool or the cell's land fraction
            0–1 (NaN = 0), e.g. rasterised from DLBM codes.
        water: either ``(rows, cols)`` water volume per cell in 万m³ (≥ 0, NaN = 0; e.g. a
            可利用量 modulus × cell area), summed per zone, or a mapping zone id → 万m³ (e.g. the
            04-05 assessment by 分区) that must cover exactly the zones of the raster.
        cell_area_km2: area of one cell, km².

    Returns:
        ``zone, land_km2, land_share, water_10k_m3, water_share, match_index`` sorted by zone.

    Raises:
        ValueError: shape mismatch, land outside 0–1, negative water, a zone missing from (or
            extra in) the mapping, no land or no water in the whole area.
    """
    z = np.asarray(zones)
    if not np.issubdtype(z.dtype, np.integer):
        raise ValueError("zones must be an integer raster")
    lnd = np.nan_to_num(np.asarray(land, dtype=np.float64), nan=0.0)
    if lnd.shape != z.shape:
        raise ValueError(f"land {lnd.shape} and zones {z.shape} differ in shape")
    if np.any((lnd < 0) | (lnd > 1)):
        raise ValueError("land must be a bool mask or a fraction 0–1 per cell")
    if not cell_area_km2 > 0:
        raise ValueError("cell_area_km2 must be > 0")
    ids = sorted(int(v) for v in np.unique(z[z > 0]))
    if not ids:
        raise ValueError("zones: no zone id > 0")
    inside = z > 0
    idx = np.searchsorted(ids, z[inside])
    land_km2 = np.bincount(idx, weights=lnd[inside], minlength=len(ids)) * cell_area_km2
    if isinstance(water, Mapping):
        vol = {int(k): float(v) for k, v in water.items()}
        missing, extra = sorted(set(ids) - set(vol)), sorted(set(vol) - set(ids))
        if missing or extra:
            raise ValueError(f"water mapping: zones missing {missing}, zones not in the raster {extra}")
        water_10k = np.array([vol[i] for i in ids], dtype=np.float64)
    else:
        w = np.nan_to_num(np.asarray(water, dtype=np.float64), nan=0.0)
        if w.shape != z.shape:
            raise ValueError(f"water {w.shape} and zones {z.shape} differ in shape")
        water_10k = np.bincount(idx, weights=w[inside], minlength=len(ids))
    if np.any(water_10k < 0) or np.any(np.isnan(water_10k)):
        raise ValueError("water volumes must be ≥ 0")
    if land_km2.sum() <= 0 or water_10k.sum() <= 0:
        raise ValueError("land_water_match needs some land and some water in the zones")
    land_share = land_km2 / land_km2.sum()
    water_share = water_10k / water_10k.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(land_share > 0, water_share / np.where(land_share > 0, land_share, 1.0), np.nan)
    return pd.DataFrame({"zone": ids, "land_km2": land_km2, "land_share": land_share, "water_10k_m3": water_10k,
                         "water_share": water_share, "match_index": index})


# ── 7. surfaces from monitoring wells and the composite grade (topic 12 composer) ─────────────


def idw(x: ArrayLike, y: ArrayLike, values: ArrayLike, grid_x: ArrayLike, grid_y: ArrayLike, power: float,
        rows_per_block: int = 256) -> NDArray[np.float32]:
    """Inverse-distance-weighted surface of point values (e.g. 04-09 well 埋深 or 矿化度) on a grid.

    ``v(p) = Σ w_i v_i / Σ w_i`` with ``w_i = d(p, i)^-power``; a cell centre on a point takes its value.

    Args:
        x, y: point coordinates (m, EPSG:4525), NaN values are dropped.
        values: the point values.
        grid_x: cell-centre x of the columns ``(cols,)``; grid_y: cell-centre y of the rows ``(rows,)``.
        power: > 0 (config ``factors.idw_power``).

    Returns:
        float32 ``(rows, cols)``.

    Raises:
        ValueError: no valid point, power ≤ 0, mismatched point arrays.
    """
    px, py, pv = (np.asarray(a, dtype=np.float64).ravel() for a in (x, y, values))
    if not (px.size == py.size == pv.size):
        raise ValueError("idw: x, y and values differ in length")
    ok = np.isfinite(px) & np.isfinite(py) & np.isfinite(pv)
    px, py, pv = px[ok], py[ok], pv[ok]
    if px.size == 0:
        raise ValueError("idw: no point with a value")
    if not power > 0:
        raise ValueError("idw: power must be > 0")
    gx = np.asarray(grid_x, dtype=np.float64)
    gy = np.asarray(grid_y, dtype=np.float64)
    out = np.empty((gy.size, gx.size), dtype=np.float32)
    for r0 in range(0, gy.size, rows_per_block):
        yb = gy[r0:r0 + rows_per_block]
        d2 = (gx[None, :, None] - px) ** 2 + (yb[:, None, None] - py) ** 2  # (rows, cols, points)
        exact = d2 == 0
        with np.errstate(divide="ignore"):
            w = np.where(exact, 0.0, d2 ** (-power / 2.0))
        val = (w * pv).sum(axis=2) / w.sum(axis=2)
        hit = exact.any(axis=2)
        if hit.any():
            val[hit] = pv[np.argmax(exact, axis=2)][hit]
        out[r0:r0 + yb.size] = val
    return out


def combine_grades(grades: Mapping[str, ArrayLike], weights: Mapping[str, float], veto_grade: int, veto_floor: int,
                   veto_factors: Sequence[str] | None = None) -> NDArray[np.uint8]:
    """协同（综合）承载力 grade: weighted mean of single-factor grades (1 高 … 5 低), rounded half up,
    then the 短板 veto: where any of ``veto_factors`` (default: all) reaches ``veto_grade`` the composite is
    at least ``veto_floor`` (a factor that is uniform over the city, e.g. a quota modulus, is left out
    of the veto so that it cannot set the whole map).

    Args:
        grades: factor name → ``uint8`` grades of one shape (0 = no data).
        weights: factor name → weight (the same names; they must sum to 1 within 1e-6).
        veto_grade, veto_floor: config ``composite.veto``.

    Returns:
        ``uint8`` grades 1–5; 0 where any factor is 0 (no data).

    Raises:
        ValueError: names differ, weights do not sum to 1 or are negative, shapes differ.
    """
    if set(grades) != set(weights):
        raise ValueError(f"combine_grades: factors {sorted(grades)} and weights {sorted(weights)} differ")
    w = {k: float(v) for k, v in weights.items()}
    if any(v < 0 for v in w.values()) or abs(sum(w.values()) - 1.0) > 1e-6:
        raise ValueError(f"combine_grades: weights must be ≥ 0 and sum to 1, got {w}")
    arrays = {k: np.asarray(g, dtype=np.float64) for k, g in grades.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1:
        raise ValueError(f"combine_grades: shapes differ {shapes}")
    mean = sum(w[k] * arrays[k] for k in arrays)
    out = np.floor(np.round(mean, 9) + 0.5)
    vetoing = list(arrays) if veto_factors is None else list(veto_factors)
    unknown = sorted(set(vetoing) - set(arrays))
    if unknown:
        raise ValueError(f"combine_grades: veto factors {unknown} are not among the grades")
    worst = np.max(np.stack([arrays[k] for k in vetoing]), axis=0) if vetoing else np.zeros_like(mean)
    out = np.where(worst >= veto_grade, np.maximum(out, veto_floor), out)
    nodata = np.any(np.stack([a == 0 for a in arrays.values()]), axis=0)
    return np.where(nodata, 0, np.clip(out, 1, 5)).astype(np.uint8)
