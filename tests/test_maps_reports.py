"""Unit tests of erenhot.maps (PNG maps with CJK text) and erenhot.reports (Markdown/HTML)."""

from __future__ import annotations

import io
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from PIL import Image
from shapely.geometry import box

from erenhot import maps
from erenhot.grid import ANALYSIS_EPSG, Grid
from erenhot.reports import (
    L_FLAG,
    ReportInput,
    Section,
    markdown_table,
    render_html,
    render_markdown,
    render_report,
)

X0, Y0 = 37_500_000.0, 4_800_000.0


@pytest.fixture()
def grid() -> Grid:
    """60 x 80 cells of 100 m (6 km x 8 km)."""
    return Grid(ANALYSIS_EPSG, Affine(100, 0, X0, 0, -100, Y0 + 6000), 80, 60)


@pytest.fixture()
def classes(grid: Grid) -> np.ndarray:
    data = np.zeros(grid.shape, dtype="uint8")
    data[5:30, 5:40] = 1
    data[5:30, 40:75] = 2
    data[30:55, 5:75] = 3
    return data


def _no_glyph_warnings(caught: list[warnings.WarningMessage]) -> None:
    glyph = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not glyph, f"missing glyph warnings: {glyph}"


def _open_png(payload: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(payload))
    image.load()
    assert image.format == "PNG" and image.width > 0 and image.height > 0
    return image.convert("RGB")


def _right_of_map_frame(image: Image.Image) -> int:
    """First column right of the map panel's frame."""
    ink = (np.asarray(image) < 250).any(axis=2).sum(axis=0)
    frame_cols = np.flatnonzero(ink > 0.8 * ink.max())
    return int(frame_cols.max()) + 2


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


# -- maps ---------------------------------------------------------------------------------
def test_cjk_font_ships_with_mplfonts() -> None:
    path = maps.cjk_font_path()
    assert path.name == "NotoSansCJKsc-Regular.otf" and path.is_file()
    assert "mplfonts" in path.parts


def test_class_map_chinese_without_missing_glyphs(grid: Grid, classes: np.ndarray) -> None:
    legend = maps.legend_from_palette({1: "耕地", 2: "草地", 3: "陆地水域", 4: "盐田"},
                                      maps.LAND_USE_COLOURS)
    boundary = gpd.GeoDataFrame(
        geometry=[box(500_300, Y0 + 300, 507_700, Y0 + 5700)], crs="EPSG:4546"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = maps.render_class_map(
            classes, grid, legend, "二连浩特市现状用地（三调）",
            boundary=boundary, subtitle="运行编号 20250101T000000Z-abcdef012345",
            cell_area_km2=grid.cell_area_km2, dpi=80,
        )
    _no_glyph_warnings(caught)
    image = _open_png(png)
    # the legend sits right of the map frame (the rightmost column that is non-white over
    # most of the map height): that region is not blank and shows the present swatches
    legend_region = np.asarray(image)[:, _right_of_map_frame(image):]
    pixels = legend_region.reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 2
    present = {tuple(p) for p in pixels}
    for code, _, colour in legend[:3]:
        assert _hex_rgb(colour) in present, f"swatch of class {code} not in the legend region"
    assert _hex_rgb(maps.LAND_USE_COLOURS["盐田"]) not in present  # absent class not listed


def test_class_map_downsamples_and_marks_unlisted_codes(grid: Grid, classes: np.ndarray) -> None:
    classes = classes.copy()
    classes[0:3, 0:3] = 9  # not in the legend
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = maps.render_class_map(
            classes, grid, [(1, "适宜", maps.SUITABILITY_COLOURS["适宜"])], "城镇建设适宜性",
            max_px=20, dpi=60,
        )
    _no_glyph_warnings(caught)
    assert _open_png(png).width > 0


def test_value_map_with_unit_and_nan(grid: Grid) -> None:
    values = np.linspace(-20, 1200, grid.width * grid.height, dtype="float32").reshape(grid.shape)
    values[:10, :10] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = maps.render_value_map(values, grid, "≥10 °C 积温", "°C·d", cmap="magma",
                                    subtitle="载畜量 羊单位/km²", dpi=70)
        empty = maps.render_value_map(np.full(grid.shape, np.nan), grid, "降水", "mm", dpi=50)
    _no_glyph_warnings(caught)
    image = _open_png(png)
    colourbar_region = np.asarray(image)[:, _right_of_map_frame(image):]
    assert len(np.unique(colourbar_region.reshape(-1, 3), axis=0)) > 20
    _open_png(empty)


def test_thumbnail_is_small_png(grid: Grid, classes: np.ndarray) -> None:
    png = maps.render_class_map(classes, grid, [(1, "极重要", "#1b6b35"), (2, "重要", "#8fcf7e"),
                                                (3, "一般", "#eef6e4")], "生态保护重要性")
    small = maps.thumbnail(png, max_px=360)
    image = Image.open(io.BytesIO(small))
    assert image.format == "PNG" and max(image.size) <= 360
    assert len(small) < 60_000


def test_palettes_are_valid_hex() -> None:
    palettes = [maps.LAND_USE_COLOURS, maps.GRADE_COLOURS_5, maps.SUITABILITY_COLOURS,
                maps.IMPORTANCE_COLOURS]
    for palette in palettes:
        for colour in palette.values():
            assert re.fullmatch(r"#[0-9a-f]{6}", colour), colour
    assert maps.LAND_USE_COLOURS["耕地"] == "#f5f8dc"  # 245,248,220 (spec §4.3)
    assert maps.LAND_USE_COLOURS["陆地水域"] == "#338ec0"  # 51,142,192
    assert sorted(maps.GRADE_COLOURS_5) == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="no colour"):
        maps.legend_from_palette({1: "不存在"}, maps.IMPORTANCE_COLOURS)


