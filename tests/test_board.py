"""The readiness board: all 22 departments against the seed — asked, arrived, passed, failed, missing,
whom to call first and which implemented topics wait for them."""

from __future__ import annotations

from collections import Counter

import pytest
from test_receipts import STATIONS, deliver, faults

from erenhot.board import (
    BOARD_COLUMNS,
    board_markdown,
    board_table_rows,
    department_board,
    department_detail,
    department_markdown,
)
from erenhot.catalog import load_catalog
from erenhot.landing import DeliveryError
from erenhot.receipts import receipt_path
from erenhot.storage import Storage



def _pdf_bytes() -> bytes:
    """A real one-page PDF (a text that merely starts with %PDF is refused as damaged)."""
    import io

    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()

@pytest.fixture(scope="module")
def board_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("board")
    storage = Storage(str(tmp / "store"))
    cat = load_catalog()
    deliver(storage, cat, tmp, "17", "17-01", "stations.csv", STATIONS, 1)                   # validated
    deliver(storage, cat, tmp, "1", "01-27", "faults.geojson", faults("第四纪"), 2)          # failed
    deliver(storage, cat, tmp, "1", "01-14", "report.pdf", _pdf_bytes(), 3)            # validated (document)
    deliver(storage, cat, tmp, "17", "17-02", "climate_daily.csv", "station_id,date\n", 4, accept=False)  # pending
    deliver(storage, cat, tmp, "12", "12-01", "township_codes.csv", "code,name\n152501100,二连浩特市区\n", 5)  # validated
    return storage, cat, department_board(storage, cat)


def test_all_22_departments_in_seed_order(board_store):
    _, cat, board = board_store
    assert [r["seq"] for r in board] == list(range(1, 23))
    assert [r["short_zh"] for r in board] == [d.short_zh for d in cat.departments]
    assert board[18]["short_zh"] == "财政局"


def test_asked_counts_follow_the_catalog(board_store):
    _, cat, board = board_store
    numbered = Counter(d.department_seq for d in cat.numbered_items())
    added = Counter(d.department_seq for d in cat.datasets if not d.is_numbered)
    for r in board:
        assert r["asked_numbered"] == numbered.get(r["seq"], 0)
        assert r["asked_added"] == added.get(r["seq"], 0)
        assert r["asked"] == r["asked_numbered"] + r["asked_added"]
    one = board[0]
    assert (one["asked_numbered"], one["asked_added"], one["asked"]) == (48, 5, 53)
    nineteen = board[18]
    assert nineteen["asked"] == nineteen["arrived"] == nineteen["missing"] == 0
    assert nineteen["note"] and nineteen["call_first"] == [] and nineteen["blocking_topics"] == []
    assert sum(r["asked"] for r in board) == len(cat.datasets) == 164


def test_arrived_validated_failed_missing_after_the_deliveries(board_store):
    _, _, board = board_store
    one, twelve, seventeen = board[0], board[11], board[16]
    assert (one["arrived"], one["validated"], one["failed"], one["pending"], one["missing"]) == (2, 1, 1, 0, 51)
    assert one["failed_ids"] == ["01-27"] and "01-27" not in one["missing_ids"] and "01-14" not in one["missing_ids"]
    assert (seventeen["arrived"], seventeen["validated"], seventeen["failed"], seventeen["pending"],
            seventeen["missing"]) == (2, 1, 0, 1, 1)
    assert seventeen["missing_ids"] == ["17-03"] and seventeen["pending_ids"] == ["17-02"]
    assert (twelve["arrived"], twelve["validated"], twelve["missing"]) == (1, 1, 1)
    for r in board:
        assert r["missing"] == r["asked"] - r["arrived"] == len(r["missing_ids"])
        assert r["arrived"] == r["validated"] + r["failed"] + r["pending"]
    untouched = board[1]
    assert untouched["arrived"] == 0 and untouched["missing"] == untouched["asked"] == 10


