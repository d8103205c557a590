"""Scale: T02 + T03's grid evaluation, tile by tile, over synthetic regions of 1×, 4× and 16× Erenhot's area.

Each region is a square of ``factor × 4,015 km²`` on the EPSG:4525 grid whose inputs (DEM, vegetation
cover, soil, land use, hazards, active faults, NPP, travel time, land-use masks) are written as
GeoTIFFs window by window from smooth synthetic fields, so no step ever holds a whole layer. The
evaluation is :func:`erenhot.evaluation.tiled_dual.evaluate_tiled` with the shipped T02/T03 configs
and a synthetic three-year daily series of one station. Each region is evaluated in its own process,
its inputs written beforehand by another, so the peak memory (peak RSS) is the evaluation's plus the
imports; the time is the evaluation's.

    .venv/bin/python bench/scale.py                      # 1, 4, 16 at 60 m, 512-cell tiles
    .venv/bin/python bench/scale.py --cell-size 30       # Erenhot's full resolution (16× ≈ 71 M cells)
    .venv/bin/python bench/scale.py --factor 4 --json-out f.json   # one region (what the parent calls)

Nothing here passes or fails on time: only the ratios within one run mean something.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for key, value in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
                   "MPLBACKEND": "Agg"}.items():
    os.environ.setdefault(key, value)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ERENHOT_KM2 = 4015.0  # 市域 area (seed; domain spec)
DEFAULT_CELL_M = 60.0
DEFAULT_TILE = 512
STATION = {"elevation_m": 966.0, "n_years": 3.0}  # 二连浩特 station 530680 elevation (m), three synthetic years
QUOTA_M3 = 2.6e7  # a 用水总量控制指标 of the order of the city's (04-07 delivers the real one)
DLBM = ("0101", "0103", "0301", "0305", "0401", "0403", "0404", "0602", "1001", "1101", "1106", "1202", "1206", "201", "202", "203")
GRASS = ("0401", "0403", "0404")


def peak_mb() -> float:
    """Peak resident set size of this process so far, MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_daily(years: int = 3):
    """A deterministic daily series shaped like a desert-steppe station: °C, mm, %, m/s at 10 m."""
    import numpy as np
    import pandas as pd

    days = pd.date_range("2019-01-01", periods=365 * years, freq="D")
    doy = days.day_of_year.to_numpy()
    rng = np.random.default_rng(530680)
    tmean = 4.5 + 19.0 * np.sin(2 * np.pi * (doy - 110) / 365.0) + rng.normal(0, 3, doy.size)
    wet = rng.random(doy.size) < (0.05 + 0.18 * np.exp(-((doy - 200) / 45.0) ** 2))
    precip = np.where(wet, rng.gamma(0.8, 6.0, doy.size), 0.0)
    return pd.DataFrame({"date": days, "tmean_c": tmean, "precip_mm": precip, "rh_pct": 45 + 15 * np.sin(2 * np.pi * (doy - 150) / 365.0),
                         "wind_ms": 2.5 + rng.gamma(2.0, 1.2, doy.size)})


