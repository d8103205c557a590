"""PNG maps of grid layers with Chinese titles and legends.

Rendering uses :class:`matplotlib.figure.Figure` with the Agg canvas directly — no ``pyplot``, no
global rcParams changes, safe to call from worker threads — and the CJK font **Noto Sans CJK SC**
shipped inside the ``mplfonts`` package (``mplfonts/fonts/NotoSansCJKsc-Regular.otf``, SIL OFL).
The font is registered with matplotlib's font manager on first use and passed explicitly, as a
:class:`~matplotlib.font_manager.FontProperties` built from the file, to every text drawn
(title, subtitle, legend, colour bar, scale bar, north arrow, notes); system fonts are never used.

Maps are drawn in the grid CRS (normally EPSG:4525, metres): ticks off, a north arrow (grid north;
the Gauss–Krüger meridian convergence at Erenhot is below 1°), a scale bar in km and a note with
the CRS and cell size. Class colours follow the 用地用海 palette of the 制图规范 (evaluation spec
§4.3, 附录B, third-party extraction — confidence M).

Public API: :func:`cjk_font_path`, :func:`render_class_map`, :func:`render_value_map`,
:func:`thumbnail`, :func:`legend_from_palette` and the palettes :data:`LAND_USE_COLOURS`,
:data:`GRADE_COLOURS_5`, :data:`SUITABILITY_COLOURS`, :data:`IMPORTANCE_COLOURS`.
"""

from __future__ import annotations

import importlib.util
import io
import math
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from matplotlib import colormaps, colors
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image
from shapely.geometry.base import BaseGeometry

from erenhot.grid import Grid

__all__ = [
    "GRADE_COLOURS_5",
    "IMPORTANCE_COLOURS",
    "LAND_USE_COLOURS",
    "SUITABILITY_COLOURS",
    "Boundary",
    "LegendEntry",
    "cjk_font_path",
    "legend_from_palette",
    "render_class_map",
    "render_value_map",
    "thumbnail",
]

LegendEntry = tuple[int, str, str]
"""``(class code, 中文 label, '#rrggbb')``."""

Boundary = gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry
"""An outline to draw: GeoDataFrame/GeoSeries in any CRS, or a shapely geometry in the grid CRS."""

# ---------------------------------------------------------------------------------------
# palettes
# ---------------------------------------------------------------------------------------
LAND_USE_COLOURS: Final[dict[str, str]] = {
    "耕地": "#f5f8dc",  # 245,248,220
    "园地": "#bfe9aa",  # 191,233,170
    "林地": "#68b167",  # 104,177,103
    "草地": "#cdf57a",  # 205,245,122
    "湿地": "#65cdaa",  # 101,205,170
    "农业设施建设用地": "#d8d79f",  # 216,215,159
    "城镇住宅": "#ffff2d",  # 255,255,45
    "农村宅基地": "#ffd380",  # 255,211,128
    "机关团体": "#ff00ff",  # 255,0,255
    "文化": "#ff7f00",  # 255,127,0
    "教育": "#ff85c9",  # 255,133,201
    "科研": "#e6005c",  # 230,0,92
    "体育": "#00a57c",  # 0,165,124
    "医疗卫生": "#ff7f7e",  # 255,127,126
    "社会福利": "#ff9f7f",  # 255,159,127
    "商业服务业": "#ff0000",  # 255,0,0
    "工业": "#bb9674",  # 187,150,116
    "采矿": "#9e6c54",  # 158,108,84
    "盐田": "#0000ff",  # 0,0,255
    "仓储": "#8761d3",  # 135,97,211
    "储备库": "#9999ff",  # 153,153,255
    "交通运输": "#b7b7b7",  # 183,183,183
    "公路": "#adadad",  # 173,173,173
    "城镇道路": "#a3a3a3",  # 163,163,163
    "管道运输": "#999999",  # 153,153,153
    "公用设施": "#006380",  # 0,99,128
    "公园绿地": "#00ff00",  # 0,255,0
    "防护绿地": "#148d4a",  # 20,141,74
    "广场": "#acffcf",  # 172,255,207
    "特殊用地": "#859156",  # 133,145,86
    "留白用地": "#ffffff",  # 255,255,255
    "陆地水域": "#338ec0",  # 51,142,192
    "其他土地": "#eeeeee",  # 238,238,238
}
"""用地用海 first-level/selected second-level colours, 《国土空间规划制图规范》附录B as extracted
in evaluation spec §4.3 [S15] (confidence M). Keys are the Chinese class names; map 三调 DLBM
groups onto them via the crosswalk of spec §3.4 (e.g. 0401/0403/0404 → 草地, 1101–1107 → 陆地水域,
1204–1207 → 其他土地)."""

