"""The drop-zone watcher flow: register what departments uploaded with their own tools, then validate it.

Schedule it (e.g. every 5 minutes) — each run scans once and returns; files still being uploaded are
registered by a later run, once they have not changed for ``quiet_seconds``. Each run also validates
every delivery still without a validation report (landed by ``erenhot ingest`` for instance); its
deployment is triggered by ``erenhot.dataset.delivered`` too, so that happens within a minute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow
from prefect.logging import get_run_logger

from erenhot import settings
from erenhot.catalog import load_catalog
from erenhot.landing import pending_validation
from erenhot.storage import Storage
from erenhot.watcher import DEFAULT_QUIET_SECONDS
from flows.plan import BOUNDARY_DATASET
from flows.topic_flow import PLAN_TZ
from tasks.alerts import raise_overdue_alerts
from tasks.deliveries import flush_event_outbox, publish_readiness_board, validate_delivery
from tasks.watch import scan_landing


def watch_run_name() -> str:
    return f"落地区扫描 drop zone scan · {datetime.now(PLAN_TZ):%Y-%m-%d %H:%M}"


@flow(name="erenhot-watch-landing", flow_run_name=watch_run_name,
      description="Register deliveries uploaded to landing/<department>/<dataset>/ and run their GX suites")
def watch_landing(storage_url: str | None = None, quiet_seconds: float = DEFAULT_QUIET_SECONDS) -> dict[str, Any]:
    """Scan the drop zone once, land settled folders as deliveries, validate every unvalidated newest delivery.

    Args:
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        quiet_seconds: a file is registered once it has not changed for this long.

    Returns:
        ``{"registered": [...], "waiting": [...], "problems": [...], "unchanged": n, "validated": {id: state}}``.
    """
    logger = get_run_logger()
    url = storage_url or settings.storage_url()
    flush_event_outbox(url)
    scan = scan_landing(url, quiet_seconds)
    registered = {r["dataset_id"] for r in scan["registered"] if r["created"]}
    pending = set(pending_validation(Storage(url), [d.id for d in load_catalog().datasets]))
    new = sorted(registered | pending, key=lambda i: (i != BOUNDARY_DATASET, i))  # the boundary first: others are checked against it
    states: dict[str, str] = {}
    if new and new[0] == BOUNDARY_DATASET:
        states[BOUNDARY_DATASET] = validate_delivery(url, BOUNDARY_DATASET)["state"]
    futures = {i: validate_delivery.submit(url, i) for i in new if i != BOUNDARY_DATASET}
    for i, f in futures.items():
        states[i] = f.result()["state"]
    if scan["problems"]:
        logger.warning("%d drop folder(s) not registered; see the landing-watch artifact", len(scan["problems"]))
    overdue = raise_overdue_alerts(url)  # once per dataset and due date, not every window
    publish_readiness_board(url)
    return {**scan, "validated": states, "overdue_alerts": [a["dataset"] for a in overdue]}
