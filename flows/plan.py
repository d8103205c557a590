"""The whole plan: land a kit's deliveries, validate every delivery, run the topics in graph order."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import State, flow, tags
from prefect.artifacts import create_table_artifact
from prefect.logging import get_run_logger
from prefect.states import Failed

from erenhot import settings
from erenhot.catalog import load_catalog
from erenhot.landing import latest_delivery
from erenhot.storage import Storage
from flows.t01_plan_integration import t01_plan_integration
from flows.t02_carrying_capacity import t02_carrying_capacity
from flows.t03_suitability import t03_suitability
from flows.t04_strategy_layout import t04_strategy_layout
from flows.t05_urbanisation import t05_urbanisation
from flows.t06_village_layout import t06_village_layout
from flows.t07_consolidation_restoration import t07_consolidation_restoration
from flows.t08_charm_quality_life import t08_charm_quality_life
from flows.t09_forest_grass_wetland import t09_forest_grass_wetland
from flows.t10_economic_strategy import t10_economic_strategy
from flows.t11_eco_environment import t11_eco_environment
from flows.t12_water_carrying_capacity import t12_water_carrying_capacity
from flows.t13_agri_modernisation import t13_agri_modernisation
from flows.t14_transport import t14_transport
from flows.t15_culture_tourism import t15_culture_tourism
from flows.topic_flow import PLAN_TZ
from tasks.alerts import raise_overdue_alerts
from tasks.deliveries import flush_event_outbox, ingest_delivery, publish_readiness_board, validate_delivery
from tasks.watch import scan_landing

TOPIC_FLOWS = {1: t01_plan_integration, 2: t02_carrying_capacity, 3: t03_suitability, 4: t04_strategy_layout,
               5: t05_urbanisation,
               6: t06_village_layout, 7: t07_consolidation_restoration, 8: t08_charm_quality_life,
               9: t09_forest_grass_wetland, 10: t10_economic_strategy, 11: t11_eco_environment,
               12: t12_water_carrying_capacity, 13: t13_agri_modernisation, 14: t14_transport,
               15: t15_culture_tourism}
BOUNDARY_DATASET = "01-04"


def plan_run_name() -> str:
    return f"国土空间总体规划 全流程 · {datetime.now(PLAN_TZ):%Y-%m-%d}"


@flow(name="erenhot-plan", flow_run_name=plan_run_name,
      description="二连浩特市国土空间总体规划: deliveries → GX validation → research topics in graph order")
def plan(kit_dir: str | None = None, storage_url: str | None = None,
         config_overrides: dict[str, dict[str, Any]] | None = None, revalidate: bool = False,
         quiet_seconds: float = 60.0) -> dict[str, Any] | State:
    """Run the plan that exists.

    Args:
        kit_dir: a folder written by ``erenhot sample-kit`` (``kit.json`` + one folder per dataset);
            its datasets are ingested where the landing zone has no delivery yet.
        storage_url: storage root (default ``ERENHOT_STORAGE_URL`` or ``./data``).
        config_overrides: per topic code, dotted config paths → values (``{"t02": {"grid.cell_size_m": 300}}``).
        revalidate: run the suites again even on deliveries that already have a report.
        quiet_seconds: a file dropped under ``landing/<department>/<dataset>/`` is registered once it
            has not changed for this long (see :mod:`erenhot.watcher`).

    Returns:
        ``{"datasets": {id: state}, "topics": {code: {"state", ...}}}``.
    """
    logger = get_run_logger()
    url = storage_url or settings.storage_url()
    storage = Storage(url)
    catalog = load_catalog()
    flush_event_outbox(url)
    # files departments dropped with their own tools under landing/<department>/<dataset>/
    scan_landing(url, quiet_seconds)
    if kit_dir:
        kit = json.loads((Path(kit_dir) / "kit.json").read_text("utf-8"))
        futures = []
        for dataset_id, entry in sorted(kit["datasets"].items()):
            if latest_delivery(storage, dataset_id) is None:
                paths = [str(Path(kit_dir) / dataset_id / name) for name in entry["files"]]
                if not entry.get("synthetic"):
                    by = "sample kit (real public data)"
                elif str(entry.get("provenance", "")).startswith("real"):
                    by = "sample kit (real public data with synthetic parts)"
                else:
                    by = "sample kit (synthetic)"
                futures.append(ingest_delivery.submit(url, str(entry["department_seq"]), dataset_id, paths, by))
        for f in futures:
            f.result()
    delivered = [d.id for d in catalog.datasets if latest_delivery(storage, d.id) is not None]
    states: dict[str, str] = {}
    # the city boundary first: every other layer is checked against it
    order = sorted(delivered, key=lambda i: (i != BOUNDARY_DATASET, i))
    if BOUNDARY_DATASET in order:
        states[BOUNDARY_DATASET] = validate_delivery(url, BOUNDARY_DATASET, revalidate)["state"]
    futures = {i: validate_delivery.submit(url, i, revalidate) for i in order if i != BOUNDARY_DATASET}
    for i, f in futures.items():
        states[i] = f.result()["state"]
    create_table_artifact(
        table=[{"dataset": i, "名称": catalog.dataset(i).name_zh, "department": catalog.department(catalog.dataset(i).department_seq).short_zh,
                "state": s, "version": latest_delivery(storage, i).version} for i, s in sorted(states.items())],
        key="plan-deliveries", description="newest delivery of every delivered dataset and its validation state")
    raise_overdue_alerts(url)  # needed datasets past their department's due date, alerted once
    publish_readiness_board(url)
    topics: dict[str, Any] = {}
    failed: list[str] = []
    for seq in catalog.topic_order():
        if seq not in TOPIC_FLOWS:
            continue
        topic = catalog.topic(seq)
        lead = catalog.department(topic.lead_department_seq)
        with tags("erenhot", f"topic:{topic.code}", f"lead:{lead.seq:02d}-{lead.slug}"):
            # in graph order the upstream topics have just run: no need to defer to them
            state = TOPIC_FLOWS[seq](storage_url=url, config_overrides=(config_overrides or {}).get(topic.code),
                                     wait_for_upstream=False, return_state=True)
        if state.is_completed():
            result = state.result()
            topics[topic.code] = {**result, "state": "up to date" if result.get("skipped") else "done"}
            logger.info("T%02d %s: %s (run key %s)", seq, topic.name_zh,
                        "up to date, nothing recomputed" if result.get("skipped") else "recomputed and published",
                        result.get("run_key"))
        else:
            failed.append(topic.code)
            topics[topic.code] = {"state": "failed", "message": str(state.message or "")}
            logger.error("T%02d %s failed: %s", seq, topic.name_zh, state.message)
    summary = {"datasets": states, "topics": topics}
    if failed:
        return Failed(message=f"topic(s) failed: {', '.join(failed)}; see `erenhot status` for the reasons")
    return summary

