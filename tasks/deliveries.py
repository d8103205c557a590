"""Tasks of the landing zone: ingest kit deliveries, validate deliveries, flush queued events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.logging import get_run_logger

from erenhot.acceptance import accept_delivery
from erenhot.board import board_table_rows, department_board
from erenhot.catalog import load_catalog
from erenhot.landing import ingest, latest_delivery
from erenhot.receipts import receipt_for
from erenhot.storage import Storage
from tasks import events


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    raw = "-".join(parts).lower()
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "-") else "-" for ch in raw).strip("-")


@task(name="flush-event-outbox", retries=2, retry_delay_seconds=2)
def flush_event_outbox(storage_url: str) -> int:
    """Emit the events queued by CLI calls made without a Prefect server."""
    return events.flush_outbox(Storage(storage_url))


@task(name="ingest-delivery", task_run_name="ingest {dataset_id}", retries=2, retry_delay_seconds=2)
def ingest_delivery(storage_url: str, department: str, dataset_id: str, paths: list[str], delivered_by: str) -> dict[str, Any]:
    """Land one delivery (immutable, checksummed) and emit ``erenhot.dataset.delivered``."""
    storage = Storage(storage_url)
    catalog = load_catalog()
    result = ingest(storage, catalog, department, dataset_id, [Path(p) for p in paths], delivered_by=delivered_by)
    d = result.delivery
    if result.created:
        ds = catalog.dataset(d.dataset_id)
        events.emit(storage, "erenhot.dataset.delivered", events.dataset_resource(ds.id, ds.name_zh, d.department_seq, d.version),
                    {"files": [f.name for f in d.files], "delivery_hash": d.delivery_hash})
    return {"dataset_id": d.dataset_id, "version": d.version, "created": result.created}


@task(name="validate-delivery", task_run_name="validate {dataset_id}", retries=1, retry_delay_seconds=2)
def validate_delivery(storage_url: str, dataset_id: str, force: bool = False) -> dict[str, Any]:
    """Run the GX suites of the newest delivery of ``dataset_id``; standardise it when it passes.

    Publishes a table artifact ``gx-<dataset>`` with every check, and emits
    ``erenhot.dataset.validated`` or ``erenhot.dataset.rejected``.
    """
    logger = get_run_logger()
    storage = Storage(storage_url)
    catalog = load_catalog()
    delivery = latest_delivery(storage, dataset_id)
    if delivery is None:
        return {"dataset_id": dataset_id, "state": "missing"}
    before = storage.exists(f"validation/{dataset_id}/{delivery.version}.json")
    report = accept_delivery(storage, catalog, delivery, force=force)
    if not before or force:
        rows = [{"file": c.get("file", ""), "check": c.get("rule") or c["expectation"], "column": c.get("column") or "",
                 "result": "✔" if c["success"] else ("✘" if c["severity"] == "critical" else "⚠"),
                 "unexpected": c.get("unexpected_count") if c.get("unexpected_count") is not None else "",
                 "examples": str(c.get("examples") or c.get("error") or "")[:160]} for c in report["checks"]]
        create_table_artifact(table=rows, key=artifact_key("gx", dataset_id),
                              description=f"GX · {report['department']} · {dataset_id} {report['dataset_name_zh']} · "
                                          f"{delivery.version}: {report['state']} ({report['summary']})")
        ds = catalog.dataset(dataset_id)
        kind = "validated" if report["state"] == "validated" else "rejected"
        events.emit(storage, f"erenhot.dataset.{kind}", events.dataset_resource(ds.id, ds.name_zh, delivery.department_seq,
                    delivery.version), {"summary": report["summary"], "failures": report["failures"][:20]})
    if report["state"] == "failed":
        for line in report["failures"]:
            logger.error(line)
        create_markdown_artifact(
            key=artifact_key("receipt", dataset_id), markdown=receipt_for(storage, catalog, dataset_id, delivery.version) or "",
            description=f"数据验收回执 receipt · {dataset_id} {delivery.version}: not accepted, kept in quarantine")
    elif before and not force:
        logger.info("%s %s: checked before (%s); not run again", dataset_id, delivery.version, report["summary"])
    else:
        logger.info("%s %s: %s", dataset_id, delivery.version, report["summary"])
    return {"dataset_id": dataset_id, "version": delivery.version, "state": report["state"],
            "summary": report["summary"], "failures": report["failures"]}


@task(name="publish-readiness-board")
def publish_readiness_board(storage_url: str) -> None:
    """Table artifact ``readiness-board``: for each of the 22 departments what the seed asks, what
    arrived, passed, failed and is missing, and which implemented topics it blocks."""
    storage = Storage(storage_url)
    create_table_artifact(table=board_table_rows(department_board(storage, load_catalog())), key="readiness-board",
                          description="资料收集进度 Readiness of the 22 departments against the seed")
