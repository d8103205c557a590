"""The drop zone: deliveries departments upload with their own tools, found and registered.

Departments may copy files straight into the storage (an S3 client, a file share) instead of
running ``erenhot ingest``. They drop them under::

    landing/<department>/<dataset id>/<files, sub-folders allowed>

where ``<department>`` is the department's slug from ``erenhot/catalog/departments.yaml``
(``natural-resources``) or its two-digit number (``01``) — the short Chinese name works too. The
landing zone proper (``landing/<dataset id>/<version>/``) lives beside it; folders named like a
dataset id are never scanned as drop folders.

:func:`scan` looks at every drop folder once:

* A file is **settled** when it is older than the quiet period (its mtime / S3 LastModified), or when
  its size and fingerprint (mtime / ETag) were the same at an earlier scan at least the quiet period
  ago (``watch/pending/<department>/<dataset>.json`` remembers what an earlier scan saw, so this also
  works when clocks disagree). Empty files and upload temporaries (``*.filepart``, ``*.part``,
  ``*.crdownload`` …) keep their folder waiting; hidden files and OS litter (``.DS_Store``,
  ``Thumbs.db``, ``__MACOSX/``) are not part of a delivery.
* A folder with files not registered yet is registered — when all its files are settled — as ONE
  delivery of the folder's current content, read from the storage (not from a local disk) and landed
  with :func:`erenhot.landing.ingest` semantics: immutable, checksummed, identical-to-newest bytes
  recognised, concurrent registrations of the same bytes ending as one version.
* The dropped files stay where they are: nothing a department delivered is deleted or moved. A small
  ledger ``watch/ledger/<department folder>/<dataset>/<key>.json`` per registered file (the key hashes
  the file's drop path, size and fingerprint) remembers what was registered, so a rescan does not
  register it again; a changed or re-uploaded file has a new key and makes the folder a new delivery.
* Unknown folders, unknown dataset ids and datasets owned by another department are reported, not
  ingested.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from erenhot.catalog import Catalog, Department
from erenhot.landing import IGNORED_NAMES, Delivery, DeliveryError, ingest
from erenhot.storage import ObjectInfo, Storage, json_bytes, sha256_bytes

DROP_ROOT = "landing"
LEDGER = "watch/ledger"
PENDING = "watch/pending"
DEFAULT_QUIET_SECONDS = 60.0
#: names upload tools give a file while it is still being written (the folder waits for them)
UPLOAD_TEMP_SUFFIXES = (".filepart", ".part", ".partial", ".crdownload", ".download", ".tmp", ".uploading", ".!ut")
UPLOAD_TEMP_PREFIXES = ("~$",)


@dataclass(frozen=True)
class Registered:
    """One drop folder registered as a delivery by this scan."""

    folder: str  # landing/<department>/<dataset>/
    dataset_id: str
    department_seq: int
    delivery: Delivery
    created: bool  # False: the bytes were already the newest delivery (e.g. also sent with `erenhot ingest`)
    files: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "dataset_id": self.dataset_id, "department_seq": self.department_seq,
                "version": self.delivery.version, "delivery_hash": self.delivery.delivery_hash,
                "created": self.created, "files": list(self.files)}


@dataclass
class ScanResult:
    """What one scan found: registered folders, folders still waiting, problems to tell a human."""

    registered: list[Registered] = field(default_factory=list)
    waiting: list[dict[str, str]] = field(default_factory=list)   # {"folder", "file", "reason"}
    problems: list[dict[str, str]] = field(default_factory=list)  # {"path", "problem"}
    unchanged: int = 0  # folders whose files were all registered before

    @property
    def new_deliveries(self) -> list[Registered]:
        return [r for r in self.registered if r.created]

    def to_dict(self) -> dict[str, Any]:
        return {"registered": [r.to_dict() for r in self.registered], "waiting": list(self.waiting),
                "problems": list(self.problems), "unchanged": self.unchanged}


def drop_department(catalog: Catalog, folder: str) -> Department | None:
    """The department a drop folder name stands for (slug, two-digit or plain seq, short name), else None."""
    for d in catalog.departments:
        if folder in {d.slug, f"{d.seq:02d}", str(d.seq), d.short_zh}:
            return d
    return None


def ledger_key(drop_path: str, info: ObjectInfo) -> str:
    """The ledger key of one dropped file as it is now (path, size and fingerprint)."""
    return sha256_bytes(f"{drop_path}\n{info.size}\n{info.fingerprint}".encode())


def _is_ignored(name: str) -> bool:
    """Not part of a delivery: OS litter and hidden files (rsync's ``.name.XXXXXX`` temporaries, which
    become the real file by an atomic rename)."""
    parts = name.split("/")
    return parts[-1] in IGNORED_NAMES or "__MACOSX" in parts or any(p.startswith(".") for p in parts)


def _is_upload_temp(name: str) -> bool:
    base = posixpath.basename(name)
    return base.lower().endswith(UPLOAD_TEMP_SUFFIXES) or base.startswith(UPLOAD_TEMP_PREFIXES)


def _dataset_hint(catalog: Catalog, dataset_id: str) -> str:
    try:
        catalog.dataset(dataset_id)
    except KeyError as exc:
        return str(exc.args[0]) if exc.args else f"unknown dataset id {dataset_id!r}"
    return ""


def scan(
    storage: Storage,
    catalog: Catalog,
    *,
    quiet_seconds: float = DEFAULT_QUIET_SECONDS,
    now: datetime | None = None,
    on_delivery: Callable[[Registered], None] | None = None,
) -> ScanResult:
    """Scan the drop zone once and register every settled folder with unregistered files.

    Args:
        quiet_seconds: how long a file must have stopped changing before it is registered.
        now: the scan time (tests); default the current UTC time.
        on_delivery: called right after each folder is landed (before its ledger is written), e.g. to
            emit ``erenhot.dataset.delivered`` — so a crash cannot land a delivery without its event
            unless it happens between the two.

    Returns:
        The :class:`ScanResult`; nothing is raised for a bad folder (it is in ``problems``).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = ScanResult()
    for top in storage.list_dirs(DROP_ROOT):
        if top.startswith((".", "_")):
            continue
        if _is_dataset_id(catalog, top):
            continue  # the landing zone proper: landing/<dataset id>/<version>/
        dept = drop_department(catalog, top)
        if dept is None:
            result.problems.append({"path": f"{DROP_ROOT}/{top}/", "problem":
                                    f"unknown drop folder {top!r}: name a department by its slug or two-digit number "
                                    f"(e.g. {catalog.departments[0].slug} or 01), then the dataset id"})
            continue
        by_dataset: dict[str, list[ObjectInfo]] = {}
        for info in storage.list_info(f"{DROP_ROOT}/{top}"):
            inner = info.path[len(f"{DROP_ROOT}/{top}/"):]
            if "/" not in inner:
                if not _is_ignored(inner):
                    result.problems.append({"path": info.path, "problem": "file outside a dataset folder: drop files "
                                            f"under {DROP_ROOT}/{top}/<dataset id>/"})
                continue
            ds_folder, name = inner.split("/", 1)
            if not _is_ignored(name):
                by_dataset.setdefault(ds_folder, []).append(info)
        for ds_folder, infos in sorted(by_dataset.items()):
            _scan_folder(storage, catalog, dept, top, ds_folder, infos, quiet_seconds, now, result, on_delivery)
    return result