def test_whom_to_call_first_and_blocked_topics(board_store):
    _, cat, board = board_store
    by_seq = {r["seq"]: r for r in board}
    one = by_seq[1]
    implemented = [t for t in cat.topics if t.implemented]

    def requiring(dataset_id):
        return [t.code for t in implemented if any(i.dataset == dataset_id and i.required for i in t.inputs)]

    # missing datasets that the implemented topics require; not the failed 01-27 (it arrived)
    assert one["missing_needed"] == [d.id for d in cat.datasets_of(1) if requiring(d.id) and d.id != "01-27"]
    assert {"01-03", "01-04", "01-28", "01-46a.dltb", "01-46a.fvc", "01-13", "01-47"} <= set(one["missing_needed"])
    call = {c["id"]: c for c in one["call_first"]}
    assert call["01-27"]["state"] == "failed" and call["01-27"]["topics"] == ["t02"]
    assert call["01-04"]["topics"] == requiring("01-04") == ["t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13", "t14", "t15"]
    assert "01-14" not in call and "01-46a.npp" not in call  # not used / only optional
    assert one["blocking_topics"] == ["t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13", "t14", "t15"]
    assert by_seq[17]["blocking_topics"] == requiring("17-02") == ["t02", "t12"]  # 17-02 delivered, not validated
    assert [c["id"] for c in by_seq[17]["call_first"]] == ["17-02"]
    assert by_seq[17]["call_first"][0]["state"] == "delivered"
    assert by_seq[22]["blocking_topics"] == ["t14"] and by_seq[22]["missing_needed"] == ["22-01"]
    assert by_seq[4]["blocking_topics"] == ["t02", "t03", "t12", "t13"]  # 04-13 is optional for t09
    assert by_seq[12]["blocking_topics"] == [] and by_seq[21]["blocking_topics"] == []  # optional inputs only
    assert by_seq[2]["blocking_topics"] == ["t10"]  # 02-07 重大项目 (02-06 railway lines are optional)
    assert [c["id"] for c in by_seq[2]["call_first"]] == ["02-07"]
    assert one["blocking_topic_labels"][0].startswith("T01 ")


def test_table_rows_for_the_artifact(board_store):
    _, _, board = board_store
    rows = board_table_rows(board)
    assert len(rows) == 23 and all(tuple(r) == BOARD_COLUMNS for r in rows)
    first, total = rows[0], rows[-1]
    assert (first["序号"], first["部门"], first["应交"], first["已到"], first["通过"], first["未通过"], first["未交"]) == (
        1, "自然资源局", 53, 2, 1, 1, 51)
    assert "01-27（未通过）" in first["急需催交（课题必需）"] and "01-04（未交）" in first["急需催交（课题必需）"]
    assert "T02" in first["受阻课题"] and "T03" in first["受阻课题"]
    assert rows[18]["应交"] == 0 and rows[18]["备注"]
    assert total["序号"] == "合计" and total["应交"] == 164 and total["已到"] == 5 and total["通过"] == 3
    assert total["未通过"] == 1 and total["待验收"] == 1 and total["未交"] == 159
    assert all(isinstance(v, (int, str)) for r in rows for v in r.values())
    assert len(board_table_rows(board, totals=False)) == 22
    md = board_markdown(board)
    assert md.count("\n| ") == 24 and "| 19 | 财政局 | 0 |" in md


def test_department_detail_lists_every_dataset_with_state_and_problems(board_store):
    storage, cat, _ = board_store
    detail = department_detail(storage, cat, "气象局")
    assert detail["seq"] == 17 and [d["id"] for d in detail["datasets"]] == ["17-01", "17-02", "17-03"]
    by_id = {d["id"]: d for d in detail["datasets"]}
    assert by_id["17-01"]["state"] == "validated"
    assert by_id["17-01"]["receipt"] == receipt_path("17-01", by_id["17-01"]["version"])
    assert by_id["17-02"]["state"] == "delivered" and by_id["17-02"]["receipt"] is None
    assert by_id["17-03"]["catch_all"] and by_id["17-03"]["state"] == "missing" and by_id["17-03"]["note"]
    assert by_id["17-01"]["required_by"] == ["t02"]
    one = department_detail(storage, cat, 1)
    faults_row = next(d for d in one["datasets"] if d["id"] == "01-27")
    assert faults_row["state"] == "failed" and faults_row["blocking"] == ["t02"]
    assert faults_row["failures"][0].startswith("faults.geojson [HDX]")
    (problem,) = faults_row["problems"]
    assert problem["column"] == "HDX" and "fid 1" in problem["rows"]
    md = department_markdown(one)
    assert "| 01-27 | 27 | 地质活动断层分布图 | 未通过 failed |" in md and "HDX" in md and "急需催交" in md
    assert len(one["datasets"]) == 53
    assert "清单未要求提供资料" in department_markdown(department_detail(storage, cat, "finance"))
    with pytest.raises(DeliveryError):
        department_detail(storage, cat, "no-such-bureau")