GRADE_COLOURS_5: Final[dict[int, str]] = {
    1: "#1a7d3c",  # dark green — 高/好/极重要 (grade 1)
    2: "#8cc665",
    3: "#f5e36b",
    4: "#f59a4a",
    5: "#d7301f",  # red — 低/差 (grade 5)
}
"""Five ordinal grades, 1 = 高/好 (dark green) … 5 = 低/差 (red); the grid's grade convention
(architecture "The common grid"). Diverging green–yellow–red after ColorBrewer RdYlGn."""

SUITABILITY_COLOURS: Final[dict[str, str]] = {
    "适宜": "#38a800",
    "一般适宜": "#ffd54f",
    "不适宜": "#c8675a",
}
"""农业生产/城镇建设 适宜性 classes of the 2020 双评价指南 (适宜 / 一般适宜 / 不适宜)."""

IMPORTANCE_COLOURS: Final[dict[str, str]] = {
    "极重要": "#1b6b35",
    "重要": "#8fcf7e",
    "一般": "#eef6e4",
}
"""生态保护重要性 classes of the 2020 双评价指南 (极重要 / 重要 / 一般)."""

_UNLISTED_COLOUR: Final[str] = "#9e9e9e"
_FONT_FILE: Final[str] = "NotoSansCJKsc-Regular.otf"
_FONT_PACKAGE: Final[str] = "mplfonts"
_MAP_WIDTH_IN: Final[float] = 7.0
_FONT_LOCK = threading.Lock()
_FONT_REGISTERED: set[Path] = set()


