"""The department's receipt: accepted or not, what was standardised, every problem with its file,
layer, column and feature ids and what to do — Chinese first, then English, no Python reprs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.landing import ingest
from erenhot.receipts import action_for, problems, receipt_for, receipt_path, render_receipt, write_receipt
from erenhot.storage import Storage

STATIONS = "station_id,name,lon,lat,elevation_m\n53068,二连浩特,111.97,43.65,964.7\n"



def _pdf_bytes() -> bytes:
    """A real one-page PDF (a text that merely starts with %PDF is refused as damaged)."""
    import io

    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()

def faults(hdx_second: str) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"NAME": "断层一", "HDX": "全新世"},
         "geometry": {"type": "LineString", "coordinates": [[111.90, 43.60], [112.00, 43.70]]}},
        {"type": "Feature", "properties": {"NAME": "断层二", "HDX": hdx_second},
         "geometry": {"type": "LineString", "coordinates": [[111.80, 43.50], [111.90, 43.60]]}},
    ]}, ensure_ascii=False)


def when(second: int) -> datetime:
    return datetime(2025, 3, 1, 8, 0, second, tzinfo=UTC)


def deliver(storage, cat, tmp, dept, dataset_id, name, data, second, *, accept=True):
    folder = tmp / f"{dataset_id}-{second}"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    d = ingest(storage, cat, dept, dataset_id, [path], now=when(second)).delivery
    if not accept:
        return d, None
    report = accept_delivery(storage, cat, d)
    write_receipt(storage, report, d, cat)
    return d, report


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("receipts")
    storage = Storage(str(tmp / "store"))
    cat = load_catalog()
    out = {"storage": storage, "cat": cat}
    out["17-01"] = deliver(storage, cat, tmp, "17", "17-01", "stations.csv", STATIONS, 1)
    out["01-27"] = deliver(storage, cat, tmp, "1", "01-27", "faults.geojson", faults("第四纪"), 2)
    out["01-14"] = deliver(storage, cat, tmp, "1", "01-14", "草原保护建设规划.pdf", _pdf_bytes(), 3)
    out["good"] = deliver(storage, cat, tmp, "1", "01-27", "faults.geojson", faults("晚更新世"), 4)
    return out


def no_python_reprs(text: str) -> None:
    for bad in ("{'", "['", "None", "nan", "True", "False", "\\n"):
        assert bad not in text, bad


def test_accepted_receipt_names_department_dataset_files_and_standardisation(store):
    storage = store["storage"]
    d, report = store["17-01"]
    assert report["state"] == "validated"
    text = storage.read_bytes(receipt_path("17-01", d.version)).decode("utf-8")
    assert text.startswith("# 数据验收回执 · Delivery receipt")
    assert "17 气象局 · Erenhot Meteorological Bureau" in text
    assert "17-01 提供全市各气象台站点坐标数据" in text and "资料第 1 项 · seed item 1" in text
    assert d.version in text
    assert "**通过 Accepted**" in text and "项检查全部通过" in text
    f = d.files[0]
    assert f"| stations.csv | {f.size} B | `{f.sha256[:12]}` |" in text
    assert "1 个要素 features" in text  # a point table: stored as points (GeoParquet)
    assert "编码 encoding UTF-8" in text
    assert "问题 Problems" not in text
    no_python_reprs(text)
    assert text.index("数据验收回执") < text.index("Delivery receipt")  # Chinese first


def test_failed_receipt_lists_the_problem_with_file_layer_column_fid_and_action(store):
    storage = store["storage"]
    d, report = store["01-27"]
    assert report["state"] == "failed"
    text = storage.read_bytes(receipt_path("01-27", d.version)).decode("utf-8")
    assert "**未通过 Not accepted**" in text and "1 of 15 checks failed" in text
    assert "未标准化" in text and "quarantine" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:4] == ["faults.geojson", "faults", "HDX"]
    assert "1 / 2 要素 features" in cells[4] and "fid 1（HDX 第四纪）" in cells[4]
    assert "活动性HDX取值" in cells[5]
    assert "全新世、晚更新世、早中更新世" in cells[6] and "use one of these values for HDX" in cells[6]
    assert "resend all files" in text
    no_python_reprs(text)


def test_vector_receipt_shows_the_crs_transformation(store):
    storage = store["storage"]
    d, report = store["good"]
    assert report["state"] == "validated"
    text = storage.read_bytes(receipt_path("01-27", d.version)).decode("utf-8")
    line = next(x for x in text.splitlines() if x.startswith("- **faults**"))
    assert "→ EPSG:4525" in line and "China Geodetic Coordinate System 2000" in line
    assert "投影后修复几何 geometries repaired after projection: 0" in line
    assert "2 个要素 features" in line and "about 1 m or less" in line  # WGS 84 lon/lat taken to CGCS2000
    assert f"standard/01-27/{d.version}/" in text


def test_document_delivery_is_received_without_automatic_checks(store):
    storage = store["storage"]
    d, _ = store["01-14"]
    text = storage.read_bytes(receipt_path("01-14", d.version)).decode("utf-8")
    assert "**通过 Accepted**" in text and "暂无自动检查" in text
    assert "草原保护建设规划.pdf" in text


def test_receipt_for_reads_the_stored_one_and_renders_pending_deliveries(store, tmp_path):
    storage, cat = store["storage"], store["cat"]
    d, _ = store["good"]
    assert receipt_for(storage, cat, "01-27") == storage.read_bytes(receipt_path("01-27", d.version)).decode()
    old, _ = store["01-27"]
    assert "未通过" in receipt_for(storage, cat, "01-27", old.version[:20])
    assert receipt_for(storage, cat, "17-02") is None
    pending, _ = deliver(storage, cat, tmp_path, "17", "17-02", "climate_daily.csv", "station_id,date\n", 9, accept=False)
    text = receipt_for(storage, cat, "17-02")
    assert "已接收，待验收 Received, not checked yet" in text
    assert not storage.exists(receipt_path("17-02", pending.version))  # nothing stored before the check
    with pytest.raises(KeyError):
        receipt_for(storage, cat, "17-01", "1999")


def test_receipt_is_rewritten_when_missing_or_stale(store):
    storage, cat = store["storage"], store["cat"]
    d, _ = store["17-01"]
    path = receipt_path("17-01", d.version)
    before = storage.read_bytes(path)
    storage.fs.rm(storage.full(path))
    assert receipt_for(storage, cat, "17-01").encode() == before  # deterministic
    assert storage.exists(path)
    storage.write_bytes(path, b"stale")
    assert receipt_for(storage, cat, "17-01").encode() == before == storage.read_bytes(path)


def test_actions_follow_the_expectation_type():
    assert "TD/T 1055-2019" in action_for({"expectation": "expect_column_values_to_be_in_set", "column": "DLBM"})[1]
    assert "EPSG:4490/4525" in action_for({"expectation": "expect_column_values_to_be_in_set",
                                           "column": "crs_cgcs2000", "frame": "dataset"})[1]
    assert "self-intersections" in action_for({"expectation": "expect_column_values_to_be_in_set",
                                               "column": "geom_valid"})[1]
    assert action_for({"expectation": "part_present", "part": "townships"})[1] == "send the missing file (townships)"
    assert "cannot be opened" in action_for({"expectation": "readable"})[1]
    assert "110.5–113.5" in action_for({"expectation": "expect_column_values_to_be_between", "column": "lon",
                                        "kwargs": {"min_value": 110.5, "max_value": 113.5}})[1]
    assert "add the field NAME" in action_for({"expectation": "expect_column_to_exist", "column": "NAME"})[1]


def test_synthetic_report_shows_repairs_encoding_unreadable_files_and_warnings(store):
    cat = store["cat"]
    d, _ = store["17-01"]
    standard = {"parts": {"DLTB": {"kind": "vector", "source_files": ["DLTB.shp", "DLTB.dbf"], "encoding": "GBK",
                                   "source_crs": "EPSG:4490", "target_crs": "EPSG:4525",
                                   "transformation": "3-degree Gauss-Kruger zone 37", "repaired_after_projection": 3,
                                   "rows": 12345}}}
    text = render_receipt({"state": "validated", "checks": [], "standard": "x"}, d, cat, standard=standard)
    assert "EPSG:4490 → EPSG:4525（3-degree Gauss-Kruger zone 37）" in text
    assert "geometries repaired after projection: 3" in text and "12,345 个要素" in text
    assert "GBK（已转为 UTF-8 converted to UTF-8）" in text
    bad = {"state": "failed", "checks": [
        {"file": "DLTB.zip", "part": "", "frame": "", "expectation": "readable", "column": None, "success": False,
         "severity": "critical", "rule": "文件可读 file is readable", "error": "DLTB.zip: not a zip file", "examples": []},
        {"file": "t.csv", "part": "t", "frame": "table", "expectation": "expect_column_values_to_not_be_null",
         "column": "name", "success": False, "severity": "warning", "rule": "名称非空 name present",
         "unexpected_count": 2, "element_count": 40, "examples": [None, None], "error": ""}],
        "failures": ["部门 1 自然资源局 · 01-04 行政区划 · DLTB.zip: 文件可读 file is readable"]}
    text = render_receipt(bad, d, cat)
    assert "the file cannot be opened" in text and "not a zip file" in text
    assert "提示 Warnings" in text and "fill in the empty values of name" in text and "2 / 40 行 rows" in text
    no_python_reprs(text)
    assert [p["file"] for p in problems(bad)] == ["DLTB.zip"]
    bad["parts"] = {"DLTB": {"files": ["DLTB.shp"], "encoding": "gbk", "source_crs": "EPSG:3857"}}
    assert "读取 read **DLTB**（DLTB.shp）：编码 encoding gbk；坐标系 CRS EPSG:3857" in \
        render_receipt(bad, d, cat)


def test_layer_without_crs_gets_the_prj_action(store):
    report = {"state": "failed", "checks": [], "failures": [
        "部门 4 农牧水务局 · 04-13 土壤 · soil.shp: no coordinate system (.prj missing); coordinates look like degrees"]}
    (p,) = problems(report)
    assert p["file"] == "soil.shp" and ".prj" in p["action_en"] and "no coordinate system" in p["rule"]
    assert re.search(r"\.prj", render_receipt(report, store["17-01"][0], store["cat"]))
