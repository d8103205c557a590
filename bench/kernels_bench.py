"""Raster throughput of the evaluation kernels against a plain numpy copy of the same array.

Every kernel of :mod:`erenhot.evaluation` used here runs on one synthetic ``n × n`` raster (a smooth
DEM in m on 30 m cells, float32, NaN outside an irregular city mask, plus soil, vegetation-cover and
land-use rasters derived from it), with the parameters of ``t02_carrying_capacity.yaml`` and
``t03_suitability.yaml``. Each is timed as the best of ``repeat`` calls; its throughput is cells per
second and its ratio is that throughput over the copy's: ``np.copyto`` of the DEM into a
preallocated float32 array of the same shape (one read and one write per cell, no page faults),
which is the memory-bandwidth bound of a one-pass kernel on this machine. A ratio of 0.1 means the
kernel processes cells ten times slower than memory can be copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.common import best_of, geomean

CELL_M = 30.0
RELIEF_WINDOW_M = 1000.0  # a 1 km focal window (33 cells at 30 m); T02's own configured window is 360 m


def synthetic_rasters(n: int, seed: int = 20201) -> dict[str, np.ndarray]:
    """Inputs of the kernels on an ``n × n`` grid of 30 m cells.

    Returns ``dem`` (float32, m, 900–1200, NaN outside the mask), ``inside`` (bool mask, ≈80 % of
    the cells), ``fvc`` (0–1), ``sand``/``silt``/``clay``/``om``/``caco3`` (%), ``a_coeff`` (RWEQ
    vegetation a_i per cell, NaN on built-up/water cells) — all float64 except the DEM.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / np.float32(n)
    dem = (1000.0 + 120.0 * np.sin(6.0 * x) * np.cos(4.0 * y) + 60.0 * np.sin(17.0 * x + 5.0 * y)
           + rng.normal(0.0, 1.5, (n, n))).astype(np.float32)
    r = np.hypot(x - 0.5, y - 0.5)
    angle = np.arctan2(y - 0.5, x - 0.5)
    inside = r < 0.5 * (0.95 + 0.05 * np.sin(5.0 * angle))
    dem[~inside] = np.nan
    fvc = np.clip(0.15 + 0.1 * np.sin(9.0 * x) + rng.normal(0.0, 0.05, (n, n)), 0.0, 1.0)
    sand = np.clip(70.0 + 10.0 * np.cos(3.0 * y) + rng.normal(0.0, 2.0, (n, n)), 0.0, 100.0)
    clay = np.clip(8.0 + 3.0 * np.sin(7.0 * x), 1.0, 100.0)
    silt = 100.0 - sand - clay
    om = np.clip(0.8 + 0.3 * np.cos(5.0 * x * y), 0.0, 10.0)
    caco3 = np.clip(3.0 + np.sin(11.0 * y), 0.0, 30.0)
    a_values = np.array([-0.1151, -0.0921, -0.0658, -0.0768, np.nan])  # 草地, 灌丛, 沙地, 裸地, built-up/water
    a_coeff = a_values[rng.choice(a_values.size, size=(n, n), p=[0.6, 0.1, 0.15, 0.1, 0.05])]
    return {"dem": dem, "inside": inside, "fvc": fvc, "sand": sand, "silt": silt, "clay": clay, "om": om,
            "caco3": caco3, "a_coeff": a_coeff}


