"""Lineage of a published layer: every delivery and upstream layer version it was built from.

Prefect's open-source server has no asset lineage view; the product manifests hold what is needed:
each topic run's manifest lists its inputs (dataset delivery versions, upstream layers with the run
key that produced them), so the tree is read from the storage alone, recursively.
"""

from __future__ import annotations

from typing import Any

from erenhot.catalog import Catalog
from erenhot.products import current_manifest
from erenhot.storage import Storage


class LineageError(LookupError):
    """The layer is unknown or not published."""


def _manifest(storage: Storage, topic_code: str, run_key: str | None) -> dict[str, Any] | None:
    if run_key is None:
        return current_manifest(storage, topic_code)
    path = f"products/{topic_code}/{run_key}/manifest.json"
    return storage.read_json(path) if storage.exists(path) else None


def layer_lineage(storage: Storage, catalog: Catalog, layer_id: str, run_key: str | None = None,
                  _seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The lineage tree of ``layer_id`` (current version, or the one made by ``run_key``).

    Returns:
        ``{"id", "name_zh", "topic", "run_key", "published_at", "uri", "sha256", "inputs": [...]}``
        where each input is a dataset ``{"id", "name_zh", "department", "version", "delivered_by"}`` or
        a layer node of the same shape as the root (recursively).

    Raises:
        LineageError: unknown layer id, or no published version.
    """
    try:
        producer, spec = catalog.layer(layer_id)
    except KeyError as exc:
        raise LineageError(f"unknown layer {layer_id!r}") from exc
    manifest = _manifest(storage, producer.code, run_key)
    if manifest is None:
        raise LineageError(f"{layer_id} {spec.name_zh} is not published" + (f" by run {run_key}" if run_key else ""))
    out = next((o for o in manifest["outputs"] if o["id"] == layer_id), None)
    node: dict[str, Any] = {"id": layer_id, "name_zh": spec.name_zh, "topic": producer.code,
                            "run_key": manifest["run_key"], "published_at": manifest.get("published_at", ""),
                            "uri": out["uri"] if out else "", "sha256": out["sha256"] if out else "", "inputs": []}
    for row in manifest.get("inputs", []):
        if row.get("state") == "published":  # an upstream layer: its version is the producing run key
            if row["id"] in _seen:
                continue
            try:
                node["inputs"].append(layer_lineage(storage, catalog, row["id"], row["version"], _seen | {layer_id}))
            except LineageError as exc:
                node["inputs"].append({"id": row["id"], "name_zh": row.get("name_zh", ""), "missing": str(exc), "inputs": []})
        else:
            node["inputs"].append({"id": row["id"], "name_zh": row.get("name_zh", ""), "department": row.get("department", ""),
                                   "version": row.get("version", ""), "delivered_by": row.get("delivered_by", "")})
    return node


def render_tree(node: dict[str, Any], prefix: str = "") -> list[str]:
    """Plain-text tree lines of :func:`layer_lineage` (layers first line with run key and time)."""
    lines = [] if prefix else [f"{node['id']} {node['name_zh']} — {node['topic'].upper()} run {node['run_key']}"
                               f" · {node['published_at']}"]
    items = node.get("inputs", [])
    for i, child in enumerate(items):
        last = i == len(items) - 1
        branch, cont = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if "run_key" in child:
            lines.append(f"{prefix}{branch}{child['id']} {child['name_zh']} — {child['topic'].upper()} run "
                         f"{child['run_key']} · {child['published_at']}")
            lines += render_tree(child, prefix + cont)
        elif "missing" in child:
            lines.append(f"{prefix}{branch}{child['id']} {child['name_zh']} — {child['missing']}")
        else:
            who = f" · {child['delivered_by']}" if child.get("delivered_by") else ""
            lines.append(f"{prefix}{branch}{child['id']} {child['name_zh']} — {child['department']} delivery "
                         f"{child['version']}{who}")
    return lines
