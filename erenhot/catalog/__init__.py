"""The plan catalog: departments, their 资料 (datasets) and the 研究课题 (research topics).

The catalog is data: three YAML files shipped inside this package (``departments.yaml``,
``datasets.yaml``, ``topics.yaml``), traced to the seed document "各部门责任分工及专题研究方案".
This module reads them into frozen dataclasses, validates them on load and answers the questions the
rest of the project asks (which datasets a topic needs, in which order topics run, ...).

Prefect-free and side-effect free at import time.

Typical use::

    from erenhot.catalog import load_catalog

    cat = load_catalog()
    cat.dataset("01-28").delivery["files"]      # ['geohazard.geojson']
    cat.topic("t02").inputs                     # the datasets and layers topic 2 reads
    cat.topic_order()                           # [1, 2, 3, ...] topological order of the topics
"""

from __future__ import annotations

import copy
import difflib
import functools
import graphlib
import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CATALOG_FILES",
    "Catalog",
    "CatalogError",
    "Dataset",
    "Deliverables",
    "Department",
    "LayerSpec",
    "Topic",
    "TopicInput",
    "clear_cache",
    "load_catalog",
]

#: The three YAML files of a catalog directory.
CATALOG_FILES: tuple[str, str, str] = ("departments.yaml", "datasets.yaml", "topics.yaml")

#: Allowed ``Dataset.kind`` values.
DATASET_KINDS = frozenset({"document", "vector", "raster", "table", "mixed", "other"})
#: Allowed ``LayerSpec.kind`` values.
LAYER_KINDS = frozenset({"raster", "vector", "table", "report", "map"})
#: Allowed ``delivery["geometry"]`` values (a list of them when several are accepted).
GEOMETRIES = frozenset({"polygon", "line", "point", "raster", "none"})

_NUMBERED_ID = re.compile(r"^(?P<dept>\d{2})-(?P<item>\d{2})(?P<suffix>[a-z])?$")
_CHILD_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_TOPIC_CODE = re.compile(r"^[tT]?(?P<num>\d{1,2})$")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """The catalog YAML is malformed or inconsistent (the message says where and why)."""


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    """One of the seed's 22 departments (部门), numbered as the seed numbers them (``seq`` 1–22)."""

    seq: int
    name_zh: str
    short_zh: str
    name_en: str
    slug: str
    role_zh: str
    role_en: str
    aliases_zh: tuple[str, ...] = ()
    duties_zh: tuple[str, ...] = ()
    topic_seqs: tuple[int, ...] = ()
    notes: str | None = None

    @property
    def code(self) -> str:
        """Two-digit department number used in dataset ids (``"01"`` … ``"22"``)."""
        return f"{self.seq:02d}"


@dataclass(frozen=True)
class Dataset:
    """One 资料 item of a department, or a concrete dataset added under a catch-all item.

    ``id`` is ``DD-II`` (department seq, seed item number; ``01-46a``/``01-46b`` for the seed's two
    items numbered 46) or ``<catch-all id>.<slug>`` for additions (then ``parent`` is the catch-all
    id and ``added_under_catch_all`` is true). ``delivery`` is the delivery contract of
    docs/deliveries.md (``files``, ``geometry``, ``crs``, ``fields`` …) or ``None``; treat it as
    read-only (the catalog is cached). ``used_by`` lists the topic seqs whose implemented
    computation reads the delivery.
    """

    id: str
    department_seq: int
    seed_item: str
    name_zh: str
    name_en: str
    kind: str
    formats: tuple[str, ...]
    catch_all: bool = False
    parent: str | None = None
    added_under_catch_all: bool = False
    note: str | None = None
    delivery: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    used_by: tuple[int, ...] = ()

    @property
    def is_numbered(self) -> bool:
        """True for the seed's own numbered items (not an addition under a catch-all)."""
        return self.parent is None

    @property
    def geometry(self) -> str | list[str] | None:
        """The delivery geometry (``polygon``/``line``/``point``/``raster``/``none``), if any."""
        return None if self.delivery is None else self.delivery.get("geometry")

    @property
    def is_spatial(self) -> bool:
        """True when the delivery carries geometry or a raster."""
        geom = self.geometry
        return geom is not None and geom != "none"


@dataclass(frozen=True)
class TopicInput:
    """One input of a topic: a catalog dataset (``dataset``) or another topic's layer (``layer``)."""

    dataset: str | None = None
    layer: str | None = None
    required: bool = True
    why: str = ""

    @property
    def ref(self) -> str:
        """The referenced dataset id or layer id."""
        return self.dataset if self.dataset is not None else str(self.layer)

    @property
    def is_layer(self) -> bool:
        """True when the input is another topic's output layer."""
        return self.layer is not None


@dataclass(frozen=True)
class LayerSpec:
    """An output of a topic (``id`` = ``tNN.name``): a raster, vector, table, report or map."""

    id: str
    name_zh: str
    name_en: str
    kind: str
    unit: str | None = None
    values: tuple[str, ...] = ()
    map_zh: str | None = None
    note: str | None = None

    @property
    def topic_code(self) -> str:
        """The producing topic's code (``t02`` for ``t02.slope``)."""
        return self.id.split(".", 1)[0]


