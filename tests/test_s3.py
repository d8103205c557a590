"""The storage zones on S3 through s3fs, against a real S3 API server (moto_server) on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.landing import ingest, latest_delivery, versions
from erenhot.status import plan_status
from erenhot.storage import Storage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_url():
    exe = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    port = _free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ENDPOINT_URL=endpoint)
    import s3fs
    s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True).mkdir("erenhot-test")
    yield "s3://erenhot-test/plan"
    proc.terminate()
    proc.wait(timeout=10)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_landing_validation_and_status_on_s3(s3_url, tmp_path):
    storage = Storage(s3_url)
    cat = load_catalog()
    f = tmp_path / "stations.csv"
    f.write_text("station_id,name,lon,lat,elevation_m\n530680,二连浩特,111.97,43.65,964.7\n", encoding="utf-8")
    first = ingest(storage, cat, "17", "17-01", [f])
    again = ingest(storage, cat, "17", "17-01", [f])
    assert first.created and not again.created and len(versions(storage, "17-01")) == 1
    assert storage.uri(first.delivery.prefix).startswith("s3://erenhot-test/plan/landing/17-01/")
    report = accept_delivery(storage, cat, latest_delivery(storage, "17-01"))
    assert report["state"] == "validated", report["failures"]
    manifest = storage.read_json(report["standard"])
    assert storage.exists(manifest["parts"]["stations"]["path"])
    st = plan_status(storage, cat)
    assert next(d for d in st["datasets"] if d["id"] == "17-01")["state"] == "validated"
