"""Table deliveries: CSV encodings, XLSX, point tables; bad inputs with their exact messages and the
delivered bytes still in the landing zone afterwards. All files are generated here."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from erenhot import formats
from erenhot.acceptance import read_parts
from erenhot.catalog import load_catalog
from erenhot.landing import ingest

ROWS = [("152501100", "二连浩特市区", "12,345"), ("152501200", "格日勒敖都苏木", "１２３")]
CSV_TEXT = "XZQDM,XZQMC,resident_pop\n" + "".join(f"{a},{b},\"{c}\"\n" for a, b, c in ROWS)


def _land(storage, tmp_path: Path, dataset_id: str, dept: str, files: dict[str, bytes]):
    folder = tmp_path / f"delivery-{len(list(tmp_path.glob('delivery-*')))}"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return ingest(storage, load_catalog(), dept, dataset_id, [folder]).delivery


def _intact(storage, delivery, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert storage.read_bytes(delivery.file_path(name)) == data


def _refused(storage, tmp_path, files: dict[str, bytes], message: str, dataset_id: str = "20-02", dept: str = "20"):
    d = _land(storage, tmp_path, dataset_id, dept, files)
    with pytest.raises(formats.FormatError) as err:
        read_parts(storage, load_catalog(), d)
    assert str(err.value) == message
    _intact(storage, d, files)


class _Contract:
    """The real catalog with one dataset's delivery block replaced (for contract keys no dataset uses yet)."""

    def __init__(self, dataset_id: str, **delivery):
        self.real, self.id, self.delivery = load_catalog(), dataset_id, delivery

    def dataset(self, dataset_id):
        ds = self.real.dataset(dataset_id)
        return dataclasses.replace(ds, delivery={**(ds.delivery or {}), **self.delivery}) if dataset_id == self.id else ds


