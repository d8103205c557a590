"""Vector and raster deliveries: every format the issue lists, every bad input with its exact message,
and the delivered bytes still in the landing zone afterwards.

All test data are generated here (a handful of features, 3×2 grids)."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from affine import Affine
from rasterio.io import MemoryFile
from shapely.geometry import Point, Polygon, box

from erenhot import formats
from erenhot.acceptance import accept_delivery, read_parts
from erenhot.catalog import load_catalog
from erenhot.landing import ingest

NAMES = ["其他草地", "沙地", "裸土地"]
X0, Y0 = 37_560_000, 4_830_000


# -- helpers ---------------------------------------------------------------------------------

def _layer(n: int = 3, crs: int = 4525) -> gpd.GeoDataFrame:
    geoms = [box(X0 + 1000 * i, Y0, X0 + 1000 * i + 900, Y0 + 900) for i in range(n)]
    return gpd.GeoDataFrame({"DLBM": ["0404", "1205", "1206"][:n], "DLMC": NAMES[:n]}, geometry=geoms, crs=crs)


def _shapefile(folder: Path, encoding: str = "GBK", stem: str = "DLTB") -> dict[str, bytes]:
    """A shapefile written by pyogrio (``.cpg`` naming ``encoding``, LDID 0), as {file name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    _layer().to_file(folder / f"{stem}.shp", encoding=encoding)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


class _GbkName(zipfile.ZipInfo):
    """A member name stored in GBK without the UTF-8 flag, as Chinese Windows zip tools write it."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _land(storage, tmp_path: Path, dataset_id: str, dept: str, files: dict[str, bytes]):
    """Deliver ``files`` (names may hold folders) through the real landing zone; returns the delivery."""
    folder = tmp_path / f"delivery-{len(list(tmp_path.glob('delivery-*')))}"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return ingest(storage, load_catalog(), dept, dataset_id, [folder]).delivery


def _intact(storage, delivery, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert storage.read_bytes(delivery.file_path(name)) == data
        assert storage.sha256(delivery.file_path(name)) == next(f.sha256 for f in delivery.files if f.name == name)


def _refused(storage, tmp_path, files: dict[str, bytes], message: str, dataset_id: str = "01-01") -> None:
    """Deliver, read: FormatError with exactly ``message``; the bytes are untouched."""
    d = _land(storage, tmp_path, dataset_id, "1", files)
    with pytest.raises(formats.FormatError) as err:
        read_parts(storage, load_catalog(), d)
    assert str(err.value) == message
    _intact(storage, d, files)


# -- shapefile encodings: no mojibake whatever the DBF says ----------------------------------

def _gbk_without_cpg(tmp_path) -> dict[str, bytes]:
    return {n: b for n, b in _shapefile(tmp_path / "gbk").items() if not n.endswith(".cpg")}


def _gbk_ldid_4d(tmp_path) -> dict[str, bytes]:
    files = _gbk_without_cpg(tmp_path)
    dbf = bytearray(files["DLTB.dbf"])
    dbf[29] = 0x4D
    return {**files, "DLTB.dbf": bytes(dbf)}


def _utf8_with_cpg(tmp_path) -> dict[str, bytes]:
    return _shapefile(tmp_path / "utf8", encoding="UTF-8")


def _utf8_without_cpg(tmp_path) -> dict[str, bytes]:
    return {n: b for n, b in _utf8_with_cpg(tmp_path).items() if not n.endswith(".cpg")}


def _cpg_lies(tmp_path) -> dict[str, bytes]:
    return {**_gbk_without_cpg(tmp_path), "DLTB.cpg": b"UTF-8"}


@pytest.mark.parametrize("make, encoding, reason", [
    (_gbk_without_cpg, "gb18030", "no .cpg; the text is not UTF-8 but valid GBK/GB18030"),
    (_gbk_ldid_4d, "gb18030", "no .cpg; language driver id 0x4D (code page 936)"),
    (_utf8_with_cpg, "utf-8", ".cpg says UTF-8"),
    (_utf8_without_cpg, "utf-8", "no .cpg; the text is valid UTF-8"),
    (_cpg_lies, "gb18030", ".cpg says UTF-8 but the text is not utf-8; the text is not UTF-8 but valid GBK/GB18030"),
])
def test_shapefile_text_is_chinese_whatever_the_dbf_declares(tmp_path, make, encoding, reason):
    read = formats.read_vector_bytes("DLTB.zip", _zip(make(tmp_path)))
    assert list(read.gdf["DLMC"]) == NAMES
    assert formats.mojibake_share(read.gdf["DLMC"]) == 0.0
    assert read.encoding == encoding
    assert read.notes[0] == f"attribute encoding {encoding}: {reason}"
    assert read.source == "DLTB.zip!DLTB.shp" and read.driver == "ESRI Shapefile"


def test_loose_shapefile_through_the_landing_zone_with_upper_case_sidecars(storage, tmp_path):
    files = {n.replace(".dbf", ".DBF").replace(".shx", ".SHX"): b for n, b in _gbk_without_cpg(tmp_path).items()}
    d = _land(storage, tmp_path, "01-01", "1", files)
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.name == "DLTB" and part.kind == "vector" and part.encoding == "gb18030"
    assert sorted(part.files) == ["DLTB.DBF", "DLTB.SHX", "DLTB.prj", "DLTB.shp"]
    assert list(part.gdf["DLMC"]) == NAMES and part.gdf.crs.to_epsg() == 4525
    assert part.metadata["layer"] == "DLTB"
    _intact(storage, d, files)


# -- missing shapefile members ---------------------------------------------------------------

@pytest.mark.parametrize("drop, message", [
    ({".dbf"}, "DLTB.zip!DLTB.shp: the .dbf attribute file is missing — send DLTB.dbf together with DLTB.shp/.shx"),
    ({".shx"}, "DLTB.zip!DLTB.shp: the .shx index file is missing — send DLTB.shx together with DLTB.shp/.dbf"),
    ({".shx", ".dbf"}, ("DLTB.zip!DLTB.shp: the .shx index file and the .dbf attribute file are missing — "
                       "send DLTB.shx and DLTB.dbf together with DLTB.shp")),
    ({".shp"}, "DLTB.zip!DLTB.dbf: the .shp geometry file is missing — send DLTB.shp together with DLTB.shx/.dbf"),
])
def test_zipped_shapefile_with_a_missing_member(storage, tmp_path, drop, message):
    members = {n: b for n, b in _gbk_without_cpg(tmp_path).items() if Path(n).suffix not in drop}
    _refused(storage, tmp_path, {"DLTB.zip": _zip(members)}, message)


def test_loose_shapefile_without_its_dbf(storage, tmp_path):
    files = {n: b for n, b in _gbk_without_cpg(tmp_path).items() if not n.endswith(".dbf")}
    _refused(storage, tmp_path, files, "DLTB.shp: the .dbf attribute file is missing — send DLTB.dbf together with DLTB.shp/.shx")


def test_empty_shapefile_member(storage, tmp_path):
    members = {**_gbk_without_cpg(tmp_path), "DLTB.shx": b""}
    _refused(storage, tmp_path, {"DLTB.zip": _zip(members)},
             "DLTB.zip!DLTB.shp: DLTB.shx is empty (0 bytes) — send the shapefile again")


# -- archives --------------------------------------------------------------------------------

def test_empty_files_are_refused_by_every_reader():
    for reader, name in [(formats.read_vector_layers, "DLTB.zip"), (formats.read_vector_layers, "city.geojson"),
                         (formats.read_raster_bytes, "dem.tif"), (formats.read_table_bytes, "a.csv")]:
        with pytest.raises(formats.FormatError) as err:
            reader(name, b"")
        assert str(err.value) == f"{name}: empty file (0 bytes) — the upload or copy failed; send the file again"


def test_truncated_zip(storage, tmp_path):
    whole = _zip(_gbk_without_cpg(tmp_path))
    _refused(storage, tmp_path, {"DLTB.zip": whole[: len(whole) // 2]},
             "DLTB.zip: the zip archive is damaged or incomplete (cut off during upload?) — send it again")


def test_zip_member_with_a_bad_checksum(storage, tmp_path):
    raw = bytearray(_zip({"DLTB.txt": b"x" * 200}))
    raw[40] ^= 0xFF  # inside the compressed data of the only member; the central directory is intact
    with pytest.raises(formats.FormatError) as err:
        formats.safe_extract(bytes(raw), tmp_path / "out", label="DLTB.zip")
    assert str(err.value).startswith("DLTB.zip!DLTB.txt: the archive member is damaged (")
    assert str(err.value).endswith(") — send the archive again")


@pytest.mark.parametrize("member", ["../x.shp", "a/../../x.shp", "/abs/x.shp", "C:/x.shp", "..\\x.shp"])
def test_zip_slip_and_absolute_members_are_refused(storage, tmp_path, member):
    data = _zip({member: b"x", "DLTB.shp": b"y"})
    _refused(storage, tmp_path, {"DLTB.zip": data},
             f"DLTB.zip: refused archive member {member!r} (absolute path or '..' escapes the folder)")
    assert not (tmp_path / "x.shp").exists()


def test_symlink_member_is_refused(storage, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("DLTB.dbf")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    _refused(storage, tmp_path, {"DLTB.zip": buf.getvalue()}, "DLTB.zip: refused archive member 'DLTB.dbf' (symbolic link)")


def test_nested_folders_junk_and_gbk_member_names(storage, tmp_path):
    shp = _gbk_without_cpg(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in shp.items():
            zf.writestr(_GbkName("成果/二调/宗地" + Path(name).suffix), data)
        zf.writestr("__MACOSX/成果/._宗地.shp", b"mac resource fork")
        zf.writestr("成果/Thumbs.db", b"windows thumbnails")
        zf.writestr("成果/.DS_Store", b"finder")
    raw = buf.getvalue()
    stored = [i for i in zipfile.ZipFile(io.BytesIO(raw)).infolist() if i.filename.startswith("│╔╣√")]  # 成果 read as cp437
    assert "宗地".encode("gbk") in raw and len(stored) == 4 and not any(i.flag_bits & 0x800 for i in stored)
    assert formats.list_archive(raw, label="宗地.zip") == [f"成果/二调/宗地{Path(n).suffix}" for n in shp]
    d = _land(storage, tmp_path, "01-01", "1", {"宗地.zip": raw})
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.name == "宗地" and list(part.gdf["DLMC"]) == NAMES
    assert part.metadata["layer"] == "宗地"
    _intact(storage, d, {"宗地.zip": raw})


def test_zip_with_several_shapefiles_gives_one_part_each(storage, tmp_path):
    a = _shapefile(tmp_path / "a", stem="DLTB")
    members = {**{f"2019/{n}": b for n, b in a.items()}, **{f"2020/{n}": b for n, b in a.items()},
               **{n.replace("DLTB", "XZQ"): b for n, b in a.items()}}
    d = _land(storage, tmp_path, "01-01", "1", {"三调.zip": _zip(members)})
    parts = read_parts(storage, load_catalog(), d)
    assert [p.name for p in parts] == ["三调.2019.DLTB", "三调.2020.DLTB", "三调.XZQ"]
    assert {p.metadata["layer"] for p in parts} == {"2019.DLTB", "2020.DLTB", "XZQ"}


def test_zip_without_vector_data_says_what_it_holds(storage, tmp_path):
    _refused(storage, tmp_path, {"dem.zip": _zip({"dem/dem.tif": b"II*\x00", "说明.txt": "说明".encode()})},
             "dem.zip: the archive holds no shapefile, FileGDB, GeoPackage, GeoJSON or KML "
             "(it holds: dem/dem.tif, 说明.txt) — send rasters, tables and documents unzipped")


# -- GeoPackage, FileGDB, GeoJSON, KML -------------------------------------------------------

def test_geopackage_every_layer_is_a_part(storage, tmp_path):
    path = tmp_path / "规划.gpkg"
    pyogrio.write_dataframe(_layer(), path, layer="地类图斑")
    pyogrio.write_dataframe(_layer(2).set_geometry(_layer(2).centroid), path, layer="points")
    pyogrio.write_dataframe(pd.DataFrame({"DM": ["152501"], "MC": ["二连浩特市"]}), path, layer="代码表")
    d = _land(storage, tmp_path, "01-01", "1", {"规划.gpkg": path.read_bytes()})
    parts = {p.name: p for p in read_parts(storage, load_catalog(), d)}
    assert sorted(parts) == ["规划.points", "规划.代码表", "规划.地类图斑"]
    assert parts["规划.地类图斑"].kind == "vector" and list(parts["规划.地类图斑"].gdf["DLMC"]) == NAMES
    assert parts["规划.points"].metadata["notes"] == ["geometry types: Point 2"]
    assert parts["规划.代码表"].kind == "table" and parts["规划.代码表"].table["MC"].tolist() == ["二连浩特市"]
    assert parts["规划.地类图斑"].metadata["driver"] == "GPKG"


def test_single_layer_geopackage_is_named_after_the_file(storage, tmp_path):
    path = tmp_path / "townships.gpkg"
    pyogrio.write_dataframe(_layer(), path, layer="乡镇")
    d = _land(storage, tmp_path, "01-01", "1", {"townships.gpkg": path.read_bytes()})
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.name == "townships" and part.metadata["layer"] == "乡镇"


def _filegdb(folder: Path) -> Path:
    folder.mkdir(parents=True)
    gdb = folder / "landuse.gdb"
    pyogrio.write_dataframe(_layer(), gdb, layer="DLTB", driver="OpenFileGDB")
    pyogrio.write_dataframe(_layer(1), gdb, layer="地类图斑_子集", driver="OpenFileGDB")
    return gdb


def test_zipped_filegdb_with_two_layers(storage, tmp_path):
    gdb = _filegdb(tmp_path / "w")
    data = _zip({f"landuse.gdb/{p.name}": p.read_bytes() for p in sorted(gdb.iterdir())})
    d = _land(storage, tmp_path, "01-01", "1", {"landuse.zip": data})
    parts = {p.name: p for p in read_parts(storage, load_catalog(), d)}
    assert sorted(parts) == ["landuse.DLTB", "landuse.地类图斑_子集"]
    assert list(parts["landuse.DLTB"].gdf["DLMC"]) == NAMES and parts["landuse.DLTB"].gdf.crs.to_epsg() == 4525
    assert len(parts["landuse.地类图斑_子集"].gdf) == 1
    assert parts["landuse.DLTB"].metadata["driver"] == "OpenFileGDB"


def test_filegdb_delivered_as_a_folder(storage, tmp_path):
    gdb = _filegdb(tmp_path / "w")
    files = {f"landuse.gdb/{p.name}": p.read_bytes() for p in sorted(gdb.iterdir())}
    d = _land(storage, tmp_path, "01-01", "1", files)
    parts = read_parts(storage, load_catalog(), d)
    assert [p.name for p in parts] == ["landuse.DLTB", "landuse.地类图斑_子集"]
    assert parts[0].files == sorted(files)
    _intact(storage, d, files)


def test_filegdb_tables_zipped_without_their_folder(storage, tmp_path):
    gdb = _filegdb(tmp_path / "w")
    data = _zip({p.name: p.read_bytes() for p in sorted(gdb.iterdir())})
    _refused(storage, tmp_path, {"landuse.zip": data},
             "landuse.zip: FileGDB tables (a00000001.gdbtable …) are not inside a *.gdb folder — "
             "zip the whole .gdb folder, not its contents")


def test_kml_reads_with_its_folders_as_layers(storage, tmp_path):
    path = tmp_path / "范围.kml"
    pyogrio.write_dataframe(_layer().to_crs(4326), path, layer="规划范围", driver="KML")
    d = _land(storage, tmp_path, "01-01", "1", {"范围.kml": path.read_bytes()})
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.name == "范围" and part.gdf.crs.to_epsg() == 4326
    assert list(part.gdf["DLMC"]) == NAMES
    back = part.gdf.to_crs(4525).geometry.centroid
    assert np.allclose(back.x, [X0 + 450, X0 + 1450, X0 + 2450], atol=0.01)


def test_gbk_geojson_is_converted_not_garbled(storage, tmp_path):
    text = _layer().to_crs(4490).to_json(ensure_ascii=False)
    d = _land(storage, tmp_path, "01-01", "1", {"geohazard.geojson": text.encode("gbk")})
    (part,) = read_parts(storage, load_catalog(), d)
    assert list(part.gdf["DLMC"]) == NAMES
    assert part.metadata["notes"][0] == "the GeoJSON was GBK/GB18030, not UTF-8 (RFC 7946): converted to UTF-8"


def test_damaged_geojson_and_geopackage(storage, tmp_path):
    _refused(storage, tmp_path, {"city.geojson": b'{"type": "FeatureCollection", "features": [{"type'},
             "city.geojson: not a readable GeoJSON file (damaged, truncated, or another format renamed to .geojson)")
    _refused(storage, tmp_path, {"规划.gpkg": b"SQLite format 3\x00" + b"\x00" * 80},
             "规划.gpkg: not a readable GeoPackage file (damaged, truncated, or another format renamed to .gpkg)")


# -- mixed, null and empty geometries: kept, reported, judged by the GX suite ----------------

def _mixed() -> gpd.GeoDataFrame:
    p = Polygon([(111.95, 43.60), (111.96, 43.60), (111.96, 43.61), (111.95, 43.60)])
    return gpd.GeoDataFrame({"YFCD": ["高易发", "中易发", "低易发", "高易发"]},
                            geometry=[p, Point(111.97, 43.65), None, Polygon()], crs=4490)


def test_mixed_null_and_empty_geometries_are_kept_and_listed():
    read = formats.read_vector_bytes("geohazard.geojson", _mixed().to_json().encode())
    assert len(read.gdf) == 4
    assert read.notes == ("geometry types: Point 1, Polygon 1",
                          "mixed geometry types (Point, Polygon): kept; the dataset's geometry-type check decides",
                          "2 feature(s) without geometry (null): kept for the checks")  # GeoJSON writes empty as null
    assert read.gdf.geometry.geom_type.tolist()[:2] == ["Polygon", "Point"] and read.gdf.geometry.isna().sum() == 2


def test_invalid_geometry_is_kept_unrepaired_and_flagged_with_its_fid(storage, tmp_path):
    bow_tie = Polygon([(111.95, 43.60), (111.96, 43.61), (111.96, 43.60), (111.95, 43.61)])
    ok = box(111.90, 43.60, 111.91, 43.61)
    data = gpd.GeoDataFrame({"YFCD": ["高易发", "低易发"]}, geometry=[ok, bow_tie], crs=4490).to_json().encode()
    read = formats.read_vector_bytes("geohazard.geojson", data)
    assert read.notes[1] == "1 feature(s) with invalid geometry (e.g. self-intersecting): kept unrepaired for the checks"
    assert read.gdf.geometry.iloc[1].equals(bow_tie)
    d = _land(storage, tmp_path, "01-28", "1", {"geohazard.geojson": data})
    report = accept_delivery(storage, load_catalog(), d)
    failed = {c["column"]: c["examples"] for c in report["checks"] if not c["success"]}
    assert failed["geom_valid"] == [{"geom_valid": False, "fid": 1}]
    _intact(storage, d, {"geohazard.geojson": data})


def test_gpkg_keeps_empty_geometries_apart_from_nulls(tmp_path):
    path = tmp_path / "g.gpkg"
    pyogrio.write_dataframe(_mixed().iloc[[0, 2, 3]], path, layer="g")
    read = formats.read_vector_bytes("g.gpkg", path.read_bytes())
    assert read.notes == ("geometry types: Polygon 1", "1 feature(s) without geometry (null): kept for the checks",
                          "1 feature(s) with empty geometry: kept for the checks")


def test_mixed_geometry_delivery_fails_the_geometry_type_check_with_fids(storage, tmp_path):
    data = _mixed().to_json(ensure_ascii=False).encode()
    d = _land(storage, tmp_path, "01-28", "1", {"geohazard.geojson": data})
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "failed"
    failed = {c["column"]: c["examples"] for c in report["checks"] if not c["success"]}
    assert failed["geom_type"] == [{"geom_type": "Point", "fid": 1}, {"geom_type": "Other", "fid": 2},
                                   {"geom_type": "Other", "fid": 3}]
    assert failed["geom_empty"] == [{"geom_empty": True, "fid": 2}, {"geom_empty": True, "fid": 3}]
    _intact(storage, d, {"geohazard.geojson": data})


# -- rasters ---------------------------------------------------------------------------------

def _geotiff(tiled: bool = False) -> bytes:
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=64, height=64, count=1, dtype="float32", crs="EPSG:4525", nodata=-9999,
                      transform=Affine(30, 0, X0, 0, -30, Y0), tiled=tiled) as dst:
            dst.write(np.arange(64 * 64, dtype="float32").reshape(1, 64, 64))
        return mem.read()


ASC = b"ncols 3\nnrows 2\nxllcorner 37560000\nyllcorner 4830000\ncellsize 30\nNODATA_value -9999\n1.5 2 3\n4 5 -9999\n"


def test_geotiff_is_kept_byte_for_byte(storage, tmp_path):
    tif = _geotiff()
    d = _land(storage, tmp_path, "01-01", "1", {"dem.tif": tif})
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.kind == "raster" and part.raster == tif and part.source_crs == "EPSG:4525"
    assert part.metadata == {"driver": "GTiff", "notes": []}


def test_ascii_grid_with_prj_becomes_a_geotiff(storage, tmp_path):
    from pyproj import CRS
    files = {"dem.asc": ASC, "dem.prj": CRS.from_epsg(4525).to_wkt("WKT1_ESRI").encode()}
    d = _land(storage, tmp_path, "01-01", "1", files)
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.name == "dem" and part.files == ["dem.asc", "dem.prj"]
    assert part.metadata["notes"] == ["AAIGrid converted to GeoTIFF (lossless)", "georeferencing sidecars: dem.prj"]
    with MemoryFile(part.raster) as mem, mem.open() as src:
        assert src.driver == "GTiff" and src.crs.to_epsg() == 4525 and src.nodata == -9999
        assert src.read(1).tolist() == [[1.5, 2, 3], [4, 5, -9999]]
        assert src.transform == Affine(30, 0, 37_560_000, 0, -30, 4_830_060)
    _intact(storage, d, files)


def test_ascii_grid_without_prj_has_no_crs():
    read = formats.read_raster_bytes("dem.asc", ASC)
    assert read.crs == "none" and read.notes == ("AAIGrid converted to GeoTIFF (lossless)",
                                                 "no coordinate system in the file or its sidecars")


@pytest.mark.parametrize("data, message", [
    (b"this is not a GeoTIFF", "dem.tif: not a readable raster (GeoTIFF / ASCII grid expected)"),
    (_geotiff()[: len(_geotiff()) // 2], "dem.tif: the raster data is incomplete or damaged (truncated file?) — send it again"),
])
def test_bad_rasters(storage, tmp_path, data, message):
    _refused(storage, tmp_path, {"dem.tif": data}, message)


def test_check_raster_bytes_still_works():
    formats.check_raster_bytes("dem.tif", _geotiff(tiled=True))
    with pytest.raises(formats.FormatError, match=r"^dem\.asc: not a readable raster"):
        formats.check_raster_bytes("dem.asc", b"ncols 3\nnrows")
