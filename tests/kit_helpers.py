"""Helpers shared by the tests that need a small delivered kit."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

from erenhot.catalog import load_catalog
from erenhot.landing import ingest
from erenhot.samplekit import make_sample_kit
from erenhot.storage import Storage

SMALL = {"raster_cell_m": 100.0, "n_parcels": 200}


def small_kit(folder: Path, real_data: Path | None = None):
    return make_sample_kit(folder, real_data=real_data, **SMALL)


def ingest_kit(storage: Storage, kit, skip: tuple[str, ...] = ()) -> None:
    cat = load_catalog()
    for ds_id, entry in sorted(kit.datasets.items()):
        if ds_id not in skip:
            ingest(storage, cat, str(entry["department_seq"]), ds_id, kit.files(ds_id))


def bad_dltb_zip(kit_dir: Path, out: Path) -> Path:
    """The kit's DLTB with three faults departments really send: an unknown DLBM code, a
    self-intersecting (bow-tie) polygon, and a .prj that names Web Mercator instead of CGCS2000."""
    gdf = gpd.read_file(f"zip://{kit_dir / '01-46a.dltb' / 'DLTB.zip'}!DLTB.shp", encoding="gbk")
    gdf.loc[0, "DLBM"] = "9999"
    x0, y0, x1, y1 = gdf.geometry.iloc[1].bounds
    gdf.loc[1, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    gdf = gdf.set_crs(3857, allow_override=True)
    folder = out / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    gdf.to_file(folder / "DLTB.shp", encoding="GBK")
    target = out / "DLTB.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for p in sorted(folder.iterdir()):
            if p.suffix != ".cpg":
                zf.write(p, p.name)
    return target


def run_in_parallel(n: int, fn):
    """Call ``fn(i)`` for i in 0..n-1 in n threads released together by a barrier; return the results
    (in order). Any exception fails the calling test with the list of exceptions."""
    import threading

    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results
