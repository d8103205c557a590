"""The whole plan on the sample kit: through the Prefect ``plan`` flow, again with nothing new, and
the same work called directly through the library.

* :func:`make_kit` writes the deterministic sample kit ``erenhot run`` generates.
* :func:`run_plan_twice` runs the ``plan`` flow on fresh storage (land, validate, compute every
  topic), then again on the same storage: the second run must find every run key unchanged
  (``rerun_ratio`` = second ÷ first). Per-topic times are read back from the Prefect API: the start
  and end of each topic's subflow run and of its ``evaluate-topic`` task run.
* :func:`run_direct` does the plan's work without Prefect, on fresh storage: the same library
  functions the tasks wrap (:mod:`tasks.deliveries`, :mod:`tasks.topics`, :mod:`tasks.watch`,
  :mod:`tasks.alerts`), the deliveries ingested and validated concurrently in threads as the plan's
  ``.submit`` calls do (Prefect's default thread pool is unbounded), then the topics in graph order.
  ``orchestration_ratio`` = the first ``plan`` run of :func:`run_plan_twice` ÷ this; both start
  from fresh storage and the same kit, each in a fresh process (``bench/run.py`` runs them one
  after the other), so both pay the library's first imports (GX, rasterio, matplotlib …).

What the direct path leaves out, because it is the orchestration being measured: Prefect's flow,
subflow and task runs and their state round trips to the API, the artifacts (readiness tables,
progress, GX tables, layer tables, figures with inline PNG thumbnails, receipts of refused
deliveries), the events (``erenhot.dataset.*``, ``erenhot.layer.published``, ``erenhot.topic.resume``),
the event-outbox flush, the topic lock (a global concurrency limit) and the upstream check the plan
switches off anyway. Everything that produces the plan's results stays: drop-zone scan, ingest,
GX validation and standardisation, overdue alerts, the readiness board, readiness resolution, the
topic composers and their run records.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mb, start_prefect

T02_CONFIG = "t02_carrying_capacity"


def default_cell_size_m() -> float:
    """The analysis cell size ``erenhot run`` uses without ``--cell-size``: T02's configured grid, m."""
    from erenhot.config import load_config

    return float(load_config(T02_CONFIG).get("grid.cell_size_m"))


def plan_overrides(cell_size_m: float | None) -> dict[str, dict[str, Any]]:
    """Configuration overrides of a run at ``cell_size_m`` — none at the default, as ``erenhot run``."""
    return {"t02": {"grid.cell_size_m": cell_size_m}} if cell_size_m else {}


def make_kit(kit_dir: Path, cell_size_m: float | None) -> dict[str, Any]:
    """Write the sample kit as ``erenhot run`` does (raster cells = the analysis cell size, ≤ 100 m)."""
    from erenhot.samplekit import make_sample_kit

    start = time.perf_counter()
    manifest = make_sample_kit(kit_dir, raster_cell_m=min(cell_size_m or default_cell_size_m(), 100.0))
    return {"seconds": time.perf_counter() - start, "datasets": len(manifest.datasets), "peak_mb": peak_rss_mb()}


# -- through Prefect --------------------------------------------------------------------------------

def _seconds(run) -> float | None:
    if run.start_time is None or run.end_time is None:
        return None
    return (run.end_time - run.start_time).total_seconds()


