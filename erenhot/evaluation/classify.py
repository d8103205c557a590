"""Grading primitives shared by every 双评价 step: breaks, matrices, grade shifts, code tables.

Conventions (docs/architecture.md, evaluation spec §1.5–1.7): grade rasters are ``uint8`` of shape
``(rows, cols)`` with 0 = no data / outside; grade 1 = 高/好 … 5 = 低/差 (the 2019-draft "承载等级"
order implemented in [S5]). Every function here keeps 0 as 0. Nothing here knows a threshold: the
breaks, matrices and tables come from ``erenhot/config/*.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "apply_modifier",
    "grade_by_bands",
    "grade_by_breaks",
    "grade_by_table",
    "lookup_codes",
    "lookup_matrix",
    "shift_grade",
]


def _sorted_breaks(breaks: Sequence[float]) -> NDArray[np.float64]:
    b = np.asarray(breaks, dtype=np.float64)
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b)):
        raise ValueError(f"breaks must be a non-empty sequence of finite numbers, got {breaks!r}")
    b = np.sort(b)
    if np.any(np.diff(b) <= 0):
        raise ValueError(f"breaks must be distinct, got {breaks!r}")
    return b


def grade_by_breaks(values: ArrayLike, breaks: Sequence[float], higher_is_better: bool) -> NDArray[np.uint8]:
    """Grade a continuous raster into ``len(breaks) + 1`` grades (5 grades from 4 breaks).

    Grade 1 is the best class. **A value exactly on a break belongs to the better grade**, which is
    how the spec's tables read (§1.5/1.6, [S5]): slope "≤2 / 2–6 / …" → slope 2° is grade 1;
    precipitation "≥1200 / 800–1200 / …" → 1200 mm is grade 1; travel time "≤20 / 20–40" → 20 min is
    grade 1; patch area "≥2 km²" → 2 km² is grade 1.

    Args:
        values: any shape, float; NaN = no data → grade 0. ±inf are graded normally (e.g. an
            unreachable cell's infinite travel time is the worst grade).
        breaks: the class limits in any order (they are sorted), e.g. ``[2, 6, 15, 25]`` for
            slope or ``[1200, 800, 400, 200]`` for precipitation.
        higher_is_better: True for precipitation, water modulus, accumulated temperature, patch
            area; False for slope, travel time, relief.

    Returns:
        ``uint8`` array of the input shape, grades 1 … len(breaks)+1, 0 where NaN.

    Raises:
        ValueError: empty, non-finite or repeated breaks.
    """
    v = np.asarray(values, dtype=np.float64)
    b = _sorted_breaks(breaks)
    if higher_is_better:
        grade = len(b) + 1 - np.searchsorted(b, v, side="right")
    else:
        grade = 1 + np.searchsorted(b, v, side="left")
    return np.where(np.isnan(v), 0, grade).astype(np.uint8)


def grade_by_bands(values: ArrayLike, bands: Sequence[Sequence[Any]]) -> NDArray[np.uint8]:
    """Grade by explicit half-open bands ``[lo, hi) → grade`` (``None`` = open end).

    Used where a scale is two-sided, e.g. the simplified THI comfort table of spec §1.6
    (<35 差, 35–40 较差, …, 50–70 好, …, ≥85 差). Values in no band and NaN → 0.

    Args:
        values: any shape, float.
        bands: ``[[lo, hi, grade], …]``; lo inclusive, hi exclusive; bands must not overlap.

    Raises:
        ValueError: malformed or overlapping bands, grade outside 1–255.
    """
    v = np.asarray(values, dtype=np.float64)
    parsed: list[tuple[float, float, int]] = []
    for band in bands:
        if len(band) != 3 or not 1 <= int(band[2]) <= 255:
            raise ValueError(f"a band is [lo, hi, grade] with grade 1–255, got {band!r}")
        lo = -np.inf if band[0] is None else float(band[0])
        hi = np.inf if band[1] is None else float(band[1])
        if not lo < hi:
            raise ValueError(f"band {band!r} is empty")
        parsed.append((lo, hi, int(band[2])))
    parsed.sort()
    for (_, prev_hi, _), (next_lo, _, _) in zip(parsed, parsed[1:]):
        if next_lo < prev_hi:
            raise ValueError(f"bands overlap: {bands!r}")
    out = np.zeros(v.shape, dtype=np.uint8)
    for lo, hi, grade in parsed:
        out[(v >= lo) & (v < hi)] = grade
    return out


def _check_grades(grade: NDArray[np.integer], n: int, what: str) -> None:
    if grade.size and (grade.min() < 0 or grade.max() > n):
        raise ValueError(f"{what} grades must be 0 (no data) or 1–{n}, got {grade.min()}–{grade.max()}")


def lookup_matrix(row_grade: ArrayLike, col_grade: ArrayLike, matrix: Sequence[Sequence[int]]) -> NDArray[np.uint8]:
    """Combine two grade rasters through a judgement matrix (判别矩阵, spec §1.4.3, §1.7).

    ``out = matrix[row - 1][col - 1]``; 0 in either input stays 0.

    Args:
        row_grade, col_grade: integer arrays of the same shape (grades 1 … n_rows / 1 … n_cols).
        matrix: ``n_rows × n_cols`` nested sequence of output grades, rows = first factor, e.g. the
            agriculture L×W matrix of spec §1.7 (rows 土地资源, columns 水资源).

    Raises:
        ValueError: ragged matrix, shape mismatch, or a grade outside the matrix.
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.size == 0:
        raise ValueError("matrix must be a non-empty rectangular table")
    r = np.asarray(row_grade).astype(np.int64)
    c = np.asarray(col_grade).astype(np.int64)
    if r.shape != c.shape:
        raise ValueError(f"grade rasters differ in shape: {r.shape} vs {c.shape}")
    _check_grades(r, m.shape[0], "row")
    _check_grades(c, m.shape[1], "column")
    padded = np.zeros((m.shape[0] + 1, m.shape[1] + 1), dtype=np.uint8)
    padded[1:, 1:] = m
    return padded[r, c]


def shift_grade(grade: ArrayLike, delta: ArrayLike, lo: int = 1, hi: int = 5) -> NDArray[np.uint8]:
    """Move grades by ``delta`` (positive = worse, "降级") and clamp to ``[lo, hi]``; 0 stays 0.

    Args:
        grade: integer array (0 = no data).
        delta: int or integer array broadcastable to ``grade``.
        lo, hi: the grade range (1 and 5 for the 5-level 承载等级).
    """
    g = np.asarray(grade).astype(np.int64)
    shifted = np.clip(g + np.asarray(delta, dtype=np.int64), lo, hi)
    return np.where(g == 0, 0, shifted).astype(np.uint8)


def apply_modifier(
    grade: ArrayLike,
    modifier_grade: ArrayLike,
    rules: Mapping[int | str, Any],
    lo: int = 1,
    hi: int = 5,
) -> NDArray[np.uint8]:
    """Apply an up/down-grade rule table (修正, spec §1.5–1.7) driven by a modifier raster.

    For each ``modifier value k → action`` in ``rules`` (cells where ``modifier_grade == k``):

    * an int ``d`` — shift by ``d`` grades (positive = worse), clamped to ``[lo, hi]``;
    * ``"floor:N"`` — the grade becomes at least ``N`` (``"floor:5"`` = "→ lowest";
      ``"floor:2"`` = the 气象灾害 rule "grade 1 becomes 2");
    * ``{"delta": d, "when_base_in": [a, b]}`` — shift only where the current grade is in
      ``[a, b]`` (the 区位 rule "1 with base 2–4 → −1").

    Cells with grade 0 or modifier 0 (no data) are unchanged. Rules are evaluated against the
    input grade, so they do not chain.

    Raises:
        ValueError: unknown action or shape mismatch.
    """
    g = np.asarray(grade).astype(np.int64)
    mod = np.asarray(modifier_grade)
    if mod.shape != g.shape:
        mod = np.broadcast_to(mod, g.shape)
    out = g.copy()
    valid = g > 0
    for key, action in rules.items():
        sel = valid & (mod == int(key))
        if isinstance(action, bool):
            raise ValueError(f"modifier action for {key!r} must not be a bool")
        if isinstance(action, int):
            out[sel] = np.clip(g[sel] + action, lo, hi)
        elif isinstance(action, str) and action.startswith("floor:"):
            out[sel] = np.maximum(g[sel], int(action.split(":", 1)[1]))
        elif isinstance(action, Mapping) and set(action) == {"delta", "when_base_in"}:
            a, b = action["when_base_in"]
            sel &= (g >= int(a)) & (g <= int(b))
            out[sel] = np.clip(g[sel] + int(action["delta"]), lo, hi)
        else:
            raise ValueError(f"unknown modifier action {action!r} for modifier value {key!r}")
    return out.astype(np.uint8)


def lookup_codes(
    codes: ArrayLike,
    mapping: Mapping[Any, Any],
    default: Any = np.nan,
    dtype: Any = np.float32,
    prefix: bool = False,
) -> NDArray[Any]:
    """Map categorical codes (strings or ints, e.g. 三调 DLBM, TRZD, YFCD) to values.

    Args:
        codes: any-shape array of codes (object/str/int); None/NaN → ``default``.
        mapping: code → value.
        default: value for codes not in ``mapping``.
        dtype: output dtype.
        prefix: if True, a code matches the **longest** mapping key that is a prefix of it
            (``"0305"`` → key ``"0305"`` before ``"03"``; ``"0201K"`` → ``"0201"``) — how the DLBM
            groups of spec §3.4 are written (``"03"`` = every 林地 code).

    Returns:
        Array of ``codes``' shape and ``dtype``. Each distinct code is looked up once
        (``pandas.factorize``), so this is fast on 10⁷ cells.
    """
    arr = np.asarray(codes, dtype=object) if not isinstance(codes, np.ndarray) else codes
    flat = arr.ravel()
    index, uniques = pd.factorize(pd.Series(flat, dtype=object), use_na_sentinel=True)
    keys = {str(k): v for k, v in mapping.items()}
    by_length = sorted(keys, key=len, reverse=True)

    def find(code: Any) -> Any:
        text = str(code)
        if text in keys:
            return keys[text]
        if prefix:
            for key in by_length:
                if text.startswith(key):
                    return keys[key]
        return default

    lut = np.array([find(u) for u in uniques] + [default], dtype=dtype)
    return lut[index].reshape(arr.shape)


def grade_by_table(values: ArrayLike, mapping: Mapping[Any, int], prefix: bool = False) -> NDArray[np.uint8]:
    """Grade categorical codes by a table (e.g. TRZD 沙土 → 5, YFCD 高易发 → 2); unknown/None → 0.

    See :func:`lookup_codes` for ``prefix``.
    """
    return lookup_codes(values, mapping, default=0, dtype=np.uint8, prefix=prefix)
