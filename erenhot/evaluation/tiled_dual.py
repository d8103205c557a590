"""双评价 window by window: T02 and T03's grid evaluation over tiles, in bounded memory.

The same block functions as the topic composers (:func:`erenhot.evaluation.carrying_capacity.capacity_block`,
:func:`~erenhot.evaluation.carrying_capacity.importance_block`,
:func:`erenhot.evaluation.suitability.suitability_block`) run tile by tile over inputs that lie on the
grid as GeoTIFFs in a storage (local folder or ``s3://``). What needs the whole area is gathered in
small pieces between the steps:

1. ``stats`` (per tile): cells inside the city and the DEM's range there → 用水总量 modulus, F_alt;
2. ``capacity`` (per tile, read with a halo of :func:`~erenhot.evaluation.carrying_capacity.halo_cells`):
   every T02 single-factor and integrated layer;
3. break values of the cumulative-share grading over all tiles
   (:func:`erenhot.evaluation.ecology.cumulative_share_breaks`), then ``importance`` (per tile);
4. ``patches`` (per tile): 8-connected patches of the 集中度/连片度 masks with their edge labels, joined
   across tiles (:func:`erenhot.tiling.patch_sizes`), then ``suitability`` (per tile): T03's layers;
5. each layer assembled into one COG (:meth:`erenhot.tiling.TileStore.mosaic`); the tile arrays are
   then deleted (:meth:`erenhot.tiling.TileStore.clear`).

Peak memory is a few tiles (plus one edge row/column per tile and the patch counts), whatever the
region's size; time grows with the number of cells. The per-tile steps go through a mapper
(:data:`erenhot.tiling.Mapper`): :func:`~erenhot.tiling.serial_map` here, a Dask cluster through
prefect-dask in ``flows/tiled.py``. A tiled run gives the same layers as the whole-array path cell for
cell (tests/test_tiled.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import pickle
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from erenhot.evaluation import carrying_capacity as cc
from erenhot.evaluation import ecology as eco
from erenhot.evaluation import suitability as suit
from erenhot.grid import Grid, write_cog
from erenhot.storage import Storage
from erenhot.tiling import (
    Mapper,
    Tile,
    TilePatches,
    TileStore,
    check_on_grid,
    open_source,
    patch_cells_in_tile,
    patch_sizes,
    plan_tiles,
    read_window,
    serial_map,
    storage_for,
)

__all__ = ["TiledPlan", "TiledResult", "evaluate_tiled", "load_plan", "save_plan", "write_sources"]

CAPACITY_OUT = tuple(n for n in cc.VALUE_LAYERS + cc.CLASS_LAYERS if n not in ("service_importance", "eco_importance"))
SUITABILITY_IN = ("minutes", "grass", "urban_land")  # plus fvc (shared with T02) and the dlbm_<group> masks


def write_sources(storage: Storage, prefix: str, grid: Grid, arrays: Mapping[str, NDArray[Any]]) -> dict[str, str]:
    """Write whole on-grid input arrays as GeoTIFFs under ``prefix`` (``bool`` → uint8); returns name → path.

    For inputs that already fit in memory (the composers' own); large regions write their sources
    window by window instead (e.g. ``bench/scale.py``).
    """
    out = {}
    for name, array in arrays.items():
        a = np.asarray(array)
        rel = f"{prefix}/{name}.tif"
        nodata = np.nan if np.issubdtype(a.dtype, np.floating) else None
        storage.write_bytes(rel, write_cog(a.astype("uint8") if a.dtype == np.bool_ else a, grid, nodata=nodata))
        out[name] = rel
    return out


@dataclass(frozen=True)
class TiledPlan:
    """One tiled run: where the inputs are, the settings, the tile layout and the tile store.

    Attributes:
        storage_url: the storage holding the sources and the tile store.
        grid: the analysis grid (EPSG:4525) every source lies on.
        sources: block input name → GeoTIFF path in the storage: the T02 inputs of
            :mod:`erenhot.evaluation.carrying_capacity` and ``minutes``, ``grass``, ``urban_land``,
            ``dlbm_<group>`` for T03.
        capacity: T02 settings (``dem_range`` is filled in by the ``stats`` step).
        suitability: T03 settings.
        tile_size: inner tile side, cells.
        work_prefix: where the tile store keeps the per-tile arrays.
    """

    storage_url: str
    grid: Grid
    sources: dict[str, str]
    capacity: cc.CapacitySettings
    suitability: suit.SuitabilitySettings
    tile_size: int = 512
    work_prefix: str = "work/tiled"

    @property
    def store(self) -> TileStore:
        return TileStore(self.storage_url, self.work_prefix)

    def tiles(self) -> list[Tile]:
        return plan_tiles(self.grid.shape, self.tile_size, cc.halo_cells(self.capacity))

    def read(self, name: str, tile: Tile) -> NDArray[Any]:
        """The outer window of ``tile`` of source ``name`` (checked to lie on :attr:`grid`)."""
        return read_window(storage_for(self.storage_url), self.sources[name], tile, grid=self.grid)

    def required_sources(self) -> list[str]:
        """Every source the settings need: T02's block inputs, then T03's."""
        return [*_capacity_inputs(self), *SUITABILITY_IN, *(f"dlbm_{g}" for g in self.suitability.dlbm_groups)]

    def check(self, out_prefix: str) -> None:
        """Refuse a plan that cannot run, before any tile step: missing sources, sources on another grid,
        settings made for another cell size, or prefixes that would make the tile store delete sources or
        layers.

        Raises:
            KeyError: sources the settings need are missing (all of them named).
            ValueError: any other of the above (naming the source's URI or the prefix).
        """
        missing = [n for n in self.required_sources() if n not in self.sources]
        if missing:
            raise KeyError(f"the tiled plan lacks the source(s) {', '.join(missing)} (a GeoTIFF on the grid each)")
        if not math.isclose(self.capacity.cell_size_m, self.grid.cell_size_m) or not math.isclose(
                self.suitability.cell_area_km2, self.grid.cell_area_km2):
            raise ValueError(f"the settings are for {self.capacity.cell_size_m:g} m cells ({self.suitability.cell_area_km2:g} km²), "
                             f"the grid has {self.grid.cell_size_m:g} m cells")
        work = self.work_prefix.strip("/")
        inside_work = [p for p in (out_prefix, *self.sources.values()) if p.strip("/") == work or p.strip("/").startswith(work + "/")]
        if not work or inside_work:
            raise ValueError(f"work_prefix {self.work_prefix!r} must name a folder of its own: the tile arrays under it are "
                             f"deleted when the run ends ({', '.join(inside_work) or 'the whole storage'} would go too)")
        storage = storage_for(self.storage_url)
        for name in self.required_sources():
            with open_source(storage, self.sources[name]) as src:
                check_on_grid(src, self.grid, storage.uri(self.sources[name]))


def save_plan(plan: TiledPlan, rel: str) -> dict[str, str]:
    """Store ``plan`` (pickled) at ``rel`` in its storage, for a flow run to take by path and hash.

    Returns:
        ``{"path", "uri", "sha256"}`` — pass ``path`` and ``sha256`` as the flow's parameters.
    """
    storage = storage_for(plan.storage_url)
    data = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
    return {"path": rel, "uri": storage.uri(rel), "sha256": storage.write_bytes(rel, data)}


def load_plan(storage_url: str, rel: str, sha256: str) -> TiledPlan:
    """The plan :func:`save_plan` stored, after checking its sha256 (a plan is only ever unpickled when it
    is byte for byte the one the caller saved).

    Raises:
        ValueError: the stored bytes do not have ``sha256`` (changed since saved, or another plan).
    """
    data = Storage(storage_url).read_bytes(rel)
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"the tiled plan at {Storage(storage_url).uri(rel)} has sha256 {digest}, not the {sha256} it was saved with")
    plan = pickle.loads(data)  # noqa: S301 - our own bytes, checked against the hash recorded when saved
    if not isinstance(plan, TiledPlan):
        raise ValueError(f"{rel} holds a {type(plan).__name__}, not a TiledPlan")
    return plan


@dataclass(frozen=True)
class TiledResult:
    """Layer name → ``{"path", "uri", "sha256"}`` of its COG, the number of tiles, and the gathered
    whole-area figures."""

    layers: dict[str, dict[str, str]]
    tiles: int
    cells_inside: int
    break_values: dict[str, list[float]]


# --------------------------------------------------------------------------- the per-tile steps
# module-level functions of one picklable item, so that Dask workers can run them


Hashes = dict[str, str]
"""layer → sha256 of the tile array a step put, for one tile."""


def _no_halo(tile: Tile) -> Tile:
    return dataclasses.replace(tile, halo=0)


def step_stats(item: tuple[TiledPlan, Tile]) -> tuple[int, float, float]:
    """Cells inside the city and the DEM's min and max there (NaN ignored) in one tile."""
    plan, tile = item
    t = _no_halo(tile)
    inside = plan.read("inside", t).astype(bool)
    dem = plan.read("dem", t).astype("float32")
    values = dem[inside & ~np.isnan(dem)]
    return int(inside.sum()), float(values.min()) if values.size else math.inf, float(values.max()) if values.size else -math.inf


def _capacity_inputs(plan: TiledPlan) -> list[str]:
    s = plan.capacity
    names = ["inside", "dem", "fvc", "sand", "silt", "clay", "om", "caco3", "texture", "land_use", "susceptibility",
             *(f"fault_{a}" for a in s.fault_buffers_m)]
    return names + (["npp"] if s.biodiversity else []) + (["severe"] if s.severe_monitoring else [])


def step_capacity(item: tuple[TiledPlan, Tile]) -> Hashes:
    """T02's per-cell layers of one tile (read with the halo, kept without it) → the tile store."""
    plan, tile = item
    block = {name: plan.read(name, tile) for name in _capacity_inputs(plan)}
    block["inside"] = block["inside"].astype(bool)
    out = cc.capacity_block(block, plan.capacity)
    return {name: plan.store.put(name, tile, tile.crop(out[name]))["sha256"] for name in out}


def step_importance(item: tuple[TiledPlan, Tile, dict[str, list[float]], Hashes]) -> dict[str, str]:
    """Service and 生态保护 importance of one tile from the whole-area break values."""
    plan, tile, break_values, expected = item
    store = plan.store
    block = {"inside": plan.read("inside", _no_halo(tile)).astype(bool),
             **{n: store.get(n, tile, expected[n]) for n in (*break_values, "desertification_fragility", "soil_erosion_fragility")}}
    out = cc.importance_block(block, break_values)
    return {name: store.put(name, tile, out[name])["sha256"] for name in out}


def step_patches(item: tuple[TiledPlan, Tile, Hashes]) -> dict[str, TilePatches]:
    """The tile's patches of the 集中度 (``urban``) and 连片度 (``agri``) masks that touch its edges."""
    plan, tile, expected = item
    store = plan.store
    masks = suit.patch_masks({n: store.get(n, tile, expected[n]) for n in ("urban_capacity", "agri_capacity")}, plan.suitability)
    return {name: TilePatches.of(tile, mask) for name, mask in masks.items()}


def step_suitability(item: tuple[TiledPlan, Tile, dict[str, tuple[NDArray[np.int32], NDArray[np.int64]]], Hashes]) -> dict[str, str]:
    """T03's layers of one tile; ``edges`` = per mask, the tile's edge labels and the cells of their whole
    patches (:func:`erenhot.tiling.patch_sizes`)."""
    plan, tile, edges, expected = item
    store, t = plan.store, _no_halo(tile)
    block: dict[str, Any] = {n: store.get(n, tile, expected[n]) for n in ("eco_importance", "agri_capacity", "urban_capacity", "hazard", "slope")}
    block["inside"] = plan.read("inside", t).astype(bool)
    for name in ("fvc", *SUITABILITY_IN, *(f"dlbm_{g}" for g in plan.suitability.dlbm_groups)):
        block[name] = plan.read(name, t)
    for name, mask in suit.patch_masks(block, plan.suitability).items():
        block[f"{name}_patch_cells"] = patch_cells_in_tile(mask, *edges[name])
    out = suit.suitability_block(block, plan.suitability)
    return {name: store.put(name, tile, out[name])["sha256"] for name in suit.SUITABILITY_LAYERS}


# --------------------------------------------------------------------------- the run


def evaluate_tiled(plan: TiledPlan, mapper: Mapper = serial_map, *, out_prefix: str = "layers/tiled",
                   layers: tuple[str, ...] | None = None) -> TiledResult:
    """Run T02 and T03's grid evaluation tile by tile and assemble the layers.

    Args:
        plan: sources, settings and tile size (``plan.capacity.dem_range`` and the water grades are
            replaced by what the ``stats`` step gathers over every tile).
        mapper: runs each step over the tiles (:func:`serial_map`, or a Prefect/Dask mapper).
        out_prefix: where the layers go in the plan's storage (``<out_prefix>/<name>.tif``).
        layers: names to assemble (default: every T02 and T03 layer).

    Returns:
        Where each layer's COG was written, with its sha256 (float layers nodata NaN, class layers
        nodata 0, on ``plan.grid``).

    Raises:
        KeyError: sources the settings need are missing (before any tile step, see :meth:`TiledPlan.check`).
        ValueError: a source lies on another grid, the settings are for another cell size, the prefixes
            overlap, or a tile array changed between steps (named by its URI).
    """
    plan.check(out_prefix)
    tiles = plan.tiles()
    # a folder of this run's own: a second run on the same work prefix cannot touch these arrays
    plan = dataclasses.replace(plan, work_prefix=f"{plan.work_prefix.rstrip('/')}/{uuid.uuid4().hex}")
    store = plan.store
    hashes: dict[str, list[str]] = {}

    def keep(results: list[dict[str, str]]) -> None:
        for name in results[0]:
            hashes[name] = [r[name] for r in results]

    def expected(i: int) -> Hashes:
        return {name: h[i] for name, h in hashes.items()}

    try:
        stats = mapper(step_stats, [(plan, t) for t in tiles])
        inside = sum(s[0] for s in stats)
        lo, hi = min(s[1] for s in stats), max(s[2] for s in stats)
        area_km2 = inside * plan.grid.cell_area_km2
        settings = plan.capacity.with_area(area_km2, (lo, hi) if inside and math.isfinite(lo) else (math.nan, math.nan))
        plan = dataclasses.replace(plan, capacity=settings)
        keep(mapper(step_capacity, [(plan, t) for t in tiles]))

        def chunks(name: str) -> Iterator[NDArray[Any]]:
            for i, t in enumerate(tiles):
                yield np.nan_to_num(store.get(name, t, hashes[name][i]))[plan.read("inside", _no_halo(t)).astype(bool)]

        break_values = {name: eco.cumulative_share_breaks(lambda name=name: chunks(name), settings.service_breaks)
                        for name in cc.service_layers(settings)}
        keep(mapper(step_importance, [(plan, t, break_values, expected(i)) for i, t in enumerate(tiles)]))

        parts = mapper(step_patches, [(plan, t, expected(i)) for i, t in enumerate(tiles)])
        sizes = {name: patch_sizes([p[name] for p in parts]) for name in ("urban", "agri")}
        edges = [{name: (parts[i][name].edge_labels, sizes[name][i]) for name in sizes} for i in range(len(tiles))]
        del parts, sizes
        keep(mapper(step_suitability, [(plan, t, edges[i], expected(i)) for i, t in enumerate(tiles)]))

        names = layers or (*CAPACITY_OUT, "service_importance", "eco_importance", *suit.SUITABILITY_LAYERS)
        out = {}
        for name in names:
            if name == "biodiversity_service" and not settings.biodiversity:
                continue
            floating = name in cc.VALUE_LAYERS
            out[name] = store.mosaic(name, tiles, plan.grid, f"{out_prefix}/{name}.tif", nodata=np.nan if floating else 0,
                                     sha256=hashes[name])
    finally:
        store.clear()
    return TiledResult(out, len(tiles), inside, break_values)

