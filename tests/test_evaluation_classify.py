"""classify: breaks (inclusive side), bands, matrices, shifts, modifiers, code tables."""

import numpy as np
import pytest

from erenhot.evaluation.classify import (
    apply_modifier,
    grade_by_bands,
    grade_by_breaks,
    grade_by_table,
    lookup_codes,
    lookup_matrix,
    shift_grade,
)


def test_slope_classes_at_exact_breaks_take_the_better_grade():
    slope = np.array([0.0, 2.0, 2.0001, 6.0, 15.0, 25.0, 25.1, np.nan])
    got = grade_by_breaks(slope, [2, 6, 15, 25], higher_is_better=False)
    assert got.dtype == np.uint8
    assert got.tolist() == [1, 1, 2, 2, 3, 4, 5, 0]


def test_higher_is_better_breaks_in_any_order():
    precip = np.array([1300.0, 1200.0, 1199.9, 800.0, 400.0, 200.0, 199.9, 140.0])
    expected = [1, 1, 2, 2, 3, 4, 5, 5]
    assert grade_by_breaks(precip, [1200, 800, 400, 200], True).tolist() == expected
    assert grade_by_breaks(precip, [200, 400, 800, 1200], True).tolist() == expected


def test_infinite_value_is_graded_and_bad_breaks_raise():
    assert grade_by_breaks(np.array([np.inf]), [20, 40, 60, 90], False).tolist() == [5]
    with pytest.raises(ValueError):
        grade_by_breaks(np.array([1.0]), [2, 2, 3], False)
    with pytest.raises(ValueError):
        grade_by_breaks(np.array([1.0]), [], False)


def test_bands_half_open_with_open_ends():
    bands = [[None, 35, 5], [35, 50, 2], [50, 70, 1], [70, None, 4]]
    got = grade_by_bands(np.array([10, 35, 49.9, 50, 69.9, 70, 200, np.nan]), bands)
    assert got.tolist() == [5, 2, 2, 1, 1, 4, 4, 0]
    with pytest.raises(ValueError):
        grade_by_bands(np.array([1.0]), [[0, 10, 1], [5, 20, 2]])


def test_lookup_matrix_keeps_zero_and_checks_range():
    m = [[1, 2], [3, 4]]
    rows = np.array([[1, 1, 2, 2, 0]])
    cols = np.array([[1, 2, 1, 2, 1]])
    assert lookup_matrix(rows, cols, m).tolist() == [[1, 2, 3, 4, 0]]
    with pytest.raises(ValueError):
        lookup_matrix(np.array([3]), np.array([1]), m)


def test_shift_grade_clamps_and_keeps_zero():
    g = np.array([1, 2, 4, 5, 0])
    assert shift_grade(g, 2).tolist() == [3, 4, 5, 5, 0]
    assert shift_grade(g, -1).tolist() == [1, 1, 3, 4, 0]
    assert shift_grade(g, np.array([0, 1, 0, -3, 1])).tolist() == [1, 3, 4, 2, 0]


def test_apply_modifier_actions():
    base = np.array([1, 2, 4, 5, 3, 3, 3, 0])
    location = np.array([1, 1, 1, 1, 5, 4, 0, 5])
    rules = {5: 2, 4: 1, 1: {"delta": -1, "when_base_in": (2, 4)}}
    assert apply_modifier(base, location, rules).tolist() == [1, 1, 3, 5, 5, 4, 3, 0]
    hazard_rules = {1: "floor:5", 2: 2, 3: 1}
    assert apply_modifier(np.array([1, 1, 1, 1, 2]), np.array([1, 2, 3, 4, 1]), hazard_rules).tolist() == [5, 3, 2, 1, 5]
    assert apply_modifier(np.array([1, 3]), np.array([1, 1]), {1: "floor:2"}).tolist() == [2, 3]
    with pytest.raises(ValueError):
        apply_modifier(np.array([1]), np.array([1]), {1: "down"})


def test_code_tables_exact_and_prefix():
    texture = np.array([["沙土", "黏土"], [None, "未知"]], dtype=object)
    assert grade_by_table(texture, {"沙土": 5, "黏土": 1}).tolist() == [[5, 1], [0, 0]]
    dlbm = np.array(["0305", "0301", "1205", "1206", "0201K", "0702", None], dtype=object)
    coeff = {"03": -0.15, "0305": -0.09, "12": -0.07, "1205": -0.06, "0201": -0.01}
    got = lookup_codes(dlbm, coeff, prefix=True)
    np.testing.assert_allclose(got, [-0.09, -0.15, -0.06, -0.07, -0.01, np.nan, np.nan], rtol=1e-6)
    # without prefix matching only exact codes hit
    assert np.isnan(lookup_codes(np.array(["0201K"], dtype=object), coeff)[0])
