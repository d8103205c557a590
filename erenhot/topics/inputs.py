"""Access to a topic run's resolved inputs: standardised datasets and upstream layers.

A :class:`TopicInputs` is built from the readiness dict that the input check produced (dataset id →
validated delivery version and standard manifest; layer id → published output entry), so a topic
reads exactly the versions its run key was computed from.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from erenhot.storage import Storage


class InputError(LookupError):
    """A resolved input lacks the part the topic needs (names dataset, version and part)."""


@dataclass
class TopicInputs:
    storage: Storage
    readiness: dict[str, Any]

    def has(self, dataset_id: str) -> bool:
        return dataset_id in self.readiness.get("datasets", {})

    def has_layer(self, layer_id: str) -> bool:
        return layer_id in self.readiness.get("layers", {})

    def version(self, dataset_id: str) -> str:
        return self.readiness["datasets"][dataset_id]["version"]

    def _part(self, dataset_id: str, part: str | None) -> dict[str, Any]:
        entry = self.readiness.get("datasets", {}).get(dataset_id)
        if entry is None:
            raise InputError(f"dataset {dataset_id} is not among the resolved inputs")
        manifest = self.storage.read_json(entry["standard"])
        parts = manifest["parts"]
        if part is None:
            if len(parts) != 1:
                raise InputError(f"dataset {dataset_id} {entry['version']} has parts {sorted(parts)}; name one")
            return next(iter(parts.values()))
        if part not in parts:
            raise InputError(f"dataset {dataset_id} {entry['version']} has no part {part!r} (parts: {sorted(parts)})")
        return parts[part]

    def vector(self, dataset_id: str, part: str | None = None) -> gpd.GeoDataFrame:
        """A standardised vector part (GeoParquet, EPSG:4525)."""
        return gpd.read_parquet(io.BytesIO(self.storage.read_bytes(self._part(dataset_id, part)["path"])))

    def table(self, dataset_id: str, part: str | None = None) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self.storage.read_bytes(self._part(dataset_id, part)["path"])))

    def raster_bytes(self, dataset_id: str, part: str | None = None) -> bytes:
        """A standardised raster part (COG GeoTIFF bytes, EPSG:4525)."""
        return self.storage.read_bytes(self._part(dataset_id, part)["path"])

    def layer_bytes(self, layer_id: str) -> bytes:
        entry = self.readiness.get("layers", {}).get(layer_id)
        if entry is None:
            raise InputError(f"layer {layer_id} is not among the resolved inputs")
        return self.storage.read_bytes(entry["path"])

    def sources(self, catalog) -> list[dict[str, Any]]:
        """Rows for the report: every input with its department, version and content hash (the
        delivery hash of a dataset, the file sha256 of a layer — what the run key is made of)."""
        rows = []
        for ds_id, entry in sorted(self.readiness.get("datasets", {}).items()):
            ds = catalog.dataset(ds_id)
            rows.append({"id": ds_id, "name_zh": ds.name_zh, "department": catalog.department(ds.department_seq).short_zh,
                         "version": entry["version"], "sha256": str(entry.get("delivery_hash", ""))[:12],
                         "delivered_by": entry.get("delivered_by", ""), "state": "validated"})
        for layer_id, entry in sorted(self.readiness.get("layers", {}).items()):
            _, spec = catalog.layer(layer_id)
            rows.append({"id": layer_id, "name_zh": spec.name_zh, "department": layer_id.split(".")[0].upper(),
                         "version": entry["run_key"], "sha256": entry["sha256"][:12], "state": "published"})
        return rows
