"""The common analysis grid of the Erenhot plan and raster I/O on it.

Every evaluation layer of the 双评价 and the other research topics is computed on one grid:

* CRS **EPSG:4525** — CGCS2000 / 3-degree Gauss–Krüger zone 37 (central meridian 111° E,
  k = 1, x_0 = 37 500 000 m with the zone prefix in the easting), the form used in Chinese
  deliverables (evaluation spec §4.2, 《市级国土空间总体规划数据库规范（试行）》 §5).
* square cells, 30 m by default (the configuration decides; tests use coarser cells);
* extent = the city boundary's bounds snapped outward to multiples of the cell size;
* arrays are ``(rows, cols)`` with row 0 at the north, north-up (no rotation);
* class rasters are ``uint8`` with 0 = no data / outside, continuous rasters ``float32`` with NaN.

Functions here turn vectors into arrays on a :class:`Grid` (:func:`rasterize`,
:func:`rasterize_codes`, :func:`boundary_mask`), bring rasters of any CRS and resolution onto it
(:func:`warp_to_grid`) and serialise arrays as Cloud-Optimised GeoTIFF bytes (:func:`write_cog`,
:func:`read_raster`). Nothing here touches the storage: callers pass paths, file objects or bytes,
and write the returned bytes themselves.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import rasterio.dtypes
import rasterio.features
import rasterio.shutil
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import MergeAlg, Resampling
from rasterio.io import DatasetReader, MemoryFile
from shapely.geometry.base import BaseGeometry

__all__ = [
    "ANALYSIS_EPSG",
    "Grid",
    "RasterSource",
    "boundary_mask",
    "cog_driver_available",
    "rasterize",
    "rasterize_codes",
    "read_raster",
    "warp_to_grid",
    "write_cog",
]

ANALYSIS_EPSG: Final[int] = 4525
"""CGCS2000 / 3-degree Gauss–Krüger zone 37 (x_0 = 37 500 000 m); evaluation spec §4.2."""

RasterSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""A raster to read: a local path or GDAL-readable URL, the raw bytes of a file, or a binary
file-like object (e.g. ``fsspec.open(...)`` / ``Storage`` file handles; read fully into memory)."""

_SNAP_EPS: Final[float] = 1e-6
"""Tolerance, in cells, when snapping bounds outward (absorbs float noise from reprojection)."""

_COG_BLOCKSIZE: Final[int] = 512


