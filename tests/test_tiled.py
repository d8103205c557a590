"""Tiled (window-by-window) evaluation: tiles, halos, whole-area reductions in pieces, and T02 + T03
run tile by tile giving the very layers the topic composers publish from whole arrays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.evaluation import carrying_capacity as cc
from erenhot.evaluation import ecology as eco
from erenhot.evaluation import suitability as suit
from erenhot.evaluation import tiled_dual
from erenhot.grid import Grid, boundary_mask, read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.tiling import TilePatches, patch_sizes, plan_tiles
from erenhot.topics import run_topic
from erenhot.topics import t02_carrying_capacity as t02
from erenhot.topics import t03_suitability as t03
from erenhot.topics.inputs import TopicInputs
from kit_helpers import small_kit

CELL = 250.0
# a wider relief window and fault buffer than the defaults, so the halo (3 cells) is more than Horn's one cell
OVERRIDES = {"grid.cell_size_m": CELL, "terrain.relief_window_m": 1750.0, "hazard.fault_buffer_m": {"全新世": 700.0, "晚更新世": 100.0}}


# ── tiles ──────────────────────────────────────────────────────────────────────────────────────


def test_tiles_partition_the_grid_and_clip_the_halo_at_its_edge():
    tiles = plan_tiles((10, 7), 4, halo=2)
    cover = np.zeros((10, 7), dtype=int)
    for t in tiles:
        cover[t.row0:t.row1, t.col0:t.col1] += 1
    assert (cover == 1).all() and len(tiles) == 3 * 2
    first, last = tiles[0], tiles[-1]
    assert first.outer == (0, 6, 0, 6)  # no halo beyond the grid's north-west corner
    assert last.outer == (6, 10, 2, 7) and last.shape == (2, 3)
    block = np.arange(70).reshape(10, 7)
    r0, r1, c0, c1 = last.outer
    assert np.array_equal(last.crop(block[r0:r1, c0:c1]), block[8:10, 4:7])
    with pytest.raises(ValueError):
        plan_tiles((10, 7), 0)


# ── whole-area reductions in pieces ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize("tile", [1, 3, 5, 16, 64])
def test_patches_joined_across_tiles_equal_one_label_of_the_whole_mask(tile):
    rng = np.random.default_rng(tile)
    mask = rng.random((40, 37)) < 0.45
    mask[10, 10:30] = True  # a long patch across many tiles
    mask[4, 4] = mask[5, 5] = True  # joined only through a corner (8-connectivity)
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    expected = np.bincount(labels.ravel())[labels] * (labels > 0)
    tiles = plan_tiles(mask.shape, tile)
    parts = [TilePatches.of(t, mask[t.row0:t.row1, t.col0:t.col1]) for t in tiles]
    got = np.zeros(mask.shape, dtype=np.int64)
    for t, sizes in zip(tiles, patch_sizes(parts), strict=True):
        local, _ = ndimage.label(mask[t.row0:t.row1, t.col0:t.col1], structure=np.ones((3, 3), bool))
        got[t.row0:t.row1, t.col0:t.col1] = sizes[local]
    assert np.array_equal(got, expected)
    assert np.array_equal(suit.patch_cells(mask), expected)


def test_patches_that_touch_only_at_a_tile_corner_are_one_patch():
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 1] = mask[2, 2] = True  # diagonal neighbours in tiles (0, 0) and (1, 1) of a 2×2 layout
    mask[1, 2] = False
    tiles = plan_tiles(mask.shape, 2)
    parts = [TilePatches.of(t, mask[t.row0:t.row1, t.col0:t.col1]) for t in tiles]
    sizes = patch_sizes(parts)
    assert sizes[0][1] == 2 and sizes[3][1] == 2
    mask2 = np.zeros((4, 4), dtype=bool)
    mask2[1, 2] = mask2[2, 1] = True  # the other diagonal: tiles (0, 1) and (1, 0)
    parts = [TilePatches.of(t, mask2[t.row0:t.row1, t.col0:t.col1]) for t in tiles]
    sizes = patch_sizes(parts)
    assert sizes[1][1] == 2 and sizes[2][1] == 2


@pytest.mark.parametrize("n_chunks", [1, 3, 17])
def test_cumulative_share_breaks_from_chunks_equal_the_whole_array_rule(n_chunks):
    rng = np.random.default_rng(n_chunks)
    values = rng.gamma(2.0, 3.0, size=(120, 90))
    values[rng.random(values.shape) < 0.2] = 0.0
    values[:3] = 7.25  # many equal values
    mask = rng.random(values.shape) < 0.9
    whole = eco.importance_by_cumulative_share(values, mask, (0.5, 0.8))
    pieces = np.array_split(values[mask], n_chunks)
    breaks = eco.cumulative_share_breaks(lambda: iter(pieces), (0.5, 0.8), bins=64)
    assert np.array_equal(eco.grade_by_break_values(values, mask, breaks), whole)
    # the documented example
    assert list(eco.importance_by_cumulative_share(np.array([[50, 30, 10, 5, 5]]), np.ones((1, 5), bool))[0]) == [1, 2, 3, 3, 3]
    assert eco.cumulative_share_breaks(lambda: [np.zeros(4)], (0.5, 0.8)) == [np.inf, np.inf]


# ── T02 + T03 tile by tile against the composers' published layers ──────────────────────────────


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The small kit through T02 (250 m), T14 and T03 with the composers (whole arrays)."""
    root = tmp_path_factory.mktemp("tiled")
    kit = small_kit(root / "kit")
    storage, cat = Storage(str(root / "store")), load_catalog()
    ids = sorted({i.dataset for c in ("t02", "t14", "t03") for i in cat.topic(c).inputs if i.dataset} & set(kit.datasets))
    for ds in ["01-04"] + [i for i in ids if i != "01-04"]:
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        assert accept_delivery(storage, cat, latest_delivery(storage, ds))["state"] == "validated", ds
    results = {}
    for code, overrides in (("t02", OVERRIDES), ("t14", {}), ("t03", {})):
        results[code] = run_topic(storage, cat, code, check_readiness(storage, cat, cat.topic(code)).to_dict(), overrides)
    layers = {o["id"]: read_raster(storage.read_bytes(o["path"]))[0] for r in results.values() for o in r["outputs"]
              if o["path"].endswith(".tif") and o["id"].startswith(("t02.", "t03."))}
    return storage, cat, layers