# ---------------------------------------------------------------------------------------
# font
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Path of ``NotoSansCJKsc-Regular.otf`` inside the installed ``mplfonts`` package.

    The package is located without importing it (``importlib.util.find_spec``); none of its
    install/download helpers are called.

    Raises:
        RuntimeError: if ``mplfonts`` is not installed or the font file is missing from it.
    """
    spec = importlib.util.find_spec(_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the CJK map font needs the '{_FONT_PACKAGE}' package (pip install mplfonts); "
            "it is not installed"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "fonts" / _FONT_FILE
        if candidate.is_file():
            return candidate
    raise RuntimeError(
        f"{_FONT_FILE} not found in the '{_FONT_PACKAGE}' package at "
        f"{list(spec.submodule_search_locations)}; reinstall mplfonts"
    )


def map_font(size: float) -> FontProperties:
    """FontProperties bound to the shipped Noto Sans CJK SC file (registered once)."""
    path = cjk_font_path()
    with _FONT_LOCK:
        if path not in _FONT_REGISTERED:
            fontManager.addfont(str(path))
            _FONT_REGISTERED.add(path)
    return FontProperties(fname=str(path), size=size)


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def legend_from_palette(
    labels: Mapping[int, str], palette: Mapping[str, str]
) -> list[LegendEntry]:
    """Legend entries ``(code, label, colour)`` for ``{code: label}`` using ``palette[label]``.

    Example: ``legend_from_palette({1: "极重要", 2: "重要", 3: "一般"}, IMPORTANCE_COLOURS)``.

    Raises:
        ValueError: naming the labels that have no colour in ``palette``.
    """
    missing = [label for label in labels.values() if label not in palette]
    if missing:
        raise ValueError(f"no colour for {missing} in the palette ({sorted(palette)})")
    return [(int(code), label, palette[label]) for code, label in labels.items()]


def _downsample_factor(shape: tuple[int, int], max_px: int) -> int:
    if max_px < 1:
        raise ValueError(f"max_px must be >= 1, got {max_px}")
    return max(1, math.ceil(max(shape) / max_px))


def _blocks(array: np.ndarray, k: int, pad: float | int) -> np.ndarray:
    """``array`` padded to multiples of ``k`` and reshaped to ``(R, k, C, k)``."""
    rows, cols = array.shape
    padded = np.pad(array, ((0, (-rows) % k), (0, (-cols) % k)), constant_values=pad)
    return padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k)


def _block_mode(classes: np.ndarray, k: int) -> np.ndarray:
    """Most frequent class per ``k`` x ``k`` block; ties go to non-zero (data) classes."""
    if k == 1:
        return classes
    blocks = _blocks(classes, k, 0)
    codes = [int(c) for c in np.unique(blocks) if c != 0] + [0]
    best = np.zeros((blocks.shape[0], blocks.shape[2]), dtype=classes.dtype)
    best_count = np.full(best.shape, -1, dtype=np.int64)
    for code in codes:
        count = (blocks == code).sum(axis=(1, 3))
        better = count > best_count
        best[better] = code
        best_count[better] = count[better]
    return best


def _block_nanmean(values: np.ndarray, k: int) -> np.ndarray:
    """Mean of the finite values per ``k`` x ``k`` block (NaN where none)."""
    if k == 1:
        return values
    blocks = _blocks(values.astype("float64"), k, np.nan)
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3))
    count = finite.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _extent(grid: Grid, shape: tuple[int, int], k: int) -> tuple[float, float, float, float]:
    """``(left, right, bottom, top)`` of a ``k``-times downsampled image (may pad east/south)."""
    left, _, _, top = grid.bounds
    size = grid.cell_size_m * k
    return (left, left + shape[1] * size, top - shape[0] * size, top)


def _crs_label(epsg: int) -> str:
    if epsg == 4525:
        return "CGCS2000 3度带高斯-克吕格投影 第37带 (EPSG:4525)"
    try:
        return f"{pyproj.CRS.from_epsg(epsg).name} (EPSG:{epsg})"
    except pyproj.exceptions.CRSError:
        return f"EPSG:{epsg}"


def _boundary_lines(boundary: Boundary, epsg: int) -> list[np.ndarray]:
    """Outline vertex arrays ``(n, 2)`` in EPSG:``epsg`` (polygons contribute their rings)."""
    if isinstance(boundary, BaseGeometry):
        geoms = [boundary]
    else:
        if boundary.crs is None:
            raise ValueError("the boundary has no CRS; set it before drawing")
        series = boundary.geometry if isinstance(boundary, gpd.GeoDataFrame) else boundary
        if series.crs.to_epsg() != epsg:
            series = series.to_crs(epsg=epsg)
        geoms = [g for g in series if g is not None]
    lines: list[np.ndarray] = []
    for geom in geoms:
        if geom.is_empty:
            continue
        outline = geom.boundary if geom.geom_type in ("Polygon", "MultiPolygon") else geom
        for part in shapely.get_parts(outline):
            if part.geom_type in ("LineString", "LinearRing"):
                lines.append(np.asarray(part.coords)[:, :2])
            elif part.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection"):
                lines.extend(_boundary_lines(part, epsg))
    return lines


def _nice_length_km(width_km: float) -> float:
    """A 1/2/5 × 10ⁿ km length close to a fifth of the map width."""
    target = max(width_km / 5.0, 1e-6)
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return step * power
    return power


def _format_number(value: float) -> str:
    """Short tick label with an ASCII minus: 0.25, 12, 1200, 1.2e+05."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.2g}"
    return f"{value:.4g}"


def _format_area(area_km2: float) -> str:
    if area_km2 >= 100:
        return f"{area_km2:,.0f}"
    if area_km2 >= 1:
        return f"{area_km2:.1f}"
    return f"{area_km2:.2f}"


