"""Versioned, crash-safe publication of a topic's products (layers, tables, maps, report).

A topic run writes everything under ``products/<topic>/<run_key>/`` and then a small
``products/<topic>/current.json`` manifest, last. Readers follow ``current.json``, so a run killed
half-way leaves the previous version intact and readable. The run key is a content hash of the
run's inputs (delivery hashes and upstream layer sha256s, :func:`erenhot.readiness.input_content`),
its configuration digest and its code version: an unchanged key means nothing new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from erenhot.storage import Storage

CODE_VERSION = "0.4.0"  # bump when a change alters products for unchanged inputs and config


def run_key(topic_code: str, input_versions: dict[str, str], config_digest: str, code_version: str = CODE_VERSION) -> str:
    """Content key of a topic run: sha256 over sorted input versions, config digest and code version (first 16 hex)."""
    payload = json.dumps({"topic": topic_code, "inputs": dict(sorted(input_versions.items())),
                          "config": config_digest, "code": code_version}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass
class Publication:
    """Collects the files of one topic run and makes them current in one step.

    Args:
        storage: the storage root.
        topic_code: ``t02`` …
        key: the run key (:func:`run_key`).
    """

    storage: Storage
    topic_code: str
    key: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"products/{self.topic_code}/{self.key}"

    def put(self, name: str, data: bytes, *, output_id: str | None = None, kind: str = "file",
            title: str = "") -> dict[str, Any]:
        """Write one product file (``name`` relative to the run folder); record it as an output when ``output_id``."""
        rel = f"{self.prefix}/{name}"
        sha = self.storage.write_bytes(rel, data)
        entry = {"name": name, "path": rel, "uri": self.storage.uri(rel), "sha256": sha, "bytes": len(data), "kind": kind}
        self.files.append(entry)
        if output_id:
            self.outputs.append({"id": output_id, "title": title, **entry})
        return entry

    def commit(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Write the run's manifest, then ``current.json`` last; returns the manifest."""
        manifest = {"topic": self.topic_code, "run_key": self.key,
                    "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "outputs": self.outputs, "files": self.files, **meta}
        self.storage.write_json(f"{self.prefix}/manifest.json", manifest)
        make_current(self.storage, manifest)
        return manifest


def make_current(storage: Storage, manifest: dict[str, Any]) -> None:
    """Point ``products/<topic>/current.json`` at a version's manifest (the one small write that publishes)."""
    topic_code, key = manifest["topic"], manifest["run_key"]
    storage.write_json(f"products/{topic_code}/current.json",
                       {"topic": topic_code, "run_key": key, "manifest": f"products/{topic_code}/{key}/manifest.json",
                        "published_at": manifest["published_at"]})


def intact_version(storage: Storage, topic_code: str, key: str) -> dict[str, Any] | None:
    """The manifest of an earlier published version with run key ``key`` whose files all still match
    their hashes, or ``None``. A version folder is never rewritten: when inputs come back to content
    seen before (a reverted delivery), that version is made current again instead of recomputed."""
    path = f"products/{topic_code}/{key}/manifest.json"
    if not storage.exists(path):
        return None
    manifest = storage.read_json(path)
    return manifest if manifest_intact(storage, manifest, verify_hashes=True) else None


def current_manifest(storage: Storage, topic_code: str) -> dict[str, Any] | None:
    """The published manifest of a topic, or ``None`` (also when its files are gone or altered)."""
    path = f"products/{topic_code}/current.json"
    if not storage.exists(path):
        return None
    pointer = storage.read_json(path)
    if not storage.exists(pointer["manifest"]):
        return None
    return storage.read_json(pointer["manifest"])


def manifest_intact(storage: Storage, manifest: dict[str, Any], *, verify_hashes: bool = False) -> bool:
    """True when every output file of the manifest still exists (and matches its sha256 when asked)."""
    for out in manifest.get("outputs", []):
        if not storage.exists(out["path"]):
            return False
        if verify_hashes and storage.sha256(out["path"]) != out["sha256"]:
            return False
    return True


def layer_output(storage: Storage, layer_id: str) -> dict[str, Any] | None:
    """The published output entry of a layer id (``t02.eco_importance``) with its run key, or ``None``."""
    topic_code = layer_id.split(".", 1)[0]
    manifest = current_manifest(storage, topic_code)
    if manifest is None:
        return None
    for out in manifest.get("outputs", []):
        if out["id"] == layer_id:
            return {**out, "run_key": manifest["run_key"]}
    return None


def record_run(storage: Storage, topic_code: str, state: str, message: str = "", **extra: Any) -> dict[str, Any]:
    """Record the outcome of a topic run (``done`` / ``failed`` / ``skipped``) in ``runs/<topic>/latest.json``."""
    rec = {"topic": topic_code, "state": state, "message": message,
           "at": datetime.now(UTC).isoformat(timespec="seconds"), **extra}
    storage.write_json(f"runs/{topic_code}/latest.json", rec)
    return rec


def last_run(storage: Storage, topic_code: str) -> dict[str, Any] | None:
    path = f"runs/{topic_code}/latest.json"
    return storage.read_json(path) if storage.exists(path) else None
