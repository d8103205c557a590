"""Tests of erenhot.samplekit: deterministic, contract-shaped sample deliveries (small kit: 500 m, 200 parcels)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from erenhot.samplekit import (
    KIT_DATASETS,
    SANDIAO_DLBM,
    TOWNSHIPS,
    KitManifest,
    make_sample_kit,
    read_kit,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
SMALL = {"raster_cell_m": 500, "n_parcels": 200}
CJK = re.compile(r"[\u4e00-\u9fff]")
NBS_CODES = {"152501200", "152501400", "152501401"}

# file names per dataset exactly as docs/deliveries.md names them (synthetic mode)
# the files each kit dataset writes are its delivery contract's files (datasets.yaml); 17-02's contract
# allows a daily CSV or an EPW file and the kit writes the CSV
KIT_FILE_CHOICES = {"17-02": ["climate_daily.csv"]}


def _contract_files(dataset_id: str) -> list[str]:
    from erenhot.catalog import load_catalog

    return KIT_FILE_CHOICES.get(dataset_id) or sorted(load_catalog().dataset(dataset_id).delivery["files"])


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _vsizip(path: Path, layer: str) -> str:
    return f"/vsizip/{path}/{layer}.shp"


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> KitManifest:
    return make_sample_kit(tmp_path_factory.mktemp("kit_a"), **SMALL)


@pytest.fixture(scope="module")
def kit_again(tmp_path_factory) -> KitManifest:
    return make_sample_kit(tmp_path_factory.mktemp("kit_b"), **SMALL)


@pytest.fixture(scope="module")
def dltb(kit):
    import pyogrio

    gdf = pyogrio.read_dataframe(_vsizip(kit.files("01-46a.dltb")[0], "DLTB"), encoding="GBK")
    gdf["CZCSXM"] = gdf["CZCSXM"].fillna("")
    return gdf


@pytest.fixture(scope="module")
def townships(kit):
    import geopandas as gpd

    return gpd.read_file(kit.out_dir / "01-04" / "townships.geojson").to_crs(4525)


# -- determinism ---------------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes(kit, kit_again):
    a, b = _digests(kit.out_dir), _digests(kit_again.out_dir)
    expected = {f"{ds}/{name}" for ds in KIT_DATASETS for name in kit.datasets[ds]["files"]} | {"kit.json"}
    assert set(a) == expected
    assert a == b


def test_embedded_timestamps_are_fixed(kit):
    """Byte identity must not depend on when the kit is built (zip/XLSX/DBF dates are constants)."""
    containers = sorted(kit.out_dir.rglob("*.zip")) + sorted(kit.out_dir.rglob("*.xlsx"))
    listed = [name for ds in kit.datasets.values() for name in ds["files"] if name.endswith((".zip", ".xlsx"))]
    assert len(containers) == len(listed) >= 6
    for path in containers:
        with zipfile.ZipFile(path) as zf:
            assert {i.date_time for i in zf.infolist()} == {(2020, 12, 31, 0, 0, 0)}, path
            if path.suffix == ".xlsx":
                import xml.etree.ElementTree as ET
                core = ET.fromstring(zf.read("docProps/core.xml"))  # serialisation differs with/without lxml
                modified = core.find("{http://purl.org/dc/terms/}modified")
                assert modified is not None and modified.text == "2020-12-31T00:00:00Z", path
            else:
                dbf = zf.read(next(n for n in zf.namelist() if n.endswith(".dbf")))
                assert tuple(dbf[1:4]) == (120, 12, 31), path  # DBF "last update" 2020-12-31


def test_other_seed_gives_other_landscape(kit, tmp_path):
    other = make_sample_kit(tmp_path, raster_cell_m=500, n_parcels=200, seed=7)
    assert other.files("01-03")[0].read_bytes() != kit.files("01-03")[0].read_bytes()
    assert other.files("01-46a.dltb")[0].read_bytes() != kit.files("01-46a.dltb")[0].read_bytes()


# -- kit.json ------------------------------------------------------------------------------------


def test_kit_json_lists_every_dataset_with_existing_files(kit):
    doc = json.loads((kit.out_dir / "kit.json").read_text(encoding="utf-8"))
    assert doc["kit_version"] == 1
    assert doc["seed"] == 20201 and doc["raster_cell_m"] == 500 and doc["real_data"] is None
    assert set(doc["datasets"]) == set(KIT_DATASETS)
    assert list(KIT_DATASETS) == sorted(KIT_DATASETS)
    for ds in KIT_DATASETS:
        entry = doc["datasets"][ds]
        assert entry["department_seq"] == int(ds.split("-")[0])
        assert entry["files"] == _contract_files(ds), ds
        assert entry["synthetic"] is True
        assert "synthetic" in entry["provenance"]
        on_disk = sorted(p.name for p in (kit.out_dir / ds).iterdir())
        assert on_disk == sorted(entry["files"])
        for path in kit.files(ds):
            assert path.is_file() and path.stat().st_size > 0
    assert read_kit(kit.out_dir).datasets == kit.datasets


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        make_sample_kit(tmp_path, raster_cell_m=0)
    with pytest.raises(FileNotFoundError):
        make_sample_kit(tmp_path, real_data=tmp_path / "nowhere")


# -- DLTB ------------------------------------------------------------------------------------------


def test_dltb_zip_is_old_arcgis_style_gbk_without_cpg(kit):
    import pyogrio

    path = kit.files("01-46a.dltb")[0]
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        dbf = zf.read("DLTB.dbf")
    assert names == ["DLTB.dbf", "DLTB.prj", "DLTB.shp", "DLTB.shp.xml", "DLTB.shx"]
    assert not any(n.lower().endswith(".cpg") for n in names)
    assert dbf[29] == 0  # no language-driver id: nothing in the file says GBK
    assert "其他草地".encode("gbk") in dbf
    assert "其他草地".encode("utf-8") not in dbf
    gbk = pyogrio.read_dataframe(_vsizip(path, "DLTB"), encoding="GBK", read_geometry=False)
    assert gbk["DLMC"].map(lambda s: bool(CJK.search(s))).all()
    default = pyogrio.read_dataframe(_vsizip(path, "DLTB"), read_geometry=False)
    assert not default["DLMC"].map(lambda s: bool(CJK.search(s))).any()


def test_dltb_attributes_follow_the_contract(dltb, townships):
    import shapely

    assert dltb.crs.to_epsg() == 4525
    assert {"BSM", "DLBM", "DLMC", "ZLDWDM", "TBMJ", "CZCSXM"} <= set(dltb.columns)
    assert set(dltb["DLBM"]) <= set(SANDIAO_DLBM)
    assert (dltb["DLMC"] == dltb["DLBM"].map(SANDIAO_DLBM)).all()
    assert dltb["BSM"].is_unique
    assert dltb["ZLDWDM"].str.len().eq(12).all() and dltb["ZLDWDM"].str.endswith("000").all()
    assert set(dltb["ZLDWDM"].str[:9]) == NBS_CODES
    assert np.allclose(dltb["TBMJ"], dltb.geometry.area, atol=0.01)
    assert set(dltb["CZCSXM"]) <= {"", "201"}
    urban = dltb["ZLDWDM"].str[:9].isin({"152501400", "152501401"})
    assert (dltb.loc[~urban, "CZCSXM"] == "").all()
    assert (dltb.loc[urban, "CZCSXM"] == "201").any()
    assert dltb.geometry.is_valid.all()
    # every parcel lies in the township its ZLDWDM names
    tp = dict(zip(townships["XZQDM"], townships.geometry))
    pts = shapely.point_on_surface(dltb.geometry.values)
    inside = [tp[c[:9]].buffer(1.0).contains(p) for c, p in zip(dltb["ZLDWDM"], pts)]
    assert all(inside)
    # class mix: grassland dominates (0404 most), the salt-lake, airport, mining and urban classes exist
    area = dltb.groupby("DLBM")["TBMJ"].sum() / dltb["TBMJ"].sum()
    assert 0.6 <= area.get("0401", 0) + area.get("0404", 0) <= 0.9
    assert area.idxmax() == "0404"
    for code in ("1205", "1204", "1102", "1106", "0603", "0602", "1007", "0701", "1004", "1003", "1001",
                 "0702", "0103"):
        assert code in area.index, code
    # parcels cover the city
    assert abs(dltb["TBMJ"].sum() - townships.area.sum()) < 0.001 * townships.area.sum()


# -- rasters -------------------------------------------------------------------------------------


def test_dem_is_epsg4525_float32_with_plausible_heights(kit, townships):
    import rasterio

    with rasterio.open(kit.files("01-03")[0]) as r:
        assert r.crs.to_epsg() == 4525
        assert r.dtypes[0] == "float32" and r.nodata == -9999
        assert r.res == (500.0, 500.0)
        tags = r.tags()
        dem = r.read(1)
        b = r.bounds
    assert tags["SYNTHETIC"] == "true" and tags["SOURCE"] == "erenhot.samplekit"
    assert dem.min() >= 700 and dem.max() <= 1500
    assert 900 <= dem.min() and dem.max() <= 1250
    assert 915 <= float(dem.mean()) <= 960
    xmin, ymin, xmax, ymax = townships.total_bounds
    assert b.left <= xmin - 1000 and b.bottom <= ymin - 1000 and b.right >= xmax + 1000 and b.top >= ymax + 1000


def test_fvc_and_npp(kit):
    import rasterio

    with rasterio.open(kit.files("01-46a.fvc")[0]) as r:
        assert r.crs.to_epsg() == 4525 and r.nodata == -1 and r.tags()["SYNTHETIC"] == "true"
        assert r.res == (250.0, 250.0)  # min(max(raster_cell_m, 60), 250): the contract wants ≤ 250 m
        fvc = r.read(1)
    with rasterio.open(kit.files("01-46a.npp")[0]) as r:
        assert r.crs.to_epsg() == 4525 and r.nodata == -1
        npp = r.read(1)
    assert fvc.shape == npp.shape
    assert 0 <= fvc.min() and fvc.max() <= 1
    assert 0.6 <= float(np.mean((fvc >= 0.03) & (fvc <= 0.35)))
    assert 20 <= npp.min() and npp.max() <= 250
    assert np.corrcoef(fvc.ravel(), npp.ravel())[0, 1] > 0.9


# -- administrative divisions and other vectors --------------------------------------------------------


def test_city_and_townships(kit, townships):
    import geopandas as gpd

    city = gpd.read_file(kit.out_dir / "01-04" / "city.geojson")
    assert list(city["XZQDM"]) == ["152501"] and list(city["XZQMC"]) == ["二连浩特市"]
    assert set(townships["XZQDM"]) == NBS_CODES == {c for c, _n in TOWNSHIPS}
    assert townships["XZQDM"].str.len().eq(9).all()
    km2 = dict(zip(townships["XZQDM"], townships.area / 1e6))
    assert 3900 <= city.to_crs(4525).area.sum() / 1e6 <= 4100
    assert 60 <= km2["152501400"] <= 100 and 20 <= km2["152501401"] <= 40
    assert km2["152501200"] > 3500


def test_generated_geojson_says_synthetic(kit):
    files = sorted(kit.out_dir.rglob("*.geojson"))
    assert len(files) == 7
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["metadata"]["synthetic"] is True, path
        assert doc["metadata"]["source"] == "erenhot.samplekit"


def test_other_vector_deliveries(kit):
    import geopandas as gpd
    import pyogrio

    faults = gpd.read_file(kit.files("01-27")[0])
    assert 2 <= len(faults) <= 4 and set(faults["HDX"]) <= {"全新世", "晚更新世", "早中更新世"}
    assert set(faults.geom_type) <= {"LineString", "MultiLineString"}
    haz = gpd.read_file(kit.files("01-28")[0])
    assert set(haz["YFCD"]) <= {"高易发", "中易发", "低易发"} and "高易发" in set(haz["YFCD"])
    rail = gpd.read_file(kit.files("02-06")[0])
    assert list(rail["NAME"]) == ["集二铁路"]
    st = gpd.read_file(kit.files("22-01")[0])
    assert list(st["name"]) == ["二连"]
    aw = gpd.read_file(kit.files("21-01")[0])
    assert "runway" in set(aw["aeroway"])
    runway = aw[aw["aeroway"] == "runway"].to_crs(4525)
    assert 2600 <= runway.length.iloc[0] <= 3000

    for ds, layer, epsg in (("01-16", "desertification", 4490), ("04-13", "soil", 4525), ("05-05", "roads", 4525)):
        path = kit.files(ds)[0]
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        assert f"{layer}.shp.xml" in names and not any(n.endswith(".cpg") for n in names)
        gdf = pyogrio.read_dataframe(_vsizip(path, layer), encoding="GBK")
        assert gdf.crs.to_epsg() == epsg, ds
        if ds == "01-16":
            assert set(gdf["SHCD"]) <= {"轻度", "中度", "重度", "极重度"} and len(gdf) >= 3
        elif ds == "04-13":
            assert 20 <= len(gdf) <= 60
            assert set(gdf["TRZD"]) <= {"沙土", "砂壤土", "壤土", "黏壤土", "黏土", "砾质土", "基岩"}
            assert np.allclose(gdf["SAND"] + gdf["SILT"] + gdf["CLAY"], 100, atol=0.11)
            assert gdf["OM"].between(0.3, 1.5).all() and gdf["CACO3"].between(1, 8).all()
        else:
            assert set(gdf["DLDJ"]) == {"高速公路", "一级公路", "二级公路", "三级公路", "四级公路", "城市道路"}
            assert {"二广高速", "G208", "机场路"} <= set(gdf["NAME"])


# -- tables ----------------------------------------------------------------------------------------


def test_xlsx_deliveries(kit):
    from openpyxl import load_workbook

    wb = load_workbook(kit.files("04-07")[0])
    assert "synthetic" in wb.properties.keywords and "synthetic" in wb.properties.description
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == ["year", "total_quota_10k_m3", "groundwater_quota_10k_m3", "agri_share",
                             "domestic_industrial_share", "ecological_share"]
    years = [r[0] for r in rows[1:]]
    assert years[0] == 2020 and years[-1] == 2030
    for _y, total, gw, a, d, e in rows[1:]:
        assert 2000 <= total <= 2600 and gw == total and a + d + e <= 1.0
    wb = load_workbook(kit.files("04-04")[0])
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "year" and [r[0] for r in rows[1:]] == [2015, 2016, 2017, 2018, 2019]
    for r in rows[1:]:
        assert 1600 <= r[1] <= 2000 and abs(r[2] + r[3] - r[1]) < 0.11
        assert abs(sum(r[5:9]) - r[4]) < 0.11


def _csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding=encoding))))


def test_csv_deliveries(kit):
    pop_path = kit.files("10-02")[0]
    assert pop_path.read_bytes().startswith(b"\xef\xbb\xbf")
    pop = _csv(pop_path, "utf-8-sig")
    assert list(pop[0]) == ["XZQDM", "XZQMC", "year", "resident_pop", "urban_pop"]
    assert {r["XZQDM"] for r in pop} == {"152501"} | NBS_CODES
    for year in range(2016, 2021):
        rows = {r["XZQDM"]: int(r["resident_pop"]) for r in pop if int(r["year"]) == year}
        assert rows["152501"] == sum(v for k, v in rows.items() if k != "152501")
    codes = _csv(kit.files("12-01")[0])
    assert {r["code"] for r in codes} == NBS_CODES
    st = _csv(kit.files("17-01")[0])
    assert st == [{"station_id": "530680", "name": "二连浩特", "lon": "111.97", "lat": "43.65",
                   "elevation_m": "964.7"}]


def test_climate_daily_has_a_realistic_cycle(kit):
    rows = _csv(kit.files("17-02")[0])
    assert list(rows[0]) == ["station_id", "date", "tmean_c", "tmax_c", "tmin_c", "precip_mm", "rh_pct", "wind_ms"]
    assert len(rows) == 366 + 365 * 3 + 366
    t = np.array([float(r["tmean_c"]) for r in rows])
    tx = np.array([float(r["tmax_c"]) for r in rows])
    tn = np.array([float(r["tmin_c"]) for r in rows])
    p = np.array([float(r["precip_mm"]) for r in rows])
    rh = np.array([float(r["rh_pct"]) for r in rows])
    w = np.array([float(r["wind_ms"]) for r in rows])
    month = np.array([int(r["date"][5:7]) for r in rows])
    assert np.all(tn <= t) and np.all(t <= tx)
    assert 2.0 <= t.mean() <= 5.0
    assert -21 <= t[month == 1].mean() <= -14 and 20 <= t[month == 7].mean() <= 26
    assert 90 <= p.sum() / 5 <= 200 and 25 <= (p > 0).sum() / 5 <= 60
    assert p[(month >= 6) & (month <= 8)].sum() > 0.55 * p.sum()
    assert 30 <= rh.mean() <= 70 and 3 <= w.mean() <= 6
    assert 20 <= (w > 6).sum() / 5 <= 70


# -- real-data mode --------------------------------------------------------------------------------------

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real data directory {REAL} is absent")


@pytest.fixture(scope="module")
def real_kit(tmp_path_factory) -> KitManifest:
    if not REAL.is_dir():
        pytest.skip(f"real data directory {REAL} is absent")
    return make_sample_kit(tmp_path_factory.mktemp("kit_real"), real_data=REAL, **SMALL)


@needs_real
def test_real_kit_uses_the_real_files(real_kit):
    import geopandas as gpd

    doc = json.loads((real_kit.out_dir / "kit.json").read_text(encoding="utf-8"))
    assert doc["real_data"] == str(REAL.resolve())
    ds = doc["datasets"]
    assert set(ds) == set(KIT_DATASETS)
    for key in ("10-02", "12-01", "17-01", "21-01", "22-01"):
        assert ds[key]["synthetic"] is False and ds[key]["provenance"].startswith("real:"), key
    assert ds["01-04"]["synthetic"] is True and "erenhot_152501_datav.geojson" in ds["01-04"]["provenance"]

    # 17-02: the EPW byte for byte plus a synthetic precipitation file for the EPW's year
    epw = REAL / "climate" / "CHN_Nei.Mongol.Erenhot.530680_CSWD.epw"
    assert ds["17-02"]["files"] == [epw.name, "precip_daily.csv"]
    assert (real_kit.out_dir / "17-02" / epw.name).read_bytes() == epw.read_bytes()
    pr = _csv(real_kit.out_dir / "17-02" / "precip_daily.csv")
    assert len(pr) == 365 and pr[0]["date"] == "2005-01-01" and pr[-1]["date"] == "2005-12-31"
    assert 120 <= sum(float(r["precip_mm"]) for r in pr) <= 160

    # 01-04: the DataV boundary, ≈4,000 km² in EPSG:4525
    city = gpd.read_file(real_kit.out_dir / "01-04" / "city.geojson")
    datav = gpd.read_file(REAL / "admin" / "erenhot_152501_datav.geojson")
    assert city.geometry.iloc[0].equals_exact(datav.geometry.iloc[0], 1e-9)
    km2 = city.set_crs(4490, allow_override=True).to_crs(4525).area.sum() / 1e6
    assert 3900 <= km2 <= 4100
    tw = gpd.read_file(real_kit.out_dir / "01-04" / "townships.geojson").to_crs(4525)
    assert abs(tw.area.sum() / 1e6 - km2) < 1.0

    # 10-02: the census 2020 city row
    pop = _csv(real_kit.out_dir / "10-02" / "常住人口.csv", "utf-8-sig")
    assert [(r["XZQDM"], r["year"], r["resident_pop"]) for r in pop] == [("152501", "2020", "75794")]

    # 17-01 from the EPW header; 12-01, 22-01, 21-01 from the real files
    assert _csv(real_kit.files("17-01")[0])[0]["elevation_m"] == "964.7"
    assert {r["code"] for r in _csv(real_kit.files("12-01")[0])} == NBS_CODES
    st = gpd.read_file(real_kit.files("22-01")[0])
    assert "二连" in set(st["name"].dropna()) and "扎门乌德" not in set(st["name"].dropna())
    aw = gpd.read_file(real_kit.files("21-01")[0])
    assert (aw["ref"] == "12/30").sum() == 1
