"""Topic reports (研究课题报告) as Markdown and standalone HTML.

A topic composes a :class:`ReportInput` — titles, run key, the exact inputs used (dataset or layer
ids, versions, sha256), the configuration values applied (with source and confidence) and the
sections with text, tables and figures — and renders it with :func:`render_markdown` and
:func:`render_html` (or both via :func:`render_report`). The bytes are written to
``products/<topic>/<run_key>/report.md|.html`` by the caller; figures are referenced by paths
relative to the report (e.g. ``maps/suitability.png``).

Configuration entries whose ``confidence`` is ``L`` (values recalled or extracted from
uncertain sources, see the evaluation spec's [H]/[M]/[L] markers) are flagged visibly in both
outputs, so reviewers see which results rest on values still to be verified.

Pipe tables are formatted here (no ``tabulate`` dependency); HTML uses the ``markdown`` package
with the ``tables``, ``toc`` and ``fenced_code`` extensions.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import markdown
import numpy as np
import pandas as pd
from markdown.extensions.toc import slugify_unicode

__all__ = [
    "L_FLAG",
    "ReportInput",
    "Section",
    "code_block",
    "markdown_table",
    "render_html",
    "render_markdown",
    "render_report",
]

L_FLAG: Final[str] = "⚠ L：不确定，可配置 (uncertain, configurable)"
"""Marker shown next to every configuration value of confidence L."""

_MISSING: Final[str] = "—"
_MAX_VALUE_CHARS: Final[int] = 120
_INPUT_ID_KEYS: Final[tuple[str, ...]] = ("dataset_id", "layer_id", "dataset", "layer", "id")
_INPUT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("name_zh", "名称"),
    ("department", "提供部门"),
    ("version", "版本"),
    ("sha256", "SHA-256"),
    ("state", "状态"),
)
_CONFIG_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("path", "参数"),
    ("value", "取值"),
    ("unit", "单位"),
    ("source", "来源"),
    ("confidence", "可信度"),
)


@dataclass(frozen=True, eq=False)
class Section:
    """One chapter of a report.

    Attributes:
        heading: section heading (rendered as a level-2 heading).
        paragraphs: Markdown paragraphs, in order.
        tables: ``(caption, DataFrame)`` pairs, numbered 表 1, 表 2 … across the report.
        figures: ``(caption, relative image path)`` pairs, numbered 图 1, 图 2 ….
        notes: remarks rendered as a 注 block quote at the end of the section.

    Equality is identity (DataFrames have no boolean equality).
    """

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class ReportInput:
    """Everything a topic report shows.

    Attributes:
        title_zh: Chinese title, e.g. ``"资源环境承载能力评价"``.
        title_en: English title.
        topic_code: topic code, e.g. ``"t02"``.
        run_key: the product version / run key (``products/<topic>/<run_key>/``).
        generated_at: ISO-8601 timestamp (UTC recommended).
        inputs: one dict per input used: an id (``dataset_id``/``layer_id``/``dataset``/
            ``layer``/``id``), ``name_zh``, ``department``, ``version``, ``sha256``, ``state``;
            further keys become extra columns.
        config_entries: one dict per configuration value applied: ``path`` (dotted key in the
            topic's config file), ``value``, ``unit``, ``source``, ``confidence`` (H/M/L).
        sections: the report body.
    """

    title_zh: str
    title_en: str
    topic_code: str
    run_key: str
    generated_at: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    config_entries: list[dict[str, Any]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# pipe tables
# ---------------------------------------------------------------------------------------
def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def _escape_cell(text: str) -> str:
    """Make text safe inside a pipe-table cell (pipes escaped, line breaks as <br>)."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return re.sub(r"\r\n|\r|\n", "<br>", text.strip())


def _format_cell(value: Any, digits: int) -> str:
    """Cell text: — for missing, 是/否 for booleans, fixed decimals for floats, JSON for
    lists/dicts (truncated), ISO for dates."""
    if isinstance(value, Mapping | list | tuple | set | np.ndarray):
        if isinstance(value, np.ndarray | set):
            value = sorted(value) if isinstance(value, set) else value.tolist()
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
        if len(text) > _MAX_VALUE_CHARS:
            text = text[: _MAX_VALUE_CHARS - 1] + "…"
        return _escape_cell(text)
    if _is_missing(value):
        return _MISSING
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        return f"{float(value):.{digits}f}"
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return _escape_cell(str(value))


def markdown_table(
    df: pd.DataFrame,
    digits: int | Mapping[str, int] = 2,
    index: bool | None = None,
) -> str:
    """Format a DataFrame as a GitHub/Python-Markdown pipe table.

    Args:
        df: the table; column labels become the header (MultiIndex levels joined by " / ").
        digits: decimals of float cells, for all columns or per column name (default 2).
        index: include the index as the first column; by default only when it is not a plain
            ``RangeIndex``.

    Returns:
        The table text without a trailing newline; numeric columns are right-aligned, missing
        values shown as "—", booleans as 是/否, ``|`` escaped. An empty frame gives
        ``*（无数据）*``.
    """
    frame = df
    if index is None:
        index = not isinstance(df.index, pd.RangeIndex) or df.index.name is not None
    if index:
        frame = df.reset_index()
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        return "*（无数据）*"

    def header(label: Any) -> str:
        text = " / ".join(str(p) for p in label) if isinstance(label, tuple) else str(label)
        return _escape_cell(text) or " "

    def decimals(label: Any) -> int:
        if isinstance(digits, Mapping):
            return int(digits.get(str(label), 2))
        return int(digits)

    headers = [header(c) for c in frame.columns]
    aligns = [
        "---:"
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        else "---"
        for c in frame.columns
    ]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(aligns) + " |"]
    column_digits = [decimals(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        cells = [_format_cell(v, d) for v, d in zip(row, column_digits, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------
def code_block(lines: Sequence[str], lang: str = "text") -> str:
    """A fenced code block of ``lines`` (e.g. a lineage tree), usable as a :class:`Section` paragraph.

    The fence is one backtick longer than any run of backticks in the text, so arbitrary text
    (names, delivering persons) cannot close it early; :func:`render_html` renders it as a
    ``<pre><code>`` block with the text escaped and whitespace kept.
    """
    body = "\n".join(str(line).rstrip() for line in lines)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def _confidence(value: Any) -> str:
    if _is_missing(value) or str(value).strip() == "":
        return _MISSING
    level = str(value).strip().upper()
    return f"**{L_FLAG}**" if level == "L" else level


def _input_id(entry: Mapping[str, Any]) -> Any:
    return next((entry[k] for k in _INPUT_ID_KEYS if k in entry), None)


def _inputs_frame(inputs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    known = set(_INPUT_ID_KEYS) | {k for k, _ in _INPUT_COLUMNS}
    extras = [k for entry in inputs for k in entry if k not in known]
    extras = list(dict.fromkeys(extras))
    rows = []
    for entry in inputs:
        row: dict[str, Any] = {"资料/图层": _input_id(entry)}
        for key, label in _INPUT_COLUMNS:
            value = entry.get(key)
            if key == "sha256" and isinstance(value, str) and len(value) > 12:
                value = f"`{value[:12]}…`"
            row[label] = value
        row.update({key: entry.get(key) for key in extras})
        rows.append(row)
    return pd.DataFrame(rows, dtype=object)


def _config_frame(entries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for entry in entries:
        row = {label: entry.get(key) for key, label in _CONFIG_COLUMNS}
        value = row["取值"]
        if isinstance(value, float | np.floating) and math.isfinite(value):
            row["取值"] = repr(float(value))  # exactly as configured, no rounding
        path = row["参数"]
        row["参数"] = f"`{path}`" if path else path
        row["可信度"] = _confidence(entry.get("confidence"))
        rows.append(row)
    return pd.DataFrame(rows, columns=[label for _, label in _CONFIG_COLUMNS], dtype=object)


def _image_target(path: str) -> str:
    return path.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def render_markdown(report: ReportInput) -> str:
    """Render a report as Markdown (UTF-8 text, pipe tables, relative image links).

    Layout: title and a metadata table (topic, run key, generated time, inputs/settings
    counts); a warning line when any configuration value has confidence L; the sections in
    order (paragraphs, numbered tables 表 n, figures ``![caption](path)`` with 图 n captions,
    notes as a 注 quote); then 输入数据 (inputs) and 参数配置 (configuration) appendices,
    where L values carry :data:`L_FLAG`.
    """
    low = [e for e in report.config_entries if str(e.get("confidence", "")).strip().upper() == "L"]
    out: list[str] = [f"# {report.title_zh}", "", f"**{report.title_en}**", ""]
    meta = pd.DataFrame(
        [
            ("研究课题 Topic", f"`{report.topic_code}`"),
            ("运行编号 Run key", f"`{report.run_key}`"),
            ("生成时间 Generated", report.generated_at),
            ("输入数据 Inputs", str(len(report.inputs))),
            ("参数配置 Settings", f"{len(report.config_entries)}（其中 L 级 {len(low)} 项）"),
        ],
        columns=["项目 Item", "内容 Value"],
    )
    out += [markdown_table(meta), ""]
    if low:
        out += [
            f"> **⚠ 注意：** 本报告使用了 {len(low)} 项可信度为 L 的参数（来源不确定、可配置），"
            "结果需在核实后复算；见“参数配置”。 "
            f"({len(low)} setting(s) of confidence L: uncertain, configurable.)",
            "",
        ]

    table_no = figure_no = 0
    for section in report.sections:
        out += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            out += [paragraph.strip(), ""]
        for caption, frame in section.tables:
            table_no += 1
            out += [f"**表 {table_no}　{caption}**", "", markdown_table(frame), ""]
        for caption, path in section.figures:
            figure_no += 1
            alt = caption.replace("[", "（").replace("]", "）")
            out += [f"![{alt}]({_image_target(path)})", "", f"*图 {figure_no}　{caption}*", ""]
        if section.notes:
            out += ["> **注：**", ">"]
            out += [f"> {i}. {note.strip()}" for i, note in enumerate(section.notes, start=1)]
            out += [""]

    out += ["## 输入数据 Inputs", ""]
    out += [markdown_table(_inputs_frame(report.inputs), index=False), ""]
    out += ["## 参数配置 Configuration", ""]
    if low:
        out += [f"可信度 H/M/L 见评价规范；标记 **{L_FLAG}** 的参数取值尚待核实。", ""]
    out += [markdown_table(_config_frame(report.config_entries), index=False), ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------
_CSS: Final[str] = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --warn: #b42318; --bg-warn: #fff4e5; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.7; font-size: 15px;
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei",
    "PingFang SC", "Hiragino Sans GB", "WenQuanYi Micro Hei", system-ui, sans-serif;
}
.page { display: flex; gap: 2rem; max-width: 1200px; margin: 0 auto; padding: 1.5rem; }
nav.toc { flex: 0 0 14rem; font-size: 13px; position: sticky; top: 1rem; align-self: flex-start; }
nav.toc ul { list-style: none; padding-left: 0.8rem; margin: 0.2rem 0; }
nav.toc a { color: var(--muted); text-decoration: none; }
main { flex: 1 1 auto; min-width: 0; }
h1 { font-size: 1.8rem; border-bottom: 2px solid var(--ink); padding-bottom: 0.3rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem;
  margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 13.5px; display: block;
  overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.6rem; vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
code { font-family: "Noto Sans Mono CJK SC", ui-monospace, Menlo, Consolas, monospace;
  font-size: 0.9em; background: #f6f8fa; padding: 0 0.2rem; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 0.6rem 0.8rem;
  overflow-x: auto; line-height: 1.45; }
pre code { padding: 0; background: none; white-space: pre; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); }
blockquote { margin: 0.8rem 0; padding: 0.4rem 1rem; border-left: 4px solid #e3b341;
  background: var(--bg-warn); color: var(--ink); }
strong.conf-l { color: var(--warn); white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  max-width: 1200px; margin: 2rem auto 0; padding: 0.5rem 1.5rem 1.5rem; }
@media (max-width: 900px) { .page { display: block; } nav.toc { position: static; } }
@media print { nav.toc { display: none; } .page { display: block; max-width: none; } }
""".strip()


def render_html(markdown_text: str, title: str) -> str:
    """Convert report Markdown to a standalone HTML page.

    Python-Markdown with the ``tables``, ``toc`` (Unicode heading ids) and ``fenced_code``
    (``<pre><code>`` blocks, see :func:`code_block`) extensions; the
    page declares ``<meta charset="utf-8">`` and ``lang="zh-CN"``, embeds its CSS (fonts:
    Noto Sans CJK SC, Microsoft YaHei, PingFang SC …), shows a 目录 sidebar and highlights
    the L-confidence flags. Image paths stay relative to the page.

    Args:
        markdown_text: output of :func:`render_markdown` (or any Markdown).
        title: the ``<title>`` of the page (escaped).
    """
    md = markdown.Markdown(
        extensions=["tables", "toc", "sane_lists", "fenced_code"],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}},
        output_format="html",
    )
    body = md.convert(markdown_text)
    body = body.replace("<strong>⚠", '<strong class="conf-l">⚠')
    toc_html = getattr(md, "toc", "")
    nav = f'<nav class="toc"><strong>目录</strong>{toc_html}</nav>' if "<li" in toc_html else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        f'<div class="page">\n{nav}\n<main>\n{body}\n</main>\n</div>\n'
        '<footer>二连浩特市国土空间总体规划 · 数据处理流程自动生成</footer>\n'
        "</body>\n</html>\n"
    )


def render_report(report: ReportInput) -> tuple[str, str]:
    """``(markdown, html)`` of a report; the HTML title is ``"<title_zh> — <title_en>"``."""
    text = render_markdown(report)
    return text, render_html(text, f"{report.title_zh} — {report.title_en}")