@lru_cache(maxsize=32)
def _check_projected_metres(epsg: int) -> None:
    """Raise ValueError unless EPSG:``epsg`` is a projected CRS whose axes are in metres."""
    try:
        crs = pyproj.CRS.from_epsg(epsg)
    except pyproj.exceptions.CRSError as exc:
        raise ValueError(f"EPSG:{epsg} is not a known CRS: {exc}") from exc
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        raise ValueError(
            f"EPSG:{epsg} ({crs.name}) is not a projected CRS in metres; "
            f"the analysis grid needs one (default EPSG:{ANALYSIS_EPSG})"
        )


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid with square cells in a projected CRS (metres).

    Attributes:
        crs_epsg: EPSG code of the CRS, normally :data:`ANALYSIS_EPSG` (4525).
        transform: affine transform from (col, row) to (x, y) of the cell's upper-left corner;
            ``transform.a`` = cell size in m, ``transform.e`` = −cell size, no rotation.
        width: number of columns (≥ 1).
        height: number of rows (≥ 1).

    Raises:
        ValueError: on a rotated or non-square transform, a non-positive size, or a CRS that
            is not projected in metres.
    """

    crs_epsg: int
    transform: Affine
    width: int
    height: int

    def __post_init__(self) -> None:
        if not isinstance(self.transform, Affine):  # e.g. a GDAL-order tuple/list
            object.__setattr__(self, "transform", Affine(*tuple(self.transform)[:6]))
        t = self.transform
        if self.width < 1 or self.height < 1:
            raise ValueError(f"grid size must be at least 1 x 1, got {self.width} x {self.height}")
        if t.b != 0 or t.d != 0:
            raise ValueError(f"grid transform must not be rotated: {tuple(t)[:6]}")
        if t.a <= 0 or t.e >= 0 or not math.isclose(t.a, -t.e, rel_tol=1e-9):
            raise ValueError(
                f"grid cells must be square and north-up (a = -e > 0): a={t.a}, e={t.e}"
            )
        _check_projected_metres(int(self.crs_epsg))

    # -- derived properties -------------------------------------------------------------
    @property
    def crs(self) -> CRS:
        """The CRS as a :class:`rasterio.crs.CRS`."""
        return CRS.from_epsg(self.crs_epsg)

    @property
    def cell_size_m(self) -> float:
        """Edge length of a cell in metres."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(rows, cols)`` = ``(height, width)``."""
        return (self.height, self.width)

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km² (planar area in the grid CRS)."""
        return self.cell_size_m * self.cell_size_m / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the outer cell edges, in metres of the grid CRS."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description for manifests.

        ``crs_epsg``, ``transform`` (the six GDAL-order affine coefficients
        ``[a, b, c, d, e, f]``), ``width`` and ``height`` define the grid; ``cell_size_m``,
        ``bounds`` and ``shape`` are informational and ignored by :meth:`from_dict`.
        """
        return {
            "crs_epsg": int(self.crs_epsg),
            "transform": [float(v) for v in tuple(self.transform)[:6]],
            "width": int(self.width),
            "height": int(self.height),
            "cell_size_m": self.cell_size_m,
            "bounds": [float(v) for v in self.bounds],
            "shape": list(self.shape),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grid:
        """Rebuild a grid from :meth:`to_dict` output.

        Raises:
            KeyError: if ``crs_epsg``, ``transform``, ``width`` or ``height`` is missing.
            ValueError: if the values do not describe a valid grid.
        """
        coeffs = [float(v) for v in data["transform"]]
        if len(coeffs) < 6:
            raise ValueError(f"transform needs 6 coefficients, got {len(coeffs)}")
        return cls(
            crs_epsg=int(data["crs_epsg"]),
            transform=Affine(*coeffs[:6]),
            width=int(data["width"]),
            height=int(data["height"]),
        )

    # -- construction -------------------------------------------------------------------
    @classmethod
    def for_geometry(
        cls,
        geometry: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry,
        cell_size_m: float,
        crs_epsg: int = ANALYSIS_EPSG,
    ) -> Grid:
        """The grid covering ``geometry``, bounds snapped outward to multiples of the cell size.

        Args:
            geometry: e.g. the city boundary. A GeoDataFrame/GeoSeries is reprojected to
                EPSG:``crs_epsg`` when its CRS differs; a bare shapely geometry is taken to be
                in EPSG:``crs_epsg`` already.
            cell_size_m: cell edge in metres (> 0), e.g. 30.
            crs_epsg: the grid CRS (default EPSG:4525).

        Returns:
            A grid whose edges lie on multiples of ``cell_size_m`` (in grid CRS coordinates)
            and which contains the geometry's bounds; at least one cell each way.

        Raises:
            ValueError: on an empty geometry, a GeoDataFrame/GeoSeries without CRS, or
                ``cell_size_m <= 0``.
        """
        if not cell_size_m > 0:
            raise ValueError(f"cell_size_m must be > 0, got {cell_size_m}")
        if isinstance(geometry, BaseGeometry):
            if geometry.is_empty:
                raise ValueError("cannot build a grid for an empty geometry")
            minx, miny, maxx, maxy = geometry.bounds
        else:
            projected = _to_crs(geometry, crs_epsg)
            series = projected.geometry if isinstance(projected, gpd.GeoDataFrame) else projected
            series = series[series.notna() & ~series.is_empty]
            if series.empty:
                raise ValueError("cannot build a grid for an empty geometry")
            minx, miny, maxx, maxy = (float(v) for v in series.total_bounds)
        cs = float(cell_size_m)
        left = math.floor(minx / cs + _SNAP_EPS) * cs
        bottom = math.floor(miny / cs + _SNAP_EPS) * cs
        right = math.ceil(maxx / cs - _SNAP_EPS) * cs
        top = math.ceil(maxy / cs - _SNAP_EPS) * cs
        width = max(1, round((right - left) / cs))
        height = max(1, round((top - bottom) / cs))
        return cls(
            crs_epsg=int(crs_epsg),
            transform=Affine(cs, 0.0, left, 0.0, -cs, top),
            width=width,
            height=height,
        )

    # -- coordinates --------------------------------------------------------------------
    def xy_to_rowcol(self, x: float, y: float) -> tuple[int, int]:
        """The ``(row, col)`` of the cell containing point ``(x, y)`` (grid CRS, metres).

        Cells are half-open: a point on a cell's west/north edge belongs to it; the grid's
        east and south outer edges are outside.

        Raises:
            ValueError: if the point lies outside the grid (the message names the point).
        """
        fcol, frow = ~self.transform @ (x, y)
        row, col = math.floor(frow), math.floor(fcol)
        if not (0 <= row < self.height and 0 <= col < self.width):
            raise ValueError(
                f"point ({x}, {y}) in EPSG:{self.crs_epsg} lies outside the grid "
                f"bounds {self.bounds}"
            )
        return row, col

    def rowcol_to_xy(self, row: int, col: int) -> tuple[float, float]:
        """The ``(x, y)`` of the centre of cell ``(row, col)``, in metres of the grid CRS.

        Raises:
            ValueError: if ``(row, col)`` is not a cell of the grid.
        """
        if not (0 <= row < self.height and 0 <= col < self.width):
            raise ValueError(f"cell ({row}, {col}) is outside the grid of shape {self.shape}")
        x, y = self.transform @ (col + 0.5, row + 0.5)
        return float(x), float(y)

    def profile(self, dtype: str | np.dtype[Any], nodata: float | int | None) -> dict[str, Any]:
        """A rasterio profile (driver-neutral) for one band on this grid."""
        return {
            "width": self.width,
            "height": self.height,
            "count": 1,
            "dtype": np.dtype(dtype).name,
            "crs": self.crs,
            "transform": self.transform,
            "nodata": nodata,
        }


# ---------------------------------------------------------------------------------------
# vectors → grid
# ---------------------------------------------------------------------------------------
def _to_crs(
    data: gpd.GeoDataFrame | gpd.GeoSeries, epsg: int
) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """``data`` in EPSG:``epsg``; ValueError when it has no CRS."""
    if data.crs is None:
        raise ValueError(
            "the vector data has no CRS; set it (e.g. EPSG:4490 or EPSG:4525) before gridding"
        )
    if data.crs.to_epsg() == epsg:
        return data
    return data.to_crs(epsg=epsg)


def _check_values_fit(values: np.ndarray, dtype: np.dtype[Any]) -> None:
    """ValueError when burn values do not fit an integer ``dtype``."""
    if values.size == 0 or not np.issubdtype(dtype, np.integer):
        return
    info = np.iinfo(dtype)
    vmin, vmax = float(np.min(values)), float(np.max(values))
    if vmin < info.min or vmax > info.max:
        raise ValueError(
            f"burn values span {vmin}..{vmax}, which does not fit dtype {dtype.name}"
        )


def rasterize(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    grid: Grid,
    value: str | float = 1,
    dtype: str = "uint8",
    fill: float = 0,
    all_touched: bool = False,
) -> np.ndarray:
    """Burn vector features onto ``grid``.

    Args:
        gdf: features in any CRS (reprojected to the grid CRS); null/empty geometries are
            skipped.
        grid: the target grid.
        value: a number burnt for every feature, or the name of a numeric column whose
            values are burnt (rows with a null value are skipped).
        dtype: output dtype (numpy name supported by GDAL, e.g. ``uint8``, ``int32``,
            ``float32``).
        fill: value of cells no feature covers.
        all_touched: False (GDAL default) burns cells whose **centre** lies inside a polygon;
            True burns every cell a feature touches.

    Returns:
        Array of shape ``grid.shape`` and ``dtype``.

    Overlaps: ``merge_alg`` is *replace* and features are burnt in row order, so where
    features overlap **the later feature wins**. Sort ``gdf`` beforehand to set priorities.

    Raises:
        ValueError: if ``gdf`` has no CRS, the column is missing, or the values do not fit
            an integer ``dtype``.
    """
    data = _to_crs(gdf, grid.crs_epsg)
    geoms = data.geometry if isinstance(data, gpd.GeoDataFrame) else data
    out_dtype = np.dtype(dtype)
    if isinstance(value, str):
        if not isinstance(data, gpd.GeoDataFrame) or value not in data.columns:
            raise ValueError(f"column {value!r} not found in the vector data")
        values = data[value]
        keep = geoms.notna() & ~geoms.is_empty & values.notna()
        burn = values[keep].to_numpy(dtype="float64")
    else:
        keep = geoms.notna() & ~geoms.is_empty
        burn = np.full(int(keep.sum()), float(value))
    _check_values_fit(burn, out_dtype)
    _check_values_fit(np.asarray([fill], dtype="float64"), out_dtype)
    if burn.size == 0:
        return np.full(grid.shape, fill, dtype=out_dtype)
    shapes = zip(geoms[keep].to_numpy(), burn.astype(out_dtype).tolist(), strict=True)
    return rasterio.features.rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=fill,
        all_touched=all_touched,
        merge_alg=MergeAlg.replace,
        dtype=out_dtype.name,
    )


