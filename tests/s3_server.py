"""A real S3 API server for the tests: moto's server started once per test process on 127.0.0.1, with
conditional writes made atomic as on S3 (``tests/moto_atomic_server.py``; moto itself checks and stores
in two steps, so two racing ``If-None-Match: *`` PUTs could both succeed).

moto runs as a **subprocess**, not ``ThreadedMotoServer``: GDAL/pyogrio hold the GIL during their
I/O, so an in-process server thread could not answer them (see shared/design/validation-notes.md §5).
The server is shared by every test module of the run (started on first use, stopped at exit); each
test module gets its own bucket, so modules do not see each other's objects.

Use it from a test module through a module fixture::

    import s3_server

    @pytest.fixture(scope="module")
    def s3_url():
        with s3_server.bucket_url() as url:  # s3://<fresh bucket>/plan
            yield url

:func:`bucket_url` sets the variables a user would set — ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` — while the module runs and
restores them afterwards. :func:`start` returns the running server (to wire a session fixture into
conftest.py: ``return s3_server.start()``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"
ATOMIC_SERVER = Path(__file__).with_name("moto_atomic_server.py")
ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")


@dataclass
class MotoServer:
    endpoint: str
    process: subprocess.Popen

    @property
    def env(self) -> dict[str, str]:
        """The environment a user would set to reach this server."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.endpoint}

    def make_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh random name by default) and return its name."""
        import s3fs

        name = name or f"erenhot-{uuid.uuid4().hex[:12]}"
        fs = s3fs.S3FileSystem(key=ACCESS_KEY, secret=SECRET_KEY, endpoint_url=self.endpoint,
                               skip_instance_cache=True, use_listings_cache=False)
        fs.mkdir(name)
        return name

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


_server: MotoServer | None = None
_lock = threading.Lock()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(timeout: float = 30.0) -> MotoServer:
    """The test process's moto server, started on first call (moto's app with atomic conditional
    writes, ``tests/moto_atomic_server.py -H 127.0.0.1 -p PORT``)."""
    global _server
    with _lock:
        if _server is not None and _server.process.poll() is None:
            return _server
        try:
            import moto.moto_server.werkzeug_app  # noqa: F401 - moto[server]: flask, werkzeug
        except ImportError as exc:
            pytest.fail(f"moto[server] is not installed (make test installs it); the S3 tests must run: {exc}")
        last_error: Exception | None = None
        for _attempt in range(3):  # a free port can be taken between probing and binding
            port = _free_port()
            # moto's own app behind a lock for conditional writes (tests/moto_atomic_server.py)
            proc = subprocess.Popen([sys.executable, str(ATOMIC_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                    _server = MotoServer(endpoint, proc)
                    atexit.register(_server.stop)
                    return _server
                except OSError as exc:
                    last_error = exc
                    time.sleep(0.1)
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        raise RuntimeError(f"moto_server did not start on 127.0.0.1: {last_error}")


@contextlib.contextmanager
def aws_env(server: MotoServer) -> Iterator[dict[str, str]]:
    """Set the AWS variables a user would set (endpoint = ``server``); restore the old values after."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update(server.env)
    try:
        yield server.env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def bucket_url(prefix: str = "plan") -> Iterator[str]:
    """``s3://<a fresh bucket>/<prefix>`` on the shared server, with the AWS variables set meanwhile."""
    server = start()
    with aws_env(server):
        yield f"s3://{server.make_bucket()}/{prefix}"
