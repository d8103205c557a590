"""Metadata of document deliverables (规划文本, 说明书, reports): kept as delivered, described here.

Documents are not validated in depth: the landing zone keeps their bytes and checksum (the delivery
manifest's ``sha256``), and acceptance records what this module reads from them in the standard
manifest — the format, page count and title of a PDF (pypdf), the title and paragraph count of a
DOCX (python-docx, core properties), the sheet names and title of an XLSX (openpyxl), the member
names of a zip. A file of another format is kept with its size and a note.

A document that claims a format it does not have, or is damaged, truncated or password-protected,
raises :class:`erenhot.formats.FormatError` naming the file.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

import openpyxl
import pypdf
from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from lxml.etree import XMLSyntaxError
from openpyxl.utils.exceptions import InvalidFileException
from pypdf.errors import PyPdfError

from erenhot.formats import FormatError, list_archive, require_bytes

FORMATS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".zip": "zip"}


@dataclass(frozen=True)
class DocumentInfo:
    """What is known about one delivered document (``None``/empty where the format has no such thing)."""

    name: str
    format: str  # pdf | docx | xlsx | zip | other
    size_bytes: int
    pages: int | None = None  # PDF
    title: str | None = None  # PDF /Title, DOCX and XLSX core property "title"
    paragraphs: int | None = None  # DOCX, non-empty paragraphs
    sheets: tuple[str, ...] = ()  # XLSX
    members: tuple[str, ...] = ()  # zip
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests (tuples as lists)."""
        d = asdict(self)
        d["sheets"], d["members"] = list(self.sheets), list(self.members)
        return d


def document_info(name: str, data: bytes) -> DocumentInfo:
    """Read the metadata of a delivered document.

    Args:
        name: the delivered file name (its suffix selects the reader).
        data: the file's bytes.

    Returns:
        A :class:`DocumentInfo`; for formats without a reader (``.doc``, ``.pptx``, images …) only
        the size and a note.

    Raises:
        FormatError: empty file; a PDF/DOCX/XLSX/zip that cannot be opened (damaged, truncated,
        another format renamed, password-protected).
    """
    require_bytes(name, data)
    suffix = PurePosixPath(name).suffix.lower()
    kind = FORMATS.get(suffix, "other")
    if kind == "pdf":
        return _pdf(name, data)
    if kind == "docx":
        return _docx(name, data)
    if kind == "xlsx":
        return _xlsx(name, data)
    if kind == "zip":
        members = tuple(list_archive(data, label=name))
        return DocumentInfo(name=name, format="zip", size_bytes=len(data), members=members)
    return DocumentInfo(name=name, format="other", size_bytes=len(data),
                        note=f"no metadata reader for {suffix or 'files without a suffix'}; kept as delivered")


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _pdf(name: str, data: bytes) -> DocumentInfo:
    """Pages and ``/Title`` of a PDF; an encrypted PDF is opened with the empty password if it allows."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise FormatError(f"{name}: not a PDF file (damaged, or another format renamed to .pdf)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError(f"{name}: the PDF is password-protected — send a copy without a password")
        pages = len(reader.pages)
        meta = reader.metadata
    except PyPdfError as exc:
        raise FormatError(f"{name}: the PDF is damaged or incomplete (cut off during upload?) — send it again") from exc
    return DocumentInfo(name=name, format="pdf", size_bytes=len(data), pages=pages,
                        title=_text(meta.title) if meta else None)


def _docx(name: str, data: bytes) -> DocumentInfo:
    """Core-property title and the count of non-empty paragraphs of a Word document."""
    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError) as exc:
        raise FormatError(f"{name}: not a readable Word .docx document (damaged, incomplete, or an old .doc "
                          f"renamed) — save it again as .docx") from exc
    except (ValueError, KeyError, XMLSyntaxError) as exc:  # a zip that is not a Word package
        raise FormatError(f"{name}: not a Word .docx document (another Office format renamed, or damaged "
                          f"inside) — save it again as .docx") from exc
    paragraphs = sum(1 for p in doc.paragraphs if p.text.strip())
    return DocumentInfo(name=name, format="docx", size_bytes=len(data), title=_text(doc.core_properties.title),
                        paragraphs=paragraphs)


def _xlsx(name: str, data: bytes) -> DocumentInfo:
    """Sheet names and core-property title of an Excel workbook (opened read-only)."""
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{name}: not a readable Excel .xlsx workbook (damaged, incomplete, or an old .xls "
                          f"renamed) — save it again as .xlsx") from exc
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:  # a zip that is not a workbook
        raise FormatError(f"{name}: not an Excel .xlsx workbook (another Office format renamed, or damaged "
                          f"inside) — save it again as .xlsx") from exc
    try:
        return DocumentInfo(name=name, format="xlsx", size_bytes=len(data), sheets=tuple(wb.sheetnames),
                            title=_text(wb.properties.title))
    finally:
        wb.close()
