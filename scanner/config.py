"""The workstation's configuration: one TOML file loaded into one typed object.

The file is read once, at start-up, by the CLI; stages receive the parts they
need as arguments and never read the file or the environment themselves.
Relative paths are taken relative to the folder of the configuration file, so
a workstation folder can be moved as a whole. Every error names the key and
the reason, in Vietnamese and English.

Secrets (the PKCS#12 password, a token PIN) are never written in the file:
the file names an environment variable or a file that holds them, and the
loaded value is a :class:`Secret` whose ``repr`` hides it.

One template, ``scanner/config_template.toml`` (package data), is both what
``scanner init`` writes (:func:`render_template`) and, rendered with the
example's values, the documented example ``config/scanner.toml``; a test
keeps the two equal, so a new key is documented in one place.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import tomllib
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from scanner.codes import is_agency_code, is_procedure_code
from scanner.errors import ConfigError

CONFIG_ENV = "SCANNER_CONFIG"
TEMPLATE = "config_template.toml"  # package data of ``scanner``

PDFA_FLAVOURS = ("2b", "1b")
IMAGE_STORAGES = ("compact", "lossless")  # scanner.pdf.STORAGES
SIGNATURE_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


class Secret:
    """A password or PIN: usable through ``reveal()``, never printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class CounterConfig:
    """One counter (quầy) of the one-stop section and the agency it receives for."""

    name: str
    inbox: Path
    agency_code: str
    agency_name: str
    procedure_code: str = ""
    poll_seconds: float = 0.0  # > 0: poll the inbox (network shares deliver no events)
    settle_seconds: float = 2.0  # a file is taken once unchanged this long


@dataclass(frozen=True)
class IndexConfig:
    """``[index]``: who writes the search index, and the bounds that keep a rebuild and a search cheap.

    SERVICE (a province): only ``scanner indexer`` writes the index; every
    other process opens it read-only. Without it (a ward office) whoever
    files or searches brings the index up to date, as before.
    """

    service: bool = False
    heap_mb: int = 256  # the writer's memory: a rebuild's peak does not grow with the archive
    batch: int = 10_000  # documents per commit of a rebuild or a catch-up
    pending_limit: int = 1_000  # above this many not yet indexed, a search no longer scans them
    poll_seconds: float = 2.0  # how often the service looks at the outbox besides PostgreSQL's notifications


@dataclass(frozen=True)
class ArchiveConfig:
    root: Path
    catalog_url: str  # sqlite:///file (the embedded default) or postgresql://role@host/db (a shared archive)
    work: Path
    catalog_index: Path | None = None  # the search index; None: beside the SQLite file
    catalog_password_env: str = ""
    catalog_password_file: Path | None = None
    station: str = ""  # this workstation's name in a shared catalog: its jobs are its own ('' in its own catalog)
    index: IndexConfig = field(default_factory=IndexConfig)

    @property
    def catalog_path(self) -> Path | None:
        """The SQLite file behind ``catalog_url``; None for a catalog on a database server."""
        if not self.catalog_url.startswith("sqlite:///"):
            return None
        return Path(self.catalog_url.removeprefix("sqlite:///"))

    @property
    def catalog_label(self) -> str:
        """The catalog as a person reads it: the file, or the server's URL (which holds no password)."""
        return str(self.catalog_path) if self.catalog_path is not None else self.catalog_url

    @property
    def index_path(self) -> Path:
        if self.catalog_index is not None:
            return self.catalog_index
        if self.catalog_path is not None:
            return self.catalog_path.with_name(self.catalog_path.stem + ".index")
        return self.root / ".catalog.index"  # on the shared archive folder ([index] service: the service writes it)

    def catalog(self) -> Any:
        """What ``Catalog`` opens: the SQLite file, or the server's URL with its password (from env or file).

        Without ``password_env``/``password_file`` the driver (libpq) still
        finds a password in ``PGPASSWORD`` or ``~/.pgpass``.
        """
        if self.catalog_path is not None:
            return self.catalog_path
        from sqlalchemy import make_url

        url = make_url(self.catalog_url)
        if self.catalog_password_env or self.catalog_password_file:
            secret = read_secret("catalog.password", self.catalog_password_env, self.catalog_password_file)
            url = url.set(password=secret.reveal())
        return url


