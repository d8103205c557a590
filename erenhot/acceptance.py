"""Acceptance (数据验收) of one delivery: read its files, run its GX suites, standardise what passed.

Outcome of :func:`accept_delivery`, stored beside the delivery and never inside it:

* ``validation/<id>/<version>.json`` — the report (state ``validated`` or ``failed``; every check
  with department, dataset, file, rule and examples);
* ``quarantine/<id>/<version>.json`` — for failed deliveries (the bytes stay in ``landing/``);
* ``standard/<id>/<version>/`` — for validated ones: vectors as GeoParquet in EPSG:4525, rasters as
  COG GeoTIFF in EPSG:4525 at their native resolution, tables as Parquet, plus ``manifest.json``
  with the source CRS and the transformation used.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot import crs, formats, validation
from erenhot.catalog import Catalog
from erenhot.landing import Delivery, record_validation, validation_report
from erenhot.storage import Storage, sha256_bytes

ANALYSIS_EPSG = crs.ANALYSIS_EPSG
BOUNDARY_DATASET = "01-04"
BOUNDARY_PART = "city"
NUMERIC_TYPES = {"int", "integer", "float", "number", "double", "real", "numeric"}


@dataclass
class Part:
    """One readable unit of a delivery: a vector layer, a raster, a table or a document.

    ``kind`` is ``vector`` | ``raster`` | ``table`` | ``document``. A point table (CSV/XLSX with
    coordinate columns) is a ``vector`` part that also keeps its attribute table in ``table``; a
    document has no GX frames and carries its metadata as a one-row ``table`` (so the standard
    manifest records it). ``metadata`` holds what the reader detected or converted (layer, driver,
    notes, document pages/title/checksum, yearbook units and dropped rows) for the standard manifest;
    ``transform`` is the CRS transformation record :func:`build_frames` sets on vector parts.
    """

    name: str
    kind: str  # vector | raster | table | document
    files: list[str]
    gdf: gpd.GeoDataFrame | None = None
    projected: gpd.GeoDataFrame | None = None
    raster: bytes | None = None
    table: pd.DataFrame | None = None
    encoding: str | None = None
    source_crs: str = ""
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    transform: dict[str, Any] | None = None  # CRS transformation record, set by build_frames()



def _context(catalog: Catalog, delivery: Delivery) -> dict[str, Any]:
    ds = catalog.dataset(delivery.dataset_id)
    dept = catalog.department(delivery.department_seq)
    return {"dataset_id": ds.id, "dataset_name_zh": ds.name_zh, "department_seq": dept.seq,
            "department": dept.short_zh, "version": delivery.version}


def _numeric_fields(catalog: Catalog, dataset_id: str) -> list[str]:
    delivery = catalog.dataset(dataset_id).delivery or {}
    out = []
    for f in delivery.get("fields", []) or []:
        if str(f.get("type", "")).lower() in NUMERIC_TYPES:
            out.append(str(f["name"]))
    return out


def read_parts(storage: Storage, catalog: Catalog, delivery: Delivery) -> list[Part]:
    """Read every file of a delivery into :class:`Part` objects (nothing in the landing zone changes).

    * vectors: zipped/loose shapefiles (grouped with their sidecars), GeoPackage, FileGDB (zipped
      or as a delivered ``*.gdb`` folder), GeoJSON, KML. A file with one layer is the part named
      after its stem; a file with several layers gives one part per layer, ``<file stem>.<layer>``
      (a non-spatial table inside a GeoPackage/FileGDB becomes a ``table`` part);
    * rasters: GeoTIFF and ASCII grid (with ``.prj``/world-file sidecars), as GeoTIFF bytes;
    * tables: CSV/XLSX, numeric contract fields converted; a statistical-yearbook sheet is
      normalised when the catalog delivery block says ``layout: yearbook``; a table with coordinate
      columns (the block's ``point_columns``, else 经度/纬度, lon/lat, X/Y …; CRS from the block's
      ``epsg``, else CGCS2000 degrees for lon/lat) becomes a point ``vector`` part;
    * an EPW weather file becomes the standard daily climate table (precipitation from a delivered
      ``precip_daily.csv`` when the EPW has none);
    * documents (PDF, DOCX, other files; XLSX too in a dataset of kind ``document``; a zip without
      vector data there) become ``document`` parts with their metadata and the manifest's sha256.

    Raises:
        formats.FormatError: a file cannot be read, or two files would give parts of one name (the
        message starts with the file name).
    """
    from erenhot import documents, yearbook  # here, not at the top: the module's imports are shared

    dataset = catalog.dataset(delivery.dataset_id)
    contract = dataset.delivery or {}
    sha = {f.name: f.sha256 for f in delivery.files}
    blobs: dict[str, bytes] = {}

    def read(n: str) -> bytes:
        if n not in blobs:
            blobs[n] = storage.read_bytes(delivery.file_path(n))
        return blobs[n]

    by_kind: dict[str, list[str]] = {}
    for n in sha:
        kind = formats.part_kind(n)
        if dataset.kind == "document" and (kind == "table" or (
                n.lower().endswith(".zip") and not formats.archive_holds_vector(formats.list_archive(read(n), label=n)))):
            kind = "document"
        by_kind.setdefault(kind, []).append(n)
    sidecars = by_kind.get("sidecar", [])
    parts: list[Part] = []

    def add(part: Part) -> None:
        taken = next((p for p in parts if p.name == part.name), None)
        if taken is not None and part.kind == "document":
            part.name = part.files[0]  # a document beside data of the same stem keeps its full name
        elif taken is not None:
            raise formats.FormatError(f"{part.files[0]}: gives the part '{part.name}' that {taken.files[0]} already "
                                      f"gives — rename one of the files")
        parts.append(part)

    def add_layers(stem: str, files: list[str], reads: list[formats.VectorRead]) -> None:
        for r, name in zip(reads, formats.layer_part_names(stem, reads)):
            meta = {"layer": r.layer, "driver": r.driver, "notes": list(r.notes)}
            if not r.spatial:  # an attribute table inside a GeoPackage/FileGDB
                add(Part(name=name, kind="table", files=files, table=r.gdf, encoding=r.encoding, metadata=meta))
                continue
            gdf = r.gdf
            gdf.columns = [c if c == gdf.geometry.name else str(c).upper() for c in gdf.columns]
            # a numeric contract field stored as a text field ("12.0公顷") is refused naming the cell, as in tables
            text_numeric = [c for c in (f.upper() for f in _numeric_fields(catalog, delivery.dataset_id))
                            if c in gdf.columns and not pd.api.types.is_numeric_dtype(gdf[c])]
            if text_numeric:
                gdf = gpd.GeoDataFrame(formats.coerce_numeric(gdf, text_numeric, name=files[0]), geometry=gdf.geometry.name,
                                       crs=gdf.crs)
            add(Part(name=name, kind="vector", files=files, gdf=gdf, encoding=r.encoding,
                     source_crs=gdf.crs.to_string() if gdf.crs else "none", metadata=meta))

    for n in by_kind.get("vector", []):
        side = formats.sidecars_for(n, sidecars) if n.lower().endswith(".shp") else []
        add_layers(PurePosixPath(n).stem, [n, *side],
                   formats.read_vector_layers(n, read(n), {s: read(s) for s in side}))
    gdbs: dict[str, list[str]] = {}
    for n in by_kind.get("gdb", []):
        gdbs.setdefault(formats.filegdb_folder(n), []).append(n)
    for folder, members in gdbs.items():
        add_layers(PurePosixPath(folder).stem, members, formats.read_filegdb_files(folder, {m: read(m) for m in members}))
    for n in by_kind.get("raster", []):
        side = formats.sidecars_for(n, sidecars)
        rr = formats.read_raster_bytes(n, read(n), {s: read(s) for s in side})
        add(Part(name=PurePosixPath(n).stem, kind="raster", files=[n, *side], raster=rr.data, source_crs=rr.crs,
                 metadata={"driver": rr.driver, "notes": list(rr.notes)}))
    numeric = _numeric_fields(catalog, delivery.dataset_id)
    tables: dict[str, tuple[pd.DataFrame, str, dict[str, Any]]] = {}  # by file name
    for n in by_kind.get("table", []):
        if contract.get("layout") == "yearbook":
            yb = yearbook.read_yearbook(n, read(n))
            df, enc, meta = yb.frame, yb.encoding or "", {"yearbook": yb.report()}
        else:
            df, enc = formats.read_table_bytes(n, read(n))
            meta = {}
        df.columns = [str(c).strip() for c in df.columns]
        tables[n] = (df, enc, meta)
    weather = by_kind.get("weather", [])
    if weather:
        n = weather[0]
        station, hourly = formats.read_epw(read(n), name=n)
        daily = formats.epw_daily(station, hourly)
        used = [n]
        pn = next((t for t in tables if PurePosixPath(t).stem == "precip_daily"), None)
        if daily["precip_mm"].isna().all() and pn is not None:
            pdf = tables.pop(pn)[0]
            pdf = formats.coerce_numeric(pdf, ["precip_mm"], name=pn)
            daily = daily.drop(columns="precip_mm").merge(pdf[["date", "precip_mm"]], on="date", how="left")
            used.append(pn)
        daily = daily[["station_id", "date", "tmean_c", "tmax_c", "tmin_c", "precip_mm", "rh_pct", "wind_ms"]]
        add(Part(name="climate_daily", kind="table", files=used, table=daily, encoding="latin-1"))
    for n, (df, enc, meta) in tables.items():
        stem = PurePosixPath(n).stem
        # coordinates are checked as delivered (a '111°58′' is refused, not coerced to NaN)
        points = formats.points_from_table(n, df, columns=contract.get("point_columns"), epsg=contract.get("epsg"))
        df = formats.coerce_numeric(df, numeric, name=n)
        if points is None:
            add(Part(name=stem, kind="table", files=[n], table=df, encoding=enc, metadata=meta))
            continue
        gdf = gpd.GeoDataFrame(df.reset_index(drop=True), geometry=points.gdf.geometry.values, crs=points.gdf.crs)
        add(Part(name=stem, kind="vector", files=[n], gdf=gdf, table=df, encoding=enc,
                 source_crs=f"EPSG:{points.epsg}" if points.epsg else "none",
                 metadata={**meta, "point_columns": [points.x, points.y], "notes": list(points.notes)}))
    for n in by_kind.get("document", []):
        info = documents.document_info(n, read(n))
        meta = {**info.to_dict(), "sha256": sha[n]}
        row = {k: "; ".join(v) if isinstance(v, list) else v for k, v in meta.items()}
        add(Part(name=PurePosixPath(n).stem, kind="document", files=[n], table=pd.DataFrame([row]), metadata=meta))
    return parts


def load_boundary(storage: Storage) -> shapely.Geometry | None:
    """The city boundary (EPSG:4525) from the newest validated delivery of ``01-04``, or ``None``."""
    from erenhot.landing import latest_validated
    d = latest_validated(storage, BOUNDARY_DATASET)
    if d is None:
        return None
    path = f"standard/{BOUNDARY_DATASET}/{d.version}/{BOUNDARY_PART}.parquet"
    if not storage.exists(path):
        return None
    gdf = gpd.read_parquet(io.BytesIO(storage.read_bytes(path)))
    return shapely.union_all(gdf.to_crs(ANALYSIS_EPSG).geometry.values)


def _repeats_missing_column(check: dict[str, Any], missing: set[tuple[str, Any]]) -> bool:
    """A check that could not run because a column is absent whose absence is already reported."""
    error = str(check.get("error") or "")
    return check["expectation"] != "expect_column_to_exist" and "does not exist" in error and any(
        part == check["part"] and col and f'"{col}"' in error for part, col in missing)


#: fact columns whose failure means the features are not where Erenhot is (extent, boundary)
PLACEMENT_COLUMNS = frozenset({"within_boundary", "minx", "miny", "maxx", "maxy"})


def build_frames(part: Part, boundary: shapely.Geometry | None, crs_override: str | None = None) -> None:
    """Fill ``part.frames`` with the fact frames its suites check (vectors: transformed to EPSG:4525
    with :func:`erenhot.crs.to_analysis`, using the CRS given at ingest when there is one)."""
    if part.kind == "vector":
        features, dataset, projected, record = validation.vector_facts(part.gdf, boundary, encoding=part.encoding,
                                                                       override=crs_override)
        part.frames = {"features": features, "dataset": dataset}
        if part.table is not None:  # a point table keeps its attributes as a table frame (17-01 stations.table)
            part.frames["table"] = part.table
        part.projected = projected
        part.transform = record.to_dict() if record is not None else None
    elif part.kind == "raster":
        part.frames = {"raster": validation.raster_facts(part.raster)}
    else:
        part.frames = {"table": part.table}


def accept_delivery(storage: Storage, catalog: Catalog, delivery: Delivery, *,
                    boundary: shapely.Geometry | None = None, boundary_tolerance_m: float = 1000.0,
                    force: bool = False) -> dict[str, Any]:
    """Validate a delivery with its GX suites, record the report, standardise it when it passes.

    Args:
        boundary: the city boundary in EPSG:4525; default: from the validated ``01-04`` delivery.
        boundary_tolerance_m: features may stick out of the boundary by this much (digitising slivers).
        force: re-validate even when a report exists (reports are otherwise reused: deliveries are immutable).

    Returns:
        The report dict (``state`` ``validated`` or ``failed``, ``checks``, ``failures`` (readable
        lines naming department, dataset, file and rule), ``standard`` manifest path or ``None``).
    """
    if not force:
        existing = validation_report(storage, delivery)
        if existing is not None:
            return existing
    ctx = _context(catalog, delivery)
    contract = catalog.dataset(delivery.dataset_id).delivery or {}
    label = f"部门 {ctx['department_seq']} {ctx['department']} · {ctx['dataset_id']} {ctx['dataset_name_zh']}"
    checks: list[dict[str, Any]] = []
    parts: list[Part] = []
    try:
        parts = read_parts(storage, catalog, delivery)
    except formats.FormatError as exc:
        checks.append({"file": str(exc).split(":")[0], "part": "", "frame": "", "expectation": "readable",
                       "column": None, "success": False, "severity": "critical", "rule": "文件可读 file is readable",
                       "source": "", "error": str(exc), "examples": []})
    if boundary is None and delivery.dataset_id != BOUNDARY_DATASET:
        boundary = load_boundary(storage)
    if boundary is not None:
        boundary = boundary.buffer(boundary_tolerance_m)
    by_name = {p.name: p for p in parts}
    suites = validation.suite_files(delivery.dataset_id)
    if parts and not suites:
        checks.append({"file": ", ".join(f.name for f in delivery.files), "part": "", "frame": "",
                       "expectation": "suite_exists", "column": None, "success": True, "severity": "warning",
                       "rule": "no GX suite for this dataset yet: stored, not validated in depth", "source": "",
                       "examples": [], "error": ""})
    for (part_name, frame), path in suites.items():
        part = by_name.get(part_name)
        if part is None:
            if not any(c["expectation"] == "readable" for c in checks) and not any(
                    c["expectation"] == "part_present" and c["part"] == part_name for c in checks):
                checks.append({"file": f"{part_name}.*", "part": part_name, "frame": frame, "expectation": "part_present",
                               "column": None, "success": False, "severity": "critical",
                               "rule": f"交付缺少文件 the delivery lacks the file '{part_name}' the contract asks for "
                                       f"(delivered: {', '.join(f.name for f in delivery.files)})",
                               "source": "docs/deliveries.md", "examples": [], "error": ""})
            continue
        if not part.frames:
            build_frames(part, boundary, getattr(delivery, "crs_override", None) or None)
            if part.table is not None and contract.get("derived"):
                derived = validation.derived_frame(part.table, contract["derived"], part=part_name)
                if derived is not None:
                    part.frames["derived"] = derived
        if frame not in part.frames:
            continue
        for r in validation.run_suite(part.frames[frame], validation.load_suite_dict(path), label=str(path)):
            checks.append({"file": part.files[0], "part": part_name, "frame": frame, **r})
    missing = {(c["part"], c.get("column")) for c in checks
               if not c["success"] and c["expectation"] == "expect_column_to_exist"}
    for c in checks:  # "column X does not exist" again, from each check of a missing column: said once
        if not c["success"] and _repeats_missing_column(c, missing):
            c["repeats"] = True
    failed = [c for c in checks if not c["success"] and c["severity"] == "critical" and not c.get("repeats")]
    lines = [f"{label} · {validation.describe_failure(c)}" for c in failed]
    for part in parts:  # a layer without a CRS gets a diagnosis
        if (part.kind == "vector" and part.gdf is not None and part.gdf.crs is None and len(part.gdf)
                and not getattr(delivery, "crs_override", "")):  # named at ingest: no diagnosis needed
            lines.append(f"{label} · {part.files[0]}: no coordinate system (.prj missing); "
                         f"{validation.diagnose_crs(tuple(part.gdf.total_bounds))}")
    for part in parts:  # a layer whose .prj contradicts its coordinates gets the same diagnosis
        placed_wrong = any(c["part"] == part.name and c.get("column") in PLACEMENT_COLUMNS for c in failed)
        if (placed_wrong and part.kind == "vector" and part.gdf is not None and part.gdf.crs is not None and len(part.gdf)
                and not getattr(delivery, "crs_override", "")):
            epsg = part.gdf.crs.to_epsg()
            guess = validation.diagnose_crs(tuple(part.gdf.total_bounds))
            if epsg is None or str(epsg) not in guess:
                lines.append(f"{label} · {part.files[0]}: the .prj says {part.gdf.crs.name} (EPSG:{epsg or '?'}) but the "
                             f"coordinates do not fit it: {guess}. Resend with the right .prj, or name the coordinate system "
                             f"at delivery (erenhot ingest … --crs EPSG:<code>)")
    state = "failed" if failed else "validated"
    report: dict[str, Any] = {
        **ctx,
        "state": state,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": [f.name for f in delivery.files],
        "summary": (f"{len(failed)} failed check(s) of {len(checks)}" if failed else f"all {len(checks)} checks passed"),
        "failures": lines,
        "warnings": [f"{label} · {validation.describe_failure(c)}" for c in checks
                     if not c["success"] and c["severity"] != "critical"],
        "checks": checks,
        "standard": None,
    }
    if state == "validated":
        report["standard"] = standardise(storage, delivery, parts)
    record_validation(storage, delivery, report)
    from erenhot.receipts import write_receipt  # the department's bilingual receipt, beside the report

    write_receipt(storage, report, delivery, catalog)
    return report


# -- standardisation -------------------------------------------------------------------------

def standardise(storage: Storage, delivery: Delivery, parts: list[Part]) -> str:
    """Write the standard form of a validated delivery; returns the manifest path.

    Vectors → GeoParquet (EPSG:4525); rasters → COG GeoTIFF (EPSG:4525, native resolution,
    bilinear for float data, nearest for integer classes); tables → Parquet. Idempotent: the
    standard zone is keyed by the delivery version.
    """
    prefix = f"standard/{delivery.dataset_id}/{delivery.version}"
    manifest_path = f"{prefix}/manifest.json"
    if storage.exists(manifest_path):
        return manifest_path
    entries: dict[str, Any] = {}
    for part in parts:
        if part.kind == "vector":
            gdf = part.projected if part.projected is not None else part.gdf
            # valid delivered geometry can self-touch after projection (near-degenerate rings): repair it
            invalid = ~shapely.is_valid(gdf.geometry.values) & ~shapely.is_empty(gdf.geometry.values)
            if invalid.any():
                gdf = gdf.copy()
                gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(gdf.geometry.values[invalid])
            buf = io.BytesIO()
            gdf.to_parquet(buf, index=False)
            rel = f"{prefix}/{part.name}.parquet"
            sha = storage.write_bytes(rel, buf.getvalue())
            record = part.transform or {}
            entries[part.name] = {"kind": "vector", "path": rel, "sha256": sha, "rows": len(gdf),
                                  "source_files": part.files, "encoding": part.encoding,
                                  "source_crs": record.get("source_crs") or (part.gdf.crs.to_string() if part.gdf.crs else "none"),
                                  "target_crs": f"EPSG:{ANALYSIS_EPSG}",
                                  "transformation": record.get("transformation") or "none (already EPSG:4525)",
                                  "crs": record,
                                  "repaired_after_projection": int(invalid.sum()),
                                  "note": record.get("note", "")}
        elif part.kind == "document":
            entries[part.name] = {"kind": "document", "source_files": part.files, **part.metadata}
            continue
        elif part.kind == "raster":
            data, src_crs, info = _raster_to_analysis_crs(part.raster)
            rel = f"{prefix}/{part.name}.tif"
            sha = storage.write_bytes(rel, data)
            entries[part.name] = {"kind": "raster", "path": rel, "sha256": sha, "source_files": part.files,
                                  "source_crs": src_crs, "target_crs": f"EPSG:{ANALYSIS_EPSG}",
                                  "transformation": info, "format": "COG GeoTIFF"}
        else:
            buf = io.BytesIO()
            part.table.to_parquet(buf, index=False)
            rel = f"{prefix}/{part.name}.parquet"
            sha = storage.write_bytes(rel, buf.getvalue())
            entries[part.name] = {"kind": "table", "path": rel, "sha256": sha, "rows": len(part.table),
                                  "source_files": part.files, "encoding": part.encoding}
    for part in parts:  # what the readers detected or converted (layer, driver, notes, yearbook units …)
        if part.name in entries and part.metadata and part.kind != "document":
            entries[part.name]["read"] = part.metadata
    manifest = {"dataset_id": delivery.dataset_id, "version": delivery.version,
                "delivery_hash": delivery.delivery_hash,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "parts": entries,
                "content_hash": sha256_bytes("\n".join(f"{k}:{v.get('sha256', '')}" for k, v in sorted(entries.items())).encode())}
    storage.write_json(manifest_path, manifest)
    return manifest_path


def _raster_to_analysis_crs(data: bytes) -> tuple[bytes, str, str]:
    """Reproject a raster to EPSG:4525 (native resolution) and encode it as a COG."""
    from rasterio.io import MemoryFile
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with MemoryFile(data) as mem, mem.open() as src:
        src_crs = src.crs.to_string() if src.crs else "none"
        profile = {"driver": "COG", "dtype": src.dtypes[0], "count": src.count, "compress": "deflate",
                   "nodata": src.nodata, "crs": f"EPSG:{ANALYSIS_EPSG}"}
        tags = src.tags()
        if src.crs is not None and src.crs.to_epsg() == ANALYSIS_EPSG:
            profile.update(width=src.width, height=src.height, transform=src.transform)
            arrays = src.read()
            info = "none (already EPSG:4525)"
        else:
            transform, width, height = calculate_default_transform(src.crs, f"EPSG:{ANALYSIS_EPSG}", src.width,
                                                                   src.height, *src.bounds)
            profile.update(width=width, height=height, transform=transform)
            integer = np.dtype(src.dtypes[0]).kind in "iu"
            arrays = np.full((src.count, height, width), src.nodata if src.nodata is not None else 0, dtype=src.dtypes[0])
            for b in range(src.count):
                reproject(src.read(b + 1), arrays[b], src_transform=src.transform, src_crs=src.crs,
                          dst_transform=transform, dst_crs=f"EPSG:{ANALYSIS_EPSG}", src_nodata=src.nodata,
                          dst_nodata=src.nodata, resampling=Resampling.nearest if integer else Resampling.bilinear)
            info = f"{src_crs} → EPSG:{ANALYSIS_EPSG} ({'nearest' if integer else 'bilinear'})"
    with MemoryFile() as out:
        with out.open(**profile) as dst:
            dst.write(arrays)
            dst.update_tags(**tags)
        return out.read(), src_crs, info
