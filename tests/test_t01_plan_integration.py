"""T01 现行各类国土空间规划一体化评估: composer helpers by hand, the GX suites of the new plan contracts
refusing bad deliveries, and one run end to end (small kit → ingest → GX validation → T01) without
Prefect (T01 reads deliveries only)."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import t01_plan_integration as t01
from kit_helpers import small_kit

NEW = ("01-46a.tdlyztgh", "08-07.csztgh", "02-10.ztgnq", "01-46a.ghzb")
TOWNS = ("152501200", "152501400", "152501401")


# ── hand-computed helpers ───────────────────────────────────────────────────────────────────────


def test_expand_classes_and_every_rule_names_known_layers_and_class_sets():
    cfg = load_config("t01_plan_integration")
    sets = cfg.get("classes")
    assert t01.expand_classes(["@cultivated_sandiao", "X"], sets) == ("0101", "0102", "0103", "X")
    with pytest.raises(ValueError, match="not defined"):
        t01.expand_classes(["@nope"], sets)
    layers = cfg.get("layers")
    for rule in cfg.get("conflicts.rules"):
        assert rule["layer_a"] in layers and rule["layer_b"] in layers, rule["conflict_type"]
        t01.expand_classes(rule["classes_a"], sets), t01.expand_classes(rule["classes_b"], sets)
    assert len({r["conflict_type"] for r in cfg.get("conflicts.rules")}) == len(cfg.get("conflicts.rules"))
    assert set(cfg.get("conflicts.severity_order")) >= {r["severity"] for r in cfg.get("conflicts.rules")}


def test_indicator_table_present_values_by_hand():
    # a 1 km² city: 三调 0103 旱地 200 m × 100 m = 2 hm², 0701 城镇住宅 (CZCSXM 201) 100 m × 100 m = 1 hm²
    crs = "EPSG:4525"
    x0, y0 = 37_550_000.0, 4_830_000.0
    dltb = gpd.GeoDataFrame({"DLBM": ["0103", "0701"], "CZCSXM": ["", "201"]},
                            geometry=[box(x0, y0, x0 + 200, y0 + 100), box(x0, y0 + 200, x0 + 100, y0 + 300)], crs=crs)
    cfg = load_config("t01_plan_integration")
    ghzb = pd.DataFrame([
        ["土规", "耕地保有量", "公顷", 2005, 3.0, 2020, 2.5, "约束性"],
        ["土规", "城乡建设用地规模", "公顷", 2005, 0.5, 2020, 0.8, "约束性"],
        ["城规", "人均城市建设用地", "平方米/人", 2010, 100.0, 2030, 120.0, "约束性"],
        ["城规", "国土开发强度", "%", 2010, 0.5, 2030, 2.0, "预期性"],
        ["土规", "基本农田保护面积", "公顷", 2005, 2.0, 2020, 2.0, "约束性"],
        ["土规", "某新指标", "公顷", 2005, 1.0, 2020, 1.0, "预期性"],
    ], columns=["plan", "indicator", "unit", "base_year", "base_value", "target_year", "target_value", "nature"])
    got = t01.indicator_table(ghzb, cfg.get("indicators.keys"), cfg.get("indicators.present"), layers={}, dltb=dltb,
                              city_area_m2=1e6, population={"urban_pop": 100.0}, class_sets=cfg.get("classes"),
                              sandiao_year=2019, pop_year=2020).set_index("key")
    assert got.loc["cultivated_land", "present_value"] == pytest.approx(2.0)
    assert got.loc["cultivated_land", "status"] == "未达标" and got.loc["cultivated_land", "gap"] == pytest.approx(-0.5)
    assert got.loc["urban_rural_construction_land", "present_value"] == pytest.approx(1.0)
    assert got.loc["urban_rural_construction_land", "status"] == "未达标"  # a ceiling of 0.8 hm² exceeded
    assert got.loc["per_capita_city_construction_land", "present_value"] == pytest.approx(100.0)  # 10,000 m² / 100 人
    assert got.loc["per_capita_city_construction_land", "status"] == "达标"
    assert got.loc["development_intensity", "present_value"] == pytest.approx(1.0)  # 1 hm² of 100 hm², %
    assert got.loc["basic_farmland", "status"] == "无现状值"
    assert "other:某新指标" in got.index
    with pytest.raises(ValueError, match="unit"):
        t01.indicator_table(ghzb.assign(unit="英亩"), cfg.get("indicators.keys"), cfg.get("indicators.present"), layers={},
                            dltb=dltb, city_area_m2=1e6, population={}, class_sets=cfg.get("classes"), sandiao_year=2019,
                            pop_year=None)


# ── end to end ──────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t01")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    reports = {}
    # the boundary first: the others are checked against it
    order = ["01-04"] + [i.dataset for i in cat.topic("t01").inputs if i.dataset != "01-04"]
    for ds in order:
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        reports[ds] = accept_delivery(storage, cat, latest_delivery(storage, ds))
    failed = {d: r["failures"] for d, r in reports.items() if r["state"] != "validated"}
    assert failed == {}
    readiness = check_readiness(storage, cat, cat.topic("t01")).to_dict()
    result = t01.run(storage, cat, readiness, {})
    return root, kit, storage, cat, readiness, result


def _bytes(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return storage.read_bytes(entry["path"])


def _csv(storage, result, output_id):
    return pd.read_csv(io.BytesIO(_bytes(storage, result, output_id)), encoding="utf-8-sig", dtype={"xzqdm": str})


def test_every_catalog_output_is_published_and_every_map_is_in_the_report(evaluated):
    _, _, storage, cat, _, result = evaluated
    assert {o["id"] for o in result["outputs"]} == {o.id for o in cat.topic("t01").outputs}
    text = storage.read_bytes([o for o in result["outputs"] if o["id"] == "t01.report"][0]["path"]).decode("utf-8")
    for name in ("plan_conflicts", "implementation_review"):
        assert f"](maps/{name}.png)" in text
    assert "未产出 Not produced" in text and "管制规则" in text and "数据溯源" in text


def test_conflicts_hold_the_designed_kit_overlaps_and_add_up(evaluated):
    _, _, storage, _, _, result = evaluated
    conflicts = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t01.plan_conflicts")))
    assert conflicts.crs.to_epsg() == 4525
    assert list(conflicts.columns) == ["conflict_type", "layer_a", "class_a", "layer_b", "class_b", "xzqdm", "area_m2",
                                       "severity", "geometry"]
    assert set(conflicts["xzqdm"]) <= set(TOWNS)
    assert conflicts.geometry.area.to_numpy() == pytest.approx(conflicts["area_m2"].to_numpy(), rel=1e-6)
    by_type = conflicts.groupby("conflict_type")["area_m2"].sum()
    # the kit draws: the 城规 over the field nearest the seat (基本农田), a 独立工矿区 site at a red-line edge,
    # the 城规 beyond the 土规 town, shrub stands of the 林地规划 on 三调 grassland
    for t in ("城规建设用地占用基本农田保护区", "土规建设用地区占用生态保护红线", "城规建设用地位于土规限制/禁止建设区",
              "林地规划林地与三调草地重叠（林草重叠）"):
        assert by_type.get(t, 0) > 1e4, t
    area = _csv(storage, result, "t01.conflict_area")
    assert list(area.columns) == ["xzqdm", "xzqmc", "conflict_type", "severity", "patches", "area_hm2"]
    city = area[area["xzqdm"].isna()].set_index("conflict_type")["area_hm2"]
    per_tw = area[area["xzqdm"].notna()].groupby("conflict_type")["area_hm2"].sum()
    assert city.to_dict() == pytest.approx(per_tw.to_dict())
    assert city.to_dict() == pytest.approx({t: by_type.get(t, 0.0) / 1e4 for t in city.index})
    assert len(area) == 4 * len(load_config("t01_plan_integration").get("conflicts.rules"))


def test_implementation_review_and_indicators_are_consistent(evaluated):
    _, kit, storage, _, _, result = evaluated
    impl = _csv(storage, result, "t01.implementation_review")
    assert {"plan", "xzqdm", "planned_ha", "actual_ha", "actual_inside_ha", "actual_outside_ha", "implementation_rate",
            "conformity_rate"} <= set(impl.columns)
    assert (impl["actual_inside_ha"] <= impl[["planned_ha", "actual_ha"]].min(axis=1) + 1e-6).all()
    assert impl["actual_ha"].to_numpy() == pytest.approx((impl["actual_inside_ha"] + impl["actual_outside_ha"]).to_numpy())
    land = impl[impl["plan"].str.startswith("土地利用总体规划")]
    assert len(land) == 4 and land["implementation_rate"].between(0, 1).all()
    city = land[land["xzqdm"].isna()].iloc[0]
    assert city["planned_ha"] == pytest.approx(land[land["xzqdm"].notna()]["planned_ha"].sum(), rel=1e-6)
    ind = pd.read_csv(io.BytesIO(_bytes(storage, result, "t01.indicator_system")), encoding="utf-8-sig")
    assert {"key", "plan", "indicator", "unit", "target_value", "present_value", "present_source", "gap", "status"} <= set(ind.columns)
    assert not ind.duplicated(["plan", "key"]).any() and not ind["key"].str.startswith("other:").any()
    dltb = gpd.read_file(f"zip://{kit.files('01-46a.dltb')[0]}!DLTB.shp", encoding="gbk")
    cult_ha = dltb[dltb["DLBM"].isin(["0101", "0102", "0103"])].geometry.area.sum() / 1e4
    row = ind.set_index("key").loc["cultivated_land"]
    assert row["present_value"] == pytest.approx(cult_ha, rel=1e-6) and row["status"] == "未达标"  # kit target = 1.1 × 三调
    assert set(ind["status"]) <= {"达标", "未达标", "无现状值", "—"}


def _rezip(src, out, layer, edit):
    gdf = gpd.read_file(f"zip://{src}!{layer}.shp", encoding="gbk")
    gdf = edit(gdf)
    folder = out / f"bad_{layer}"
    folder.mkdir(parents=True, exist_ok=True)
    gdf.to_file(folder / f"{layer}.shp", encoding="GBK")
    target = out / f"{layer}.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for p in sorted(folder.iterdir()):
            if p.suffix != ".cpg":
                zf.write(p, p.name)
    return target


def test_gx_suites_refuse_bad_plan_deliveries(evaluated, tmp_path):
    _, kit, storage, cat, _, _ = evaluated
    files = {p.name: p for p in kit.files("01-46a.tdlyztgh")}
    bad = _rezip(files["TDYTQ.zip"], tmp_path, "TDYTQ", lambda g: g.assign(YTQLX=["规划建设区"] + list(g["YTQLX"][1:])))
    ingest(storage, cat, "1", "01-46a.tdlyztgh", [bad, files["JSYDGZQ.zip"]])
    rep = accept_delivery(storage, cat, latest_delivery(storage, "01-46a.tdlyztgh"))
    assert rep["state"] == "failed" and any("YTQLX" in line for line in rep["failures"])
    # the 城规 with a code outside GB 50137-2011
    [cs] = kit.files("08-07.csztgh")
    bad = _rezip(cs, tmp_path, "用地规划图", lambda g: g.assign(YDDM=["Z9"] + list(g["YDDM"][1:])))
    ingest(storage, cat, "8", "08-07.csztgh", [bad])
    rep = accept_delivery(storage, cat, latest_delivery(storage, "08-07.csztgh"))
    assert rep["state"] == "failed" and any("YDDM" in line for line in rep["failures"])
    # an indicator table with a nature that is neither 约束性 nor 预期性
    [xlsx] = kit.files("01-46a.ghzb")
    table = pd.read_excel(xlsx)
    table.loc[0, "nature"] = "参考性"
    path = tmp_path / "规划指标.xlsx"
    table.to_excel(path, index=False)
    ingest(storage, cat, "1", "01-46a.ghzb", [path])
    rep = accept_delivery(storage, cat, latest_delivery(storage, "01-46a.ghzb"))
    assert rep["state"] == "failed" and any("nature" in line for line in rep["failures"])


def test_without_the_optional_inputs_their_rules_are_skipped_and_said(evaluated):
    _, _, storage, cat, readiness, _ = evaluated
    optional = [i.dataset for i in cat.topic("t01").inputs if not i.required]
    assert set(optional) == {"02-10.ztgnq", "01-07", "01-46b", "03-02", "01-39", "10-02"}
    reduced = {**readiness, "datasets": {k: e for k, e in readiness["datasets"].items() if k not in optional}}
    result = t01.run(storage, cat, reduced, {})
    conflicts = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t01.plan_conflicts")))
    assert not set(conflicts["layer_b"]) & {"主体功能区", "自然保护地", "生态环境管控", "生态功能区划"}
    assert "土规建设用地区占用生态保护红线" in set(conflicts["conflict_type"])
    assert any("not evaluated" in n and "独立工矿区位于重点生态功能区" in n for n in result["notes"])
    ind = pd.read_csv(io.BytesIO(_bytes(storage, result, "t01.indicator_system")), encoding="utf-8-sig").set_index("key")
    assert ind.loc["per_capita_urban_industrial_land", "status"] == "无现状值"
    assert len(_csv(storage, result, "t01.conflict_area")) == 4 * 9  # 14 rules − 5 on absent layers
