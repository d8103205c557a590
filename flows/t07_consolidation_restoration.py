"""T07 国土综合整治与生态保护修复研究 — restoration priority, graded protection, consolidation zones,
mine remediation, key projects and the new restoration area (reads T02, T11 and T09's published layers)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 7


@flow(name="t07-consolidation-restoration", flow_run_name=topic_run_namer(TOPIC_SEQ, "整治修复"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t07_consolidation_restoration(storage_url: str | None = None, wait_seconds: float | None = None,
                                  config_overrides: dict[str, Any] | None = None,
                                  wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Grade restoration priority (生态保护重要性 × 退化程度) and protection, draw the 国土综合整治分区,
    list the mine remediation, consolidation and key projects and decompose the 2025/2035 new
    restoration area by township; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t07_consolidation_restoration.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
