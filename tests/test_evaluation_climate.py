"""climate: accumulated temperature (with lapse correction), THI, comfort, aridity, wind, erosivity."""

import numpy as np
import pandas as pd
import pytest

from erenhot.evaluation.climate import (
    accumulated_temperature,
    accumulated_temperature_field,
    aridity_index_accumulated,
    daily_rainfall_erosivity,
    monthly_means,
    sand_wind_days,
    thi,
    thi_comfort_grade,
    wind_at_height,
)

DAYS = np.array([-5.0, 0.0, 3.0, 10.0, -1.0, np.nan])


def test_accumulated_temperature_by_hand():
    assert accumulated_temperature(DAYS, 0.0) == pytest.approx(13.0)  # 0 + 3 + 10 (0 counts: ≥ base)
    assert accumulated_temperature(DAYS, 0.0, n_years=2) == pytest.approx(6.5)
    assert accumulated_temperature(DAYS, 5.0) == pytest.approx(10.0)


def test_accumulated_temperature_field_lapse_correction():
    dem = np.array([[1000.0, 1100.0], [900.0, np.nan]])
    got = accumulated_temperature_field(DAYS, 1000.0, dem, -0.6, base_c=0.0)
    # 1100 m: every day −0.6 → [−5.6, −0.6, 2.4, 9.4, −1.6] → 2.4 + 9.4 = 11.8
    # 900 m: every day +0.6 → [−4.4, 0.6, 3.6, 10.6, −0.4] → 0.6 + 3.6 + 10.6 = 14.8
    assert got[0, 0] == pytest.approx(13.0)
    assert got[0, 1] == pytest.approx(11.8, abs=1e-5)
    assert got[1, 0] == pytest.approx(14.8, abs=1e-5)
    assert np.isnan(got[1, 1])
    # 500 m below the station: +3 °C → [−2, 3, 6, 13, 2] → 24 (a day shifted exactly onto 0 would count)
    assert accumulated_temperature_field(DAYS, 1000.0, np.array([[500.0]]), -0.6)[0, 0] == pytest.approx(24.0)


def test_thi_known_values():
    # 20 °C = 68 °F, RH 0.5: 68 − 0.55·0.5·(68 − 58) = 65.25
    assert thi(20.0, 0.5, 0.55, 58.0) == pytest.approx(65.25)
    assert thi(0.0, 1.0, 0.55, 58.0) == pytest.approx(32.0)  # saturated air: THI = T in °F
    with pytest.raises(ValueError):
        thi(20.0, 50.0, 0.55, 58.0)


TABLE = [[None, 35, 5], [35, 40, 4], [40, 45, 3], [45, 50, 2], [50, 70, 1], [70, 75, 2], [75, 80, 3], [80, 85, 4], [85, None, 5]]


def test_comfort_modal_class_and_tie_to_worse():
    months = np.array([20, 25, 34, 45, 55, 65, 68, 66, 58, 44, 30, 22], dtype=float)
    # grades 5,5,5,2,1,1,1,1,1,3,5,5 → five 1s and five 5s → tie → 5 (worse)
    assert int(thi_comfort_grade(months, TABLE)) == 5
    months[0] = 52.0  # now six 1s
    assert int(thi_comfort_grade(months, TABLE)) == 1
    field = np.stack([np.full((2, 2), 60.0)] * 12)
    field[:7, 0, 0] = 86.0
    assert thi_comfort_grade(field, TABLE).tolist() == [[5, 1], [1, 1]]


def test_aridity_index_by_hand():
    t = np.array([12.0, 14.0, 20.0, 5.0, 8.0])
    p = np.array([5.0, 3.0, 2.0, 10.0, 1.0])
    # ≥10 °C days: T 12 + 14 + 20 = 46, P 5 + 3 + 2 = 10 → 0.16·46/10 = 0.736
    assert aridity_index_accumulated(t, p, 10.0, coefficient=0.16) == pytest.approx(0.736)
    assert aridity_index_accumulated(t, np.zeros(5), 10.0, coefficient=0.16) == np.inf
    assert np.isnan(aridity_index_accumulated(t - 20, p, 10.0, coefficient=0.16))


def test_wind_days_and_profile():
    assert sand_wind_days(np.array([4.0, 5.0, 6.0, 7.0, 3.0, 5.0, np.nan]), 5.0, n_years=2) == pytest.approx(2.0)
    assert wind_at_height(10.0, 10.0, 2.0, 1 / 7) == pytest.approx(7.945974, rel=1e-6)


def test_daily_rainfall_erosivity_by_hand():
    p = np.array([20.0, 15.0, 11.9, 0.0, 12.0])
    m = np.array([7, 10, 7, 1, 1])
    # 0.3937·20^1.7265 + 0.3101·15^1.7265 + 0.3101·12^1.7265 (11.9 mm is below the 12 mm threshold)
    expected = 0.3937 * 176.2902 + 0.3101 * 107.2807 + 0.3101 * 72.9804  # ≈ 125.304
    r = daily_rainfall_erosivity(p, m, 0.3937, 0.3101, 1.7265, 12.0, [5, 6, 7, 8, 9])
    assert r == pytest.approx(expected, rel=1e-4)


def test_monthly_means():
    idx = pd.date_range("2020-01-01", "2021-12-31", freq="D")
    s = pd.Series(np.where(idx.year == 2020, 1.0, 3.0), index=idx)
    got = monthly_means(s)
    assert got.shape == (12,)
    np.testing.assert_allclose(got, 2.0)
