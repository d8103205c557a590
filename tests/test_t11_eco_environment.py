"""T11 生态环境保护研究: the composer's own formulas (Nemerow, Thiessen zones, environment-quality
summaries, the report cross-check) on hand-computed values, and one integration run on a small kit
(deliveries ingested and validated, T02 at 1000 m, then T11)."""

from __future__ import annotations

import io
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.landing import latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import run_topic
from erenhot.topics import t11_eco_environment as t11
from erenhot.topics.inputs import TopicInputs
from kit_helpers import ingest_kit, small_kit

CFG = load_config("t11_eco_environment")
EXTRA_INPUTS = ("01-04", "01-46a.dltb")  # read by T11 beyond the environment datasets
T11_DATASETS = ("01-07", "01-46b", "01-47", "03-02", "03-04", "03-05", "03-06")


# ------------------------------------------------------------------------------------------- formulas

def test_nemerow_index_by_hand():
    screening = {"cd": 0.6, "pb": 170.0}
    samples = pd.DataFrame({"cd": [0.3, 1.2], "pb": [85.0, 170.0]})
    out = t11.nemerow(samples, screening)
    # sample 1: P = 0.5, 0.5 → P_N = 0.5; sample 2: P = 2, 1 → P_N = √((4 + 2.25)/2) = 1.7678
    assert out["p_cd"].tolist() == pytest.approx([0.5, 2.0])
    assert out["nemerow"].tolist() == pytest.approx([0.5, math.sqrt((4 + 1.5 ** 2) / 2)])
    assert out["main_factor"].tolist() == ["cd", "cd"]


def test_nemerow_grades_follow_hj_t166_breaks_with_the_cleaner_class_on_a_break():
    breaks = CFG.get("soil.nemerow_breaks")
    assert breaks == [0.7, 1.0, 2.0, 3.0]
    got = t11._grade(np.array([0.5, 0.7, 0.71, 1.0, 1.5, 2.0, 2.5, 3.0, 3.01]), breaks)
    assert got.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5]


def test_soil_zones_are_thiessen_cells_clipped_to_radius_and_city():
    city = shapely.box(0, 0, 10_000, 10_000)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(2_500, 5_000), shapely.Point(7_500, 5_000)], crs=4525)
    zones = t11.soil_zones(pts, city, max_radius_m=100_000)
    # the bisector x = 5000 splits the square into two halves of 50 km²
    assert [round(g.area / 1e6, 6) for g in zones] == [50.0, 50.0]
    assert zones.iloc[0].bounds == pytest.approx((0, 0, 5_000, 10_000))
    small = t11.soil_zones(pts, city, max_radius_m=1_000)
    assert small.iloc[0].area == pytest.approx(shapely.Point(0, 0).buffer(1_000).area)


def _monitoring() -> pd.DataFrame:
    rows = [
        [2018, "A", "a", "空气质量", "达标天数比例", 80.0, "%", None, ""],
        [2018, "B", "b", "空气质量", "达标天数比例", 90.0, "%", None, ""],
        [2019, "A", "a", "空气质量", "PM10", 80.0, "μg/m³", 70.0, ""],
        [2019, "B", "b", "空气质量", "PM10", 60.0, "μg/m³", 70.0, ""],
        [2019, "A", "a", "空气质量", "达标天数比例", 85.0, "%", None, ""],
        [2019, "B", "b", "空气质量", "达标天数比例", 95.0, "%", None, ""],
        [2015, "CITY", "全市", "水污染物排放", "COD排放量", 800.0, "t", None, ""],
        [2019, "CITY", "全市", "水污染物排放", "COD排放量", 600.0, "t", None, ""],
        [2019, "GW01", "g", "地下水水质", "氟化物", 1.2, "mg/L", 1.0, ""],
        [2019, "GW01", "g", "地下水水质", "总硬度", 300.0, "mg/L", 450.0, ""],
        [2018, "GW01", "g", "地下水水质", "氟化物", 2.0, "mg/L", 1.0, ""],
    ]
    return pd.DataFrame(rows, columns=["year", "station_id", "station_name", "category", "indicator", "value", "unit",
                                       "limit", "standard"])


