"""erenhot.crs: identification, diagnosis, transformation to EPSG:4525 and plausibility checks.

Every accepted family gets a tiny generated layer (one to three points at Erenhot's seat, 111.977°E
43.653°N) that is transformed to EPSG:4525 and compared with the seat's EPSG:4525 position.

Tolerances (metres) and why:

* ``EXACT_M = 0.01`` — CGCS2000 in any form (4490, 4525, 4546, 6° zone 19 …) and the ESRI ``.prj``
  round trip: only projections change (PROJ's exact Transverse Mercator, mm level). WGS 84 too, but
  only because PROJ's WGS 84 → CGCS2000 step is a null "ballpark" shift; the real difference is
  ≲ 1 m (plate motion since epoch 2000.0), far below the 30 m grid.
* ``EXACT_M`` also for Xian 1980 / Beijing 1954 data generated under the ballpark assumption (the same
  longitude/latitude in both datums): it checks that zones and ellipsoids are handled. (Reading
  such coordinates as if they were CGCS2000 Gauss–Krüger would be off by ≈2 m for Xian 1980 and
  ≈85 m for Beijing 1954 — the ellipsoid effect alone.)
* ``BALLPARK_M = 150`` — Xian 1980 / Beijing 1954 coordinates with a *real* datum shift,
  transformed without parameters. Shifts of tens of metres up to ≈100 m between these datums and
  CGCS2000 are usual in northern China; the synthetic shifts below give 30 m and 63 m. The test also
  asserts ≥ 5 m, so a silently "exact" result would be noticed.
* ``HELMERT_M = 0.05`` — the same data transformed with the 7 parameters that generated it.

The 7-parameter sets below are ILLUSTRATIVE values of a realistic magnitude, NOT official
parameters for Inner Mongolia: they only generate "true" source coordinates (through PROJ's own
``+towgs84`` BoundCRS path, independent of the module's Helmert pipeline).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from erenhot import crs as C

EXACT_M = 0.01
BALLPARK_M = 150.0
HELMERT_M = 0.05
LON, LAT = C.ERENHOT_SEAT_LONLAT
X80_PARAMS = "24,-123,-94,0.02,-0.25,-0.13,1.1"   # illustrative Xian 1980 → CGCS2000 (position vector)
B54_PARAMS = "15.8,-154.4,-82.3"                  # illustrative Beijing 1954 → CGCS2000 (3 parameters)


@pytest.fixture(scope="module")
def seat_4525() -> tuple[float, float]:
    x, y = Transformer.from_crs(4490, 4525, always_xy=True).transform(LON, LAT)
    assert (x, y) == pytest.approx((37_578_816.9, 4_835_731.5), abs=0.1)  # anchor: seat in EPSG:4525
    return x, y


def _layer(src, lonlat=(LON, LAT), z: float | None = None) -> gpd.GeoDataFrame:
    """One point at ``lonlat`` (taken as the source datum's own longitude/latitude) in ``src``."""
    horiz = CRS(src).sub_crs_list[0] if CRS(src).is_compound else CRS(src)
    x, y = Transformer.from_crs(horiz.geodetic_crs, horiz, always_xy=True).transform(*lonlat)
    pt = shapely.Point(x, y) if z is None else shapely.Point(x, y, z)
    return gpd.GeoDataFrame({"name": ["seat"]}, geometry=[pt], crs=src)


def _dist(gdf: gpd.GeoDataFrame, xy: tuple[float, float], i: int = 0) -> float:
    p = gdf.geometry.iloc[i]
    return math.hypot(p.x - xy[0], p.y - xy[1])


# -- EPSG codes come from pyproj's database --------------------------------------------------

def test_family_codes_are_read_from_pyproj():
    assert C.codes_for("gauss-kruger-3", 37, True) == {"CGCS2000": 4525, "Xian 1980": 2361, "Beijing 1954": 2413}
    assert C.codes_for("gauss-kruger-3", 37, False) == {"CGCS2000": 4546, "Xian 1980": 2382, "Beijing 1954": 2434}
    assert C.codes_for("gauss-kruger-6", 19, True) == {"CGCS2000": 4497, "Xian 1980": 2333, "Beijing 1954": 21419}
    assert C.codes_for("gauss-kruger-6", 19, False) == {"CGCS2000": 4508, "Xian 1980": 2344, "Beijing 1954": 21459}
    assert C.codes_for("gauss-kruger-3", 36, True)["CGCS2000"] == 4524  # neighbours (spec §4.2)
    assert C.codes_for("gauss-kruger-3", 38, True)["CGCS2000"] == 4526
    geo = {k[0]: v for k, v in C.family_codes().items() if k[1] == "geographic"}
    assert geo == {"CGCS2000": 4490, "Xian 1980": 4610, "Beijing 1954": 4214, "WGS 84": 4326}
    assert len(C.family_codes()) == 3 * (21 + 21 + 11 + 11) + 4  # every 3°/6° zone, with and without prefix


# -- identify ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code, datum, kind, zone, prefix, label", [
    (4490, "CGCS2000", "geographic", None, None, "CGCS2000 地理坐标（经纬度）"),
    (4525, "CGCS2000", "gauss-kruger-3", 37, True, "CGCS2000 3度带高斯-克吕格 第37带（带号）"),
    (4546, "CGCS2000", "gauss-kruger-3", 37, False, "CGCS2000 3度带高斯-克吕格 中央经线111°E（无带号）"),
    (4497, "CGCS2000", "gauss-kruger-6", 19, True, "CGCS2000 6度带高斯-克吕格 第19带（带号）"),
    (4508, "CGCS2000", "gauss-kruger-6", 19, False, "CGCS2000 6度带高斯-克吕格 中央经线111°E（无带号）"),
    (4610, "Xian 1980", "geographic", None, None, "西安1980 地理坐标（经纬度）"),
    (2361, "Xian 1980", "gauss-kruger-3", 37, True, "西安1980 3度带高斯-克吕格 第37带（带号）"),
    (2333, "Xian 1980", "gauss-kruger-6", 19, True, "西安1980 6度带高斯-克吕格 第19带（带号）"),
    (4214, "Beijing 1954", "geographic", None, None, "北京1954 地理坐标（经纬度）"),
    (2413, "Beijing 1954", "gauss-kruger-3", 37, True, "北京1954 3度带高斯-克吕格 第37带（带号）"),
    (21419, "Beijing 1954", "gauss-kruger-6", 19, True, "北京1954 6度带高斯-克吕格 第19带（带号）"),
    (4326, "WGS 84", "geographic", None, None, "WGS 84 地理坐标（经纬度）"),
])
def test_identify_accepted_families(code, datum, kind, zone, prefix, label):
    info = C.identify(code)
    assert (info.epsg, info.datum, info.kind, info.zone, info.has_zone_prefix, info.accepted, info.label_zh) == \
        (code, datum, kind, zone, prefix, True, label)
    assert info.central_meridian == (111.0 if zone else None)


