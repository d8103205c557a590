"""生态安全格局 (topic 11 生态环境保护研究): ecological sources (生态源地), resistance surface (阻力面),
minimum cumulative resistance (MCR), least-cost corridors (生态廊道) and strategic nodes (战略节点)
— evaluation spec §5.3 [S29][S33].

Conventions:

* Rasters are ``(rows, cols)`` on the common grid (EPSG:4525, square cells of ``cell_size_m`` m,
  row 0 at the north; docs/architecture.md). Geometries are returned in the grid's CRS (EPSG:4525)
  through the :class:`~erenhot.grid.Grid` transform; a cell's point is its **centre**.
* Source labels are ``int32``: 0 = no source, 1 … n = source id.
* Resistance is the dimensionless 1–100 score of spec §5.3 ("common 1–100 / 10–30–50–100 scale").
  NaN / ±inf = impassable (outside the city boundary, no data); a finite resistance ≤ 0 is an error.
* Cumulative costs (MCR, corridor costs) are in **resistance·m**: ``MCR = f_min Σ (D_ij × R_i)``
  (Knaapen 1992; 俞孔坚 1999; spec §5.3 [S29] [H]) with D in metres.

Cost-distance uses ``skimage.graph.MCP_Geometric`` (as :mod:`erenhot.evaluation.accessibility`
does): moves in 8 directions; a step between neighbouring cells a → b costs
``(R_a + R_b) / 2 × step`` with step = ``cell_size_m`` (rook) or ``cell_size_m·√2`` (diagonal) —
the cell-centre-averaged rule of GRASS ``r.cost`` / ArcGIS CostDistance named in spec §5.3 [S33].
Costs are measured from the *centre* of the start cell, so a source cell's own half-cell is never
charged. NaN resistance is replaced by ``inf`` before it reaches scikit-image (0.26 crashes on NaN
costs; ``inf`` and negative costs are its barriers).

Every threshold (minimum source area, protected-area rule, resistance table, disturbance bands and
weights, pair rule, corridor width, barrier resistance) comes from ``t11_eco_environment.yaml``.
No I/O and no Prefect here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.sparse.csgraph import minimum_spanning_tree
from shapely.geometry import LineString, Point
from skimage.graph import MCP_Geometric

from erenhot.evaluation.classify import lookup_codes
from erenhot.grid import Grid

__all__ = [
    "NODE_KINDS",
    "PAIR_RULES",
    "PROTECTED_RULES",
    "Corridor",
    "CorridorParams",
    "ResistanceParams",
    "SourceParams",
    "base_resistance",
    "combine_resistance",
    "corridor_lines",
    "corridor_raster",
    "disturbance_score",
    "distance_to_features_m",
    "ecological_sources",
    "least_cost_corridors",
    "mcr_surface",
    "pairwise_least_cost",
    "resistance_surface",
    "select_pairs",
    "strategic_nodes",
]

PROTECTED_RULES = ("none", "union", "union_keep_protected")
"""How protected areas (自然保护地, 生态保护红线) join the 极重要 cells to form sources (see
:class:`SourceParams`)."""

PAIR_RULES = ("mst", "threshold", "mst_or_threshold")
"""Which source pairs get a corridor (see :func:`select_pairs`)."""

NODE_KINDS = ("ridge", "junction", "barrier")
"""Strategic-node kinds of :func:`strategic_nodes`, in output order."""

_AREA_RTOL = 1e-9
"""Relative tolerance of the area test, so that n cells × 0.0009 km² equal to the threshold
(float noise) count as "at the threshold" and are kept."""


# --------------------------------------------------------------------------- helpers


def _as_2d(name: str, values: ArrayLike, shape: tuple[int, int] | None = None, dtype=None) -> np.ndarray:
    arr = np.asarray(values) if dtype is None else np.asarray(values, dtype=dtype)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, cols), got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}, expected {tuple(shape)}")
    return arr


def _cell_centres(grid: Grid, rows: ArrayLike, cols: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """EPSG:4525 x, y (m) of cell centres; the grid is north-up (Grid validates b = d = 0)."""
    t = grid.transform
    r = np.asarray(rows, dtype=np.float64)
    c = np.asarray(cols, dtype=np.float64)
    return t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e


def _cost_surface(resistance: ArrayLike) -> NDArray[np.float64]:
    """Resistance → MCP cost array: non-finite → ``inf`` (barrier). Raises on finite values ≤ 0."""
    r = _as_2d("resistance", resistance, dtype=np.float64)
    finite = np.isfinite(r)
    if np.any(r[finite] <= 0):
        raise ValueError("resistance must be > 0 where finite (use NaN/inf for impassable cells)")
    return np.where(finite, r, np.inf)


def _source_cells(source_labels: ArrayLike, shape: tuple[int, int]) -> tuple[NDArray[np.int32], list[NDArray[np.intp]]]:
    """Labels and, per source id 1…n, the ``(k, 2)`` row/col array of its cells (raster order)."""
    labels = _as_2d("source_labels", source_labels, shape)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"source_labels must be an integer raster, got {labels.dtype}")
    labels = labels.astype(np.int32)
    if labels.min(initial=0) < 0:
        raise ValueError("source_labels must be ≥ 0 (0 = no source)")
    n = int(labels.max(initial=0))
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    missing = [i for i in range(1, n + 1) if counts[i] == 0]
    if missing:
        raise ValueError(f"source_labels must number the sources 1…{n} without gaps; missing {missing[:10]}")
    cells = [np.empty((0, 2), dtype=np.intp)]
    for i in range(1, n + 1):
        cells.append(np.argwhere(labels == i))
    return labels, cells


def _check_sources_passable(cost: NDArray[np.float64], cells: list[NDArray[np.intp]]) -> None:
    for sid, rc in enumerate(cells):
        if sid and not np.all(np.isfinite(cost[rc[:, 0], rc[:, 1]])):
            raise ValueError(f"source {sid} has cells with NaN/inf resistance (impassable)")


def _step_lengths_m(path_rc: Sequence[tuple[int, int]], cell_size_m: float) -> NDArray[np.float64]:
    p = np.asarray(path_rc, dtype=np.float64).reshape(-1, 2)
    if len(p) < 2:
        return np.zeros(0)
    return np.hypot(*np.diff(p, axis=0).T) * cell_size_m


# --------------------------------------------------------------------------- 1. sources


@dataclass(frozen=True)
class SourceParams:
    """生态源地 rules (config ``sources``).

    Attributes:
        min_area_km2: patches with area ≥ this (km², planar in EPSG:4525) are sources; a patch
            exactly at the threshold is kept (spec gives no value → [L]).
        connectivity: 8 (default; cells touching at a corner belong to one patch, as
            :func:`erenhot.evaluation.suitability.patch_concentration_grade`) or 4.
        protected_rule: one of :data:`PROTECTED_RULES`:
            ``"none"`` — protected areas ignored; ``"union"`` — 极重要 ∪ protected cells, then the
            area threshold applies to every patch; ``"union_keep_protected"`` — as ``"union"``, but
            a patch holding any protected cell is kept whatever its area (protected areas are
            sources in their own right, spec §5.3 "Sources" [M]; §1.4.3 2020 "check continuity
            with protected areas" [M]).
        importance_grades: grades of a class raster that count as 极重要 (t02 ``eco_importance``
            scale: 1 极重要, 2 重要, 3 一般); unused when the input is boolean.
    """

    min_area_km2: float
    connectivity: int = 8
    protected_rule: str = "union_keep_protected"
    importance_grades: tuple[int, ...] = (1,)


def ecological_sources(
    importance: ArrayLike,
    grid: Grid,
    params: SourceParams,
    protected_mask: ArrayLike | None = None,
    valid_mask: ArrayLike | None = None,
) -> tuple[NDArray[np.int32], pd.DataFrame]:
    """生态源地: connected patches of 生态保护极重要 (+ protected) cells above a minimum area.

    Rule (spec §5.3 "Sources: 生态保护极重要区 patches, protected areas, … patches above a size
    threshold" [M]; §1.4.3 2020 "remove small fragmented patches of 极重要" [M]): candidate cells =
    极重要 cells, joined with protected cells per ``params.protected_rule``; patches =
    ``scipy.ndimage.label`` components (``params.connectivity``, 8 by default); keep a patch when
    ``n_cells × cell_area_km2 ≥ min_area_km2`` (relative tolerance 1e-9) or, under
    ``"union_keep_protected"``, when it holds a protected cell. Kept patches are renumbered 1…n in
    raster order of their first cell (north-west first).

    Args:
        importance: ``(rows, cols)`` bool (True = 极重要) or an integer grade raster
            (``params.importance_grades`` count as 极重要; 0 = outside).
        grid: the grid the rasters lie on (EPSG:4525; cell area and centroid coordinates).
        params: :class:`SourceParams`.
        protected_mask: optional bool ``(rows, cols)`` of 自然保护地 / 生态保护红线 cells.
        valid_mask: optional bool, True inside the city boundary; cells outside never join a source.

    Returns:
        ``(labels, table)``: ``int32 (rows, cols)`` source ids (0 = none) and a DataFrame with one
        row per source: ``source_id``, ``n_cells``, ``area_km2``, ``x``, ``y`` (centroid of the
        cell centres, m, EPSG:4525) and ``has_protected`` (bool).

    Raises:
        ValueError: shape mismatch with ``grid``, negative ``min_area_km2``, connectivity not 4/8,
            an unknown ``protected_rule``.
    """
    if params.protected_rule not in PROTECTED_RULES:
        raise ValueError(f"protected_rule must be one of {PROTECTED_RULES}, got {params.protected_rule!r}")
    if params.connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {params.connectivity!r}")
    if not (params.min_area_km2 >= 0):
        raise ValueError(f"min_area_km2 must be ≥ 0, got {params.min_area_km2!r}")
    arr = _as_2d("importance", importance, grid.shape)
    core = arr.astype(bool) if arr.dtype == np.bool_ else np.isin(arr, list(params.importance_grades))
    valid = np.ones(grid.shape, dtype=bool) if valid_mask is None else _as_2d("valid_mask", valid_mask, grid.shape).astype(bool)
    core &= valid
    protected = np.zeros(grid.shape, dtype=bool)
    if protected_mask is not None and params.protected_rule != "none":
        protected = _as_2d("protected_mask", protected_mask, grid.shape).astype(bool) & valid
    candidate = core | protected

    structure = ndimage.generate_binary_structure(2, 2 if params.connectivity == 8 else 1)
    patches, n = ndimage.label(candidate, structure=structure)
    counts = np.bincount(patches.ravel(), minlength=n + 1)
    area = counts * grid.cell_area_km2
    keep = area >= params.min_area_km2 * (1.0 - _AREA_RTOL)
    has_protected = np.bincount(patches[protected], minlength=n + 1) > 0
    if params.protected_rule == "union_keep_protected":
        keep |= has_protected
    keep[0] = False
    new_id = np.zeros(n + 1, dtype=np.int32)
    new_id[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    labels = new_id[patches]

    m = int(keep.sum())
    rows, cols = np.indices(grid.shape)
    n_cells = np.bincount(labels.ravel(), minlength=m + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_r = np.bincount(labels.ravel(), weights=rows.ravel(), minlength=m + 1)[1:] / n_cells
        mean_c = np.bincount(labels.ravel(), weights=cols.ravel(), minlength=m + 1)[1:] / n_cells
    x, y = _cell_centres(grid, mean_r, mean_c)
    table = pd.DataFrame(
        {
            "source_id": np.arange(1, m + 1, dtype=np.int32),
            "n_cells": n_cells.astype(np.int64),
            "area_km2": n_cells * grid.cell_area_km2,
            "x": x,
            "y": y,
            "has_protected": has_protected[keep],
        }
    )
    return labels, table


# --------------------------------------------------------------------------- 2. resistance


@dataclass(frozen=True)
class ResistanceParams:
    """阻力面 tables (config ``resistance``; spec §5.3 "Resistance" [S29]).

    Attributes:
        dlbm_classes: 三调 DLBM code prefix → land-cover class name (longest prefix wins, so
            ``"0402"`` 沼泽草地 → 湿地 before ``"04"`` → 草地; codes of spec §3.1 TD/T 1055-2019).
        class_resistance: class → resistance from the source (Kalamaili arid table [S29]: 草地 10,
            未利用地 30, 林地 50, 人工表面/湿地 100) [M].
        assumed_class_resistance: classes the source does not list (耕地, 园地) → resistance [L];
            a class may not appear in both tables.
        disturbance_breaks_m: distance bands to roads/built-up, m (400, 600, 1200) [S29].
        disturbance_scores: one score per band, nearest first (100, 50, 30, 10) [S29].
        weights: ``{"land_cover": w1, "disturbance": w2}``, w1 > 0, w2 ≥ 0, w1 + w2 = 1 (the AHP
            weighted sum of [S29]; the weights themselves are not in the spec → [L]).
    """

    dlbm_classes: Mapping[str, str]
    class_resistance: Mapping[str, float]
    assumed_class_resistance: Mapping[str, float] = field(default_factory=dict)
    disturbance_breaks_m: tuple[float, ...] = ()
    disturbance_scores: tuple[float, ...] = ()
    weights: Mapping[str, float] = field(default_factory=lambda: {"land_cover": 1.0, "disturbance": 0.0})


def _resistance_table(class_resistance: Mapping[str, float], assumed: Mapping[str, float] | None) -> dict[str, float]:
    table = {str(k): float(v) for k, v in class_resistance.items()}
    for k, v in (assumed or {}).items():
        if str(k) in table:
            raise ValueError(f"land-cover class {k!r} is in both class_resistance and assumed_class_resistance")
        table[str(k)] = float(v)
    bad = {k: v for k, v in table.items() if not (math.isfinite(v) and v > 0)}
    if bad:
        raise ValueError(f"resistance values must be finite and > 0: {bad}")
    return table


def base_resistance(
    dlbm_codes: ArrayLike,
    dlbm_classes: Mapping[str, str],
    class_resistance: Mapping[str, float],
    assumed_class_resistance: Mapping[str, float] | None = None,
    valid_mask: ArrayLike | None = None,
) -> NDArray[np.float32]:
    """Land-cover resistance: 三调 DLBM code → land-cover class → resistance (spec §5.3 [S29]).

    Args:
        dlbm_codes: ``(rows, cols)`` array of 三调 工作分类 codes as strings (``"0401"``,
            ``"0201K"``, ``"05H1"``; TD/T 1055-2019, spec §3.1); None / NaN / ``""`` = no data.
            A composer that rasterised DLBM with :func:`erenhot.grid.rasterize_codes` maps the
            integer classes back: ``np.array([None, *codes], dtype=object)[lu]``.
        dlbm_classes: code prefix → class name; the **longest** matching prefix wins
            (:func:`erenhot.evaluation.classify.lookup_codes` with ``prefix=True``).
        class_resistance: class → resistance (> 0).
        assumed_class_resistance: further class → resistance entries (gap-fill, [L]).
        valid_mask: optional bool; cells outside are NaN.

    Returns:
        ``float32 (rows, cols)`` resistance; NaN outside ``valid_mask`` and where the code is
        missing (impassable for :func:`mcr_surface`).

    Raises:
        ValueError: a code inside the valid area matches no prefix (the message names the codes),
            a class has no resistance (the message names the classes), a class is in both tables,
            or a resistance is not finite and > 0.
    """
    table = _resistance_table(class_resistance, assumed_class_resistance)
    codes = _as_2d("dlbm_codes", np.asarray(dlbm_codes, dtype=object))
    valid = np.ones(codes.shape, dtype=bool) if valid_mask is None else _as_2d("valid_mask", valid_mask, codes.shape).astype(bool)
    present = valid & ~pd.isna(codes) & (codes != "")
    cls = lookup_codes(codes, dict(dlbm_classes), default=None, dtype=object, prefix=True)
    unknown = present & pd.isna(cls)
    if unknown.any():
        names = sorted({str(c) for c in pd.unique(codes[unknown])})
        raise ValueError(f"DLBM code(s) {names} match no entry of resistance.dlbm_classes; add them to the configuration")
    used = {str(c) for c in pd.unique(cls[present])}
    no_value = sorted(used - set(table))
    if no_value:
        raise ValueError(f"land-cover class(es) {no_value} have no resistance in class_resistance / assumed_class_resistance")
    out = lookup_codes(np.where(present, cls, None), table, default=np.nan, dtype=np.float64)
    return out.astype(np.float32)


def distance_to_features_m(feature_mask: ArrayLike, cell_size_m: float) -> NDArray[np.float32]:
    """Euclidean distance, m, from each cell centre to the nearest feature cell centre
    (``scipy.ndimage.distance_transform_edt``); 0 on features, ``inf`` everywhere when there is
    no feature.

    Args:
        feature_mask: bool ``(rows, cols)``, e.g. roads and built-up land (config
            ``resistance.disturbance_dlbm_codes``).
        cell_size_m: cell side, m.
    """
    mask = _as_2d("feature_mask", feature_mask).astype(bool)
    if not mask.any():
        return np.full(mask.shape, np.inf, dtype=np.float32)
    return (ndimage.distance_transform_edt(~mask) * float(cell_size_m)).astype(np.float32)


def disturbance_score(distance_m: ArrayLike, breaks_m: Sequence[float], scores: Sequence[float]) -> NDArray[np.float32]:
    """Human-disturbance resistance score by distance band (spec §5.3 [S29]: road distance
    < 400 m → 100, 400–600 → 50, 601–1200 → 30, > 1200 → 10).

    Bands are ``(−∞, b1], (b1, b2], …, (bk, ∞)``: a distance exactly on a break takes the band
    nearer the feature (the higher score). This matches the source's "601–1200" / "400–600" at 600
    and 1200 m; at 400 m the source reads "< 400 → 100" vs "400–600 → 50" — 400 m gets 100 here.

    Args:
        distance_m: any shape, m (:func:`distance_to_features_m`); NaN → NaN, ``inf`` → last band.
        breaks_m: increasing band limits, m.
        scores: ``len(breaks_m) + 1`` scores, nearest band first.

    Raises:
        ValueError: breaks not strictly increasing or the wrong number of scores.
    """
    b = np.asarray(breaks_m, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if b.ndim != 1 or b.size == 0 or np.any(np.diff(b) <= 0) or not np.all(np.isfinite(b)):
        raise ValueError(f"disturbance breaks must be finite and strictly increasing, got {list(breaks_m)}")
    if s.shape != (b.size + 1,):
        raise ValueError(f"need {b.size + 1} disturbance scores for {b.size} breaks, got {len(scores)}")
    d = np.asarray(distance_m, dtype=np.float64)
    out = s[np.digitize(np.where(np.isnan(d), 0.0, d), b, right=True)]
    return np.where(np.isnan(d), np.nan, out).astype(np.float32)


def combine_resistance(base: ArrayLike, disturbance: ArrayLike, weights: Mapping[str, float]) -> NDArray[np.float32]:
    """Weighted sum ``w_lc·base + w_d·disturbance`` (the AHP factor combination of spec §5.3 [S29]).

    Args:
        base: land-cover resistance (:func:`base_resistance`); NaN stays NaN.
        disturbance: disturbance score (:func:`disturbance_score`), same shape.
        weights: exactly ``{"land_cover", "disturbance"}``; ``land_cover`` > 0, ``disturbance``
            ≥ 0, summing to 1 (± 1e-6).

    Raises:
        ValueError: wrong keys, negative / non-positive weights or a sum ≠ 1; shape mismatch.
    """
    if set(weights) != {"land_cover", "disturbance"}:
        raise ValueError(f"weights must have exactly the keys land_cover and disturbance, got {sorted(weights)}")
    w_lc, w_d = float(weights["land_cover"]), float(weights["disturbance"])
    if not (w_lc > 0 and w_d >= 0 and abs(w_lc + w_d - 1.0) <= 1e-6):
        raise ValueError(f"weights must be land_cover > 0, disturbance ≥ 0, summing to 1; got {dict(weights)}")
    b = _as_2d("base", base, dtype=np.float64)
    d = _as_2d("disturbance", disturbance, b.shape, dtype=np.float64)
    return (w_lc * b + w_d * d).astype(np.float32)


def resistance_surface(
    dlbm_codes: ArrayLike,
    params: ResistanceParams,
    cell_size_m: float,
    disturbance_mask: ArrayLike | None = None,
    valid_mask: ArrayLike | None = None,
) -> NDArray[np.float32]:
    """阻力面 = land-cover resistance, optionally combined with human disturbance (spec §5.3 [S29]).

    ``R = base`` when ``disturbance_mask`` is None; else
    ``R = w_lc·base + w_d·score(distance to the nearest disturbance cell)``
    (:func:`base_resistance`, :func:`distance_to_features_m`, :func:`disturbance_score`,
    :func:`combine_resistance`). Slope and NDVI factors of spec §5.3 are not included (Erenhot is
    flat, spec §0.1).

    Args:
        dlbm_codes: ``(rows, cols)`` 三调 DLBM strings.
        params: :class:`ResistanceParams`.
        cell_size_m: cell side, m.
        disturbance_mask: optional bool roads / built-up cells.
        valid_mask: optional bool; NaN outside.

    Returns:
        ``float32 (rows, cols)``, NaN outside / no data.

    Raises:
        ValueError: see :func:`base_resistance`, :func:`disturbance_score`, :func:`combine_resistance`.
    """
    base = base_resistance(dlbm_codes, params.dlbm_classes, params.class_resistance, params.assumed_class_resistance, valid_mask)
    if disturbance_mask is None:
        return base
    dist = distance_to_features_m(_as_2d("disturbance_mask", disturbance_mask, base.shape), cell_size_m)
    score = disturbance_score(dist, params.disturbance_breaks_m, params.disturbance_scores)
    return combine_resistance(base, score, params.weights)


# --------------------------------------------------------------------------- 3. MCR and corridors


def mcr_surface(resistance: ArrayLike, source_labels: ArrayLike, cell_size_m: float) -> NDArray[np.float64]:
    """Minimum cumulative resistance from the nearest source, resistance·m (spec §5.3
    ``MCR = f_min Σ (D_ij × R_i)`` [S29] [H]; ``MCP_Geometric``, see the module docstring).

    Args:
        resistance: ``(rows, cols)`` > 0; NaN/inf impassable.
        source_labels: ``int (rows, cols)``, 1…n = sources (:func:`ecological_sources`), 0 = none.
        cell_size_m: cell side, m.

    Returns:
        ``float64 (rows, cols)``: 0 on source cells, ``inf`` where impassable or unreachable.

    Raises:
        ValueError: no source, labels with gaps, a source on an impassable cell, resistance ≤ 0.
    """
    cost = _cost_surface(resistance)
    labels, cells = _source_cells(source_labels, cost.shape)
    if len(cells) < 2:
        raise ValueError("at least one source cell is needed")
    _check_sources_passable(cost, cells)
    starts = [tuple(rc) for rc in np.argwhere(labels > 0)]
    mcp = MCP_Geometric(cost, fully_connected=True, sampling=(float(cell_size_m), float(cell_size_m)))
    cum, _ = mcp.find_costs(starts)
    return np.where(np.isfinite(cost), cum, np.inf)


def pairwise_least_cost(
    resistance: ArrayLike, source_labels: ArrayLike, cell_size_m: float
) -> tuple[NDArray[np.float64], dict[tuple[int, int], tuple[tuple[int, int], ...]]]:
    """Least-cost distance and path between every pair of sources (patch to patch).

    One ``MCP_Geometric`` run per source a = 1…n−1 from all its cells; for every b > a the
    cheapest cell of b (ties → first in raster order) gives ``cost[a, b]`` and its traceback the
    path. The path starts on a boundary cell of a and ends on the first cell of b it reaches
    (never through other cells of a or b: resistance > 0). Cost: O(n) runs over the grid.

    Args:
        resistance, source_labels, cell_size_m: as :func:`mcr_surface`.

    Returns:
        ``(matrix, paths)``: ``float64 (n, n)`` symmetric costs, resistance·m (index k = source
        k+1; 0 on the diagonal; ``inf`` = unreachable) and ``{(a, b): ((row, col), …)}`` for
        a < b reachable, from a to b.

    Raises:
        ValueError: as :func:`mcr_surface`.
    """
    cost = _cost_surface(resistance)
    _, cells = _source_cells(source_labels, cost.shape)
    _check_sources_passable(cost, cells)
    n = len(cells) - 1
    matrix = np.full((n, n), np.inf)
    np.fill_diagonal(matrix, 0.0)
    paths: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
    if n < 2:
        return matrix, paths
    mcp = MCP_Geometric(cost, fully_connected=True, sampling=(float(cell_size_m), float(cell_size_m)))
    for a in range(1, n):
        cum, _ = mcp.find_costs([tuple(rc) for rc in cells[a]])
        for b in range(a + 1, n + 1):
            rc = cells[b]
            vals = cum[rc[:, 0], rc[:, 1]]
            k = int(np.argmin(vals))
            if np.isfinite(vals[k]):
                matrix[a - 1, b - 1] = matrix[b - 1, a - 1] = float(vals[k])
                paths[(a, b)] = tuple((int(r), int(c)) for r, c in mcp.traceback(tuple(int(v) for v in rc[k])))
    return matrix, paths


def select_pairs(cost_matrix: ArrayLike, rule: str, max_cost: float | None = None) -> list[tuple[int, int]]:
    """Source pairs that get a corridor (spec §5.3 says "corridors = least cost paths between
    source pairs" without saying which pairs — the rule is a configured choice [L]).

    Rules (:data:`PAIR_RULES`):

    * ``"mst"`` — the minimum spanning tree (forest, if some sources are unreachable) of the
      complete source graph weighted by least-cost distance (``scipy.sparse.csgraph.
      minimum_spanning_tree``): every reachable source joined with the least total cost, n−1
      corridors, no redundant loops. Equal costs: scipy's choice (deterministic).
    * ``"threshold"`` — every pair with ``cost ≤ max_cost``.
    * ``"mst_or_threshold"`` — the union (a connected backbone plus short redundant links).

    Args:
        cost_matrix: ``(n, n)`` symmetric, resistance·m, ``inf`` = no candidate
            (:func:`pairwise_least_cost`); off-diagonal finite values must be > 0.
        rule: see above.
        max_cost: resistance·m; required by the threshold rules.

    Returns:
        Sorted ``(a, b)`` source ids (1-based), a < b.

    Raises:
        ValueError: unknown rule, missing ``max_cost``, non-square matrix or a finite cost ≤ 0
            between distinct sources.
    """
    if rule not in PAIR_RULES:
        raise ValueError(f"pair rule must be one of {PAIR_RULES}, got {rule!r}")
    m = np.asarray(cost_matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cost_matrix must be square, got shape {m.shape}")
    n = m.shape[0]
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    finite = np.isfinite(m) & upper
    if np.any(m[finite] <= 0):
        raise ValueError("least-cost distances between distinct sources must be > 0")
    pairs: set[tuple[int, int]] = set()
    if rule in ("mst", "mst_or_threshold"):
        tree = minimum_spanning_tree(np.where(finite, m, 0.0)).toarray()
        pairs |= {(min(i, j) + 1, max(i, j) + 1) for i, j in zip(*np.nonzero(tree), strict=True)}
    if rule in ("threshold", "mst_or_threshold"):
        if max_cost is None:
            raise ValueError(f"pair rule {rule!r} needs max_cost")
        pairs |= {(int(i) + 1, int(j) + 1) for i, j in zip(*np.nonzero(finite & (m <= float(max_cost))), strict=True)}
    return sorted(pairs)


@dataclass(frozen=True)
class CorridorParams:
    """Corridor selection (config ``corridors``).

    Attributes:
        pair_rule: one of :data:`PAIR_RULES` (see :func:`select_pairs`).
        max_cost: resistance·m for the threshold rules (ignored by ``"mst"``).
        drop_paths_through_other_sources: drop a pair whose least-cost path crosses a third
            source *before* selecting pairs (Linkage Mapper's rule, spec §5.3/§6 [S33]): the
            corridor is then a–c + c–b, not a–b.
    """

    pair_rule: str = "mst"
    max_cost: float | None = None
    drop_paths_through_other_sources: bool = True


@dataclass(frozen=True)
class Corridor:
    """One least-cost corridor between two sources.

    Attributes:
        corridor_id: 1…m in the order of the sorted source pairs.
        source_a, source_b: source ids, a < b; the path runs from a to b.
        cost: cumulative cost along the path, resistance·m (= the pair's least-cost distance).
        length_m: planar length of the cell-centre polyline, m (rook step = cell size, diagonal
            = cell size·√2).
        path_rc: ``((row, col), …)`` from the boundary cell of a to the first cell of b.
    """

    corridor_id: int
    source_a: int
    source_b: int
    cost: float
    length_m: float
    path_rc: tuple[tuple[int, int], ...]


def least_cost_corridors(
    resistance: ArrayLike, source_labels: ArrayLike, cell_size_m: float, params: CorridorParams
) -> list[Corridor]:
    """生态廊道: least-cost paths between the selected source pairs (spec §5.3 [S29][S33]).

    Steps: :func:`pairwise_least_cost`; optionally remove pairs whose path crosses a third source
    (``params.drop_paths_through_other_sources``); :func:`select_pairs` with ``params.pair_rule``.

    Args:
        resistance, source_labels, cell_size_m: as :func:`mcr_surface`.
        params: :class:`CorridorParams`.

    Returns:
        :class:`Corridor` list, ids 1…m (empty with fewer than two sources).

    Raises:
        ValueError: as :func:`pairwise_least_cost` and :func:`select_pairs`.
    """
    if params.pair_rule not in PAIR_RULES:
        raise ValueError(f"pair rule must be one of {PAIR_RULES}, got {params.pair_rule!r}")
    labels = _as_2d("source_labels", source_labels)
    matrix, paths = pairwise_least_cost(resistance, labels, cell_size_m)
    if params.drop_paths_through_other_sources:
        matrix = matrix.copy()
        for (a, b), path in paths.items():
            p = np.asarray(path)
            lab = labels[p[:, 0], p[:, 1]]
            if np.any((lab != 0) & (lab != a) & (lab != b)):
                matrix[a - 1, b - 1] = matrix[b - 1, a - 1] = np.inf
    corridors = []
    for k, (a, b) in enumerate(select_pairs(matrix, params.pair_rule, params.max_cost), start=1):
        path = paths[(a, b)]
        corridors.append(
            Corridor(
                corridor_id=k,
                source_a=a,
                source_b=b,
                cost=float(matrix[a - 1, b - 1]),
                length_m=float(_step_lengths_m(path, cell_size_m).sum()),
                path_rc=path,
            )
        )
    return corridors


def corridor_raster(
    corridors: Sequence[Corridor],
    shape: tuple[int, int],
    cell_size_m: float,
    width_m: float,
    source_labels: ArrayLike | None = None,
) -> NDArray[np.int32]:
    """Corridors as a raster of corridor ids, buffered to ``width_m``.

    A cell belongs to the corridor whose centre-line cell is nearest (Euclidean between cell
    centres, ``distance_transform_edt``) when that distance ≤ ``width_m / 2``; width 0 (or less
    than a cell) leaves the centre-line cells only. Where centre lines share a cell the lower id
    wins. Cells of ``source_labels`` > 0 are set to 0 (the corridor is the land between sources).

    Args:
        corridors: :func:`least_cost_corridors` output.
        shape: ``(rows, cols)``.
        cell_size_m: cell side, m.
        width_m: total corridor width, m (config ``corridors.width_m`` [L]).
        source_labels: optional source raster to cut out.

    Returns:
        ``int32 (rows, cols)``: corridor id, 0 = none. ``> 0`` is the corridor mask.

    Raises:
        ValueError: negative width, a path outside ``shape``.
    """
    if not (width_m >= 0):
        raise ValueError(f"width_m must be ≥ 0, got {width_m!r}")
    centre = np.zeros(shape, dtype=np.int32)
    for c in sorted(corridors, key=lambda c: c.corridor_id, reverse=True):
        p = np.asarray(c.path_rc, dtype=np.intp).reshape(-1, 2)
        if p.size and (p.min() < 0 or np.any(p.max(axis=0) >= np.asarray(shape))):
            raise ValueError(f"corridor {c.corridor_id} has cells outside the grid {shape}")
        centre[p[:, 0], p[:, 1]] = c.corridor_id
    if not centre.any():
        return centre
    dist, (ri, ci) = ndimage.distance_transform_edt(centre == 0, return_indices=True)
    out = np.where(dist * float(cell_size_m) <= width_m / 2.0, centre[ri, ci], 0).astype(np.int32)
    if source_labels is not None:
        out[_as_2d("source_labels", source_labels, shape) > 0] = 0
    return out


def corridor_lines(corridors: Sequence[Corridor], grid: Grid) -> gpd.GeoDataFrame:
    """Corridor centre lines as LineStrings through the cell centres, CRS of ``grid`` (EPSG:4525).

    Returns:
        GeoDataFrame with ``corridor_id``, ``source_a``, ``source_b``, ``cost`` (resistance·m),
        ``length_m`` and ``geometry``; ``length_m`` equals the line's planar length.
    """
    records = []
    geoms = []
    for c in corridors:
        p = np.asarray(c.path_rc, dtype=np.float64).reshape(-1, 2)
        x, y = _cell_centres(grid, p[:, 0], p[:, 1])
        geoms.append(LineString(np.column_stack([x, y])))
        records.append({"corridor_id": c.corridor_id, "source_a": c.source_a, "source_b": c.source_b,
                        "cost": c.cost, "length_m": c.length_m})
    frame = pd.DataFrame(records, columns=["corridor_id", "source_a", "source_b", "cost", "length_m"])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{grid.crs_epsg}")


# --------------------------------------------------------------------------- 4. strategic nodes


def _runs(flags: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, end)`` inclusive index runs of True."""
    f = np.concatenate([[False], flags, [False]]).astype(np.int8)
    d = np.diff(f)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1, strict=True))


def _ridge_cells(profile: NDArray[np.float64]) -> list[int]:
    """Indices of interior strict local maxima of a profile; a plateau counts once (middle cell)."""
    n = len(profile)
    if n < 3:
        return []
    starts = [0]
    for i in range(1, n):
        if not math.isclose(profile[i], profile[i - 1], rel_tol=1e-12, abs_tol=0.0):
            starts.append(i)
    bounds = [*starts, n]
    out = []
    for k in range(1, len(starts) - 1):
        s, e = bounds[k], bounds[k + 1] - 1
        if profile[s] > profile[s - 1] and profile[s] > profile[e + 1]:
            out.append((s + e) // 2)
    return out


def _junction_points(corridors: Sequence[Corridor], grid: Grid) -> list[tuple[Point, set[int]]]:
    lines = corridor_lines(corridors, grid)
    found: list[tuple[Point, set[int]]] = []
    geoms = list(lines.geometry)
    ids = list(lines["corridor_id"])
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            if not geoms[i].intersects(geoms[j]):
                continue
            parts = shapely.get_parts(shapely.intersection(geoms[i], geoms[j]))
            points = [p for p in parts if p.geom_type == "Point"]
            lines_ij = [p for p in parts if p.geom_type == "LineString"]
            if lines_ij:
                merged = shapely.line_merge(shapely.MultiLineString(lines_ij))
                points += [q for m in shapely.get_parts(merged) for q in shapely.get_parts(m.boundary)]
            found += [(p, {ids[i], ids[j]}) for p in points]
    return found


def strategic_nodes(
    corridors: Sequence[Corridor],
    mcr: ArrayLike,
    source_labels: ArrayLike,
    grid: Grid,
    resistance: ArrayLike | None = None,
    barrier_min_resistance: float | None = None,
) -> gpd.GeoDataFrame:
    """生态战略节点 on the corridors, three simple stated rules (spec §5.3: sources, MCR, corridors;
    the node rules are the common practice of the MCR literature — 俞孔坚 1999 "战略点" [S29] —
    and are [M]/[L]):

    * ``ridge`` — where a corridor crosses an MCR ridge line (the watershed between the cost basins
      of two sources): every interior strict local maximum of the all-source MCR along the
      corridor's path (a plateau counts once, at its middle cell). Between two sources alone the
      MCR profile rises then falls, so each corridor has one ridge node; passing near a third
      source adds one.
    * ``junction`` — where corridor centre lines cross, or where a shared stretch begins/ends
      (merge/split points): the points of ``intersection`` of every pair of centre lines
      (shapely), shared stretches reduced to their two end points; points inside a source are
      dropped (corridors meeting at their source).
    * ``barrier`` — only when ``resistance`` and ``barrier_min_resistance`` are given: each run of
      consecutive path cells with resistance ≥ ``barrier_min_resistance`` outside the sources
      gives one node at the run's middle cell (e.g. a corridor crossing a road or built-up land,
      base resistance 100 in [S29]).

    Nodes of one kind at the same point are merged (their corridor ids joined).

    Args:
        corridors: :func:`least_cost_corridors` output.
        mcr: :func:`mcr_surface` from all sources, resistance·m.
        source_labels: the source raster.
        grid: the grid (EPSG:4525 coordinates).
        resistance: optional resistance for the barrier rule (the land-cover base resistance of
            :func:`base_resistance` reads most clearly).
        barrier_min_resistance: threshold of the barrier rule (config ``nodes.barrier_min_resistance``).

    Returns:
        GeoDataFrame (CRS of ``grid``) with ``node_id`` (1…), ``kind`` (:data:`NODE_KINDS`),
        ``corridor_ids`` (comma-separated ids, ascending), ``row``, ``col`` (the cell holding the
        point; a junction on a cell corner takes the south-east cell), ``x``, ``y`` (m), ``mcr``
        (resistance·m at that cell) and Point ``geometry``; sorted by kind, then corridor ids,
        row, col.

    Raises:
        ValueError: shape mismatches.
    """
    m = _as_2d("mcr", mcr, grid.shape, dtype=np.float64)
    labels = _as_2d("source_labels", source_labels, grid.shape)
    res = None if resistance is None else _as_2d("resistance", resistance, grid.shape, dtype=np.float64)
    nodes: dict[tuple[str, float, float], dict] = {}

    def add(kind: str, x: float, y: float, row: int, col: int, ids: set[int]) -> None:
        key = (kind, round(x, 3), round(y, 3))
        if key in nodes:
            nodes[key]["ids"] |= ids
        else:
            nodes[key] = {"kind": kind, "x": x, "y": y, "row": row, "col": col, "ids": set(ids)}

    for c in corridors:
        p = np.asarray(c.path_rc, dtype=np.intp).reshape(-1, 2)
        inside = labels[p[:, 0], p[:, 1]] > 0
        for k in _ridge_cells(m[p[:, 0], p[:, 1]]):
            if not inside[k]:
                r, cc = int(p[k, 0]), int(p[k, 1])
                x, y = _cell_centres(grid, r, cc)
                add("ridge", float(x), float(y), r, cc, {c.corridor_id})
        if res is not None and barrier_min_resistance is not None:
            high = (res[p[:, 0], p[:, 1]] >= float(barrier_min_resistance)) & ~inside
            for s, e in _runs(high):
                k = (s + e) // 2
                r, cc = int(p[k, 0]), int(p[k, 1])
                x, y = _cell_centres(grid, r, cc)
                add("barrier", float(x), float(y), r, cc, {c.corridor_id})

    t = grid.transform
    for point, ids in _junction_points(corridors, grid):
        col = min(max(int(math.floor((point.x - t.c) / t.a)), 0), grid.width - 1)
        row = min(max(int(math.floor((point.y - t.f) / t.e)), 0), grid.height - 1)
        if labels[row, col] == 0:
            add("junction", float(point.x), float(point.y), row, col, ids)

    rows = sorted(
        nodes.values(),
        key=lambda n: (NODE_KINDS.index(n["kind"]), sorted(n["ids"]), n["row"], n["col"]),
    )
    frame = pd.DataFrame(
        {
            "node_id": np.arange(1, len(rows) + 1, dtype=np.int32),
            "kind": [n["kind"] for n in rows],
            "corridor_ids": [",".join(str(i) for i in sorted(n["ids"])) for n in rows],
            "row": np.array([n["row"] for n in rows], dtype=np.int64),
            "col": np.array([n["col"] for n in rows], dtype=np.int64),
            "x": np.array([n["x"] for n in rows], dtype=np.float64),
            "y": np.array([n["y"] for n in rows], dtype=np.float64),
            "mcr": np.array([m[n["row"], n["col"]] for n in rows], dtype=np.float64),
        }
    )
    geometry = [Point(x, y) for x, y in zip(frame["x"], frame["y"], strict=True)]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=f"EPSG:{grid.crs_epsg}")
