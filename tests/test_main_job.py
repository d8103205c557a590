"""The main job as a user runs it: `erenhot run --kit` in a new process, on the real Erenhot data.

A new process matters: imports that a test session has already done (openpyxl, GX …) hide races
that a fresh `make real` meets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.flow


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_run_on_the_real_data_kit_in_a_new_process(real_data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), ERENHOT_STORAGE_URL=str(tmp_path / "store"),
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    kit = tmp_path / "kit"
    made = _cli(["sample-kit", str(kit), "--real-data", str(real_data_dir), "--cell-size", "100", "--parcels", "200"],
                env, tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    ran = _cli(["run", "--kit", str(kit), "--cell-size", "1000"], env, tmp_path)
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
    assert "t02.eco_importance" in ran.stdout and "report" in ran.stdout
    status = json.loads(_cli(["status", "--json"], env, tmp_path).stdout)
    topics = {t["seq"]: t for t in status["topics"]}
    seven = (2, 3, 7, 9, 11, 12, 13)  # issue 5: the seven implemented topics, in graph order
    assert {seq: topics[seq]["state"] for seq in seven} == {seq: "done" for seq in seven}
    assert {d["id"]: d["state"] for d in status["datasets"]}["04-07"] == "validated"
    report = Path(topics[2]["report"].removeprefix("file://")).with_name("report.md").read_text("utf-8")
    assert "530680" in report
    # ≥0 °C accumulated temperature of the real typical year, recomputed here from the EPW's 365 daily means
    import pandas as pd
    epw = pd.read_csv(real_data_dir / "climate" / "CHN_Nei.Mongol.Erenhot.530680_CSWD.epw", skiprows=8, header=None)
    daily = epw.groupby([1, 2])[6].mean()
    expected = daily[daily >= 0].sum()
    assert 3000 < expected < 3600
    assert f"≥0°C积温（站点，由日平均气温计算）: {expected:,.1f} °C·d" in report