def test_identify_names_wkt_compound_and_none():
    for name, epsg in [("CGCS2000_3_Degree_GK_CM_111E", 4546), ("Xian_1980_3_Degree_GK_Zone_37", 2361),
                       ("Beijing_1954_GK_Zone_19", 21419), ("EPSG:4525", 4525), ("4525", 4525)]:
        assert C.identify(name).epsg == epsg
    esri = CRS.from_epsg(4546).to_wkt("WKT1_ESRI")
    assert 'PROJCS["CGCS2000_3_Degree_GK_CM_111E"' in esri
    assert C.identify(esri).epsg == 4546 and C.identify(esri).has_zone_prefix is False
    # a custom WKT that pyproj cannot identify still gets the family's code from its parameters
    custom = (esri.replace("CGCS2000_3_Degree_GK_CM_111E", "Erenhot_TM111").replace("D_China_2000", "D_CGCS2000")
              .replace("GCS_China_Geodetic_Coordinate_System_2000", "GCS_CGCS2000"))
    assert CRS(custom).to_epsg() is None
    info = C.identify(custom)
    assert (info.epsg, info.name, info.datum, info.has_zone_prefix) == (4546, "Erenhot_TM111", "CGCS2000", False)
    # a PROJ string names no datum: not accepted (an override at ingest says which one it is)
    bare = C.identify("+proj=tmerc +lat_0=0 +lon_0=111 +k=1 +x_0=37500000 +y_0=0 +ellps=GRS80 +units=m +no_defs")
    assert (bare.datum, bare.kind, bare.zone, bare.accepted) == ("other", "gauss-kruger-3", 37, False)
    compound = C.identify("EPSG:4546+5737")
    assert (compound.epsg, compound.vertical_epsg) == (4546, 5737)
    assert compound.label_zh == "CGCS2000 3度带高斯-克吕格 中央经线111°E（无带号） + 1985国家高程基准"
    none = C.identify(None)
    assert (none.epsg, none.kind, none.accepted) == (0, "none", False)
    assert none.label_zh == "无坐标系（缺少 .prj 或坐标系定义）"
    assert C.identify("OGC:CRS84").epsg == 4326 and C.identify("OGC:CRS84").accepted