def rasterize_codes(
    gdf: gpd.GeoDataFrame,
    column: str,
    grid: Grid,
    mapping: Mapping[str, int],
    default: int = 0,
    all_touched: bool = False,
) -> np.ndarray:
    """Burn string codes (e.g. 三调 ``DLBM`` 地类编码, TD/T 1055-2019) as small integer classes.

    Args:
        gdf: features in any CRS.
        column: the code column; values are compared as ``str`` (so ``401`` does not match
            ``"0401"``; normalise suffixes such as the 可调整 ``K`` beforehand).
        grid: the target grid.
        mapping: code → class (1..255 fits ``uint8``; larger values switch to ``uint16``).
        default: class for codes not in ``mapping`` and for null codes.
        all_touched: see :func:`rasterize`.

    Returns:
        ``uint8`` (or ``uint16``) array of shape ``grid.shape``; 0 = no data / outside.
        Features whose class is 0 are not burnt (they never erase earlier features); where
        features overlap, the later one wins.

    Raises:
        ValueError: if the column is missing, ``gdf`` has no CRS, or a class is negative or
            > 65535.
    """
    if column not in gdf.columns:
        raise ValueError(f"column {column!r} not found in the vector data")
    classes = [*mapping.values(), default]
    if min(classes) < 0 or max(classes) > np.iinfo(np.uint16).max:
        raise ValueError(f"class values must lie in 0..65535, got {min(classes)}..{max(classes)}")
    dtype = "uint8" if max(classes) <= np.iinfo(np.uint8).max else "uint16"
    codes = gdf[column]
    cls = codes.map(lambda c: default if pd.isna(c) else mapping.get(str(c), default))
    burnt = gdf.assign(_class=cls.astype("int64"))
    burnt = burnt[burnt["_class"] != 0]
    return rasterize(burnt, grid, value="_class", dtype=dtype, fill=0, all_touched=all_touched)


