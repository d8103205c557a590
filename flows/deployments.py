"""``prefect.yaml`` derived from the catalog: one deployment per implemented topic plus the plan.

Each topic deployment is triggered when a dataset it consumes is validated
(``erenhot.dataset.validated``) or an upstream layer it consumes is published
(``erenhot.layer.published``); the plan runs nightly at 02:30 Asia/Shanghai. The committed
``prefect.yaml`` must equal :func:`render_prefect_yaml` (a test checks it; ``erenhot deployments
--write`` regenerates it).

Debounce. Prefect's reactive trigger fires on the first matching event and then ignores matching
events until its ``within`` window has passed (``prefect/server/events/triggers.py::evaluate``: a
new bucket starts at the end of the window). Alone that would lose the tail of a burst, so every
trigger also sets ``schedule_after`` to the same window: the first of ten deliveries in a minute
schedules one run a window later, when the other nine have landed, and that run reads them all.
A run that still finds nothing new is skipped by its run key (see :mod:`erenhot.products`).

A topic started while an implemented upstream topic is out of date completes as ``Deferred``; the
upstream, when it finishes, emits ``erenhot.topic.resume`` for it (third trigger), whether or not its
layers changed. A dataset that an upstream topic also consumes does not trigger the downstream topic directly:
the change reaches it through the upstream's ``erenhot.layer.published`` events, so the
downstream topic runs once, on the upstream's new layers, and never on a mix of new data and old
upstream layers. If the upstream run fails, the downstream waits (the nightly plan reports why).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from erenhot.catalog import Catalog
from flows.plan import TOPIC_FLOWS

WORK_POOL = "erenhot-process"
PLAN_CRON = "30 2 * * *"  # 02:30 in Asia/Shanghai, outside the 01:00–03:00 DST window of other zones
TIMEZONE = "Asia/Shanghai"
WATCH_INTERVAL_SECONDS = 300
DEBOUNCE_SECONDS = 60  # a burst of events within a minute → one run, a minute after the first
HEADER = """\
# Generated from the catalog by `erenhot deployments --write`; do not edit by hand
# (tests/test_deployments.py fails when this file and the catalog disagree).
# Deploy to a Prefect server (see README, "Deployments"):
#   prefect work-pool create erenhot-process --type process
#   ERENHOT_PROJECT_DIR=$PWD prefect deploy --all
#   prefect worker start --pool erenhot-process
"""

def _entrypoint(seq: int) -> str:
    fn = TOPIC_FLOWS[seq]
    module = fn.fn.__module__.replace(".", "/")
    return f"{module}.py:{fn.fn.__name__}"


def _event_trigger(event: str, resource_ids: list[str], debounce_seconds: int) -> dict[str, Any]:
    return {"type": "event", "enabled": True, "expect": [event], "match": {"prefect.resource.id": resource_ids},
            "posture": "Reactive", "threshold": 1, "within": debounce_seconds, "schedule_after": debounce_seconds}


def trigger_datasets(catalog: Catalog, seq: int) -> list[str]:
    """The datasets whose ``erenhot.dataset.validated`` event starts topic ``seq`` directly: its own
    dataset inputs minus those an implemented upstream topic (transitively) also consumes — those
    reach it through the upstream's published layers."""
    topic = catalog.topic(seq)
    upstream = [u for u in catalog.upstream_topics(seq, transitive=True) if u in TOPIC_FLOWS]
    via_upstream = {i.dataset for u in upstream for i in catalog.topic(u).inputs if i.dataset}
    return sorted({i.dataset for i in topic.inputs if i.dataset} - via_upstream)


def topic_deployment(catalog: Catalog, seq: int, debounce_seconds: int = DEBOUNCE_SECONDS,
                     work_pool: dict[str, Any] | None = None) -> dict[str, Any]:
    topic = catalog.topic(seq)
    lead = catalog.department(topic.lead_department_seq)
    datasets = trigger_datasets(catalog, seq)
    layers = sorted(i.layer for i in topic.inputs if i.layer)
    triggers: list[dict[str, Any]] = []
    if datasets:
        triggers.append(_event_trigger("erenhot.dataset.validated", [f"erenhot.dataset.{d}" for d in datasets],
                                       debounce_seconds))
    if layers:
        triggers.append(_event_trigger("erenhot.layer.published", [f"erenhot.layer.{layer}" for layer in layers],
                                       debounce_seconds))
        # a run that deferred to an out-of-date upstream topic is resumed when that topic finishes
        triggers.append(_event_trigger("erenhot.topic.resume", [f"erenhot.topic.{topic.code}"], debounce_seconds))
    return {
        "name": topic.slug,
        "entrypoint": _entrypoint(seq),
        "description": f"T{topic.seq:02d} {topic.name_zh} — {topic.name_en}",
        "tags": ["erenhot", f"topic:{topic.code}", f"lead:{lead.seq:02d}-{lead.slug}"],
        "parameters": {},
        "work_pool": copy.deepcopy(work_pool or {"name": WORK_POOL}),  # fresh dicts: no YAML aliases
        "concurrency_limit": {"limit": 1, "collision_strategy": "ENQUEUE"},
        "triggers": triggers,
    }


