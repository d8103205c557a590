"""T12 二连浩特市水资源承载力评价研究 — water resources carrying capacity (reads T02's water grade)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 12


@flow(name="t12-water-carrying-capacity", flow_run_name=topic_run_namer(TOPIC_SEQ, "水资源承载力"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t12_water_carrying_capacity(storage_url: str | None = None, wait_seconds: float | None = None,
                                config_overrides: dict[str, Any] | None = None,
                                wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Evaluate the water balance, carrying status, precipitation trend, 2025/2035 demand and targets,
    以水定人/城/地, single factors and the combined water carrying capacity; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t12_water_carrying_capacity.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