@dataclass(frozen=True)
class Deliverables:
    """The seed's 专题成果 of a topic: 研究报告, each 专题图件, 基础数据集 (``None`` if absent)."""

    report_zh: str | None
    maps_zh: tuple[str, ...]
    dataset_zh: str | None


@dataclass(frozen=True)
class Topic:
    """One of the seed's 15 research topics (研究课题), with its inputs and output layers."""

    seq: int
    code: str
    slug: str
    name_zh: str
    short_zh: str
    name_en: str
    lead_department_seq: int
    cooperating_department_seqs: tuple[int, ...]
    cooperating_others_zh: tuple[str, ...]
    lead_department_text_zh: str
    research_points_zh: tuple[str, ...]
    deliverables: Deliverables
    implemented: bool
    inputs: tuple[TopicInput, ...]
    outputs: tuple[LayerSpec, ...]
    listed_under_department_seq: int | None = None
    undertaken_by_zh: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Display label, e.g. ``T02 资源环境承载能力评价``."""
        return f"T{self.seq:02d} {self.short_zh}"

    def dataset_inputs(self, required: bool | None = None) -> tuple[TopicInput, ...]:
        """The dataset inputs, optionally only the required (True) or optional (False) ones."""
        return tuple(
            i for i in self.inputs if i.dataset is not None and (required is None or i.required == required)
        )

    def layer_inputs(self, required: bool | None = None) -> tuple[TopicInput, ...]:
        """The layer inputs (other topics' outputs), optionally filtered by ``required``."""
        return tuple(
            i for i in self.inputs if i.layer is not None and (required is None or i.required == required)
        )

    def output(self, layer_id: str) -> LayerSpec:
        """The output layer spec ``layer_id`` (``KeyError`` if this topic does not produce it)."""
        for spec in self.outputs:
            if spec.id == layer_id:
                return spec
        raise KeyError(
            f"topic {self.code} has no output {layer_id!r}"
            + _suggest(layer_id, [o.id for o in self.outputs])
        )


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------


class Catalog:
    """The validated catalog: ``departments``, ``datasets`` and ``topics`` (tuples, seed order).

    Build it with :func:`load_catalog` (from YAML) or :meth:`from_documents` (from parsed YAML);
    both validate and raise :class:`CatalogError` on any inconsistency.
    """

    def __init__(
        self,
        departments: Iterable[Department],
        datasets: Iterable[Dataset],
        topics: Iterable[Topic],
        *,
        validate: bool = True,
    ) -> None:
        self.departments: tuple[Department, ...] = tuple(departments)
        self.datasets: tuple[Dataset, ...] = tuple(datasets)
        self.topics: tuple[Topic, ...] = tuple(topics)
        self._dept_by_seq = {d.seq: d for d in self.departments}
        self._ds_by_id = {d.id: d for d in self.datasets}
        self._topic_by_seq = {t.seq: t for t in self.topics}
        self._topic_by_code = {t.code: t for t in self.topics}
        self._topic_by_slug = {t.slug: t for t in self.topics}
        self._layers: dict[str, tuple[Topic, LayerSpec]] = {}
        for t in self.topics:
            for spec in t.outputs:
                self._layers.setdefault(spec.id, (t, spec))
        if validate:
            self.validate()

    @classmethod
    def from_documents(
        cls,
        departments_doc: Any,
        datasets_doc: Any,
        topics_doc: Any,
        *,
        source: str = "<memory>",
    ) -> Catalog:
        """Build and validate a catalog from the parsed YAML documents of the three files."""
        deps = [
            _parse_department(raw, _where(source, "departments.yaml", "department", raw, "seq", i))
            for i, raw in enumerate(_entries(departments_doc, "departments", f"{source}/departments.yaml"))
        ]
        dss = [
            _parse_dataset(raw, _where(source, "datasets.yaml", "dataset", raw, "id", i))
            for i, raw in enumerate(_entries(datasets_doc, "datasets", f"{source}/datasets.yaml"))
        ]
        tps = [
            _parse_topic(raw, _where(source, "topics.yaml", "topic", raw, "seq", i))
            for i, raw in enumerate(_entries(topics_doc, "topics", f"{source}/topics.yaml"))
        ]
        return cls(deps, dss, tps)

    def __repr__(self) -> str:
        return (
            f"Catalog({len(self.departments)} departments, {len(self.numbered_items())} numbered items "
            f"+ {len(self.datasets) - len(self.numbered_items())} added datasets, {len(self.topics)} topics)"
        )

    # -- look-ups ------------------------------------------------------------------------------

    def department(self, seq: int | str) -> Department:
        """The department numbered ``seq`` (1–22; ``"01"`` and ``"1"`` accepted)."""
        try:
            key = int(seq)
        except (TypeError, ValueError):
            key = None
        if key in self._dept_by_seq:
            return self._dept_by_seq[key]
        for d in self.departments:  # also accept a slug or a Chinese name/alias
            if seq in (d.slug, d.name_zh, d.short_zh) or seq in d.aliases_zh:
                return d
        raise KeyError(
            f"unknown department {seq!r}: departments are numbered 1–{len(self.departments)}"
        )

    def dataset(self, dataset_id: str) -> Dataset:
        """The dataset ``dataset_id`` (``KeyError`` naming close ids when unknown)."""
        try:
            return self._ds_by_id[dataset_id]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown dataset id {dataset_id!r}" + _suggest(str(dataset_id), list(self._ds_by_id))
            ) from None

    def topic(self, seq_or_code: int | str) -> Topic:
        """The topic by seq (``2``, ``"2"``, ``"02"``), code (``"t02"``, ``"T2"``) or slug."""
        if isinstance(seq_or_code, int) and not isinstance(seq_or_code, bool):
            if seq_or_code in self._topic_by_seq:
                return self._topic_by_seq[seq_or_code]
        elif isinstance(seq_or_code, str):
            key = seq_or_code.strip()
            m = _TOPIC_CODE.match(key)
            if m and int(m.group("num")) in self._topic_by_seq:
                return self._topic_by_seq[int(m.group("num"))]
            if key in self._topic_by_slug:
                return self._topic_by_slug[key]
        raise KeyError(
            f"unknown topic {seq_or_code!r}: use a seq 1–{len(self.topics)}, a code like 't02' or a slug"
            + _suggest(str(seq_or_code), list(self._topic_by_code) + list(self._topic_by_slug))
        )

    def layer(self, layer_id: str) -> tuple[Topic, LayerSpec]:
        """The producing topic and the spec of output layer ``layer_id`` (e.g. ``t02.slope``)."""
        try:
            return self._layers[layer_id]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown layer {layer_id!r}" + _suggest(str(layer_id), list(self._layers))
            ) from None

    def numbered_items(self) -> tuple[Dataset, ...]:
        """The seed's own numbered 资料 items (155), without the additions under catch-alls."""
        return tuple(d for d in self.datasets if d.parent is None)

    def datasets_of(self, department_seq: int) -> tuple[Dataset, ...]:
        """All datasets of a department, in catalog order."""
        seq = self.department(department_seq).seq
        return tuple(d for d in self.datasets if d.department_seq == seq)

    def children_of(self, dataset_id: str) -> tuple[Dataset, ...]:
        """Datasets added under the catch-all ``dataset_id``."""
        self.dataset(dataset_id)
        return tuple(d for d in self.datasets if d.parent == dataset_id)

    def delivery_datasets(self) -> tuple[Dataset, ...]:
        """Datasets with a delivery contract (docs/deliveries.md)."""
        return tuple(d for d in self.datasets if d.delivery is not None)

    # -- the topic graph -----------------------------------------------------------------------

    def topic_edges(self) -> list[tuple[int, int, str]]:
        """Edges ``(producer seq, consumer seq, layer id)``, one per layer input, consumer order."""
        edges: list[tuple[int, int, str]] = []
        for t in self.topics:
            for inp in t.inputs:
                if inp.layer is not None and inp.layer in self._layers:
                    edges.append((self._layers[inp.layer][0].seq, t.seq, inp.layer))
        return edges

    def topic_order(self) -> list[int]:
        """Topic seqs in topological order (producers first; ties broken by the lower seq).

        Raises :class:`CatalogError` naming the cycle when the topic graph has one.
        """
        sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
        for t in self.topics:
            sorter.add(t.seq)
        for src, dst, _ in self.topic_edges():
            sorter.add(dst, src)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            raise CatalogError(self._describe_cycle(list(exc.args[1]))) from None
        order: list[int] = []
        heap: list[int] = []
        while sorter.is_active():
            for node in sorter.get_ready():
                heapq.heappush(heap, node)
            node = heapq.heappop(heap)
            order.append(node)
            sorter.done(node)
        return order

    def _describe_cycle(self, cycle: list[int]) -> str:
        """A message naming the topics and layers of a cycle found by graphlib."""
        # graphlib reports [a, b, ..., a] with each node an immediate predecessor (producer) of the next.
        nodes = list(cycle)
        edges = {(s, d): [] for s, d, _ in self.topic_edges()}
        for s, d, layer in self.topic_edges():
            edges[(s, d)].append(layer)
        path = " -> ".join(f"t{n:02d}" for n in nodes)
        via = "; ".join(
            f"t{a:02d} -> t{b:02d} via {', '.join(edges.get((a, b), ['?']))}" for a, b in zip(nodes, nodes[1:])
        )
        return f"topic graph has a cycle: {path} ({via})"

    def upstream_topics(self, seq: int | str, transitive: bool = False) -> list[int]:
        """Topics whose layers topic ``seq`` reads (all ancestors when ``transitive``), sorted."""
        start = self.topic(seq).seq
        preds: dict[int, set[int]] = {t.seq: set() for t in self.topics}
        for src, dst, _ in self.topic_edges():
            preds[dst].add(src)
        return _walk(start, preds, transitive)

    def downstream_topics(self, seq: int | str, transitive: bool = True) -> list[int]:
        """Topics that read topic ``seq``'s layers (all descendants when ``transitive``), sorted."""
        start = self.topic(seq).seq
        succs: dict[int, set[int]] = {t.seq: set() for t in self.topics}
        for src, dst, _ in self.topic_edges():
            succs[src].add(dst)
        return _walk(start, succs, transitive)

    def consumers_of_dataset(self, dataset_id: str) -> list[int]:
        """Seqs of the topics that list ``dataset_id`` among their inputs, sorted."""
        self.dataset(dataset_id)
        return sorted({t.seq for t in self.topics for i in t.inputs if i.dataset == dataset_id})

    # -- exports -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The whole catalog as plain JSON-serialisable data (lists and dicts, fresh copies)."""
        return {
            "departments": [
                {
                    "seq": d.seq,
                    "code": d.code,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "short_zh": d.short_zh,
                    "slug": d.slug,
                    "role_zh": d.role_zh,
                    "role_en": d.role_en,
                    "aliases_zh": list(d.aliases_zh),
                    "duties_zh": list(d.duties_zh),
                    "topic_seqs": list(d.topic_seqs),
                    "notes": d.notes,
                }
                for d in self.departments
            ],
            "datasets": [
                {
                    "id": d.id,
                    "department_seq": d.department_seq,
                    "seed_item": d.seed_item,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "kind": d.kind,
                    "formats": list(d.formats),
                    "catch_all": d.catch_all,
                    "parent": d.parent,
                    "added_under_catch_all": d.added_under_catch_all,
                    "note": d.note,
                    "used_by": list(d.used_by),
                    "consumers": self.consumers_of_dataset(d.id),
                    "delivery": _plain(d.delivery),
                }
                for d in self.datasets
            ],
            "topics": [
                {
                    "seq": t.seq,
                    "code": t.code,
                    "slug": t.slug,
                    "name_zh": t.name_zh,
                    "short_zh": t.short_zh,
                    "name_en": t.name_en,
                    "lead_department_seq": t.lead_department_seq,
                    "cooperating_department_seqs": list(t.cooperating_department_seqs),
                    "cooperating_others_zh": list(t.cooperating_others_zh),
                    "lead_department_text_zh": t.lead_department_text_zh,
                    "listed_under_department_seq": t.listed_under_department_seq,
                    "undertaken_by_zh": t.undertaken_by_zh,
                    "research_points_zh": list(t.research_points_zh),
                    "deliverables": {
                        "report_zh": t.deliverables.report_zh,
                        "maps_zh": list(t.deliverables.maps_zh),
                        "dataset_zh": t.deliverables.dataset_zh,
                    },
                    "implemented": t.implemented,
                    "inputs": [_input_json(i) for i in t.inputs],
                    "outputs": [_layer_json(o) for o in t.outputs],
                    "upstream_topics": self.upstream_topics(t.seq),
                    "notes": list(t.notes),
                }
                for t in self.topics
            ],
            "topic_edges": [list(e) for e in self.topic_edges()],
            "topic_order": self.topic_order(),
        }

    def to_mermaid(self) -> str:
        """The topic graph as a Mermaid ``graph LR`` (edges labelled with the layer ids)."""
        lines = ["graph LR"]
        for t in self.topics:
            lines.append(f'  {t.code}["{_mermaid_text(t.label)}"]')
        grouped: dict[tuple[int, int], list[str]] = {}
        for src, dst, layer in self.topic_edges():
            grouped.setdefault((src, dst), []).append(layer)
        for (src, dst), layers in grouped.items():
            label = _mermaid_text(", ".join(layers))
            lines.append(f'  t{src:02d} -->|"{label}"| t{dst:02d}')
        lines.append("  classDef implemented fill:#d9f2d9,stroke:#2e7d32,stroke-width:3px,color:#000")
        lines.append("  classDef planned fill:#f4f4f4,stroke:#9e9e9e,stroke-dasharray:4 3,color:#555")
        implemented = [t.code for t in self.topics if t.implemented]
        planned = [t.code for t in self.topics if not t.implemented]
        if implemented:
            lines.append(f"  class {','.join(implemented)} implemented")
        if planned:
            lines.append(f"  class {','.join(planned)} planned")
        return "\n".join(lines) + "\n"

    # -- validation ----------------------------------------------------------------------------

    def validate(self) -> None:
        """Check the whole catalog; raise :class:`CatalogError` listing every problem found."""
        problems: list[str] = []
        self._check_departments(problems)
        self._check_datasets(problems)
        self._check_topics(problems)
        if problems:
            raise CatalogError(
                f"catalog is invalid ({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n  - "
                + "\n  - ".join(problems)
            )
        self.topic_order()  # raises CatalogError naming the cycle

    def _check_departments(self, problems: list[str]) -> None:
        seen_seq: set[int] = set()
        seen_slug: set[str] = set()
        for d in self.departments:
            if d.seq in seen_seq:
                problems.append(f"departments.yaml: duplicate department seq {d.seq}")
            seen_seq.add(d.seq)
            if d.slug in seen_slug:
                problems.append(f"departments.yaml: duplicate department slug {d.slug!r}")
            seen_slug.add(d.slug)
        expected = set(range(1, len(self.departments) + 1))
        if seen_seq != expected:
            problems.append(
                f"departments.yaml: department seqs must be 1–{len(self.departments)}; "
                f"missing {sorted(expected - seen_seq)}, unexpected {sorted(seen_seq - expected)}"
            )

    def _check_datasets(self, problems: list[str]) -> None:
        seen: set[str] = set()
        catch_alls: dict[int, str] = {}
        for d in self.datasets:
            where = f"datasets.yaml: dataset {d.id!r}"
            if d.id in seen:
                problems.append(f"datasets.yaml: duplicate dataset id {d.id!r}")
            seen.add(d.id)
            if d.department_seq not in self._dept_by_seq:
                problems.append(f"{where}: department_seq {d.department_seq} is not a department")
            if d.kind not in DATASET_KINDS:
                problems.append(f"{where}: kind {d.kind!r} is not one of {sorted(DATASET_KINDS)}")
            if not d.formats:
                problems.append(f"{where}: formats is empty")
            if d.parent is None:
                m = _NUMBERED_ID.match(d.id)
                if not m:
                    problems.append(f"{where}: numbered ids are 'DD-II' (e.g. '01-28', '01-46a')")
                else:
                    if int(m.group("dept")) != d.department_seq:
                        problems.append(f"{where}: id does not start with department_seq {d.department_seq:02d}")
                    if not d.seed_item.isdigit() or int(m.group("item")) != int(d.seed_item):
                        problems.append(f"{where}: id does not match seed_item {d.seed_item!r}")
                if d.added_under_catch_all:
                    problems.append(f"{where}: added_under_catch_all requires a parent")
                if d.catch_all:
                    if d.department_seq in catch_alls:
                        problems.append(
                            f"{where}: department {d.department_seq} already has the catch-all "
                            f"{catch_alls[d.department_seq]!r}"
                        )
                    catch_alls.setdefault(d.department_seq, d.id)
            else:
                parent = self._ds_by_id.get(d.parent)
                if parent is None:
                    problems.append(
                        f"{where}: parent {d.parent!r} is not a dataset" + _suggest(d.parent, list(self._ds_by_id))
                    )
                else:
                    if not parent.catch_all:
                        problems.append(f"{where}: parent {d.parent!r} is not a catch-all item")
                    if parent.department_seq != d.department_seq or parent.seed_item != d.seed_item:
                        problems.append(f"{where}: department_seq/seed_item differ from its parent {d.parent!r}")
                prefix, _, slug = d.id.partition(".")
                if prefix != d.parent or not _CHILD_SLUG.match(slug):
                    problems.append(f"{where}: ids of added datasets are '<catch-all id>.<slug>' ({d.parent}.xxx)")
                if not d.added_under_catch_all:
                    problems.append(f"{where}: a dataset with a parent must set added_under_catch_all: true")
                if d.catch_all:
                    problems.append(f"{where}: a dataset added under a catch-all cannot be a catch-all")
            for seq in d.used_by:
                if seq not in self._topic_by_seq:
                    problems.append(f"{where}: used_by names topic {seq}, which does not exist")
            if d.used_by and d.delivery is None:
                problems.append(f"{where}: used_by is set but there is no delivery block")
            if d.delivery is not None:
                problems.extend(f"{where}: delivery {p}" for p in _delivery_problems(d.delivery))

    def _check_topics(self, problems: list[str]) -> None:
        seen_seq: set[int] = set()
        seen_layer: dict[str, str] = {}
        for t in self.topics:
            where = f"topics.yaml: topic {t.code}"
            if t.seq in seen_seq:
                problems.append(f"topics.yaml: duplicate topic seq {t.seq}")
            seen_seq.add(t.seq)
            if t.code != f"t{t.seq:02d}":
                problems.append(f"{where}: code must be 't{t.seq:02d}' for seq {t.seq}")
            if not t.slug.startswith(f"t{t.seq:02d}_"):
                problems.append(f"{where}: slug {t.slug!r} must start with 't{t.seq:02d}_'")
            for label, seq in (
                [("lead_department_seq", t.lead_department_seq)]
                + [("cooperating_department_seqs", s) for s in t.cooperating_department_seqs]
                + ([("listed_under_department_seq", t.listed_under_department_seq)]
                   if t.listed_under_department_seq is not None else [])
            ):
                if seq not in self._dept_by_seq:
                    problems.append(f"{where}: {label} {seq} is not a department")
            if t.listed_under_department_seq in self._dept_by_seq:
                dept = self._dept_by_seq[t.listed_under_department_seq]
                if t.seq not in dept.topic_seqs:
                    problems.append(
                        f"{where}: listed under department {dept.seq} but that department's topic_seqs "
                        f"{list(dept.topic_seqs)} lack {t.seq}"
                    )
            # outputs
            for spec in t.outputs:
                if not spec.id.startswith(f"{t.code}.") or len(spec.id) <= len(t.code) + 1:
                    problems.append(f"{where}: output id {spec.id!r} must be '{t.code}.<name>'")
                if spec.id in seen_layer:
                    problems.append(f"{where}: output id {spec.id!r} is already produced by {seen_layer[spec.id]}")
                seen_layer.setdefault(spec.id, t.code)
                if spec.kind not in LAYER_KINDS:
                    problems.append(f"{where}: output {spec.id!r} kind {spec.kind!r} is not one of {sorted(LAYER_KINDS)}")
            # inputs
            refs: set[str] = set()
            for inp in t.inputs:
                if (inp.dataset is None) == (inp.layer is None):
                    problems.append(f"{where}: each input needs exactly one of 'dataset' or 'layer' ({inp})")
                    continue
                if inp.ref in refs:
                    problems.append(f"{where}: input {inp.ref!r} is listed twice")
                refs.add(inp.ref)
                if inp.dataset is not None:
                    if inp.dataset not in self._ds_by_id:
                        problems.append(
                            f"{where}: input dataset {inp.dataset!r} is not in datasets.yaml"
                            + _suggest(inp.dataset, list(self._ds_by_id))
                        )
                else:
                    producer = self._layers.get(str(inp.layer))
                    if producer is None:
                        problems.append(
                            f"{where}: input layer {inp.layer!r} is not an output of any topic"
                            + _suggest(str(inp.layer), list(self._layers))
                        )
                    elif producer[0].seq == t.seq:
                        problems.append(f"{where}: input layer {inp.layer!r} is the topic's own output")
        # deliveries <-> implemented topics
        for t in self.topics:
            for inp in t.dataset_inputs():
                ds = self._ds_by_id.get(str(inp.dataset))
                if ds is None or not t.implemented:
                    continue
                if ds.delivery is None:
                    problems.append(
                        f"topics.yaml: implemented topic {t.code} reads dataset {ds.id!r}, which has no delivery block"
                    )
                elif t.seq not in ds.used_by:
                    problems.append(
                        f"datasets.yaml: dataset {ds.id!r} is read by implemented topic {t.code} "
                        f"but used_by {list(ds.used_by)} lacks {t.seq}"
                    )
        for ds in self.datasets:
            for seq in ds.used_by:
                t = self._topic_by_seq.get(seq)
                if t is not None and ds.id not in {i.dataset for i in t.inputs}:
                    problems.append(
                        f"datasets.yaml: dataset {ds.id!r} says used_by topic {seq}, but {t.code} has no such input"
                    )
        for d in self.departments:
            for seq in d.topic_seqs:
                t = self._topic_by_seq.get(seq)
                if t is None:
                    problems.append(f"departments.yaml: department {d.seq} topic_seqs names topic {seq}, which does not exist")
                elif t.listed_under_department_seq != d.seq:
                    problems.append(
                        f"departments.yaml: department {d.seq} lists topic {seq}, but the topic says "
                        f"listed_under_department_seq {t.listed_under_department_seq}"
                    )


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_catalog(path: str | Path | Traversable | None = None) -> Catalog:
    """Load and validate the catalog (cached).

    ``path`` is a directory holding ``departments.yaml``, ``datasets.yaml`` and ``topics.yaml``;
    ``None`` reads the files shipped in this package (via :mod:`importlib.resources`).
    Raises :class:`CatalogError` with a precise message when a file is missing, malformed or
    inconsistent. Results are cached per path: call :func:`clear_cache` after editing files.
    """
    if path is None:
        return _load_cached(None)
    if isinstance(path, (str, Path)):
        return _load_cached(str(Path(path).expanduser().resolve()))
    return _load_from(path, str(path))  # another Traversable: not cached