# ---------------------------------------------------------------------------------------
# figure scaffold
# ---------------------------------------------------------------------------------------
def new_map(
    grid: Grid, extent: tuple[float, float, float, float], title: str, subtitle: str | None
) -> tuple[Figure, Axes]:
    """An empty map frame of the house style (figure size from the extent's aspect, Chinese title and
    subtitle in the CJK font); draw on the axes, then :func:`decorate` and :func:`to_png`.

    ``extent`` is ``(left, right, bottom, top)`` in the grid's CRS (metres, EPSG:4525)."""
    left, right, bottom, top = extent
    aspect = (top - bottom) / (right - left)
    map_h = min(max(_MAP_WIDTH_IN * aspect, 3.5), 9.0)
    fig = Figure(figsize=(_MAP_WIDTH_IN + 3.4, map_h + 1.4), facecolor="white")
    FigureCanvasAgg(fig)
    fig_w, fig_h = fig.get_size_inches()
    ax = fig.add_axes(
        (0.02, 0.6 / fig_h, _MAP_WIDTH_IN / fig_w, map_h / fig_h), facecolor="white"
    )
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#888888")
        spine.set_linewidth(0.6)
    ax.set_title(title, fontproperties=map_font(15), pad=24 if subtitle else 10)
    if subtitle:
        ax.text(
            0.5, 1.012, subtitle, transform=ax.transAxes, ha="center", va="bottom",
            fontproperties=map_font(10), color="#444444",
        )
    return fig, ax


def decorate(ax: Axes, grid: Grid, extent: tuple[float, float, float, float],
              boundary: Boundary | None) -> None:
    """Boundary outline, north arrow, scale bar (km) and the CRS note."""
    left, right, bottom, top = extent
    if boundary is not None:
        lines = _boundary_lines(boundary, grid.crs_epsg)
        if lines:
            ax.add_collection(
                LineCollection(lines, colors="#303030", linewidths=1.0, zorder=4)
            )
    # north arrow (grid north), axes-fraction coordinates
    ax.annotate(
        "", xy=(0.95, 0.955), xytext=(0.95, 0.86), xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 2.5,
                    "headwidth": 9, "headlength": 9},
        zorder=6,
    )
    ax.text(0.95, 0.962, "N", transform=ax.transAxes, ha="center", va="bottom",
            fontproperties=map_font(11), zorder=6)
    # scale bar in km, data coordinates (metres of the grid CRS)
    width_m, height_m = right - left, top - bottom
    length_km = _nice_length_km(width_m / 1000.0)
    x0, y0 = left + 0.04 * width_m, bottom + 0.05 * height_m
    bar_h = 0.012 * height_m
    half = length_km * 500.0
    for i, face in enumerate(("black", "white")):
        ax.add_patch(Rectangle((x0 + i * half, y0), half, bar_h, facecolor=face,
                               edgecolor="black", linewidth=0.8, zorder=6))
    for x, label in ((x0, "0"), (x0 + half, f"{length_km / 2:g}"),
                     (x0 + 2 * half, f"{length_km:g} km")):
        ax.text(x, y0 + bar_h * 1.6, label, ha="center", va="bottom",
                fontproperties=map_font(8), zorder=6)
    ax.text(
        0.0, -0.015,
        f"坐标系：{_crs_label(grid.crs_epsg)}　栅格 {grid.cell_size_m:g} m　比例尺单位 km",
        transform=ax.transAxes, ha="left", va="top", fontproperties=map_font(8), color="#444444",
    )


def finish_map(fig: Figure, ax: Axes, grid: Grid, extent: tuple[float, float, float, float], boundary: Boundary | None,
               handles: list[Any] | None = None, legend_title: str | None = None, dpi: int = 150) -> bytes:
    """Close a map drawn on a :func:`new_map` frame: :func:`decorate` (boundary, north arrow, scale bar,
    CRS note), the legend right of the map in the CJK font (``handles``; ``None`` = the artists'
    labels; an empty list = no legend) and the PNG bytes."""
    decorate(ax, grid, extent, boundary)
    if handles is None or handles:
        kw: dict[str, Any] = {"title": legend_title}
        if legend_title:
            kw["title_fontproperties"] = map_font(11)
        if handles is not None:
            kw["handles"] = handles
        ax.legend(prop=map_font(9), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, **kw)
    return to_png(fig, dpi)