@dataclass(frozen=True)
class StorageConfig:
    """``[storage]``: where the archive's files are kept (``scanner.archive.storage``).

    ``local`` (the default) keeps them in folders under ``[archive] root``,
    which may be a shared mount; ``s3`` in a bucket with Object Lock. Keys
    are never in the file: ``access_key_env``/``secret_key_env`` name
    environment variables, ``*_file`` files holding them, and without
    either boto3 finds them itself (``AWS_*`` variables, ``~/.aws``, the
    machine's role).
    """

    kind: str = "local"  # local | s3
    bucket: str = ""
    prefix: str = ""  # inside the bucket, ending in "/" (or empty)
    endpoint: str = ""  # https://s3.tinh.gov.vn (Ceph RGW, MinIO…); empty: AWS
    region: str = ""
    access_key_env: str = ""
    secret_key_env: str = ""
    access_key_file: Path | None = None
    secret_key_file: Path | None = None
    lock_mode: str = "GOVERNANCE"  # COMPLIANCE | GOVERNANCE, for the signed files
    legal_hold: bool = False  # also put a legal hold on every signed file
    default_retention: str = "vĩnh viễn"  # for a dossier without a retention period the program can read
    download_limit_mb: int = 2048  # the largest file read back to a temporary copy (verify, export, download)

    @property
    def location(self) -> str:
        """Where an S3 store's objects are, as a person reads it (``s3://bucket/prefix/``); empty for folders."""
        return f"s3://{self.bucket}/{self.prefix}" if self.kind == "s3" else ""

    def credentials(self) -> tuple[Secret, Secret] | None:
        """(access key id, secret key) from the environment or files; None: boto3's own chain finds them."""
        if not (self.access_key_env or self.secret_key_env or self.access_key_file or self.secret_key_file):
            return None
        return (
            read_secret("storage.access_key", self.access_key_env, self.access_key_file),
            read_secret("storage.secret_key", self.secret_key_env, self.secret_key_file),
        )


@dataclass(frozen=True)
class QueueConfig:
    """``[queue]``: the province's shared job queue (procrastinate, in the catalog's PostgreSQL).

    With it, ``scanner watch`` only takes files and enqueues their dossiers,
    and any number of machines run ``scanner worker``. A queued job's folder
    is read and written by whichever worker runs it, so it lives in WORK, a
    folder every machine mounts at the same path (the job files name pages
    by their path).
    """

    work: Path  # shared by every intake machine and worker: jobs/ and quarantine/ of queued work
    heartbeat_seconds: float = 10.0  # how often a worker says it is alive
    stalled_seconds: float = 60.0  # a worker silent this long is dead: its job goes to another worker
    poll_seconds: float = 5.0  # how often an idle worker looks for work besides PostgreSQL's notifications


# Sidecars (*.json) are read with their scan, never taken on their own.
DEFAULT_IGNORED = (
    "*.json",
    ".*",
    "~*",
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.swp",
    "*.lock",
    "Thumbs.db",
    "desktop.ini",
)


@dataclass(frozen=True)
class CaptureConfig:
    """How files are taken and grouped into dossiers (shared by every counter)."""

    ignore_patterns: tuple[str, ...] = DEFAULT_IGNORED
    max_file_mb: float = 500.0
    max_megapixels: float = 200.0
    dossier_idle_seconds: float = 600.0  # 0: every file is a dossier of its own
    separator_text: str = "PHAN-CACH-VAN-BAN"
    keep_receipt: bool = True
    blank_ink: float = 0.002
    max_attempts: int = 3


@dataclass(frozen=True)
class OcrConfig:
    languages: tuple[str, ...] = ("vie",)
    timeout_seconds: float = 180.0
    correct_marks: bool = True  # tone and vowel marks corrected after recognition (scanner.ocr.marks)


@dataclass(frozen=True)
class CleanConfig:
    """Switches of the cleaning steps (``scanner.clean.CleanOptions``); all on by default."""

    orientation: bool = True
    deskew: bool = True
    dropout: bool = True
    flatten: bool = True
    borders: bool = True
    despeckle: bool = True
    upscale: bool = True


@dataclass(frozen=True)
class PdfaConfig:
    """The archival PDF: its PDF/A part and how page images are kept, per agency where a rule says so."""

    flavour: str = "2b"
    image_storage: str = "compact"
    # agency code → "compact" | "lossless", for the agencies a rule binds to the original image
    storage_by_agency: dict[str, str] = field(default_factory=dict)

    def storage_for(self, agency_code: str) -> str:
        """How the pages of AGENCY_CODE's documents are kept."""
        return self.storage_by_agency.get(agency_code, self.image_storage)


