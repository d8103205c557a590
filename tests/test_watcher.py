"""The drop-zone watcher: files departments upload themselves to landing/<department>/<dataset>/."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from erenhot.catalog import load_catalog
from erenhot.landing import ingest, latest_delivery, versions
from erenhot.watcher import drop_path, ledger, scan

STATIONS = "station_id,name,lon,lat,elevation_m\n530680,二连浩特,111.97,43.65,964.7\n"
LATER = timedelta(seconds=120)


def _drop(storage, rel: str, data: bytes | str, age_s: float | None = None) -> Path:
    """Write a file into the drop zone as a department's own tool would (not through Storage)."""
    p = storage.local_path(rel)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    if age_s is not None:
        t = time.time() - age_s
        os.utime(p, (t, t))
    return p


def test_a_settled_folder_becomes_one_delivery_and_stays_in_place(storage):
    cat = load_catalog()
    a = _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS, age_s=600)
    b = _drop(storage, "landing/meteorology/17-01/notes/readme.txt", "说明", age_s=600)
    _drop(storage, "landing/meteorology/17-01/.DS_Store", b"\0\1", age_s=600)
    res = scan(storage, cat, quiet_seconds=60)
    assert [r.dataset_id for r in res.new_deliveries] == ["17-01"] and not res.problems and not res.waiting
    d = latest_delivery(storage, "17-01")
    assert sorted(f.name for f in d.files) == ["notes/readme.txt", "stations.csv"]
    assert d.source == "landing/meteorology/17-01/" and d.department_seq == 17
    assert storage.read_bytes(d.file_path("stations.csv")) == a.read_bytes()
    assert a.exists() and b.exists()  # nothing a department delivered is moved or deleted
    entries = ledger(storage, "meteorology", "17-01")
    assert {e["name"] for e in entries} == {"stations.csv", "notes/readme.txt"}
    assert {e["version"] for e in entries} == {d.version}
    again = scan(storage, cat, quiet_seconds=60)
    assert not again.registered and again.unchanged == 1 and len(versions(storage, "17-01")) == 1


def test_a_growing_file_waits_until_it_stopped_changing(storage):
    cat = load_catalog()
    p = _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS[:30])
    t0 = datetime.now(UTC)
    first = scan(storage, cat, quiet_seconds=60, now=t0)
    assert not first.registered and first.waiting[0]["file"] == "stations.csv"
    with p.open("a", encoding="utf-8") as fh:  # the upload goes on
        fh.write(STATIONS[30:])
    second = scan(storage, cat, quiet_seconds=60, now=t0 + timedelta(seconds=30))
    assert not second.registered and second.waiting
    third = scan(storage, cat, quiet_seconds=60, now=datetime.now(UTC) + timedelta(seconds=61))
    assert third.new_deliveries
    assert storage.read_bytes(latest_delivery(storage, "17-01").file_path("stations.csv")) == STATIONS.encode()


def test_settled_means_unchanged_between_two_scans_even_with_a_clock_ahead(storage):
    cat = load_catalog()
    p = _drop(storage, "landing/17/17-01/stations.csv", STATIONS)
    future = time.time() + 3600  # the uploading machine's clock is an hour ahead
    os.utime(p, (future, future))
    t0 = datetime.now(UTC)
    assert scan(storage, cat, quiet_seconds=60, now=t0).waiting
    assert scan(storage, cat, quiet_seconds=60, now=t0 + timedelta(seconds=59)).waiting
    res = scan(storage, cat, quiet_seconds=60, now=t0 + timedelta(seconds=61))
    assert [r.folder for r in res.new_deliveries] == ["landing/17/17-01/"]  # the two-digit number works too


def test_a_folder_waits_for_all_its_files_and_for_upload_temporaries(storage):
    cat = load_catalog()
    _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS, age_s=600)
    _drop(storage, "landing/meteorology/17-01/more.csv", STATIONS)  # just arrived
    tmp = _drop(storage, "landing/meteorology/17-01/big.zip.filepart", b"PK", age_s=600)
    empty = _drop(storage, "landing/meteorology/17-01/empty.csv", b"", age_s=600)
    res = scan(storage, cat, quiet_seconds=60)
    assert not res.registered
    assert {w["file"] for w in res.waiting} == {"more.csv", "big.zip.filepart", "empty.csv"}
    tmp.unlink()  # the department's tool finishes: it renames its temporary file, fills the empty one
    _drop(storage, "landing/meteorology/17-01/big.csv", STATIONS, age_s=600)
    empty.write_text(STATIONS, encoding="utf-8")
    res = scan(storage, cat, quiet_seconds=60, now=datetime.now(UTC) + LATER)
    assert sorted(f.name for f in res.new_deliveries[0].delivery.files) == ["big.csv", "empty.csv", "more.csv", "stations.csv"]


