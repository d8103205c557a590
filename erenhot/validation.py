"""Validation of department deliveries with Great Expectations (GX Core 1.x).

Geometry and rasters are turned into plain *fact* frames first, then checked with GX's built-in
expectations from the hand-written suites in ``expectations/<dataset_id>/<part>.<frame>.json``:

* ``features`` — one row per feature: ``fid``, ``geom_valid``, ``geom_empty``, ``geom_type``,
  ``within_boundary`` (after transformation to EPSG:4525), ``area_m2`` and the attribute columns
  (upper-cased);
* ``dataset`` — one row per vector part: ``crs_epsg``, ``crs_cgcs2000``, ``feature_count``,
  ``mojibake_share`` and the EPSG:4525 bounds;
* ``raster`` — one row per raster part: ``crs_epsg``, ``crs_cgcs2000``, ``res_x``/``res_y`` (m or °),
  ``nodata``, ``dtype``, exact ``min``/``max``/``mean`` and ``nodata_fraction`` from a block scan;
* ``table`` — the table itself (CSV/XLSX, or the daily climate frame assembled from an EPW file).

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
from pyproj import CRS

from erenhot import settings  # noqa: F401  (switches analytics off before GX is imported)

ANALYSIS_EPSG = 4525
EXPECTATIONS_DIR = Path(__file__).resolve().parents[1] / "expectations"
FRAMES = ("dataset", "features", "raster", "table")


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
    """EPSG code (0 when unknown or absent), CGCS2000-ness and name of a CRS.

    A GeoJSON without a ``crs`` member is CRS84 by RFC 7946; it is accepted as CGCS2000 (the two
    differ by centimetres, well below the 30 m grid) and the manifest of the standard data says so.
    """
    if crs is None:
        return {"crs_epsg": 0, "crs_cgcs2000": False, "crs_name": "none"}
    c = CRS.from_user_input(crs)
    horiz = c.sub_crs_list[0] if c.is_compound else c
    epsg = horiz.to_epsg() or 0
    datum = (horiz.datum.name if horiz.datum else "") or ""
    is_cgcs = "2000" in datum and "China" in datum or epsg in (4490, 4479, 4480) or 4491 <= epsg <= 4554
    if epsg in (4326,) or (c.to_authority() or ("", ""))[0] == "OGC":
        is_cgcs = True
        epsg = epsg or 4326
    return {"crs_epsg": int(epsg), "crs_cgcs2000": bool(is_cgcs), "crs_name": horiz.name}


def diagnose_crs(bounds: tuple[float, float, float, float]) -> str:
    """A guess at the CRS of coordinates without one, for the error message."""
    minx, miny, maxx, maxy = bounds
    if -180 <= minx <= 180 and -90 <= miny <= 90 and maxx <= 180 and maxy <= 90:
        return "coordinates look like longitude/latitude degrees (EPSG:4490 CGCS2000 geographic?)"
    if 13_000_000 <= minx < 46_000_000:
        zone = int(minx // 1_000_000)
        return f"eastings look like 3-degree Gauss–Krüger zone {zone} with the zone prefix (EPSG:{4488 + zone}?)"
    if 100_000 <= minx <= 900_000 and 3_000_000 <= miny <= 6_000_000:
        return "eastings look like Gauss–Krüger without zone prefix (EPSG:4546 for CM 111°E?)"
    return "coordinates do not look like any CGCS2000 form"


# -- fact frames -----------------------------------------------------------------------------

def vector_facts(gdf: gpd.GeoDataFrame, boundary: shapely.Geometry | None, *, encoding: str | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame | None]:
    """Per-feature and per-dataset facts of a vector layer.

    Args:
        gdf: the layer as delivered (any CRS, or none).
        boundary: the city boundary in EPSG:4525 (features must be covered by it), or ``None``.

    Returns:
        ``(features, dataset, projected)`` where ``projected`` is the layer in EPSG:4525 (``None``
        when it has no CRS, so it cannot be transformed).
    """
    facts = crs_facts(gdf.crs)
    projected: gpd.GeoDataFrame | None = None
    if gdf.crs is not None:
        src = gdf if facts["crs_epsg"] != 4326 else gdf.set_crs(4490, allow_override=True)
        projected = src.to_crs(ANALYSIS_EPSG)
    geoms = (projected if projected is not None else gdf).geometry.values
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    delivered = gdf.geometry.values  # validity is a property of the delivered coordinates
    features = pd.DataFrame({
        "fid": np.arange(len(gdf), dtype="int64"),
        "geom_valid": shapely.is_valid(delivered) & ~empty,
        "geom_empty": empty,
        "geom_type": pd.Series(shapely.get_type_id(geoms)).map(
            {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
        ).fillna("Other").astype(str).values,
        "area_m2": shapely.area(geoms) if projected is not None else np.nan,
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
    dataset = pd.DataFrame([{**facts, "feature_count": len(gdf), "mojibake_share": moji,
                             "encoding": encoding or "", "minx": b[0], "miny": b[1], "maxx": b[2], "maxy": b[3]}])
    return features, dataset, projected


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
    if "fid" in frame.columns:
        fmt["unexpected_index_column_names"] = ["fid"]
    result = batch.validate(suite, result_format=fmt)
    out = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        exc = r.exception_info or {}
        messages = [exc.get("exception_message")] if "exception_message" in exc else [
            v.get("exception_message") for v in exc.values() if isinstance(v, dict) and v.get("raised_exception")]
        if "fid" in frame.columns:
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