class ReviewMode(StrEnum):
    """When a clerk confirms the recognized fields before the dossier is signed."""

    NEVER = "never"
    FLAGGED = "flagged"
    ALWAYS = "always"

    @property
    def label_vi(self) -> str:
        return _REVIEW_VI[self]


_REVIEW_VI = {
    ReviewMode.NEVER: "không chờ xác nhận",
    ReviewMode.FLAGGED: "chờ cán bộ xác nhận các trường bị đánh dấu",
    ReviewMode.ALWAYS: "luôn chờ cán bộ xác nhận",
}


@dataclass(frozen=True)
class ReviewConfig:
    """The counter's validation step; backfill never waits for it, whatever the mode."""

    mode: ReviewMode = ReviewMode.FLAGGED


@dataclass(frozen=True)
class SigningConfig:
    pkcs12: Path | None
    password_env: str = ""
    password_file: Path | None = None
    level: str = "B-B"
    trust_roots: tuple[Path, ...] = ()
    reason: str = "Sao y bản chính"
    location: str = ""
    tsa_url: str = ""  # RFC 3161 time-stamping authority, needed from B-T on
    # the key on a PKCS#11 token instead of a PKCS#12 file
    pkcs11_module: Path | None = None
    token_label: str = ""
    key_id: bytes | None = None
    key_label: str = ""
    pin_env: str = ""
    pin_file: Path | None = None
    # the visible mark (Nghị định 30/2020 Phụ lục I): top right of page 1
    visible: bool = True
    mark_text: str = "SAO Y"
    mark_agency: str = ""  # empty: the counter's agency_name

    def exposed_secrets(self) -> list[Path]:
        """The key, password and PIN files that users other than the owner and its group can read."""
        out = []
        for path in (self.pkcs12, self.password_file, self.pin_file):
            try:
                if path is not None and path.stat().st_mode & 0o007:
                    out.append(path)
            except OSError:
                continue
        return out

    def pin(self) -> Secret:
        """Read the token PIN from the environment variable, else the file."""
        if self.pin_env and self.pin_env in os.environ:
            return Secret(os.environ[self.pin_env])
        if self.pin_file is not None:
            return read_secret("signing.pin", "", self.pin_file)
        raise ConfigError(
            f"signing: chưa có mã PIN của token — đặt biến môi trường {self.pin_env or '(pin_env)'} "
            "hoặc khai báo pin_file",
            "signing: no token PIN — set the environment variable named by pin_env or give pin_file",
        )

    def password(self) -> Secret:
        """Read the PKCS#12 password from the environment variable, else the file."""
        if self.password_env and self.password_env in os.environ:
            return Secret(os.environ[self.password_env])
        if self.password_file is not None:
            return read_secret("signing.password", "", self.password_file)
        raise ConfigError(
            "signing: chưa có mật khẩu PKCS#12 — đặt biến môi trường "
            f"{self.password_env or '(password_env)'} hoặc khai báo password_file",
            "signing: no PKCS#12 password — set the environment variable named by password_env or give password_file",
        )


def read_secret(key: str, env: str, file: Path | None) -> Secret:
    """The secret in the environment variable ENV, else in FILE (its first line); KEY names it in errors."""
    if env and env in os.environ:
        return Secret(os.environ[env])
    if file is not None:
        try:
            return Secret(file.read_text(encoding="utf-8").rstrip("\r\n"))
        except OSError as exc:
            raise ConfigError(
                f"{key}_file: không đọc được tệp {file} ({exc.strerror})",
                f"{key}_file: cannot read {file} ({exc.strerror})",
            ) from None
    raise ConfigError(
        f"{key}: chưa có — đặt biến môi trường {env or f'({key}_env)'} hoặc khai báo {key}_file",
        f"{key}: missing — set the environment variable named by {key}_env or give {key}_file",
    )


