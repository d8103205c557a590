"""``make bench``: how long the plan takes on this machine, and ratios that say where the time goes.

    .venv/bin/python bench/run.py                      # everything at the default sizes (~15 min on 2 CPUs, without scale)
    .venv/bin/python bench/run.py --quick              # a smoke run with small sizes (~6 min)
    .venv/bin/python bench/run.py --sections kernels,validation --kernel-cells 2048

Sections, each in its own subprocess (``bench/run.py --section NAME --json-out FILE``) so that its
peak memory (``ru_maxrss``) is its own:

* ``plan`` — the whole plan (``plan`` flow) on the sample kit on fresh storage at ``erenhot run``'s
  cell size: wall time, peak RSS, time per topic; then again with nothing new → ``rerun_ratio``
  (second ÷ first; the run fails if the second run recomputed anything);
* ``orchestration`` — the same work called directly through the library on fresh storage (see
  :mod:`bench.plan_bench`) → ``orchestration_ratio`` = the plan section's first run ÷ this
  (selecting it selects ``plan`` too);
* ``kernels`` — raster throughput of the evaluation kernels ÷ a numpy copy → ``kernel_bandwidth_ratio``;
* ``validation`` — the GX suites ÷ the same checks in pandas → ``validation_ratio``;
* ``scale`` — :func:`bench.scale.run_scale`: T02+T03 tiled over synthetic regions of 1×, 4×, 16× Erenhot's area.

Everything is measured in this one invocation; the parent prints a summary and writes
``bench/results.json`` (``--quick``: ``bench/results.quick.json``). No figure is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, machine_facts, now_iso, peak_rss_mb  # noqa: E402  (sets the environment)

SECTIONS = ("plan", "orchestration", "kernels", "validation", "scale")


# -- the child: one section -------------------------------------------------------------------------

def run_section(args: argparse.Namespace) -> dict[str, Any]:
    """Measure one section in this process; returns its JSON-able result (with this process's peak RSS)."""
    work = Path(args.work)
    name = args.section
    if name == "kit":
        from bench.plan_bench import make_kit
        result = make_kit(work / "kit", args.cell_size)
    elif name == "plan":
        from bench.plan_bench import run_plan_twice
        result = run_plan_twice(work / "kit", work / "plan", args.cell_size)
    elif name == "orchestration":
        from bench.plan_bench import plan_overrides, run_direct
        result = run_direct(work / "kit", str(work / "direct" / "store"), plan_overrides(args.cell_size))
    elif name == "kernels":
        from bench.kernels_bench import run_kernels
        result = run_kernels(args.kernel_cells, args.repeat)
    elif name == "validation":
        from bench.validation_bench import run_validation
        result = run_validation(tuple(args.table_rows), args.polygons, args.repeat)
    elif name == "scale":
        from bench.scale import run_scale
        kwargs: dict[str, Any] = {"quick": args.quick}
        if args.scale_cell_size:
            kwargs["cell_size_m"] = args.scale_cell_size
        result = {"rows": run_scale(**kwargs)}
    else:
        raise SystemExit(f"unknown section {name!r}")
    return {**result, "section_peak_mb": peak_rss_mb()}


# -- the parent: run the sections, print, write results.json ----------------------------------------

def child(section: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run one section in a fresh Python process; its output goes to ``<work>/<section>.log``.

    Raises:
        SystemExit: the section failed (the end of its log is printed).
    """
    out = work / f"{section}.json"
    log = work / f"{section}.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--section", section, "--json-out", str(out),
           "--work", str(work), "--kernel-cells", str(args.kernel_cells), "--repeat", str(args.repeat),
           "--polygons", str(args.polygons), "--table-rows", *map(str, args.table_rows)]
    if args.cell_size:
        cmd += ["--cell-size", str(args.cell_size)]
    if args.scale_cell_size:
        cmd += ["--scale-cell-size", str(args.scale_cell_size)]
    if args.quick:
        cmd.append("--quick")
    print(f"[{time.strftime('%H:%M:%S')}] {section} …", flush=True)
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        code = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO)
    if code != 0:
        tail = log.read_text("utf-8", errors="replace").splitlines()[-40:]
        print("\n".join(tail))
        raise SystemExit(f"section {section} failed (exit {code}); the end of its log is above")
    result = json.loads(out.read_text("utf-8"))
    print(f"           done in {time.perf_counter() - start:.0f} s, peak {result['section_peak_mb']:.0f} MB", flush=True)
    return result


def _mb(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f} MB"


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:,.1f} s"


def report_plan(plan: dict[str, Any], direct: dict[str, Any] | None) -> None:
    first, second = plan["first"], plan["second"]
    print(f"\n## plan — sample kit, {plan['cell_size_m']:g} m grid ({first['deliveries']} deliveries, "
          f"{first['validated']} validated, {len(first['topics'])} topics)")
    print(f"kit generated in {_s(plan['kit']['seconds'])} (not part of the plan runs)")
    print(f"run 1 (land, validate, compute): {_s(first['seconds'])}, peak RSS {_mb(first['peak_mb'])}")
    print(f"run 2 (nothing new):             {_s(second['seconds'])}")
    print(f"rerun_ratio = run 2 / run 1 = {plan['rerun_ratio']:.3f}")
    head = f"{'':22s}{'run 1':>10s}{'evaluate':>10s}{'run 2':>9s}"
    if direct:
        print(f"direct (library, no Prefect):    {_s(direct['seconds'])}")
        print(f"orchestration_ratio = run 1 / direct = {first['seconds'] / direct['seconds']:.3f}")
        head += f"{'direct':>9s}{'ratio':>7s}"
    print("\nper topic (s; run 1 and run 2: topic subflow run, evaluate: its evaluate-topic task; Prefect API times)")
    print(head)
    rows = [("deliveries (land+GX)", first["deliveries_seconds"], None, second["deliveries_seconds"],
             direct["deliveries_seconds"] if direct else None)]
    for code, t in first["topics"].items():
        rows.append((code, t["seconds"], t["evaluate_seconds"], second["topics"].get(code, {}).get("seconds"),
                     direct["topics"].get(code, {}).get("seconds") if direct else None))
    for name, a, ev, b, d in rows:
        line = f"{name:22s}{a:10.1f}{'' if ev is None else f'{ev:.1f}':>10s}{b:9.1f}"
        if direct:
            line += f"{d:9.1f}{a / d:7.2f}"
        print(line)


def report_kernels(k: dict[str, Any]) -> None:
    n = k["shape"][0]
    print(f"\n## kernels — {n}×{n} {k['dtype']} raster ({k['cells']:,} cells), best of {k['repeat']}")
    print(f"{'numpy copy (bandwidth bound)':62s}{k['copy']['cells_per_s'] / 1e6:12,.0f} Mcells/s")
    for name, r in k["kernels"].items():
        print(f"{name:62s}{r['cells_per_s'] / 1e6:12,.1f} Mcells/s  {r['ratio_to_copy']:.4f} of copy")
    print(f"kernel_bandwidth_ratio (geometric mean) = {k['kernel_bandwidth_ratio']:.4f}")


def report_validation(v: dict[str, Any]) -> None:
    print(f"\n## validation — GX suites vs the same checks in pandas, best of {v['repeat']}")
    for name, c in v["cases"].items():
        facts = f", fact frames {c['facts_seconds']:.2f} s (both)" if "facts_seconds" in c else ""
        print(f"{name:46s} {c['expectations']:3d} checks ({c['passed']} pass, {c['failed']} fail, same in both): "
              f"GX {c['gx_seconds']:.3f} s, pandas {c['direct_seconds']:.3f} s, ratio {c['ratio']:.1f}{facts}")
    print(f"validation_ratio (geometric mean) = {v['validation_ratio']:.1f}")


def report_scale(rows: list[dict[str, Any]]) -> None:
    cells = f", {rows[0]['cell_size_m']:g} m cells" if "cell_size_m" in rows[0] else ""
    print(f"\n## scale — bench/scale.py: time and peak memory as the area grows{cells}")
    base = next((r for r in rows if r["area_factor"] == 1), rows[0])
    for r in rows:
        print(f"area ×{r['area_factor']:<3g} {_s(r['seconds']):>10s}  peak {_mb(r['peak_mb']):>9s}  "
              f"time ×{r['seconds'] / base['seconds']:.2f}  memory ×{r['peak_mb'] / base['peak_mb']:.2f}")


def scale_growth(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Seconds and peak MB of each area factor relative to factor 1: ``{"4": {"seconds": …, "peak_mb": …}}``."""
    base = next(r for r in rows if r["area_factor"] == 1)
    return {f"{r['area_factor']:g}": {"seconds": r["seconds"] / base["seconds"], "peak_mb": r["peak_mb"] / base["peak_mb"]}
            for r in rows if r["area_factor"] != 1}


def main_parent(args: argparse.Namespace) -> None:
    wanted = [s.strip() for s in (args.sections or ",".join(SECTIONS)).split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if "orchestration" in wanted and "plan" not in wanted:
        wanted.insert(0, "plan")  # its ratio divides the plan section's first run
    results: dict[str, Any] = {"measured_at": now_iso(), "machine": machine_facts()}
    m = results["machine"]
    print(f"machine: {m['cpu_count']} CPU ({m['cpu_model']}), {m['total_ram_mb'] / 1024:.1f} GB RAM, Python {m['python']}, "
          f"numpy {m['numpy']}, Prefect {m['prefect']}, GX {m['great_expectations']}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="erenhot-bench-") as tmp:
        work = Path(tmp)
        out: dict[str, dict[str, Any]] = {}
        if "plan" in wanted:
            kit = child("kit", args, work)
        for section in SECTIONS:
            if section in wanted:
                out[section] = child(section, args, work)
    if "plan" in out:
        plan = {**out["plan"], "kit": kit}
        if "orchestration" in out:
            direct = plan["direct"] = out["orchestration"]
            first = plan["first"]
            same = ((direct["deliveries"], direct["validated"], sorted(direct["topics"]))
                    == (first["deliveries"], first["validated"], sorted(first["topics"])))
            if not same or any(t["skipped"] for t in direct["topics"].values()):
                raise SystemExit("the direct path did not do the plan's work: "
                                 f"{direct['deliveries']} deliveries, {direct['validated']} validated, topics {direct['topics']} "
                                 f"vs {first['deliveries']}, {first['validated']}, {sorted(first['topics'])}")
            results["orchestration_ratio"] = first["seconds"] / direct["seconds"]
        results["rerun_ratio"] = plan["rerun_ratio"]
        results["plan"] = plan
        report_plan(plan, plan.get("direct"))
    if "kernels" in out:
        results["kernel_bandwidth_ratio"] = out["kernels"]["kernel_bandwidth_ratio"]
        results["kernels"] = out["kernels"]
        report_kernels(out["kernels"])
    if "validation" in out:
        results["validation_ratio"] = out["validation"]["validation_ratio"]
        results["validation"] = out["validation"]
        report_validation(out["validation"])
    if "scale" in out:
        rows = out["scale"]["rows"]
        results["scale"] = [{k: r[k] for k in ("area_factor", "seconds", "peak_mb")} for r in rows]
        results["scale_growth"] = scale_growth(rows)
        results["scale_details"] = {"rows": rows, "section_peak_mb": out["scale"]["section_peak_mb"]}
        report_scale(rows)
    print("\n## summary")
    for key in ("orchestration_ratio", "rerun_ratio", "kernel_bandwidth_ratio", "validation_ratio"):
        print(f"{key:24s} {results[key]:10.4g}" if key in results else f"{key:24s} {'not measured':>10s}")
    if "plan" in results:
        print(f"{'plan run 1':24s} {results['plan']['first']['seconds']:10.1f} s, peak {_mb(results['plan']['first']['peak_mb'])}")
    print(f"whole bench: {time.perf_counter() - start:.0f} s")
    target = Path(args.results or (REPO / "bench" / ("results.quick.json" if args.quick else "results.json")))
    target.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--sections", help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--cell-size", type=float, help="analysis cell size of the plan, m (default: erenhot run's, 30; --quick: 250)")
    parser.add_argument("--kernel-cells", type=int, help="side of the kernels' square raster (default 4096; --quick 1024)")
    parser.add_argument("--repeat", type=int, help="repetitions of each kernel and validation timing, best kept (default 3; --quick 1)")
    parser.add_argument("--table-rows", type=int, nargs="+", help="rows of the validated tables (default 100000 1000000)")
    parser.add_argument("--polygons", type=int, help="parcels of the validated vector layer (default 100000)")
    parser.add_argument("--scale-cell-size", type=float, help="cell size passed to bench.scale.run_scale (default: its own)")
    parser.add_argument("--results", help="where the parent writes the JSON (default bench/results.json)")
    parser.add_argument("--section", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    args.cell_size = args.cell_size or (250.0 if quick else None)  # None: erenhot run's default, no override
    args.kernel_cells = args.kernel_cells or (1024 if quick else 4096)
    args.repeat = args.repeat or (1 if quick else 3)
    args.table_rows = args.table_rows or ([10_000, 100_000] if quick else [100_000, 1_000_000])
    args.polygons = args.polygons or (10_000 if quick else 100_000)
    if args.section:
        result = run_section(args)
        Path(args.json_out).write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    else:
        main_parent(args)


if __name__ == "__main__":
    main()