def _xlsx(rows: list[list], title: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    if title:
        wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- CSV encodings ---------------------------------------------------------------------------

@pytest.mark.parametrize("data, encoding", [
    (CSV_TEXT.encode("utf-8"), "utf-8"),
    (CSV_TEXT.encode("utf-8-sig"), "utf-8-sig"),
    (CSV_TEXT.encode("gbk"), "gb18030"),
    (CSV_TEXT.replace("格日勒敖都苏木", "䶮䶮苏木").encode("gb18030"), "gb18030"),  # 䶮: GB18030, not in GBK
    (CSV_TEXT.encode("utf-16"), "utf-16"),
    (CSV_TEXT.replace(",", "\t").replace('\t"12\t345"', "\t12,345").replace('"', "").encode("utf-8"), "utf-8"),
])
def test_csv_encodings_never_give_mojibake(data, encoding):
    df, enc = formats.read_table_bytes("常住人口.csv", data)
    assert enc == encoding
    assert list(df.columns) == ["XZQDM", "XZQMC", "resident_pop"]
    assert df["XZQDM"].tolist() == ["152501100", "152501200"]  # codes stay text: leading digits kept
    assert df["XZQMC"].iloc[0] == "二连浩特市区" and df["XZQMC"].iloc[1] in {"格日勒敖都苏木", "䶮䶮苏木"}
    assert formats.mojibake_share(df["XZQMC"]) == 0.0


def test_csv_in_no_chinese_encoding_is_refused(storage, tmp_path):
    _refused(storage, tmp_path, {"常住人口.csv": b"XZQMC\n\x80\xff\n"},
             "常住人口.csv: the text is neither UTF-8 nor GBK/GB18030 — save it as \"CSV UTF-8\"")


def test_csv_with_only_blank_lines(storage, tmp_path):
    _refused(storage, tmp_path, {"常住人口.csv": b"\n\n"}, "常住人口.csv: the table is empty (no header row)")


@pytest.mark.parametrize("text, line", [("a,b\n1,2\n3,4,5,6\n", 3), ("a,b\n1,2,3\n4,5\n", 2)])
def test_csv_row_with_more_fields_than_the_header(storage, tmp_path, text, line):
    n = text.splitlines()[line - 1].count(",") + 1
    _refused(storage, tmp_path, {"常住人口.csv": text.encode()},
             f"常住人口.csv: line {line} has {n} fields but the header has 2 — a value containing ',' must be in double quotes")


def test_raw_grid_pads_ragged_rows():
    raw, enc = formats.read_table_bytes("年鉴.csv", "标题\n\na,b,c\n1,2\n".encode("gbk"), header=None)
    assert enc == "gb18030"
    assert raw.values.tolist() == [["标题", "", ""], ["", "", ""], ["a", "b", "c"], ["1", "2", ""]]


def test_coerce_numeric_handles_full_width_and_dashes():
    df = pd.DataFrame({"v": ["12,345", "１２３", "—", "-", "…", "", None, "-1.5", "abc"]})
    out = formats.coerce_numeric(df, ["v"])["v"].tolist()
    assert out[:2] == [12345.0, 123.0] and out[7] == -1.5
    assert all(np.isnan(v) for v in out[2:7]) and np.isnan(out[8])


@pytest.mark.parametrize("cell, hint", [("2008年", "2008 not 2008年"), ("1,2三", "decimal number"), ("是", "1 for yes")])
def test_coerce_numeric_names_the_cell_that_is_not_a_number(cell, hint):
    """With the file's name, text in a numeric column is refused with file, column, row and a hint,
    not turned into an empty value that a later check would report as missing."""
    df = pd.DataFrame({"v": ["1", "—", cell, cell]})
    with pytest.raises(formats.FormatError) as err:
        formats.coerce_numeric(df, ["v"], name="统计年鉴.xlsx")
    msg = str(err.value)
    assert f"统计年鉴.xlsx: column v, data row 3: {cell!r} is not a number" in msg
    assert hint in msg and "(2 such cells in this column)" in msg
    assert np.isnan(formats.coerce_numeric(df, ["v"])["v"].iloc[2])  # lenient without a name


def test_numeric_contract_fields_through_the_landing_zone(storage, tmp_path):
    files = {"常住人口.csv": CSV_TEXT.encode("gbk")}
    d = _land(storage, tmp_path, "10-02", "10", files)
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.kind == "table" and part.encoding == "gb18030"
    assert part.table["resident_pop"].tolist() == [12345.0, 123.0]
    assert part.table["XZQMC"].tolist() == ["二连浩特市区", "格日勒敖都苏木"]
    _intact(storage, d, files)


# -- XLSX ------------------------------------------------------------------------------------

def test_xlsx_first_sheet(storage, tmp_path):
    data = _xlsx([["year", "total_quota_10k_m3"], [2023, 5800.5], [2024, 5900]])
    d = _land(storage, tmp_path, "20-02", "20", {"指标.xlsx": data})
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.name == "指标" and part.encoding == "xlsx"
    assert part.table.values.tolist() == [[2023, 5800.5], [2024, 5900]]


@pytest.mark.parametrize("name, data, message", [
    ("指标.xlsx", b"PK\x03\x04 cut off", "指标.xlsx: the workbook is damaged or incomplete (cut off during upload?) — send it again"),
    ("指标.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
     "指标.xls: old Excel 97–2003 workbook (.xls) — open it in Excel or WPS and save it as .xlsx"),
    ("指标.xlsx", b"<html><table><tr><td>1</td></tr></table></html>",
     "指标.xlsx: not an Excel .xlsx workbook (damaged, or another format renamed) — save it again as .xlsx"),
])
def test_bad_workbooks(storage, tmp_path, name, data, message):
    _refused(storage, tmp_path, {name: data}, message)


def test_truncated_xlsx(storage, tmp_path):
    data = _xlsx([["a"], [1]])
    _refused(storage, tmp_path, {"指标.xlsx": data[: len(data) // 2]},
             "指标.xlsx: the workbook is damaged or incomplete (cut off during upload?) — send it again")


# -- point tables ----------------------------------------------------------------------------

STATIONS = "station_id,name,lon,lat,elevation_m\n530680,二连浩特,111.97,43.65,964.7\n530681,赛乌素,112.1,,980\n"


def test_station_table_becomes_points_and_keeps_its_table(storage, tmp_path):
    files = {"stations.csv": STATIONS.encode("utf-8-sig")}
    d = _land(storage, tmp_path, "17-01", "17", files)
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.kind == "vector" and part.name == "stations" and part.source_crs == "EPSG:4490"
    assert part.gdf.crs.to_epsg() == 4490
    assert (part.gdf.geometry.iloc[0].x, part.gdf.geometry.iloc[0].y) == (111.97, 43.65)
    assert part.gdf.geometry.iloc[1] is None  # no latitude: null geometry, kept for the geometry checks
    assert list(part.gdf.columns) == ["station_id", "name", "lon", "lat", "elevation_m", "geometry"]
    assert part.table["elevation_m"].tolist() == [964.7, 980.0]
    assert part.metadata["point_columns"] == ["lon", "lat"]
    assert part.metadata["notes"] == ["points from columns lon/lat; EPSG:4490 (CGCS2000 degrees)",
                                      "1 row(s) without coordinates: null geometry, kept for the checks"]
    from erenhot.acceptance import build_frames

    build_frames(part, None)
    assert sorted(part.frames) == ["dataset", "features", "table"]  # the table suite still finds its frame
    _intact(storage, d, files)


@pytest.mark.parametrize("columns", [("经度", "纬度"), ("经度(°)", "纬度(°)"), ("东经", "北纬"), ("Longitude", "Latitude"),
                                     ("LNG", "LAT")])
def test_common_chinese_and_english_coordinate_names(columns):
    df = pd.DataFrame({"名称": ["站"], columns[0]: ["111.97"], columns[1]: ["43.65"]})
    pts = formats.points_from_table("站点.xlsx", df)
    assert (pts.x, pts.y, pts.epsg) == (*columns, 4490)


def test_xlsx_point_table_with_x_y_and_no_declared_crs(storage, tmp_path):
    data = _xlsx([["编号", "X", "Y"], ["J1", 37_578_256.1, 4_835_391.5]])
    d = _land(storage, tmp_path, "20-02", "20", {"界址点.xlsx": data})
    (part,) = read_parts(storage, load_catalog(), d)
    assert part.kind == "vector" and part.gdf.crs is None and part.source_crs == "none"
    assert part.gdf.geometry.iloc[0].coords[0] == (37_578_256.1, 4_835_391.5)
    assert part.metadata["notes"] == ["points from columns X/Y; no coordinate system declared"]


def test_point_columns_and_epsg_from_the_delivery_contract(storage, tmp_path):
    files = {"监测点.csv": "点号,东坐标,北坐标\nP1,37578256.1,4835391.5\n".encode("gbk")}
    d = _land(storage, tmp_path, "20-02", "20", files)
    (part,) = read_parts(storage, _Contract("20-02", point_columns={"x": "东坐标", "y": "北坐标"}, epsg=4525), d)
    assert part.gdf.crs.to_epsg() == 4525 and part.metadata["point_columns"] == ["东坐标", "北坐标"]
    assert part.metadata["notes"] == ["points from columns 东坐标/北坐标; EPSG:4525 from the delivery contract"]


@pytest.mark.parametrize("text, contract, message", [
    ("name,lon,lat\n站,111°58′,43.65\n", {},
     ("stations.csv: column lon, data row 1: '111°58′' is not a number — write coordinates as decimal numbers "
     "(e.g. 111.9667, not 111°58′)")),
    ("name,lon,lat\n站,111.97,43.65\n站2,11158,4339\n", {},
     ("stations.csv: column lon, data row 2: 11158 is not in degrees (−180…180) — write decimal degrees "
     "(111.9667, not 11158 or 111°58′)")),
    ("name,x,y\n站,1,2\n", {"point_columns": ["经度", "纬度"]},
     "stations.csv: the coordinate column(s) 经度, 纬度 named in the delivery contract are missing (columns: name, x, y)"),
])
def test_bad_point_tables(storage, tmp_path, text, contract, message):
    files = {"stations.csv": text.encode()}
    d = _land(storage, tmp_path, "17-01", "17", files)
    with pytest.raises(formats.FormatError) as err:
        read_parts(storage, _Contract("17-01", **contract), d)
    assert str(err.value) == message
    _intact(storage, d, files)


def test_tables_without_coordinates_stay_tables():
    assert formats.points_from_table("a.csv", pd.DataFrame({"x1": [1], "y1": [2]})) is None


def test_two_files_giving_one_part_name_are_refused(storage, tmp_path):
    files = {"a.csv": b"k,v\n1,2\n", "a.xlsx": _xlsx([["k", "v"], [1, 2]])}
    _refused(storage, tmp_path, files, "a.xlsx: gives the part 'a' that a.csv already gives — rename one of the files")
