"""What every topic composer shares: run keys, reuse of an unchanged run, publishing layers.

A composer reads its resolved inputs, computes with ``erenhot.evaluation`` and hands arrays to a
:class:`LayerWriter`, which writes COG GeoTIFFs, maps, thumbnails and tables into one
:class:`~erenhot.products.Publication`; the report is written last, then ``current.json``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from erenhot import maps
from erenhot.catalog import Catalog, Topic
from erenhot.config import TopicConfig
from erenhot.grid import Grid, write_cog
from erenhot.lineage import run_lineage_lines
from erenhot.products import Publication, current_manifest, intact_version, make_current, manifest_intact, run_key
from erenhot.readiness import input_content
from erenhot.reports import ReportInput, Section, code_block, render_report
from erenhot.storage import Storage

Progress = Callable[[float, str], None]


def no_progress(fraction: float, step: str) -> None:  # noqa: ARG001 - signature of Progress
    """Progress callback that does nothing (library use without Prefect)."""


def reusable(storage: Storage, topic_code: str, key: str) -> dict[str, Any] | None:
    """The current manifest when it was made with ``key`` and every output still matches its hash."""
    manifest = current_manifest(storage, topic_code)
    if manifest and manifest.get("run_key") == key and manifest_intact(storage, manifest, verify_hashes=True):
        return manifest
    return None


def result_from_manifest(manifest: dict[str, Any], *, skipped: bool) -> dict[str, Any]:
    """The JSON-safe result a topic returns to its flow (no arrays, only URIs and small tables)."""
    return {"topic": manifest["topic"], "run_key": manifest["run_key"], "skipped": skipped,
            "outputs": manifest["outputs"], "summary_tables": manifest.get("summary_tables", {}),
            "figures": manifest.get("figures", {}), "thumbnails": manifest.get("thumbnails", []),
            "report": manifest.get("report"), "notes": manifest.get("notes", [])}


@dataclass
class LayerWriter:
    """Writes a topic's layers, tables and maps into a publication.

    Args:
        pub: the publication of this run.
        topic: the catalog topic (output names come from its ``outputs``).
        grid: the analysis grid (EPSG:4525).
        boundary: the city boundary, drawn on every map.
    """

    pub: Publication
    topic: Topic
    grid: Grid
    boundary: gpd.GeoDataFrame | None
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, relative path) for the report
    thumbnails: list[dict[str, str]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def _title(self, output_id: str) -> str:
        return self.topic.output(output_id).name_zh

    def raster(self, output_id: str, array: np.ndarray, *, nodata: float | int, tags: dict[str, str] | None = None) -> None:
        name = output_id.split(".", 1)[1]
        data = write_cog(array, self.grid, nodata=nodata, tags={"LAYER": output_id, **(tags or {})})
        self.pub.put(f"layers/{name}.tif", data, output_id=output_id, kind="raster", title=self._title(output_id))

    def class_map(self, output_id: str, classes: np.ndarray, labels: Mapping[int, str], colours: Mapping[int, str],
                  *, thumbnail: bool = False, subtitle: str | None = None) -> None:
        title = f"二连浩特市{self._title(output_id)}"
        legend = [(int(k), str(v), colours.get(int(k), "#999999")) for k, v in sorted(labels.items(), key=lambda kv: int(kv[0]))]
        png = maps.render_class_map(classes, self.grid, legend, title, boundary=self.boundary, subtitle=subtitle,
                                    cell_area_km2=self.grid.cell_area_km2)
        self.map_png(output_id, title, png, thumbnail)

    def value_map(self, output_id: str, values: np.ndarray, unit: str, *, cmap: str = "viridis",
                  thumbnail: bool = False, subtitle: str | None = None) -> None:
        title = f"二连浩特市{self._title(output_id)}"
        png = maps.render_value_map(values, self.grid, title, unit, cmap=cmap, boundary=self.boundary, subtitle=subtitle)
        self.map_png(output_id, title, png, thumbnail)

    def map_png(self, output_id: str, title: str, png: bytes, thumbnail: bool = False) -> None:
        """Publish a map drawn elsewhere (``maps/<name>.png``, shown in the report as ``title``; with a thumbnail)."""
        name = output_id.split(".", 1)[1]
        self.pub.put(f"maps/{name}.png", png, kind="map")
        self.figures.append((title, f"maps/{name}.png"))
        if thumbnail:
            entry = self.pub.put(f"maps/thumb_{name}.png", maps.thumbnail(png), kind="thumbnail")
            self.thumbnails.append({"title": title, "path": entry["path"]})

    def table(self, output_id: str | None, name: str, frame: pd.DataFrame, title: str) -> None:
        data = frame.to_csv(index=False).encode("utf-8-sig")  # BOM: opens in Excel with Chinese intact
        self.pub.put(f"tables/{name}.csv", data, output_id=output_id, kind="table",
                     title=title if output_id is None else self._title(output_id))
        self.tables[title] = frame

    def vector(self, output_id: str, gdf: gpd.GeoDataFrame) -> None:
        buf = io.BytesIO()
        gdf.to_parquet(buf, index=False)
        name = output_id.split(".", 1)[1]
        self.pub.put(f"layers/{name}.parquet", buf.getvalue(), output_id=output_id, kind="vector", title=self._title(output_id))


LINEAGE_HEADING = "数据溯源 Lineage"


def lineage_section(storage: Storage, catalog: Catalog, topic: Topic, key: str,
                    inputs_rows: list[dict[str, Any]]) -> Section:
    """The report's 数据溯源 Lineage section: :func:`erenhot.lineage.run_lineage_lines` as a code block.

    Every dataset delivery (with its version) and upstream layer (with the run key that produced it)
    this run computed from, recursively down to the deliveries of the upstream runs.
    """
    lines = run_lineage_lines(storage, catalog, topic.code, key, inputs_rows)
    intro = ("本次运行所依据的全部资料交付版本与上游图层版本（逐级展开，同 `erenhot lineage LAYER`）。 "
             "Every dataset delivery and upstream layer version the products of this run were computed from, "
             "recursively (as `erenhot lineage LAYER` prints).")
    return Section(LINEAGE_HEADING, [intro, code_block(lines)])


def finish(storage: Storage, catalog: Catalog, topic: Topic, writer: LayerWriter, cfg: TopicConfig,
           inputs_rows: list[dict[str, Any]], sections: list[Section], figures: dict[str, Any],
           notes: list[str], summary_tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Write the report (Markdown + HTML, ending with the 数据溯源 Lineage section of
    :func:`lineage_section`), commit the publication, return the flow result."""
    synthetic = [r["id"] for r in inputs_rows if "synthetic" in str(r.get("delivered_by", ""))]
    if synthetic:
        notes = [f"本次评价使用了样例（合成）数据 — wholly or partly synthetic inputs from the sample kit: "
                 f"{', '.join(synthetic)}. Where they matter, the figures illustrate the method, not Erenhot."] + list(notes)
        sections = [Section("注意 Synthetic inputs", [notes[0]])] + list(sections)
    sections = list(sections) + [lineage_section(storage, catalog, topic, writer.pub.key, inputs_rows)]
    report = ReportInput(
        title_zh=topic.name_zh, title_en=topic.name_en, topic_code=topic.code, run_key=writer.pub.key,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"), inputs=inputs_rows,
        config_entries=cfg.entries(), sections=sections)
    md, html = render_report(report)
    md_entry = writer.pub.put("report.md", md.encode("utf-8"), output_id=f"{topic.code}.report", kind="report",
                              title=topic.output(f"{topic.code}.report").name_zh)
    html_entry = writer.pub.put("report.html", html.encode("utf-8"), kind="report")
    manifest = writer.pub.commit({
        "topic_seq": topic.seq, "config_digest": cfg.digest, "inputs": inputs_rows, "figures": figures,
        "notes": notes, "thumbnails": writer.thumbnails, "grid": writer.grid.to_dict(),
        "report": {"md": md_entry["uri"], "html": html_entry["uri"]}, "summary_tables": summary_tables,
    })
    return result_from_manifest(manifest, skipped=False)


