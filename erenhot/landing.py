"""The landing zone: immutable, checksummed department deliveries.

A delivery is the set of files a department sends for one catalog dataset at one time. It is stored
under ``landing/<dataset_id>/<version>/files/<name>`` with ``manifest.json`` beside it (who, when,
files, sizes, sha256, delivery hash) and is never overwritten or deleted. ``<version>`` is
``<UTC yyyymmddTHHMMSSffffffZ>-<first 12 hex of the delivery hash>``; the delivery hash is the sha256 of
the sorted ``name:sha256`` lines of its files, so re-sending the bytes of the newest delivery
returns it instead of creating a new version (re-sending an older one makes it the newest again).

Concurrency: deliveries to one dataset may arrive in parallel (threads, processes, machines, the
drop-zone watcher). They never overwrite each other: every version has its own folder, every object
is written create-only (:meth:`Storage.write_once`) and the manifest comes last, create-only too.
Identical bytes sent at the same time end as ONE version: the sender first claims
``landing/<id>/_claims/<predecessor version>/<delivery hash>.json`` create-only (the predecessor is
the newest version it saw, ``_first`` when there is none); a sender that loses the claim completes
the winner's version with its identical bytes (idempotent) and returns it with ``created=False``.
Keying the claim on the predecessor keeps the rule that re-sending an *older* delivery makes it the
newest again, and lets a later sender finish a version whose first sender died half-way.

Validation results live beside, not inside, the delivery: ``validation/<id>/<version>.json``;
failed deliveries also get a ``quarantine/<id>/<version>.json`` marker. The bytes stay where they
landed.
"""

from __future__ import annotations

import getpass
import hashlib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from erenhot.catalog import Catalog, Dataset, Department
from erenhot.storage import Storage, json_bytes, sha256_bytes

IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
CLAIMS = "_claims"
FIRST = "_first"
VERSION_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"

#: what ``ingest`` accepts per item: a local file or folder, or a ``(name, bytes)`` pair
FileSource = Path | str | tuple[str, bytes]


class DeliveryError(ValueError):
    """A delivery was refused before it landed (unknown dataset, wrong department, no files)."""


@dataclass(frozen=True)
class DeliveredFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Delivery:
    """One landed delivery (the content of its ``manifest.json``)."""

    dataset_id: str
    department_seq: int
    version: str
    delivery_hash: str
    delivered_at: str
    delivered_by: str
    files: tuple[DeliveredFile, ...]
    source: str = ""  # where the bytes came from when not sent with `erenhot ingest` (a drop folder)
    crs_override: str = ""  # coordinate system named by the sender for layers without (or with a wrong) .prj

    @property
    def prefix(self) -> str:
        return f"landing/{self.dataset_id}/{self.version}"

    def file_path(self, name: str) -> str:
        """Storage path of one delivered file."""
        return f"{self.prefix}/files/{name}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = [asdict(f) for f in self.files]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Delivery:
        return cls(
            dataset_id=d["dataset_id"],
            department_seq=int(d["department_seq"]),
            version=d["version"],
            delivery_hash=d["delivery_hash"],
            delivered_at=d["delivered_at"],
            delivered_by=d["delivered_by"],
            files=tuple(DeliveredFile(**f) for f in d["files"]),
            source=d.get("source", ""),
            crs_override=d.get("crs_override", ""),
        )


@dataclass(frozen=True)
class IngestResult:
    delivery: Delivery
    created: bool  # False when identical bytes had already been delivered


def resolve_department(catalog: Catalog, dept: str | int) -> Department:
    """A department by seq (``4``), slug (``water``) or Chinese short name (``农牧水务局``)."""
    text = str(dept).strip()
    for d in catalog.departments:
        if text in {str(d.seq), f"{d.seq:02d}", d.slug, d.short_zh, d.name_zh}:
            return d
    known = ", ".join(f"{d.seq} {d.slug} {d.short_zh}" for d in catalog.departments)
    raise DeliveryError(f"unknown department {dept!r}; known: {known}")


def _check_name(name: str) -> str:
    clean = str(name).replace("\\", "/").strip("/")
    if not clean or clean != posixpath.normpath(clean) or clean.startswith("../") or clean == ".." or ":" in clean.split("/")[0]:
        raise DeliveryError(f"file name {name!r} is not a plain relative name")
    return clean


