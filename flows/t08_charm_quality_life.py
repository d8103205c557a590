"""T08 国土空间魅力特色发展与高品质生活塑造研究 — life-circle coverage of public services, 魅力特色区,
the recreation network and the 城市品质提升指标 (reads T02's grid, T14's roads and population, T15, T11)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 8


@flow(name="t08-charm-quality-life", flow_run_name=topic_run_namer(TOPIC_SEQ, "魅力特色与高品质生活"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t08_charm_quality_life(storage_url: str | None = None, wait_seconds: float | None = None,
                           config_overrides: dict[str, Any] | None = None,
                           wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Evaluate the life-circle coverage, per-capita provision and gaps of education, health, culture,
    sports and elderly-care facilities by township, the 魅力特色区 and recreation network, and the
    城市品质提升指标; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t08_charm_quality_life.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
