"""Parallel deliveries never overwrite each other; identical ones end as one version (local and S3).

Threads share nothing but the storage; the process tests start real Python processes that wait at a
barrier file and then ingest at the same moment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from erenhot.catalog import load_catalog
from erenhot.landing import (
    claim_path,
    ingest,
    ingest_bytes,
    latest_delivery,
    load_delivery,
    versions,
)
from erenhot.storage import Storage, StorageError, sha256_bytes
import s3_server
from kit_helpers import run_in_parallel

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def s3_url():
    """``s3://<a fresh bucket>/plan`` on the shared moto server, AWS variables set for the module."""
    with s3_server.bucket_url() as url:
        yield url


@pytest.fixture(params=["local", "s3"])
def root_url(request, tmp_path):
    """A fresh storage root: a local folder, or a prefix in the module's S3 bucket."""
    if request.param == "local":
        return str(tmp_path / "store")
    return f"{request.getfixturevalue('s3_url')}/{tmp_path.name}"


_parallel = run_in_parallel


def _csv(i) -> dict[str, bytes]:
    return {"stations.csv": f"station_id,name\n{530680 + i},站{i}\n".encode()}


# -- storage primitives -----------------------------------------------------------------------------

def test_an_exception_inside_a_local_write_leaves_no_partial_file(tmp_path):
    storage = Storage(str(tmp_path / "store"))
    storage.write_bytes("a/obj.bin", b"old")
    with pytest.raises(RuntimeError), storage.writer("a/obj.bin") as fh:
        fh.write(b"new but half")
        raise RuntimeError("killed")
    assert storage.read_bytes("a/obj.bin") == b"old"
    with pytest.raises(RuntimeError), storage.writer("a/new.bin") as fh:
        fh.write(b"half")
        raise RuntimeError("killed")
    assert not storage.exists("a/new.bin")
    assert storage.list_files("a") == ["a/obj.bin"]  # no temporary left behind


def test_a_failing_local_byte_write_leaves_the_old_object(tmp_path, monkeypatch):
    storage = Storage(str(tmp_path / "store"))
    storage.write_bytes("b/obj.json", b"{}")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        storage.write_bytes("b/obj.json", b'{"half": ')
    with pytest.raises(OSError, match="No space"):
        storage.write_once("b/other.json", b"{}")
    monkeypatch.undo()
    assert storage.read_bytes("b/obj.json") == b"{}" and not storage.exists("b/other.json")
    assert storage.list_files("b") == ["b/obj.json"]


def test_write_once_refuses_a_second_different_write_when_threads_race(root_url):
    outcomes = _parallel(8, lambda i: _try_write_once(Storage(root_url), "race/x.txt", f"writer {i}".encode()))
    assert outcomes.count("written") == 1
    winner = outcomes.index("written")
    assert Storage(root_url).read_bytes("race/x.txt") == f"writer {winner}".encode()
    same = _parallel(6, lambda i: _try_write_once(Storage(root_url), "race/same.txt", b"identical"))
    assert same == ["written"] * 6  # identical bytes are accepted by every writer


def _try_write_once(storage, rel, data):
    try:
        storage.write_once(rel, data)
        return "written"
    except StorageError:
        return "refused"


# -- deliveries in threads ---------------------------------------------------------------------------

def test_parallel_different_deliveries_each_keep_their_version_and_manifest(root_url):
    cat = load_catalog()
    results = _parallel(6, lambda i: ingest_bytes(Storage(root_url), cat, "17", "17-01", _csv(i)))
    storage = Storage(root_url)
    assert all(r.created for r in results)
    assert sorted(versions(storage, "17-01")) == sorted(r.delivery.version for r in results)
    for i, r in enumerate(results):
        d = load_delivery(storage, "17-01", r.delivery.version)
        assert d == r.delivery
        assert storage.read_bytes(d.file_path("stations.csv")) == _csv(i)["stations.csv"]


def test_parallel_identical_deliveries_end_as_one_version(root_url):
    cat = load_catalog()
    results = _parallel(6, lambda i: ingest_bytes(Storage(root_url), cat, "17", "17-01", _csv(0),
                                                  delivered_by=f"sender {i}"))
    assert sum(r.created for r in results) == 1
    assert len({r.delivery.version for r in results}) == 1
    assert versions(Storage(root_url), "17-01") == [results[0].delivery.version]


def test_identical_and_different_deliveries_mixed(root_url):
    cat = load_catalog()
    storage = Storage(root_url)
    first = ingest_bytes(storage, cat, "17", "17-01", _csv(0)).delivery
    # while two senders send the bytes of the newest again and two others send new bytes
    payloads = [_csv(0), _csv(0), _csv(1), _csv(2)]
    results = _parallel(4, lambda i: ingest_bytes(Storage(root_url), cat, "17", "17-01", payloads[i]))
    assert [r.created for r in results[:2]] == [False, False] and results[0].delivery == first
    assert all(r.created for r in results[2:])
    assert len(versions(storage, "17-01")) == 3


