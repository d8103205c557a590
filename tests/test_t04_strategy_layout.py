"""T04 三区三线 and 总体布局: one run end to end without Prefect (small kit → ingest → GX validation → T02 on
a 1 km grid → T14 → T03 → T12 → T05 → T11 → T09 → T04), once with the defaults and once with a rule
that makes candidate lines overlap; the indicator table is checked against the upstream layers."""

from __future__ import annotations

import importlib
import io

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
from erenhot.topics import t04_strategy_layout as t04
from kit_helpers import small_kit

UPSTREAM = ("t02", "t14", "t03", "t12", "t05", "t11", "t09", "t01")
# grassland 0401 as "cropland": candidates of the farmland line then overlap the red line (and the town)
OVERLAP = {"yjjbnt.eligible_dlbm": ["0101", "0102", "0103", "0401"]}
LINES = {"STBHHX": "t04.stbhhx", "YJJBNT": "t04.yjjbnt", "CZKFBJ": "t04.czkfbj"}


def _run(storage, cat, code, overrides=None):
    readiness = check_readiness(storage, cat, cat.topic(code)).to_dict()
    module = importlib.import_module(f"erenhot.topics.{cat.topic(code).slug}")
    return readiness, module.run(storage, cat, readiness, overrides or {})


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t04")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    ids = sorted({i.dataset for code in (*UPSTREAM, "t04") for i in cat.topic(code).inputs if i.dataset} & set(kit.datasets))
    reports = {}
    for ds in ["01-04"] + [i for i in ids if i != "01-04"]:  # the boundary first: the others are checked against it
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        reports[ds] = accept_delivery(storage, cat, latest_delivery(storage, ds))
    assert {d: r["failures"] for d, r in reports.items() if r["state"] != "validated"} == {}
    _run(storage, cat, "t02", {"grid.cell_size_m": 1000})
    for code in UPSTREAM[1:]:
        _run(storage, cat, code)
    readiness, default = _run(storage, cat, "t04")
    _, overlapping = _run(storage, cat, "t04", OVERLAP)
    return storage, readiness, default, overlapping


