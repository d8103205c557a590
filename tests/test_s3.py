"""The storage zones on S3 through s3fs, against a real S3 API server (moto_server) on 127.0.0.1.

The server is a subprocess shared by the test run (tests/s3_server.py); the AWS variables a user
would set (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL) point
erenhot.storage.Storage and s3fs at it. Nothing of s3fs is mocked.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.landing import ingest, ingest_bytes, latest_delivery, load_delivery, versions
from erenhot.status import plan_status
from erenhot.storage import Storage, StorageError
from erenhot.watcher import scan
from kit_helpers import small_kit
import s3_server
from kit_helpers import run_in_parallel

STATIONS = "station_id,name,lon,lat,elevation_m\n530680,二连浩特,111.97,43.65,964.7\n"


@pytest.fixture(scope="module")
def s3_url():
    """``s3://<a fresh bucket>/plan`` on the shared moto server, AWS variables set for the module."""
    with s3_server.bucket_url() as url:
        yield url


def test_storage_and_s3fs_take_endpoint_and_credentials_from_the_aws_variables(s3_url):
    import os

    import s3fs

    storage = Storage(s3_url)
    assert storage.endpoint == os.environ["AWS_ENDPOINT_URL"]
    storage.write_bytes("probe/a.txt", b"hello")
    assert storage.read_bytes("probe/a.txt") == b"hello"
    # s3fs alone (botocore) honours AWS_ENDPOINT_URL too, as users' own tools will
    plain = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
    assert plain.cat_file(storage.full("probe/a.txt")) == b"hello"
    assert storage.uri("probe/a.txt") == f"{s3_url}/probe/a.txt"
    assert storage.list_files("probe") == ["probe/a.txt"] and storage.list_dirs("") == ["probe"]


def test_landing_validation_and_status_on_s3(s3_url, tmp_path):
    storage = Storage(s3_url)
    cat = load_catalog()
    f = tmp_path / "stations.csv"
    f.write_text(STATIONS, encoding="utf-8")
    first = ingest(storage, cat, "17", "17-01", [f])
    again = ingest(storage, cat, "17", "17-01", [f])
    assert first.created and not again.created and len(versions(storage, "17-01")) == 1
    assert storage.uri(first.delivery.prefix).startswith(f"{s3_url}/landing/17-01/")
    report = accept_delivery(storage, cat, latest_delivery(storage, "17-01"))
    assert report["state"] == "validated", report["failures"]
    manifest = storage.read_json(report["standard"])
    assert storage.exists(manifest["parts"]["stations"]["path"])
    st = plan_status(storage, cat)
    assert next(d for d in st["datasets"] if d["id"] == "17-01")["state"] == "validated"


# -- atomic and create-only writes --------------------------------------------------------------

def test_an_exception_inside_a_write_leaves_no_object_on_s3(s3_url):
    storage = Storage(s3_url)
    with pytest.raises(RuntimeError, match="disk on fire"), storage.writer("atomic/partial.bin") as fh:
        fh.write(b"x" * 1000)
        raise RuntimeError("disk on fire")
    assert not storage.exists("atomic/partial.bin")
    # a 12 MB streamed write (multipart) that fails half-way leaves nothing either
    with pytest.raises(RuntimeError), storage.writer("atomic/big.bin") as fh:
        fh.write(b"y" * (12 << 20))
        raise RuntimeError("network gone")
    assert not storage.exists("atomic/big.bin")
    with storage.writer("atomic/whole.bin") as fh:
        fh.write(b"z" * (12 << 20))
    assert storage.read_bytes("atomic/whole.bin") == b"z" * (12 << 20)


def test_writers_in_threads_sharing_one_storage_all_land_on_s3(s3_url):
    """fsspec's transaction belongs to the filesystem instance: without the writer lock, threads
    sharing a Storage lost each other's objects (3 of 4 in a trial)."""
    storage = Storage(s3_url)
    barrier = threading.Barrier(6)

    def put(i):
        barrier.wait()
        with storage.writer(f"threads/{i}.txt") as fh:
            fh.write(f"object {i}".encode())

    threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert [storage.read_bytes(f"threads/{i}.txt") for i in range(6)] == [f"object {i}".encode() for i in range(6)]


def test_write_once_on_s3_refuses_a_different_second_write_even_in_a_race(s3_url):
    storage = Storage(s3_url)
    assert storage.create("once/a.json", b"first") is True
    assert storage.create("once/a.json", b"second") is False
    storage.write_once("once/a.json", b"first")  # identical bytes are accepted
    with pytest.raises(StorageError, match="immutable"):
        storage.write_once("once/a.json", b"second")
    assert storage.read_bytes("once/a.json") == b"first"
    # 8 threads, each with its own client, race to create one object with different bytes
    barrier = threading.Barrier(8)
    outcomes: dict[int, str] = {}

    def race(i):
        s = Storage(s3_url)
        barrier.wait()
        try:
            s.write_once("once/race.txt", f"writer {i}".encode())
            outcomes[i] = "written"
        except StorageError:
            outcomes[i] = "refused"

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [i for i, o in outcomes.items() if o == "written"]
    assert len(winners) == 1 and storage.read_bytes("once/race.txt") == f"writer {winners[0]}".encode()


