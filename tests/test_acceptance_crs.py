"""Deliveries in every coordinate system departments use, end to end through the landing zone:
transformed to EPSG:4525 with the transformation recorded, refused with a diagnosis when the CRS is
missing (unless named at ingest), swapped axes reported — and the delivered bytes always kept."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import pytest
import shapely

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.landing import DeliveryError, ingest
from erenhot.storage import Storage

SEAT_4525 = (37_578_816.9, 4_835_731.5)  # 二连浩特 seat (111.977 E, 43.653 N) in EPSG:4525, pinned in test_crs


def _desertification(epsg: int) -> gpd.GeoDataFrame:
    x, y = SEAT_4525
    polys = [shapely.box(x + 5_000, y - 20_000, x + 9_000, y - 16_000), shapely.box(x + 12_000, y - 30_000, x + 15_000, y - 26_000)]
    gdf = gpd.GeoDataFrame({"SHCD": ["重度", "轻度"]}, geometry=polys, crs=4525)
    return gdf.to_crs(epsg)


def _zip_shapefile(gdf: gpd.GeoDataFrame, folder, *, prj: bool = True):
    folder.mkdir(parents=True, exist_ok=True)
    gdf.to_file(folder / "desertification.shp", encoding="GBK")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.iterdir()):
            if p.suffix == ".prj" and not prj:
                continue
            zf.write(p, p.name)
    target = folder.parent / f"{folder.name}.zip"
    target.write_bytes(buf.getvalue())
    return target


def _deliver(storage, path, **kw):
    d = ingest(storage, load_catalog(), "1", "01-16", [path], **kw).delivery
    return d, accept_delivery(storage, load_catalog(), d)


@pytest.mark.parametrize("epsg, approximate", [
    (4490, False), (4525, False), (4546, False), (4497, False),   # CGCS2000: geographic, 3° with/without prefix, 6°
    (2361, True), (2382, True), (2333, True),                      # Xian 1980: 3° zone 37, 3° CM 111E, 6° zone 19
    (2413, True), (21419, True), (21459, True),                    # Beijing 1954: 3° zone 37, 6° zone 19, 6° CM 111E
    (4326, True),                                                  # WGS 84 lon/lat (≤ 1 m ballpark to CGCS2000)
])
def test_every_accepted_system_is_transformed_and_recorded(tmp_path, epsg, approximate):
    storage = Storage(str(tmp_path / "s"))
    path = _zip_shapefile(_desertification(epsg), tmp_path / f"e{epsg}" / "desertification")
    d, report = _deliver(storage, path)
    assert report["state"] == "validated", report["failures"]
    part = storage.read_json(report["standard"])["parts"]["desertification"]
    assert part["target_crs"] == "EPSG:4525" and part["crs"]["source_epsg"] == epsg
    assert part["crs"]["approximate"] is approximate
    gdf = gpd.read_parquet(io.BytesIO(storage.read_bytes(part["path"])))
    assert gdf.crs.to_epsg() == 4525
    expected = _desertification(4525).geometry.iloc[0].centroid
    assert gdf.geometry.iloc[0].centroid.distance(expected) < (150 if approximate else 1.0)
    assert storage.read_bytes(d.file_path(path.name)) == path.read_bytes()


def test_no_crs_is_refused_with_a_diagnosis_then_accepted_with_the_crs_named_at_ingest(tmp_path):
    storage = Storage(str(tmp_path / "s"))
    path = _zip_shapefile(_desertification(4525), tmp_path / "desertification", prj=False)
    d, report = _deliver(storage, path)
    assert report["state"] == "failed"
    text = "\n".join(report["failures"])
    assert "desertification.zip" in text and "[crs_accepted]" in text
    assert "zone 37 with the zone prefix" in text and "EPSG:4525" in text
    assert storage.read_bytes(d.file_path("desertification.zip")) == path.read_bytes()
    # the same bytes, with the coordinate system named by the sender, are a new delivery and pass
    d2, report2 = _deliver(storage, path, crs_override="EPSG:4525")
    assert d2.version != d.version and d2.crs_override == "EPSG:4525"
    assert report2["state"] == "validated" and report2["failures"] == [], report2["failures"]
    record = storage.read_json(report2["standard"])["parts"]["desertification"]["crs"]
    assert record["override_used"] is True and record["declared_crs"] == "none"


def test_an_unaccepted_crs_named_at_ingest_is_refused_at_the_door(tmp_path):
    storage = Storage(str(tmp_path / "s"))
    path = _zip_shapefile(_desertification(4525), tmp_path / "desertification", prj=False)
    with pytest.raises(DeliveryError, match="not an accepted coordinate system"):
        ingest(storage, load_catalog(), "1", "01-16", [path], crs_override="EPSG:3857")
    for nonsense in ("foo", "EPSG:999999"):  # not a coordinate system at all: refused the same way, no traceback
        with pytest.raises(DeliveryError, match=f"01-16: --crs '{nonsense}' is not a coordinate system"):
            ingest(storage, load_catalog(), "1", "01-16", [path], crs_override=nonsense)
    assert not storage.list_dirs("landing")


def test_web_mercator_is_not_accepted(tmp_path):
    storage = Storage(str(tmp_path / "s"))
    path = _zip_shapefile(_desertification(3857), tmp_path / "desertification")
    _, report = _deliver(storage, path)
    assert report["state"] == "failed" and any("[crs_accepted]" in f for f in report["failures"])


def test_swapped_axes_in_a_station_table_are_reported(tmp_path):
    storage = Storage(str(tmp_path / "s"))
    f = tmp_path / "stations.csv"
    f.write_text("station_id,name,lon,lat,elevation_m\n530680,二连浩特,43.65,111.97,964.7\n", encoding="utf-8")
    d = ingest(storage, load_catalog(), "17", "17-01", [f]).delivery
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "failed"
    assert any("stations.csv" in line and "look swapped" in line for line in report["failures"])
    assert storage.read_bytes(d.file_path("stations.csv")) == f.read_bytes()


def test_swapped_axes_in_a_projected_layer_are_reported(tmp_path):
    storage = Storage(str(tmp_path / "s"))
    gdf = _desertification(4525)
    gdf["geometry"] = shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1])  # x ↔ y
    path = _zip_shapefile(gdf, tmp_path / "sw" / "desertification")
    d, report = _deliver(storage, path)
    assert report["state"] == "failed"
    assert any("desertification.zip" in line and "[swapped_count]" in line for line in report["failures"])
    assert storage.read_bytes(d.file_path("desertification.zip")) == path.read_bytes()
