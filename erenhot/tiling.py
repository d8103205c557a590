"""Window-by-window (tiled) evaluation on an analysis grid.

A grid too large to hold as whole arrays (Xilingol League is about 50× Erenhot's 4,015 km²; a
province more) is cut into :class:`Tile` windows. Each tile is read with a *halo* of extra cells on
every side, so that focal operations (slope: 1 cell, 地形起伏度 relief: half its window, fault buffers:
the buffer distance in cells) see the same neighbours as on the whole array; only the tile's inner
part is kept. Where the halo would cross the grid edge the read window is clipped, exactly as the
whole array ends there, so a tiled result equals the whole-array one cell for cell.

What a whole-array evaluation computes over *all* cells is done here in bounded memory:

* the break values of "cumulative share of the total service" grading (双评价指南 2020,
  生态系统服务功能重要性; spec §1.4.1) — :func:`erenhot.evaluation.ecology.cumulative_share_breaks`
  takes the values chunk by chunk, keeping a histogram and the cells of the bins where breaks fall;
* :func:`patch_labels` / :func:`patch_sizes` — 8-connected patches spanning tiles (集中度/连片度),
  joined across tile borders with :func:`scipy.sparse.csgraph.connected_components`.

Tile work goes through a *mapper* ``mapper(fn, items) -> [fn(item) …]`` (order kept): :func:`serial_map`
here, Prefect tasks on a Dask cluster in ``tasks/tiles.py``. ``fn`` must be a module-level function and
``items`` small picklable objects; tile functions read and write through :class:`TileStore` (a local
folder or ``s3://`` via fsspec), so that workers on other machines need only the storage.

No Prefect here.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from rasterio.windows import Window
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from erenhot.grid import Grid
from erenhot.storage import Storage

__all__ = [
    "Mapper",
    "Tile",
    "TileStore",
    "TilePatches",
    "patch_labels",
    "patch_sizes",
    "plan_tiles",
    "read_window",
    "serial_map",
]

Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]
"""``mapper(fn, items)`` → ``[fn(item) for item in items]``, results in the order of ``items``."""

EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity, as suitability.patch_concentration_grade


def serial_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """The plain mapper: one item after another in this process."""
    return [fn(item) for item in items]


@dataclass(frozen=True)
class Tile:
    """One window of a grid: inner cells ``[row0, row1) × [col0, col1)`` plus a halo.

    Attributes:
        index: position in :func:`plan_tiles` order (row-major).
        ti, tj: tile row and column in the tile layout.
        row0, row1, col0, col1: the inner window, in grid cells.
        halo: extra cells read on each side (clipped at the grid edge).
        height, width: the grid's shape.
    """

    index: int
    ti: int
    tj: int
    row0: int
    row1: int
    col0: int
    col1: int
    halo: int
    height: int
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the inner window ``(rows, cols)``."""
        return (self.row1 - self.row0, self.col1 - self.col0)

    @property
    def outer(self) -> tuple[int, int, int, int]:
        """``(r0, r1, c0, c1)`` of the window read: inner plus halo, clipped to the grid."""
        return (max(0, self.row0 - self.halo), min(self.height, self.row1 + self.halo),
                max(0, self.col0 - self.halo), min(self.width, self.col1 + self.halo))

    @property
    def window(self) -> Window:
        """The rasterio window of :attr:`outer`."""
        r0, r1, c0, c1 = self.outer
        return Window(c0, r0, c1 - c0, r1 - r0)

    @property
    def inner_window(self) -> Window:
        return Window(self.col0, self.row0, self.col1 - self.col0, self.row1 - self.row0)

    @property
    def inner(self) -> tuple[slice, slice]:
        """Slices of the inner window inside an array of the :attr:`outer` window."""
        r0, _, c0, _ = self.outer
        return (slice(self.row0 - r0, self.row1 - r0), slice(self.col0 - c0, self.col1 - c0))

    def crop(self, block: NDArray[Any]) -> NDArray[Any]:
        """The inner part of an array read over :attr:`outer`."""
        return block[self.inner]

    def grid(self, grid: Grid, with_halo: bool = True) -> Grid:
        """The sub-grid of the outer (or inner) window, for rasterising vectors into this tile."""
        w = self.window if with_halo else self.inner_window
        return Grid(grid.crs_epsg, rasterio.windows.transform(w, grid.transform), int(w.width), int(w.height))


def plan_tiles(shape: tuple[int, int], tile_size: int | tuple[int, int], halo: int = 0) -> list[Tile]:
    """Cut a grid of ``shape`` (rows, cols) into tiles of at most ``tile_size`` cells a side.

    Args:
        shape: the grid's ``(rows, cols)``.
        tile_size: inner tile side(s) in cells (≥ 1); one tile when ≥ the grid.
        halo: cells read beyond each side (≥ 0), e.g. :func:`erenhot.evaluation.carrying_capacity.halo_cells`.

    Returns:
        Tiles in row-major order; their inner windows partition the grid.

    Raises:
        ValueError: a non-positive size or negative halo.
    """
    rows, cols = (int(v) for v in shape)
    th, tw = (tile_size, tile_size) if isinstance(tile_size, int) else (int(tile_size[0]), int(tile_size[1]))
    if rows < 1 or cols < 1 or th < 1 or tw < 1 or halo < 0:
        raise ValueError(f"cannot tile a {rows}×{cols} grid into {th}×{tw} tiles with halo {halo}")
    tiles = []
    for ti, r0 in enumerate(range(0, rows, th)):
        for tj, c0 in enumerate(range(0, cols, tw)):
            tiles.append(Tile(len(tiles), ti, tj, r0, min(rows, r0 + th), c0, min(cols, c0 + tw), int(halo), rows, cols))
    return tiles


