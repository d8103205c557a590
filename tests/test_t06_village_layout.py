"""T06 乡村振兴与嘎查布局优化: sampling of layers at 嘎查 points on a tiny grid (known answers), the kit
part's consistency with 18-01, and one run end to end without Prefect: small kit → ingest → GX validation
→ T02 (1 km grid) → T11 → T14 (its composer when present, else a synthetic ``t14.travel_time_city`` on
T02's grid written into the readiness) → T06."""

from __future__ import annotations

import hashlib
import importlib.util
import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.evaluation import villages as vl
from erenhot.grid import Grid, boundary_mask, read_raster, write_cog
from erenhot.landing import latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import run_topic
from erenhot.topics import t06_village_layout as t06
from erenhot.topics import t11_eco_environment as t11
from erenhot.topics.inputs import TopicInputs
from kit_helpers import ingest_kit, small_kit

CFG = load_config("t06_village_layout")
REAL_T14 = importlib.util.find_spec("erenhot.topics.t14_transport") is not None
GRID = Grid(4525, Affine(100.0, 0.0, 500_000.0, 0.0, -100.0, 4_800_000.0), 5, 5)


def _centre(row: int, col: int) -> tuple[float, float]:
    return 500_000.0 + (col + 0.5) * 100.0, 4_800_000.0 - (row + 0.5) * 100.0


# ── sampling on a tiny grid ─────────────────────────────────────────────────────────────────────


def test_cells_within_counts_centres_inclusive_of_the_radius():
    x, y = _centre(2, 2)
    def n(r):
        return len(vl.cells_within(GRID.transform, GRID.shape, x, y, r)[0])
    assert n(99.9) == 1          # only the cell itself
    assert n(100.0) == 5         # + the 4 edge neighbours at exactly 100 m (≤)
    assert n(141.0) == 5 and n(141.5) == 9  # diagonals at 141.42 m
    rows, cols = vl.cells_within(GRID.transform, GRID.shape, *_centre(0, 0), 100.0)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 0), (0, 1), (1, 0)]  # clipped at the edge
    # a radius below half a cell keeps the containing cell; a point off the grid has none
    rows, cols = vl.cells_within(GRID.transform, GRID.shape, 500_230.0, 4_799_770.0, 10.0)
    assert (rows.tolist(), cols.tolist()) == ([2], [2])
    assert len(vl.cells_within(GRID.transform, GRID.shape, 400_000.0, 4_799_770.0, 10.0)[0]) == 0


def test_class_share_and_value_at_by_hand():
    cls = np.full(GRID.shape, 3, dtype=np.uint8)
    cls[2, 2] = 1
    cls[1, 2] = 1
    cls[3, 2] = 2
    cls[2, 1] = 0  # outside the city: not counted
    x, y = _centre(2, 2)
    # within 100 m: (2,2)=1, (1,2)=1, (3,2)=2, (2,3)=3, (2,1)=0 excluded → 2 of 4 valid
    assert vl.class_share(cls, GRID.transform, x, y, 100.0, [1]) == pytest.approx(0.5)
    assert vl.class_share(cls, GRID.transform, x, y, 100.0, [1, 2]) == pytest.approx(0.75)
    assert vl.class_share(cls, GRID.transform, x, y, 50.0, [1]) == 1.0
    assert np.isnan(vl.class_share(np.zeros(GRID.shape, np.uint8), GRID.transform, x, y, 100.0, [1]))
    tt = np.arange(25, dtype=float).reshape(GRID.shape)
    assert vl.value_at(tt, GRID.transform, x, y) == 12.0
    tt[2, 2] = np.nan  # NaN at the 驻地 → mean of the valid cells within the radius: (7 + 17 + 11 + 13) / 4
    assert vl.value_at(tt, GRID.transform, x, y, 100.0) == pytest.approx(12.0)
    assert np.isnan(vl.value_at(tt, GRID.transform, x, y, 0.0))
    assert np.isnan(vl.value_at(tt, GRID.transform, 0.0, 0.0, 100.0))
    # sample_value says how the value was obtained (the fallback is reported, not silent)
    assert vl.sample_value(tt, GRID.transform, *_centre(1, 1), 100.0) == (6.0, vl.SAMPLED_CELL)
    v, how = vl.sample_value(tt, GRID.transform, x, y, 100.0)
    assert v == pytest.approx(12.0) and how == vl.SAMPLED_BUFFER_MEAN
    v, how = vl.sample_value(tt, GRID.transform, x, y, 0.0)
    assert np.isnan(v) and how == vl.SAMPLED_NONE


