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

import functools
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
    "patch_cells_in_tile",
    "patch_labels",
    "patch_sizes",
    "plan_tiles",
    "read_window",
    "storage_for",
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


@functools.lru_cache(maxsize=16)
def storage_for(url: str) -> Storage:
    """One :class:`~erenhot.storage.Storage` per URL and process (an s3fs client costs about 0.3 s to
    build; tile steps read and write dozens of objects each)."""
    return Storage(url)


def check_on_grid(src: Any, grid: Grid, uri: str) -> None:
    """Refuse an open raster that does not lie on ``grid`` (CRS, transform, shape).

    Raises:
        ValueError: naming ``uri`` and what differs.
    """
    if (src.height, src.width) != grid.shape:
        raise ValueError(f"{uri} is {src.height}×{src.width} cells, the tiled grid {grid.height}×{grid.width}")
    if src.crs is None or src.crs != grid.crs:
        raise ValueError(f"{uri} is in {src.crs}, the tiled grid in EPSG:{grid.crs_epsg}")
    if not src.transform.almost_equals(grid.transform, precision=1e-6):
        raise ValueError(f"{uri} has the transform {tuple(src.transform)[:6]}, the tiled grid {tuple(grid.transform)[:6]}")


def open_source(storage: Storage, rel: str) -> Any:
    """Open a GeoTIFF of ``storage`` with rasterio: a local path, or through the storage's s3fs
    filesystem on ``s3://`` (range reads of the blocks a window touches)."""
    if storage.protocol == "file":
        return rasterio.open(storage.full(rel))
    return rasterio.open(storage.full(rel), opener=storage.fs)


def read_window(storage: Storage, rel: str, tile: Tile, *, grid: Grid | None = None, band: int = 1) -> NDArray[Any]:
    """Read the outer window of ``tile`` from a GeoTIFF on the grid (``rel`` in ``storage``).

    Only the blocks the window touches are fetched (range reads through s3fs on ``s3://``).

    Args:
        grid: the tiled grid; when given, the raster's CRS and transform must be the grid's too.

    Raises:
        ValueError: the raster lies on another grid (the message names its URI).
    """
    with open_source(storage, rel) as src:
        if grid is not None:
            check_on_grid(src, grid, storage.uri(rel))
        elif (src.height, src.width) != (tile.height, tile.width):
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

    def __post_init__(self) -> None:
        if not self.prefix.strip("/"):
            raise ValueError("a tile store needs a prefix of its own (it deletes what is under it when a run ends)")

    @property
    def storage(self) -> Storage:
        return storage_for(self.storage_url)

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

    def get(self, layer: str, tile: Tile, sha256: str | None = None) -> NDArray[Any]:
        """The array :meth:`put` stored for ``layer`` and ``tile``.

        Args:
            sha256: the hash :meth:`put` returned; when given, the stored bytes must still have it.

        Raises:
            ValueError: the bytes changed since they were put, or are not a readable array (the message
                names the object's URI).
        """
        storage = self.storage
        rel = self.rel(layer, tile)
        data = storage.read_bytes(rel)
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"{storage.uri(rel)}: the tile array changed since this run wrote it "
                             "(another run sharing the work prefix, or a damaged file)")
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, EOFError, OSError) as exc:
            raise ValueError(f"{storage.uri(rel)}: not a readable tile array ({exc})") from exc

    def mosaic(self, layer: str, tiles: Sequence[Tile], grid: Grid, dest: str, *, nodata: float | int | None,
               sha256: Sequence[str] | None = None, tags: dict[str, str] | None = None, cache_mb: int = 128) -> dict[str, str]:
        """Assemble ``layer`` into one Cloud-Optimised GeoTIFF at ``dest`` (a path in this store's storage).

        The tiles go into a tiled GTiff in a temporary folder; GDAL's COG driver then copies it block
        by block with overviews (DEFLATE, 512-px blocks, nearest overviews for integer classes, average
        for floats — the options of :func:`erenhot.grid.write_cog`), with GDAL's block cache capped at
        ``cache_mb``; the file is streamed into the storage. Memory stays at a few tiles whatever the
        grid's size.

        Args:
            sha256: per tile (same order), the hash :meth:`put` returned: each tile is checked.

        Returns:
            ``{"path", "uri", "sha256"}`` of the written COG.
        """
        hashes = list(sha256) if sha256 is not None else [None] * len(tiles)
        first = self.get(layer, tiles[0], hashes[0])
        dtype = first.dtype
        is_int = np.issubdtype(dtype, np.integer)
        storage = self.storage
        with tempfile.TemporaryDirectory(prefix="erenhot-mosaic-") as tmp, rasterio.Env(GDAL_CACHEMAX=int(cache_mb)):
            work, out = os.path.join(tmp, "work.tif"), os.path.join(tmp, "out.tif")
            with rasterio.open(work, "w", driver="GTiff", tiled=True, blockxsize=512, blockysize=512,
                               bigtiff="if_safer", **grid.profile(dtype, nodata)) as dst:
                for i, tile in enumerate(tiles):
                    dst.write(first if i == 0 else self.get(layer, tile, hashes[i]), 1, window=tile.inner_window)
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
    """What the join of patches across tiles needs from one tile: the labels along its four edges and the
    cells of each label that touches an edge. Patches inside the tile are complete there and stay out of
    the join, so what the join holds grows with the tiles' perimeters, not with the cells.

    Attributes:
        edge_labels: sorted local labels (≥ 1) that touch an edge of the tile.
        edge_cells: cells of each of them inside this tile.
        top, bottom, left, right: local labels along each edge (0 = not in the mask).
    """

    tile: Tile
    edge_labels: NDArray[np.int32]
    edge_cells: NDArray[np.int64]
    top: NDArray[np.int32]
    bottom: NDArray[np.int32]
    left: NDArray[np.int32]
    right: NDArray[np.int32]

    @classmethod
    def of(cls, tile: Tile, mask: NDArray[np.bool_]) -> TilePatches:
        labels, n = patch_labels(mask)
        top, bottom, left, right = labels[0].copy(), labels[-1].copy(), labels[:, 0].copy(), labels[:, -1].copy()
        edge = np.unique(np.concatenate([top, bottom, left, right]))
        edge = edge[edge > 0].astype(np.int32)
        cells = np.bincount(labels.ravel(), minlength=n + 1)
        return cls(tile, edge, cells[edge].astype(np.int64), top, bottom, left, right)


