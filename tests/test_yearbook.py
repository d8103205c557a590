"""Statistical-yearbook sheets: every oddity normalised and every change listed, exactly."""

from __future__ import annotations

import dataclasses
import io
import math

import openpyxl
import pandas as pd
import pytest

from erenhot import formats, yearbook
from erenhot.acceptance import read_parts
from erenhot.catalog import load_catalog
from erenhot.landing import ingest

# a sheet as the 统计局 prints it: title, unit row, blank row, two header rows with merged cells,
# full-width digits and comma, thousands separators, 万 suffix, —/-/…/.. for missing, %, indented
# labels, a 合计 row written with full-width spaces, two footnotes
SHEET = [
    ["二连浩特市主要经济指标", None, None, None, None],
    [None, None, None, None, "单位：万元"],
    [None, None, None, None, None],
    ["指　标", "2020年", None, "2021年", None],
    [None, "总量", "增速（%）", "总量", "增速（%）"],
    ["地区生产总值", "１２３，４５６", 5.2, "1.5万", "—"],
    ["　第一产业", "3,456", "-1.5", "…", "-"],
    ["　第二产业", 12345.6, "2.0%", 20000, 3],
    ["合　　计", "139,257.6", None, "..", None],
    ["注：2021年数据为初步核算数。", None, None, None, None],
    ["资料来源：二连浩特市统计局", None, None, None, None],
]

EXPECTED_FRAME = pd.DataFrame({
    "指标": ["地区生产总值", "第一产业", "第二产业"],
    "2020年_总量": [123456.0, 3456.0, 12345.6],
    "2020年_增速": [5.2, -1.5, 2.0],
    "2021年_总量": [15000.0, math.nan, 20000.0],
    "2021年_增速": [math.nan, math.nan, 3.0],
})

EXPECTED_TRANSFORMATIONS = (
    "header: row(s) 4, 5 joined into column names (detected: the next row is the first data-like row)",
    "full-width digits converted to ASCII in rows 6",
    "header row 4: merged cell repeated into column(s) 3, 5",
    "column '2020年_总量': thousands separators removed in row(s) 6, 7",
    "column '2020年_增速': '%' sign removed (value kept in %) in row(s) 8",
    "column '2021年_总量': '万' suffix: ×10,000 in row(s) 6",
    "column '2021年_总量': '…' read as missing in row(s) 7",
    "column '2021年_增速': '—' read as missing in row(s) 6",
    "column '2021年_增速': '-' read as missing in row(s) 7",
    "table unit 万元 applied to column(s) 2020年_总量, 2021年_总量 (values kept in 万元)",
    "units from the header: 2020年_增速=%, 2021年_增速=%",
    "total rows (合计/总计/小计) dropped: rows 9",
    "2 footnote row(s) moved to notes",
)


def _frame(rows: list[list]) -> pd.DataFrame:
    """A raw grid as read with header=None (rows padded to one width)."""
    width = max(len(r) for r in rows)
    return pd.DataFrame([r + [None] * (width - len(r)) for r in rows])


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv(rows: list[list], encoding: str = "gbk") -> bytes:
    """The sheet as 'CSV' saved by Chinese Excel: GBK, trailing empty cells cut (ragged rows)."""
    lines = []
    for r in rows:
        cells = ["" if v is None else str(v) for v in r]
        while cells and not cells[-1]:
            cells.pop()
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_every_oddity_of_a_yearbook_sheet():
    t = yearbook.read_yearbook("主要经济指标.xlsx", _xlsx(SHEET))
    pd.testing.assert_frame_equal(t.frame, EXPECTED_FRAME)
    assert t.units == {"2020年_总量": "万元", "2020年_增速": "%", "2021年_总量": "万元", "2021年_增速": "%"}
    assert t.title == "二连浩特市主要经济指标"
    assert t.notes == ("注：2021年数据为初步核算数。", "资料来源：二连浩特市统计局")
    assert t.header_rows == (4, 5) and t.source_rows == (6, 7, 8)
    assert [(d.row, d.reason, d.text) for d in t.dropped_rows] == [
        (1, "title", "二连浩特市主要经济指标"), (2, "unit", "单位：万元"), (3, "empty", ""),
        (9, "total", "合　　计 | 139,257.6 | .."), (10, "footnote", "注：2021年数据为初步核算数。"),
        (11, "footnote", "资料来源：二连浩特市统计局")]
    assert t.transformations == EXPECTED_TRANSFORMATIONS
    assert t.encoding == "xlsx"


