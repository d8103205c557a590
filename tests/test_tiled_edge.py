"""Edge cases of the tiled T02 + T03 evaluation (erenhot/evaluation/tiled_dual.py, erenhot/tiling.py).

Synthetic inputs on small grids (no kit): every test builds the sources with
:func:`erenhot.evaluation.tiled_dual.write_sources` and compares the tiled layers with
:func:`whole_array_layers`, which does what the composers do with whole arrays
(``t02_carrying_capacity.run``: ``capacity_block`` → ``cumulative_share_breaks`` over one chunk →
``importance_block``; ``t03_suitability.run``: ``patch_masks`` → ``patch_cells`` → ``suitability_block``).
The settings are built as ``bench/scale.py`` builds them (shipped configs, its synthetic station series).

Also: sources and tile store on S3 (the project's moto server), bounded memory of the cumulative-share
breaks with many equal values, and the refusals (missing or misplaced sources, changed tile arrays, two
runs on one work prefix, prefixes that would make the tile store delete sources or layers).
"""

from __future__ import annotations

import dataclasses
import re
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from erenhot.config import load_config
from erenhot.evaluation import carrying_capacity as cc
from erenhot.evaluation import ecology as eco
from erenhot.evaluation import suitability as suit
from erenhot.evaluation import tiled_dual
from erenhot.grid import Grid, read_raster
from erenhot.storage import Storage
from erenhot.tiling import TileStore, patch_sizes, plan_tiles, read_window, serial_map

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ is not a package of the install
from bench.scale import DLBM, GRASS, QUOTA_M3, STATION, synthetic_daily  # noqa: E402

import s3_server  # noqa: E402
from tiled_helpers import tiled_patch_cells  # noqa: E402

CELL = 250.0
# relief window 5 cells (half 2) and a 500 m fault buffer (2 cells): halo 2, more than Horn's one cell
OVERRIDES = {"grid.cell_size_m": CELL, "terrain.relief_window_m": 1250.0,
             "hazard.fault_buffer_m": {"全新世": 500.0, "晚更新世": 250.0}}
HALO = 2


def make_grid(rows: int, cols: int) -> Grid:
    return Grid(4525, Affine(CELL, 0, 37_430_000.0, 0, -CELL, 4_850_000.0), cols, rows)


def make_settings(grid: Grid, *, biodiversity: bool = True, severe: bool = True) -> tuple[cc.CapacitySettings, suit.SuitabilitySettings]:
    cfg = load_config("t02_carrying_capacity", OVERRIDES)
    textures = tuple(cfg.values["ecology"]["desertification"]["texture_scores"])[:4]
    capacity = cc.CapacitySettings.build(cfg, synthetic_daily(), STATION, area_km2=1.0, quota_m3=QUOTA_M3, dlbm_codes=DLBM,
                                         textures=textures, biodiversity=biodiversity, severe_monitoring=severe)
    return capacity, suit.SuitabilitySettings.build(load_config("t03_suitability"), grid.cell_area_km2)