def test_map_errors(grid: Grid) -> None:
    with pytest.raises(ValueError, match="shape"):
        maps.render_class_map(np.zeros((2, 2), "uint8"), grid, [], "x")
    with pytest.raises(ValueError, match="integer"):
        maps.render_class_map(np.zeros(grid.shape, "float32"), grid, [], "x")


# -- reports ------------------------------------------------------------------------------
def _report() -> ReportInput:
    table = pd.DataFrame(
        {"等级": ["极重要", "重要", "一般"], "面积 km²": [1234.5678, 56.0, np.nan],
         "占比 %": [30.25, 1.4, None], "在城区": [True, False, True]}
    )
    return ReportInput(
        title_zh="资源环境承载能力评价",
        title_en="Resource and environment carrying capacity",
        topic_code="t02",
        run_key="20250101T000000Z-abcdef012345",
        generated_at="2025-01-01T00:00:00+00:00",
        inputs=[
            {"dataset_id": "01-46a.dltb", "name_zh": "第三次国土调查地类图斑", "department": "自然资源局",
             "version": "20241201T000000Z-0123456789ab", "sha256": "f" * 64, "state": "validated"},
        ],
        config_entries=[
            {"path": "grassland.utilisation_rate", "value": 0.005, "unit": "",
             "source": "NY/T 635-2015", "confidence": "L"},
            {"path": "slope.breaks", "value": [2, 6, 15, 25], "unit": "°", "source": "双评价指南 2020",
             "confidence": "H"},
        ],
        sections=[
            Section(
                heading="生态保护重要性",
                paragraphs=["全市以荒漠草原为主，**极重要**区主要分布在北部。"],
                tables=[("生态保护重要性分级面积", table)],
                figures=[("生态保护重要性分布图", "maps/eco importance.png")],
                notes=["面积按 EPSG:4525 平面计算。"],
            )
        ],
    )


def test_markdown_contains_rows_figure_and_l_flag() -> None:
    text = render_markdown(_report())
    assert text.startswith("# 资源环境承载能力评价\n")
    assert "| 极重要 | 1234.57 | 30.25 | 是 |" in text
    assert "| 一般 | — | — | 是 |" in text
    assert "**表 1　生态保护重要性分级面积**" in text
    assert "![生态保护重要性分布图](maps/eco%20importance.png)" in text
    assert "*图 1　生态保护重要性分布图*" in text
    assert L_FLAG in text
    flagged = [line for line in text.splitlines() if "utilisation_rate" in line]
    assert flagged and L_FLAG in flagged[0]
    assert not any(L_FLAG in line for line in text.splitlines() if "slope.breaks" in line)
    assert "`01-46a.dltb`" not in text and "01-46a.dltb" in text
    assert "`ffffffffffff…`" in text
    assert "[2, 6, 15, 25]" in text
    assert "| `grassland.utilisation_rate` | 0.005 |" in text  # config values are not rounded


def test_html_page_has_table_image_and_flag() -> None:
    text, page = render_report(_report())
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert "Noto Sans CJK SC" in page and "Microsoft YaHei" in page and "PingFang SC" in page
    assert "<table>" in page and "<td>极重要</td>" in page
    assert '<img alt="生态保护重要性分布图" src="maps/eco%20importance.png"' in page
    assert '<strong class="conf-l">⚠ L' in page
    assert 'id="生态保护重要性"' in page  # toc ids keep Chinese
    assert "<title>资源环境承载能力评价 — Resource and environment carrying capacity</title>" in page
    assert render_html(text, "a <b>").count("<title>a &lt;b&gt;</title>") == 1


def test_markdown_table_formatting() -> None:
    df = pd.DataFrame({"名称": ["a|b", "多\n行"], "值": [1.23456, 2.0], "n": [3, 4]})
    out = markdown_table(df, digits={"值": 3})
    lines = out.splitlines()
    assert lines[0] == "| 名称 | 值 | n |"
    assert lines[1] == "| --- | ---: | ---: |"
    assert lines[2] == "| a\\|b | 1.235 | 3 |"
    assert lines[3] == "| 多<br>行 | 2.000 | 4 |"
    indexed = markdown_table(df.set_index("名称"))
    assert indexed.splitlines()[0] == "| 名称 | 值 | n |"
    assert markdown_table(pd.DataFrame()) == "*（无数据）*"
    html_table = render_html(out, "t")
    assert "<td>a|b</td>" in html_table


def test_finish_map_adds_the_legend_only_when_there_is_something_to_explain(grid: Grid) -> None:
    from matplotlib.lines import Line2D

    from erenhot import maps

    left, bottom, right, top = grid.bounds
    extent = (left, right, bottom, top)
    sizes = []
    for handles in ([Line2D([], [], marker="o", ls="", label="国门景区")], []):
        fig, ax = maps.new_map(grid, extent, "二连浩特市测试图", None)
        ax.plot([left + 1000], [bottom + 1000], "o")
        png = maps.finish_map(fig, ax, grid, extent, None, handles, legend_title="图例")
        image = _open_png(png)
        sizes.append(image.width)
        assert len(ax.get_legend().get_texts()) == 1 if handles else ax.get_legend() is None
    assert sizes[0] > 0 and sizes[1] > 0