def fields(x, y):
    """Synthetic inputs at cell centres ``x, y`` (EPSG:4525 m, 2-D arrays): name → array."""
    import numpy as np

    kx, ky = x / 1000.0, y / 1000.0
    dem = (1000 + 90 * np.sin(kx / 7.3) * np.cos(ky / 5.1) + 25 * np.sin(kx / 0.9 + ky / 1.3)
           + 8 * np.cos(kx * 3.1) * np.sin(ky * 2.7)).astype("float32")
    wave = np.sin(kx / 3.7) + np.cos(ky / 4.9)
    sand = (55 + 20 * np.sin(kx / 11.0 + 1.0)).astype("float32")
    silt = (25 + 10 * np.cos(ky / 9.0)).astype("float32")
    land_use = (1 + (np.floor((wave + 2) * 4) + np.floor(kx / 2.3) + np.floor(ky / 3.1)) % len(DLBM)).astype("uint8")
    code = np.asarray(DLBM)[land_use - 1]
    fault_a = np.abs(((kx + 0.6 * ky) % 37.0) - 18.5) < 0.05
    fault_b = np.abs(((0.8 * kx - ky) % 53.0) - 26.5) < 0.05
    centres = ((kx % 40.0) - 20.0) ** 2 + ((ky % 40.0) - 20.0) ** 2
    return {
        "inside": np.ones(x.shape, dtype="uint8"),
        "dem": dem,
        "fvc": np.clip(0.25 + 0.2 * np.sin(kx / 2.9) * np.cos(ky / 3.3), 0, 1).astype("float32"),
        "sand": sand, "silt": silt, "clay": (100 - sand - silt).clip(1, None).astype("float32"),
        "om": (0.8 + 0.5 * np.sin(kx / 6.0)).astype("float32"), "caco3": (3 + 2 * np.cos(ky / 7.0)).astype("float32"),
        "texture": (1 + (np.floor(kx / 4.0) + np.floor(ky / 5.0)) % 4).astype("uint8"),
        "land_use": land_use,
        "susceptibility": (1 + (np.floor(kx / 8.0) * 3 + np.floor(ky / 6.0)) % 5).astype("uint8"),
        "fault_全新世": fault_a.astype("uint8"), "fault_晚更新世": fault_b.astype("uint8"),
        "npp": (150 + 60 * np.sin(kx / 5.0) * np.sin(ky / 4.0)).astype("float32"),
        "severe": ((wave > 1.6) & (sand > 60)).astype("uint8"),
        "minutes": (np.sqrt(centres) * 1.4).astype("float32"),
        "grass": np.isin(code, GRASS).astype("uint8"),
        "urban_land": np.isin(code, ("201", "202")).astype("uint8"),
    }


def write_region(root: Path, factor: float, cell: float, tile: int):
    """The region's grid and its inputs as GeoTIFFs under ``root`` (written window by window)."""
    import numpy as np
    import rasterio
    from affine import Affine

    from erenhot.config import load_config
    from erenhot.grid import Grid
    from erenhot.tiling import plan_tiles

    side = math.sqrt(factor * ERENHOT_KM2) * 1000.0
    n = int(round(side / cell))
    grid = Grid(4525, Affine(cell, 0, 37_430_000.0, 0, -cell, 4_850_000.0), n, n)
    groups = load_config("t03_suitability").values["conflicts"]["dlbm_groups"]
    tiles = plan_tiles(grid.shape, tile)
    sources, handles = {}, {}
    try:
        for t in tiles:
            rows, cols = np.mgrid[t.row0:t.row1, t.col0:t.col1]
            x, y = grid.transform * (cols + 0.5, rows + 0.5)
            arrays = fields(np.asarray(x), np.asarray(y))
            code = np.asarray(DLBM)[arrays["land_use"] - 1]
            for g, codes in groups.items():
                arrays[f"dlbm_{g}"] = np.isin(code, codes).astype("uint8")
            for name, a in arrays.items():
                if name not in handles:
                    path = root / f"{name}.tif"
                    handles[name] = rasterio.open(path, "w", driver="GTiff", tiled=True, blockxsize=256, blockysize=256,
                                                  compress="deflate", bigtiff="if_safer", **grid.profile(a.dtype, None))
                    sources[name] = path.name
                handles[name].write(a, 1, window=t.inner_window)
    finally:
        for h in handles.values():
            h.close()
    (root / "region.json").write_text(json.dumps({"grid": grid.to_dict(), "sources": sources}))
    return grid, sources


