"""Settings read from the environment: storage root, input wait, per-topic configuration overrides."""

from __future__ import annotations

import pytest

from erenhot import settings


def test_storage_url_defaults_to_a_local_folder(monkeypatch):
    monkeypatch.delenv("ERENHOT_STORAGE_URL", raising=False)
    assert settings.storage_url() == "./data"
    monkeypatch.setenv("ERENHOT_STORAGE_URL", "s3://bucket/plan ")
    assert settings.storage_url() == "s3://bucket/plan"


def test_input_wait_is_a_non_negative_number(monkeypatch):
    monkeypatch.setenv("ERENHOT_INPUT_WAIT_SECONDS", "-5")
    assert settings.input_wait_seconds() == 0.0
    monkeypatch.setenv("ERENHOT_INPUT_WAIT_SECONDS", "soon")
    with pytest.raises(ValueError, match="ERENHOT_INPUT_WAIT_SECONDS"):
        settings.input_wait_seconds()


def test_config_overrides_are_per_topic_json(monkeypatch):
    monkeypatch.delenv("ERENHOT_CONFIG_OVERRIDES", raising=False)
    assert settings.config_overrides() == {}
    monkeypatch.setenv("ERENHOT_CONFIG_OVERRIDES", '{"t02": {"grid.cell_size_m": 300}}')
    assert settings.config_overrides() == {"t02": {"grid.cell_size_m": 300}}
    for bad, message in (('{"t02": 300}', "must map topic codes"), ("{t02: 1}", "not valid JSON"),
                         ("[1]", "must map topic codes")):
        monkeypatch.setenv("ERENHOT_CONFIG_OVERRIDES", bad)
        with pytest.raises(ValueError, match=message):
            settings.config_overrides()


def test_a_flow_parameter_wins_over_the_environment(monkeypatch):
    from flows.topic_flow import topic_overrides

    monkeypatch.setenv("ERENHOT_CONFIG_OVERRIDES", '{"t02": {"grid.cell_size_m": 300, "a.b": 1}}')
    assert topic_overrides("t02", None) == {"grid.cell_size_m": 300, "a.b": 1}
    assert topic_overrides("t02", {"grid.cell_size_m": 90}) == {"grid.cell_size_m": 90, "a.b": 1}
    assert topic_overrides("t03", {"x": 2}) == {"x": 2}


def test_the_prefect_api_of_the_active_profile_counts_not_only_the_environment(monkeypatch):
    """`prefect config set PREFECT_API_URL=…` is honoured by `erenhot serve` and by event emission."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tasks.events import api_url

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4999/api"}):
        assert api_url() == "http://127.0.0.1:4999/api"
