"""The readiness board (资料收集进度): for each of the seed's 22 departments, what the seed asks of it,
what has arrived, what passed, what failed and what is missing — so the plan office knows whom to call.

Read from the storage alone (delivery manifests and validation reports through
:func:`erenhot.status.dataset_status`, topic inputs through :func:`erenhot.readiness.check_readiness`),
so it works with or without a Prefect server. Prefect-free; the watcher publishes
:func:`board_table_rows` as a table artifact.

Counting rules (per department):

* ``asked`` — the seed's numbered 资料 items of the department (its catch-all item included) plus the
  concrete datasets added under its catch-all (department 1: 48 + 3); department 19 (财政局) is asked
  for no data and stays on the board with zeros;
* ``arrived`` — datasets with at least one delivery; ``validated`` / ``failed`` / ``pending`` — the
  state of the newest delivery (passed / failed / not checked yet); ``missing`` = asked − arrived;
* ``missing_needed`` — missing datasets that an implemented topic requires; ``call_first`` — every
  required input of an implemented topic that has no accepted version (missing, failed or pending);
  ``blocking_topics`` — implemented topics held up by one of the department's datasets;
* ``due`` — the department's due date (资料收集截止日期, ISO date, Asia/Shanghai) from
  ``erenhot/config/due_dates.yaml`` (its own override, else the plan-wide default; ``due_override``
  says which); ``overdue`` / ``overdue_ids`` — datasets the plan needs (a required input of any topic)
  with no delivery although the due date has passed (:mod:`erenhot.overdue`; a failed delivery has
  arrived and is not overdue); ``days_overdue`` — days since the due date when any is overdue, else 0.
"""

from __future__ import annotations

from typing import Any

from datetime import date

from erenhot.catalog import Catalog, Department
from erenhot.landing import resolve_department
from erenhot.overdue import DueDates, load_due_dates, overdue_rows, plan_today
from erenhot.readiness import check_readiness
from erenhot.receipts import problems, receipt_path
from erenhot.status import dataset_status
from erenhot.storage import Storage

__all__ = ["BOARD_COLUMNS", "board_markdown", "board_table_rows", "department_board", "department_detail",
           "department_markdown"]

#: Column headers of :func:`board_table_rows` (the Prefect table artifact), in order.
BOARD_COLUMNS = ("序号", "部门", "应交", "已到", "通过", "未通过", "待验收", "未交", "截止日期", "逾期未交",
                 "急需催交（课题必需）", "受阻课题", "备注")

STATE_ZH = {"missing": "未交 missing", "delivered": "待验收 pending", "validated": "通过 accepted",
            "failed": "未通过 failed"}
NO_DATA_NOTE = "清单未要求提供资料 the seed asks no data of this department"


def _strip_label(line: str) -> str:
    """A report line without its ``部门 … · <id> <name> · `` prefix."""
    if line.startswith("部门 ") and line.count(" · ") >= 2:
        return line.split(" · ", 2)[2]
    return line