@pytest.mark.parametrize("code, label", [
    (3857, "不接受的坐标系：WGS 84 / Pseudo-Mercator（EPSG:3857）（WGS 84 仅接受经纬度）"),
    (32649, "不接受的坐标系：WGS 84 / UTM zone 49N（EPSG:32649）（WGS 84 仅接受经纬度）"),
    (4773, "不接受的坐标系：New Beijing / 3-degree Gauss-Kruger zone 37（EPSG:4773）"),
])
def test_identify_unaccepted(code, label):
    info = C.identify(code)
    assert (info.accepted, info.kind, info.label_zh) == (False, "other-projected" if code != 4773 else "gauss-kruger-3",
                                                         label)


def test_identify_garbage_raises():
    with pytest.raises(C.CrsError, match="not a coordinate system pyproj understands"):
        C.identify("not a crs at all")


# -- to_analysis: every family lands on the seat -----------------------------------------------

@pytest.mark.parametrize("src", [4490, 4525, 4546, 4497, 4508, 4326])
def test_cgcs2000_forms_and_wgs84_are_exact(src, seat_4525):
    out, rec = C.to_analysis(_layer(src))
    assert out.crs.to_epsg() == 4525 and _dist(out, seat_4525) < EXACT_M
    assert (rec.source_epsg, rec.target_epsg, rec.override_used) == (src, 4525, False)
    if src == 4326:
        assert rec.approximate and rec.note.startswith("WGS 84 taken as CGCS2000 (ballpark, no shift)")
    else:
        assert not rec.approximate and rec.accuracy_m == 0.0
    assert rec.to_dict()["source_crs"] == f"EPSG:{src}"


@pytest.mark.parametrize("src", [4610, 2361, 2333, 2382, 4214, 2413, 21419, 21459])
def test_xian_beijing_zones_and_ellipsoids(src, seat_4525):
    out, rec = C.to_analysis(_layer(src))  # same lon/lat in the source datum = the ballpark assumption
    assert _dist(out, seat_4525) < EXACT_M
    assert rec.approximate and rec.accuracy_m is None
    assert "Ballpark geographic offset from" in rec.transformation
    assert rec.note.startswith("ballpark; accuracy unknown — PROJ has no ")
    assert "supply the province's 7-parameter transformation" in rec.note


def _true_source(src: int, towgs84: str) -> gpd.GeoDataFrame:
    """The seat's coordinates in ``src`` under an (illustrative) datum shift, generated by PROJ's
    BoundCRS (+towgs84) path from WGS 84 = CGCS2000 longitude/latitude."""
    bound = CRS(CRS(src).to_proj4() + f" +towgs84={towgs84}")
    x, y = Transformer.from_crs(4326, bound, always_xy=True).transform(LON, LAT)
    return gpd.GeoDataFrame({"name": ["seat"]}, geometry=[shapely.Point(x, y)], crs=src)


@pytest.mark.filterwarnings("ignore:You will likely lose important projection information")
@pytest.mark.parametrize("src, params", [(2361, X80_PARAMS), (4610, X80_PARAMS), (21419, B54_PARAMS)])
def test_datum_shift_with_and_without_parameters(src, params, seat_4525):
    layer = _true_source(src, params)
    out, rec = C.to_analysis(layer)
    assert 5.0 <= _dist(out, seat_4525) <= BALLPARK_M and rec.approximate
    out, rec = C.to_analysis(layer, helmert=params)
    assert _dist(out, seat_4525) < HELMERT_M
    assert not rec.approximate and rec.helmert == ",".join(f"{v:g}" for v in C.parse_helmert(params))
    assert len(rec.helmert.split(",")) == 7
    assert rec.helmert_convention == "position_vector" and "+proj=helmert" in rec.transformation
    assert rec.note.startswith(f"{C.identify(src).datum} → CGCS2000 with the supplied parameters")


@pytest.mark.filterwarnings("ignore:You will likely lose important projection information")
def test_towgs84_in_a_prj_is_reported_not_silently_applied(seat_4525):
    wkt = CRS.from_epsg(2361).to_wkt("WKT1_GDAL").replace(
        'AUTHORITY["EPSG","7049"]]', f'AUTHORITY["EPSG","7049"]],TOWGS84[{X80_PARAMS}]')
    layer = _true_source(2361, X80_PARAMS).set_crs(wkt, allow_override=True)
    assert layer.crs.is_bound and C.identify(layer.crs).epsg == 2361
    out, rec = C.to_analysis(layer)
    assert rec.approximate and _dist(out, seat_4525) <= BALLPARK_M
    assert f"the CRS carries TOWGS84[{X80_PARAMS}] (to WGS 84); PROJ did not use it" in rec.note
    out, rec = C.to_analysis(layer, helmert=X80_PARAMS)
    assert _dist(out, seat_4525) < HELMERT_M


