"""Tile work on a Dask cluster: ``prefect_map`` under prefect-dask's ``DaskTaskRunner``.

One ``distributed.LocalCluster`` of two worker processes for the module (built from the keyword
arguments :func:`tasks.tiles.dask_task_runner` gives a temporary cluster), flows connected to it
by its scheduler address, task runs reported to the session's Prefect test server.

The worker processes get no ``PREFECT_API_URL`` from their environment: every submitted task
carries the flow's settings (``prefect.context.serialize_context``), so the task runs report to the
API of the flow that submitted them. The workers are spawned from this process, so they inherit its
``sys.path`` (this module, the editable install) and its environment (``DO_NOT_TRACK=1`` etc. set in
conftest.py). The functions and the ``Tile`` class below are module-level so that the workers can
import them by reference.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tasks.tiles import TileStepError, dask_task_runner, prefect_map

pytestmark = pytest.mark.flow

N_TILES = 8


@dataclass(frozen=True)
class Tile:
    index: int
    path: str


def serial_map(fn, items):
    """The library's default mapper (the contract ``prefect_map`` must match)."""
    return [fn(item) for item in items]


def tile_digest(tile: Tile) -> dict[str, Any]:
    """Read a tile's array from its file; its checksum, column sums and the pid that did the work."""
    data = Path(tile.path).read_bytes()
    array = np.load(tile.path)
    return {"index": tile.index, "sha256": hashlib.sha256(data).hexdigest(), "col_sums": array.sum(axis=0), "pid": os.getpid()}


def fail_on_tile_3(tile: Tile) -> int:
    if tile.index == 3:
        raise ValueError(f"tile {tile.index} has no data")
    return tile.index


def die_on_tile_2(tile: Tile) -> int:
    """Kill the worker process running tile 2 once the API shows its task run Running (a worker lost
    to OOM or a node failure mid-tile); other tiles return their index."""
    if tile.index != 2:
        return tile.index
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.runtime import task_run

    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                state = client.read_task_run(task_run.id).state
                if state is not None and state.is_running():
                    break
            except ObjectNotFound:
                pass
            time.sleep(0.2)
    os._exit(1)


def _worker_env(name: str) -> str | None:
    return os.environ.get(name)


def _write_tiles(root: Path, n: int = N_TILES) -> list[Tile]:
    rng = np.random.default_rng(7)
    tiles = []
    for i in range(n):
        path = root / f"tile_{i}.npy"
        np.save(path, rng.integers(0, 100, size=(16, 4)))
        tiles.append(Tile(i, str(path)))
    return tiles


def _final_task_runs(flow_run_id, n: int, timeout: float = 60.0):
    """The flow run's task runs once ``n`` of them are recorded in a final state (task-run states reach
    the server as events, recorded asynchronously), or whatever is recorded at ``timeout``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if (len(runs) >= n and all(r.state is not None and r.state.is_final() for r in runs)) or time.monotonic() > deadline:
                return runs


@pytest.fixture(scope="module")
def cluster(prefect_server):
    """A LocalCluster of 2 worker processes (1 thread each, no dashboard); a worker that dies while
    running a task fails that task at once (``allowed_failures=0``) instead of 3 more workers dying."""
    import distributed

    kwargs = dict(dask_task_runner(n_workers=2).cluster_kwargs)
    assert kwargs["n_workers"] == 2 and kwargs["threads_per_worker"] == 1 and kwargs["processes"] is True
    kwargs["scheduler_kwargs"] = {**kwargs["scheduler_kwargs"], "allowed_failures": 0}
    with distributed.LocalCluster(**kwargs) as cluster:
        yield cluster


@pytest.fixture()
def dask_client(cluster):
    """A plain client to ask the workers for their pids. Not the default client: prefect-dask would
    otherwise take the cluster from it instead of connecting to the runner's address."""
    import distributed

    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def _tile_flow(address: str):
    from prefect import flow
    from prefect_dask import DaskTaskRunner

    @flow(name="dask-tiles-test", task_runner=DaskTaskRunner(address=address))
    def run_tiles(fn, items: list) -> list:
        return prefect_map(fn, items)

    return run_tiles


def test_prefect_map_runs_every_tile_in_the_dask_worker_processes_and_matches_serial_map(cluster, dask_client, tmp_path):
    tiles = _write_tiles(tmp_path)
    state = _tile_flow(cluster.scheduler_address)(tile_digest, tiles, return_state=True)
    assert state.is_completed(), state.message
    results = state.result()
    expected = serial_map(tile_digest, tiles)
    assert [(r["index"], r["sha256"]) for r in results] == [(e["index"], e["sha256"]) for e in expected]
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got["col_sums"], want["col_sums"])

    worker_pids = set(dask_client.run(os.getpid).values())
    pids = {r["pid"] for r in results}
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert pids <= worker_pids and os.getpid() not in pids
    assert len(pids) == 2  # 8 tiles, two idle one-thread workers: both take some
    for name, value in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}.items():
        assert set(dask_client.run(_worker_env, name).values()) == {value}  # analytics off in the workers

    runs = _final_task_runs(state.state_details.flow_run_id, N_TILES)  # reported to the session's server
    assert sorted(r.name for r in runs) == sorted(f"tile-step tile_digest #{i}" for i in range(N_TILES))
    assert {r.state.name for r in runs} == {"Completed"}


def test_a_library_function_is_importable_in_the_workers(cluster):
    from erenhot.formats import part_kind

    names = ["DLTB.shp", "DLTB.dbf", "dem.tif", "DLTB.gdb/a00000001.gdbtable", "人口.csv", "readme.pdf"]
    assert _tile_flow(cluster.scheduler_address)(part_kind, names) == serial_map(part_kind, names)