def _collect(items: list[FileSource]) -> dict[str, bytes]:
    """``(name, bytes)`` of the delivered files: folders expanded with relative names, pairs kept."""
    out: list[tuple[str, bytes, str]] = []  # name, bytes, where (for messages)
    for item in items:
        if isinstance(item, tuple):
            name, data = item
            out.append((_check_name(name), bytes(data), str(name)))
            continue
        p = Path(item)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.name not in IGNORED_NAMES and "__MACOSX" not in f.parts:
                    out.append((f.relative_to(p).as_posix(), f.read_bytes(), str(f)))
        elif p.is_file():
            out.append((p.name, p.read_bytes(), str(p)))
        else:
            raise DeliveryError(f"file not found: {p}")
    empty = [where for _, data, where in out if len(data) == 0]
    if empty:
        raise DeliveryError(f"empty file(s) (0 bytes): {', '.join(empty)}")
    names = [n for n, _, _ in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DeliveryError(f"two delivered files share the name(s) {dupes}; send them in separate folders")
    if not out:
        raise DeliveryError("no files to deliver")
    return {n: data for n, data, _ in out}


def delivery_hash(files: list[DeliveredFile]) -> str:
    lines = "\n".join(f"{f.name}:{f.sha256}" for f in sorted(files, key=lambda f: f.name))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def versions(storage: Storage, dataset_id: str) -> list[str]:
    """Delivery versions of a dataset (those with a manifest), oldest first. One listing, also on S3."""
    prefix = f"landing/{dataset_id}/"
    out = []
    for path in storage.list_files(f"landing/{dataset_id}"):
        parts = path[len(prefix):].split("/") if path.startswith(prefix) else []
        if len(parts) == 2 and parts[1] == "manifest.json" and not parts[0].startswith("_"):
            out.append(parts[0])
    return sorted(out)


def load_delivery(storage: Storage, dataset_id: str, version: str) -> Delivery:
    return Delivery.from_dict(storage.read_json(f"landing/{dataset_id}/{version}/manifest.json"))


def latest_delivery(storage: Storage, dataset_id: str) -> Delivery | None:
    """The newest delivery of a dataset, or ``None`` when nothing was delivered."""
    vs = versions(storage, dataset_id)
    return load_delivery(storage, dataset_id, vs[-1]) if vs else None


def version_time(version: str) -> datetime:
    """The UTC time encoded in a version name."""
    return datetime.strptime(version.split("-", 1)[0], VERSION_TIME_FORMAT).replace(tzinfo=UTC)


def claim_path(dataset_id: str, predecessor: str | None, dhash: str) -> str:
    """The create-only claim of "the delivery with hash ``dhash`` that follows ``predecessor``"."""
    return f"landing/{dataset_id}/{CLAIMS}/{predecessor or FIRST}/{dhash}.json"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown user"


def _resolve(catalog: Catalog, department: str | int, dataset_id: str) -> tuple[Dataset, Department]:
    try:
        dataset: Dataset = catalog.dataset(dataset_id)
    except KeyError as exc:
        raise DeliveryError(str(exc.args[0]) if exc.args else f"unknown dataset {dataset_id!r}") from exc
    dept = resolve_department(catalog, department)
    if dataset.department_seq != dept.seq:
        owner = catalog.department(dataset.department_seq)
        raise DeliveryError(
            f"dataset {dataset.id} ({dataset.name_zh}) is delivered by department {owner.seq} {owner.short_zh}, "
            f"not by {dept.seq} {dept.short_zh}"
        )
    return dataset, dept


def ingest(
    storage: Storage,
    catalog: Catalog,
    department: str | int,
    dataset_id: str,
    paths: Iterable[FileSource],
    *,
    delivered_by: str | None = None,
    now: datetime | None = None,
    source: str | None = None,
    crs_override: str | None = None,
) -> IngestResult:
    """Store a delivery immutably in the landing zone.

    Args:
        department: the delivering department (seq, slug or short Chinese name); it must own the dataset.
        dataset_id: a catalog dataset id (``01-03``, ``01-46a.dltb``).
        paths: files, folders whose files are delivered with their relative names, or ``(name, bytes)``
            pairs (bytes read from anywhere, e.g. the storage's drop zone) — mixed as needed.
        source: where the bytes came from, recorded in the manifest (the watcher names the drop folder).
        crs_override: the coordinate system of the delivered layers (``EPSG:4546``, an ESRI name …) when
            they carry none or a wrong one; recorded in the manifest and used by validation.

    Returns:
        The delivery and whether it is new (``created=False`` when identical bytes are the newest
        delivery, or when an identical delivery sent at the same time won the race).

    Raises:
        DeliveryError: unknown dataset or department, department mismatch, missing/empty files, bad names,
            a ``crs_override`` that is no coordinate system or not an accepted one.
    """
    dataset, dept = _resolve(catalog, department, dataset_id)
    if crs_override:
        from erenhot.crs import CrsError, identify

        try:
            info = identify(crs_override)
        except CrsError as exc:
            raise DeliveryError(f"{dataset.id}: --crs {crs_override!r} is not a coordinate system: {exc}; name one as "
                                "EPSG:<code> (e.g. EPSG:4525) or by its WKT / ESRI name") from exc
        if info.kind == "none" or not info.accepted:
            raise DeliveryError(f"--crs {crs_override!r} is not an accepted coordinate system "
                                f"({info.label_zh}); name a CGCS2000 / Xian 1980 / Beijing 1954 / WGS 84 system, e.g. EPSG:4525")
    blobs = _collect(list(paths))
    return _land(storage, dataset, dept, blobs, delivered_by=delivered_by, now=now, source=source,
                 crs_override=crs_override)


def ingest_bytes(
    storage: Storage,
    catalog: Catalog,
    department: str | int,
    dataset_id: str,
    files: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
    **kwargs: Any,
) -> IngestResult:
    """:func:`ingest` of ``{name: bytes}`` (or ``(name, bytes)`` pairs); same keywords."""
    items = files.items() if isinstance(files, Mapping) else files
    return ingest(storage, catalog, department, dataset_id, [(str(n), bytes(b)) for n, b in items], **kwargs)


def _land(storage: Storage, dataset: Dataset, dept: Department, blobs: dict[str, bytes], *,
          delivered_by: str | None, now: datetime | None, source: str | None,
          crs_override: str | None = None) -> IngestResult:
    files = [DeliveredFile(name=n, size=len(b), sha256=sha256_bytes(b)) for n, b in sorted(blobs.items())]
    dhash = delivery_hash(files)
    current = latest_delivery(storage, dataset.id)
    if current is not None and current.delivery_hash == dhash and current.crs_override == (crs_override or ""):
        # identical to the newest delivery: nothing new. Re-sending an *older* version is a new
        # delivery (the department takes the newer one back), so it lands as the newest version.
        return IngestResult(current, created=False)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    if current is not None:  # versions sort by time: never land before the newest (clock skew)
        when = max(when, version_time(current.version) + timedelta(microseconds=1))
    version = f"{when:{VERSION_TIME_FORMAT}}-{dhash[:12]}"
    claim_rel = claim_path(dataset.id, current.version if current else None, dhash)
    claim = {"dataset_id": dataset.id, "predecessor": current.version if current else None, "delivery_hash": dhash,
             "version": version, "delivered_at": when.isoformat(timespec="microseconds")}
    if not storage.create(claim_rel, json_bytes(claim)):
        # the same bytes are being (or were) delivered after the same predecessor: that version is
        # this delivery too. Complete it with our identical bytes (idempotent) instead of adding one.
        claim = storage.read_json(claim_rel)
        version, when = claim["version"], datetime.fromisoformat(claim["delivered_at"])
    delivery = Delivery(
        dataset_id=dataset.id,
        department_seq=dept.seq,
        version=version,
        delivery_hash=dhash,
        delivered_at=when.isoformat(timespec="microseconds"),
        delivered_by=delivered_by or f"{dept.short_zh} ({_user()})",
        files=tuple(files),
        source=source or "",
        crs_override=crs_override or "",
    )
    for f in files:
        storage.write_once(delivery.file_path(f.name), blobs[f.name])
    # the manifest is written last and create-only: a delivery without one is incomplete and invisible,
    # and of two senders completing the same version exactly one writes it
    if storage.create(f"{delivery.prefix}/manifest.json", json_bytes(delivery.to_dict())):
        return IngestResult(delivery, created=True)
    existing = load_delivery(storage, dataset.id, version)
    if existing.delivery_hash != dhash:  # pragma: no cover - a version name is time + hash
        raise DeliveryError(f"{dataset.id} {version}: another delivery already holds this version")
    return IngestResult(existing, created=False)


# -- validation state -------------------------------------------------------------------------

def validation_path(dataset_id: str, version: str) -> str:
    return f"validation/{dataset_id}/{version}.json"


def record_validation(storage: Storage, delivery: Delivery, report: dict[str, Any]) -> None:
    """Store a validation report; a failed one also gets a quarantine marker. Never touches the delivery."""
    storage.write_json(validation_path(delivery.dataset_id, delivery.version), report)
    if report.get("state") == "failed":
        storage.write_json(
            f"quarantine/{delivery.dataset_id}/{delivery.version}.json",
            {"dataset_id": delivery.dataset_id, "version": delivery.version,
             "delivery": f"{delivery.prefix}/", "report": validation_path(delivery.dataset_id, delivery.version),
             "summary": report.get("summary", "")},
        )


def validation_report(storage: Storage, delivery: Delivery) -> dict[str, Any] | None:
    path = validation_path(delivery.dataset_id, delivery.version)
    return storage.read_json(path) if storage.exists(path) else None


def pending_validation(storage: Storage, dataset_ids: list[str]) -> list[str]:
    """The ids among ``dataset_ids`` whose newest delivery has no validation report yet (sorted).

    Such a delivery was landed (by ``erenhot ingest``, the drop-zone watcher or a flow) but its GX
    suites have not run; the watcher flow validates them.
    """
    out = []
    for dataset_id in dataset_ids:
        d = latest_delivery(storage, dataset_id)
        if d is not None and not storage.exists(validation_path(dataset_id, d.version)):
            out.append(dataset_id)
    return sorted(out)


def latest_validated(storage: Storage, dataset_id: str) -> Delivery | None:
    """The newest delivery of a dataset whose validation passed, or ``None``.

    A newer failed delivery does not hide an older validated one: topics keep running on the last
    good version while the failed one waits in quarantine.
    """
    for v in reversed(versions(storage, dataset_id)):
        d = load_delivery(storage, dataset_id, v)
        report = validation_report(storage, d)
        if report is not None and report.get("state") == "validated":
            return d
    return None