def test_sample_indicators_area_shares_and_travel_time():
    x, y = _centre(2, 2)
    pts = gpd.GeoDataFrame({"GCMC": ["甲"]}, geometry=[shapely.Point(x, y)], crs=4525)
    eco = np.full(GRID.shape, 2, np.uint8)
    eco[2, 2] = 1
    hazard = np.full(GRID.shape, 4, np.uint8)
    hazard[:, 3:] = 1  # the east column within 100 m
    travel = np.full(GRID.shape, 42.0)
    east = shapely.box(x, y - 1000, x + 1000, y + 1000)  # the eastern half of the buffer
    sp = {**CFG.get("sampling"), "buffer_radius_m": 100.0}
    got = t06.sample_indicators(pts, GRID, eco, hazard, travel, east, None, sp).iloc[0]
    assert got["travel_time_min"] == 42.0 and got["travel_time_sampled"] == "cell"
    assert got["eco_extreme_share"] == pytest.approx(1 / 5)
    assert got["hazard_high_share"] == pytest.approx(1 / 5)
    assert got["eco_control_share"] == pytest.approx(0.5, abs=1e-9)
    assert np.isnan(got["eco_source_share"])
    assert t06.sample_indicators(pts, GRID, eco, hazard, travel, shapely.Polygon(), shapely.Polygon(), sp).iloc[0]["eco_control_share"] == 0.0
    travel[2, 2] = np.nan  # no value in the 驻地 cell → the buffer mean, flagged
    got = t06.sample_indicators(pts, GRID, eco, hazard, travel, None, None, sp).iloc[0]
    assert got["travel_time_min"] == 42.0 and got["travel_time_sampled"] == "buffer_mean"


def test_nearest_targets_for_relocated_villages():
    pts = gpd.GeoSeries([shapely.Point(0, 0), shapely.Point(10, 0), shapely.Point(100, 0), shapely.Point(3, 0)], crs=4525)
    relocated = pd.Series([True, False, False, True])
    target = pd.Series([True, True, True, True])
    got = t06.nearest_targets(pts, relocated, target)
    assert got.tolist() == [1, None, None, 1]  # index labels; a relocated 嘎查 is never a target
    got = t06.nearest_targets(pts, relocated, pd.Series([True, False, True, True]))
    assert got.tolist() == [2, None, None, 2]
    assert t06.nearest_targets(pts, pd.Series([True] * 4), target).tolist() == [None] * 4  # → the city


def test_residents_move_to_the_target_by_index_even_with_two_gacha_of_the_same_name():
    # two 苏木 each have a 嘎查 named 乙; the relocated 甲 (苏木 A) is nearest to 乙 of 苏木 B (index 2)
    frame = pd.DataFrame({"XZQDM": ["A", "A", "B", "B"], "GCMC": ["甲", "乙", "乙", "丙"],
                          "households": [10.0, 20.0, 30.0, 40.0]}, index=[5, 6, 7, 8])
    pts = gpd.GeoSeries([shapely.Point(0, 0), shapely.Point(500, 0), shapely.Point(100, 0), shapely.Point(900, 0)],
                        index=frame.index, crs=4525)
    relocated = pd.Series([True, False, False, False], index=frame.index)
    tgt = t06.nearest_targets(pts, relocated, pd.Series(True, index=frame.index))
    assert tgt[5] == 7 and frame.loc[tgt[5], "XZQDM"] == "B"
    received, planned, to_city = t06.transfer(frame["households"], relocated, tgt)
    assert received.tolist() == [0.0, 0.0, 10.0, 0.0]  # not to 乙 of 苏木 A (a name match would pick index 6)
    assert planned.tolist() == [0.0, 20.0, 40.0, 40.0] and to_city == 0.0
    assert planned.sum() + to_city == frame["households"].sum()


