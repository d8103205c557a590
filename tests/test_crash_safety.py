"""Crash safety of a topic's publication: a T02 run killed with SIGKILL half-way leaves the published
version intact and unlisted partial files, and the rerun publishes the same products as a clean run.

A separate process runs T02 (library only, no Prefect) with a new configuration (1500 m cells) over a
storage where version A (1000 m cells) is current. It is killed at one of three points:

* ``maps``: its progress callback holds at the "maps" step — every layer and the area table of the
  new version are written, no map, report or manifest yet;
* ``layer-file``: nothing holds it; the test kills it the moment the first file appears under the new
  version's ``layers/`` — in practice inside the write of the first layer, when all there is is the
  hidden temporary file ``layers/.slope.tif.<random>.part`` the atomic write renames when complete;
* ``current.json``: it holds just before ``current.json`` is written — the new version's folder is
  complete, its ``manifest.json`` included, but it was never made current.

In every case ``current.json`` and version A stay as they were (bytes and sha256), `erenhot status`
lists only A, and the rerun of the same configuration (same run key) completes and writes byte for
byte what a clean run of it writes in a fresh storage holding the same validated deliveries — except
the two reports, whose "生成时间 Generated" line holds the time of the run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from erenhot.acceptance import accept_delivery
from erenhot.catalog import load_catalog
from erenhot.config import load_config
from erenhot.landing import latest_delivery
from erenhot.products import current_manifest, manifest_intact
from erenhot.readiness import check_readiness
from erenhot.status import plan_status
from erenhot.storage import Storage, sha256_bytes
from erenhot.topics import run_topic
from erenhot.topics.common import new_publication, reusable
from kit_helpers import ingest_kit, small_kit

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

REPO = Path(__file__).resolve().parents[1]
CELL_A, CELL_B = 1000, 1500
TIMEOUT_S = 120  # a hung child fails the test instead of hanging it

# The killed run: T02 on the storage given as argv[1] with 1500 m cells; it prints every progress step
# as a JSON line and holds (reads stdin, which the parent never writes) where argv[2] says.
CHILD = r"""
import json, sys
from erenhot.catalog import load_catalog
from erenhot.readiness import check_readiness
from erenhot.storage import Storage, sha256_bytes
from erenhot.topics import run_topic

url, hold_at, cell = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])  # 1500, not 1500.0: the run key would differ

def say(**kw):
    print(json.dumps(kw, ensure_ascii=False), flush=True)

def hold():
    sys.stdin.readline()  # until the parent kills us
    say(error="resumed: the parent should have killed this process")
    sys.exit(3)

if hold_at == "current.json":
    write_json = Storage.write_json
    def guarded(self, rel, obj, **kw):
        if rel.endswith("/current.json"):
            say(held="current.json")
            hold()
        return write_json(self, rel, obj, **kw)
    Storage.write_json = guarded

def progress(fraction, step):
    say(fraction=fraction, step=step)
    if step == hold_at:
        say(held=step)
        hold()

storage, cat = Storage(url), load_catalog()
readiness = check_readiness(storage, cat, cat.topic("t02")).to_dict()
say(started=True)
result = run_topic(storage, cat, "t02", readiness, {"grid.cell_size_m": cell}, progress)
say(done=result["run_key"])
"""


def _env(tmp_path: Path, url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PYTHONPATH=str(REPO), PREFECT_HOME=str(tmp_path / "prefect"), MPLBACKEND="Agg")
    if url:
        env["ERENHOT_STORAGE_URL"] = url
    return env


def _readiness(storage: Storage) -> dict:
    cat = load_catalog()
    return check_readiness(storage, cat, cat.topic("t02")).to_dict()


def _run_t02(storage: Storage, cell: int, steps: list[str] | None = None) -> dict:
    def progress(_fraction: float, step: str) -> None:
        if steps is not None:
            steps.append(step)

    return run_topic(storage, load_catalog(), "t02", _readiness(storage), {"grid.cell_size_m": cell}, progress)


def _tree(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``folder`` (hidden temporary files included)."""
    return {p.relative_to(folder).as_posix(): sha256_bytes(p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def _report_text(storage: Storage, manifest: dict, name: str) -> str:
    """A report of ``manifest`` with its generation time (read from report.md's "Generated" row) masked."""
    folder = f"products/t02/{manifest['run_key']}"
    generated = re.search(r"Generated \| (\S+) \|", storage.read_bytes(f"{folder}/report.md").decode("utf-8")).group(1)
    return storage.read_bytes(f"{folder}/{name}").decode("utf-8").replace(generated, "<generated_at>")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """``(base, reference)``: ``base`` holds the validated kit and T02 version A (1000 m) as current;
    ``reference`` is a copy of the storage taken before A was published (same validated deliveries,
    so the same input versions and run keys) where T02 ran once, cleanly, with 1500 m cells."""
    root = tmp_path_factory.mktemp("crash")
    kit = small_kit(root / "kit")
    base = Storage(str(root / "base"))
    cat = load_catalog()
    ingest_kit(base, kit)
    for ds_id in sorted(kit.datasets, key=lambda i: (i != "01-04", i)):  # the city boundary first
        report = accept_delivery(base, cat, latest_delivery(base, ds_id))
        assert report["state"] == "validated", report["failures"]
    shutil.copytree(root / "base", root / "reference")
    reference = Storage(str(root / "reference"))
    ref = _run_t02(reference, CELL_B)
    assert ref["skipped"] is False
    a = _run_t02(base, CELL_A)
    assert a["skipped"] is False and a["run_key"] != ref["run_key"]
    return root / "base", reference


def _start_child(url: str, hold_at: str, tmp_path: Path) -> tuple[subprocess.Popen, queue.Queue]:
    err = open(tmp_path / "child.stderr", "wb")  # noqa: SIM115 - closed with the process
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, hold_at, str(CELL_B)], cwd=tmp_path, env=_env(tmp_path),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, encoding="utf-8")
    err.close()
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in child.stdout:
            lines.put(json.loads(line))
        lines.put(None)  # end of output: the child is gone

    threading.Thread(target=pump, daemon=True).start()
    return child, lines


