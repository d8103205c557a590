"""integration: the spec §1.7 matrices on all combinations, land grades, modifiers, hazard, limits."""

import itertools

import numpy as np
import pytest

from erenhot.config import load_config
from erenhot.evaluation.classify import lookup_matrix
from erenhot.evaluation.integration import (
    AgriIntegrationParams,
    AgriLandParams,
    HazardParams,
    UrbanIntegrationParams,
    UrbanLandParams,
    agri_capacity,
    agri_land_grade,
    buffer_mask,
    hazard_grade,
    limiting_factor,
    urban_capacity,
    urban_land_grade,
    water_grade,
    water_quota_modulus,
)

CFG = load_config("t02_carrying_capacity")

# Spec §1.7, typed from the tables (rows L 1–5, columns W 1–5).
SPEC_AGRI_LW = [
    [1, 1, 1, 2, 5],
    [1, 1, 2, 3, 5],
    [2, 2, 3, 4, 5],
    [3, 4, 4, 5, 5],
    [5, 5, 5, 5, 5],
]
# "× 光热 C with the same matrix shape, except row 2: C1→1, C2–3→2, C4→3, C5→5"
SPEC_AGRI_CLIMATE = [
    [1, 1, 1, 2, 5],
    [1, 2, 2, 3, 5],
    [2, 2, 3, 4, 5],
    [3, 4, 4, 5, 5],
    [5, 5, 5, 5, 5],
]
SPEC_URBAN_LW = [
    [1, 1, 1, 2, 3],
    [1, 1, 2, 2, 3],
    [2, 2, 3, 3, 4],
    [3, 4, 4, 5, 5],
    [5, 5, 5, 5, 5],
]

G = np.arange(1, 6)
ROWS, COLS = np.meshgrid(G, G, indexing="ij")  # all 25 combinations


def test_agri_lw_and_climate_matrices_all_25_combinations():
    params = CFG.params(AgriIntegrationParams, "agri.integration")
    assert lookup_matrix(ROWS, COLS, params.lw_matrix).tolist() == SPEC_AGRI_LW
    assert lookup_matrix(ROWS, COLS, params.climate_matrix).tolist() == SPEC_AGRI_CLIMATE


def test_agri_capacity_all_125_combinations():
    params = CFG.params(AgriIntegrationParams, "agri.integration")
    combos = np.array(list(itertools.product(range(1, 6), repeat=3)))
    got = agri_capacity(combos[:, 0], combos[:, 1], combos[:, 2], params)
    expected = [SPEC_AGRI_CLIMATE[SPEC_AGRI_LW[lg - 1][wg - 1] - 1][cg - 1] for lg, wg, cg in combos]
    assert got.tolist() == expected
    # Erenhot: flat (L 1), precipitation class 5 → 5 whatever the climate
    assert agri_capacity(np.array([1]), 5, 4, params).tolist() == [5]


def test_urban_lw_matrix_all_25_combinations():
    params = CFG.params(UrbanIntegrationParams, "urban.integration")
    assert lookup_matrix(ROWS, COLS, params.lw_matrix).tolist() == SPEC_URBAN_LW
    assert urban_capacity(ROWS, COLS, None, None, params).tolist() == SPEC_URBAN_LW


def test_agri_modifiers():
    params = CFG.params(AgriIntegrationParams, "agri.integration")
    ones = np.ones(4, dtype=np.uint8)
    # soil environment: 3 → +1, 5 → lowest, 0 (no data) unchanged
    assert agri_capacity(ones, ones, ones, params, soil_env=np.array([3, 5, 0, 1])).tolist() == [2, 5, 1, 1]
    assert agri_capacity(ones, ones, ones, params, salinisation=np.array([1, 2, 3, 0])).tolist() == [2, 1, 1, 1]
    # 气象灾害 high risk only turns grade 1 into 2
    land = np.array([1, 3, 1, 1])
    assert agri_capacity(land, ones, ones, params, met_hazard=np.array([1, 1, 2, 0])).tolist() == [2, 2, 1, 1]


