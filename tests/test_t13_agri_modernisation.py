"""T13 农牧业现代化发展格局: the added formulas by hand, then the whole topic on a small kit."""

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
from erenhot.evaluation import grassland as gl
from erenhot.grid import read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import run_topic
from erenhot.topics import t13_agri_modernisation as t13
from kit_helpers import small_kit

CFG = load_config("t13_agri_modernisation")


# ── formulas ─────────────────────────────────────────────────────────────────────────────────


def test_capacity_from_standard_by_hand():
    """A = Σ Y · k_t · cell area: two cells of type A (k = 0.001) at 300 and NaN kg/hm², one of B (k = 0.002)
    at 200 kg/hm², cell 100 hm² → zone 1: A 0.3 · 100 = 30 SU (100 hm² without yield), B 0.4 · 100 = 40 SU."""
    standard = pd.DataFrame({gl.GRASS_TYPE: ["A", "B"], gl.STANDARD_COEF: [0.001, 0.002]})
    zones = np.array([[1, 1, 1, 0]])
    types = np.array([["A", "A", "B", "B"]], dtype=object)
    y = np.array([[300.0, np.nan, 200.0, 999.0]])
    t = gl.capacity_from_standard(zones, types, y, 100.0, standard, {1: "Z"})
    assert t[gl.CAPACITY].tolist() == pytest.approx([30.0, 40.0])
    assert t[gl.NO_YIELD_AREA_HA].tolist() == [100.0, 0.0]
    tot = gl.township_totals(t)
    assert tot[gl.CAPACITY].iloc[0] == pytest.approx(70.0)
    assert tot[gl.AREA_HA].iloc[0] == 300.0
    with pytest.raises(ValueError, match="not in the stocking standard"):
        gl.capacity_from_standard(zones, np.array([["C", "A", "B", "B"]], dtype=object), y, 100.0, standard)


def test_grade_ascending_breaks_take_the_better_grade():
    g = gl.grade_ascending([10, 11, 12, 13, 14, 15, np.nan], [11, 13, 14])
    assert g.tolist() == [1, 1, 2, 2, 3, 4, 0]
    with pytest.raises(ValueError):
        gl.grade_ascending([1], [14, 11])


def test_reduction_path_by_hand():
    p = gl.reduction_path(1200.0, 1000.0, {"2025": 0.5, "2035": 1.0})
    assert p["目标载畜量 羊单位"].tolist() == [1100.0, 1000.0]
    assert p["累计减畜 羊单位"].tolist() == [100.0, 200.0]
    assert p[gl.OVERLOAD_PCT].tolist() == pytest.approx([10.0, 0.0])
    assert gl.reduction_path(800.0, 1000.0, {"2025": 0.5})["目标载畜量 羊单位"].tolist() == [800.0]  # no overload
    with pytest.raises(ValueError, match="2025"):
        gl.reduction_path(1.0, 1.0, {"2025": 1.5})


def test_improved_pasture_area_by_hand():
    """gap 100 羊单位 on natural grassland of 0.1 羊单位/hm², uplift 3 → each improved hm² adds 0.2 → 500 hm²;
    no gap → 0; no natural rate → NaN; uplift ≤ 1 refused."""
    got = gl.improved_pasture_area_ha(np.array([100.0, 0.0, 10.0]), np.array([0.1, 0.1, np.nan]), 3.0)
    assert got[:2].tolist() == pytest.approx([500.0, 0.0]) and np.isnan(got[2])
    with pytest.raises(ValueError, match="uplift"):
        gl.improved_pasture_area_ha(np.array([1.0]), np.array([0.1]), 1.0)


def test_rank_within_zones_is_nested_and_ordered():
    """zone 1: cells (0,0) key 2, (0,1) key 1 → ranks 1, 0; zone 2: (0,2) eligible → 0, (0,3) not; zone 0 ignored."""
    z = np.array([[1, 1, 2, 2, 0]])
    r = gl.rank_within_zones(z, np.array([[1, 1, 1, 0, 1]]), np.array([[2, 1, 5, 1, 0]]))
    assert r.tolist() == [[1, 0, 0, -1, -1]]


