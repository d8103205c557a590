"""A real ``prefect server start`` for the tests, once per test run, on 127.0.0.1.

Prefect's own ``prefect_test_harness`` runs a bare API (``PREFECT__SERVER_EPHEMERAL``): it has no
trigger, scheduler or automation services, so deployment triggers could never fire there. This
server is the one users run (SQLite in a temporary ``PREFECT_HOME``, analytics and UI off), so the
flow tests and the trigger tests see the same behaviour as production.

:func:`start` starts it (or returns the running one); :func:`stop` is registered at exit. The
server's log is kept in ``<home>/server.log`` and printed when start-up fails.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

OFFLINE = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false"}


@dataclass
class PrefectServer:
    api_url: str
    home: Path
    process: subprocess.Popen

    def client_env(self, **extra: str) -> dict[str, str]:
        """The environment of a process that talks to this server (``PREFECT_API_URL`` set)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env.update(OFFLINE, PREFECT_API_URL=self.api_url, **extra)
        return env


_server: PrefectServer | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start(timeout: float = 120.0) -> PrefectServer:
    """Start the server (once) and wait until ``/api/health`` answers; raises RuntimeError with its log."""
    global _server
    if _server is not None and _server.process.poll() is None:
        return _server
    home = Path(tempfile.mkdtemp(prefix="erenhot-prefect-server-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(OFFLINE, PREFECT_HOME=str(home),
               PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
               PREFECT_SERVER_UI_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING")
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
         "--analytics-off", "--no-ui"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home, start_new_session=True)
    api_url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout
    while not _healthy(api_url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            text = (home / "server.log").read_text("utf-8", "replace")[-4000:]
            raise RuntimeError(f"prefect server did not start on {api_url}:\n{text}")
        time.sleep(0.5)
    _server = PrefectServer(api_url, home, process)
    atexit.register(stop)
    return _server


def stop() -> None:
    global _server
    if _server is None:
        return
    proc = _server.process
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    shutil.rmtree(_server.home, ignore_errors=True)
    _server = None
