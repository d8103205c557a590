"""资源环境承载能力评价 (T02) on a block of cells: one function for the whole array and for every tile.

The topic composer (:mod:`erenhot.topics.t02_carrying_capacity`) brings the inputs onto the grid and
calls :func:`capacity_block` once with the whole arrays; the tiled evaluation
(:mod:`erenhot.evaluation.tiled_dual`) calls it per tile with a halo of :func:`halo_cells`. Both then
grade service importance with break values gathered over the whole area
(:func:`erenhot.evaluation.ecology.cumulative_share_breaks`) in :func:`importance_block`. Every rule and
value comes from ``erenhot/config/t02_carrying_capacity.yaml`` (clauses and confidence there) through
:class:`CapacitySettings`; the formulas are in :mod:`integration`, :mod:`ecology`, :mod:`climate`,
:mod:`terrain`.

Block inputs (``dict`` of ``(rows, cols)`` arrays on EPSG:4525 cells of ``cell_size_m``):

=================  ========  ===============================================================
``inside``         bool      the city (evaluation area)
``dem``            float32   elevation, m (01-03, bilinear); any value outside ``inside``
``fvc``            float32   vegetation cover 0–1 (01-46a.fvc; clipped here)
``silt`` ``sand``  float32   soil texture %, NaN outside the soil map (04-13)
``clay`` ``om``    float32   clay %, organic matter %
``caco3``          float32   CaCO₃ %
``texture``        int       1-based index into :attr:`CapacitySettings.textures`, 0 = none
``land_use``       int       1-based index into :attr:`CapacitySettings.dlbm_codes` (三调 DLBM), 0 = none
``susceptibility`` uint8     地质灾害易发 grade (01-28 mapped by config, background grade elsewhere)
``fault_<HDX>``    uint8     1 on active-fault cells of activity HDX (01-27), for each buffered class
``npp``            float32   NPP (01-46a.npp), only when :attr:`CapacitySettings.biodiversity`
``severe``         uint8     1 = monitored severe 沙化 (01-16), only when :attr:`CapacitySettings.severe_monitoring`
=================  ========  ===============================================================
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from erenhot.evaluation import climate as clim
from erenhot.evaluation import ecology as eco
from erenhot.evaluation import integration as integ
from erenhot.evaluation.classify import grade_by_breaks, lookup_codes
from erenhot.evaluation.terrain import relief as relief_fn
from erenhot.evaluation.terrain import slope_degrees, window_cells

__all__ = ["CLASS_LAYERS", "VALUE_LAYERS", "CapacitySettings", "capacity_block", "halo_cells", "importance_block"]

VALUE_LAYERS = ("slope", "relief", "accumulated_temp", "wind_erosion_service", "biodiversity_service")
"""float32 layers (NaN outside the city)."""
CLASS_LAYERS = ("land_agri", "land_urban", "water_agri", "water_urban", "climate_agri", "thi_comfort", "hazard",
                "service_importance", "desertification_fragility", "soil_erosion_fragility", "eco_importance",
                "agri_capacity", "urban_capacity", "agri_limiting_factor", "urban_limiting_factor")
"""uint8 class layers (0 outside the city)."""


@dataclass(frozen=True)
class CapacitySettings:
    """Everything a block needs besides its arrays: config values and the station's climate figures.

    Built once per run by :meth:`build`; picklable, so tiles on Dask workers get the same settings.
    """

    cell_size_m: float
    relief_window: int
    fault_buffers_m: dict[str, float]
    dlbm_codes: tuple[str, ...]
    textures: tuple[str, ...]
    station: dict[str, Any]
    tmean: tuple[float, ...]
    at_station: float
    climate: dict[str, Any]
    water_agri: int
    water_urban: int
    water_rule: dict[str, Any]
    comfort: int
    agri_land: integ.AgriLandParams
    urban_land: integ.UrbanLandParams
    hazard: integ.HazardParams
    wind_factor: tuple[float, ...]
    rweq: dict[str, Any]
    aridity: float
    wind_days: float
    erosivity: float
    desertification: eco.DesertificationParams
    soil_erosion: eco.SoilErosionParams
    desert_texture_scores: dict[str, float]
    erodibility_scores: dict[str, float]
    agri_integration: integ.AgriIntegrationParams
    urban_integration: integ.UrbanIntegrationParams
    agri_limit_order: tuple[str, ...]
    urban_limit_order: tuple[str, ...]
    service_breaks: tuple[float, ...]
    biodiversity: bool
    severe_monitoring: bool
    dem_range: tuple[float, float] = (math.nan, math.nan)
    figures: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, cfg: Any, daily: pd.DataFrame, station: Mapping[str, Any], *, area_km2: float, quota_m3: float,
              dlbm_codes: Sequence[str], textures: Sequence[str], biodiversity: bool, severe_monitoring: bool,
              dem_range: tuple[float, float] = (math.nan, math.nan)) -> CapacitySettings:
        """Settings from the T02 config and the station series.

        Args:
            cfg: the loaded ``t02_carrying_capacity`` config (:func:`erenhot.config.load_config`).
            daily: one station's daily rows (``date`` datetime, ``tmean_c``, ``precip_mm``, ``rh_pct``,
                ``wind_ms`` at the station's anemometer height).
            station: ``elevation_m`` (m) and ``n_years`` (years the series covers).
            area_km2: the evaluation area (cells inside × cell area), km² — for the 用水总量 modulus.
            quota_m3: 用水总量控制指标, m³/a (04-07).
            dlbm_codes, textures: the orders behind the ``land_use`` and ``texture`` index rasters.
            biodiversity: evaluate 生物多样性 (NPP delivered and configured).
            severe_monitoring: the 01-16 severe-沙化 mask is an input.
            dem_range: min and max DEM elevation inside the city (m), for the biodiversity index's F_alt.
        """
        v = cfg.values
        cell = float(v["grid"]["cell_size_m"])
        ny = float(station["n_years"])
        tmean = daily["tmean_c"].to_numpy(float)
        precip = daily["precip_mm"].fillna(0.0).to_numpy(float)
        months = daily["date"].dt.month.to_numpy()
        ca = v["agri"]["climate"]
        series = daily.set_index("date")
        comfort = v["urban"]["comfort"]
        thi_monthly = clim.thi(clim.monthly_means(series["tmean_c"]), clim.monthly_means(series["rh_pct"]) / 100.0,
                               comfort["thi_rh_coef"], comfort["thi_base_f"])
        annual_precip = float(precip.sum() / ny)
        ev = v["ecology"]
        rw = ev["rweq"]
        wind10 = daily["wind_ms"].to_numpy(float)
        wind2 = clim.wind_at_height(wind10, v["climate"]["station_wind_height_m"], rw["wind_height_m"], v["climate"]["wind_profile_exponent"])
        wf = eco.rweq_wind_factor(wind2, months if rw["period"] == "month" else None, rw["threshold_wind_ms"], rw["air_density_kg_m3"],
                                  rw["gravity_m_s2"], soil_wetness=rw["soil_wetness"], snow_cover=rw["snow_cover"], n_years=ny)
        de, se = ev["desertification"], ev["soil_erosion"]
        aridity = clim.aridity_index_accumulated(tmean, precip, de["aridity_base_c"], coefficient=de["aridity_coefficient"])
        wind_thr = clim.wind_at_height(wind10, v["climate"]["station_wind_height_m"], de["wind_threshold_height_m"],
                                       v["climate"]["wind_profile_exponent"])
        wind_days = clim.sand_wind_days(wind_thr, de["wind_threshold_ms"], ny)
        erosivity = clim.daily_rainfall_erosivity(precip, months, se["alpha_warm"], se["alpha_cold"], se["exponent"],
                                                  se["threshold_mm"], se["warm_months"], ny)
        hz = v["hazard"]
        settings = cls(
            cell_size_m=cell,
            relief_window=window_cells(float(v["terrain"]["relief_window_m"]), cell),
            fault_buffers_m={str(k): float(d) for k, d in hz["fault_buffer_m"].items() if float(d) > 0},
            dlbm_codes=tuple(str(c) for c in dlbm_codes), textures=tuple(str(t) for t in textures),
            station={"elevation_m": float(station["elevation_m"]), "n_years": ny},
            tmean=tuple(float(t) for t in tmean),
            at_station=float(clim.accumulated_temperature(tmean, ca["base_temperature_c"], ny)),
            climate={"base_c": float(ca["base_temperature_c"]), "lapse": float(ca["lapse_rate_c_per_100m"]),
                     "apply_lapse": bool(ca["apply_lapse_correction"]), "breaks": tuple(ca["accumulated_temp_breaks_cd"])},
            water_agri=0, water_urban=0,
            water_rule={"quota_m3": float(quota_m3), "annual_precip_mm": annual_precip,
                        "agri": dict(v["agri"]["water"]), "urban": dict(v["urban"]["water"])},
            comfort=int(clim.thi_comfort_grade(thi_monthly, comfort["comfort_table"])),
            agri_land=cfg.params(integ.AgriLandParams, "agri.land"),
            urban_land=cfg.params(integ.UrbanLandParams, "urban.land"),
            hazard=cfg.params(integ.HazardParams, "hazard"),
            wind_factor=tuple(float(x) for x in wf.to_numpy()),
            rweq={k: rw[k] for k in ("ef_coefficients", "scf_coefficients", "roughness_coefficients", "vegetation_coefficients",
                                     "cover_scale", "z_m", "coefficients")},
            aridity=float(aridity), wind_days=float(wind_days), erosivity=float(erosivity),
            desertification=cfg.params(eco.DesertificationParams, "ecology.desertification"),
            soil_erosion=cfg.params(eco.SoilErosionParams, "ecology.soil_erosion"),
            desert_texture_scores=dict(de["texture_scores"]), erodibility_scores=dict(se["erodibility_scores"]),
            agri_integration=cfg.params(integ.AgriIntegrationParams, "agri.integration"),
            urban_integration=cfg.params(integ.UrbanIntegrationParams, "urban.integration"),
            agri_limit_order=tuple(v["agri"]["limiting_factor_order"]), urban_limit_order=tuple(v["urban"]["limiting_factor_order"]),
            service_breaks=tuple(float(b) for b in ev["service_importance_breaks"]),
            biodiversity=bool(biodiversity), severe_monitoring=bool(severe_monitoring),
        )
        return settings.with_area(area_km2, dem_range)

    def with_area(self, area_km2: float, dem_range: tuple[float, float]) -> CapacitySettings:
        """These settings for an evaluation area of ``area_km2`` (km², cells inside × cell area) and a DEM
        range inside it (m): the 水资源 grades (用水总量控制指标 modulus = quota ÷ area, or the annual
        precipitation, per config ``*.water.indicator``) and F_alt's range. A tiled run learns both only
        after a first pass over every tile."""
        rule = self.water_rule
        modulus = integ.water_quota_modulus(rule["quota_m3"], area_km2)
        indicator_value = {"precipitation": rule["annual_precip_mm"], "quota_modulus": modulus}

        def water(section: Mapping[str, Any]) -> int:
            kind = section["indicator"]
            breaks = section["precipitation_breaks_mm"] if kind == "precipitation" else section["quota_modulus_breaks_m3_per_km2"]
            return int(integ.water_grade(np.full((1, 1), indicator_value[kind]), breaks)[0, 0])

        return dataclasses.replace(self, water_agri=water(rule["agri"]), water_urban=water(rule["urban"]),
                                   dem_range=(float(dem_range[0]), float(dem_range[1])),
                                   figures={"annual_precip_mm": rule["annual_precip_mm"], "quota_modulus_m3_per_km2": modulus})


def halo_cells(s: CapacitySettings) -> int:
    """Cells a tile must read beyond its edges for :func:`capacity_block` to equal the whole array:
    1 for Horn's slope, half the relief window, and every active-fault buffer distance in cells."""
    buffers = [math.ceil(d / s.cell_size_m) for d in s.fault_buffers_m.values()]
    return max([1, s.relief_window // 2, *buffers])


def _masked(inside: NDArray[np.bool_], a: NDArray[Any]) -> NDArray[np.uint8]:
    return np.where(inside, a, 0).astype(np.uint8)


def capacity_block(b: Mapping[str, NDArray[Any]], s: CapacitySettings) -> dict[str, NDArray[Any]]:
    """T02's per-cell layers on one block (the whole grid, or a tile read with :func:`halo_cells`).

    Args:
        b: the block inputs of the module table, all of one shape.
        s: the run's settings.

    Returns:
        name → array of the block's shape: the float32 :data:`VALUE_LAYERS` (``biodiversity_service``
        only when :attr:`CapacitySettings.biodiversity`) and the uint8 :data:`CLASS_LAYERS` except
        ``service_importance`` and ``eco_importance`` (those need the whole area: :func:`importance_block`).
        Cells of a tile's halo are computed with a truncated neighbourhood: crop them.

    Raises:
        KeyError: an input of the module table is missing.
    """
    inside = np.asarray(b["inside"], dtype=bool)
    cell = s.cell_size_m
    nan = np.float32(np.nan)
    dem = np.where(inside, b["dem"], nan).astype("float32")
    out: dict[str, NDArray[Any]] = {}
    out["slope"] = slope = np.where(inside, slope_degrees(dem, cell), nan).astype("float32")
    out["relief"] = relief = np.where(inside, relief_fn(dem, s.relief_window), nan).astype("float32")

    soil = {k: b[k] for k in ("sand", "silt", "clay", "om", "caco3")}
    texture = np.asarray(b["texture"])

    def by_texture(scores: Mapping[str, float]) -> NDArray[np.float32]:
        table = np.array([np.nan] + [float(scores.get(t, np.nan)) for t in s.textures], dtype="float32")
        return table[texture]

    fvc = np.clip(b["fvc"], 0.0, 1.0)
    c = s.climate
    if c["apply_lapse"]:
        at = clim.accumulated_temperature_field(np.asarray(s.tmean), s.station["elevation_m"],
                                                np.where(inside, dem, s.station["elevation_m"]), c["lapse"], c["base_c"],
                                                s.station["n_years"])
    else:
        at = np.full(inside.shape, s.at_station, dtype="float32")
    out["accumulated_temp"] = at = np.where(inside, at, nan).astype("float32")
    out["water_agri"] = water_agri = _masked(inside, np.full(inside.shape, s.water_agri))
    out["water_urban"] = water_urban = _masked(inside, np.full(inside.shape, s.water_urban))
    out["thi_comfort"] = comfort = _masked(inside, np.full(inside.shape, s.comfort))
    out["land_agri"] = land_agri = _masked(inside, integ.agri_land_grade(slope, soil["silt"], s.agri_land))
    out["land_urban"] = land_urban = _masked(inside, integ.urban_land_grade(slope, dem, relief, s.urban_land))
    out["climate_agri"] = climate_agri = _masked(inside, grade_by_breaks(at, c["breaks"], higher_is_better=True))

    fault_mask = np.zeros(inside.shape, dtype=bool)
    for activity, distance in s.fault_buffers_m.items():
        lines = np.asarray(b[f"fault_{activity}"]).astype(bool)
        if lines.any():
            fault_mask |= integ.buffer_mask(lines, distance, cell)
    out["hazard"] = hazard = _masked(inside, integ.hazard_grade(b["susceptibility"], fault_mask, s.hazard, valid_mask=inside))

    rw = s.rweq
    ef = eco.rweq_erodible_fraction(soil["sand"], soil["silt"], soil["clay"], soil["om"], soil["caco3"], rw["ef_coefficients"])
    scf = eco.rweq_crust_factor(soil["clay"], soil["om"], rw["scf_coefficients"])
    k_rough = eco.rweq_roughness(None, None, 0.0, rw["roughness_coefficients"])
    a_by_code = lookup_codes(np.array(s.dlbm_codes, dtype=object), rw["vegetation_coefficients"], default=np.nan, prefix=True)
    a_coeff = np.concatenate([[np.nan], np.asarray(a_by_code, dtype="float32")])[np.asarray(b["land_use"])]
    c_veg = eco.rweq_vegetation_factor(fvc, a_coeff, rw["cover_scale"])
    service = eco.wind_erosion_service(list(s.wind_factor), ef, scf, k_rough, c_veg, rw["z_m"], rw["coefficients"])
    out["wind_erosion_service"] = np.where(inside, np.nan_to_num(np.asarray(service, dtype="float32") * 10.0, nan=0.0), nan).astype("float32")
    if s.biodiversity:
        elev_norm = eco.normalise_with_range(dem, s.dem_range[0], s.dem_range[1], inside)
        out["biodiversity_service"] = np.where(inside, eco.npp_biodiversity_index(np.nan_to_num(b["npp"]), 1.0, 1.0, elev_norm),
                                               nan).astype("float32")

    severe = np.asarray(b["severe"]).astype(bool) if s.severe_monitoring else None
    _, g_desert = eco.desertification_fragility(s.aridity, s.wind_days, by_texture(s.desert_texture_scores), fvc,
                                                s.desertification, severe)
    _, g_soil = eco.soil_erosion_fragility(s.erosivity, relief, fvc, by_texture(s.erodibility_scores), s.soil_erosion)
    out["desertification_fragility"] = _masked(inside, g_desert)
    out["soil_erosion_fragility"] = _masked(inside, g_soil)

    out["agri_capacity"] = _masked(inside, integ.agri_capacity(land_agri, water_agri, climate_agri, s.agri_integration))
    out["urban_capacity"] = _masked(inside, integ.urban_capacity(land_urban, water_urban, hazard, comfort, s.urban_integration))
    out["agri_limiting_factor"], _ = integ.limiting_factor({"water": water_agri, "land": land_agri, "climate": climate_agri},
                                                           s.agri_limit_order)
    out["urban_limiting_factor"], _ = integ.limiting_factor({"water": water_urban, "land": land_urban, "comfort": comfort},
                                                            s.urban_limit_order)
    return out


def service_layers(s: CapacitySettings) -> tuple[str, ...]:
    """The service layers graded by cumulative share (防风固沙, and 生物多样性 when evaluated)."""
    return ("wind_erosion_service", "biodiversity_service") if s.biodiversity else ("wind_erosion_service",)


def importance_block(b: Mapping[str, NDArray[Any]], break_values: Mapping[str, Sequence[float]]) -> dict[str, NDArray[np.uint8]]:
    """生态系统服务功能重要性 and 生态保护重要性 on one block, from break values over the whole area.

    Args:
        b: ``inside``, each service layer of :func:`service_layers`, ``desertification_fragility``,
            ``soil_erosion_fragility`` (as :func:`capacity_block` returns them).
        break_values: service layer → its break values (:func:`erenhot.evaluation.ecology.cumulative_share_breaks`
            over every cell inside the city).

    Returns:
        ``service_importance`` (the most important of the services) and ``eco_importance`` (the most
        important of service importance and the two fragilities), uint8 1 = 极重要 … 3 = 一般, 0 outside.
    """
    inside = np.asarray(b["inside"], dtype=bool)
    grades = [eco.grade_by_break_values(np.nan_to_num(b[name]), inside, values) for name, values in break_values.items()]
    service = _masked(inside, eco.most_important(*grades))
    return {"service_importance": service,
            "eco_importance": _masked(inside, eco.eco_importance(service, b["desertification_fragility"], b["soil_erosion_fragility"]))}
