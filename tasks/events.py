"""Custom Prefect events of the plan (``erenhot.dataset.*``, ``erenhot.layer.published``,
``erenhot.topic.resume``).

Resource ids: ``erenhot.dataset.<dataset_id>`` and ``erenhot.layer.<layer_id>``, with labels
``erenhot.department`` / ``erenhot.topic`` and ``erenhot.version`` that deployment triggers match on.
Outside a flow run and with no ``PREFECT_API_URL`` (the embedded default has no long-lived server),
events go to an outbox in the storage (``events/outbox/``) and are emitted by the next flow run, so
none is lost and a CLI call does not start a temporary server just to say one thing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from erenhot.storage import Storage

OUTBOX = "events/outbox"


def dataset_resource(dataset_id: str, name_zh: str, department_seq: int, version: str) -> dict[str, str]:
    return {"prefect.resource.id": f"erenhot.dataset.{dataset_id}", "prefect.resource.name": f"{dataset_id} {name_zh}",
            "erenhot.dataset": dataset_id, "erenhot.department": str(department_seq), "erenhot.version": version}


def layer_resource(layer_id: str, name_zh: str, topic_seq: int, run_key: str) -> dict[str, str]:
    return {"prefect.resource.id": f"erenhot.layer.{layer_id}", "prefect.resource.name": f"{layer_id} {name_zh}",
            "erenhot.layer": layer_id, "erenhot.topic": str(topic_seq), "erenhot.version": run_key}


def api_url() -> str | None:
    """The Prefect API this process talks to: ``PREFECT_API_URL`` from the environment or the active
    Prefect profile (``prefect config set PREFECT_API_URL=…``), or ``None`` for the embedded default."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def topic_resource(topic_code: str, name_zh: str, seq: int) -> dict[str, str]:
    return {"prefect.resource.id": f"erenhot.topic.{topic_code}", "prefect.resource.name": f"T{seq:02d} {name_zh}",
            "erenhot.topic": str(seq)}


def _in_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext
    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def emit(storage: Storage, event: str, resource: dict[str, str], payload: dict[str, Any] | None = None) -> str:
    """Emit now when a Prefect API is reachable in this process, else queue in the outbox.

    Returns ``"emitted"`` or ``"queued"``.
    """
    if _in_run() or api_url():
        from prefect.events import emit_event
        emit_event(event=event, resource=resource, payload=payload or {})
        return "emitted"
    storage.write_json(f"{OUTBOX}/{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.json",
                       {"event": event, "resource": resource, "payload": payload or {},
                        "occurred": datetime.now(UTC).isoformat()})
    return "queued"


def flush_outbox(storage: Storage) -> int:
    """Emit every queued event (oldest first) and move it to ``events/sent/``; returns the count."""
    from prefect.events import emit_event

    sent = 0
    for rel in storage.list_files(OUTBOX):
        rec = storage.read_json(rel)
        emit_event(event=rec["event"], resource=rec["resource"], payload=rec.get("payload", {}),
                   occurred=datetime.fromisoformat(rec["occurred"]))
        storage.write_json(rel.replace(OUTBOX, "events/sent", 1), rec)
        storage.fs.rm(storage.full(rel))
        sent += 1
    return sent
