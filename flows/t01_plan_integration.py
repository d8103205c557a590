"""T01 二连浩特市现行各类国土空间规划一体化评估 — integrated evaluation of the current plans (reads deliveries only)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 1


@flow(name="t01-plan-integration", flow_run_name=topic_run_namer(TOPIC_SEQ, "多规一体化评估"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t01_plan_integration(storage_url: str | None = None, wait_seconds: float | None = None,
                         config_overrides: dict[str, Any] | None = None,
                         wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Overlay the current plans with each other and with the 三调 (多规差异 by the configured conflict
    rules, areas by township), review their implementation (planned against actual construction land)
    and evaluate their indicators against the present values; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t01_plan_integration.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version (T01 has no upstream topic; kept for the common flow signature).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