def to_png(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG bytes (white background, tight bounding box)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.2,
                facecolor="white")
    return buf.getvalue()


def _check_array(array: np.ndarray, grid: Grid, what: str) -> np.ndarray:
    data = np.asarray(array)
    if data.shape != grid.shape:
        raise ValueError(f"{what} shape {data.shape} does not match grid shape {grid.shape}")
    return data


# ---------------------------------------------------------------------------------------
# public renderers
# ---------------------------------------------------------------------------------------
def render_class_map(
    classes: np.ndarray,
    grid: Grid,
    legend: Sequence[LegendEntry],
    title: str,
    *,
    boundary: Boundary | None = None,
    subtitle: str | None = None,
    cell_area_km2: float | None = None,
    dpi: int = 150,
    max_px: int = 1600,
) -> bytes:
    """A class raster (e.g. 生态保护重要性, 适宜性, 现状地类) as a PNG map.

    Args:
        classes: integer array ``grid.shape`` (normally ``uint8``), 0 = no data / outside
            (transparent). Codes absent from ``legend`` are drawn grey as "未列入图例".
        grid: the grid the array lies on (CRS metres, row 0 north).
        legend: ``(code, 中文 label, '#rrggbb')`` in display order; only codes present in
            ``classes`` are listed.
        title: map title (Chinese).
        boundary: outline drawn on top, e.g. the city boundary (any CRS; shapely geometries
            are taken to be in the grid CRS).
        subtitle: a smaller line under the title (e.g. run key, data version).
        cell_area_km2: when given (normally ``grid.cell_area_km2``), each legend entry shows
            its area in km² and its share (%) of all non-zero cells, counted at full resolution.
        dpi: output resolution (dots per inch; the map panel is 7 in wide).
        max_px: arrays larger than this (rows or cols) are downsampled by block mode first.

    Returns:
        PNG bytes.

    Raises:
        ValueError: on a shape mismatch, a non-integer or negative array, or a bad colour.
        RuntimeError: if the CJK font is missing (see :func:`cjk_font_path`).
    """
    data = _check_array(classes, grid, "classes")
    if not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"classes must be an integer array, got {data.dtype}")
    if data.size and int(data.min()) < 0:
        raise ValueError("class codes must be >= 0 (0 = no data)")
    counts = np.bincount(data.ravel().astype(np.int64), minlength=1)
    present = [int(c) for c in np.flatnonzero(counts) if c != 0]
    total = int(counts[1:].sum())

    entries: list[LegendEntry] = [e for e in legend if e[0] in set(present)]
    listed = {e[0] for e in legend}
    entries += [(c, f"未列入图例（{c}）", _UNLISTED_COLOUR) for c in present if c not in listed]

    lut = np.zeros((max(len(counts), 1), 4), dtype=np.float32)  # 0 and unknown: transparent
    for code, _, colour in entries:
        try:
            lut[code] = colors.to_rgba(colour)
        except ValueError as exc:
            raise ValueError(f"bad colour {colour!r} for class {code}") from exc

    k = _downsample_factor(grid.shape, max_px)
    small = _block_mode(data, k)
    extent = _extent(grid, small.shape, k)
    fig, ax = new_map(grid, extent, title, subtitle)
    ax.imshow(lut[small], extent=extent, interpolation="nearest", origin="upper", zorder=1)

    handles = []
    for code, label, colour in entries:
        text = label
        if cell_area_km2 is not None and total:
            area = counts[code] * cell_area_km2
            text = f"{label}  {_format_area(area)} km²  {100.0 * counts[code] / total:.1f}%"
        handles.append(Patch(facecolor=colour, edgecolor="#555555", linewidth=0.5, label=text))
    if handles:
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
            frameon=False, prop=map_font(9), title="图例", title_fontproperties=map_font(11),
            alignment="left",
        )
    else:
        ax.text(0.5, 0.5, "（无数据）", transform=ax.transAxes, ha="center", va="center",
                fontproperties=map_font(12), color="#666666")
    decorate(ax, grid, extent, boundary)
    return to_png(fig, dpi)