def _topic_needs(catalog: Catalog) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Dataset id → codes of the implemented topics that require / optionally read it."""
    required: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    for t in catalog.topics:
        if not t.implemented:
            continue
        for inp in t.dataset_inputs():
            target = required if inp.required else optional
            target.setdefault(str(inp.dataset), []).append(t.code)
    return required, optional


def _blocked(storage: Storage, catalog: Catalog) -> dict[str, list[str]]:
    """Dataset id → codes of the implemented topics it holds up (a required input without an accepted version)."""
    out: dict[str, list[str]] = {}
    for t in catalog.topics:
        if not t.implemented:
            continue
        for row in check_readiness(storage, catalog, t).missing_required:
            if row["kind"] == "dataset":
                out.setdefault(row["input"], []).append(t.code)
    return out


def _topic_label(catalog: Catalog, code: str) -> str:
    t = catalog.topic(code)
    return f"T{t.seq:02d} {t.short_zh}"


def _overdue_by_dataset(catalog: Catalog, statuses: dict[str, dict[str, Any]], today: date | None,
                        due_dates: DueDates | None) -> tuple[DueDates, dict[str, dict[str, Any]]]:
    """The due dates and dataset id → overdue row (datasets absent from ``statuses`` count as arrived)."""
    dd = due_dates if due_dates is not None else load_due_dates()
    day = today if today is not None else plan_today()
    rows = overdue_rows(catalog, dd, day, lambda i: i not in statuses or statuses[i]["state"] != "missing")
    return dd, {r["dataset"]: r for r in rows}


def _dept_row(catalog: Catalog, dept: Department, statuses: dict[str, dict[str, Any]],
              required: dict[str, list[str]], blocked: dict[str, list[str]],
              due_dates: DueDates, overdue: dict[str, dict[str, Any]]) -> dict[str, Any]:
    datasets = catalog.datasets_of(dept.seq)
    states = {d.id: statuses[d.id]["state"] for d in datasets}
    arrived = [i for i, s in states.items() if s != "missing"]
    missing_ids = [i for i, s in states.items() if s == "missing"]
    call_first = []
    for d in datasets:
        st = statuses[d.id]
        if d.id in required and st["validated_version"] is None:
            topics = list(blocked.get(d.id) or required[d.id])
            call_first.append({"id": d.id, "name_zh": d.name_zh, "state": st["state"], "topics": topics,
                               "topic_labels": [_topic_label(catalog, c) for c in topics]})
    blocking = sorted({code for d in datasets for code in blocked.get(d.id, [])},
                      key=lambda c: catalog.topic(c).seq)
    late = [overdue[d.id] for d in datasets if d.id in overdue]
    return {
        "seq": dept.seq,
        "short_zh": dept.short_zh,
        "name_zh": dept.name_zh,
        "name_en": dept.name_en,
        "slug": dept.slug,
        "asked": len(datasets),
        "asked_numbered": sum(1 for d in datasets if d.is_numbered),
        "asked_added": sum(1 for d in datasets if not d.is_numbered),
        "arrived": len(arrived),
        "validated": sum(1 for s in states.values() if s == "validated"),
        "failed": sum(1 for s in states.values() if s == "failed"),
        "pending": sum(1 for s in states.values() if s == "delivered"),
        "missing": len(datasets) - len(arrived),
        "usable": sum(1 for d in datasets if statuses[d.id]["validated_version"] is not None),
        "missing_ids": missing_ids,
        "failed_ids": [i for i, s in states.items() if s == "failed"],
        "pending_ids": [i for i, s in states.items() if s == "delivered"],
        "missing_needed": [i for i in missing_ids if i in required],
        "call_first": call_first,
        "blocking_topics": blocking,
        "blocking_topic_labels": [_topic_label(catalog, c) for c in blocking],
        "due": due_dates.due(dept.seq).isoformat(),
        "due_override": dept.seq in due_dates.overrides,
        "overdue": len(late),
        "overdue_ids": [r["dataset"] for r in late],
        "days_overdue": max((r["days_overdue"] for r in late), default=0),
        "note": NO_DATA_NOTE if not datasets else "",
    }


def department_board(storage: Storage, catalog: Catalog, today: date | None = None, *,
                     due_dates: DueDates | None = None) -> list[dict[str, Any]]:
    """One row per department (all of them, seed order) — see the module docstring for the counts.

    ``today`` (Asia/Shanghai calendar, default the current day) and ``due_dates`` (default
    :func:`erenhot.overdue.load_due_dates`) decide what is overdue. Raises
    :class:`erenhot.overdue.DueDateError` when the due-date file is malformed.
    """
    statuses = {d.id: dataset_status(storage, catalog, d.id) for d in catalog.datasets}
    required, _ = _topic_needs(catalog)
    blocked = _blocked(storage, catalog)
    dd, overdue = _overdue_by_dataset(catalog, statuses, today, due_dates)
    return [_dept_row(catalog, dept, statuses, required, blocked, dd, overdue) for dept in catalog.departments]


def _find_department(catalog: Catalog, dept: str | int | Department) -> Department:
    if isinstance(dept, Department):
        return dept
    try:
        return catalog.department(dept)
    except KeyError:
        return resolve_department(catalog, dept)  # raises DeliveryError listing the known ones


def department_detail(storage: Storage, catalog: Catalog, dept: str | int | Department, today: date | None = None,
                      *, due_dates: DueDates | None = None) -> dict[str, Any]:
    """Every dataset of one department with its state, versions, failure lines and receipt path.

    ``dept``: seq (``17``), slug (``meteorology``) or Chinese name (``气象局``). The result is the
    department's board row plus ``role_zh``, ``role_en``, ``due_note`` and ``datasets`` (seed order;
    each with ``days_overdue``, ``None`` unless overdue). ``today``/``due_dates`` as in :func:`department_board`.
    """
    d = _find_department(catalog, dept)
    required, optional = _topic_needs(catalog)
    blocked = _blocked(storage, catalog)
    statuses = {ds.id: dataset_status(storage, catalog, ds.id) for ds in catalog.datasets_of(d.seq)}
    dd, overdue = _overdue_by_dataset(catalog, statuses, today, due_dates)
    row = _dept_row(catalog, d, statuses, required, blocked, dd, overdue)
    items = []
    for ds in catalog.datasets_of(d.seq):
        st = statuses[ds.id]
        receipt = receipt_path(ds.id, st["version"]) if st["version"] else None
        report = storage.read_json(st["report"]) if st.get("report") and storage.exists(st["report"]) else None
        note = ""
        if ds.catch_all:
            children = catalog.children_of(ds.id)
            note = ("兜底项：按工作需要补充的资料" + (f"，其下已列 {len(children)} 项 "
                    f"({', '.join(c.id for c in children)})" if children else "")
                    + " · catch-all item: other materials as the work requires")
        items.append({
            "id": ds.id,
            "seed_item": ds.seed_item,
            "name_zh": ds.name_zh,
            "name_en": ds.name_en,
            "kind": ds.kind,
            "catch_all": ds.catch_all,
            "parent": ds.parent,
            "contract_files": list((ds.delivery or {}).get("files") or []),
            "state": st["state"],
            "version": st["version"],
            "validated_version": st["validated_version"],
            "delivered_at": st.get("delivered_at"),
            "files": st.get("files", []),
            "failures": [_strip_label(x) for x in st.get("failures", [])],
            "problems": problems(report) if report is not None else [],
            "report": st.get("report"),
            "receipt": receipt if receipt and storage.exists(receipt) else None,
            "required_by": required.get(ds.id, []),
            "optional_for": optional.get(ds.id, []),
            "blocking": blocked.get(ds.id, []),
            "days_overdue": overdue[ds.id]["days_overdue"] if ds.id in overdue else None,
            "note": note,
        })
    return {**row, "role_zh": d.role_zh, "role_en": d.role_en, "due_note": dd.notes.get(d.seq, ""), "datasets": items}


# -- presentation ---------------------------------------------------------------------------

def _ids(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "")


def _overdue_cell(r: dict[str, Any]) -> str:
    """``3 项（逾期 5 天）: 01-03, 01-04, 01-28`` or ``""``."""
    if not r["overdue"]:
        return ""
    return f"{r['overdue']} 项（逾期 {r['days_overdue']} 天）: {_ids(r['overdue_ids'])}"


def board_table_rows(board: list[dict[str, Any]], *, totals: bool = True) -> list[dict[str, Any]]:
    """Flat rows with Chinese headers (:data:`BOARD_COLUMNS`) for a Prefect table artifact or a CLI table.

    ``totals`` appends a 合计 row.
    """
    rows = []
    for r in board:
        urgent = [f"{c['id']}（{STATE_ZH.get(c['state'], c['state']).split(' ')[0]}）" for c in r["call_first"]]
        rows.append({
            "序号": r["seq"], "部门": r["short_zh"], "应交": r["asked"], "已到": r["arrived"],
            "通过": r["validated"], "未通过": r["failed"], "待验收": r["pending"], "未交": r["missing"],
            "截止日期": r["due"], "逾期未交": _overdue_cell(r),
            "急需催交（课题必需）": "、".join(urgent), "受阻课题": "、".join(r["blocking_topic_labels"]),
            "备注": r["note"].split(" ")[0] if r["note"] else "",
        })
    if totals:
        rows.append({
            "序号": "合计", "部门": f"{len(board)} 个部门",
            **{k: sum(int(row[k]) for row in rows) for k in ("应交", "已到", "通过", "未通过", "待验收", "未交")},
            "截止日期": "", "逾期未交": f"{sum(r['overdue'] for r in board)} 项",
            "急需催交（课题必需）": f"{sum(len(r['call_first']) for r in board)} 项",
            "受阻课题": "、".join(sorted({t for r in board for t in r["blocking_topic_labels"]})),
            "备注": "",
        })
    return rows


def _md_cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def board_markdown(board: list[dict[str, Any]]) -> str:
    """The board as a Markdown table (for a Markdown artifact or a report)."""
    rows = board_table_rows(board)
    lines = ["## 资料收集进度 Readiness of the departments", "",
             "| " + " | ".join(BOARD_COLUMNS) + " |", "|" + "|".join("---" for _ in BOARD_COLUMNS) + "|"]
    lines += ["| " + " | ".join(_md_cell(r[c]) for c in BOARD_COLUMNS) + " |" for r in rows]
    lines += ["", ("应交 asked = 清单编号项 numbered seed items + 兜底项下补充 datasets added under catch-alls; "
                   "未交 missing = 应交 − 已到 arrived; 急需催交 = 已实现课题必需、尚无通过版本 required by an "
                   "implemented topic and without an accepted version; 逾期未交 overdue = 课题必需的资料截止日期后仍未交 "
                   "needed by a topic and not delivered after the department's due date (截止日期, Asia/Shanghai).")]
    return "\n".join(lines) + "\n"


def department_markdown(detail: dict[str, Any]) -> str:
    """One department's datasets as Markdown (for ``erenhot status DEPT``)."""
    d = detail
    lines = [f"## {d['seq']} {d['short_zh']} · {d['name_en']}", ""]
    if not d["datasets"]:
        lines.append(f"{NO_DATA_NOTE}. {d['role_zh']}")
        return "\n".join(lines) + "\n"
    lines.append(f"应交 asked {d['asked']}（清单 numbered {d['asked_numbered']} + 补充 added {d['asked_added']}）· "
                 f"已到 arrived {d['arrived']} · 通过 accepted {d['validated']} · 未通过 failed {d['failed']} · "
                 f"待验收 pending {d['pending']} · 未交 missing {d['missing']}")
    lines.append("")
    lines.append(f"截止日期 due {d['due']}" + ("（本部门另定 own date" + (f": {d['due_note']}" if d.get("due_note") else "")
                                              + "）" if d["due_override"] else "")
                 + (f" · **逾期未交 overdue {d['overdue']}**（{d['days_overdue']} 天 days）: {', '.join(d['overdue_ids'])}"
                    if d["overdue"] else ""))
    if d["call_first"]:
        lines.append("")
        lines.append("**急需催交 call first**（已实现课题必需 required by implemented topics）: "
                     + "；".join(f"{c['id']} {c['name_zh']} — {STATE_ZH.get(c['state'], c['state'])} → "
                                 f"{'、'.join(c['topic_labels'])}" for c in d["call_first"]))
    lines += ["", "| 资料 Dataset | 第几项 Item | 名称 Name | 状态 State | 版本 Version | 问题 Problems |",
              "|---|---|---|---|---|---|"]
    for it in d["datasets"]:
        state = STATE_ZH.get(it["state"], it["state"])
        if it["state"] != "validated" and it["validated_version"]:
            state += f"（在用 in use: {it['validated_version']}）"
        if it.get("days_overdue"):
            state += f"（逾期 overdue {it['days_overdue']} 天）"
        found = it["problems"]
        text = ""
        if found:
            todo = list(dict.fromkeys(
                f"{p['file']}" + (f" {p['column']}" if p["column"] not in ("", "—") else "") + f" → {p['action_zh']}"
                for p in found))
            text = f"{len(found)} 项问题 problems: " + "；".join(todo[:3]) + (" …" if len(todo) > 3 else "") \
                + "（见回执 see the receipt）"
        elif it["failures"]:
            text = "; ".join(it["failures"][:3])
        if it["note"] and not text:
            text = it["note"]
        name = it["name_zh"] if len(it["name_zh"]) <= 40 else it["name_zh"][:39] + "…"
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            it["id"], it["seed_item"], name, state, it["version"] or "", text)) + " |")
    lines += ["", "回执 receipt: `erenhot status " + str(d["seq"]) + " <资料 id>`"]
    return "\n".join(lines) + "\n"