def test_transfer_conserves_the_total_and_sends_the_rest_to_the_city():
    own = pd.Series([3.0, 5.0, 7.0, 11.0])
    relocated = pd.Series([True, False, True, False])
    target = pd.Series([1, None, None, None], dtype=object)  # row 2 has no target → the city
    received, planned, to_city = t06.transfer(own, relocated, target)
    assert received.tolist() == [0.0, 3.0, 0.0, 0.0] and planned.tolist() == [0.0, 8.0, 0.0, 11.0] and to_city == 7.0
    assert planned.sum() + to_city == own.sum()
    received, planned, to_city = t06.transfer(own, pd.Series(False, index=own.index), target)
    assert planned.tolist() == own.tolist() and to_city == 0.0 and not received.any()
    with pytest.raises(ValueError, match="relocated itself"):
        t06.transfer(own, relocated, pd.Series([2, None, None, None], dtype=object))
    assert t06.whole_households(pd.Series([0.4, 0.5, 2.5, 3.49])).tolist() == [0.0, 1.0, 3.0, 3.0]


def test_point_map_renders_chinese_labels_and_checks_lengths():
    from erenhot import maps

    png = maps.render_point_map([500_150.0, 500_350.0], [4_799_850.0, 4_799_650.0], [1, 2], GRID,
                                [(1, "集聚提升类", "#e6550d"), (2, "城郊融合类", "#3182bd")], "嘎查分类",
                                labels=["甲嘎查", "乙嘎查"], sizes=[40.0, 80.0], size_note="符号大小表示常住人口")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    with pytest.raises(ValueError, match="one entry per point"):
        maps.render_point_map([0.0], [0.0, 1.0], [1], GRID, [], "x")


# ── end to end ──────────────────────────────────────────────────────────────────────────────────