def test_empty_storage_board(tmp_path):
    cat = load_catalog()
    board = department_board(Storage(str(tmp_path / "empty")), cat)
    assert len(board) == 22 and sum(r["arrived"] for r in board) == 0
    assert sum(r["missing"] for r in board) == 164
    needed = {i for t in cat.topics if t.implemented for i in (x.dataset for x in t.dataset_inputs(required=True))}
    assert {i for r in board for i in r["missing_needed"]} == needed


def test_newest_failed_delivery_counts_as_failed_but_the_accepted_one_stays_in_use(tmp_path):
    storage = Storage(str(tmp_path / "store"))
    cat = load_catalog()
    good, _ = deliver(storage, cat, tmp_path, "1", "01-27", "faults.geojson", faults("晚更新世"), 1)
    deliver(storage, cat, tmp_path, "1", "01-27", "faults.geojson", faults("第四纪"), 2)
    one = department_board(storage, cat)[0]
    assert (one["arrived"], one["validated"], one["failed"], one["usable"]) == (1, 0, 1, 1)
    assert one["failed_ids"] == ["01-27"]
    assert "01-27" not in [c["id"] for c in one["call_first"]]  # topics keep running on the accepted version
    detail = department_detail(storage, cat, "自然资源局")
    row = next(d for d in detail["datasets"] if d["id"] == "01-27")
    assert row["validated_version"] == good.version and row["blocking"] == []
    assert f"在用 in use: {good.version}" in department_markdown(detail)


def test_due_dates_and_overdue_datasets_on_the_board(board_store):
    from datetime import date

    from erenhot.overdue import DueDates

    storage, cat, _ = board_store
    today = date(2027, 2, 10)
    dd = DueDates(default=date(2027, 1, 31), overrides={17: date(2027, 3, 1), 22: date(2027, 2, 5)})
    board = department_board(storage, cat, today, due_dates=dd)
    by_seq = {r["seq"]: r for r in board}
    required_any = {i.dataset for t in cat.topics for i in t.dataset_inputs(required=True)}
    for r in board:
        assert r["due"] == dd.due(r["seq"]).isoformat() and r["due_override"] == (r["seq"] in (17, 22))
        expected = [d.id for d in cat.datasets_of(r["seq"]) if d.id in required_any and d.id in r["missing_ids"]]
        if dd.due(r["seq"]) >= today:
            expected = []
        assert r["overdue_ids"] == expected and r["overdue"] == len(expected)
        assert r["days_overdue"] == ((today - dd.due(r["seq"])).days if expected else 0)
    one = by_seq[1]
    assert "01-04" in one["overdue_ids"] and "01-28" in one["overdue_ids"]
    assert "01-27" not in one["overdue_ids"] and "01-14" not in one["overdue_ids"]  # failed / not needed: arrived
    assert one["days_overdue"] == 10
    assert by_seq[17]["overdue"] == 0 and by_seq[17]["due"] == "2027-03-01"  # own, later due date
    assert by_seq[22]["overdue_ids"] == ["22-01"] and by_seq[22]["days_overdue"] == 5
    assert by_seq[19]["overdue"] == 0 and by_seq[19]["due"] == "2027-01-31"

    rows = board_table_rows(board)
    assert all(tuple(r) == BOARD_COLUMNS for r in rows)
    assert rows[0]["截止日期"] == "2027-01-31"
    assert rows[0]["逾期未交"].startswith(f"{one['overdue']} 项（逾期 10 天）: 01-03, 01-04")
    assert rows[16]["截止日期"] == "2027-03-01" and rows[16]["逾期未交"] == ""
    assert rows[-1]["逾期未交"] == f"{sum(r['overdue'] for r in board)} 项"
    assert "逾期未交" in board_markdown(board)

    detail = department_detail(storage, cat, 22, today, due_dates=dd)
    assert detail["overdue_ids"] == ["22-01"]
    assert {d["id"]: d["days_overdue"] for d in detail["datasets"]}["22-01"] == 5
    md = department_markdown(detail)
    assert "截止日期 due 2027-02-05" in md and "逾期未交 overdue 1" in md and "逾期 overdue 5 天" in md
    # before every due date nothing is overdue
    early = department_board(storage, cat, date(2027, 1, 1), due_dates=dd)
    assert sum(r["overdue"] for r in early) == 0
