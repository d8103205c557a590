"""T07 国土综合整治与生态保护修复研究: the composer's own helpers on hand-made frames, and one
integration run on a small kit (deliveries ingested and validated, T02 at 1000 m, T11, then T07)."""

from __future__ import annotations

import io
import shutil
import time

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import TOPIC_RUNNERS, run_topic
from erenhot.topics import t07_consolidation_restoration as t07
from kit_helpers import small_kit

CFG = load_config("t07_consolidation_restoration")
T07_DATASETS = ("01-29", "01-34", "01-36", "01-39")


# ------------------------------------------------------------------------------------------- helpers

def _frames():
    box = shapely.box
    mines = gpd.GeoDataFrame({"KSBH": ["K1", "K2"], "KSMC": ["甲矿", "乙矿"], "KZ": ["铁矿", "砂石"], "KCZT": ["生产", "废弃"],
                              "WTLX": ["采矿塌陷", "地形地貌景观破坏"], "YZCD": ["严重", "一般"], "ZLZT": ["治理中", "已治理"]},
                             geometry=[box(0, 0, 1000, 1000), box(5000, 0, 5500, 500)], crs=4525)
    sub = gpd.GeoDataFrame({"KSBH": ["K1"], "TXCD": ["中度"], "ZLZT": ["未治理"]}, geometry=[box(0, 0, 200, 200)], crs=4525)
    waste = gpd.GeoDataFrame({"KSBH": ["K2"], "FQLX": ["废石堆"], "ZLZT": ["未治理"]}, geometry=[box(5000, 0, 5100, 100)], crs=4525)
    return mines, sub, waste


def test_mine_problems_join_mine_attributes_and_grade_damage():
    mines, sub, waste = _frames()
    p = t07.mine_problems(mines, sub, waste, CFG.get("degradation"))
    assert p["source_dataset"].tolist() == ["01-29", "01-29", "01-34", "01-36"]
    assert p["degradation"].tolist() == [3, 1, 2, 3]  # 严重, 一般, 中度, waste_grade
    assert p["mine_name"].tolist() == ["甲矿", "乙矿", "甲矿", "乙矿"]
    assert p["area_hm2"].tolist() == pytest.approx([100.0, 25.0, 4.0, 1.0])
    assert p["problem_id"].is_unique


def test_remediation_keeps_untreated_problems_with_measures_and_covering_project():
    mines, sub, waste = _frames()
    p = t07.mine_problems(mines, sub, waste, CFG.get("degradation"))
    proj = gpd.GeoDataFrame({"XMBH": ["P1"], "XMLX": ["土地复垦"]}, geometry=[shapely.box(4900, -100, 5600, 600)], crs=4525)
    periods = {int(k): v for k, v in CFG.get("plan.periods").items()}
    r = t07.remediation(p, proj, CFG.get("mines"), CFG.get("degradation.treated_states"), periods).set_index("source_dataset")
    assert sorted(r.index) == ["01-29", "01-34", "01-36"]  # 乙矿 (已治理) dropped
    assert r.loc["01-36", "project_id"] == "P1" and r.loc["01-34", "project_id"] == ""
    assert r.loc["01-29", "responsible"].startswith("矿山企业")
    assert r.loc["01-36", "responsible"].startswith("政府主导")
    assert r.loc["01-36", "mode"] == "生态重建" and r.loc["01-34", "mode"] == "辅助再生"
    assert r.loc["01-29", "period"] == periods[1]
    assert "充填" in r.loc["01-34", "measures"]


# ------------------------------------------------------------------------------------------- integration

