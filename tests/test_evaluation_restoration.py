"""erenhot.evaluation.restoration on hand-computed cases (topic 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from erenhot.config import load_config
from erenhot.evaluation import restoration as rs

CFG = load_config("t07_consolidation_restoration")


def test_degradation_takes_the_worst_grade_and_the_first_source_on_ties():
    mine = np.array([[0, 3, 0, 2]])
    sand = np.array([[1, 2, 0, 2]])
    grass = np.array([[2, 0, 0, 1]])
    grade, src = rs.degradation_grade([("mine", mine), ("sand", sand), ("grass", grass)])
    assert grade.tolist() == [[2, 3, 0, 2]]
    assert src.tolist() == [[3, 1, 0, 1]]  # cell 4: mine and sand both 2 → mine (first)


def test_grade_from_labels_ignores_unknown_labels():
    got = rs.grade_from_labels(np.array(["轻度", "极重度", "x"]), CFG.get("degradation.sand_grades"))
    assert got.tolist() == [1, 3, 0]


def test_priority_matrix_lookup_by_hand():
    matrix = {1: [0, 2, 1, 1], 2: [0, 3, 2, 1], 3: [0, 3, 3, 2]}
    imp = np.array([[1, 1, 2, 2, 3, 3, 0, 1]])
    deg = np.array([[0, 1, 2, 3, 1, 3, 3, 2]])
    assert rs.restoration_priority(imp, deg, matrix).tolist() == [[0, 2, 2, 1, 3, 2, 0, 1]]
    assert CFG.get("priority.matrix") == matrix  # the shipped matrix is the one checked here
    with pytest.raises(ValueError):
        rs.restoration_priority(imp, deg, {1: [0, 1, 2]})


def test_protection_grading_rules_in_order():
    #          rebuild assist fragile-out red  极重要 other  not-eco  light-in-red
    imp = np.array([[2, 2, 3, 3, 1, 3, 1, 1]])
    deg = np.array([[3, 2, 0, 0, 0, 0, 3, 1]])
    red = np.array([[0, 0, 0, 1, 0, 0, 0, 1]], dtype=bool)
    frag = np.array([[0, 0, 1, 1, 0, 0, 0, 0]], dtype=bool)
    eco = np.array([[1, 1, 1, 1, 1, 1, 0, 1]], dtype=bool)
    got = rs.protection_grading(imp, deg, red, frag, eco)
    # 重度 → 4; 中度 → 3; 极脆弱 outside red → 2; 极脆弱 inside red → 1 保护保育; 极重要 → 1; 一般 → 2;
    # not ecological → 0; 轻度 inside the red line → 2 自然恢复 (degradation comes before protection)
    assert got.tolist() == [[4, 3, 2, 1, 1, 2, 0, 2]]


def test_first_match_follows_the_order():
    a = np.array([[1, 1, 0, 0]], dtype=bool)
    b = np.array([[0, 1, 1, 0]], dtype=bool)
    rest = np.ones((1, 4), dtype=bool)
    got = rs.first_match({"a": a, "b": b, "rest": rest}, ["b", "a", "rest"], {"a": 1, "b": 2, "rest": 7})
    assert got.tolist() == [[1, 2, 2, 7]]
    with pytest.raises(KeyError):
        rs.first_match({"a": a}, ["a", "zz"], {"a": 1, "zz": 2})


def test_decompose_new_area_by_hand():
    areas = pd.DataFrame({"township": ["T1", "T1", "T1", "T2"], "type": ["沙", "沙", "沙", "沙"],
                          "priority": [1, 2, 3, 1], "area_hm2": [100.0, 200.0, 1000.0, 50.0]})
    sched = {2025: {1: 0.5, 2: 0.1}, 2035: {1: 1.0, 2: 0.8, 3: 0.3}}
    out = rs.decompose_new_area(areas, sched).set_index(["township", "year"])
    # T1 2025: 100·0.5 + 200·0.1 = 70; 2035: 100 + 160 + 300 = 560 (increment 490)
    assert out.loc[("T1", 2025), "area_hm2"] == pytest.approx(70.0)
    assert out.loc[("T1", 2035), "area_hm2"] == pytest.approx(560.0)
    assert out.loc[("T1", 2035), "increment_hm2"] == pytest.approx(490.0)
    assert out.loc[("T2", 2025), "area_hm2"] == pytest.approx(25.0)
    assert out.loc[("T2", 2035), "area_hm2"] == pytest.approx(50.0)