def new_publication(storage: Storage, topic: Topic, readiness: Mapping[str, Any], cfg: TopicConfig) -> Publication:
    return Publication(storage, topic.code, run_key(topic.code, input_content(dict(readiness)), cfg.digest))


def records(frame: pd.DataFrame, limit: int = 60) -> list[dict[str, Any]]:
    """A small JSON-safe copy of a table for artifacts."""
    out = frame.head(limit).copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].round(3)
    return [{str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in out.to_dict("records")]


WHOLE_CITY = "全市 whole city"


def int_keys(d: Mapping[Any, Any]) -> dict[int, Any]:
    """Config label tables have string or int keys; grades are ints."""
    return {int(k): v for k, v in d.items()}


@dataclass
class Begun:
    """The start of a topic run: its catalog entry, configuration, publication and, when the run
    key is unchanged and the products intact, the reusable result."""

    topic: Topic
    cfg: TopicConfig
    pub: Publication
    reused: dict[str, Any] | None


def begin(storage: Storage, catalog: Catalog, code: str, config_name: str, readiness: Mapping[str, Any],
          overrides: Mapping[str, Any] | None, progress: Progress) -> Begun:
    """Load the configuration, compute the run key, and look for an unchanged published run."""
    from erenhot.config import load_config

    topic = catalog.topic(code)
    cfg = load_config(config_name, overrides)
    pub = new_publication(storage, topic, readiness, cfg)
    manifest = reusable(storage, code, pub.key)
    if manifest is not None:
        progress(1.0, "inputs, configuration and code unchanged: products reused")
        return Begun(topic, cfg, pub, result_from_manifest(manifest, skipped=True))
    manifest = intact_version(storage, code, pub.key)
    if manifest is not None:  # inputs back to content seen before: that version becomes current again
        make_current(storage, manifest)
        progress(1.0, f"inputs as for version {pub.key} published {manifest['published_at']}: made current again")
        return Begun(topic, cfg, pub, {**result_from_manifest(manifest, skipped=True), "restored": True})
    return Begun(topic, cfg, pub, None)


def township_rows(points: Iterable[Any], townships: gpd.GeoDataFrame) -> list[int]:
    """For each point (shapely geometry; a polygon counts by its point on surface), the position of the
    township polygon that covers it, else of the nearest one (a point just outside the city, within the
    1 km delivery tolerance, or on a boundary gap). Same CRS for both; -1 when there is no township."""
    geoms = list(townships.geometry)
    tree = shapely.STRtree(geoms) if geoms else None
    out = []
    for p in points:
        p = p if p.geom_type == "Point" else shapely.point_on_surface(p)
        if tree is None:
            out.append(-1)
            continue
        hit = [int(i) for i in tree.query(p, predicate="covered_by")]
        out.append(min(hit) if hit else int(tree.nearest(p)))
    return out


def township_zones(townships: gpd.GeoDataFrame, grid: Grid, inside: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Township index raster (1…n in XZQDM order, 0 outside) and ``{index: "XZQDM XZQMC"}``."""
    from erenhot.grid import rasterize

    ordered = townships.sort_values("XZQDM").reset_index(drop=True)
    zones = rasterize(ordered.assign(zone=np.arange(1, len(ordered) + 1)), grid, value="zone", dtype="uint8")
    return np.where(inside, zones, 0), {i + 1: f"{r.XZQDM} {r.XZQMC}" for i, r in ordered.iterrows()}


def area_table(topic: Topic, grid: Grid, zones: np.ndarray, zone_names: Mapping[int, str],
               layers: list[tuple[str, np.ndarray, Mapping[int, str]]]) -> pd.DataFrame:
    """Area (km²) per class of each class layer, for the whole city and per township.

    Columns ``layer, layer_zh, zone, class, label, cells, area_km2, share``.
    """
    from erenhot.evaluation.area import area_by_class

    frames = []
    for layer_id, arr, labels in layers:
        whole = area_by_class(arr, grid.cell_area_km2, None, labels).assign(zone=WHOLE_CITY)
        per = area_by_class(arr, grid.cell_area_km2, zones, labels)
        per["zone"] = per["zone"].map(zone_names)
        frames.append(pd.concat([whole, per], ignore_index=True).assign(layer=layer_id, layer_zh=topic.output(layer_id).name_zh))
    return pd.concat(frames, ignore_index=True)[["layer", "layer_zh", "zone", "class", "label", "cells", "area_km2", "share"]]


def whole_city(table: pd.DataFrame, layer_id: str, class_header: str) -> pd.DataFrame:
    """The whole-city rows of one layer of :func:`area_table`, for a report table."""
    rows = table[(table["zone"] == WHOLE_CITY) & (table["layer"] == layer_id)]
    return rows[["label", "area_km2", "share"]].assign(share=lambda d: d["share"] * 100.0).rename(
        columns={"label": class_header, "area_km2": "面积 km²", "share": "占比 %"}).reset_index(drop=True)


def by_township(table: pd.DataFrame, layer_ids: list[str]) -> pd.DataFrame:
    return table[(table["zone"] != WHOLE_CITY) & table["layer"].isin(layer_ids)].reset_index(drop=True)