def boundary_mask(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries, grid: Grid, all_touched: bool = False
) -> np.ndarray:
    """Boolean mask ``(rows, cols)``: True for cells inside the (city) boundary polygons.

    A cell is inside when its centre is (GDAL's rule) unless ``all_touched``.

    Raises:
        ValueError: if ``gdf`` has no CRS.
    """
    return rasterize(gdf, grid, value=1, dtype="uint8", fill=0, all_touched=all_touched) > 0


# ---------------------------------------------------------------------------------------
# rasters → grid
# ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _open_raster(src: RasterSource) -> Iterator[DatasetReader]:
    """Open a path/URL, bytes or binary file object as a rasterio dataset."""
    if isinstance(src, bytes | bytearray | memoryview):
        with MemoryFile(bytes(src)) as memfile, memfile.open() as dataset:
            yield dataset
    elif hasattr(src, "read"):
        data = src.read()  # type: ignore[union-attr]
        with MemoryFile(data) as memfile, memfile.open() as dataset:
            yield dataset
    else:
        with rasterio.open(os.fspath(src)) as dataset:
            yield dataset


def _resampling(name: str | Resampling) -> Resampling:
    if isinstance(name, Resampling):
        return name
    try:
        return Resampling[name.lower()]
    except KeyError as exc:
        known = ", ".join(r.name for r in Resampling)
        raise ValueError(f"unknown resampling {name!r}; use one of: {known}") from exc