def _is_dataset_id(catalog: Catalog, name: str) -> bool:
    """A landing-zone folder (``01-03``, ``01-46a.dltb``), also of an id the catalog no longer has."""
    try:
        catalog.dataset(name)
        return True
    except KeyError:
        return re.fullmatch(r"\d{2}-\w.*", name) is not None


def _scan_folder(storage: Storage, catalog: Catalog, dept: Department, top: str, ds_folder: str,
                 infos: list[ObjectInfo], quiet_seconds: float, now: datetime, result: ScanResult,
                 on_delivery: Callable[[Registered], None] | None) -> None:
    folder = f"{DROP_ROOT}/{top}/{ds_folder}/"
    hint = _dataset_hint(catalog, ds_folder)
    if hint:
        result.problems.append({"path": folder, "problem": f"{hint}; files here are not registered"})
        return
    dataset = catalog.dataset(ds_folder)
    if dataset.department_seq != dept.seq:
        owner = catalog.department(dataset.department_seq)
        result.problems.append({"path": folder, "problem":
                                f"dataset {dataset.id} ({dataset.name_zh}) is delivered by department {owner.seq} "
                                f"{owner.short_zh} ({owner.slug}), not by {dept.seq} {dept.short_zh}: "
                                f"drop it under {DROP_ROOT}/{owner.slug}/{dataset.id}/"})
        return
    ledger_dir = f"{LEDGER}/{top}/{ds_folder}"
    known = {posixpath.basename(p).removesuffix(".json") for p in storage.list_files(ledger_dir)}
    keys = {info.path: ledger_key(info.path, info) for info in infos}
    if all(keys[i.path] in known for i in infos):
        result.unchanged += 1
        return
    pending_rel = f"{PENDING}/{top}/{ds_folder}.json"
    pending = storage.read_json(pending_rel).get("files", {}) if storage.exists(pending_rel) else {}
    still: dict[str, dict[str, Any]] = {}
    waiting: list[dict[str, str]] = []
    for info in infos:
        name = info.path[len(folder):]
        if keys[info.path] in known:
            continue  # registered before and unchanged since: settled
        seen = pending.get(name)
        if seen and seen.get("fingerprint") == info.fingerprint and seen.get("size") == info.size:
            first_seen = datetime.fromisoformat(seen["first_seen"])
        else:
            first_seen = now
        still[name] = {"size": info.size, "fingerprint": info.fingerprint, "first_seen": first_seen.isoformat()}
        quiet_since = max((now - info.modified).total_seconds(), (now - first_seen).total_seconds())
        if _is_upload_temp(name):
            waiting.append({"folder": folder, "file": name, "reason": "upload in progress (temporary file)"})
        elif info.size == 0:
            waiting.append({"folder": folder, "file": name, "reason": "empty (0 bytes): waiting for its content"})
        elif quiet_since < quiet_seconds:
            waiting.append({"folder": folder, "file": name,
                            "reason": f"changed {quiet_since:.0f} s ago; registered after {quiet_seconds:.0f} s without change"})
    if waiting:
        result.waiting.extend(waiting)
        storage.write_json(pending_rel, {"folder": folder, "files": still})
        return
    # every file settled: read the folder's content from the storage and land it as one delivery
    blobs = [(i.path[len(folder):], storage.read_bytes(i.path)) for i in infos]
    after = {i.path: i.fingerprint for i in storage.list_info(folder.rstrip("/")) if not _is_ignored(i.path[len(folder):])}
    if after != {i.path: i.fingerprint for i in infos} or any(len(b) != i.size for (_, b), i in zip(blobs, infos)):
        result.waiting.append({"folder": folder, "file": "", "reason": "the folder changed while it was read; next scan"})
        return
    try:
        res = ingest(storage, catalog, dept.seq, dataset.id, blobs, now=now,
                     delivered_by=f"{dept.short_zh} (uploaded to {folder})", source=folder)
    except DeliveryError as exc:
        result.problems.append({"path": folder, "problem": str(exc)})
        return
    reg = Registered(folder=folder, dataset_id=dataset.id, department_seq=dept.seq, delivery=res.delivery,
                     created=res.created, files=tuple(n for n, _ in blobs))
    if on_delivery is not None:
        on_delivery(reg)
    shas = {f.name: f.sha256 for f in res.delivery.files}
    for info in infos:
        name = info.path[len(folder):]
        entry = {"drop_path": info.path, "name": name, "size": info.size, "fingerprint": info.fingerprint,
                 "modified": info.modified.isoformat(), "sha256": shas.get(name, ""), "dataset_id": dataset.id,
                 "version": res.delivery.version, "delivery_hash": res.delivery.delivery_hash,
                 "created": res.created, "registered_at": datetime.now(UTC).isoformat()}
        storage.create(f"{ledger_dir}/{keys[info.path]}.json", json_bytes(entry))  # first registration wins
    if pending:
        storage.write_json(pending_rel, {"folder": folder, "files": {}})
    result.registered.append(reg)


def ledger(storage: Storage, department_folder: str, dataset_id: str) -> list[dict[str, Any]]:
    """The ledger entries of one drop folder (what was registered from it), oldest registration first."""
    entries = [storage.read_json(p) for p in storage.list_files(f"{LEDGER}/{department_folder}/{dataset_id}")]
    return sorted(entries, key=lambda e: e.get("registered_at", ""))


def drop_path(department: Department, dataset_id: str, name: str = "") -> str:
    """Where a department drops files for a dataset: ``landing/<slug>/<dataset id>/<name>``."""
    return f"{DROP_ROOT}/{department.slug}/{dataset_id}/" + name


__all__ = ["DEFAULT_QUIET_SECONDS", "Registered", "ScanResult", "drop_department", "drop_path", "ledger",
           "ledger_key", "scan"]
