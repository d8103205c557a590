"""Tasks of a research-topic flow: wait for inputs, evaluate, publish artifacts and events."""

from __future__ import annotations

import base64
import time
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.logging import get_run_logger

from erenhot.catalog import load_catalog
from erenhot.products import current_manifest, record_run
from erenhot.readiness import check_readiness, missing_message
from erenhot.storage import Storage
from erenhot.topics import run_topic
from tasks import events
from tasks.deliveries import artifact_key


@task(name="wait-for-inputs", task_run_name="wait for T{topic_seq:02d} inputs")
def wait_for_inputs(storage_url: str, topic_seq: int, wait_seconds: float = 0.0, poll_seconds: float = 10.0) -> dict[str, Any]:
    """Resolve the topic's catalog inputs; wait up to ``wait_seconds`` for missing required ones.

    Publishes the readiness table (present / validated / missing per input). Optional inputs that
    are missing are logged and the topic degrades.

    Returns:
        The readiness dict; when a required input is still missing after the wait it carries
        ``missing_message`` naming the department, the seed item and the dataset of each, and the
        flow ends failed with that message (an expected outcome, so no exception and no traceback).
    """
    logger = get_run_logger()
    storage = Storage(storage_url)
    catalog = load_catalog()
    topic = catalog.topic(topic_seq)
    deadline = time.monotonic() + max(0.0, wait_seconds)
    while True:
        readiness = check_readiness(storage, catalog, topic)
        if not readiness.missing_required or time.monotonic() >= deadline:
            break
        logger.info("waiting for %s", ", ".join(r["input"] for r in readiness.missing_required))
        time.sleep(min(poll_seconds, max(0.1, deadline - time.monotonic())))
    rows = [{"input": r["input"], "名称": r["name_zh"], "kind": r["kind"], "required": "必需" if r["required"] else "可选",
             "source": f"{r['department_seq']} {r['department']}" + (f" · 第{r['seed_item']}项" if r["seed_item"] else ""),
             "state": r["state"], "version": r["version"], "note": r["note"]} for r in readiness.rows]
    create_table_artifact(table=rows, key=artifact_key("readiness", topic.code),
                          description=f"T{topic.seq:02d} {topic.name_zh}: inputs present / validated / missing")
    for r in readiness.missing_optional:
        logger.warning("optional input %s %s is %s: the topic degrades without it", r["input"], r["name_zh"], r["state"])
    out = readiness.to_dict()
    if readiness.missing_required:
        out["missing_message"] = missing_message(catalog, topic, readiness)
        record_run(storage, topic.code, "failed", out["missing_message"])
        logger.error(out["missing_message"])
    return out


@task(name="check-upstream", task_run_name="are T{topic_seq:02d}'s upstream topics current")
def upstream_changes(storage_url: str, topic_seq: int) -> str:
    """Empty when every implemented upstream topic is current; else the reason to defer (logged, and
    recorded as the topic's last run). See :func:`erenhot.readiness.stale_upstream`."""
    from erenhot.readiness import stale_upstream
    from erenhot.topics import TOPIC_RUNNERS

    storage = Storage(storage_url)
    catalog = load_catalog()
    topic = catalog.topic(topic_seq)
    implemented = {t.seq for t in catalog.topics if t.code in TOPIC_RUNNERS}
    stale = stale_upstream(storage, catalog, topic, implemented)
    if not stale:
        return ""
    names = ", ".join(f"{s['topic'].upper()} {s['name_zh']} ({s['reason']})" for s in stale)
    message = (f"deferred: {names}; T{topic.seq:02d} runs again when it publishes its new layers, "
               "instead of computing now on new data mixed with its old layers")
    get_run_logger().info(message)
    record_run(storage, topic.code, "waiting", message)
    return message


def topic_lock_tag(topic_code: str) -> str:
    """The task tag whose concurrency limit of one serialises a topic's evaluations."""
    return f"topic-run-{topic_code}"


