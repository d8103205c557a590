"""Statistical-yearbook tables (统计年鉴 / 统计公报 sheets) → a tidy frame, with every change listed.

Departments send tables laid out for printing: a title row, a unit row ("单位：万元"), headers over
two or three rows with merged cells, full-width digits, thousands separators, "万" suffixes, "—"
or "…" for missing values, footnotes ("注：…", "资料来源：…") and total rows (合计/总计). This module
turns such a sheet — read raw with ``formats.read_table_bytes(name, data, header=None)`` — into
one header row and typed columns, and never guesses silently: :class:`YearbookTable` lists the
units per column, the notes, every dropped row (with its sheet row number and reason) and every
transformation in words. Values stay in the unit the sheet states (万元 stays 万元); only a "万"
or "亿" written *in a cell* multiplies that cell (×10⁴, ×10⁸) and is listed.

Layout rules (observed conventions of printed yearbooks such as 中国统计年鉴 / 内蒙古统计年鉴, not a
standard; they are heuristics, hence every use is listed in ``transformations``):

* rows before the header with one filled cell are title rows; a row "单位：X" (or a title ending in
  "（单位：X）") gives the table unit X, applied to the numeric columns without a unit of their own;
* the header starts at the first row with two or more filled cells and continues while rows are
  not data-like (a data-like row has numbers or missing marks in at least half of its filled cells
  right of the label column); ``header_rows=`` overrides this. Upper header rows repeat a merged
  cell to the right (never out of the label column); the rows are joined with ``_``. A header row
  whose cells are all units ("万元", "%", "单位：人") gives per-column units. A unit in parentheses
  at the end of a header ("增速（%）") is that column's unit when it is a known unit;
* the first column is the label column (kept as text); other columns become numbers when every
  filled cell parses, else stay text (and the offending cells are listed). "—", "-", "…", ".."
  are missing values (NaN, not 0; some yearbooks print "…" for "smaller than the table's unit" —
  the listing lets a reviewer see where);
* rows starting with 注/说明/备注/资料来源/数据来源 are footnotes (kept in ``notes``), as are
  one-cell rows after them; rows labelled 合计/总计/小计 are totals: dropped (``totals="drop"``) or
  kept with ``is_total`` true (``totals="flag"``).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from erenhot.formats import FormatError, read_table_bytes

FULLWIDTH_DIGITS = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})
NUMBER_PUNCT = str.maketrans({"．": ".", "，": ",", "－": "-", "−": "-", "＋": "+", "％": "%"})
MISSING_MARKS = re.compile(r"^[—–―\-－…·.。]+$")  # —, -, …, ... (and doubled forms) = no data
NUMBER_RE = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(万|亿|%)?$")
UNIT_ROW_RE = re.compile(r"^(?:计量)?单位\s*[:：]\s*(.+?)$")
UNIT_IN_TITLE_RE = re.compile(r"[（(]\s*(?:计量)?单位\s*[:：]\s*([^)）]+?)\s*[)）]\s*$")
HEADER_UNIT_RE = re.compile(r"^(.*?)\s*[（(]\s*([^()（）]+?)\s*[)）]$")
NOTE_RE = re.compile(r"^(注\s*\d*|说明|备注|资料来源|数据来源|来源)\s*[:：]")
TOTAL_RE = re.compile(r"^(总?合计|总计|小计)")
YEAR_RE = re.compile(r"^((?:19|20)\d{2})年$")
YEAR_TAG = "'年' suffix removed from the year"
SCALE = {"万": 1e4, "亿": 1e8}
PERCENT_TAG = "'%' sign removed (value kept in %)"
KNOWN_UNITS = {"万元", "亿元", "元", "千元", "元/人", "万人", "人", "户", "万户", "个", "家", "所", "辆", "张", "床",
               "%", "‰", "公顷", "万公顷", "亩", "万亩", "平方公里", "平方千米", "km²", "km2", "平方米", "m²",
               "万平方米", "吨", "万吨", "千克", "公斤", "立方米", "万立方米", "m³", "万m³", "亿立方米",
               "千瓦时", "万千瓦时", "公里", "千米", "km", "米", "m", "毫米", "mm", "℃", "小时", "天", "年"}


@dataclass(frozen=True)
class DroppedRow:
    """A sheet row that is not in the frame: ``row`` is its 1-based number in the sheet."""

    row: int
    reason: str  # empty | title | unit | footnote | total
    text: str  # its filled cells joined with " | "


@dataclass(frozen=True)
class YearbookTable:
    """A normalised yearbook table and everything done to get it."""

    frame: pd.DataFrame
    units: dict[str, str]  # column → unit as the sheet states it; values are in that unit
    notes: tuple[str, ...]  # footnotes, as written
    title: str | None
    header_rows: tuple[int, ...]  # sheet rows joined into the column names
    source_rows: tuple[int, ...]  # sheet row of each frame row
    dropped_rows: tuple[DroppedRow, ...]
    transformations: tuple[str, ...]
    encoding: str | None = None  # of the delivered CSV, or "xlsx"

    def report(self) -> dict[str, Any]:
        """Everything but the frame, JSON-ready (for manifests and receipts)."""
        d = asdict(self)
        d.pop("frame")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass(frozen=True)
class _Cell:
    value: float | None  # parsed number (None: missing or not a number)
    numeric: bool  # a number or a missing mark
    tags: tuple[str, ...]  # what parsing did: thousands, 万, 亿, %, missing '—' …


def read_yearbook(name: str, data: bytes, *, sheet: int | str = 0, header_rows: int | None = None,
                  totals: Literal["drop", "flag"] = "drop") -> YearbookTable:
    """Read a delivered yearbook CSV/XLSX and normalise it (see :func:`normalise`).

    Raises:
        FormatError: the file cannot be read, or holds no table (messages start with ``name``).
    """
    raw, encoding = read_table_bytes(name, data, header=None, sheet=sheet)
    return replace(normalise(raw, name=name, header_rows=header_rows, totals=totals), encoding=encoding)


def cell_text(value: Any) -> str:
    """A cell as stripped text: NaN/None → ``""``, Excel integers without ``.0``, dates as ISO."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()[:10]
    return str(value).strip()


