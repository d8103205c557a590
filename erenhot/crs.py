"""Coordinate systems of deliveries: identify, diagnose, transform to the project CRS, plausibility.

Accepted families (issue item 2; spec ``evaluation-spec.md`` §4.2):

* CGCS2000 (2000国家大地坐标系) geographic (EPSG:4490) and Gauss–Krüger 3°/6° zones with or without
  the zone prefix in the easting (Erenhot: 3° zone 37 = EPSG:4525, x_0 = 37 500 000 m; CM 111°E
  without prefix = EPSG:4546);
* Xian 1980 (西安1980) and Beijing 1954 (北京1954): geographic and Gauss–Krüger 3°/6° zones;
* WGS 84 geographic (GPS; EPSG:4326 and OGC CRS84).

Everything is transformed to :data:`ANALYSIS_EPSG` (EPSG:4525) and a :class:`TransformRecord`
describes how (for the standard data's manifest). Web Mercator, UTM and other projections are
identified but not accepted (:attr:`CrsInfo.accepted` is ``False``).

EPSG codes are never tabulated here: they come from pyproj's copy of the EPSG database
(:func:`family_codes`). CRSs are compared by EPSG code and projection parameters, never with
``CRS.equals`` (an ESRI ``.prj`` round trip breaks it: ``design/validation-notes.md`` §2).

Coordinates are always handled x = easting/longitude, y = northing/latitude (``always_xy``), whatever
the axis order the EPSG definition declares (4490 and the Gauss–Krüger CRSs are northing-first in EPSG).

Pure library code: no Prefect, no I/O, no side effects at import (the EPSG family table is built
lazily and cached).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer, database
from pyproj.aoi import AreaOfInterest
from pyproj.enums import PJType
from pyproj.exceptions import CRSError as _PyprojCRSError
from pyproj.transformer import TransformerGroup

ANALYSIS_EPSG = 4525
"""Project CRS: CGCS2000 / 3-degree Gauss-Kruger zone 37 (lon_0 111°E, k 1, x_0 37 500 000 m)."""

ERENHOT_EXTENT_LONLAT: tuple[float, float, float, float] = (111.0, 42.6, 112.8, 44.1)
"""Expected extent of Erenhot as (min lon, min lat, max lon, max lat) in degrees (CGCS2000).

Source: ``evaluation-spec.md`` §0.1 (extent ≈111°17′–112°25′ E, 42°55′–43°53′ N, one web source
[S31], confidence M). Padded by ≈0.2–0.4° (15–35 km) because the source is a single web page (another
one gives wrong values); it is a *plausibility* box for wrong-CRS and swapped-axis detection, not the
boundary — the city boundary delivery (01-04) is the authority (:func:`outside_city`).
"""

ERENHOT_SEAT_LONLAT: tuple[float, float] = (111.977, 43.653)
"""Approximate position of the city seat (lon, lat in degrees), used by the tests."""

DATUMS = ("CGCS2000", "Xian 1980", "Beijing 1954", "WGS 84")
KINDS = ("geographic", "gauss-kruger-3", "gauss-kruger-6", "other-projected", "other", "none")

_DATUM_ZH = {"CGCS2000": "CGCS2000", "Xian 1980": "西安1980", "Beijing 1954": "北京1954", "WGS 84": "WGS 84"}
_VERTICAL_ZH = {5737: "1985国家高程基准"}
_GK_DATUMS = ("CGCS2000", "Xian 1980", "Beijing 1954")
_AOI = AreaOfInterest(*ERENHOT_EXTENT_LONLAT)


class CrsError(ValueError):
    """A layer's coordinate system is missing, unreadable or not accepted; the message says why."""


# -- identification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CrsInfo:
    """What a CRS is, in the terms of the accepted families.

    Attributes:
        epsg: EPSG code of the horizontal CRS (0 when there is none or pyproj cannot identify it;
            an unidentified CRS whose parameters match an EPSG family member gets that member's code).
        name: the CRS name (horizontal part).
        datum: ``'CGCS2000' | 'Xian 1980' | 'Beijing 1954' | 'WGS 84' | 'other'``.
        kind: ``'geographic' | 'gauss-kruger-3' | 'gauss-kruger-6' | 'other-projected'``, or
            ``'other'`` (geocentric, engineering …) and ``'none'`` (no CRS).
        zone: Gauss–Krüger zone number (3°: 25–45, 6°: 13–23), else ``None``.
        central_meridian: degrees east (Gauss–Krüger and other Transverse Mercator), else ``None``.
        has_zone_prefix: Gauss–Krüger only: is the zone number the millions of the easting
            (x_0 = zone·10⁶ + 500 000 m)?  ``None`` for other kinds.
        vertical_epsg: EPSG code of the vertical part of a compound CRS (e.g. 5737), else ``None``.
        accepted: one of the accepted families (module docstring).
        label_zh: a Chinese label for reports, e.g. ``"CGCS2000 3度带高斯-克吕格 第37带（带号）"``.
    """

    epsg: int
    name: str
    datum: str
    kind: str
    zone: int | None
    central_meridian: float | None
    has_zone_prefix: bool | None
    vertical_epsg: int | None
    accepted: bool
    label_zh: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_crs(crs: Any) -> CRS | None:
    """Any CRS spelling → ``pyproj.CRS`` (``None`` stays ``None``).

    Accepts an EPSG code (``4525``, ``"4525"``, ``"EPSG:4525"``, ``"EPSG:4546+5737"``), WKT (including
    ESRI ``.prj`` text), a PROJ string, a CRS name known to PROJ (also ESRI names such as
    ``"CGCS2000_3_Degree_GK_CM_111E"``), a ``pyproj.CRS`` or anything with ``to_wkt()`` (rasterio).

    Raises:
        CrsError: pyproj cannot make a CRS of it.
    """
    if crs is None:
        return None
    if isinstance(crs, CRS):
        return crs
    try:
        if isinstance(crs, (int, np.integer)):
            return CRS.from_epsg(int(crs))
        if isinstance(crs, str):
            text = crs.strip()
            if not text:
                raise CrsError("empty coordinate system text")
            if text.isdigit():
                return CRS.from_epsg(int(text))
            return CRS.from_user_input(text)
        return CRS.from_user_input(crs)
    except CrsError:
        raise
    except (_PyprojCRSError, TypeError, ValueError) as exc:
        raise CrsError(f"not a coordinate system pyproj understands: {str(crs)[:120]!r} ({exc})") from exc


