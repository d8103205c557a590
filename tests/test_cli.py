"""The erenhot command line: catalog JSON shape, status on any storage, refusals without tracebacks."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def test_catalog_json_has_every_department_item_and_topic():
    res = runner.invoke(app, ["catalog", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert len(doc["departments"]) == 22
    assert len([d for d in doc["datasets"] if not d.get("parent")]) == 155
    assert len(doc["topics"]) == 15
    assert {"seq", "name_zh"} <= set(doc["departments"][0])
    assert {"id", "department_seq", "seed_item", "name_zh", "kind"} <= set(doc["datasets"][0])
    assert {"seq", "name_zh", "lead_department_seq", "inputs", "outputs"} <= set(doc["topics"][0])


def test_graph_is_mermaid_with_t02_feeding_t03():
    res = runner.invoke(app, ["graph"])
    assert res.exit_code == 0
    assert res.output.lstrip().startswith(("graph", "flowchart")) and "t02" in res.output.lower()


def test_status_json_on_an_empty_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "empty"))
    res = runner.invoke(app, ["status", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert {d["state"] for d in doc["datasets"]} == {"missing"}
    topics = {t["seq"]: t for t in doc["topics"]}
    assert topics[2]["state"] == "waiting" and topics[3]["state"] == "waiting"
    assert {t["state"] for t in topics.values()} == {"waiting"} and topics[2]["outputs"] == []  # all 15 implemented, none can run


def test_ingest_refuses_the_wrong_department_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "s"))
    f = tmp_path / "dem.tif"
    f.write_bytes(b"not a tiff")
    res = runner.invoke(app, ["ingest", "4", "01-03", str(f)])
    assert res.exit_code == 2
    assert "delivered by department 1" in res.output and res.exception is None or isinstance(res.exception, SystemExit)


def test_ingest_refuses_an_unaccepted_crs_override(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "s"))
    f = tmp_path / "faults.geojson"
    f.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    res = runner.invoke(app, ["ingest", "1", "01-27", str(f), "--crs", "EPSG:3857"])
    assert res.exit_code == 2 and "not an accepted coordinate system" in res.output


def test_status_lists_deliveries_that_failed_and_what_is_used_instead(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "s"))
    f = tmp_path / "faults.geojson"
    f.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert runner.invoke(app, ["ingest", "1", "01-27", str(f)]).exit_code == 0
    assert runner.invoke(app, ["validate", "01-27"]).exit_code != 0
    res = runner.invoke(app, ["status"])
    assert res.exit_code == 0, res.output
    assert "1 newest deliveries failed validation" in res.output
    assert "01-27" in res.output and "no accepted version: topics reading it wait" in res.output


def test_tiled_on_an_empty_storage_names_what_is_missing_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "empty"))
    res = runner.invoke(app, ["tiled"])
    assert res.exit_code == 1, res.output
    assert "cannot run: required input(s) missing" in res.output and "01-04" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["tiled", "--dask-address", "tcp://127.0.0.1:1", "--workers", "2"])
    assert res.exit_code == 2 and "not both" in res.output


def test_run_refuses_a_kit_folder_that_is_missing_or_not_a_kit_before_starting_prefect(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "s"))
    res = runner.invoke(app, ["run", "--kit", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "does not exist" in res.output and "nowhere" in res.output
    (tmp_path / "notakit").mkdir()
    res = runner.invoke(app, ["run", "--kit", str(tmp_path / "notakit")])
    assert res.exit_code == 2 and "has no kit.json" in res.output
    assert not (tmp_path / "s").exists()  # refused before the storage or a Prefect server was touched


def test_refusals_go_to_stderr_once_so_stdout_stays_clean_for_scripts(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "s"))
    res = runner.invoke(app, ["validate", "no-such-id"])
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.count("unknown dataset") == 1 and "'no-such-id'" in res.stderr
    res = runner.invoke(app, ["run", "--kit", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and res.stdout == "" and "refused: --kit" in res.stderr


def test_every_refusal_of_an_unknown_name_starts_with_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ERENHOT_STORAGE_URL", str(tmp_path / "s"))
    for args in (["lineage", "no.such"], ["status", "99"], ["tiled", "--workers", "2", "--dask-address", "tcp://127.0.0.1:1"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and res.stdout == "" and res.stderr.startswith("refused: "), (args, res.output)
