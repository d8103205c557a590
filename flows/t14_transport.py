"""T14 二连浩特市综合交通体系研究 — road graph, travel-time surfaces from the hubs, isochrones, coverage,
near-term projects (its ``t14.travel_time_city`` is T03's 区位)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 14


@flow(name="t14-transport", flow_run_name=topic_run_namer(TOPIC_SEQ, "综合交通体系"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t14_transport(storage_url: str | None = None, wait_seconds: float | None = None,
                  config_overrides: dict[str, Any] | None = None,
                  wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Build the road graph, the travel-time surfaces to the city centre, border port, railway station
    and airport, the isochrones and the population they cover, network density and the near-term
    project list; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t14_transport.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
