"""T02 资源环境承载能力评价 — resource and environment carrying capacity (2020 双评价 guideline)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 2


@flow(name="t02-carrying-capacity", flow_run_name=topic_run_namer(TOPIC_SEQ, "承载能力"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t02_carrying_capacity(storage_url: str | None = None, wait_seconds: float | None = None,
                          config_overrides: dict[str, Any] | None = None,
                          wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Evaluate carrying capacity on the common grid and publish its layers, tables, maps and report.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values, e.g. ``{"grid.cell_size_m": 300}``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
