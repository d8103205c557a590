"""Validation of department deliveries with Great Expectations (GX Core 1.x).

Geometry and rasters are turned into plain *fact* frames first, then checked with GX's built-in
expectations from the hand-written suites in ``expectations/<dataset_id>/<part>.<frame>.json``:

* ``features`` — one row per feature: ``fid``, ``geom_valid``, ``geom_empty``, ``geom_type``,
  ``within_boundary`` (after transformation to EPSG:4525), ``area_m2`` and the attribute columns
  (upper-cased);
* ``dataset`` — one row per vector part: ``crs_epsg``, ``crs_accepted``, ``feature_count``, ``swapped_count``,
  ``mojibake_share`` and the EPSG:4525 bounds;
* ``raster`` — one row per raster part: ``crs_epsg``, ``crs_accepted``, ``res_x``/``res_y`` (m or °),
  ``nodata``, ``dtype``, exact ``min``/``max``/``mean`` and ``nodata_fraction`` from a block scan;
* ``table`` — the table itself (CSV/XLSX, or the daily climate frame assembled from an EPW file);
* ``derived`` — cross-column quantities the delivery contract declares (``derived:`` block: sums that
  must balance, per-unit sizes that reveal a wrong unit), one row per table row, with a ``row`` label
  naming the row in messages (see :func:`derived_frame`).

Each validation builds its own ephemeral GX context (a context shared between concurrent
validations gives silently wrong results in GX 1.24, see design/validation-notes §1.9) and a suite
file whose expectation count shrinks on parse (an unknown expectation type) is an error.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot import settings  # noqa: F401  (switches analytics off before GX is imported)
from erenhot.crs import CrsError, diagnose, identify, swapped_axes, to_analysis

EXPECTATIONS_DIR = Path(__file__).resolve().parents[1] / "expectations"
FRAMES = ("dataset", "features", "raster", "table", "derived")


_GX_IMPORT = threading.Lock()


def _gx():
    """Import GX once under a lock: validations run in threads, and concurrent first imports of a
    large package can hand one thread a half-initialised module."""
    with _GX_IMPORT:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
    return gx, ProgressBarsConfig


class SuiteError(RuntimeError):
    """A suite file is malformed (bad JSON, unknown expectation type, unknown frame)."""


def expectations_dir() -> Path:
    """Folder of the GX suites (``expectations/`` at the repository root)."""
    return EXPECTATIONS_DIR


def suite_files(dataset_id: str, root: Path | None = None) -> dict[tuple[str, str], Path]:
    """Suites of a dataset keyed by (part, frame), from ``expectations/<dataset_id>/<part>.<frame>.json``."""
    folder = (root or expectations_dir()) / dataset_id
    out: dict[tuple[str, str], Path] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            stem = path.name[: -len(".json")]
            part, _, frame = stem.rpartition(".")
            if frame not in FRAMES or not part:
                raise SuiteError(f"{path}: name must be <part>.<frame>.json with frame in {FRAMES}")
            out[(part, frame)] = path
    return out


# -- CRS facts -------------------------------------------------------------------------------

def crs_facts(crs: Any) -> dict[str, Any]:
    """EPSG code (0 when unknown or absent), acceptance and labels of a layer's CRS.

    Accepted: CGCS2000, Xian 1980 and Beijing 1954 (geographic, 3°/6° Gauss–Krüger with or without
    zone prefix) and WGS 84 longitude/latitude — the systems Chinese departments deliver in, all
    transformable to EPSG:4525 (see :mod:`erenhot.crs`). Web Mercator, UTM etc. are not accepted.
    """
    info = identify(crs)
    return {"crs_epsg": int(info.epsg or 0), "crs_accepted": bool(info.accepted), "crs_datum": info.datum,
            "crs_kind": info.kind, "crs_name": info.name, "crs_label_zh": info.label_zh}


def diagnose_crs(bounds: tuple[float, float, float, float]) -> str:
    """A guess at the CRS of coordinates without one, for the error message (:func:`erenhot.crs.diagnose`)."""
    return diagnose(bounds)


# -- fact frames -----------------------------------------------------------------------------

def vector_facts(gdf: gpd.GeoDataFrame, boundary: shapely.Geometry | None, *, encoding: str | None = None,
                 override: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame | None, Any]:
    """Per-feature and per-dataset facts of a vector layer.

    Args:
        gdf: the layer as delivered (any CRS, or none).
        boundary: the city boundary in EPSG:4525 (features must be covered by it), or ``None``.
        override: the CRS given explicitly at ingest for a layer without (or with a wrong) ``.prj``.

    Returns:
        ``(features, dataset, projected, record)``: ``projected`` is the layer in EPSG:4525 and
        ``record`` its :class:`erenhot.crs.TransformRecord`; both ``None`` when the CRS is missing or
        not accepted (then the ``crs_accepted`` fact fails, with :func:`erenhot.crs.diagnose`'s guess).
    """
    override = override or None  # "" (no override recorded) means none
    facts = crs_facts(override if override else gdf.crs)
    projected: gpd.GeoDataFrame | None = None
    record = None
    if facts["crs_accepted"]:
        try:
            projected, record = to_analysis(gdf, override=override)
        except CrsError:
            projected = None
    geoms = (projected if projected is not None else gdf).geometry.values
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    delivered = gdf.geometry.values  # validity is a property of the delivered coordinates
    with np.errstate(invalid="ignore"):  # a wrong CRS can transform to inf/NaN: the checks report it
        area = shapely.area(geoms) if projected is not None else np.nan
    features = pd.DataFrame({
        "fid": np.arange(len(gdf), dtype="int64"),
        "geom_valid": shapely.is_valid(delivered) & ~empty,
        "geom_empty": empty,
        "geom_type": pd.Series(shapely.get_type_id(geoms)).map(
            {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
        ).fillna("Other").astype(str).values,
        "area_m2": area,
        "axes_swapped": swapped_axes(gdf, override if override else gdf.crs) if len(gdf) else np.zeros(0, bool),
    })
    if boundary is not None and projected is not None:
        shapely.prepare(boundary)
        features["within_boundary"] = shapely.covers(boundary, geoms) | empty
    else:
        features["within_boundary"] = projected is not None
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        features[str(col).upper()] = gdf[col].values
    text_cols = [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].dtype.kind in "OUT"]
    moji = max((_moji(gdf[c]) for c in text_cols), default=0.0)
    b = projected.total_bounds if projected is not None and len(projected) else (np.nan,) * 4
    dataset = pd.DataFrame([{**facts, "crs_approximate": bool(record.approximate) if record else False,
                             "feature_count": len(gdf), "mojibake_share": moji,
                             "swapped_count": int(features["axes_swapped"].sum()),
                             "encoding": encoding or "", "minx": b[0], "miny": b[1], "maxx": b[2], "maxy": b[3]}])
    return features, dataset, projected, record


def _moji(s: pd.Series) -> float:
    from erenhot.formats import mojibake_share
    return mojibake_share(s)


def raster_facts(data: bytes) -> pd.DataFrame:
    """One-row frame of a raster's metadata and exact statistics (block-wise scan, nodata excluded)."""
    from rasterio.io import MemoryFile

    with MemoryFile(data) as mem, mem.open() as src:
        facts = crs_facts(src.crs)
        nodata = src.nodata
        vmin, vmax, total, count, n_nodata = np.inf, -np.inf, 0.0, 0, 0
        for _, window in src.block_windows(1):
            block = src.read(1, window=window, masked=False).astype("float64")
            bad = ~np.isfinite(block)
            if nodata is not None and not np.isnan(nodata):
                bad |= block == nodata
            n_nodata += int(bad.sum())
            good = block[~bad]
            if good.size:
                vmin, vmax = min(vmin, good.min()), max(vmax, good.max())
                total += float(good.sum())
                count += good.size
        return pd.DataFrame([{
            **facts,
            "res_x": float(src.res[0]), "res_y": float(src.res[1]),
            "nodata": float(nodata) if nodata is not None else np.nan,
            "dtype": str(src.dtypes[0]), "band_count": int(src.count),
            "width": int(src.width), "height": int(src.height),
            "min": float(vmin) if count else np.nan, "max": float(vmax) if count else np.nan,
            "mean": total / count if count else np.nan,
            "nodata_fraction": n_nodata / float(src.width * src.height),
            "rotated": bool(src.transform.b != 0 or src.transform.d != 0),
            "driver": src.driver,
        }])


# -- GX --------------------------------------------------------------------------------------

def derived_frame(table: pd.DataFrame, spec: dict[str, Any], *, part: str) -> pd.DataFrame | None:
    """The ``derived`` fact frame of one table part, from the contract's ``derived:`` block.

    ``spec``: ``{index: [columns naming a row], group_by?: column, order_by?: column,
    columns: [{name, expr, part?, description}]}``. Each ``expr`` is a :meth:`pandas.DataFrame.eval`
    expression over the table's columns (back-quote non-ASCII names); with ``group_by``/``order_by``
    the previous row of the same group is available as ``prev_<column>`` (NaN for a group's first
    row, so a balance check skips it). Only the columns whose ``part`` is absent or equals ``part``
    are built; a column whose inputs are missing is all-NaN and an infinite value (a division by 0)
    is NaN, so only the ``table`` suite reports a missing field or a zero (a range check skips NaN).

    Returns:
        A frame with ``row`` (the index columns joined, e.g. ``"152501 2019"``) and one float column
        per derived quantity, or ``None`` when the spec declares none for this part.

    Raises:
        ValueError: an expression that does not parse (a contract error, not a delivery error).
    """
    cols = [c for c in spec.get("columns", []) if c.get("part") in (None, part)]
    if not cols:
        return None
    frame = table.reset_index(drop=True).copy()
    group, order = spec.get("group_by"), spec.get("order_by")
    if group in frame.columns and order in frame.columns:
        frame = frame.sort_values([group, order], kind="stable").reset_index(drop=True)
        prev = frame.groupby(group, sort=False).shift(1)
        for c in prev.columns:
            frame[f"prev_{c}"] = prev[c]
    index = [c for c in spec.get("index", []) if c in frame.columns]
    out = pd.DataFrame({"row": frame[index].astype(str).agg(" ".join, axis=1) if index
                        else pd.Series(np.arange(1, len(frame) + 1)).astype(str)})
    for c in cols:
        try:
            values = frame.eval(c["expr"], engine="python")
        except pd.errors.UndefinedVariableError:
            out[c["name"]] = np.nan
            continue
        except SyntaxError as exc:
            raise ValueError(f"derived column {c['name']!r}: expression {c['expr']!r} does not parse ({exc})") from exc
        values = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        out[c["name"]] = np.where(np.isfinite(values), values, np.nan)
    return out


def load_suite_dict(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read suite ({exc})") from exc


def run_suite(frame: pd.DataFrame, suite_dict: dict[str, Any], *, label: str) -> list[dict[str, Any]]:
    """Validate ``frame`` against one suite; one result dict per expectation.

    Each result: ``expectation`` (type), ``column``, ``success``, ``severity``, ``rule`` (the
    suite's ``meta.rule``), ``source`` (``meta.source``), ``unexpected_count``, ``element_count``,
    ``examples`` (up to 5 offending values, with ``fid`` for feature frames), ``observed``.

    Raises:
        SuiteError: the suite lost expectations on parse (unknown expectation type).
    """
    gx, ProgressBarsConfig = _gx()
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)  # "Created temporary directory … docs site" at INFO
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    declared = len(suite_dict.get("expectations", []))
    suite = gx.ExpectationSuite(**suite_dict)
    if len(suite.expectations) != declared:
        raise SuiteError(f"{label}: {declared - len(suite.expectations)} expectation(s) of the suite "
                         "were dropped by GX (unknown expectation type?)")
    name = f"x{uuid.uuid4().hex[:12]}"
    batch_def = ctx.data_sources.add_pandas(name).add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
    row_id = "fid" if "fid" in frame.columns else "row" if "row" in frame.columns else None
    if row_id:
        fmt["unexpected_index_column_names"] = [row_id]
    result = batch.validate(suite, result_format=fmt)
    out = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        exc = r.exception_info or {}
        messages = [exc.get("exception_message")] if "exception_message" in exc else [
            v.get("exception_message") for v in exc.values() if isinstance(v, dict) and v.get("raised_exception")]
        if row_id:
            examples = res.get("partial_unexpected_index_list") or res.get("partial_unexpected_list") or []
        else:
            examples = res.get("partial_unexpected_list") or []
        out.append({
            "expectation": cfg.type,
            "column": cfg.kwargs.get("column"),
            "kwargs": {k: v for k, v in cfg.kwargs.items() if k not in {"column", "batch_id"}},
            "success": bool(r.success),
            "severity": str(getattr(cfg, "severity", "critical") or "critical").split(".")[-1].lower(),
            "rule": (cfg.meta or {}).get("rule", ""),
            "source": (cfg.meta or {}).get("source", ""),
            "unexpected_count": res.get("unexpected_count"),
            "element_count": res.get("element_count"),
            "examples": json.loads(json.dumps(examples[:5], default=_jsonable)),
            "observed": json.loads(json.dumps(res.get("observed_value"), default=_jsonable)),
            "error": "; ".join(m for m in messages if m),
        })
    return out


def _jsonable(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    return str(o)


@dataclass
class CheckResult:
    """Results of every suite of one delivery."""

    dataset_id: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["success"] and c["severity"] == "critical"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["success"] and c["severity"] != "critical"]


def describe_failure(check: dict[str, Any]) -> str:
    """One readable line for a failed check: file, part, rule, count and examples."""
    where = f"{check.get('file', '?')}"
    rule = check.get("rule") or check["expectation"]
    col = f" [{check['column']}]" if check.get("column") else ""
    if check.get("error"):
        return f"{where}{col}: {rule} — check could not run: {check['error']}"
    count = check.get("unexpected_count")
    total = check.get("element_count")
    if count is not None and total:
        detail = f" — {count} of {total} rows"
    elif check.get("observed") is not None:
        detail = f" — observed {check.get('observed')!r}"
    else:
        detail = ""
    ex = check.get("examples") or []
    ex_txt = f"; e.g. {ex[:3]}" if ex else ""
    return f"{where}{col}: {rule}{detail}{ex_txt}"
