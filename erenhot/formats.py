"""Readers of what departments deliver: vectors, rasters, tables, station weather files.

Every reader takes bytes (or the bytes of a delivered folder's files) so the same code serves the
local landing zone and S3; nothing here writes to the landing zone (readers work on copies in a
temporary folder). Every failure is a :class:`FormatError` whose message starts with the delivered
file name — and ``!member`` for a file inside an archive, `` (layer L)`` for one layer of a
multi-layer source — followed by the problem in words a department clerk can act on.

What is handled (issue "Formats", ``design/validation-notes.md`` §4):

* zip archives: nested folders, OS junk (``__MACOSX``, ``Thumbs.db``, ``._*``) ignored, member names
  written by Chinese Windows tools (GBK without the UTF-8 flag) decoded, unsafe members (absolute
  paths, ``..``, symbolic links) refused, damaged or truncated archives named as such;
* shapefiles (zipped or loose): the DBF encoding is detected (``.cpg`` → CJK language-driver id →
  strict UTF-8 → GB18030 → declared western code page), every candidate verified against the bytes
  so Chinese text never becomes mojibake; a missing ``.shx``/``.dbf`` is named;
* GeoPackage, FileGDB (OpenFileGDB; zipped or delivered as a ``*.gdb`` folder), GeoJSON (UTF-8, or
  GBK converted), KML: every layer is read (:func:`read_vector_layers`);
* mixed geometry types, null and empty geometries are **kept** and listed in the read's notes: the
  dataset's GX suite decides (``geom_type`` in its allowed set, ``geom_empty`` false, reported with
  ``fid``). Airport data (21-01) legitimately mixes lines and polygons, so refusing mixed types here
  would be wrong for some datasets;
* rasters: GeoTIFF and ASCII grid (with ``.prj``/world-file sidecars), every block read once so a
  truncated file is refused; ASCII grids become GeoTIFF bytes (lossless);
* tables: CSV in UTF-8 (with or without BOM), UTF-16 with BOM, GBK/GB18030; XLSX; point tables with
  longitude/latitude (or x/y) columns become point layers (:func:`points_from_table`).
"""

from __future__ import annotations

import csv
import io
import re
import stat
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl  # noqa: F401  imported here, not lazily by pandas: two validation threads importing it
import pandas as pd  # at once get a half-initialised module ("partially initialized module 'openpyxl'")
import pyogrio
import rasterio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

VECTOR_EXT = {".zip", ".shp", ".geojson", ".json", ".gpkg", ".kml"}
RASTER_EXT = {".tif", ".tiff", ".asc"}
TABLE_EXT = {".csv", ".xlsx", ".xls"}
WEATHER_EXT = {".epw"}
SHAPEFILE_SIDECARS = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".xml", ".txt",
                      ".qpj", ".tfw", ".tifw", ".wld", ".ovr"}
JUNK = {"__MACOSX", "Thumbs.db", ".DS_Store", "desktop.ini"}
OGR_EXT = {".gpkg": "GeoPackage", ".geojson": "GeoJSON", ".json": "GeoJSON", ".kml": "KML", ".gdb": "FileGDB"}

# DBF language-driver ids (byte 29) that name a code page (dBase / ESRI conventions: 0x4D and 0x7A
# are code page 936, simplified Chinese GBK)
LDID_ENCODINGS = {0x4D: "gb18030", 0x7A: "gb18030", 0x57: None, 0x00: None, 0x03: "cp1252", 0x01: "cp437"}
CJK_LDIDS = {0x4D, 0x7A}
# .cpg contents written by ArcGIS, QGIS, GDAL and Chinese tools → Python codec
CPG_ENCODINGS = {"GBK": "gb18030", "GB2312": "gb18030", "GB18030": "gb18030", "936": "gb18030", "CP936": "gb18030",
                 "ANSI 936": "gb18030", "UTF-8": "utf-8", "UTF8": "utf-8", "65001": "utf-8"}


