"""T06 乡村振兴与嘎查布局优化研究 — 嘎查 classification (集聚提升/城郊融合/特色保护/搬迁撤并/暂不分类),
2025/2035 layouts and 宅基地 control scale (reads T02, T11 and T14 layers)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 6


@flow(name="t06-village-layout", flow_run_name=topic_run_namer(TOPIC_SEQ, "嘎查布局"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t06_village_layout(storage_url: str | None = None, wait_seconds: float | None = None,
                       config_overrides: dict[str, Any] | None = None,
                       wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Classify every 嘎查 by the rule table of ``t06_village_layout.yaml`` (population trend, travel time
    to the city, ecological sources / 极重要 / hazard overlap, heritage lists) for the present, 2025 and
    2035; lay out the retained 嘎查; compute the 宅基地 control scale; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t06_village_layout.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
