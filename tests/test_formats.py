"""Readers: GBK shapefiles without .cpg, unsafe zip members, EPW station files."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import box

from erenhot import formats


def _gbk_shapefile_zip(tmp_path, with_cpg: bool = False) -> bytes:
    gdf = gpd.GeoDataFrame({"DLBM": ["0404", "1205"], "DLMC": ["其他草地", "沙地"]},
                           geometry=[box(37_560_000, 4_800_000, 37_561_000, 4_801_000),
                                     box(37_561_000, 4_800_000, 37_562_000, 4_801_000)], crs=4525)
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf.to_file(folder / "DLTB.shp", encoding="GBK")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.iterdir()):
            if p.suffix == ".cpg" and not with_cpg:
                continue
            zf.write(p, p.name)
    return buf.getvalue()


def test_gbk_dbf_without_cpg_reads_chinese(tmp_path):
    read = formats.read_vector_bytes("DLTB.zip", _gbk_shapefile_zip(tmp_path))
    assert read.encoding == "gb18030"
    assert list(read.gdf["DLMC"]) == ["其他草地", "沙地"]
    assert read.gdf.crs.to_epsg() == 4525


def test_mojibake_share_detects_gbk_read_as_latin1():
    import pandas as pd
    s = pd.Series(["其他草地".encode("gbk").decode("latin-1"), "沙地".encode("gbk").decode("latin-1")])
    assert formats.mojibake_share(s) == 1.0
    assert formats.mojibake_share(pd.Series(["其他草地", "沙地"])) == 0.0


@pytest.mark.parametrize("member", ["../escape.txt", "/abs/path.txt"])
def test_unsafe_zip_members_are_refused(tmp_path, member):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, b"x")
    with pytest.raises(formats.FormatError, match="refused archive member"):
        formats.safe_extract(buf.getvalue(), tmp_path / "out", label="bad.zip")


def test_junk_members_are_ignored(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("__MACOSX/._a.shp", b"x")
        zf.writestr("Thumbs.db", b"x")
        zf.writestr("data/a.txt", b"ok")
    out = formats.safe_extract(buf.getvalue(), tmp_path / "out", label="k.zip")
    assert [p.name for p in out] == ["a.txt"]


def test_epw_station_and_daily_means(real_data_dir):
    data = (real_data_dir / "climate" / "CHN_Nei.Mongol.Erenhot.530680_CSWD.epw").read_bytes()
    station, hourly = formats.read_epw(data)
    assert station.station_id == "530680" and station.elevation_m == pytest.approx(964.7)
    assert len(hourly) == 8760
    assert hourly["precip_mm"].isna().all()  # the CSWD file carries the missing code 999
    daily = formats.epw_daily(station, hourly)
    assert len(daily) == 365
    first = hourly.iloc[:24]["dry_bulb_c"].mean()
    assert daily.iloc[0]["tmean_c"] == pytest.approx(first)
    assert -30 < daily["tmean_c"].min() < -10 and 20 < daily["tmean_c"].max() < 35
