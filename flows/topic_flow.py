"""What every research-topic flow does, in order: wait for inputs → evaluate → publish.

The topic modules (``t02_carrying_capacity``, ``t03_suitability``) are thin ``@flow`` definitions
that call :func:`run_topic_flow` with their catalog number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import State
from prefect.states import Completed, Failed

from erenhot import settings
from erenhot.catalog import load_catalog
from tasks.topics import ensure_topic_lock, evaluate_topic, publish_artifacts, upstream_changes, wait_for_inputs

PLAN_TZ = ZoneInfo("Asia/Shanghai")


def topic_run_namer(topic_seq: int, short: str):
    """Flow-run name like ``T02 承载能力 · 2026-11-29`` (date in Asia/Shanghai)."""
    def name() -> str:
        return f"T{topic_seq:02d} {short} · {datetime.now(PLAN_TZ):%Y-%m-%d}"
    return name


def topic_description(topic_seq: int) -> str:
    t = load_catalog().topic(topic_seq)
    return f"T{t.seq:02d} {t.name_zh} — {t.name_en}"


def topic_overrides(topic_code: str, explicit: dict[str, Any] | None) -> dict[str, Any]:
    """Configuration overrides of a run: ``ERENHOT_CONFIG_OVERRIDES[topic_code]`` under the flow's own
    ``config_overrides`` (dotted path → value; the explicit one wins). Both enter the run key."""
    return {**settings.config_overrides().get(topic_code, {}), **(explicit or {})}


def run_topic_flow(topic_seq: int, storage_url: str | None, wait_seconds: float | None,
                   config_overrides: dict[str, Any] | None, wait_for_upstream: bool = True) -> dict[str, Any] | State:
    topic = load_catalog().topic(topic_seq)
    url = storage_url or settings.storage_url()
    wait = settings.input_wait_seconds() if wait_seconds is None else wait_seconds
    readiness = wait_for_inputs(url, topic.seq, wait)
    if readiness.get("missing_message"):
        return Failed(message=readiness["missing_message"])  # the run fails naming what is missing
    if wait_for_upstream:
        stale = upstream_changes(url, topic.seq)
        if stale:
            return Completed(name="Deferred", message=stale)
    lock = ensure_topic_lock(topic.code)  # one evaluation of a topic at a time, across plan and deployments
    result = evaluate_topic.with_options(tags={lock})(url, topic.code, readiness, topic_overrides(topic.code, config_overrides))
    publish_artifacts(url, result)
    return {"topic": topic.code, "run_key": result["run_key"], "skipped": result["skipped"],
            "outputs": [{"id": o["id"], "uri": o["uri"]} for o in result["outputs"]],
            "report": result.get("report")}
