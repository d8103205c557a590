"""T04 国土空间规划战略定位与总体布局研究 — 三区三线, 规划分区, indicator table, spatial structure and layout
(reads T02, T03, T05, T09, T11, T12 and T14 layers)."""

from __future__ import annotations

from typing import Any

from prefect import State, flow

from flows.topic_flow import run_topic_flow, topic_description, topic_run_namer

TOPIC_SEQ = 4


@flow(name="t04-strategy-layout", flow_run_name=topic_run_namer(TOPIC_SEQ, "战略定位与总体布局"),
      description=topic_description(TOPIC_SEQ), log_prints=True)
def t04_strategy_layout(storage_url: str | None = None, wait_seconds: float | None = None,
                        config_overrides: dict[str, Any] | None = None,
                        wait_for_upstream: bool = True) -> dict[str, Any] | State:
    """Draft the three control lines (生态保护红线, 永久基本农田, 城镇开发边界) without overlaps, the 生态/农业/城镇
    spaces, the 规划分区, the 约束性/预期性 indicator table, the 国土空间结构 and the 总体布局; publish them.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        wait_seconds: how long to wait for missing required inputs (default ``ERENHOT_INPUT_WAIT_SECONDS``).
        config_overrides: dotted config paths → values of ``t04_strategy_layout.yaml``.
        wait_for_upstream: defer (complete as 'Deferred') while an upstream topic's inputs changed since
            its current version; its layer events start this topic again (the plan passes False).
    """
    return run_topic_flow(TOPIC_SEQ, storage_url, wait_seconds, config_overrides, wait_for_upstream)
