"""单项评价 and 集成评价 of agriculture and urban construction (spec §1.5–1.7, 2019-draft grading
profile as implemented in [S5]).

All grade rasters are ``uint8 (rows, cols)`` on the EPSG:4525 grid, 0 = no data / outside,
**1 = 高/好 … 5 = 低/差** — except the hazard grade, which follows the spec's hazard scale
**1 = 极高 hazard … 5 = 低/none** (so "hazard 1 → lowest capacity"). Breaks, matrices and
modifier tables come from ``t02_carrying_capacity.yaml``; see
:func:`erenhot.evaluation.classify.apply_modifier` for the modifier-rule syntax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from erenhot.evaluation.classify import apply_modifier, grade_by_breaks, lookup_matrix, shift_grade

__all__ = [
    "AgriIntegrationParams",
    "AgriLandParams",
    "HazardParams",
    "UrbanIntegrationParams",
    "UrbanLandParams",
    "agri_capacity",
    "agri_land_grade",
    "buffer_mask",
    "hazard_grade",
    "limiting_factor",
    "urban_capacity",
    "urban_land_grade",
    "water_grade",
    "water_quota_modulus",
]

Grade = NDArray[np.uint8]


@dataclass(frozen=True)
class AgriLandParams:
    """农业耕作条件 (config ``agri.land``; spec §1.5).

    Attributes:
        slope_breaks_deg: (2, 6, 15, 25) °, lower is better, a value on a break → the better grade.
        silt_down1_pct: (60, 80): silt content in [60, 80) % → one grade worse.
        silt_lowest_pct: 80: silt ≥ 80 % → grade 5.
    """

    slope_breaks_deg: tuple[float, ...]
    silt_down1_pct: tuple[float, float]
    silt_lowest_pct: float


def agri_land_grade(slope_deg: ArrayLike, silt_pct: ArrayLike | None, params: AgriLandParams) -> Grade:
    """土地资源 grade for agriculture: slope classes, then the 粉砂 modifier ([S5
    AgriculturalLandResources.py]).

    Args:
        slope_deg: ``(rows, cols)`` slope, ° (NaN → 0).
        silt_pct: silt content, % (dataset ``04-13`` SILT), or None to skip the modifier; NaN
            cells are not modified.
    """
    grade = grade_by_breaks(slope_deg, params.slope_breaks_deg, higher_is_better=False)
    if silt_pct is None:
        return grade
    silt = np.asarray(silt_pct, dtype=np.float64)
    lo, hi = params.silt_down1_pct
    grade = shift_grade(grade, np.where((silt >= lo) & (silt < hi), 1, 0))
    return np.where((silt >= params.silt_lowest_pct) & (grade > 0), 5, grade).astype(np.uint8)


@dataclass(frozen=True)
class UrbanLandParams:
    """城镇建设条件 (config ``urban.land``; spec §1.6, [S5 Urban.py]).

    Attributes:
        slope_breaks_deg: (3, 8, 15, 25) °.
        elevation_down1_m: (3500, 5000): elevation in [3500, 5000] m → one grade worse.
        elevation_lowest_m: 5000: elevation > 5000 m → grade 5.
        relief_down1_m: (100, 200): relief in [100, 200] m → one grade worse.
        relief_down2_m: 200: relief > 200 m → two grades worse.
    """

    slope_breaks_deg: tuple[float, ...]
    elevation_down1_m: tuple[float, float]
    elevation_lowest_m: float
    relief_down1_m: tuple[float, float]
    relief_down2_m: float


def urban_land_grade(slope_deg: ArrayLike, elevation_m: ArrayLike, relief_m: ArrayLike, params: UrbanLandParams) -> Grade:
    """土地资源 grade for urban construction: slope classes, then elevation and relief modifiers.

    Args:
        slope_deg, elevation_m, relief_m: ``(rows, cols)`` in °, m, m (NaN slope → 0; NaN
            elevation/relief → no modification).
    """
    grade = grade_by_breaks(slope_deg, params.slope_breaks_deg, higher_is_better=False)
    z = np.asarray(elevation_m, dtype=np.float64)
    r = np.asarray(relief_m, dtype=np.float64)
    e_lo, e_hi = params.elevation_down1_m
    r_lo, r_hi = params.relief_down1_m
    delta = np.where((z >= e_lo) & (z <= e_hi), 1, 0)
    delta = delta + np.where(r > params.relief_down2_m, 2, np.where((r >= r_lo) & (r <= r_hi), 1, 0))
    grade = shift_grade(grade, delta)
    return np.where((z > params.elevation_lowest_m) & (grade > 0), 5, grade).astype(np.uint8)


def water_quota_modulus(total_quota_m3: float, area_km2: float) -> float:
    """用水总量控制指标模数 = quota / land area, m³/km² (spec §1.5/1.6, [S5 UrbanWaterResources.py])."""
    if not area_km2 > 0:
        raise ValueError("area_km2 must be > 0")
    return total_quota_m3 / area_km2


def water_grade(indicator_values: ArrayLike, breaks: Sequence[float]) -> Grade:
    """水资源 grade: higher is better for every configured water indicator (annual precipitation,
    mm; 用水总量控制指标模数, m³/km²); a value on a break → the better grade (spec §1.5/1.6)."""
    return grade_by_breaks(indicator_values, breaks, higher_is_better=True)


@dataclass(frozen=True)
class AgriIntegrationParams:
    """Agriculture integration (config ``agri.integration``; spec §1.7, [S5 AgriculturalIntegration.py]).

    Attributes:
        lw_matrix: 5×5, rows 土地资源 L, columns 水资源 W.
        climate_matrix: 5×5, rows = L×W grade, columns 光热 C (the row-2 exception included).
        soil_env_modifier: 土壤环境容量 grade → action (``{5: "floor:5", 3: 1}``).
        salinisation_modifier: 盐渍化 grade (1 = 极敏感) → action (``{1: 1}``).
        met_hazard_modifier: 气象灾害 grade (1 = 高风险) → action (``{1: "floor:2"}``).
    """

    lw_matrix: tuple[tuple[int, ...], ...]
    climate_matrix: tuple[tuple[int, ...], ...]
    soil_env_modifier: Mapping[int, Any]
    salinisation_modifier: Mapping[int, Any]
    met_hazard_modifier: Mapping[int, Any]


def agri_capacity(
    land: ArrayLike,
    water: ArrayLike,
    climate: ArrayLike,
    params: AgriIntegrationParams,
    salinisation: ArrayLike | None = None,
    soil_env: ArrayLike | None = None,
    met_hazard: ArrayLike | None = None,
) -> Grade:
    """农业承载等级 (1 高 … 5 低): L×W matrix, then × 光热 matrix, then the modifiers in the order
    of [S5]: 土壤环境容量, 盐渍化, 气象灾害; clamped to 1–5 (spec §1.7). The 连片度 step belongs
    to :func:`erenhot.evaluation.suitability.agri_suitability`.

    Args:
        land, water, climate: grade rasters (scalars broadcast, e.g. a city-wide water grade).
        salinisation, soil_env, met_hazard: optional modifier rasters (0 = no data, unchanged).
    """
    land_g = np.asarray(land)
    water_g, climate_g = (np.broadcast_to(np.asarray(x), land_g.shape) for x in (water, climate))
    grade = lookup_matrix(lookup_matrix(land_g, water_g, params.lw_matrix), climate_g, params.climate_matrix)
    for layer, rules in ((soil_env, params.soil_env_modifier), (salinisation, params.salinisation_modifier), (met_hazard, params.met_hazard_modifier)):
        if layer is not None:
            grade = apply_modifier(grade, layer, rules)
    return grade


@dataclass(frozen=True)
class UrbanIntegrationParams:
    """Urban integration (config ``urban.integration``; spec §1.7, [S5 UrbanIntegration.py]).

    Attributes:
        lw_matrix: 5×5, rows 土地资源 L, columns 水资源 W.
        hazard_modifier: hazard grade → action (``{1: "floor:5", 2: 2, 3: 1}``).
        comfort_modifier: comfort grade → action (``{5: 1}``: 很不舒适 → one grade worse; [S5]
            codes 很不舒适 as 1, our comfort scale is 1 好 … 5 差).
        environment_modifier: 大气/水环境容量 "lowest" count → action (``{2: 2, 1: 1}``).
    """

    lw_matrix: tuple[tuple[int, ...], ...]
    hazard_modifier: Mapping[int, Any]
    comfort_modifier: Mapping[int, Any]
    environment_modifier: Mapping[int, Any]


def urban_capacity(
    land: ArrayLike,
    water: ArrayLike,
    hazard: ArrayLike | None,
    comfort: ArrayLike | None,
    params: UrbanIntegrationParams,
    environment_lowest_count: ArrayLike | None = None,
) -> Grade:
    """城镇承载等级 (1 高 … 5 低): L×W matrix, then hazard, environment and comfort modifiers in the
    order of [S5] (spec §1.7). 区位 and 集中度 belong to
    :func:`erenhot.evaluation.suitability.urban_suitability`.

    Args:
        land, water: grade rasters (water may be a scalar grade).
        hazard: :func:`hazard_grade` raster (1 = 极高) or None.
        comfort: comfort grade (climate.thi_comfort_grade; scalar for one station) or None.
        environment_lowest_count: number (0/1/2) of 大气/水环境容量 layers at their lowest grade, or None.
    """
    land_g = np.asarray(land)
    grade = lookup_matrix(land_g, np.broadcast_to(np.asarray(water), land_g.shape), params.lw_matrix)
    for layer, rules in ((hazard, params.hazard_modifier), (environment_lowest_count, params.environment_modifier), (comfort, params.comfort_modifier)):
        if layer is not None:
            grade = apply_modifier(grade, np.broadcast_to(np.asarray(layer), land_g.shape), rules)
    return grade


@dataclass(frozen=True)
class HazardParams:
    """Geological hazard grading (config ``hazard``; spec §1.6, §1.7 [L]).

    Attributes:
        fault_grade: grade of the active-fault avoidance buffers (1 = 极高).
        background_grade: grade of valid cells outside every susceptibility polygon (5 = 低/none).
    """

    fault_grade: int
    background_grade: int


def buffer_mask(feature_mask: ArrayLike, distance_m: float, cell_size_m: float) -> NDArray[np.bool_]:
    """Cells whose centre lies within ``distance_m`` of a feature cell (Euclidean distance
    transform, scipy.ndimage), e.g. active-fault avoidance zones from rasterised fault lines.
    ``distance_m`` 0 → the feature cells themselves."""
    f = np.asarray(feature_mask, dtype=bool)
    if not f.any():
        return np.zeros(f.shape, dtype=bool)
    dist = ndimage.distance_transform_edt(~f) * cell_size_m
    return dist <= distance_m


def hazard_grade(
    susceptibility_grade: ArrayLike,
    fault_buffer_mask: ArrayLike | None,
    params: HazardParams,
    valid_mask: ArrayLike | None = None,
) -> Grade:
    """地质灾害 grade (1 = 极高 … 5 = 低): the most hazardous of susceptibility and fault buffers.

    Args:
        susceptibility_grade: ``uint8`` rasterised 易发程度 (dataset ``01-28`` YFCD mapped with the
            config table; 0 = outside every polygon).
        fault_buffer_mask: bool, inside an active-fault avoidance buffer (see :func:`buffer_mask`).
        valid_mask: bool evaluation area; cells inside it without susceptibility get
            ``background_grade``; outside → 0. None = every cell is valid.
    """
    s = np.asarray(susceptibility_grade).astype(np.int64)
    valid = np.ones(s.shape, dtype=bool) if valid_mask is None else np.asarray(valid_mask, dtype=bool)
    grade = np.where(s > 0, s, params.background_grade)
    if fault_buffer_mask is not None:
        grade = np.where(np.asarray(fault_buffer_mask, dtype=bool), np.minimum(grade, params.fault_grade), grade)
    return np.where(valid, grade, 0).astype(np.uint8)


def limiting_factor(factors: Mapping[str, ArrayLike], order: Sequence[str]) -> tuple[Grade, list[str]]:
    """限制因素: per cell the factor with the worst (highest) grade; ties → earlier in ``order``.

    Args:
        factors: name → grade raster on the 1 好 … 5 差 scale (0 = no data, ignored). Do not
            pass the hazard grade (inverted scale).
        order: every factor name, in tie-break priority (config ``*.limiting_factor_order``).

    Returns:
        ``(codes, names)``: ``uint8`` codes, ``i + 1`` = ``names[i]``, 0 where every factor is 0;
        ``names`` = ``list(order)``.

    Raises:
        ValueError: a factor is missing from ``order`` or vice versa.
    """
    names = list(order)
    if set(names) != set(factors):
        raise ValueError(f"order {names} must name exactly the factors {sorted(factors)}")
    codes: Grade | None = None
    worst: NDArray[np.int64] | None = None
    for i, name in enumerate(names):
        g = np.asarray(factors[name]).astype(np.int64)
        if codes is None:
            codes = np.where(g > 0, i + 1, 0).astype(np.uint8)
            worst = g
            continue
        take = g > worst  # strictly worse: an equal grade keeps the earlier factor
        codes = np.where(take, i + 1, codes).astype(np.uint8)
        worst = np.maximum(worst, g)
    assert codes is not None
    return codes, names