class FormatError(ValueError):
    """A delivered file cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class VectorRead:
    """A vector layer as read, with what was detected on the way.

    ``gdf`` is a GeoDataFrame, or a plain DataFrame for a non-spatial table inside a GeoPackage or
    FileGDB (then ``spatial`` is false). ``layer`` is the layer's name inside its file (``None`` for
    single-layer formats read through :func:`read_vector_bytes`); ``notes`` lists what was detected
    or converted (encoding and why, geometry types, null/empty geometries).
    """

    gdf: gpd.GeoDataFrame
    source: str  # file (and member) it came from
    encoding: str | None
    driver: str
    layer: str | None = None
    notes: tuple[str, ...] = ()
    spatial: bool = True


@dataclass(frozen=True)
class RasterRead:
    """A raster as read: GeoTIFF bytes (the delivered bytes when it already was a GeoTIFF)."""

    data: bytes
    driver: str  # GDAL driver of the delivered file: GTiff | AAIGrid
    crs: str  # "EPSG:4525"-like text, or "none"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PointTable:
    """A table whose coordinate columns became point geometries (all columns kept as delivered)."""

    gdf: gpd.GeoDataFrame
    x: str
    y: str
    epsg: int | None
    notes: tuple[str, ...] = ()


def part_kind(name: str) -> str:
    """``vector`` / ``raster`` / ``table`` / ``weather`` / ``document`` / ``sidecar`` / ``gdb`` from a file name.

    ``gdb`` marks a file inside a delivered ``*.gdb`` folder (a FileGDB sent unzipped); the folder
    is read as one vector source (:func:`filegdb_folder`).
    """
    path = PurePosixPath(name)
    if filegdb_folder(name) is not None:
        return "gdb"
    suffix = path.suffix.lower()
    if suffix in VECTOR_EXT:
        return "vector"
    if suffix in RASTER_EXT:
        return "raster"
    if suffix in TABLE_EXT:
        return "table"
    if suffix in WEATHER_EXT:
        return "weather"
    if suffix in SHAPEFILE_SIDECARS:
        return "sidecar"
    return "document"


def filegdb_folder(name: str) -> str | None:
    """The ``*.gdb`` folder a delivered file name lies in (``DLTB.gdb/a00000001.gdbtable`` → ``DLTB.gdb``)."""
    parents = PurePosixPath(name.replace("\\", "/")).parents
    return next((p.as_posix() for p in reversed(list(parents)) if p.suffix.lower() == ".gdb"), None)


def sidecars_for(name: str, candidates: list[str]) -> list[str]:
    """The delivered sidecar files that belong to data file ``name``.

    Same folder and same stem, compared case-insensitively (``DLTB.shp`` → ``DLTB.dbf``, ``dltb.SHX``;
    ``dem.asc`` → ``dem.prj``), or the full name plus a suffix (``dem.tif.aux.xml``, ``dem.tif.ovr``).
    """
    path = PurePosixPath(name.replace("\\", "/"))
    out = []
    for c in candidates:
        cp = PurePosixPath(c.replace("\\", "/"))
        same_folder = cp.parent == path.parent
        if c != name and same_folder and (cp.stem.lower() == path.stem.lower()
                                          or cp.name.lower().startswith(path.name.lower() + ".")):
            out.append(c)
    return sorted(out)


def layer_part_names(stem: str, reads: list[VectorRead]) -> list[str]:
    """Part names of a file's layers: ``stem`` for a single layer, else ``<stem>.<layer>`` each."""
    if len(reads) == 1:
        return [stem]
    return [f"{stem}.{r.layer}" for r in reads]


def archive_holds_vector(members: list[str]) -> bool:
    """Whether archive member names include a shapefile, FileGDB, GeoPackage, GeoJSON or KML."""
    return any(PurePosixPath(m).suffix.lower() in {".shp", ".gpkg", ".geojson", ".json", ".kml", ".gdbtable"}
               for m in members)


def require_bytes(name: str, data: bytes) -> None:
    """Raise :class:`FormatError` ``"<name>: empty file (0 bytes)"`` for an empty file."""
    if not data:
        raise FormatError(f"{name}: empty file (0 bytes) — the upload or copy failed; send the file again")


# -- zip archives ----------------------------------------------------------------------------

def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name: UTF-8 when flagged; else strict UTF-8, then GB18030 (Chinese Windows tools)."""
    if info.flag_bits & 0x800:  # UTF-8 flag set
        return info.filename
    try:  # zipfile decoded the raw bytes as cp437 (APPNOTE default); get the bytes back
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for enc in ("utf-8", "gb18030"):  # GBK bytes are almost never valid UTF-8, so UTF-8 first
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _open_zip(data: bytes, label: str) -> zipfile.ZipFile:
    require_bytes(label, data)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{label}: the zip archive is damaged or incomplete (cut off during upload?) "
                          f"— send it again") from exc


def _safe_members(zf: zipfile.ZipFile, label: str) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Regular-file members with their path parts; junk skipped, unsafe members refused."""
    out = []
    for info in zf.infolist():
        name = _member_name(info)
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if info.is_dir() or not parts:
            continue
        if name.startswith(("/", "\\")) or (len(parts[0]) == 2 and parts[0][1] == ":") or ".." in parts:
            raise FormatError(f"{label}: refused archive member {name!r} (absolute path or '..' escapes the folder)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise FormatError(f"{label}: refused archive member {name!r} (symbolic link)")
        if any(p in JUNK or p.startswith("._") for p in parts):
            continue
        out.append((info, parts))
    return out


def list_archive(data: bytes, *, label: str) -> list[str]:
    """Names (``/``-separated, decoded) of the regular files in a zip, junk left out, nothing extracted.

    Raises:
        FormatError: empty or damaged archive, unsafe member (as :func:`safe_extract`).
    """
    with _open_zip(data, label) as zf:
        return ["/".join(parts) for _, parts in _safe_members(zf, label)]


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, name: str) -> bytes:
    if info.flag_bits & 0x1:
        raise FormatError(f"{label}!{name}: the archive member is password-protected — send it without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        raise FormatError(f"{label}!{name}: compressed with a method this system cannot read "
                          f"(zip method {info.compress_type}, e.g. Deflate64) — zip it again with standard compression")
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise FormatError(f"{label}!{name}: the archive member is damaged ({exc}) — send the archive again") from exc


def safe_extract(data: bytes, dest: Path, *, label: str, max_total: int = 4 << 30) -> list[Path]:
    """Extract a zip archive's regular files into ``dest`` after checking every member.

    Args:
        data: the archive's bytes.
        dest: target folder (created as needed).
        label: the delivered file name, used at the start of every message.
        max_total: cap on the sum of the members' uncompressed sizes (zip bombs).

    Returns:
        The extracted files (nested folders kept; junk skipped).

    Raises:
        FormatError: empty, damaged or truncated archive; a member with an absolute path or ``..``;
        a symbolic link; a damaged, password-protected or Deflate64 member; too large in total.
    """
    out: list[Path] = []
    total = 0
    with _open_zip(data, label) as zf:
        for info, parts in _safe_members(zf, label):
            total += info.file_size
            if total > max_total:
                raise FormatError(f"{label}: archive expands beyond {max_total >> 20} MiB")
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_read_member(zf, info, label, "/".join(parts)))
            out.append(target)
    return out


