"""The plan's status read from the storage alone (delivery manifests, validation reports, product
manifests and run records), so it works with or without a Prefect server.

Dataset states: ``missing`` (nothing delivered), ``delivered`` (newest delivery not validated yet),
``validated``, ``failed`` (newest delivery failed; it waits in quarantine). Topic states: ``done``
(published products intact, built from the inputs as they are now, and the last run succeeded),
``out of date`` (published products intact, but an input changed since — a trigger, the nightly plan
or ``erenhot run`` recomputes it; also while the topic waits for an upstream topic), ``failed``,
``waiting`` (implemented, a required input is missing), ``not-run``, ``not implemented yet``.
"""

from __future__ import annotations

from typing import Any

from erenhot.catalog import Catalog
from erenhot.landing import latest_delivery, latest_validated, validation_report
from erenhot.products import current_manifest, last_run, manifest_intact
from erenhot.readiness import check_readiness, inputs_changed
from erenhot.storage import Storage


def dataset_status(storage: Storage, catalog: Catalog, dataset_id: str) -> dict[str, Any]:
    ds = catalog.dataset(dataset_id)
    latest = latest_delivery(storage, ds.id)
    entry: dict[str, Any] = {"id": ds.id, "name_zh": ds.name_zh, "department_seq": ds.department_seq,
                             "seed_item": ds.seed_item, "state": "missing", "version": None,
                             "validated_version": None, "failures": []}
    if latest is None:
        return entry
    report = validation_report(storage, latest)
    entry["version"] = latest.version
    entry["delivered_at"] = latest.delivered_at
    entry["files"] = [f.name for f in latest.files]
    entry["state"] = report["state"] if report else "delivered"
    if report and report["state"] == "failed":
        entry["failures"] = report.get("failures", [])
        entry["report"] = f"validation/{ds.id}/{latest.version}.json"
    good = latest_validated(storage, ds.id) if entry["state"] != "validated" else latest
    entry["validated_version"] = good.version if good else None
    return entry


def topic_status(storage: Storage, catalog: Catalog, seq: int) -> dict[str, Any]:
    topic = catalog.topic(seq)
    entry: dict[str, Any] = {"seq": topic.seq, "code": topic.code, "name_zh": topic.name_zh,
                             "implemented": topic.implemented, "state": "not-run", "run_key": None,
                             "outputs": [], "message": ""}
    if not topic.implemented:
        entry["message"] = "not implemented yet"
        return entry
    run = last_run(storage, topic.code)
    manifest = current_manifest(storage, topic.code)
    if manifest is not None and manifest_intact(storage, manifest):
        entry["run_key"] = manifest["run_key"]
        entry["published_at"] = manifest["published_at"]
        entry["outputs"] = [{"id": o["id"], "uri": o["uri"], "kind": o["kind"]} for o in manifest["outputs"]]
        entry["report"] = next((f["uri"] for f in manifest["files"] if f["name"].endswith("report.html")), None)
    if run is not None and run["state"] == "failed":
        entry["state"], entry["message"] = "failed", run.get("message", "")
    elif entry["outputs"]:
        readiness = check_readiness(storage, catalog, topic)
        if not readiness.missing_required and inputs_changed(manifest, readiness):
            entry["state"] = "out of date"
            entry["message"] = (run.get("message", "") if run is not None and run["state"] == "waiting" else
                                "inputs changed since this version; a trigger, the nightly plan or `erenhot run` recomputes it")
        else:
            entry["state"] = "done"
    else:
        readiness = check_readiness(storage, catalog, topic)
        if readiness.missing_required:
            entry["state"] = "waiting"
            entry["message"] = "missing: " + ", ".join(r["input"] for r in readiness.missing_required)
    return entry


def plan_status(storage: Storage, catalog: Catalog) -> dict[str, Any]:
    """``{"storage", "datasets": [...], "topics": [...]}`` for every catalog dataset and topic."""
    return {
        "storage": storage.url,
        "datasets": [dataset_status(storage, catalog, d.id) for d in catalog.datasets],
        "topics": [topic_status(storage, catalog, t.seq) for t in catalog.topics],
    }
