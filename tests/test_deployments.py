"""prefect.yaml is derived from the catalog and every trigger and schedule parses as Prefect's own."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from erenhot.catalog import load_catalog
from flows.deployments import render_text

ROOT = Path(__file__).resolve().parents[1]


def test_committed_prefect_yaml_equals_the_one_derived_from_the_catalog():
    assert (ROOT / "prefect.yaml").read_text("utf-8") == render_text(load_catalog()), \
        "run `erenhot deployments --write` after changing the catalog or the flows"


def test_triggers_and_schedules_parse_and_entrypoints_import():
    from prefect.events import DeploymentTriggerTypes
    from pydantic import TypeAdapter

    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text("utf-8"))
    adapter = TypeAdapter(DeploymentTriggerTypes)
    cat = load_catalog()
    for dep in doc["deployments"]:
        path, fn = dep["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert hasattr(module, fn)
        for trig in dep.get("triggers", []):
            adapter.validate_python(trig)
        if dep["name"].startswith("t"):
            topic = next(t for t in cat.topics if t.slug == dep["name"])
            watched = {r for trig in dep["triggers"] for r in trig["match"]["prefect.resource.id"]}
            wanted = {f"erenhot.dataset.{i.dataset}" for i in topic.inputs if i.dataset} | \
                     {f"erenhot.layer.{i.layer}" for i in topic.inputs if i.layer}
            assert watched == wanted
    plan = next(d for d in doc["deployments"] if d["entrypoint"] == "flows/plan.py:plan")
    assert plan["schedules"][0]["timezone"] == "Asia/Shanghai"


def test_serve_builds_the_same_deployments_as_prefect_yaml():
    from flows.deployments import render_prefect_yaml, runner_deployments

    cat = load_catalog()
    wanted = {d["name"]: d for d in render_prefect_yaml(cat)["deployments"]}
    built = {d.name: d for d in runner_deployments(cat, "/tmp/erenhot-store")}
    assert set(built) == set(wanted)
    for name, dep in built.items():
        assert sorted(dep.tags) == sorted(wanted[name]["tags"])
        assert len(dep.triggers) == len(wanted[name].get("triggers", []))
        assert len(dep.schedules or []) == len(wanted[name].get("schedules", []))
        assert dep.parameters == {"storage_url": "/tmp/erenhot-store"}
    plan = built["erenhot-plan-nightly"]
    assert plan.schedules[0].schedule.timezone == "Asia/Shanghai"
