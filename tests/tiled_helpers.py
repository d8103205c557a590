"""The small kit through T02, T14 and T03 (the composers' whole-array layers) and tiled plans over the
composers' own grid inputs: shared by tests/test_tiled.py and tests/test_dask_tiles.py."""

from __future__ import annotations

import numpy as np

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.evaluation import tiled_dual
from erenhot.grid import read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import run_topic
from erenhot.tiling import TilePatches, patch_cells_in_tile, patch_sizes, plan_tiles
from erenhot.topics.tiled import plan_from_deliveries
from kit_helpers import small_kit

CELL = 250.0
# a wider relief window and fault buffer than the defaults, so the halo (3 cells) is more than Horn's one cell
OVERRIDES = {"grid.cell_size_m": CELL, "terrain.relief_window_m": 1750.0, "hazard.fault_buffer_m": {"全新世": 700.0, "晚更新世": 100.0}}


def publish(root):
    """The small kit through T02 (250 m), T14 and T03 with the composers (whole arrays)."""
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
    return plan_from_deliveries(storage, cat, t02_overrides=OVERRIDES, tile_size=tile_size, prefix=prefix)


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


def tiled_patch_cells(mask: np.ndarray, tile) -> tuple[np.ndarray, list]:
    """Per cell the cells of its 8-connected patch, computed tile by tile (edges joined by ``patch_sizes``),
    and the tiles' parts."""
    tiles = plan_tiles(mask.shape, tile)
    parts = [TilePatches.of(t, mask[t.row0:t.row1, t.col0:t.col1]) for t in tiles]
    got = np.zeros(mask.shape, dtype=np.int64)
    for t, p, sizes in zip(tiles, parts, patch_sizes(parts), strict=True):
        got[t.row0:t.row1, t.col0:t.col1] = patch_cells_in_tile(mask[t.row0:t.row1, t.col0:t.col1], p.edge_labels, sizes)
    return got, parts
