"""T11 生态环境保护研究 — ecological security pattern, control units, function zones, environment quality."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 11


@flow(name="t11-eco-environment", flow_run_name=topic_run_namer(TOPIC_SEQ, "生态环境"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t11_eco_environment(storage_url: str | None = None, wait_seconds: float | None = None,
                        config_overrides: dict[str, Any] | None = None,
                        wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Build the ecological security pattern, the 三线一单 control units, the graded function zones,
    the soil-pollution and water-ecology zones and the environment-quality summaries; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t11_eco_environment.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
