"""Shared fixtures: analytics off, paths to ../shared, one real Prefect server per test run."""

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
    """One real ``prefect server start`` (SQLite, 127.0.0.1) for the whole test run, with its trigger
    and scheduler services (see tests/prefect_server.py); flow tests request it. Yields the server."""
    import prefect.context
    import prefect.settings

    import prefect_server as server_module

    server = server_module.start()
    with prefect.settings.temporary_settings(updates={prefect.settings.PREFECT_API_URL: server.api_url}):
        with prefect.context._temporary_global_settings_context(prefect.context.get_settings_context()):
            yield server


@pytest.fixture()
def storage(tmp_path):
    from erenhot.storage import Storage

    return Storage(str(tmp_path / "store"))


@pytest.fixture(scope="session")
def published(tmp_path_factory):
    """The small kit through T02 (250 m, wider halo), T14 and T03 with the composers: ``(storage, catalog,
    {layer id: array})`` — the whole-array layers the tiled and Dask paths are compared with."""
    from tiled_helpers import publish

    return publish(tmp_path_factory.mktemp("tiled"))