def test_gacha_class_rules_in_order():
    got = gl.gacha_class([5.0, 40.0, 40.0, 40.0, 15.0], [-50.0, -30.0, -29.9, np.nan, 0.0],
                         [False, False, False, True, False], 15, 30)
    assert got.tolist() == ["城郊融合类", "搬迁撤并类", "集聚提升类", "搬迁撤并类", "城郊融合类"]


def test_livestock_of_a_gacha_in_sheep_units_by_hand():
    """100 牛 × 5 + 10 马 × 6 + 20 骆驼 × 7 + 1000 绵羊 × 1 + 200 山羊 × 0.9 = 1880 羊单位 (config livestock)."""
    lp = CFG.params(gl.LivestockParams, "livestock")
    assert gl.to_sheep_units({"牛": 100, "马": 10, "骆驼": 20, "绵羊": 1000, "山羊": 200}, lp) == pytest.approx(1880.0)


def test_config_leaves_are_sourced_and_marked():
    for e in CFG.entries():
        assert e["source"], e["path"]
        if e["confidence"] in ("M", "L"):
            assert "uncertain" in e["note"].lower() and "configurable" in e["note"].lower(), e["path"]


# ── the topic on a small kit ──────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def t13_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("t13")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    needed = {i.dataset for t in ("t02", "t14", "t03", "t09", "t13") for i in cat.topic(t).inputs if i.dataset} & set(kit.datasets)
    for ds in sorted(needed | {"01-04"}, key=lambda i: (i != "01-04", i)):  # the city boundary first
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        report = accept_delivery(storage, cat, latest_delivery(storage, ds))
        assert report["state"] == "validated", (ds, report["failures"])
    run_topic(storage, cat, "t02", check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    run_topic(storage, cat, "t14", check_readiness(storage, cat, cat.topic("t14")).to_dict(), {})  # 区位 of t03
    run_topic(storage, cat, "t03", check_readiness(storage, cat, cat.topic("t03")).to_dict(), {})
    run_topic(storage, cat, "t09", check_readiness(storage, cat, cat.topic("t09")).to_dict(), {})
    readiness = check_readiness(storage, cat, cat.topic("t13")).to_dict()
    start = time.time()
    if "t13" in __import__("erenhot.topics", fromlist=["TOPIC_RUNNERS"]).TOPIC_RUNNERS:
        result = run_topic(storage, cat, "t13", readiness, {})
    else:
        result = t13.run(storage, cat, readiness, {})
    elapsed = time.time() - start
    yield storage, cat, readiness, result, elapsed, kit
    shutil.rmtree(root, ignore_errors=True)


def _out(result, layer_id):
    [o] = [o for o in result["outputs"] if o["id"] == layer_id]
    return o


def _table(storage, result, name):
    folder = _out(result, "t13.report")["path"].rsplit("/", 1)[0]  # extra tables sit beside the report
    return pd.read_csv(io.BytesIO(storage.read_bytes(f"{folder}/tables/{name}.csv")), encoding="utf-8-sig")


def test_every_catalog_output_is_published_except_the_undeliverable(t13_run):
    _storage, cat, _, result, elapsed, _kit = t13_run
    assert result["skipped"] is False
    got = {o["id"] for o in result["outputs"] if o.get("id")}
    want = {o.id for o in cat.topic("t13").outputs} - set(t13.NOT_PRODUCED)
    assert got == want
    assert elapsed < 40


def test_rasters_are_on_the_t03_grid_with_valid_grades(t13_run):
    storage, _, readiness, result, _, _kit = t13_run
    _g, grid, _ = read_raster(storage.read_bytes(readiness["layers"]["t03.grazing_suitability"]["path"]))
    for lid in ("t13.grassland_suitability", "t13.cropland_suitability"):
        arr, g, _nodata = read_raster(storage.read_bytes(_out(result, lid)["path"]))
        assert g.crs_epsg == 4525 and g.shape == grid.shape and g.transform == grid.transform
        assert set(np.unique(arr)) <= {0, 1, 2, 3, 4, 5}
    grass = read_raster(storage.read_bytes(_out(result, "t13.grassland_suitability")["path"]))[0]
    assert np.isin(grass, [1, 2, 3, 4]).sum() > 0.5 * (grass > 0).sum()  # the desert steppe is mostly grassland


def test_balance_matches_the_delivered_herds(t13_run):
    storage, _, _, result, _, kit = t13_run
    bal = _table(storage, result, "grass_livestock_balance")
    assert list(bal.columns[:7]) == [gl.ZONE, gl.CAPACITY, gl.ACTUAL, gl.OVERLOAD, gl.OVERLOAD_PCT, gl.REDUCTION, gl.BALANCE]
    herds = pd.read_excel(kit.files("18-01")[0])
    lp = CFG.params(gl.LivestockParams, "livestock")
    want = sum(gl.to_sheep_units({s: r[c] for c, s in t13.SPECIES.items()}, lp) for _, r in herds.iterrows())
    assert bal[gl.ACTUAL].sum() == pytest.approx(want)
    assert 30_000 < want < 150_000
    cap = bal[gl.CAPACITY].sum()
    assert 5_000 < cap < 500_000  # ≈ 0.05–0.3 羊单位/hm² over ~3,500 km² of desert steppe
    np.testing.assert_allclose(bal[gl.REDUCTION], np.maximum(bal[gl.ACTUAL] - bal[gl.CAPACITY], 0.0))
    path = _table(storage, result, "reduction_path")
    assert path["年份"].astype(str).tolist() == ["2025", "2035"]
    assert path["目标载畜量 羊单位"].iloc[-1] == pytest.approx(min(want, cap))


def test_vectors_have_their_attributes(t13_run):
    storage, _, _, result, _, kit = t13_run
    zoning = gpd.read_parquet(io.BytesIO(storage.read_bytes(_out(result, "t13.agri_zoning")["path"])))
    assert zoning.crs.to_epsg() == 4525 and {"QHMC", "QHLX", "合理载畜量 羊单位", "评价主导功能"} <= set(zoning.columns)
    space = gpd.read_parquet(io.BytesIO(storage.read_bytes(_out(result, "t13.production_space")["path"])))
    assert set(space["空间类型"]) <= set(t13.SPACE_LABELS.values()) and space["管控规则"].notna().all()
    layout = gpd.read_parquet(io.BytesIO(storage.read_bytes(_out(result, "t13.sumu_gacha_layout")["path"])))
    assert len(layout) == len(pd.read_excel(kit.files("18-01")[0]))
    assert set(layout["嘎查分类"]) <= set(t13.GACHA_CODES)
    assert (layout.geom_type == "Point").all()


def test_report_names_the_delivery_versions(t13_run):
    storage, _, readiness, result, _, _kit = t13_run
    md = storage.read_bytes(_out(result, "t13.report")["path"]).decode("utf-8")
    for ds in ("01-13", "01-40", "04-11", "18-01"):
        assert readiness["datasets"][ds]["version"] in md
    assert "草畜平衡" in md and "t09.stocking_rate" in md


# ── derived proposals: 草牧场建设 2025/2035 and 发展战略格局 ─────────────────────────────────────


def _layer(storage, result, lid):
    return gpd.read_parquet(io.BytesIO(storage.read_bytes(_out(result, lid)["path"])))


def test_derived_proposals_are_valid_nested_and_labelled(t13_run):
    storage, _, _, result, _, _kit = t13_run
    p25, p35 = _layer(storage, result, "t13.pasture_2025"), _layer(storage, result, "t13.pasture_2035")
    strat = _layer(storage, result, "t13.strategy_pattern")
    label = CFG.values["pasture_construction"]["label"]
    for g in (p25, p35, strat):
        assert g.crs.to_epsg() == 4525 and g.geometry.is_valid.all() and (~g.geometry.is_empty).all()
    for g in (p25, p35):
        assert {"建设类型", "年度", "面积 hm²", "乡镇", "依据", "性质"} <= set(g.columns)
        assert (g["性质"] == label).all()
        assert set(g["建设类型"]) <= set(CFG.values["pasture_construction"]["construction_types"].values())
    assert set(p25["年度"]) <= {"2025"} and set(p35["年度"]) <= {"2025", "2035"}
    assert p35.area.sum() >= p25.area.sum() - 1e-6
    if len(p25):  # every 2025 site is still in 2035
        assert p25.union_all().difference(p35.union_all()).area < 1.0
    assert set(strat["格局类型"]) <= {r["name"] for r in CFG.values["strategy_pattern"]["rules"]}
    assert strat["发展导向"].notna().all() and strat["性质"].str.contains("规划建议").all()
    md = storage.read_bytes(_out(result, "t13.report")["path"]).decode("utf-8")
    assert "规划建议" in md and "不是已交付的规划" in md


def _check_converted_feed_gap(storage, result, uplift):
    """By hand, per township t and year y: gap = share_y · 应减畜量_t (balance table); natural rate
    n_t = Σ 合理载畜量 / Σ (草地面积 − 缺产草量面积) (capacity_by_type); need = gap / (n_t · (uplift − 1));
    placed = min(need, eligible area 可建面积). Cells are whole and each township rounds its need up to
    whole cells (ceil), so the layer exceeds Σ placed by less than one cell per township:
    0 ≤ layer − Σ placed < n_townships · 100 hm² (1 km cells on this kit; 可建面积 is checked to be whole
    cells). E.g. 格日勒敖都苏木 2025 at uplift 3: 11,584 / (0.1831 · 2) ≈ 31,626 hm² > 4,800 hm² eligible → 4,800."""
    pc = CFG.values["pasture_construction"]
    bal = _table(storage, result, "grass_livestock_balance")
    by_type = _table(storage, result, "capacity_by_type")
    table = _table(storage, result, "pasture_construction")
    g = by_type.groupby(gl.ZONE).agg(cap=(gl.CAPACITY, "sum"), area=(gl.AREA_HA, "sum"), no=(gl.NO_YIELD_AREA_HA, "sum"))
    rate = g["cap"] / (g["area"] - g["no"])
    avail = table.drop_duplicates(gl.ZONE).set_index(gl.ZONE)["可建面积 hm²"]
    cell_ha = 100.0
    assert np.allclose(np.round(avail / cell_ha), avail / cell_ha)
    areas = {}
    for year, lid in (("2025", "t13.pasture_2025"), ("2035", "t13.pasture_2035")):
        share = float(pc["year_shares"][year])
        placed = 0.0
        for _, b in bal.iterrows():
            gap = share * b[gl.REDUCTION]
            need = 0.0 if gap <= 0 else gap / (rate[b[gl.ZONE]] * (uplift - 1.0))
            placed += min(need, float(avail.get(b[gl.ZONE], 0.0)))
        layer_ha = _layer(storage, result, lid)["面积 hm²"].sum()
        assert placed - 1e-6 <= layer_ha < placed + len(bal) * cell_ha, (year, placed, layer_ha)
        rows = table[table["年度"].astype(str) == year]
        assert rows["建议面积 hm²"].sum() == pytest.approx(layer_ha)
        areas[year] = (placed, layer_ha)
    return areas


def test_proposed_pasture_area_is_the_converted_feed_gap(t13_run):
    storage, _, _, result, _, _kit = t13_run
    _check_converted_feed_gap(storage, result, float(CFG.values["pasture_construction"]["uplift_factor"]))


def test_proposed_pasture_area_below_the_eligible_land(t13_run):
    """At uplift 200 (an irrigated forage base) the kit's gap fits the eligible grassland: 2025 needs
    ≈ 11,584 / (0.1831 · 199) ≈ 318 hm² in 格日勒敖都苏木, 2035 twice that — so 2035 adds sites."""
    storage, cat, readiness, _, _, _kit = t13_run
    result = run_topic(storage, cat, "t13", readiness, {"pasture_construction.uplift_factor": 200.0})
    areas = _check_converted_feed_gap(storage, result, 200.0)
    table = _table(storage, result, "pasture_construction")
    assert table["未落地面积 hm²"].max() == pytest.approx(0.0)
    assert areas["2035"][1] > areas["2025"][1] > 0
    p25, p35 = _layer(storage, result, "t13.pasture_2025"), _layer(storage, result, "t13.pasture_2035")
    assert p25.union_all().difference(p35.union_all()).area < 1.0 and "2035" in set(p35["年度"])
