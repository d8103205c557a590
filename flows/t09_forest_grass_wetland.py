"""T09 林地草地湿地适宜性评价与保护恢复研究 — forest, grassland and wetland suitability, protection and
restoration (reads T02's published layers and, when published, T03's 牧业适宜性)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 9


@flow(name="t09-forest-grass-wetland", flow_run_name=topic_run_namer(TOPIC_SEQ, "林草湿"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t09_forest_grass_wetland(storage_url: str | None = None, wait_seconds: float | None = None,
                             config_overrides: dict[str, Any] | None = None,
                             wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Evaluate 宜林/宜草/宜湿 suitability, stocking rates, pastoral pattern, degradation and 保有量 targets; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t09_forest_grass_wetland.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
