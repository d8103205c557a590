"""``erenhot`` — the data engineers' command line.

Commands: ``catalog``, ``graph``, ``sample-kit``, ``ingest``, ``validate``, ``watch``, ``run``, ``tiled``, ``status``, ``lineage``, ``serve``, ``deployments``.
Every command reads and writes the storage root ``ERENHOT_STORAGE_URL`` (default ``./data``).
Prefect is imported only by the commands that run flows, so ``catalog`` and ``status`` are quick.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from erenhot import settings
from erenhot.catalog import load_catalog

# the run history of the embedded default lives beside the data (./.prefect), as with `make run`,
# so `make ui` shows it; set before any command imports Prefect
os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="二连浩特市国土空间总体规划 data pipelines: deliveries, checks, research topics.")
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)  # logs and pipes: no 80-column wrap
md_console = Console(width=None if sys.stdout.isatty() else 200)  # Markdown (receipts) must wrap, not be cut
# refusals and failures go to stderr, so a script reading stdout (--json, graph) never parses an error as data
err_console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 200)


def _refuse(message: str) -> NoReturn:
    """Say on stderr, in one line, why the command was refused, and exit with 2 (no traceback)."""
    err_console.print(f"[red]refused:[/red] {message}")
    raise typer.Exit(2)


def _storage():
    from erenhot.storage import Storage
    return Storage(settings.storage_url())


@app.command()
def catalog(as_json: Annotated[bool, typer.Option("--json", help="print the catalog as JSON")] = False) -> None:
    """Print the plan's catalog: departments, datasets (资料) and research topics (研究课题)."""
    cat = load_catalog()
    if as_json:
        typer.echo(json.dumps(cat.to_json(), ensure_ascii=False, indent=2))
        return
    t = Table(title="部门 Departments")
    for c in ("seq", "部门", "department", "datasets"):
        t.add_column(c)
    for d in cat.departments:
        t.add_row(str(d.seq), d.name_zh, d.name_en, str(sum(1 for x in cat.datasets if x.department_seq == d.seq)))
    console.print(t)
    t = Table(title=f"资料 Datasets ({len(cat.numbered_items())} numbered seed items + {len(cat.datasets) - len(cat.numbered_items())} added)")
    for c in ("id", "部门", "名称", "kind", "formats", "used by"):
        t.add_column(c, overflow="fold")
    for x in cat.datasets:
        name = x.name_zh if len(x.name_zh) <= 40 else x.name_zh[:39] + "…"
        t.add_row(x.id, cat.department(x.department_seq).short_zh, name, x.kind, ",".join(x.formats),
                  ",".join(f"T{u:02d}" for u in cat.consumers_of_dataset(x.id)))
    console.print(t)
    t = Table(title="研究课题 Research topics")
    for c in ("seq", "课题", "topic", "lead", "inputs", "outputs", "implemented"):
        t.add_column(c, overflow="fold")
    for tp in cat.topics:
        t.add_row(f"T{tp.seq:02d}", tp.short_zh, tp.name_en, cat.department(tp.lead_department_seq).short_zh,
                  str(len(tp.inputs)), str(len(tp.outputs)), "yes" if tp.implemented else "")
    console.print(t)


@app.command()
def graph() -> None:
    """Print the topic graph (which topic's layers feed which) as Mermaid."""
    typer.echo(load_catalog().to_mermaid())


@app.command("sample-kit")
def sample_kit(
    out_dir: Annotated[Path, typer.Argument(help="folder to write the kit into")],
    real_data: Annotated[Optional[Path], typer.Option("--real-data", help="folder of real Erenhot data, e.g. ../shared/data/real (see its SOURCES.md)")] = None,
    cell_size: Annotated[float, typer.Option(max=100.0, help="raster cell size of generated rasters, m (≤ 100: the 01-03 DEM contract asks for ≤ 100 m)")] = 30.0,
    parcels: Annotated[int, typer.Option(help="number of generated 三调 parcels")] = 3000,
) -> None:
    """Write one delivery file set per dataset the implemented topics compute on (deterministic, mostly synthetic)."""
    from erenhot.samplekit import make_sample_kit
    kit = make_sample_kit(out_dir, real_data=real_data, raster_cell_m=cell_size, n_parcels=parcels)
    for ds_id, entry in sorted(kit.datasets.items()):
        console.print(f"{ds_id:14s} {'synthetic' if entry['synthetic'] else 'real':9s} {', '.join(entry['files'])}")
    console.print(f"kit written to {Path(out_dir).resolve()}")


