"""T13 农牧业现代化发展格局与乡村牧区建设研究 — agricultural and pastoral modernisation (reads T03's suitability)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 13


@flow(name="t13-agri-modernisation", flow_run_name=topic_run_namer(TOPIC_SEQ, "农牧业"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t13_agri_modernisation(storage_url: str | None = None, wait_seconds: float | None = None,
                           config_overrides: dict[str, Any] | None = None,
                           wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """草畜平衡, grassland and cropland suitability grades, 农牧业综合区划, production space and 嘎查 layout.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t13_agri_modernisation.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
