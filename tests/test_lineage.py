"""Lineage of topic runs (erenhot.lineage) and the 数据溯源 Lineage section of topic reports."""

from __future__ import annotations

import pytest
from affine import Affine

from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.grid import ANALYSIS_EPSG, Grid
from erenhot.lineage import LineageError, layer_lineage, render_tree, run_lineage, run_lineage_lines
from erenhot.products import Publication
from erenhot.reports import ReportInput, Section, code_block, render_report
from erenhot.storage import Storage
from erenhot.topics.common import LINEAGE_HEADING, LayerWriter, finish, lineage_section

T02_OLD = "a0a0a0a0a0a0a0a0"  # the run T03 computed from
T02_NEW = "b1b1b1b1b1b1b1b1"  # a newer T02 run, current: must not appear in T03's lineage
T03_KEY = "c2c2c2c2c2c2c2c2"
DEM_OLD, DEM_NEW = "20260101T000000000000Z-0123456789ab", "20260301T000000000000Z-fedcba987654"
BOUNDARY = "20260102T000000000000Z-aaaabbbbcccc"
LANDUSE_T03 = "20260105T000000000000Z-dddd0000eeee"


def _t02_run(storage: Storage, key: str, dem_version: str, published_at: str) -> None:
    pub = Publication(storage, "t02", key)
    for layer in ("eco_importance", "urban_capacity"):
        pub.put(f"layers/{layer}.tif", f"{key}:{layer}".encode(), output_id=f"t02.{layer}", kind="raster")
    manifest = pub.commit({"inputs": [
        {"id": "01-03", "name_zh": "DEM", "department": "自然资源局", "version": dem_version,
         "delivered_by": "测绘科 王工", "state": "validated"},
        {"id": "01-04", "name_zh": "行政区划", "department": "自然资源局", "version": BOUNDARY,
         "delivered_by": "", "state": "validated"},
    ]})
    manifest["published_at"] = published_at
    storage.write_json(f"products/t02/{key}/manifest.json", manifest)


@pytest.fixture()
def storage(tmp_path) -> Storage:
    """T02 published twice (old run, then the current one), no T03 run yet."""
    st = Storage(str(tmp_path / "data"))
    _t02_run(st, T02_OLD, DEM_OLD, "2026-01-10T00:00:00+00:00")
    _t02_run(st, T02_NEW, DEM_NEW, "2026-03-10T00:00:00+00:00")
    return st


@pytest.fixture()
def t03_rows() -> list[dict]:
    """T03's inputs as ResolvedInputs.sources gives them: one delivery, two layers of the old T02 run."""
    return [
        {"id": "01-46a.dltb", "name_zh": "三调地类图斑", "department": "自然资源局", "version": LANDUSE_T03,
         "delivered_by": "sample kit (synthetic)", "state": "validated"},
        {"id": "t02.eco_importance", "name_zh": "生态保护重要性", "department": "T02", "version": T02_OLD,
         "sha256": "0123456789ab", "state": "published"},
        {"id": "t02.urban_capacity", "name_zh": "城镇建设承载等级", "department": "T02", "version": T02_OLD,
         "sha256": "0123456789ab", "state": "published"},
    ]


def test_run_lineage_lines_reach_the_upstream_run_and_its_deliveries(storage, t03_rows) -> None:
    lines = run_lineage_lines(storage, load_catalog(), "t03", T03_KEY, t03_rows)
    text = "\n".join(lines)
    assert lines[0].startswith("T03 ") and T03_KEY in lines[0]
    assert LANDUSE_T03 in text  # the run's own delivery
    assert f"t02.eco_importance 生态保护重要性 — T02 run {T02_OLD}" in text  # the producing run, not the current one
    assert DEM_OLD in text and BOUNDARY in text and "测绘科 王工" in text  # the upstream run's deliveries
    assert T02_NEW not in text and DEM_NEW not in text
    # the two layers share T02's inputs: listed once, then referred to
    assert text.count(DEM_OLD) == 1 and "同上" in text
    dem_line = next(line for line in lines if DEM_OLD in line)
    assert dem_line.startswith("│  ├─ 01-03 "), dem_line  # nested under the first T02 layer
    assert lines[-2].startswith("└─ t02.urban_capacity") and lines[-1] == f"   └─ … 同上 inputs of T02 run {T02_OLD} as listed above"


