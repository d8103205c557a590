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


def render_tree(node: dict[str, Any], prefix: str = "", expanded: set[tuple[str, str]] | None = None) -> list[str]:
    """Plain-text tree lines of :func:`layer_lineage` (layers first line with run key and time).

    Args:
        node: a tree of :func:`layer_lineage` or :func:`run_lineage`.
        prefix: indentation of the children (internal; leave empty for a root).
        expanded: when a set is given, the inputs of each upstream run ``(topic, run_key)`` are listed
            once; later layers of the same run get one "同上 as above" line instead (every layer of a
            run shares the run's inputs, so nothing is lost). ``None`` (default) expands every layer.
    """
    lines = [] if prefix else [f"{node['id']} {node['name_zh']} — {node['topic'].upper()} run {node['run_key']}"
                               f" · {node['published_at']}"]
    items = node.get("inputs", [])
    for i, child in enumerate(items):
        last = i == len(items) - 1
        branch, cont = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if "run_key" in child:
            lines.append(f"{prefix}{branch}{child['id']} {child['name_zh']} — {child['topic'].upper()} run "
                         f"{child['run_key']} · {child['published_at']}")
            run = (child["topic"], child["run_key"])
            if expanded is not None and run in expanded and child.get("inputs"):
                lines.append(f"{prefix}{cont}└─ … 同上 inputs of {run[0].upper()} run {run[1]} as listed above")
                continue
            if expanded is not None:
                expanded.add(run)
            lines += render_tree(child, prefix + cont, expanded)
        elif "missing" in child:
            lines.append(f"{prefix}{branch}{child['id']} {child['name_zh']} — {child['missing']}")
        else:
            who = f" · {child['delivered_by']}" if child.get("delivered_by") else ""
            lines.append(f"{prefix}{branch}{child['id']} {child['name_zh']} — {child['department']} delivery "
                         f"{child['version']}{who}")
    return lines


def run_lineage(storage: Storage, catalog: Catalog, topic_code: str, run_key: str,
                inputs_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The lineage tree of a topic run, before (or after) its manifest is written.

    A run's report is rendered before the run is committed, so its own inputs are taken from
    ``inputs_rows`` (the rows of :meth:`erenhot.topics.inputs.ResolvedInputs.sources`, also stored as
    the manifest's ``inputs``): rows with ``state == "published"`` are upstream layers whose ``version``
    is the producing run key and are expanded with :func:`layer_lineage`; every other row is a dataset
    delivery.

    Args:
        storage: the storage root holding ``products/<topic>/<run_key>/manifest.json`` of upstream runs.
        catalog: the catalog (names of the topic and of the layers).
        topic_code: the topic of the run, e.g. ``"t03"``.
        run_key: the run key of the run (``products/<topic>/<run_key>/``).
        inputs_rows: dicts with ``id``, ``name_zh``, ``state``, ``version`` and, for datasets,
            ``department`` and ``delivered_by``.

    Returns:
        A root node of the shape of :func:`layer_lineage` —
        ``{"id": topic_code, "name_zh", "topic", "run_key", "published_at": "", "uri": "", "sha256": "",
        "inputs": [...]}`` — whose inputs are dataset nodes, layer nodes (recursive) or, for an upstream
        layer whose producing run cannot be read, ``{"id", "name_zh", "missing": reason, "inputs": []}``.

    Raises:
        KeyError: ``topic_code`` is not a catalog topic. An unreadable upstream run does not raise (it
        becomes a ``missing`` node); storage errors propagate.
    """
    topic = catalog.topic(topic_code)
    node: dict[str, Any] = {"id": topic.code, "name_zh": topic.name_zh, "topic": topic.code, "run_key": run_key,
                            "published_at": "", "uri": "", "sha256": "", "inputs": []}
    for row in inputs_rows:
        if row.get("state") == "published":
            try:
                if not row.get("version"):
                    raise LineageError(f"{row['id']}: no producing run key recorded")
                node["inputs"].append(layer_lineage(storage, catalog, row["id"], row["version"]))
            except LineageError as exc:
                node["inputs"].append({"id": row["id"], "name_zh": row.get("name_zh", ""), "missing": str(exc), "inputs": []})
        else:
            node["inputs"].append({"id": row["id"], "name_zh": row.get("name_zh", ""), "department": row.get("department", ""),
                                   "version": row.get("version", ""), "delivered_by": row.get("delivered_by", "")})
    return node


def run_lineage_lines(storage: Storage, catalog: Catalog, topic_code: str, run_key: str,
                      inputs_rows: list[dict[str, Any]]) -> list[str]:
    """Plain-text tree lines of :func:`run_lineage` for a topic report (数据溯源 Lineage).

    The first line names the run (``T03 国土空间开发适宜性评价 — run <key> (this run)``); below it every
    dataset delivery with its version and every upstream layer with the run key that produced it,
    recursively down to the deliveries of the upstream runs. The inputs of an upstream run are listed
    once; further layers of the same run refer to them ("同上 as above").

    Args and errors: as :func:`run_lineage` (``KeyError`` for an unknown topic).
    """
    tree = run_lineage(storage, catalog, topic_code, run_key, inputs_rows)
    head = f"{topic_code.upper()} {tree['name_zh']} — run {run_key} (本次运行 this run)"
    return [head] + render_tree(tree, prefix="", expanded=set())[1:]
