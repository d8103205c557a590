"""Overdue data: a needed dataset without a delivery after its department's due date is alerted once,
and again once after a changed (extended) due date — never every window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from kit_helpers import run_in_parallel
from test_receipts import STATIONS, deliver, faults

from erenhot.catalog import load_catalog
from erenhot.landing import ingest_bytes
from erenhot.overdue import (
    DUE_DATES_ENV,
    DueDateError,
    DueDates,
    alert_path,
    load_due_dates,
    new_overdue_alerts,
    overdue_datasets,
    parse_due_dates,
)

TODAY = date(2027, 3, 10)


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def needed(cat) -> set[str]:
    """Required inputs of any topic, computed here independently of erenhot.overdue."""
    return {i.dataset for t in cat.topics for i in t.inputs if i.dataset is not None and i.required}


def past(days: int = 5) -> DueDates:
    return DueDates(default=TODAY - timedelta(days=days))


def test_missing_needed_datasets_are_overdue_and_alerted_once(storage, cat):
    due = TODAY - timedelta(days=5)
    rows = overdue_datasets(storage, cat, TODAY, due_dates=past(5))
    assert {r["dataset"] for r in rows} == needed(cat)
    assert all(r["due"] == due.isoformat() and r["days_overdue"] == 5 for r in rows)
    by_id = {r["dataset"]: r for r in rows}
    assert by_id["17-01"]["department_seq"] == 17 and by_id["17-01"]["department"] == cat.department(17).short_zh
    assert by_id["17-01"]["name_zh"] == cat.dataset("17-01").name_zh
    implemented = {t.code for t in cat.topics if t.implemented}
    for r in rows:
        requiring = [t.code for t in cat.topics if any(i.dataset == r["dataset"] and i.required for i in t.inputs)]
        assert r["topics"] == requiring
        assert r["implemented_topics"] == [c for c in requiring if c in implemented]
        assert r["needed_by_implemented"] == bool(r["implemented_topics"])
    assert by_id["01-04"]["implemented_topics"] == ["t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13", "t14", "t15"]

    first = new_overdue_alerts(storage, cat, TODAY, due_dates=past(5))
    assert sorted(r["dataset"] for r in first) == sorted(by_id)
    for r in first:
        assert r["alert"] == alert_path(r["dataset"], due) == f"alerts/overdue/{r['dataset']}/{due.isoformat()}.json"
        assert storage.exists(r["alert"]) and storage.read_json(r["alert"])["dataset"] == r["dataset"]
    # the next window, and the one after, alert nothing although the data is still overdue
    assert new_overdue_alerts(storage, cat, TODAY, due_dates=past(5)) == []
    assert new_overdue_alerts(storage, cat, TODAY + timedelta(days=1), due_dates=past(5)) == []
    assert len(overdue_datasets(storage, cat, TODAY + timedelta(days=1), due_dates=past(5))) == len(rows)


def test_delivered_datasets_are_not_overdue_even_pending_or_failed(storage, cat, tmp_path):
    ingest_bytes(storage, cat, "17", "17-01", {"stations.csv": STATIONS.encode()})            # not validated yet
    deliver(storage, cat, tmp_path, "1", "01-27", "faults.geojson", faults("第四纪"), 2)     # failed validation
    ids = {r["dataset"] for r in overdue_datasets(storage, cat, TODAY, due_dates=past())}
    assert ids == needed(cat) - {"17-01", "01-27"}
    alerted = {r["dataset"] for r in new_overdue_alerts(storage, cat, TODAY, due_dates=past())}
    assert "17-01" not in alerted and "01-27" not in alerted and "17-02" in alerted


def test_nothing_is_overdue_on_or_before_the_due_date(storage, cat):
    assert overdue_datasets(storage, cat, TODAY, due_dates=DueDates(default=TODAY + timedelta(days=1))) == []
    assert overdue_datasets(storage, cat, TODAY, due_dates=DueDates(default=TODAY)) == []  # the last day is on time
    assert new_overdue_alerts(storage, cat, TODAY, due_dates=DueDates(default=TODAY)) == []
    assert not storage.exists("alerts")
    day_after = overdue_datasets(storage, cat, TODAY + timedelta(days=1), due_dates=DueDates(default=TODAY))
    assert day_after and {r["days_overdue"] for r in day_after} == {1}


def test_department_override_beats_the_default(storage, cat):
    late_17 = DueDates(default=TODAY + timedelta(days=30), overrides={17: TODAY - timedelta(days=3)})
    rows = overdue_datasets(storage, cat, TODAY, due_dates=late_17)
    assert rows and {r["department_seq"] for r in rows} == {17}
    assert {r["dataset"] for r in rows} == {i for i in needed(cat) if cat.dataset(i).department_seq == 17}
    assert {r["days_overdue"] for r in rows} == {3}
    spared_17 = DueDates(default=TODAY - timedelta(days=3), overrides={17: TODAY + timedelta(days=30)})
    rows = overdue_datasets(storage, cat, TODAY, due_dates=spared_17)
    assert 17 not in {r["department_seq"] for r in rows}
    assert {r["dataset"] for r in rows} == {i for i in needed(cat) if cat.dataset(i).department_seq != 17}


def test_an_extended_due_date_alerts_again_once(storage, cat):
    d1 = TODAY - timedelta(days=10)
    first = new_overdue_alerts(storage, cat, TODAY, due_dates=DueDates(default=d1))
    assert first and {r["due"] for r in first} == {d1.isoformat()}
    # extended to a date still ahead: nothing is overdue, nothing alerted
    d2 = TODAY + timedelta(days=7)
    assert new_overdue_alerts(storage, cat, TODAY, due_dates=DueDates(default=d2)) == []
    # past the extension the still-missing datasets alert once more, then never again
    later = d2 + timedelta(days=2)
    second = new_overdue_alerts(storage, cat, later, due_dates=DueDates(default=d2))
    assert sorted(r["dataset"] for r in second) == sorted(r["dataset"] for r in first)
    assert {r["due"] for r in second} == {d2.isoformat()} and {r["days_overdue"] for r in second} == {2}
    assert new_overdue_alerts(storage, cat, later, due_dates=DueDates(default=d2)) == []
    assert storage.exists(alert_path("01-04", d1)) and storage.exists(alert_path("01-04", d2))
    # a dataset delivered meanwhile is not alerted after the extension
    ingest_bytes(storage, cat, "17", "17-01", {"stations.csv": STATIONS.encode()})
    d3 = later + timedelta(days=1)
    third = new_overdue_alerts(storage, cat, d3 + timedelta(days=1), due_dates=DueDates(default=d3))
    assert "17-01" not in {r["dataset"] for r in third} and "01-04" in {r["dataset"] for r in third}


def test_concurrent_callers_alert_each_dataset_once(storage, cat):
    results = run_in_parallel(6, lambda _: new_overdue_alerts(storage, cat, TODAY, due_dates=past()))
    alerted = [r["dataset"] for batch in results for r in batch]
    assert sorted(alerted) == sorted(needed(cat))  # every one exactly once over all callers


# -- the due-date file ----------------------------------------------------------------------------

def test_the_packaged_file_loads_with_a_default_and_known_departments(cat, monkeypatch):
    monkeypatch.delenv(DUE_DATES_ENV, raising=False)
    dd = load_due_dates()
    assert isinstance(dd.default, date) and dd.timezone == "Asia/Shanghai"
    assert dd.source.endswith("due_dates.yaml")
    dd.check_departments(cat)
    for d in cat.departments:
        assert dd.due(d.seq) == dd.overrides.get(d.seq, dd.default)


def test_file_format_default_overrides_and_notes(tmp_path):
    path = tmp_path / "due.yaml"
    path.write_text("timezone: Asia/Shanghai\ndefault: 2027-01-31\ndepartments:\n"
                    "  17: 2026-12-15\n  '4': \"2027-02-28\"\n  1: {due: 2027-01-10, note: 三调 first}\n", encoding="utf-8")
    dd = load_due_dates(path)
    assert dd.default == date(2027, 1, 31)
    assert dd.overrides == {17: date(2026, 12, 15), 4: date(2027, 2, 28), 1: date(2027, 1, 10)}
    assert dd.notes == {1: "三调 first"}
    assert dd.due(17) == date(2026, 12, 15) and dd.due(2) == date(2027, 1, 31)


@pytest.mark.parametrize(("text", "key"), [
    ("default: 2027-13-01\n", "'default'"),
    ("default: tomorrow\n", "'default'"),
    ("default: 2027-01-31 10:00:00\n", "'default'"),
    ("departments: {1: 2027-01-01}\n", "'default'"),
    ("default: 2027-01-31\ndeparments: {}\n", "'deparments'"),
    ("default: 2027-01-31\ntimezone: UTC\n", "'timezone'"),
    ("default: 2027-01-31\ndepartments: {17: 2027-02-30}\n", "'departments.17'"),
    ("default: 2027-01-31\ndepartments: {meteorology: 2027-02-01}\n", "'departments.meteorology'"),
    ("default: 2027-01-31\ndepartments: {5: {due: 2027-02-01, by: me}}\n", "'departments.5.by'"),
    ("default: 2027-01-31\ndepartments: {5: {note: late}}\n", "'departments.5.due'"),
    ("default: 2027-01-31\ndepartments: [1, 2]\n", "'departments'"),
])
def test_loading_errors_name_the_file_and_the_key(tmp_path, text, key):
    path = tmp_path / "bad_due.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DueDateError) as err:
        load_due_dates(path)
    assert str(path) in str(err.value) and f"key {key}" in str(err.value)


def test_an_unknown_department_is_refused_when_judging(storage, cat, tmp_path):
    dd = parse_due_dates({"default": "2027-01-31", "departments": {23: "2027-02-01"}}, "x/due.yaml")
    with pytest.raises(DueDateError, match=r"x/due\.yaml: key 'departments\.23'"):
        overdue_datasets(storage, cat, TODAY, due_dates=dd)
    with pytest.raises(DueDateError, match=r"nope\.yaml"):
        load_due_dates(tmp_path / "nope.yaml")


def test_the_environment_names_another_file(storage, cat, tmp_path, monkeypatch):
    path = tmp_path / "due.yaml"
    path.write_text(f"default: {(TODAY - timedelta(days=2)).isoformat()}\n", encoding="utf-8")
    monkeypatch.setenv(DUE_DATES_ENV, str(path))
    assert load_due_dates().source == str(path)
    assert {r["days_overdue"] for r in overdue_datasets(storage, cat, TODAY)} == {2}


# -- the Prefect task -------------------------------------------------------------------------------

def test_task_emits_one_event_per_new_alert_and_none_the_next_window(storage, cat, tmp_path, monkeypatch, caplog):
    import logging

    from tasks.alerts import OVERDUE_EVENT, raise_overdue_alerts
    from tasks.events import OUTBOX

    path = tmp_path / "due.yaml"
    path.write_text("default: 2020-01-01\ndepartments: {17: 2099-12-31}\n", encoding="utf-8")
    monkeypatch.setenv(DUE_DATES_ENV, str(path))
    monkeypatch.setattr("tasks.events.api_url", lambda: None)  # no API: events are queued in the outbox
    ingest_bytes(storage, cat, "1", "01-04", {"boundary.geojson": b"{}"})
    logger = logging.getLogger("tasks.alerts")  # the task's logger outside a run (Prefect's may not propagate)
    logger.addHandler(caplog.handler)
    try:
        rows = raise_overdue_alerts.fn(storage.url)
    finally:
        logger.removeHandler(caplog.handler)
    expected = {i for i in needed(cat) if cat.dataset(i).department_seq != 17} - {"01-04"}
    assert {r["dataset"] for r in rows} == expected
    queued = [storage.read_json(p) for p in storage.list_files(OUTBOX)]
    assert len(queued) == len(expected)
    assert {q["resource"]["erenhot.dataset"] for q in queued} == expected
    one = next(q for q in queued if q["resource"]["erenhot.dataset"] == "01-28")
    assert one["event"] == OVERDUE_EVENT and one["payload"]["due"] == "2020-01-01"
    assert one["payload"]["days_overdue"] > 2000 and one["resource"]["erenhot.department"] == "1"
    # the records reach caplog once or twice (its own handler, and the root one when Prefect lets them
    # propagate): count distinct messages
    assert len({r.getMessage() for r in caplog.records if "逾期未交 overdue" in r.getMessage()}) == len(expected)
    assert raise_overdue_alerts.fn(storage.url) == []
    assert len(storage.list_files(OUTBOX)) == len(expected)
