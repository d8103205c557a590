"""The landing zone: immutable, checksummed department deliveries.

A delivery is the set of files a department sends for one catalog dataset at one time. It is stored
under ``landing/<dataset_id>/<version>/files/<name>`` with ``manifest.json`` beside it (who, when,
files, sizes, sha256, delivery hash) and is never overwritten or deleted. ``<version>`` is
``<UTC yyyymmddTHHMMSSffffffZ>-<first 12 hex of the delivery hash>``; the delivery hash is the sha256 of
the sorted ``name:sha256`` lines of its files, so re-sending the bytes of the newest delivery
returns it instead of creating a new version (re-sending an older one makes it the newest again).

Validation results live beside, not inside, the delivery: ``validation/<id>/<version>.json``;
failed deliveries also get a ``quarantine/<id>/<version>.json`` marker. The bytes stay where they
landed.
"""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from erenhot.catalog import Catalog, Dataset, Department
from erenhot.storage import Storage, sha256_bytes

IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


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
    def from_dict(cls, d: dict[str, Any]) -> "Delivery":
        return cls(
            dataset_id=d["dataset_id"],
            department_seq=int(d["department_seq"]),
            version=d["version"],
            delivery_hash=d["delivery_hash"],
            delivered_at=d["delivered_at"],
            delivered_by=d["delivered_by"],
            files=tuple(DeliveredFile(**f) for f in d["files"]),
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


def _collect(paths: list[Path]) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.name not in IGNORED_NAMES and "__MACOSX" not in f.parts:
                    out.append((f.relative_to(p).as_posix(), f))
        elif p.is_file():
            out.append((p.name, p))
        else:
            raise DeliveryError(f"file not found: {p}")
    empty = [str(src) for _, src in out if src.stat().st_size == 0]
    if empty:
        raise DeliveryError(f"empty file(s) (0 bytes): {', '.join(empty)}")
    names = [n for n, _ in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DeliveryError(f"two delivered files share the name(s) {dupes}; send them in separate folders")
    if not out:
        raise DeliveryError("no files to deliver")
    return out


def delivery_hash(files: list[DeliveredFile]) -> str:
    lines = "\n".join(f"{f.name}:{f.sha256}" for f in sorted(files, key=lambda f: f.name))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def versions(storage: Storage, dataset_id: str) -> list[str]:
    """Delivery versions of a dataset, oldest first."""
    return [v for v in storage.list_dirs(f"landing/{dataset_id}") if storage.exists(f"landing/{dataset_id}/{v}/manifest.json")]


def load_delivery(storage: Storage, dataset_id: str, version: str) -> Delivery:
    return Delivery.from_dict(storage.read_json(f"landing/{dataset_id}/{version}/manifest.json"))


def latest_delivery(storage: Storage, dataset_id: str) -> Delivery | None:
    """The newest delivery of a dataset, or ``None`` when nothing was delivered."""
    vs = versions(storage, dataset_id)
    return load_delivery(storage, dataset_id, vs[-1]) if vs else None


def ingest(
    storage: Storage,
    catalog: Catalog,
    department: str | int,
    dataset_id: str,
    paths: list[Path],
    *,
    delivered_by: str | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Store a delivery immutably in the landing zone.

    Args:
        department: the delivering department (seq, slug or short Chinese name); it must own the dataset.
        dataset_id: a catalog dataset id (``01-03``, ``01-46a.dltb``).
        paths: files, or folders whose files are delivered with their relative names.

    Returns:
        The delivery and whether it is new (``created=False`` when identical bytes were delivered before).

    Raises:
        DeliveryError: unknown dataset or department, department mismatch, missing files.
    """
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
    collected = _collect(list(paths))
    blobs = {name: src.read_bytes() for name, src in collected}
    files = [DeliveredFile(name=n, size=len(b), sha256=sha256_bytes(b)) for n, b in sorted(blobs.items())]
    dhash = delivery_hash(files)
    current = latest_delivery(storage, dataset.id)
    if current is not None and current.delivery_hash == dhash:
        # identical to the newest delivery: nothing new. Re-sending an *older* version is a new
        # delivery (the department takes the newer one back), so it lands as the newest version.
        return IngestResult(current, created=False)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    version = f"{when:%Y%m%dT%H%M%S%fZ}-{dhash[:12]}"
    delivery = Delivery(
        dataset_id=dataset.id,
        department_seq=dept.seq,
        version=version,
        delivery_hash=dhash,
        delivered_at=when.isoformat(timespec="microseconds"),
        delivered_by=delivered_by or f"{dept.short_zh} ({getpass.getuser()})",
        files=tuple(files),
    )
    for f in files:
        storage.write_once(delivery.file_path(f.name), blobs[f.name])
    # the manifest is written last: a delivery without one is incomplete and invisible
    storage.write_json(f"{delivery.prefix}/manifest.json", delivery.to_dict(), once=True)
    return IngestResult(delivery, created=True)


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
