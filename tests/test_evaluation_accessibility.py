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


def test_travel_time_and_source_equals_one_run_per_source():
    """The multi-source run gives the same minutes as the minimum over one run per source, and each
    cell's source is one whose own run reaches it in that minimum time (a wall with one gap, random speeds)."""
    from erenhot.evaluation.accessibility import travel_time_and_source

    rng = np.random.default_rng(7)
    speed = rng.uniform(2.0, 60.0, size=(40, 50))
    speed[20, :45] = 0.0  # a wall with a gap at the right
    speed[5, 5] = np.nan
    sources = [(2, 3), (35, 40), (10, 45), (2, 3)]  # the last repeats the first: the first keeps the cell
    minutes, which = travel_time_and_source(speed, sources, 30.0)
    each = np.stack([travel_time_minutes(speed, [rc], 30.0) for rc in sources])
    assert np.allclose(minutes, each.min(axis=0), equal_nan=True)
    reach = np.isfinite(minutes)
    assert (which[~reach] == -1).all() and (which[reach] >= 0).all() and 3 not in set(which.ravel().tolist())
    picked = np.take_along_axis(each, np.clip(which, 0, None)[None], axis=0)[0]
    assert np.allclose(picked[reach], minutes[reach], rtol=1e-5)
    assert which[2, 3] == 0 and which[35, 40] == 1 and which[10, 45] == 2
    with pytest.raises(ValueError, match="impassable"):
        travel_time_and_source(speed, [(20, 0)], 30.0)