def read_window(storage: Storage, rel: str, tile: Tile, *, band: int = 1) -> NDArray[Any]:
    """Read the outer window of ``tile`` from a GeoTIFF on the grid (``rel`` in ``storage``).

    Only the blocks the window touches are fetched (range reads through fsspec on ``s3://``).

    Raises:
        ValueError: the raster's shape differs from the tile's grid (it lies on another grid).
    """
    path = storage.full(rel)
    opener = None if storage.protocol == "file" else storage.fs.open
    with rasterio.open(path if opener is None else f"s3://{path}", opener=opener) as src:
        if (src.height, src.width) != (tile.height, tile.width):
            raise ValueError(f"{storage.uri(rel)} is {src.height}×{src.width} cells, the tiled grid {tile.height}×{tile.width}")
        return src.read(band, window=tile.window)


@dataclass(frozen=True)
class TileStore:
    """Arrays per (layer, tile) under ``prefix`` of a storage (``.npy`` files; local or ``s3://``).

    The intermediate zone of a tiled run: tile functions put their outputs here and pass back only
    ``{"uri", "sha256"}``; :meth:`mosaic` assembles a layer into one Cloud-Optimised GeoTIFF window by
    window, never holding the whole layer.
    """

    storage_url: str
    prefix: str

    @property
    def storage(self) -> Storage:
        return Storage(self.storage_url)

    def rel(self, layer: str, tile: Tile) -> str:
        return posixpath.join(self.prefix, layer, f"{tile.index:06d}.npy")

    def put(self, layer: str, tile: Tile, array: NDArray[Any]) -> dict[str, str]:
        """Store the inner array of ``tile`` for ``layer``; returns its URI and sha256."""
        if array.shape != tile.shape:
            raise ValueError(f"{layer}: tile {tile.index} array is {array.shape}, the tile {tile.shape}")
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
        storage = self.storage
        rel = self.rel(layer, tile)
        digest = storage.write_bytes(rel, buf.getvalue())
        return {"uri": storage.uri(rel), "sha256": digest}

    def clear(self) -> None:
        """Delete every tile array under ``prefix`` (the work zone of one run; never a delivery)."""
        storage = self.storage
        if storage.exists(self.prefix):
            storage.fs.rm(storage.full(self.prefix), recursive=True)

    def get(self, layer: str, tile: Tile) -> NDArray[Any]:
        return np.load(io.BytesIO(self.storage.read_bytes(self.rel(layer, tile))), allow_pickle=False)

    def mosaic(self, layer: str, tiles: Sequence[Tile], grid: Grid, dest: str, *, nodata: float | int | None,
               tags: dict[str, str] | None = None, cache_mb: int = 128) -> dict[str, str]:
        """Assemble ``layer`` into one Cloud-Optimised GeoTIFF at ``dest`` (a path in this store's storage).

        The tiles go into a tiled GTiff in a temporary folder; GDAL's COG driver then copies it block
        by block with overviews (DEFLATE, 512-px blocks, nearest overviews for integer classes, average
        for floats — the options of :func:`erenhot.grid.write_cog`), with GDAL's block cache capped at
        ``cache_mb``; the file is streamed into the storage. Memory stays at a few tiles whatever the
        grid's size.

        Returns:
            ``{"path", "uri", "sha256"}`` of the written COG.
        """
        first = self.get(layer, tiles[0])
        dtype = first.dtype
        is_int = np.issubdtype(dtype, np.integer)
        storage = self.storage
        with tempfile.TemporaryDirectory(prefix="erenhot-mosaic-") as tmp, rasterio.Env(GDAL_CACHEMAX=int(cache_mb)):
            work, out = os.path.join(tmp, "work.tif"), os.path.join(tmp, "out.tif")
            with rasterio.open(work, "w", driver="GTiff", tiled=True, blockxsize=512, blockysize=512,
                               bigtiff="if_safer", **grid.profile(dtype, nodata)) as dst:
                for tile in tiles:
                    dst.write(first if tile is tiles[0] else self.get(layer, tile), 1, window=tile.inner_window)
                if tags:
                    dst.update_tags(**{str(k): str(v) for k, v in tags.items()})
            del first
            rasterio.shutil.copy(work, out, driver="COG", compress="deflate", predictor="yes", blocksize=512,
                                 overviews="auto", resampling="NEAREST" if is_int else "AVERAGE", bigtiff="if_safer")
            digest = hashlib.sha256()
            with open(out, "rb") as src, storage.writer(dest) as fh:
                for chunk in iter(lambda: src.read(8 << 20), b""):
                    digest.update(chunk)
                    fh.write(chunk)
        return {"path": dest, "uri": storage.uri(dest), "sha256": digest.hexdigest()}