def make_arrays(grid: Grid, seed: int = 0) -> dict[str, np.ndarray]:
    """Noisy inputs (every cell differs from its neighbours, so any halo error shows)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:grid.height, 0:grid.width]
    land_use = rng.integers(1, len(DLBM) + 1, grid.shape).astype("uint8")
    code = np.asarray(DLBM)[land_use - 1]
    a = {
        "inside": np.ones(grid.shape, bool),
        "dem": (1000 + 40 * np.sin(cols / 3.1) * np.cos(rows / 2.3) + rng.normal(0, 6, grid.shape)).astype("float32"),
        "fvc": np.clip(rng.normal(0.3, 0.2, grid.shape), 0, 1).astype("float32"),
        "sand": rng.uniform(30, 80, grid.shape).astype("float32"),
        "silt": rng.uniform(5, 40, grid.shape).astype("float32"),
        "om": rng.uniform(0.3, 1.5, grid.shape).astype("float32"),
        "caco3": rng.uniform(1, 5, grid.shape).astype("float32"),
        "texture": rng.integers(0, 5, grid.shape).astype("uint8"),
        "land_use": land_use,
        "susceptibility": rng.integers(1, 6, grid.shape).astype("uint8"),
        "fault_全新世": np.zeros(grid.shape, "uint8"),
        "fault_晚更新世": np.zeros(grid.shape, "uint8"),
        "npp": rng.uniform(50, 250, grid.shape).astype("float32"),
        "severe": (rng.random(grid.shape) < 0.05).astype("uint8"),
        "minutes": rng.uniform(0, 120, grid.shape).astype("float32"),
        "grass": np.isin(code, GRASS).astype("uint8"),
        "urban_land": (rng.random(grid.shape) < 0.2).astype("uint8"),
    }
    a["clay"] = np.clip(100 - a["sand"] - a["silt"], 1, None).astype("float32")
    for group in load_config("t03_suitability").values["conflicts"]["dlbm_groups"]:
        a[f"dlbm_{group}"] = (rng.random(grid.shape) < 0.4).astype("uint8")
    return a


def whole_array_layers(a: dict[str, np.ndarray], capacity: cc.CapacitySettings, suitability: suit.SuitabilitySettings,
                       grid: Grid) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """The composers' whole-array path on ``a``: every T02 and T03 layer, and the break values."""
    inside = np.asarray(a["inside"], bool)
    dem = a["dem"].astype("float32")
    dem_inside = dem[inside & ~np.isnan(dem)]
    s = capacity.with_area(float(inside.sum() * grid.cell_area_km2),
                           (float(dem_inside.min()), float(dem_inside.max())) if dem_inside.size else (np.nan, np.nan))
    layers = cc.capacity_block({**a, "inside": inside}, s)
    break_values = {n: eco.cumulative_share_breaks(lambda n=n: [np.nan_to_num(layers[n])[inside]], s.service_breaks)
                    for n in cc.service_layers(s)}
    layers.update(cc.importance_block({"inside": inside, **layers}, break_values))
    block = {"inside": inside, **{n: layers[n] for n in ("eco_importance", "agri_capacity", "urban_capacity", "hazard", "slope")},
             **{n: a[n] for n in ("minutes", "fvc", "grass", "urban_land")},
             **{f"dlbm_{g}": a[f"dlbm_{g}"] for g in suitability.dlbm_groups}}
    for name, mask in suit.patch_masks(block, suitability).items():
        block[f"{name}_patch_cells"] = suit.patch_cells(mask)
    layers.update(suit.suitability_block(block, suitability))
    return layers, break_values


def make_plan(storage: Storage, grid: Grid, a: dict[str, np.ndarray], capacity, suitability, tile: int,
              prefix: str = "work") -> tiled_dual.TiledPlan:
    sources = tiled_dual.write_sources(storage, f"{prefix}/sources", grid, a)
    return tiled_dual.TiledPlan(storage.url, grid, sources, capacity, suitability, tile_size=tile, work_prefix=f"{prefix}/tiles")


def mismatches(storage: Storage, result: tiled_dual.TiledResult, reference: dict[str, np.ndarray]) -> dict[str, int]:
    """Layer → cells that differ from ``reference`` (NaN equal to NaN), for every layer that differs."""
    out = {}
    for name, entry in result.layers.items():
        tiled = read_raster(storage.read_bytes(entry["path"]))[0]
        ref = reference[name]
        assert tiled.shape == ref.shape and tiled.dtype == ref.dtype, name
        same = (tiled == ref) | (np.isnan(tiled) & np.isnan(ref)) if np.issubdtype(ref.dtype, np.floating) else tiled == ref
        if not same.all():
            out[name] = int((~same).sum())
    return out


N_LAYERS = len(tiled_dual.CAPACITY_OUT) + 2 + len(suit.SUITABILITY_LAYERS)  # every layer, biodiversity included


# ── identity at the edges ──────────────────────────────────────────────────────────────────────


def _dem_holes_on_tile_edges(a):
    a["dem"][2:4, 2:4] = np.nan  # a hole across the corner of four 3-cell tiles
    a["dem"][5, :] = np.nan  # a NaN row along a tile edge: slope/relief extrapolate there
    a["dem"][:, 6] = np.nan  # a NaN column starting the third tile column


