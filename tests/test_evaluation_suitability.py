"""suitability: 区位, patch concentration, agriculture/urban/grazing suitability, conflicts."""

import numpy as np

from erenhot.config import load_config
from erenhot.evaluation.suitability import (
    GrazingParams,
    UrbanSuitabilityParams,
    agri_suitability,
    combine_agri_grazing,
    conflict_mask,
    grazing_suitability,
    location_grade,
    patch_concentration_grade,
    urban_suitability,
)

CFG = load_config("t03_suitability")

# Spec §1.7 2019-draft table 农业承载 (rows 高…低) × 连片度 (columns 高…低); 1 适宜 2 一般适宜 3 不适宜
SPEC_AGRI_TABLE = [
    [1, 1, 1, 2, 3],
    [1, 1, 2, 2, 3],
    [2, 2, 2, 2, 3],
    [2, 2, 2, 2, 3],
    [3, 3, 3, 3, 3],
]


def test_location_grade_breaks():
    minutes = np.array([0.0, 20.0, 20.1, 90.0, 91.0, np.inf, np.nan])
    assert location_grade(minutes, CFG.get("location.travel_time_breaks_min")).tolist() == [1, 1, 2, 4, 5, 5, 0]


def test_patch_concentration_two_blobs_8_connected():
    mask = np.zeros((8, 8), dtype=bool)
    mask[0:3, 0:3] = True  # blob A: 9 cells
    mask[6, 6] = mask[7, 7] = True  # blob B: 2 cells touching only diagonally
    got = patch_concentration_grade(mask, 0.25, CFG.get("concentration.breaks_km2"))
    # A: 9·0.25 = 2.25 km² ≥ 2 → 1 高; B: 2·0.25 = 0.5 km² (on the break → better) → 3 一般
    assert got[1, 1] == 1 and got[6, 6] == 3 and got[7, 7] == 3
    assert got[4, 4] == 0
    assert patch_concentration_grade(np.zeros((2, 2), bool), 1.0, [0.25, 0.5, 1, 2]).sum() == 0


def test_agri_suitability_table_all_25_and_exclusion():
    table = CFG.get("agri.suitability_table")
    cap, cont = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    eco = np.full(cap.shape, 3)
    assert agri_suitability(cap, cont, eco, table).tolist() == SPEC_AGRI_TABLE
    got = agri_suitability(
        np.array([1, 1, 1, 0]), np.array([1, 1, 0, 1]), np.array([1, 2, 3, 3]), table, excluded_eco_grades=(1,)
    )
    # 极重要 → 不适宜; 重要 keeps the table; no contiguity → 低 column; capacity 0 → 0
    assert got.tolist() == [3, 1, 3, 0]


def test_urban_suitability_location_table_and_hard_exclusions():
    params = CFG.params(UrbanSuitabilityParams, "urban")
    cap = np.array([3, 3, 3, 3, 3, 3, 0])
    loc = np.array([1, 3, 1, 1, 1, 5, 1])
    conc = np.array([1, 1, 1, 1, 1, 1, 1])
    eco = np.array([3, 3, 1, 3, 3, 3, 3])
    slope = np.array([1.0, 1.0, 1.0, 30.0, 1.0, 1.0, 1.0])
    hazard = np.array([5, 5, 5, 5, 1, 5, 5])
    got = urban_suitability(cap, loc, conc, eco, slope, hazard, params)
    # base 3 + 区位 1 → 2 → table[2][1] = 适宜; 区位 3 → stays 3 → 一般适宜; eco 极重要 / slope > 25 /
    # hazard 极高 → 不适宜; 区位 5 → 3 + 2 = 5 → 不适宜; capacity 0 → 0
    assert got.tolist() == [1, 2, 3, 3, 3, 3, 0]


def test_grazing_and_combination():
    params = CFG.params(GrazingParams, "grazing")
    grass = np.array([True, True, True, False, True, True, True, True])
    fvc = np.array([0.35, 0.2, 0.1, 0.5, np.nan, 0.4, 0.4, 0.4])
    slope = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 30.0, 1.0, 1.0])
    eco = np.array([3, 2, 3, 3, 3, 3, 1, 0])
    assert grazing_suitability(grass, fvc, slope, eco, params).tolist() == [1, 2, 3, 3, 0, 3, 3, 0]
    assert combine_agri_grazing(np.array([3, 3, 2, 0, 0]), np.array([1, 3, 3, 0, 2])).tolist() == [1, 3, 2, 0, 2]


def test_conflict_rules_from_config():
    rules = CFG.get("conflicts.rules")
    layers = {
        "eco_importance": np.array([1, 1, 2, 1]),
        "cropland": np.array([1, 0, 1, 1]),
        "agri_suitability": np.array([3, 3, 3, 1]),
    }
    assert conflict_mask(layers, rules["eco_extreme_cropland"]["conditions"]).tolist() == [True, False, False, True]
    assert conflict_mask(layers, rules["eco_extreme_agri_unsuitable_cropland"]["conditions"]).tolist() == [True, False, False, False]
