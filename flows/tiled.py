"""双评价 window by window as a Prefect flow: every tile step a ``tile-step`` task run, on threads or a Dask cluster.

The library (:mod:`erenhot.evaluation.tiled_dual`) does the work; this flow only hands its per-tile
steps to the flow's task runner through :func:`tasks.tiles.prefect_map`. The plan (sources on the grid,
settings, tile size) is stored beforehand with :func:`erenhot.evaluation.tiled_dual.save_plan` and
passed by path and sha256; the layers come back as paths, URIs and sha256 in the same storage.

On a cluster (README, "Beyond one machine"): the storage is ``s3://``, the workers run the same
project version, and ``dask_address`` names the scheduler; without it, ``n_workers`` worker processes
of a temporary local cluster do the tiles.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.logging import get_run_logger

from erenhot.evaluation.tiled_dual import evaluate_tiled, load_plan
from tasks.tiles import dask_task_runner, prefect_map


@flow(name="tiled-dual-evaluation", flow_run_name="双评价 tiled · {plan_path}",
      description="T02 资源环境承载能力 + T03 国土空间开发适宜性, grid evaluation tile by tile (halo, whole-area passes)")
def tiled_dual_evaluation(storage_url: str, plan_path: str, plan_sha256: str, out_prefix: str = "layers/tiled") -> dict[str, Any]:
    """Evaluate the stored plan tile by tile; returns ``{"tiles", "cells_inside", "break_values", "layers"}``
    with ``layers`` = name → ``{"path", "uri", "sha256"}``.

    Raises:
        ValueError: the stored plan's sha256 differs from ``plan_sha256``, or a source lies on another grid.
        tasks.tiles.TileStepError: one or more tiles failed (named, with their errors).
    """
    plan = load_plan(storage_url, plan_path, plan_sha256)
    tiles = plan.tiles()
    get_run_logger().info("%d×%d cells in %d tiles of %d (halo %d)", plan.grid.height, plan.grid.width, len(tiles), plan.tile_size,
                          tiles[0].halo)
    result = evaluate_tiled(plan, prefect_map, out_prefix=out_prefix)
    return {"tiles": result.tiles, "cells_inside": result.cells_inside, "break_values": result.break_values, "layers": result.layers}


def run_on_dask(storage_url: str, plan_path: str, plan_sha256: str, *, dask_address: str | None = None,
                n_workers: int | None = None, out_prefix: str = "layers/tiled") -> dict[str, Any]:
    """:func:`tiled_dual_evaluation` with its tiles on Dask: a running scheduler (``dask_address``, e.g.
    ``tcp://10.0.0.5:8786``) or a temporary local cluster of ``n_workers`` processes."""
    runner = dask_task_runner(dask_address, n_workers)
    return tiled_dual_evaluation.with_options(task_runner=runner)(storage_url, plan_path, plan_sha256, out_prefix)