def warp_to_grid(
    src: RasterSource,
    grid: Grid,
    resampling: str | Resampling = "bilinear",
    dst_nodata: float = np.nan,
    band: int = 1,
) -> np.ndarray:
    """Reproject/resample one band of a raster onto ``grid`` (GDAL warp).

    Args:
        src: a path or GDAL URL, the file's bytes, or a binary file object (fsspec).
        grid: the target grid.
        resampling: a :class:`rasterio.enums.Resampling` name — ``bilinear`` for continuous
            fields (DEM, climate surfaces), ``nearest``/``mode`` for classes, ``average`` when
            aggregating finer data.
        dst_nodata: value of target cells without valid source data (default NaN).
        band: 1-based source band.

    Returns:
        ``float32`` array of shape ``grid.shape``. Source cells equal to the source's nodata
        (or masked by its mask band) never contribute; target cells outside the source or
        with no valid contribution are ``dst_nodata``. Values keep the source units.

    Raises:
        ValueError: if the source has no CRS, lacks ``band``, or ``resampling`` is unknown.
        rasterio.errors.RasterioIOError: if the source cannot be opened.
    """
    method = _resampling(resampling)
    with _open_raster(src) as dataset:
        if dataset.crs is None:
            raise ValueError("the source raster has no CRS; cannot warp it to the grid")
        if not 1 <= band <= dataset.count:
            raise ValueError(f"band {band} requested but the source has {dataset.count} band(s)")
        destination = np.full(grid.shape, dst_nodata, dtype="float32")
        rasterio.warp.reproject(
            source=rasterio.band(dataset, band),
            destination=destination,
            src_nodata=dataset.nodata,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            dst_nodata=dst_nodata,
            resampling=method,
        )
    return destination


# ---------------------------------------------------------------------------------------
# COG bytes
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cog_driver_available() -> bool:
    """True when rasterio's GDAL has the ``COG`` driver (GDAL ≥ 3.1)."""
    with rasterio.Env() as env:
        return "COG" in env.drivers()


def _colour_table(colormap: Mapping[int, Any]) -> dict[int, tuple[int, int, int, int]]:
    """Normalise ``{value: '#rrggbb' | (r, g, b) | (r, g, b, a)}`` to RGBA 0..255 tuples."""
    table: dict[int, tuple[int, int, int, int]] = {}
    for key, colour in colormap.items():
        if isinstance(colour, str):
            hex_ = colour.lstrip("#")
            if len(hex_) not in (6, 8):
                raise ValueError(f"colour {colour!r} for value {key} is not #rrggbb[aa]")
            rgba = tuple(int(hex_[i : i + 2], 16) for i in range(0, len(hex_), 2))
        else:
            rgba = tuple(int(v) for v in colour)
        if len(rgba) == 3:
            rgba = (*rgba, 255)
        if len(rgba) != 4 or not all(0 <= v <= 255 for v in rgba):
            raise ValueError(f"colour {colour!r} for value {key} is not a valid RGB(A)")
        table[int(key)] = rgba  # type: ignore[assignment]
    return table


