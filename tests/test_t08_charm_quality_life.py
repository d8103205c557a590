"""T08 魅力特色发展与高品质生活塑造: the driving speed surface by hand, the services kit part and its GX
suites (a bad facility file is refused), and one run end to end without Prefect (small kit → ingest → GX
validation → T02 on a 1 km grid → T14, T11 → T15 when its composer exists → T08)."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.grid import read_raster
from erenhot.landing import ingest, latest_delivery
from erenhot.readiness import check_readiness
from erenhot.storage import Storage
from erenhot.topics import t02_carrying_capacity as t02
from erenhot.topics import t08_charm_quality_life as t08
from erenhot.topics import t11_eco_environment as t11
from erenhot.topics import t14_transport as t14
from erenhot.topics import t15_culture_tourism as t15
from kit_helpers import small_kit

T08_DATASETS = ("14-01", "14-02", "15-01", "08-07.quality")


def test_config_standards_carry_sources_and_uncertainty():
    cfg = load_config("t08_charm_quality_life")
    for name, c in cfg.get("classes").items():
        assert c["urban_mode"] in ("walk", "drive") and c["urban_min"] > 0 and c["rural_min"] > 0, name
        assert cfg.leaf(f"classes.{name}.urban_min")["confidence"] in ("M", "L")  # recalled standards: never H
    assert cfg.get("classes.primary.urban_min") == 10 and "GB 50180-2018" in cfg.leaf("classes.primary.urban_min")["source"]


# ── end to end ──────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("t08")
    kit = small_kit(root / "kit")
    storage = Storage(str(root / "store"))
    cat = load_catalog()
    codes = ("t02", "t14", "t11", "t15", "t08")
    needed = ["01-04"] + sorted({i.dataset for code in codes for i in cat.topic(code).dataset_inputs()
                                 if i.dataset in kit.datasets and i.dataset != "01-04"})
    reports = {}
    for ds in needed:  # the boundary first: the others are checked against it
        ingest(storage, cat, str(kit.datasets[ds]["department_seq"]), ds, kit.files(ds))
        reports[ds] = accept_delivery(storage, cat, latest_delivery(storage, ds))
    failed = {d: r["failures"] for d, r in reports.items() if r["state"] != "validated"}
    assert failed == {}
    r02 = t02.run(storage, cat, check_readiness(storage, cat, cat.topic("t02")).to_dict(), {"grid.cell_size_m": 1000})
    r14 = t14.run(storage, cat, check_readiness(storage, cat, cat.topic("t14")).to_dict(), {})
    t11.run(storage, cat, check_readiness(storage, cat, cat.topic("t11")).to_dict(), {})
    t15.run(storage, cat, check_readiness(storage, cat, cat.topic("t15")).to_dict(), {})
    ready = check_readiness(storage, cat, cat.topic("t08")).to_dict()
    result = t08.run(storage, cat, ready, {})
    return kit, storage, r02, r14, ready, result


def _bytes(storage, result, output_id):
    [entry] = [o for o in result["outputs"] if o["id"] == output_id]
    return storage.read_bytes(entry["path"])


def test_every_catalog_output_is_published_and_maps_are_in_the_report(evaluated):
    _, storage, _, _, ready, result = evaluated
    assert {o["id"] for o in result["outputs"]} == {o.id for o in load_catalog().topic("t08").outputs}
    assert set(T08_DATASETS) <= set(ready["datasets"]) and {"t14.population", "t14.speed"} <= set(ready["layers"])
    text = _bytes(storage, result, "t08.report").decode("utf-8")
    maps_ = [p for p in storage.list_files(f"products/t08/{result['run_key']}/maps") if "thumb_" not in p]
    assert len(maps_) >= 4
    for p in maps_:
        assert f"](maps/{p.rsplit('/', 1)[-1]})" in text, p
    assert "数据溯源" in text and "未产出" in text and "GB 50180-2018" in text
    for ds in T08_DATASETS:
        assert ready["datasets"][ds]["version"] in text, ds
    assert "t11.ecological_security_pattern" in ready["layers"]
    assert "t15.cultural_tourism_resources" in ready["layers"]


def test_coverage_table_adds_up_and_gaps_follow_the_standard(evaluated):
    _, storage, _, r14, _, result = evaluated
    cov = pd.read_csv(io.BytesIO(_bytes(storage, result, "t08.service_coverage")), encoding="utf-8-sig")
    cfg = load_config("t08_charm_quality_life")
    assert set(cov["class"]) == set(cfg.get("classes"))
    pop, _, _ = read_raster(_bytes(storage, r14, "t14.population"))
    for cls, rows in cov.groupby("class"):
        city = rows[rows["zone"] == "全市 whole city"].iloc[0]
        towns = rows[rows["zone"] != "全市 whole city"]
        assert len(towns) == 3
        assert city["population"] == pytest.approx(float(np.nansum(pop)), rel=1e-3)  # every person of T14 counted once
        assert towns["population"].sum() == pytest.approx(city["population"], abs=0.5)  # the table rounds to 0.1 person
        assert towns["covered_pop"].sum() == pytest.approx(city["covered_pop"], abs=0.5)
        assert (rows["covered_pop"] <= rows["population"] + 1e-6).all()
        assert city["facilities"] == towns["facilities"].sum() and city["capacity"] == pytest.approx(towns["capacity"].sum())
        std = rows["standard_per_1000"].iloc[0]
        if pd.notna(std):
            req = rows["population"] * rows["population_share"] / 1000 * std
            assert rows["required"].to_numpy() == pytest.approx(req.to_numpy(), rel=1e-3)
            assert rows["gap"].to_numpy() == pytest.approx((req - rows["capacity"]).to_numpy(), abs=0.5)
    # the hospitals reach the whole city seat by road within 30 min: nearly everyone is covered
    hosp = cov[(cov["class"] == "hospital") & (cov["zone"] == "全市 whole city")].iloc[0]
    assert hosp["covered_share"] > 0.9


def test_guide_life_circle_raster_and_quality_indicators(evaluated):
    kit, storage, r02, _, _, result = evaluated
    guide = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t08.public_service_guide")))
    assert guide.crs.to_epsg() == 4525 and set(guide["feature"]) <= {"facility", "gap"}
    fac = guide[guide["feature"] == "facility"]
    n_kinder = int((pd.read_excel(kit.files("15-01")[0])["type"] == "幼儿园").sum())
    assert int((fac["class"] == "kindergarten").sum()) == n_kinder
    assert (fac.geom_type == "Point").all() and (guide[guide["feature"] == "gap"].geom_type != "Point").all()
    met, grid, nodata = read_raster(_bytes(storage, result, "t08.life_circle_coverage"))
    _, ref, _ = read_raster(_bytes(storage, r02, "t02.slope"))
    assert grid.transform == ref.transform and grid.shape == ref.shape and nodata == 0
    n_cls = len(load_config("t08_charm_quality_life").get("classes"))
    assert set(np.unique(met)) - {0} <= set(range(1, n_cls + 2)) and len(set(np.unique(met)) - {0}) >= 3
    q = pd.read_csv(io.BytesIO(_bytes(storage, result, "t08.quality_indicators")), encoding="utf-8-sig")
    green = q[q["indicator"] == "城市建成区绿地率"]
    assert set(green["kind"]) >= {"现状", "目标", "现状（数据推算）"}  # delivered and derived side by side
    derived = float(green[green["kind"] == "现状（数据推算）"]["value"].iloc[0])
    delivered = float(green[green["kind"] == "现状"]["value"].iloc[0])
    assert 0 < derived < delivered < 100  # the kit reports the 三调 share + 2–4 points
    assert "社区卫生医疗设施步行15分钟覆盖率" in set(q["indicator"])


def test_charm_zones_and_recreation_network_from_t15_and_t11(evaluated):
    _, storage, _, _, ready, result = evaluated
    network = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t08.recreation_network")))
    zones = gpd.read_parquet(io.BytesIO(_bytes(storage, result, "t08.charm_zones")))
    assert network.crs.to_epsg() == 4525 and zones.crs.to_epsg() == 4525
    assert "生态廊道" in set(network["kind"])  # T11's corridors always join the network
    pattern = gpd.read_parquet(io.BytesIO(storage.read_bytes(ready["layers"]["t11.ecological_security_pattern"]["path"])))
    assert int((network["kind"] == "生态廊道").sum()) == int((pattern["kind"] == "corridor").sum())
    resources = gpd.read_parquet(io.BytesIO(storage.read_bytes(ready["layers"]["t15.cultural_tourism_resources"]["path"])))
    corridors = gpd.read_parquet(io.BytesIO(storage.read_bytes(ready["layers"]["t15.tourism_network"]["path"])))
    assert int((network["source"] == "t15.tourism_network").sum()) == len(corridors)
    assert len(zones) >= 1 and set(zones["level"]) <= {"national", "city"}
    members = sum(int(n) for n in zones["n_resources"])
    assert members <= len(resources) and (zones["area_km2"] > 0).all()
    # a zone is national exactly when it holds a national grade or its scores reach the configured sum
    ch = load_config("t08_charm_quality_life").get("charm")
    for z in zones.itertuples():
        names = z.members.split("、")
        mem = resources[resources["name"].isin(names)]
        national = mem["grade"].astype(str).isin(ch["national_grades"]).any() or z.score_sum >= ch["national_min_score_sum"]
        assert (z.level == "national") == bool(national), z.zone_id


def test_gx_suite_refuses_a_bad_facility_file(evaluated, tmp_path):
    # last in the module: it lands a second (invalid) 14-01 version in the shared storage
    kit, storage, *_ = evaluated
    df = pd.read_excel(kit.files("14-01")[0])
    df.loc[0, "type"] = "大药房"  # not a contract type
    df.loc[1, "beds"] = -5
    df.loc[2, "lat"] = np.nan
    bad = tmp_path / "卫生设施.xlsx"
    df.to_excel(bad, index=False)
    cat = load_catalog()
    ingest(storage, cat, "14", "14-01", [bad])
    report = accept_delivery(storage, cat, latest_delivery(storage, "14-01"))
    assert report["state"] != "validated"
    text = str(report["failures"])
    assert "type" in text and "beds" in text