def _synthetic_travel_time(storage: Storage, ready: dict) -> np.ndarray:
    """Minutes to the urban township at 60 km/h in a straight line on T02's grid (NaN outside the
    city), written into storage and the readiness as t14.travel_time_city would be."""
    inp = TopicInputs(storage, ready)
    eco, grid, _ = read_raster(inp.layer_bytes("t02.eco_importance"))
    town = inp.vector("01-04", "townships")
    seat = town[town["XZQDM"].astype(str) == "152501400"].geometry.iloc[0].representative_point()
    inside = boundary_mask(inp.vector("01-04", "city"), grid)
    t = grid.transform
    xx, yy = np.meshgrid(t.c + (np.arange(grid.width) + 0.5) * t.a, t.f + (np.arange(grid.height) + 0.5) * t.e)
    tt = np.where(inside, np.hypot(xx - seat.x, yy - seat.y) / 1000.0, np.nan).astype("float32")
    data = write_cog(tt, grid, nodata=np.nan, tags={"LAYER": "t14.travel_time_city"})
    path = "synthetic/t14/travel_time_city.tif"
    storage.write_bytes(path, data)
    ready["layers"]["t14.travel_time_city"] = {"id": "t14.travel_time_city", "path": path, "kind": "raster",
                                               "sha256": hashlib.sha256(data).hexdigest(), "run_key": "synthetic"}
    return tt


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return small_kit(tmp_path_factory.mktemp("t06kit") / "kit")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, kit):
    root = tmp_path_factory.mktemp("t06")
    storage = Storage(str(root / "data"))
    cat = load_catalog()
    topics = (2, 11, 6, 14) if REAL_T14 else (2, 11, 6)
    wanted = {i.dataset for t in topics for i in cat.topic(t).inputs if i.dataset} | {"01-04", "01-46a.dltb"}
    ingest_kit(storage, kit, skip=tuple(d for d in kit.datasets if d not in wanted))
    for ds_id in sorted((d for d in kit.datasets if d in wanted), key=lambda i: (i != "01-04", i)):
        report = accept_delivery(storage, cat, latest_delivery(storage, ds_id))
        assert report["state"] == "validated", (ds_id, report["failures"])
    assert run_topic(storage, cat, "t02", check_readiness(storage, cat, cat.topic(2)).to_dict(),
                     {"grid.cell_size_m": 1000})["skipped"] is False
    t11.run(storage, cat, check_readiness(storage, cat, cat.topic(11)).to_dict(), {})
    travel = None
    if REAL_T14:
        from erenhot.topics import t14_transport

        t14_transport.run(storage, cat, check_readiness(storage, cat, cat.topic(14)).to_dict(), {})
        ready = check_readiness(storage, cat, cat.topic(6)).to_dict()
    else:
        ready = check_readiness(storage, cat, cat.topic(6)).to_dict()
        travel = _synthetic_travel_time(storage, ready)
    missing = [r["input"] for r in ready["rows"] if r["required"] and not r["usable"]]
    assert not missing, missing
    result = t06.run(storage, cat, ready, {})
    return storage, cat, ready, result, travel


def _out(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    data = storage.read_bytes(entry["path"])
    if entry["path"].endswith(".parquet"):
        return gpd.read_parquet(io.BytesIO(data))
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"XZQDM": str})


def test_every_catalog_output_maps_and_report_are_published(evaluated):
    storage, cat, _, result, _ = evaluated
    assert result["skipped"] is False
    assert {o["id"] for o in result["outputs"]} == {o.id for o in cat.topic(6).outputs}
    md = next(o for o in result["outputs"] if o["id"] == "t06.report")
    text = storage.read_bytes(md["path"]).decode("utf-8")
    for o in cat.topic(6).outputs:
        if o.kind == "vector":
            gdf = _out(storage, result, o.id)
            assert gdf.crs.to_epsg() == 4525 and len(gdf) > 0 and set(gdf.geom_type) == {"Point"}, o.id
            assert f"](maps/{o.id.split('.', 1)[1]}.png)" in text, o.id
    assert "未产出 Not produced" in text and "数据溯源 Lineage" in text


def test_every_gacha_is_classified_with_reasons_consistent_with_the_rule_table(evaluated):
    storage, _, ready, result, _ = evaluated
    gacha = TopicInputs(storage, ready).vector("18-01")
    status = _out(storage, result, "t06.village_class_status")
    assert sorted(status["GCMC"]) == sorted(gacha["GCMC"])
    assert set(status["class"]) <= set(CFG.get("classes")) and status["reasons"].str.len().gt(0).all()
    table = vl.parse_rules(CFG.get("rules"), CFG.get("thresholds"), CFG.get("indicators"), CFG.get("fallback.class"),
                           CFG.get("fallback.reason_zh"), CFG.get("classes"))
    cls = _out(storage, result, "t06.classification")
    for row in cls[cls["rule"] != "relocated"].to_dict("records"):
        values = {k: (None if pd.isna(row[k]) else float(row[k])) for k in CFG.get("indicators")}
        got = vl.classify(values, table)  # indicators rounded to 4 decimals in the CSV: same class
        assert (got.cls, got.rule) == (row["class"], row["rule"]), row["GCMC"]
    # the 18-02 heritage 嘎查 is 特色保护类 in every year
    flags = TopicInputs(storage, ready).table("18-02")
    listed = set(flags.loc[flags[["CTCL", "SSMZTS", "LSWHMC", "TSJGLY"]].sum(axis=1) > 0, "GCMC"])
    assert listed and set(cls.loc[cls["GCMC"].isin(listed), "class"]) == {"特色保护类"}


