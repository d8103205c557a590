"""The plan and topic flows on a real (temporary) Prefect server, once per test run."""

from __future__ import annotations

import pytest

from erenhot.catalog import load_catalog
from erenhot.landing import ingest
from erenhot.status import plan_status
from erenhot.storage import Storage
from kit_helpers import bad_dltb_zip, ingest_kit, small_kit

pytestmark = pytest.mark.flow
FAST = {"t02": {"grid.cell_size_m": 1000}}


@pytest.fixture(scope="module")
def planned(prefect_server, tmp_path_factory):
    from flows.plan import plan

    root = tmp_path_factory.mktemp("plan")
    kit = small_kit(root / "kit")
    url = str(root / "store")
    summary = plan(kit_dir=str(root / "kit"), storage_url=url, config_overrides=FAST)
    return root, kit, url, summary


def _topics(url):
    return {t["code"]: t for t in plan_status(Storage(url), load_catalog())["topics"]}


# catalog outputs a topic leaves out when the data behind them is not delivered (its report says so)
NOT_DERIVABLE = {"t02.biodiversity_service": "biodiversity inputs", "t09.biological_resources": "a species survey"}


def test_plan_runs_every_implemented_topic_to_done_with_layers_tables_maps_and_report(planned):
    from flows.plan import TOPIC_FLOWS

    _, _, url, summary = planned
    cat = load_catalog()
    implemented = [cat.topic(seq).code for seq in cat.topic_order() if seq in TOPIC_FLOWS]
    assert implemented.index("t02") < implemented.index("t14") < implemented.index("t03")  # 区位 from topic 14
    assert sorted(implemented) == [f"t{seq:02d}" for seq in range(1, 16)]  # the whole plan
    assert implemented.index("t05") < implemented.index("t04") and implemented.index("t15") < implemented.index("t08")
    assert {c: summary["topics"][c]["state"] for c in implemented} == {c: "done" for c in implemented}
    topics = _topics(url)
    storage = Storage(url)
    for code in implemented:
        assert topics[code]["state"] == "done"
        ids = {o["id"] for o in topics[code]["outputs"]}
        wanted = {o.id for o in cat.topic(code).outputs}
        assert ids <= wanted and wanted - ids <= set(NOT_DERIVABLE), (code, sorted(wanted - ids))
        manifest = storage.read_json(f"products/{code}/{topics[code]['run_key']}/manifest.json")
        names = [f["name"] for f in manifest["files"]]
        assert "report.html" in names and "report.md" in names
        assert any(n.startswith("maps/") and n.endswith(".png") for n in names)
        assert any(n.startswith("tables/") and n.endswith(".csv") for n in names)
        report = storage.read_bytes(f"products/{code}/{topics[code]['run_key']}/report.md").decode("utf-8")
        maps = [n for n in names if n.startswith("maps/") and not n.startswith("maps/thumb_")]
        assert [m for m in maps if f"]({m})" not in report] == [], f"{code}: maps not shown in its report"
    # topic 3 read topic 2's published layers and its 区位 from topic 14, with their versions
    t03 = storage.read_json(f"products/t03/{topics['t03']['run_key']}/manifest.json")
    t03_layers = {r["id"] for r in t03["inputs"] if r["state"] == "published"}
    assert t03_layers >= {"t02.eco_importance", "t02.urban_capacity", "t14.travel_time_city"}


def test_the_plan_run_again_with_nothing_new_recomputes_nothing_and_says_so(planned):
    from flows.plan import plan

    _, _, url, first = planned
    storage = Storage(url)
    before = {p: storage.sha256(p) for p in storage.list_files("products")}
    again = plan(storage_url=url, config_overrides=FAST)
    assert {c: t["state"] for c, t in again["topics"].items()} == {c: "up to date" for c in first["topics"]}
    assert {c: t["run_key"] for c, t in again["topics"].items()} == {c: t["run_key"] for c, t in first["topics"].items()}
    after = {p: storage.sha256(p) for p in storage.list_files("products")}
    assert after == before  # not one product file written or rewritten


def test_rerun_with_nothing_new_is_skipped_by_run_key(planned):
    from flows.t02_carrying_capacity import t02_carrying_capacity

    _, _, url, summary = planned
    again = t02_carrying_capacity(storage_url=url, config_overrides=FAST["t02"])
    assert again["skipped"] is True and again["run_key"] == summary["topics"]["t02"]["run_key"]
    changed = t02_carrying_capacity(storage_url=url, config_overrides={"grid.cell_size_m": 1500})
    assert changed["skipped"] is False and changed["run_key"] != again["run_key"]


def test_inputs_back_to_an_earlier_state_make_that_version_current_again_without_rewriting_it(planned):
    from erenhot.products import current_manifest
    from flows.t02_carrying_capacity import t02_carrying_capacity

    _, _, url, summary = planned
    storage = Storage(url)
    key = summary["topics"]["t02"]["run_key"]
    assert current_manifest(storage, "t02")["run_key"] != key  # the 1500 m run of the previous test is current
    folder = {p: storage.sha256(p) for p in storage.list_files(f"products/t02/{key}")}
    again = t02_carrying_capacity(storage_url=url, config_overrides=FAST["t02"])
    assert again["skipped"] is True and again["run_key"] == key
    assert current_manifest(storage, "t02")["run_key"] == key
    assert {p: storage.sha256(p) for p in storage.list_files(f"products/t02/{key}")} == folder  # not rewritten