def parse_number(text: str) -> _Cell:
    """Parse one value cell: ``1,234.5``, ``1.5万``, ``12.5%``, ``2008年`` (a year), ``—`` (missing), full-width forms.

    Returns a :class:`_Cell` whose ``tags`` name every change (``numeric`` false: not a number).
    """
    t = re.sub(r"\s+", "", text.translate(FULLWIDTH_DIGITS).translate(NUMBER_PUNCT))
    if not t:
        return _Cell(None, True, ())
    if MISSING_MARKS.match(t):
        return _Cell(None, True, (f"'{text}' read as missing",))
    year = YEAR_RE.match(t)
    if year:  # "2008年" in a 年份 column: the printed form of a year
        return _Cell(float(year.group(1)), True, (YEAR_TAG,))
    m = NUMBER_RE.match(t)
    if not m:
        return _Cell(None, False, ())
    sign, digits, frac, suffix = m.groups()
    value = float(f"{sign}{digits.replace(',', '')}{frac or ''}")
    tags = ["thousands separators removed"] if "," in digits else []
    if suffix in SCALE:
        value *= SCALE[suffix]
        tags.append(f"'{suffix}' suffix: ×{SCALE[suffix]:,.0f}")
    elif suffix == "%":
        tags.append(PERCENT_TAG)
    return _Cell(value, True, tuple(tags))


def _joined(cells: list[str]) -> str:
    return " | ".join(c for c in cells if c)


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:8])
    return shown + (f" … ({len(rows)} rows)" if len(rows) > 8 else "")


class _Log:
    """Collects dropped rows and transformations while a sheet is normalised."""

    def __init__(self) -> None:
        self.dropped: list[DroppedRow] = []
        self.changes: list[str] = []

    def drop(self, row: int, reason: str, cells: list[str]) -> None:
        self.dropped.append(DroppedRow(row=row, reason=reason, text=_joined(cells)))


