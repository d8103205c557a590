"""嘎查 (village) classification by an ordered rule table, population trend, and 宅基地 control scale.

Pure functions (no I/O) used by :mod:`erenhot.topics.t06_village_layout`; every threshold comes from
``erenhot/config/t06_village_layout.yaml``.

Classes (evaluation spec §5.6 [S22][S23] [H]; 《乡村振兴战略规划（2018—2022年）》): 集聚提升类,
城郊融合类, 特色保护类, 搬迁撤并类; villages whose direction is unclear stay 暂不分类 (2019
中农办等《关于统筹推进村庄规划工作的意见》 [M]). The decision table (spec §5.6 implementation sketch
[L]) is a list of :class:`Rule` evaluated **in order; the first rule whose conditions hold decides**;
when none holds the village takes the fallback class (暂不分类).

Boundary semantics are those of the operator written in the rule — nothing is implied:
``>=`` includes the threshold, ``>`` excludes it, likewise ``<=``/``<``; ``==``/``!=`` compare
exactly. Indicator values are rounded to ``decimals`` (default 6) before the comparison so that a
value computed in floating point that equals a threshold in decimal (e.g. a change of −30 % from
``(70 − 100) / 100 · 100 = −30.000000000000004``) lands on it. A missing indicator (``None`` or
NaN) makes its condition **false** (never true), and the reasons say the value was missing.

Sampling helpers (:func:`cells_within`, :func:`class_share`, :func:`value_at`, :func:`sample_value`) work on a north-up
grid given by its affine transform (x = c + col·a, y = f + row·e, cell centres at +0.5); distances
in the grid CRS's metres (EPSG:4525 in the pipeline).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "OPERATORS",
    "Classification",
    "Condition",
    "Rule",
    "RuleTable",
    "cells_within",
    "class_share",
    "classify",
    "homestead_quota",
    "one_household_one_homestead",
    "parse_rules",
    "sample_value",
    "value_at",
]

#: Comparison operators a rule condition may use (boundary semantics as in Python).
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
}


@dataclass(frozen=True)
class Condition:
    """``indicator op threshold`` — e.g. ``travel_time_min <= 30``.

    Attributes:
        indicator: name of an indicator (a key of the indicator table).
        op: one of :data:`OPERATORS`.
        threshold: the number compared against.
        threshold_name: the config key the threshold came from (``thresholds.<name>``), or ``""``
            when the rule wrote the number itself.
    """

    indicator: str
    op: str
    threshold: float
    threshold_name: str = ""

    def holds(self, value: Any, decimals: int = 6) -> bool:
        """True when ``value op threshold``; ``False`` for a missing value (None/NaN)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        v = round(float(value), decimals)
        return bool(OPERATORS[self.op](v, round(float(self.threshold), decimals)))


@dataclass(frozen=True)
class Rule:
    """One row of the decision table.

    Attributes:
        id: short name of the rule (``heritage``, ``suburban`` …).
        cls: the class assigned (e.g. ``特色保护类``).
        reason_zh: the reason text, written before the indicators that decided.
        all: conditions that must all hold (empty = no requirement).
        any: conditions of which at least one must hold (empty = no requirement).
    """

    id: str
    cls: str
    reason_zh: str
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class RuleTable:
    """Ordered rules, the fallback class and the indicator names/units used in reasons."""

    rules: tuple[Rule, ...]
    fallback: str
    fallback_reason_zh: str
    indicators: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    decimals: int = 6


@dataclass(frozen=True)
class Classification:
    """Result for one village: class, the rule id (``fallback`` when none matched) and reasons."""

    cls: str
    rule: str
    reason_zh: str
    decisive: tuple[str, ...]


