"""End to end on a real Prefect server: a changed delivery re-runs exactly the dependent topics.

The session's ``prefect server start`` (tests/prefect_server.py) runs the trigger services; the
deployments are served by ``erenhot serve`` in its own process, as a data engineer would start it.
A changed delivery lands through ``erenhot ingest``; its ``erenhot.dataset.delivered`` event starts
the watcher deployment, which validates it and emits ``erenhot.dataset.validated``; the topic
deployments fire on that and on upstream ``erenhot.layer.published`` events. What ran is read back
from the Prefect API, and the expected set is derived from the catalog's topic graph.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from erenhot.catalog import load_catalog
from erenhot.landing import latest_delivery
from erenhot.products import current_manifest
from erenhot.storage import Storage
from flows.plan import TOPIC_FLOWS
from kit_helpers import small_kit

REPO = Path(__file__).resolve().parents[1]
FAST = {"t02": {"grid.cell_size_m": 1000}}
DEBOUNCE = 3
pytestmark = pytest.mark.flow


def _expected_topics(dataset_id: str) -> set[str]:
    """Implemented topics that consume the dataset, and every implemented topic downstream of them."""
    cat = load_catalog()
    hit = set(cat.consumers_of_dataset(dataset_id))
    for seq in list(hit):
        hit |= set(cat.downstream_topics(seq, transitive=True))
    return {cat.topic(s).slug for s in hit if s in TOPIC_FLOWS}


def _current_layer_sha(storage: Storage, layer_id: str) -> str:
    manifest = current_manifest(storage, layer_id.split(".")[0])
    return next(o["sha256"] for o in manifest["outputs"] if o["id"] == layer_id)


def _runs_since(since: datetime) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterExpectedStartTime

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            expected_start_time=FlowRunFilterExpectedStartTime(after_=since)))
        deployments = {d.id: d.name for d in client.read_deployments()}
    # the served deployments' own schedules (the nightly plan, the five-minute drop-zone scan) fill the
    # calendar with future runs; one the scheduler created counts only once it has left Scheduled
    return [(deployments.get(r.deployment_id), r) for r in runs
            if r.deployment_id and not (r.auto_scheduled and r.state and r.state.is_scheduled())]


def _wait_for_quiet(since: datetime, wanted: set[str], timeout: float = 420.0) -> list:
    """Wait until every wanted deployment has a finished run after ``since`` and nothing is pending,
    then a little longer (two debounce windows) for triggers that would still fire."""
    deadline = time.monotonic() + timeout
    settled_at = None
    while time.monotonic() < deadline:
        runs = _runs_since(since)
        names = {n for n, _ in runs}
        busy = [r for _, r in runs if not r.state or not r.state.is_final()]
        if wanted <= names and not busy:
            settled_at = settled_at or time.monotonic()
            if time.monotonic() - settled_at > 2 * DEBOUNCE + 8:
                return runs
        else:
            settled_at = None
        time.sleep(1.0)
    raise AssertionError(f"runs did not settle: {[(n, r.name, r.state_name) for n, r in _runs_since(since)]}")


def _artifacts(flow_run_id) -> dict[str, str]:
    """Artifact key → data of one flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: str(a.data) for a in arts if a.key}


def _recomputed(run, code: str) -> bool:
    """Whether a completed topic run computed a new version (its summary does not say skipped)."""
    return "skipped" not in _artifacts(run.id).get(f"summary-{code}", "skipped")


