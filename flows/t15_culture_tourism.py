"""T15 二连浩特市文化与旅游发展研究 — resource inventory with grade scores, least network times between
resources, tourism corridors (least-time routes on T14's roads) and near-term projects (its
``t15.cultural_tourism_resources`` and ``t15.tourism_network`` are read by topic 8)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 15


@flow(name="t15-culture-tourism", flow_run_name=topic_run_namer(TOPIC_SEQ, "文化与旅游发展"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t15_culture_tourism(storage_url: str | None = None, wait_seconds: float | None = None,
                        config_overrides: dict[str, Any] | None = None,
                        wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Inventory the cultural and tourism resources (06-03, 06-06.heritage, 01-32, 01-07) with grade
    scores, compute the least network times between them and to the hubs on T14's road network, trace
    the tourism corridors and list the near-term projects of 06-04; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t15_culture_tourism.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
