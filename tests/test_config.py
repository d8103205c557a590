"""erenhot.config: every leaf sourced, confidence marks, overrides, digest, params."""

from importlib import resources

import pytest
import yaml

from erenhot.config import CONFIDENCE_LEVELS, ConfigError, TopicConfig, load_config
from erenhot.evaluation.integration import AgriLandParams

# every topic configuration shipped in the package (t02_carrying_capacity, t03_suitability, t09_…)
NAMES = sorted(p.name.removesuffix(".yaml") for p in resources.files("erenhot.config").iterdir()
               if p.name.startswith("t") and p.name.endswith(".yaml"))


def _raw_leaves(node, prefix=""):
    for key, child in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        assert isinstance(child, dict), f"{path}: bare value"
        if "value" in child:
            yield path, child
        else:
            yield from _raw_leaves(child, path)


@pytest.mark.parametrize("name", NAMES)
def test_every_leaf_has_source_and_confidence(name):
    raw = yaml.safe_load(resources.files("erenhot.config").joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    leaves = list(_raw_leaves(raw))
    assert len(leaves) >= 5
    for path, leaf in leaves:
        assert isinstance(leaf.get("source"), str) and leaf["source"].strip(), path
        assert leaf.get("confidence") in CONFIDENCE_LEVELS, path
    cfg = load_config(name)
    assert [e["path"] for e in cfg.entries()] == [p for p, _ in leaves]


@pytest.mark.parametrize("name", NAMES)
def test_uncertain_values_say_so(name):
    for entry in load_config(name).entries():
        if entry["confidence"] in ("M", "L"):
            note = entry["note"].lower()
            assert "uncertain" in note and "configurable" in note, entry["path"]


def test_known_values_and_confidences():
    t02 = load_config("t02_carrying_capacity")
    assert t02.get("grid.crs") == "EPSG:4525"
    assert t02.get("grid.cell_size_m") == 30
    assert t02.get("agri.land.slope_breaks_deg") == [2, 6, 15, 25]
    assert t02.get("urban.land.slope_breaks_deg") == [3, 8, 15, 25]
    assert t02.get("agri.climate.accumulated_temp_breaks_cd") == [7600, 5800, 4000, 1500]
    assert t02.get("ecology.rweq.coefficients") == {"qmax_coef": 109.8, "s_coef": 150.71, "s_exponent": -0.3711}
    assert t02.leaf("hazard.fault_buffer_m")["confidence"] == "L"
    assert t02.leaf("ecology.desertification.final_breaks_alternative")["confidence"] == "L"
    t03 = load_config("t03_suitability")
    t14 = load_config("t14_transport")
    assert t14.get("roads.speed_kmh")["高速公路"] == 100
    assert t03.get("capacity_scale.per_capita_urban_land_m2") == 115
    assert t14.leaf("hubs.city_centre")["confidence"] == "M"
    assert t03.get("grazing.grass_dlbm_codes") == ["0401", "0403", "0404"]


def test_overrides_change_value_entries_and_digest():
    base = load_config("t02_carrying_capacity")
    over = load_config("t02_carrying_capacity", {"grid.cell_size_m": 300})
    assert isinstance(over, TopicConfig)
    assert over.get("grid.cell_size_m") == 300
    assert over.values["grid"]["cell_size_m"] == 300
    assert over.digest != base.digest and len(over.digest) == 64
    assert load_config("t02_carrying_capacity").digest == base.digest
    entry = next(e for e in over.entries() if e["path"] == "grid.cell_size_m")
    assert entry["overridden"] is True and entry["value"] == 300
    assert base.get("grid.cell_size_m") == 30  # the packaged file is untouched


def test_bad_overrides_and_paths_raise():
    with pytest.raises(ConfigError):
        load_config("t02_carrying_capacity", {"grid.no_such_key": 1})
    with pytest.raises(ConfigError):
        load_config("t02_carrying_capacity", {"grid": 1})  # a branch, not a value
    with pytest.raises(ConfigError):
        load_config("t02_carrying_capacity", {"agri.land.slope_breaks_deg": 5})  # list expected
    with pytest.raises(ConfigError):
        load_config("no_such_topic")
    with pytest.raises(ConfigError):
        load_config("t02_carrying_capacity").get("agri.nothing")


def test_params_builds_frozen_dataclass():
    cfg = load_config("t02_carrying_capacity", {"agri.land.silt_lowest_pct": 90})
    p = cfg.params(AgriLandParams, "agri.land")
    assert p == AgriLandParams(slope_breaks_deg=(2, 6, 15, 25), silt_down1_pct=(60, 80), silt_lowest_pct=90)
    with pytest.raises(ConfigError):
        cfg.params(AgriLandParams, "grid")