def _split(c: CRS) -> tuple[CRS, CRS | None]:
    """(horizontal, vertical) parts; a BoundCRS (WKT with TOWGS84) is unwrapped to its source."""
    vertical = None
    if c.is_bound and c.source_crs is not None:
        c = c.source_crs
    if c.is_compound:
        subs = c.sub_crs_list
        c, vertical = subs[0], (subs[1] if len(subs) > 1 else None)
        if c.is_bound and c.source_crs is not None:
            c = c.source_crs
    return c, vertical


def _datum_family(c: CRS) -> str:
    names = [c.datum.name if c.datum else ""]
    if c.geodetic_crs is not None and c.geodetic_crs.datum is not None:
        names.append(c.geodetic_crs.datum.name)
    text = " ".join(n for n in names if n).lower().replace("_", " ")
    text = re.sub(r"\bd (?=\w)", "", text)  # ESRI "D_China_2000"
    if "new beijing" in text:
        return "other"
    if "china 2000" in text or "cgcs2000" in text or "china geodetic coordinate system 2000" in text:
        return "CGCS2000"
    if re.search(r"xi'?an 1980", text):
        return "Xian 1980"
    if "beijing 1954" in text:
        return "Beijing 1954"
    if "world geodetic system 1984" in text or re.search(r"\bwgs ?(19)?84\b", text):
        return "WGS 84"
    return "other"


def _param(params: dict[str, float], *names: str) -> float | None:
    for n in names:
        if n in params:
            return params[n]
    return None


def _gk(c: CRS) -> tuple[str, int | None, float | None, bool | None]:
    """(kind, zone, central meridian, has prefix) of a projected CRS from its parameters (+ name hint)."""
    op = c.coordinate_operation
    if op is None:
        return "other-projected", None, None, None
    method = (op.method_name or "").lower()
    params = {p.name.lower(): float(p.value) for p in op.params}
    cm = _param(params, "longitude of natural origin", "central_meridian", "longitude of origin")
    if "transverse mercator" not in method and "gauss" not in method:
        return "other-projected", None, None, None
    if "south" in method:
        return "other-projected", None, cm, None
    k = _param(params, "scale factor at natural origin", "scale_factor")
    fe = _param(params, "false easting", "false_easting")
    fn = _param(params, "false northing", "false_northing")
    lat0 = _param(params, "latitude of natural origin", "latitude_of_origin")
    unit = c.axis_info[0].unit_conversion_factor if c.axis_info else 1.0
    if None in (cm, k, fe) or abs(k - 1.0) > 1e-12 or abs(fn or 0.0) > 1e-6 or abs(lat0 or 0.0) > 1e-9 \
            or abs(unit - 1.0) > 1e-12:
        return "other-projected", None, cm, None
    if abs(cm - round(cm)) > 1e-9 or round(cm) % 3:
        return "other-projected", None, cm, None
    cmi = round(cm)
    if abs(fe - 500_000.0) < 1e-6:
        name = c.name.lower().replace("_", "-").replace(" ", "-")
        hint3 = "3-degree" in name or "3度" in name
        gaussish = "gauss" in name or "gk" in name.split("-")
        if not hint3 and gaussish and cmi % 6 == 3:
            return "gauss-kruger-6", (cmi + 3) // 6, cm, False
        # no name hint: 3° is the municipal standard (spec §4.2); for a CM such as 111°E the 3° and
        # 6° "CM" projections are the same one anyway
        return "gauss-kruger-3", cmi // 3, cm, False
    prefix = (fe - 500_000.0) / 1_000_000.0
    if abs(prefix - round(prefix)) > 1e-9:
        return "other-projected", None, cm, None
    zone = round(prefix)
    if 25 <= zone <= 45 and cmi == 3 * zone:
        return "gauss-kruger-3", zone, cm, True
    if 13 <= zone <= 23 and cmi == 6 * zone - 3:
        return "gauss-kruger-6", zone, cm, True
    return "other-projected", None, cm, None