def render_value_map(
    values: np.ndarray,
    grid: Grid,
    title: str,
    unit: str,
    cmap: str | Colormap = "viridis",
    *,
    boundary: Boundary | None = None,
    subtitle: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    dpi: int = 150,
    max_px: int = 1600,
) -> bytes:
    """A continuous raster (e.g. 高程 m, 降水 mm, ≥10 °C 积温 °C·d) as a PNG map with a colour bar.

    Args:
        values: float array ``grid.shape``; NaN/inf = no data (transparent).
        grid: the grid the array lies on.
        title: map title (Chinese).
        unit: colour-bar label, e.g. ``"m"``, ``"mm"``, ``"°C·d"``, ``"羊单位/km²"``.
        cmap: a matplotlib colormap name or object.
        boundary, subtitle, dpi, max_px: as in :func:`render_class_map`; downsampling uses the
            block mean of finite values.
        vmin, vmax: colour-scale limits; default the finite min/max of ``values``.

    Returns:
        PNG bytes.

    Raises:
        ValueError: on a shape mismatch or an unknown colormap name.
        RuntimeError: if the CJK font is missing.
    """
    data = _check_array(values, grid, "values").astype("float64", copy=False)
    finite = data[np.isfinite(data)]
    lo = float(vmin) if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = float(vmax) if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if hi <= lo:
        hi = lo + (abs(lo) * 1e-3 or 1.0)
    try:
        base = colormaps[cmap] if isinstance(cmap, str) else cmap
    except KeyError as exc:
        raise ValueError(f"unknown colormap {cmap!r}") from exc
    colour_map = base.with_extremes(bad=(0.0, 0.0, 0.0, 0.0))

    k = _downsample_factor(grid.shape, max_px)
    small = _block_nanmean(data, k)
    extent = _extent(grid, small.shape, k)
    fig, ax = new_map(grid, extent, title, subtitle)
    image = ax.imshow(
        np.ma.masked_invalid(small), extent=extent, cmap=colour_map, norm=Normalize(lo, hi),
        interpolation="nearest", origin="upper", zorder=1,
    )
    cax = ax.inset_axes((1.04, 0.12, 0.035, 0.76))
    bar = fig.colorbar(image, cax=cax)
    ticks = [t for t in MaxNLocator(nbins=6).tick_values(lo, hi)
             if lo - 1e-9 * (hi - lo) <= t <= hi + 1e-9 * (hi - lo)]
    bar.set_ticks(ticks, labels=[_format_number(t) for t in ticks])
    for label in cax.get_yticklabels():
        label.set_fontproperties(map_font(8))
    # the unit sits horizontally above the bar so Chinese units (羊单位/km²) read normally
    cax.set_title(unit, fontproperties=map_font(10), loc="left", pad=6)
    if not finite.size:
        ax.text(0.5, 0.5, "（无数据）", transform=ax.transAxes, ha="center", va="center",
                fontproperties=map_font(12), color="#666666")
    decorate(ax, grid, extent, boundary)
    return to_png(fig, dpi)


def thumbnail(png_bytes: bytes, max_px: int = 360, max_bytes: int = 60_000) -> bytes:
    """A small palette PNG of a map, for a Prefect markdown artifact.

    Scales the image to fit ``max_px`` x ``max_px`` (Lanczos) and quantises it to an adaptive
    palette of 128 colours, halving the palette until the file is at most ``max_bytes``
    (down to 16 colours; the smallest result is returned even if still larger).

    Raises:
        PIL.UnidentifiedImageError: if ``png_bytes`` is not an image.
    """
    with Image.open(io.BytesIO(png_bytes)) as image:
        rgb = image.convert("RGB")
    rgb.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    payload = b""
    for n_colours in (128, 64, 32, 16):
        quantised = rgb.quantize(colors=n_colours, method=Image.Quantize.MEDIANCUT,
                                 dither=Image.Dither.NONE)
        buf = io.BytesIO()
        quantised.save(buf, format="PNG", optimize=True)
        payload = buf.getvalue()
        if len(payload) <= max_bytes:
            break
    return payload