def _faults_on_tile_borders(a):
    a["fault_全新世"][:, 2] = 1  # the last column of the first tile column
    a["fault_全新世"][3, :] = 1  # the first row of the second tile row
    a["fault_晚更新世"][5, 5] = a["fault_晚更新世"][6, 6] = 1  # one fault cell each side of a tile corner


def _tiles_outside_the_city(a):
    a["inside"][:] = False
    a["inside"][1:5, 4:8] = True  # tiles (0, 0), (2, *) … have no cell inside: stats gives (0, inf, -inf)
    a["inside"][7, 0] = True  # a lone cell inside, in a tile otherwise outside
    a["dem"][7, 0] = np.nan  # … whose DEM is missing: a tile with cells inside but no DEM range


def _no_service(a):
    a["fvc"][:] = 0.0  # bare ground: 防风固沙 service 0 everywhere (break values inf, all 一般)
    a["npp"][:] = 0.0


IDENTITY_CASES = {
    # name: (rows, cols, tile size, change to the inputs, biodiversity and severe monitoring)
    "tile_1_below_the_halo": (7, 6, 1, None, True),
    "tile_2_equal_to_the_halo": (7, 6, 2, None, True),
    "one_row": (1, 9, 2, None, True),
    "one_column": (8, 1, 3, None, True),
    "one_cell": (1, 1, 1, None, True),
    "dem_holes_on_tile_edges": (9, 8, 3, _dem_holes_on_tile_edges, True),
    "faults_on_tile_borders": (9, 8, 3, _faults_on_tile_borders, True),
    "tiles_outside_the_city": (9, 8, 3, _tiles_outside_the_city, True),
    "no_service_anywhere": (6, 5, 2, _no_service, True),
    "without_biodiversity_and_severe_monitoring": (7, 6, 3, None, False),
}


@pytest.mark.parametrize("case", IDENTITY_CASES)
def test_tiled_layers_equal_the_whole_array_layers_at_the_edges(case, tmp_path):
    rows, cols, tile, change, extras = IDENTITY_CASES[case]
    grid = make_grid(rows, cols)
    capacity, suitability = make_settings(grid, biodiversity=extras, severe=extras)
    a = make_arrays(grid, seed=rows * 100 + cols)
    if change is not None:
        change(a)
    if not extras:
        del a["npp"], a["severe"]  # not even a source: the settings must not ask for them
    storage = Storage(str(tmp_path / "store"))
    plan = make_plan(storage, grid, a, capacity, suitability, tile)
    assert cc.halo_cells(capacity) == HALO
    reference, break_values = whole_array_layers(a, capacity, suitability, grid)

    result = tiled_dual.evaluate_tiled(plan)

    assert result.tiles == len(plan_tiles(grid.shape, tile))
    assert result.cells_inside == int(a["inside"].sum())
    assert result.break_values == break_values
    assert len(result.layers) == N_LAYERS - (0 if extras else 1)
    assert mismatches(storage, result, reference) == {}
    assert not storage.exists("work/tiles") or storage.fs.find(storage.full("work/tiles")) == []  # the tile arrays are gone
    if change is _no_service:
        assert break_values == {"wind_erosion_service": [np.inf, np.inf], "biodiversity_service": [np.inf, np.inf]}
        assert set(np.unique(reference["service_importance"])) == {3}


def test_the_halo_is_what_makes_tile_1_equal(tmp_path, monkeypatch):
    """The identity above can fail: with 1-cell tiles and no halo, slope, relief and the fault buffer differ."""
    grid = make_grid(9, 8)
    capacity, suitability = make_settings(grid)
    a = make_arrays(grid, seed=908)
    _faults_on_tile_borders(a)
    storage = Storage(str(tmp_path / "store"))
    plan = make_plan(storage, grid, a, capacity, suitability, 1)
    reference, _ = whole_array_layers(a, capacity, suitability, grid)
    monkeypatch.setattr(cc, "halo_cells", lambda s: 0)
    result = tiled_dual.evaluate_tiled(plan, layers=("slope", "relief", "hazard"))
    assert set(mismatches(storage, result, reference)) == {"slope", "relief", "hazard"}