@app.command()
def ingest(
    department: Annotated[str, typer.Argument(help="department: seq (1-22), slug or short Chinese name")],
    dataset: Annotated[str, typer.Argument(help="catalog dataset id, e.g. 01-46a.dltb")],
    files: Annotated[list[Path], typer.Argument(help="delivered files or folders")],
    by: Annotated[Optional[str], typer.Option(help="who delivers (default: the department and the OS user)")] = None,
    crs: Annotated[Optional[str], typer.Option("--crs", help="coordinate system of layers without (or with a wrong) .prj, e.g. EPSG:4546")] = None,
) -> None:
    """Store a delivery in the landing zone (immutable, checksummed) and emit its event."""
    from erenhot.landing import DeliveryError, ingest as do_ingest
    from tasks import events

    storage = _storage()
    cat = load_catalog()
    try:
        result = do_ingest(storage, cat, department, dataset, files, delivered_by=by, crs_override=crs)
    except DeliveryError as exc:
        _refuse(str(exc))
    d = result.delivery
    if not result.created:
        console.print(f"{d.dataset_id}: identical bytes already delivered as {d.version}; nothing new")
        return
    ds = cat.dataset(d.dataset_id)
    how = events.emit(storage, "erenhot.dataset.delivered", events.dataset_resource(ds.id, ds.name_zh, d.department_seq, d.version),
                      {"files": [f.name for f in d.files], "delivery_hash": d.delivery_hash})
    console.print(f"{d.dataset_id} {ds.name_zh}: delivered {len(d.files)} file(s) as {d.version} "
                  f"→ {storage.uri(d.prefix)} (event {how})")


@app.command()
def validate(
    datasets: Annotated[Optional[list[str]], typer.Argument(help="dataset ids (default: every delivered dataset)")] = None,
    force: Annotated[bool, typer.Option(help="run the suites again on already checked deliveries")] = False,
) -> None:
    """Run the GX suites on the newest delivery of each dataset (without a Prefect flow)."""
    from erenhot.acceptance import accept_delivery
    from erenhot.landing import latest_delivery

    storage = _storage()
    cat = load_catalog()
    for i in datasets or []:
        try:
            cat.dataset(i)
        except KeyError as exc:
            _refuse(exc.args[0] if exc.args else f"unknown dataset id {i!r}")
    ids = datasets or [d.id for d in cat.datasets if latest_delivery(storage, d.id) is not None]
    if not ids:
        console.print(f"nothing delivered yet in {storage.url} (erenhot ingest DEPT DATASET FILE…)")
        return
    ids = sorted(ids, key=lambda i: (i != "01-04", i))
    bad = 0
    for i in ids:
        d = latest_delivery(storage, i)
        if d is None:
            console.print(f"{i}: nothing delivered")
            continue
        rep = accept_delivery(storage, cat, d, force=force)
        console.print(f"{i} {d.version}: {rep['state']} — {rep['summary']}")
        for line in rep["failures"]:
            console.print(f"  [red]✘[/red] {line}")
        bad += rep["state"] == "failed"
    raise typer.Exit(1 if bad else 0)


