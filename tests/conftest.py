"""Shared fixtures: analytics off, paths to ../shared, one Prefect test server per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _key, _value in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                     "GX_ANALYTICS_ENABLED": "false", "MPLBACKEND": "Agg"}.items():
    os.environ.setdefault(_key, _value)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def real_data_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "real"
    if not path.is_dir():
        pytest.skip("../shared/data/real is absent")
    return path


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server (SQLite) for the whole test run; flow tests request it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture()
def storage(tmp_path):
    from erenhot.storage import Storage

    return Storage(str(tmp_path / "store"))