def flow_run_times(flow_run_id) -> dict[str, Any]:
    """Wall times of a plan run as the Prefect API recorded them.

    Returns:
        ``{"seconds": plan run, "deliveries_seconds": plan start → first topic subflow start (land,
        validate, alerts, board), "topics": {code: {"seconds": subflow run, "evaluate_seconds": its
        evaluate-topic task run}}}`` (topics in the order they ran).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        parent = client.read_flow_run(flow_run_id)
        subflows = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])))
        subflows = sorted((r for r in subflows if r.start_time is not None), key=lambda r: r.start_time)
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[r.id for r in subflows]))) if subflows else []
    evaluate = {t.flow_run_id: _seconds(t) for t in tasks if t.name.startswith("evaluate ")}
    topics = {}
    for r in subflows:
        code = next((t.split(":", 1)[1] for t in r.tags if t.startswith("topic:")), r.name)
        topics[code] = {"seconds": _seconds(r), "evaluate_seconds": evaluate.get(r.id)}
    first = subflows[0].start_time if subflows else parent.end_time
    return {"seconds": _seconds(parent), "deliveries_seconds": (first - parent.start_time).total_seconds(), "topics": topics}


def timed_plan(kit_dir: Path, url: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """One ``plan`` flow run: wall time in this process, peak RSS so far, its summary and API times.

    Raises:
        RuntimeError: the plan run did not complete (a topic failed).
    """
    from prefect import tags

    from flows.plan import plan

    start = time.perf_counter()
    with tags("erenhot", "plan"):
        state = plan(kit_dir=str(kit_dir), storage_url=url, config_overrides=overrides, return_state=True)
    seconds = time.perf_counter() - start
    if not state.is_completed():
        raise RuntimeError(f"the plan run failed: {state.message}")
    summary = state.result()
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "summary": summary,
            "api": flow_run_times(state.state_details.flow_run_id)}


def run_plan_twice(kit_dir: Path, work_dir: Path, cell_size_m: float | None) -> dict[str, Any]:
    """The plan on fresh storage, then again with nothing new (see the module docstring).

    Call before anything imports Prefect in this process (it sets ``PREFECT_HOME``).

    Returns:
        ``{"cell_size_m", "first": {seconds, peak_mb, deliveries_seconds, topics}, "second": {…},
        "rerun_ratio"}``; ``peak_mb`` is the process's peak RSS at the end of that run (the process
        also holds the Prefect client and the imports, not the temporary server, a subprocess).

    Raises:
        RuntimeError: a run failed, or the second run recomputed a topic.
    """
    start_prefect(work_dir / "prefect")
    url = str(work_dir / "store")
    overrides = plan_overrides(cell_size_m)
    runs = [timed_plan(kit_dir, url, overrides) for _ in range(2)]
    recomputed = [code for code, t in runs[1]["summary"]["topics"].items() if t["state"] != "up to date"]
    if recomputed:
        raise RuntimeError(f"the second plan run recomputed {', '.join(recomputed)}: it had nothing new to do")
    out: dict[str, Any] = {"cell_size_m": cell_size_m or default_cell_size_m()}
    for name, run in zip(("first", "second"), runs):
        states = run["summary"]["datasets"]
        out[name] = {"seconds": run["seconds"], "peak_mb": run["peak_mb"],
                     "deliveries": len(states), "validated": sum(s == "validated" for s in states.values()),
                     "deliveries_seconds": run["api"]["deliveries_seconds"],
                     "topics": {code: {**t, "state": run["summary"]["topics"].get(code, {}).get("state")}
                                for code, t in run["api"]["topics"].items()}}
    out["rerun_ratio"] = runs[1]["seconds"] / runs[0]["seconds"]
    return out


# -- without Prefect --------------------------------------------------------------------------------

def run_direct(kit_dir: Path, url: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The plan's work through the library alone, on the storage at ``url`` (fresh for a fair comparison).

    Returns:
        ``{"seconds", "deliveries_seconds", "validated", "deliveries", "topics": {code: {"seconds"}}}``.

    Raises:
        RuntimeError: a topic lacks a required input (the plan flow would fail too).
    """
    from erenhot import watcher
    from erenhot.acceptance import BOUNDARY_DATASET, accept_delivery
    from erenhot.board import department_board
    from erenhot.catalog import load_catalog
    from erenhot.landing import ingest, latest_delivery
    from erenhot.overdue import new_overdue_alerts
    from erenhot.products import record_run
    from erenhot.readiness import check_readiness, missing_message
    from erenhot.storage import Storage
    from erenhot.topics import TOPIC_RUNNERS, run_topic
    from flows.topic_flow import topic_overrides  # plain function: the flows' override resolution

    start = time.perf_counter()
    storage = Storage(url)
    catalog = load_catalog()
    watcher.scan(storage, catalog, quiet_seconds=60.0)  # the plan's drop-zone scan (nothing there here)
    kit = json.loads((kit_dir / "kit.json").read_text("utf-8"))
    todo = [(i, e) for i, e in sorted(kit["datasets"].items()) if latest_delivery(storage, i) is None]

    def land(item: tuple[str, dict[str, Any]]) -> None:
        dataset_id, entry = item
        if not entry.get("synthetic"):  # the plan flow's labels
            by = "sample kit (real public data)"
        elif str(entry.get("provenance", "")).startswith("real"):
            by = "sample kit (real public data with synthetic parts)"
        else:
            by = "sample kit (synthetic)"
        ingest(Storage(url), load_catalog(), str(entry["department_seq"]), dataset_id,
               [kit_dir / dataset_id / name for name in entry["files"]], delivered_by=by)

    def validate(dataset_id: str) -> str:
        s = Storage(url)
        return accept_delivery(s, load_catalog(), latest_delivery(s, dataset_id))["state"]

    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        list(pool.map(land, todo))
    delivered = [d.id for d in catalog.datasets if latest_delivery(storage, d.id) is not None]
    states = {BOUNDARY_DATASET: validate(BOUNDARY_DATASET)} if BOUNDARY_DATASET in delivered else {}
    rest = [i for i in sorted(delivered) if i != BOUNDARY_DATASET]
    with ThreadPoolExecutor(max_workers=max(1, len(rest))) as pool:
        states.update(zip(rest, pool.map(validate, rest)))
    new_overdue_alerts(storage, catalog)
    department_board(storage, catalog)
    deliveries_seconds = time.perf_counter() - start
    topics: dict[str, Any] = {}
    for seq in catalog.topic_order():
        topic = catalog.topic(seq)
        if topic.code not in TOPIC_RUNNERS:
            continue
        t0 = time.perf_counter()
        readiness = check_readiness(storage, catalog, topic)
        if readiness.missing_required:
            raise RuntimeError(missing_message(catalog, topic, readiness))
        result = run_topic(storage, catalog, topic.code, readiness.to_dict(),
                           topic_overrides(topic.code, overrides.get(topic.code)))
        record_run(storage, topic.code, "done", "skipped: unchanged" if result["skipped"] else "published",
                   run_key=result["run_key"])
        topics[topic.code] = {"seconds": time.perf_counter() - t0, "skipped": result["skipped"]}
    return {"seconds": time.perf_counter() - start, "deliveries_seconds": deliveries_seconds,
            "deliveries": len(states), "validated": sum(s == "validated" for s in states.values()), "topics": topics}