def test_the_same_sheet_as_a_ragged_gbk_csv():
    t = yearbook.read_yearbook("主要经济指标.csv", _csv(SHEET))
    assert t.encoding == "gb18030"
    pd.testing.assert_frame_equal(t.frame, EXPECTED_FRAME)
    # Excel's number 12345.6 and 20000 arrive as text in a CSV: same values, same list of changes
    assert t.transformations == EXPECTED_TRANSFORMATIONS
    assert t.units["2021年_总量"] == "万元"


def test_totals_can_be_flagged_instead_of_dropped():
    t = yearbook.read_yearbook("a.xlsx", _xlsx(SHEET), totals="flag")
    assert t.frame["is_total"].tolist() == [False, False, False, True]
    assert t.frame["2020年_总量"].iloc[3] == 139257.6
    assert "total rows kept and flagged in column is_total: rows 9" in t.transformations
    assert [d.reason for d in t.dropped_rows].count("total") == 0


def test_report_is_json_ready():
    import json
    report = yearbook.read_yearbook("a.xlsx", _xlsx(SHEET)).report()
    assert "frame" not in report
    assert json.loads(json.dumps(report, ensure_ascii=False))["dropped_rows"][0] == {
        "row": 1, "reason": "title", "text": "二连浩特市主要经济指标"}


def test_numeric_year_headers_need_header_rows():
    rows = [["地区", "人口", None], [None, 2020, 2021], ["额仁淖尔苏木", "1,234", "1,250"], ["格日勒敖都苏木", 800, 820]]
    detected = yearbook.normalise(_frame(rows), name="人口.xlsx")
    assert list(detected.frame.columns) == ["地区", "人口", "column_3"]  # 2020/2021 look like data: listed
    assert detected.header_rows == (1,)
    given = yearbook.normalise(_frame(rows), name="人口.xlsx", header_rows=2)
    assert list(given.frame.columns) == ["地区", "人口_2020", "人口_2021"]
    assert given.frame["人口_2020"].tolist() == [1234.0, 800.0]
    assert given.transformations[0] == "header: row(s) 1, 2 joined into column names"


def test_per_column_unit_row_and_unit_in_the_title():
    rows = [["人口与面积（单位：万元）"], ["地区", "人口", "面积", "占比"], [None, "人", "平方公里", "%"],
            ["城区", "75,000", "4,015.1", "52.1"]]
    t = yearbook.normalise(_frame(rows), name="a.xlsx")
    assert t.units == {"人口": "人", "面积": "平方公里", "占比": "%"}
    assert [(d.row, d.reason) for d in t.dropped_rows] == [(1, "title"), (3, "unit")]
    assert "units from the unit row: 人口=人, 面积=平方公里, 占比=%" in t.transformations


def test_a_unit_row_with_several_units_assigns_none():
    rows = [["单位：万元、万人"], ["地区", "产值", "人口"], ["城区", "1", "2"]]
    t = yearbook.normalise(_frame(rows), name="a.xlsx")
    assert t.units == {}
    assert "the unit row names several units (万元、万人): columns left without a unit" in t.transformations


def test_a_column_with_text_among_numbers_stays_text_and_is_listed():
    rows = [["地区", "人口"], ["城区", "75,000"], ["口岸", "见附表"]]
    t = yearbook.normalise(_frame(rows), name="a.xlsx")
    assert t.frame["人口"].tolist() == ["75,000", "见附表"]
    assert "column '人口' kept as text: 1 cell(s) are not numbers (row 3: '见附表')" in t.transformations


def test_duplicate_and_missing_header_names_are_listed():
    rows = [["地区", "值", "值", None], ["城区", "1", "2", "3"]]
    t = yearbook.normalise(_frame(rows), name="a.xlsx")
    assert list(t.frame.columns) == ["地区", "值", "值_2", "column_4"]
    assert "duplicate header '值' in column 3: named 值_2" in t.transformations
    assert "column 4 has no header: named column_4" in t.transformations