@app.command()
def run(
    kit: Annotated[Optional[Path], typer.Option(help="a sample-kit folder to ingest from (default: a fresh sample kit)")] = None,
    real_data: Annotated[Optional[Path], typer.Option("--real-data", help="with no --kit: build the kit from this real-data folder")] = None,
    cell_size: Annotated[Optional[float], typer.Option(min=1.0, help="analysis grid cell size, m (default from the T02 config: 30)")] = None,
    revalidate: Annotated[bool, typer.Option(help="run the GX suites again on already checked deliveries")] = False,
) -> None:
    """Run the whole plan that exists: ingest what the landing zone lacks, validate, topics in graph order.

    Without --kit, a sample kit is generated only when the landing zone is empty: synthetic data is
    never mixed into a storage that already holds deliveries.
    """
    from erenhot.samplekit import make_sample_kit

    if kit is not None and not (kit / "kit.json").is_file():
        what = "does not exist" if not kit.exists() else "has no kit.json (write one with: erenhot sample-kit DIR)"
        _refuse(f"--kit {kit} {what}")
    storage = _storage()
    tmp: str | None = None
    kit_dir = kit
    landing_empty = not storage.list_dirs("landing")
    if kit_dir is None and not landing_empty:
        console.print(f"running on the deliveries in {storage.url} (no sample kit: the landing zone is not empty)")
    if kit_dir is None and landing_empty:
        tmp = tempfile.mkdtemp(prefix="erenhot-kit-")
        console.print("generating a sample kit" + (f" from the real data in {real_data}" if real_data else "") + " …")
        make_sample_kit(tmp, real_data=real_data, raster_cell_m=min(cell_size or 30.0, 100.0))
        kit_dir = Path(tmp)
    overrides = {"t02": {"grid.cell_size_m": cell_size}} if cell_size else {}
    from prefect import tags

    from flows.plan import plan

    try:
        with tags("erenhot", "plan"):
            state = plan(kit_dir=str(kit_dir) if kit_dir else None, storage_url=storage.url,
                         config_overrides=overrides, revalidate=revalidate, return_state=True)
        ok = state.is_completed()
        if not ok:
            err_console.print(f"[red]the plan run failed:[/red] {state.message}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    _print_status(storage, products_only=True)
    raise typer.Exit(0 if ok else 1)


@app.command()
def tiled(
    cell_size: Annotated[Optional[float], typer.Option(min=1.0, help="grid cell size, m: the one T02 and T14 were published with (default: T02's config)")] = None,
    tile: Annotated[int, typer.Option(min=16, help="tile side, cells")] = 512,
    dask_address: Annotated[Optional[str], typer.Option("--dask-address", help="scheduler of a running Dask cluster, e.g. tcp://10.0.0.5:8786")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="worker processes of a temporary local Dask cluster")] = None,
    compare: Annotated[bool, typer.Option(help="check each tiled layer against the layer T02/T03 published")] = False,
) -> None:
    """T02 + T03's grid evaluation tile by tile (halo, whole-area passes) as the tiled-dual-evaluation flow.

    Sources: the validated deliveries and T14's published travel time (run the plan first). The tiles
    run in threads, on a temporary local Dask cluster (--workers N), or on a running cluster
    (--dask-address) whose workers reach the same storage (s3://). Layers go to layers/tiled/.
    """
    from erenhot.evaluation.tiled_dual import save_plan
    from erenhot.topics.tiled import compare_with_published, plan_from_deliveries

    storage = _storage()
    if dask_address and workers:
        _refuse("give --dask-address or --workers, not both")
    try:
        tiled_plan = plan_from_deliveries(storage, load_catalog(), t02_overrides={"grid.cell_size_m": cell_size} if cell_size else None,
                                          tile_size=tile)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    saved = save_plan(tiled_plan, "work/tiled/plan.pkl")
    console.print(f"{tiled_plan.grid.height}×{tiled_plan.grid.width} cells of {tiled_plan.grid.cell_size_m:g} m in "
                  f"{len(tiled_plan.tiles())} tiles; plan {saved['uri']}")
    from flows.tiled import run_on_dask, tiled_dual_evaluation

    try:
        if dask_address or workers:
            out = run_on_dask(storage.url, saved["path"], saved["sha256"], dask_address=dask_address, n_workers=workers)
        else:
            out = tiled_dual_evaluation(storage.url, saved["path"], saved["sha256"])
    except Exception as exc:  # noqa: BLE001 - the flow run is recorded in Prefect; say why in one line here
        err_console.print(f"[red]the tiled evaluation failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    same = compare_with_published(storage, out["layers"]) if compare else {}
    table = Table("layer", "sha256", *(["= published"] if compare else []), title=f"{out['tiles']} tiles, {out['cells_inside']:,} cells inside")
    for name, entry in out["layers"].items():
        table.add_row(entry["uri"], entry["sha256"][:16], *([{True: "yes", False: "[red]NO[/red]"}.get(same.get(name), "–")] if compare else []))
    if compare and len(same) < len(out["layers"]):
        table.caption = "–: no raster published under that name to compare with (T03 publishes conflicts as polygons)"
    console.print(table)
    raise typer.Exit(1 if compare and not all(same.values()) else 0)


def _print_status(storage, products_only: bool = False, datasets: bool = True) -> None:
    from erenhot.status import plan_status

    st = plan_status(storage, load_catalog())
    if not products_only and datasets:
        t = Table(title=f"资料 Datasets in {st['storage']}")
        for c in ("id", "名称", "state", "version", "problem"):
            t.add_column(c, overflow="fold")
        for d in st["datasets"]:
            if d["state"] == "missing":
                continue
            t.add_row(d["id"], d["name_zh"][:30], d["state"], d["version"] or "", "\n".join(d["failures"][:5]))
        console.print(t)
        missing = sum(1 for d in st["datasets"] if d["state"] == "missing")
        console.print(f"{missing} catalog datasets have no delivery yet (erenhot status --json lists them)")
    failed = [d for d in st["datasets"] if d["state"] == "failed"]
    if failed:  # said at the end of a run too: a topic "done" may rest on an older delivery
        console.print(f"[yellow]{len(failed)} newest deliveries failed validation[/yellow] "
                      "(erenhot status DEPT DATASET shows the receipt):")
        for d in failed:
            used = f"older version {d['validated_version']} in use" if d["validated_version"] else "no accepted version: topics reading it wait"
            console.print(f"    {d['id']} {d['name_zh'][:24]} — {d['version']} refused; {used}", soft_wrap=True)
    console.print("[bold]研究课题 Topics and where their products are[/bold]")
    for tp in st["topics"]:
        if not tp["implemented"]:
            if not products_only:
                console.print(f"T{tp['seq']:02d} {tp['name_zh']}: not implemented yet", soft_wrap=True)
            continue
        console.print(f"T{tp['seq']:02d} {tp['name_zh']}: [bold]{tp['state']}[/bold]"
                      + (f" — {tp['message']}" if tp.get("message") else ""), soft_wrap=True)
        if tp.get("report"):
            console.print(f"    report  {tp['report']}", soft_wrap=True)
        for o in tp["outputs"]:
            console.print(f"    {o['id']:28s} {o['uri']}", soft_wrap=True)


@app.command()
def status(
    department: Annotated[Optional[str], typer.Argument(help="a department (seq, slug or short Chinese name)")] = None,
    dataset: Annotated[Optional[str], typer.Argument(help="a dataset id of that department: shows its delivery receipt")] = None,
    version: Annotated[Optional[str], typer.Option(help="with DATASET: a delivery version (or a unique prefix)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Readiness of the 22 departments and the topics; with DEPT its datasets; with DEPT DATASET the receipt.

    States: datasets delivered / validated / failed / missing; topics done / out of date / failed / waiting / not-run / not implemented yet.
    """
    from rich.markdown import Markdown

    from erenhot.board import board_table_rows, department_board, department_detail, department_markdown
    from erenhot.landing import DeliveryError
    from erenhot.receipts import receipt_for
    from erenhot.status import plan_status

    storage = _storage()
    cat = load_catalog()
    if department is None:
        if as_json:
            doc = plan_status(storage, cat)
            doc["departments"] = department_board(storage, cat)
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
            return
        rows = board_table_rows(department_board(storage, cat))
        t = Table(title=f"资料收集进度 Readiness of the departments · {storage.url}")
        for c in rows[0]:
            t.add_column(str(c), overflow="fold")
        for r in rows:
            t.add_row(*[str(v) for v in r.values()])
        console.print(t)
        _print_status(storage, products_only=False, datasets=False)
        return
    try:
        detail = department_detail(storage, cat, department)
    except DeliveryError as exc:
        _refuse(str(exc))
    if dataset is None:
        if as_json:
            typer.echo(json.dumps(detail, ensure_ascii=False, indent=2, default=str))
        else:
            md_console.print(Markdown(department_markdown(detail)))
        return
    try:
        ds = cat.dataset(dataset)
    except KeyError as exc:
        _refuse(exc.args[0] if exc.args else f"unknown dataset id {dataset!r}")
    if ds.department_seq != detail["seq"]:
        _refuse(f"{ds.id} is delivered by department {ds.department_seq}, not {detail['seq']}")
    try:
        text = receipt_for(storage, cat, ds.id, version)
    except KeyError as exc:
        _refuse(exc.args[0] if exc.args else str(exc))
    if text is None:
        files = ", ".join((ds.delivery or {}).get("files", [])) or "see erenhot catalog"
        console.print(f"{ds.id} {ds.name_zh}: nothing delivered yet (expected: {files})")
        return
    if as_json:
        typer.echo(json.dumps({"dataset": ds.id, "receipt": text}, ensure_ascii=False, indent=2))
    else:
        md_console.print(Markdown(text))


@app.command()
def watch(
    quiet: Annotated[float, typer.Option(min=0.0, help="seconds a dropped file must stay unchanged before it is registered")] = 60.0,
    every: Annotated[Optional[float], typer.Option(min=10.0, help="keep watching: scan every N seconds (a served flow)")] = None,
) -> None:
    """Register files departments dropped under landing/<department>/<dataset>/ and validate them."""
    from prefect import tags

    from flows.watcher import watch_landing

    storage = _storage()
    if every:
        watch_landing.serve(name="erenhot-watch-landing", interval=every,
                            parameters={"storage_url": storage.url, "quiet_seconds": quiet})
        return
    with tags("erenhot", "watch"):
        result = watch_landing(storage_url=storage.url, quiet_seconds=quiet)
    for r in result["registered"]:
        what = f"delivered as {r['version']}" if r["created"] else "already delivered"
        console.print(f"{r['dataset_id']:14s} {what} ← {r['folder']}")
    for w in result["waiting"]:
        console.print(f"waiting: {w['folder']}{w['file']} — {w['reason']}")
    for p in result["problems"]:
        console.print(f"[red]not registered:[/red] {p['path']} — {p['problem']}")
    for ds_id, state in sorted(result.get("validated", {}).items()):
        console.print(f"{ds_id:14s} {state}")
    if not (result["registered"] or result["waiting"] or result["problems"]):
        console.print(f"nothing new under {storage.uri('landing')}/<department>/<dataset>/")
    raise typer.Exit(1 if result["problems"] else 0)


@app.command()
def lineage(
    layer: Annotated[str, typer.Argument(help="a layer id, e.g. t03.urban_suitability")],
    as_json: Annotated[bool, typer.Option("--json", help="print the tree as JSON")] = False,
) -> None:
    """Every delivery and upstream layer version the current version of LAYER was built from."""
    from erenhot.lineage import LineageError, layer_lineage, render_tree

    try:
        tree = layer_lineage(_storage(), load_catalog(), layer)
    except LineageError as exc:
        _refuse(str(exc))
    if as_json:
        typer.echo(json.dumps(tree, ensure_ascii=False, indent=2))
    else:
        for line in render_tree(tree):
            console.print(line, markup=False)


@app.command()
def serve(limit: Annotated[int, typer.Option(min=1, help="flow runs at once in this process")] = 2,
          debounce: Annotated[int, typer.Option(min=0, help="trigger window, s: a burst of events within it → one run, "
                                                         "this long after the first")] = 60) -> None:
    """Serve the deployments of prefect.yaml from this process (triggers, nightly plan, watcher) against
    the configured Prefect API; needs a running server (PREFECT_API_URL)."""
    from tasks.events import api_url

    if not api_url():
        err_console.print("[red]erenhot serve needs a Prefect server:[/red] start `prefect server start` and export "
                          "PREFECT_API_URL=http://127.0.0.1:4200/api (triggers and schedules live on the server)")
        raise typer.Exit(2)
    from prefect import serve as prefect_serve

    from flows.deployments import runner_deployments

    prefect_serve(*runner_deployments(load_catalog(), _storage().url, debounce_seconds=debounce), limit=limit)


@app.command()
def deployments(
    write: Annotated[bool, typer.Option(help="write the file instead of printing it")] = False,
    pool: Annotated[str, typer.Option(help="work pool of every deployment (e.g. a docker or kubernetes pool)")] = "erenhot-process",
    image: Annotated[Optional[str], typer.Option(help="container image for a Docker/Kubernetes pool (project at /opt/erenhot)")] = None,
    output: Annotated[Optional[Path], typer.Option(help="file to --write (default prefect.yaml for the process pool)")] = None,
) -> None:
    """Print (or --write) prefect.yaml, derived from the catalog; --pool/--image for production pools."""
    from flows.deployments import WORK_POOL, render_text

    text = render_text(load_catalog(), pool=pool, image=image)
    if write:
        if output is None and (pool != WORK_POOL or image):
            err_console.print("[red]--write with --pool/--image needs --output[/red] (prefect.yaml stays the process-pool file "
                              "the tests check), e.g. --output deployments/prefect.docker.yaml")
            raise typer.Exit(2)
        target = output or Path("prefect.yaml")
        target.write_text(text, encoding="utf-8")
        console.print(f"{target} written")
    else:
        typer.echo(text)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
