"""Acceptance of deliveries: good data validates and is standardised; bad data is quarantined
with a message that names department, dataset, file and problem, and nothing is lost."""

from __future__ import annotations

import json

import geopandas as gpd
import io
import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.landing import ingest, latest_delivery, latest_validated
from erenhot.storage import Storage
from kit_helpers import bad_dltb_zip, ingest_kit, small_kit


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    root = tmp_path_factory.mktemp("acc")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    ingest_kit(storage, kit)
    cat = load_catalog()
    reports = {i: accept_delivery(storage, cat, latest_delivery(storage, i))
               for i in sorted(kit.datasets, key=lambda i: (i != "01-04", i))}
    return root, kit, storage, reports


def test_every_kit_delivery_validates(delivered):
    _, _, _, reports = delivered
    failed = {i: r["failures"] for i, r in reports.items() if r["state"] != "validated"}
    assert failed == {}


def test_standard_zone_holds_epsg4525_geoparquet_with_the_transformation(delivered):
    _, _, storage, reports = delivered
    manifest = storage.read_json(reports["01-16"]["standard"])
    part = manifest["parts"]["desertification"]
    assert part["target_crs"] == "EPSG:4525" and "4490" in part["source_crs"]
    assert part["transformation"] and part["transformation"] != "none (already EPSG:4525)"
    gdf = gpd.read_parquet(io.BytesIO(storage.read_bytes(part["path"])))
    assert gdf.crs.to_epsg() == 4525
    dem = storage.read_json(reports["01-03"]["standard"])["parts"]["dem"]
    assert dem["format"] == "COG GeoTIFF"


def test_bad_delivery_is_quarantined_with_a_clear_message_and_kept(delivered, tmp_path):
    root, kit, storage, _ = delivered
    cat = load_catalog()
    good = latest_validated(storage, "01-46a.dltb")
    bad_zip = bad_dltb_zip(root / "kit", tmp_path)
    d = ingest(storage, cat, "1", "01-46a.dltb", [bad_zip]).delivery
    report = accept_delivery(storage, cat, d)
    assert report["state"] == "failed"
    text = "\n".join(report["failures"])
    assert "部门 1 自然资源局" in text and "01-46a.dltb" in text and "DLTB.zip" in text
    assert "[DLBM]" in text and "9999" in text  # unknown 三调 code, with the offending value
    assert "[geom_valid]" in text  # the bow-tie
    assert "[crs_accepted]" in text  # Web Mercator is not an accepted Chinese system
    # nothing lost: the bytes stay in the landing zone, a quarantine marker points at them
    assert storage.read_bytes(d.file_path("DLTB.zip")) == bad_zip.read_bytes()
    marker = storage.read_json(f"quarantine/01-46a.dltb/{d.version}.json")
    assert marker["delivery"] == f"{d.prefix}/"
    # the last good version stays the one topics use
    assert latest_validated(storage, "01-46a.dltb").version == good.version
    assert json.loads(storage.read_bytes(f"validation/01-46a.dltb/{d.version}.json"))["state"] == "failed"


def test_a_layer_without_crs_gets_a_diagnosis(delivered, tmp_path):
    root, _, storage, _ = delivered
    import zipfile
    src = root / "kit" / "04-13" / "soil.zip"
    out = tmp_path / "soil.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith(".prj"):
                zout.writestr(info, zin.read(info))
    d = ingest(storage, load_catalog(), "4", "04-13", [out]).delivery
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "failed"
    assert any("no coordinate system" in f and "zone 37" in f for f in report["failures"])


def test_unreadable_raster_is_a_failed_delivery_naming_the_file(delivered, tmp_path):
    _, _, storage, _ = delivered
    fake = tmp_path / "dem.tif"
    fake.write_text("this is not a GeoTIFF", encoding="utf-8")
    d = ingest(storage, load_catalog(), "1", "01-03", [fake]).delivery
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "failed"
    assert any("dem.tif" in f and "not a readable raster" in f for f in report["failures"])


def test_truncated_station_file_is_a_failed_delivery(delivered, tmp_path, real_data_dir):
    _, _, storage, _ = delivered
    epw = (real_data_dir / "climate" / "CHN_Nei.Mongol.Erenhot.530680_CSWD.epw").read_bytes()
    cut = tmp_path / "CHN_Nei.Mongol.Erenhot.530680_CSWD.epw"
    cut.write_bytes(epw[:30000])
    d = ingest(storage, load_catalog(), "17", "17-02", [cut]).delivery
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "failed"
    assert any("CHN_Nei.Mongol.Erenhot.530680_CSWD.epw" in f and "truncated" in f for f in report["failures"])


def test_delivery_without_the_contracted_file_fails(delivered, tmp_path):
    _, _, storage, _ = delivered
    note = tmp_path / "readme.txt"
    note.write_text("断层图稍后提供", encoding="utf-8")
    d = ingest(storage, load_catalog(), "1", "01-27", [note]).delivery
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "failed"
    assert any("lacks the file 'faults'" in f and "readme.txt" in f for f in report["failures"])