@pytest.mark.parametrize("text, value, numeric, tags", [
    ("1,234.5", 1234.5, True, ("thousands separators removed",)),
    ("１２３", 123.0, True, ()),
    ("1.5万", 15000.0, True, ("'万' suffix: ×10,000",)),
    ("2亿", 2e8, True, ("'亿' suffix: ×100,000,000",)),
    ("－3.5", -3.5, True, ()),
    ("12.5%", 12.5, True, ("'%' sign removed (value kept in %)",)),
    ("——", None, True, ("'——' read as missing",)),
    ("…", None, True, ("'…' read as missing",)),
    ("", None, True, ()),
    ("2008年", 2008.0, True, ("'年' suffix removed from the year",)),
    ("１９９９年", 1999.0, True, ("'年' suffix removed from the year",)),
    ("12年", None, False, ()),
    ("1,23", None, False, ()),
    ("约100", None, False, ()),
])
def test_parse_number(text, value, numeric, tags):
    cell = yearbook.parse_number(text)
    assert (cell.value, cell.numeric, cell.tags) == (value, numeric, tags)


@pytest.mark.parametrize("rows, message", [
    ([[None, None], [None, None]], "a.xlsx: the sheet is empty"),
    ([["标题"], ["单位：万元"]], "a.xlsx: no table found: every filled row has a single cell (titles only)"),
    ([["地区", "人口"], ["注：暂无数据"]], "a.xlsx: no data rows below the header (only notes or totals)"),
    ([["标题"], ["地区", "人口"], ["年份", "说明"]], "a.xlsx: no data rows below the header (row(s) 2, 3)"),
])
def test_sheets_without_a_table(rows, message):
    with pytest.raises(formats.FormatError) as err:
        yearbook.normalise(_frame(rows), name="a.xlsx")
    assert str(err.value) == message


def test_a_yearbook_cell_that_is_not_a_number_is_named(storage, tmp_path):
    """10-01 as delivered: years printed "2008年" are read as years; a garbled value ("1,2三") refuses
    the file with its column and row, instead of reaching the checks as an empty value."""
    rows = [["二连浩特市主要经济指标", None, None, None, None, None],
            [None, None, None, None, None, "单位：万元"],
            ["年份", "地区生产总值", "三次产业增加值", None, None, "人均地区生产总值"],
            [None, None, "第一产业", "第二产业", "第三产业", None],
            ["2019年", "1,000", 100, 400, 500, 20000],
            ["2020年", "1,2三", 110, 420, 520, 21000]]
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "主要经济指标.xlsx").write_bytes(_xlsx(rows))
    cat = load_catalog()
    d = ingest(storage, cat, "10", "10-01", [folder]).delivery
    with pytest.raises(formats.FormatError, match=r"主要经济指标.xlsx: column 地区生产总值, data row 2: '1,2三' is not a number"):
        read_parts(storage, cat, d)
    rows[5][1] = "1,100"
    (folder / "主要经济指标.xlsx").write_bytes(_xlsx(rows))
    d = ingest(storage, cat, "10", "10-01", [folder]).delivery
    (part,) = read_parts(storage, cat, d)
    assert part.table["年份"].tolist() == [2019.0, 2020.0]
    assert part.table["地区生产总值"].tolist() == [1000.0, 1100.0]
    assert "column '年份': '年' suffix removed from the year in row(s) 5, 6" in part.metadata["yearbook"]["transformations"]


def test_yearbook_layout_from_the_delivery_contract(storage, tmp_path):
    class Catalog:  # the real catalog, with layout: yearbook on 10-01
        real = load_catalog()

        def dataset(self, dataset_id):
            ds = self.real.dataset(dataset_id)
            return dataclasses.replace(ds, delivery={"layout": "yearbook"}) if dataset_id == "10-01" else ds

    data = _xlsx(SHEET)
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "主要经济指标.xlsx").write_bytes(data)
    d = ingest(storage, load_catalog(), "10", "10-01", [folder]).delivery
    (part,) = read_parts(storage, Catalog(), d)
    assert part.kind == "table" and part.name == "主要经济指标" and part.encoding == "xlsx"
    pd.testing.assert_frame_equal(part.table, EXPECTED_FRAME)
    assert part.metadata["yearbook"]["units"]["2020年_总量"] == "万元"
    assert part.metadata["yearbook"]["transformations"] == list(EXPECTED_TRANSFORMATIONS)
    assert storage.read_bytes(d.file_path("主要经济指标.xlsx")) == data
