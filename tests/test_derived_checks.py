"""Cross-column checks of a delivery (the contract's ``derived:`` block, checked by GX): sums that must
balance and per-unit sizes that reveal a wrong unit are refused, naming the row."""

from __future__ import annotations

import io
import math

import openpyxl
import pandas as pd
import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.landing import ingest
from erenhot.validation import derived_frame

HEADER = ("XZQDM,XZQMC,year,registered_pop,registered_urban_pop,registered_rural_pop,births,deaths,moved_in,moved_out,"
          "floating_pop,floating_intra_city,floating_cross_county,floating_cross_league,floating_cross_province")


def _rows(stock_2020: int = 10_050, rural_2020: int = 2_050, origin_2019: int = 40) -> str:
    # 2019: 10 000 = 8 000 + 2 000; 2020: 10 000 + 100 − 60 + 300 − 290 = 10 050 (balanced)
    return "\n".join([
        HEADER,
        f"152501,二连浩特市,2019,10000,8000,2000,90,50,280,270,1000,100,300,{origin_2019},560",
        f"152501,二连浩特市,2020,{stock_2020},8000,{rural_2020},100,60,300,290,1000,100,300,40,560",
    ]) + "\n"


def test_derived_frame_with_previous_rows_and_row_labels():
    table = pd.read_csv(io.StringIO(_rows(stock_2020=10_100)), dtype={"XZQDM": str}).iloc[::-1]  # order is not assumed
    spec = load_catalog().dataset("11-01").delivery["derived"]
    frame = derived_frame(table, spec, part="户籍人口")
    assert frame["row"].tolist() == ["152501 2019", "152501 2020"]
    assert math.isnan(frame["stock_balance_share"].iloc[0])  # no previous year
    assert frame["stock_balance_share"].iloc[1] == pytest.approx(50 / 10_100)
    assert frame["urban_rural_gap"].tolist() == [0.0, 50.0]
    assert frame["floating_origin_gap"].tolist() == [0.0, 0.0]
    assert derived_frame(table, spec, part="other part") is not None  # 11-01's columns name no part
    assert derived_frame(table, {"columns": [{"name": "x", "expr": "a +", "part": "p"}]}, part="q") is None
    with pytest.raises(ValueError, match="does not parse"):
        derived_frame(table, {"columns": [{"name": "x", "expr": "registered_pop +"}]}, part="p")


def _accept(storage, tmp_path, dept, dataset_id, name, data, tag):
    folder = tmp_path / tag
    folder.mkdir()
    (folder / name).write_bytes(data)
    cat = load_catalog()
    return accept_delivery(storage, cat, ingest(storage, cat, dept, dataset_id, [folder / name]).delivery)


@pytest.mark.parametrize("kw, expected", [
    ({}, None),
    ({"stock_2020": 10_200}, "年末户籍人口 = 上年末 + 出生 − 死亡 + 迁入 − 迁出"),
    ({"stock_2020": 10_200, "rural_2020": 2_200}, "年末户籍人口 = 上年末"),
    ({"rural_2020": 2_000}, "城镇户籍 + 乡村户籍 = 户籍人口"),
    ({"origin_2019": 400}, "adds up to 流动人口"),
])
def test_11_01_balances(storage, tmp_path, kw, expected):
    report = _accept(storage, tmp_path, "11", "11-01", "户籍人口.csv", _rows(**kw).encode("utf-8"), "d")
    if expected is None:
        assert report["state"] == "validated", report["failures"]
        return
    assert report["state"] == "failed"
    (line,) = [f for f in report["failures"] if expected in f]
    assert "11-01" in line and "户籍人口.csv" in line and "152501 20" in line  # department, dataset, file and row


def test_a_missing_field_is_reported_once_by_the_table_suite(storage, tmp_path):
    text = _rows().replace(",births,", ",born,")  # births renamed: the balance cannot be computed
    report = _accept(storage, tmp_path, "11", "11-01", "户籍人口.csv", text.encode("utf-8"), "d")
    assert report["state"] == "failed"
    assert any("births" in f for f in report["failures"])
    assert not any("stock_balance_share" in f for f in report["failures"])  # no advice to add an internal column
    births = [f for f in report["failures"] if "births" in f]
    assert len(births) == 1 and "does not exist" not in births[0]  # said once, not again by every check of the column
    from erenhot.receipts import problems

    assert [p["column"] for p in problems(report)].count("births") == 1


def test_receipt_action_of_a_derived_rule_names_the_rule_not_the_internal_column():
    from erenhot.receipts import action_for

    zh, en = action_for({"frame": "derived", "expectation": "expect_column_values_to_be_between", "column": "urban_rural_gap",
                         "rule": "城镇户籍 + 乡村户籍 = 户籍人口", "kwargs": {"min_value": 0, "max_value": 0}})
    assert "城镇户籍 + 乡村户籍 = 户籍人口" in zh and "rows listed" in en and "urban_rural_gap" not in en


