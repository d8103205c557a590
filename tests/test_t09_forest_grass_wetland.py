"""T09 林地草地湿地适宜性评价与保护恢复: the grading functions by hand, then the whole topic on a small kit."""

from __future__ import annotations

import io
import shutil
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.evaluation import forest_grass_wetland as fgw
from erenhot.evaluation.grassland import StockingParams
from erenhot.grid import read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import run_topic
from erenhot.topics import t09_forest_grass_wetland as t09
from kit_helpers import small_kit

CFG = load_config("t09_forest_grass_wetland")
T09_DATASETS = ("01-05", "01-08", "01-10", "01-12", "01-13", "01-17")


# ── grading functions ────────────────────────────────────────────────────────────────────────


def test_grade_by_codes_and_limiting_grade_by_hand():
    water = np.array([[5, 4], [3, 0]])
    g = fgw.grade_by_codes(water, {1: 1, 2: 1, 3: 1, 4: 2, 5: 3})
    assert g.tolist() == [[3, 2], [1, 0]]  # 0 = no data stays 0
    land = np.array([[1, 3], [2, 2]], np.uint8)
    texture = np.array([[2, 1], [0, 4]], np.uint8)
    evaluated = np.array([[True, True], [True, False]])
    inside = np.array([[True, True], [True, True]])
    # worst factor: max(3,1,2)=3; max(2,3,1)=3; max(1,2,0)=2; not evaluated → 5
    assert fgw.limiting_grade([g, land, texture], evaluated, inside).tolist() == [[3, 3], [2, 5]]
    inside[0, 0] = False
    assert fgw.limiting_grade([g, land, texture], evaluated, inside)[0, 0] == 0
    with pytest.raises(ValueError, match="0–4"):
        fgw.limiting_grade([np.full((2, 2), 5)], evaluated, inside)
    with pytest.raises(ValueError, match="0..5"):
        fgw.grade_by_codes(water, {1: 7})


def test_distance_and_yield_grades_at_the_breaks():
    d = np.array([0.0, 1.0, 500.0, 500.1, 2000.0, 2000.1, np.nan])
    assert fgw.distance_grade(d, [500, 2000]).tolist() == [1, 2, 2, 3, 3, 4, 0]
    y = np.array([400.0, 399.9, 150.0, 149.9, np.nan])
    assert fgw.yield_grade(y, [400, 150]).tolist() == [1, 2, 2, 3, 0]
    with pytest.raises(ValueError):
        fgw.distance_grade(d, [2000, 500])
    with pytest.raises(ValueError):
        fgw.yield_grade(y, [150, 400])


def test_combined_suitability_priority_and_classes():
    forest = np.array([[1, 2, 4, 5, 3]])
    grass = np.array([[2, 2, 4, 5, 3]])
    wetland = np.array([[3, 3, 4, 5, 3]])
    inside = np.ones((1, 5), bool)
    got = fgw.combined_suitability({"forest": forest, "grass": grass, "wetland": wetland},
                                   ["wetland", "grass", "forest"], 3, inside)
    # best grade wins (forest 1); tie 2/2 → grass before forest; all 4 → 不宜 (4); all 5 → 不参评 (5);
    # tie 3/3/3 → wetland first
    assert got.tolist() == [[1, 2, 4, 5, 3]]
    got2 = fgw.combined_suitability({"forest": forest, "grass": grass, "wetland": wetland},
                                    ["forest", "grass", "wetland"], 2, inside)
    assert got2.tolist() == [[1, 1, 4, 5, 4]]  # grade 3 no longer suitable
    with pytest.raises(ValueError, match="priority"):
        fgw.combined_suitability({"forest": forest, "grass": grass, "wetland": wetland}, ["forest"], 3, inside)


def test_target_area_with_and_without_the_no_net_loss_floor():
    assert fgw.target_area(100.0, 40.0, 0.5) == 120.0
    assert fgw.target_area(100.0, 40.0, 0.5, removals_ha=30.0) == 100.0  # 90 floored at the present 100
    assert fgw.target_area(100.0, 40.0, 0.5, removals_ha=30.0, no_net_loss=False) == 90.0
    with pytest.raises(ValueError, match="share"):
        fgw.target_area(100.0, 40.0, 1.5)


def test_config_stocking_rate_of_the_desert_steppe_by_hand():
    """NY/T 635: A_u = Y·U·H/(I·D); desert steppe U = 0.40 (lower end), H = 1, D = 365, I = 1.8."""
    p = CFG.params(StockingParams, "stocking")
    k = p.coefficients("温性荒漠草原类").sheep_units_per_kg_yield
    assert k == pytest.approx(0.40 / (1.8 * 365))
    assert 250.0 * k == pytest.approx(0.152207, abs=1e-6)  # 250 kg/hm² → 0.152 羊单位/hm² ≈ 6.6 hm²/羊单位


def test_config_leaves_of_the_suitability_part_are_sourced_and_marked():
    for e in CFG.entries():
        assert e["source"], e["path"]
        if e["confidence"] in ("M", "L"):
            assert "uncertain" in e["note"].lower() and "configurable" in e["note"].lower(), e["path"]


