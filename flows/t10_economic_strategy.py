"""T10 二连浩特市经济社会发展战略与区域协同发展研究 — GDP series and projections, economic density, major projects."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 10


@flow(name="t10-economic-strategy", flow_run_name=topic_run_namer(TOPIC_SEQ, "经济社会发展战略"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t10_economic_strategy(storage_url: str | None = None, wait_seconds: float | None = None,
                          config_overrides: dict[str, Any] | None = None,
                          wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Tabulate the yearbook GDP series, project GDP to 2025/2035 by several methods against the 十四五
    target, map the economic density (万元/km², dasymetric on land use) and locate the major projects.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t10_economic_strategy.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
