"""国土空间生态修复 and 国土综合整治 (topic 7): degradation, restoration priority, graded protection,
consolidation zones and the decomposition of the new restoration area. Pure numpy/pandas on grids.

Codes used throughout:

* ecological importance (T02 ``eco_importance``): 1 极重要, 2 重要, 3 一般, 0 outside;
* degradation grade: 0 none, 1 轻度, 2 中度, 3 重度;
* restoration priority: 0 none, 1 一级 (首要), 2 二级, 3 三级 — ``priority_matrix[importance][degradation]``;
* graded protection (修复模式 of 《山水林田湖草生态保护修复工程指南（试行）》, 2020): 1 保护保育,
  2 自然恢复, 3 辅助再生, 4 生态重建, 0 outside / not ecological.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def degradation_grade(layers: Sequence[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Combine degradation layers (each already graded 0–3) into the worst grade per cell and the
    index (1-based, in ``layers`` order) of the layer that gives it; ties go to the earlier layer.

    Args:
        layers: ``(name, grade array)`` pairs of one shape, in precedence order.

    Returns:
        ``(grade, source)``: uint8 arrays; ``source`` is 0 where the grade is 0.
    """
    if not layers:
        raise ValueError("degradation_grade needs at least one layer")
    stack = np.stack([np.asarray(a, dtype=np.int16) for _n, a in layers])
    grade = stack.max(axis=0)
    source = np.where(grade > 0, np.argmax(stack == grade[None], axis=0) + 1, 0)
    return grade.astype(np.uint8), source.astype(np.uint8)


def grade_from_labels(labels: np.ndarray, mapping: Mapping[str, int]) -> np.ndarray:
    """Degradation grade of label codes (e.g. ``{"轻度": 1, …}``); unknown labels → 0."""
    out = np.zeros(np.shape(labels), dtype=np.uint8)
    for k, v in mapping.items():
        out[np.asarray(labels) == k] = int(v)
    return out


def restoration_priority(importance: np.ndarray, degradation: np.ndarray,
                         matrix: Mapping[int, Sequence[int]]) -> np.ndarray:
    """Restoration priority = ecological importance × degradation through a lookup matrix.

    Args:
        importance: T02 grades 1 极重要 / 2 重要 / 3 一般 (0 = outside).
        degradation: 0–3 (0 none).
        matrix: ``{importance: [priority at degradation 0, 1, 2, 3]}``.

    Returns:
        uint8 priority (0 where importance is 0 or not in the matrix).
    """
    imp = np.asarray(importance, dtype=np.int16)
    deg = np.clip(np.asarray(degradation, dtype=np.int16), 0, 3)
    out = np.zeros(imp.shape, dtype=np.uint8)
    for grade, row in matrix.items():
        row = np.asarray(list(row), dtype=np.uint8)
        if row.size != 4:
            raise ValueError(f"priority matrix row {grade} needs 4 values (degradation 0–3), got {row.size}")
        sel = imp == int(grade)
        out[sel] = row[deg[sel]]
    return out


def protection_grading(importance: np.ndarray, degradation: np.ndarray, red_line: np.ndarray,
                       very_fragile: np.ndarray, ecological: np.ndarray, *, rebuild_min_degradation: int = 3,
                       assist_min_degradation: int = 2, protect_importance: Sequence[int] = (1,)) -> np.ndarray:
    """分级分类保护: the restoration mode of each ecological cell.

    Rules, first match wins:

    1. degradation ≥ ``rebuild_min_degradation`` → 4 生态重建;
    2. degradation ≥ ``assist_min_degradation`` → 3 辅助再生;
    3. degradation ≥ 1, or 极脆弱 (``very_fragile``) outside the red line → 2 自然恢复;
    4. red line, or importance in ``protect_importance`` → 1 保护保育;
    5. any other ecological cell → 2 自然恢复 (light intervention: 封育, 草畜平衡).

    Cells outside ``ecological`` (built-up, farmland, outside the city) get 0.
    """
    deg = np.asarray(degradation, dtype=np.int16)
    imp = np.asarray(importance, dtype=np.int16)
    red = np.asarray(red_line, dtype=bool)
    out = np.zeros(deg.shape, dtype=np.uint8)
    eco = np.asarray(ecological, dtype=bool) & (imp > 0)
    rules = [
        (deg >= rebuild_min_degradation, 4),
        (deg >= assist_min_degradation, 3),
        ((deg >= 1) | (np.asarray(very_fragile, dtype=bool) & ~red), 2),
        (red | np.isin(imp, list(protect_importance)), 1),
        (np.ones(deg.shape, dtype=bool), 2),
    ]
    for cond, code in rules:
        out[(out == 0) & eco & cond] = code
    return out


def first_match(masks: Mapping[str, np.ndarray], order: Sequence[str], codes: Mapping[str, int]) -> np.ndarray:
    """Zone code per cell: the code of the first mask in ``order`` that is true (0 if none).

    Used for the 国土综合整治分区 (rules in config ``consolidation_zones``)."""
    shape = np.shape(next(iter(masks.values())))
    out = np.zeros(shape, dtype=np.uint8)
    for name in order:
        if name not in masks:
            raise KeyError(f"no mask for consolidation zone {name!r}")
        out[(out == 0) & np.asarray(masks[name], dtype=bool)] = int(codes[name])
    return out


def decompose_new_area(areas: pd.DataFrame, schedule: Mapping[int, Mapping[int, float]]) -> pd.DataFrame:
    """Decompose the new restoration area of the planning period by township, type and target year.

    Args:
        areas: one row per township × restoration type × priority with columns ``township``, ``type``,
            ``priority`` (1–3) and ``area_hm2`` (the area needing restoration).
        schedule: ``{year: {priority: cumulative share restored by that year}}``, e.g.
            ``{2025: {1: 0.6}, 2035: {1: 1.0, 2: 1.0, 3: 0.5}}``.

    Returns:
        Columns ``township, type, year, area_hm2`` (cumulative new restoration area by ``year``) and
        ``increment_hm2`` (restored in the period ending ``year``), sorted by year, township, type.
    """
    years = sorted(int(y) for y in schedule)
    rows = []
    for (town, kind), g in areas.groupby(["township", "type"], sort=True):
        prev = 0.0
        for y in years:
            shares = {int(k): float(v) for k, v in schedule[y].items()}
            total = float(sum(float(r.area_hm2) * shares.get(int(r.priority), 0.0) for r in g.itertuples()))
            rows.append({"township": town, "type": kind, "year": y, "area_hm2": total, "increment_hm2": total - prev})
            prev = total
    out = pd.DataFrame(rows, columns=["township", "type", "year", "area_hm2", "increment_hm2"])
    return out.sort_values(["year", "township", "type"]).reset_index(drop=True)
