"""城镇化 (urbanisation) arithmetic for topic 5: rates, GB 50137 per-capita land, land demand and the
growth of a candidate 城镇开发边界 on the analysis grid. Pure functions, no I/O.

* :func:`urbanisation_rate` — 城镇化率 = 城镇人口 / 总人口 (常住 or 户籍, spec §5.4);
* :func:`natural_and_migration_rates` — m (自然增长率) and k (机械增长率) of the 户籍 statistics,
  the inputs of 综合增长率 ``P_n = P_0·(1 + m + k)^n`` (spec §5.4 [S24]; the projection itself is
  :func:`erenhot.evaluation.projection.comprehensive_growth`);
* :func:`per_capita_band` / :func:`choose_per_capita` — GB 50137-2011 表 4.2.1 规划人均城市建设用地
  (allowed planned value ∩ current + allowed change, by planned population size; spec §5.5);
* :func:`land_demand_km2` — 城镇建设用地需求 = 规划城镇人口 × 人均城镇建设用地 (spec §5.5);
* :func:`bounded` — 短板: a value capped by named bounds, naming the one that binds;
* :func:`grow_boundary` — 城镇开发边界 grown from the present built-up cells into allowed
  (urban-suitable) cells, nearest first, until a target cell count (spec §4.4).

Population projections by series (regression, logistic, 综合增长率, spread) live in
:mod:`erenhot.evaluation.projection`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["BoundaryGrowth", "Gb50137Params", "PerCapitaBand", "bounded", "choose_per_capita", "grow_boundary",
           "land_demand_km2", "natural_and_migration_rates", "per_capita_band", "urbanisation_rate"]


# ── 城镇化率 ─────────────────────────────────────────────────────────────────────────────────────


def urbanisation_rate(urban: ArrayLike, total: ArrayLike, name: str = "urbanisation") -> NDArray[np.float64]:
    """城镇化率 = 城镇人口 / 总人口, a fraction 0–1 (spec §5.4): 常住人口城镇化率 from 10-02
    (urban_pop / resident_pop), 户籍人口城镇化率 from 11-01 (registered_urban_pop / registered_pop).

    Args:
        urban, total: persons (scalars or arrays of one shape).

    Raises:
        ValueError: a total ≤ 0, an urban count < 0 or above its total, or a missing value (names ``name``).
    """
    u = np.asarray(urban, dtype=float)
    t = np.asarray(total, dtype=float)
    if not (np.isfinite(u).all() and np.isfinite(t).all()):
        raise ValueError(f"{name}: missing urban or total population")
    if (t <= 0).any():
        raise ValueError(f"{name}: total population must be > 0")
    if (u < 0).any() or (u > t).any():
        raise ValueError(f"{name}: urban population must lie in 0 … total")
    return u / t


def natural_and_migration_rates(table: pd.DataFrame, years: int | None = None) -> dict[str, float]:
    """自然增长率 m and 机械增长率 k of a 户籍 series (delivery 11-01 of one unit), fractions per year.

    For each year: ``m = (出生 − 死亡) / P_{t−1}``, ``k = (迁入 − 迁出) / P_{t−1}`` with ``P_{t−1}`` the
    year-start stock = year-end 户籍人口 − 出生 + 死亡 − 迁入 + 迁出 (the balance of the year); the result
    is the mean over the newest ``years`` years (all when ``None``).

    Args:
        table: columns ``year, registered_pop, births, deaths, moved_in, moved_out`` (persons).

    Returns:
        ``{"natural_rate", "migration_rate", "first_year", "last_year", "n_years"}``.

    Raises:
        ValueError: a missing column, no rows, or a year-start stock ≤ 0 (names the column/year).
    """
    need = ["year", "registered_pop", "births", "deaths", "moved_in", "moved_out"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"11-01: column(s) {missing} missing (需要 户籍人口、出生、死亡、迁入、迁出)")
    t = table[need].dropna().astype(float).sort_values("year")
    if years is not None:
        t = t.tail(int(years))
    if t.empty:
        raise ValueError("11-01: no complete year of 户籍人口、出生、死亡、迁入、迁出")
    start = t["registered_pop"] - t["births"] + t["deaths"] - t["moved_in"] + t["moved_out"]
    if (start <= 0).any():
        raise ValueError(f"11-01: non-positive year-start 户籍 stock in {t['year'][start <= 0].astype(int).tolist()}")
    m = ((t["births"] - t["deaths"]) / start).mean()
    k = ((t["moved_in"] - t["moved_out"]) / start).mean()
    return {"natural_rate": float(m), "migration_rate": float(k), "first_year": int(t["year"].iloc[0]),
            "last_year": int(t["year"].iloc[-1]), "n_years": int(len(t))}


# ── GB 50137-2011 人均城市建设用地 ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Gb50137Params:
    """GB 50137-2011 表 4.2.1 for one climate-zone group (config ``per_capita``; spec §5.5).

    Attributes:
        rows: ``[current_upper, planned_lo, planned_hi, [[Δlo, Δhi] per size class]]`` in order of
            ``current_upper`` (m²/人; ``None`` = no upper bound, the last row). A current value c falls
            in the first row with ``c ≤ current_upper`` (so 65.0 → row "≤65.0", 65.05 and 65.1 → row
            "65.1–75.0"). ``planned_lo``/``planned_hi`` and ``Δlo``/``Δhi`` may be ``None`` (open).
        size_breaks_10k: upper bounds (万人) of the size classes but the last, e.g. ``[20, 50]`` →
            ≤20万, 20.1–50万, >50万 (a class includes its upper bound).
        overall_min, overall_max: the overall band of the group (65.0–115.0 for zones I, II, VI, VII),
            used where a row leaves a side open.
        special_enabled: apply the special clause (边远地区、少数民族地区城市 … 专门论证, ≤ ``special_max``).
        special_max: m²/人 (150.0).
    """

    rows: Sequence[Sequence]
    size_breaks_10k: Sequence[float]
    overall_min: float
    overall_max: float
    special_enabled: bool = False
    special_max: float = 150.0

    def __post_init__(self) -> None:
        n_classes = len(self.size_breaks_10k) + 1
        uppers = [r[0] for r in self.rows]
        if not self.rows or uppers[-1] is not None or any(u is None for u in uppers[:-1]):
            raise ValueError("per_capita.rows: every row but the last needs a current_upper; the last has None")
        if any(b <= a for a, b in zip(uppers[:-2], uppers[1:-1])):
            raise ValueError("per_capita.rows: current_upper must increase")
        for r in self.rows:
            if len(r) != 4 or len(r[3]) != n_classes:
                raise ValueError(f"per_capita.rows: row {list(r)} needs [upper, lo, hi, {n_classes} × [Δlo, Δhi]]")


@dataclass(frozen=True)
class PerCapitaBand:
    """The allowed planned per-capita band (m²/人) for a current value and a planned population."""

    current_m2: float
    row: int  # index into Gb50137Params.rows
    row_label: str  # e.g. "65.1–75.0"
    size_class: int  # index of the size class
    lo: float
    hi: float
    special: bool  # the special clause widened/limited the band


def _row_label(rows: Sequence[Sequence], i: int) -> str:
    up = rows[i][0]
    if i == 0:
        return f"≤{up:.1f}"
    prev = rows[i - 1][0]
    return f">{prev:.1f}" if up is None else f"{prev + 0.1:.1f}–{up:.1f}"


def per_capita_band(current_m2: float, planned_population: float, params: Gb50137Params) -> PerCapitaBand:
    """规划人均城市建设用地 allowed by GB 50137-2011 表 4.2.1 (双因子控制, spec §5.5 [S21]).

    The band is the intersection of the row's 允许采用的规划人均城市建设用地指标 and ``current + 允许调整
    幅度`` of the planned population's size class; open sides take the group's overall band. With
    ``special_enabled`` (GB 50137 §4.2.3 as recalled: 边远地区、少数民族地区 … 专门论证, ≤150 m²/人; spec §5.5
    [M]) the upper bound becomes ``min(special_max, max(hi, current))`` — a town above the table may keep
    its present level up to ``special_max``, never more — and the lower bound is kept ≤ that.

    Args:
        current_m2: 现状人均城市建设用地, m²/人 (> 0).
        planned_population: 规划人口规模, persons (≥ 0).

    Raises:
        ValueError: non-positive or non-finite current value, negative population, or an empty band.
    """
    if not math.isfinite(current_m2) or current_m2 <= 0:
        raise ValueError(f"per_capita_band: current per-capita land must be > 0 m²/人, got {current_m2}")
    if not math.isfinite(planned_population) or planned_population < 0:
        raise ValueError(f"per_capita_band: planned population must be ≥ 0, got {planned_population}")
    rows = params.rows
    row = next(i for i, r in enumerate(rows) if r[0] is None or current_m2 <= float(r[0]))
    size = int(np.searchsorted(np.asarray(params.size_breaks_10k, dtype=float), planned_population / 1e4, side="left"))
    _, plo, phi, deltas = rows[row]
    dlo, dhi = deltas[size]
    lo = max(params.overall_min if plo is None else float(plo), -math.inf if dlo is None else current_m2 + float(dlo))
    hi = min(params.overall_max if phi is None else float(phi), math.inf if dhi is None else current_m2 + float(dhi))
    lo, hi = round(lo, 6), round(hi, 6)
    special = False
    if params.special_enabled:
        new_hi = min(float(params.special_max), max(hi, current_m2))
        special = new_hi != hi
        hi = new_hi
        lo = min(lo, hi)
    if lo > hi:
        raise ValueError(f"per_capita_band: empty band for current {current_m2:.1f} m²/人 (row {_row_label(rows, row)}): "
                         f"{lo:.1f} > {hi:.1f}; check per_capita.rows")
    return PerCapitaBand(float(current_m2), row, _row_label(rows, row), size, float(lo), float(hi), special)


def choose_per_capita(band: PerCapitaBand, rule: str) -> float:
    """The planned per-capita value taken from a band (config ``per_capita.choice``).

    ``current_clamped``: the present value moved into the band (the smallest change the standard
    allows); ``upper`` / ``lower`` / ``middle``: the band's bound or centre. m²/人.

    Raises:
        ValueError: an unknown rule.
    """
    if rule == "current_clamped":
        return float(min(max(band.current_m2, band.lo), band.hi))
    if rule == "upper":
        return band.hi
    if rule == "lower":
        return band.lo
    if rule == "middle":
        return (band.lo + band.hi) / 2.0
    raise ValueError(f"per_capita.choice must be current_clamped, upper, lower or middle, got {rule!r}")


def land_demand_km2(population: float, per_capita_m2: float) -> float:
    """城镇建设用地需求 = 规划城镇人口 × 人均城镇建设用地 (spec §5.5), km² (persons × m²/人 / 10⁶).

    Raises:
        ValueError: population < 0 or per-capita ≤ 0.
    """
    if not (population >= 0) or not (per_capita_m2 > 0):
        raise ValueError(f"land_demand_km2: need population ≥ 0 and per-capita > 0, got {population}, {per_capita_m2}")
    return float(population) * float(per_capita_m2) / 1e6


def bounded(value: float, bounds: Mapping[str, float], own: str = "projection") -> tuple[float, str]:
    """短板: ``min(value, *bounds)`` and the name of what binds (``own`` when no bound is below the
    value; NaN bounds are skipped; on a tie the value itself is named — the bound does not bite).
    Used to cap a projected population by 以水定人 (spec §5.4: "cap all scenario results by this")."""
    out, binding = float(value), own
    for name, b in bounds.items():
        if b is not None and not (isinstance(b, float) and math.isnan(b)) and float(b) < out:
            out, binding = float(b), name
    return out, binding


# ── 城镇开发边界 growth ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class BoundaryGrowth:
    """Result of :func:`grow_boundary` (cell counts on the grid).

    ``status``: ``reached`` (exactly ``target_cells``), ``shortfall`` (all reachable allowed cells
    taken, ``shortfall_cells`` short of the target) or ``built_up_exceeds_target`` (the present built-up
    area alone is at or above the target: the boundary is the built-up area).
    """

    mask: NDArray[np.bool_]
    distance: NDArray[np.float64]  # growth distance (cells) from the built-up area; inf where unreachable (connected)
    seed_cells: int
    target_cells: int
    added_cells: int
    shortfall_cells: int
    status: str


def grow_boundary(built_up: ArrayLike, allowed: ArrayLike, target_cells: int, distance: str = "euclidean") -> BoundaryGrowth:
    """Grow the present built-up area into allowed cells, nearest first, to ``target_cells`` cells.

    ``distance`` (config ``boundary.distance``):

    * ``euclidean`` — straight-line distance (cells) to the nearest built-up cell
      (``scipy.ndimage.distance_transform_edt``): the nearest allowed cells are taken wherever they
      lie, also beyond a band of not-allowed land (a boundary may hold detached patches, 飞地);
    * ``connected`` — cost distance through allowed (and built-up) cells only
      (``skimage.graph.MCP_Geometric``, 8 neighbours, unit cost per cell, √2 on diagonals): growth
      stays connected to the built-up area and never crosses a not-allowed cell.

    Only allowed cells are ever added. Cells are added in order of distance, ties by row-major
    position (deterministic), until built-up + added = ``target_cells``. Built-up cells are always in
    the boundary (also where not allowed: the present town stays).

    Args:
        built_up: bool ``(rows, cols)``, present 城镇 construction land (the seed).
        allowed: bool ``(rows, cols)``, cells the boundary may grow into (e.g. t03 城镇建设适宜 classes
            inside the city; 生态保护极重要区 excluded by t03).
        target_cells: the boundary's size in cells (≥ 0).

    Raises:
        ValueError: shapes differ, not 2-D, negative target, no built-up cell, or an unknown ``distance``.
    """
    from scipy.ndimage import distance_transform_edt
    from skimage.graph import MCP_Geometric

    seed = np.asarray(built_up, dtype=bool)
    ok = np.asarray(allowed, dtype=bool)
    if seed.ndim != 2 or seed.shape != ok.shape:
        raise ValueError(f"grow_boundary: built_up {seed.shape} and allowed {ok.shape} must be 2-D of one shape")
    if target_cells < 0:
        raise ValueError(f"grow_boundary: target_cells must be ≥ 0, got {target_cells}")
    n_seed = int(seed.sum())
    if n_seed == 0:
        raise ValueError("grow_boundary: no built-up (seed) cell")
    if distance == "connected":
        passable = seed | ok
        cost = np.where(passable, 1.0, np.inf)
        starts = [tuple(int(v) for v in rc) for rc in np.argwhere(seed)]
        dist, _ = MCP_Geometric(cost, fully_connected=True).find_costs(starts)
        dist = np.where(passable, dist, np.inf)
    elif distance == "euclidean":
        dist = distance_transform_edt(~seed).astype(np.float64)
    else:
        raise ValueError(f"grow_boundary: distance must be euclidean or connected, got {distance!r}")
    dist[seed] = 0.0
    if n_seed >= target_cells:
        return BoundaryGrowth(seed.copy(), dist, n_seed, int(target_cells), 0, 0, "built_up_exceeds_target")
    cand = np.flatnonzero((ok & ~seed & np.isfinite(dist)).ravel())
    order = cand[np.argsort(dist.ravel()[cand], kind="stable")]
    need = int(target_cells) - n_seed
    take = order[:need]
    mask = seed.copy()
    mask.ravel()[take] = True
    short = need - len(take)
    return BoundaryGrowth(mask, dist, n_seed, int(target_cells), int(len(take)), int(short),
                          "reached" if short == 0 else "shortfall")