# ── whole-area reductions ──────────────────────────────────────────────────────────────────────


def _chunkings(values: np.ndarray):
    yield [values]
    yield [values[i:i + 1] for i in range(values.size)]  # one value per chunk
    yield [np.zeros(0), values[:2], np.zeros(0), values[2:]]  # tiles with nothing inside


@pytest.mark.parametrize("values, breaks, expected", [
    ([50, 30, 10, 5, 5], (0.5, 0.8), [50, 30]),  # running sums hit 50 % and 80 % exactly on a cell
    ([25, 25, 25, 25], (0.5, 0.8), [25, 25]),  # a tie across the break: equal values share a grade
    ([40, 20, 20, 20], (0.5, 0.8), [20, 20]),  # 50 % falls inside a run of equal values
    ([0, 0, 7.5, 0, np.nan, -3], (0.5, 0.8), [7.5, 7.5]),  # a single positive cell; NaN and negatives count 0
    ([0, 0, 0, np.nan], (0.5, 0.8), [np.inf, np.inf]),  # all zero: nothing is 极重要/重要
    ([3, 2, 1], (1.0,), [1]),  # a share of 1: every positive cell
])
def test_cumulative_share_breaks_at_ties_and_degenerate_totals_for_any_chunking(values, breaks, expected):
    v = np.asarray(values, dtype=np.float64)
    for chunks in _chunkings(v):
        for bins in (1, 2, 4096):
            assert eco.cumulative_share_breaks(lambda chunks=chunks: iter(chunks), breaks, bins=bins) == expected, (chunks, bins)
    grades = eco.grade_by_break_values(v, np.ones(v.shape, bool), expected)
    assert grades.max() <= len(breaks) + 1 and (grades[~(v > 0)] == len(breaks) + 1).all()


@pytest.mark.parametrize("tile", [1, 2, (1, 3), (3, 1)])
def test_patches_through_tile_corners_and_along_diagonals_equal_one_label(tile):
    mask = np.zeros((9, 8), dtype=bool)
    idx = np.arange(8)
    mask[idx, 7 - idx] = True  # an anti-diagonal line: joined only through corners, across every tile layout
    mask[0, 0] = mask[1, 1] = True  # a main-diagonal pair
    mask[4:9:2, 0:7:2] = True  # a checkerboard block: one patch under 8-connectivity
    mask[5:9:2, 1:8:2] = True
    expected = suit.patch_cells(mask)
    got, parts = tiled_patch_cells(mask, tile)
    assert np.array_equal(got, expected)
    assert expected.max() > 8  # the anti-diagonal and the checkerboard meet: one long patch
    # the same parts in another order give the same sizes (a Dask mapper may return them in any order)
    rev = patch_sizes(parts[::-1])[::-1]
    assert all(np.array_equal(x, y) for x, y in zip(rev, patch_sizes(parts), strict=True))


def test_cumulative_share_breaks_memory_stays_bounded_with_many_equal_values():
    chunk = np.full(10_000, 1.5)  # 80 kB a chunk
    n_chunks = 400  # 4 M equal values, 32 MB if they were all kept

    def chunks():
        for _ in range(n_chunks):
            yield chunk

    tracemalloc.start()
    try:
        breaks = eco.cumulative_share_breaks(chunks, (0.5, 0.8))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert breaks == [1.5, 1.5]
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MB for 80 kB chunks"


# ── sources and tile store on S3 (the project's moto server) ──────────────────────────────────


@pytest.fixture(scope="module")
def s3_url():
    """``s3://<a fresh bucket>/tiled`` on the shared moto server, AWS variables set for the module."""
    with s3_server.bucket_url("tiled") as url:
        yield url