def test_indicators_are_sampled_from_the_published_layers(evaluated):
    storage, _, ready, result, travel = evaluated
    st = _out(storage, result, "t06.village_status")
    inp = TopicInputs(storage, ready)
    tt, grid, _ = read_raster(inp.layer_bytes("t14.travel_time_city"))
    if travel is not None:
        assert np.array_equal(np.nan_to_num(tt), np.nan_to_num(travel))
    for row in st.itertuples():
        expected = vl.value_at(tt.astype(float), grid.transform, row.geometry.x, row.geometry.y,
                               CFG.get("sampling.travel_time_fallback_radius_m"))
        assert row.travel_time_min == pytest.approx(expected, nan_ok=True)
        assert 0.0 <= row.eco_extreme_share <= 1.0 and 0.0 <= row.eco_source_share <= 1.0
    g = inp.vector("18-01").set_index("GCMC")
    for row in st.itertuples():  # geometric mean annual change CZRK2015 → CZRK
        r = (g.loc[row.GCMC, "CZRK"] / g.loc[row.GCMC, "CZRK2015"]) ** (1 / (g.loc[row.GCMC, "TJND"] - 2015)) - 1
        assert row.pop_rate_pct == pytest.approx(100 * r)


def test_homestead_quota_is_households_times_the_standard(evaluated):
    storage, _, _, result, _ = evaluated
    q = _out(storage, result, "t06.homestead_quota")
    std = CFG.get("homestead.standard_m2_per_household")
    assert set(q["scenario"]) == {"现状", "2025年规划", "2035年规划"}
    kept = q[(q["class"] != "搬迁撤并类") & (q["households_moved_out"] == 0)]
    assert (kept["standard_m2_per_household"] == kept["class"].map(lambda c: float(std.get(c, std["default"])))).all()
    assert np.allclose(kept["planned_quota_m2"], kept["households"] * kept["standard_m2_per_household"])
    assert (q["households"] == q["households"].round()).all()
    assert np.allclose(q["surplus_m2"], q["present_area_m2"] - q["planned_quota_m2"], atol=0.11)
    assert (q["standard_confidence"] == CFG.leaf("homestead.standard_m2_per_household")["confidence"]).all()
    cols = list(q.columns)
    assert cols.index("present_area_m2") == cols.index("planned_quota_hm2") + 1  # present area beside the planned figure
    assert set(q["one_household_one_homestead"]) <= {"符合", "须整改（一户多宅）", "无数据"}
    md = next(o for o in result["outputs"] if o["id"] == "t06.report")
    text = storage.read_bytes(md["path"]).decode("utf-8")
    assert "规划控制规模" in text and "标准置信度" in text and "现状宅基地面积 m²（18-03）" in text
    assert "placeholder" not in text.lower()


def _assert_households_conserved(q, cls, city_name):
    """Every planning year: the planned households of the 宅基地 table plus those sent to the city are the
    whole households of every 嘎查 (classification, own projection) — nobody is lost or counted twice."""
    for year in (2025, 2035):
        qy = q[q["year"] == year]
        to_city = qy.loc[qy["moved_to"] == city_name, "households_moved_out"].sum()
        expected = np.floor(cls.loc[cls["year"] == year, "households"] + 0.5).sum()
        assert qy["households"].sum() + to_city == pytest.approx(expected, abs=(cls["rule"] == "relocated").sum() + 0.5), year
        assert qy["households"].sum() == qy["households_own"].sum() + qy["households_received"].sum() - qy["households_moved_out"].sum()