def clear_cache() -> None:
    """Forget catalogs loaded by :func:`load_catalog`."""
    _load_cached.cache_clear()


@functools.lru_cache(maxsize=16)
def _load_cached(resolved: str | None) -> Catalog:
    if resolved is None:
        return _load_from(resources.files(__name__), "erenhot.catalog")
    return _load_from(Path(resolved), resolved)


def _load_from(root: Path | Traversable, source: str) -> Catalog:
    docs = []
    for name in CATALOG_FILES:
        node = root / name
        try:
            text = node.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CatalogError(f"{source}/{name}: file not found") from None
        except OSError as exc:
            raise CatalogError(f"{source}/{name}: cannot read ({exc})") from None
        try:
            docs.append(yaml.load(text, Loader=_YAML_LOADER))  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise CatalogError(f"{source}/{name}: invalid YAML: {exc}") from None
    return Catalog.from_documents(*docs, source=source)


# ---------------------------------------------------------------------------------------------
# Parsing helpers (raw YAML -> records)
# ---------------------------------------------------------------------------------------------

_DEPARTMENT_KEYS = {
    "required": ("seq", "name_zh", "short_zh", "name_en", "slug", "role_zh", "role_en"),
    "optional": ("aliases_zh", "duties_zh", "topic_seqs", "notes"),
}
_DATASET_KEYS = {
    "required": ("id", "department_seq", "seed_item", "name_zh", "name_en", "kind", "formats"),
    "optional": ("catch_all", "parent", "added_under_catch_all", "note", "delivery", "used_by"),
}
_TOPIC_KEYS = {
    "required": (
        "seq", "code", "slug", "name_zh", "short_zh", "name_en", "lead_department_seq",
        "cooperating_department_seqs", "lead_department_text_zh", "research_points_zh",
        "deliverables", "implemented", "inputs", "outputs",
    ),
    "optional": ("cooperating_others_zh", "listed_under_department_seq", "undertaken_by_zh", "notes"),
}
_INPUT_KEYS = {"required": ("required",), "optional": ("dataset", "layer", "why")}
_LAYER_KEYS = {
    "required": ("id", "name_zh", "name_en", "kind"),
    "optional": ("unit", "values", "map_zh", "note"),
}
_DELIVERABLE_KEYS = {"required": ("report_zh", "maps_zh", "dataset_zh"), "optional": ()}


