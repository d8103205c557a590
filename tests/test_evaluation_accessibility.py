"""accessibility: speed surface and MCP travel time on tiny strips."""

import math

import numpy as np
import pytest

from erenhot.evaluation.accessibility import speed_surface, travel_time_minutes


def test_strip_uniform_speed():
    # 6 km/h = 100 m/min → a 30 m cell takes 0.3 min
    t = travel_time_minutes(np.full((1, 5), 6.0), [(0, 0)], 30.0)
    assert t.dtype == np.float32
    np.testing.assert_allclose(t, [[0.0, 0.3, 0.6, 0.9, 1.2]], atol=1e-6)


def test_strip_road_then_offroad_and_barrier():
    # costs 0.03, 0.03, 0.3, 0.3, 0.3 min; a step costs the mean of both cells
    t = travel_time_minutes(np.array([[60.0, 60.0, 6.0, 6.0, 6.0]]), [(0, 0)], 30.0)
    np.testing.assert_allclose(t, [[0.0, 0.03, 0.195, 0.495, 0.795]], atol=1e-6)
    t = travel_time_minutes(np.array([[6.0, 6.0, 0.0, 6.0, np.nan]]), [(0, 0)], 30.0)
    assert t[0, 1] == pytest.approx(0.3) and np.isinf(t[0, 2:]).all()


def test_diagonal_and_nearest_of_two_sources():
    t = travel_time_minutes(np.full((2, 2), 6.0), [(0, 0)], 30.0)
    assert t[1, 1] == pytest.approx(0.3 * math.sqrt(2), rel=1e-6)
    t = travel_time_minutes(np.full((1, 5), 6.0), [(0, 0), (0, 4)], 30.0)
    np.testing.assert_allclose(t, [[0.0, 0.3, 0.6, 0.3, 0.0]], atol=1e-6)
    with pytest.raises(ValueError):
        travel_time_minutes(np.array([[0.0, 6.0]]), [(0, 0)], 30.0)
    with pytest.raises(ValueError):
        travel_time_minutes(np.full((1, 2), 6.0), [(3, 0)], 30.0)


def test_speed_surface():
    codes = np.array([[0, 1, 2], [0, 2, 0]])
    s = speed_surface(codes, {1: 100.0, 2: 60.0}, 5.0, passable_mask=np.array([[True] * 3, [True, True, False]]))
    assert s.tolist() == [[5.0, 100.0, 60.0], [5.0, 60.0, 0.0]]
    with pytest.raises(ValueError):
        speed_surface(np.array([[3]]), {1: 100.0}, 5.0)
