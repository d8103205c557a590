"""T15 文化与旅游发展研究: the tourism kit part, the resource inventory and its scores, corridors on T14's
roads and the near-term list, end to end (small kit → ingest → GX validation → T02 on a 1 km grid →
T14 → T15) without Prefect, and the GX suites refusing bad 06-03 / 06-06.heritage deliveries."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.evaluation import tourism as tm
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import t02_carrying_capacity as t02
from erenhot.topics import t14_transport as t14
from erenhot.topics import t15_culture_tourism as t15
from kit_helpers import small_kit

CONTRACT_RESOURCE = {"resource_id", "name", "category", "grade", "score", "source", "geometry"}
CONTRACT_NETWORK = {"corridor_id", "from_id", "to_id", "minutes", "length_km", "kind", "geometry"}


def test_collect_resources_scores_categories_and_geoparks_by_hand():
    cfg = load_config("t15_culture_tourism").values
    scenic = gpd.GeoDataFrame({"name": ["国门景区", "博物馆"], "grade": ["4A", "3A"], "type": ["边境口岸", "城市休闲"]},
                              geometry=[Point(0, 0), Point(100, 0)], crs=4525)
    geo = gpd.GeoDataFrame({"YJMC": ["化石点"], "JB": ["国家级"], "YJLX": ["重要化石产地"]}, geometry=[Point(5, 5)], crs=4525)
    square = Polygon([(0, 0), (2000, 0), (2000, 1000), (0, 1000)])
    pa = gpd.GeoDataFrame({"MC": ["恐龙地质公园", "恐龙地质公园", "湿地保护区"], "BHDLX": ["自然公园", "自然公园", "自然保护区"],
                           "JB": ["国家级", "国家级", "自治区级"], "GNFQ": ["核心保护区", "一般控制区", "核心保护区"]},
                          geometry=[square, Polygon([(2000, 0), (3000, 0), (3000, 1000), (2000, 1000)]), square], crs=4525)
    notes: list[str] = []
    got = t15.collect_resources({"scenic": scenic, "geoheritage": geo, "protected_areas": pa}, cfg, notes).set_index("resource_id")
    assert list(got.index) == ["06-03:0", "06-03:1", "01-32:0", "01-07:0", "01-07:2"]
    s = cfg["scores"]
    assert got.loc["06-03:0", "score"] == s["scenic"]["4A"] and got.loc["06-03:1", "score"] == s["scenic"]["3A"]
    assert got.loc["01-32:0", "score"] == s["geoheritage"]["国家级"] and got.loc["01-07:2", "score"] == s["protected_areas"]["自治区级"]
    assert got.loc["06-03:0", "category"] == cfg["categories"]["by_source"]["scenic"]["边境口岸"]
    assert got.loc["06-03:1", "category"] == cfg["categories"]["default_by_source"]["scenic"]  # 城市休闲 is not mapped
    # a geopark (自然公园 with 地质/恐龙 in its name) is a 恐龙化石与地质遗迹 resource; its two zones merge (3 km²)
    assert got.loc["01-07:0", "category"] == "恐龙化石与地质遗迹" and got.loc["01-07:2", "category"] == "自然景观"
    assert got.loc["01-07:0", "area_km2"] == pytest.approx(3.0) and np.isnan(got.loc["06-03:0", "area_km2"])
    assert square.buffer(1).union(pa.geometry.iloc[1]).contains(got.loc["01-07:0", "geometry"])
    over = t15.collect_resources({"scenic": scenic.assign(name=["二连浩特国门", "博物馆"])}, cfg, notes)
    assert over.loc[0, "score"] == cfg["scores"]["overrides"]["二连浩特国门"] and any("overrides" in n for n in notes)
    with pytest.raises(ValueError, match="06-03 grade: grade '6A'"):
        t15.collect_resources({"scenic": scenic.assign(grade=["6A", "3A"])}, cfg, [])
    with pytest.raises(ValueError, match="01-32: none of the columns \\['JB'\\]"):
        t15.collect_resources({"geoheritage": geo.drop(columns="JB")}, cfg, [])


def test_near_term_flags_the_period_and_names_the_nearest_resource():
    projects = gpd.GeoDataFrame({"XMMC": ["甲", "乙", "丙"], "XMLX": ["景区提升"] * 3, "JSXZ": ["新建"] * 3, "YDMJ": [1.0] * 3,
                                 "ZTZ": [100.0, 200.0, 300.0], "KGNF": [2019, 2024, 2026], "WGNF": [2020, 2026, 2028],
                                 "XMZT": ["已建成", "前期", "规划"]}, geometry=[Point(0, 0), Point(1000, 0), Point(0, 900)], crs=4525)
    res = gpd.GeoDataFrame({"name": ["国门", "驿站"]}, geometry=[Point(0, 100), Point(1000, 400)], crs=4525)
    t = t15.near_term_table(projects, [2021, 2025], res)
    assert t["近期 near_term"].tolist() == [False, True, False]
    assert t["最近资源 nearest resource"].tolist() == ["国门", "驿站", "国门"] and t["距离 m"].tolist() == [100.0, 400.0, 800.0]


def test_config_sources_and_confidence():
    cfg = load_config("t15_culture_tourism")
    assert "GB/T 17775" in cfg.leaf("scores.scenic")["source"] and cfg.leaf("scores.scenic")["confidence"] == "L"
    assert "DZ/T 0303" in cfg.leaf("scores.geoheritage")["source"]
    for path in ("scores.scenic", "scores.heritage", "corridors.min_score", "network.access_kmh"):
        leaf = cfg.leaf(path)
        assert leaf["confidence"] != "L" or "configurable" in leaf["note"], path
    cats = set(cfg.get("categories.list"))
    for slug, mapping in cfg.get("categories.by_source").items():
        assert set(mapping.values()) <= cats and slug in t15.SOURCES
    assert set(cfg.get("categories.default_by_source").values()) <= cats


# ── end to end ──────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t15")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    needed = ["01-04"] + sorted({i.dataset for code in ("t02", "t14", "t15") for i in cat.topic(code).dataset_inputs()
                                 if i.dataset in kit.datasets and i.dataset != "01-04"})
    reports = {}
    for ds in needed:  # the boundary first: the others are checked against it
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        reports[ds] = accept_delivery(storage, cat, latest_delivery(storage, ds))
    failed = {d: r["failures"] for d, r in reports.items() if r["state"] != "validated"}
    assert failed == {}
    t02.run(storage, cat, check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    t14.run(storage, cat, check_readiness(storage, cat, cat.topic("t14")).to_dict(), {})
    ready = check_readiness(storage, cat, cat.topic("t15")).to_dict()
    result = t15.run(storage, cat, ready, {})
    return kit, storage, ready, result


def _bytes(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return storage.read_bytes(entry["path"])


def _csv(storage, result, output_id):
    return pd.read_csv(io.BytesIO(_bytes(storage, result, output_id)), encoding="utf-8-sig")


def test_every_output_is_published_and_every_map_is_in_the_report(evaluated):
    _, storage, ready, result = evaluated
    assert {o["id"] for o in result["outputs"]} == {o.id for o in load_catalog().topic("t15").outputs}
    assert {"06-03", "06-04", "06-06.heritage", "01-32", "01-07", "01-04"} <= set(ready["datasets"])
    assert {"t14.road_network", "t14.hubs", "t02.slope"} <= set(ready["layers"])
    text = _bytes(storage, result, "t15.report").decode("utf-8")
    maps_ = [p for p in storage.list_files(f"products/t15/{result['run_key']}/maps") if "thumb_" not in p]
    assert len(maps_) == 3
    for p in maps_:
        assert f"](maps/{p.rsplit('/', 1)[-1]})" in text, p
    assert "数据溯源" in text and "未产出" in text and ready["datasets"]["06-03"]["version"] in text


def test_resource_layer_keeps_the_contract_topic_8_reads(evaluated):
    kit, storage, _, result = evaluated
    res = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t15.cultural_tourism_resources")))
    assert CONTRACT_RESOURCE <= set(res.columns) and res.crs.to_epsg() == 4525 and set(res.geom_type) == {"Point"}
    assert res["resource_id"].is_unique and res["score"].between(0, 1).all()
    cfg = load_config("t15_culture_tourism").values
    assert set(res["category"]) <= set(cfg["categories"]["list"])
    scenic = pd.read_excel(kit.files("06-03")[0])
    heritage = pd.read_csv(kit.files("06-06.heritage")[0], encoding="utf-8-sig")
    geo = gpd.read_file(f"zip://{kit.files('01-32')[0]}!地质遗迹.shp", encoding="gbk")
    pa = gpd.read_file(f"zip://{kit.files('01-07')[0]}!自然保护地.shp", encoding="gbk")
    counts = res["source"].value_counts().to_dict()
    assert counts == {"06-03": len(scenic), "06-06.heritage": len(heritage), "01-32": len(geo), "01-07": pa["MC"].nunique()}
    # the scores are the configured grade scores, except the named overrides
    by_id = res.set_index("resource_id")
    overrides = cfg["scores"]["overrides"]
    for k, r in scenic.iterrows():
        want = overrides.get(r["name"], cfg["scores"]["scenic"][r["grade"]])
        assert by_id.loc[f"06-03:{k}", "score"] == want and by_id.loc[f"06-03:{k}", "grade"] == r["grade"]
    geopark = res[(res["source"] == "01-07") & res["name"].str.contains("地质公园")]
    assert len(geopark) == 1 and geopark["category"].iloc[0] == "恐龙化石与地质遗迹" and geopark["area_km2"].iloc[0] > 1
    towns = set(res["township"])
    assert len(towns) >= 2 and all(t.startswith("152501") for t in towns)
    summary = _csv(storage, result, "t15.resource_summary")
    whole = summary[summary["township"] == "全市 whole city"]
    assert whole["resources"].sum() == len(res) and summary[summary["township"] != "全市 whole city"]["resources"].sum() == len(res)


def test_corridors_are_least_time_routes_of_a_spanning_tree(evaluated):
    _, storage, _, result = evaluated
    res = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t15.cultural_tourism_resources"))).set_index("resource_id")
    net = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t15.tourism_network")))
    assert CONTRACT_NETWORK <= set(net.columns) and net.crs.to_epsg() == 4525 and set(net.geom_type) == {"LineString"}
    assert net["corridor_id"].is_unique and set(net["kind"]) == {"旅游廊道"}
    assert set(net["from_id"]) | set(net["to_id"]) <= set(res.index)
    mst = net[net["link"] == tm.MST]
    assert len(mst) == len(res) - 1  # the kit's resources all reach one road component: a spanning tree
    linked = set(mst["from_id"]) | set(mst["to_id"])
    assert linked == set(res.index)
    times = _csv(storage, result, "t15.resource_times")
    pairs = times[times["pair"].str.startswith("资源")].set_index(["from_id", "to_id"])
    n = len(res)
    assert len(pairs) == n * (n - 1) // 2 and (times["pair"].str.startswith("枢纽")).sum() == 2 * n
    for c in net.itertuples():
        assert c.minutes == pytest.approx(pairs.loc[(c.from_id, c.to_id), "minutes"])
        assert c.geometry.length / 1000.0 == pytest.approx(c.length_km, abs=1e-3)  # graph nodes are rounded to 1 cm
        assert Point(c.geometry.coords[0]).distance(res.loc[c.from_id, "geometry"]) < 0.01
        assert Point(c.geometry.coords[-1]).distance(res.loc[c.to_id, "geometry"]) < 0.01
    # no route beats the fastest road speed in a straight line, nor is shorter than the straight line
    vmax = max(load_config("t14_transport").get("roads.speed_kmh").values())
    finite = times[np.isfinite(times["minutes"])]
    assert len(finite) == len(times)
    assert (finite["minutes"] >= finite["straight_km"] / vmax * 60.0 - 1e-6).all()
    assert (finite["network_km"] >= finite["straight_km"] - 0.01).all()
    # minimal (cycle property): no pair outside the tree is quicker than the slowest tree edge on the tree path it bridges
    import networkx as nx

    tree = nx.Graph()
    tree.add_weighted_edges_from((r.from_id, r.to_id, r.minutes) for r in mst.itertuples())
    for (a, b), row in pairs.iterrows():
        path = nx.shortest_path(tree, a, b)
        slowest = max(tree.edges[u, w]["weight"] for u, w in zip(path, path[1:]))
        assert row["minutes"] >= slowest - 1e-9, (a, b)
    must = load_config("t15_culture_tourism").get("corridors.must_link")
    name_id = {n: i for i, n in reversed(list(res["name"].items()))}
    for a, b in must:
        key = {name_id[a], name_id[b]}
        assert any({r.from_id, r.to_id} == key for r in net.itertuples()), (a, b)


def test_near_term_projects_follow_the_period(evaluated):
    kit, storage, _, result = evaluated
    near = _csv(storage, result, "t15.near_term_projects")
    projects = gpd.read_file(f"zip://{kit.files('06-04')[0]}!tourism_projects.shp", encoding="gbk")
    start, end = load_config("t15_culture_tourism").get("near_term.period")
    want = {r.XMMC: bool(r.KGNF <= end and r.WGNF >= start) for r in projects.itertuples()}
    assert dict(zip(near["项目名称 XMMC"], near["近期 near_term"].astype(bool))) == want
    assert 0 < sum(want.values()) < len(want) and (near["距离 m"] < 1000).all()


def test_gx_suites_refuse_a_wrong_grade_and_a_missing_column(evaluated, tmp_path):
    # last in the module: it lands invalid 06-03 and 06-06.heritage versions in the shared storage
    kit, storage, *_ = evaluated
    from erenhot.samplekit import _write_xlsx

    cat = load_catalog()
    scenic = pd.read_excel(kit.files("06-03")[0])
    scenic.loc[0, "grade"] = "AAAA"  # not the contract's 4A
    bad = tmp_path / "A级景区.xlsx"
    _write_xlsx(bad, "A级景区", list(scenic.columns), scenic.values.tolist(), title="bad 06-03", description="bad")
    ingest(storage, cat, "6", "06-03", [bad])
    report = accept_delivery(storage, cat, latest_delivery(storage, "06-03"))
    assert report["state"] != "validated" and "grade" in str(report["failures"])
    heritage = pd.read_csv(kit.files("06-06.heritage")[0], encoding="utf-8-sig").drop(columns="level")
    bad_csv = tmp_path / "文化遗产名录.csv"
    heritage.to_csv(bad_csv, index=False, encoding="utf-8-sig")
    ingest(storage, cat, "6", "06-06.heritage", [bad_csv])
    report = accept_delivery(storage, cat, latest_delivery(storage, "06-06.heritage"))
    assert report["state"] != "validated" and "level" in str(report["failures"])
