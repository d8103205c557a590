"""生态保护重要性: service importance (防风固沙 by RWEQ, 生物多样性 by the NPP index), fragility
(土地沙化, 水土流失) and their integration (spec §1.4, §5.1).

Grades here use the ecological scale **1 极重要/极脆弱, 2 重要/脆弱, 3 一般**, 0 = no data /
outside. High service value and high fragility map to grade 1 — the reclass tables of [S5]
invert this (the "direction bug" of spec §1.4.2) and are deliberately not ported.

Rasters are ``(rows, cols)`` on the EPSG:4525 grid; station-derived factors may be scalars
(broadcast). Every coefficient and break is a parameter from ``t02_carrying_capacity.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from erenhot.evaluation.classify import grade_by_breaks

__all__ = [
    "DesertificationParams",
    "SoilErosionParams",
    "desertification_fragility",
    "eco_importance",
    "fragility_geometric_mean",
    "fragility_grade",
    "cumulative_share_breaks",
    "grade_by_break_values",
    "importance_by_cumulative_share",
    "most_important",
    "normalise_minmax",
    "normalise_with_range",
    "npp_biodiversity_index",
    "rweq_crust_factor",
    "rweq_erodible_fraction",
    "rweq_peak_product",
    "rweq_roughness",
    "rweq_soil_loss",
    "rweq_vegetation_factor",
    "rweq_wind_factor",
    "score_by_breaks",
    "soil_erosion_fragility",
    "wind_erosion_service",
]

Array = NDArray[np.float64]


# --------------------------------------------------------------------------- RWEQ (spec §5.1)


def rweq_wind_factor(
    wind_2m_ms: ArrayLike,
    periods: ArrayLike | None,
    threshold_ms: float,
    air_density: float,
    gravity: float,
    *,
    soil_wetness: float | ArrayLike,
    snow_cover: float | ArrayLike,
    n_years: float = 1.0,
    obs_per_day: float = 1.0,
) -> pd.Series:
    """RWEQ weather factor WF per period (Fryrear et al. 1998; spec §5.1).

    ``Wf_p = Σ_{obs in p} u₂ (u₂ − u_t)² · N_d/N`` (only ``u₂ > u_t`` contributes; with one
    observation per day ``N_d/N = 1``), ``WF_p = Wf_p · (ρ/g) · SW · SD / n_years``.

    RWEQ is applied per period (15-day or monthly in the model; the spec writes the annual WF as
    the sum over months): pass the returned per-period values to :func:`rweq_soil_loss`, which
    sums the soil loss of the periods — summing WF first would overstate the non-linear loss.

    Args:
        wind_2m_ms: 1-D wind speeds at 2 m, m/s (see ``climate.wind_at_height``).
        periods: 1-D label per observation (e.g. calendar month 1–12); None = one period.
        threshold_ms: threshold wind speed u_t at 2 m, m/s (5 m/s in RWEQ).
        air_density: ρ, kg/m³. gravity: g, m/s².
        soil_wetness: SW, 0–1, scalar or per observation. snow_cover: SD (1 − probability of snow
            cover > 25.4 mm), 0–1, scalar or per observation.
        n_years: years covered (mean annual WF). obs_per_day: observations per day.

    Returns:
        ``pandas.Series`` of WF in kg/m (RWEQ convention) indexed by the sorted period labels.
    """
    u = np.asarray(wind_2m_ms, dtype=np.float64)
    if u.ndim != 1:
        raise ValueError("wind_2m_ms must be 1-D")
    if not (n_years > 0 and obs_per_day > 0):
        raise ValueError("n_years and obs_per_day must be > 0")
    excess = np.where(u > threshold_ms, u * (u - threshold_ms) ** 2, 0.0)  # NaN → 0
    term = excess / obs_per_day * (air_density / gravity) * np.asarray(soil_wetness) * np.asarray(snow_cover)
    labels = np.zeros(u.shape, dtype=np.int64) if periods is None else np.asarray(periods)
    if labels.shape != u.shape:
        raise ValueError("periods must label every observation")
    return pd.Series(np.broadcast_to(term, u.shape)).groupby(labels).sum() / n_years


def rweq_erodible_fraction(
    sand: ArrayLike, silt: ArrayLike, clay: ArrayLike, om: ArrayLike, caco3: ArrayLike, coeffs: Mapping[str, float]
) -> Array:
    """Soil erodible fraction EF (spec §5.1):
    ``EF = (c₀ + c_sand·Sa + c_silt·Si + c_ratio·Sa/Cl + c_om·OM + c_caco3·CaCO₃) / divisor``.

    Args:
        sand, silt, clay, om, caco3: contents in % (dataset ``04-13`` fields SAND, SILT, CLAY, OM,
            CACO3), any broadcastable shapes.
        coeffs: keys ``intercept, sand, silt, sand_clay_ratio, om, caco3, divisor`` (29.09, 0.31,
            0.17, 0.33, −2.59, −0.95, 100 in the spec; signs included).

    Returns:
        EF clipped to 0–1; NaN where clay ≤ 0 (Sa/Cl undefined) or an input is NaN.
    """
    cl = np.asarray(clay, dtype=np.float64)
    sa = np.asarray(sand, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cl > 0, sa / cl, np.nan)
    ef = (
        coeffs["intercept"]
        + coeffs["sand"] * sa
        + coeffs["silt"] * np.asarray(silt, dtype=np.float64)
        + coeffs["sand_clay_ratio"] * ratio
        + coeffs["om"] * np.asarray(om, dtype=np.float64)
        + coeffs["caco3"] * np.asarray(caco3, dtype=np.float64)
    ) / coeffs["divisor"]
    return np.clip(ef, 0.0, 1.0)


def rweq_crust_factor(clay: ArrayLike, om: ArrayLike, coeffs: Mapping[str, float]) -> Array:
    """Soil crust factor ``SCF = 1 / (1 + c_clay·Cl² + c_om·OM²)`` (spec §5.1; coeffs keys
    ``clay_sq, om_sq`` = 0.0066, 0.021; Cl and OM in %)."""
    cl = np.asarray(clay, dtype=np.float64)
    o = np.asarray(om, dtype=np.float64)
    return 1.0 / (1.0 + coeffs["clay_sq"] * cl**2 + coeffs["om_sq"] * o**2)


def rweq_roughness(
    delta_h_m: ArrayLike | None,
    length_m: float | None,
    crr: float | ArrayLike,
    coeffs: Mapping[str, float],
) -> Array:
    """Surface roughness factor K' (spec §5.1, Smith–Carson terrain form):
    ``Kr = c_kr · ΔH² / L``, ``K' = exp(a·Kr + b·Kr^b_exp + c_crr·Crr)``.

    Args:
        delta_h_m: elevation difference ΔH within distance L, m (e.g. the focal relief); None when
            no ridge/terrain data are used → the configured constant K' is returned.
        length_m: L, m (ignored when ``delta_h_m`` is None).
        crr: random roughness Crr (cm in RWEQ; 0 when unknown).
        coeffs: keys ``kr_coef, a, b, b_exp, crr, constant`` (0.2, 1.86, −2.41, 0.934, −0.127 and
            the fallback constant in the config). ΔH and L in metres follow the DEM-based Chinese
            practice [M]; the RWEQ original uses ridge height/spacing in cm.
    """
    if delta_h_m is None:
        return np.asarray(coeffs["constant"], dtype=np.float64)
    if not (length_m and length_m > 0):
        raise ValueError("length_m must be > 0 when delta_h_m is given")
    kr = coeffs["kr_coef"] * np.asarray(delta_h_m, dtype=np.float64) ** 2 / length_m
    return np.exp(coeffs["a"] * kr + coeffs["b"] * kr ** coeffs["b_exp"] + coeffs["crr"] * np.asarray(crr))


def rweq_vegetation_factor(fvc: ArrayLike, a_coeff: ArrayLike, cover_scale: float) -> Array:
    """Vegetation factor ``C = exp(a_i · SC)`` with ``SC = fvc · cover_scale`` (spec §5.1).

    Args:
        fvc: fractional vegetation cover 0–1 (dataset ``01-46a.fvc``).
        a_coeff: a_i of the land-cover type (negative: 林地 −0.1535 … 农田 −0.0438), per cell
            (NaN = no vegetation type, e.g. water or built-up → C NaN) or scalar.
        cover_scale: 100 when SC is the cover in percent (how a_i are calibrated [M]).

    Returns:
        C in 0–1 (1 = bare soil, no protection).
    """
    return np.exp(np.asarray(a_coeff, dtype=np.float64) * np.asarray(fvc, dtype=np.float64) * cover_scale)


def _soil_loss_one(product: Array, z_m: float, coeffs: Mapping[str, float]) -> Array:
    x = np.where(product > 0, product, np.nan)
    q_max = coeffs["qmax_coef"] * x  # kg/m
    s = coeffs["s_coef"] * x ** coeffs["s_exponent"]  # m
    sl = 2.0 * z_m / s**2 * q_max * np.exp(-((z_m / s) ** 2))  # kg/m²
    return np.where(product > 0, sl, np.where(product == 0, 0.0, np.nan))


def rweq_soil_loss(
    wf: Sequence[float | ArrayLike],
    ef: ArrayLike,
    scf: ArrayLike,
    k_roughness: ArrayLike,
    c_veg: ArrayLike,
    z_m: float,
    coeffs: Mapping[str, float],
) -> Array:
    """RWEQ soil loss at downwind distance z, summed over periods (spec §5.1).

    Per period with ``x = WF·EF·SCF·K'·C``: ``Q_max = c_q·x`` (kg/m), ``S = c_s·x^s_exp`` (m),
    ``SL = (2z/S²)·Q_max·exp(−(z/S)²)`` (kg/m²); ``x = 0`` → 0.

    Note: SL is not monotone in x — it peaks at :func:`rweq_peak_product` (≈ 62 for z = 50 m).
    Per-month products of the Erenhot station stay well below that, annual ones may not, which is
    one more reason to compute per period.

    Args:
        wf: one WF per period (kg/m), each a scalar or a raster (``[wf]`` for a single period).
        ef, scf, k_roughness, c_veg: the other factors (rasters or scalars, broadcast).
        z_m: downwind distance z, m (50 m in the spec).
        coeffs: keys ``qmax_coef, s_coef, s_exponent`` (109.8, 150.71, −0.3711).

    Returns:
        SL in kg/m² per year (× 10 = t/hm²).
    """
    if len(wf) == 0:
        raise ValueError("wf needs at least one period")
    base = np.asarray(ef, dtype=np.float64) * np.asarray(scf) * np.asarray(k_roughness) * np.asarray(c_veg)
    total: Array | float = 0.0
    for w in wf:
        total = total + _soil_loss_one(np.asarray(w, dtype=np.float64) * base, z_m, coeffs)
    return np.asarray(total, dtype=np.float64)


def rweq_peak_product(z_m: float, coeffs: Mapping[str, float]) -> float:
    """The product x = WF·EF·SCF·K'·C where SL(x) of :func:`rweq_soil_loss` peaks:
    ``x* = ((1+q)/(k·q))^(1/q)`` with ``q = −2·s_exp``, ``k = (z/c_s)²``. Below x* SL grows with x
    (so the service grows with cover); above it the fixed-z formula inverts."""
    q = -2.0 * coeffs["s_exponent"]
    k = (z_m / coeffs["s_coef"]) ** 2
    return float(((1.0 + q) / (k * q)) ** (1.0 / q))


def wind_erosion_service(
    wf: Sequence[float | ArrayLike],
    ef: ArrayLike,
    scf: ArrayLike,
    k_roughness: ArrayLike,
    c_veg: ArrayLike,
    z_m: float,
    coeffs: Mapping[str, float],
) -> NDArray[np.float32]:
    """防风固沙量 ``SR = SL_potential (C = 1) − SL_actual`` (spec §5.1), clipped at 0.

    Args: as :func:`rweq_soil_loss`.

    Returns:
        ``float32`` SR in kg/m² per year (× 10 = t/hm²); 0 on bare ground (C = 1); NaN where a
        factor is NaN (e.g. no vegetation type). The clip only matters above
        :func:`rweq_peak_product`, where the fixed-z formula can invert.
    """
    c = np.asarray(c_veg, dtype=np.float64)
    potential = rweq_soil_loss(wf, ef, scf, k_roughness, np.where(np.isnan(c), np.nan, 1.0), z_m, coeffs)
    actual = rweq_soil_loss(wf, ef, scf, k_roughness, c, z_m, coeffs)
    sr = potential - actual
    return np.where(np.isnan(sr), np.nan, np.maximum(sr, 0.0)).astype(np.float32)


# --------------------------------------------------------------------------- biodiversity (§1.4.1)


def normalise_minmax(values: ArrayLike, valid_mask: ArrayLike | None = None) -> Array:
    """Min–max normalisation to 0–1 over the valid, non-NaN cells (spec §1.4.1: "normalise each
    factor to 0–1 before multiplying" [S27][S28]). A constant field → 1.0 (it then does not
    change the ranking); cells outside ``valid_mask`` → NaN."""
    v = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(v) if valid_mask is None else (np.asarray(valid_mask, dtype=bool) & ~np.isnan(v))
    if not np.any(ok):
        return np.full(v.shape, np.nan)
    return normalise_with_range(v, float(v[ok].min()), float(v[ok].max()), valid_mask)


def normalise_with_range(values: ArrayLike, lo: float, hi: float, valid_mask: ArrayLike | None = None) -> Array:
    """:func:`normalise_minmax` with the range ``lo``–``hi`` given (e.g. gathered over every tile of a
    tiled evaluation): ``(v − lo) / (hi − lo)``, 1.0 when ``hi == lo``, NaN outside ``valid_mask`` or
    where ``values`` is NaN. Cellwise."""
    v = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(v) if valid_mask is None else (np.asarray(valid_mask, dtype=bool) & ~np.isnan(v))
    out = np.ones(v.shape) if hi == lo else (v - lo) / (hi - lo)
    return np.where(ok, out, np.nan)


def npp_biodiversity_index(npp: ArrayLike, precip_norm: ArrayLike, temp_norm: ArrayLike, elev_norm: ArrayLike) -> Array:
    """生物多样性维护服务能力指数 ``S_bio = NPP · F_pre · F_tem · (1 − F_alt)`` (spec §1.4.1,
    生态红线划定指南 定量指标法 [S27][S28]).

    Args:
        npp: multi-year mean NPP (gC·m⁻²·a⁻¹, dataset ``01-46a.npp``), normalised to 0–1 with
            :func:`normalise_minmax` or raw (a constant factor does not change the cumulative-share
            grading).
        precip_norm, temp_norm, elev_norm: 0–1 normalised precipitation, mean temperature and
            elevation (scalars allowed, e.g. 1.0 for a single station).
    """
    return (
        np.asarray(npp, dtype=np.float64)
        * np.asarray(precip_norm)
        * np.asarray(temp_norm)
        * (1.0 - np.asarray(elev_norm, dtype=np.float64))
    )


def importance_by_cumulative_share(
    values: ArrayLike, valid_mask: ArrayLike, breaks: Sequence[float] = (0.5, 0.8)
) -> NDArray[np.uint8]:
    """Service importance by cumulative share of the total (spec §1.4.1 [M]).

    Sort the valid cells by value, descending, and accumulate. For each break share b the
    **break value** v_b is the value of the cell at which the running sum first reaches
    ``b · total`` (that cell included). Grade 1 (极重要) = cells with value ≥ v_0.5, grade 2
    (重要) = cells with value ≥ v_0.8 not in grade 1, grade 3 (一般) = the rest. So a cell is
    极重要 if it is needed to reach 50 % of the total; equal values always share a grade; cells
    with value 0 are never 1 or 2. Example: [50, 30, 10, 5, 5] → running sums 50, 80, 90, 95, 100
    → v_0.5 = 50, v_0.8 = 30 → grades [1, 2, 3, 3, 3].

    The whole array is one chunk of :func:`cumulative_share_breaks` and graded by
    :func:`grade_by_break_values`; a tiled evaluation calls the two with the tiles as chunks.

    Args:
        values: ``(rows, cols)`` service amounts (any unit; NaN or negative inside the mask count
            as 0).
        valid_mask: bool ``(rows, cols)``, True inside the evaluation area.
        breaks: cumulative shares, ascending (0.5, 0.8 in the spec; from config).

    Returns:
        ``uint8 (rows, cols)``: 1 … len(breaks)+1 inside the mask, 0 outside. All-zero values → 3.

    Raises:
        ValueError: ``values`` and ``valid_mask`` differ in shape; shares not ascending in (0, 1].
    """
    v = np.asarray(values, dtype=np.float64)
    mask = np.asarray(valid_mask, dtype=bool)
    if v.shape != mask.shape:
        raise ValueError("values and valid_mask differ in shape")
    break_values = cumulative_share_breaks(lambda: [v[mask]], breaks)
    return grade_by_break_values(v, mask, break_values)


def grade_by_break_values(values: ArrayLike, valid_mask: ArrayLike, break_values: Sequence[float]) -> NDArray[np.uint8]:
    """Grades from the break values of :func:`cumulative_share_breaks`: grade g (1 = 极重要) for a
    positive value ≥ ``break_values[g - 1]`` (the lowest such g), ``len(break_values) + 1`` for the
    rest of the mask, 0 outside. Cellwise: any window of the grid gives the same grades there."""
    v = np.asarray(values, dtype=np.float64)
    mask = np.asarray(valid_mask, dtype=bool)
    x = np.where(mask & (v > 0), v, 0.0)
    out = np.where(mask, len(break_values) + 1, 0).astype(np.uint8)
    for grade in range(len(break_values), 0, -1):  # assign the less important grades first, then overwrite
        out[mask & (x >= break_values[grade - 1]) & (x > 0)] = grade
    return out


def _positive(values: ArrayLike) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64).ravel()
    return v[v > 0]  # NaN compares False: dropped (counts as 0)


def cumulative_share_breaks(chunks: Callable[[], Iterable[ArrayLike]], breaks: Sequence[float], *,
                            bins: int = 4096) -> list[float]:
    """Break values of the cumulative-share grading, from values delivered chunk by chunk.

    The rule of :func:`importance_by_cumulative_share` (spec §1.4.1 [M]): sort the positive values
    descending and accumulate; the break value for share ``b`` is the value of the cell at which the
    running sum first reaches ``b · total`` (relative slack 1e-12). Exact, in three passes over
    ``chunks()`` holding only a histogram of ``bins`` bins and the distinct values (with their counts)
    of the bins where a break falls — about ``n / bins`` with continuous data, one per value with
    repeated ones — so memory stays bounded however many tiles the chunks come from.

    Args:
        chunks: called once per pass; returns an iterable of arrays (any shape) holding the values of
            the evaluation area only (NaN and values ≤ 0 count as 0).
        breaks: cumulative shares, ascending, in (0, 1].
        bins: histogram bins of the second pass (≥ 1).

    Returns:
        One break value per share (in the values' unit); ``inf`` for every share when the total is 0.

    Raises:
        ValueError: shares not ascending in (0, 1], or ``bins`` < 1.
    """
    b = np.asarray(breaks, dtype=np.float64)
    if b.ndim != 1 or np.any(np.diff(b) <= 0) or np.any((b <= 0) | (b > 1)):
        raise ValueError(f"breaks must be ascending shares in (0, 1], got {breaks!r}")
    if bins < 1:
        raise ValueError(f"bins must be ≥ 1, got {bins}")
    total, vmax = 0.0, 0.0
    for chunk in chunks():
        x = _positive(chunk)
        if x.size:
            total += float(x.sum())
            vmax = max(vmax, float(x.max()))
    if total <= 0:
        return [float("inf")] * len(b)
    edges = np.linspace(0.0, vmax, bins + 1)

    def bin_of(x: NDArray[np.float64]) -> NDArray[np.intp]:
        return np.clip(np.searchsorted(edges, x, side="left") - 1, 0, bins - 1)

    sums = np.zeros(bins)
    for chunk in chunks():
        x = _positive(chunk)
        if x.size:
            sums += np.bincount(bin_of(x), weights=x, minlength=bins)
    above = np.concatenate([np.cumsum(sums[::-1])[::-1][1:], [0.0]])  # sum of all higher bins
    targets = b * total * (1 - 1e-12)
    lowest = int(np.flatnonzero(sums > 0)[0])
    # running descending sum after bin j is above[j] + sums[j]: the highest bin where it reaches the target
    wanted = [int(np.flatnonzero(above + sums >= t)[-1]) if np.any(above + sums >= t) else lowest for t in targets]
    # the distinct values of each wanted bin with their counts: equal values (bare ground, categorical
    # soil × land use) stay one entry however many cells hold them
    kept = {j: (np.zeros(0), np.zeros(0)) for j in set(wanted)}
    for chunk in chunks():
        x = _positive(chunk)
        if x.size:
            idx = bin_of(x)
            for j, (vals, counts) in kept.items():
                new_vals, new_counts = np.unique(x[idx == j], return_counts=True)
                merged, inverse = np.unique(np.concatenate([vals, new_vals]), return_inverse=True)
                kept[j] = (merged, np.bincount(inverse, weights=np.concatenate([counts, new_counts]), minlength=merged.size))
    out = []
    for t, j in zip(targets, wanted, strict=True):
        vals, counts = kept[j][0][::-1], kept[j][1][::-1]  # descending
        running = above[j] + np.cumsum(vals * counts)
        k = int(np.searchsorted(running, t, side="left"))
        out.append(float(vals[min(k, vals.size - 1)]))
    return out


# --------------------------------------------------------------------------- fragility (§1.4.2)


def score_by_breaks(
    values: ArrayLike,
    breaks: Sequence[float],
    increasing: bool,
    scores: Sequence[int],
    closed: str,
) -> NDArray[np.uint8]:
    """Score a fragility factor 1 (一般) / 3 / 5 (极) by two breaks (spec §1.4.2, [S5]).

    Args:
        values: any shape; NaN → 0 (no data).
        breaks: ``(low, high)``.
        increasing: True if higher values are more fragile (I, W, R, relief); False for cover.
        scores: the three scores from least to most fragile, e.g. ``(1, 3, 5)``.
        closed: ``"extremes"`` — the break values belong to the outer classes (the 土地沙化 table
            "≤1.5 / 1.5–16 / ≥16"); ``"middle"`` — they belong to the middle class (the 水土流失
            table "<100 / 100–600 / >600").

    Returns:
        ``uint8`` scores, 0 where NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    lo, hi = sorted(float(x) for x in breaks)
    if closed == "extremes":
        low_end, high_end = v <= lo, v >= hi
    elif closed == "middle":
        low_end, high_end = v < lo, v > hi
    else:
        raise ValueError(f"closed must be 'extremes' or 'middle', got {closed!r}")
    least, mid, most = (int(s) for s in scores)
    out = np.where(low_end, least if increasing else most, np.where(high_end, most if increasing else least, mid))
    return np.where(np.isnan(v), 0, out).astype(np.uint8)


def fragility_geometric_mean(*scores: ArrayLike) -> Array:
    """``D = (Π scores)^(1/n)`` (spec §1.4.2, e.g. ``(I·W·K·C)^¼``); any score 0 (no data) → NaN."""
    if not scores:
        raise ValueError("at least one score raster is needed")
    arrays = np.broadcast_arrays(*[np.asarray(s, dtype=np.float64) for s in scores])
    stack = np.stack(arrays)
    d = np.prod(stack, axis=0) ** (1.0 / len(arrays))
    return np.where(np.any(stack <= 0, axis=0), np.nan, d)


def fragility_grade(d: ArrayLike, breaks: Sequence[float]) -> NDArray[np.uint8]:
    """Fragility grade from the geometric mean: **high D → 1 极脆弱**, then 2 脆弱, 3 一般.

    ``D ≥ high → 1``, ``low ≤ D < high → 2``, ``D < low → 3`` (spec §1.4.2 final breaks
    2.33 / 3.66, "< 2.33 一般, 2.33–3.66 敏感, ≥ 3.66 极"); NaN → 0. The direction is the corrected
    one (the [S5] reclass maps the *lowest* band to 极).
    """
    return grade_by_breaks(d, breaks, higher_is_better=True)


@dataclass(frozen=True)
class DesertificationParams:
    """土地沙化 fragility parameters (config ``ecology.desertification``; spec §1.4.2 table).

    Attributes:
        aridity_breaks: I breaks (1.5, 16). wind_day_breaks: W breaks, days/a (10, 30).
        fvc_breaks: cover breaks (0.2, 0.6). final_breaks: D breaks (2.33, 3.66).
        factor_scores: (1, 3, 5). closed: "extremes" (see :func:`score_by_breaks`).
    """

    aridity_breaks: tuple[float, float]
    wind_day_breaks: tuple[float, float]
    fvc_breaks: tuple[float, float]
    final_breaks: tuple[float, float]
    factor_scores: tuple[int, int, int]
    closed: str


def desertification_fragility(
    aridity_I: float | ArrayLike,
    wind_days_W: float | ArrayLike,
    texture_score_K: ArrayLike,
    fvc_C: ArrayLike,
    params: DesertificationParams,
    monitored_severe: ArrayLike | None = None,
) -> tuple[Array, NDArray[np.uint8]]:
    """土地沙化 fragility ``D = (I·W·K·C)^¼`` and its grade (spec §1.4.2 [S5 LandDesertification.py]).

    Args:
        aridity_I: 干燥度 (climate.aridity_index_accumulated), scalar or raster.
        wind_days_W: 起沙风天数, days/a, scalar or raster.
        texture_score_K: ``uint8 (rows, cols)`` texture score already mapped from TRZD with the
            config table (基岩/黏土 1, 砾质/壤质 3, 沙土 5; 0 = no data).
        fvc_C: vegetation cover 0–1, ``(rows, cols)``.
        monitored_severe: optional bool mask of 荒漠化监测 重度/极重度 沙化 (dataset ``01-16``) →
            grade 1 whatever D says (local rule [L]).

    Returns:
        ``(D float64, grade uint8)`` — grade 1 极脆弱, 2 脆弱, 3 一般, 0 no data.
    """
    k = np.asarray(texture_score_K)
    shape = k.shape
    inc = dict(scores=params.factor_scores, closed=params.closed)
    s_i = score_by_breaks(np.broadcast_to(np.asarray(aridity_I, dtype=np.float64), shape), params.aridity_breaks, True, **inc)
    s_w = score_by_breaks(np.broadcast_to(np.asarray(wind_days_W, dtype=np.float64), shape), params.wind_day_breaks, True, **inc)
    s_c = score_by_breaks(fvc_C, params.fvc_breaks, False, **inc)
    d = fragility_geometric_mean(s_i, s_w, k, s_c)
    grade = fragility_grade(d, params.final_breaks)
    if monitored_severe is not None:
        grade = np.where(np.asarray(monitored_severe, dtype=bool), 1, grade).astype(np.uint8)
    return d, grade


@dataclass(frozen=True)
class SoilErosionParams:
    """水土流失 fragility parameters (config ``ecology.soil_erosion``; spec §1.4.2 table).

    Attributes:
        erosivity_breaks: R breaks, MJ·mm·hm⁻²·h⁻¹·a⁻¹ (100, 600). relief_breaks_m: (50, 300).
        fvc_breaks: (0.2, 0.6). final_breaks: (2.33, 3.66). factor_scores: (1, 3, 5).
        closed: "middle" (the table reads "<100 / 100–600 / >600").
    """

    erosivity_breaks: tuple[float, float]
    relief_breaks_m: tuple[float, float]
    fvc_breaks: tuple[float, float]
    final_breaks: tuple[float, float]
    factor_scores: tuple[int, int, int]
    closed: str


def soil_erosion_fragility(
    erosivity_R: float | ArrayLike,
    relief_m: ArrayLike,
    fvc: ArrayLike,
    erodibility_score_K: ArrayLike,
    params: SoilErosionParams,
) -> tuple[Array, NDArray[np.uint8]]:
    """水土流失 fragility ``D = (R·relief·C·K)^¼`` and its grade (spec §1.4.2 [S5 SoilErosion.py]).

    Args:
        erosivity_R: annual R (climate.daily_rainfall_erosivity), scalar or raster.
        relief_m: 地形起伏度 ``(rows, cols)``, m.
        fvc: cover 0–1 ``(rows, cols)``.
        erodibility_score_K: ``uint8`` K score mapped from TRZD with the config table (0 = no data).

    Returns:
        ``(D, grade)`` as :func:`desertification_fragility`.
    """
    relief = np.asarray(relief_m, dtype=np.float64)
    inc = dict(scores=params.factor_scores, closed=params.closed)
    s_r = score_by_breaks(np.broadcast_to(np.asarray(erosivity_R, dtype=np.float64), relief.shape), params.erosivity_breaks, True, **inc)
    s_t = score_by_breaks(relief, params.relief_breaks_m, True, **inc)
    s_c = score_by_breaks(fvc, params.fvc_breaks, False, **inc)
    d = fragility_geometric_mean(s_r, s_t, s_c, erodibility_score_K)
    return d, fragility_grade(d, params.final_breaks)


# --------------------------------------------------------------------------- integration (§1.4.3)


def most_important(*grades: ArrayLike) -> NDArray[np.uint8]:
    """Per cell the most important (lowest non-zero) grade of several 1/2/3 rasters; 0 if all 0.

    The service-importance grade is the most important over the services (spec §1.4.1, [S5]
    ecology.py).
    """
    if not grades:
        raise ValueError("at least one grade raster is needed")
    stack = np.stack(np.broadcast_arrays(*[np.asarray(g, dtype=np.int64) for g in grades]))
    best = np.where(stack > 0, stack, 255).min(axis=0)
    return np.where(best == 255, 0, best).astype(np.uint8)


def eco_importance(service_grade: ArrayLike, fragility_grade: ArrayLike, *more: ArrayLike) -> NDArray[np.uint8]:
    """生态保护重要性 (初判) = the worse-case of service importance and fragility (spec §1.4.3, §8
    item 2): 1 极重要 if either is 1, else 2 重要 if either is 2, else 3 一般; a 0 (no data) input
    is ignored, 0 only if all inputs are 0. Extra rasters (more services / fragilities) may follow.
    """
    return most_important(service_grade, fragility_grade, *more)