def _bytes(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return storage.read_bytes(entry["path"])


def _vec(storage, result, output_id):
    return gpd.read_parquet(io.BytesIO(_bytes(storage, result, output_id)))


def _csv(storage, result, output_id):
    return pd.read_csv(io.BytesIO(_bytes(storage, result, output_id)), encoding="utf-8-sig")


def _layer(storage, readiness, layer_id):
    return storage.read_bytes(readiness["layers"][layer_id]["path"])


def test_every_catalog_output_is_published(evaluated):
    _, _, default, overlapping = evaluated
    expected = {o.id for o in load_catalog().topic("t04").outputs}
    assert {o["id"] for o in default["outputs"]} == expected
    assert {o["id"] for o in overlapping["outputs"]} == expected


def test_the_published_lines_never_overlap(evaluated):
    storage, _, default, overlapping = evaluated
    for result in (default, overlapping):
        lines = {k: _vec(storage, result, v) for k, v in LINES.items()}
        assert all(g.crs.to_epsg() == 4525 for g in lines.values())
        assert len(lines["STBHHX"]) > 0 and len(lines["YJJBNT"]) > 0 and len(lines["CZKFBJ"]) > 0
        for a, b in (("STBHHX", "YJJBNT"), ("STBHHX", "CZKFBJ"), ("YJJBNT", "CZKFBJ")):
            inter = shapely.intersection(shapely.union_all(lines[a].geometry.to_numpy()), shapely.union_all(lines[b].geometry.to_numpy()))
            assert inter.area <= 1.0, (a, b)
        table = _csv(storage, result, "t04.control_line_overlaps")
        assert len(table) == 6 and (table[table["stage"].str.startswith("协调后")]["area_m2"] <= 1.0).all()
    assert {"BSM", "XJXZQDM", "SJXZQMC", "LHLX", "MJ"} <= set(lines["STBHHX"].columns)
    assert {"GHFQMC", "MJ", "XZQDM"} <= set(lines["CZKFBJ"].columns) and {"DLBM", "LYD", "MJ"} <= set(lines["YJJBNT"].columns)


def test_an_overlapping_candidate_is_reported_and_resolved_by_precedence(evaluated):
    storage, _, default, overlapping = evaluated
    before = _csv(storage, overlapping, "t04.control_line_overlaps")
    cand = before[before["stage"].str.startswith("划定前")].set_index(["line_a", "line_b"])
    assert cand.loc[("STBHHX", "YJJBNT"), "area_m2"] > 1e5 and cand.loc[("STBHHX", "YJJBNT"), "n_pairs"] > 0
    # the red line comes first: it is the same with and without the grassland rule, the farmland loses the overlap
    red_default = _vec(storage, default, "t04.stbhhx").geometry.area.sum()
    red_overlap = _vec(storage, overlapping, "t04.stbhhx").geometry.area.sum()
    assert red_overlap == pytest.approx(red_default, rel=1e-9)
    assert load_config("t04_strategy_layout").get("control_lines.precedence")[0] == "STBHHX"
    # without the grassland rule the kit's candidates do not overlap at all
    plain = _csv(storage, default, "t04.control_line_overlaps")
    assert plain["area_m2"].max() <= 1.0


def test_indicator_table_equals_the_upstream_figures(evaluated):
    storage, readiness, default, _ = evaluated
    ind = _csv(storage, default, "t04.indicators").set_index("key")
    assert {"key", "name_zh", "unit", "attribute", "base_value", "value_2025", "value_2035", "source"} <= set(ind.reset_index().columns)
    assert set(ind["attribute"]) <= {"约束性", "预期性"}
    pf = pd.read_csv(io.BytesIO(_layer(storage, readiness, "t05.population_forecast")), encoding="utf-8-sig")
    for y in (2025, 2035):
        planned = pf[(pf["year"] == y) & pf["item"].str.startswith("规划常住人口")]["value"].iloc[0]
        assert ind.loc["resident_population", f"value_{y}"] == pytest.approx(planned)
    wt = pd.read_csv(io.BytesIO(_layer(storage, readiness, "t12.water_targets")), encoding="utf-8-sig")
    for y in (2025, 2035):
        total = wt[(wt["year"] == y) & wt["indicator"].str.startswith("用水总量")]["value"].iloc[0]
        assert ind.loc["water_use_total", f"value_{y}"] == pytest.approx(total)
    tg = pd.read_csv(io.BytesIO(_layer(storage, readiness, "t09.targets")), encoding="utf-8-sig").set_index("指标")
    assert ind.loc["forest_area", "value_2035"] == pytest.approx(tg.loc["林地保有量", "2035 目标 hm²"])
    assert ind.loc["wetland_area", "value_2025"] == pytest.approx(tg.loc["湿地面积", "2025 目标 hm²"])
    assert ind.loc["grassland_area", "base_value"] == pytest.approx(tg.loc["草地保有量", [c for c in tg.columns if c.startswith("现状")][0]])
    ur = pd.read_csv(io.BytesIO(_layer(storage, readiness, "t05.urbanisation_rate")), encoding="utf-8-sig")
    obs = ur[ur["kind"] == "observed"].sort_values("year").iloc[-1]
    assert ind.loc["urbanisation_rate", "base_value"] == pytest.approx(obs["resident_rate"] * 100)
    assert ind.loc["urbanisation_rate", "base_year"] == obs["year"]
    proj = ur[(ur["kind"] == "projected") & (ur["year"] == 2035)]["resident_rate"].iloc[0]
    assert ind.loc["urbanisation_rate", "value_2035"] == pytest.approx(proj * 100)
    cs = pd.read_csv(io.BytesIO(_layer(storage, readiness, "t03.carrying_scale")), encoding="utf-8-sig").set_index("key")
    assert ind.loc["urban_land", "base_value"] == pytest.approx(cs.loc["present_urban_land", "值 value"])
    # the line areas equal the published lines of this run
    for key, layer, scale in (("stbhhx_area", "t04.stbhhx", 1e-6), ("yjjbnt_area", "t04.yjjbnt", 1e-4), ("czkfbj_area", "t04.czkfbj", 1e-6)):
        assert ind.loc[key, "value_2035"] == pytest.approx(_vec(storage, default, layer)["MJ"].sum() * scale, rel=1e-6)
    # the old plans' targets (topic 1) stand beside the new figures, converted to the entry's unit
    old = pd.read_csv(io.BytesIO(_layer(storage, readiness, "t01.indicator_system")), encoding="utf-8-sig").set_index("key")
    assert ind.loc["cultivated_land", "old_plan_target"] == pytest.approx(old.loc["cultivated_land", "target_value"])  # 公顷 = hm²
    assert ind.loc["yjjbnt_area", "old_plan_target"] == pytest.approx(old.loc["basic_farmland", "target_value"])
    # 城规 城市建设用地 (centre city) is another measure than 城镇建设用地规模: not put side by side
    assert pd.isna(ind.loc["urban_land", "old_plan_target"])
    assert ind.loc["forest_area", "old_plan_target_year"] == old.loc["forest_land", "target_year"]
    assert "t01.indicator_system" in ind.loc["cultivated_land", "source"]
    assert pd.isna(ind.loc["stbhhx_area", "old_plan_target"]) and "give no red_line_area" in ind.loc["stbhhx_area", "note"]
    # what no input gives stays empty and says why
    assert pd.isna(ind.loc["forest_cover", "value_2035"]) and "not available" in ind.loc["forest_cover", "note"]
    assert "t12.water_targets" in ind.loc["water_use_total", "source"]


def test_zones_and_spaces_cover_the_city_once(evaluated):
    storage, readiness, default, _ = evaluated
    from erenhot.topics.inputs import TopicInputs

    city = TopicInputs(storage, readiness).vector("01-04", "city")
    city_m2 = float(city.geometry.area.sum())
    zones = _vec(storage, default, "t04.planning_zones")
    assert zones.crs.to_epsg() == 4525 and {"GHFQDM", "GHFQMC", "MJ"} <= set(zones.columns)
    assert zones["MJ"].sum() == pytest.approx(city_m2, rel=1e-3)
    assert shapely.union_all(zones.geometry.to_numpy()).area == pytest.approx(zones.geometry.area.sum(), rel=1e-6)
    assert set(zones["GHFQMC"]) <= {"生态保护区", "生态控制区", "农田保护区", "城镇发展区", "乡村发展区", "矿产能源发展区"}
    by = zones.groupby("GHFQMC")["MJ"].sum()
    assert by["生态保护区"] == pytest.approx(_vec(storage, default, "t04.stbhhx")["MJ"].sum(), rel=1e-6)
    assert by["农田保护区"] == pytest.approx(_vec(storage, default, "t04.yjjbnt")["MJ"].sum(), rel=1e-6)
    assert by["城镇发展区"] == pytest.approx(_vec(storage, default, "t04.czkfbj")["MJ"].sum(), rel=1e-6)
    assert "牧业发展区" in set(zones["EJFQMC"].dropna())
    spaces = _vec(storage, default, "t04.three_spaces").set_index("KJMC")
    assert set(spaces.index) == {"生态空间", "农业空间", "城镇空间"}
    assert spaces["MJ"].sum() == pytest.approx(zones["MJ"].sum(), rel=1e-6)
    assert spaces.loc["生态空间", "MJ"] == pytest.approx(zones[zones["KJLX"] == "生态空间"]["MJ"].sum(), rel=1e-6)


def test_structure_layout_and_report(evaluated):
    storage, readiness, default, _ = evaluated
    s = _vec(storage, default, "t04.spatial_structure")
    assert {"centre", "hub", "axis", "eco_corridor", "eco_source"} <= set(s["kind"])
    assert (s[s["kind"] == "centre"]["label"] == "主中心").sum() == 1
    layout = _vec(storage, default, "t04.overall_layout")
    assert set(layout[layout["kind"] == "控制线"]["line"]) == set(LINES)
    text = _bytes(storage, default, "t04.report").decode("utf-8")
    for name in ("three_spaces", "planning_zones", "spatial_structure", "overall_layout"):
        assert f"](maps/{name}.png)" in text, name
    assert "未产出 Not produced" in text and "战略定位" in text and "数据溯源" in text
    assert f"取等别 ≤ {load_config('t04_strategy_layout').get('yjjbnt.max_grade')}" in text and "{fp." not in text
    for ds in ("01-47", "01-40", "01-46a.dltb"):
        assert readiness["datasets"][ds]["version"] in text


@pytest.mark.parametrize("a, b, factor", [("公顷", "hm²", 1.0), ("平方公里", "hm²", 100.0), ("hm²", "km²", 0.01),
                                          ("万亩", "hm²", 1e4 / 15), ("%", "%", 1.0), ("公顷", "%", None), ("吨", "hm²", None)])
def test_unit_factor(a, b, factor):
    assert t04.unit_factor(a, b) == (pytest.approx(factor) if factor is not None else None)


def test_select_value_refuses_an_ambiguous_selection():
    frames = {"x": pd.DataFrame({"year": [2025, 2025], "v": [1.0, 2.0]})}
    with pytest.raises(ValueError, match="selects 2 rows"):
        t04.select_value(frames, {"layer": "x", "where": {"year": "@year"}, "column": "v"}, 2025)
    assert t04.select_value(frames, {"layer": "x", "column": "v", "agg": "sum"})[0] == 3.0
    assert t04.select_value(frames, {"layer": "y", "column": "v"})[0] is None
    with pytest.raises(ValueError, match="no column 'w'"):
        t04.select_value(frames, {"layer": "x", "column": "w", "agg": "sum"})