@dataclass(frozen=True)
class Config:
    """Everything the workstation needs to know, validated."""

    source: Path | None
    archive: ArchiveConfig
    counters: tuple[CounterConfig, ...]
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    ocr: OcrConfig = field(default_factory=OcrConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    pdfa: PdfaConfig = field(default_factory=PdfaConfig)
    signing: SigningConfig = field(default_factory=lambda: SigningConfig(pkcs12=None))
    review: ReviewConfig = field(default_factory=ReviewConfig)
    workers: int = 0
    storage: StorageConfig = field(default_factory=StorageConfig)
    queue: QueueConfig | None = None  # None: the embedded default, jobs run where they are taken

    @property
    def job_area(self) -> Path:
        """Where job folders and quarantine live: the shared ``[queue] work`` folder, else this machine's work area."""
        return self.queue.work if self.queue is not None else self.archive.work

    @property
    def processes(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)

    @property
    def tesseract_languages(self) -> tuple[str, ...]:
        """Every Tesseract language this configuration needs, for the start-up check of the programs.

        ``osd`` is among them when pages are turned upright: without it
        orientation would silently stop working rather than fail.
        """
        return (*self.ocr.languages, "osd") if self.clean.orientation else self.ocr.languages

    def counter(self, name: str) -> CounterConfig:
        for c in self.counters:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.counters)
        raise ConfigError(
            f"không có quầy '{name}' trong cấu hình (các quầy: {known})",
            f"no counter '{name}' in the configuration (counters: {known})",
        )


def _err(key: str, vi: str, en: str) -> ConfigError:
    return ConfigError(f"{key}: {vi}", f"{key}: {en}", code="config")


class _Section:
    """Reads typed values from one TOML table, naming the full key on error."""

    def __init__(self, data: Any, prefix: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise _err(prefix, "phải là một bảng (table)", "must be a table")
        self.data = data
        self.prefix = prefix
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.seen.add(name)
        if name not in self.data:
            if default is ...:
                raise _err(self.key(name), "thiếu khóa bắt buộc", "required key is missing")
            return default
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise _err(self.key(name), f"phải có kiểu {names}", f"must be of type {names}")
        return value

    def path(self, name: str, base: Path, default: Any = ...) -> Any:
        """A path relative to BASE (the config file's folder); DEFAULT (possibly None) when absent."""
        value = self.get(name, str, default)
        if value is None or isinstance(value, Path):
            return value
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise _err(self.key(unknown[0]), "khóa không được hỗ trợ", "unknown key")


def load_config(path: Path | None = None) -> Config:
    """Load and validate the configuration from PATH, or from $SCANNER_CONFIG."""
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        if not env:
            raise ConfigError(
                f"chưa chỉ định tệp cấu hình: dùng --config hoặc biến môi trường {CONFIG_ENV}",
                f"no configuration file: pass --config or set {CONFIG_ENV}",
            )
        path = Path(env)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"không đọc được tệp cấu hình {path}: {exc.strerror}",
            f"cannot read configuration file {path}: {exc.strerror}",
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"tệp cấu hình {path} không đúng cú pháp TOML: {exc}",
            f"configuration file {path} is not valid TOML: {exc}",
        ) from None
    return parse_config(data, base=path.resolve().parent, source=path.resolve())


def _catalog(c: _Section, root: Path, work: Path, base: Path, old_key: str) -> ArchiveConfig:
    """``[catalog]``: one URL chooses the engine; a server's password is never in the file."""
    url = c.get("url", str, "")
    if url and old_key:
        raise _err("catalog.url", "chỉ khai báo một trong catalog.url và archive.catalog", "give catalog.url only")
    url = url or old_key or f"sqlite:///{root / 'catalog.sqlite'}"
    password_env = c.get("password_env", str, "")
    password_file = c.path("password_file", base, None)
    index = c.path("index", base, None)
    station = c.get("station", str, "")
    c.done()
    key = "catalog.url" if not old_key else "archive.catalog"
    if url.startswith("sqlite:///"):
        cat_path = Path(url.removeprefix("sqlite:///"))
        if not cat_path.is_absolute():
            url = f"sqlite:///{base / cat_path}"
    elif re.match(r"postgres(ql)?(\+psycopg)?://", url):
        from sqlalchemy import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError:
            raise _err(key, "URL không đúng dạng postgresql://vai-trò@máy/cơ-sở-dữ-liệu",
                       "not a URL of the form postgresql://role@host/database") from None  # fmt: skip
        if parsed.password:
            raise _err(key, "không ghi mật khẩu trong tệp cấu hình: dùng password_env, password_file hoặc ~/.pgpass",
                       "no password in the file: use password_env, password_file or ~/.pgpass")  # fmt: skip
        if not parsed.database:
            raise _err(key, "thiếu tên cơ sở dữ liệu", "the database name is missing")
        url = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        station = station or socket.gethostname()
    else:
        raise _err(key, "dạng sqlite:///đường/dẫn hoặc postgresql://vai-trò@máy/cơ-sở-dữ-liệu",
                   "use sqlite:///path or postgresql://role@host/database")  # fmt: skip
    return ArchiveConfig(root, url, work, index, password_env, password_file, station)