# -- deliveries in separate processes ----------------------------------------------------------------

WORKER = r"""
import json, sys, time
from pathlib import Path
from erenhot.catalog import load_catalog
from erenhot.landing import ingest_bytes
from erenhot.storage import Storage
url, go, payload = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
cat = load_catalog()
storage = Storage(url)
while not go.exists():
    time.sleep(0.005)
r = ingest_bytes(storage, cat, "17", "17-01", {"stations.csv": payload.encode()})
print(json.dumps({"version": r.delivery.version, "created": r.created}))
"""


def _processes(url: str, payloads: list[str], tmp_path: Path) -> list[dict]:
    go = tmp_path / f"go-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(go), p], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=REPO) for p in payloads]
    time.sleep(2.5)  # let every worker import and reach the barrier
    go.touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr[-2000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_two_processes_delivering_at_once(root_url, tmp_path):
    storage = Storage(root_url)
    different = _processes(root_url, ["station_id\n1\n", "station_id\n2\n"], tmp_path)
    assert all(r["created"] for r in different) and len({r["version"] for r in different}) == 2
    assert sorted(versions(storage, "17-01")) == sorted(r["version"] for r in different)
    newest = latest_delivery(storage, "17-01")
    identical = _processes(root_url, ["station_id\n3\n", "station_id\n3\n", "station_id\n3\n"], tmp_path)
    assert sum(r["created"] for r in identical) == 1 and len({r["version"] for r in identical}) == 1
    assert len(versions(storage, "17-01")) == 3 and latest_delivery(storage, "17-01").version != newest.version


# -- recovery and rules ------------------------------------------------------------------------------

def test_a_sender_that_died_after_its_claim_is_completed_by_the_next_identical_send(tmp_path):
    storage = Storage(str(tmp_path / "store"))
    cat = load_catalog()
    data = _csv(7)["stations.csv"]
    dhash = sha256_bytes(f"stations.csv:{sha256_bytes(data)}".encode())
    # the first sender claimed the version and wrote part of it, then its process was killed
    version = f"20260102T030405000006Z-{dhash[:12]}"
    storage.write_json(claim_path("17-01", None, dhash), {"dataset_id": "17-01", "predecessor": None,
                       "delivery_hash": dhash, "version": version, "delivered_at": "2026-01-02T03:04:05.000006+00:00"})
    assert versions(storage, "17-01") == []  # no manifest: invisible
    res = ingest_bytes(storage, cat, "17", "17-01", {"stations.csv": data})
    assert res.created and res.delivery.version == version and versions(storage, "17-01") == [version]
    assert storage.read_bytes(res.delivery.file_path("stations.csv")) == data


def test_claims_do_not_block_resending_an_older_delivery(tmp_path):
    storage = Storage(str(tmp_path / "store"))
    cat = load_catalog()
    a = ingest_bytes(storage, cat, "17", "17-01", _csv(1)).delivery
    b = ingest_bytes(storage, cat, "17", "17-01", _csv(2)).delivery
    back = ingest_bytes(storage, cat, "17", "17-01", _csv(1))
    assert back.created and back.delivery.delivery_hash == a.delivery_hash
    assert versions(storage, "17-01") == [a.version, b.version, back.delivery.version]
    assert not any(v.startswith("_") for v in versions(storage, "17-01"))


def test_versions_stay_in_delivery_order_when_the_clock_goes_back(tmp_path):
    from datetime import UTC, datetime

    storage = Storage(str(tmp_path / "store"))
    cat = load_catalog()
    late = ingest_bytes(storage, cat, "17", "17-01", _csv(1), now=datetime(2030, 1, 1, tzinfo=UTC)).delivery
    skewed = ingest_bytes(storage, cat, "17", "17-01", _csv(2), now=datetime(2026, 1, 1, tzinfo=UTC)).delivery
    assert skewed.version > late.version and latest_delivery(storage, "17-01") == skewed


def test_bytes_and_paths_are_the_same_delivery(tmp_path):
    storage = Storage(str(tmp_path / "store"))
    cat = load_catalog()
    f = tmp_path / "stations.csv"
    f.write_bytes(_csv(3)["stations.csv"])
    by_bytes = ingest(storage, cat, "17", "17-01", [("stations.csv", f.read_bytes())])
    by_path = ingest(storage, cat, "17", "17-01", [f])
    assert by_bytes.created and not by_path.created and by_path.delivery == by_bytes.delivery


def test_a_storage_travels_to_another_process_by_its_url(root_url):
    import pickle

    storage = Storage(root_url)
    copy = pickle.loads(pickle.dumps(storage))
    assert copy.url == storage.url and copy.root == storage.root
    copy.write_bytes("p/x", b"1")
    assert storage.read_bytes("p/x") == b"1"