def test_a_failing_tile_fails_its_task_run_and_the_flow_names_it(cluster, tmp_path):
    tiles = _write_tiles(tmp_path)
    state = _tile_flow(cluster.scheduler_address)(fail_on_tile_3, tiles, return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, TileStepError)
    assert [(i, item) for i, item, _ in error.failures] == [(3, tiles[3])]
    assert "failed on 1 of 8 items" in str(error) and f"#3 {tiles[3]!r}: ValueError: tile 3 has no data" in str(error)
    assert isinstance(error.__cause__, ValueError)

    runs = {r.name: r.state for r in _final_task_runs(state.state_details.flow_run_id, N_TILES)}
    assert runs.pop("tile-step fail_on_tile_3 #3").name == "Failed"
    assert {s.name for s in runs.values()} == {"Completed"} and len(runs) == N_TILES - 1


def test_a_tile_whose_worker_dies_is_recorded_crashed_and_named(cluster, dask_client, tmp_path):
    tiles = _write_tiles(tmp_path, 4)
    state = _tile_flow(cluster.scheduler_address)(die_on_tile_2, tiles, return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, TileStepError)
    # tile 2 and any tile queued on the same worker when it died (allowed_failures=0: not retried)
    lost = [i for i, _, _ in error.failures]
    assert 2 in lost and {type(e).__name__ for _, _, e in error.failures} == {"KilledWorker"}
    assert len(lost) < 4 and f"#2 {tiles[2]!r}: KilledWorker" in str(error)

    runs = {r.name: r.state for r in _final_task_runs(state.state_details.flow_run_id, 4, timeout=20)}
    assert runs.pop("tile-step die_on_tile_2 #2").name == "Crashed"
    # a tile queued on that worker but never started has no task run to mark; one that had started is Crashed
    assert {runs.pop(f"tile-step die_on_tile_2 #{i}").name for i in lost if i != 2 and f"tile-step die_on_tile_2 #{i}" in runs} <= {"Crashed"}
    assert {s.name for s in runs.values()} == {"Completed"} and len(runs) == 4 - len(lost)
    dask_client.wait_for_workers(2, timeout=60)  # the nanny restarts the dead worker


def test_prefect_map_under_the_default_thread_runner_matches_serial_map(prefect_server, tmp_path):
    from prefect import flow

    @flow(name="thread-tiles-test")
    def run_tiles(items: list) -> list:
        return prefect_map(fail_on_tile_3, items)

    tiles = [t for t in _write_tiles(tmp_path) if t.index != 3]
    assert run_tiles(tiles) == serial_map(fail_on_tile_3, tiles)
    assert run_tiles([]) == []


def test_dask_task_runner_connects_to_an_address_or_describes_a_local_cluster():
    runner = dask_task_runner("tcp://10.0.0.5:8786")
    assert runner.address == "tcp://10.0.0.5:8786" and runner.cluster_kwargs == {}
    local = dask_task_runner(n_workers=3)
    assert local.address is None and local.cluster_kwargs["n_workers"] == 3
    assert local.cluster_kwargs["dashboard_address"] is None
    assert "n_workers" not in dask_task_runner().cluster_kwargs
    with pytest.raises(ValueError, match="not both"):
        dask_task_runner("tcp://10.0.0.5:8786", n_workers=2)
    with pytest.raises(ValueError, match="at least 1"):
        dask_task_runner(n_workers=0)


# ── the 双评价 engine on the cluster ─────────────────────────────────────────────────────────────


def test_t02_and_t03_tiles_on_two_dask_workers_equal_the_whole_array_layers(cluster, dask_client, published):
    """The tiled flow with its tile steps on the two workers gives the composers' whole-array layers."""
    from prefect_dask import DaskTaskRunner

    from erenhot.evaluation.tiled_dual import save_plan
    from flows.tiled import tiled_dual_evaluation
    from tiled_helpers import assert_same_layers, tiled_plan

    storage, cat, layers = published
    plan = tiled_plan(storage, cat, 64, prefix="work/dask")
    saved = save_plan(plan, "work/dask/plan.pkl")
    flow = tiled_dual_evaluation.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
    state = flow(storage.url, saved["path"], saved["sha256"], "layers/dask", return_state=True)
    assert state.is_completed(), state.message
    out = state.result()
    assert out["tiles"] == len(plan.tiles()) > 12

    class Result:  # the shape assert_same_layers reads
        layers = out["layers"]

    assert_same_layers(storage.url, Result, layers)
    runs = _final_task_runs(state.state_details.flow_run_id, 5 * out["tiles"])
    assert len(runs) == 5 * out["tiles"]  # stats, capacity, importance, patches, suitability for every tile
    assert {r.state.name for r in runs} == {"Completed"}
    assert any(r.name == "tile-step step_capacity #0" for r in runs)


def test_a_changed_plan_is_refused_before_any_tile_runs(published):
    from erenhot.evaluation.tiled_dual import load_plan, save_plan
    from tiled_helpers import tiled_plan

    storage, cat, _ = published
    saved = save_plan(tiled_plan(storage, cat, 64, prefix="work/changed"), "work/changed/plan.pkl")
    storage.write_bytes(saved["path"], storage.read_bytes(saved["path"]) + b"\0")
    with pytest.raises(ValueError, match="has sha256 .*, not the"):
        load_plan(storage.url, saved["path"], saved["sha256"])