def parse_config(data: dict[str, Any], *, base: Path, source: Path | None = None) -> Config:
    """Validate a TOML document already parsed into a dict."""
    top = _Section(data, "")

    a = _Section(top.get("archive", dict), "archive")
    root = a.path("root", base)
    work = a.path("work", base, str(root.parent / "work"))
    old_key = a.get("catalog", str, "")  # where releases before the [catalog] table named it
    a.done()
    archive = _catalog(_Section(top.get("catalog", dict, {}), "catalog"), root, work, base, old_key)

    counters_raw = top.get("counters", list)
    if not counters_raw:
        raise _err("counters", "cần ít nhất một quầy", "at least one counter is required")
    counters: list[CounterConfig] = []
    for i, item in enumerate(counters_raw):
        s = _Section(item, f"counters[{i}]")
        name = s.get("name", str)
        if not re.fullmatch(r"[\w.-]{1,64}", name):
            raise _err(s.key("name"), "chỉ gồm chữ, số, '.', '-', '_'", "letters, digits, '.', '-', '_' only")
        agency = s.get("agency_code", str)
        if not is_agency_code(agency):
            raise _err(
                s.key("agency_code"),
                f"mã định danh cơ quan '{agency}' không hợp lệ (dạng 000.00.00.H32 hoặc H32.xx, tối đa 35 ký tự)",
                f"agency code '{agency}' is invalid (form 000.00.00.H32 or H32.xx, at most 35 characters)",
            )
        procedure = s.get("procedure_code", str, "")
        if procedure and not is_procedure_code(procedure):
            raise _err(
                s.key("procedure_code"),
                f"mã thủ tục '{procedure}' không hợp lệ (dạng 1.000894)",
                f"procedure code '{procedure}' is invalid (form 1.000894)",
            )
        poll = s.get("poll_seconds", float, 0.0)
        settle = s.get("settle_seconds", float, 2.0)
        for key, value in (("poll_seconds", poll), ("settle_seconds", settle)):
            if value < 0:
                raise _err(s.key(key), "không được âm", "must not be negative")
        counters.append(
            CounterConfig(
                name=name,
                inbox=s.path("inbox", base),
                agency_code=agency,
                agency_name=s.get("agency_name", str),
                procedure_code=procedure,
                poll_seconds=poll,
                settle_seconds=settle,
            )
        )
        s.done()
    if len({c.name for c in counters}) != len(counters):
        raise _err("counters", "tên quầy bị trùng", "counter names must be unique")

    cp = _Section(top.get("capture", dict, {}), "capture")
    patterns = cp.get("ignore_patterns", list, list(DEFAULT_IGNORED))
    if not all(isinstance(x, str) and x for x in patterns):
        raise _err(cp.key("ignore_patterns"), "danh sách mẫu tên tệp", "a list of file name patterns")
    capture = CaptureConfig(
        ignore_patterns=tuple(patterns),
        max_file_mb=cp.get("max_file_mb", float, 500.0),
        max_megapixels=cp.get("max_megapixels", float, 200.0),
        dossier_idle_seconds=cp.get("dossier_idle_seconds", float, 600.0),
        separator_text=cp.get("separator_text", str, "PHAN-CACH-VAN-BAN"),
        keep_receipt=cp.get("keep_receipt", bool, True),
        blank_ink=cp.get("blank_ink", float, 0.002),
        max_attempts=cp.get("max_attempts", int, 3),
    )
    for key, value in (("max_file_mb", capture.max_file_mb), ("max_megapixels", capture.max_megapixels)):
        if value <= 0:
            raise _err(cp.key(key), "phải lớn hơn 0", "must be positive")
    if capture.dossier_idle_seconds < 0:
        raise _err(cp.key("dossier_idle_seconds"), "không được âm", "must not be negative")
    if not 0 <= capture.blank_ink < 1:
        raise _err(cp.key("blank_ink"), "phải trong khoảng [0, 1)", "must be in [0, 1)")
    if capture.max_attempts < 1:
        raise _err(cp.key("max_attempts"), "phải từ 1 trở lên", "must be at least 1")
    cp.done()

    o = _Section(top.get("ocr", dict, {}), "ocr")
    langs = o.get("languages", list, ["vie"])
    if not langs or not all(isinstance(x, str) and re.fullmatch(r"[a-z_]{3,16}", x) for x in langs):
        raise _err(
            o.key("languages"),
            'danh sách mã ngôn ngữ Tesseract, ví dụ ["vie"]',
            'a list of Tesseract language codes, e.g. ["vie"]',
        )
    ocr = OcrConfig(
        languages=tuple(langs),
        timeout_seconds=o.get("timeout_seconds", float, 180.0),
        correct_marks=o.get("correct_marks", bool, True),
    )
    o.done()

    c = _Section(top.get("clean", dict, {}), "clean")
    clean = CleanConfig(**{k: c.get(k, bool, True) for k in CleanConfig.__dataclass_fields__})
    c.done()

    p = _Section(top.get("pdfa", dict, {}), "pdfa")
    flavour = p.get("flavour", str, "2b")
    if flavour not in PDFA_FLAVOURS:
        raise _err(p.key("flavour"), "chỉ nhận '2b' hoặc '1b'", "must be '2b' or '1b'")
    image_storage = p.get("image_storage", str, "compact")
    by_agency = p.get("image_storage_by_agency", dict, {})
    for key, value in (
        ("image_storage", image_storage),
        *((f"image_storage_by_agency.{k}", v) for k, v in by_agency.items()),
    ):
        if value not in IMAGE_STORAGES:
            raise _err(p.key(key), "chỉ nhận 'compact' hoặc 'lossless'", "must be 'compact' or 'lossless'")
    for agency in by_agency:
        if not is_agency_code(agency):
            raise _err(
                p.key(f"image_storage_by_agency.{agency}"),
                "mã định danh cơ quan không hợp lệ (dạng 000.00.00.H32 hoặc H32.xx)",
                "not a valid agency code (form 000.00.00.H32 or H32.xx)",
            )
    p.done()

    sg = _Section(top.get("signing", dict, {}), "signing")
    level = sg.get("level", str, "B-B")
    if level not in SIGNATURE_LEVELS:
        raise _err(sg.key("level"), f"phải là một trong {SIGNATURE_LEVELS}", f"must be one of {SIGNATURE_LEVELS}")
    roots = sg.get("trust_roots", list, [])
    if not all(isinstance(r, str) for r in roots):
        raise _err(sg.key("trust_roots"), "danh sách đường dẫn", "a list of paths")
    signing = SigningConfig(
        pkcs12=sg.path("pkcs12", base, None),
        password_env=sg.get("password_env", str, ""),
        password_file=sg.path("password_file", base, None),
        level=level,
        trust_roots=tuple((base / r) if not Path(r).is_absolute() else Path(r) for r in roots),
        reason=sg.get("reason", str, "Sao y bản chính"),
        location=sg.get("location", str, ""),
        tsa_url=sg.get("tsa_url", str, "").strip(),
        pkcs11_module=sg.path("pkcs11_module", base, None),
        token_label=sg.get("token_label", str, ""),
        key_id=_key_id(sg),
        key_label=sg.get("key_label", str, ""),
        pin_env=sg.get("pin_env", str, ""),
        pin_file=sg.path("pin_file", base, None),
        visible=sg.get("visible", bool, True),
        mark_text=sg.get("mark_text", str, "SAO Y").strip(),
        mark_agency=sg.get("mark_agency", str, "").strip(),
    )
    _check_signing(signing)
    sg.done()

    rv = _Section(top.get("review", dict, {}), "review")
    mode = rv.get("mode", str, ReviewMode.FLAGGED.value)
    if mode not in {m.value for m in ReviewMode}:
        choices = ", ".join(f'"{m.value}"' for m in ReviewMode)
        raise _err(rv.key("mode"), f"phải là một trong {choices}", f"must be one of {choices}")
    rv.done()

    w = _Section(top.get("workers", dict, {}), "workers")
    processes = w.get("processes", int, 0)
    if processes < 0:
        raise _err(w.key("processes"), "không được âm (0 = số nhân CPU)", "must not be negative (0 = CPU count)")
    w.done()
    storage = _storage(_Section(top.get("storage", dict, {}), "storage"), base)
    index = _index(_Section(top.get("index", dict, {}), "index"))
    archive = dataclasses.replace(archive, index=index)
    queue_table = top.get("queue", dict, None)
    queue = _queue(_Section(queue_table, "queue"), base, archive) if queue_table is not None else None
    top.done()
    return Config(
        source=source,
        archive=archive,
        counters=tuple(counters),
        capture=capture,
        ocr=ocr,
        clean=clean,
        pdfa=PdfaConfig(flavour=flavour, image_storage=image_storage, storage_by_agency=dict(by_agency)),
        signing=signing,
        review=ReviewConfig(mode=ReviewMode(mode)),
        workers=processes,
        storage=storage,
        queue=queue,
    )


