"""Readers of what departments deliver: vectors, rasters, tables, station weather files.

Every reader takes bytes (or a folder of materialised delivery files) so the same code serves the
local landing zone and S3. Shapefile DBF encodings are detected (``.cpg`` → DBF language-driver id →
strict UTF-8 → GB18030), zip archives are checked for unsafe members (absolute paths, ``..``,
symlinks) and OS junk (``__MACOSX``, ``Thumbs.db``) is ignored; member names written by Chinese
Windows tools (GBK without the UTF-8 flag) are decoded.
"""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import openpyxl  # noqa: F401  imported here, not lazily by pandas: two validation threads importing it
import pandas as pd  # at once get a half-initialised module ("partially initialized module 'openpyxl'")
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError, FieldError
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

VECTOR_EXT = {".zip", ".shp", ".geojson", ".json", ".gpkg", ".kml"}
RASTER_EXT = {".tif", ".tiff", ".asc"}
TABLE_EXT = {".csv", ".xlsx", ".xls"}
WEATHER_EXT = {".epw"}
SHAPEFILE_SIDECARS = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".xml", ".txt"}
JUNK = {"__MACOSX", "Thumbs.db", ".DS_Store", "desktop.ini"}

# DBF language-driver ids (byte 29) that name a code page (dBase / ArcGIS conventions)
LDID_ENCODINGS = {0x4D: "gb18030", 0x57: None, 0x00: None, 0x03: "cp1252", 0x01: "cp437"}


class FormatError(ValueError):
    """A delivered file cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class VectorRead:
    """A vector layer as read, with what was detected on the way."""

    gdf: gpd.GeoDataFrame
    source: str  # file (and member) it came from
    encoding: str | None
    driver: str


def part_kind(name: str) -> str:
    """``vector`` / ``raster`` / ``table`` / ``weather`` / ``document`` / ``sidecar`` from a file name."""
    suffix = PurePosixPath(name).suffix.lower()
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


# -- zip archives ----------------------------------------------------------------------------

def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:  # UTF-8 flag set
        return info.filename
    try:  # zipfile decoded the raw bytes as cp437; Chinese Windows tools wrote GBK
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def safe_extract(data: bytes, dest: Path, *, label: str, max_total: int = 4 << 30) -> list[Path]:
    """Extract a zip archive's regular files into ``dest`` after checking every member.

    Raises:
        FormatError: not a zip, a member with an absolute path or ``..``, a symlink, or too large.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{label}: not a readable zip archive ({exc})") from exc
    out: list[Path] = []
    total = 0
    with zf:
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
            total += info.file_size
            if total > max_total:
                raise FormatError(f"{label}: archive expands beyond {max_total >> 20} MiB")
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            out.append(target)
    return out


# -- shapefile encodings ---------------------------------------------------------------------

def detect_dbf_encoding(shp: Path) -> str:
    """Encoding of a shapefile's DBF: ``.cpg`` first, then the LDID byte, then strict UTF-8, else GB18030."""
    cpg = shp.with_suffix(".cpg")
    if not cpg.exists():
        cpg = next((p for p in shp.parent.iterdir() if p.suffix.lower() == ".cpg" and p.stem == shp.stem), cpg)
    if cpg.exists():
        text = cpg.read_text("ascii", errors="ignore").strip().upper()
        if text:
            return {"GBK": "gb18030", "GB2312": "gb18030", "936": "gb18030", "CP936": "gb18030",
                    "UTF-8": "utf-8", "UTF8": "utf-8", "65001": "utf-8"}.get(text, text.lower())
    dbf = next((p for p in shp.parent.iterdir() if p.suffix.lower() == ".dbf" and p.stem == shp.stem), None)
    if dbf is None:
        raise FormatError(f"{shp.name}: the .dbf attribute file is missing")
    raw = dbf.read_bytes()
    ldid = raw[29] if len(raw) > 29 else 0
    enc = LDID_ENCODINGS.get(ldid)
    if enc:
        return enc
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) > 10 else 0
    body = raw[header_len:]
    if not any(b >= 0x80 for b in body):
        return "utf-8"
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


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

