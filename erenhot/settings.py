"""Process-wide settings of the Erenhot plan pipelines, read from the environment.

* ``ERENHOT_STORAGE_URL`` — root of every storage zone: a local path (default ``./data``) or an
  ``s3://bucket/prefix`` URL (s3fs honours ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_DEFAULT_REGION`` and ``AWS_ENDPOINT_URL``).
* ``ERENHOT_INPUT_WAIT_SECONDS`` — how long a topic waits for a missing required input before it
  fails (default 0: check once).
* ``ERENHOT_CONFIG_OVERRIDES`` — JSON object of per-topic configuration overrides applied to every
  run of this process, e.g. ``{"t02": {"grid.cell_size_m": 300}}`` for a coarse staging server;
  a flow's own ``config_overrides`` parameter wins over it. Overrides enter the run key.

Analytics of Prefect and Great Expectations are switched off here, before either is imported
anywhere in the process (``DO_NOT_TRACK=1``, ``PREFECT_SERVER_ANALYTICS_ENABLED=false``,
``GX_ANALYTICS_ENABLED=false``), so nothing tries to reach the internet.
"""

from __future__ import annotations

import json
import os
from typing import Any

ANALYTICS_OFF = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
}


def disable_analytics() -> None:
    """Set the analytics switches of Prefect and GX unless the user set them explicitly."""
    for key, value in ANALYTICS_OFF.items():
        os.environ.setdefault(key, value)


#: Prefect's default of 20 s for the ephemeral (embedded) API server to start is too short on a busy
#: shared machine; the CLI and the Makefile both wait 120 s unless the user set another value.
PREFECT_DEFAULTS = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}


disable_analytics()
for _key, _value in PREFECT_DEFAULTS.items():
    os.environ.setdefault(_key, _value)

DEFAULT_STORAGE_URL = "./data"


def storage_url() -> str:
    """The storage root: ``ERENHOT_STORAGE_URL`` or ``./data``."""
    return os.environ.get("ERENHOT_STORAGE_URL", "").strip() or DEFAULT_STORAGE_URL


def input_wait_seconds() -> float:
    """Seconds a topic waits for a missing required input (``ERENHOT_INPUT_WAIT_SECONDS``, default 0)."""
    raw = os.environ.get("ERENHOT_INPUT_WAIT_SECONDS", "0").strip() or "0"
    try:
        return max(0.0, float(raw))
    except ValueError as exc:
        raise ValueError(f"ERENHOT_INPUT_WAIT_SECONDS must be a number of seconds, got {raw!r}") from exc


def config_overrides() -> dict[str, dict[str, Any]]:
    """Per-topic configuration overrides from ``ERENHOT_CONFIG_OVERRIDES`` (JSON), ``{}`` when unset.

    Raises:
        ValueError: the variable is not a JSON object of topic code → object of dotted paths.
    """
    raw = os.environ.get("ERENHOT_CONFIG_OVERRIDES", "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ERENHOT_CONFIG_OVERRIDES is not valid JSON ({exc.msg} at {exc.pos}): {raw[:80]!r}") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in value.items()):
        raise ValueError('ERENHOT_CONFIG_OVERRIDES must map topic codes to objects, e.g. {"t02": {"grid.cell_size_m": 300}}')
    return value