def test_relocated_villages_leave_the_2035_layout_and_their_people_are_counted_at_the_nearest(evaluated):
    storage, cat, ready, _, _ = evaluated
    # every 嘎查 within reach of any hazard share relocates; only the heritage one (first rule) stays
    res = t06.run(storage, cat, ready, {"thresholds.relocation_hazard_share": 0.0})
    c25 = _out(storage, res, "t06.village_class_layout_2025")
    l25 = _out(storage, res, "t06.village_layout_2025")
    l35 = _out(storage, res, "t06.village_layout_2035")
    c35 = _out(storage, res, "t06.village_class_layout_2035")
    relocated = set(c25.loc[c25["class"] == "搬迁撤并类", "GCMC"])
    assert relocated and set(l25.loc[l25["to_relocate"], "GCMC"]) == relocated
    assert not relocated & set(l35["GCMC"]) and not relocated & set(c35["GCMC"])
    assert set(l35["GCMC"]) | relocated == set(c25["GCMC"])
    kept = l25[~l25["to_relocate"]]
    for row in l25[l25["to_relocate"]].itertuples():
        nearest = kept.loc[kept.distance(row.geometry).idxmin()]
        assert row.merge_into == nearest["GCMC"] and row.merge_into_key == f"{nearest['XZQDM']}|{nearest['GCMC']}"
        assert row.population_planned == 0 and row.households_planned == 0
    # the move counts from 2025 on: the targets receive in 2025 already, and the totals are conserved
    assert l25["households_received"].sum() == l25.loc[l25["to_relocate"], "households_own"].sum() > 0
    assert l25["population_planned"].sum() == pytest.approx(l25["population_own"].sum(), abs=len(l25))
    cls = _out(storage, res, "t06.classification")
    for lo, year in ((l25, 2025), (l35, 2035)):
        total = cls.loc[cls["year"] == year, "population"].sum()  # own projected residents of every 嘎查
        assert lo["population_planned"].sum() == pytest.approx(total, abs=len(cls)), year  # rounding per 嘎查
    q = _out(storage, res, "t06.homestead_quota")
    assert (q.loc[(q["year"] == 2025) & q["GCMC"].isin(relocated), "planned_quota_m2"] == 0).all()
    assert (q.loc[(q["year"] == 2025) & q["GCMC"].isin(relocated), "households"] == 0).all()
    _assert_households_conserved(q, cls, CFG.get("layout.city_name"))


def test_households_are_conserved_in_the_default_run(evaluated):
    storage, _, _, result, _ = evaluated
    _assert_households_conserved(_out(storage, result, "t06.homestead_quota"), _out(storage, result, "t06.classification"),
                                 CFG.get("layout.city_name"))


