"""宜林 / 宜草 / 宜湿 suitability grading, the 林草湿 combined evaluation and the 保有量 targets of topic 9
(林地草地湿地适宜性评价与保护恢复研究).

Method (limiting factor, 极限条件法 of land-suitability evaluation, after the 《中国1:100万土地资源图》
scheme): every factor grades a cell ``1`` 高度适宜, ``2`` 适宜, ``3`` 勉强适宜 or ``4`` 不适宜; ``0`` means
"this factor has no data here" and does not limit. The grade of a use is the worst (largest) factor
grade; cells whose land use is not evaluated for that use are ``5`` 不参评 and cells outside are ``0``.
The factor tables and breaks live in ``erenhot/config/t09_forest_grass_wetland.yaml`` (all [L]: the
spec gives the factor families only, spec §2.5 last paragraph). The stocking rate is in
:mod:`erenhot.evaluation.grassland` (NY/T 635-2015).

Arrays are ``(rows, cols)`` on the common EPSG:4525 grid; pure numpy, no I/O. Errors are
``ValueError`` naming the offending value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "COMBINED_NONE",
    "COMBINED_NOT_EVALUATED",
    "NOT_EVALUATED",
    "USES",
    "combined_suitability",
    "distance_grade",
    "grade_by_codes",
    "limiting_grade",
    "target_area",
    "yield_grade",
]

NOT_EVALUATED = 5
"""Suitability code of cells not evaluated for a use (建设用地, 耕地, 水域 …)."""
USES = ("forest", "grass", "wetland")
"""The three uses; their combined class codes are 1 宜林, 2 宜草, 3 宜湿."""
COMBINED_NONE = 4
"""Combined class: no use reaches the suitable grades (不宜林草湿)."""
COMBINED_NOT_EVALUATED = 5
"""Combined class: not evaluated for any use."""


def grade_by_codes(codes: ArrayLike, table: Mapping[int, int], default: int = 0) -> NDArray[np.uint8]:
    """Grade an integer code raster by a table (e.g. precipitation class → 宜林 grade).

    Args:
        codes: integer ``(rows, cols)`` codes (0 = no data).
        table: code → grade 0–5.
        default: grade of codes not in the table (0 = no limitation / no data).

    Raises:
        ValueError: a grade outside 0–5 (named).
    """
    for k, g in table.items():
        if not 0 <= int(g) <= 5:
            raise ValueError(f"grade for code {k!r} must be in 0..5, got {g!r}")
    c = np.asarray(codes).astype(np.int64)
    lut_size = max([int(k) for k in table] + [int(c.max()) if c.size else 0]) + 1
    lut = np.full(lut_size, default, dtype=np.uint8)
    for k, g in table.items():
        lut[int(k)] = int(g)
    out = lut[np.clip(c, 0, lut_size - 1)]
    return np.where(c > 0, out, 0).astype(np.uint8)


def limiting_grade(factors: Sequence[ArrayLike], evaluated: ArrayLike, inside: ArrayLike) -> NDArray[np.uint8]:
    """Suitability grade = the worst factor grade (极限条件法).

    Args:
        factors: factor grades ``(rows, cols)`` each, 1–4 (0 = no data: does not limit).
        evaluated: bool ``(rows, cols)``: the land use is evaluated for this use (else 5 不参评).
        inside: bool ``(rows, cols)``: the city (else 0).

    Returns:
        uint8 ``(rows, cols)``: 1–4 where evaluated, 5 where not evaluated, 0 outside; an evaluated
        cell where every factor is 0 (no data) is 1 (no limitation known).

    Raises:
        ValueError: no factor, shapes differ, or a factor grade above 4 (named).
    """
    if not factors:
        raise ValueError("at least one factor grade is needed")
    ev = np.asarray(evaluated, dtype=bool)
    ins = np.asarray(inside, dtype=bool)
    worst = np.ones(ev.shape, dtype=np.uint8)
    for i, f in enumerate(factors):
        a = np.asarray(f)
        if a.shape != ev.shape:
            raise ValueError(f"factor {i} has shape {a.shape}, expected {ev.shape}")
        if np.any(a > 4):
            raise ValueError(f"factor {i}: grades must be 0–4 (0 = no data), got {int(a.max())}")
        worst = np.maximum(worst, a.astype(np.uint8))
    out = np.where(ev, worst, NOT_EVALUATED)
    return np.where(ins, out, 0).astype(np.uint8)


def distance_grade(distance_m: ArrayLike, breaks_m: Sequence[float]) -> NDArray[np.uint8]:
    """Grade by distance (m): ``d ≤ b1`` → 2, ``b1 < d ≤ b2`` → 3, farther → 4; ``d = 0`` (on the
    feature) → 1; NaN → 0. Used for 宜湿 (distance to a delivered wetland, proxy of shallow groundwater).

    Raises:
        ValueError: breaks not increasing or negative distances.
    """
    b = [float(v) for v in breaks_m]
    if len(b) != 2 or not 0 < b[0] < b[1]:
        raise ValueError(f"breaks_m must be two increasing positive distances, got {list(breaks_m)!r}")
    d = np.asarray(distance_m, dtype=np.float64)
    if np.any(d < 0):
        raise ValueError(f"distances must be ≥ 0 m, got {d[d < 0].flat[0]!r}")
    out = np.where(d <= 0, 1, np.where(d <= b[0], 2, np.where(d <= b[1], 3, 4)))
    return np.where(np.isnan(d), 0, out).astype(np.uint8)


def yield_grade(yield_kg_per_ha: ArrayLike, breaks: Sequence[float]) -> NDArray[np.uint8]:
    """Grade of 草地生产力: ``Y ≥ b1`` → 1, ``b2 ≤ Y < b1`` → 2, ``Y < b2`` → 3; NaN → 0 (no limit).

    Args:
        yield_kg_per_ha: 可食产草量 kg/hm² (01-13), any shape.
        breaks: two decreasing yields ``[b1, b2]``.

    Raises:
        ValueError: breaks not decreasing.
    """
    b = [float(v) for v in breaks]
    if len(b) != 2 or not b[0] > b[1] >= 0:
        raise ValueError(f"yield breaks must be two decreasing values, got {list(breaks)!r}")
    y = np.asarray(yield_kg_per_ha, dtype=np.float64)
    out = np.where(y >= b[0], 1, np.where(y >= b[1], 2, 3))
    return np.where(np.isnan(y), 0, out).astype(np.uint8)


def combined_suitability(grades: Mapping[str, ArrayLike], priority: Sequence[str], max_suitable_grade: int,
                         inside: ArrayLike) -> NDArray[np.uint8]:
    """林草湿综合评价: the best-graded use per cell (宜林则林、宜草则草、宜湿则湿).

    Args:
        grades: ``forest``, ``grass``, ``wetland`` → suitability grades (1–4, 5 不参评, 0 outside).
        priority: the three uses in tie-break order (first wins at equal grades).
        max_suitable_grade: grades ≤ this count as suitable (3 = up to 勉强适宜).
        inside: bool ``(rows, cols)``.

    Returns:
        uint8: 1 宜林, 2 宜草, 3 宜湿 (the use with the smallest grade ≤ ``max_suitable_grade``, ties
        by ``priority``), 4 不宜林草湿 (evaluated for some use but suitable for none), 5 不参评 (not
        evaluated for any use), 0 outside.

    Raises:
        ValueError: missing or unknown uses, a priority that is not a permutation of them, or
            ``max_suitable_grade`` outside 1–4.
    """
    if set(grades) != set(USES):
        raise ValueError(f"grades must have exactly {USES}, got {sorted(grades)}")
    if sorted(priority) != sorted(USES):
        raise ValueError(f"priority must order {USES}, got {list(priority)!r}")
    if not 1 <= int(max_suitable_grade) <= 4:
        raise ValueError(f"max_suitable_grade must be 1–4, got {max_suitable_grade!r}")
    ins = np.asarray(inside, dtype=bool)
    code = {u: i + 1 for i, u in enumerate(USES)}
    best_grade = np.full(ins.shape, 99, dtype=np.int64)
    best_use = np.zeros(ins.shape, dtype=np.uint8)
    evaluated_any = np.zeros(ins.shape, dtype=bool)
    for use in priority:  # strict '<': an earlier use keeps a tie
        g = np.asarray(grades[use]).astype(np.int64)
        evaluated_any |= (g >= 1) & (g <= 4)
        ok = (g >= 1) & (g <= int(max_suitable_grade)) & (g < best_grade)
        best_grade = np.where(ok, g, best_grade)
        best_use = np.where(ok, code[use], best_use)
    out = np.where(best_use > 0, best_use, np.where(evaluated_any, COMBINED_NONE, COMBINED_NOT_EVALUATED))
    return np.where(ins, out, 0).astype(np.uint8)


def target_area(current_ha: float, additions_ha: float, share: float, removals_ha: float = 0.0,
                no_net_loss: bool = True) -> float:
    """保有量 target of a target year: ``current + share × additions − removals``, not below ``current``
    when ``no_net_loss`` (红线: 数量不减少).

    Args:
        current_ha: present area (三调), hm² ≥ 0.
        additions_ha: the potential additions (新增宜林地, 新增宜湿, 退耕还草 …), hm² ≥ 0.
        share: fraction of the additions realised by the target year, 0–1.
        removals_ha: area leaving the class by the target year (e.g. grassland turned to forest), hm² ≥ 0.
        no_net_loss: floor the target at ``current_ha``.

    Raises:
        ValueError: a negative area or a share outside 0–1 (named).
    """
    for name, v in (("current_ha", current_ha), ("additions_ha", additions_ha), ("removals_ha", removals_ha)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be finite and ≥ 0 hm², got {v!r}")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in 0–1, got {share!r}")
    value = float(current_ha) + float(share) * float(additions_ha) - float(removals_ha)
    return max(value, float(current_ha)) if no_net_loss else max(value, 0.0)