def test_air_emission_and_groundwater_summaries_by_hand():
    mon = _monitoring()
    air = t11.air_summary(mon, CFG.get("environment.air_limits"))
    pm = air[(air["indicator"] == "PM10") & (air["year"] == 2019)].iloc[0]
    assert pm["value"] == pytest.approx(70.0) and pm["ratio"] == pytest.approx(1.0) and pm["达标"] == "是"
    days = air[air["indicator"] == "达标天数比例"].set_index("year")["value"]
    assert days.to_dict() == {2018: pytest.approx(85.0), 2019: pytest.approx(90.0)}
    em = t11.emission_summary(mon).iloc[0]
    assert (em["first_year"], em["last_year"]) == (2015, 2019) and em["change_pct"] == pytest.approx(-25.0)
    gw = t11.groundwater_summary(mon, CFG.get("environment.groundwater_limits_mg_l"))
    assert len(gw) == 2 and set(gw["year"]) == {2019}  # latest year only
    assert gw.set_index("indicator")["达标"].to_dict() == {"氟化物": "否", "总硬度": "是"}
    eq = t11.monitoring_equivalents(mon, gw)
    assert eq["PM10年均浓度"] == pytest.approx(70.0)
    assert eq["城区空气质量达标天数比例"] == pytest.approx(90.0)
    assert eq["集中式饮用水水源地水质达标率"] == pytest.approx(50.0)
    assert eq["化学需氧量排放量"] == pytest.approx(600.0)


def test_report_key_figures_are_read_from_the_docx_table():
    from erenhot.kitparts.ecology import _docx_bytes

    data = _docx_bytes("测试报告书", ["正文"], [("PM10年均浓度", 61.5, "μg/m³"), ("氨氮排放量", 70.0, "t")])
    figs = t11.report_key_figures(data)
    assert figs.to_dict("records") == [{"指标": "PM10年均浓度", "报告书数值": 61.5, "单位": "μg/m³"},
                                       {"指标": "氨氮排放量", "报告书数值": 70.0, "单位": "t"}]


def test_prefix_mask_and_code_fill():
    codes = np.array([["0601", "0401"], [None, "1003"]], dtype=object)
    assert t11._prefix_mask(codes, ["06", "10"]).tolist() == [[True, False], [False, True]]


# ------------------------------------------------------------------------------------------- integration

def _t11_readiness(storage: Storage) -> dict:
    """T11's readiness; it lists the city boundary (01-04) and the 三调 parcels (01-46a.dltb): the
    composer needs the boundary for every output and the parcels for the resistance surface, the
    control units and the water-ecology zones."""
    cat = load_catalog()
    ready = check_readiness(storage, cat, cat.topic(11)).to_dict()
    assert all(ds in ready["datasets"] for ds in EXTRA_INPUTS)
    return ready


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t11")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "data"))
    cat = load_catalog()
    wanted = {i.dataset for t in (2, 11) for i in cat.topic(t).inputs if i.dataset} | set(EXTRA_INPUTS)
    ingest_kit(storage, kit, skip=tuple(d for d in kit.datasets if d not in wanted))
    for ds_id in sorted((d for d in kit.datasets if d in wanted), key=lambda i: (i != "01-04", i)):
        report = accept_delivery(storage, cat, latest_delivery(storage, ds_id))
        assert report["state"] == "validated", (ds_id, report["failures"])
    t02 = run_topic(storage, cat, "t02", check_readiness(storage, cat, cat.topic(2)).to_dict(), {"grid.cell_size_m": 1000})
    assert t02["skipped"] is False
    result = t11.run(storage, cat, _t11_readiness(storage), {})
    return storage, result


def _layer(storage: Storage, result: dict, output_id: str) -> gpd.GeoDataFrame:
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return gpd.read_parquet(io.BytesIO(storage.read_bytes(entry["path"])))


def test_every_catalog_vector_output_and_the_report_are_published(evaluated):
    storage, result = evaluated
    assert result["skipped"] is False
    cat = load_catalog()
    produced = {o["id"] for o in result["outputs"]}
    assert produced == {o.id for o in cat.topic(11).outputs}
    for oid in produced - {"t11.report"}:
        gdf = _layer(storage, result, oid)
        assert gdf.crs.to_epsg() == 4525 and len(gdf) > 0, oid
        assert gdf.geometry.is_valid.all(), oid


