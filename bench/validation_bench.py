"""The project's GX suites against the same checks written directly in pandas, on large synthetic frames.

Cases (each frame passes its suites, as a good delivery does):

* ``table`` — the 17-02 daily climate table (``expectations/17-02/climate_daily.table.json``: column
  existence, row count, date regex, unique (station, date), value ranges, not-null with ``mostly``),
  1e5 and 1e6 rows; 1 % of ``tmean_c`` and 3 % of ``precip_mm`` are missing, within the suite's
  ``mostly`` tolerance, so the null checks count something;
* ``polygons`` — the 三调 parcels 01-46a.dltb (``DLTB.features.json`` and ``DLTB.dataset.json``):
  1e5 16-vertex parcels in EPSG:4525 inside a city boundary, turned into the ``features`` and
  ``dataset`` fact frames by :func:`erenhot.validation.vector_facts` exactly as acceptance does.

For each case the GX side is :func:`erenhot.validation.run_suite` per suite (an ephemeral context,
the suite parsed from its JSON, SUMMARY results — what acceptance runs); the direct side interprets
the same suite JSON with one pandas expression per expectation type (:data:`DIRECT_CHECKS`). Both
start from the same fact frames: building them (shapely, :func:`vector_facts`) is common to both and
is timed separately (``facts_seconds``). The two must agree on every expectation's success and
unexpected count, else the section fails; so must they on broken copies of small frames, which
fail some expectations (:func:`check_agreement_on_failures`, untimed). Each side is the best of
``repeat`` runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from bench.common import best_of, geomean

TABLE_SUITE = ("17-02", "climate_daily", "table")
VECTOR_SUITES = (("01-46a.dltb", "DLTB", "features"), ("01-46a.dltb", "DLTB", "dataset"))


# -- the direct checks: one pandas expression per expectation type of the suites ------------------
# Each returns (success, unexpected_count); unexpected_count is None where GX reports none. Semantics
# as GX's pandas engine: map expectations skip missing values (except not_be_null), ``mostly`` is the
# share of non-missing values that must pass (of all rows for not_be_null).

def _mostly(unexpected: int, considered: int, mostly: float | None) -> bool:
    if considered == 0:
        return True
    return (considered - unexpected) / considered >= (1.0 if mostly is None else mostly)


def _between(df: pd.DataFrame, column: str, min_value=None, max_value=None, mostly=None, **_) -> tuple[bool, int]:
    values = df[column].dropna()
    bad = pd.Series(False, index=values.index)
    if min_value is not None:
        bad |= values < min_value
    if max_value is not None:
        bad |= values > max_value
    n = int(bad.sum())
    return _mostly(n, len(values), mostly), n


def _in_set(df: pd.DataFrame, column: str, value_set, mostly=None, **_) -> tuple[bool, int]:
    values = df[column].dropna()
    n = int((~values.isin(value_set)).sum())
    return _mostly(n, len(values), mostly), n


def _not_null(df: pd.DataFrame, column: str, mostly=None, **_) -> tuple[bool, int]:
    n = int(df[column].isna().sum())
    return _mostly(n, len(df), mostly), n


def _regex(df: pd.DataFrame, column: str, regex: str, mostly=None, **_) -> tuple[bool, int]:
    values = df[column].dropna()
    n = int((~values.astype(str).str.contains(regex)).sum())
    return _mostly(n, len(values), mostly), n


def _unique(df: pd.DataFrame, column: str, mostly=None, **_) -> tuple[bool, int]:
    values = df[column].dropna()
    n = int(values.duplicated(keep=False).sum())
    return _mostly(n, len(values), mostly), n


def _compound_unique(df: pd.DataFrame, column_list: list[str], mostly=None, **_) -> tuple[bool, int]:
    rows = df[column_list]
    rows = rows[~rows.isna().all(axis=1)]  # GX's default ignore_row_if="all_values_are_missing"
    n = int(rows.duplicated(keep=False).sum())
    return _mostly(n, len(rows), mostly), n


def _row_count_between(df: pd.DataFrame, min_value=None, max_value=None, **_) -> tuple[bool, None]:
    n = len(df)
    return (min_value is None or n >= min_value) and (max_value is None or n <= max_value), None


DIRECT_CHECKS: dict[str, Callable[..., tuple[bool, int | None]]] = {
    "expect_column_to_exist": lambda df, column, **_: (column in df.columns, None),
    "expect_table_row_count_to_be_between": _row_count_between,
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_values_to_be_unique": _unique,
    "expect_compound_columns_to_be_unique": _compound_unique,
}


def direct_suite(frame: pd.DataFrame, suite: dict[str, Any]) -> list[tuple[str, str | None, bool, int | None]]:
    """The suite's expectations evaluated in pandas: ``(type, column, success, unexpected_count)`` each.

    Raises:
        KeyError: an expectation type without a direct check here.
    """
    out = []
    for e in suite["expectations"]:
        success, unexpected = DIRECT_CHECKS[e["type"]](frame, **e["kwargs"])
        out.append((e["type"], e["kwargs"].get("column"), bool(success), unexpected))
    return out


def gx_suite(frame: pd.DataFrame, suite: dict[str, Any], label: str) -> list[tuple[str, str | None, bool, int | None]]:
    from erenhot.validation import run_suite

    return [(r["expectation"], r["column"], r["success"], r["unexpected_count"])
            for r in run_suite(frame, suite, label=label)]


# -- synthetic frames -----------------------------------------------------------------------------

def climate_table(n_rows: int, seed: int = 17) -> pd.DataFrame:
    """``n_rows`` of the 17-02 daily climate table: stations of 3650 days each (1991-01-01 on)."""
    rng = np.random.default_rng(seed)
    days = 3650
    n_stations = math.ceil(n_rows / days)
    dates = pd.date_range("1991-01-01", periods=days, freq="D").strftime("%Y-%m-%d").to_numpy()
    station = np.repeat([f"{530680 + 1000 * k}" for k in range(n_stations)], days)[:n_rows]
    date = np.tile(dates, n_stations)[:n_rows]
    doy = np.tile(np.arange(days) % 365, n_stations)[:n_rows]
    tmean = 4.0 - 18.0 * np.cos(2 * np.pi * doy / 365.0) + rng.normal(0.0, 3.0, n_rows)
    precip = np.where(rng.random(n_rows) < 0.15, rng.gamma(0.8, 4.0, n_rows), 0.0)
    frame = pd.DataFrame({
        "station_id": station, "date": date,
        "tmean_c": tmean, "tmax_c": tmean + rng.uniform(4.0, 9.0, n_rows), "tmin_c": tmean - rng.uniform(4.0, 9.0, n_rows),
        "precip_mm": precip, "rh_pct": rng.uniform(15.0, 85.0, n_rows), "wind_ms": rng.gamma(3.0, 1.5, n_rows),
    })
    frame.loc[rng.random(n_rows) < 0.01, "tmean_c"] = np.nan  # within the suite's mostly 0.98
    frame.loc[rng.random(n_rows) < 0.03, "precip_mm"] = np.nan  # within mostly 0.95
    return frame


def dltb_parcels(n: int, seed: int = 46):
    """``(parcels, boundary)``: ``n`` 16-vertex 三调 parcels (GeoDataFrame, EPSG:4525, the DLTB fields
    upper-case as read from the delivery) on a square lattice of ≈150 m cells, and a city boundary
    polygon in EPSG:4525 that covers them."""
    import geopandas as gpd
    import shapely

    from erenhot.samplekit import SANDIAO_DLBM

    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n))
    step = 150.0
    x0, y0 = 37_530_000.0, 4_780_000.0
    k = np.arange(n)
    cx = x0 + (k % side + 0.5) * step
    cy = y0 + (k // side + 0.5) * step
    angles = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
    radius = step * (0.35 + 0.1 * rng.random((n, 16)))  # star-shaped around the centre: always valid
    ring = np.stack([cx[:, None] + radius * np.cos(angles), cy[:, None] + radius * np.sin(angles)], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)  # closed rings
    geoms = shapely.polygons(ring)
    codes = np.array(sorted(SANDIAO_DLBM))
    dlbm = codes[rng.integers(0, codes.size, n)]
    towns = np.array(["152501200", "152501400", "152501401"])
    parcels = gpd.GeoDataFrame({
        "BSM": [f"152501{i:010d}" for i in range(1, n + 1)],
        "DLBM": dlbm,
        "DLMC": [SANDIAO_DLBM[c] for c in dlbm],
        "ZLDWDM": np.char.add(towns[rng.integers(0, 3, n)], "000"),
        "TBMJ": np.round(shapely.area(geoms), 2),
        "CZCSXM": np.where(rng.random(n) < 0.2, "201", ""),
    }, geometry=geoms, crs="EPSG:4525")
    centre = (x0 + side * step / 2, y0 + side * step / 2)
    boundary = shapely.Point(centre).buffer(side * step * 0.75, quad_segs=256)
    return parcels, boundary


# -- the cases ------------------------------------------------------------------------------------

def _suite(dataset_id: str, part: str, frame: str) -> dict[str, Any]:
    from erenhot.validation import load_suite_dict, suite_files

    return load_suite_dict(suite_files(dataset_id)[(part, frame)])


def _compare(label: str, frames: list[tuple[pd.DataFrame, dict[str, Any]]], repeat: int) -> dict[str, Any]:
    """Time GX and the direct checks over the ``(frame, suite)`` pairs of one case; check they agree."""
    gx_s, gx_results = best_of(lambda: [gx_suite(f, s, label) for f, s in frames], repeat)
    direct_s, direct_results = best_of(lambda: [direct_suite(f, s) for f, s in frames], repeat)
    # GX returns the results in its own order, not the suite's
    gx_flat = sorted((r for rs in gx_results for r in rs), key=repr)
    direct_flat = sorted((r for rs in direct_results for r in rs), key=repr)
    if gx_flat != direct_flat:
        diff = [(g, d) for g, d in zip(gx_flat, direct_flat) if g != d]
        raise AssertionError(f"{label}: GX and the direct checks disagree: {diff[:5]}")
    passed = sum(r[2] for r in gx_flat)
    return {"expectations": len(gx_flat), "passed": passed, "failed": len(gx_flat) - passed,
            "rows": len(frames[0][0]), "gx_seconds": gx_s, "direct_seconds": direct_s, "ratio": gx_s / direct_s}


def check_agreement_on_failures() -> int:
    """GX and the direct checks on broken copies of small frames must fail the same expectations with
    the same counts (the timed frames all pass). Returns the number of failed expectations compared.

    Raises:
        AssertionError: they disagree, or the broken frames failed nothing.
    """
    from erenhot.validation import vector_facts

    table = climate_table(2000)
    table.loc[:40, "tmean_c"] = np.nan  # ≈3 % missing with the 1 % already there: beyond mostly 0.98
    table.loc[50:60, "rh_pct"] = 120.0
    table.loc[70:75, "date"] = "1991/01/01"
    table.loc[80:90, ["station_id", "date"]] = table.loc[0:10, ["station_id", "date"]].to_numpy()
    parcels, boundary = dltb_parcels(2000)
    parcels.loc[:4, "DLBM"] = "9999"
    parcels.loc[5:9, "BSM"] = parcels.loc[0, "BSM"]
    parcels.loc[10:12, "ZLDWDM"] = "152501999000"
    parcels.loc[13:14, "TBMJ"] = 0.0
    features, dataset, _, _ = vector_facts(parcels.drop(columns="CZCSXM"), boundary)
    pairs = [(table, _suite(*TABLE_SUITE)), (features, _suite(*VECTOR_SUITES[0])), (dataset, _suite(*VECTOR_SUITES[1]))]
    failed = 0
    for frame, suite in pairs:
        gx = sorted(gx_suite(frame, suite, "broken"), key=repr)
        direct = sorted(direct_suite(frame, suite), key=repr)
        if gx != direct:
            raise AssertionError(f"{suite['name']} (broken copy): GX and the direct checks disagree: "
                                 f"{[(g, d) for g, d in zip(gx, direct) if g != d][:5]}")
        failed += sum(not r[2] for r in gx)
    if failed == 0:
        raise AssertionError("the broken copies failed no expectation: the agreement check checks nothing")
    return failed


def run_validation(table_rows: tuple[int, ...] = (100_000, 1_000_000), polygons: int = 100_000,
                   repeat: int = 3) -> dict[str, Any]:
    """GX against direct pandas checks on each case; the ratio is GX time ÷ direct time.

    Returns:
        ``{"cases": {name: {expectations, passed, failed, rows, gx_seconds, direct_seconds, ratio,
        …}}, "validation_ratio"}`` (the geometric mean of the per-case ratios).

    Raises:
        AssertionError: GX and the direct checks disagree on an expectation's success or count.
    """
    from erenhot.validation import vector_facts

    # GX's first import and first context cost seconds: outside the timed runs
    gx_suite(pd.DataFrame({"x": [1.0]}), {"name": "warm-up", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}}]}, "warm-up")
    failures_compared = check_agreement_on_failures()
    cases: dict[str, Any] = {}
    table_suite = _suite(*TABLE_SUITE)
    for n in table_rows:
        frame = climate_table(n)
        cases[f"table 17-02 climate_daily, {n:,} rows"] = {
            "suite": "17-02/climate_daily.table", **_compare(f"17-02 {n}", [(frame, table_suite)], repeat)}
    parcels, boundary = dltb_parcels(polygons)
    facts_s, (features, dataset, _, _) = best_of(lambda: vector_facts(parcels, boundary), 1)
    suites = [_suite(*s) for s in VECTOR_SUITES]
    cases[f"polygons 01-46a.dltb DLTB, {polygons:,} parcels"] = {
        "suite": "01-46a.dltb/DLTB.features + DLTB.dataset", "facts_seconds": facts_s,
        **_compare(f"DLTB {polygons}", [(features, suites[0]), (dataset, suites[1])], repeat)}
    return {"repeat": repeat, "failures_compared": failures_compared, "cases": cases, "validation_ratio": geomean(c["ratio"] for c in cases.values())}
