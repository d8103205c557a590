"""Unit tests of erenhot.grid on tiny grids with hand-computed answers."""

from __future__ import annotations

import io
import json
import math

import fsspec
import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from rasterio.io import MemoryFile
from shapely.geometry import box

from erenhot import grid as grid_mod
from erenhot.grid import (
    ANALYSIS_EPSG,
    Grid,
    boundary_mask,
    cog_driver_available,
    rasterize,
    rasterize_codes,
    read_raster,
    warp_to_grid,
    write_cog,
)

X0 = 37_500_000.0  # a multiple of 30 m inside zone 37 (EPSG:4525 easting with zone prefix)
Y0 = 4_800_000.0


def small_grid(cell: float = 30.0, width: int = 4, height: int = 3) -> Grid:
    """Grid with upper-left corner (X0, Y0 + height*cell)."""
    return Grid(ANALYSIS_EPSG, Affine(cell, 0, X0, 0, -cell, Y0 + height * cell), width, height)


def gdf(geoms: list, crs: int = ANALYSIS_EPSG, **columns: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=f"EPSG:{crs}")


def source_tif(array: np.ndarray, transform: Affine, crs: int, nodata: float | None) -> bytes:
    """GeoTIFF bytes of a one-band float32 raster."""
    with MemoryFile() as mf:
        with mf.open(
            driver="GTiff",
            width=array.shape[1],
            height=array.shape[0],
            count=1,
            dtype="float32",
            crs=f"EPSG:{crs}",
            transform=transform,
            nodata=nodata,
        ) as ds:
            ds.write(array.astype("float32"), 1)
        return mf.read()


# -- Grid ---------------------------------------------------------------------------------
def test_grid_properties() -> None:
    g = small_grid()
    assert g.cell_size_m == 30.0
    assert g.shape == (3, 4)
    assert g.cell_area_km2 == pytest.approx(0.0009)
    assert g.bounds == (X0, Y0, X0 + 120, Y0 + 90)
    assert g.crs.to_epsg() == 4525


def test_grid_rejects_bad_transforms_and_crs() -> None:
    with pytest.raises(ValueError, match="square"):
        Grid(ANALYSIS_EPSG, Affine(30, 0, X0, 0, -20, Y0), 2, 2)
    with pytest.raises(ValueError, match="rotated"):
        Grid(ANALYSIS_EPSG, Affine(30, 1, X0, 0, -30, Y0), 2, 2)
    with pytest.raises(ValueError, match="at least"):
        Grid(ANALYSIS_EPSG, Affine(30, 0, X0, 0, -30, Y0), 0, 2)
    with pytest.raises(ValueError, match="metres"):
        Grid(4490, Affine(0.001, 0, 111, 0, -0.001, 43), 2, 2)


def test_grid_dict_roundtrip_is_json_safe() -> None:
    g = small_grid()
    d = json.loads(json.dumps(g.to_dict()))
    assert d["cell_size_m"] == 30.0 and d["shape"] == [3, 4]
    assert Grid.from_dict(d) == g


def test_for_geometry_snaps_outward() -> None:
    geom = box(X0 + 10, Y0 + 5, X0 + 95, Y0 + 61)
    g = Grid.for_geometry(geom, 30)
    assert g.bounds == (X0, Y0, X0 + 120, Y0 + 90)
    assert g.shape == (3, 4)
    # a geometry already on cell edges is not padded
    g_exact = Grid.for_geometry(gdf([box(X0, Y0, X0 + 60, Y0 + 30)]), 30)
    assert g_exact.shape == (1, 2)


def test_for_geometry_reprojects() -> None:
    # EPSG:4546 is the same projection without the zone prefix (x_0 = 500 000 m)
    geom = box(500_010, Y0 + 5, 500_095, Y0 + 61)
    g = Grid.for_geometry(gdf([geom], crs=4546), 30)
    assert g.crs_epsg == ANALYSIS_EPSG
    assert g.bounds == pytest.approx((X0, Y0, X0 + 120, Y0 + 90))
    # geographic input lands in zone 37 with the 37 prefix
    g_geo = Grid.for_geometry(gdf([box(111.9, 43.6, 112.0, 43.7)], crs=4490), 1000)
    assert 37_500_000 < g_geo.bounds[0] < 37_700_000
    assert g_geo.bounds[0] % 1000 == 0 and g_geo.bounds[3] % 1000 == 0


def test_for_geometry_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        Grid.for_geometry(box(0, 0, 1, 1).difference(box(0, 0, 1, 1)), 30)
    with pytest.raises(ValueError, match="no CRS"):
        Grid.for_geometry(gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 1, Y0 + 1)]), 30)
    with pytest.raises(ValueError, match="cell_size_m"):
        Grid.for_geometry(box(X0, Y0, X0 + 1, Y0 + 1), 0)


