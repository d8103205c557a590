"""prefect.yaml is derived from the catalog and every trigger and schedule parses as Prefect's own."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest
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
            assert watched >= {f"erenhot.layer.{i.layer}" for i in topic.inputs if i.layer}
            # every dataset input starts the topic: directly, or through an implemented upstream topic
            # that consumes it too and then publishes the layers this topic watches
            reach = {r.removeprefix("erenhot.dataset.") for r in watched if r.startswith("erenhot.dataset.")}
            for up in cat.upstream_topics(topic.seq, transitive=True):
                up_dep = next((d for d in doc["deployments"] if d["name"] == cat.topic(up).slug), None)
                if up_dep:
                    reach |= {r.removeprefix("erenhot.dataset.") for trig in up_dep["triggers"]
                              for r in trig["match"]["prefect.resource.id"] if r.startswith("erenhot.dataset.")}
            assert reach >= {i.dataset for i in topic.inputs if i.dataset}
            for trig in dep["triggers"]:  # debounced: one run a window after the first event of a burst
                assert trig["within"] == trig["schedule_after"] > 0
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


def test_a_dataset_an_upstream_topic_consumes_reaches_the_downstream_topic_only_through_its_layers():
    from flows.deployments import trigger_datasets
    from flows.plan import TOPIC_FLOWS

    cat = load_catalog()
    for seq in TOPIC_FLOWS:
        direct = set(trigger_datasets(cat, seq))
        for up in cat.upstream_topics(seq, transitive=True):
            if up in TOPIC_FLOWS:
                assert not direct & {i.dataset for i in cat.topic(up).inputs if i.dataset}
    # T03 shares the city boundary (01-04) and DLTB with T02: it hears of them through T02's layers
    assert "01-04" not in trigger_datasets(cat, 3) and "01-04" in trigger_datasets(cat, 2)


def test_the_watcher_validates_deliveries_landed_outside_it():
    from flows.deployments import render_prefect_yaml

    watch = next(d for d in render_prefect_yaml(load_catalog())["deployments"] if d["name"] == "erenhot-watch-landing")
    assert watch["triggers"][0]["expect"] == ["erenhot.dataset.delivered"]


@pytest.mark.flow
def test_prefect_deploy_all_with_a_process_work_pool_and_a_worker_runs_a_deployment(prefect_server, tmp_path):
    """What deployments/README.md tells an operator to do, against the session's real server."""
    import shutil
    import subprocess
    import sys

    from prefect.client.orchestration import get_client

    from flows.deployments import WORK_POOL, render_prefect_yaml

    env = prefect_server.client_env(PREFECT_HOME=str(tmp_path / "home"), ERENHOT_PROJECT_DIR=str(ROOT),
                                    ERENHOT_STORAGE_URL=str(tmp_path / "store"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    prefect = shutil.which("prefect", path=env["PATH"])

    def cli(*args, timeout=180):
        done = subprocess.run([prefect, "--no-prompt", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    wanted = render_prefect_yaml(load_catalog())["deployments"]
    cli("work-pool", "create", WORK_POOL, "--type", "process", "--overwrite")
    try:
        cli("deploy", "--all")
        with get_client(sync_client=True) as client:
            deployed = {d.name: d for d in client.read_deployments() if d.work_pool_name == WORK_POOL}
            assert set(deployed) == {d["name"] for d in wanted}
            automations = client.read_automations()
            for spec in wanted:
                dep = deployed[spec["name"]]
                assert sorted(dep.tags) == sorted(spec["tags"])
                assert dep.global_concurrency_limit.limit == spec["concurrency_limit"]["limit"]
                assert dep.concurrency_options.collision_strategy.value == spec["concurrency_limit"]["collision_strategy"]
                owned = [a for a in automations if str(dep.id) in str(a.actions)]
                assert len(owned) == len(spec.get("triggers", [])), spec["name"]
            plan = deployed["erenhot-plan-nightly"]
            assert plan.schedules[0].schedule.timezone == "Asia/Shanghai"
        # a worker of the pool picks up a run: the pull step finds the project, the flow imports and runs
        out = cli("deployment", "run", "erenhot-watch-landing/erenhot-watch-landing",
                  "--param", f"storage_url={json.dumps(str(tmp_path / 'store'))}")
        run_id = next(line.split("UUID:")[-1].strip() for line in out.splitlines() if "UUID" in line)
        cli("worker", "start", "--pool", WORK_POOL, "--run-once", "--prefetch-seconds", "60", timeout=300)
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
        assert run.state.is_completed(), run.state
        assert (tmp_path / "store").is_dir()
    finally:
        with get_client(sync_client=True) as client:
            for dep in client.read_deployments():
                if dep.work_pool_name == WORK_POOL:
                    client.delete_deployment(dep.id)  # the trigger tests serve the same names
        cli("work-pool", "delete", WORK_POOL)


def test_a_production_pool_variant_keeps_every_deployment_trigger_and_schedule():
    from flows.deployments import render_prefect_yaml, render_text

    cat = load_catalog()
    base = render_prefect_yaml(cat)
    text = render_text(cat, pool="erenhot-k8s", image="registry.example/erenhot:2026.11")
    assert "&id" not in text and "*id" not in text  # no YAML aliases a human would trip over
    doc = yaml.safe_load(text)
    assert doc["pull"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == "/opt/erenhot"
    assert [d["name"] for d in doc["deployments"]] == [d["name"] for d in base["deployments"]]
    for prod, dev in zip(doc["deployments"], base["deployments"]):
        assert prod["work_pool"] == {"name": "erenhot-k8s", "job_variables": {"image": "registry.example/erenhot:2026.11"}}
        assert {k: v for k, v in prod.items() if k != "work_pool"} == {k: v for k, v in dev.items() if k != "work_pool"}
