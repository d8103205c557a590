"""T03 国土空间开发适宜性评价 — territorial development suitability (reads T02's published layers)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 3


@flow(name="t03-suitability", flow_run_name=topic_run_namer(TOPIC_SEQ, "适宜性"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t03_suitability(storage_url: str | None = None, wait_seconds: float | None = None,
                    config_overrides: dict[str, Any] | None = None,
                    wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Evaluate agricultural (incl. grazing) and urban suitability, 承载规模 and conflicts; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t03_suitability.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