def test_xy_rowcol() -> None:
    g = small_grid()
    assert g.xy_to_rowcol(X0 + 1, Y0 + 89) == (0, 0)
    assert g.xy_to_rowcol(X0 + 119, Y0 + 1) == (2, 3)
    assert g.xy_to_rowcol(X0 + 30, Y0 + 60) == (1, 1)  # west/north edges belong to the cell
    assert g.rowcol_to_xy(0, 0) == (X0 + 15, Y0 + 75)
    assert g.rowcol_to_xy(2, 3) == (X0 + 105, Y0 + 15)
    with pytest.raises(ValueError, match=r"\(37500120\.0, 4800001\.0\)"):
        g.xy_to_rowcol(X0 + 120, Y0 + 1)
    with pytest.raises(ValueError):
        g.rowcol_to_xy(3, 0)


# -- rasterize ----------------------------------------------------------------------------
def test_rasterize_constant_and_column_later_wins() -> None:
    g = small_grid()
    left = box(X0, Y0, X0 + 60, Y0 + 90)  # columns 0-1
    middle = box(X0 + 30, Y0, X0 + 90, Y0 + 30)  # row 2, columns 1-2
    out = rasterize(gdf([left, middle]), g)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]])
    by_col = rasterize(gdf([left, middle], v=[5, 7]), g, value="v", dtype="int16", fill=-1)
    np.testing.assert_array_equal(by_col, [[5, 5, -1, -1], [5, 5, -1, -1], [5, 7, 7, -1]])
    swapped = rasterize(gdf([middle, left], v=[7, 5]), g, value="v", dtype="int16", fill=-1)
    assert swapped[2, 1] == 5  # the later feature wins


def test_rasterize_reprojects_and_checks() -> None:
    g = small_grid()
    shifted = gdf([box(500_000, Y0, 500_030, Y0 + 30)], crs=4546)  # lower-left cell
    out = rasterize(shifted, g)
    assert out.sum() == 1 and out[2, 0] == 1
    with pytest.raises(ValueError, match="fit"):
        rasterize(gdf([box(X0, Y0, X0 + 30, Y0 + 30)], v=[300]), g, value="v")
    with pytest.raises(ValueError, match="column"):
        rasterize(gdf([box(X0, Y0, X0 + 30, Y0 + 30)]), g, value="nope")
    empty = rasterize(gdf([box(X0 + 1000, Y0, X0 + 1030, Y0 + 30)]), g, dtype="float32", fill=-9)
    assert (empty == -9).all()


def test_rasterize_all_touched() -> None:
    g = small_grid()
    sliver = gdf([box(X0 + 20, Y0 + 70, X0 + 40, Y0 + 80)])  # covers no cell centre
    assert rasterize(sliver, g).sum() == 0
    assert rasterize(sliver, g, all_touched=True).sum() == 2


def test_rasterize_codes_dlbm() -> None:
    g = small_grid()
    polys = [box(X0 + 30 * i, Y0, X0 + 30 * (i + 1), Y0 + 90) for i in range(4)]
    dltb = gdf(polys, DLBM=["0401", "0404", "1205", "9999"])
    out = rasterize_codes(dltb, "DLBM", g, {"0401": 1, "0404": 2, "1205": 3}, default=0)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], [1, 2, 3, 0])
    out_default = rasterize_codes(dltb, "DLBM", g, {"0401": 1}, default=9)
    np.testing.assert_array_equal(out_default[1], [1, 9, 9, 9])
    # a 0 class never erases an earlier feature
    over = gdf([polys[0], polys[0]], DLBM=["0401", "9999"])
    assert rasterize_codes(over, "DLBM", g, {"0401": 4})[0, 0] == 4
    wide = rasterize_codes(dltb, "DLBM", g, {"0401": 300})
    assert wide.dtype == np.uint16 and wide[0, 0] == 300


def test_boundary_mask() -> None:
    g = small_grid()
    mask = boundary_mask(gdf([box(X0, Y0 + 30, X0 + 120, Y0 + 90)]), g)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask.sum(axis=1), [4, 4, 0])


# -- warp ---------------------------------------------------------------------------------
def test_warp_aligned_other_crs_and_nodata() -> None:
    g = small_grid()
    values = np.arange(12, dtype="float32").reshape(3, 4)
    values[1, 2] = -9999
    # same cells expressed in EPSG:4546 (no zone prefix)
    tif = source_tif(values, Affine(30, 0, 500_000, 0, -30, Y0 + 90), 4546, nodata=-9999)
    for method in ("nearest", "bilinear"):
        out = warp_to_grid(tif, g, resampling=method)
        assert out.dtype == np.float32 and out.shape == g.shape
        expected = values.copy()
        expected[1, 2] = np.nan
        if method == "bilinear":  # aligned cell centres: identical except next to the hole
            assert np.isnan(out[1, 2])
            assert out[0, 0] == 0 and out[2, 0] == 8
        else:
            np.testing.assert_array_equal(out, expected)