def test_run_lineage_tree_and_missing_upstream_run(storage, t03_rows) -> None:
    rows = t03_rows + [{"id": "t02.hazard", "name_zh": "自然灾害危险性", "version": "ffffffffffffffff", "state": "published"}]
    tree = run_lineage(storage, load_catalog(), "t03", T03_KEY, rows)
    assert tree["run_key"] == T03_KEY and tree["topic"] == "t03"
    eco = tree["inputs"][1]
    assert eco["run_key"] == T02_OLD and {n["version"] for n in eco["inputs"]} == {DEM_OLD, BOUNDARY}
    assert "missing" in tree["inputs"][-1] and "ffffffffffffffff" in tree["inputs"][-1]["missing"]
    assert "not published" in "\n".join(run_lineage_lines(storage, load_catalog(), "t03", T03_KEY, rows))
    with pytest.raises(KeyError):
        run_lineage(storage, load_catalog(), "t99", T03_KEY, rows)


def test_render_tree_without_dedup_is_unchanged(storage) -> None:
    with pytest.raises(LineageError):
        layer_lineage(storage, load_catalog(), "t03.urban_suitability")
    tree = layer_lineage(storage, load_catalog(), "t02.eco_importance")  # current = the newer run
    lines = render_tree(tree)
    assert T02_NEW in lines[0] and any(DEM_NEW in line for line in lines) and "同上" not in "\n".join(lines)


def test_rendered_report_contains_the_lineage_section(storage, t03_rows) -> None:
    catalog = load_catalog()
    section = lineage_section(storage, catalog, catalog.topic("t03"), T03_KEY, t03_rows)
    assert section.heading == LINEAGE_HEADING
    report = ReportInput(title_zh="适宜性", title_en="Suitability", topic_code="t03", run_key=T03_KEY,
                         generated_at="2026-03-11T00:00:00+00:00", inputs=t03_rows,
                         sections=[Section("结果", ["正文"]), section])
    md, page = render_report(report)
    assert "## 数据溯源 Lineage" in md
    block = md.split("## 数据溯源 Lineage", 1)[1].split("## 输入数据", 1)[0]
    assert "```text" in block and T02_OLD in block and DEM_OLD in block and "├─" in block
    # HTML: a <pre> block that keeps the tree (escaped, whitespace kept)
    pre = page.split('id="数据溯源-lineage"', 1)[1].split("</pre>", 1)[0]
    assert "<pre><code" in pre and T02_OLD in pre and DEM_OLD in pre and "│  ├─ 01-03" in pre


def test_code_block_fence_cannot_be_closed_by_the_text() -> None:
    block = code_block(["a ``` b", "c"])
    assert block.startswith("````text\n") and block.endswith("\n````")
    _, page = render_report(ReportInput("t", "t", "t03", "k", "now", sections=[Section("S", [block])]))
    assert "<pre><code" in page and "a ``` b\nc" in page


def test_finish_writes_the_lineage_into_both_reports(storage, t03_rows) -> None:
    catalog = load_catalog()
    topic = catalog.topic("t03")
    grid = Grid(ANALYSIS_EPSG, Affine(100, 0, 37_500_000.0, 0, -100, 4_806_000.0), 4, 3)
    writer = LayerWriter(Publication(storage, "t03", T03_KEY), topic, grid, None)
    result = finish(storage, catalog, topic, writer, load_config("t03_suitability"), t03_rows,
                    [Section("结果 Results", ["正文"])], {}, [], {})
    assert result["run_key"] == T03_KEY
    md = storage.read_bytes(f"products/t03/{T03_KEY}/report.md").decode("utf-8")
    page = storage.read_bytes(f"products/t03/{T03_KEY}/report.html").decode("utf-8")
    lineage = md.split(f"## {LINEAGE_HEADING}", 1)[1]
    for version in (LANDUSE_T03, T02_OLD, DEM_OLD, BOUNDARY):
        assert version in lineage and version in page.split("数据溯源 Lineage</h2>", 1)[1]
    assert T02_NEW not in md
    # the run once committed gives the same tree through layer_lineage
    assert layer_lineage(storage, catalog, "t03.report")["inputs"][1]["run_key"] == T02_OLD