# --------------------------------------------------------------------------- patches across tiles


def patch_labels(mask: NDArray[np.bool_]) -> tuple[NDArray[np.int32], int]:
    """8-connected patches of one tile (``scipy.ndimage.label``; deterministic for the same mask)."""
    labels, n = ndimage.label(np.asarray(mask, dtype=bool), structure=EIGHT)
    return labels.astype(np.int32, copy=False), int(n)


@dataclass(frozen=True)
class TilePatches:
    """What the join of patches across tiles needs from one tile: label count, cells per label, and
    the labels along its four edges."""

    tile: Tile
    n: int
    cells: NDArray[np.int64]  # cells[k] for local label k (0 = background)
    top: NDArray[np.int32]
    bottom: NDArray[np.int32]
    left: NDArray[np.int32]
    right: NDArray[np.int32]

    @classmethod
    def of(cls, tile: Tile, mask: NDArray[np.bool_]) -> TilePatches:
        labels, n = patch_labels(mask)
        return cls(tile, n, np.bincount(labels.ravel(), minlength=n + 1), labels[0].copy(), labels[-1].copy(),
                   labels[:, 0].copy(), labels[:, -1].copy())


def _edge_pairs(a: NDArray[np.int32], b: NDArray[np.int32], oa: int, ob: int) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Global label pairs joined across a shared edge: cell i of edge ``a`` touches i−1, i, i+1 of ``b``."""
    for shift in (-1, 0, 1):
        if shift < 0:
            x, y = a[1:], b[:-1]
        elif shift > 0:
            x, y = a[:-1], b[1:]
        else:
            x, y = a, b
        ok = (x > 0) & (y > 0)
        yield x[ok].astype(np.int64) + oa, y[ok].astype(np.int64) + ob


def patch_sizes(parts: Sequence[TilePatches]) -> list[NDArray[np.int64]]:
    """Cells of the whole (cross-tile) patch each local label belongs to, per tile.

    Joins 8-connected patches across tile edges and corners as one ``ndimage.label`` over the whole
    mask would (:func:`erenhot.evaluation.suitability.patch_concentration_grade`).

    Args:
        parts: one :class:`TilePatches` per tile of one :func:`plan_tiles` layout (any order).

    Returns:
        For each part (same order): an ``int64`` array ``size[k]`` = cells of the patch of local label
        ``k`` (``size[0]`` = 0), to index with the tile's labels.
    """
    by_pos = {(p.tile.ti, p.tile.tj): p for p in parts}
    offsets, total = {}, 0
    for p in parts:
        offsets[(p.tile.ti, p.tile.tj)] = total
        total += p.n
    if total == 0:
        return [np.zeros(1, dtype=np.int64) for _ in parts]
    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    for (ti, tj), p in by_pos.items():
        o = offsets[(ti, tj)]
        right, below = by_pos.get((ti, tj + 1)), by_pos.get((ti + 1, tj))
        if right is not None:
            for x, y in _edge_pairs(p.right, right.left, o, offsets[(ti, tj + 1)]):
                src.append(x)
                dst.append(y)
        if below is not None:
            for x, y in _edge_pairs(p.bottom, below.top, o, offsets[(ti + 1, tj)]):
                src.append(x)
                dst.append(y)
        for dj in (1, -1):  # the diagonal neighbours below: corner cell to corner cell
            other = by_pos.get((ti + 1, tj + dj))
            if other is None:
                continue
            mine = int(p.bottom[-1] if dj == 1 else p.bottom[0])
            corner = int(other.top[0] if dj == 1 else other.top[-1])
            if mine > 0 and corner > 0:
                src.append(np.array([mine + o]))
                dst.append(np.array([corner + offsets[(ti + 1, tj + dj)]]))
    n_nodes = total + 1  # global label g = offset + local, local ≥ 1; node 0 unused
    i = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
    j = np.concatenate(dst) if dst else np.zeros(0, dtype=np.int64)
    graph = sparse.coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n_nodes, n_nodes)).tocsr()
    _, component = connected_components(graph, directed=False)
    cells = np.zeros(n_nodes, dtype=np.int64)
    for p in parts:
        o = offsets[(p.tile.ti, p.tile.tj)]
        cells[o + 1 : o + p.n + 1] = p.cells[1 : p.n + 1]
    comp_cells = np.bincount(component, weights=cells).astype(np.int64)
    out = []
    for p in parts:
        o = offsets[(p.tile.ti, p.tile.tj)]
        sizes = np.zeros(p.n + 1, dtype=np.int64)
        sizes[1:] = comp_cells[component[o + 1 : o + p.n + 1]]
        out.append(sizes)
    return out


def sha256_array(array: NDArray[Any]) -> str:
    """sha256 of an array's dtype, shape and bytes (for comparing layers in tests and manifests)."""
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
