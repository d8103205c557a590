"""ecology: RWEQ factors and service, NPP index, cumulative-share importance, fragility direction."""

import numpy as np
import pandas as pd
import pytest

from erenhot.config import load_config
from erenhot.evaluation.ecology import (
    DesertificationParams,
    SoilErosionParams,
    desertification_fragility,
    eco_importance,
    fragility_geometric_mean,
    fragility_grade,
    importance_by_cumulative_share,
    normalise_minmax,
    npp_biodiversity_index,
    rweq_crust_factor,
    rweq_erodible_fraction,
    rweq_peak_product,
    rweq_roughness,
    rweq_soil_loss,
    rweq_vegetation_factor,
    rweq_wind_factor,
    score_by_breaks,
    soil_erosion_fragility,
    wind_erosion_service,
)

CFG = load_config("t02_carrying_capacity")
COEF = CFG.get("ecology.rweq.coefficients")


def test_rweq_wind_factor_per_period_by_hand():
    # u(u − 5)²: 6 → 6·1 = 6, 4 → 0, 7 → 7·4 = 28; ρ/g = 1/10; SW 0.5, SD 1
    wf = rweq_wind_factor([6.0, 4.0, 7.0], [1, 1, 2], 5.0, 1.0, 10.0, soil_wetness=0.5, snow_cover=1.0)
    assert isinstance(wf, pd.Series)
    assert wf.loc[1] == pytest.approx(0.3)
    assert wf.loc[2] == pytest.approx(1.4)
    annual = rweq_wind_factor([6.0, 4.0, 7.0], None, 5.0, 1.0, 10.0, soil_wetness=0.5, snow_cover=1.0, n_years=2)
    assert annual.tolist() == pytest.approx([0.85])


def test_rweq_soil_factors_by_hand():
    ef = rweq_erodible_fraction(60.0, 30.0, 10.0, 1.0, 2.0, CFG.get("ecology.rweq.ef_coefficients"))
    # (29.09 + 18.6 + 5.1 + 0.33·6 − 2.59 − 1.9) / 100 = 0.5028
    assert ef == pytest.approx(0.5028)
    assert np.isnan(rweq_erodible_fraction(60.0, 40.0, 0.0, 1.0, 0.0, CFG.get("ecology.rweq.ef_coefficients")))
    # 1 / (1 + 0.0066·100 + 0.021·1) = 1 / 1.681
    assert rweq_crust_factor(10.0, 1.0, CFG.get("ecology.rweq.scf_coefficients")) == pytest.approx(1 / 1.681)
    rough = CFG.get("ecology.rweq.roughness_coefficients")
    assert rweq_roughness(None, None, 0.0, rough) == pytest.approx(1.0)
    # ΔH 10 m over 100 m: Kr = 0.2·100/100 = 0.2; exp(1.86·0.2 − 2.41·0.2^0.934) = exp(0.372 − 0.53606)
    assert rweq_roughness(10.0, 100.0, 0.0, rough) == pytest.approx(0.848727, rel=1e-5)
    # grassland a = −0.1151, FVC 0.5 → SC 50 % → exp(−5.755)
    assert rweq_vegetation_factor(0.5, -0.1151, 100) == pytest.approx(0.0031669, rel=1e-4)


def test_rweq_soil_loss_hand_computed():
    # x = WF·EF·SCF·K'·C = 10·0.5·1·1·1 = 5; Q_max = 109.8·5 = 549 kg/m
    # S = 150.71·5^−0.3711 = 150.71·0.550312 = 82.938 m
    # SL = 2·50/82.938² · 549 · exp(−(50/82.938)²) = 0.0145375·549·0.695265 = 5.5491 kg/m²
    sl = rweq_soil_loss([10.0], 0.5, 1.0, 1.0, 1.0, 50.0, COEF)
    assert float(sl) == pytest.approx(5.5491, rel=1e-4)
    # two periods add up; x = 0 gives 0
    assert float(rweq_soil_loss([10.0, 10.0], 0.5, 1.0, 1.0, 1.0, 50.0, COEF)) == pytest.approx(2 * 5.5491, rel=1e-4)
    assert float(rweq_soil_loss([0.0], 0.5, 1.0, 1.0, 1.0, 50.0, COEF)) == 0.0
    assert rweq_peak_product(50.0, COEF) == pytest.approx(61.73, rel=1e-3)


def test_wind_erosion_service_non_negative_zero_on_bare_ground_monotone():
    fvc = np.array([[0.0, 0.05, 0.1, 0.2, 0.4, 0.8]])
    c = rweq_vegetation_factor(fvc, -0.1151, 100)
    sr = wind_erosion_service([3.0, 10.0, 5.0], 0.5, 0.9, 1.0, c, 50.0, COEF)
    assert sr.dtype == np.float32
    assert np.all(sr >= 0)
    assert sr[0, 0] == 0.0
    assert np.all(np.diff(sr[0]) > 0)
    # NaN vegetation type → NaN service
    assert np.isnan(wind_erosion_service([10.0], 0.5, 1.0, 1.0, np.array([np.nan]), 50.0, COEF)[0])


def test_npp_index_and_normalisation():
    n = normalise_minmax(np.array([100.0, 200.0, 300.0, np.nan]))
    np.testing.assert_allclose(n[:3], [0.0, 0.5, 1.0])
    assert np.isnan(n[3])
    np.testing.assert_allclose(normalise_minmax(np.array([5.0, 5.0])), [1.0, 1.0])
    s = npp_biodiversity_index(np.array([0.5, 1.0]), 1.0, 0.8, np.array([0.0, 0.5]))
    np.testing.assert_allclose(s, [0.4, 0.4])