def _edge_pairs(a: NDArray[np.int32], b: NDArray[np.int32]) -> Iterator[tuple[NDArray[np.int32], NDArray[np.int32]]]:
    """Local label pairs joined across a shared edge: cell i of edge ``a`` touches i−1, i, i+1 of ``b``."""
    for shift in (-1, 0, 1):
        if shift < 0:
            x, y = a[1:], b[:-1]
        elif shift > 0:
            x, y = a[:-1], b[1:]
        else:
            x, y = a, b
        ok = (x > 0) & (y > 0)
        yield x[ok], y[ok]


def patch_sizes(parts: Sequence[TilePatches]) -> list[NDArray[np.int64]]:
    """Cells of the whole (cross-tile) patch of each edge label, per tile.

    Joins 8-connected patches across tile edges and corners (a graph of the edge labels,
    :func:`scipy.sparse.csgraph.connected_components`) as one ``ndimage.label`` over the whole mask would
    (:func:`erenhot.evaluation.suitability.patch_cells`).

    Args:
        parts: one :class:`TilePatches` per tile of one :func:`plan_tiles` layout (any order).

    Returns:
        For each part (same order): ``int64`` cells of the whole patch of each of its ``edge_labels``;
        give it to :func:`patch_cells_in_tile`.
    """
    by_pos = {(p.tile.ti, p.tile.tj): p for p in parts}
    offsets, total = {}, 0
    for p in parts:
        offsets[(p.tile.ti, p.tile.tj)] = total
        total += p.edge_labels.size
    if total == 0:
        return [np.zeros(0, dtype=np.int64) for _ in parts]

    def node(p: TilePatches, local: NDArray[np.int32]) -> NDArray[np.int64]:
        return offsets[(p.tile.ti, p.tile.tj)] + np.searchsorted(p.edge_labels, local).astype(np.int64)

    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    for (ti, tj), p in by_pos.items():
        right, below = by_pos.get((ti, tj + 1)), by_pos.get((ti + 1, tj))
        if right is not None:
            for x, y in _edge_pairs(p.right, right.left):
                src.append(node(p, x))
                dst.append(node(right, y))
        if below is not None:
            for x, y in _edge_pairs(p.bottom, below.top):
                src.append(node(p, x))
                dst.append(node(below, y))
        for dj in (1, -1):  # the diagonal neighbours below: corner cell to corner cell
            other = by_pos.get((ti + 1, tj + dj))
            if other is None:
                continue
            mine = p.bottom[-1:] if dj == 1 else p.bottom[:1]
            corner = other.top[:1] if dj == 1 else other.top[-1:]
            if mine[0] > 0 and corner[0] > 0:
                src.append(node(p, mine))
                dst.append(node(other, corner))
    i = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
    j = np.concatenate(dst) if dst else np.zeros(0, dtype=np.int64)
    graph = sparse.coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(total, total)).tocsr()
    _, component = connected_components(graph, directed=False)
    cells = np.concatenate([p.edge_cells for p in parts])  # node order = parts order, as the offsets
    comp_cells = np.bincount(component, weights=cells).astype(np.int64)
    out = []
    for p in parts:
        o = offsets[(p.tile.ti, p.tile.tj)]
        out.append(comp_cells[component[o : o + p.edge_labels.size]])
    return out


def patch_cells_in_tile(mask: NDArray[np.bool_], edge_labels: NDArray[np.int32], edge_sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per cell of one tile's ``mask``: cells of the whole patch it belongs to (0 outside the mask).

    Labels the tile again (:func:`patch_labels` is deterministic); patches inside the tile keep their own
    size, those touching an edge take ``edge_sizes`` from :func:`patch_sizes`.
    """
    labels, n = patch_labels(mask)
    cells = np.bincount(labels.ravel(), minlength=n + 1).astype(np.int64)
    cells[edge_labels] = edge_sizes
    cells[0] = 0
    return cells[labels]


def sha256_array(array: NDArray[Any]) -> str:
    """sha256 of an array's dtype, shape and bytes (for comparing layers in tests and manifests)."""
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