def test_helmert_errors():
    with pytest.raises(ValueError, match="not to CGCS2000 data"):
        C.to_analysis(_layer(4525), helmert=X80_PARAMS)
    with pytest.raises(ValueError, match="3 or 7 numbers"):
        C.parse_helmert("1,2")
    assert C.parse_helmert("+towgs84=1 2 3") == (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="helmert_convention"):
        C.to_analysis(_layer(2361), helmert=X80_PARAMS, helmert_convention="bursa")


def test_compound_crs_keeps_heights(seat_4525):
    out, rec = C.to_analysis(_layer("EPSG:4546+5737", z=932.0))
    assert _dist(out, seat_4525) < EXACT_M and out.geometry.iloc[0].z == 932.0
    assert rec.source_crs == "EPSG:4546+5737"
    assert rec.note.endswith("heights (z) left unchanged (vertical CRS EPSG:5737)")


def test_esri_prj_round_trip_with_pyogrio(tmp_path, seat_4525):
    path = tmp_path / "seat.shp"
    pyogrio.write_dataframe(_layer(4546), path)
    assert (tmp_path / "seat.prj").read_text().startswith('PROJCS["CGCS2000_3_Degree_GK_CM_111E"')
    back = pyogrio.read_dataframe(path)
    info = C.identify(back.crs)
    assert (info.epsg, info.kind, info.has_zone_prefix) == (4546, "gauss-kruger-3", False)
    out, rec = C.to_analysis(back)
    assert _dist(out, seat_4525) < EXACT_M and rec.source_epsg == 4546


# -- no CRS, override, unaccepted ----------------------------------------------------------------

def test_layer_without_crs_is_refused_with_a_diagnosis(seat_4525):
    bare = _layer(4525).set_crs(None, allow_override=True)
    with pytest.raises(C.CrsError) as err:
        C.to_analysis(bare)
    assert str(err.value) == (
        "no coordinate system (.prj missing): eastings 37 579 000–37 579 000 look like 3-degree Gauss–Krüger "
        "zone 37 with the zone prefix (CGCS2000: EPSG:4525; Xian 1980: EPSG:2361; Beijing 1954: EPSG:2413); "
        "give the coordinate system explicitly (override) at ingest")
    out, rec = C.to_analysis(bare, override=4525)
    assert _dist(out, seat_4525) < EXACT_M
    assert rec.override_used and rec.declared_crs == "none"
    assert rec.note.endswith("coordinate system given by override at ingest (declared: none)")


def test_override_replaces_a_wrong_declaration(seat_4525):
    wrong = _layer(4546).set_crs(4525, allow_override=True)  # no-prefix eastings declared as zone 37 with prefix
    out, rec = C.to_analysis(wrong)
    assert rec.outside_extent == 1 and rec.outside_examples == (0,)
    out, rec = C.to_analysis(wrong, override="CGCS2000_3_Degree_GK_CM_111E")
    assert _dist(out, seat_4525) < EXACT_M and rec.outside_extent == 0
    assert (rec.source_epsg, rec.declared_crs) == (4546, "EPSG:4525")
    assert "(declared: CGCS2000 / 3-degree Gauss-Kruger zone 37, replaced)" in rec.note


def test_unaccepted_crs_is_refused_unless_allowed(seat_4525):
    merc = _layer(3857)
    with pytest.raises(C.CrsError, match=r"^coordinate system not accepted: WGS 84 / Pseudo-Mercator \(EPSG:3857"):
        C.to_analysis(merc)
    out, rec = C.to_analysis(merc, allow_unaccepted=True)
    assert _dist(out, seat_4525) < EXACT_M and rec.source_label_zh.startswith("不接受的坐标系")


# -- diagnose ------------------------------------------------------------------------------------

ZONE37 = "(CGCS2000: EPSG:4525; Xian 1980: EPSG:2361; Beijing 1954: EPSG:2413)"
DEG = "(CGCS2000: EPSG:4490; WGS 84: EPSG:4326)"