def render_point_map(
    xs: Sequence[float],
    ys: Sequence[float],
    codes: Sequence[int],
    grid: Grid,
    legend: Sequence[LegendEntry],
    title: str,
    *,
    labels: Sequence[str] | None = None,
    sizes: Sequence[float] | None = None,
    size_note: str | None = None,
    boundary: Boundary | None = None,
    subtitle: str | None = None,
    dpi: int = 150,
) -> bytes:
    """Points (e.g. 嘎查 驻地 by class) over the grid's extent as a PNG map.

    Args:
        xs, ys: point coordinates in the grid CRS (metres, normally EPSG:4525).
        codes: class code of each point; its colour and legend text come from ``legend``
            (``(code, 中文 label, '#rrggbb')``, display order; only codes present are listed, others
            are drawn grey as "未列入图例").
        grid: the analysis grid; the map shows its whole extent.
        title: map title (Chinese).
        labels: a text drawn beside each point (e.g. the 嘎查 name), or None.
        sizes: marker areas in points² (e.g. scaled by population), default 60 each.
        size_note: a line under the legend explaining the marker size (e.g. "符号大小表示常住人口").
        boundary, subtitle, dpi: as in :func:`render_class_map`.

    Returns:
        PNG bytes.

    Raises:
        ValueError: when xs, ys, codes (and labels / sizes) differ in length, or on a bad colour.
        RuntimeError: if the CJK font is missing.
    """
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    c = np.asarray(codes, dtype=int)
    n = len(x)
    if len(y) != n or len(c) != n or (labels is not None and len(labels) != n) or (sizes is not None and len(sizes) != n):
        raise ValueError("xs, ys, codes, labels and sizes must have one entry per point")
    s = np.full(n, 60.0) if sizes is None else np.asarray(sizes, dtype=float)
    extent = _extent(grid, grid.shape, 1)
    fig, ax = new_map(grid, extent, title, subtitle)
    present = sorted(set(c.tolist()))
    listed = {e[0]: e for e in legend}
    entries: list[LegendEntry] = [e for e in legend if e[0] in present]
    entries += [(k, f"未列入图例（{k}）", _UNLISTED_COLOUR) for k in present if k not in listed]
    handles = []
    for code, label, colour in entries:
        try:
            rgba = colors.to_rgba(colour)
        except ValueError as exc:
            raise ValueError(f"bad colour {colour!r} for class {code}") from exc
        sel = c == code
        ax.scatter(x[sel], y[sel], s=s[sel], c=[rgba], edgecolors="#202020", linewidths=0.7, zorder=5)
        handles.append(Patch(facecolor=colour, edgecolor="#202020", linewidth=0.5, label=f"{label}（{int(sel.sum())}）"))
    if labels is not None:
        dx = 0.012 * (extent[1] - extent[0])
        for xi, yi, text in zip(x, y, labels, strict=True):
            ax.text(xi + dx, yi, str(text), fontproperties=map_font(8), ha="left", va="center", zorder=6,
                    color="#202020")
    if handles:
        leg = ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
            frameon=False, prop=map_font(9), title="图例", title_fontproperties=map_font(11), alignment="left",
        )
        if size_note:
            ax.text(1.02, 0.02, size_note, transform=ax.transAxes, ha="left", va="bottom",
                    fontproperties=map_font(8), color="#444444")
        leg.set_in_layout(True)
    else:
        ax.text(0.5, 0.5, "（无数据）", transform=ax.transAxes, ha="center", va="center",
                fontproperties=map_font(12), color="#666666")
    decorate(ax, grid, extent, boundary)
    return to_png(fig, dpi)