def read_vector_bytes(name: str, data: bytes, sidecars: dict[str, bytes] | None = None) -> VectorRead:
    """Read a vector delivery file: zipped or loose shapefile, GeoJSON, GeoPackage (first layer), KML.

    Args:
        name: delivered file name (its suffix selects the reader).
        data: the file's bytes.
        sidecars: for a loose ``.shp``, the other shapefile members delivered with it, by name.

    Raises:
        FormatError: naming the file when it cannot be read or holds no shapefile.
    """
    suffix = PurePosixPath(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="erenhot-read-") as tmp:
        root = Path(tmp)
        if suffix == ".zip":
            members = safe_extract(data, root, label=name)
            shps = sorted(p for p in members if p.suffix.lower() == ".shp")
            others = sorted(p for p in members if p.suffix.lower() in {".gpkg", ".geojson", ".json", ".kml"})
            gdbs = sorted({p.parent for p in members if p.parent.suffix.lower() == ".gdb"})
            if shps:
                return _read_shapefile(shps[0], label=f"{name}!{shps[0].relative_to(root).as_posix()}")
            if gdbs:
                return _read_ogr(gdbs[0], label=f"{name}!{gdbs[0].relative_to(root).as_posix()}")
            if others:
                return _read_ogr(others[0], label=f"{name}!{others[0].relative_to(root).as_posix()}")
            raise FormatError(f"{name}: the archive holds no shapefile, FileGDB, GeoPackage or GeoJSON")
        target = root / PurePosixPath(name).name
        target.write_bytes(data)
        if suffix == ".shp":
            for side_name, side_data in (sidecars or {}).items():
                (root / PurePosixPath(side_name).name).write_bytes(side_data)
            return _read_shapefile(target, label=name)
        return _read_ogr(target, label=name)


def _read_shapefile(shp: Path, *, label: str) -> VectorRead:
    enc = detect_dbf_encoding(shp)
    try:
        gdf = pyogrio.read_dataframe(shp, encoding=enc)
    except (DataSourceError, DataLayerError, FieldError, UnicodeDecodeError, LookupError) as exc:
        raise FormatError(f"{label}: cannot read shapefile ({exc})") from exc
    return VectorRead(gdf=gdf, source=label, encoding=enc, driver="ESRI Shapefile")


def _read_ogr(path: Path, *, label: str) -> VectorRead:
    try:
        gdf = pyogrio.read_dataframe(path)
        driver = pyogrio.read_info(path).get("driver", "")
    except (DataSourceError, DataLayerError, FieldError, UnicodeDecodeError) as exc:
        raise FormatError(f"{label}: cannot read vector data ({exc})") from exc
    return VectorRead(gdf=gdf, source=label, encoding="utf-8", driver=str(driver))


# -- rasters ---------------------------------------------------------------------------------

def check_raster_bytes(name: str, data: bytes) -> None:
    """Open a delivered raster once so that an unreadable file fails with its name.

    Raises:
        FormatError: GDAL does not recognise the bytes as a raster.
    """
    if not data:
        raise FormatError(f"{name}: empty file (0 bytes)")
    try:
        with MemoryFile(data) as mem, mem.open() as src:
            src.profile  # noqa: B018 - touching the profile reads the header
    except (RasterioIOError, ValueError) as exc:
        raise FormatError(f"{name}: not a readable raster (GeoTIFF / ASCII grid expected)") from exc


# -- tables ----------------------------------------------------------------------------------

def read_table_bytes(name: str, data: bytes) -> tuple[pd.DataFrame, str]:
    """Read a CSV (UTF-8 with/without BOM, else GB18030) or the first XLSX sheet.

    Returns:
        (frame, encoding or ``"xlsx"``).

    Raises:
        FormatError: naming the file when it cannot be parsed.
    """
    suffix = PurePosixPath(name).suffix.lower()
    try:
        if suffix in {".xlsx", ".xls"}:
            return pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object), "xlsx"
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True), enc
    except (ValueError, KeyError, IndexError, OSError, zipfile.BadZipFile, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:  # what malformed CSV/XLSX raise; anything else is ours, not the data's
        raise FormatError(f"{name}: cannot read table ({exc})") from exc
    raise FormatError(f"{name}: text is neither UTF-8 nor GB18030")


def coerce_numeric(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Convert the given columns to float where possible (empty and '—' become NaN)."""
    out = df.copy()
    for c in columns:
        if c in out.columns:
            s = out[c].astype(str).str.strip().str.replace(",", "", regex=False)
            s = s.replace({"": np.nan, "—": np.nan, "-": np.nan, "nan": np.nan, "None": np.nan})
            out[c] = pd.to_numeric(s, errors="coerce")
    return out


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
    if not data:
        raise FormatError(f"{name}: empty file (0 bytes)")
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
    key = pd.to_datetime(dict(year=hourly["year"], month=hourly["month"], day=hourly["day"]))
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
