"""Where the archive's files are kept: local folders (also a shared mount), or an S3 bucket with Object Lock.

Filing, fixity, export and the web's download speak to one small interface
(``Storage``) in the archive's own terms — a dossier folder
``<agency>/<year>/<dossier>`` relative to the archive, a stored file by its
path relative to it — so the catalog's paths mean the same on every kind.

*Local folders* (the default, also a shared mount): exactly the layout and the
crash safety filing always had. A dossier is assembled in a staging folder on
the dossier's own file system, every file is flushed, and one rename puts it
in place. A mount (NFS, SMB/CIFS, CephFS) shared by several machines must
give what that relies on: ``rename`` atomic within the mount, ``fsync``
honoured (NFS mounted ``hard``, never ``async`` on the server; SMB without
``cache=loose``), and the same path on every machine.

*S3* (boto3): a PUT is atomic per object — the key shows the whole new bytes
or nothing — so an object is only ever written under its final key, from a
complete staged file, with its SHA-256 sent (``ChecksumSHA256``) for the
store to check against what it received, and conditionally
(``If-None-Match: *``) so no second version of a filed file is ever made.
The dossier's ``dossier.json`` goes last: its presence says the folder is
whole. A filing killed half way is run again: an object already there with
the same SHA-256 is adopted (a locked one could not be replaced anyway), one
with other bytes is refused. The catalog is written only after every object
is in place, so it never names an object that is not there. Signed files get
Object Lock retention (COMPLIANCE or GOVERNANCE, until the end of the
dossier's retention period) and, when configured, a legal hold.

Readers that need a file on disk (pikepdf, pyHanko, BagIt) get one through
``local_copy``: the file itself for local folders, a temporary download for
S3, one file at a time, refused above a configured size and removed after.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from scanner.archive import file_folder, staging_folder
from scanner.errors import ArchiveError, ConfigError, FaultKind, WorkstationError
from scanner.files import disk_nearly_full, sha256_file
from scanner.jsonio import fsync_dir
from scanner.retention import PERMANENT_YEARS, retention_years

if TYPE_CHECKING:
    from scanner.config import StorageConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

# Folders of the archive that are the program's own, never dossiers.
OWN_FOLDERS = frozenset({".audit", ".staging"})
MANIFEST = "dossier.json"  # written last: a dossier folder holding it is whole
RACED = ("PreconditionFailed", "412", "ConditionalRequestConflict")  # If-None-Match lost to another writer
NO_LOCK = ("InvalidRequest", "ObjectLockConfigurationNotFoundError", "InvalidBucketState")  # a bucket without a lock


@dataclass(frozen=True)
class Held:
    """What the store says of one stored file: its SHA-256 (hex) and size."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Retention:
    """Object Lock on one stored object: the mode, the day it may first be deleted, and a legal hold."""

    mode: str  # COMPLIANCE | GOVERNANCE
    until: datetime
    legal_hold: bool = False

    def blocks(self, now: datetime) -> bool:
        return self.legal_hold or self.until > now


class Storage(Protocol):
    """The archive's files, by paths relative to the archive (``<agency>/<year>/<dossier>/<file>``)."""

    kind: str  # local | s3
    label: str  # where, as a person reads it (a folder, or s3://bucket/prefix); never a credential

    def staging(self, folder: str, job_id: str) -> Path:
        """An empty local folder where dossier FOLDER is assembled before ``file_dossier``."""
        ...

    def holds_dossier(self, folder: str) -> bool:
        """Whether FOLDER is filed whole (a resumed filing then only writes the catalog)."""
        ...

    def file_dossier(self, staging: Path, folder: str, retention: Retention | None) -> None:
        """Put the finished STAGING folder in place as FOLDER; RETENTION locks its signed files.

        All or nothing as ``holds_dossier`` sees it: a rename on folders; on S3 the objects one by one and
        ``dossier.json`` last, so a cut run leaves some objects and no manifest, and the next run completes it.
        """
        ...

    def stat(self, rel: str) -> Held | None:
        """The stored file's SHA-256 and size as the store vouches for them; None when it is not there."""
        ...

    def local_copy(self, rel: str) -> AbstractContextManager[Path | None]:
        """The stored file as a path on disk for as long as the block runs; None when it is not there."""
        ...

    def files(self, own: Collection[Path] = ()) -> Iterator[str]:
        """Every stored file outside the program's own folders (and OWN paths), for the whole-archive walk."""
        ...

    def has_folder(self, rel: str) -> bool: ...

    def retention(self, rel: str) -> Retention | None:
        """The lock on a stored file (None: none, or a store without Object Lock)."""
        ...

    def problems(self) -> list[str]:
        """What is wrong with the store itself, in Vietnamese (a whole-archive verify reports it)."""
        ...

    def lock(self, retention: str, closed: date) -> Retention | None:
        """The lock a dossier of CLOSED's year kept for RETENTION gets on its signed files (None: no locks here)."""
        ...

    # The program's own small files (``.audit``: signed checkpoints, moved-up logs) live with the archive,
    # not on one machine: every worker of a province checkpoints the one log and any officer verifies it.

    def own_names(self, folder: str) -> list[str]:
        """Names of the files directly in FOLDER, one of the program's own folders."""
        ...

    def read_own(self, rel: str) -> bytes | None:
        """The bytes of one of the program's own files; None when it is not there."""
        ...

    def create_own(self, rel: str, data: bytes, retention: Retention | None) -> None:
        """Write one of the program's own files once, whole or not at all.

        The same bytes already there are adopted (a run cut short is run again); other bytes raise
        ``FileExistsError``: another machine took that name first, and nothing is overwritten.
        """
        ...