@pytest.mark.parametrize("bounds, geom_type, message", [
    ((37_527_000, 4_790_000, 37_616_000, 4_880_000), None,
     f"eastings 37 527 000–37 616 000 look like 3-degree Gauss–Krüger zone 37 with the zone prefix {ZONE37}"),
    ((19_527_000, 4_790_000, 19_616_000, 4_880_000), None,
     ("eastings 19 527 000–19 616 000 look like 6-degree Gauss–Krüger zone 19 with the zone prefix "
      "(CGCS2000: EPSG:4497; Xian 1980: EPSG:2333; Beijing 1954: EPSG:21419)")),
    ((527_000, 4_790_000, 616_000, 4_880_000), None,
     ("eastings 527 000–616 000 look like Gauss–Krüger with false easting 500 000 without zone number: give the "
      "central meridian (111°E for Erenhot → CGCS2000: EPSG:4546; Xian 1980: EPSG:2382; Beijing 1954: EPSG:2434)")),
    ((111.3, 42.9, 112.4, 43.9), None,
     f"coordinates lon 111.30–112.40, lat 42.90–43.90 look like longitude/latitude degrees {DEG}"),
    ((43.6, 111.9, 43.6, 111.9), "Point",
     ("lat/lon look swapped (first coordinate 43.6, second 111.9): swap the x and y columns; after swapping, "
      f"coordinates lon 111.90–111.90, lat 43.60–43.60 look like longitude/latitude degrees {DEG}")),
    ((4_790_000, 37_527_000, 4_880_000, 37_616_000), "Polygon",
     ("northing/easting look swapped (first coordinate 4 835 000, second 37 572 000): swap x and y; after swapping, "
      f"eastings 37 527 000–37 616 000 look like 3-degree Gauss–Krüger zone 37 with the zone prefix {ZONE37}")),
    ((36_527_000, 4_790_000, 36_616_000, 4_880_000), None,
     ("eastings 36 527 000–36 616 000 look like 3-degree Gauss–Krüger zone 36 with the zone prefix "
      "(CGCS2000: EPSG:4524; Xian 1980: EPSG:2360; Beijing 1954: EPSG:2412) — but not at Erenhot "
      "(expected there: eastings 36 740 000–36 894 000, northings 4 723 000–4 896 000)")),
    ((12_400_000, 5_300_000, 12_500_000, 5_400_000), None,
     "coordinates look like Web Mercator metres (EPSG:3857), which is not accepted: re-export in CGCS2000 (EPSG:4525)"),
    ((100.0, 30.0, 101.0, 31.0), None,
     ("coordinates lon 100.00–101.00, lat 30.00–31.00 look like longitude/latitude degrees in China but not at "
      "Erenhot (lon 111.0–112.8, lat 42.6–44.1)")),
    ((0, 0, 100, 100), None,
     "coordinates x 0–100, y 0–100 fit neither longitude/latitude at Erenhot nor Gauss–Krüger metres"),
    ((np.nan,) * 4, None, "no coordinates to diagnose (empty or missing geometries)"),
])
def test_diagnose_messages(bounds, geom_type, message):
    assert C.diagnose(bounds, geom_type) == message


# -- swapped axes, outside the city -------------------------------------------------------------

@pytest.mark.parametrize("src", [4490, 4525])
def test_swapped_axes_detected(src):
    good = _layer(src).geometry.iloc[0]
    gdf = gpd.GeoDataFrame({"k": [1, 2, 3]}, geometry=[good, shapely.Point(good.y, good.x), shapely.Point()],
                           crs=src, index=[10, 11, 12])
    assert C.swapped_axes(gdf).tolist() == [False, True, False]
    assert C.swapped_axes(gdf.set_crs(None, allow_override=True)).tolist() == [False, True, False]
    _, rec = C.to_analysis(gdf)
    assert (rec.swapped_axes, rec.swapped_examples, rec.outside_extent, rec.outside_examples) == (1, (11,), 1, (11,))


def test_outside_city(seat_4525):
    x, y = seat_4525
    boundary = shapely.box(x - 1000, y - 1000, x + 1000, y + 1000)
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(x, y), shapely.Point(x + 1005, y), shapely.Point(x + 5000, y),
                                     shapely.Point()], crs=4525, index=["in", "edge", "out", "empty"])
    assert C.outside_city(gdf, boundary, 0) == ["edge", "out"]
    assert C.outside_city(gdf, gpd.GeoSeries([boundary], crs=4525), tolerance_m=10) == ["out"]
    with pytest.raises(C.CrsError, match="outside_city needs EPSG:4525"):
        C.outside_city(gdf.to_crs(4490), boundary)


def test_expected_extent_constant():
    assert C.ERENHOT_EXTENT_LONLAT == (111.0, 42.6, 112.8, 44.1)
    minx, miny, maxx, maxy = C.expected_extent(4525)
    assert (minx, maxx) == pytest.approx((37_500_000, 37_647_724), abs=1)
    assert (miny, maxy) == pytest.approx((4_718_284, 4_886_509), abs=1)
