"""Area tables of class rasters by zone (spec §1.9: "area by grade × admin unit", the [S5]
``等级, 面积`` tables), exact by cell counting on the EPSG:4525 grid (equal-area cells)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["area_by_class"]


def area_by_class(
    class_raster: ArrayLike,
    cell_area_km2: float,
    zones: ArrayLike | None,
    labels: Mapping[int, str],
) -> pd.DataFrame:
    """Cells and area per class, per zone.

    Args:
        class_raster: integer ``(rows, cols)``, 0 = no data / outside (not counted).
        cell_area_km2: area of one cell, km² (0.0009 for 30 m).
        zones: integer ``(rows, cols)`` zone ids (e.g. township index; 0 = outside), or None for
            one zone with id 0 = the whole evaluation area.
        labels: class → label (e.g. ``{1: "极重要", 2: "重要", 3: "一般"}``); every labelled class
            gets a row even with 0 cells, unlabelled classes present in the raster get label "".

    Returns:
        DataFrame with columns ``zone, class, label, cells, area_km2, share`` sorted by zone and
        class; ``share`` = the class's fraction of the zone's classified cells (0 if none).
    """
    cls = np.asarray(class_raster).astype(np.int64)
    z = np.zeros(cls.shape, dtype=np.int64) if zones is None else np.asarray(zones).astype(np.int64)
    if z.shape != cls.shape:
        raise ValueError(f"zones {z.shape} and class_raster {cls.shape} differ in shape")
    counted = cls > 0 if zones is None else (cls > 0) & (z > 0)
    zone_ids = [0] if zones is None else sorted(int(v) for v in np.unique(z[z > 0]))
    n_cls = max([int(cls.max(initial=0)), *(int(k) for k in labels)]) + 1
    counts = np.bincount(z[counted] * n_cls + cls[counted], minlength=(max(zone_ids, default=0) + 1) * n_cls)
    present = set(int(v) for v in np.unique(cls[counted]))
    classes = sorted(present | {int(k) for k in labels})
    rows = []
    for zone in zone_ids:
        zone_counts = {c: int(counts[zone * n_cls + c]) for c in classes}
        total = sum(zone_counts.values())
        for c in classes:
            rows.append(
                {
                    "zone": zone,
                    "class": c,
                    "label": labels.get(c, ""),
                    "cells": zone_counts[c],
                    "area_km2": zone_counts[c] * cell_area_km2,
                    "share": zone_counts[c] / total if total else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=["zone", "class", "label", "cells", "area_km2", "share"])