def signed_file(name: str) -> bool:
    """Which files of a dossier carry the agency's or the sender's signature: the PDFs (``dossier.json`` does not)."""
    return name.lower().endswith(".pdf")


def retain_until(retention: str, closed: date, default: str) -> datetime:
    """The first day the files of a dossier of CLOSED's year may be destroyed under RETENTION.

    A retention period runs from 1 January of the year after the dossier is
    closed (archival practice); a dossier with no period, or one the program
    cannot read ("khác"), is kept for DEFAULT, which the configuration sets
    (``vĩnh viễn`` unless told otherwise: a record nobody classified is never
    destroyed early).
    """
    years = retention_years(retention) or retention_years(default) or PERMANENT_YEARS
    return datetime(closed.year + 1 + years, 1, 1, tzinfo=UTC)


def lock_for(config: StorageConfig, retention: str, closed: date) -> Retention:
    """The Object Lock a dossier's signed files get: the configured mode, until its retention period ends."""
    return Retention(config.lock_mode, retain_until(retention, closed, config.default_retention), config.legal_hold)


# --- local folders, and a shared mount ------------------------------------------------------------


class LocalStorage:
    """Files in folders under ROOT, assembled in WORK (or beside the dossier when WORK is another file system)."""

    kind = "local"

    def __init__(self, root: Path, work: Path | None = None) -> None:
        self.root = root
        self.work = work if work is not None else root / ".staging"
        self.label = str(root)

    def staging(self, folder: str, job_id: str) -> Path:
        path = staging_folder(self.root / folder, self.work, job_id)
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def holds_dossier(self, folder: str) -> bool:
        return (self.root / folder).exists()

    def file_dossier(self, staging: Path, folder: str, retention: Retention | None) -> None:
        file_folder(staging, self.root / folder)

    def stat(self, rel: str) -> Held | None:
        path = self.root / rel
        if not path.is_file():
            return None
        return Held(sha256_file(path), path.stat().st_size)

    @contextmanager
    def local_copy(self, rel: str) -> Iterator[Path | None]:
        path = self.root / rel
        yield path if path.is_file() else None

    def files(self, own: Collection[Path] = ()) -> Iterator[str]:
        skip = {os.path.abspath(p) for p in own}
        for here, subdirs, names in os.walk(self.root):
            rel_here = os.path.relpath(here, self.root)
            if rel_here == ".":
                subdirs[:] = [d for d in subdirs if d not in OWN_FOLDERS]
            subdirs[:] = sorted(d for d in subdirs if os.path.abspath(os.path.join(here, d)) not in skip)
            for name in sorted(names):
                full = os.path.abspath(os.path.join(here, name))
                if any(full == o or full.startswith(o + "-") for o in skip):  # SQLite's -wal, -shm, -journal too
                    continue
                yield os.path.normpath(os.path.join(rel_here, name)).replace(os.sep, "/")

    def has_folder(self, rel: str) -> bool:
        return (self.root / rel).is_dir()

    def retention(self, rel: str) -> Retention | None:
        return None

    def problems(self) -> list[str]:
        return []

    def lock(self, retention: str, closed: date) -> Retention | None:
        return None  # a folder has no retention lock: the catalog and the audit log guard it

    def own_names(self, folder: str) -> list[str]:
        where = self.root / folder
        return sorted(p.name for p in where.iterdir() if p.is_file()) if where.is_dir() else []

    def read_own(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except FileNotFoundError:
            return None

    def create_own(self, rel: str, data: bytes, retention: Retention | None) -> None:
        # written whole under a private name, then linked: link() is atomic and never replaces a file
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                if target.read_bytes() != data:
                    raise
                return
            fsync_dir(target.parent)
        finally:
            tmp.unlink(missing_ok=True)


# --- S3 ------------------------------------------------------------------------------------------


def _unavailable(where: str, exc: BaseException) -> WorkstationError:
    """The store could not be reached or refused us: the workstation's fault, retried, never the file's.

    botocore's messages name the operation, the bucket and the key, never the credentials.
    """
    return WorkstationError(
        FaultKind.STORAGE_UNAVAILABLE,
        f"không ghi/đọc được kho lưu trữ S3 {where} ({type(exc).__name__}: {exc}); hồ sơ được giữ và làm tiếp sau",
        f"S3 storage {where} failed ({type(exc).__name__}: {exc}); the dossier is kept and retried",
    )


def _hex(checksum: str | None) -> str | None:
    """A full-object ChecksumSHA256 (base64) as hex; None for none or a multipart composite (``…-N``)."""
    if not checksum or "-" in checksum:
        return None
    return base64.b64decode(checksum).hex()


def _lock_args(retention: Retention | None) -> dict[str, Any]:
    """put_object's Object Lock arguments for RETENTION (none without one)."""
    if retention is None:
        return {}
    args: dict[str, Any] = {"ObjectLockMode": retention.mode, "ObjectLockRetainUntilDate": retention.until}
    if retention.legal_hold:
        args["ObjectLockLegalHoldStatus"] = "ON"
    return args


def _transfer() -> Any:
    """Downloads in a few 8 MB ranges at a time, written as they come: the reader's memory stays small."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(max_concurrency=2, multipart_chunksize=8 * 1024 * 1024, max_io_queue=16)


@functools.cache
def _client(config: StorageConfig) -> Any:
    """One boto3 client per configuration (thread-safe, and slow to build): the credentials are read once here."""
    import boto3
    from botocore.config import Config as BotoConfig

    keys: dict[str, str] = {}
    if (pair := config.credentials()) is not None:
        keys = {"aws_access_key_id": pair[0].reveal(), "aws_secret_access_key": pair[1].reveal()}
    return boto3.client(
        "s3",
        endpoint_url=config.endpoint or None,
        region_name=config.region or None,
        config=BotoConfig(
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
            s3={"addressing_style": "path" if config.endpoint else "auto"},
            request_checksum_calculation="when_required",  # we send our own SHA-256, never a CRC in its place
        ),
        **keys,  # without them boto3's own chain: AWS_* variables, ~/.aws, the machine's role
    )


class S3Storage:
    """Objects ``<prefix><agency>/<year>/<dossier>/<file>`` in one bucket with Object Lock (versioning on)."""

    kind = "s3"

    def __init__(self, config: StorageConfig, work: Path) -> None:
        self.config = config
        self.bucket = config.bucket
        self.prefix = config.prefix
        self.work = work
        self.label = config.location

    @property
    def client(self) -> Any:
        """Built at first use: opening the archive to search needs no keys, only reading or writing files does.

        Keys missing from the environment are the workstation's fault: a dossier waits for them, it is
        never counted as failing.
        """
        try:
            return _client(self.config)
        except ConfigError as exc:
            raise WorkstationError(FaultKind.STORAGE_UNAVAILABLE, f"kho lưu trữ S3 {self.label}: {exc.message_vi}",
                                   f"S3 storage {self.label}: {exc.message_en}") from None  # fmt: skip

    def key(self, rel: str) -> str:
        return self.prefix + rel

    def _errors(self) -> tuple[type[BaseException], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return (ClientError, BotoCoreError)

    def _head(self, rel: str) -> dict[str, Any] | None:
        return self._unless_missing(
            lambda: dict(self.client.head_object(Bucket=self.bucket, Key=self.key(rel), ChecksumMode="ENABLED"))
        )

    def _unless_missing(self, call: Callable[[], T]) -> T | None:
        """CALL's answer; None when the object is not there; any other refusal is the store's fault."""
        from botocore.exceptions import ClientError

        try:
            return call()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _unavailable(self.label, exc) from None
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None

    def staging(self, folder: str, job_id: str) -> Path:
        path = self.work / "staging" / job_id
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def holds_dossier(self, folder: str) -> bool:
        return self._head(f"{folder}/{MANIFEST}") is not None

    def file_dossier(self, staging: Path, folder: str, retention: Retention | None) -> None:
        names = sorted((p.name for p in staging.iterdir()), key=lambda n: (n == MANIFEST, n))
        for name in names:
            self.put(f"{folder}/{name}", staging / name, retention if signed_file(name) else None)
        shutil.rmtree(staging)

    def put(self, rel: str, path: Path, retention: Retention | None) -> None:
        """Write PATH's bytes under REL once: adopt the same bytes already there, refuse others."""
        from botocore.exceptions import ClientError

        digest = bytes.fromhex(sha256_file(path))
        if self._adopt(rel, digest.hex()):
            return
        extra = _lock_args(retention)
        sent = base64.b64encode(digest).decode("ascii")
        try:
            with path.open("rb") as body:
                answer = self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.key(rel),
                    Body=body,
                    ContentLength=path.stat().st_size,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=sent,
                    IfNoneMatch="*",  # never a second version: a racing writer's object is judged like any other
                    **extra,
                )
        except ClientError as exc:
            raced = exc.response.get("Error", {}).get("Code") in RACED
            if raced and self._adopt(rel, digest.hex()):
                return
            if retention is not None and exc.response.get("Error", {}).get("Code") in NO_LOCK:
                raise WorkstationError(
                    FaultKind.STORAGE_UNAVAILABLE,
                    f"bucket {self.bucket} chưa bật Object Lock nên không khóa được tệp đã ký {rel}: tạo bucket "
                    "với Object Lock (chỉ bật được khi tạo bucket) hoặc dùng kho khác; hồ sơ được giữ và làm tiếp sau",
                    f"bucket {self.bucket} has no Object Lock; signed file {rel} cannot be locked",
                ) from None
            raise _unavailable(self.label, exc) from None
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None
        stored = _hex(answer.get("ChecksumSHA256"))
        if stored is None:  # a store that does not answer with checksums: read back what it holds
            held = self.stat(rel)
            stored = held.sha256 if held is not None else None
        if stored != digest.hex():  # never catalogued: the dossier waits, the officer is told what the store holds
            raise WorkstationError(
                FaultKind.STORAGE_UNAVAILABLE,
                f"kho {self.label} giữ tệp {rel} với SHA-256 {stored}, khác tệp đã gửi ({digest.hex()}); "
                "hồ sơ chưa được ghi vào danh mục — kiểm tra kho",
                f"{self.label} holds {rel} with SHA-256 {stored}, not the one sent; not catalogued",
            )

    def _adopt(self, rel: str, sha256: str) -> bool:
        """True when REL is already stored with these bytes (an earlier, interrupted filing wrote it)."""
        head = self._head(rel)
        if head is None:
            return False
        held = _hex(head.get("ChecksumSHA256"))
        if held is None:
            found = self.stat(rel)
            held = found.sha256 if found else None
        if held == sha256:
            log.info("kho %s đã có %s đúng nội dung (lần lưu trước bị ngắt): dùng lại", self.label, rel)
            return True
        raise WorkstationError(
            FaultKind.STORAGE_UNAVAILABLE,
            f"kho {self.label} đã có tệp {rel} với nội dung khác (SHA-256 {held}); không ghi đè — "
            "cán bộ lưu trữ cần kiểm tra kho trước khi hồ sơ được lưu tiếp",
            f"{self.label} already holds {rel} with other bytes; not overwritten — an officer must look",
        )

    def stat(self, rel: str) -> Held | None:
        head = self._head(rel)
        if head is None:
            return None
        size = int(head["ContentLength"])
        if (sha := _hex(head.get("ChecksumSHA256"))) is not None:
            return Held(sha, size)
        with self.local_copy(rel) as path:  # an object written without a checksum (by hand): hash its bytes
            return Held(sha256_file(path), size) if path is not None else None

    @contextmanager
    def local_copy(self, rel: str) -> Iterator[Path | None]:
        head = self._head(rel)
        if head is None:
            yield None
            return
        size, limit = int(head["ContentLength"]), self.config.download_limit_mb * 1024 * 1024
        if size > limit:
            raise ArchiveError(
                f"tệp {rel} ({size // (1024 * 1024)} MB) lớn hơn giới hạn tải về "
                f"storage.download_limit_mb = {self.config.download_limit_mb}",
                f"{rel} is larger than storage.download_limit_mb",
                code="too-large",
            )
        where = self.work / "downloads"
        where.mkdir(parents=True, exist_ok=True)
        if (full := disk_nearly_full(where)) is not None:
            raise full
        with tempfile.TemporaryDirectory(dir=where) as tmp:
            path = Path(tmp) / rel.rsplit("/", 1)[-1]
            try:
                version = {"VersionId": head["VersionId"]} if head.get("VersionId") else None
                self.client.download_file(self.bucket, self.key(rel), str(path), ExtraArgs=version, Config=_transfer())
            except self._errors() as exc:
                raise _unavailable(self.label, exc) from None
            yield path

    def files(self, own: Collection[Path] = ()) -> Iterator[str]:
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    rel = str(item["Key"])[len(self.prefix) :]
                    if rel.split("/", 1)[0] not in OWN_FOLDERS:
                        yield rel
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None

    def has_folder(self, rel: str) -> bool:
        try:
            found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.key(rel.rstrip("/") + "/"), MaxKeys=1)
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None
        return bool(found.get("KeyCount") or found.get("Contents"))

    def retention(self, rel: str) -> Retention | None:
        head = self._head(rel)
        if head is None or not (head.get("ObjectLockMode") or head.get("ObjectLockLegalHoldStatus") == "ON"):
            return None
        until = head.get("ObjectLockRetainUntilDate") or datetime.min.replace(tzinfo=UTC)
        return Retention(str(head.get("ObjectLockMode") or ""), until, head.get("ObjectLockLegalHoldStatus") == "ON")

    def lock(self, retention: str, closed: date) -> Retention | None:
        return lock_for(self.config, retention, closed)

    def own_names(self, folder: str) -> list[str]:
        prefix = self.key(folder.rstrip("/") + "/")
        names: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                names.extend(str(item["Key"])[len(prefix) :] for item in page.get("Contents", ()))
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None
        return sorted(names)

    def read_own(self, rel: str) -> bytes | None:
        return self._unless_missing(
            lambda: bytes(self.client.get_object(Bucket=self.bucket, Key=self.key(rel))["Body"].read())
        )

    def create_own(self, rel: str, data: bytes, retention: Retention | None) -> None:
        from botocore.exceptions import ClientError

        held = self.read_own(rel)
        if held is not None:
            if held != data:
                raise FileExistsError(rel)
            return
        sent = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key(rel), Body=data, ChecksumAlgorithm="SHA256",
                ChecksumSHA256=sent, IfNoneMatch="*", **_lock_args(retention),
            )  # fmt: skip
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in RACED:
                if self.read_own(rel) == data:
                    return
                raise FileExistsError(rel) from None
            raise _unavailable(self.label, exc) from None
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None

    def problems(self) -> list[str]:
        """A bucket without Object Lock (or with versioning off) keeps no signed file from being replaced."""
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object_lock_configuration(Bucket=self.bucket)
            enabled = found.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
            versioning = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in NO_LOCK:
                raise _unavailable(self.label, exc) from None
            enabled, versioning = False, None
        except self._errors() as exc:
            raise _unavailable(self.label, exc) from None
        out = []
        if not enabled:
            out.append(f"bucket {self.bucket} chưa bật Object Lock: tệp đã ký không được kho bảo vệ khỏi xóa, ghi đè")
        if versioning != "Enabled":
            out.append(f"bucket {self.bucket} không bật lưu phiên bản (versioning): tệp bị ghi đè thì mất bản cũ")
        return out


def open_storage(config: Any) -> Storage:
    """The storage a workstation's CONFIG names (``[storage] kind``): local folders unless told otherwise."""
    storage = getattr(config, "storage", None)
    if storage is None or storage.kind == "local":
        return LocalStorage(config.archive.root, config.archive.work)
    return S3Storage(storage, config.archive.work)


def as_storage(where: Path | Storage) -> Storage:
    """Callers that still hand the archive root get its local folders."""
    return LocalStorage(where) if isinstance(where, Path) else where


__all__ = [
    "MANIFEST",
    "OWN_FOLDERS",
    "Held",
    "LocalStorage",
    "Retention",
    "S3Storage",
    "Storage",
    "as_storage",
    "lock_for",
    "open_storage",
    "retain_until",
    "signed_file",
]