def test_urban_modifiers():
    params = CFG.params(UrbanIntegrationParams, "urban.integration")
    land, water = np.ones(5, np.uint8), np.full(5, 5, np.uint8)  # base 3 (L1 W5, Erenhot)
    assert urban_capacity(land, water, np.array([1, 2, 3, 4, 5]), None, params).tolist() == [5, 5, 4, 3, 3]
    assert urban_capacity(land, water, None, np.array([5, 4, 1, 0, 5]), params).tolist() == [4, 3, 3, 3, 4]
    assert urban_capacity(land, water, None, None, params, environment_lowest_count=np.array([0, 1, 2, 0, 0])).tolist() == [3, 4, 5, 3, 3]


def test_land_grades():
    agri = CFG.params(AgriLandParams, "agri.land")
    got = agri_land_grade(np.array([1.0, 2.0, 5.0, 30.0, np.nan]), np.array([70.0, 85.0, np.nan, 10.0, 70.0]), agri)
    assert got.tolist() == [2, 5, 2, 5, 0]
    assert agri_land_grade(np.array([1.0, 7.0]), None, agri).tolist() == [1, 3]
    urban = CFG.params(UrbanLandParams, "urban.land")
    slope = np.array([2.0, 2.0, 2.0, 2.0, 10.0, 3.0])
    elev = np.array([1000.0, 4000.0, 6000.0, 1000.0, 1000.0, 5000.0])
    rel = np.array([50.0, 50.0, 50.0, 250.0, 150.0, 0.0])
    assert urban_land_grade(slope, elev, rel, urban).tolist() == [1, 2, 5, 3, 4, 2]


def test_water_grade_and_modulus():
    breaks = CFG.get("agri.water.precipitation_breaks_mm")
    assert water_grade(np.array([1200.0, 1199.0, 140.0, 200.0, 199.9]), breaks).tolist() == [1, 2, 5, 4, 5]
    # 2,000 万 m³ over 4,015 km² ≈ 4,981 m³/km² → class 5
    m = water_quota_modulus(2.0e7, 4015.0)
    assert m == pytest.approx(4981.32, rel=1e-5)
    assert water_grade(np.array([m, 250000.0]), CFG.get("urban.water.quota_modulus_breaks_m3_per_km2")).tolist() == [5, 1]


def test_hazard_grade_and_fault_buffer():
    params = CFG.params(HazardParams, "hazard")
    line = np.zeros((1, 7), dtype=bool)
    line[0, 2] = True
    assert buffer_mask(line, 60.0, 30.0).tolist() == [[True, True, True, True, True, False, False]]
    assert not buffer_mask(np.zeros((2, 2), bool), 100.0, 30.0).any()
    got = hazard_grade(
        np.array([2, 3, 0, 0, 4]),
        np.array([False, False, True, False, True]),
        params,
        valid_mask=np.array([True, True, True, False, True]),
    )
    assert got.tolist() == [2, 3, 1, 0, 1]
    assert hazard_grade(np.array([0]), None, params).tolist() == [5]


def test_limiting_factor_worst_grade_and_tie_order():
    factors = {
        "water": np.array([5, 3, 0, 2, 3]),
        "land": np.array([1, 3, 0, 4, 3]),
        "climate": np.array([4, 5, 0, 2, 1]),
    }
    codes, names = limiting_factor(factors, ["water", "land", "climate"])
    assert names == ["water", "land", "climate"]
    assert codes.tolist() == [1, 3, 0, 2, 1]  # last cell: water and land tie at 3 → water (first)
    codes, names = limiting_factor(factors, ["land", "water", "climate"])
    assert codes.tolist() == [2, 3, 0, 1, 1]  # the tie now goes to land
    with pytest.raises(ValueError):
        limiting_factor(factors, ["water", "land"])