IMAGE_PROJECT_DIR = "/opt/erenhot"  # where a container image built for a Docker/Kubernetes pool holds the project


def render_prefect_yaml(catalog: Catalog, debounce_seconds: int = DEBOUNCE_SECONDS, pool: str = WORK_POOL,
                        image: str | None = None) -> dict[str, Any]:
    """The whole ``prefect.yaml`` as a dict.

    Args:
        debounce_seconds: the trigger window (see the module doc).
        pool: the work pool every deployment runs on (default the process pool ``erenhot-process``).
        image: a container image for a Docker or Kubernetes pool (``job_variables.image``); the flows
            then run from the project copied into the image at ``/opt/erenhot`` instead of
            ``$ERENHOT_PROJECT_DIR``.
    """
    work_pool: dict[str, Any] = {"name": pool}
    if image:
        work_pool["job_variables"] = {"image": image}
    deployments = [topic_deployment(catalog, seq, debounce_seconds, work_pool)
                   for seq in catalog.topic_order() if seq in TOPIC_FLOWS]
    deployments.append({
        "name": "erenhot-plan-nightly",
        "entrypoint": "flows/plan.py:plan",
        "description": "二连浩特市国土空间总体规划 全流程 nightly re-run — validate new deliveries, re-run changed topics",
        "tags": ["erenhot", "plan"],
        "parameters": {},
        "work_pool": copy.deepcopy(work_pool or {"name": WORK_POOL}),  # fresh dicts: no YAML aliases
        "concurrency_limit": {"limit": 1, "collision_strategy": "CANCEL_NEW"},
        "schedules": [{"cron": PLAN_CRON, "timezone": TIMEZONE, "active": True, "slug": "nightly"}],
    })
    deployments.append({
        "name": "erenhot-watch-landing",
        "entrypoint": "flows/watcher.py:watch_landing",
        "description": "落地区扫描 — register files departments dropped under landing/<department>/<dataset>/, validate them, refresh the readiness board",
        "tags": ["erenhot", "watch"],
        "parameters": {},
        "work_pool": copy.deepcopy(work_pool or {"name": WORK_POOL}),  # fresh dicts: no YAML aliases
        "concurrency_limit": {"limit": 1, "collision_strategy": "CANCEL_NEW"},
        "schedules": [{"interval": WATCH_INTERVAL_SECONDS, "active": True, "slug": "every-5-minutes"}],
        # a delivery landed by `erenhot ingest` (or another flow) is validated without waiting for the schedule
        "triggers": [_event_trigger("erenhot.dataset.delivered", ["erenhot.dataset.*"], debounce_seconds)],
    })
    return {
        "name": "erenhot-territorial-spatial-plan",
        "prefect-version": "3.9.1",
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {
            "directory": IMAGE_PROJECT_DIR if image else "{{ $ERENHOT_PROJECT_DIR }}"}}],
        "deployments": deployments,
    }


def render_text(catalog: Catalog, pool: str = WORK_POOL, image: str | None = None) -> str:
    """The ``prefect.yaml`` text (header comment + YAML) for ``pool`` / ``image`` (see :func:`render_prefect_yaml`)."""
    doc = render_prefect_yaml(catalog, pool=pool, image=image)
    header = HEADER if pool == WORK_POOL and not image else (
        f"# Generated from the catalog by `erenhot deployments --pool {pool}"
        + (f" --image {image}" if image else "") + "`; do not edit by hand.\n"
        "# Deploy with: prefect deploy --all --prefect-file <this file>  (see deployments/README.md)\n")
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


def runner_deployments(catalog: Catalog, storage_url: str | None = None,
                       debounce_seconds: int = DEBOUNCE_SECONDS) -> list[Any]:
    """The deployments of :func:`render_prefect_yaml` as Prefect ``RunnerDeployment`` objects for
    ``serve`` (no work pool: one local process runs them) — same names, tags, triggers, schedules
    and concurrency as ``prefect.yaml``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.events import DeploymentEventTrigger
    from prefect.schedules import Cron, Interval

    from flows.watcher import watch_landing
    from flows.plan import plan

    flows = {f"flows/{fn.fn.__module__.split('.')[-1]}.py:{fn.fn.__name__}": fn for fn in TOPIC_FLOWS.values()}
    flows["flows/plan.py:plan"] = plan
    flows["flows/watcher.py:watch_landing"] = watch_landing
    params = {"storage_url": storage_url} if storage_url else {}
    out = []
    for dep in render_prefect_yaml(catalog, debounce_seconds)["deployments"]:
        schedules = []
        for sch in dep.get("schedules", []):
            if "cron" in sch:
                schedules.append(Cron(sch["cron"], timezone=sch.get("timezone"), slug=sch.get("slug")))
            else:
                schedules.append(Interval(sch["interval"], slug=sch.get("slug")))
        limit = dep["concurrency_limit"]
        out.append(flows[dep["entrypoint"]].to_deployment(
            name=dep["name"], description=dep["description"], tags=dep["tags"], parameters=params,
            triggers=[DeploymentEventTrigger(**t) for t in dep.get("triggers", [])],
            schedules=schedules or None,
            concurrency_limit=ConcurrencyLimitConfig(limit=limit["limit"], collision_strategy=limit["collision_strategy"])))
    return out