@pytest.fixture(scope="module")
def t07_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("t07")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    needed = {i.dataset for t in ("t02", "t11", "t07") for i in cat.topic(t).inputs if i.dataset} & set(kit.datasets)
    for ds in sorted(needed | {"01-04"}, key=lambda i: (i != "01-04", i)):  # the city boundary first
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        report = accept_delivery(storage, cat, latest_delivery(storage, ds))
        assert report["state"] == "validated", (ds, report["failures"])
    run_topic(storage, cat, "t02", check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    run_topic(storage, cat, "t11", check_readiness(storage, cat, cat.topic("t11")).to_dict(), {})
    readiness = check_readiness(storage, cat, cat.topic("t07")).to_dict()
    start = time.time()
    result = run_topic(storage, cat, "t07", readiness, {}) if "t07" in TOPIC_RUNNERS else t07.run(storage, cat, readiness, {})
    elapsed = time.time() - start
    yield storage, cat, readiness, result, elapsed
    shutil.rmtree(root, ignore_errors=True)


def _layer(storage, result, output_id) -> gpd.GeoDataFrame:
    [o] = [o for o in result["outputs"] if o["id"] == output_id]
    return gpd.read_parquet(io.BytesIO(storage.read_bytes(o["path"])))


def test_every_catalog_output_is_published(t07_run):
    storage, cat, readiness, result, elapsed = t07_run
    assert result["skipped"] is False
    assert all(d in readiness["datasets"] for d in ("01-04", *T07_DATASETS, "01-47", "01-16", "01-17", "04-06"))
    produced = {o["id"] for o in result["outputs"]}
    assert produced == {o.id for o in cat.topic(7).outputs}
    for o in cat.topic(7).outputs:
        if o.kind == "vector":
            gdf = _layer(storage, result, o.id)
            assert gdf.crs.to_epsg() == 4525 and len(gdf) > 0, o.id
            assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any(), o.id
    assert elapsed < 30


def test_mine_layers_hold_every_problem_and_the_untreated_ones(t07_run):
    storage, _, _, result, _ = t07_run
    probs = _layer(storage, result, "t07.mine_env_problems")
    assert set(probs["source_dataset"]) == {"01-29", "01-34", "01-36"}
    assert len(probs[probs["source_dataset"] == "01-29"]) == 6 and (probs["mine_state"] == "废弃").sum() >= 2
    assert probs["degradation"].between(1, 3).all() and (probs["area_hm2"] > 0).all()
    assert (probs["XZQDM"] == "152501200").all()  # the mines lie in the 苏木
    remed = _layer(storage, result, "t07.mine_env_remediation")
    assert len(remed) == (probs["status"] != "已治理").sum() and "已治理" not in set(remed.get("status", []))
    assert remed["measures"].str.len().gt(0).all()
    assert (remed["project_id"].str.startswith("TDZZ")).any()  # the stopped/abandoned mines are in 01-39


def test_priority_grading_and_zones_are_consistent(t07_run):
    storage, _, _, result, _ = t07_run
    plan = _layer(storage, result, "t07.restoration_plan")
    assert set(plan["priority"]) <= {1, 2, 3} and 1 in set(plan["priority"])
    assert "矿山生态修复" in set(plan["type"]) and "沙化土地综合治理" in set(plan["type"])
    assert plan["patch_id"].is_unique and (plan["area_hm2"] > 0).all()
    grading = _layer(storage, result, "t07.restoration_grading")
    assert set(grading["grade_label"]) <= {"保护保育", "自然恢复", "辅助再生", "生态重建"}
    assert {"保护保育", "生态重建"} <= set(grading["grade_label"])
    zones = _layer(storage, result, "t07.consolidation_zones")
    assert 3500 < zones["area_km2"].sum() < 4500  # the city ≈ 4,015 km² at 1 km cells
    assert {"矿山地质环境综合整治区", "城镇人居环境整治区", "荒漠草原生态保育区"} <= set(zones["zone_name"])
    assert set(zones["theme"]) <= {"自然生态", "水资源", "环境质量", "人居生态", "耕地资源"}
    cons = _layer(storage, result, "t07.consolidation_plan")
    assert cons["source"].str.startswith("01-39").sum() == 9
    assert (cons["area_hm2"] > 0).all()
    key = _layer(storage, result, "t07.key_projects")
    assert key["project_id"].is_unique and "矿山生态修复" in set(key["project_type"])
    assert key[["XZQDM", "XZQMC", "area_hm2", "period"]].notna().all().all()


def test_new_restoration_area_is_decomposed_by_township_and_year(t07_run):
    storage, _, _, result, _ = t07_run
    folder = f"products/t07/{result['run_key']}"
    t = pd.read_csv(io.BytesIO(storage.read_bytes(f"{folder}/tables/new_restoration_area.csv")), encoding="utf-8-sig",
                    dtype={"XZQDM": str})
    assert list(t.columns) == ["XZQDM", "XZQMC", "type", "year", "area_hm2", "increment_hm2"]
    assert set(t["year"]) == {2025, 2035}
    whole = t["XZQDM"] == "152501"
    assert set(t.loc[whole, "XZQMC"]) == {"全市合计"}
    city = t[whole].groupby("year")["area_hm2"].sum()
    towns = t[~whole].groupby("year")["area_hm2"].sum()
    assert city.to_dict() == pytest.approx(towns.to_dict())
    assert 0 < city[2025] <= city[2035] < 401_500  # cumulative, below the city area in hm²
    plan = _layer(storage, result, "t07.restoration_plan")
    assert city[2035] <= plan["area_hm2"].sum() + 1e-6
    mine = t[whole & (t["type"] == "矿山生态修复")].set_index("year")["area_hm2"]
    assert mine[2025] == pytest.approx(plan.loc[plan["type"] == "矿山生态修复", "area_hm2"].sum())  # all by 2025


def test_report_names_versions_and_maps_exist(t07_run):
    storage, _, _, result, _ = t07_run
    folder = f"products/t07/{result['run_key']}"
    md = storage.read_bytes(f"{folder}/report.md").decode("utf-8")
    for ds in ("01-29", "01-34", "01-36", "01-39", "01-47", "01-16"):
        assert latest_delivery(storage, ds).version in md, ds
    assert "t11.ecological_security_pattern" in md and "priority.matrix" in md and "数据溯源" in md
    for name in ("restoration_plan", "consolidation_zones", "consolidation_plan", "mine_env_problems",
                 "mine_env_remediation", "restoration_grading", "key_projects"):
        assert storage.exists(f"{folder}/maps/{name}.png"), name


def test_an_unchanged_rerun_is_reused(t07_run):
    storage, cat, readiness, result, _ = t07_run
    again = t07.run(storage, cat, readiness, {})
    assert again["skipped"] is True and again["run_key"] == result["run_key"]


def test_the_kit_part_is_deterministic(tmp_path):
    from erenhot.kitparts import restoration

    assert set(restoration.DATASETS) == set(T07_DATASETS)
    a = small_kit(tmp_path / "a")
    b = small_kit(tmp_path / "b")
    for ds in T07_DATASETS:
        for fa, fb in zip(a.files(ds), b.files(ds), strict=True):
            assert fa.read_bytes() == fb.read_bytes(), (ds, fa.name)