def test_tile_store_and_mosaic_stream_into_s3(s3_url):
    grid = make_grid(7, 5)
    store = TileStore(s3_url, "edge/tiles")
    tiles = plan_tiles(grid.shape, 3)
    layer = np.arange(35, dtype="float32").reshape(grid.shape)
    layer[2, 3] = np.nan
    for t in tiles:
        out = store.put("x", t, layer[t.row0:t.row1, t.col0:t.col1])
        assert out["uri"].startswith(f"{s3_url}/edge/tiles/x/")
    entry = store.mosaic("x", tiles, grid, "edge/out/x.tif", nodata=np.nan)
    storage = Storage(s3_url)
    assert entry["uri"] == f"{s3_url}/edge/out/x.tif" and storage.sha256(entry["path"]) == entry["sha256"]
    back, back_grid, nodata = read_raster(storage.read_bytes(entry["path"]))
    assert back_grid == grid and np.isnan(nodata) and np.array_equal(back, layer, equal_nan=True)
    store.clear()
    assert not storage.exists("edge/tiles") and storage.exists("edge/out/x.tif")



def test_read_window_reads_a_window_of_a_geotiff_on_s3(s3_url):
    grid = make_grid(6, 5)
    storage = Storage(s3_url)
    values = np.arange(30, dtype="float32").reshape(grid.shape)
    rel = tiled_dual.write_sources(storage, "window", grid, {"v": values})["v"]
    tile = plan_tiles(grid.shape, 2, halo=1)[3]  # inner rows 2–3, cols 0–1; with the halo rows 1–4, cols 0–2
    assert tile.outer == (1, 5, 0, 3)
    assert np.array_equal(read_window(storage, rel, tile), values[1:5, 0:3])


def test_tiled_evaluation_with_sources_and_tiles_on_s3_equals_the_whole_array_layers(s3_url):
    """Sources, tile store and layers all in the bucket: the layers equal the whole-array ones."""
    grid = make_grid(5, 3)  # two tiles of 3 rows: the halo crosses between them
    capacity, suitability = make_settings(grid)
    a = make_arrays(grid, seed=53)
    a["fault_全新世"][2, :] = 1  # on the edge of the first tile: seen by the second through the halo
    storage = Storage(s3_url)
    plan = make_plan(storage, grid, a, capacity, suitability, 3, prefix="e2e")
    reference, break_values = whole_array_layers(a, capacity, suitability, grid)
    names = ("slope", "relief", "hazard", "wind_erosion_service", "eco_importance", "urban_capacity", "location",
             "agri_suitability", "urban_suitability")
    result = tiled_dual.evaluate_tiled(plan, out_prefix="e2e/layers", layers=names)
    assert result.tiles == 2 and result.break_values == break_values
    assert all(e["uri"].startswith(f"{s3_url}/e2e/layers/") for e in result.layers.values())
    assert all(storage.sha256(e["path"]) == e["sha256"] for e in result.layers.values())
    assert set(result.layers) == set(names) and mismatches(storage, result, reference) == {}
    assert not storage.exists("e2e/tiles")


# ── errors ──────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture()
def small(tmp_path):
    """A 6×5 grid in 4 tiles of 3, its sources in a local storage, the plan and the reference layers."""
    grid = make_grid(6, 5)
    capacity, suitability = make_settings(grid)
    a = make_arrays(grid, seed=65)
    storage = Storage(str(tmp_path / "store"))
    plan = make_plan(storage, grid, a, capacity, suitability, 3, prefix="src")
    plan = dataclasses.replace(plan, work_prefix="work/tiles")
    reference, _ = whole_array_layers(a, capacity, suitability, grid)
    return storage, plan, a, reference


class Recorder:
    """A serial mapper that records the step functions it ran (and may act before a step)."""

    def __init__(self, before=None):
        self.steps: list[str] = []
        self.before = before or {}

    def __call__(self, fn, items):
        if fn.__name__ in self.before:
            self.before.pop(fn.__name__)()
        self.steps.append(fn.__name__)
        return serial_map(fn, items)


def test_a_missing_source_raises_a_key_error_naming_it(small):
    storage, plan, _, _ = small
    for name in ("npp", "minutes", "dlbm_cropland"):
        bad = dataclasses.replace(plan, sources={k: v for k, v in plan.sources.items() if k != name})
        with pytest.raises(KeyError, match=name):
            tiled_dual.evaluate_tiled(bad, layers=("slope",))


