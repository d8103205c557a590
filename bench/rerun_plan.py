"""Benchmark: the whole plan run twice on the same deliveries — the second run must recompute nothing.

Prints the wall time of both runs and their ratio (second / first), measured in this one process on
this machine, plus what the second run did per topic. Nothing here is a pass/fail timing test: the
machines are shared and noisy, so only the ratio within one run means something.

    .venv/bin/python bench/rerun_plan.py                 # sample kit, 250 m grid
    .venv/bin/python bench/rerun_plan.py --cell-size 30  # the full-resolution default

The first run lands a sample kit, validates every delivery and computes each implemented topic;
the second finds every run key unchanged and only checks the published products' hashes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for key, value in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
                   "MPLBACKEND": "Agg"}.items():
    os.environ.setdefault(key, value)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-size", type=float, default=250.0, help="analysis grid cell size, m (default 250)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="erenhot-bench-") as tmp:
        os.environ.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect"))
        from prefect import flow

        from erenhot.samplekit import make_sample_kit
        from flows.plan import plan

        @flow(name="bench-warm-up")
        def warm_up() -> None:  # starts the temporary Prefect server outside the timed runs
            return None

        warm_up()
        kit = Path(tmp) / "kit"
        make_sample_kit(kit, raster_cell_m=min(args.cell_size, 100.0))
        url = str(Path(tmp) / "store")
        overrides = {"t02": {"grid.cell_size_m": args.cell_size}}
        timings, summaries = [], []
        for _ in range(2):
            start = time.perf_counter()
            summaries.append(plan(kit_dir=str(kit), storage_url=url, config_overrides=overrides))
            timings.append(time.perf_counter() - start)
    first, second = timings
    print(f"plan run 1 (land, validate, compute): {first:8.1f} s")
    print(f"plan run 2 (nothing new):             {second:8.1f} s")
    print(f"ratio second / first:                 {second / first:8.3f}")
    for code, topic in summaries[1]["topics"].items():
        print(f"  {code}: {topic['state']} (run key {topic.get('run_key')})")
    recomputed = [c for c, t in summaries[1]["topics"].items() if t["state"] != "up to date"]
    if recomputed:
        print(f"UNEXPECTED: the second run recomputed {', '.join(recomputed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
