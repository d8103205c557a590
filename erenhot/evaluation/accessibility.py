"""Travel time on the grid for 区位优势度 (spec §1.6, §5.7): speed surface from the road network,
cost-distance with ``skimage.graph.MCP_Geometric``.

Rasters are ``(rows, cols)`` on the EPSG:4525 grid, square cells of ``cell_size_m`` m. Speeds
(km/h by road grade, JTG B01 via [S32]) come from ``t14_transport.yaml`` (topic 14 owns travel time;
topic 3 grades its ``t14.travel_time_city``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from skimage.graph import MCP_Geometric

__all__ = ["speed_surface", "travel_time_minutes"]


def speed_surface(
    road_grade_raster: ArrayLike,
    speeds_by_code: Mapping[int, float],
    offroad_kmh: float,
    passable_mask: ArrayLike | None = None,
) -> NDArray[np.float32]:
    """Speed per cell, km/h: the road speed where a road is rasterised, else ``offroad_kmh``.

    Args:
        road_grade_raster: integer ``(rows, cols)`` road-grade codes (0 = no road). Rasterise the
            fastest road per cell (e.g. codes ordered by speed, merge by maximum).
        speeds_by_code: code → speed, km/h (e.g. 1 → 100 for 高速公路; the composer numbers the
            config's ``roads.speed_kmh`` table).
        offroad_kmh: speed off the network (≈ 5 km/h walking, spec §5.7).
        passable_mask: optional bool; False cells get speed 0 = impassable (e.g. outside the city
            boundary / across the national border).

    Raises:
        ValueError: a code in the raster has no speed.
    """
    codes = np.asarray(road_grade_raster).astype(np.int64)
    lut_size = max([0, *speeds_by_code, int(codes.max(initial=0))]) + 1
    lut = np.full(lut_size, np.nan)
    lut[0] = offroad_kmh
    for code, speed in speeds_by_code.items():
        lut[int(code)] = speed
    if np.any(codes < 0) or np.isnan(lut[codes]).any():
        raise ValueError("road_grade_raster holds codes without a speed")
    speed = lut[codes]
    if passable_mask is not None:
        speed = np.where(np.asarray(passable_mask, dtype=bool), speed, 0.0)
    return speed.astype(np.float32)


def travel_time_minutes(
    speed_kmh: ArrayLike, sources_rc: Sequence[tuple[int, int]], cell_size_m: float
) -> NDArray[np.float32]:
    """Minimum travel time from the nearest source, minutes (MCR/cost-distance, spec §5.3/§5.7).

    Cost of a cell = minutes to cross it = ``cell_size_m / (speed · 1000 / 60)``;
    ``MCP_Geometric`` moves in 8 directions, charging the mean of the two cells' costs times the
    step length (×√2 on diagonals). Cells with speed 0, negative or NaN are impassable.

    Args:
        speed_kmh: ``(rows, cols)`` km/h (:func:`speed_surface`).
        sources_rc: ``(row, col)`` of the hubs (e.g. city centre, border port); at least one.
        cell_size_m: cell side, m.

    Returns:
        ``float32 (rows, cols)`` minutes; 0 at the sources, ``inf`` where unreachable or impassable.

    Raises:
        ValueError: no source, a source outside the grid or on an impassable cell.
    """
    passable, cost, starts = _cost_and_starts(speed_kmh, sources_rc, cell_size_m)
    minutes, _ = MCP_Geometric(cost).find_costs(starts)
    return np.where(passable, minutes, np.inf).astype(np.float32)


def _cost_and_starts(speed_kmh: ArrayLike, sources_rc: Sequence[tuple[int, int]], cell_size_m: float
                     ) -> tuple[NDArray[np.bool_], NDArray[np.float64], list[tuple[int, int]]]:
    """(passable mask, minutes to cross each cell (inf impassable), checked start cells)."""
    speed = np.asarray(speed_kmh, dtype=np.float64)
    if speed.ndim != 2:
        raise ValueError("speed_kmh must be 2-D (rows, cols)")
    if not sources_rc:
        raise ValueError("at least one source cell is needed")
    passable = np.isfinite(speed) & (speed > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = np.where(passable, cell_size_m / (speed * 1000.0 / 60.0), np.inf)
    starts = []
    for r, c in sources_rc:
        if not (0 <= r < speed.shape[0] and 0 <= c < speed.shape[1]):
            raise ValueError(f"source {(r, c)} lies outside the grid {speed.shape}")
        if not passable[r, c]:
            raise ValueError(f"source {(r, c)} lies on an impassable cell")
        starts.append((int(r), int(c)))
    return passable, cost, starts


def travel_time_and_source(
    speed_kmh: ArrayLike, sources_rc: Sequence[tuple[int, int]], cell_size_m: float
) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
    """Minutes to the nearest source and which source it is, from ONE multi-source cost-distance run.

    The same costs as :func:`travel_time_minutes` (``MCP_Geometric``, 8 directions); the source of a
    cell is found by following skimage's traceback (each cell's predecessor on its least-cost path) to
    its start, with pointer doubling (about log₂ of the longest path passes over the array), so the
    cost is one run whatever the number of sources — not one run per source.

    Args:
        speed_kmh: ``(rows, cols)`` km/h; 0, negative or NaN impassable.
        sources_rc: ``(row, col)`` per source; a cell given twice belongs to its first source.
        cell_size_m: cell side, m.

    Returns:
        ``(minutes, index)``: float32 minutes (0 at the sources, ``inf`` unreachable/impassable) and
        int32 position in ``sources_rc`` of the nearest source (-1 where unreachable). On exact ties the
        source whose front reaches the cell first wins.

    Raises:
        ValueError: as :func:`travel_time_minutes`.
    """
    passable, cost, starts = _cost_and_starts(speed_kmh, sources_rc, cell_size_m)
    mcp = MCP_Geometric(cost)
    cumulative, traceback = mcp.find_costs(starts)
    minutes = np.where(passable, cumulative, np.inf).astype(np.float32)
    rows, cols = cost.shape
    offsets = np.asarray(mcp.offsets, dtype=np.int64)
    flat = np.arange(rows * cols, dtype=np.int64)
    tb = np.asarray(traceback, dtype=np.int64).ravel()
    pred = flat.copy()  # a start (and an unreached cell) points to itself
    step = tb >= 0
    rr, cc = np.divmod(flat[step], cols)
    pred[step] = (rr - offsets[tb[step], 0]) * cols + (cc - offsets[tb[step], 1])
    while True:  # pointer doubling: every cell ends pointing at the start of its path
        nxt = pred[pred]
        if np.array_equal(nxt, pred):
            break
        pred = nxt
    start_index = np.full(rows * cols, -1, dtype=np.int32)
    for k, (r, c) in reversed(list(enumerate(starts))):  # the first source keeps a shared cell
        start_index[r * cols + c] = k
    which = start_index[pred].reshape(rows, cols)
    which = np.where(np.isfinite(minutes), which, -1).astype(np.int32)
    return minutes, which
