"""Projection methods of erenhot.evaluation.projection on short series with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from erenhot.evaluation import projection as pj


def test_geometric_growth_ten_percent():
    p = pj.geometric_growth({2018: 100.0, 2019: 110.0, 2020: 121.0}, [2021, 2025], name="GDP")
    assert p.params["rate"] == pytest.approx(0.10)
    assert p.values[2021] == pytest.approx(133.1)
    assert p.values[2025] == pytest.approx(121.0 * 1.1 ** 5)
    assert p.method == "geometric" and p.r2 is None


def test_geometric_growth_uses_endpoints_and_base_year():
    # (160/100)^(1/4) − 1 whatever the middle values; from 2018 on: 160/130 over 2 years
    s = pd.Series([100.0, 999.0, 130.0, 1.0, 160.0], index=[2016, 2017, 2018, 2019, 2020])
    p = pj.geometric_growth(s, [2020], name="x")
    assert p.params["rate"] == pytest.approx(1.6 ** 0.25 - 1)
    assert p.values[2020] == pytest.approx(160.0)
    q = pj.geometric_growth(s, [2022], name="x", base_year=2018)
    assert q.params["rate"] == pytest.approx((160 / 130) ** 0.5 - 1)
    assert q.values[2022] == pytest.approx(160 * 160 / 130)


def test_linear_trend_exact_line():
    p = pj.linear_trend({2010: 5.0, 2011: 8.0, 2012: 11.0, 2013: 14.0}, [2020, 2035], name="y")
    assert p.params["slope"] == pytest.approx(3.0)
    assert p.values[2020] == pytest.approx(5.0 + 3 * 10)
    assert p.values[2035] == pytest.approx(80.0)
    assert p.r2 == pytest.approx(1.0)


def test_linear_trend_least_squares_by_hand():
    # points (0,1), (1,3), (2,2): slope 0.5, intercept 1.5 (t from 2000)
    p = pj.linear_trend({2000: 1.0, 2001: 3.0, 2002: 2.0}, [2004], name="y")
    assert p.params["slope"] == pytest.approx(0.5)
    assert p.values[2004] == pytest.approx(1.5 + 0.5 * 4)
    # r² = 1 − SSres/SStot = 1 − (0.25+1+0.25)/2 = 0.25
    assert p.r2 == pytest.approx(0.25)


def test_log_linear_exact_exponential():
    s = {2000 + i: 50.0 * 1.08 ** i for i in range(6)}
    p = pj.log_linear_trend(s, [2010], name="GDP")
    assert p.params["rate"] == pytest.approx(0.08)
    assert p.values[2010] == pytest.approx(50.0 * 1.08 ** 10)
    assert p.r2 == pytest.approx(1.0)


def test_logistic_exact_curve():
    k, c, r = 1000.0, 9.0, 0.3
    s = {2000 + t: k / (1 + c * math.exp(-r * t)) for t in range(8)}
    p = pj.logistic_trend(s, [2030], saturation=k, name="urban")
    assert p.params["r"] == pytest.approx(r)
    assert p.params["c"] == pytest.approx(c)
    assert p.values[2030] == pytest.approx(k / (1 + c * math.exp(-r * 30)))
    assert p.values[2030] < k
    assert p.r2 == pytest.approx(1.0)
    assert p.at([2000])[0] == pytest.approx(100.0)  # K/(1+9)


def test_comprehensive_growth_by_hand():
    # P_n = P_0 (1 + m + k)^n: 70,000 × (1 + 0.004 + 0.011)^5 = 70,000 × 1.015^5
    p = pj.comprehensive_growth(70_000, 2020, [2025, 2035], natural_rate=0.004, migration_rate=0.011, name="pop")
    assert p.values[2025] == pytest.approx(70_000 * 1.015 ** 5)
    assert p.values[2025] == pytest.approx(75409.88, abs=0.01)  # 1.015^5 = 1.0772840…
    assert p.values[2035] == pytest.approx(70_000 * 1.015 ** 15)
    assert p.params["rate"] == pytest.approx(0.015)


def test_compound_plan_target():
    p = pj.compound(200.0, 2020, 0.07, [2025], name="GDP", method="target")
    assert p.values[2025] == pytest.approx(200 * 1.07 ** 5)
    assert p.method == "target"


def test_spread_min_max_mean():
    a = pj.compound(100.0, 2020, 0.0, [2025, 2035], name="g", method="flat")
    b = pj.compound(100.0, 2020, 0.10, [2025], name="g", method="fast")
    c = pj.linear_trend({2019: 90.0, 2020: 100.0}, [2025, 2035], name="g")  # +10 per year
    t = pj.spread([a, b, c]).set_index("year")
    assert t.loc[2025, "n_methods"] == 3
    assert t.loc[2025, "min"] == pytest.approx(100.0)
    assert t.loc[2025, "max"] == pytest.approx(161.051)
    assert t.loc[2025, "mean"] == pytest.approx((100 + 161.051 + 150) / 3)
    assert t.loc[2025, "median"] == pytest.approx(150.0)
    assert t.loc[2025, "max_method"] == "fast" and t.loc[2025, "min_method"] == "flat"
    assert t.loc[2035, "n_methods"] == 2
    assert t.loc[2035, "range"] == pytest.approx(150.0)
    assert t.loc[2035, "range_pct"] == pytest.approx(150.0 / 175.0 * 100)


def test_average_annual_growth():
    assert pj.average_annual_growth(100, 121, 2) == pytest.approx(0.1)


@pytest.mark.parametrize("fn", [pj.geometric_growth, pj.log_linear_trend])
def test_log_methods_refuse_non_positive_values_naming_the_series(fn):
    with pytest.raises(ValueError, match="地区生产总值.*2019"):
        fn({2018: 10.0, 2019: 0.0, 2020: 12.0}, [2025], name="地区生产总值")


def test_logistic_refuses_values_at_or_above_saturation():
    with pytest.raises(ValueError, match="urban.*saturation"):
        pj.logistic_trend({2018: 0.5, 2019: 0.9}, [2025], saturation=0.9, name="urban")
    with pytest.raises(ValueError, match="urban: logistic saturation"):
        pj.logistic_trend({2018: 0.5, 2019: 0.6}, [2025], saturation=-1, name="urban")


def test_series_checks():
    with pytest.raises(ValueError, match="s: 1 value"):
        pj.linear_trend({2018: 1.0}, [2025], name="s")
    with pytest.raises(ValueError, match="s: missing or non-finite value in year\\(s\\) \\[2019\\]"):
        pj.linear_trend({2018: 1.0, 2019: np.nan, 2020: 2.0}, [2025], name="s")
    with pytest.raises(ValueError, match="duplicate"):
        pj.linear_trend(pd.Series([1.0, 2.0], index=[2018, 2018]), [2025], name="s")
    with pytest.raises(ValueError, match="P0 must be positive"):
        pj.comprehensive_growth(0, 2020, [2025], natural_rate=0.01, migration_rate=0.0, name="pop")
    with pytest.raises(ValueError, match="no projections"):
        pj.spread([])