def test_a_travel_time_fallback_is_listed_in_the_notes(evaluated, tmp_path):
    storage, cat, ready, _, _ = evaluated
    inp = TopicInputs(storage, ready)
    tt, grid, _ = read_raster(inp.layer_bytes("t14.travel_time_city"))
    gacha = inp.vector("18-01").to_crs(grid.crs_epsg)
    pt = gacha.geometry.iloc[0]
    t = grid.transform
    row, col = int((pt.y - t.f) // t.e), int((pt.x - t.c) // t.a)
    holed = tt.astype("float32").copy()
    holed[row, col] = np.nan  # the 驻地 cell of the first 嘎查 loses its value
    data = write_cog(holed, grid, nodata=np.nan, tags={"LAYER": "t14.travel_time_city"})
    path = "synthetic/t14/travel_time_city_holed.tif"
    storage.write_bytes(path, data)
    layer = {**ready["layers"]["t14.travel_time_city"], "path": path, "sha256": hashlib.sha256(data).hexdigest(),
             "run_key": "holed"}
    res = t06.run(storage, cat, {**ready, "layers": {**ready["layers"], "t14.travel_time_city": layer}}, {})
    name = gacha["GCMC"].iloc[0]
    st = _out(storage, res, "t06.village_status")
    assert st.loc[st["GCMC"] == name, "travel_time_sampled"].iloc[0] == "buffer_mean"
    fb = [n for n in res["notes"] if n.startswith("Fallback") and "t14.travel_time_city" in n]
    # one note per 嘎查 whose travel time is a buffer mean, naming it
    assert len(fb) == (st["travel_time_sampled"] == "buffer_mean").sum()
    assert any(f" {name}（" in n for n in fb), res["notes"]
    md = next(o for o in res["outputs"] if o["id"] == "t06.report")
    assert fb[0] in storage.read_bytes(md["path"]).decode("utf-8")


def test_runs_without_the_optional_inputs_and_says_so(evaluated):
    storage, cat, ready, _, _ = evaluated
    lean = {**ready, "datasets": {k: v for k, v in ready["datasets"].items() if k != "18-03"},
            "layers": {k: v for k, v in ready["layers"].items() if k != "t11.eco_control_zones"}}
    res = t06.run(storage, cat, lean, {})
    assert res["skipped"] is False
    assert any("18-03" in n for n in res["notes"]) and any("t11.eco_control_zones" in n for n in res["notes"])
    st = _out(storage, res, "t06.village_status")
    assert st["eco_control_share"].isna().all() and "ZJDZS" not in st.columns
    q = _out(storage, res, "t06.homestead_quota")
    assert "present_area_m2" not in q.columns and (q["planned_quota_m2"] >= 0).all()


def test_a_delivery_without_a_needed_column_is_named():
    with pytest.raises(ValueError, match=r"18-01 v1: column\(s\) \['CZRK2015'\] missing"):
        t06._need(pd.DataFrame({"GCMC": ["甲"], "CZRK": [1]}), ("GCMC", "CZRK", "CZRK2015"), "18-01 v1")


def _xlsx(path, header, rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_the_gx_suites_of_18_02_and_18_03_reject_bad_deliveries(kit, tmp_path):
    from erenhot.landing import ingest

    cat = load_catalog()
    storage = Storage(str(tmp_path / "data"))
    ingest(storage, cat, "1", "01-04", kit.files("01-04"))
    assert accept_delivery(storage, cat, latest_delivery(storage, "01-04"))["state"] == "validated"
    for ds in ("18-02", "18-03"):  # the kit's deliveries pass
        ingest(storage, cat, "18", ds, kit.files(ds))
        assert accept_delivery(storage, cat, latest_delivery(storage, ds))["state"] == "validated", ds
    head2 = ["XZQDM", "XZQMC", "GCMC", "XZFL", "CTCL", "SSMZTS", "LSWHMC", "TSJGLY", "MLMC", "TJND"]
    bad2 = _xlsx(tmp_path / "gacha_class.xlsx", head2, [
        ["152501200", "格日勒敖都苏木", "甲嘎查", "中心村", 0, 2, 0, 0, None, 2020],   # unknown class, flag 2
        ["152501200", "格日勒敖都苏木", "甲嘎查", None, 0, 0, 0, 0, None, 2020]])     # 嘎查 twice
    ingest(storage, cat, "18", "18-02", [bad2])
    rep = accept_delivery(storage, cat, latest_delivery(storage, "18-02"))
    text = str(rep["failures"])
    assert rep["state"] == "failed" and "XZFL" in text and "SSMZTS" in text and "GCMC" in text
    head3 = ["XZQDM", "XZQMC", "GCMC", "ZJDZS", "ZJDMJ", "XZZJDZS", "YHDZHS", "JMDMJ", "TJND"]
    bad3 = _xlsx(tmp_path / "gacha_development.xlsx", head3, [["152501200", "格日勒敖都苏木", "甲嘎查", 10, 5000.0, 12, 0, 1.0, 2020]])
    ingest(storage, cat, "18", "18-03", [bad3])
    rep = accept_delivery(storage, cat, latest_delivery(storage, "18-03"))
    assert rep["state"] == "failed" and "XZZJDZS" in str(rep["failures"])  # idle plots > all plots
