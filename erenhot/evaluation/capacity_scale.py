"""承载规模 (spec §1.3 item 2.4, §1.8, §5.4–5.5): water-bound population, urban land and cropland,
and the minimum over constraints (短板原理, water first in water-short areas [S1]).

Plain floats: volumes in m³/a, areas in km² or hm² (ha), populations in persons. Quotas come from
dataset ``04-07`` (用水总量控制指标, 万m³ → multiply by 10⁴); per-capita demands and land from
``t03_suitability.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = [
    "carrying_scale",
    "per_capita_water_m3_per_year",
    "water_bound_cropland_ha",
    "water_bound_population",
    "water_bound_urban_land_km2",
]


def _check_share(share: float, name: str) -> None:
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{name} must be a fraction 0–1, got {share}")


def per_capita_water_m3_per_year(domestic_l_per_day: float, industry_share: float) -> float:
    """Comprehensive per-capita domestic + industrial demand, m³/人/a.

    ``domestic_l_per_day · 365 / 1000 / (1 − industry_share)``, where ``industry_share`` is the
    industrial part of the domestic + industrial total (config ``water_demand``, [L]).
    """
    _check_share(industry_share, "industry_share")
    if industry_share >= 1.0 or domestic_l_per_day <= 0:
        raise ValueError("need domestic_l_per_day > 0 and industry_share < 1")
    return domestic_l_per_day * 365.0 / 1000.0 / (1.0 - industry_share)


def water_bound_population(total_quota_m3: float, domestic_industrial_share: float, per_capita_m3_per_year: float) -> float:
    """以水定人: ``生活与工业用水合理占比 × 用水总量控制指标 / 人均需水量`` (spec §1.8 [S5
    WaterTower.py], §5.4), persons."""
    _check_share(domestic_industrial_share, "domestic_industrial_share")
    if per_capita_m3_per_year <= 0 or total_quota_m3 < 0:
        raise ValueError("need per_capita_m3_per_year > 0 and total_quota_m3 ≥ 0")
    return total_quota_m3 * domestic_industrial_share / per_capita_m3_per_year


def water_bound_urban_land_km2(population: float, per_capita_land_m2: float) -> float:
    """以水定城: water-bound population × 人均城镇建设用地 (GB 50137-2011, spec §5.5), km²."""
    if population < 0 or per_capita_land_m2 <= 0:
        raise ValueError("need population ≥ 0 and per_capita_land_m2 > 0")
    return population * per_capita_land_m2 / 1e6


def water_bound_cropland_ha(
    total_quota_m3: float, agri_share: float, irrigation_quota_m3_per_ha: float, rainfed_ha: float = 0.0
) -> float:
    """以水定地: ``农业用水合理占比 × 用水总量控制指标 / 综合灌溉定额 + 纯雨养农业面积`` (spec §1.8
    [S5 ChengZai.py]), hm²."""
    _check_share(agri_share, "agri_share")
    if irrigation_quota_m3_per_ha <= 0 or rainfed_ha < 0 or total_quota_m3 < 0:
        raise ValueError("need irrigation_quota_m3_per_ha > 0, rainfed_ha ≥ 0, total_quota_m3 ≥ 0")
    return total_quota_m3 * agri_share / irrigation_quota_m3_per_ha + rainfed_ha


def carrying_scale(bounds: Mapping[str, float]) -> tuple[float, str]:
    """短板原理: the bearable scale is the minimum over the constraint-bound scales (spec §1.3,
    §1.8, §8 item 1 [S1] [H]).

    Args:
        bounds: constraint name → scale in one unit, e.g. ``{"water": 5.75, "land": 120.0}`` km².
            Put water first: on a tie the earlier constraint is named (water first in dry areas).
            NaN bounds (constraint not evaluated) are skipped.

    Returns:
        ``(minimum, binding_constraint_name)``.

    Raises:
        ValueError: no finite bound.
    """
    best: tuple[float, str] | None = None
    for name, value in bounds.items():
        if value is None or math.isnan(value):
            continue
        if best is None or value < best[0]:
            best = (float(value), name)
    if best is None:
        raise ValueError("carrying_scale needs at least one evaluated constraint")
    return best
