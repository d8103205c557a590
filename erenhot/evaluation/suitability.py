"""国土空间开发适宜性 (topic 3): 区位, 集中度/连片度, agriculture, urban and grazing suitability,
and the 现状用地 conflict overlay (spec §1.6–1.8).

Suitability rasters are ``uint8 (rows, cols)`` on the EPSG:4525 grid: **1 适宜, 2 一般适宜,
3 不适宜**, 0 = no data / outside. Inputs use the scales of :mod:`erenhot.evaluation.integration`
(承载等级 1 高 … 5 低; hazard 1 = 极高) and :mod:`erenhot.evaluation.ecology` (1 极重要 … 3 一般).
Tables, breaks and exclusions come from ``t03_suitability.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from erenhot.evaluation.classify import apply_modifier, grade_by_breaks, lookup_matrix

__all__ = [
    "SUITABILITY_LAYERS",
    "GrazingParams",
    "SuitabilitySettings",
    "UrbanSuitabilityParams",
    "agri_suitability",
    "combine_agri_grazing",
    "conflict_mask",
    "grazing_suitability",
    "location_grade",
    "patch_area_grade",
    "patch_cells",
    "patch_concentration_grade",
    "patch_masks",
    "suitability_block",
    "urban_suitability",
]

Grade = NDArray[np.uint8]
SUITABLE, MODERATE, UNSUITABLE = 1, 2, 3


def location_grade(minutes: ArrayLike, breaks: Sequence[float]) -> Grade:
    """区位优势度 grade from travel time (spec §1.6: ≤20 / 20–40 / 40–60 / 60–90 / >90 min to the
    county seat): 1 好 … 5 差; a time on a break → the better grade; ``inf`` (unreachable) → 5;
    NaN → 0."""
    return grade_by_breaks(minutes, breaks, higher_is_better=False)


def patch_concentration_grade(binary_mask: ArrayLike, cell_area_km2: float, breaks: Sequence[float]) -> Grade:
    """集中度 / 连片度: grade of the area of the connected patch each cell belongs to.

    Patches are 8-connected components of ``binary_mask`` (scipy.ndimage.label); area = cells ×
    ``cell_area_km2``. With the spec breaks (km²: <0.25 低, 0.25–0.5 较低, 0.5–1 一般, 1–2 较高,
    ≥2 高, [S6] §1.4.3/§1.6) grade 1 = ≥2 km² … 5 = <0.25 km²; an area on a break → the better
    grade. Cells outside the mask → 0.

    Args:
        binary_mask: bool ``(rows, cols)``.
        cell_area_km2: area of one cell, km² (0.0009 for 30 m cells).
        breaks: km², any order.
    """
    mask = np.asarray(binary_mask, dtype=bool)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return np.zeros(mask.shape, dtype=np.uint8)
    cells = np.bincount(labels.ravel())
    cells[0] = 0
    return patch_area_grade(cells[labels], cell_area_km2, breaks)


def patch_cells(binary_mask: ArrayLike) -> NDArray[np.int64]:
    """Cells of the 8-connected patch each cell of ``binary_mask`` belongs to (0 outside the mask), over
    the whole array (``scipy.ndimage.label``); :func:`erenhot.tiling.patch_sizes` gives the same across tiles."""
    labels, n = ndimage.label(np.asarray(binary_mask, dtype=bool), structure=np.ones((3, 3), dtype=bool))
    cells = np.bincount(labels.ravel(), minlength=n + 1)
    cells[0] = 0
    return cells[labels]


def patch_area_grade(patch_cells: ArrayLike, cell_area_km2: float, breaks: Sequence[float]) -> Grade:
    """The grade of :func:`patch_concentration_grade` from the cells of each cell's patch (0 = not in
    a patch → 0), e.g. patches joined across tiles by :func:`erenhot.tiling.patch_sizes`. Cellwise."""
    cells = np.asarray(patch_cells)
    grade = grade_by_breaks(cells.astype(np.float64) * cell_area_km2, breaks, higher_is_better=True)
    return np.where(cells > 0, grade, 0).astype(np.uint8)


def agri_suitability(
    agri_capacity: ArrayLike,
    contiguity_grade: ArrayLike,
    eco_importance: ArrayLike,
    table: Sequence[Sequence[int]],
    excluded_eco_grades: Sequence[int] = (1,),
) -> Grade:
    """农业生产 (种植业) suitability: 承载等级 × 连片度 table (2019 draft, spec §1.7 [S6]), then
    the 2020 rule that agriculture is evaluated only outside 生态保护极重要区 (spec §1.3 item 2.2):
    cells whose ecological importance is in ``excluded_eco_grades`` become 3 不适宜.

    Args:
        agri_capacity: 农业承载等级 1–5 (0 = outside).
        contiguity_grade: 连片度 1 高 … 5 低 (:func:`patch_concentration_grade`); 0 on a cell
            with a capacity (not in any patch) counts as 5 低.
        eco_importance: 1 极重要, 2 重要, 3 一般 (0 = no data, not excluded).
        table: 5×5 of 1 适宜 / 2 一般适宜 / 3 不适宜, rows = capacity, columns = contiguity.

    Returns:
        ``uint8``: 1 适宜, 2 一般适宜, 3 不适宜, 0 where the capacity is 0.
    """
    cap = np.asarray(agri_capacity).astype(np.int64)
    cont = np.asarray(contiguity_grade).astype(np.int64)
    cont = np.where((cont == 0) & (cap > 0), len(table[0]), cont)
    out = lookup_matrix(cap, cont, table)
    excluded = np.isin(np.asarray(eco_importance), list(excluded_eco_grades)) & (out > 0)
    return np.where(excluded, UNSUITABLE, out).astype(np.uint8)


@dataclass(frozen=True)
class UrbanSuitabilityParams:
    """Urban suitability (config ``urban``; spec §1.6–1.7).

    Attributes:
        location_modifier: 区位 grade → action on the 承载等级 (``{5: 2, 4: 1, 1: {delta: -1,
            when_base_in: [2, 4]}}``, [S5 UrbanIntegration.py]).
        suitability_table: 5×5 of 1/2/3, rows = modified 承载等级, columns = 集中度 grade.
        excluded_eco_grades: ecological importance grades that are 不适宜 (``(1,)`` 极重要).
        max_slope_deg: slope above which a cell is 不适宜 (25°).
        excluded_hazard_grades: hazard grades that are 不适宜 (``(1,)`` 极高, incl. fault buffers).
    """

    location_modifier: Mapping[int, Any]
    suitability_table: tuple[tuple[int, ...], ...]
    excluded_eco_grades: tuple[int, ...]
    max_slope_deg: float
    excluded_hazard_grades: tuple[int, ...]


def urban_suitability(
    urban_capacity: ArrayLike,
    location_grade: ArrayLike,
    concentration_grade: ArrayLike,
    eco_importance: ArrayLike,
    slope: ArrayLike,
    hazard_grade: ArrayLike,
    params: UrbanSuitabilityParams,
) -> Grade:
    """城镇建设 suitability (spec §1.7): 区位 modifiers on the 城镇承载等级, then 承载等级 × 集中度
    table, then the hard exclusions [L] (生态保护极重要区, slope > max, hazard 极高 incl.
    active-fault avoidance buffers) → 3 不适宜.

    Args:
        urban_capacity: 城镇承载等级 1–5 (integration.urban_capacity; 0 = outside).
        location_grade: 区位 1 好 … 5 差 (:func:`location_grade`; 0 = no data, unmodified).
        concentration_grade: 集中度 1 … 5 (:func:`patch_concentration_grade`); 0 on a cell with
            a capacity counts as 5.
        eco_importance: 1/2/3. slope: °. hazard_grade: 1 极高 … 5.

    Returns:
        ``uint8``: 1 适宜, 2 一般适宜, 3 不适宜, 0 where the capacity is 0.
    """
    cap = apply_modifier(urban_capacity, location_grade, params.location_modifier)
    conc = np.asarray(concentration_grade).astype(np.int64)
    conc = np.where((conc == 0) & (cap > 0), len(params.suitability_table[0]), conc)
    out = lookup_matrix(cap, conc, params.suitability_table)
    excluded = (
        np.isin(np.asarray(eco_importance), list(params.excluded_eco_grades))
        | (np.asarray(slope, dtype=np.float64) > params.max_slope_deg)
        | np.isin(np.asarray(hazard_grade), list(params.excluded_hazard_grades))
    )
    return np.where(excluded & (out > 0), UNSUITABLE, out).astype(np.uint8)


@dataclass(frozen=True)
class GrazingParams:
    """牧业 (grazing) suitability of the desert steppe — a local rule [L] (config ``grazing``).

    Attributes:
        fvc_breaks: (0.15, 0.3): cover ≥ 0.3 → 适宜, [0.15, 0.3) → 一般适宜, < 0.15 → 不适宜.
        max_slope_deg: 25: steeper grassland → 不适宜.
        excluded_eco_grades: (1,): 生态保护极重要区 → 不适宜 (2020 rule: evaluate outside 极重要区).
    """

    fvc_breaks: tuple[float, float]
    max_slope_deg: float
    excluded_eco_grades: tuple[int, ...]


def grazing_suitability(
    dlbm_grass_mask: ArrayLike,
    fvc: ArrayLike,
    slope: ArrayLike,
    eco_importance: ArrayLike,
    params: GrazingParams,
) -> Grade:
    """牧业 suitability (spec §1.7 "pastoral areas" [M], rule [L]).

    Args:
        dlbm_grass_mask: bool, 三调 草地 used for grazing (DLBM in the config list, 0401/0403/0404).
        fvc: cover 0–1. slope: °. eco_importance: 1/2/3 (0 = outside → 0).

    Returns:
        ``uint8``: 1/2/3 inside the evaluation area (eco_importance > 0), non-grass cells 3,
        grass cells without cover data 0.
    """
    eco = np.asarray(eco_importance)
    grass = np.asarray(dlbm_grass_mask, dtype=bool)
    cover = np.asarray(fvc, dtype=np.float64)
    lo, hi = sorted(params.fvc_breaks)
    grade = np.where(cover >= hi, SUITABLE, np.where(cover >= lo, MODERATE, UNSUITABLE))
    grade = np.where(np.asarray(slope, dtype=np.float64) > params.max_slope_deg, UNSUITABLE, grade)
    grade = np.where(np.isin(eco, list(params.excluded_eco_grades)), UNSUITABLE, grade)
    grade = np.where(grass & np.isnan(cover), 0, grade)
    grade = np.where(grass, grade, UNSUITABLE)
    return np.where(eco > 0, grade, 0).astype(np.uint8)


def combine_agri_grazing(agri: ArrayLike, grazing: ArrayLike) -> Grade:
    """农业生产适宜性 including 牧业: per cell the better (lower non-zero) of the two 1/2/3 codes."""
    a = np.asarray(agri).astype(np.int64)
    g = np.asarray(grazing).astype(np.int64)
    best = np.minimum(np.where(a > 0, a, 99), np.where(g > 0, g, 99))
    return np.where(best == 99, 0, best).astype(np.uint8)


def conflict_mask(layers: Mapping[str, ArrayLike], conditions: Mapping[str, Sequence[int]]) -> NDArray[np.bool_]:
    """现状问题/冲突 overlay (spec §1.8, [S5] 1.py–6.py): cells where **every** condition holds.

    Args:
        layers: name → integer raster (e.g. ``eco_importance``, ``agri_suitability``,
            ``hazard``, and 0/1 land-use masks such as ``cropland`` built from the config DLBM groups).
        conditions: name → accepted values, e.g. ``{"eco_importance": [1], "cropland": [1]}``
            (one rule of config ``conflicts.rules``).

    Raises:
        KeyError: a condition names an unknown layer. ValueError: no condition.
    """
    if not conditions:
        raise ValueError("a conflict rule needs at least one condition")
    out: NDArray[np.bool_] | None = None
    for name, accepted in conditions.items():
        hit = np.isin(np.asarray(layers[name]), list(accepted))
        out = hit if out is None else out & hit
    assert out is not None
    return out


# --------------------------------------------------------------------------- one block of the grid

SUITABILITY_LAYERS = ("location", "agri_suitability", "grazing_suitability", "urban_suitability", "conflicts")
"""uint8 layers of :func:`suitability_block` (0 outside the city; ``conflicts`` = 1-based rule code)."""


@dataclass(frozen=True)
class SuitabilitySettings:
    """T03's values for :func:`suitability_block`, from ``t03_suitability.yaml`` (clauses there).

    Attributes:
        cell_area_km2: area of one grid cell, km².
        conflict_rules: ``(rule id, label, {layer: accepted values})`` in priority order (the first
            rule that holds names the cell).
        dlbm_groups: the 0/1 land-use masks the rules may name (block inputs ``dlbm_<group>``), plus
            ``urban_land`` (present 城镇 land, CZCSXM).
    """

    cell_area_km2: float
    location_breaks: tuple[float, ...]
    concentration_breaks: tuple[float, ...]
    urban_mask_max_capacity: int
    agri_mask_max_capacity: int
    agri_table: tuple[tuple[Any, ...], ...]
    excluded_eco_grades: tuple[int, ...]
    grazing: GrazingParams
    urban: UrbanSuitabilityParams
    conflict_rules: tuple[tuple[str, str, dict[str, tuple[int, ...]]], ...]
    dlbm_groups: tuple[str, ...]

    @classmethod
    def build(cls, cfg: Any, cell_area_km2: float) -> SuitabilitySettings:
        """Settings from the loaded ``t03_suitability`` config."""
        v = cfg.values
        return cls(
            cell_area_km2=float(cell_area_km2),
            location_breaks=tuple(v["location"]["travel_time_breaks_min"]),
            concentration_breaks=tuple(v["concentration"]["breaks_km2"]),
            urban_mask_max_capacity=int(v["urban"]["concentration_mask_max_capacity"]),
            agri_mask_max_capacity=int(v["agri"]["contiguity_mask_max_capacity"]),
            agri_table=tuple(tuple(r) if isinstance(r, list | tuple) else r for r in v["agri"]["suitability_table"]),
            excluded_eco_grades=tuple(v["agri"]["excluded_eco_grades"]),
            grazing=cfg.params(GrazingParams, "grazing"),
            urban=cfg.params(UrbanSuitabilityParams, "urban"),
            conflict_rules=tuple((str(rid), str(rule["label"]), {k: tuple(a) for k, a in rule["conditions"].items()})
                                 for rid, rule in v["conflicts"]["rules"].items()),
            dlbm_groups=tuple(v["conflicts"]["dlbm_groups"]),
        )


def patch_masks(b: Mapping[str, ArrayLike], s: SuitabilitySettings) -> dict[str, NDArray[np.bool_]]:
    """The two masks whose patches 集中度 and 连片度 grade: ``urban`` (城镇承载等级 1 … max) and ``agri``
    (农业承载等级 1 … max). Cellwise."""
    urban_cap, agri_cap = np.asarray(b["urban_capacity"]), np.asarray(b["agri_capacity"])
    return {"urban": (urban_cap > 0) & (urban_cap <= s.urban_mask_max_capacity),
            "agri": (agri_cap > 0) & (agri_cap <= s.agri_mask_max_capacity)}


def suitability_block(b: Mapping[str, ArrayLike], s: SuitabilitySettings) -> dict[str, Grade]:
    """T03's per-cell layers on one block (the whole grid or a tile; no halo needed).

    Args:
        b: ``(rows, cols)`` arrays on T02's grid: ``inside`` (bool), T02's ``eco_importance``,
            ``agri_capacity``, ``urban_capacity``, ``hazard`` (uint8) and ``slope`` (°), ``minutes``
            (T14 travel time to the centre, min), ``fvc`` (0–1, clipped here), ``grass`` (0/1 三调
            grassland), ``dlbm_<group>`` and ``urban_land`` (0/1 masks), ``urban_patch_cells`` and
            ``agri_patch_cells`` (cells of the patch of :func:`patch_masks` each cell belongs to, 0 outside
            the mask — over the whole grid, not the block).
        s: the run's settings.

    Returns:
        :data:`SUITABILITY_LAYERS` as uint8 arrays, plus ``crop_suitability`` (种植业 alone).
    """
    inside = np.asarray(b["inside"], dtype=bool)

    def masked(a: ArrayLike) -> Grade:
        return np.where(inside, a, 0).astype(np.uint8)

    eco, slope = np.asarray(b["eco_importance"]), np.asarray(b["slope"], dtype="float32")
    minutes = np.where(inside, b["minutes"], np.nan).astype("float32")
    location = masked(location_grade(minutes, s.location_breaks))
    concentration = masked(patch_area_grade(b["urban_patch_cells"], s.cell_area_km2, s.concentration_breaks))
    contiguity = masked(patch_area_grade(b["agri_patch_cells"], s.cell_area_km2, s.concentration_breaks))
    fvc = np.clip(b["fvc"], 0.0, 1.0)
    crop = masked(agri_suitability(b["agri_capacity"], contiguity, eco, s.agri_table, s.excluded_eco_grades))
    grazing = masked(grazing_suitability(np.asarray(b["grass"]).astype(bool), fvc, slope, eco, s.grazing))
    agri = masked(combine_agri_grazing(crop, grazing))
    urban = masked(urban_suitability(b["urban_capacity"], location, concentration, eco, slope, b["hazard"], s.urban))
    layers = {"eco_importance": eco, "agri_suitability": agri, "urban_suitability": urban, "hazard": b["hazard"],
              **{g: b[f"dlbm_{g}"] for g in s.dlbm_groups}, "urban_land": b["urban_land"]}
    code = np.zeros(inside.shape, dtype=np.uint8)
    for i, (_, _, conditions) in enumerate(s.conflict_rules, start=1):
        code[conflict_mask(layers, conditions) & inside & (code == 0)] = i
    return {"location": location, "agri_suitability": agri, "grazing_suitability": grazing, "urban_suitability": urban,
            "conflicts": code, "crop_suitability": crop}