# -- shapefile encodings ---------------------------------------------------------------------

def _sibling(shp: Path, suffix: str) -> Path | None:
    """The file beside ``shp`` with the same stem and ``suffix``, matched case-insensitively."""
    exact = shp.with_suffix(suffix)
    if exact.exists():
        return exact
    return next((p for p in shp.parent.iterdir()
                 if p.suffix.lower() == suffix and p.stem.lower() == shp.stem.lower()), None)


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def _cpg_encoding(text: str) -> str | None:
    """Python codec named by a ``.cpg`` (``GBK``, ``ANSI 936``, ``UTF-8`` …), or ``None`` when unknown."""
    key = text.strip().upper()
    if not key:
        return None
    if key in CPG_ENCODINGS:
        return CPG_ENCODINGS[key]
    try:
        import codecs
        return codecs.lookup(key.lower()).name
    except LookupError:
        return None


def dbf_encoding(shp: Path, *, label: str | None = None) -> tuple[str, str]:
    """Encoding of a shapefile's DBF and the reason, every candidate verified against the DBF bytes.

    Order: ``.cpg`` (if the text decodes with it) → language-driver id 0x4D/0x7A (code page 936) →
    plain ASCII → strict UTF-8 → GB18030 (superset of GBK/GB2312) → a western code page the LDID
    declares. Source: ``design/validation-notes.md`` §4 (GBK DBFs without ``.cpg`` and LDID 0 are
    the common case from Chinese ArcGIS installs; ``encoding="UTF-8"`` on them raises).

    Raises:
        FormatError: the ``.dbf`` is missing, or its text is in no encoding above.
    """
    label = label or shp.name
    dbf = _sibling(shp, ".dbf")
    if dbf is None:
        raise FormatError(f"{label}: the .dbf attribute file is missing")
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) > 10 else 0
    body = raw[header_len:]
    ldid = raw[29] if len(raw) > 29 else 0
    cpg = _sibling(shp, ".cpg")
    cpg_text = cpg.read_text("ascii", errors="ignore").strip() if cpg else ""
    declared = _cpg_encoding(cpg_text)
    if declared and _decodes(body, declared):
        return declared, f".cpg says {cpg_text}"
    why = (f".cpg says {cpg_text} but the text is not {declared}; " if declared
           else f".cpg {cpg_text!r} names no known encoding; " if cpg_text else "no .cpg; ")
    if ldid in CJK_LDIDS and _decodes(body, "gb18030"):
        return "gb18030", why + f"language driver id 0x{ldid:02X} (code page 936)"
    if not any(b >= 0x80 for b in body):
        return "utf-8", why + "plain ASCII text"
    if _decodes(body, "utf-8"):
        return "utf-8", why + "the text is valid UTF-8"
    if _decodes(body, "gb18030"):
        return "gb18030", why + "the text is not UTF-8 but valid GBK/GB18030"
    western = LDID_ENCODINGS.get(ldid)
    if western:
        return western, why + f"language driver id 0x{ldid:02X}"
    raise FormatError(f"{label}: the attribute text in {dbf.name} is neither UTF-8 nor GBK/GB18030 — "
                      f"export the shapefile again with a .cpg file naming its encoding")


def detect_dbf_encoding(shp: Path) -> str:
    """Encoding of a shapefile's DBF (see :func:`dbf_encoding` for the order and the checks)."""
    return dbf_encoding(shp)[0]


def mojibake_share(values: pd.Series) -> float:
    """Share of strings that look like GBK read as Latin-1 (high Latin-1 chars and no CJK)."""
    s = values.dropna().astype(str)
    if s.empty:
        return 0.0
    latin = s.str.contains("[\u0080-\u00ff]", regex=True)
    cjk = s.str.contains("[\u4e00-\u9fff]", regex=True)
    bad = (latin & ~cjk) | s.str.contains("\ufffd", regex=False)
    return float(bad.mean())


# -- vectors ---------------------------------------------------------------------------------