def test_a_missing_source_is_refused_before_any_tile_is_computed(small):
    storage, plan, _, _ = small
    bad = dataclasses.replace(plan, sources={k: v for k, v in plan.sources.items() if k != "minutes"})
    mapper = Recorder()
    with pytest.raises(KeyError, match="minutes"):
        tiled_dual.evaluate_tiled(bad, mapper, layers=("slope",))
    assert mapper.steps == []


@pytest.mark.parametrize("other", ["shifted_by_a_cell", "another_crs"])
def test_a_source_of_the_same_size_on_another_grid_is_refused(small, other):
    storage, plan, a, _ = small
    g = plan.grid
    grid = (Grid(g.crs_epsg, g.transform @ Affine.translation(1, 0), g.width, g.height) if other == "shifted_by_a_cell"
            else Grid(32650, g.transform, g.width, g.height))
    sources = dict(plan.sources, minutes=tiled_dual.write_sources(storage, "other", grid, {"minutes": a["minutes"]})["minutes"])
    with pytest.raises(ValueError, match="minutes.tif"):
        tiled_dual.evaluate_tiled(dataclasses.replace(plan, sources=sources), layers=("location",))


def _corrupt(plan: tiled_dual.TiledPlan, how: str):
    def act():  # the run keeps its arrays in a folder of its own under the work prefix
        [path] = Path(plan.store.storage.full(plan.work_prefix)).rglob("slope/000001.npy")
        if how == "truncated":
            path.write_bytes(path.read_bytes()[:-7])
        else:  # a valid array of the right shape and dtype, other values (a bit flip, another run's tile)
            np.save(path, np.load(path) + np.float32(3.0))
    return act


@pytest.mark.parametrize("how", ["truncated", "other_values"])
def test_a_corrupted_tile_array_is_detected_and_named(small, how):
    storage, plan, _, _ = small
    root = re.escape(storage.uri(plan.work_prefix).removeprefix("file://"))
    mapper = Recorder(before={"step_importance": _corrupt(plan, how)})
    with pytest.raises(ValueError, match=root + r"/[0-9a-f]{32}/slope/000001\.npy: the tile array changed"):
        tiled_dual.evaluate_tiled(plan, mapper, layers=("slope", "urban_suitability"))


def test_a_second_run_sharing_the_work_prefix_does_not_change_the_first_runs_layers(small):
    storage, plan, a, reference = small
    other = dict(a, dem=(a["dem"] + np.linspace(0, 300, a["dem"].size).reshape(a["dem"].shape)).astype("float32"))
    plan_b = make_plan(storage, plan.grid, other, plan.capacity, plan.suitability, plan.tile_size, prefix="src_b")
    plan_b = dataclasses.replace(plan_b, work_prefix=plan.work_prefix)

    class Interrupted(Exception):
        pass

    def interrupt(fn, items):  # run B stops after its T02 tiles (killed, or still running)
        if fn is tiled_dual.step_importance:
            raise Interrupted
        return serial_map(fn, items)

    def run_b():
        with pytest.raises(Interrupted):
            tiled_dual.evaluate_tiled(plan_b, interrupt)

    try:
        result = tiled_dual.evaluate_tiled(plan, Recorder(before={"step_importance": run_b}), out_prefix="a",
                                           layers=("slope", "relief", "urban_suitability"))
    except ValueError:
        return  # detected: acceptable
    assert mismatches(storage, result, reference) == {}


@pytest.mark.parametrize("work_prefix, out_prefix", [("", "layers/tiled"), ("work", "work/layers")])
def test_the_tile_store_clears_only_its_own_tile_arrays(small, work_prefix, out_prefix):
    storage, plan, _, _ = small
    storage.write_bytes("landing/01-04/v1/city.gpkg", b"a delivery")
    try:
        result = tiled_dual.evaluate_tiled(dataclasses.replace(plan, work_prefix=work_prefix), out_prefix=out_prefix,
                                           layers=("slope",))
    except ValueError:
        result = None  # refused: acceptable
    assert storage.exists("landing/01-04/v1/city.gpkg") and storage.exists(plan.sources["dem"])
    if result is not None:
        assert storage.exists(result.layers["slope"]["path"])