def test_security_pattern_is_one_layer_with_sources_corridors_and_nodes(evaluated):
    storage, result = evaluated
    esp = _layer(storage, result, "t11.ecological_security_pattern")
    assert set(esp["kind"]) <= {"source", "corridor", "node"}
    src, cor, nod = (esp[esp["kind"] == k] for k in ("source", "corridor", "node"))
    assert len(src) >= 2 and set(src.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (src["area_km2"] > 0).all()
    assert len(cor) == len(src) - 1  # MST over the connected sources
    assert set(cor.geom_type) == {"LineString"} and (cor["cost"] > 0).all()
    assert set(cor["source_a"].astype(int)) | set(cor["source_b"].astype(int)) <= set(src["feature_id"])
    assert len(nod) >= 1 and set(nod.geom_type) == {"Point"}
    assert set(nod["node_kind"]) <= {"ridge", "junction", "barrier"}
    city = shapely.union_all(_std(storage, "01-04", "city").geometry.values)
    assert city.buffer(1000).covers(shapely.union_all(esp.geometry.values))


def test_control_units_partition_the_city_with_priority_over_the_red_line(evaluated):
    storage, result = evaluated
    units = _layer(storage, result, "t11.eco_control_zones")
    assert set(units["unit_type"]) == {1, 2, 3}
    assert units["unit_code"].str.fullmatch(r"ZH152501[123]\d{4}").all() and units["unit_code"].is_unique
    total = units["area_km2"].sum()
    assert 3500 < total < 4500  # ≈ 4,015 km², rasterised at 1 km
    red = _std(storage, "01-47")
    prio = shapely.union_all(units[units["unit_type"] == 1].geometry.values)
    red_u = shapely.union_all(red.geometry.values)
    assert prio.intersection(red_u).area / red_u.area > 0.8  # 1 km cells: edges differ
    key = units[units["unit_type"] == 2]
    assert key["basis"].str.contains("城镇").all()


def _std(storage: Storage, ds: str, part: str | None = None) -> gpd.GeoDataFrame:
    return TopicInputs(storage, _t11_readiness(storage)).vector(ds, part)


def test_function_zones_are_graded_and_environment_zones_hold_soil_and_water_themes(evaluated):
    storage, result = evaluated
    fz = _layer(storage, result, "t11.eco_function_zones")
    assert len(fz) == 4 and set(fz["level_label"]) <= {"保护", "修复", "维护"}
    assert fz[["share_extremely_important", "share_red_line", "share_very_fragile"]].apply(lambda c: c.between(0, 1).all()).all()
    assert fz.loc[fz["GNQMC"] == "盐湖湿地生物多样性保护区", "share_red_line"].iloc[0] > 0.3
    env = _layer(storage, result, "t11.environment_zones")
    assert set(env["theme"]) == {"土壤污染", "水生态"}
    soil = env[env["theme"] == "土壤污染"]
    assert soil["grade"].between(1, 5).all() and (soil["grade"] >= 3).any()  # the mine samples exceed GB 15618
    assert (soil["nemerow"] > 0).all()


def test_tables_and_report_name_the_delivery_versions(evaluated):
    storage, result = evaluated
    folder = f"products/t11/{result['run_key']}"
    md = storage.read_bytes(f"{folder}/report.md").decode("utf-8")
    for ds in ("01-47", "03-04", "03-05", "03-06", "03-02", "01-46b"):
        assert latest_delivery(storage, ds).version in md, ds
    assert "t02.eco_importance" in md and "数据溯源" in md
    air = pd.read_csv(io.BytesIO(storage.read_bytes(f"{folder}/tables/air_quality.csv")), encoding="utf-8-sig")
    days = air[air["indicator"] == "达标天数比例"]
    assert sorted(days["year"]) == [2015, 2016, 2017, 2018, 2019] and days["value"].between(70, 100).all()
    check = pd.read_csv(io.BytesIO(storage.read_bytes(f"{folder}/tables/report_check.csv")), encoding="utf-8-sig")
    assert len(check) == 8 and (check["一致"] == "是").all()  # the kit's report repeats the monitoring figures
    areas = pd.read_csv(io.BytesIO(storage.read_bytes(f"{folder}/tables/control_zone_areas.csv")), encoding="utf-8-sig")
    whole = areas[areas["zone"] == "全市 whole city"]
    assert whole["share"].sum() == pytest.approx(1.0)
    for name in ("eco_control_zones", "eco_function_zones", "ecological_security_pattern", "environment_zones"):
        assert storage.exists(f"{folder}/maps/{name}.png"), name


def test_an_unchanged_rerun_is_reused(evaluated):
    storage, result = evaluated
    again = t11.run(storage, load_catalog(), _t11_readiness(storage), {})
    assert again["skipped"] is True and again["run_key"] == result["run_key"]


def test_the_kit_part_is_deterministic(tmp_path):
    from erenhot.kitparts import ecology

    assert set(ecology.DATASETS) == set(T11_DATASETS)
    a = small_kit(tmp_path / "a")
    b = small_kit(tmp_path / "b")
    for ds in T11_DATASETS:
        for fa, fb in zip(a.files(ds), b.files(ds), strict=True):
            assert fa.read_bytes() == fb.read_bytes(), (ds, fa.name)
