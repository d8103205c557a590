"""T05 二连浩特市新型城镇化发展与城镇体系研究 — new-type urbanisation and urban system (reads T03's
urban suitability and carrying scale)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 5


@flow(name="t05-urbanisation", flow_run_name=topic_run_namer(TOPIC_SEQ, "新型城镇化"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t05_urbanisation(storage_url: str | None = None, wait_seconds: float | None = None,
                     config_overrides: dict[str, Any] | None = None,
                     wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Project the resident population to 2025/2035 by several methods (capped by 以水定人), the 常住 and
    户籍 urbanisation rates, the GB 50137 construction-land demand, a candidate 城镇开发边界 and the
    urban system; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t05_urbanisation.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