def _label_zh(datum: str, kind: str, zone: int | None, cm: float | None, prefix: bool | None,
              name: str, epsg: int, vertical: int | None, accepted: bool) -> str:
    if kind == "none":
        return "无坐标系（缺少 .prj 或坐标系定义）"
    if not accepted:
        code = f"EPSG:{epsg}" if epsg else "无EPSG代码"
        why = "（WGS 84 仅接受经纬度）" if datum == "WGS 84" and kind != "geographic" else ""
        return f"不接受的坐标系：{name}（{code}）{why}"
    d = _DATUM_ZH[datum]
    if kind == "geographic":
        text = f"{d} 地理坐标（经纬度）"
    else:
        width = "3" if kind == "gauss-kruger-3" else "6"
        if prefix:
            text = f"{d} {width}度带高斯-克吕格 第{zone}带（带号）"
        else:
            text = f"{d} {width}度带高斯-克吕格 中央经线{cm:g}°E（无带号）"
    if vertical:
        text += f" + {_VERTICAL_ZH.get(vertical, f'高程 EPSG:{vertical}')}"
    return text


def identify(crs: Any) -> CrsInfo:
    """Identify a CRS: EPSG code, datum family, Gauss–Krüger zone and prefix, acceptance, Chinese label.

    Args:
        crs: anything :func:`parse_crs` takes, or ``None``.

    Returns:
        A :class:`CrsInfo`. Family membership is decided from the datum name and the projection
        parameters (Transverse Mercator, k = 1, lat_0 = 0, y_0 = 0, metres, central meridian a multiple
        of 3°, x_0 = 500 000 or zone·10⁶ + 500 000 consistent with the central meridian), so ESRI
        ``.prj`` text and custom WKT are recognised like their EPSG twins. Without a zone prefix a
        central meridian such as 111°E is both a 3° and a 6° one (the same projection); the name then
        decides as EPSG and ESRI spell it: "3-degree"/"3_Degree" → 3°, "Gauss"/"GK" without it → 6°,
        no hint → 3° (the municipal standard, spec §4.2). UTM (k = 0.9996) and Web
        Mercator are ``other-projected`` and not accepted; WGS 84 is accepted as geographic only.

    Raises:
        CrsError: the input is not a CRS pyproj understands.
    """
    c = parse_crs(crs)
    if c is None:
        return CrsInfo(0, "none", "other", "none", None, None, None, None, False, _label_zh(
            "other", "none", None, None, None, "none", 0, None, False))
    horiz, vert = _split(c)
    epsg = int(horiz.to_epsg() or 0)
    if not epsg and (horiz.to_authority() or ("", ""))[0] == "OGC" and horiz.is_geographic:
        epsg = 4326  # OGC:CRS84 = WGS 84 with lon/lat order
    vertical_epsg = (int(vert.to_epsg() or 0) or None) if vert is not None else None
    datum = _datum_family(horiz)
    zone = cm = prefix = None
    if horiz.is_geographic:
        kind = "geographic"
    elif horiz.is_projected:
        kind, zone, cm, prefix = _gk(horiz)
    else:
        kind = "other"
    accepted = (datum in _GK_DATUMS and kind in ("geographic", "gauss-kruger-3", "gauss-kruger-6")) \
        or (datum == "WGS 84" and kind == "geographic")
    if accepted and not epsg:
        epsg = family_codes().get((datum, kind, zone, prefix), 0) if kind != "geographic" \
            else family_codes().get((datum, "geographic", None, None), 0)
    return CrsInfo(epsg=epsg, name=horiz.name, datum=datum, kind=kind, zone=zone,
                   central_meridian=cm, has_zone_prefix=prefix, vertical_epsg=vertical_epsg,
                   accepted=bool(accepted),
                   label_zh=_label_zh(datum, kind, zone, cm, prefix, horiz.name, epsg, vertical_epsg,
                                      bool(accepted)))


@functools.lru_cache(maxsize=1)
def family_codes() -> dict[tuple[str, str, int | None, bool | None], int]:
    """EPSG codes of the accepted families, read from pyproj's EPSG database (built once, ≈0.2 s).

    Keys are ``(datum, kind, zone, has_zone_prefix)`` with ``kind`` ``'gauss-kruger-3'`` or
    ``'gauss-kruger-6'`` (e.g. ``('CGCS2000', 'gauss-kruger-3', 37, True)`` → 4525), plus
    ``(datum, 'geographic', None, None)`` for the geographic 2D CRSs (4490, 4610, 4214, 4326).
    Candidates are the non-deprecated EPSG projected CRSs named ``CGCS2000 / …``, ``Xian 1980 / …``,
    ``Beijing 1954 / …``; each is classified by :func:`identify`'s parameter rules, so a name never
    decides a code on its own.
    """
    out: dict[tuple[str, str, int | None, bool | None], int] = {}
    prefixes = {"CGCS2000": "CGCS2000", "Xian 1980": "Xian 1980", "Beijing 1954": "Beijing 1954"}
    for info in database.query_crs_info(auth_name="EPSG", pj_types=[PJType.PROJECTED_CRS]):
        head = info.name.split(" / ")[0]
        if head not in prefixes or "gauss" not in info.name.lower():
            continue
        c = CRS.from_epsg(int(info.code))
        datum = _datum_family(c)
        kind, zone, _cm, prefix = _gk(c)
        if datum == prefixes[head] and kind.startswith("gauss"):
            out.setdefault((datum, kind, zone, prefix), int(info.code))
    geo_names = {"China Geodetic Coordinate System 2000": "CGCS2000", "Xian 1980": "Xian 1980",
                 "Beijing 1954": "Beijing 1954", "WGS 84": "WGS 84"}
    for info in database.query_crs_info(auth_name="EPSG", pj_types=[PJType.GEOGRAPHIC_2D_CRS]):
        if info.name in geo_names:
            out.setdefault((geo_names[info.name], "geographic", None, None), int(info.code))
    return out