def _storage(st: _Section, base: Path) -> StorageConfig:
    """``[storage]``: the kind, the bucket and its lock; a key written into the file is refused, never used."""
    from scanner.retention import LOCK_MODES, retention_years

    for secret in ("access_key", "secret_key", "access_key_id", "secret_access_key", "aws_secret_access_key"):
        if secret in st.data:
            raise _err(st.key(secret), "không ghi khóa truy cập trong tệp cấu hình: dùng access_key_env/secret_key_env "
                       "hoặc access_key_file/secret_key_file", "no keys in the file: use *_env or *_file")  # fmt: skip
    kind = st.get("kind", str, "local")
    if kind not in ("local", "s3"):
        raise _err(st.key("kind"), 'phải là "local" hoặc "s3"', 'must be "local" or "s3"')
    prefix = st.get("prefix", str, "").strip("/")
    cfg = StorageConfig(
        kind=kind,
        bucket=st.get("bucket", str, ""),
        prefix=prefix + "/" if prefix else "",
        endpoint=st.get("endpoint", str, "").rstrip("/"),
        region=st.get("region", str, ""),
        access_key_env=st.get("access_key_env", str, ""),
        secret_key_env=st.get("secret_key_env", str, ""),
        access_key_file=st.path("access_key_file", base, None),
        secret_key_file=st.path("secret_key_file", base, None),
        lock_mode=st.get("lock_mode", str, "GOVERNANCE").upper(),
        legal_hold=st.get("legal_hold", bool, False),
        default_retention=unicodedata.normalize("NFC", st.get("default_retention", str, "vĩnh viễn")),
        download_limit_mb=st.get("download_limit_mb", int, 2048),
    )
    st.done()
    if kind == "s3" and not cfg.bucket:
        raise _err(st.key("bucket"), 'cần tên bucket khi kind = "s3"', 'a bucket is required with kind = "s3"')
    if cfg.lock_mode not in LOCK_MODES:
        raise _err(st.key("lock_mode"), 'phải là "COMPLIANCE" hoặc "GOVERNANCE"', "must be COMPLIANCE or GOVERNANCE")
    if retention_years(cfg.default_retention) is None:
        raise _err(st.key("default_retention"), 'dạng "vĩnh viễn" hoặc "N năm"', 'use "vĩnh viễn" or "N năm"')
    if cfg.endpoint and not re.match(r"https?://", cfg.endpoint):
        raise _err(st.key("endpoint"), "phải bắt đầu bằng https:// (hoặc http://)", "must start with https://")
    if cfg.endpoint and "@" in cfg.endpoint.split("//", 1)[1].split("/", 1)[0]:
        raise _err(st.key("endpoint"), "không ghi khóa truy cập trong địa chỉ", "no credentials in the endpoint")
    if cfg.download_limit_mb <= 0:
        raise _err(st.key("download_limit_mb"), "phải lớn hơn 0", "must be positive")
    return cfg