# ── the topic on a small kit ──────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def t09_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("t09")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    needed = {i.dataset for t in ("t02", "t14", "t03", "t09") for i in cat.topic(t).inputs if i.dataset} & set(kit.datasets)
    for ds in sorted(needed | {"01-04"}, key=lambda i: (i != "01-04", i)):  # the city boundary first
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        report = accept_delivery(storage, cat, latest_delivery(storage, ds))
        assert report["state"] == "validated", (ds, report["failures"])
    run_topic(storage, cat, "t02", check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    run_topic(storage, cat, "t14", check_readiness(storage, cat, cat.topic("t14")).to_dict(), {})  # 区位 of t03
    run_topic(storage, cat, "t03", check_readiness(storage, cat, cat.topic("t03")).to_dict(), {})
    readiness = check_readiness(storage, cat, cat.topic("t09")).to_dict()
    start = time.time()
    if "t09" in __import__("erenhot.topics", fromlist=["TOPIC_RUNNERS"]).TOPIC_RUNNERS:
        result = run_topic(storage, cat, "t09", readiness, {})
    else:
        result = t09.run(storage, cat, readiness, {})
    elapsed = time.time() - start
    yield storage, cat, readiness, result, elapsed
    shutil.rmtree(root, ignore_errors=True)


def _out(result, layer_id):
    [o] = [o for o in result["outputs"] if o["id"] == layer_id]
    return o


def test_every_catalog_output_is_published_except_the_undeliverable(t09_run):
    storage, cat, _, result, elapsed = t09_run
    assert result["skipped"] is False
    got = {o["id"] for o in result["outputs"]}
    want = {o.id for o in cat.topic("t09").outputs} - set(t09.NOT_PRODUCED)
    assert got == want
    assert "t09.biological_resources" not in got
    assert elapsed < 40


def test_rasters_are_on_the_t02_grid_with_valid_classes(t09_run):
    storage, _, readiness, result, _ = t09_run
    _eco, grid, _ = read_raster(storage.read_bytes(readiness["layers"]["t02.eco_importance"]["path"]))
    for lid in ("t09.forest_suitability", "t09.grass_suitability", "t09.wetland_suitability", "t09.combined_suitability"):
        arr, g, nodata = read_raster(storage.read_bytes(_out(result, lid)["path"]))
        assert g.crs_epsg == 4525 and g.shape == grid.shape and g.transform == grid.transform
        assert set(np.unique(arr).tolist()) <= {0, 1, 2, 3, 4, 5}, lid
    grass, *_ = read_raster(storage.read_bytes(_out(result, "t09.grass_suitability")["path"]))
    assert ((grass >= 1) & (grass <= 3)).mean() > 0.5  # the desert steppe is mostly grassland


def test_vectors_tables_and_report(t09_run):
    storage, _, readiness, result, _ = t09_run

    def vec(lid):
        return gpd.read_parquet(io.BytesIO(storage.read_bytes(_out(result, lid)["path"])))

    def tab(lid):
        return pd.read_csv(io.BytesIO(storage.read_bytes(_out(result, lid)["path"])), encoding="utf-8-sig")

    for lid in ("t09.development_layout", "t09.pastoral_pattern", "t09.basic_pasture", "t09.degraded_land",
                "t09.reclaimed_return", "t09.degraded_restoration"):
        gdf = vec(lid)
        assert gdf.crs.to_epsg() == 4525, lid
    layout = vec("t09.development_layout")
    assert set(layout["布局类型"]) <= set(t09.LAYOUT_LABELS.values()) and len(layout)
    pastoral = vec("t09.pastoral_pattern")
    assert set(pastoral["空间类型"]) == {"牧业生产空间", "牧业生态空间"} and pastoral["管制规则"].notna().all()
    degraded = vec("t09.degraded_land")
    assert set(degraded["THCD"]) <= {"轻度", "中度", "重度"} and len(degraded) > 0
    restoration = vec("t09.degraded_restoration")
    assert (restoration["修复措施"] != "").all() and set(restoration["实施期限"]) <= {"2025", "2035"}
    stocking = tab("t09.stocking_rate")
    assert list(stocking["草地类型"]) == list(CFG.get("stocking.types"))
    assert {"合理载畜量 羊单位/hm²", "每羊单位草地面积 hm²", "合理载畜量 羊单位", "利用率 %"} <= set(stocking.columns)
    ds = stocking.set_index("草地类型")
    # desert steppe: 0.05–0.4 羊单位/hm² (spec §2.5: ≈0.27 at Y = 400 kg/hm², U = 0.45)
    assert 0.05 < ds.loc["温性荒漠草原类", "合理载畜量 羊单位/hm²"] < 0.4
    total = float(stocking["合理载畜量 羊单位"].sum())
    assert 10_000 < total < 200_000  # ≈4,000 km² of desert steppe at a few hm² per 羊单位
    targets = tab("t09.targets")
    assert list(targets["指标"]) == ["林地保有量", "草地保有量", "基本草原保有量", "湿地面积"]
    for year in (2025, 2035):
        assert (targets[f"{year} 目标 hm²"] >= targets["现状 2020 hm²"] - 1e-6).all()
    report = storage.read_bytes(_out(result, "t09.report")["path"]).decode("utf-8")
    for ds_id in T09_DATASETS:
        assert readiness["datasets"][ds_id]["version"] in report, ds_id
    assert "适宜载畜量" in report and "biological_resources" in report


def test_unchanged_inputs_reuse_the_run(t09_run):
    storage, cat, readiness, result, _ = t09_run
    again = t09.run(storage, cat, readiness, {})
    assert again["skipped"] is True and again["run_key"] == result["run_key"]
