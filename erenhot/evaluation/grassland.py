"""天然草地合理载畜量 and 草畜平衡: grassland carrying capacity per NY/T 635-2015 《天然草地合理载畜量的
计算》 (topic 9 林地草地湿地适宜性评价与保护恢复, output ``t09.stocking_rate`` 适宜载畜量标准) and the
grass–livestock balance of topic 13 (农牧业现代化发展格局; evaluation spec §2, §8 item 9).

The reasonable stocking rate of a grassland type ``t`` for a grazing season ``s`` (spec §2.2 [M —
the symbols are the spec's structural reading of NY/T 635-2015; the standard's seven formulas and
its clause numbers were not read, spec §7 item 3])::

    A_u = Y · (1 − r) · (1 + g) · E · U · H · M / (I · D)     羊单位/hm²
    A_a = 1 / A_u                                             hm²/羊单位
    A   = Σ_t A_u,t · S_t                                     羊单位

* ``Y`` edible (可食) forage yield, kg/hm² (= kg/ha) on the moisture basis ``w_Y`` of the delivered
  yields (ground sampling or remote-sensing model, spec §2.1);
* ``r`` dry-year downward adjustment (DB63/T 2298-2024 [S17], 5–10 % in a dry year; 0 normally) [M];
* ``g`` regrowth rate 再生率, type-specific, **only** for warm-season / whole-year use [M; values L];
* ``E`` edible proportion 可食牧草比例 (1 when ``Y`` is already the edible yield) [M];
* ``U`` utilisation rate 利用率 by type and season, a range in the recalled table (spec §2.3 [L]);
  the configured ``utilisation_pick`` (lower / mid / upper) chooses the point;
* ``H`` standard-hay conversion coefficient 标准干草折算系数, fixed per type since 2015 (≈1.0 for
  grass-dominated steppe types) [L for values];
* ``M = (1 − w_Y)/(1 − w_hay)`` converts the yield's moisture basis to standard hay (14 % moisture,
  NY/T 3647-2020 [S18] [M]); ``w_Y = w_hay`` gives ``M = 1``, the spec's formula as written;
* ``I`` = 1.8 kg standard hay per 羊单位 per day (NY/T 635-2015: one adult 45 kg sheep) [H];
* ``D`` grazing days: 365 whole year [H]; warm ≈150–180, cold ≈185–215 d [L]; spring/autumn not
  given by the spec (must be configured before use).

Every coefficient lives in ``erenhot/config/t09_forest_grass_wetland.yaml`` (branch ``stocking``);
livestock conversion (spec §2.4 [M]) and the balance classes (not in the spec → [L]) in
``erenhot/config/t13_agri_modernisation.yaml`` (branches ``livestock`` and ``balance``). Build the
parameter objects with ``cfg.params(StockingParams, "stocking")`` etc.

Rasters are ``(rows, cols)`` on the common EPSG:4525 grid (equal-area cells); tables are pandas
DataFrames whose column names are the field's terms (module constants below, e.g. ``合理载畜量
羊单位``). Pure numpy/pandas, no I/O. Errors are ``ValueError`` naming the offending value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ACTUAL",
    "AREA_HA",
    "BALANCE",
    "CAPACITY",
    "GRASS_TYPE",
    "HA_PER_SU",
    "HEAD",
    "NO_YIELD_AREA_HA",
    "OVERLOAD",
    "OVERLOAD_PCT",
    "REDUCTION",
    "SEASONS",
    "SHEEP_UNITS",
    "SPECIES",
    "STANDARD_COEF",
    "SU_FACTOR",
    "SU_PER_HA",
    "YIELD",
    "ZONE",
    "BalanceParams",
    "LivestockParams",
    "StockingCoefficients",
    "StockingParams",
    "balance_class",
    "capacity_from_standard",
    "gacha_class",
    "grade_ascending",
    "carrying_capacity_raster",
    "carrying_capacity_table",
    "grass_livestock_balance",
    "hectares_per_sheep_unit",
    "livestock_by_township",
    "livestock_sheep_units",
    "overload_ratio_pct",
    "reduction_path",
    "stocking_rate_raster",
    "stocking_rate_table",
    "stocking_standard_table",
    "to_sheep_units",
    "township_totals",
]

SEASONS = ("warm", "spring_autumn", "cold", "whole_year")
"""Grazing seasons of the NY/T 635 utilisation table (spec §2.3): 暖季, 春秋季, 冷季, 全年."""

_SEASON_ZH = {"warm": "暖季", "spring_autumn": "春秋季", "cold": "冷季", "whole_year": "全年"}
_PICKS = ("lower", "mid", "upper")
_TYPE_KEYS = ("code", "utilisation_rate_pct", "regrowth_rate", "hay_coefficient", "edible_proportion")

# Column names (the field's terms; units after a space, as in the topic tables).
ZONE = "乡镇"
"""Zone key column (乡镇/苏木; a 嘎查 raster works the same way)."""
GRASS_TYPE = "草地类型"
"""Grassland type (草地类, national classification names as in the config, e.g. 温性荒漠草原类)."""
AREA_HA = "草地面积 hm²"
NO_YIELD_AREA_HA = "缺产草量面积 hm²"
"""Grassland area without a yield value (not counted in the capacity)."""
YIELD = "可食产草量 kg/hm²"
SU_PER_HA = "合理载畜量 羊单位/hm²"
HA_PER_SU = "每羊单位草地面积 hm²"
CAPACITY = "合理载畜量 羊单位"
SPECIES = "畜种"
HEAD = "存栏数 头只"
SU_FACTOR = "折算系数 羊单位/头只"
SHEEP_UNITS = "折合羊单位"
ACTUAL = "现状载畜量 羊单位"
OVERLOAD = "超载量 羊单位"
OVERLOAD_PCT = "超载率 %"
REDUCTION = "应减畜量 羊单位"
BALANCE = "草畜平衡状况"


def _finite_number(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


# ── NY/T 635-2015 stocking rate ────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class StockingCoefficients:
    """The coefficients of the NY/T 635-2015 stocking-rate formula for one grassland type and season
    (spec §2.2 [M]).

    Attributes:
        utilisation: ``U``, fraction (0, 1] (the config holds % ranges; :class:`StockingParams`
            converts and picks).
        hay_coefficient: ``H`` > 0, standard-hay conversion coefficient [L].
        grazing_days: ``D``, days (0, 366].
        intake_kg_per_day: ``I`` > 0, kg standard hay per 羊单位 per day (1.8 in NY/T 635-2015 [H]).
        regrowth: ``g`` ≥ 0 (0 = no regrowth credit; applies only to warm / whole-year use [M]).
        edible_proportion: ``E`` in (0, 1] (1 = the yield is already the edible yield) [M].
        basis_factor: ``M`` > 0, moisture conversion of the yield basis to standard hay (1 = none).
        dry_year_reduction: ``r`` in [0, 1) (DB63/T 2298-2024: 0.05–0.10 in a dry year) [M].

    Raises:
        ValueError: a coefficient outside its range (the message names it and its value).
    """

    utilisation: float
    hay_coefficient: float
    grazing_days: float
    intake_kg_per_day: float
    regrowth: float = 0.0
    edible_proportion: float = 1.0
    basis_factor: float = 1.0
    dry_year_reduction: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "utilisation": lambda v: 0.0 < v <= 1.0,
            "hay_coefficient": lambda v: v > 0.0,
            "grazing_days": lambda v: 0.0 < v <= 366.0,
            "intake_kg_per_day": lambda v: v > 0.0,
            "regrowth": lambda v: v >= 0.0,
            "edible_proportion": lambda v: 0.0 < v <= 1.0,
            "basis_factor": lambda v: v > 0.0,
            "dry_year_reduction": lambda v: 0.0 <= v < 1.0,
        }
        ranges = {
            "utilisation": "(0, 1]", "hay_coefficient": "> 0", "grazing_days": "(0, 366] d",
            "intake_kg_per_day": "> 0 kg/d", "regrowth": "≥ 0", "edible_proportion": "(0, 1]",
            "basis_factor": "> 0", "dry_year_reduction": "[0, 1)",
        }
        for name, ok in checks.items():
            value = _finite_number(getattr(self, name), name)
            if not ok(value):
                raise ValueError(f"{name} must be in {ranges[name]}, got {getattr(self, name)!r}")

    @property
    def sheep_units_per_kg_yield(self) -> float:
        """``(1 − r)(1 + g) · E · U · H · M / (I · D)``: 羊单位/hm² per kg/hm² of yield."""
        return ((1.0 - self.dry_year_reduction) * (1.0 + self.regrowth) * self.edible_proportion * self.utilisation
                * self.hay_coefficient * self.basis_factor / (self.intake_kg_per_day * self.grazing_days))

    def sheep_units_per_ha(self, yield_kg_per_ha: ArrayLike) -> NDArray[np.float64]:
        """Reasonable stocking rate ``A_u`` (spec §2.2 [M], NY/T 635-2015), 羊单位/hm².

        Args:
            yield_kg_per_ha: edible forage yield ``Y``, kg/hm², any shape; NaN = no data → NaN.

        Raises:
            ValueError: a negative or infinite yield (the message names the value).
        """
        y = np.asarray(yield_kg_per_ha, dtype=np.float64)
        _check_yields(y, "yield_kg_per_ha")
        return y * self.sheep_units_per_kg_yield


def _check_yields(y: NDArray[np.float64], what: str, labels: ArrayLike | None = None) -> None:
    bad = np.isinf(y) | (y < 0)
    if np.any(bad):
        first = y[bad].flat[0]
        where = ""
        if labels is not None:
            where = f" at row {np.asarray(labels)[bad].flat[0]!r}"
        raise ValueError(f"{what}: forage yield must be ≥ 0 kg/hm² and finite, got {first!r}{where} "
                         f"({int(bad.sum())} value(s); mask no-data as NaN)")


@dataclass(frozen=True)
class StockingParams:
    """NY/T 635-2015 parameters of all grassland types (config ``t09_forest_grass_wetland.yaml``,
    branch ``stocking``; build with ``cfg.params(StockingParams, "stocking")``).

    Attributes:
        intake_kg_per_day: ``I`` = 1.8 kg standard hay/(羊单位·d) (spec §2.1 [S16] [H]).
        standard_hay_moisture_fraction: ``w_hay`` = 0.14 (spec §2.1, NY/T 3647-2020 [S18] [M]).
        yield_moisture_fraction: ``w_Y``, the moisture basis of the yields [L]: = ``w_hay`` → no
            conversion (the spec's formula as written); 0 → oven-dry matter; ≈0.65 → fresh weight.
        season: ``warm`` | ``spring_autumn`` | ``cold`` | ``whole_year`` [M].
        grazing_days: season → days (None = not configured; an error only for the chosen season).
        utilisation_pick: ``lower`` | ``mid`` | ``upper`` end of the ``U`` range [L].
        regrowth_seasons: seasons in which ``g`` applies (spec §2.2: warm, whole year) [M].
        dry_year_reduction: ``r`` in [0, 1) [M].
        types: type name (e.g. ``温性荒漠草原类``) → ``{code, utilisation_rate_pct: {season:
            [lower, upper] %}, regrowth_rate, hay_coefficient, edible_proportion}``; ``code`` ≥ 1
            is the value of the type in the grassland-type raster (0 = not grassland).

    Raises:
        ValueError: unknown season or pick, missing grazing days for the chosen season, a type
            without one of its keys, repeated or non-positive codes, a utilisation range outside
            (0, 100] % or with lower > upper, or a coefficient out of range.
    """

    intake_kg_per_day: float
    standard_hay_moisture_fraction: float
    yield_moisture_fraction: float
    season: str
    grazing_days: Mapping[str, float | None]
    utilisation_pick: str
    regrowth_seasons: tuple[str, ...]
    dry_year_reduction: float
    types: Mapping[str, Mapping[str, Any]]

    def __post_init__(self) -> None:
        if self.season not in SEASONS:
            raise ValueError(f"unknown grazing season {self.season!r} (known: {', '.join(SEASONS)})")
        if self.utilisation_pick not in _PICKS:
            raise ValueError(f"unknown utilisation_pick {self.utilisation_pick!r} (known: {', '.join(_PICKS)})")
        for s in [*self.regrowth_seasons, *self.grazing_days]:
            if s not in SEASONS:
                raise ValueError(f"unknown grazing season {s!r} (known: {', '.join(SEASONS)})")
        if self.grazing_days.get(self.season) is None:
            raise ValueError(f"grazing_days for season {self.season!r} is not configured "
                             f"(stocking.grazing_days.{self.season} is null)")
        for name in ("standard_hay_moisture_fraction", "yield_moisture_fraction"):
            value = _finite_number(getattr(self, name), name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if not self.types:
            raise ValueError("no grassland types configured")
        codes: dict[int, str] = {}
        for type_name, spec in self.types.items():
            missing = [k for k in _TYPE_KEYS if k not in spec]
            if missing:
                raise ValueError(f"grassland type {type_name!r} lacks {missing}")
            code = spec["code"]
            if isinstance(code, bool) or not isinstance(code, int) or code < 1:
                raise ValueError(f"grassland type {type_name!r}: code must be an integer ≥ 1, got {code!r}")
            if code in codes:
                raise ValueError(f"grassland types {codes[code]!r} and {type_name!r} share code {code}")
            codes[code] = type_name
            rates = spec["utilisation_rate_pct"]
            for s, rng in rates.items():
                if s not in SEASONS:
                    raise ValueError(f"grassland type {type_name!r}: unknown season {s!r} in utilisation_rate_pct")
                lo, hi = (_finite_number(v, f"{type_name} utilisation_rate_pct.{s}") for v in rng)
                if not 0.0 < lo <= hi <= 100.0:
                    raise ValueError(f"grassland type {type_name!r}: utilisation_rate_pct.{s} must be "
                                     f"0 < lower ≤ upper ≤ 100 %, got {list(rng)!r}")
            if self.season not in rates:
                raise ValueError(f"grassland type {type_name!r} has no utilisation rate for season {self.season!r}")
            self.coefficients(type_name)  # range checks of every coefficient

    @property
    def basis_factor(self) -> float:
        """``M = (1 − w_Y) / (1 − w_hay)``: yield basis → standard hay (1 when the bases agree)."""
        return (1.0 - self.yield_moisture_fraction) / (1.0 - self.standard_hay_moisture_fraction)

    @property
    def type_by_code(self) -> dict[int, str]:
        """Raster code → type name, in code order."""
        return {int(spec["code"]): name for name, spec in sorted(self.types.items(), key=lambda kv: kv[1]["code"])}

    def _type(self, type_name: str) -> Mapping[str, Any]:
        if type_name not in self.types:
            raise ValueError(f"unknown grassland type {type_name!r} (known: {', '.join(self.types)})")
        return self.types[type_name]

    def utilisation(self, type_name: str) -> float:
        """``U`` of a type for the configured season, fraction 0–1: the lower / mid / upper end of
        the configured % range (spec §2.3 [L]).

        Raises:
            ValueError: unknown type (the message names it).
        """
        lo, hi = (float(v) for v in self._type(type_name)["utilisation_rate_pct"][self.season])
        pct = {"lower": lo, "mid": (lo + hi) / 2.0, "upper": hi}[self.utilisation_pick]
        return pct / 100.0

    def coefficients(self, type_name: str) -> StockingCoefficients:
        """The formula's coefficients for one type and the configured season.

        ``g`` is the type's regrowth rate when the season is in ``regrowth_seasons``, else 0
        (spec §2.2: regrowth only for warm-season / whole-year use).

        Raises:
            ValueError: unknown type (the message names it), or a coefficient out of range.
        """
        spec = self._type(type_name)
        regrowth = float(spec["regrowth_rate"]) if self.season in self.regrowth_seasons else 0.0
        return StockingCoefficients(
            utilisation=self.utilisation(type_name),
            hay_coefficient=float(spec["hay_coefficient"]),
            grazing_days=float(self.grazing_days[self.season]),  # type: ignore[arg-type]
            intake_kg_per_day=float(self.intake_kg_per_day),
            regrowth=regrowth,
            edible_proportion=float(spec["edible_proportion"]),
            basis_factor=self.basis_factor,
            dry_year_reduction=float(self.dry_year_reduction),
        )


def hectares_per_sheep_unit(sheep_units_per_ha: ArrayLike) -> NDArray[np.float64]:
    """``A_a = 1 / A_u`` (spec §2.2), hm² of grassland per 羊单位.

    Args:
        sheep_units_per_ha: ``A_u`` ≥ 0, any shape; NaN stays NaN, 0 → ``inf`` (no capacity).

    Raises:
        ValueError: a negative stocking rate.
    """
    su = np.asarray(sheep_units_per_ha, dtype=np.float64)
    if np.any(su < 0):
        raise ValueError(f"stocking rate must be ≥ 0 羊单位/hm², got {su[su < 0].flat[0]!r}")
    with np.errstate(divide="ignore"):
        return 1.0 / su


def stocking_standard_table(params: StockingParams) -> pd.DataFrame:
    """适宜载畜量标准 (output ``t09.stocking_rate``): the coefficients per grassland type.

    Returns:
        One row per type in code order with columns ``草地类型, 代码, 利用季节, 利用率 %, 再生率,
        可食比例, 标准干草折算系数, 产草量折算系数, 放牧天数 d, 日食量 kg/(羊单位·d), 载畜系数
        (羊单位/hm²)/(kg/hm²)`` — the last is ``A_u`` per kg/hm² of yield, so ``A_u = Y ×`` it.
    """
    rows = []
    for code, name in params.type_by_code.items():
        c = params.coefficients(name)
        rows.append({
            GRASS_TYPE: name, "代码": code, "利用季节": _SEASON_ZH[params.season],
            "利用率 %": c.utilisation * 100.0, "再生率": c.regrowth, "可食比例": c.edible_proportion,
            "标准干草折算系数": c.hay_coefficient, "产草量折算系数": c.basis_factor,
            "放牧天数 d": c.grazing_days, "日食量 kg/(羊单位·d)": c.intake_kg_per_day,
            "载畜系数 (羊单位/hm²)/(kg/hm²)": c.sheep_units_per_kg_yield,
        })
    return pd.DataFrame(rows)


def _type_codes(type_raster: ArrayLike) -> NDArray[np.int64]:
    t = np.asarray(type_raster)
    if t.dtype.kind == "f":
        t = np.where(np.isnan(t), 0.0, t)
        if np.any(t != np.round(t)):
            raise ValueError(f"type_raster: grassland type codes must be integers, got {t[t != np.round(t)].flat[0]!r}")
    elif t.dtype.kind not in "iub":
        raise ValueError(f"type_raster must hold integer codes, got dtype {t.dtype}")
    t = t.astype(np.int64)
    if np.any(t < 0):
        raise ValueError(f"type_raster: grassland type codes must be ≥ 0 (0 = not grassland), got {t[t < 0].flat[0]}")
    return t


def stocking_rate_raster(type_raster: ArrayLike, yield_raster: ArrayLike, params: StockingParams) -> NDArray[np.float64]:
    """Reasonable stocking rate per cell, ``A_u = Y · k_t`` (spec §2.2 [M], NY/T 635-2015), 羊单位/hm².

    Args:
        type_raster: integer ``(rows, cols)`` grassland-type codes (``params.types[*].code``),
            0 = not grassland / outside (a float raster with NaN for 0 is accepted).
        yield_raster: float ``(rows, cols)`` edible forage yield ``Y``, kg/hm² on the basis of
            ``params.yield_moisture_fraction``; NaN = no data. Checked on grassland cells only.
        params: :class:`StockingParams`.

    Returns:
        float64 ``(rows, cols)``: 羊单位/hm² on grassland cells, NaN elsewhere and where the
        yield is NaN. ``hectares_per_sheep_unit`` gives hm²/羊单位.

    Raises:
        ValueError: shapes differ; a code not in the configuration (named, with the known
            codes); a negative or infinite yield on a grassland cell (named).
    """
    types = _type_codes(type_raster)
    y = np.asarray(yield_raster, dtype=np.float64)
    if y.shape != types.shape:
        raise ValueError(f"type_raster {types.shape} and yield_raster {y.shape} differ in shape")
    grass = types > 0
    by_code = params.type_by_code
    unknown = sorted(set(int(v) for v in np.unique(types[grass])) - set(by_code))
    if unknown:
        raise ValueError(f"unknown grassland type code(s) {unknown} in type_raster (known: {by_code})")
    _check_yields(y[grass], "yield_raster")
    k = np.full(max(by_code) + 1, np.nan)
    for code, name in by_code.items():
        k[code] = params.coefficients(name).sheep_units_per_kg_yield
    out = np.full(types.shape, np.nan)
    out[grass] = y[grass] * k[types[grass]]
    return out


def _require_columns(table: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing} (columns: {list(table.columns)})")


def _table_rates(table: pd.DataFrame, params: StockingParams, type_col: str, yield_col: str) -> NDArray[np.float64]:
    _require_columns(table, [type_col, yield_col], "grassland table")
    names = table[type_col].astype(object).tolist()
    for label, name in zip(table.index, names):
        if name not in params.types:
            raise ValueError(f"unknown grassland type {name!r} at row {label!r} (known: {', '.join(params.types)})")
    y = pd.to_numeric(table[yield_col], errors="raise").to_numpy(dtype=np.float64)
    _check_yields(y, f"column {yield_col!r}", table.index)
    k = {name: params.coefficients(name).sheep_units_per_kg_yield for name in set(names)}
    return y * np.array([k[n] for n in names], dtype=np.float64)


def stocking_rate_table(
    table: pd.DataFrame, params: StockingParams, type_col: str = GRASS_TYPE, yield_col: str = YIELD
) -> pd.DataFrame:
    """Reasonable stocking rate of table rows (one per grassland type, plot, township × type …).

    Args:
        table: rows with a type name (a key of ``params.types``) and a yield, kg/hm² (NaN → NaN).
        params: :class:`StockingParams`.
        type_col, yield_col: the column names (default ``草地类型``, ``可食产草量 kg/hm²``).

    Returns:
        A copy of ``table`` with ``合理载畜量 羊单位/hm²`` (``A_u``) and ``每羊单位草地面积 hm²``
        (``A_a = 1/A_u``; ``inf`` for a zero yield).

    Raises:
        ValueError: a missing column, an unknown type or a negative / infinite yield (each named
            with its row label).
    """
    su = _table_rates(table, params, type_col, yield_col)
    out = table.copy()
    out[SU_PER_HA] = su
    out[HA_PER_SU] = hectares_per_sheep_unit(su)
    return out


def _aggregate(frame: pd.DataFrame, zone_col: str, order: Mapping[str, int]) -> pd.DataFrame:
    """frame: columns zone, type, area, yield, su (one row per cell or polygon) → zone × type table."""
    has = frame["yield"].notna()
    work = pd.DataFrame({
        "zone": frame["zone"], "type": frame["type"], "area": frame["area"],
        "no_yield_area": np.where(has, 0.0, frame["area"]),
        "yield_area": np.where(has, frame["area"], 0.0),
        "yield_x_area": np.where(has, frame["yield"] * frame["area"], 0.0),
        "capacity": np.where(has, frame["su"] * frame["area"], 0.0),
    })
    g = work.groupby(["zone", "type"], sort=False).sum().reset_index()
    g["order"] = g["type"].map(order)
    g = g.sort_values(["zone", "order"], kind="stable").reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        yield_area = g["yield_area"].to_numpy(dtype=np.float64)
        capacity = np.where(yield_area > 0, g["capacity"].to_numpy(dtype=np.float64), np.nan)
        mean_yield = g["yield_x_area"].to_numpy(dtype=np.float64) / np.where(yield_area > 0, yield_area, np.nan)
        su_per_ha = capacity / np.where(yield_area > 0, yield_area, np.nan)
    return pd.DataFrame({
        zone_col: g["zone"], GRASS_TYPE: g["type"], AREA_HA: g["area"].astype(np.float64),
        NO_YIELD_AREA_HA: g["no_yield_area"].astype(np.float64), YIELD: mean_yield, SU_PER_HA: su_per_ha,
        HA_PER_SU: hectares_per_sheep_unit(su_per_ha), CAPACITY: capacity,
    })


def carrying_capacity_raster(
    zones: ArrayLike,
    type_raster: ArrayLike,
    yield_raster: ArrayLike,
    cell_area_ha: float,
    params: StockingParams,
    zone_names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """合理载畜量 per zone and grassland type: ``A = Σ_cells A_u · cell area`` (spec §2.2 ``A =
    Σ_t A_u,t · S_t`` [M]), 羊单位.

    Args:
        zones: integer ``(rows, cols)`` zone ids (township index of ``township_zones``, or 嘎查),
            0 = outside (not counted).
        type_raster: integer ``(rows, cols)`` grassland-type codes, 0 = not grassland.
        yield_raster: float ``(rows, cols)`` edible yield, kg/hm²; NaN = no data.
        cell_area_ha: area of one cell, hm² (0.09 for 30 m cells on EPSG:4525).
        params: :class:`StockingParams`.
        zone_names: zone id → name (e.g. ``"152501xxx 格日勒敖都苏木"``); None → the ids.

    Returns:
        One row per zone × type present (zones ascending, types in code order), columns ``乡镇,
        草地类型, 草地面积 hm², 缺产草量面积 hm², 可食产草量 kg/hm² (area-weighted mean over the area
        with a yield), 合理载畜量 羊单位/hm², 每羊单位草地面积 hm², 合理载畜量 羊单位``. Cells without
        a yield count in the area and in ``缺产草量面积`` but not in the capacity; a zone × type
        without any yield has NaN capacity (unknown, not 0).

    Raises:
        ValueError: shapes differ, ``cell_area_ha`` ≤ 0, unknown type codes or negative yields
            (see :func:`stocking_rate_raster`), or a zone id missing from ``zone_names``.
    """
    area = _finite_number(cell_area_ha, "cell_area_ha")
    if area <= 0:
        raise ValueError(f"cell_area_ha must be > 0 hm², got {cell_area_ha!r}")
    z = np.asarray(zones)
    types = _type_codes(type_raster)
    if z.shape != types.shape:
        raise ValueError(f"zones {z.shape} and type_raster {types.shape} differ in shape")
    su = stocking_rate_raster(types, yield_raster, params)
    y = np.asarray(yield_raster, dtype=np.float64)
    z = z.astype(np.int64)
    valid = (z > 0) & (types > 0)
    by_code = params.type_by_code
    ids = z[valid]
    if zone_names is not None:
        missing = sorted(set(int(v) for v in np.unique(ids)) - set(zone_names))
        if missing:
            raise ValueError(f"zone id(s) {missing} have no name in zone_names")
    frame = pd.DataFrame({
        "zone": ids, "type": [by_code[int(c)] for c in types[valid]],
        "area": np.full(int(valid.sum()), area), "yield": y[valid], "su": su[valid],
    })
    out = _aggregate(frame, ZONE, {name: code for code, name in by_code.items()})
    if zone_names is not None:
        out[ZONE] = [zone_names[int(v)] for v in out[ZONE]]
    return out.reset_index(drop=True)


def carrying_capacity_table(
    polygons: pd.DataFrame,
    params: StockingParams,
    zone_col: str = ZONE,
    type_col: str = GRASS_TYPE,
    area_col: str = AREA_HA,
    yield_col: str = YIELD,
) -> pd.DataFrame:
    """合理载畜量 per zone and grassland type from a table of polygons (草原监测 / 草地类型图斑 with
    area, type and yield; spec §2.2 ``A = Σ A_u · S`` [M]), 羊单位.

    Args:
        polygons: one row per polygon: zone, type name (a key of ``params.types``), area (hm²,
            ≥ 0) and yield (kg/hm², NaN = no data).
        params: :class:`StockingParams`.
        zone_col, type_col, area_col, yield_col: column names (defaults ``乡镇``, ``草地类型``,
            ``草地面积 hm²``, ``可食产草量 kg/hm²``).

    Returns:
        The columns of :func:`carrying_capacity_raster`, the zone column named ``zone_col``; zones
        in order of first appearance, types in code order.

    Raises:
        ValueError: a missing column, unknown type, negative / infinite yield, or negative, NaN or
            infinite area (each named with its row label).
    """
    _require_columns(polygons, [zone_col, type_col, area_col, yield_col], "polygon table")
    su = _table_rates(polygons, params, type_col, yield_col)
    area = pd.to_numeric(polygons[area_col], errors="raise").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(area) | (area < 0)
    if np.any(bad):
        raise ValueError(f"column {area_col!r}: area must be finite and ≥ 0 hm², got {area[bad][0]!r} "
                         f"at row {polygons.index[bad][0]!r}")
    frame = pd.DataFrame({
        "zone": polygons[zone_col].to_numpy(), "type": polygons[type_col].to_numpy(), "area": area,
        "yield": pd.to_numeric(polygons[yield_col]).to_numpy(dtype=np.float64), "su": su,
    })
    zone_order = {v: i for i, v in enumerate(pd.unique(frame["zone"]))}
    out = _aggregate(frame, zone_col, {name: spec["code"] for name, spec in params.types.items()})
    out = out.sort_values(zone_col, key=lambda s: s.map(zone_order), kind="stable")
    return out.reset_index(drop=True)


def township_totals(by_type: pd.DataFrame, zone_col: str = ZONE) -> pd.DataFrame:
    """Sum the zone × type table of :func:`carrying_capacity_raster` / :func:`carrying_capacity_table`
    per zone (乡镇合理载畜量, spec §2.2 ``A = Σ_t A_u,t · S_t``).

    Returns:
        One row per zone (first-appearance order): ``乡镇, 草地面积 hm², 缺产草量面积 hm², 合理载畜量
        羊单位, 合理载畜量 羊单位/hm², 每羊单位草地面积 hm²`` — the rates over the area with a
        yield. Types with NaN capacity (no yield at all) add nothing; a zone whose every type is
        NaN stays NaN.
    """
    _require_columns(by_type, [zone_col, AREA_HA, NO_YIELD_AREA_HA, CAPACITY], "capacity table")
    g = by_type.groupby(zone_col, sort=False).agg(
        area=(AREA_HA, "sum"), no_yield=(NO_YIELD_AREA_HA, "sum"), capacity=(CAPACITY, lambda s: s.sum(min_count=1)),
    ).reset_index()
    yield_area = (g["area"] - g["no_yield"]).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        su_per_ha = g["capacity"].to_numpy(dtype=np.float64) / np.where(yield_area > 0, yield_area, np.nan)
    return pd.DataFrame({
        zone_col: g[zone_col], AREA_HA: g["area"], NO_YIELD_AREA_HA: g["no_yield"], CAPACITY: g["capacity"],
        SU_PER_HA: su_per_ha, HA_PER_SU: hectares_per_sheep_unit(su_per_ha),
    })


# ── livestock → 羊单位 ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class LivestockParams:
    """Conversion of head counts to 羊单位 (spec §2.4 [M]; national reference NY/T 3647-2020 [S18],
    values not read). Config ``t13_agri_modernisation.yaml`` branch ``livestock``.

    Attributes:
        sheep_unit_factors: species key (``sheep``, ``goat``, ``cattle``, ``horse``, ``camel`` …) →
            羊单位 per head (sheep 1.0 by the definition of the 羊单位 [H]; others [M]).
        species_aliases: delivered name (``绵羊``, ``山羊``, ``牛`` …) → species key.

    Raises:
        ValueError: a factor not finite and > 0, or an alias to an unknown key.
    """

    sheep_unit_factors: Mapping[str, float]
    species_aliases: Mapping[str, str]

    def __post_init__(self) -> None:
        for key, factor in self.sheep_unit_factors.items():
            if _finite_number(factor, f"sheep_unit_factors.{key}") <= 0:
                raise ValueError(f"sheep_unit_factors.{key} must be > 0, got {factor!r}")
        for alias, key in self.species_aliases.items():
            if key not in self.sheep_unit_factors:
                raise ValueError(f"species alias {alias!r} points to unknown species {key!r}")

    def factor(self, species: str) -> float:
        """羊单位 per head of ``species`` (a key or an alias; surrounding spaces ignored).

        Raises:
            ValueError: unknown species (the message names it and lists the known names).
        """
        name = str(species).strip()
        key = name if name in self.sheep_unit_factors else self.species_aliases.get(name)
        if key is None:
            known = ", ".join([*self.sheep_unit_factors, *self.species_aliases])
            raise ValueError(f"unknown livestock species {species!r} (known: {known})")
        return float(self.sheep_unit_factors[key])


def _check_heads(value: Any, where: str) -> float:
    try:
        n = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: head count must be a number, got {value!r}") from None
    if not math.isfinite(n) or n < 0:
        raise ValueError(f"{where}: head count must be finite and ≥ 0, got {value!r}")
    return n


def to_sheep_units(counts: Mapping[str, float], params: LivestockParams) -> float:
    """Total 羊单位 of a herd, ``Σ heads × factor`` (spec §2.4 [M]).

    Args:
        counts: species (key or alias) → head count (≥ 0).

    Raises:
        ValueError: unknown species or a negative / non-finite count (named).
    """
    return float(sum(_check_heads(n, f"species {s!r}") * params.factor(s) for s, n in counts.items()))


def livestock_sheep_units(
    table: pd.DataFrame, params: LivestockParams, species_col: str = SPECIES, count_col: str = HEAD
) -> pd.DataFrame:
    """Per-row conversion of a long livestock table (e.g. 乡镇 × 畜种 × 存栏数) to 羊单位.

    Returns:
        A copy with ``折算系数 羊单位/头只`` and ``折合羊单位`` (= count × factor).

    Raises:
        ValueError: a missing column, an unknown species or a negative / NaN / non-finite count
            (named with its row label).
    """
    _require_columns(table, [species_col, count_col], "livestock table")
    factors, heads = [], []
    for label, species, n in zip(table.index, table[species_col], table[count_col]):
        try:
            factors.append(params.factor(species))
        except ValueError as exc:
            raise ValueError(f"row {label!r}: {exc}") from None
        heads.append(_check_heads(n, f"row {label!r} ({species})"))
    out = table.copy()
    out[SU_FACTOR] = np.asarray(factors, dtype=np.float64)
    out[SHEEP_UNITS] = np.asarray(heads, dtype=np.float64) * out[SU_FACTOR].to_numpy()
    return out


def livestock_by_township(
    table: pd.DataFrame, params: LivestockParams, zone_col: str = ZONE, species_col: str = SPECIES, count_col: str = HEAD
) -> pd.DataFrame:
    """现状载畜量 per zone: ``Σ_species heads × factor`` (spec §2.4 [M]), 羊单位.

    Returns:
        ``[zone_col, 现状载畜量 羊单位]``, zones in order of first appearance.

    Raises:
        ValueError: as :func:`livestock_sheep_units`, or a missing zone column.
    """
    _require_columns(table, [zone_col], "livestock table")
    rows = livestock_sheep_units(table, params, species_col, count_col)
    g = rows.groupby(zone_col, sort=False)[SHEEP_UNITS].sum().reset_index()
    return g.rename(columns={SHEEP_UNITS: ACTUAL})


# ── 草畜平衡 ────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class BalanceParams:
    """草畜平衡 classes by 超载率 (not in the spec → [L]; config ``t13_agri_modernisation.yaml``
    branch ``balance``).

    Attributes:
        overload_breaks_pct: increasing class limits of the overload ratio, %, e.g. (10, 20).
        class_labels: ``len(breaks) + 1`` labels from the best class, e.g. (草畜平衡, 超载, 严重超载).

    Raises:
        ValueError: non-finite or non-increasing breaks, or a label count ≠ breaks + 1.
    """

    overload_breaks_pct: tuple[float, ...]
    class_labels: tuple[str, ...]

    def __post_init__(self) -> None:
        b = [_finite_number(v, "overload_breaks_pct") for v in self.overload_breaks_pct]
        if not b or any(b2 <= b1 for b1, b2 in zip(b, b[1:])):
            raise ValueError(f"overload_breaks_pct must be a non-empty increasing sequence, got {self.overload_breaks_pct!r}")
        if len(self.class_labels) != len(b) + 1:
            raise ValueError(f"class_labels needs {len(b) + 1} labels for {len(b)} breaks, got {list(self.class_labels)!r}")


def overload_ratio_pct(actual: ArrayLike, capacity: ArrayLike) -> NDArray[np.float64]:
    """超载率 = (现状载畜量 − 合理载畜量) / 合理载畜量 × 100 %, elementwise.

    Negative = under the capacity. Capacity 0 with livestock → ``+inf``; capacity 0 and no
    livestock, or a NaN input → NaN.

    Raises:
        ValueError: a negative actual load or capacity (named).
    """
    a = np.asarray(actual, dtype=np.float64)
    c = np.asarray(capacity, dtype=np.float64)
    for name, arr in (("actual", a), ("capacity", c)):
        if np.any(arr < 0):
            raise ValueError(f"{name} must be ≥ 0 羊单位, got {arr[arr < 0].flat[0]!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (a - c) / c


def balance_class(overload_pct: ArrayLike, params: BalanceParams) -> NDArray[np.object_]:
    """草畜平衡状况 of overload ratios (%): the label of the class the ratio falls in.

    A ratio **on a break takes the better (lower) class** — with breaks (10, 20): ≤ 10 %
    草畜平衡 (the national practice that ≤ 10 % overload counts as balance [L]), (10, 20] 超载,
    > 20 % 严重超载. Ratios are rounded to 1e-9 % first, so float noise (10.000000000000009)
    does not cross a break. NaN → None.
    """
    r = np.asarray(overload_pct, dtype=np.float64)
    idx = np.searchsorted(np.asarray(params.overload_breaks_pct, dtype=np.float64), np.round(r, 9), side="left")
    labels = np.asarray(params.class_labels, dtype=object)
    return np.where(np.isnan(r), None, labels[np.minimum(idx, len(labels) - 1)])


def grass_livestock_balance(
    capacity: pd.DataFrame,
    livestock: pd.DataFrame,
    params: BalanceParams,
    zone_col: str = ZONE,
    missing: str = "raise",
) -> pd.DataFrame:
    """草畜平衡 per zone: current load vs reasonable carrying capacity.

    Args:
        capacity: per zone ``合理载畜量 羊单位`` (:func:`township_totals`); a ``缺产草量面积 hm²``
            column is carried through (capacity covers only the area with a yield).
        livestock: per zone ``现状载畜量 羊单位`` (:func:`livestock_by_township`).
        params: :class:`BalanceParams`.
        zone_col: the zone key of both tables.
        missing: ``"raise"`` (default) — a zone in only one table is an error; ``"zero"`` — it
            gets 0 羊单位 on the missing side.

    Returns:
        One row per zone (capacity order, then livestock-only zones): ``乡镇, 合理载畜量 羊单位,
        现状载畜量 羊单位, 超载量 羊单位 (actual − capacity; negative = spare capacity), 超载率 %,
        应减畜量 羊单位 (max(actual − capacity, 0): the reduction down to the capacity), 草畜平衡状况``
        (+ ``缺产草量面积 hm²`` when given).

    Raises:
        ValueError: missing columns, repeated zones, zones in only one table (``missing="raise"``,
            named), an unknown ``missing`` mode, or negative loads.
    """
    if missing not in ("raise", "zero"):
        raise ValueError(f"missing must be 'raise' or 'zero', got {missing!r}")
    _require_columns(capacity, [zone_col, CAPACITY], "capacity table")
    _require_columns(livestock, [zone_col, ACTUAL], "livestock table")
    for what, t in (("capacity", capacity), ("livestock", livestock)):
        dup = t[zone_col][t[zone_col].duplicated()].tolist()
        if dup:
            raise ValueError(f"{what} table: repeated zone(s) {dup}")
    only_cap = [z for z in capacity[zone_col] if z not in set(livestock[zone_col])]
    only_live = [z for z in livestock[zone_col] if z not in set(capacity[zone_col])]
    if missing == "raise" and (only_cap or only_live):
        raise ValueError(f"zones without livestock: {only_cap}; zones without capacity: {only_live} "
                         "(check the zone names, or pass missing='zero')")
    keep = [zone_col, CAPACITY] + ([NO_YIELD_AREA_HA] if NO_YIELD_AREA_HA in capacity.columns else [])
    out = capacity[keep].merge(livestock[[zone_col, ACTUAL]], on=zone_col, how="outer", sort=False)
    order = {z: i for i, z in enumerate([*capacity[zone_col], *only_live])}
    out = out.sort_values(zone_col, key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    if only_cap:
        out.loc[out[zone_col].isin(only_cap), ACTUAL] = 0.0
    if only_live:
        out.loc[out[zone_col].isin(only_live), CAPACITY] = 0.0
        if NO_YIELD_AREA_HA in out.columns:
            out.loc[out[zone_col].isin(only_live), NO_YIELD_AREA_HA] = 0.0
    cap = out[CAPACITY].to_numpy(dtype=np.float64)
    act = out[ACTUAL].to_numpy(dtype=np.float64)
    ratio = overload_ratio_pct(act, cap)
    out[OVERLOAD] = act - cap
    out[OVERLOAD_PCT] = ratio
    out[REDUCTION] = np.where(np.isnan(act - cap), np.nan, np.maximum(act - cap, 0.0))
    out[BALANCE] = balance_class(ratio, params)
    columns = [zone_col, CAPACITY, ACTUAL, OVERLOAD, OVERLOAD_PCT, REDUCTION, BALANCE]
    if NO_YIELD_AREA_HA in out.columns:
        columns.append(NO_YIELD_AREA_HA)
    return out[columns]


# ── topic 13: capacity from the published 适宜载畜量标准, grades, 减畜 path, 嘎查 classes ───────────────

STANDARD_COEF = "载畜系数 (羊单位/hm²)/(kg/hm²)"
"""Column of :func:`stocking_standard_table` (``t09.stocking_rate``): ``k_t``, so that ``A_u = Y · k_t``."""


def capacity_from_standard(
    zones: ArrayLike,
    type_names: ArrayLike,
    yield_raster: ArrayLike,
    cell_area_ha: float,
    standard: pd.DataFrame,
    zone_names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """合理载畜量 per zone and grassland type from the *published* 适宜载畜量标准 (``t09.stocking_rate``):
    ``A = Σ_cells Y · k_t · cell area`` (spec §2.2 [M]; ``k_t`` = the table's 载畜系数).

    The same numbers as :func:`carrying_capacity_raster` with the parameters that produced the
    table, without reading another topic's configuration.

    Args:
        zones: integer zone ids (0 = outside).
        type_names: grassland type name per cell (``""``/None = not grassland).
        yield_raster: edible yield kg/hm² (NaN = no yield: counted in 缺产草量面积 only).
        cell_area_ha: hm² per cell (> 0).
        standard: rows ``草地类型, 载畜系数 (羊单位/hm²)/(kg/hm²)`` (other columns ignored).
        zone_names: id → name (ids without a name are an error).

    Returns:
        The zone × type table of :func:`carrying_capacity_raster` (sum with :func:`township_totals`).

    Raises:
        ValueError: missing columns, shapes differ, a type not in the standard (named), a negative
            yield, ``cell_area_ha`` ≤ 0 or an unnamed zone id.
    """
    _require_columns(standard, [GRASS_TYPE, STANDARD_COEF], "stocking standard")
    area = _finite_number(cell_area_ha, "cell_area_ha")
    if area <= 0:
        raise ValueError(f"cell_area_ha must be > 0 hm², got {cell_area_ha!r}")
    z = np.asarray(zones).astype(np.int64)
    t = np.asarray(type_names, dtype=object)
    y = np.asarray(yield_raster, dtype=np.float64)
    if not (z.shape == t.shape == y.shape):
        raise ValueError(f"zones {z.shape}, type_names {t.shape} and yield_raster {y.shape} differ in shape")
    coef = {str(n): float(k) for n, k in zip(standard[GRASS_TYPE], standard[STANDARD_COEF])}
    is_type = np.array([v is not None and str(v) != "" for v in t.ravel()], dtype=bool).reshape(t.shape)
    valid = (z > 0) & is_type
    unknown = sorted({str(v) for v in t[valid]} - set(coef))
    if unknown:
        raise ValueError(f"grassland type(s) {unknown} are not in the stocking standard (known: {', '.join(coef)})")
    _check_yields(y[valid], "yield_raster")
    ids = z[valid]
    if zone_names is not None:
        missing = sorted(set(int(v) for v in np.unique(ids)) - set(zone_names))
        if missing:
            raise ValueError(f"zone id(s) {missing} have no name in zone_names")
    names = [str(v) for v in t[valid]]
    frame = pd.DataFrame({"zone": ids, "type": names, "area": np.full(len(ids), area), "yield": y[valid],
                          "su": y[valid] * np.array([coef[n] for n in names], dtype=np.float64)})
    out = _aggregate(frame, ZONE, {n: i for i, n in enumerate(coef)})
    if zone_names is not None:
        out[ZONE] = [zone_names[int(v)] for v in out[ZONE]]
    return out.reset_index(drop=True)


def grade_ascending(values: ArrayLike, breaks: tuple[float, ...] | list[float]) -> NDArray[np.uint8]:
    """Grades where a *smaller* value is better (e.g. 耕地利用等 1 best … 15 worst): ``v ≤ b1`` → 1,
    ``b1 < v ≤ b2`` → 2, …, ``v > b_n`` → n + 1 (a value on a break takes the better grade). NaN → 0.

    Raises:
        ValueError: breaks empty, non-finite or not increasing.
    """
    b = [_finite_number(v, "breaks") for v in breaks]
    if not b or any(b2 <= b1 for b1, b2 in zip(b, b[1:])):
        raise ValueError(f"breaks must be a non-empty increasing sequence, got {list(breaks)!r}")
    v = np.asarray(values, dtype=np.float64)
    g = 1 + np.searchsorted(np.asarray(b), np.round(v, 9), side="left")
    return np.where(np.isnan(v), 0, g).astype(np.uint8)


def reduction_path(actual: float, capacity: float, shares: Mapping[str, float]) -> pd.DataFrame:
    """减畜 path to the carrying capacity: per target year ``target = actual − share · max(actual −
    capacity, 0)`` (share of the overload removed by that year, 0–1).

    Returns:
        Rows ``年份, 目标载畜量 羊单位, 累计减畜 羊单位, 超载率 %`` (超载率 of the target vs capacity).

    Raises:
        ValueError: a share outside [0, 1] (named with its year) or negative loads.
    """
    a, c = _finite_number(actual, "actual"), _finite_number(capacity, "capacity")
    if a < 0 or c < 0:
        raise ValueError(f"actual and capacity must be ≥ 0 羊单位, got {a!r}, {c!r}")
    over = max(a - c, 0.0)
    rows = []
    for year, share in shares.items():
        s = _finite_number(share, f"share {year}")
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"share of the overload removed by {year} must be in [0, 1], got {share!r}")
        target = a - s * over
        rows.append({"年份": str(year), "目标载畜量 羊单位": target, "累计减畜 羊单位": a - target,
                     OVERLOAD_PCT: float(overload_ratio_pct(target, c)) if c > 0 else float("nan")})
    return pd.DataFrame(rows)


def gacha_class(distance_km: ArrayLike, population_change_pct: ArrayLike, unsuitable: ArrayLike,
                suburban_km: float, decline_pct: float) -> NDArray[np.object_]:
    """嘎查 classification (spec §5.6 [H types; L rule sketch]) in rule order:

    1. ``distance_km ≤ suburban_km`` → 城郊融合类;
    2. population change ``≤ −decline_pct`` %, or the 嘎查 stands on land graded unsuitable for
       grazing (``unsuitable``) → 搬迁撤并类 (candidate: severe population loss / harsh conditions);
    3. else → 集聚提升类.

    特色保护类 needs a heritage / 传统村落 list, which is not delivered: never assigned here.
    NaN population change counts as no decline.

    Raises:
        ValueError: shapes differ, or negative thresholds.
    """
    d = np.asarray(distance_km, dtype=np.float64)
    p = np.asarray(population_change_pct, dtype=np.float64)
    u = np.asarray(unsuitable, dtype=bool)
    if not (d.shape == p.shape == u.shape):
        raise ValueError(f"distance_km {d.shape}, population_change_pct {p.shape} and unsuitable {u.shape} differ")
    if _finite_number(suburban_km, "suburban_km") < 0 or _finite_number(decline_pct, "decline_pct") < 0:
        raise ValueError("suburban_km and decline_pct must be ≥ 0")
    decline = np.nan_to_num(p, nan=0.0) <= -float(decline_pct)
    out = np.where(d <= suburban_km, "城郊融合类", np.where(decline | u, "搬迁撤并类", "集聚提升类"))
    return out.astype(object)


# ── 草牧场建设 (derived proposal) ──────────────────────────────────────────────────────────────


def improved_pasture_area_ha(gap_su: ArrayLike, natural_su_per_ha: ArrayLike, uplift: float) -> NDArray[np.float64]:
    """Area of improved pasture (人工/改良草地) whose extra forage feeds a feed gap: improving one hm² of
    natural grassland that carries ``n`` 羊单位/hm² raises it to ``uplift · n``, so

    ``area = gap / (n · (uplift − 1))``   (hm²; gap in 羊单位, n in 羊单位/hm², spec §2.2 A_u).

    A gap ≤ 0 needs no area (0); a zone without a natural rate (NaN or ≤ 0) gives NaN.

    Raises:
        ValueError: ``uplift`` ≤ 1 (no extra forage) or shapes differ.
    """
    u = _finite_number(uplift, "uplift")
    if u <= 1.0:
        raise ValueError(f"uplift must be > 1 (improved / natural forage yield), got {uplift!r}")
    g = np.asarray(gap_su, dtype=np.float64)
    n = np.asarray(natural_su_per_ha, dtype=np.float64)
    if g.shape != n.shape:
        raise ValueError(f"gap_su {g.shape} and natural_su_per_ha {n.shape} differ")
    with np.errstate(divide="ignore", invalid="ignore"):
        area = g / np.where(n > 0, n * (u - 1.0), np.nan)
    return np.where(g <= 0, 0.0, area)


def rank_within_zones(zones: ArrayLike, eligible: ArrayLike, *keys: ArrayLike) -> NDArray[np.int64]:
    """Rank of each eligible cell within its zone (0 = best), ordered by ``keys`` (ascending, the first
    key most significant; ties by the cell's flat index, so the order is deterministic). Taking the
    cells with ``rank < n`` for a growing ``n`` gives nested selections (2035 ⊇ 2025).

    Returns:
        int64 array shaped like ``zones``: the rank, −1 where not eligible or zone ≤ 0.
    """
    z = np.asarray(zones)
    ok = np.asarray(eligible, dtype=bool) & (z > 0)
    out = np.full(z.shape, -1, dtype=np.int64)
    idx = np.flatnonzero(ok)
    if not idx.size:
        return out
    cols = [np.asarray(k, dtype=np.float64).ravel()[idx] for k in keys]
    order = np.lexsort([idx] + cols[::-1] + [z.ravel()[idx]])  # lexsort: last key most significant
    zs = z.ravel()[idx][order]
    starts = np.r_[0, np.flatnonzero(np.diff(zs)) + 1]
    rank = np.arange(zs.size) - np.repeat(starts, np.diff(np.r_[starts, zs.size]))
    flat = out.ravel()
    flat[idx[order]] = rank
    return flat.reshape(z.shape)