def _index(ix: _Section) -> IndexConfig:
    cfg = IndexConfig(
        service=ix.get("service", bool, False),
        heap_mb=ix.get("heap_mb", int, 256),
        batch=ix.get("batch", int, 10_000),
        pending_limit=ix.get("pending_limit", int, 1_000),
        poll_seconds=ix.get("poll_seconds", float, 2.0),
    )
    ix.done()
    if cfg.heap_mb < 32:
        raise _err(ix.key("heap_mb"), "ít nhất 32 (MB)", "at least 32 (MB)")
    for key in ("batch", "poll_seconds"):
        if getattr(cfg, key) <= 0:
            raise _err(ix.key(key), "phải lớn hơn 0", "must be positive")
    if cfg.pending_limit < 0:
        raise _err(ix.key("pending_limit"), "không được âm", "must not be negative")
    return cfg


def _queue(q: _Section, base: Path, archive: ArchiveConfig) -> QueueConfig:
    """``[queue]``: only on a PostgreSQL catalog (the queue lives there), with a shared work folder."""
    if archive.catalog_path is not None:
        raise _err("queue", "hàng đợi chung cần danh mục PostgreSQL ([catalog] url = \"postgresql://…\")",
                   "the shared queue needs a PostgreSQL catalog ([catalog] url = \"postgresql://…\")")  # fmt: skip
    queue = QueueConfig(
        work=q.path("work", base),
        heartbeat_seconds=q.get("heartbeat_seconds", float, 10.0),
        stalled_seconds=q.get("stalled_seconds", float, 60.0),
        poll_seconds=q.get("poll_seconds", float, 5.0),
    )
    for key in ("heartbeat_seconds", "stalled_seconds", "poll_seconds"):
        if getattr(queue, key) <= 0:
            raise _err(q.key(key), "phải lớn hơn 0", "must be positive")
    if queue.stalled_seconds < 2 * queue.heartbeat_seconds:
        raise _err(q.key("stalled_seconds"), "phải ít nhất gấp đôi heartbeat_seconds (một nhịp trễ không phải là chết)",
                   "must be at least twice heartbeat_seconds (one late heartbeat is not a death)")  # fmt: skip
    q.done()
    return queue