def geometry_notes(gdf: gpd.GeoDataFrame) -> tuple[str, ...]:
    """Geometry types and null/empty/invalid counts of a layer, in words (all kept, nothing repaired).

    Mixed types are reported here and judged by the dataset's GX ``geom_type`` rule (with ``fid``).
    """
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms) & ~missing
    types = Counter(str(t) for t in gdf.geometry[~missing & ~empty].geom_type)
    notes = []
    if types:
        notes.append("geometry types: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items())))
    base = {t.removeprefix("Multi") for t in types}
    if len(base) > 1:
        notes.append(f"mixed geometry types ({', '.join(sorted(base))}): kept; the dataset's geometry-type check decides")
    if missing.any():
        notes.append(f"{int(missing.sum())} feature(s) without geometry (null): kept for the checks")
    if empty.any():
        notes.append(f"{int(empty.sum())} feature(s) with empty geometry: kept for the checks")
    invalid = ~missing & ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        notes.append(f"{int(invalid.sum())} feature(s) with invalid geometry (e.g. self-intersecting): "
                     f"kept unrepaired for the checks")
    return tuple(notes)


def read_vector_bytes(name: str, data: bytes, sidecars: dict[str, bytes] | None = None) -> VectorRead:
    """Read a vector delivery file's first layer: zipped or loose shapefile, GeoJSON, GeoPackage, KML.

    Args:
        name: delivered file name (its suffix selects the reader).
        data: the file's bytes.
        sidecars: for a loose ``.shp``, the other shapefile members delivered with it, by name.

    Raises:
        FormatError: naming the file when it cannot be read or holds no vector data.
    """
    return read_vector_layers(name, data, sidecars)[0]


def read_vector_layers(name: str, data: bytes, sidecars: dict[str, bytes] | None = None) -> list[VectorRead]:
    """Read every layer of a vector delivery file.

    A zip yields every shapefile, FileGDB, GeoPackage, GeoJSON and KML inside (nested folders
    too); a GeoPackage/FileGDB/KML yields each of its layers (non-spatial tables with
    ``spatial=False``). ``VectorRead.layer`` names the layer inside the file, unique per file.

    Raises:
        FormatError: empty file, damaged archive, unsafe archive member, missing ``.shx``/``.dbf``,
        an archive without vector data, a file GDAL cannot read.
    """
    require_bytes(name, data)
    suffix = PurePosixPath(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="erenhot-read-") as tmp:
        root = Path(tmp)
        if suffix == ".zip":
            return _read_archive_layers(name, data, root)
        target = root / PurePosixPath(name).name
        target.write_bytes(data)
        if suffix == ".shp":
            for side_name, side_data in (sidecars or {}).items():
                (root / PurePosixPath(side_name).name).write_bytes(side_data)
            return [_read_shapefile(target, label=name, layer=target.stem)]
        return _read_ogr_layers(target, label=name)


def read_filegdb_files(folder: str, files: dict[str, bytes]) -> list[VectorRead]:
    """Read every layer of a FileGDB delivered unzipped as a ``*.gdb`` folder.

    Args:
        folder: the folder's delivered name (``DLTB.gdb``), used in messages.
        files: the folder's files by delivered name (``DLTB.gdb/a00000001.gdbtable`` …).

    Raises:
        FormatError: the folder is not a readable FileGDB.
    """
    with tempfile.TemporaryDirectory(prefix="erenhot-gdb-") as tmp:
        gdb = Path(tmp) / PurePosixPath(folder).name
        for n, blob in files.items():
            rel = PurePosixPath(n.replace("\\", "/")).relative_to(folder)
            if ".." in rel.parts:
                raise FormatError(f"{folder}: refused file {n!r} ('..' escapes the folder)")
            target = gdb.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        return _read_ogr_layers(gdb, label=folder)


def _read_archive_layers(name: str, data: bytes, root: Path) -> list[VectorRead]:
    members = safe_extract(data, root, label=name)
    rel = {p: p.relative_to(root).as_posix() for p in members}
    shps = sorted(p for p in members if p.suffix.lower() == ".shp")
    gdbs = sorted({q for p in members for q in p.parents if q.suffix.lower() == ".gdb"})
    others = sorted(p for p in members if p.suffix.lower() in OGR_EXT
                    and not any(q.suffix.lower() == ".gdb" for q in p.parents))
    loose_gdb = [p for p in members if p.suffix.lower() == ".gdbtable" and p.parent.suffix.lower() != ".gdb"]
    if loose_gdb:
        raise FormatError(f"{name}: FileGDB tables ({rel[loose_gdb[0]]} …) are not inside a *.gdb folder — "
                          f"zip the whole .gdb folder, not its contents")
    orphans = [p for p in members if p.suffix.lower() in {".dbf", ".shx"}
               and not any(s.parent == p.parent and s.stem.lower() == p.stem.lower() for s in shps)]
    if orphans:
        p = orphans[0]
        raise FormatError(f"{name}!{rel[p]}: the .shp geometry file is missing — send {p.stem}.shp "
                          f"together with {p.stem}.shx/.dbf")
    if not (shps or gdbs or others):
        held = ", ".join(sorted(rel.values())) or "nothing"
        raise FormatError(f"{name}: the archive holds no shapefile, FileGDB, GeoPackage, GeoJSON or KML "
                          f"(it holds: {held}) — send rasters, tables and documents unzipped")
    sources = [*shps, *gdbs, *others]
    reads: list[VectorRead] = []
    for src in sources:
        label = f"{name}!{src.relative_to(root).as_posix()}"
        if src.suffix.lower() == ".shp":
            reads.append(_read_shapefile(src, label=label, layer=src.stem))
        else:
            layers = _read_ogr_layers(src, label=label)
            if len(sources) > 1:  # several sources in one zip: the source's stem keeps layers apart
                layers = [_with_layer(r, src.stem if len(layers) == 1 else f"{src.stem}.{r.layer}") for r in layers]
            reads.extend(layers)
    return _unique_layers(reads, root)


def _with_layer(read: VectorRead, layer: str) -> VectorRead:
    return VectorRead(gdf=read.gdf, source=read.source, encoding=read.encoding, driver=read.driver,
                      layer=layer, notes=read.notes, spatial=read.spatial)


def _unique_layers(reads: list[VectorRead], root: Path) -> list[VectorRead]:
    """Two shapefiles with one stem in different folders: name their layers by folder (``2020.DLTB``)."""
    counts = Counter(r.layer for r in reads)
    out = []
    for r in reads:
        if counts[r.layer] > 1:
            member = r.source.split("!", 1)[1]
            r = _with_layer(r, str(PurePosixPath(member).with_suffix("")).replace("/", "."))
        out.append(r)
    return out


def _shapefile_members(shp: Path, label: str) -> None:
    """Check the ``.shx``/``.dbf`` beside a ``.shp`` (case-insensitively) and give them the ``.shp``'s stem.

    Raises:
        FormatError: a member is missing or empty, naming what to send.
    """
    found = {s: _sibling(shp, s) for s in (".shx", ".dbf")}
    missing = [s for s, p in found.items() if p is None]
    what = {".shx": "the .shx index file", ".dbf": "the .dbf attribute file"}
    if len(missing) == 2:
        raise FormatError(f"{label}: the .shx index file and the .dbf attribute file are missing — send "
                          f"{shp.stem}.shx and {shp.stem}.dbf together with {shp.name}")
    if missing:
        s = missing[0]
        others = "/".join(x for x in (".shp", ".shx", ".dbf") if x != s)
        raise FormatError(f"{label}: {what[s]} is missing — send {shp.stem}{s} together with {shp.stem}{others}")
    for p in (shp, *found.values()):
        if p.stat().st_size == 0:
            raise FormatError(f"{label}: {p.name} is empty (0 bytes) — send the shapefile again")
    for s, p in found.items():  # GDAL on Linux matches sidecars by exact stem
        if p.stem != shp.stem:
            p.rename(shp.with_suffix(s))


def _read_shapefile(shp: Path, *, label: str, layer: str | None = None) -> VectorRead:
    _shapefile_members(shp, label)
    enc, why = dbf_encoding(shp, label=label)
    try:
        gdf = pyogrio.read_dataframe(shp, encoding=enc)
    except (DataSourceError, DataLayerError, FieldError, UnicodeDecodeError, LookupError) as exc:
        raise FormatError(f"{label}: the shapefile cannot be read ({exc}) — export it again") from exc
    notes = (f"attribute encoding {enc}: {why}", *geometry_notes(gdf))
    return VectorRead(gdf=gdf, source=label, encoding=enc, driver="ESRI Shapefile", layer=layer, notes=notes)


def _utf8_geojson(path: Path, label: str) -> tuple[str, ...]:
    """GeoJSON is UTF-8 (RFC 7946 §11); a GBK file from a Chinese tool is converted in the temp copy."""
    raw = path.read_bytes()
    if _decodes(raw, "utf-8"):
        return ()
    if _decodes(raw, "gb18030"):
        path.write_bytes(raw.decode("gb18030").encode("utf-8"))
        return ("the GeoJSON was GBK/GB18030, not UTF-8 (RFC 7946): converted to UTF-8",)
    raise FormatError(f"{label}: the GeoJSON text is neither UTF-8 nor GBK — save it as UTF-8")


def _read_ogr_layers(path: Path, *, label: str) -> list[VectorRead]:
    """Every layer of a GeoPackage / FileGDB / GeoJSON / KML (one :class:`VectorRead` each)."""
    kind = OGR_EXT.get(path.suffix.lower(), "vector")
    notes = _utf8_geojson(path, label) if kind == "GeoJSON" else ()
    try:
        layers = [(str(n), t) for n, t in pyogrio.list_layers(path)]
        driver = str(pyogrio.read_info(path, layer=layers[0][0]).get("driver", "")) if layers else ""
    except (DataSourceError, DataLayerError) as exc:
        raise FormatError(f"{label}: not a readable {kind} file (damaged, truncated, or another format "
                          f"renamed to {path.suffix})") from exc
    if not layers:
        raise FormatError(f"{label}: the {kind} file holds no layers")
    reads = []
    for layer, gtype in layers:
        where = label if len(layers) == 1 else f"{label} (layer {layer})"
        try:
            gdf = pyogrio.read_dataframe(path, layer=layer)
        except (DataSourceError, DataLayerError, FieldError, UnicodeDecodeError) as exc:
            raise FormatError(f"{where}: cannot read the layer ({exc})") from exc
        spatial = isinstance(gdf, gpd.GeoDataFrame) and gtype is not None
        layer_notes = (*notes, *(geometry_notes(gdf) if spatial else ("non-spatial table",)))
        reads.append(VectorRead(gdf=gdf, source=where, encoding="utf-8", driver=driver, layer=layer,
                                notes=layer_notes, spatial=spatial))
    return reads


# -- rasters ---------------------------------------------------------------------------------

def check_raster_bytes(name: str, data: bytes) -> None:
    """Open a delivered raster and read it once so that an unreadable file fails with its name.

    Raises:
        FormatError: as :func:`read_raster_bytes`.
    """
    read_raster_bytes(name, data)


def read_raster_bytes(name: str, data: bytes, sidecars: dict[str, bytes] | None = None) -> RasterRead:
    """Read a GeoTIFF or ASCII grid (with optional ``.prj``/``.tfw``/``.aux.xml`` sidecars).

    Every block is read once: GDAL opens a truncated GeoTIFF's header happily and fails only on
    the missing blocks. An ASCII grid, or a raster georeferenced by sidecars, is written as a
    deflate GeoTIFF (lossless: same values, dtype, nodata, transform, CRS) so the standard zone
    reads one format.

    Raises:
        FormatError: empty file, not a raster, damaged or truncated data.
    """
    require_bytes(name, data)
    with tempfile.TemporaryDirectory(prefix="erenhot-raster-") as tmp:
        path = Path(tmp) / PurePosixPath(name).name
        path.write_bytes(data)
        for side_name, blob in (sidecars or {}).items():
            (Path(tmp) / PurePosixPath(side_name).name).write_bytes(blob)
        try:
            src = rasterio.open(path)
        except RasterioIOError as exc:
            raise FormatError(f"{name}: not a readable raster (GeoTIFF / ASCII grid expected)") from exc
        with src:
            try:
                for _, window in src.block_windows(1):
                    src.read(window=window)
            except RasterioIOError as exc:
                raise FormatError(f"{name}: the raster data is incomplete or damaged (truncated file?) "
                                  f"— send it again") from exc
            driver, crs = src.driver, (src.crs.to_string() if src.crs else "none")
            if driver == "GTiff" and not sidecars:
                return RasterRead(data=data, driver=driver, crs=crs)
            out = _as_geotiff(src)
    used = ", ".join(sorted(PurePosixPath(s).name for s in sidecars or {}))
    notes = [f"{driver} converted to GeoTIFF (lossless)"] + ([f"georeferencing sidecars: {used}"] if used else [])
    if crs == "none":
        notes.append("no coordinate system in the file or its sidecars")
    return RasterRead(data=out, driver=driver, crs=crs, notes=tuple(notes))


def _as_geotiff(src: Any) -> bytes:
    profile = {"driver": "GTiff", "dtype": src.dtypes[0], "count": src.count, "width": src.width,
               "height": src.height, "transform": src.transform, "crs": src.crs, "nodata": src.nodata,
               "compress": "deflate"}
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(src.read())
            dst.update_tags(**src.tags())
        return mem.read()


# -- tables ----------------------------------------------------------------------------------

def decode_text(name: str, data: bytes) -> tuple[str, str]:
    """Text of a delivered CSV and its encoding name.

    Order: UTF-8 BOM (``utf-8-sig``) → UTF-16 BOM (``utf-16``, Excel "Unicode text") → strict UTF-8
    (``utf-8``) → GB18030 (``gb18030``; superset of GBK/GB2312, what Chinese Excel/WPS save as "CSV").
    Strict decoding only: a wrong guess raises instead of producing mojibake.

    Raises:
        FormatError: empty, or none of the encodings decodes the bytes.
    """
    require_bytes(name, data)
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise FormatError(f"{name}: the text is neither UTF-8 nor GBK/GB18030 — save it as \"CSV UTF-8\"")


def _delimiter(text: str) -> str:
    """``,`` unless the first line has more tabs or semicolons (Excel "Unicode text", European CSV)."""
    first = text.split("\n", 1)[0]
    return max([",", "\t", ";"], key=lambda d: (first.count(d), d == ","))


def _excel_kind(name: str, data: bytes) -> str:
    if data.startswith(b"PK"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FormatError(f"{name}: old Excel 97–2003 workbook (.xls) — open it in Excel or WPS and "
                          f"save it as .xlsx")
    raise FormatError(f"{name}: not an Excel .xlsx workbook (damaged, or another format renamed) — "
                      f"save it again as .xlsx")


def read_table_bytes(name: str, data: bytes, *, header: int | None = 0, sheet: int | str = 0
                     ) -> tuple[pd.DataFrame, str]:
    """Read a CSV (encoding by :func:`decode_text`) or one XLSX sheet (the first by default).

    Args:
        header: row holding the column names (``0``), or ``None`` for the raw grid (every row as
            data, ragged CSV rows padded) — what :mod:`erenhot.yearbook` normalises.
        sheet: XLSX sheet index or name.

    Returns:
        (frame, encoding name or ``"xlsx"``). CSV cells are strings; XLSX cells as Excel stores them.

    Raises:
        FormatError: naming the file when it cannot be decoded or parsed.
    """
    suffix = PurePosixPath(name).suffix.lower()
    require_bytes(name, data)
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        _excel_kind(name, data)
        try:
            return pd.read_excel(io.BytesIO(data), sheet_name=sheet, header=header, dtype=object,
                                 engine="openpyxl"), "xlsx"
        except zipfile.BadZipFile as exc:
            raise FormatError(f"{name}: the workbook is damaged or incomplete (cut off during upload?) "
                              f"— send it again") from exc
        except (ValueError, KeyError, IndexError, OSError) as exc:  # openpyxl on malformed parts, unknown sheet
            raise FormatError(f"{name}: cannot read the workbook ({exc})") from exc
    text, enc = decode_text(name, data)
    sep = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        if header is None:
            width = max((len(r) for r in rows), default=0)
            return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object), enc
        _check_fields(name, text, sep)
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True, sep=sep, index_col=False), enc
    except pd.errors.EmptyDataError as exc:
        raise FormatError(f"{name}: the table is empty (no header row)") from exc
    except (csv.Error, pd.errors.ParserError) as exc:  # what malformed CSV raises
        raise FormatError(f"{name}: cannot read the table ({str(exc).strip()})") from exc


