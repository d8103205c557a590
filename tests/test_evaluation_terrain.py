"""terrain: Horn slope of known planes, relief (focal max − min), window size."""

import numpy as np
import pytest

from erenhot.evaluation.terrain import relief, slope_degrees, window_cells


def test_plane_rising_east_is_45_degrees_everywhere_including_edges():
    cols = np.arange(5, dtype=float)
    dem = np.tile(cols * 30.0, (4, 1))  # +30 m per 30 m cell towards the east
    np.testing.assert_allclose(slope_degrees(dem, 30.0), 45.0, atol=1e-4)


def test_plane_rising_north_and_flat():
    dem = np.repeat((np.arange(4, dtype=float)[::-1] * 10.0)[:, None], 3, axis=1)  # 10 m per 30 m northwards
    np.testing.assert_allclose(slope_degrees(dem, 30.0), np.degrees(np.arctan(1 / 3)), atol=1e-4)
    np.testing.assert_allclose(slope_degrees(np.full((3, 3), 900.0), 30.0), 0.0)


def test_slope_nan_aware():
    dem = np.tile(np.arange(5, dtype=float) * 30.0, (5, 1))
    dem[2, 2] = np.nan
    s = slope_degrees(dem, 30.0)
    assert np.isnan(s[2, 2])
    # neighbours of the hole are still exact on the plane (extrapolation through the centre)
    np.testing.assert_allclose(s[~np.isnan(dem)], 45.0, atol=1e-4)
    with pytest.raises(ValueError):
        slope_degrees(dem, 0)


def test_relief_window_3():
    dem = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 100.0]])
    r = relief(dem, 3)
    assert r[1, 1] == 99.0  # 100 − 1
    assert r[0, 0] == 4.0  # window clipped at the edge: {1, 2, 4, 5}
    dem[0, 0] = np.nan
    r = relief(dem, 3)
    assert np.isnan(r[0, 0])
    assert r[1, 1] == 98.0  # NaN ignored: 100 − 2


def test_window_cells_odd():
    assert window_cells(360, 30) == 13
    assert window_cells(90, 30) == 3
    assert window_cells(10, 30) == 3