def _cli(args, env, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def served(prefect_server, tmp_path_factory):
    """A storage with the plan run once, and ``erenhot serve`` running against the session's server."""
    from flows.plan import plan

    root = tmp_path_factory.mktemp("triggers")
    small_kit(root / "kit")
    url = str(root / "store")
    plan(kit_dir=str(root / "kit"), storage_url=url, config_overrides=FAST)
    env = prefect_server.client_env(ERENHOT_STORAGE_URL=url, ERENHOT_CONFIG_OVERRIDES=json.dumps(FAST),
                                    PREFECT_HOME=str(root / "prefect-client"), PYTHONPATH=str(REPO))
    log = open(root / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--debounce", str(DEBOUNCE), "--limit", "2"],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_deployments(proc, root / "serve.log")
        yield root, url, env
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _wait_for_deployments(proc, log_path: Path, timeout: float = 120.0) -> None:
    from prefect.client.orchestration import get_client

    from flows.deployments import render_prefect_yaml

    wanted = {d["name"] for d in render_prefect_yaml(load_catalog())["deployments"]}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text("utf-8", "replace")[-4000:]
        with get_client(sync_client=True) as client:
            names = {d.name for d in client.read_deployments()}
            automations = client.read_automations()
        if wanted <= names and len(automations) >= sum(len(d.get("triggers", []))
                                                       for d in render_prefect_yaml(load_catalog())["deployments"]):
            time.sleep(2.0)  # the runner polls for its scheduled runs
            return
        time.sleep(1.0)
    raise AssertionError("deployments were not served: " + log_path.read_text("utf-8", "replace")[-4000:])


def _changed_delivery(kit: Path, dataset_id: str, out: Path) -> Path:
    """The kit's file of ``dataset_id`` with one plausible edit (new bytes, still valid)."""
    out.mkdir(parents=True, exist_ok=True)
    if dataset_id == "21-01":  # the taxiway's last vertex moved ~30 m
        doc = json.loads((kit / "21-01" / "aeroways.geojson").read_text("utf-8"))
        doc["features"][-1]["geometry"]["coordinates"][-1][0] += 0.0004
        target = out / "aeroways.geojson"
        target.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    elif dataset_id == "01-03":  # the DEM re-surveyed: a 150 m hill in the middle changes slope and relief
        import numpy as np
        import rasterio

        with rasterio.open(kit / "01-03" / "dem.tif") as src:
            profile, dem = src.profile, src.read(1)
        rows, cols = np.mgrid[0:dem.shape[0], 0:dem.shape[1]]
        r0, c0, sigma = dem.shape[0] / 2, dem.shape[1] / 2, min(dem.shape) / 10
        hill = 150.0 * np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / (2 * sigma ** 2))
        target = out / "dem.tif"
        with rasterio.open(target, "w", **profile) as dst:
            dst.write((dem + hill).astype(dem.dtype), 1)
    else:  # pragma: no cover - only the two datasets above are used
        raise ValueError(dataset_id)
    return target


@pytest.mark.parametrize("dataset_id,department", [("21-01", "21"), ("01-03", "1")])
def test_a_changed_delivery_reruns_exactly_the_dependent_topics(served, dataset_id, department):
    """21-01 (airport) is read by T14 alone (the taxiway edit leaves the runway-centroid hub, so T14's
    minutes — T03's 区位 — keep their bytes and T03 need not recompute); 01-03 (DEM) by T02 alone, whose
    new slope and relief layers reach T03 (and T14's grid) through erenhot.layer.published — one T03 run
    for the burst of layer events."""
    from flows.deployments import trigger_datasets

    root, url, env = served
    storage = Storage(url)
    cat = load_catalog()
    implemented = {cat.topic(s).slug for s in TOPIC_FLOWS}
    direct = {cat.topic(s).slug for s in TOPIC_FLOWS if dataset_id in trigger_datasets(cat, s)}
    downstream = _expected_topics(dataset_id) - direct
    assert direct
    before = {t: (current_manifest(storage, cat.topic(t).code) or {}).get("run_key") for t in implemented}
    before_layers = {o["id"]: o["sha256"] for t in implemented for o in current_manifest(storage, cat.topic(t).code)["outputs"]}

    since = datetime.now(UTC)
    changed = _changed_delivery(root / "kit", dataset_id, root / f"changed-{dataset_id}")
    landed = _cli(["ingest", department, dataset_id, str(changed), "--by", "trigger test"], env, root)
    assert landed.returncode == 0 and "event emitted" in landed.stdout, landed.stdout + landed.stderr

    runs = _wait_for_quiet(since, direct | {"erenhot-watch-landing"})
    by_name: dict[str, list] = {}
    deferred: dict[str, list] = {}
    for name, run in runs:  # a run that waited for an out-of-date upstream topic completes as Deferred
        (deferred if run.state_name == "Deferred" else by_name).setdefault(name, []).append(run)

    def code_of(name):
        return next(t.code for t in cat.topics if t.slug == name)

    computed = {n: [r for r in rs if _recomputed(r, code_of(n))] for n, rs in by_name.items() if n in implemented}
    ran = {n for n, rs in computed.items() if rs}  # the topics that computed a new version
    # a downstream topic must compute exactly when a layer it reads changed content
    layer_changed = {}
    for name in downstream:
        topic = next(t for t in cat.topics if t.slug == name)
        layer_changed[name] = any(before_layers[i.layer] != _current_layer_sha(storage, i.layer)
                                  for i in topic.inputs if i.layer)
    assert ran == direct | {n for n, hit in layer_changed.items() if hit}, \
        {n: [r.name for r in rs] for n, rs in by_name.items()}
    if dataset_id == "01-03":
        assert layer_changed.get("t03_suitability"), "the DEM change must reach T03 through T02's layers"
    assert set(deferred) <= set(by_name)  # every deferred topic was resumed and ran afterwards
    for name, runs_ in by_name.items():
        if name not in implemented:
            continue
        code = code_of(name)
        assert all(r.state.is_completed() for r in runs_), (name, [r.state for r in runs_])
        assert all(r.name.startswith(f"T{int(code[1:]):02d} ") for r in runs_)
        # debounce: at most one run computes; any other is a quick skip (a second upstream's layers
        # arriving after the window, already read by the first) — never two computations
        assert len(computed[name]) <= 1, f"{name}: {len(computed[name])} of {len(runs_)} runs recomputed"
    for name in ran:
        code = code_of(name)
        assert {f"readiness-{code}", f"layers-{code}", f"summary-{code}"} <= set(_artifacts(computed[name][0].id))
        assert current_manifest(storage, code)["run_key"] != before[name]  # a new version was published
    # no mixed state at the end: every implemented topic's current version read the content of its
    # upstreams' current layers (an older run key is fine when that run produced identical bytes)
    for name in implemented:
        code = next(t.code for t in cat.topics if t.slug == name)
        for row in current_manifest(storage, code)["inputs"]:
            if row.get("state") == "published":
                assert row["sha256"] == _current_layer_sha(storage, row["id"])[:len(row["sha256"])], (code, row["id"])
    # the topic that read the delivery names the version just landed
    new_version = latest_delivery(storage, dataset_id).version
    for name in direct:
        rows = {r["id"]: r for r in current_manifest(storage, next(t.code for t in cat.topics if t.slug == name))["inputs"]}
        assert rows[dataset_id]["version"] == new_version
    for name in implemented - ran:  # untouched topics kept their version
        assert current_manifest(storage, cat.topic(name).code)["run_key"] == before[name]