def _check_fields(name: str, text: str, sep: str) -> None:
    """Refuse a row with more fields than the header (pandas would silently shift it into the index)."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    width = next((len(r) for r in reader if r), 0)
    for row in reader:
        if len(row) > width:
            raise FormatError(f"{name}: line {reader.line_num} has {len(row)} fields but the header has {width} — "
                              f"a value containing '{sep}' must be in double quotes")


NUMERIC_MISSING = {"", "—", "——", "-", "–", "－", "…", "……", "...", "nan", "None", "NaN"}


def coerce_numeric(df: pd.DataFrame, columns: list[str], *, name: str | None = None) -> pd.DataFrame:
    """Convert the given columns to float.

    Full-width digits become ASCII (NFKC), thousands separators are removed; empty, ``—``, ``-``
    and ``…`` become NaN (missing).

    Args:
        name: the delivered file's name. When given, a cell that is neither a number nor a missing
            mark (``"2008年"``, ``"1,2三"``, ``"是"``) raises :class:`FormatError` naming the file,
            column, data row and text — it is not turned into an empty value that a later check
            would misreport as missing. Without it such cells become NaN (lenient reading).

    Raises:
        FormatError: (only with ``name``) a non-numeric cell, with the first offending cell and the
            count of such cells in that column.
    """
    out = df.copy()
    for c in columns:
        if c in out.columns:
            raw = out[c].astype(object).where(out[c].notna(), "")
            s = raw.astype(str).str.normalize("NFKC").str.strip().str.replace(",", "", regex=False)
            s = s.where(~s.isin(NUMERIC_MISSING), np.nan)
            values = pd.to_numeric(s, errors="coerce")
            bad = values.isna() & s.notna()
            if name is not None and bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                text = str(raw.iloc[row]).strip()
                hint = ("write 1 for yes and 0 for no" if text in YES_NO else
                        "write the number alone (the unit belongs in the header), e.g. 2008 not 2008年"
                        if UNIT_SUFFIX_RE.match(text) else "write a decimal number, or leave the cell empty")
                raise FormatError(f"{name}: column {c}, data row {row + 1}: {text!r} is not a number — {hint}"
                                  + (f" ({int(bad.sum())} such cells in this column)" if bad.sum() > 1 else ""))
            out[c] = values
    return out


UNIT_SUFFIX_RE = re.compile(r"^[-+]?[\d.,]+\s*(年|人|户|个|处|所|张|元|万元|亿元|亩|公顷|平方公里|万人|km2|km²|hm2|hm²|m2|m²|m³|t)$")
YES_NO = {"是", "否", "有", "无", "yes", "no", "Y", "N", "√", "×"}


# -- point tables ----------------------------------------------------------------------------

# (x, y, geographic?) pairs of column names, compared lower-case without a trailing "(unit)"
POINT_COLUMN_PAIRS = [("经度", "纬度", True), ("东经", "北纬", True), ("lon", "lat", True),
                      ("longitude", "latitude", True), ("lng", "lat", True), ("x", "y", False)]
GEOGRAPHIC_EPSG = 4490  # CGCS2000 geographic: docs/deliveries.md (station lon/lat are CGCS2000 degrees)


def _bare(column: Any) -> str:
    return re.sub(r"\s*[(（][^)）]*[)）]\s*$", "", str(column)).strip().lower()


def point_columns(df: pd.DataFrame, configured: Any = None) -> tuple[str, str, bool] | None:
    """The (x, y, geographic?) coordinate columns of a table, or ``None`` when it has none.

    Args:
        configured: the catalog delivery block's ``point_columns`` (``[x, y]`` or ``{x: .., y: ..}``);
            the names are then taken as given (geographic when both are lon/lat-like names).
    """
    by_bare = {_bare(c): c for c in df.columns}
    if configured:
        x, y = (configured["x"], configured["y"]) if isinstance(configured, dict) else tuple(configured)
        geo = any(_bare(x) == p[0] and _bare(y) == p[1] for p in POINT_COLUMN_PAIRS if p[2])
        return str(x), str(y), geo
    for x, y, geo in POINT_COLUMN_PAIRS:
        if x in by_bare and y in by_bare:
            return str(by_bare[x]), str(by_bare[y]), geo
    return None


def _coordinates(name: str, df: pd.DataFrame, column: str) -> np.ndarray:
    s = df[column].astype(object).where(df[column].notna(), "").astype(str).str.normalize("NFKC").str.strip()
    values = pd.to_numeric(s.where(~s.isin(NUMERIC_MISSING), np.nan), errors="coerce")
    bad = values.isna() & ~s.isin(NUMERIC_MISSING)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"{name}: column {column}, data row {row + 1}: {s.iloc[row]!r} is not a number — "
                          f"write coordinates as decimal numbers (e.g. 111.9667, not 111°58′)")
    return values.to_numpy(dtype="float64")


def points_from_table(name: str, df: pd.DataFrame, *, columns: Any = None, epsg: int | None = None
                      ) -> PointTable | None:
    """Turn a table with coordinate columns into a point layer; ``None`` when it has none.

    Column names: ``columns`` (the catalog's ``point_columns``) or the first of 经度/纬度, 东经/北纬,
    lon/lat, longitude/latitude, lng/lat, X/Y (case-insensitive, a trailing "(unit)" ignored).
    CRS: ``epsg`` (the catalog's), else EPSG:4490 for longitude/latitude names (CGCS2000 degrees,
    docs/deliveries.md), else none — projected X/Y without a declared CRS are left to the CRS
    diagnosis (no zone guessed here). Rows without coordinates get a null geometry (kept, so the
    geometry checks report them by ``fid``); all columns are kept as delivered.

    Raises:
        FormatError: configured columns missing; a coordinate that is not a number; degrees out of range.
    """
    found = point_columns(df, columns)
    if found is None:
        return None
    x, y, geographic = found
    missing = [c for c in (x, y) if c not in df.columns]
    if missing:
        raise FormatError(f"{name}: the coordinate column(s) {', '.join(missing)} named in the delivery contract "
                          f"are missing (columns: {', '.join(map(str, df.columns))})")
    xs, ys = _coordinates(name, df, x), _coordinates(name, df, y)
    if geographic:
        bad_lat = np.abs(np.nan_to_num(ys)) > 90.0
        if bad_lat.any():
            i = int(np.flatnonzero(bad_lat)[0])
            if abs(ys[i]) <= 180.0 and abs(np.nan_to_num(xs[i])) <= 90.0:
                raise FormatError(f"{name}: data row {i + 1}: longitude/latitude look swapped ({x} {xs[i]:g}, {y} {ys[i]:g}) "
                                  f"— put longitude (≈111–113 °E at Erenhot) in {x} and latitude (≈43–44 °N) in {y}")
        for col, vals, limit in ((x, xs, 180.0), (y, ys, 90.0)):
            out = np.flatnonzero(np.abs(np.nan_to_num(vals)) > limit)
            if len(out):
                raise FormatError(f"{name}: column {col}, data row {out[0] + 1}: {vals[out[0]]:g} is not in degrees "
                                  f"(−{limit:g}…{limit:g}) — write decimal degrees (111.9667, not 11158 or 111°58′)")
    crs = epsg or (GEOGRAPHIC_EPSG if geographic else None)
    ok = ~(np.isnan(xs) | np.isnan(ys))
    geoms = np.full(len(df), None, dtype=object)
    geoms[ok] = shapely.points(xs[ok], ys[ok])
    gdf = gpd.GeoDataFrame(df.reset_index(drop=True), geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    how = (f"EPSG:{epsg} from the delivery contract" if epsg else
           f"EPSG:{GEOGRAPHIC_EPSG} (CGCS2000 degrees)" if geographic else "no coordinate system declared")
    notes = [f"points from columns {x}/{y}; {how}"]
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} row(s) without coordinates: null geometry, kept for the checks")
    return PointTable(gdf=gdf, x=x, y=y, epsg=crs, notes=tuple(notes))


# -- station weather -------------------------------------------------------------------------

EPW_COLUMNS = {0: "year", 1: "month", 2: "day", 3: "hour", 6: "dry_bulb_c", 8: "rh_pct", 21: "wind_ms", 33: "precip_mm"}
EPW_MISSING = {"dry_bulb_c": 99.9, "rh_pct": 999, "wind_ms": 999, "precip_mm": 999}


@dataclass(frozen=True)
class EpwStation:
    station_id: str
    name: str
    lat: float
    lon: float
    elevation_m: float


def read_epw(data: bytes, name: str = "EPW file") -> tuple[EpwStation, pd.DataFrame]:
    """Read an EnergyPlus weather file (as CSWD distributes China's typical-year station data).

    Returns:
        The station (from the ``LOCATION`` line: WMO id, lat/lon in degrees, elevation m) and an
        hourly frame with ``year, month, day, hour, dry_bulb_c (°C), rh_pct (%), wind_ms (m/s at
        10 m), precip_mm`` where the EPW missing codes (99.9, 999) are NaN.

    Raises:
        FormatError: no LOCATION line or fewer than 8 data rows.
    """
    require_bytes(name, data)
    text = data.decode("latin-1")
    lines = text.splitlines()
    if not lines or not lines[0].startswith("LOCATION"):
        raise FormatError(f"{name}: the first line is not a LOCATION record")
    loc = lines[0].split(",")
    if len(loc) < 10:
        raise FormatError(f"{name}: the LOCATION record has fewer than 10 fields")
    station = EpwStation(station_id=loc[5].strip(), name=loc[1].strip(), lat=float(loc[6]), lon=float(loc[7]),
                         elevation_m=float(loc[9]))
    start = next((i + 1 for i, ln in enumerate(lines[:20]) if ln.startswith("DATA PERIODS")), 8)
    rows = [ln.split(",") for ln in lines[start:] if ln.strip()]
    if len(rows) < 8:
        raise FormatError(f"{name}: no hourly data rows")
    if len(rows) not in (8760, 8784):
        raise FormatError(f"{name}: {len(rows)} hourly rows; a full year has 8760 (8784 in a leap year) — truncated file?")
    width = max(EPW_COLUMNS) + 1
    short = [start + i + 1 for i, r in enumerate(rows) if len(r) < width]
    if short:
        raise FormatError(f"{name}: line {short[0]} has fewer than {width} fields (truncated file?); "
                          f"{len(short)} such line(s)")
    frame = pd.DataFrame({col: [r[i] for r in rows] for i, col in EPW_COLUMNS.items()})
    for col in frame.columns:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    for col, code in EPW_MISSING.items():
        frame.loc[frame[col] >= code, col] = np.nan
    return station, frame


def epw_daily(station: EpwStation, hourly: pd.DataFrame) -> pd.DataFrame:
    """Daily means of an EPW hourly frame in the standard climate form.

    Columns ``station_id, date, tmean_c, tmax_c, tmin_c, precip_mm, rh_pct, wind_ms``; the daily mean
    temperature is the mean of the 24 hourly values (EPW hour h covers h−1..h local time).
    """
    key = pd.to_datetime({"year": hourly["year"], "month": hourly["month"], "day": hourly["day"]})
    g = hourly.assign(date=key.dt.strftime("%Y-%m-%d")).groupby("date", sort=True)
    daily = pd.DataFrame({
        "tmean_c": g["dry_bulb_c"].mean(),
        "tmax_c": g["dry_bulb_c"].max(),
        "tmin_c": g["dry_bulb_c"].min(),
        "precip_mm": g["precip_mm"].sum(min_count=1),
        "rh_pct": g["rh_pct"].mean(),
        "wind_ms": g["wind_ms"].mean(),
    }).reset_index()
    daily.insert(0, "station_id", station.station_id)
    return daily
