"""Storage zones through fsspec: a local folder by default, ``s3://bucket/prefix`` through s3fs.

Every path given to :class:`Storage` is relative to its root (``landing/01-03/...``).

Guarantees (local and S3 alike):

* **Atomic writes** — a reader sees the old object, the whole new object, or nothing; never a part.
  Local files are written to a temporary name in the same folder, fsync'ed and renamed into place
  (``os.replace``). On S3 bytes go up in one ``PutObject`` (multipart above 100 MB, which S3 also only
  publishes on completion) — a single PUT is atomic. :meth:`Storage.writer` streams into an object
  inside ``fs.transaction``, so a block that raises leaves nothing behind (a plain
  ``with fs.open(key, "wb")`` *would* upload the partial object). fsspec's transaction is state of
  the filesystem instance, not of the thread — two threads in ``fs.transaction`` on one instance lose
  each other's files — so the writer holds a per-instance lock; byte writes do not use it.
* **Create-only writes** — :meth:`Storage.create` / :meth:`Storage.write_once` never replace an object,
  even when two processes race: locally the complete temporary file is hard-linked to the target
  (``os.link`` fails when the target exists; ``O_EXCL`` where hard links are unsupported); on S3 the
  PUT carries ``If-None-Match: *`` (``fs.pipe_file(..., mode="create")``) and the server refuses the
  second one. Only on S3 servers/s3fs versions without conditional writes does it fall back to an
  existence check (not race-safe).
* The S3 endpoint, credentials and region come from the usual variables (``AWS_ENDPOINT_URL``,
  ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``), as in every AWS client.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import posixpath
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import fsspec

from erenhot import settings


class StorageError(RuntimeError):
    """A storage operation failed (missing object, refused overwrite, bad URL)."""


def _file_mode() -> int:
    """The mode ``open()`` would give a new file under this process's umask (0666 & ~umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()  # read once at import, before any thread writes


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object as listed: path relative to the root, size, last modification, fingerprint.

    ``fingerprint`` changes whenever the object's content may have changed: the S3 ETag, or the
    local ``mtime_ns`` and inode.
    """

    path: str
    size: int
    modified: datetime
    fingerprint: str


_CONDITIONAL_PUT: dict[str, bool] = {}  # endpoint → does this S3 server/s3fs honour If-None-Match


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
        self._writer_lock = threading.Lock()
        if protocol == "file":
            root = Path(self.url.removeprefix("file://")).expanduser().resolve()
            root.mkdir(parents=True, exist_ok=True)
            self.root = root.as_posix()
            self.fs = fsspec.filesystem("file")
            self.endpoint = None
        elif protocol == "s3":
            options: dict[str, Any] = {"use_listings_cache": False}
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            if endpoint:
                options["endpoint_url"] = endpoint
            self.endpoint = endpoint or "aws"
            self.fs = fsspec.filesystem("s3", skip_instance_cache=True, **options)
            self.root = self.url.removeprefix("s3://").rstrip("/")
            if not self.root:
                raise StorageError(f"storage URL {self.url!r} names no bucket: use s3://bucket/prefix")
        else:
            raise StorageError(f"unsupported storage URL {self.url!r}: use a local path or s3://bucket/prefix")

    def __reduce__(self):
        return (type(self), (self.url,))  # the filesystem and the lock are rebuilt, not pickled

    # -- paths -------------------------------------------------------------------------------
    def full(self, rel: str) -> str:
        """The filesystem path of ``rel`` (without protocol)."""
        rel = rel.lstrip("/")
        if ".." in rel.split("/"):
            raise StorageError(f"path {rel!r} leaves the storage root")
        return posixpath.join(self.root, rel)

    def rel(self, full: str) -> str:
        """The path relative to the root of a filesystem path below it."""
        prefix = self.root.rstrip("/") + "/"
        full = full.removeprefix("s3://") if self.protocol == "s3" else full
        return full.removeprefix(prefix)

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
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StorageError(f"no object at {self.uri(rel)}") from exc

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel).decode("utf-8"))

    def open(self, rel: str, mode: str = "rb"):
        """An fsspec file object (read only; use the write helpers to write)."""
        if any(c in mode for c in "wax+"):
            raise StorageError("use write_bytes/write_once/writer to write: they are atomic")
        return self.fs.open(self.full(rel), mode)

    def list_dirs(self, rel: str) -> list[str]:
        """Names of the direct sub-folders (prefixes) of ``rel``, sorted; [] when absent."""
        full = self.full(rel)
        try:
            entries = self.fs.ls(full, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = []
        for info in entries:
            if info.get("type") == "directory":
                name = posixpath.basename(info["name"].rstrip("/"))
                if name and info["name"].rstrip("/") != full.rstrip("/"):
                    out.append(name)
        return sorted(set(out))

    def list_files(self, rel: str) -> list[str]:
        """Paths (relative to the root) of every object below ``rel``, sorted."""
        return [o.path for o in self.list_info(rel)]

    def list_info(self, rel: str) -> list[ObjectInfo]:
        """Every object below ``rel`` with size, modification time and fingerprint, sorted by path.

        Local temporary files of unfinished writes (``.<name>.*.part``) are not listed.
        """
        full = self.full(rel)
        try:
            found = self.fs.find(full, detail=True)
        except FileNotFoundError:
            return []
        out = []
        below = full.rstrip("/") + "/"
        for name, info in found.items():
            if info.get("type") == "directory" or name.endswith("/"):
                continue
            if name != full and not name.startswith(below):
                continue  # landing/01-46a must not list landing/01-46a.dltb
            base = posixpath.basename(name)
            if self.protocol == "file":
                if base.startswith(".") and base.endswith(".part"):
                    continue
                mtime = float(info.get("mtime") or 0.0)
                modified = datetime.fromtimestamp(mtime, UTC)
                fingerprint = f"{int(mtime * 1e9)}:{info.get('ino', '')}:{info.get('size')}"
            else:
                modified = info.get("LastModified") or datetime.fromtimestamp(0, UTC)
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=UTC)
                fingerprint = str(info.get("ETag") or info.get("etag") or "").strip('"') + f":{info.get('size')}"
            out.append(ObjectInfo(path=self.rel(name), size=int(info.get("size") or 0), modified=modified,
                                  fingerprint=fingerprint))
        return sorted(out, key=lambda o: o.path)

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
        data = bytes(data)
        if self.protocol == "file":
            tmp = self._local_temp(full, data)
            try:
                os.replace(tmp, full)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            self.fs.pipe_file(full, data)  # one PutObject: atomic
        return sha256_bytes(data)

    def create(self, rel: str, data: bytes) -> bool:
        """Create the object ``rel`` with ``data`` only if no object is there; atomic and race-safe.

        Returns:
            ``True`` when this call created it, ``False`` when an object already existed (left untouched).
        """
        full = self.full(rel)
        data = bytes(data)
        if self.protocol == "file":
            return self._create_local(full, data)
        return self._create_s3(full, data)

    def write_once(self, rel: str, data: bytes) -> str:
        """Write ``data`` at ``rel`` only if nothing is there yet (identical bytes are accepted).

        Race-safe: of two writers of different bytes exactly one succeeds, the other gets the error.

        Raises:
            StorageError: an object with other content already exists at ``rel``.
        """
        digest = sha256_bytes(data)
        if self.create(rel, data):
            return digest
        if self.sha256(rel) == digest:
            return digest
        raise StorageError(f"refusing to overwrite {self.uri(rel)}: objects in this zone are immutable")

    def write_json(self, rel: str, obj: Any, *, once: bool = False) -> str:
        data = json_bytes(obj)
        return self.write_once(rel, data) if once else self.write_bytes(rel, data)

    @contextlib.contextmanager
    def writer(self, rel: str) -> Iterator[IO[bytes]]:
        """Stream into the object ``rel``; it appears (replacing any old one) only when the block ends
        without an exception — a block that raises leaves no object and no partial upload::

            with storage.writer("standard/x/part.parquet") as fh:
                gdf.to_parquet(fh)
        """
        full = self.full(rel)
        if self.protocol == "file":
            target = Path(full)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; products are for everyone the umask allows
            try:
                with os.fdopen(fd, "wb") as fh:
                    yield fh
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            # fs.transaction is per filesystem instance: serialise the writers of this instance
            with self._writer_lock, self.fs.transaction, self.fs.open(full, "wb") as fh:
                yield fh

    def copy_files_in(self, pairs: Iterable[tuple[Path, str]]) -> None:
        """Copy local files into the storage, write-once."""
        for src, rel in pairs:
            self.write_once(rel, Path(src).read_bytes())

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _local_temp(full: str, data: bytes) -> str:
        """A complete, fsync'ed temporary copy of ``data`` beside ``full``; returns its path."""
        target = Path(full)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; products are for everyone the umask allows
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp

    def _create_local(self, full: str, data: bytes) -> bool:
        tmp = self._local_temp(full, data)
        try:
            os.link(tmp, full)  # atomic, fails if the target exists: the complete file appears at once
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
                raise
        finally:
            Path(tmp).unlink(missing_ok=True)
        # no hard links on this filesystem: exclusive create, then write (removed again on failure)
        try:
            fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            Path(full).unlink(missing_ok=True)
            raise
        return True

    def _create_s3(self, full: str, data: bytes) -> bool:
        if _CONDITIONAL_PUT.get(self.endpoint, True):
            try:
                self.fs.pipe_file(full, data, mode="create")  # PutObject with If-None-Match: *
                return True
            except FileExistsError:
                return False
            except (TypeError, NotImplementedError):
                _CONDITIONAL_PUT[self.endpoint] = False  # s3fs without mode="create"
            except OSError as exc:  # s3fs maps 501 NotImplemented to OSError(ENOSYS)
                if exc.errno != errno.ENOSYS and "not implemented" not in str(exc).lower():
                    raise
                _CONDITIONAL_PUT[self.endpoint] = False  # server without conditional writes
        if self.fs.exists(full):
            return False
        self.fs.pipe_file(full, data)
        return True


def json_bytes(obj: Any) -> bytes:
    """The project's JSON encoding (UTF-8, Chinese kept, indented, newline-terminated)."""
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")
