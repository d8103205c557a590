"""Run keys are made of content: delivery hashes and layer hashes, never paths, versions or times."""

from __future__ import annotations

from erenhot.config import load_config
from erenhot.products import run_key
from erenhot.readiness import input_content


def _readiness(dem_hash="a" * 64, dem_version="20260101T000000Z-aaaa", crs="", slope_sha="s" * 64, slope_run="k1"):
    return {"datasets": {"01-03": {"version": dem_version, "delivery_hash": dem_hash, "crs_override": crs}},
            "layers": {"t02.slope": {"run_key": slope_run, "sha256": slope_sha, "path": f"products/t02/{slope_run}/x.tif"}}}


def test_the_same_content_under_another_version_or_run_gives_the_same_key():
    first = input_content(_readiness())
    # the DEM re-sent later with the same bytes (new version id), the slope reproduced by another T02 run
    again = input_content(_readiness(dem_version="20270101T000000Z-aaaa", slope_run="k2"))
    assert first == again
    assert run_key("t03", first, "cfg") == run_key("t03", again, "cfg")


def test_changed_content_or_crs_or_config_changes_the_key():
    base = run_key("t03", input_content(_readiness()), "cfg")
    assert run_key("t03", input_content(_readiness(dem_hash="b" * 64)), "cfg") != base
    assert run_key("t03", input_content(_readiness(slope_sha="t" * 64)), "cfg") != base
    assert run_key("t03", input_content(_readiness(crs="EPSG:4546")), "cfg") != base  # read differently
    assert run_key("t03", input_content(_readiness()), "cfg2") != base
    assert run_key("t03", input_content(_readiness()), "cfg", code_version="9.9") != base


def test_a_whole_number_written_as_a_float_is_the_same_configuration():
    assert load_config("t02_carrying_capacity", {"grid.cell_size_m": 30}).digest == \
        load_config("t02_carrying_capacity", {"grid.cell_size_m": 30.0}).digest
    assert load_config("t02_carrying_capacity", {"grid.cell_size_m": 30.5}).digest != \
        load_config("t02_carrying_capacity", {"grid.cell_size_m": 30}).digest
