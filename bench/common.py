"""What every benchmark section shares: the environment, peak memory, machine facts, timing helpers.

Importing this module sets the analytics switches and ``MPLBACKEND`` (before Prefect, GX or
matplotlib are imported) and puts the repository root on ``sys.path``, so ``erenhot``, ``tasks`` and
``flows`` import from the checkout. Heavy libraries are imported inside the functions: the parent
process of ``bench/run.py`` stays small, and its memory is not counted in a section's peak (on Linux
a child's ``ru_maxrss`` includes the pages of the process it was forked from).
"""

from __future__ import annotations

import math
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

ENV = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
       "MPLBACKEND": "Agg"}
for _key, _value in ENV.items():
    os.environ[_key] = _value
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Smallest wall time of ``repeat`` calls of ``fn`` (s) and the result of the last call."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of positive numbers (NaN when there are none)."""
    vals = [float(v) for v in values]
    if not vals:
        return math.nan
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def total_ram_mb() -> float | None:
    """``MemTotal`` of /proc/meminfo in MB, or None where there is no /proc."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    """CPU count and model, total RAM, OS, and the versions of Python and the libraries measured."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "total_ram_mb": round(total_ram_mb() or 0.0),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "pandas": _version("pandas"),
        "shapely": _version("shapely"),
        "prefect": _version("prefect"),
        "great_expectations": _version("great_expectations"),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def start_prefect(prefect_home: Path) -> None:
    """Point Prefect at a fresh ``PREFECT_HOME`` and start its temporary local server with a warm-up
    flow, so that the server start-up is outside every timed run. Call before Prefect is imported."""
    prefect_home.mkdir(parents=True, exist_ok=True)  # Prefect creates the folder, not its parents
    os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.pop("PREFECT_API_URL", None)  # never a long-lived server the caller may have configured
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    warm_up()
