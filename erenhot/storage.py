"""Storage zones through fsspec: a local folder by default, ``s3://`` through s3fs.

Every path given to :class:`Storage` is relative to its root (``landing/01-03/...``). Writes are
atomic: local files go to a temporary name in the same folder and are renamed into place
(``os.replace``); S3 objects are single PUTs inside ``fs.transaction`` so a failed write leaves
nothing behind. ``write_once`` refuses to replace an existing object — the landing zone uses it,
so nothing a department delivered is ever overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec

from erenhot import settings


class StorageError(RuntimeError):
    """A storage operation failed (missing object, refused overwrite, bad URL)."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Storage:
    """A storage root (local path or ``s3://bucket/prefix``) with atomic, write-once helpers.

    Args:
        url: root URL or path; default :func:`erenhot.settings.storage_url`.
    """

    url: str = field(default_factory=settings.storage_url)

    def __post_init__(self) -> None:
        protocol = self.url.split("://", 1)[0] if "://" in self.url else "file"
        self.protocol = protocol
        if protocol == "file":
            root = Path(self.url.removeprefix("file://")).expanduser().resolve()
            root.mkdir(parents=True, exist_ok=True)
            self.root = root.as_posix()
            self.fs = fsspec.filesystem("file")
        elif protocol == "s3":
            options: dict[str, Any] = {"use_listings_cache": False}
            endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
            if endpoint:
                options["endpoint_url"] = endpoint
            self.fs = fsspec.filesystem("s3", skip_instance_cache=True, **options)
            self.root = self.url.removeprefix("s3://").rstrip("/")
        else:
            raise StorageError(f"unsupported storage URL {self.url!r}: use a local path or s3://bucket/prefix")

    # -- paths -------------------------------------------------------------------------------
    def full(self, rel: str) -> str:
        """The filesystem path of ``rel`` (without protocol)."""
        rel = rel.lstrip("/")
        if ".." in rel.split("/"):
            raise StorageError(f"path {rel!r} leaves the storage root")
        return posixpath.join(self.root, rel)

    def uri(self, rel: str) -> str:
        """A URI a user can open: ``file:///...`` locally, ``s3://...`` on S3."""
        full = self.full(rel)
        return f"s3://{full}" if self.protocol == "s3" else Path(full).as_uri()

    def local_path(self, rel: str) -> Path | None:
        """The local ``Path`` of ``rel`` on a local root, else ``None``."""
        return Path(self.full(rel)) if self.protocol == "file" else None

    # -- reads -------------------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.full(rel))

    def read_bytes(self, rel: str) -> bytes:
        try:
            return self.fs.cat_file(self.full(rel))
        except FileNotFoundError as exc:
            raise StorageError(f"no object at {self.uri(rel)}") from exc

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel).decode("utf-8"))

    def open(self, rel: str, mode: str = "rb"):
        """An fsspec file object (read only; use the write helpers to write)."""
        if "w" in mode or "a" in mode:
            raise StorageError("use write_bytes/write_once to write: they are atomic")
        return self.fs.open(self.full(rel), mode)

    def list_dirs(self, rel: str) -> list[str]:
        """Names of the direct sub-folders (prefixes) of ``rel``, sorted; [] when absent."""
        full = self.full(rel)
        if not self.fs.exists(full):
            return []
        out = []
        for info in self.fs.ls(full, detail=True):
            if info.get("type") == "directory":
                out.append(posixpath.basename(info["name"].rstrip("/")))
        return sorted(out)

    def list_files(self, rel: str) -> list[str]:
        """Paths (relative to the root) of every object below ``rel``, sorted."""
        full = self.full(rel)
        if not self.fs.exists(full):
            return []
        prefix = self.root.rstrip("/") + "/"
        return sorted(p[len(prefix):] if p.startswith(prefix) else p for p in self.fs.find(full))

    def sha256(self, rel: str) -> str:
        """Hex sha256 of the stored object, streamed in 8 MiB blocks."""
        digest = hashlib.sha256()
        with self.fs.open(self.full(rel), "rb") as fh:
            for block in iter(lambda: fh.read(8 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    # -- writes ------------------------------------------------------------------------------
    def write_bytes(self, rel: str, data: bytes) -> str:
        """Atomically write ``data`` at ``rel`` (replacing any object there); returns its sha256."""
        full = self.full(rel)
        if self.protocol == "file":
            target = Path(full)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            with self.fs.transaction:
                with self.fs.open(full, "wb") as fh:
                    fh.write(data)
        return sha256_bytes(data)

    def write_once(self, rel: str, data: bytes) -> str:
        """Write ``data`` at ``rel`` only if nothing is there yet (identical bytes are accepted).

        Raises:
            StorageError: an object with other content already exists at ``rel``.
        """
        if self.exists(rel):
            if self.sha256(rel) == sha256_bytes(data):
                return sha256_bytes(data)
            raise StorageError(f"refusing to overwrite {self.uri(rel)}: objects in this zone are immutable")
        return self.write_bytes(rel, data)

    def write_json(self, rel: str, obj: Any, *, once: bool = False) -> str:
        data = (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")
        return self.write_once(rel, data) if once else self.write_bytes(rel, data)

    def copy_files_in(self, pairs: Iterable[tuple[Path, str]]) -> None:
        """Copy local files into the storage, write-once (used by ingest)."""
        for src, rel in pairs:
            self.write_once(rel, Path(src).read_bytes())