def _where(source: str, file: str, what: str, raw: Any, key: str, index: int) -> str:
    """``<source>/<file>: <what> <id>`` (or ``entry #<index>`` when the entry has no id)."""
    ident = raw.get(key) if isinstance(raw, Mapping) else None
    label = f"{what} {ident!r}" if isinstance(ident, str) else f"{what} {ident}" if ident is not None else f"entry #{index}"
    return f"{source}/{file}: {label}"


def _entries(doc: Any, key: str, where: str) -> list[Any]:
    """The list of entries of a catalog file (a mapping with ``key`` or a bare list)."""
    if isinstance(doc, Mapping):
        if key not in doc:
            raise CatalogError(f"{where}: no top-level {key!r} list")
        doc = doc[key]
    if not isinstance(doc, list):
        raise CatalogError(f"{where}: {key!r} must be a list, got {type(doc).__name__}")
    return doc


def _check_keys(raw: Any, spec: Mapping[str, tuple[str, ...]], where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected a mapping, got {type(raw).__name__}")
    missing = [k for k in spec["required"] if k not in raw]
    if missing:
        raise CatalogError(f"{where}: missing key(s) {missing}")
    allowed = set(spec["required"]) | set(spec["optional"])
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return raw


def _str(raw: Mapping[str, Any], key: str, where: str, optional: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _int(raw: Mapping[str, Any], key: str, where: str, optional: bool = False) -> int | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(f"{where}: {key!r} must be an integer, got {value!r}")
    return value


def _bool(raw: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: {key!r} must be true or false, got {value!r}")
    return value


def _list(raw: Mapping[str, Any], key: str, where: str, item_type: type) -> tuple[Any, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, item_type) and not isinstance(v, bool) for v in value
    ):
        raise CatalogError(f"{where}: {key!r} must be a list of {item_type.__name__}, got {value!r}")
    return tuple(value)


def _parse_department(raw: Any, where: str) -> Department:
    raw = _check_keys(raw, _DEPARTMENT_KEYS, where)
    seq = _int(raw, "seq", where)
    return Department(
        seq=seq,  # type: ignore[arg-type]
        name_zh=_str(raw, "name_zh", where),  # type: ignore[arg-type]
        short_zh=_str(raw, "short_zh", where),  # type: ignore[arg-type]
        name_en=_str(raw, "name_en", where),  # type: ignore[arg-type]
        slug=_str(raw, "slug", where),  # type: ignore[arg-type]
        role_zh=_str(raw, "role_zh", where),  # type: ignore[arg-type]
        role_en=_str(raw, "role_en", where),  # type: ignore[arg-type]
        aliases_zh=_list(raw, "aliases_zh", where, str),
        duties_zh=_list(raw, "duties_zh", where, str),
        topic_seqs=_list(raw, "topic_seqs", where, int),
        notes=_str(raw, "notes", where, optional=True),
    )


def _parse_dataset(raw: Any, where: str) -> Dataset:
    raw = _check_keys(raw, _DATASET_KEYS, where)
    ident = _str(raw, "id", where)
    seed_item = raw.get("seed_item")
    if not isinstance(seed_item, str) or not seed_item:
        raise CatalogError(f"{where}: 'seed_item' must be the seed's number as a string (e.g. \"46\"), got {seed_item!r}")
    delivery = raw.get("delivery")
    if delivery is not None and not isinstance(delivery, Mapping):
        raise CatalogError(f"{where}: 'delivery' must be a mapping, got {type(delivery).__name__}")
    return Dataset(
        id=ident,  # type: ignore[arg-type]
        department_seq=_int(raw, "department_seq", where),  # type: ignore[arg-type]
        seed_item=seed_item,
        name_zh=_str(raw, "name_zh", where),  # type: ignore[arg-type]
        name_en=_str(raw, "name_en", where),  # type: ignore[arg-type]
        kind=_str(raw, "kind", where),  # type: ignore[arg-type]
        formats=_list(raw, "formats", where, str),
        catch_all=_bool(raw, "catch_all", where),
        parent=_str(raw, "parent", where, optional=True),
        added_under_catch_all=_bool(raw, "added_under_catch_all", where),
        note=_str(raw, "note", where, optional=True),
        delivery=copy.deepcopy(dict(delivery)) if delivery is not None else None,
        used_by=_list(raw, "used_by", where, int),
    )


def _parse_topic(raw: Any, where: str) -> Topic:
    raw = _check_keys(raw, _TOPIC_KEYS, where)
    seq = _int(raw, "seq", where)
    dl = _check_keys(raw.get("deliverables"), _DELIVERABLE_KEYS, f"{where} deliverables")
    inputs_raw = raw.get("inputs")
    outputs_raw = raw.get("outputs")
    if not isinstance(inputs_raw, list):
        raise CatalogError(f"{where}: 'inputs' must be a list")
    if not isinstance(outputs_raw, list) or not outputs_raw:
        raise CatalogError(f"{where}: 'outputs' must be a non-empty list")
    inputs = []
    for i, item in enumerate(inputs_raw):
        w = f"{where} input #{i}"
        item = _check_keys(item, _INPUT_KEYS, w)
        inputs.append(
            TopicInput(
                dataset=_str(item, "dataset", w, optional=True),
                layer=_str(item, "layer", w, optional=True),
                required=_bool(item, "required", w),
                why=_str(item, "why", w, optional=True) or "",
            )
        )
    outputs = []
    for i, item in enumerate(outputs_raw):
        w = f"{where} output #{i}"
        item = _check_keys(item, _LAYER_KEYS, w)
        outputs.append(
            LayerSpec(
                id=_str(item, "id", w),  # type: ignore[arg-type]
                name_zh=_str(item, "name_zh", w),  # type: ignore[arg-type]
                name_en=_str(item, "name_en", w),  # type: ignore[arg-type]
                kind=_str(item, "kind", w),  # type: ignore[arg-type]
                unit=_str(item, "unit", w, optional=True),
                values=_list(item, "values", w, str),
                map_zh=_str(item, "map_zh", w, optional=True),
                note=_str(item, "note", w, optional=True),
            )
        )
    return Topic(
        seq=seq,  # type: ignore[arg-type]
        code=_str(raw, "code", where),  # type: ignore[arg-type]
        slug=_str(raw, "slug", where),  # type: ignore[arg-type]
        name_zh=_str(raw, "name_zh", where),  # type: ignore[arg-type]
        short_zh=_str(raw, "short_zh", where),  # type: ignore[arg-type]
        name_en=_str(raw, "name_en", where),  # type: ignore[arg-type]
        lead_department_seq=_int(raw, "lead_department_seq", where),  # type: ignore[arg-type]
        cooperating_department_seqs=_list(raw, "cooperating_department_seqs", where, int),
        cooperating_others_zh=_list(raw, "cooperating_others_zh", where, str),
        lead_department_text_zh=_str(raw, "lead_department_text_zh", where),  # type: ignore[arg-type]
        research_points_zh=_list(raw, "research_points_zh", where, str),
        deliverables=Deliverables(
            report_zh=_str(dl, "report_zh", where, optional=True),
            maps_zh=_list(dl, "maps_zh", where, str),
            dataset_zh=_str(dl, "dataset_zh", where, optional=True),
        ),
        implemented=_bool(raw, "implemented", where),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        listed_under_department_seq=_int(raw, "listed_under_department_seq", where, optional=True),
        undertaken_by_zh=_str(raw, "undertaken_by_zh", where, optional=True),
        notes=_list(raw, "notes", where, str),
    )


def _delivery_problems(delivery: Mapping[str, Any]) -> list[str]:
    """Shape problems of a delivery block (files, geometry, crs, fields)."""
    problems: list[str] = []
    files = delivery.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        problems.append(f"'files' must be a non-empty list of file names, got {files!r}")
    geometry = delivery.get("geometry")
    geoms = geometry if isinstance(geometry, list) else [geometry]
    if not geoms or not all(g in GEOMETRIES for g in geoms):
        problems.append(f"'geometry' must be one of {sorted(GEOMETRIES)} (or a list of them), got {geometry!r}")
    spatial = any(g not in (None, "none") for g in geoms)
    crs = delivery.get("crs")
    if spatial and crs != "CGCS2000":
        problems.append(f"'crs' must be 'CGCS2000' for spatial deliveries, got {crs!r}")
    if not spatial and crs not in (None, ""):
        problems.append(f"'crs' must be null for non-spatial deliveries, got {crs!r}")
    fields_ = delivery.get("fields")
    if not isinstance(fields_, list) or not fields_:
        problems.append("'fields' must be a non-empty list of {name, type, unit?, values?}")
    else:
        for f in fields_:
            if not isinstance(f, Mapping) or not isinstance(f.get("name"), str) or not isinstance(f.get("type"), str):
                problems.append(f"field {f!r} needs a string 'name' and 'type'")
            elif "values" in f and not isinstance(f["values"], list):
                problems.append(f"field {f['name']!r}: 'values' must be a list")
            elif set(f) - _FIELD_KEYS:
                # An unquoted ", " inside a flow-style description splits it into a stray key.
                problems.append(
                    f"field {f['name']!r}: unknown keys {sorted(map(str, set(f) - _FIELD_KEYS))}"
                    f" (allowed: {', '.join(sorted(_FIELD_KEYS))}; quote a description that holds a comma)"
                )
    derived = delivery.get("derived")
    if derived is not None:
        cols = derived.get("columns") if isinstance(derived, Mapping) else None
        if not isinstance(cols, list) or not cols or not all(
                isinstance(c, Mapping) and isinstance(c.get("name"), str) and isinstance(c.get("expr"), str) for c in cols):
            problems.append("'derived' must be {index?, group_by?, order_by?, columns: [{name, expr, part?, description?}]}")
    return problems


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


_FIELD_KEYS = frozenset({"name", "type", "description", "unit", "range", "values", "part", "nullable", "nodata"})


def _suggest(key: str, candidates: Iterable[str]) -> str:
    """``"; close: a, b"`` for the candidates close to ``key`` (empty when none)."""
    close = difflib.get_close_matches(key, list(candidates), n=5, cutoff=0.6)
    return f"; close: {', '.join(close)}" if close else ""


def _walk(start: int, adjacency: Mapping[int, set[int]], transitive: bool) -> list[int]:
    if not transitive:
        return sorted(adjacency[start])
    seen: set[int] = set()
    stack = list(adjacency[start])
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(adjacency[node])
    seen.discard(start)
    return sorted(seen)


def _plain(value: Any) -> Any:
    """A deep, JSON-friendly copy (tuples → lists, mappings → dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _input_json(inp: TopicInput) -> dict[str, Any]:
    out: dict[str, Any] = {"dataset": inp.dataset} if inp.dataset is not None else {"layer": inp.layer}
    out["required"] = inp.required
    out["why"] = inp.why
    return out


def _layer_json(spec: LayerSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "kind": spec.kind,
        "unit": spec.unit,
        "values": list(spec.values),
        "map_zh": spec.map_zh,
        "note": spec.note,
    }


def _mermaid_text(text: str) -> str:
    """Escape text for a quoted Mermaid label."""
    return text.replace('"', "#quot;")
