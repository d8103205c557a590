"""Task of the drop-zone watcher: scan ``landing/<department>/<dataset>/`` once, announce new deliveries."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.logging import get_run_logger

from erenhot import watcher
from erenhot.catalog import load_catalog
from erenhot.storage import Storage
from tasks import events


@task(name="scan-landing", task_run_name="scan drop zone (quiet {quiet_seconds} s)")
def scan_landing(storage_url: str, quiet_seconds: float = watcher.DEFAULT_QUIET_SECONDS) -> dict[str, Any]:
    """Register the settled drop folders as deliveries; emit ``erenhot.dataset.delivered`` for each new one.

    The event is the one ``erenhot ingest`` emits (same resource, same payload keys, plus ``source``).
    No retries: a scan is cheap and the next scheduled run repeats it; a retry after a partial scan
    would only find the landed deliveries again as "identical bytes" and not announce them.
    """
    logger = get_run_logger()
    storage = Storage(storage_url)
    catalog = load_catalog()

    def announce(reg: watcher.Registered) -> None:
        if not reg.created:
            return
        d, ds = reg.delivery, catalog.dataset(reg.dataset_id)
        how = events.emit(storage, "erenhot.dataset.delivered",
                          events.dataset_resource(ds.id, ds.name_zh, d.department_seq, d.version),
                          {"files": [f.name for f in d.files], "delivery_hash": d.delivery_hash, "source": reg.folder})
        logger.info("%s %s: %d file(s) from %s registered as %s (event %s)", ds.id, ds.name_zh, len(d.files),
                    reg.folder, d.version, how)

    result = watcher.scan(storage, catalog, quiet_seconds=quiet_seconds, on_delivery=announce)
    for reg in result.registered:
        if not reg.created:
            logger.info("%s: the bytes in %s are already the newest delivery %s", reg.dataset_id, reg.folder,
                        reg.delivery.version)
    for w in result.waiting:
        logger.info("waiting: %s%s — %s", w["folder"], w["file"], w["reason"])
    for p in result.problems:
        logger.warning("not registered: %s — %s", p["path"], p["problem"])
    rows = ([{"folder": r.folder, "dataset": r.dataset_id, "result": f"delivered {r.delivery.version}" if r.created
              else f"already delivered {r.delivery.version}", "files": ", ".join(r.files)} for r in result.registered]
            + [{"folder": w["folder"], "dataset": "", "result": f"waiting: {w['reason']}", "files": w["file"]}
               for w in result.waiting]
            + [{"folder": p["path"], "dataset": "", "result": f"refused: {p['problem']}", "files": ""}
               for p in result.problems])
    if rows:
        create_table_artifact(table=rows, key="landing-watch",
                              description=f"drop zone scan of {storage.uri('landing')}: "
                                          f"{len(result.new_deliveries)} new deliveries, {len(result.waiting)} waiting, "
                                          f"{len(result.problems)} problems")
    return result.to_dict()
