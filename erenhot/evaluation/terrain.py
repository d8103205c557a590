"""Terrain factors from a DEM on the common grid: slope (坡度) and relief (地形起伏度).

Input DEMs are ``float`` arrays ``(rows, cols)`` in metres (1985 国家高程基准, EPSG:5737) on the
EPSG:4525 grid with square cells of ``cell_size_m`` metres, row 0 at the north, NaN = no data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = ["relief", "slope_degrees", "window_cells"]


def _shift(a: NDArray[np.float64], dr: int, dc: int) -> NDArray[np.float64]:
    """``out[r, c] = a[r + dr, c + dc]`` with NaN outside the array."""
    out = np.full_like(a, np.nan)
    rows, cols = a.shape
    rs, re_ = max(0, -dr), rows - max(0, dr)
    cs, ce = max(0, -dc), cols - max(0, dc)
    out[rs:re_, cs:ce] = a[rs + dr : re_ + dr, cs + dc : ce + dc]
    return out


def _fill_pair(centre: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]):
    """Fill missing members of an opposite-neighbour pair: linear extrapolation through the centre
    (``a = 2·centre − b``) when one side is missing, the centre value when both are."""
    a_missing, b_missing = np.isnan(a), np.isnan(b)
    a = np.where(a_missing, np.where(b_missing, centre, 2 * centre - b), a)
    b = np.where(b_missing, np.where(a_missing, centre, 2 * centre - a), b)
    return a, b


def slope_degrees(dem: ArrayLike, cell_size_m: float) -> NDArray[np.float32]:
    """Slope in degrees by Horn's (1981) 3×3 finite differences (ArcGIS/GDAL "Slope").

    ``dz/dx = ((c + 2f + i) − (a + 2d + g)) / (8·cell)``, ``dz/dy`` likewise, slope =
    ``atan(√(dz/dx² + dz/dy²))``. NaN-aware: a neighbour outside the array or NaN is replaced by
    linear extrapolation through the centre from the opposite neighbour (exact on planes), or by
    the centre value when both opposite neighbours are missing. NaN centre → NaN.

    Args:
        dem: ``(rows, cols)`` elevations in m.
        cell_size_m: side of the square cells in m (EPSG:4525 units).

    Returns:
        ``float32 (rows, cols)`` slope in ° (0–90).

    Raises:
        ValueError: ``dem`` is not 2-D or ``cell_size_m`` ≤ 0.
    """
    z = np.asarray(dem, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"dem must be 2-D (rows, cols), got shape {z.shape}")
    if not cell_size_m > 0:
        raise ValueError(f"cell_size_m must be > 0, got {cell_size_m}")
    out = np.empty(z.shape, dtype=np.float32)
    rows = z.shape[0]
    for r0 in range(0, rows, _BLOCK_ROWS):  # row blocks with a one-row halo bound the memory use
        r1 = min(rows, r0 + _BLOCK_ROWS)
        h0, h1 = max(0, r0 - 1), min(rows, r1 + 1)
        out[r0:r1] = _horn_slope(z[h0:h1], cell_size_m)[r0 - h0 : r0 - h0 + (r1 - r0)]
    return out


_BLOCK_ROWS = 512


def _horn_slope(z: NDArray[np.float64], cell_size_m: float) -> NDArray[np.float32]:
    n = {(dr, dc): _shift(z, dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)}
    # orthogonal neighbours: extrapolate through the centre from the opposite side (or the centre)
    n[(0, -1)], n[(0, 1)] = _fill_pair(z, n[(0, -1)], n[(0, 1)])
    n[(-1, 0)], n[(1, 0)] = _fill_pair(z, n[(-1, 0)], n[(1, 0)])
    # diagonal neighbours: plane through the centre and the two adjacent orthogonal neighbours
    for dr, dc in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        d = n[(dr, dc)]
        n[(dr, dc)] = np.where(np.isnan(d), n[(dr, 0)] + n[(0, dc)] - z, d)
    east = n[(-1, 1)] + 2 * n[(0, 1)] + n[(1, 1)]
    west = n[(-1, -1)] + 2 * n[(0, -1)] + n[(1, -1)]
    south = n[(1, -1)] + 2 * n[(1, 0)] + n[(1, 1)]
    north = n[(-1, -1)] + 2 * n[(-1, 0)] + n[(-1, 1)]
    dzdx = (east - west) / (8 * cell_size_m)
    dzdy = (north - south) / (8 * cell_size_m)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    return np.where(np.isnan(z), np.nan, slope).astype(np.float32)


def window_cells(window_m: float, cell_size_m: float) -> int:
    """Side of a square focal window in cells: ``window_m / cell_size_m`` rounded to the nearest
    odd integer, at least 3 (so the window is centred on its cell)."""
    if not window_m > 0 or not cell_size_m > 0:
        raise ValueError("window_m and cell_size_m must be > 0")
    n = max(3, int(round(window_m / cell_size_m)))
    return n if n % 2 == 1 else n + 1


def relief(dem: ArrayLike, window_cells: int) -> NDArray[np.float32]:
    """地形起伏度: focal maximum − minimum elevation in a square window (spec §1.4.2, §1.6; the
    [S5] Urban.py/FangFeng.py "BlockStatistics MAX − MIN" neighbourhood).

    NaN-aware: NaN cells and cells beyond the array edge are ignored inside the window; NaN
    centre → NaN.

    Args:
        dem: ``(rows, cols)`` elevations in m.
        window_cells: window side in cells (≥ 1; odd sizes are centred, see :func:`window_cells`).

    Returns:
        ``float32 (rows, cols)`` relief in m.
    """
    z = np.asarray(dem, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"dem must be 2-D (rows, cols), got shape {z.shape}")
    if window_cells < 1:
        raise ValueError(f"window_cells must be ≥ 1, got {window_cells}")
    nan = np.isnan(z)
    hi = ndimage.maximum_filter(np.where(nan, -np.inf, z), size=window_cells, mode="constant", cval=-np.inf)
    lo = ndimage.minimum_filter(np.where(nan, np.inf, z), size=window_cells, mode="constant", cval=np.inf)
    return np.where(nan, np.nan, hi - lo).astype(np.float32)