def tiled_plan(storage: Storage, cat, tile_size: int, prefix: str = "work/test") -> tiled_dual.TiledPlan:
    """The composers' own grid inputs written as sources, and a tiled plan over them."""
    inputs2 = TopicInputs(storage, check_readiness(storage, cat, cat.topic("t02")).to_dict())
    cfg2 = load_config("t02_carrying_capacity", OVERRIDES)
    city = inputs2.vector("01-04", "city")
    grid = Grid.for_geometry(city, CELL)
    inside = boundary_mask(city, grid)
    block2, capacity, _, _ = t02.grid_inputs(inputs2, cfg2, grid, inside, [])
    inputs3 = TopicInputs(storage, check_readiness(storage, cat, cat.topic("t03")).to_dict())
    block3, suitability, grid3, _, _ = t03.grid_inputs(inputs3, load_config("t03_suitability"))
    assert grid3 == grid
    extra = {k: block3[k] for k in ("minutes", "grass", "urban_land", *(f"dlbm_{g}" for g in suitability.dlbm_groups))}
    sources = tiled_dual.write_sources(storage, prefix, grid, {**block2, **extra})
    return tiled_dual.TiledPlan(storage.url, grid, sources, capacity, suitability, tile_size=tile_size, work_prefix=f"{prefix}/tiles")


def layer(storage: Storage, result: tiled_dual.TiledResult, name: str) -> np.ndarray:
    return read_raster(storage.read_bytes(result.layers[name]["path"]))[0]


def assert_same_layers(result_storage: str, result: tiled_dual.TiledResult, layers: dict[str, np.ndarray]) -> None:
    compared = []
    storage = Storage(result_storage)
    for name, entry in result.layers.items():
        layer_id = f"t02.{name}" if f"t02.{name}" in layers else f"t03.{name}"
        if layer_id == "t03.conflicts":  # published as polygons; compared through the rule codes below
            continue
        tiled = read_raster(storage.read_bytes(entry["path"]))[0]
        np.testing.assert_array_equal(tiled, layers[layer_id], err_msg=layer_id)
        compared.append(layer_id)
    assert {"t02.slope", "t02.relief", "t02.hazard", "t02.eco_importance", "t02.urban_capacity", "t03.urban_suitability",
            "t03.agri_suitability", "t03.location"} <= set(compared)
    assert len(compared) >= 24


@pytest.mark.parametrize("tile_size", [37, 64])
def test_t02_and_t03_tile_by_tile_equal_the_whole_array_layers(published, tile_size):
    storage, cat, layers = published
    plan = tiled_plan(storage, cat, tile_size, prefix=f"work/test{tile_size}")
    assert len(plan.tiles()) > 12 and cc.halo_cells(plan.capacity) == 3
    result = tiled_dual.evaluate_tiled(plan, out_prefix=f"layers/tiled{tile_size}")
    assert result.tiles == len(plan.tiles())
    assert result.layers["slope"]["sha256"] == storage.sha256(result.layers["slope"]["path"])
    assert_same_layers(storage.url, result, layers)
    assert layer(storage, result, "conflicts").max() > 0  # T03's conflict rule codes (the composer publishes polygons)


def test_without_the_halo_tiles_do_not_match(published, monkeypatch):
    """The comparison above can fail: with no halo, slope and relief differ along the tile edges."""
    storage, cat, layers = published
    plan = tiled_plan(storage, cat, 37, prefix="work/nohalo")
    monkeypatch.setattr(cc, "halo_cells", lambda s: 0)
    result = tiled_dual.evaluate_tiled(plan, out_prefix="layers/nohalo", layers=("slope", "relief"))
    differs = [n for n in ("slope", "relief") if not np.array_equal(layer(storage, result, n), layers[f"t02.{n}"], equal_nan=True)]
    assert differs == ["slope", "relief"]


def test_a_source_on_another_grid_is_refused(published):
    storage, cat, _ = published
    plan = tiled_plan(storage, cat, 64, prefix="work/othergrid")
    small = Grid(plan.grid.crs_epsg, plan.grid.transform, plan.grid.width - 1, plan.grid.height)
    sources = dict(plan.sources, dem=tiled_dual.write_sources(storage, "work/othergrid/bad", small,
                                                              {"dem": np.zeros(small.shape, "float32")})["dem"])
    with pytest.raises(ValueError, match="dem.tif is .* cells, the tiled grid"):
        tiled_dual.evaluate_tiled(dataclasses.replace(plan, sources=sources))