def _unit_of(cell: str) -> str | None:
    """The unit a header-area cell states ("单位：万元" or a bare known unit), else ``None``."""
    m = UNIT_ROW_RE.match(cell)
    if m:
        return m.group(1).strip()
    return cell if cell in KNOWN_UNITS else None


def _data_like(cells: list[str]) -> bool:
    values = [parse_number(c) for c in cells[1:] if c]
    numbers = [v for v in values if v.numeric]
    return bool(numbers) and len(numbers) * 2 >= len(values)


def _table_unit(text: str, log: _Log) -> str | None:
    """The unit of "单位：万元" or a title ending "（单位：万元）"; ``None`` (listed) when it names several."""
    m = UNIT_ROW_RE.match(text) or UNIT_IN_TITLE_RE.search(text)
    if not m:
        return None
    unit = m.group(1).strip()
    if re.search(r"[、,，;；]", unit):
        log.changes.append(f"the unit row names several units ({unit}): columns left without a unit")
        return None
    return unit


def _grid(raw: pd.DataFrame, log: _Log) -> list[list[str]]:
    """Cells as text with full-width digits made ASCII; empty columns removed (both listed)."""
    grid = [[cell_text(v) for v in row] for row in raw.itertuples(index=False, name=None)]
    converted = [i + 1 for i, row in enumerate(grid) if any(c != c.translate(FULLWIDTH_DIGITS) for c in row)]
    if converted:
        log.changes.append(f"full-width digits converted to ASCII in rows {_rows_text(converted)}")
    grid = [[c.translate(FULLWIDTH_DIGITS) for c in row] for row in grid]
    width = max((len(r) for r in grid), default=0)
    keep = [j for j in range(width) if any(j < len(r) and r[j] for r in grid)]
    if len(keep) < width:
        gone = [j + 1 for j in range(width) if j not in keep]
        log.changes.append(f"empty column(s) {', '.join(map(str, gone))} dropped")
    return [[r[j] if j < len(r) else "" for j in keep] for r in grid]


def _split_preamble(grid: list[list[str]], rows: list[int], log: _Log) -> tuple[list[str], str | None, int]:
    """Title and unit rows before the header → (title parts, table unit, position in ``rows`` of the header).

    A preamble row has at most one filled cell besides "单位：X" cells (title left, unit right).
    """
    titles: list[str] = []
    unit = None
    for k, i in enumerate(rows):
        filled = [c for c in grid[i] if c]
        units = [c for c in filled if UNIT_ROW_RE.match(c)]
        others = [c for c in filled if c not in units]
        if len(others) > 1:
            return titles, unit, k
        titles.extend(others)
        for text in [*units, *others]:
            unit = unit or _table_unit(text, log)
        log.drop(i + 1, "title" if others else "unit", grid[i])
    raise FormatError("no table found: every filled row has a single cell (titles only)")


def _split_header(grid: list[list[str]], rows: list[int], start: int, header_rows: int | None,
                  log: _Log) -> tuple[list[int], dict[int, str], str | None, int]:
    """Header rows and unit rows → (header row indices, units by column, table unit, first body position)."""
    names: list[int] = []
    units: dict[int, str] = {}
    table_unit = None
    k = start
    while k < len(rows) and (header_rows is None or len(names) < header_rows):
        cells = grid[rows[k]]
        filled = [c for c in cells if c]
        if names and len(filled) == 1 and UNIT_ROW_RE.match(filled[0]):
            table_unit = _table_unit(filled[0], log)
            log.drop(rows[k] + 1, "unit", cells)
        elif names and all(_unit_of(c) for c in filled):
            units.update({j: _unit_of(c) for j, c in enumerate(cells) if c})
            log.drop(rows[k] + 1, "unit", cells)
        elif header_rows is None and names and (_data_like(cells) or NOTE_RE.match(filled[0])):
            break
        else:
            names.append(rows[k])
        k += 1
    return names, units, table_unit, k