def test_warp_average_downsampling_from_path_fsspec_and_bytes(tmp_path) -> None:
    g = small_grid(cell=30, width=2, height=1)
    fine = np.arange(18, dtype="float32").reshape(3, 6)  # 10 m cells
    tif = source_tif(fine, Affine(10, 0, X0, 0, -10, Y0 + 30), 4525, nodata=None)
    expected = [[fine[:, 0:3].mean(), fine[:, 3:6].mean()]]
    path = tmp_path / "fine.tif"
    path.write_bytes(tif)
    with fsspec.open(f"file://{path}", "rb") as fh:
        from_fsspec = warp_to_grid(fh, g, resampling="average")
    for out in (
        warp_to_grid(tif, g, resampling="average"),
        warp_to_grid(str(path), g, resampling="average"),
        warp_to_grid(path, g, resampling="average"),
        from_fsspec,
    ):
        np.testing.assert_allclose(out, expected)


def test_warp_outside_source_is_nodata_and_errors() -> None:
    g = small_grid()
    tif = source_tif(np.ones((1, 1)), Affine(30, 0, X0, 0, -30, Y0 + 90), 4525, nodata=None)
    out = warp_to_grid(tif, g, resampling="nearest", dst_nodata=-1)
    assert out[0, 0] == 1 and (out.ravel()[1:] == -1).all()
    with pytest.raises(ValueError, match="resampling"):
        warp_to_grid(tif, g, resampling="fancy")


def test_warp_from_geographic() -> None:
    g = Grid.for_geometry(gdf([box(111.9, 43.6, 112.0, 43.7)], crs=4490), 1000)
    tif = source_tif(
        np.full((40, 40), 1000.0), Affine(0.01, 0, 111.8, 0, -0.01, 43.8), 4490, nodata=None
    )
    out = warp_to_grid(tif, g)
    assert np.nanmin(out) == 1000 and np.nanmax(out) == 1000
    assert np.isfinite(out).all()


# -- COG ----------------------------------------------------------------------------------
def test_write_cog_roundtrip_uint8_with_colormap_and_tags(tmp_path) -> None:
    g = small_grid()
    classes = np.array([[1, 2, 3, 0], [1, 1, 2, 0], [5, 4, 3, 0]], dtype="uint8")
    dst = tmp_path / "classes.tif"
    payload = write_cog(
        classes,
        g,
        dst,
        nodata=0,
        tags={"topic": "t03", "单位": "等级"},
        colormap={1: "#1a9641", 2: (166, 217, 106), 3: (255, 255, 191, 255)},
    )
    assert dst.read_bytes() == payload
    array, grid, nodata = read_raster(payload)
    assert array.dtype == np.uint8 and nodata == 0 and grid == g
    np.testing.assert_array_equal(array, classes)
    with MemoryFile(payload) as mf, mf.open() as ds:
        assert ds.tags()["topic"] == "t03" and ds.tags()["单位"] == "等级"
        assert ds.colormap(1)[1] == (26, 150, 65, 255)
        assert ds.profile["compress"] == "deflate"


def test_write_cog_float_layout_and_overviews() -> None:
    g = small_grid(cell=30, width=1100, height=1000)
    values = np.linspace(0, 1, g.width * g.height, dtype="float32").reshape(g.shape)
    values[0, 0] = np.nan
    payload = write_cog(values, g, nodata=float("nan"), tags={"unit": "m"})
    with MemoryFile(payload) as mf, mf.open() as ds:
        assert ds.profile["tiled"] and ds.profile["blockxsize"] == 512
        assert ds.overviews(1), "overviews expected for a 1100 x 1000 raster"
        if cog_driver_available():
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    array, grid, nodata = read_raster(io.BytesIO(payload))
    assert array.dtype == np.float32 and grid == g and math.isnan(nodata)
    assert np.isnan(array[0, 0]) and array[-1, -1] == pytest.approx(1.0)


def test_write_cog_gtiff_fallback(monkeypatch) -> None:
    monkeypatch.setattr(grid_mod, "cog_driver_available", lambda: False)
    g = small_grid(cell=30, width=600, height=700)
    values = (np.arange(g.width * g.height) % 7).astype("uint8").reshape(g.shape)
    payload = write_cog(values, g, nodata=0, tags={"k": "v"}, colormap={1: "#ff0000"})
    with MemoryFile(payload) as mf, mf.open() as ds:
        assert ds.profile["tiled"] and ds.profile["compress"] == "deflate"
        assert ds.overviews(1) == [2]
        assert ds.tags()["k"] == "v" and ds.colormap(1)[1] == (255, 0, 0, 255)
        np.testing.assert_array_equal(ds.read(1), values)


def test_write_cog_errors() -> None:
    g = small_grid()
    with pytest.raises(ValueError, match="shape"):
        write_cog(np.zeros((2, 2), "uint8"), g)
    with pytest.raises(ValueError, match="colormap"):
        write_cog(np.zeros(g.shape, "float32"), g, colormap={1: "#000000"})
    with pytest.raises(ValueError, match="nodata"):
        write_cog(np.zeros(g.shape, "uint8"), g, nodata=float("nan"))
    bools = write_cog(np.ones(g.shape, bool), g, nodata=0)
    assert read_raster(bools)[0].dtype == np.uint8


def test_read_raster_rejects_geographic() -> None:
    tif = source_tif(np.ones((2, 2)), Affine(0.01, 0, 111.8, 0, -0.01, 43.8), 4490, nodata=None)
    with pytest.raises(ValueError, match="metres"):
        read_raster(tif)