@task(name="ensure-topic-lock", task_run_name="one {topic_code} evaluation at a time", retries=2, retry_delay_seconds=1)
def ensure_topic_lock(topic_code: str) -> str:
    """Make sure the tag concurrency limit ``tag:topic-run-<code>`` (limit 1) exists; returns the tag.

    The evaluation task carries that tag, so two runs of one topic — a triggered deployment run and
    the nightly plan's subflow, say — never evaluate at once: the second waits for the slot (the
    lease expires 60 s after a crashed holder stops renewing it), then finds the run key unchanged
    and is skipped. Deployment concurrency limits alone cannot do this: the plan runs topics as
    subflows, not through their deployments.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    tag = topic_lock_tag(topic_code)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(f"tag:{tag}")
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=f"tag:{tag}", limit=1))
            except ObjectAlreadyExists:
                pass  # another run created it first
    return tag


@task(name="evaluate-topic", task_run_name="evaluate {topic_code}")
def evaluate_topic(storage_url: str, topic_code: str, readiness: dict[str, Any],
                   config_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the topic's evaluation in the library and publish its products; reports progress."""
    logger = get_run_logger()
    storage = Storage(storage_url)
    progress_id = create_progress_artifact(progress=0.0, key=artifact_key("progress", topic_code),
                                           description=f"{topic_code} evaluation progress")

    def progress(fraction: float, step: str) -> None:
        update_progress_artifact(progress_id, progress=round(100.0 * fraction, 1), description=step)
        logger.info("%3.0f%% %s", 100.0 * fraction, step)

    previous = {o["id"]: o["sha256"] for o in (current_manifest(storage, topic_code) or {}).get("outputs", [])}
    try:
        result = run_topic(storage, load_catalog(), topic_code, readiness, config_overrides or {}, progress=progress)
    except Exception as exc:
        record_run(storage, topic_code, "failed", f"{type(exc).__name__}: {exc}")
        raise
    update_progress_artifact(progress_id, progress=100.0, description="done" if not result["skipped"] else "unchanged: skipped")
    # outputs whose content differs from the version that was current before this run (a recomputed
    # version, or an earlier one made current again)
    result["changed_outputs"] = [o["id"] for o in result["outputs"] if previous.get(o["id"]) != o["sha256"]]
    return result


@task(name="publish-artifacts", task_run_name="publish {result[topic]} artifacts")
def publish_artifacts(storage_url: str, result: dict[str, Any]) -> None:
    """Artifacts for topic leads (layers table, figures, maps inline, report link) and layer events."""
    storage = Storage(storage_url)
    catalog = load_catalog()
    topic = catalog.topic(result["topic"])
    code = topic.code
    changed = set(result.get("changed_outputs", []))
    create_table_artifact(
        table=[{"layer": o["id"], "名称": o["title"], "kind": o["kind"], "version": result["run_key"],
                "sha256": o["sha256"][:16], "changed": "yes" if o["id"] in changed else "no", "uri": o["uri"]}
               for o in result["outputs"]],
        key=artifact_key("layers", code), description=f"T{topic.seq:02d} {topic.name_zh}: published layers")
    for i, (title, rows) in enumerate(result.get("summary_tables", {}).items(), start=1):
        create_table_artifact(table=rows, key=artifact_key("figures", code, str(i)),
                              description=f"T{topic.seq:02d} {title}")
    lines = [f"## T{topic.seq:02d} {topic.name_zh} · {topic.name_en}", "",
             f"run key `{result['run_key']}`" + (" — unchanged inputs, configuration and code: skipped" if result["skipped"] else ""), ""]
    for name, value in result.get("figures", {}).items():
        lines.append(f"- **{name}**: {value}")
    lines.append("")
    for thumb in result.get("thumbnails", []):
        b64 = base64.b64encode(storage.read_bytes(thumb["path"])).decode("ascii")
        lines += [f"**{thumb['title']}**", "", f"![{thumb['title']}](data:image/png;base64,{b64})", ""]
    for note in result.get("notes", []):
        lines.append(f"> {note}")
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key("summary", code),
                             description=f"T{topic.seq:02d} {topic.name_zh}: figures and maps")
    if result.get("report"):
        create_link_artifact(link=result["report"]["html"], link_text=f"{topic.name_zh} 研究报告 (HTML)",
                             key=artifact_key("report", code), description="the topic report")
    # a new version of a layer is announced only when its content changed: downstream topics whose
    # inputs are byte-identical would only be skipped by their run key
    for o in result["outputs"]:
        if o["id"] in changed:
            events.emit(storage, "erenhot.layer.published",
                        events.layer_resource(o["id"], o["title"], topic.seq, result["run_key"]),
                        {"uri": o["uri"], "sha256": o["sha256"]})
    outcome = ("made an earlier identical version current again" if result.get("restored")
               else "skipped: unchanged" if result["skipped"] else "published")
    record_run(storage, code, "done", outcome, run_key=result["run_key"])
    resume_deferred(storage, catalog, topic)


def resume_deferred(storage: Storage, catalog, topic) -> list[str]:
    """Emit ``erenhot.topic.resume`` for every implemented downstream topic that deferred (its last run
    is ``waiting``): this topic is current now, whether or not its layers changed, so they must look
    again — without this, a topic that deferred to an upstream whose layers came out identical would
    wait until the nightly plan. Returns the codes resumed."""
    from erenhot.products import last_run
    from erenhot.topics import TOPIC_RUNNERS

    resumed = []
    for seq in catalog.downstream_topics(topic.seq, transitive=True):
        down = catalog.topic(seq)
        run = last_run(storage, down.code)
        if down.code in TOPIC_RUNNERS and run is not None and run["state"] == "waiting":
            events.emit(storage, "erenhot.topic.resume", events.topic_resource(down.code, down.name_zh, down.seq),
                        {"after": topic.code})
            resumed.append(down.code)
    return resumed