def _homesteads(area_m2: float) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["XZQDM", "XZQMC", "GCMC", "ZJDZS", "ZJDMJ", "XZZJDZS", "YHDZHS", "JMDMJ", "TJND"])
    ws.append(["152501100", "格日勒敖都苏木", "巴彦哈拉嘎查", 40, area_m2, 3, 1, 12.5, 2020])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_zero_plots_give_no_infinite_mean():
    table = pd.DataFrame({"XZQDM": ["152501100"], "GCMC": ["a"], "ZJDMJ": [2400.0], "ZJDZS": [0]})
    frame = derived_frame(table, load_catalog().dataset("18-03").delivery["derived"], part="gacha_development")
    assert math.isnan(frame["mean_plot_m2"].iloc[0])  # the table suite reports the zero, not an "hm²" hint


def test_10_01_township_sectors_must_add_up_to_their_gdp():
    spec = load_catalog().dataset("10-01").delivery["derived"]
    table = pd.DataFrame({"地区": ["格日勒敖都苏木", "二连浩特市区"], "地区生产总值": [20000.0, 500000.0],
                          "第一产业": [12385.0, 1000.0], "第二产业": [3000.0, 200000.0], "第三产业": [4615.0, 299000.0]})
    frame = derived_frame(table, spec, part="分地区主要经济指标")
    assert frame["row"].tolist() == ["格日勒敖都苏木", "二连浩特市区"]
    assert frame["township_sector_sum_ratio"].tolist() == pytest.approx([1.0, 1.0])
    table.loc[0, "第一产业"] = 99999.0
    assert derived_frame(table, spec, part="分地区主要经济指标")["township_sector_sum_ratio"].iloc[0] > 1.01
    assert "sector_sum_ratio" not in frame.columns  # the yearly sheet's rule belongs to the other part


def test_18_03_homestead_area_in_hm2_is_refused(storage, tmp_path):
    assert _accept(storage, tmp_path, "18", "18-03", "gacha_development.xlsx", _homesteads(24_000.0), "m2")["state"] == "validated"
    report = _accept(storage, tmp_path, "18", "18-03", "gacha_development.xlsx", _homesteads(2.4), "hm2")
    assert report["state"] == "failed"
    (line,) = report["failures"]
    assert "ZJDMJ / ZJDZS" in line and "hm²" in line and "152501100 巴彦哈拉嘎查" in line


def _projects_zip(tmp_path, ydmj=("3.5", "12.0"), prj_epsg=None):
    import zipfile

    import geopandas as gpd
    import shapely

    pts = gpd.GeoSeries([shapely.Point(111.97, 43.65), shapely.Point(111.98, 43.66)], crs=4490).to_crs(4525)
    gdf = gpd.GeoDataFrame({"XMMC": ["国门景区提升", "恐龙博物馆"], "XMLX": ["景区提升", "文化设施"], "JSXZ": ["改扩建", "新建"],
                            "YDMJ": list(ydmj), "ZTZ": [1200.0, 8000.0], "KGNF": [2021, 2022], "WGNF": [2023, 2025],
                            "XMZT": ["在建", "规划"]}, geometry=pts, crs=4525)
    if prj_epsg:
        gdf = gdf.set_crs(prj_epsg, allow_override=True)  # a wrong .prj on the same coordinates
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf.to_file(folder / "tourism_projects.shp", encoding="gbk")
    (tmp_path / "d").mkdir()
    with zipfile.ZipFile(tmp_path / "d" / "tourism_projects.zip", "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    return tmp_path / "d" / "tourism_projects.zip"


def test_a_wrong_prj_gets_a_diagnosis(storage, tmp_path):
    """Zone-37 metres under a CGCS2000 geographic .prj: besides the extent failures, the report says the
    .prj contradicts the coordinates, what they look like, and how to name the CRS at delivery."""
    cat = load_catalog()
    d = ingest(storage, cat, "6", "06-04", [_projects_zip(tmp_path, prj_epsg=4490)]).delivery
    report = accept_delivery(storage, cat, d)
    assert report["state"] == "failed"
    (line,) = [f for f in report["failures"] if "the .prj says" in f]
    assert "tourism_projects.zip" in line and "EPSG:4490" in line and "EPSG:4525" in line and "--crs" in line


def test_text_in_a_numeric_shapefile_field_names_the_cell(storage, tmp_path):
    """06-04 with 用地面积 written "12.0公顷" in a text DBF field: refused with file, column, row and
    cell, not with GX's internal type error and range advice."""
    from erenhot.acceptance import read_parts
    from erenhot.formats import FormatError

    cat = load_catalog()
    d = ingest(storage, cat, "6", "06-04", [_projects_zip(tmp_path, ydmj=("3.5", "12.0公顷"))]).delivery
    with pytest.raises(FormatError, match=r"tourism_projects.zip: column YDMJ, data row 2: '12.0公顷' is not a number"):
        read_parts(storage, cat, d)
    report = accept_delivery(storage, cat, d)
    assert report["state"] == "failed" and any("'12.0公顷' is not a number" in f for f in report["failures"])