def run_one(factor: float, cell: float, tile: int) -> dict:
    """One region: its inputs written by another process (so that this process's peak RSS is the
    evaluation's own, plus the imports), then T02 + T03 tile by tile here, measured."""
    from erenhot.config import load_config
    from erenhot.evaluation import carrying_capacity as cc
    from erenhot.evaluation import suitability as suit
    from erenhot.evaluation.tiled_dual import TiledPlan, evaluate_tiled
    from erenhot.grid import Grid
    from erenhot.storage import Storage

    with tempfile.TemporaryDirectory(prefix="erenhot-scale-") as tmp:
        root = Path(tmp)
        subprocess.run([sys.executable, __file__, "--write-region", str(root), "--factor", str(factor), "--cell-size", str(cell),
                        "--tile", str(tile)], check=True)
        region = json.loads((root / "region.json").read_text())
        grid, sources = Grid.from_dict(region["grid"]), region["sources"]
        cfg2 = load_config("t02_carrying_capacity", {"grid.cell_size_m": cell})
        textures = tuple(cfg2.values["ecology"]["desertification"]["texture_scores"])[:4]
        capacity = cc.CapacitySettings.build(cfg2, synthetic_daily(), STATION, area_km2=factor * ERENHOT_KM2, quota_m3=QUOTA_M3,
                                             dlbm_codes=DLBM, textures=textures, biodiversity=True, severe_monitoring=True)
        suitability = suit.SuitabilitySettings.build(load_config("t03_suitability"), grid.cell_area_km2)
        plan = TiledPlan(Storage(str(root)).url, grid, sources, capacity, suitability, tile_size=tile, work_prefix="tiles")
        before = peak_mb()
        start = time.perf_counter()
        result = evaluate_tiled(plan)
        seconds = time.perf_counter() - start
        written = sum(os.path.getsize(root / e["path"]) for e in result.layers.values())
    cells = grid.width * grid.height
    return {"area_factor": factor, "seconds": round(seconds, 2), "peak_mb": round(peak_mb(), 1), "cells": cells,
            "cell_size_m": cell, "tile_cells": tile, "tiles": result.tiles, "layers": len(result.layers),
            "layer_mb": round(written / 2**20, 1), "cells_per_second": round(cells / seconds),
            "before_evaluation_mb": round(before, 1)}


def run_scale(factors=(1, 4, 16), cell_size_m: float = DEFAULT_CELL_M, tile: int = DEFAULT_TILE, quick: bool = False) -> list[dict]:
    """Each factor in a fresh process (so that each peak RSS is that region's own); rows in factor order.

    ``quick`` uses 250 m cells and 128-cell tiles (a smoke run).
    """
    if quick:
        cell_size_m, tile = 250.0, 128
    rows = []
    for factor in factors:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([sys.executable, __file__, "--factor", str(factor), "--cell-size", str(cell_size_m), "--tile", str(tile),
                            "--json-out", out.name], check=True)
            rows.append(json.loads(Path(out.name).read_text()))
    return rows


def growth(rows: list[dict]) -> dict:
    """Time and peak memory of each region relative to the first (1×)."""
    first = rows[0]
    return {str(r["area_factor"]): {"seconds_ratio": round(r["seconds"] / first["seconds"], 2),
                                    "peak_mb_ratio": round(r["peak_mb"] / first["peak_mb"], 2),
                                    "area_ratio": r["area_factor"] / first["area_factor"]} for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, help="one region of this area factor in this process")
    parser.add_argument("--factors", default="1,4,16")
    parser.add_argument("--cell-size", type=float, default=DEFAULT_CELL_M, help=f"cell size, m (default {DEFAULT_CELL_M:g})")
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE, help=f"tile side, cells (default {DEFAULT_TILE})")
    parser.add_argument("--json-out")
    parser.add_argument("--write-region", help=argparse.SUPPRESS)  # child: write a region's inputs into this folder
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.write_region:
        write_region(Path(args.write_region), args.factor, args.cell_size, args.tile)
        return
    if args.factor is not None:
        row = run_one(args.factor, args.cell_size, args.tile)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(row))
        else:
            print(json.dumps(row))
        return
    rows = run_scale(tuple(float(f) for f in args.factors.split(",")), args.cell_size, args.tile, args.quick)
    for r in rows:
        print(f"{r['area_factor']:>5g}×  {r['cells']:>11,} cells  {r['tiles']:>4} tiles  {r['seconds']:8.1f} s  "
              f"peak {r['peak_mb']:7.1f} MB  ({r['cells_per_second']:,.0f} cells/s)")
    for factor, g in growth(rows).items():
        print(f"  {factor}× vs 1×: area ×{g['area_ratio']:g}, time ×{g['seconds_ratio']}, peak memory ×{g['peak_mb_ratio']}")


if __name__ == "__main__":
    main()