def codes_for(kind: str, zone: int | None, has_zone_prefix: bool | None) -> dict[str, int]:
    """EPSG codes per datum for one Gauss–Krüger form, e.g. ``codes_for('gauss-kruger-6', 19, True)``
    → ``{'CGCS2000': 4497, 'Xian 1980': 2333, 'Beijing 1954': 21419}`` (from :func:`family_codes`)."""
    table = family_codes()
    return {d: table[(d, kind, zone, has_zone_prefix)] for d in _GK_DATUMS
            if (d, kind, zone, has_zone_prefix) in table}


# -- expected extent in any CRS ----------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _extent_in(crs_text: str) -> tuple[float, float, float, float]:
    """:data:`ERENHOT_EXTENT_LONLAT` as (minx, miny, maxx, maxy) in another CRS (x = easting).

    The box is transformed from CGCS2000 geographic with densified edges; datum shifts without
    parameters are ballpark there (tens of metres), irrelevant for a plausibility box.
    """
    t = Transformer.from_crs(CRS.from_epsg(4490), CRS.from_user_input(crs_text), always_xy=True)
    return tuple(float(v) for v in t.transform_bounds(*ERENHOT_EXTENT_LONLAT, densify_pts=21))


def expected_extent(crs: Any) -> tuple[float, float, float, float]:
    """Erenhot's plausibility box (:data:`ERENHOT_EXTENT_LONLAT`) in ``crs`` as (minx, miny, maxx, maxy),
    x = easting/longitude, in the CRS's units (degrees or metres). E.g. for EPSG:4525 ≈
    (37 500 000, 4 718 284, 37 647 724, 4 886 509) m.

    Raises:
        CrsError: ``crs`` is ``None`` or not a CRS.
    """
    c = parse_crs(crs)
    if c is None:
        raise CrsError("no coordinate system: the expected extent cannot be expressed")
    horiz, _ = _split(c)
    return _extent_in(horiz.to_wkt())