def test_a_replaced_file_makes_the_folder_a_new_delivery(storage):
    cat = load_catalog()
    _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS, age_s=600)
    _drop(storage, "landing/meteorology/17-01/extra.csv", "a\n1\n", age_s=600)
    first = scan(storage, cat, quiet_seconds=60).new_deliveries[0].delivery
    _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS.replace("964.7", "965.0"), age_s=300)
    second = scan(storage, cat, quiet_seconds=60).new_deliveries[0].delivery
    assert second.version != first.version and versions(storage, "17-01") == [first.version, second.version]
    assert {f.name for f in second.files} == {"stations.csv", "extra.csv"}  # the folder as it is now
    assert len(ledger(storage, "meteorology", "17-01")) == 3


def test_bytes_already_sent_with_the_cli_are_recognised(storage, tmp_path):
    cat = load_catalog()
    f = tmp_path / "stations.csv"
    f.write_text(STATIONS, encoding="utf-8")
    sent = ingest(storage, cat, "17", "17-01", [f]).delivery
    _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS, age_s=600)
    res = scan(storage, cat, quiet_seconds=60)
    assert res.registered and not res.new_deliveries and res.registered[0].delivery == sent
    assert versions(storage, "17-01") == [sent.version]
    assert not scan(storage, cat, quiet_seconds=60).registered  # remembered in the ledger


def test_unknown_folders_and_foreign_datasets_are_reported_not_ingested(storage):
    cat = load_catalog()
    _drop(storage, "landing/meteorology/01-03/dem.tif", b"II*\0", age_s=600)  # owned by natural resources
    _drop(storage, "landing/meteorology/17-99/x.csv", "a\n1\n", age_s=600)  # no such dataset
    _drop(storage, "landing/weather-office/17-01/x.csv", "a\n1\n", age_s=600)  # no such department
    _drop(storage, "landing/meteorology/loose.csv", "a\n1\n", age_s=600)  # not in a dataset folder
    res = scan(storage, cat, quiet_seconds=60)
    assert not res.registered
    problems = {p["path"]: p["problem"] for p in res.problems}
    assert "natural-resources" in problems["landing/meteorology/01-03/"]
    assert "17-99" in problems["landing/meteorology/17-99/"]
    assert "weather-office" in problems["landing/weather-office/"]
    assert "landing/meteorology/loose.csv" in problems
    assert versions(storage, "01-03") == [] and versions(storage, "17-01") == []


def test_the_landing_zone_itself_is_not_a_drop_folder(storage, tmp_path):
    cat = load_catalog()
    f = tmp_path / "stations.csv"
    f.write_text(STATIONS, encoding="utf-8")
    ingest(storage, cat, "17", "17-01", [f])
    res = scan(storage, cat, quiet_seconds=0)
    assert not res.registered and not res.problems and not res.waiting
    assert drop_path(cat.department(1), "01-03", "dem.tif") == "landing/natural-resources/01-03/dem.tif"


def test_two_watchers_scanning_at_once_register_one_version(storage):
    import threading

    from erenhot.storage import Storage

    cat = load_catalog()
    _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS, age_s=600)
    barrier, results = threading.Barrier(3), []

    def watch():
        barrier.wait()
        results.append(scan(Storage(storage.url), cat, quiet_seconds=60))

    threads = [threading.Thread(target=watch) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum(len(r.new_deliveries) for r in results) == 1 and len(versions(storage, "17-01")) == 1


@pytest.mark.flow
def test_watch_flow_registers_validates_and_emits_the_ingest_event(prefect_server, storage, monkeypatch):
    from flows.watcher import watch_landing
    from tasks import events

    emitted = []
    real_emit = events.emit

    def spy(storage_, event, resource, payload=None):
        emitted.append((event, resource["prefect.resource.id"], payload))
        return real_emit(storage_, event, resource, payload)

    monkeypatch.setattr(events, "emit", spy)
    _drop(storage, "landing/meteorology/17-01/stations.csv", STATIONS, age_s=600)
    _drop(storage, "landing/meteorology/17-99/x.csv", "a\n1\n", age_s=600)
    out = watch_landing(storage_url=storage.url, quiet_seconds=60)
    assert [r["dataset_id"] for r in out["registered"]] == ["17-01"] and out["validated"] == {"17-01": "validated"}
    assert out["problems"] and out["problems"][0]["path"] == "landing/meteorology/17-99/"
    delivered = [e for e in emitted if e[0] == "erenhot.dataset.delivered"]
    assert len(delivered) == 1 and delivered[0][1] == "erenhot.dataset.17-01"
    assert delivered[0][2]["files"] == ["stations.csv"] and delivered[0][2]["delivery_hash"]
    assert ("erenhot.dataset.validated", "erenhot.dataset.17-01") in [(e[0], e[1]) for e in emitted]
    again = watch_landing(storage_url=storage.url, quiet_seconds=60)
    assert again["registered"] == [] and again["validated"] == {}
