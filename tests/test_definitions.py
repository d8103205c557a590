"""Definitions agree: catalog ↔ GX suites ↔ topic flows (a change to one without the others fails here)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import great_expectations as gx

from erenhot.catalog import load_catalog
from erenhot.validation import expectations_dir, suite_files


def _contract_parts(ds) -> set[str]:
    files = (ds.delivery or {}).get("files", [])
    stems = {PurePosixPath(f).stem for f in files if not f.startswith("*")}
    if ds.id == "17-02":  # the EPW/CSV alternatives become one daily climate table
        return {"climate_daily"}
    return stems


def test_every_dataset_topics_2_and_3_use_has_suites_for_each_contract_file():
    cat = load_catalog()
    used = {i.dataset for t in cat.topics if t.implemented for i in t.inputs if i.dataset}
    missing = {}
    for ds_id in sorted(used):
        parts = {p for p, _ in suite_files(ds_id)}
        want = _contract_parts(cat.dataset(ds_id))
        if not want <= parts:
            missing[ds_id] = sorted(want - parts)
    assert missing == {}


def test_suites_check_every_field_the_catalog_names():
    cat = load_catalog()
    gaps = {}
    for ds in cat.datasets:
        if not ds.delivery or ds.delivery.get("geometry") == "raster":
            continue  # raster bands are checked by the raster suites, not by columns
        suites = suite_files(ds.id)
        checked = set()
        for (_, frame), path in suites.items():
            if frame in {"features", "table"}:
                d = json.loads(path.read_text("utf-8"))
                checked |= {e["kwargs"]["column"] for e in d["expectations"] if e["type"] == "expect_column_to_exist"}
        fields = {f["name"].upper() for f in ds.delivery.get("fields", []) or []}  # vector columns are upper-cased on read
        if suites and not fields <= {c.upper() for c in checked}:
            gaps[ds.id] = sorted(fields - {c.upper() for c in checked})
    assert gaps == {}


def test_derived_quantities_of_the_contracts_and_their_suites_match():
    """Every ``derived:`` column a contract declares is checked by a ``<part>.derived.json`` suite, and
    a derived suite checks only declared columns: a balance rule cannot silently go unchecked."""
    cat = load_catalog()
    declared, checked = set(), set()
    for ds in cat.datasets:
        spec = (ds.delivery or {}).get("derived")
        suites = {(part, frame): path for (part, frame), path in suite_files(ds.id).items() if frame == "derived"}
        for c in (spec or {}).get("columns", []):
            parts = [c["part"]] if c.get("part") else [p for p, _ in suites] or ["?"]
            declared |= {(ds.id, p, c["name"]) for p in parts}
        for (part, _), path in suites.items():
            d = json.loads(path.read_text("utf-8"))
            checked |= {(ds.id, part, e["kwargs"]["column"]) for e in d["expectations"] if e["type"] != "expect_column_to_exist"}
    assert declared and declared == checked


def test_derived_expressions_name_only_contract_fields():
    """A typo in a ``derived:`` expression would leave the quantity empty (and its check silently passing)."""
    import re

    cat = load_catalog()
    bad = {}
    for ds in cat.datasets:
        spec = (ds.delivery or {}).get("derived")
        if not spec:
            continue
        fields = {f["name"] for f in ds.delivery["fields"]}
        known = fields | {f"prev_{f}" for f in fields}
        for c in spec["columns"]:
            names = set(re.findall(r"`([^`]+)`", c["expr"])) | set(re.findall(r"(?<![`\w])([A-Za-z_]\w*)(?![`\w])", re.sub(r"`[^`]+`", " ", c["expr"])))
            if names - known:
                bad[(ds.id, c["name"])] = sorted(names - known)
        assert set(spec.get("index", [])) <= fields, ds.id
    assert bad == {}


def test_every_suite_folder_names_a_catalog_dataset_and_parses_without_losing_expectations():
    cat = load_catalog()
    for folder in sorted(p for p in expectations_dir().iterdir() if p.is_dir()):
        cat.dataset(folder.name)  # raises KeyError for an unknown id
        for path in folder.glob("*.json"):
            d = json.loads(path.read_text("utf-8"))
            suite = gx.ExpectationSuite(**d)
            assert len(suite.expectations) == len(d["expectations"]), path
            for e in d["expectations"]:
                assert e["meta"].get("rule") and e["meta"].get("source"), (path, e["type"])


def test_implemented_topics_are_exactly_the_topic_flows():
    from flows.plan import TOPIC_FLOWS

    cat = load_catalog()
    assert sorted(TOPIC_FLOWS) == sorted(t.seq for t in cat.topics if t.implemented)
    from erenhot.topics import TOPIC_RUNNERS
    assert sorted(TOPIC_RUNNERS) == sorted(t.code for t in cat.topics if t.implemented)


def test_topic_graph_snapshot():
    """The topic graph as committed; an accidental change to topic inputs/outputs shows up here in review.
    After an intended change: `erenhot graph > tests/snapshots/topic_graph.mmd`."""
    from pathlib import Path

    snapshot = Path(__file__).with_name("snapshots") / "topic_graph.mmd"
    assert load_catalog().to_mermaid().strip() == snapshot.read_text("utf-8").strip()
