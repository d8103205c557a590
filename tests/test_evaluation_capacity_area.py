"""capacity_scale (以水定城/以水定地, 短板原理) and area tables."""

import math

import numpy as np
import pytest

from erenhot.evaluation.area import area_by_class
from erenhot.evaluation.capacity_scale import (
    carrying_scale,
    per_capita_water_m3_per_year,
    water_bound_cropland_ha,
    water_bound_population,
    water_bound_urban_land_km2,
)


def test_water_bound_city_by_hand():
    # 1,000 万 m³ · 0.5 / 100 m³/人/a = 50,000 persons; × 115 m²/人 = 5,750,000 m² = 5.75 km²
    pop = water_bound_population(1.0e7, 0.5, 100.0)
    assert pop == pytest.approx(50_000)
    assert water_bound_urban_land_km2(pop, 115.0) == pytest.approx(5.75)
    # 150 L/人/d → 54.75 m³/a domestic; industry 40 % of the total → 54.75 / 0.6 = 91.25
    assert per_capita_water_m3_per_year(150.0, 0.4) == pytest.approx(91.25)
    with pytest.raises(ValueError):
        water_bound_population(1.0e7, 1.5, 100.0)


def test_water_bound_cropland_by_hand():
    # 1,000 万 m³ · 0.3 / 4,500 m³/hm² = 666.67 hm² (+ 0 rain-fed)
    assert water_bound_cropland_ha(1.0e7, 0.3, 4500.0) == pytest.approx(666.6667, rel=1e-6)
    assert water_bound_cropland_ha(1.0e7, 0.3, 4500.0, rainfed_ha=100.0) == pytest.approx(766.6667, rel=1e-6)


def test_carrying_scale_minimum_and_name():
    assert carrying_scale({"water": 5.75, "land": 120.0}) == (5.75, "water")
    assert carrying_scale({"water": 300.0, "land": 120.0}) == (120.0, "land")
    assert carrying_scale({"water": 3.0, "land": 3.0}) == (3.0, "water")  # tie → first (water first)
    assert carrying_scale({"environment": math.nan, "land": 7.0}) == (7.0, "land")
    with pytest.raises(ValueError):
        carrying_scale({})


def test_area_by_class_per_zone_and_whole():
    cls = np.array([[1, 1, 2], [0, 3, 3]], dtype=np.uint8)
    zones = np.array([[1, 1, 2], [2, 2, 0]])
    labels = {1: "极重要", 2: "重要", 3: "一般"}
    df = area_by_class(cls, 0.5, zones, labels)
    assert list(df.columns) == ["zone", "class", "label", "cells", "area_km2", "share"]
    z1 = df[df.zone == 1].set_index("class")
    assert z1.cells.tolist() == [2, 0, 0] and z1.area_km2.tolist() == [1.0, 0.0, 0.0] and z1.share.tolist() == [1.0, 0.0, 0.0]
    z2 = df[df.zone == 2].set_index("class")
    assert z2.cells.tolist() == [0, 1, 1] and z2.share.tolist() == [0.0, 0.5, 0.5]
    whole = area_by_class(cls, 0.5, None, labels)
    assert whole.zone.tolist() == [0, 0, 0]
    assert whole.cells.tolist() == [2, 1, 2]
    assert whole.share.tolist() == pytest.approx([0.4, 0.2, 0.4])
    assert whole.label.tolist() == ["极重要", "重要", "一般"]