def _column_names(grid: list[list[str]], header: list[int], log: _Log) -> tuple[list[str], dict[int, str]]:
    """Join the header rows into one name per column; units in trailing parentheses split off."""
    width = len(grid[0]) if grid else 0
    rows = []
    for n, i in enumerate(header):
        cells = list(grid[i])
        if n < len(header) - 1:  # upper rows: a merged cell spans to the right (never from the label column)
            filled = []
            for j in range(2, width):
                if not cells[j] and cells[j - 1]:
                    cells[j] = cells[j - 1]
                    filled.append(j + 1)
            if filled:
                log.changes.append(f"header row {i + 1}: merged cell repeated into column(s) {', '.join(map(str, filled))}")
        rows.append(cells)
    names, units = [], {}
    for j in range(width):
        parts: list[str] = []
        for cells in rows:
            text = re.sub(r"\s+", "", cells[j]) if re.search(r"[\u4e00-\u9fff]", cells[j]) else " ".join(cells[j].split())
            m = HEADER_UNIT_RE.match(text)
            if m and _unit_of(m.group(2)):
                text, units[j] = m.group(1), _unit_of(m.group(2))
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        names.append("_".join(parts))
    return _unique_names(names, log), units


def _unique_names(names: list[str], log: _Log) -> list[str]:
    out: list[str] = []
    for j, n in enumerate(names):
        if not n:
            n = f"column_{j + 1}"
            log.changes.append(f"column {j + 1} has no header: named {n}")
        base, k = n, 2
        while n in out:
            n, k = f"{base}_{k}", k + 1
        if n != base:
            log.changes.append(f"duplicate header {base!r} in column {j + 1}: named {n}")
        out.append(n)
    return out


def _split_body(grid: list[list[str]], rows: list[int], totals: str, log: _Log
                ) -> tuple[list[int], list[bool], list[str]]:
    """Body rows → (data row indices, is-total flags, notes); footnotes and dropped totals logged."""
    data, flags, notes = [], [], []
    in_notes = False
    for i in rows:
        cells = grid[i]
        filled = [c for c in cells if c]
        if NOTE_RE.match(filled[0]) or (in_notes and len(filled) == 1):
            notes.append(_joined(cells))
            log.drop(i + 1, "footnote", cells)
            in_notes = True
            continue
        in_notes = False
        is_total = bool(TOTAL_RE.match(re.sub(r"\s+", "", cells[0])))
        if is_total and totals == "drop":
            log.drop(i + 1, "total", cells)
            continue
        data.append(i)
        flags.append(is_total)
    return data, flags, notes


def _typed_column(name: str, cells: list[str], sheet_rows: list[int], log: _Log) -> tuple[pd.Series, bool]:
    """A value column as float when every filled cell parses, else as text; returns (series, had a % sign)."""
    parsed = [parse_number(c) for c in cells]
    bad = [(r, c) for r, c, p in zip(sheet_rows, cells, parsed) if not p.numeric]
    if bad:
        if len(bad) < sum(1 for c in cells if c):
            r, c = bad[0]
            log.changes.append(f"column {name!r} kept as text: {len(bad)} cell(s) are not numbers (row {r}: {c!r})")
        return pd.Series(cells), False
    by_tag: dict[str, list[int]] = {}
    for r, p in zip(sheet_rows, parsed):
        for t in p.tags:
            by_tag.setdefault(t, []).append(r)
    for t, rs in by_tag.items():
        log.changes.append(f"column {name!r}: {t} in row(s) {_rows_text(rs)}")
    values = [np.nan if p.value is None else p.value for p in parsed]
    return pd.Series(values, dtype="float64"), PERCENT_TAG in by_tag