def _condition(raw: Mapping[str, Any], thresholds: Mapping[str, Any], indicators: Mapping[str, Any],
               where: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: a condition must be a mapping {{indicator, op, threshold|value}}, got {raw!r}")
    ind = raw.get("indicator")
    if ind not in indicators:
        raise ValueError(f"{where}: unknown indicator {ind!r} (known: {sorted(indicators)})")
    op = raw.get("op")
    if op not in OPERATORS:
        raise ValueError(f"{where}: unknown operator {op!r} for {ind} (allowed: {sorted(OPERATORS)})")
    if "threshold" in raw:
        name = raw["threshold"]
        if name not in thresholds:
            raise ValueError(f"{where}: unknown threshold {name!r} for {ind} (known: {sorted(thresholds)})")
        value, tname = thresholds[name], str(name)
    elif "value" in raw:
        value, tname = raw["value"], ""
    else:
        raise ValueError(f"{where}: condition on {ind} needs 'threshold' (a thresholds.* name) or 'value'")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: threshold of {ind} must be a number, got {value!r}")
    return Condition(str(ind), str(op), float(value), tname)


def parse_rules(rules: Sequence[Mapping[str, Any]], thresholds: Mapping[str, Any], indicators: Mapping[str, Any],
                fallback: str, fallback_reason_zh: str, classes: Sequence[str] | None = None,
                decimals: int = 6) -> RuleTable:
    """Build a :class:`RuleTable` from the configuration (``rules``, ``thresholds``, ``indicators``).

    Args:
        rules: ``[{id, class, reason_zh, all: [cond…], any: [cond…]}, …]`` in decision order; a
            condition is ``{indicator, op, threshold: <name in thresholds>}`` or ``{indicator, op, value}``.
        thresholds: threshold name → number (config ``thresholds``).
        indicators: indicator name → ``{zh, unit, …}`` (config ``indicators``): the known names.
        fallback: the class when no rule holds (暂不分类).
        classes: the allowed class names (None = any).
        decimals: rounding of values and thresholds before comparing.

    Raises:
        ValueError: an unknown indicator, operator, threshold name or class, a rule without
            conditions, a duplicate rule id — the message names the rule.
    """
    if not rules:
        raise ValueError("rules: the decision table is empty")
    out, seen = [], set()
    allowed = set(classes) if classes is not None else None
    for i, raw in enumerate(rules):
        rid = str(raw.get("id", f"#{i + 1}")) if isinstance(raw, Mapping) else f"#{i + 1}"
        where = f"rules[{i}] ({rid})"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: a rule must be a mapping, got {raw!r}")
        unknown = set(raw) - {"id", "class", "reason_zh", "all", "any", "note"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        if rid in seen:
            raise ValueError(f"{where}: duplicate rule id {rid!r}")
        seen.add(rid)
        cls = raw.get("class")
        if not isinstance(cls, str) or not cls or (allowed is not None and cls not in allowed):
            raise ValueError(f"{where}: unknown class {cls!r} (allowed: {sorted(allowed) if allowed else 'any name'})")
        all_ = tuple(_condition(c, thresholds, indicators, where) for c in raw.get("all") or ())
        any_ = tuple(_condition(c, thresholds, indicators, where) for c in raw.get("any") or ())
        if not all_ and not any_:
            raise ValueError(f"{where}: a rule needs at least one condition in 'all' or 'any'")
        out.append(Rule(rid, cls, str(raw.get("reason_zh", cls)), all_, any_))
    if allowed is not None and fallback not in allowed:
        raise ValueError(f"fallback class {fallback!r} is not among the classes {sorted(allowed)}")
    return RuleTable(tuple(out), fallback, fallback_reason_zh, dict(indicators), decimals)


def _fmt(value: Any, spec: Mapping[str, Any]) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "无数据"
    fmt = str(spec.get("fmt", "{:.4g}"))
    unit = str(spec.get("unit", "") or "")
    text = fmt.format(value)
    return f"{text}{unit}" if unit not in ("", "1") else text


def _describe(c: Condition, value: Any, table: RuleTable) -> str:
    spec = table.indicators.get(c.indicator, {})
    name = spec.get("zh", c.indicator)
    return f"{name} {_fmt(value, spec)} {c.op} {_fmt(c.threshold, spec)}"


def classify(values: Mapping[str, Any], table: RuleTable) -> Classification:
    """Classify one village by the first rule of ``table`` whose conditions hold.

    A rule holds when every ``all`` condition holds and (if it has ``any`` conditions) at least one
    ``any`` condition holds. The reason lists every condition that decided: all ``all`` conditions
    and the ``any`` conditions that held, each as ``名称 值 运算符 阈值`` (e.g. ``至城区通行时间
    12.5 min <= 30 min``). When no rule holds the fallback class is returned and the reason lists, for
    each rule, the first condition that failed.

    Args:
        values: indicator name → number (None/NaN = missing; a missing value never satisfies a
            condition).
        table: from :func:`parse_rules`.

    Raises:
        ValueError: ``values`` lacks an indicator a rule uses (names it).
    """
    needed = {c.indicator for r in table.rules for c in (*r.all, *r.any)}
    missing = needed - set(values)
    if missing:
        raise ValueError(f"indicator(s) {sorted(missing)} missing from the village's values")
    d = table.decimals
    failed: list[str] = []
    for rule in table.rules:
        bad = next((c for c in rule.all if not c.holds(values[c.indicator], d)), None)
        held_any = [c for c in rule.any if c.holds(values[c.indicator], d)]
        if bad is None and (not rule.any or held_any):
            decisive = [*rule.all, *held_any]
            parts = [_describe(c, values[c.indicator], table) for c in decisive]
            return Classification(rule.cls, rule.id, f"{rule.reason_zh}：{'；'.join(parts)}",
                                  tuple(c.indicator for c in decisive))
        if bad is not None:
            failed.append(f"{rule.cls}（{rule.id}）不满足 {_describe(bad, values[bad.indicator], table)}")
        else:
            failed.append(f"{rule.cls}（{rule.id}）不满足 " + " 或 ".join(_describe(c, values[c.indicator], table) for c in rule.any))
    decisive = tuple(sorted(needed))
    return Classification(table.fallback, "fallback", f"{table.fallback_reason_zh}：{'；'.join(failed)}", decisive)


# ── 宅基地 control scale ──────────────────────────────────────────────────────────────────────────

def homestead_quota(households: float, standard_m2: float, *, homesteads_per_household: int = 1) -> float:
    """宅基地 control scale (m²) = households × homesteads per household (一户一宅 → 1) × area standard (m²/宅).

    Raises:
        ValueError: negative households, a non-positive standard, or ``homesteads_per_household != 1``
            (《土地管理法》第六十二条: 农村村民一户只能拥有一处宅基地).
    """
    if households < 0 or (isinstance(households, float) and math.isnan(households)):
        raise ValueError(f"households must be a number ≥ 0, got {households}")
    if not standard_m2 > 0:
        raise ValueError(f"the homestead standard must be > 0 m², got {standard_m2}")
    if homesteads_per_household != 1:
        raise ValueError("一户一宅: the Land Administration Law (art. 62) allows one homestead per household")
    return float(households) * float(standard_m2)


# ── sampling on a grid ───────────────────────────────────────────────────────────────────────────

def cells_within(transform: Any, shape: tuple[int, int], x: float, y: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the cells whose centre lies within ``radius_m`` (≤, inclusive) of (x, y).

    When no centre is that close (radius below half a cell), the one cell containing (x, y) is
    returned; a point outside the grid gives empty arrays.
    """
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    rows_n, cols_n = shape
    col0, row0 = int(math.floor((x - c) / a)), int(math.floor((y - f) / e))
    k = int(math.ceil(radius_m / abs(a))) + 1
    r = np.arange(max(row0 - k, 0), min(row0 + k + 1, rows_n))
    q = np.arange(max(col0 - k, 0), min(col0 + k + 1, cols_n))
    rr, qq = np.meshgrid(r, q, indexing="ij")
    cx, cy = c + (qq + 0.5) * a, f + (rr + 0.5) * e
    near = np.hypot(cx - x, cy - y) <= radius_m
    if near.any():
        return rr[near], qq[near]
    if 0 <= row0 < rows_n and 0 <= col0 < cols_n:
        return np.array([row0]), np.array([col0])
    return np.array([], dtype=int), np.array([], dtype=int)


def class_share(array: np.ndarray, transform: Any, x: float, y: float, radius_m: float,
                classes: Sequence[int], nodata: Sequence[int] = (0,)) -> float:
    """Share (0–1) of the valid cells within ``radius_m`` of (x, y) whose class is in ``classes``.

    Valid = not in ``nodata`` (0 = outside the city in the pipeline's class rasters). NaN when no
    valid cell lies there.
    """
    rows, cols = cells_within(transform, array.shape, x, y, radius_m)
    vals = array[rows, cols]
    vals = vals[~np.isin(vals, list(nodata))]
    if vals.size == 0:
        return float("nan")
    return float(np.isin(vals, list(classes)).sum()) / float(vals.size)


def value_at(array: np.ndarray, transform: Any, x: float, y: float, radius_m: float = 0.0) -> float:
    """The value of the cell containing (x, y); when it is NaN (or the point is off the grid), the
    mean of the non-NaN cells within ``radius_m``; NaN when there is none.

    The fallback is silent here: callers that must report it use :func:`sample_value`."""
    return sample_value(array, transform, x, y, radius_m)[0]


#: How :func:`sample_value` obtained its value.
SAMPLED_CELL, SAMPLED_BUFFER_MEAN, SAMPLED_NONE = "cell", "buffer_mean", "none"


def sample_value(array: np.ndarray, transform: Any, x: float, y: float, radius_m: float = 0.0) -> tuple[float, str]:
    """As :func:`value_at`, with how the value was obtained.

    Returns:
        ``(value, how)``: ``how`` is :data:`SAMPLED_CELL` (the cell containing the point),
        :data:`SAMPLED_BUFFER_MEAN` (that cell is NaN or off the grid: mean of the non-NaN cells within
        ``radius_m``) or :data:`SAMPLED_NONE` (NaN: no valid cell at all).
    """
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    row, col = int(math.floor((y - f) / e)), int(math.floor((x - c) / a))
    if 0 <= row < array.shape[0] and 0 <= col < array.shape[1]:
        v = float(array[row, col])
        if not math.isnan(v):
            return v, SAMPLED_CELL
    if radius_m > 0:
        rows, cols = cells_within(transform, array.shape, x, y, radius_m)
        vals = array[rows, cols].astype(float)
        vals = vals[~np.isnan(vals)]
        if vals.size:
            return float(vals.mean()), SAMPLED_BUFFER_MEAN
    return float("nan"), SAMPLED_NONE


# ── 一户一宅 check against 18-03 ──────────────────────────────────────────────────────────────────

#: Labels of :func:`one_household_one_homestead`.
OHOH_OK, OHOH_VIOLATED, OHOH_NO_DATA = "符合", "须整改（一户多宅）", "无数据"


def one_household_one_homestead(multi_homestead_households: Any) -> str:
    """The 一户一宅 status of a 嘎查 from its 一户多宅户数 (18-03 ``YHDZHS``).

    ``0`` → :data:`OHOH_OK`; a positive count → :data:`OHOH_VIOLATED`; a missing or non-numeric value
    (None, NaN, empty text) → :data:`OHOH_NO_DATA` — a missing count is never read as compliant or as a
    violation.
    """
    if multi_homestead_households is None:
        return OHOH_NO_DATA
    try:
        v = float(multi_homestead_households)
    except (TypeError, ValueError):
        return OHOH_NO_DATA
    if math.isnan(v):
        return OHOH_NO_DATA
    return OHOH_OK if v == 0 else OHOH_VIOLATED