# -- concurrent deliveries on S3 ------------------------------------------------------------------

_parallel = run_in_parallel


def test_parallel_deliveries_to_one_dataset_on_s3(s3_url):
    cat = load_catalog()
    root = f"{s3_url}/parallel"
    different = _parallel(5, lambda i: ingest_bytes(Storage(root), cat, "17", "17-01",
                                                    {"stations.csv": f"station_id\n{530680 + i}\n".encode()}))
    storage = Storage(root)
    assert all(r.created for r in different)
    assert sorted(versions(storage, "17-01")) == sorted(r.delivery.version for r in different)
    for r in different:  # every version keeps its manifest and its own bytes
        d = load_delivery(storage, "17-01", r.delivery.version)
        assert d.delivery_hash == r.delivery.delivery_hash
        assert storage.sha256(d.file_path("stations.csv")) == d.files[0].sha256
    same = _parallel(5, lambda i: ingest_bytes(Storage(root), cat, "17", "17-01", {"stations.csv": b"station_id\n1\n"}))
    assert sum(r.created for r in same) == 1 and len({r.delivery.version for r in same}) == 1
    assert len(versions(storage, "17-01")) == 6


# -- the drop-zone watcher on S3 -------------------------------------------------------------------

def test_watcher_registers_an_s3_upload_once_it_stopped_growing(s3_url):
    storage = Storage(f"{s3_url}/watch")
    cat = load_catalog()
    drop = "landing/meteorology/17-01/stations.csv"
    assert cat.department(17).slug == "meteorology"
    storage.write_bytes(drop, STATIONS[:40].encode())  # an upload tool writes the object …
    t0 = datetime.now(UTC)
    first = scan(storage, cat, quiet_seconds=60, now=t0)
    assert not first.registered and first.waiting[0]["file"] == "stations.csv"
    storage.write_bytes(drop, STATIONS.encode())  # … and replaces it with the whole file (new ETag)
    second = scan(storage, cat, quiet_seconds=60, now=t0 + timedelta(seconds=30))
    assert not second.registered and second.waiting
    third = scan(storage, cat, quiet_seconds=60, now=datetime.now(UTC) + timedelta(seconds=61))
    assert [r.dataset_id for r in third.new_deliveries] == ["17-01"]
    d = latest_delivery(storage, "17-01")
    assert storage.read_bytes(d.file_path("stations.csv")) == STATIONS.encode() and d.source == "landing/meteorology/17-01/"
    assert storage.exists(drop)  # the dropped file stays where it was
    again = scan(storage, cat, quiet_seconds=60, now=datetime.now(UTC) + timedelta(seconds=120))
    assert not again.registered and again.unchanged == 1 and len(versions(storage, "17-01")) == 1
    ledger = storage.list_files("watch/ledger/meteorology/17-01")
    assert len(ledger) == 1 and json.loads(storage.read_bytes(ledger[0]))["version"] == d.version


# -- the main job on S3 -----------------------------------------------------------------------------

@pytest.mark.flow
def test_the_main_job_runs_on_s3(prefect_server, s3_url, tmp_path):
    from flows.plan import plan

    url = f"{s3_url}/main-job"
    small_kit(tmp_path / "kit")
    summary = plan(kit_dir=str(tmp_path / "kit"), storage_url=url, config_overrides={"t02": {"grid.cell_size_m": 1000}})
    assert set(summary["topics"]) == {"t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13", "t14", "t15"}
    assert {t["state"] for t in summary["topics"].values()} == {"done"}
    storage = Storage(url)
    st = plan_status(storage, load_catalog())
    topics = {t["code"]: t for t in st["topics"] if t["implemented"]}
    assert {t["state"] for t in topics.values()} == {"done"} and set(topics) == set(summary["topics"])
    for code, t in topics.items():
        assert t["report"].startswith(f"{url}/products/{code}/")
        assert t["outputs"] and all(o["uri"].startswith(f"{url}/products/{code}/") for o in t["outputs"])
        manifest = storage.read_json(f"products/{code}/current.json")
        assert storage.exists(manifest["manifest"])
        for f in storage.read_json(manifest["manifest"])["files"]:
            assert storage.exists(f["path"]), f["path"]
    assert not [d for d in st["datasets"] if d["state"] == "failed"]