def _wait_for_hold(child: subprocess.Popen, lines: queue.Queue, hold_at: str, tmp_path: Path) -> list[dict]:
    seen, deadline = [], time.monotonic() + TIMEOUT_S
    while True:
        try:
            msg = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            msg = "timeout"
        if msg is None or msg == "timeout" or "done" in msg:
            child.kill()
            pytest.fail(f"the child never held at {hold_at!r} ({msg}); seen {seen}; "
                        f"stderr: {(tmp_path / 'child.stderr').read_text('utf-8', 'replace')[-3000:]}")
        seen.append(msg)
        if msg.get("held") == hold_at:
            return seen


def _wait_for_first_layer(child: subprocess.Popen, layers: Path, tmp_path: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        if layers.is_dir() and any(layers.iterdir()):
            return
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"no layer file appeared under {layers} (child exit {child.returncode}): "
                        f"{(tmp_path / 'child.stderr').read_text('utf-8', 'replace')[-3000:]}")
        time.sleep(0.001)


def _kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL


def _status_json(url: str, tmp_path: Path) -> tuple[str, dict]:
    res = subprocess.run([sys.executable, "-m", "flows.cli", "status", "--json"], cwd=tmp_path, env=_env(tmp_path, url),
                         capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT_S, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout, json.loads(res.stdout)


def _assert_only_a_listed(doc: dict, text: str, key_a: str, key_b: str, outputs_a: set[str]) -> None:
    t02 = next(t for t in doc["topics"] if t["code"] == "t02")
    assert t02["state"] == "done" and t02["run_key"] == key_a
    assert {o["uri"] for o in t02["outputs"]} == outputs_a
    assert all(f"/products/t02/{key_a}/" in o["uri"] for o in t02["outputs"])
    assert key_b not in text  # not a path, not a run key, nowhere


@pytest.mark.parametrize("kill_at", ["maps", "layer-file", "current.json"])
def test_a_killed_run_leaves_the_published_version_and_the_rerun_matches_a_clean_run(prepared, tmp_path, kill_at):
    base, reference = prepared
    store = tmp_path / "store"
    shutil.copytree(base, store)
    storage = Storage(str(store))
    url = storage.url

    # -- version A, as published -------------------------------------------------------------
    manifest_a = current_manifest(storage, "t02")
    key_a = manifest_a["run_key"]
    pointer_a = (store / "products/t02/current.json").read_bytes()
    tree_a = _tree(store / "products/t02" / key_a)
    assert {f["name"]: f["sha256"] for f in manifest_a["files"]} == {n: s for n, s in tree_a.items() if n != "manifest.json"}
    outputs_a = {o["uri"] for o in manifest_a["outputs"]}

    # the run key of the run about to be killed: the same as the clean run's in the reference storage
    cfg_b = load_config("t02_carrying_capacity", {"grid.cell_size_m": CELL_B})
    key_b = new_publication(storage, load_catalog().topic("t02"), _readiness(storage), cfg_b).key
    ref_manifest = current_manifest(reference, "t02")
    assert key_b == ref_manifest["run_key"] != key_a
    folder_b = store / "products/t02" / key_b

    # -- the killed run --------------------------------------------------------------------------
    child, lines = _start_child(url, "" if kill_at == "layer-file" else kill_at, tmp_path)
    try:
        if kill_at == "layer-file":
            _wait_for_first_layer(child, folder_b / "layers", tmp_path)
        else:
            seen = _wait_for_hold(child, lines, kill_at, tmp_path)
            steps = [m["step"] for m in seen if "step" in m]
            assert "writing layers (COG GeoTIFF)" in steps and "products reused" not in " ".join(steps)
            # held, alive, half-way: the new version's files are there, yet nothing lists them
            written = {p.relative_to(folder_b).as_posix() for p in folder_b.rglob("*") if p.is_file()}
            layer_ids = {o["id"] for o in ref_manifest["outputs"] if o["kind"] == "raster"}
            assert {f"layers/{i.split('.', 1)[1]}.tif" for i in layer_ids} <= written
            assert "tables/area_by_grade.csv" in written
            if kill_at == "maps":
                assert not any(n.startswith(("maps/", "report")) for n in written)
                assert "manifest.json" not in written
            else:  # everything but the pointer
                assert {f["name"] for f in ref_manifest["files"]} | {"manifest.json"} <= written
            st = plan_status(storage, load_catalog())
            _assert_only_a_listed(st, json.dumps(st, ensure_ascii=False), key_a, key_b, outputs_a)
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    output = [m for m in iter(lines.get, None)]  # whatever it said before it died
    assert not any("done" in m for m in output)
    assert folder_b.is_dir() and any(p.is_file() for p in folder_b.rglob("*"))  # it did leave a half-written version
    if kill_at != "current.json":
        assert not (folder_b / "manifest.json").exists()
    # what the killed run left under visible names is complete (the same bytes as the clean run's):
    # writes are atomic, an interrupted one leaves at most a hidden temporary file
    ref_sha = {f["name"]: f["sha256"] for f in ref_manifest["files"]}
    for name, sha in _tree(folder_b).items():
        if not _hidden(name) and name != "manifest.json" and not name.startswith("report."):
            assert sha == ref_sha[name], name

    # -- after the kill: A is current, intact to the byte and readable; nothing else is listed --
    assert (store / "products/t02/current.json").read_bytes() == pointer_a
    assert _tree(store / "products/t02" / key_a) == tree_a
    assert current_manifest(storage, "t02") == manifest_a
    assert manifest_intact(storage, manifest_a, verify_hashes=True)
    grid_a = manifest_a["grid"]
    rasters = [o for o in manifest_a["outputs"] if o["kind"] == "raster"]
    assert len(rasters) >= 19
    for out in rasters:
        with rasterio.open(storage.local_path(out["path"])) as src:
            assert src.crs.to_epsg() == 4525 and (src.height, src.width) == (grid_a["height"], grid_a["width"])
            assert np.isfinite(src.read(1, masked=True).astype("float64").filled(np.nan)).any()
    text, doc = _status_json(url, tmp_path)
    _assert_only_a_listed(doc, text, key_a, key_b, outputs_a)

    # the half-written version is not taken for a finished one: its key is not the current one
    assert reusable(storage, "t02", key_b) is None
    assert reusable(storage, "t02", key_a) == manifest_a

    # -- the rerun of the same configuration: completes, becomes current, matches a clean run --
    steps: list[str] = []
    rerun = _run_t02(storage, CELL_B, steps)
    assert rerun["run_key"] == key_b
    if kill_at == "current.json":
        # killed after the version folder and its manifest were complete: every file matches its hash,
        # so the rerun makes that version current instead of computing it again (and never rewrites it)
        assert rerun["skipped"] is True and rerun.get("restored") is True
        assert any("made current again" in s for s in steps) and "report" not in steps
    else:
        assert rerun["skipped"] is False
        assert "report" in steps and not any("reused" in s for s in steps)
    pointer = json.loads((store / "products/t02/current.json").read_bytes())
    assert pointer["run_key"] == key_b and pointer["manifest"] == f"products/t02/{key_b}/manifest.json"
    manifest_b = current_manifest(storage, "t02")
    assert manifest_b["run_key"] == key_b and manifest_intact(storage, manifest_b, verify_hashes=True)
    files_b = {f["name"]: f for f in manifest_b["files"]}
    assert set(files_b) == {f["name"] for f in ref_manifest["files"]}
    for ref_file in ref_manifest["files"]:
        mine = files_b[ref_file["name"]]
        assert storage.sha256(mine["path"]) == mine["sha256"]
        if ref_file["name"].startswith("report."):  # reports carry the time they were generated
            assert _report_text(storage, manifest_b, mine["name"]) == _report_text(reference, ref_manifest, mine["name"])
        else:  # layers (COG), the table (CSV), maps and thumbnails (PNG): byte for byte
            assert mine["sha256"] == ref_file["sha256"], ref_file["name"]
    assert [o["id"] for o in manifest_b["outputs"]] == [o["id"] for o in ref_manifest["outputs"]]
    # every visible file in the version folder is the rerun's (only hidden temporary files of a
    # write the kill interrupted may remain, and nothing refers to them)
    visible = {n for n in _tree(folder_b) if not _hidden(n)}
    assert visible == set(files_b) | {"manifest.json"}
    # A is kept as it was; status now lists the rerun's version only
    assert _tree(store / "products/t02" / key_a) == tree_a
    t02 = next(t for t in plan_status(storage, load_catalog())["topics"] if t["code"] == "t02")
    assert t02["state"] == "done" and t02["run_key"] == key_b
    assert all(f"/products/t02/{key_b}/" in o["uri"] for o in t02["outputs"])