def write_cog(
    array: np.ndarray,
    grid: Grid,
    dst: str | os.PathLike[str] | IO[bytes] | None = None,
    nodata: float | int | None = None,
    tags: Mapping[str, Any] | None = None,
    colormap: Mapping[int, Any] | None = None,
) -> bytes:
    """Encode a ``(rows, cols)`` array on ``grid`` as a Cloud-Optimised GeoTIFF.

    Uses GDAL's ``COG`` driver when available (:func:`cog_driver_available`), otherwise a
    tiled GTiff with internal overviews copied by ``COPY_SRC_OVERVIEWS``. Either way: 512 px
    tiles, DEFLATE with a predictor, overviews down to one tile (nearest for integer
    classes, average for floats), CRS/transform of ``grid``.

    Args:
        array: shape ``grid.shape``; its dtype is preserved (``bool`` is stored as ``uint8``).
        grid: the grid the array lies on.
        dst: optional local path or binary file object that also receives the bytes; normally
            ``None`` and the caller writes the returned bytes to the storage.
        nodata: the nodata value to declare (e.g. 0 for class rasters, NaN for floats);
            ``None`` declares none.
        tags: dataset metadata (values are stored as strings), e.g. source, unit, config hash.
        colormap: optional palette ``{class: '#rrggbb' | (r, g, b[, a])}`` for ``uint8``/
            ``uint16`` class rasters.

    Returns:
        The GeoTIFF file bytes.

    Raises:
        ValueError: on a shape mismatch, a dtype GDAL cannot store, or a colormap on a
            non-``uint8``/``uint16`` array.
    """
    data = np.asarray(array)
    if data.dtype == np.bool_:
        data = data.astype("uint8")
    if data.shape != grid.shape:
        raise ValueError(f"array shape {data.shape} does not match grid shape {grid.shape}")
    if not rasterio.dtypes.check_dtype(data.dtype):
        raise ValueError(f"dtype {data.dtype} cannot be stored in a GeoTIFF")
    if colormap is not None and data.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"a colormap needs a uint8/uint16 array, got {data.dtype}")
    is_int = np.issubdtype(data.dtype, np.integer)
    if is_int and nodata is not None and not float(nodata).is_integer():
        raise ValueError(f"nodata {nodata} is not representable in dtype {data.dtype}")
    overview_resampling = "nearest" if is_int else "average"
    profile = grid.profile(data.dtype, nodata)
    str_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    table = _colour_table(colormap) if colormap is not None else None

    def _fill(dataset: Any) -> None:
        dataset.write(data, 1)
        if str_tags:
            dataset.update_tags(**str_tags)
        if table is not None:
            dataset.write_colormap(1, table)

    if cog_driver_available():
        with MemoryFile() as memfile:
            with memfile.open(
                driver="COG",
                compress="deflate",
                predictor="yes",
                blocksize=_COG_BLOCKSIZE,
                overviews="auto",
                resampling=overview_resampling.upper(),
                bigtiff="if_safer",
                **profile,
            ) as dataset:
                _fill(dataset)
            payload = memfile.read()
    else:  # GDAL < 3.1; exercised by a monkeypatched test
        payload = _write_gtiff_cog(profile, _fill, overview_resampling, is_int)

    if dst is not None:
        if hasattr(dst, "write"):
            dst.write(payload)  # type: ignore[union-attr]
        else:
            with open(os.fspath(dst), "wb") as fh:
                fh.write(payload)
    return payload


def _write_gtiff_cog(
    profile: dict[str, Any], fill: Any, overview_resampling: str, is_int: bool
) -> bytes:
    """Fallback COG: a GTiff with overviews, copied with ``COPY_SRC_OVERVIEWS=YES``."""
    factors: list[int] = []
    size = max(profile["width"], profile["height"])
    factor = 2
    while size / factor >= _COG_BLOCKSIZE / 2 and size > _COG_BLOCKSIZE:
        factors.append(factor)
        factor *= 2
    with MemoryFile() as scratch:
        with scratch.open(driver="GTiff", **profile) as tmp:
            fill(tmp)
            if factors:
                tmp.build_overviews(factors, _resampling(overview_resampling))
        with scratch.open() as tmp, MemoryFile() as out:
            rasterio.shutil.copy(
                tmp,
                out.name,
                driver="GTiff",
                tiled=True,
                blockxsize=_COG_BLOCKSIZE,
                blockysize=_COG_BLOCKSIZE,
                compress="deflate",
                predictor=2 if is_int else 3,
                copy_src_overviews=True,
                bigtiff="if_safer",
            )
            return out.read()


def read_raster(src: RasterSource, band: int = 1) -> tuple[np.ndarray, Grid, float | int | None]:
    """Read one band of a raster written on an analysis grid (e.g. by :func:`write_cog`).

    Args:
        src: a path or GDAL URL, the file's bytes, or a binary file object.
        band: 1-based band number.

    Returns:
        ``(array, grid, nodata)``: the ``(rows, cols)`` array in its stored dtype, the
        :class:`Grid` it lies on and the declared nodata value (``None`` if none).

    Raises:
        ValueError: if the raster has no EPSG-coded projected CRS in metres, is rotated or has
            non-square cells (use :func:`warp_to_grid` for such rasters), or lacks ``band``.
    """
    with _open_raster(src) as dataset:
        epsg = dataset.crs.to_epsg() if dataset.crs is not None else None
        if epsg is None:
            raise ValueError(
                "the raster has no EPSG-coded CRS; use warp_to_grid to bring it onto a grid"
            )
        if not 1 <= band <= dataset.count:
            raise ValueError(f"band {band} requested but the raster has {dataset.count} band(s)")
        grid = Grid(
            crs_epsg=int(epsg),
            transform=dataset.transform,
            width=dataset.width,
            height=dataset.height,
        )
        array = dataset.read(band)
        nodata = dataset.nodatavals[band - 1]
    return array, grid, nodata