def test_cumulative_share_importance_boundary_rule():
    mask = np.ones(5, dtype=bool)
    # running sums 50, 80, 90, 95, 100: the 50 % share is reached by the first cell (→ 1),
    # 80 % by the second (→ 2), the rest are 3
    got = importance_by_cumulative_share(np.array([50.0, 30.0, 10.0, 5.0, 5.0]), mask)
    assert got.tolist() == [1, 2, 3, 3, 3]
    # order does not matter; 60 alone passes 50 %, 40 is needed for 80 %
    assert importance_by_cumulative_share(np.array([40.0, 60.0]), np.ones(2, bool)).tolist() == [2, 1]
    # equal values share a grade; zero never important; outside the mask → 0; NaN inside → 0 value
    v = np.array([[25.0, 25.0, 0.0], [25.0, 25.0, 99.0], [np.nan, 0.0, 0.0]])
    m = np.array([[True, True, True], [True, True, False], [True, True, True]])
    assert importance_by_cumulative_share(v, m).tolist() == [[1, 1, 3], [1, 1, 0], [3, 3, 3]]
    assert importance_by_cumulative_share(np.zeros(3), np.ones(3, bool)).tolist() == [3, 3, 3]


DESERT = CFG.params(DesertificationParams, "ecology.desertification")


def test_fragility_direction_sandy_bare_windy_is_extremely_fragile():
    k = np.array([[5, 1, 3]], dtype=np.uint8)  # sand, clay/bedrock, loam
    fvc = np.array([[0.05, 0.8, 0.4]])
    d, grade = desertification_fragility(20.0, 40.0, k, fvc, DESERT)
    # scores: I 5, W 5 for every cell; D = (5·5·5·5)^¼ = 5 → 1 极脆弱; (5·5·1·1)^¼ = 2.236 → 3 一般;
    # (5·5·3·3)^¼ = 3.873 → 1
    np.testing.assert_allclose(d, [[5.0, 5**0.5, 225**0.25]])
    assert grade.tolist() == [[1, 3, 1]]
    # humid and calm: I 1, W 1 → (1·1·5·5)^¼ = 2.236 < 2.33 → 一般 even on bare sand
    d, grade = desertification_fragility(1.0, 5.0, k, fvc, DESERT)
    assert grade.tolist() == [[3, 3, 3]]
    # one step up: I 5, W 3, K 3, C 3 → 135^¼ = 3.409 → 2 脆弱
    d, grade = desertification_fragility(20.0, 20.0, np.array([[3]], np.uint8), np.array([[0.4]]), DESERT)
    assert d[0, 0] == pytest.approx(3.408658) and grade.tolist() == [[2]]


def test_fragility_factor_breaks_and_monitoring_override():
    # extremes closed: the break values belong to the outer classes
    assert score_by_breaks(np.array([1.5, 1.6, 16.0, np.nan]), (1.5, 16), True, (1, 3, 5), "extremes").tolist() == [1, 3, 5, 0]
    assert score_by_breaks(np.array([0.6, 0.2, 0.3]), (0.2, 0.6), False, (1, 3, 5), "extremes").tolist() == [1, 5, 3]
    assert score_by_breaks(np.array([100.0, 600.0, 99.0, 601.0]), (100, 600), True, (1, 3, 5), "middle").tolist() == [3, 3, 1, 5]
    k = np.array([[1, 0]], dtype=np.uint8)
    _, grade = desertification_fragility(1.0, 1.0, k, np.array([[0.9, 0.9]]), DESERT, monitored_severe=np.array([[True, False]]))
    assert grade.tolist() == [[1, 0]]  # monitored 重度 → 极; K missing → no data


def test_fragility_grade_and_geometric_mean():
    assert fragility_grade(np.array([2.32, 2.33, 3.65, 3.66, 5.0, np.nan]), (2.33, 3.66)).tolist() == [3, 2, 2, 1, 1, 0]
    d = fragility_geometric_mean(np.array([5, 3, 0]), np.array([5, 3, 5]))
    np.testing.assert_allclose(d[:2], [5.0, 3.0])
    assert np.isnan(d[2])


def test_soil_erosion_fragility_by_hand():
    params = CFG.params(SoilErosionParams, "ecology.soil_erosion")
    relief = np.array([[10.0, 100.0, 400.0]])
    fvc = np.array([[0.7, 0.4, 0.1]])
    k = np.array([[1, 3, 5]], dtype=np.uint8)
    d, grade = soil_erosion_fragility(50.0, relief, fvc, k, params)
    # R score 1; others 1/3/5 → D = 1, 27^¼ = 2.2795, 125^¼ = 3.3437
    np.testing.assert_allclose(d, [[1.0, 2.279507, 3.343702]], rtol=1e-6)
    assert grade.tolist() == [[3, 3, 2]]


def test_eco_importance_takes_the_most_important():
    service = np.array([1, 2, 3, 3, 0, 0])
    fragility = np.array([3, 3, 2, 3, 2, 0])
    assert eco_importance(service, fragility).tolist() == [1, 2, 2, 3, 2, 0]
    assert eco_importance(np.array([3]), np.array([3]), np.array([1])).tolist() == [1]