def test_two_runs_of_one_topic_at_once_evaluate_one_after_the_other_and_the_second_is_skipped(planned):
    """A triggered run and the nightly plan's subflow can meet; the topic's tag concurrency limit of one
    lets one evaluate while the other waits, then finds the run key unchanged."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName

    from flows.t02_carrying_capacity import t02_carrying_capacity
    from kit_helpers import run_in_parallel

    _, _, url, summary = planned
    states = run_in_parallel(2, lambda i: t02_carrying_capacity(storage_url=url, config_overrides={"grid.cell_size_m": 1200},
                                                               return_state=True))
    results = [s.result() for s in states]
    assert sorted(r["skipped"] for r in results) == [False, True]
    assert results[0]["run_key"] == results[1]["run_key"]
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[s.state_details.flow_run_id for s in states])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=["evaluate t02"])))
    assert len(runs) == 2 and all("topic-run-t02" in r.tags for r in runs)
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert first.end_time <= second.start_time, "the two evaluations overlapped"
    # leave the module's plan consistent: the plan's T02 version current again (T14 reads t02.slope)
    assert t02_carrying_capacity(storage_url=url, config_overrides=FAST["t02"])["run_key"] == summary["topics"]["t02"]["run_key"]


def test_a_downstream_topic_defers_while_its_upstream_is_out_of_date(planned, tmp_path):
    """A mixed burst (a T02 input and a T03-only input) must not run T03 on new data mixed with T02's
    old layers: T03 completes as Deferred naming T02, and runs once T02 has republished."""
    from erenhot.acceptance import accept_delivery
    from erenhot.landing import latest_delivery
    from erenhot.products import current_manifest
    from erenhot.readiness import stale_upstream
    from flows.plan import TOPIC_FLOWS
    from flows.t02_carrying_capacity import t02_carrying_capacity
    from flows.t03_suitability import t03_suitability

    root, kit, url, _ = planned
    storage, cat = Storage(url), load_catalog()
    assert stale_upstream(storage, cat, cat.topic(3), set(TOPIC_FLOWS)) == []
    station = tmp_path / "stations.csv"  # 17-01 is read by T02 only
    station.write_text(kit.files("17-01")[0].read_text("utf-8").replace("964.7", "1164.7"), "utf-8")
    ingest(storage, cat, "17", "17-01", [station])
    assert accept_delivery(storage, cat, latest_delivery(storage, "17-01"))["state"] == "validated"
    assert [s["topic"] for s in stale_upstream(storage, cat, cat.topic(3), set(TOPIC_FLOWS))] == ["t02"]
    assert _topics(url)["t02"]["state"] == "out of date"  # `erenhot status` tells the products lag the data
    before = current_manifest(storage, "t03")["run_key"]
    state = t03_suitability(storage_url=url, return_state=True)
    assert state.is_completed() and state.name == "Deferred" and "T02" in state.message
    assert current_manifest(storage, "t03")["run_key"] == before
    t02_carrying_capacity(storage_url=url, config_overrides=FAST["t02"])
    assert stale_upstream(storage, cat, cat.topic(3), set(TOPIC_FLOWS)) == []
    assert _topics(url)["t02"]["state"] == "done"
    assert t03_suitability(storage_url=url, return_state=True).name != "Deferred"


def test_bad_delivery_is_quarantined_while_the_good_data_still_flows(planned, tmp_path):
    from flows.plan import plan

    root, _, url, _ = planned
    storage = Storage(url)
    bad = bad_dltb_zip(root / "kit", tmp_path)
    ingest(storage, load_catalog(), "自然资源局", "01-46a.dltb", [bad])
    summary = plan(storage_url=url, config_overrides=FAST)
    assert summary["datasets"]["01-46a.dltb"] == "failed"
    st = plan_status(storage, load_catalog())
    dltb = next(d for d in st["datasets"] if d["id"] == "01-46a.dltb")
    assert dltb["state"] == "failed" and dltb["validated_version"] and dltb["validated_version"] != dltb["version"]
    assert any("DLTB.zip" in f and "DLBM" in f for f in dltb["failures"])
    assert storage.exists(f"quarantine/01-46a.dltb/{dltb['version']}.json")
    assert {t["state"] for t in st["topics"] if t["implemented"]} == {"done"}


def test_missing_required_dataset_fails_the_topic_naming_department_item_and_dataset(prefect_server, tmp_path):
    from flows.t02_carrying_capacity import t02_carrying_capacity

    kit = small_kit(tmp_path / "kit")
    storage = Storage(str(tmp_path / "store"))
    ingest_kit(storage, kit, skip=("01-03",))
    state = t02_carrying_capacity(storage_url=storage.url, wait_seconds=0, return_state=True)
    assert state.is_failed()
    message = str(state.message) + str(state.result(raise_on_failure=False))
    assert "01-03" in message and "department 1" in message and "seed item 3" in message
    topics = _topics(storage.url)
    assert topics["t02"]["state"] == "failed" and "01-03" in topics["t02"]["message"]


def test_lineage_of_a_t03_layer_reaches_the_deliveries_through_t02(planned):
    from erenhot.landing import latest_validated
    from erenhot.lineage import layer_lineage, render_tree

    _, _, url, _ = planned
    storage = Storage(url)
    topics = _topics(url)
    tree = layer_lineage(storage, load_catalog(), "t03.urban_suitability")
    assert tree["run_key"] == topics["t03"]["run_key"]
    t02_nodes = [n for n in tree["inputs"] if n.get("topic") == "t02"]
    assert {n["id"] for n in t02_nodes} >= {"t02.eco_importance", "t02.urban_capacity"}
    dem = next(n for n in t02_nodes[0]["inputs"] if n["id"] == "01-03")
    assert dem["version"] == latest_validated(storage, "01-03").version
    text = "\n".join(render_tree(tree))
    assert "t02.eco_importance" in text and "01-03" in text and "└─" in text
