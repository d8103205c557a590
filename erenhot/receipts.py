"""The department's receipt (数据验收回执) of one delivery: a short bilingual Markdown note.

For each delivery the receipt says — Chinese first, then English — whether it was accepted, what the
acceptance standardised (text encoding per part, CRS transformation to EPSG:4525, geometries repaired
after projection, tables converted) and every problem found, each with the file, layer, column and
feature ids it concerns and a short "what to do". It is written beside the validation report:

    validation/<dataset_id>/<version>.receipt.md

Everything here is derived from the validation report of :func:`erenhot.acceptance.accept_delivery`,
the delivery manifest and the standard manifest; nothing is recomputed. Prefect-free.

Typical use (after validation)::

    report = accept_delivery(storage, catalog, delivery)
    write_receipt(storage, report, delivery, catalog)
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from erenhot.catalog import Catalog
from erenhot.landing import Delivery, latest_delivery, load_delivery, validation_report, versions
from erenhot.storage import Storage, StorageError

__all__ = ["action_for", "problems", "receipt_for", "receipt_path", "render_receipt", "write_receipt"]

MAX_EXAMPLES = 5  # feature ids / values quoted per problem


def receipt_path(dataset_id: str, version: str) -> str:
    """Storage path of the receipt of one delivery (beside its validation report)."""
    return f"validation/{dataset_id}/{version}.receipt.md"


# -- formatting helpers ------------------------------------------------------------------------

def _num(v: Any) -> str:
    """A number for a clerk: thousands separators, no trailing zeros, no ``nan``."""
    if isinstance(v, bool):
        return "是 yes" if v else "否 no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "空 empty"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return format(v, ",.10g")
    return _text(v)


def _text(v: Any) -> str:
    """Any value as plain text (lists joined, ``None`` empty), safe inside a Markdown table cell."""
    if v is None:
        return ""
    if isinstance(v, (int, float, bool)):
        return _num(v)
    if isinstance(v, (list, tuple, set)):
        return "、".join(_text(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}={_text(x)}" for k, x in v.items())
    s = str(v).replace("\r", " ").replace("\n", " ").replace("|", "\\|").strip()
    return s


def _size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024:
        return f"{n:,} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024.0
        if n < 1024 or unit == "GB":
            return f"{n:,.1f} {unit}"
    return f"{n:,.1f} GB"  # pragma: no cover


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt.utcoffset() is not None else dt.strftime("%Y-%m-%d %H:%M")


def _strip_label(line: str) -> str:
    """A report line without its ``部门 … · <id> <name> · `` prefix (the receipt names them once)."""
    if line.startswith("部门 ") and line.count(" · ") >= 2:
        return line.split(" · ", 2)[2]
    return line


def _range(kwargs: dict[str, Any]) -> str:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and hi is not None:
        return f"{_num(lo)}–{_num(hi)}"
    if lo is not None:
        return f"≥ {_num(lo)}"
    if hi is not None:
        return f"≤ {_num(hi)}"
    return ""


# -- what to do ------------------------------------------------------------------------------

_EXTENT_COLUMNS = {"minx", "maxx", "miny", "maxy"}
_CODE_ACTIONS = {
    "DLBM": ("按三调工作分类（TD/T 1055-2019）改正地类编码",
             "correct the codes to the 三调 working classification (TD/T 1055-2019)"),
    "DLDJ": ("按约定的地类等级代码改正", "correct the grade codes to the delivery contract"),
    "XZQDM": ("按国家行政区划代码（GB/T 2260，二连浩特市 152501）改正",
              "correct the codes to the national administrative division codes (GB/T 2260, Erenhot 152501)"),
    "ZLDWDM": ("按坐落单位代码格式（19 位）改正", "write the parcel location codes in the 19-digit format"),
}
_GEOM_ZH = {"Polygon": "面", "MultiPolygon": "多面", "LineString": "线", "MultiLineString": "多线",
            "Point": "点", "MultiPoint": "多点"}


def action_for(check: dict[str, Any]) -> tuple[str, str]:
    """A short ``(中文, English)`` instruction for a failed check, from its expectation type and column."""
    exp = str(check.get("expectation") or "")
    col = check.get("column") or ""
    kwargs = check.get("kwargs") or {}
    error = str(check.get("error") or "")
    if check.get("frame") == "derived":  # a cross-column rule: the fix is in the delivered columns it names
        rule = str(check.get("rule") or "")
        return (f"改正所列行（row）的交付数值，使其满足：{rule}", f"correct the delivered values of the rows listed (row) so that: {rule}")
    if exp == "readable":
        return "文件无法打开：请重新导出后重新发送", "the file cannot be opened: export it again and resend it"
    if exp == "part_present":
        part = check.get("part") or ""
        return (f"补发缺少的文件（{part}）", f"send the missing file ({part})") if part else (
            "补发缺少的文件", "send the missing file")
    if error and ("does not exist" in error or "not found" in error.lower()) and col:
        return f"补充字段 {col}（见交付约定）", f"add the field {col} (see the delivery contract)"
    if col in ("crs_accepted", "crs_cgcs2000"):
        return ("按 CGCS2000 坐标系导出（EPSG:4490 或 4525），并附 .prj 文件；无 .prj 时在交付时注明坐标系",
                "export in CGCS2000 (EPSG:4490/4525) with the .prj file, or name the coordinate system at delivery")
    if col == "swapped_count":
        return ("交换 x、y 两列（x 应为东坐标/经度）后重新发送", "swap the x and y columns (x is easting/longitude) and resend")
    if col == "geom_valid":
        return "在 GIS 中修复几何（自相交等）后重新发送", "repair the geometries (self-intersections) in the GIS and resend"
    if col == "geom_empty":
        return "删除或补绘空几何", "remove or redraw the empty geometries"
    if col == "geom_type":
        allowed = [str(v) for v in kwargs.get("value_set") or []]
        zh = "、".join(_GEOM_ZH.get(v, v) for v in allowed)
        return (f"按约定的几何类型导出（{zh}）" if zh else "按约定的几何类型导出",
                f"export with the agreed geometry type ({', '.join(allowed)})" if allowed
                else "export with the agreed geometry type")
    if col == "within_boundary":
        return ("检查坐标与坐标系：要素应位于二连浩特市域内", "check the coordinates and CRS: features must lie inside the city")
    if col in _EXTENT_COLUMNS:
        return ("检查坐标系与投影带：数据范围不在二连浩特市域（应为 CGCS2000，3 度带第 37 带）",
                "check the CRS and zone: the extent is not at Erenhot (expected CGCS2000, 3-degree zone 37)")
    if col == "mojibake_share":
        return ("属性文字乱码：以 GBK 或 UTF-8 保存并附 .cpg 文件", "garbled text: save the attributes as GBK or UTF-8 with a .cpg file")
    if col == "feature_count" or exp == "expect_table_row_count_to_be_between":
        return "文件中没有数据：请发送含数据的文件", "the file holds no data: send the file with its records"
    if exp == "expect_table_row_count_to_equal":
        n = kwargs.get("value")
        return (f"检查记录数（应为 {_num(n)} 条）", f"check the number of records (expected {_num(n)})") if n is not None else (
            "检查记录数", "check the number of records")
    if col == "nodata" and exp == "expect_column_values_to_not_be_null":
        return "设置栅格的 NoData 值后重新导出", "set the raster's NoData value and export again"
    if col == "rotated":
        return "导出不带旋转的栅格（北向上）", "export the raster without rotation (north up)"
    if col == "band_count":
        return "导出单波段栅格", "export a single-band raster"
    if col == "res_x":
        rng = _range(kwargs)
        return (f"按约定分辨率导出（{rng} 米）", f"export at the agreed resolution ({rng} m)")
    if exp == "expect_column_to_exist":
        return f"补充字段 {col}（见交付约定）", f"add the field {col} (see the delivery contract)"
    if exp == "expect_column_values_to_be_in_set":
        if col in _CODE_ACTIONS:
            return _CODE_ACTIONS[col]
        allowed = [_text(v) for v in kwargs.get("value_set") or []]
        if allowed and len(allowed) <= 8:
            return (f"{col} 取值应为：{'、'.join(allowed)}", f"use one of these values for {col}: {', '.join(allowed)}")
        return f"按交付约定的代码表改正 {col}", f"correct {col} to the codes of the delivery contract"
    if exp == "expect_column_values_to_be_between":
        rng = _range(kwargs)
        return (f"改正 {col} 超出范围的值（应在 {rng}）", f"correct the values of {col} outside {rng}") if rng else (
            f"改正 {col} 超出范围的值", f"correct the out-of-range values of {col}")
    if exp == "expect_column_values_to_not_be_null":
        return f"补全 {col} 的空值", f"fill in the empty values of {col}"
    if exp == "expect_column_values_to_be_unique":
        return f"消除 {col} 的重复值", f"remove the duplicate values of {col}"
    if exp == "expect_compound_columns_to_be_unique":
        cols = "、".join(str(c) for c in kwargs.get("column_list") or [])
        return (f"删除重复记录（{cols}）", f"remove the duplicate records ({cols.replace('、', ', ')})")
    if exp == "expect_column_values_to_match_regex":
        if col in _CODE_ACTIONS:
            return _CODE_ACTIONS[col]
        return f"按约定格式填写 {col}（见规则）", f"write {col} in the agreed format (see the rule)"
    return "按规则改正后重新发送", "correct the data as the rule says and resend"


# -- the problem rows -----------------------------------------------------------------------

_GEOMETRY_FACTS = {"geom_valid": "几何 geometry", "geom_empty": "几何 geometry", "geom_type": "几何 geometry",
                   "within_boundary": "几何 geometry", "area_m2": "面积 area"}


def _column_cell(check: dict[str, Any]) -> str:
    """The delivered column a check concerns; layer-wide facts (CRS, extent …) name no column."""
    col = check.get("column")
    if not col or check.get("frame") in {"dataset", "raster"}:
        return "—"
    return _GEOMETRY_FACTS.get(str(col), _text(col))


def _where_rows(check: dict[str, Any]) -> str:
    """Count and offending feature ids / values of a check, e.g. ``1 / 2 要素 · fid 1（HDX 第四纪）``."""
    frame = check.get("frame") or ""
    col = check.get("column")
    examples = list(check.get("examples") or [])
    if frame in {"dataset", "raster"}:  # one row per layer: the value itself is the finding
        whole = "整个图层 whole layer" if frame == "dataset" else "整个栅格 whole raster"
        observed = examples[0] if examples else check.get("observed")
        if (observed is not None and not isinstance(observed, (dict, list, bool))
                and check.get("expectation") != "expect_column_to_exist"):
            return f"{whole} · 实际值 value {_num(observed)}"
        return whole
    bits: list[str] = []
    count, total = check.get("unexpected_count"), check.get("element_count")
    unit = {"features": "要素 features", "table": "行 rows"}.get(frame, "")
    if count is not None and total:
        bits.append(f"{_num(count)} / {_num(total)} {unit}".strip())
    shown: list[str] = []
    for ex in examples[:MAX_EXAMPLES]:
        if isinstance(ex, dict):
            fid = ex.get("fid")
            vals = [] if col in _GEOMETRY_FACTS else [
                f"{k} {_text(v) or '空 empty'}" for k, v in ex.items() if k != "fid"]
            text = "，".join(vals)
            if fid is not None:
                text = f"fid {_num(fid)}" + (f"（{text}）" if text else "")
            shown.append(text)
        else:
            shown.append(_text(ex) if ex is not None and ex != "" else "空 empty")
    if shown:
        more = " …" if count is not None and count > len(shown) else ""
        sep = "、" if all(x.startswith("fid ") and "（" not in x for x in shown) else "；"
        if sep == "、":
            shown = [shown[0]] + [x.removeprefix("fid ") for x in shown[1:]]
        bits.append(("" if frame == "features" else "例 e.g. ") + sep.join(shown) + more)
    return " · ".join(bits)


def problems(report: dict[str, Any] | None, *, severity: str = "critical") -> list[dict[str, str]]:
    """The failed checks of a report as plain-text rows: ``file``, ``part`` (layer), ``column``,
    ``rows`` (count and feature ids / values), ``rule``, ``action_zh``, ``action_en``.

    ``severity="critical"`` gives the problems that failed the delivery, ``"warning"`` the warnings.
    Report lines that are not checks (the CRS diagnosis of a layer without ``.prj``) come last.
    """
    checks = list((report or {}).get("checks") or [])
    critical = [c for c in checks if not c.get("success") and c.get("severity", "critical") == "critical" and not c.get("repeats")]
    chosen = critical if severity == "critical" else [
        c for c in checks if not c.get("success") and c.get("severity", "critical") != "critical"]
    out = []
    for c in chosen:
        zh, en = action_for(c)
        rule = _text(c.get("rule") or c.get("expectation"))
        if c.get("error") and c.get("expectation") != "readable":
            rule += f"（检查未能运行 check could not run: {_text(c['error'])[:160]}）"
        elif c.get("expectation") == "readable" and c.get("error"):
            rule += f"：{_text(c['error'])[:200]}"
        out.append({"file": _text(c.get("file")), "part": _text(c.get("part")) or "—", "column": _column_cell(c),
                    "rows": _where_rows(c), "rule": rule, "action_zh": zh, "action_en": en})
    if severity == "critical":
        for line in list((report or {}).get("failures") or [])[len(critical):]:
            line = _strip_label(line)
            zh, en = (("附上 .prj 文件（CGCS2000）后重新发送", "include the .prj file (CGCS2000) and resend")
                      if "no coordinate system" in line else
                      ("换上正确的 .prj 后重新发送，或交付时用 --crs 注明坐标系", "resend with the right .prj, or name the CRS at delivery (--crs)")
                      if "the .prj says" in line else ("见说明", "see the note"))
            file = line.split(":", 1)[0] if ":" in line else ""
            out.append({"file": _text(file), "part": "—", "column": "—", "rows": "",
                        "rule": _text(line.split(":", 1)[1].strip() if ":" in line else line),
                        "action_zh": zh, "action_en": en})
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# -- standardisation ------------------------------------------------------------------------

def _encoding_text(enc: str | None, *, converted: bool = True) -> str:
    if not enc:
        return ""
    e = enc.lower()
    if e == "utf-8-sig":
        return "UTF-8（带 BOM with BOM）"
    if e in {"utf-8", "utf8"}:
        return "UTF-8"
    if e in {"gbk", "gb2312", "gb18030", "cp936"} and converted:
        return f"{enc}（已转为 UTF-8 converted to UTF-8）"
    return enc


def _standard_lines(standard: dict[str, Any]) -> list[str]:
    lines = []
    for name, p in (standard.get("parts") or {}).items():
        files = _text(p.get("source_files") or [])
        kind = p.get("kind")
        head = f"- **{_text(name)}**（{files}）："
        bits: list[str] = []
        if p.get("encoding"):
            bits.append(f"编码 encoding {_encoding_text(p.get('encoding'))}")
        if kind in {"vector", "raster"}:
            src, dst = p.get("source_crs") or "none", p.get("target_crs") or "EPSG:4525"
            trans = str(p.get("transformation") or "")
            if trans.startswith("none") or (src == dst and kind == "vector"):
                bits.append(f"坐标系 CRS 已是 already {_text(dst)}，未转换 not transformed")
            else:
                bits.append(f"坐标系 CRS {_text(src)} → {_text(dst)}" + (f"（{_text(trans)}）" if trans else ""))
        if kind == "vector":
            repaired = int(p.get("repaired_after_projection") or 0) + int(p.get("repaired") or 0)
            bits.append(f"投影后修复几何 geometries repaired after projection: {_num(repaired)}")
            bits.append(f"转为 GeoParquet converted to GeoParquet，{_num(p.get('rows'))} 个要素 features")
        elif kind == "raster":
            bits.append(f"转为 {p.get('format') or 'COG GeoTIFF'} converted, 原分辨率 native resolution")
        elif kind == "table":
            bits.append(f"表格转为 Parquet table converted to Parquet，{_num(p.get('rows'))} 行 rows")
        elif kind == "document":
            doc = [str(p.get("format") or "").upper() or "文档 document"]
            if p.get("pages"):
                doc.append(f"{_num(p['pages'])} 页 pages")
            if p.get("paragraphs"):
                doc.append(f"{_num(p['paragraphs'])} 段 paragraphs")
            if p.get("title"):
                doc.append(f"标题 title「{_text(p['title'])}」")
            bits.append("文档存档 document kept as delivered: " + "，".join(doc))
        if p.get("note"):
            bits.append(f"说明 note: {_text(p['note'])}")
        lines.append(head + "；".join(bits))
    return lines


# -- the receipt ----------------------------------------------------------------------------

def render_receipt(report: dict[str, Any] | None, delivery: Delivery, catalog: Catalog, *,
                   standard: dict[str, Any] | None = None) -> str:
    """The receipt of one delivery as Markdown (Chinese first, then English).

    Args:
        report: the validation report of :func:`erenhot.acceptance.accept_delivery` (``None``: the
            delivery has not been validated yet; the receipt then says it was received).
        standard: the standard manifest (``standard/<id>/<version>/manifest.json``) when the report
            only holds its path; :func:`write_receipt` reads it from the storage.
    """
    ds = catalog.dataset(delivery.dataset_id)
    dept = catalog.department(delivery.department_seq)
    if standard is None and report is not None and isinstance(report.get("standard"), dict):
        standard = report["standard"]
    state = (report or {}).get("state")
    checks = list((report or {}).get("checks") or [])
    failed = [c for c in checks if not c.get("success") and c.get("severity", "critical") == "critical"]

    if ds.parent:
        parent = catalog.dataset(ds.parent)
        item = (f"资料第 {ds.seed_item} 项（{parent.name_zh}）下的补充资料 · "
                f"added under seed item {ds.seed_item} (catch-all)")
    else:
        item = f"资料第 {ds.seed_item} 项 · seed item {ds.seed_item}"
    if state == "validated":
        verdict = "**通过 Accepted**"
    elif state == "failed":
        verdict = "**未通过 Not accepted**"
    else:
        verdict = "**已接收，待验收 Received, not checked yet**"
    n_checks = len([c for c in checks if c.get("expectation") != "suite_exists"])  # "no suite yet" is not a check
    if state == "failed":
        n_bad = len(failed)
        detail = f"{n_checks} 项检查中 {n_bad} 项未通过 · {n_bad} of {n_checks} checks failed"
    elif state == "validated" and n_checks:
        detail = f"{n_checks} 项检查全部通过 · all {n_checks} checks passed"
    elif state == "validated":
        detail = "已接收存档；本资料暂无自动检查 · stored; no automatic checks for this dataset yet"
    else:
        detail = ""

    out = [f"# 数据验收回执 · Delivery receipt — {ds.id}", ""]
    out += _table(["项目 Item", "内容 Value"], [
        ["部门 Department", f"{dept.seq} {_text(dept.short_zh)} · {_text(dept.name_en)}"],
        ["资料 Dataset", f"{ds.id} {_text(ds.name_zh)} · {_text(ds.name_en)}"],
        ["清单条目 Seed item", item],
        ["版本 Version", f"`{delivery.version}`"],
        ["交付 Delivered", f"{_when(delivery.delivered_at)} · {_text(delivery.delivered_by)}"
         + (f" · 来源 from {_text(getattr(delivery, 'source', ''))}" if getattr(delivery, "source", "") else "")],
        ["验收 Checked", _when((report or {}).get("checked_at")) or "—"],
        ["结论 Result", verdict + (f" — {detail}" if detail else "")],
    ])
    out += ["", "## 交付文件 Files", ""]
    out += _table(["文件 File", "大小 Size", "SHA-256（前 12 位 first 12）"],
                  [[_text(f.name), _size(f.size), f"`{f.sha256[:12]}`"] for f in delivery.files])

    out += ["", "## 标准化 Standardisation", ""]
    if state == "validated" and standard and standard.get("parts"):
        out += _standard_lines(standard)
        out.append(f"- 标准数据 Standard data: `standard/{ds.id}/{delivery.version}/`")
    elif state == "validated":
        out.append("- 无需标准化（文档等原样存档）· nothing to standardise (documents are kept as delivered)")
    elif state == "failed":
        out.append("- 未标准化：交付未通过验收，文件原样保存在隔离区，供核对 · "
                   "not standardised: the delivery failed, its files are kept unchanged in quarantine")
        for name, p in ((report or {}).get("parts") or {}).items():  # as read, when the report records it
            bits = [f"编码 encoding {_encoding_text(p['encoding'], converted=False)}"] if p.get("encoding") else []
            if p.get("source_crs"):
                bits.append(f"坐标系 CRS {_text(p['source_crs'])}")
            if bits:
                files = _text(p.get("files") or p.get("source_files") or [])
                out.append(f"- 读取 read **{_text(name)}**" + (f"（{files}）" if files else "") + "：" + "；".join(bits))
    else:
        out.append("- 验收后进行 · after the check")

    notes = [c for c in checks if c.get("success") and c.get("severity") == "warning" and c.get("expectation") == "suite_exists"]
    if notes and state == "validated":
        out.append("- 说明 Note: 本资料尚无自动检查规则，已存档未深入检查 · no automatic checks for this dataset yet: "
                   "stored, not checked in depth")

    if state == "failed":
        out += ["", "## 问题 Problems", ""]
        out += _table(["#", "文件 File", "图层 Layer", "字段 Column", "行/要素 Rows/features", "规则 Rule", "处理 What to do"],
                      [[str(i), p["file"], p["part"], p["column"], p["rows"], p["rule"], f"{p['action_zh']}；{p['action_en']}"]
                       for i, p in enumerate(problems(report), 1)])
        out += ["", "请改正上述问题后重新发送全部文件；此前通过验收的版本（如有）继续使用。",
                "Please correct the problems above and resend all files; an earlier accepted version, if any, stays in use."]
    warned = problems(report, severity="warning")
    if warned:
        out += ["", "## 提示 Warnings（不影响通过 do not block acceptance）", ""]
        out += _table(["文件 File", "图层 Layer", "字段 Column", "行/要素 Rows/features", "规则 Rule", "建议 Suggestion"],
                      [[p["file"], p["part"], p["column"], p["rows"], p["rule"], f"{p['action_zh']}；{p['action_en']}"]
                       for p in warned])
    return "\n".join(out).rstrip() + "\n"


def _standard_manifest(storage: Storage, report: dict[str, Any] | None) -> dict[str, Any] | None:
    path = (report or {}).get("standard")
    if isinstance(path, str) and path:
        try:
            return storage.read_json(path)
        except (StorageError, ValueError):
            return None
    return path if isinstance(path, dict) else None


def write_receipt(storage: Storage, report: dict[str, Any] | None, delivery: Delivery, catalog: Catalog) -> str:
    """Render the receipt of a delivery and store it atomically beside its report; returns its path.

    Deterministic (no time stamp of its own), so writing it again after each validation is harmless.
    """
    text = render_receipt(report, delivery, catalog, standard=_standard_manifest(storage, report))
    path = receipt_path(delivery.dataset_id, delivery.version)
    storage.write_bytes(path, text.encode("utf-8"))
    return path


def receipt_for(storage: Storage, catalog: Catalog, dataset_id: str, version: str | None = None) -> str | None:
    """The receipt text of a delivery (default: the newest), for ``erenhot status DEPT DATASET``.

    Rendered from the stored validation report and kept in step with it: a missing receipt
    (validated before receipts existed) or a stale one (re-validated with ``force``) is (re)written.
    A delivery not validated yet gets a "received, not checked yet" receipt, not stored. ``None``
    when nothing was delivered. ``version`` may be a unique prefix of a version.
    """
    catalog.dataset(dataset_id)
    if version is None:
        delivery = latest_delivery(storage, dataset_id)
        if delivery is None:
            return None
    else:
        known = versions(storage, dataset_id)
        match = [v for v in known if v == version] or [v for v in known if v.startswith(version)]
        if len(match) != 1:
            raise KeyError(f"dataset {dataset_id} has {'no' if not match else 'several'} deliveries "
                           f"matching version {version!r}; known: {', '.join(known) or 'none'}")
        delivery = load_delivery(storage, dataset_id, match[0])
    path = receipt_path(dataset_id, delivery.version)
    report = validation_report(storage, delivery)
    if report is None:
        return storage.read_bytes(path).decode("utf-8") if storage.exists(path) else render_receipt(None, delivery, catalog)
    text = render_receipt(report, delivery, catalog, standard=_standard_manifest(storage, report))
    if not storage.exists(path) or storage.read_bytes(path).decode("utf-8") != text:
        storage.write_bytes(path, text.encode("utf-8"))  # missing, or stale after a forced re-validation
    return text
