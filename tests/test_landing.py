"""Landing zone: immutable, checksummed deliveries; identical re-sends; refusals."""

from __future__ import annotations

import json

import pytest

from erenhot.catalog import load_catalog
from erenhot.landing import DeliveryError, ingest, latest_delivery, versions
from erenhot.storage import StorageError


def _write(p, text):
    p.write_text(text, encoding="utf-8")
    return p


def test_ingest_stores_manifest_with_checksums(storage, tmp_path):
    f = _write(tmp_path / "stations.csv", "station_id,name,lon,lat,elevation_m\n530680,二连浩特,111.97,43.65,964.7\n")
    res = ingest(storage, load_catalog(), "17", "17-01", [f], delivered_by="气象局 张三")
    assert res.created
    d = res.delivery
    manifest = json.loads(storage.read_bytes(f"{d.prefix}/manifest.json"))
    assert manifest["files"][0]["name"] == "stations.csv"
    assert manifest["files"][0]["sha256"] == storage.sha256(d.file_path("stations.csv"))
    assert manifest["delivered_by"] == "气象局 张三"
    assert d.version.endswith(d.delivery_hash[:12])


def test_identical_bytes_do_not_create_a_new_version(storage, tmp_path):
    f = _write(tmp_path / "stations.csv", "station_id\n530680\n")
    cat = load_catalog()
    first = ingest(storage, cat, "气象局", "17-01", [f])
    again = ingest(storage, cat, "17", "17-01", [f])
    assert again.created is False and again.delivery.version == first.delivery.version
    _write(f, "station_id\n530681\n")
    third = ingest(storage, cat, "17", "17-01", [f])
    assert third.created and len(versions(storage, "17-01")) == 2
    assert latest_delivery(storage, "17-01").version == third.delivery.version


def test_landing_objects_are_never_overwritten(storage, tmp_path):
    f = _write(tmp_path / "stations.csv", "station_id\n530680\n")
    d = ingest(storage, load_catalog(), "17", "17-01", [f]).delivery
    with pytest.raises(StorageError, match="immutable"):
        storage.write_once(d.file_path("stations.csv"), b"other bytes")
    assert storage.read_bytes(d.file_path("stations.csv")) == f.read_bytes()


def test_department_must_own_the_dataset(storage, tmp_path):
    f = _write(tmp_path / "x.csv", "a\n1\n")
    with pytest.raises(DeliveryError, match="delivered by department 17"):
        ingest(storage, load_catalog(), "4", "17-01", [f])


def test_unknown_dataset_is_refused_with_a_hint(storage, tmp_path):
    f = _write(tmp_path / "x.csv", "a\n1\n")
    with pytest.raises(DeliveryError, match="17-0"):
        ingest(storage, load_catalog(), "17", "17-09", [f])


def test_resending_an_older_delivery_makes_it_the_newest_again(storage, tmp_path):
    cat = load_catalog()
    f = _write(tmp_path / "stations.csv", "station_id\n530680\n")
    v1 = ingest(storage, cat, "17", "17-01", [f]).delivery
    _write(f, "station_id\n530681\n")
    ingest(storage, cat, "17", "17-01", [f])
    _write(f, "station_id\n530680\n")
    back = ingest(storage, cat, "17", "17-01", [f])
    assert back.created and back.delivery.delivery_hash == v1.delivery_hash
    assert latest_delivery(storage, "17-01").version == back.delivery.version != v1.version
    assert len(versions(storage, "17-01")) == 3



def test_empty_files_are_refused_at_the_door(storage, tmp_path):
    empty = tmp_path / "dem.tif"
    empty.write_bytes(b"")
    with pytest.raises(DeliveryError, match="empty file"):
        ingest(storage, load_catalog(), "1", "01-03", [empty])
