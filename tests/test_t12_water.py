"""T12 水资源承载力: composer helpers by hand, the kit part's consistency, and one run end to end
(small kit → ingest → GX validation → T02 on a 1 km grid → T12) without Prefect."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.evaluation.water import combine_grades, idw
from erenhot.grid import read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import run_topic
from erenhot.topics import t12_water_carrying_capacity as t12
from kit_helpers import small_kit

T12_DATASETS = ("04-03", "04-05", "04-06", "04-09")
# inputs the composer reads that the catalog entry of t12 does not list yet (see the topic's hand-over notes)
EXTRA_INPUTS = ("01-04", "01-46a.dltb", "10-02")  # read by T12 beyond the water datasets
NEEDED = ("01-04", "01-03", "01-27", "01-28", "01-46a.dltb", "01-46a.fvc", "01-46a.npp", "01-16", "04-07", "04-13",
          "12-01", "17-01", "17-02", "04-04", "10-02", *T12_DATASETS)


# ── hand-computed helpers ───────────────────────────────────────────────────────────────────────


def test_idw_by_hand():
    # two wells 10 m apart: midpoint = mean; on a well = its value; power 2 at x = 2.5: w = 1/6.25, 1/56.25
    out = idw([0.0, 10.0], [0.0, 0.0], [1.0, 3.0], [0.0, 2.5, 5.0, 10.0], [0.0], 2)
    w1, w2 = 1 / 2.5 ** 2, 1 / 7.5 ** 2
    assert out[0].tolist() == pytest.approx([1.0, (w1 * 1 + w2 * 3) / (w1 + w2), 2.0, 3.0])
    assert idw([0.0, 5.0], [0.0, 0.0], [2.0, np.nan], [1.0], [0.0], 2)[0, 0] == pytest.approx(2.0)  # NaN well dropped
    with pytest.raises(ValueError):
        idw([0.0], [0.0], [np.nan], [1.0], [0.0], 2)
    with pytest.raises(ValueError):
        idw([0.0], [0.0], [1.0], [1.0], [0.0], 0)


def test_combine_grades_weighted_mean_half_up_and_veto():
    a, b = np.array([1, 5, 2, 0, 2]), np.array([2, 1, 3, 1, 2])
    got = combine_grades({"a": a, "b": b}, {"a": 0.5, "b": 0.5}, veto_grade=5, veto_floor=4)
    # 1.5 → 2; (5+1)/2 = 3 but a 5 keeps ≥ 4; 2.5 → 3; a 0 is no data; 2 → 2
    assert got.tolist() == [2, 4, 3, 0, 2]
    # a uniform factor left out of the veto cannot set the whole map
    assert combine_grades({"a": a, "b": b}, {"a": 0.5, "b": 0.5}, 5, 4, veto_factors=["b"]).tolist() == [2, 3, 3, 0, 2]
    with pytest.raises(ValueError, match="veto"):
        combine_grades({"a": a}, {"a": 1.0}, 5, 4, veto_factors=["z"])
    with pytest.raises(ValueError, match="sum to 1"):
        combine_grades({"a": a}, {"a": 0.9}, 5, 4)
    with pytest.raises(ValueError, match="differ"):
        combine_grades({"a": a}, {"b": 1.0}, 5, 4)


def test_caps_for_years_next_target_and_exact():
    caps = pd.DataFrame({"year": [2020, 2025, 2030], "total_quota_10k_m3": [2200.0, 2350.0, 2500.0]})
    got = t12.caps_for_years(caps, [2015, 2019, 2020, 2022, 2033], "next_target").set_index("year")
    assert got["quota_year"].to_dict() == {2015: 2020, 2019: 2020, 2020: 2020, 2022: 2025, 2033: 2030}
    assert got.loc[2022, "total_quota_10k_m3"] == 2350.0
    assert t12.caps_for_years(caps, [2019, 2025], "exact")["year"].tolist() == [2025]
    with pytest.raises(ValueError):
        t12.caps_for_years(caps, [2019], "nearest")


def test_config_weights_sum_to_one_and_factor_names_match():
    cfg = load_config("t12_water_carrying_capacity")
    weights = cfg.get("composite.weights")
    assert sum(weights.values()) == pytest.approx(1.0) and set(weights) == set(t12.FACTORS)
    assert cfg.get("factors.tds_breaks_g_l") == [0.3, 0.5, 1.0, 2.0]  # GB/T 14848-2017 TDS classes I–V
    assert cfg.leaf("factors.tds_breaks_g_l")["confidence"] == "H"


# ── end to end ──────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t12")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    reports = {}
    for ds in NEEDED:  # the boundary first: the others are checked against it
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        reports[ds] = accept_delivery(storage, cat, latest_delivery(storage, ds))
    failed = {d: r["failures"] for d, r in reports.items() if r["state"] != "validated"}
    assert failed == {}
    t02 = run_topic(storage, cat, "t02", check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    readiness = check_readiness(storage, cat, cat.topic("t12")).to_dict()
    assert all(d in readiness["datasets"] for d in EXTRA_INPUTS)  # the catalog lists them as t12 inputs
    result = run_topic(storage, cat, "t12", readiness, {})
    return kit, storage, reports, t02, readiness, result


def _bytes(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return storage.read_bytes(entry["path"])


def test_every_catalog_output_is_published(evaluated):
    _, _, _, _, _, result = evaluated
    produced = {o["id"] for o in result["outputs"]}
    assert produced == {o.id for o in load_catalog().topic("t12").outputs}


def test_rasters_lie_on_the_t02_grid_with_grades(evaluated):
    _, storage, _, t02, _, result = evaluated
    ref_entry = [o for o in t02["outputs"] if o["id"] == "t02.water_urban"][0]
    _, ref_grid, _ = read_raster(storage.read_bytes(ref_entry["path"]))
    comp, _, _ = read_raster(_bytes(storage, result, "t12.water_carrying_capacity"))
    assert len(set(np.unique(comp)) - {0}) >= 2  # the composite differentiates the city
    for layer in ("t12.single_factor", "t12.water_carrying_capacity"):
        arr, grid, nodata = read_raster(_bytes(storage, result, layer))
        assert grid.crs_epsg == 4525 and grid.shape == ref_grid.shape and grid.transform == ref_grid.transform
        assert nodata == 0 and set(np.unique(arr)) - {0} <= {1, 2, 3, 4, 5} and (arr > 0).sum() > 1000
    res, grid, _ = read_raster(_bytes(storage, result, "t12.water_resources"))
    # 万m³ per cell: sums to the 04-03 zones' resources (≈ the 04-04 groundwater resources, 1,600–2,000 万m³)
    assert 1200 < np.nansum(res) < 2400


def test_vectors_and_tables_are_plausible(evaluated):
    kit, storage, _, _, _, result = evaluated
    status = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t12.water_carrying_status")))
    assert status.crs.to_epsg() == 4525 and len(status) == 6
    assert set(status["status"]) <= {"不超载", "临界状态", "超载", "严重超载"}
    assert (status["status_code"] >= status["gw_status_code"]).all() and (status["status_code"] >= status["city_status_code"]).all()
    erosion = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t12.soil_erosion")))
    stats = pd.read_excel(kit.files("04-06")[1])
    assert erosion["area_km2"].sum() == pytest.approx(stats["erosion_area_km2"].iloc[-1], rel=0.05)
    assert set(erosion["XZQDM"]) <= {"152501200", "152501400", "152501401"}
    alloc = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t12.water_allocation")))
    assert sorted(set(alloc["year"])) == [2025, 2035] and len(alloc) == 6
    resto = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t12.water_restoration")))
    assert len(resto) >= 1 and set(resto["type"]) <= {"盐湖湿地保护修复区", "水土流失综合治理区", "地下水超采治理区"}
    targets = pd.read_csv(io.BytesIO(_bytes(storage, result, "t12.water_targets")), encoding="utf-8-sig")
    assert list(targets.columns) == ["year", "indicator", "value", "unit", "basis"]
    total = targets[targets["indicator"].str.startswith("用水总量")].set_index("year")["value"]
    assert 1000 < total[2025] < 3000 and 1000 < total[2035] < 3000
    demand = targets[targets["indicator"].str.startswith("需水总量")].set_index("year")["value"]
    sectors = targets[targets["indicator"].str.startswith("需水 ")].groupby("year")["value"].sum()
    assert sectors[2035] == pytest.approx(demand[2035], abs=0.5)
    # allocation adds up to the target total of each year
    assert alloc.groupby("year")["alloc_total_10k_m3"].sum()[2035] == pytest.approx(total[2035], abs=0.5)
    # the water-bound scales topic 5 reads: one row per (year, key), machine-readable keys
    scales = pd.read_csv(io.BytesIO(_bytes(storage, result, "t12.water_bound_scales")), encoding="utf-8-sig")
    keys = {"water_bound_population", "projected_population", "water_bound_urban_land", "water_bound_irrigable_area",
            "present_irrigated_area"}
    assert {"year", "key", "值 value"} <= set(scales.columns) and not scales.duplicated(["year", "key"]).any()
    assert set(scales["key"]) == keys and sorted(set(scales["year"])) == [2025, 2035]
    pop = scales[scales["key"] == "water_bound_population"].set_index("year")["值 value"]
    assert (pop > 0).all()


def test_report_names_versions_trend_and_synthetic(evaluated):
    _, storage, reports, _, readiness, result = evaluated
    [md] = [o for o in result["outputs"] if o["id"] == "t12.report"]
    text = storage.read_bytes(md["path"]).decode("utf-8")
    for ds in ("04-03", "04-04", "04-05", "04-06", "04-07", "04-09", "17-02"):
        assert readiness["datasets"][ds]["version"] in text, ds
    assert "Mann–Kendall" in text and "数据溯源" in text and "Sen" in text
    assert any(label in text for label in ("显著增加", "不显著", "显著减少"))
    assert "水功能区水质达标率" in text  # reported as not derivable, not faked
    assert any("04-05 assessment series" in n for n in result["notes"])  # 5 station years → spliced series
