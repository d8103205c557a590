"""Tiled (window-by-window) evaluation: tiles, halos, whole-area reductions in pieces, and T02 + T03
run tile by tile giving the very layers the topic composers publish from whole arrays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from erenhot.evaluation import carrying_capacity as cc
from erenhot.evaluation import ecology as eco
from erenhot.evaluation import suitability as suit
from erenhot.evaluation import tiled_dual
from erenhot.grid import Grid
from erenhot.storage import Storage
from erenhot.tiling import TilePatches, patch_sizes, plan_tiles
from tiled_helpers import assert_same_layers, layer, tiled_patch_cells, tiled_plan

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
    got, parts = tiled_patch_cells(mask, tile)
    assert np.array_equal(got, expected)
    assert np.array_equal(suit.patch_cells(mask), expected)


def test_patches_that_touch_only_at_a_tile_corner_are_one_patch():
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 1] = mask[2, 2] = True  # diagonal neighbours in tiles (0, 0) and (1, 1) of a 2×2 layout
    mask[1, 2] = False
    tiles = plan_tiles(mask.shape, 2)
    parts = [TilePatches.of(t, mask[t.row0:t.row1, t.col0:t.col1]) for t in tiles]
    sizes = patch_sizes(parts)
    assert list(sizes[0]) == [2] and list(sizes[3]) == [2]  # the one edge label of tiles (0, 0) and (1, 1)
    mask2 = np.zeros((4, 4), dtype=bool)
    mask2[1, 2] = mask2[2, 1] = True  # the other diagonal: tiles (0, 1) and (1, 0)
    parts = [TilePatches.of(t, mask2[t.row0:t.row1, t.col0:t.col1]) for t in tiles]
    sizes = patch_sizes(parts)
    assert list(sizes[1]) == [2] and list(sizes[2]) == [2]


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


def test_the_tiled_layers_compare_equal_to_what_t02_and_t03_published(published):
    from erenhot.topics.tiled import compare_with_published

    storage, cat, _ = published
    result = tiled_dual.evaluate_tiled(tiled_plan(storage, cat, 96, prefix="work/compare"), out_prefix="layers/compare")
    same = compare_with_published(storage, result.layers)
    assert len(same) >= 24 and all(same.values()) and "conflicts" not in same


def test_a_plan_needs_t02_published_on_the_same_grid_and_every_required_input(published, tmp_path):
    from erenhot.topics.tiled import plan_from_deliveries
    from tiled_helpers import OVERRIDES

    storage, cat, _ = published
    with pytest.raises(ValueError, match="T02's published layers lie on a 250 m grid .* run topics 2 and 14 with the same cell size"):
        plan_from_deliveries(storage, cat, t02_overrides={**OVERRIDES, "grid.cell_size_m": 500.0}, prefix="work/other")
    with pytest.raises(ValueError, match=r"(?s)T02 .* cannot run: required input.*dataset 01-04 .* of department 1 .*: nothing delivered"):
        plan_from_deliveries(Storage(str(tmp_path / "empty")), cat)
