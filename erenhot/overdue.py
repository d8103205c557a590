"""Overdue data (逾期未交资料): datasets the plan needs that have not arrived by their department's due date.

Prefect-free; read from the storage alone. The due dates come from ``erenhot/config/due_dates.yaml``
(or the file named by ``ERENHOT_DUE_DATES``): a plan-wide ``default`` and per-department overrides
keyed by the department's seq — see the file's header for the format.

Rules:

* **needed** — a dataset that is a *required* input of at least one topic of the catalog (implemented
  or not; optional inputs are not needed: a topic runs without them). Each row says which topics
  require it and which of them are implemented (those are held up by it now).
* **arrived** — the dataset has at least one delivery in ``landing/`` (:func:`erenhot.landing.latest_delivery`),
  whatever its validation says. A delivery that failed validation has arrived but is not accepted:
  it is not overdue (the board shows it as 未通过 failed and the department gets a receipt), so an
  overdue alert is never raised for data that is on the plan office's desk.
* **time** — a due date is the last day (calendar of Asia/Shanghai) on which a delivery is on time;
  a needed dataset without a delivery is overdue from the next day on: ``days_overdue = today − due``
  (≥ 1). ``today`` defaults to the current date in Asia/Shanghai.
* **alerts** — :func:`new_overdue_alerts` records each alert create-only at
  ``alerts/overdue/<dataset>/<due date>.json`` (:meth:`erenhot.storage.Storage.create`), so concurrent
  callers and later windows never alert twice for one due date; a changed due date (an extension) is
  another object and alerts once more if the dataset is still missing after it. Alerting is
  at-most-once: the caller emits the event after the record is created.

Errors: :class:`DueDateError` (a ``ValueError``) names the file and the offending key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from erenhot.catalog import Catalog
from erenhot.landing import latest_delivery
from erenhot.storage import Storage, json_bytes

__all__ = ["ALERTS_PREFIX", "DUE_DATES_ENV", "PLAN_TIMEZONE", "DueDateError", "DueDates", "alert_path",
           "load_due_dates", "needed_datasets", "new_overdue_alerts", "overdue_datasets", "overdue_rows", "plan_today"]

#: The calendar of the plan office; due dates are days in this zone.
PLAN_TIMEZONE = "Asia/Shanghai"
#: Environment variable naming a due-date file that replaces the packaged one.
DUE_DATES_ENV = "ERENHOT_DUE_DATES"
#: Storage prefix of the alert records (``alerts/overdue/<dataset>/<due>.json``).
ALERTS_PREFIX = "alerts/overdue"

_TOP_KEYS = frozenset({"schema_version", "timezone", "source", "default", "departments"})
_OVERRIDE_KEYS = frozenset({"due", "note"})


class DueDateError(ValueError):
    """The due-date file is malformed: the message names the file and the bad key."""


@dataclass(frozen=True)
class DueDates:
    """Due dates (资料收集截止日期) of the departments.

    Attributes:
        default: the plan-wide due date.
        overrides: department seq → its own due date.
        notes: department seq → why it has its own date (may be empty).
        source: the file read (path or package resource), for messages.
        timezone: always ``Asia/Shanghai``.
    """

    default: date
    overrides: dict[int, date] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    source: str = "<memory>"
    timezone: str = PLAN_TIMEZONE

    def due(self, department_seq: int) -> date:
        """The due date of department ``department_seq`` (its override, else the default)."""
        return self.overrides.get(int(department_seq), self.default)

    def check_departments(self, catalog: Catalog) -> None:
        """Raise :class:`DueDateError` when an override names a department the catalog lacks."""
        known = {d.seq for d in catalog.departments}
        for seq in self.overrides:
            if seq not in known:
                raise DueDateError(f"{self.source}: key 'departments.{seq}': no department {seq} in the catalog "
                                   f"(departments are numbered {min(known)}–{max(known)})")


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text and are checked here, key by key."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _as_date(value: Any, source: str, key: str) -> date:
    if isinstance(value, datetime):
        raise DueDateError(f"{source}: key '{key}': {value!r} has a time of day; give an ISO date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise DueDateError(f"{source}: key '{key}': {value!r} is not a calendar date ({exc})") from None
    raise DueDateError(f"{source}: key '{key}': {value!r} is not an ISO date (YYYY-MM-DD)")


def _as_seq(key: Any, source: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and key > 0:
        return key
    if isinstance(key, str) and key.strip().isdigit() and int(key) > 0:
        return int(key)
    raise DueDateError(f"{source}: key 'departments.{key}': overrides are keyed by the department's seq (1–22)")


def parse_due_dates(doc: Any, source: str = "<memory>") -> DueDates:
    """Build :class:`DueDates` from the parsed YAML document ``doc`` (``source`` names it in errors)."""
    if not isinstance(doc, Mapping):
        raise DueDateError(f"{source}: the file must be a mapping with a 'default' due date")
    unknown = sorted(str(k) for k in doc if k not in _TOP_KEYS)
    if unknown:
        raise DueDateError(f"{source}: key '{unknown[0]}': unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    tz = doc.get("timezone", PLAN_TIMEZONE)
    if tz != PLAN_TIMEZONE:
        raise DueDateError(f"{source}: key 'timezone': due dates are days in {PLAN_TIMEZONE}, got {tz!r}")
    if "default" not in doc:
        raise DueDateError(f"{source}: key 'default': missing (the plan-wide due date)")
    default = _as_date(doc["default"], source, "default")
    raw = doc.get("departments") or {}
    if not isinstance(raw, Mapping):
        raise DueDateError(f"{source}: key 'departments': must map department seqs to due dates")
    overrides: dict[int, date] = {}
    notes: dict[int, str] = {}
    for key, value in raw.items():
        seq = _as_seq(key, source)
        where = f"departments.{key}"
        if seq in overrides:
            raise DueDateError(f"{source}: key '{where}': department {seq} is given twice")
        if isinstance(value, Mapping):
            extra = sorted(str(k) for k in value if k not in _OVERRIDE_KEYS)
            if extra:
                raise DueDateError(f"{source}: key '{where}.{extra[0]}': unknown key (allowed: due, note)")
            if "due" not in value:
                raise DueDateError(f"{source}: key '{where}.due': missing")
            overrides[seq] = _as_date(value["due"], source, f"{where}.due")
            if value.get("note"):
                notes[seq] = str(value["note"])
        else:
            overrides[seq] = _as_date(value, source, where)
    return DueDates(default=default, overrides=overrides, notes=notes, source=source)


def load_due_dates(path: str | Path | None = None) -> DueDates:
    """Read the due-date file: ``path``, else ``$ERENHOT_DUE_DATES``, else the packaged
    ``erenhot/config/due_dates.yaml``. Read on every call (no cache), so an edited date counts at the
    next window.

    Raises:
        DueDateError: the file is missing, not YAML, or has a bad key/date (the message names both).
    """
    chosen = path if path is not None else os.environ.get(DUE_DATES_ENV) or None
    if chosen is None:
        resource = resources.files("erenhot.config").joinpath("due_dates.yaml")
        source = "erenhot/config/due_dates.yaml"
        try:
            text = resource.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise DueDateError(f"{source}: file not found") from exc
    else:
        source = str(chosen)
        try:
            text = Path(chosen).read_text(encoding="utf-8")
        except OSError as exc:
            raise DueDateError(f"{source}: cannot read the due-date file: {exc}") from exc
    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DueDateError(f"{source}: invalid YAML: {exc}") from exc
    return parse_due_dates(doc, source)


def plan_today() -> date:
    """Today's date in Asia/Shanghai (the plan office's calendar)."""
    return datetime.now(ZoneInfo(PLAN_TIMEZONE)).date()


def needed_datasets(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    """Dataset id → ``{"topics": [codes requiring it], "implemented": [implemented codes among them]}``,
    for every dataset that is a required input of a topic (catalog order)."""
    out: dict[str, dict[str, list[str]]] = {}
    for t in catalog.topics:
        for inp in t.dataset_inputs(required=True):
            entry = out.setdefault(str(inp.dataset), {"topics": [], "implemented": []})
            if t.code not in entry["topics"]:
                entry["topics"].append(t.code)
                if t.implemented:
                    entry["implemented"].append(t.code)
    order = {d.id: i for i, d in enumerate(catalog.datasets)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def overdue_rows(catalog: Catalog, due_dates: DueDates, today: date,
                 arrived: Callable[[str], bool]) -> list[dict[str, Any]]:
    """The overdue rows given a predicate ``arrived(dataset_id)`` (no storage reads of its own);
    :func:`overdue_datasets` and the readiness board both use it. Shape: see :func:`overdue_datasets`."""
    due_dates.check_departments(catalog)
    rows = []
    for ds_id, need in needed_datasets(catalog).items():
        ds = catalog.dataset(ds_id)
        due = due_dates.due(ds.department_seq)
        if today <= due or arrived(ds_id):
            continue
        dept = catalog.department(ds.department_seq)
        rows.append({
            "dataset": ds.id,
            "name_zh": ds.name_zh,
            "department_seq": dept.seq,
            "department": dept.short_zh,
            "due": due.isoformat(),
            "days_overdue": (today - due).days,
            "topics": list(need["topics"]),
            "implemented_topics": list(need["implemented"]),
            "needed_by_implemented": bool(need["implemented"]),
        })
    return rows


def overdue_datasets(storage: Storage, catalog: Catalog, today: date | None = None, *,
                     due_dates: DueDates | None = None) -> list[dict[str, Any]]:
    """The needed datasets without any delivery whose department's due date has passed.

    Args:
        today: the day to judge on (Asia/Shanghai calendar); default :func:`plan_today`.
        due_dates: default :func:`load_due_dates` (the packaged file or ``$ERENHOT_DUE_DATES``).

    Returns:
        One dict per overdue dataset, catalog order: ``dataset`` (id), ``name_zh``, ``department_seq``,
        ``department`` (short Chinese name), ``due`` (ISO date), ``days_overdue`` (int ≥ 1), ``topics``
        (codes of every topic requiring it), ``implemented_topics`` (the implemented ones among them),
        ``needed_by_implemented`` (bool).

    Raises:
        DueDateError: the due-date file is malformed or overrides an unknown department.
    """
    dd = due_dates if due_dates is not None else load_due_dates()
    day = today if today is not None else plan_today()
    return overdue_rows(catalog, dd, day, lambda ds_id: latest_delivery(storage, ds_id) is not None)


def alert_path(dataset_id: str, due: str | date) -> str:
    """Storage path of the record of the overdue alert of ``dataset_id`` for due date ``due``."""
    return f"{ALERTS_PREFIX}/{dataset_id}/{due if isinstance(due, str) else due.isoformat()}.json"


def new_overdue_alerts(storage: Storage, catalog: Catalog, today: date | None = None, *,
                       due_dates: DueDates | None = None) -> list[dict[str, Any]]:
    """The overdue rows not alerted yet for their due date; records each one so it is never returned again.

    Each row of :func:`overdue_datasets` is claimed by creating ``alerts/overdue/<dataset>/<due>.json``
    create-only (the row plus ``alerted_at``, UTC ISO time, and ``alerted_on``, the Asia/Shanghai
    day). Only the rows this call created are returned, each with ``alert`` (the record's path):
    of two concurrent callers exactly one gets a given row, a later window gets nothing for it, and a
    new due date is a new record (alerted once more). The caller emits the events — if it fails after
    this returned, the alert is not repeated (at most once).

    Raises:
        DueDateError: as :func:`overdue_datasets`.
    """
    day = today if today is not None else plan_today()
    fresh = []
    for row in overdue_datasets(storage, catalog, day, due_dates=due_dates):
        rel = alert_path(row["dataset"], row["due"])
        if storage.exists(rel):  # cheap check first; create() below settles races
            continue
        record = {**row, "alerted_on": day.isoformat(), "alerted_at": datetime.now(UTC).isoformat()}
        if storage.create(rel, json_bytes(record)):
            fresh.append({**record, "alert": rel})
    return fresh