def normalise(raw: pd.DataFrame, *, name: str = "table", header_rows: int | None = None,
              totals: Literal["drop", "flag"] = "drop") -> YearbookTable:
    """Normalise a raw yearbook grid (no header; as :func:`erenhot.formats.read_table_bytes` gives with
    ``header=None``) following the module's rules.

    Args:
        name: the delivered file name, for messages.
        header_rows: number of header rows (default: detected; the detection is listed).
        totals: ``"drop"`` total rows (listed in ``dropped_rows``) or ``"flag"`` them (column ``is_total``).

    Returns:
        A :class:`YearbookTable`.

    Raises:
        FormatError: empty sheet, no header, or no data rows (message starts with ``name``).
    """
    log = _Log()
    grid = _grid(raw, log)
    rows = [i for i, r in enumerate(grid) if any(r)]
    for i, r in enumerate(grid):
        if not any(r):
            log.drop(i + 1, "empty", r)
    if not rows:
        raise FormatError(f"{name}: the sheet is empty")
    try:
        titles, table_unit, start = _split_preamble(grid, rows, log)
    except FormatError as exc:
        raise FormatError(f"{name}: {exc}") from exc
    header, row_units, header_table_unit, body_at = _split_header(grid, rows, start, header_rows, log)
    table_unit = table_unit or header_table_unit
    if body_at >= len(rows):
        raise FormatError(f"{name}: no data rows below the header (row(s) {_rows_text([i + 1 for i in header])})")
    log.changes.insert(0, f"header: row(s) {_rows_text([i + 1 for i in header])} joined into column names"
                       + ("" if header_rows is not None else " (detected: the next row is the first data-like row)"))
    names, header_units = _column_names(grid, header, log)
    data, flags, notes = _split_body(grid, rows[body_at:], totals, log)
    if not data:
        raise FormatError(f"{name}: no data rows below the header (only notes or totals)")
    sheet_rows = [i + 1 for i in data]
    labels = [grid[i][0] for i in data]
    years = [YEAR_RE.match(lb.translate(FULLWIDTH_DIGITS).strip()) for lb in labels]
    if all(years):  # a label column of years printed "2008年": the years as numbers
        labels = [y.group(1) for y in years]
        log.changes.append(f"column {names[0]!r}: {YEAR_TAG} in row(s) {_rows_text(sheet_rows)}")
    frame = pd.DataFrame({names[0]: pd.Series(labels)})
    units: dict[str, str] = {}
    for j in range(1, len(names)):
        series, percent = _typed_column(names[j], [grid[i][j] for i in data], sheet_rows, log)
        frame[names[j]] = series
        unit = header_units.get(j) or row_units.get(j) or ("%" if percent else None)
        if unit is None and table_unit and series.dtype == "float64":
            unit = table_unit
        if unit:
            units[names[j]] = unit
    _log_units(units, header_units, row_units, table_unit, names, log)
    if totals == "flag" and any(flags):
        frame["is_total"] = flags
        log.changes.append(f"total rows kept and flagged in column is_total: rows {_rows_text([r for r, f in zip(sheet_rows, flags) if f])}")
    dropped_totals = [d.row for d in log.dropped if d.reason == "total"]
    if dropped_totals:
        log.changes.append(f"total rows (合计/总计/小计) dropped: rows {_rows_text(dropped_totals)}")
    if notes:
        log.changes.append(f"{len(notes)} footnote row(s) moved to notes")
    return YearbookTable(frame=frame, units=units, notes=tuple(notes), title=" ".join(titles) or None,
                         header_rows=tuple(i + 1 for i in header), source_rows=tuple(sheet_rows),
                         dropped_rows=tuple(sorted(log.dropped, key=lambda d: d.row)),
                         transformations=tuple(log.changes))


def _log_units(units: dict[str, str], header_units: dict[int, str], row_units: dict[int, str],
               table_unit: str | None, names: list[str], log: _Log) -> None:
    """List where each column's unit came from (values are never converted between units)."""
    from_table = [c for c, u in units.items() if u == table_unit
                  and names.index(c) not in header_units and names.index(c) not in row_units]
    if from_table:
        log.changes.append(f"table unit {table_unit} applied to column(s) {', '.join(from_table)} (values kept in {table_unit})")
    for source, found in (("header", header_units), ("unit row", row_units)):
        cols = [f"{names[j]}={u}" for j, u in sorted(found.items()) if j < len(names) and names[j] in units]
        if cols:
            log.changes.append(f"units from the {source}: {', '.join(cols)}")
