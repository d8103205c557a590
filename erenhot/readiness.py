"""Readiness of a topic: which of its catalog inputs are present, validated, missing.

A topic's inputs are department datasets (read from their newest *validated* delivery) and other
topics' layers (read from those topics' published ``current.json``). Everything is derived from
the catalog; nothing here is specific to one topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from erenhot.catalog import Catalog, Topic
from erenhot.landing import latest_delivery, latest_validated, validation_report
from erenhot.products import layer_output
from erenhot.storage import Storage


@dataclass
class Readiness:
    """Per-input rows plus the resolved versions a topic run uses."""

    topic_seq: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {version, standard}
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)  # layer id -> output entry

    @property
    def missing_required(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["required"] and not r["usable"]]

    @property
    def missing_optional(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["required"] and not r["usable"]]

    def to_dict(self) -> dict[str, Any]:
        return {"topic_seq": self.topic_seq, "rows": self.rows, "datasets": self.datasets, "layers": self.layers}


def input_content(readiness: dict[str, Any]) -> dict[str, str]:
    """Input id → content hash of the version a run uses — what its run key is made of.

    Datasets: the delivery's sha256 over its files (plus the sender's ``--crs`` when given, which
    changes how the bytes are read); upstream layers: the sha256 of the layer file. Keys are content,
    never paths or times: a delivery re-sent with the same bytes, or an upstream run that reproduced
    identical layers, leaves the key unchanged and the topic is skipped. (Readiness dicts written
    before the delivery hash was recorded fall back to the version id.)
    """
    out = {}
    for k, v in readiness.get("datasets", {}).items():
        content = v.get("delivery_hash") or v["version"]
        out[k] = f"{content}|crs={v['crs_override']}" if v.get("crs_override") else content
    out.update({k: v["sha256"] for k, v in readiness.get("layers", {}).items()})
    return out


def check_readiness(storage: Storage, catalog: Catalog, topic: Topic) -> Readiness:
    """Resolve every input of ``topic`` against the storage."""
    ready = Readiness(topic_seq=topic.seq)
    for inp in topic.inputs:
        if inp.dataset:
            ds = catalog.dataset(inp.dataset)
            dept = catalog.department(ds.department_seq)
            latest = latest_delivery(storage, ds.id)
            good = latest_validated(storage, ds.id)
            latest_state = "missing"
            if latest is not None:
                rep = validation_report(storage, latest)
                latest_state = rep["state"] if rep else "delivered"
            note = ""
            if good is not None and latest is not None and good.version != latest.version:
                note = f"newest delivery {latest.version} is {latest_state}; using validated {good.version}"
            row = {"input": ds.id, "kind": "dataset", "name_zh": ds.name_zh, "required": inp.required,
                   "department_seq": dept.seq, "department": dept.short_zh, "seed_item": ds.seed_item,
                   "state": "validated" if good is not None else latest_state,
                   "version": good.version if good else (latest.version if latest else ""),
                   "usable": good is not None, "note": note}
            if good is not None:
                rep = validation_report(storage, good) or {}
                ready.datasets[ds.id] = {"version": good.version, "standard": rep.get("standard"),
                                         "department_seq": dept.seq, "delivered_by": good.delivered_by,
                                         "delivery_hash": good.delivery_hash, "crs_override": good.crs_override}
        else:
            producer, spec = catalog.layer(inp.layer)
            out = layer_output(storage, inp.layer)
            row = {"input": inp.layer, "kind": "layer", "name_zh": spec.name_zh, "required": inp.required,
                   "department_seq": producer.lead_department_seq, "department": f"T{producer.seq:02d} {producer.short_zh}",
                   "seed_item": "", "state": "published" if out else "not published",
                   "version": out["run_key"] if out else "", "usable": out is not None, "note": ""}
            if out is not None:
                ready.layers[inp.layer] = out
        ready.rows.append(row)
    return ready


def missing_message(catalog: Catalog, topic: Topic, readiness: Readiness) -> str:
    """The failure message of a topic whose required inputs are missing, one line per input."""
    lines = [f"T{topic.seq:02d} {topic.name_zh} cannot run: required input(s) missing"]
    for r in readiness.missing_required:
        if r["kind"] == "dataset":
            state = {"missing": "nothing delivered", "failed": "every delivery failed validation (see erenhot status)",
                     "delivered": "delivered but not validated yet"}.get(r["state"], r["state"])
            lines.append(f"  - dataset {r['input']} {r['name_zh']} of department {r['department_seq']} "
                         f"{r['department']} (seed item {r['seed_item']}): {state}")
        else:
            lines.append(f"  - layer {r['input']} {r['name_zh']} of {r['department']}: not published yet")
    return "\n".join(lines)


def stale_upstream(storage: Storage, catalog: Catalog, topic: Topic, implemented: set[int]) -> list[dict[str, Any]]:
    """The implemented upstream topics (transitively) whose published version is out of date.

    An upstream topic is stale when the content of its inputs today (:func:`input_content`) differs
    from what its current version was built from — a delivery it reads was validated, or a layer it
    reads was republished, since — and its required inputs are all usable (so it can and will run).
    A downstream topic started by one of its own datasets should then wait: the upstream's
    ``erenhot.layer.published`` events start it again on the new layers, instead of it computing
    once on new data mixed with old upstream layers and once more afterwards.

    Args:
        topic: the downstream topic.
        implemented: seqs of the topics that have an implementation (others never publish).

    Returns:
        ``[{"topic": code, "name_zh": ..., "published": run key or "", "reason": ...}]``, upstream first;
        empty when every upstream version is current.
    """
    from erenhot.products import current_manifest

    out = []
    order = catalog.topic_order()
    for seq in sorted(catalog.upstream_topics(topic.seq, transitive=True), key=order.index):
        if seq not in implemented:
            continue
        up = catalog.topic(seq)
        readiness = check_readiness(storage, catalog, up)
        if readiness.missing_required:
            continue  # it cannot run: nothing to wait for
        manifest = current_manifest(storage, up.code)
        if manifest is None:
            out.append({"topic": up.code, "name_zh": up.name_zh, "published": "", "reason": "never published"})
            continue
        if inputs_changed(manifest, readiness):
            out.append({"topic": up.code, "name_zh": up.name_zh, "published": manifest["run_key"],
                        "reason": "its inputs changed since its current version"})
    return out


def inputs_changed(manifest: dict[str, Any], readiness: Readiness) -> bool:
    """True when the content of a topic's inputs today differs from what ``manifest`` (its current
    version) was built from — judged by the run key it would get with the same configuration."""
    from erenhot.products import run_key

    return run_key(manifest["topic"], input_content(readiness.to_dict()), manifest.get("config_digest", "")) != manifest["run_key"]
