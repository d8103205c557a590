"""Task raising the overdue-data alerts (逾期未交): one ``erenhot.dataset.overdue`` event per dataset and due date."""

from __future__ import annotations

import logging
from typing import Any

from prefect import task
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger

from erenhot.catalog import load_catalog
from erenhot.overdue import new_overdue_alerts
from erenhot.storage import Storage
from tasks import events

OVERDUE_EVENT = "erenhot.dataset.overdue"


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:  # called as .fn() outside a run
        return logging.getLogger(__name__)


@task(name="raise-overdue-alerts", task_run_name="overdue data alerts")
def raise_overdue_alerts(storage_url: str) -> list[dict[str, Any]]:
    """Alert once per needed dataset that is past its department's due date and has no delivery.

    Calls :func:`erenhot.overdue.new_overdue_alerts` (today in Asia/Shanghai, due dates from
    ``erenhot/config/due_dates.yaml`` or ``$ERENHOT_DUE_DATES``), which records each alert create-only
    under ``alerts/overdue/<dataset>/<due>.json``; for each new one it logs a warning and emits
    ``erenhot.dataset.overdue`` (resource ``erenhot.dataset.<id>``, label ``erenhot.version`` =
    ``due-<date>``; payload: due, days_overdue, department, topics, implemented_topics) — or queues
    it in the outbox when no Prefect API is reachable. Returns the new alert rows (empty when nothing
    is newly overdue). No retries: a retry would find the alerts recorded and emit nothing. Outside a
    run and without a Prefect API the event waits in the outbox (see :mod:`tasks.events`).

    Raises:
        erenhot.overdue.DueDateError: the due-date file is malformed (names the file and the key).
    """
    logger = _logger()
    storage = Storage(storage_url)
    fresh = new_overdue_alerts(storage, load_catalog())
    for row in fresh:
        resource = events.dataset_resource(row["dataset"], row["name_zh"], row["department_seq"], f"due-{row['due']}")
        payload = {k: row[k] for k in ("due", "days_overdue", "department", "department_seq", "topics",
                                       "implemented_topics", "alert")}
        how = events.emit(storage, OVERDUE_EVENT, resource, payload)  # Prefect's emit_event logs, never raises
        needs = "、".join(row["implemented_topics"]) or "、".join(row["topics"])
        logger.warning("逾期未交 overdue: %s %s (部门 %d %s) due %s, %d day(s) overdue, needed by %s (event %s)",
                       row["dataset"], row["name_zh"], row["department_seq"], row["department"], row["due"],
                       row["days_overdue"], needs, how)
    return fresh