def _inside(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def _centres(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of the feature bounds (x, y) and a mask of non-empty geometries."""
    geoms = gdf.geometry.values
    present = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    b = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        x = (b[:, 0] + b[:, 2]) / 2.0
        y = (b[:, 1] + b[:, 3]) / 2.0
    return x, y, present


# candidate CRSs for layers without one: the CGCS2000 forms a delivery for Erenhot can take
_CANDIDATES = (4490, 4525, 4546, 4497)


def swapped_axes(gdf: gpd.GeoDataFrame, crs: Any = None) -> np.ndarray:
    """Features whose x and y are swapped, judged against Erenhot's expected extent.

    A feature (its bounds centre) is *swapped* when it lies outside Erenhot's plausibility box in
    its CRS but inside it once x and y are exchanged — e.g. in EPSG:4490 x ≈ 42.6–44.1 and
    y ≈ 111.0–112.8 (latitude first), in EPSG:4525 x ≈ 4.72–4.89 million and y ≈ 37.50–37.65 million
    (northing first).

    Args:
        gdf: the layer in its *source* CRS (not yet transformed).
        crs: the CRS to judge against; default ``gdf.crs``. Without either, the CGCS2000 forms of
            Erenhot (4490, 4525, 4546, 4497) are all tried.

    Returns:
        Boolean array, one value per row (``False`` for empty geometries).

    Raises:
        CrsError: ``crs`` is not a CRS pyproj understands.
    """
    x, y, present = _centres(gdf)
    c = parse_crs(crs) if crs is not None else gdf.crs
    boxes = [expected_extent(c)] if c is not None else [expected_extent(e) for e in _CANDIDATES]
    ok = np.zeros(len(gdf), dtype=bool)
    swapped = np.zeros(len(gdf), dtype=bool)
    for box in boxes:
        ok |= _inside(x, y, box)
        swapped |= _inside(y, x, box)
    return swapped & ~ok & present


def outside_extent(gdf_4525: gpd.GeoDataFrame) -> np.ndarray:
    """Features (bounds centre, EPSG:4525) outside Erenhot's plausibility box :data:`ERENHOT_EXTENT_LONLAT`.

    Returns a boolean array per row (``False`` for empty geometries; non-finite coordinates from
    a failed transformation count as outside). Use :func:`outside_city` once the boundary exists.
    """
    x, y, present = _centres(gdf_4525)
    return present & ~_inside(x, y, expected_extent(ANALYSIS_EPSG))


def outside_city(gdf_4525: gpd.GeoDataFrame, boundary_4525: Any, tolerance_m: float = 0.0) -> list:
    """Index labels of features not covered by the city boundary grown by ``tolerance_m`` metres.

    Args:
        gdf_4525: features in EPSG:4525 (a GeoDataFrame with another declared CRS is refused).
        boundary_4525: the city boundary in EPSG:4525: a shapely geometry, GeoSeries or GeoDataFrame.
        tolerance_m: buffer in metres around the boundary (e.g. a few metres for digitising noise
            or 150 m for Xian 1980/Beijing 1954 data transformed without parameters).

    Returns:
        ``gdf_4525.index`` labels in row order (empty geometries are never outside).

    Raises:
        CrsError: ``gdf_4525`` (or a GeoSeries/GeoDataFrame boundary) declares a CRS other than 4525.
    """
    for obj in (gdf_4525, boundary_4525):
        crs = getattr(obj, "crs", None)
        if crs is not None and CRS.from_user_input(crs).to_epsg() != ANALYSIS_EPSG:
            raise CrsError(f"outside_city needs EPSG:{ANALYSIS_EPSG}, got {CRS.from_user_input(crs).name}")
    boundary = boundary_4525
    if isinstance(boundary, (gpd.GeoSeries, gpd.GeoDataFrame)):
        boundary = shapely.union_all(boundary.geometry.values if isinstance(boundary, gpd.GeoDataFrame)
                                     else boundary.values)
    if tolerance_m:
        boundary = shapely.buffer(boundary, float(tolerance_m))
    shapely.prepare(boundary)
    geoms = gdf_4525.geometry.values
    present = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    outside = present & ~shapely.covers(boundary, geoms)
    return gdf_4525.index[outside].tolist()


# -- diagnosis of coordinates without a CRS ----------------------------------------------------

def _m(v: float) -> str:
    """Metres rounded to the kilometre with thin grouping: 37578817 → '37 579 000'."""
    return f"{int(round(v, -3)):,}".replace(",", " ")


def _codes_text(codes: dict[str, int]) -> str:
    return "; ".join(f"{d}: EPSG:{c}" for d, c in codes.items())


def _diagnose_plain(minx: float, miny: float, maxx: float, maxy: float) -> str | None:
    """Diagnosis assuming x = easting/longitude; ``None`` when nothing fits."""
    cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    lon0, lat0, lon1, lat1 = ERENHOT_EXTENT_LONLAT
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        if lon0 <= cx <= lon1 and lat0 <= cy <= lat1:
            geo = family_codes()
            return (f"coordinates lon {minx:.2f}–{maxx:.2f}, lat {miny:.2f}–{maxy:.2f} look like longitude/latitude "
                    f"degrees (CGCS2000: EPSG:{geo[('CGCS2000', 'geographic', None, None)]}; "
                    f"WGS 84: EPSG:{geo[('WGS 84', 'geographic', None, None)]})")
        if 73 <= minx and maxx <= 136 and 3 <= miny and maxy <= 54:
            return (f"coordinates lon {minx:.2f}–{maxx:.2f}, lat {miny:.2f}–{maxy:.2f} look like longitude/latitude "
                    f"degrees in China but not at Erenhot (lon {lon0}–{lon1}, lat {lat0}–{lat1})")
        return None
    if 13_000_000 <= minx and maxx < 46_000_000 and 0 <= miny and maxy <= 10_000_000:
        zone = int(cx // 1_000_000)
        if int(minx // 1_000_000) != int(maxx // 1_000_000):
            return (f"eastings {_m(minx)}–{_m(maxx)} span several zone prefixes "
                    f"({int(minx // 1_000_000)}–{int(maxx // 1_000_000)}): mixed Gauss–Krüger zones?")
        if 25 <= zone <= 45:
            kind, width = "gauss-kruger-3", "3-degree"
        elif 13 <= zone <= 23:
            kind, width = "gauss-kruger-6", "6-degree"
        else:
            return None
        codes = codes_for(kind, zone, True)
        text = (f"eastings {_m(minx)}–{_m(maxx)} look like {width} Gauss–Krüger zone {zone} with the zone prefix "
                f"({_codes_text(codes)})")
        return text + _not_erenhot(cx, cy, codes.get("CGCS2000"))
    if 100_000 <= minx and maxx <= 900_000 and 1_000_000 <= miny and maxy <= 10_000_000:
        codes = codes_for("gauss-kruger-3", 37, False)
        text = (f"eastings {_m(minx)}–{_m(maxx)} look like Gauss–Krüger with false easting 500 000 without zone "
                f"number: give the central meridian (111°E for Erenhot → {_codes_text(codes)})")
        return text + _not_erenhot(cx, cy, codes.get("CGCS2000"))
    if _inside(np.array([cx]), np.array([cy]), expected_extent(3857))[0]:
        return ("coordinates look like Web Mercator metres (EPSG:3857), which is not accepted: "
                "re-export in CGCS2000 (EPSG:4525)")
    return None


def _not_erenhot(cx: float, cy: float, epsg: int | None) -> str:
    if not epsg:
        return ""
    box = expected_extent(epsg)
    if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
        return ""
    return (f" — but not at Erenhot (expected there: eastings {_m(box[0])}–{_m(box[2])}, "
            f"northings {_m(box[1])}–{_m(box[3])})")


def _in_erenhot(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    cx, cy = np.array([(minx + maxx) / 2.0]), np.array([(miny + maxy) / 2.0])
    return any(_inside(cx, cy, expected_extent(e))[0] for e in _CANDIDATES)


def diagnose(bounds: tuple[float, float, float, float] | np.ndarray, geom_type: str | None = None) -> str:
    """Guess the CRS of coordinates that come without one, from their magnitudes.

    Args:
        bounds: ``(minx, miny, maxx, maxy)`` of the layer as delivered (``GeoDataFrame.total_bounds``).
        geom_type: optional geometry type; for point layers the swap advice names the x/y columns.

    Returns:
        One English sentence for the validation report, e.g.
        ``"eastings 37 527 000–37 616 000 look like 3-degree Gauss–Krüger zone 37 with the zone prefix
        (CGCS2000: EPSG:4525; Xian 1980: EPSG:2361; Beijing 1954: EPSG:2413)"``; swapped axes are
        reported first (``"lat/lon look swapped (first coordinate 43.6, second 112.0); after swapping: …"``).
        Coordinates cannot reveal the datum, hence one code per datum; EPSG codes come from
        :func:`family_codes` (pyproj's database).
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return "no coordinates to diagnose (empty or missing geometries)"
    plain = _diagnose_plain(minx, miny, maxx, maxy)
    if not _in_erenhot(minx, miny, maxx, maxy) and _in_erenhot(miny, minx, maxy, maxx):
        swapped = _diagnose_plain(miny, minx, maxy, maxx)
        cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
        if abs(cx) <= 180 and abs(cy) <= 180:
            head = f"lat/lon look swapped (first coordinate {cx:.1f}, second {cy:.1f})"
        else:
            head = f"northing/easting look swapped (first coordinate {_m(cx)}, second {_m(cy)})"
        how = "swap the x and y columns" if (geom_type or "").lower().endswith("point") else "swap x and y"
        return f"{head}: {how}; after swapping, {swapped}"
    if plain is not None:
        return plain
    return (f"coordinates x {minx:,.6g}–{maxx:,.6g}, y {miny:,.6g}–{maxy:,.6g} fit neither longitude/latitude "
            f"at Erenhot nor Gauss–Krüger metres")


# -- transformation to the analysis CRS --------------------------------------------------------

@dataclass(frozen=True)
class TransformRecord:
    """How a layer was brought to EPSG:4525 — stored in the standard data's manifest (``to_dict()``).

    Attributes:
        source_epsg / source_name / source_label_zh / source_datum: the CRS the coordinates were
            taken to be in (after an override, the override's).
        source_crs: ``"EPSG:nnnn"`` when identified, else the WKT2 text.
        declared_crs: what the layer itself declared (``"none"`` when it had no CRS).
        override_used: the source CRS was given explicitly at ingest instead of the declared one.
        target_epsg / target_name: EPSG:4525.
        transformation: the pyproj operation's description (or the Helmert pipeline used).
        accuracy_m: the operation's accuracy in metres when pyproj knows it (0 for pure projection
            changes), else ``None``.
        approximate: a "ballpark" datum step was used (no shift applied between datums).
        helmert / helmert_convention: the 7-parameter set supplied, if any.
        note: plain-language caveat (datum shift, heights, override).
        swapped_axes / swapped_examples: count and first index labels of features whose x/y look
            swapped in the source coordinates (:func:`swapped_axes`).
        outside_extent / outside_examples: count and first index labels of features whose transformed
            position lies outside Erenhot's plausibility box (:func:`outside_extent`).
    """

    source_epsg: int
    source_name: str
    source_label_zh: str
    source_datum: str
    source_crs: str
    declared_crs: str
    override_used: bool
    target_epsg: int
    target_name: str
    transformation: str
    accuracy_m: float | None
    approximate: bool
    helmert: str | None
    helmert_convention: str | None
    note: str
    swapped_axes: int
    swapped_examples: tuple
    outside_extent: int
    outside_examples: tuple

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["swapped_examples"] = list(self.swapped_examples)
        d["outside_examples"] = list(self.outside_examples)
        return d


def parse_helmert(text: str) -> tuple[float, ...]:
    """``"dx,dy,dz[,rx,ry,rz,ds]"`` (m, arc-seconds, ppm; commas or spaces; an optional leading
    ``+towgs84=``) → 7 floats (missing rotations/scale are 0).

    Raises:
        ValueError: not 3 or 7 numbers.
    """
    body = re.sub(r"^\s*\+?towgs84\s*=", "", str(text).strip(), flags=re.IGNORECASE)
    try:
        values = [float(v) for v in re.split(r"[,\s]+", body.strip()) if v]
    except ValueError as exc:
        raise ValueError(f"Helmert parameters must be numbers 'dx,dy,dz[,rx,ry,rz,ds]', got {text!r}") from exc
    if len(values) not in (3, 7):
        raise ValueError(f"Helmert parameters must be 3 or 7 numbers 'dx,dy,dz[,rx,ry,rz,ds]', got {len(values)}")
    return tuple(values + [0.0] * (7 - len(values)))


def _ellps(c: CRS) -> str:
    e = c.ellipsoid
    return f"+a={e.semi_major_metre!r} +rf={e.inverse_flattening!r}"


def _tmerc(c: CRS) -> str:
    params = {p.name.lower(): float(p.value) for p in c.coordinate_operation.params}
    return (f"+proj=tmerc +lat_0={_param(params, 'latitude of natural origin') or 0.0!r} "
            f"+lon_0={_param(params, 'longitude of natural origin')!r} "
            f"+k={_param(params, 'scale factor at natural origin')!r} "
            f"+x_0={_param(params, 'false easting')!r} +y_0={_param(params, 'false northing') or 0.0!r} {_ellps(c)}")


def helmert_pipeline(source: CRS, helmert: str, convention: str = "position_vector") -> str:
    """PROJ pipeline source (geographic or Gauss–Krüger, x = easting) → CGCS2000 by a 7-parameter
    Helmert on geocentric coordinates → EPSG:4525.

    The parameters are the *source → CGCS2000* set as provinces publish them: dx, dy, dz in metres,
    rx, ry, rz in arc-seconds, ds in ppm; ``convention`` is ``'position_vector'`` (as PROJ's
    ``+towgs84``) or ``'coordinate_frame'`` (rotations of opposite sign) — check which one the
    province's document uses.

    Raises:
        ValueError: bad parameters or convention; a source that is neither geographic nor GK.
    """
    if convention not in ("position_vector", "coordinate_frame"):
        raise ValueError("helmert_convention must be 'position_vector' or 'coordinate_frame'")
    dx, dy, dz, rx, ry, rz, ds = parse_helmert(helmert)
    horiz, _ = _split(source)
    target = CRS.from_epsg(ANALYSIS_EPSG)
    cgcs = CRS.from_epsg(4490)
    if horiz.is_geographic:
        first = "+step +proj=unitconvert +xy_in=deg +xy_out=rad"
    elif horiz.is_projected and identify(horiz).kind.startswith("gauss"):
        first = f"+step +inv {_tmerc(horiz)}"
    else:
        raise ValueError(f"a Helmert transformation needs a geographic or Gauss–Krüger source, got {horiz.name}")
    return " ".join([
        "+proj=pipeline", first,
        f"+step +proj=cart {_ellps(horiz)}",
        (f"+step +proj=helmert +x={dx!r} +y={dy!r} +z={dz!r} +rx={rx!r} +ry={ry!r} +rz={rz!r} +s={ds!r} "
         f"+convention={convention}"),
        f"+step +inv +proj=cart {_ellps(cgcs)}",
        f"+step {_tmerc(target)}",
    ])


def _apply(gdf: gpd.GeoDataFrame, transformer: Transformer | None) -> gpd.GeoDataFrame:
    """Transform x/y of every geometry (z is left unchanged); ``None`` = identity."""
    out = gdf.copy()
    if transformer is not None and len(gdf):
        def fn(coords: np.ndarray) -> np.ndarray:
            res = coords.copy()
            xx, yy = transformer.transform(coords[:, 0], coords[:, 1])
            res[:, 0], res[:, 1] = xx, yy
            return res
        geoms = shapely.transform(gdf.geometry.values, fn, include_z=None)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index), crs=None)
        out = out.rename_geometry(gdf.geometry.name) if out.geometry.name != gdf.geometry.name else out
    return out.set_crs(ANALYSIS_EPSG, allow_override=True)


def _srs(c: CRS | None, info: CrsInfo | None = None) -> str:
    if c is None:
        return "none"
    auth = c.to_authority()
    if auth:
        return f"{auth[0]}:{auth[1]}"
    if c.is_compound:
        subs = [s.to_authority() for s in c.sub_crs_list]
        if all(a and a[0] == "EPSG" for a in subs):
            return "EPSG:" + "+".join(a[1] for a in subs)
    if info is not None and info.epsg and not c.is_compound and not c.is_bound:
        return f"EPSG:{info.epsg}"
    return c.to_wkt()


def _examples(index: Any, mask: np.ndarray, n: int = 10) -> tuple:
    return tuple(np.asarray(index[mask][:n]).tolist())


def to_analysis(gdf: gpd.GeoDataFrame, *, override: str | int | Any | None = None,
                helmert: str | None = None, helmert_convention: str = "position_vector",
                allow_unaccepted: bool = False) -> tuple[gpd.GeoDataFrame, TransformRecord]:
    """Transform a layer to EPSG:4525 and describe how.

    Args:
        gdf: the layer as delivered (x = easting/longitude, whatever the EPSG axis order).
        override: the CRS to use instead of ``gdf.crs`` (anything :func:`parse_crs` takes) — the
            explicit override at ingest for a layer without ``.prj`` or with a wrong one.
        helmert: optional 7-parameter set *source datum → CGCS2000* (see :func:`helmert_pipeline`),
            for Xian 1980 / Beijing 1954 (or WGS 84) sources; without it pyproj's operation is used,
            which for Xian 1980 and Beijing 1954 is a "ballpark" step (no datum shift; errors of tens
            of metres up to ≈100 m+), flagged ``approximate`` in the record.
        helmert_convention: ``'position_vector'`` (default, as PROJ ``+towgs84``) or ``'coordinate_frame'``.
        allow_unaccepted: transform CRSs outside the accepted families (Web Mercator, UTM …) instead
            of refusing them.

    Returns:
        ``(gdf_4525, record)``: a copy with geometries in EPSG:4525 (same index, columns and z
        values) and its :class:`TransformRecord`. Plausibility (swapped axes, outside Erenhot) is
        counted in the record, never corrected.

    Raises:
        CrsError: no CRS and no override (message: ``"no coordinate system (.prj missing): <diagnose>;
            …"``); an unreadable override; a CRS not accepted (unless ``allow_unaccepted``).
        ValueError: ``helmert`` for a CGCS2000 source, or malformed parameters.
    """
    declared = gdf.crs
    if override is not None:
        source = parse_crs(override)
    elif declared is None:
        geom_type = None
        if len(gdf):
            types = set(gdf.geom_type.dropna().unique())
            geom_type = types.pop() if len(types) == 1 else None
        raise CrsError(f"no coordinate system (.prj missing): {diagnose(tuple(gdf.total_bounds), geom_type)}; "
                       "give the coordinate system explicitly (override) at ingest")
    else:
        source = CRS.from_user_input(declared)
    info = identify(source)
    if not info.accepted and not allow_unaccepted:
        raise CrsError(f"coordinate system not accepted: {info.name} (EPSG:{info.epsg or '?'}, {info.label_zh}); "
                       "accepted are CGCS2000, Xian 1980 and Beijing 1954 geographic or Gauss–Krüger "
                       "3°/6° zones, and WGS 84 longitude/latitude — re-export in CGCS2000 (EPSG:4525)")
    horiz, vertical = _split(source)
    target = CRS.from_epsg(ANALYSIS_EPSG)
    notes: list[str] = []
    accuracy: float | None
    if helmert is not None:
        if info.datum == "CGCS2000":
            raise ValueError("Helmert parameters apply to Xian 1980 / Beijing 1954 / WGS 84 sources, "
                             "not to CGCS2000 data")
        pipeline = helmert_pipeline(source, helmert, helmert_convention)
        transformer: Transformer | None = Transformer.from_pipeline(pipeline)
        description = (f"{info.name} → CGCS2000 by the supplied 7-parameter Helmert ({helmert_convention}) "
                       f"→ {target.name}; PROJ pipeline: {pipeline}")
        accuracy, approximate = None, False
        notes.append(f"{info.datum} → CGCS2000 with the supplied parameters; accuracy is that of the parameters")
    elif info.epsg == ANALYSIS_EPSG and source.is_projected and not source.is_bound:
        transformer, description, accuracy, approximate = None, f"none (already EPSG:{ANALYSIS_EPSG})", 0.0, False
    else:
        group = TransformerGroup(source if source.is_bound else horiz, target, always_xy=True,
                                 area_of_interest=_AOI)
        if not group.transformers:
            raise CrsError(f"pyproj has no transformation from {info.name} to EPSG:{ANALYSIS_EPSG}")
        transformer = group.transformers[0]
        description = transformer.description
        accuracy = float(transformer.accuracy) if transformer.accuracy is not None and transformer.accuracy >= 0 \
            else None
        approximate = "ballpark" in description.lower()
        if group.unavailable_operations:
            notes.append("better operations exist but their grids are not installed: "
                         + "; ".join(op.name for op in group.unavailable_operations[:3]))
        if approximate and info.datum in ("Xian 1980", "Beijing 1954"):
            notes.append(f"ballpark; accuracy unknown — PROJ has no {info.datum} → CGCS2000 transformation, so the "
                         "longitudes/latitudes are taken unchanged (errors of tens of metres up to about 100 m); "
                         "supply the province's 7-parameter transformation (helmert='dx,dy,dz,rx,ry,rz,ds')")
        elif approximate and info.datum == "WGS 84":
            notes.append("WGS 84 taken as CGCS2000 (ballpark, no shift): the two frames differ by about 1 m or "
                         "less (CGCS2000 is fixed at epoch 2000.0), negligible on the 30 m grid")
        elif approximate and info.datum == "CGCS2000":
            approximate = False  # a CGCS2000 datum PROJ does not know by that name ("D_CGCS2000"): no shift needed
            notes.append(f"datum '{horiz.datum.name}' taken as CGCS2000 (no shift)")
        elif approximate:
            notes.append("ballpark; accuracy unknown")
        elif accuracy == 0.0:
            notes.append("exact: a change of projection within CGCS2000")
    if source.is_bound and helmert is None:
        towgs84 = getattr(source.coordinate_operation, "towgs84", None) or []
        if towgs84:
            notes.append("the CRS carries TOWGS84[" + ",".join(f"{v:g}" for v in towgs84) + "] (to WGS 84); PROJ "
                         "did not use it for the way to CGCS2000 — pass helmert='" + ",".join(f"{v:g}" for v in towgs84)
                         + "' if these are the province's parameters")
    has_z = bool(len(gdf)) and bool(shapely.has_z(gdf.geometry.values).any())
    if has_z or vertical is not None:
        notes.append("heights (z) left unchanged" + (f" (vertical CRS EPSG:{info.vertical_epsg})"
                                                     if info.vertical_epsg else ""))
    if override is not None:
        notes.append("coordinate system given by override at ingest (declared: "
                     + (f"{CRS.from_user_input(declared).name}, replaced)" if declared is not None else "none)"))
    out = _apply(gdf, transformer)
    swapped = swapped_axes(gdf, source)
    outside = outside_extent(out)
    record = TransformRecord(
        source_epsg=info.epsg, source_name=info.name, source_label_zh=info.label_zh, source_datum=info.datum,
        source_crs=_srs(source, info),
        declared_crs=_srs(CRS.from_user_input(declared)) if declared is not None else "none",
        override_used=override is not None,
        target_epsg=ANALYSIS_EPSG, target_name=target.name,
        transformation=description, accuracy_m=accuracy, approximate=approximate,
        helmert=None if helmert is None else ",".join(f"{v:g}" for v in parse_helmert(helmert)),
        helmert_convention=None if helmert is None else helmert_convention,
        note="; ".join(notes),
        swapped_axes=int(swapped.sum()), swapped_examples=_examples(gdf.index, swapped),
        outside_extent=int(outside.sum()), outside_examples=_examples(gdf.index, outside),
    )
    return out, record