def _key_id(sg: _Section) -> bytes | None:
    """signing.key_id as bytes: hex digits, optionally separated by ':' or spaces as token tools print them."""
    raw = sg.get("key_id", str, "")
    if not raw:
        return None
    digits = re.sub(r"[\s:]", "", raw)
    if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", digits):
        raise _err(sg.key("key_id"), 'phải là chuỗi hex, ví dụ "a1b2c3"', 'must be hex, e.g. "a1b2c3"')
    return bytes.fromhex(digits)


def _check_signing(s: SigningConfig) -> None:
    """The [signing] keys that only make sense together."""
    if s.pkcs12 is not None and s.pkcs11_module is not None:
        raise _err(
            "signing.pkcs11_module",
            "chỉ khai báo một trong pkcs12 hoặc pkcs11_module",
            "give either pkcs12 or pkcs11_module, not both",
        )
    if s.pkcs11_module is not None:
        if not s.token_label.strip():
            raise _err("signing.token_label", "cần nhãn token khi dùng pkcs11_module", "required with pkcs11_module")
        if (s.key_id is None) == (not s.key_label):
            raise _err(
                "signing.key_id",
                "khai báo đúng một trong key_id (khuyên dùng) hoặc key_label",
                "give exactly one of key_id (preferred) or key_label",
            )
        if not s.pin_env and s.pin_file is None:
            raise _err(
                "signing.pin_env",
                "cần pin_env hoặc pin_file (không ghi mã PIN vào tệp cấu hình)",
                "pin_env or pin_file is required",
            )
    if s.tsa_url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", s.tsa_url):
        raise _err("signing.tsa_url", "phải là địa chỉ http:// hoặc https://", "must be an http:// or https:// URL")
    if s.level != "B-B" and not s.tsa_url:
        raise _err(
            "signing.tsa_url",
            f"mức chữ ký {s.level} cần máy chủ dấu thời gian (TSA)",
            f"signature level {s.level} needs a time-stamping authority",
        )
    if s.level in ("B-LT", "B-LTA") and not s.trust_roots:
        raise _err(
            "signing.trust_roots",
            f"mức chữ ký {s.level} cần chứng thư gốc tin cậy để kiểm tra trạng thái thu hồi",
            f"signature level {s.level} needs trust anchors to check revocation",
        )
    if s.visible and not s.mark_text:
        raise _err("signing.mark_text", "không được để trống khi visible = true", "must not be empty when visible")
    if len(s.mark_text) > 60 or len(s.mark_agency) > 200:
        raise _err("signing.mark_text", "quá dài cho dấu chữ ký hiển thị", "too long for the visible mark")


def template_text() -> str:
    """The configuration template as shipped in the package, placeholders unfilled."""
    return resources.files("scanner").joinpath(TEMPLATE).read_text(encoding="utf-8")


def _toml_string_body(value: str) -> str:
    """VALUE escaped to sit between the double quotes of a TOML basic string."""
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def render_template(*, agency: str, agency_name: str, pkcs12: str, ca: str) -> str:
    """The configuration file ``scanner init`` writes: the template with one counter's agency and the keys.

    Values are escaped for TOML, so an agency name with quotes or
    backslashes reads back exactly as given; PKCS12 and CA are paths,
    relative to the configuration file's folder or absolute.
    """
    values = {"agency": agency, "agency_name": agency_name, "pkcs12": pkcs12, "ca": ca}
    return Template(template_text()).substitute({k: _toml_string_body(v) for k, v in values.items()})