def kernels(data: dict[str, np.ndarray]) -> dict[str, Any]:
    """Name → zero-argument callable of each kernel on ``data`` (see :func:`synthetic_rasters`).

    The grade inputs (slope grade, a second grade, the service raster, the patch mask) are computed
    here once, outside the timed calls, so each timing is one kernel.
    """
    from erenhot.config import load_config
    from erenhot.evaluation import classify, climate, ecology, suitability, terrain

    t02 = load_config("t02_carrying_capacity").values
    t03 = load_config("t03_suitability").values
    rw = t02["ecology"]["rweq"]
    dem, inside = data["dem"], data["inside"]
    slope_breaks = t02["agri"]["land"]["slope_breaks_deg"]
    lw_matrix = t02["agri"]["integration"]["lw_matrix"]
    window = terrain.window_cells(RELIEF_WINDOW_M, CELL_M)
    slope = terrain.slope_degrees(dem, CELL_M)
    slope_grade = classify.grade_by_breaks(slope, slope_breaks, higher_is_better=False)
    other_grade = classify.grade_by_breaks(data["fvc"], [0.1, 0.2, 0.3, 0.4], higher_is_better=True)
    other_grade[~inside] = 0
    service = np.where(inside, np.nan_to_num(data["fvc"] * data["sand"]), 0.0)
    patch_mask = inside & (slope_grade <= 2)
    days = np.arange(3650)
    months = (days % 365) // 31 + 1  # ten years of daily wind labelled by (approximate) month
    wind10 = np.abs(5.0 + 3.0 * np.sin(days / 9.0) + np.random.default_rng(7).normal(0.0, 2.0, days.size))

    def rweq_chain() -> np.ndarray:
        wind2 = climate.wind_at_height(wind10, t02["climate"]["station_wind_height_m"], rw["wind_height_m"],
                                       t02["climate"]["wind_profile_exponent"])
        wf = ecology.rweq_wind_factor(wind2, months, rw["threshold_wind_ms"], rw["air_density_kg_m3"], rw["gravity_m_s2"],
                                      soil_wetness=rw["soil_wetness"], snow_cover=rw["snow_cover"], n_years=10.0)
        ef = ecology.rweq_erodible_fraction(data["sand"], data["silt"], data["clay"], data["om"], data["caco3"],
                                            rw["ef_coefficients"])
        scf = ecology.rweq_crust_factor(data["clay"], data["om"], rw["scf_coefficients"])
        k_rough = ecology.rweq_roughness(None, None, 0.0, rw["roughness_coefficients"])
        c_veg = ecology.rweq_vegetation_factor(data["fvc"], data["a_coeff"], rw["cover_scale"])
        return ecology.wind_erosion_service(list(wf.to_numpy()), ef, scf, k_rough, c_veg, rw["z_m"], rw["coefficients"])

    return {
        "terrain.slope_degrees": lambda: terrain.slope_degrees(dem, CELL_M),
        f"terrain.relief ({window}×{window} cells)": lambda: terrain.relief(dem, window),
        "classify.grade_by_breaks": lambda: classify.grade_by_breaks(slope, slope_breaks, higher_is_better=False),
        "classify.lookup_matrix": lambda: classify.lookup_matrix(slope_grade, other_grade, lw_matrix),
        "ecology.importance_by_cumulative_share": lambda: ecology.importance_by_cumulative_share(
            service, inside, t02["ecology"]["service_importance_breaks"]),
        "suitability.patch_concentration_grade": lambda: suitability.patch_concentration_grade(
            patch_mask, CELL_M * CELL_M / 1e6, t03["concentration"]["breaks_km2"]),
        "RWEQ chain (ecology.rweq_* → wind_erosion_service, 12 months)": rweq_chain,
    }


def run_kernels(n: int = 4096, repeat: int = 3) -> dict[str, Any]:
    """Time the copy and every kernel on an ``n × n`` raster; best of ``repeat`` each.

    Returns:
        ``{"shape", "cells", "repeat", "copy": {seconds, cells_per_s}, "kernels": {name: {seconds,
        cells_per_s, ratio_to_copy}}, "kernel_bandwidth_ratio"}`` (the geometric mean of the ratios).
    """
    data = synthetic_rasters(n)
    cells = n * n
    dst = np.empty_like(data["dem"])
    np.copyto(dst, data["dem"])  # touch the destination once: the timed copies do not fault pages in
    copy_s, _ = best_of(lambda: np.copyto(dst, data["dem"]), max(repeat, 5))
    copy_rate = cells / copy_s
    out: dict[str, Any] = {}
    for name, fn in kernels(data).items():
        seconds, _ = best_of(fn, repeat)
        rate = cells / seconds
        out[name] = {"seconds": seconds, "cells_per_s": rate, "ratio_to_copy": rate / copy_rate}
    return {"shape": [n, n], "cells": cells, "dtype": "float32", "repeat": repeat,
            "copy": {"seconds": copy_s, "cells_per_s": copy_rate, "how": "np.copyto into a preallocated float32 array"},
            "kernels": out,
            "kernel_bandwidth_ratio": geomean(k["ratio_to_copy"] for k in out.values())}
