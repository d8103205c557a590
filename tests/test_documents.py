"""Document deliverables (规划文本, 说明书): metadata read, checksum from the delivery manifest, bad
files refused with their names, bytes untouched. The PDF, DOCX and XLSX are generated here."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import geopandas as gpd
import openpyxl
import pypdf
import pytest
from shapely.geometry import box

from erenhot import documents, formats
from erenhot.acceptance import accept_delivery, read_parts
from erenhot.catalog import load_catalog
from erenhot.landing import ingest

TITLE = "二连浩特市国土空间总体规划（2021—2035年）文本"


def _pdf(pages: int = 2, title: str | None = TITLE, password: str | None = None) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _docx(title: str = "规划说明") -> bytes:
    d = docx.Document()
    d.core_properties.title = title
    d.add_heading("第一章 总则", 1)
    d.add_paragraph("第一条 为落实国家战略……")
    d.add_paragraph("")
    d.add_paragraph("第二条 规划范围为二连浩特市行政辖区。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "规划指标表"
    wb.create_sheet("重点项目表")
    wb.properties.title = "规划附表"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _land(storage, tmp_path: Path, dataset_id: str, files: dict[str, bytes]):
    folder = tmp_path / f"delivery-{len(list(tmp_path.glob('delivery-*')))}"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return ingest(storage, load_catalog(), "1", dataset_id, [folder]).delivery


def _intact(storage, delivery, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert storage.read_bytes(delivery.file_path(name)) == data


# -- metadata --------------------------------------------------------------------------------

def test_pdf_pages_and_title():
    info = documents.document_info("规划文本.pdf", _pdf(3))
    assert (info.format, info.pages, info.title) == ("pdf", 3, TITLE)
    assert info.size_bytes == len(_pdf(3))


def test_pdf_without_title_and_pdf_with_an_empty_user_password():
    assert documents.document_info("a.pdf", _pdf(1, title=None)).title is None
    assert documents.document_info("a.pdf", _pdf(1, password="")).pages == 1  # opens without a password


def test_docx_title_and_paragraphs():
    info = documents.document_info("规划说明.docx", _docx())
    assert (info.format, info.title, info.paragraphs) == ("docx", "规划说明", 3)  # the empty paragraph not counted


def test_xlsx_document_sheets_and_title():
    info = documents.document_info("规划附表.xlsx", _xlsx())
    assert (info.format, info.sheets, info.title) == ("xlsx", ("规划指标表", "重点项目表"), "规划附表")


def test_other_formats_are_kept_with_a_note():
    info = documents.document_info("图集.doc", b"\xd0\xcf\x11\xe0 old word")
    assert info.to_dict() == {"name": "图集.doc", "format": "other", "size_bytes": 13, "pages": None, "title": None,
                              "paragraphs": None, "sheets": [], "members": [],
                              "note": "no metadata reader for .doc; kept as delivered"}


# -- through the landing zone ----------------------------------------------------------------

def test_document_dataset_parts_carry_metadata_and_the_manifest_checksum(storage, tmp_path):
    files = {"规划文本.pdf": _pdf(2), "规划说明.docx": _docx(), "规划附表.xlsx": _xlsx(),
             "图件.zip": _zip({"图件/土地利用规划图.jpg": b"\xff\xd8\xff jpeg"})}
    d = _land(storage, tmp_path, "01-14", files)  # 01-14 is a document dataset (kind: document)
    parts = {p.name: p for p in read_parts(storage, load_catalog(), d)}
    assert sorted(parts) == ["图件", "规划文本", "规划说明", "规划附表"]
    assert {p.kind for p in parts.values()} == {"document"}
    pdf = parts["规划文本"]
    sha = next(f.sha256 for f in d.files if f.name == "规划文本.pdf")
    assert pdf.metadata["pages"] == 2 and pdf.metadata["title"] == TITLE and pdf.metadata["sha256"] == sha
    assert pdf.frames == {} and pdf.gdf is None
    assert pdf.table.to_dict("records")[0]["sha256"] == sha  # the one-row record the standard manifest keeps
    assert parts["规划附表"].metadata["sheets"] == ["规划指标表", "重点项目表"]  # XLSX: a document here, not a table
    assert parts["图件"].metadata["members"] == ["图件/土地利用规划图.jpg"]
    _intact(storage, d, files)


def test_document_dataset_is_accepted_and_recorded_in_the_standard_manifest(storage, tmp_path):
    files = {"规划文本.pdf": _pdf(2)}
    d = _land(storage, tmp_path, "01-14", files)
    report = accept_delivery(storage, load_catalog(), d)
    assert report["state"] == "validated"
    manifest = storage.read_json(report["standard"])
    assert manifest["parts"]["规划文本"]["source_files"] == ["规划文本.pdf"]
    _intact(storage, d, files)


def test_a_document_beside_data_of_the_same_name_keeps_its_full_name(storage, tmp_path):
    layer = gpd.GeoDataFrame({"YFCD": ["高易发"]}, geometry=[box(111.9, 43.6, 112.0, 43.7)], crs=4490)
    files = {"geohazard.geojson": layer.to_json(ensure_ascii=False).encode(), "geohazard.pdf": _pdf(1)}
    d = _land(storage, tmp_path, "01-01", files)
    parts = {p.name: p.kind for p in read_parts(storage, load_catalog(), d)}
    assert parts == {"geohazard": "vector", "geohazard.pdf": "document"}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return buf.getvalue()


# -- unreadable documents --------------------------------------------------------------------

@pytest.mark.parametrize("name, data, message", [
    ("规划文本.pdf", _pdf(2)[:300], "规划文本.pdf: the PDF is damaged or incomplete (cut off during upload?) — send it again"),
    ("规划文本.pdf", _docx(), "规划文本.pdf: not a PDF file (damaged, or another format renamed to .pdf)"),
    ("规划文本.pdf", _pdf(1, password="secret"), "规划文本.pdf: the PDF is password-protected — send a copy without a password"),
    ("规划说明.docx", _docx()[:500], ("规划说明.docx: not a readable Word .docx document (damaged, incomplete, or an old .doc "
                                   "renamed) — save it again as .docx")),
    ("规划附表.xlsx", _xlsx()[:400], ("规划附表.xlsx: not a readable Excel .xlsx workbook (damaged, incomplete, or an old .xls "
                                   "renamed) — save it again as .xlsx")),
    ("图件.zip", _zip({"a.jpg": b"x" * 50})[:30], ("图件.zip: the zip archive is damaged or incomplete (cut off during "
                                                 "upload?) — send it again")),
    ("图件.zip", _zip({"../a.jpg": b"x"}), ("图件.zip: refused archive member '../a.jpg' (absolute path or '..' escapes "
                                          "the folder)")),
])
def test_unreadable_documents_are_refused_with_their_names(storage, tmp_path, name, data, message):
    d = _land(storage, tmp_path, "01-14", {name: data})
    with pytest.raises(formats.FormatError) as err:
        read_parts(storage, load_catalog(), d)
    assert str(err.value) == message
    _intact(storage, d, {name: data})


@pytest.mark.parametrize("name, data, message", [
    ("规划附表.xlsx", _docx(), ("规划附表.xlsx: not an Excel .xlsx workbook (another Office format renamed, or damaged "
                             "inside) — save it again as .xlsx")),
    ("规划说明.docx", _xlsx(), ("规划说明.docx: not a Word .docx document (another Office format renamed, or damaged "
                             "inside) — save it again as .docx")),
])
def test_office_files_of_the_wrong_kind(name, data, message):
    with pytest.raises(formats.FormatError) as err:
        documents.document_info(name, data)
    assert str(err.value) == message


def test_empty_document():
    with pytest.raises(formats.FormatError) as err:
        documents.document_info("规划文本.pdf", b"")
    assert str(err.value) == "规划文本.pdf: empty file (0 bytes) — the upload or copy failed; send the file again"
