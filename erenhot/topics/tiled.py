"""A tiled 双评价 plan from the deliveries in a storage: T02 and T03's inputs on the grid as sources.

The sources are what the composers compute (:func:`erenhot.topics.t02_carrying_capacity.grid_inputs`,
:func:`erenhot.topics.t03_suitability.grid_inputs`), written as GeoTIFFs under a work prefix; the plan
then runs tile by tile (:func:`erenhot.evaluation.tiled_dual.evaluate_tiled`), in this process or on a
Dask cluster (``erenhot tiled``, ``flows/tiled.py``). The inputs are brought onto the grid whole here —
fine at a city's size; a region beyond one machine's memory writes its sources window by window
instead (as ``bench/scale.py`` does for synthetic ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from erenhot.catalog import Catalog
from erenhot.config import load_config
from erenhot.evaluation import tiled_dual
from erenhot.grid import Grid, boundary_mask, read_raster
from erenhot.readiness import check_readiness, missing_message
from erenhot.storage import Storage
from erenhot.topics import t02_carrying_capacity as t02
from erenhot.topics import t03_suitability as t03
from erenhot.topics.inputs import TopicInputs

__all__ = ["compare_with_published", "plan_from_deliveries"]


def _inputs(storage: Storage, catalog: Catalog, code: str) -> TopicInputs:
    topic = catalog.topic(code)
    readiness = check_readiness(storage, catalog, topic)
    if readiness.missing_required:
        raise ValueError(missing_message(catalog, topic, readiness))
    return TopicInputs(storage, readiness.to_dict())


def plan_from_deliveries(storage: Storage, catalog: Catalog, *, t02_overrides: dict[str, Any] | None = None,
                         tile_size: int = 512, prefix: str = "work/tiled") -> tiled_dual.TiledPlan:
    """T02 + T03's grid inputs from the validated deliveries (and T14's published travel time), written
    under ``prefix/sources``, and the tiled plan over them (tile arrays under ``prefix/tiles``).

    Args:
        t02_overrides: T02 config overrides (dotted paths), e.g. ``{"grid.cell_size_m": 100}``; T03 uses
            its shipped config.
        tile_size: inner tile side, cells.

    Raises:
        ValueError: a required input of T02 or T03 is missing (the message names department, seed item
            and dataset, or the layer), or T02's published layers lie on another grid than ``t02_overrides``
            gives (run topics 2 and 14 with the same cell size first).
    """
    inputs2 = _inputs(storage, catalog, "t02")
    cfg2 = load_config(t02.CONFIG, t02_overrides or {})
    city = inputs2.vector("01-04", "city")
    grid = Grid.for_geometry(city, float(cfg2.values["grid"]["cell_size_m"]))
    inside = boundary_mask(city, grid)
    block2, capacity, _, _ = t02.grid_inputs(inputs2, cfg2, grid, inside, [])
    block3, suitability, grid3, _, _ = t03.grid_inputs(_inputs(storage, catalog, "t03"), load_config(t03.CONFIG))
    if grid3 != grid:
        raise ValueError(f"T02's published layers lie on a {grid3.cell_size_m:g} m grid {grid3.shape}, this plan on "
                         f"{grid.cell_size_m:g} m {grid.shape}: run topics 2 and 14 with the same cell size first")
    t03_sources = ("minutes", "grass", "urban_land", *(f"dlbm_{g}" for g in suitability.dlbm_groups))
    sources = tiled_dual.write_sources(storage, f"{prefix}/sources", grid, {**block2, **{k: block3[k] for k in t03_sources}})
    return tiled_dual.TiledPlan(storage.url, grid, sources, capacity, suitability, tile_size=tile_size, work_prefix=f"{prefix}/tiles")


def compare_with_published(storage: Storage, layers: dict[str, dict[str, str]]) -> dict[str, bool]:
    """Whether each tiled layer equals, cell for cell, the layer of the same name T02/T03 published
    (``t02.<name>`` or ``t03.<name>``; layers published only as polygons, like ``conflicts``, are left out)."""
    from erenhot.products import layer_output

    out = {}
    for name, entry in layers.items():
        for code in ("t02", "t03"):
            published = layer_output(storage, f"{code}.{name}")
            if published is not None and str(published.get("path", "")).endswith(".tif"):
                a = read_raster(storage.read_bytes(published["path"]))[0]
                b = read_raster(storage.read_bytes(entry["path"]))[0]
                out[name] = a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating)))
    return out
