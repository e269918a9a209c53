"""Checkpoints of the audit log, signed with the agency key and kept outside the database.

The audit log's hash chain catches an entry edited or removed in place,
but someone with the catalog file and the sqlite3 shell can drop the
append-only triggers, delete the last entries, reset the id counter, or
recompute every hash from the first entry on: the chain is then intact
again, and says nothing. A chain can only be held to something its editor
cannot rewrite. So, every so often, the head of the chain (last id, its
hash, how many entries, when) is written to a small JSON file beside the
archive and signed with the agency's key — the same identity that signs
the dossiers — as a detached CMS signature (``.p7s``, what
``openssl cms -verify`` reads). Rewriting the log then means forging the
agency's signature on every checkpoint after the edit.

Checkpoints are ``.audit/checkpoint-NNNNNN.json`` and ``.p7s`` in the
archive's storage (a folder under the archive root, or the S3 bucket,
where they get the longest Object Lock), numbered from 1; a file is created once and never rewritten (a
number taken is skipped, never reused). Each checkpoint also leaves an
``audit-checkpoint`` entry in the log, so a checkpoint file removed later
is missed by name.

``audit verify`` (``verify_checkpoints``) checks every checkpoint: its
signature chains to a CA in ``signing.trust_roots``; the database still
holds entry ``last_id`` with exactly that hash, and exactly ``count``
entries up to it. What a checkpoint cannot see is entries written after
the newest one and removed before the next: checkpoint often
(``maybe_checkpoint``, after every ``every`` entries and at least daily).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from scanner.app import SYSTEM
from scanner.archive import Catalog
from scanner.archive.catalog import now_iso
from scanner.archive.storage import Storage, as_storage, open_storage
from scanner.errors import ArchiveError, SigningError

if TYPE_CHECKING:
    from scanner.config import Config, SigningConfig

FOLDER = ".audit"
FORMAT = "scanner-audit-checkpoint/1"
ACTION = "audit-checkpoint"
DAILY = timedelta(days=1)
KEPT_FOR = "vĩnh viễn"  # a checkpoint vouches for the log as long as any record it names is kept

_NAME = re.compile(r"^checkpoint-(\d{6,})\.(json|p7s)$")

# Signs the exact bytes of a checkpoint file; returns a detached CMS SignedData, DER.
Signer = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as its file says (read, not yet verified)."""

    number: int
    last_id: int
    hash: str
    count: int
    time: str  # ISO 8601 with offset
    path: PurePosixPath  # the .json, relative to the archive; its signature is the same name with .p7s


def _name(number: int, suffix: str) -> str:
    return f"checkpoint-{number:06d}.{suffix}"


def _numbers(files: Storage) -> dict[int, set[str]]:
    """Checkpoint numbers present in the folder, with the suffixes each has."""
    out: dict[int, set[str]] = {}
    for name in files.own_names(FOLDER):
        if m := _NAME.match(name):
            out.setdefault(int(m.group(1)), set()).add(m.group(2))
    return out


def _number_of(stem: str) -> int:
    m = _NAME.match(f"{stem}.json")
    return int(m.group(1)) if m else 0


def _read(data: bytes, number: int) -> Checkpoint:
    body = json.loads(data)
    if body.get("format") != FORMAT:
        raise ValueError(f"unknown format {body.get('format')!r}")
    rel = PurePosixPath(FOLDER, _name(number, "json"))
    return Checkpoint(number, int(body["last_id"]), str(body["hash"]), int(body["count"]), str(body["time"]), rel)


def latest(where: Path | Storage) -> Checkpoint | None:
    """The newest checkpoint that can be read (signature not checked: this is for deciding when to write)."""
    files = as_storage(where)
    for number in sorted(_numbers(files), reverse=True):
        try:
            data = files.read_own(f"{FOLDER}/{_name(number, 'json')}")
            if data is not None:
                return _read(data, number)
        except (ValueError, KeyError):
            continue
    return None


def _day(value: str) -> str:
    """A checkpoint's time as an officer reads it: ``01/12/2026 15:04 (+07:00)``."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.strftime("%z")
    return f"{moment:%d/%m/%Y %H:%M}" + (f" ({offset[:3]}:{offset[3:]})" if offset else "")


# --- writing -------------------------------------------------------------------------------------


def write_checkpoint(
    catalog: Catalog, where: Path | Storage, sign: Signer, *, actor: str = SYSTEM.label
) -> PurePosixPath | None:
    """Sign the head of the audit log into the next checkpoint file; None when the log is empty.

    WHERE is the archive's storage (or its root folder): on a province's
    shared archive every worker checkpoints the one log into the one
    archive, and on S3 the files get the longest Object Lock. The signature
    is made before either file exists and both are created exclusively,
    the ``.p7s`` first: a crash leaves at most a signature without its
    checkpoint (a number skipped), never a checkpoint without its
    signature. Two machines that pick the same number: the second is told
    to run again. The checkpoint is then itself an audit entry.
    """
    files = as_storage(where)
    head = catalog.custody_store.audit_head()
    if head is None:
        return None
    last_id, last_hash, count = head
    named = (_NAME.match(f"{e.subject}.json") for e in catalog.custody_store.entries_of(ACTION))
    taken = [*_numbers(files), *(int(m.group(1)) for m in named if m)]
    number = max(taken, default=0) + 1  # a number the log names is never given again, even if its file is gone
    body = {"format": FORMAT, "number": number, "last_id": last_id, "hash": last_hash, "count": count,
            "time": now_iso()}  # fmt: skip
    payload = (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    signature = sign(payload)
    keep = files.lock(KEPT_FOR, date.today())
    target = PurePosixPath(FOLDER, _name(number, "json"))
    try:
        files.create_own(f"{FOLDER}/{_name(number, 'p7s')}", signature, keep)
        files.create_own(str(target), payload, keep)
    except FileExistsError:
        raise ArchiveError(
            f"điểm neo số {number} vừa được một tiến trình khác ghi — chạy lại lệnh",
            f"checkpoint {number} was just written by another process; run again",
        ) from None
    catalog.audit(ACTION, target.stem, f"mục {last_id}, {count} mục, băm {last_hash[:16]}…", actor=actor)
    return target


def maybe_checkpoint(
    catalog: Catalog, config: Config, *, every: int = 100, now: datetime | None = None
) -> PurePosixPath | None:
    """Write a checkpoint when EVERY entries came since the last one, or a day passed and anything came.

    For the service: call it after each dossier is filed and from the
    idle loop (when nothing is due it only reads the head of the log and the newest checkpoint).
    The checkpoint's own audit entry does not count as news.
    """
    head = catalog.custody_store.audit_head()
    if head is None:
        return None
    files = open_storage(config)
    last = latest(files)
    if last is not None:
        new = head[0] - last.last_id - 1  # the last checkpoint's own entry is not news
        try:
            age = (now or datetime.now().astimezone()) - datetime.fromisoformat(last.time)
        except (TypeError, ValueError):
            age = DAILY
        if new < every and not (new > 0 and age >= DAILY):
            return None
    return write_checkpoint(catalog, files, agency_signer(config.signing))


def agency_signer(signing: SigningConfig) -> Signer:
    """A signer of checkpoint bytes with the agency's identity: the PKCS#12 file, else the token.

    The key is opened when a checkpoint is signed; the password or PIN goes
    only to the key store and is never in a message. A PKCS#12 key signs
    with ``cryptography``'s PKCS#7 builder; with ``signing.tsa_url`` set
    the signature also carries an RFC 3161 timestamp (proof of when, not
    only the workstation's clock), which that builder cannot add, so then
    pyHanko signs, as it does on a token.
    """
    from scanner.sign.tsa import HttpTimeStamper

    stamper = HttpTimeStamper(signing.tsa_url) if signing.tsa_url else None
    if signing.pkcs11_module is not None:
        return _token_signer(signing, stamper)
    if signing.pkcs12 is None:
        raise SigningError(
            "chưa cấu hình khóa ký số của cơ quan (signing.pkcs12 hoặc signing.pkcs11_module) để ký điểm neo",
            "no agency signing key configured (signing.pkcs12 or signing.pkcs11_module) to sign checkpoints",
        )
    pkcs12_path = signing.pkcs12
    password = signing.password()
    if stamper is not None:

        def sign_stamped(payload: bytes) -> bytes:
            from scanner.sign.pades import load_identity

            signer, _cert = load_identity(pkcs12_path, password)
            return _pyhanko_cms(signer, payload, stamper)

        return sign_stamped

    def sign(payload: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import Encoding, pkcs7, pkcs12

        try:
            data = pkcs12_path.read_bytes()
        except OSError as exc:
            raise SigningError(
                f"không đọc được tệp khóa ký số {pkcs12_path} ({exc.strerror})",
                f"cannot read the PKCS#12 file {pkcs12_path} ({exc.strerror})",
            ) from None
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password.reveal().encode("utf-8"))
        except (ValueError, TypeError):  # a wrong password and a damaged file look alike; never echo details
            raise SigningError(
                f"không mở được tệp khóa ký số {pkcs12_path.name}: sai mật khẩu hoặc tệp bị hỏng",
                f"cannot open the PKCS#12 file {pkcs12_path.name}: wrong password or damaged file",
                code="sign-password",
            ) from None
        if key is None or cert is None:
            raise SigningError(
                f"tệp khóa ký số {pkcs12_path.name} không chứa khóa và chứng thư số",
                f"{pkcs12_path.name} holds no key and certificate",
            )
        builder = pkcs7.PKCS7SignatureBuilder().set_data(payload).add_signer(cert, key, hashes.SHA256())  # type: ignore[arg-type]
        for other in extra:
            builder = builder.add_certificate(other)
        options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
        return builder.sign(Encoding.DER, options)

    return sign


def _token_signer(signing: SigningConfig, stamper: Any) -> Signer:
    """Sign on the PKCS#11 token through pyHanko, as the PDFs are signed (see ``scanner.sign.token``)."""
    from scanner.sign.token import TokenKey, open_token

    assert signing.pkcs11_module is not None
    spec = TokenKey(signing.pkcs11_module, signing.token_label, signing.pin(), signing.key_id, signing.key_label)

    def sign(payload: bytes) -> bytes:
        with open_token(spec) as (signer, _cert):
            return _pyhanko_cms(signer, payload, stamper)

    return sign


def _pyhanko_cms(signer: Any, payload: bytes, stamper: Any) -> bytes:
    info = asyncio.run(signer.async_sign_general_data(payload, "sha256", detached=True, timestamper=stamper))
    return bytes(info.dump())


# --- verifying -----------------------------------------------------------------------------------


def _signature_problem(payload: bytes, p7s: bytes, roots: list[Any]) -> str | None:
    """Why the detached CMS signature P7S does not vouch for PAYLOAD, or None when it does.

    ``openssl cms -verify -binary -CAfile <trust roots>`` semantics: the
    signature verifies over the exact bytes, and the signer's certificate
    chains to one of the configured roots (never the system's list; nothing
    fetched).
    """
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    from scanner.sign.verify import KEY_USAGE

    try:
        signed_data = cms.ContentInfo.load(p7s)["content"]
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        status = asyncio.run(
            async_validate_detached_cms(payload, signed_data, signer_validation_context=context,
                                        key_usage_settings=KEY_USAGE)
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 — a mangled signature file is an answer, not a crash
        return f"tệp chữ ký bị hỏng, không kiểm tra được ({type(exc).__name__})"
    if not (status.intact and status.valid):
        return "chữ ký không khớp với nội dung tệp (tệp điểm neo đã bị sửa)"
    if not status.trusted:
        return "chữ ký không do chứng thư thuộc danh sách tin cậy (trust_roots) tạo ra"
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        return "dấu thời gian trên chữ ký không hợp lệ hoặc TSA không thuộc danh sách tin cậy"
    return None


def verify_checkpoints(
    catalog: Catalog, where: Path | Storage, trust_roots: tuple[Path, ...], *, when: Callable[[str], str] | None = None
) -> tuple[int, list[str]]:
    """(checkpoints found, problems in Vietnamese) of every checkpoint in WHERE against the catalog's log.

    WHEN renders a stored time for the officer (the application layer's
    agency time); by default the time as stored, with its offset.
    """
    when = when or _day
    from pyhanko.keys import load_certs_from_pemder

    problems: list[str] = []
    roots: list[Any] = []
    for r in trust_roots:
        try:
            roots.extend(load_certs_from_pemder([str(r)]))
        except (OSError, ValueError):
            problems.append(f"không đọc được chứng thư gốc tin cậy {r}")
    files = as_storage(where)
    found = _numbers(files)
    store = catalog.custody_store
    for number in range(1, max(found, default=0) + 1):
        suffixes = found.get(number, set())
        name = _name(number, "json")
        if "json" not in suffixes:
            if "p7s" not in suffixes:
                problems.append(f"điểm neo số {number} ({FOLDER}/{name}) đã bị xóa")
            continue  # a signature alone: a write cut short before the checkpoint itself existed
        said = f"điểm neo {FOLDER}/{name}"
        payload = files.read_own(f"{FOLDER}/{name}") or b""
        p7s = files.read_own(f"{FOLDER}/{_name(number, 'p7s')}")
        if p7s is None:
            problems.append(f"{said}: thiếu tệp chữ ký {_name(number, 'p7s')}")
            continue
        if (problem := _signature_problem(payload, p7s, roots)) is not None:
            problems.append(f"{said}: {problem}")
            continue
        try:
            point = _read(payload, number)
        except (ValueError, KeyError) as exc:
            problems.append(f"{said}: nội dung không đọc được ({type(exc).__name__})")
            continue
        signed_on = when(point.time)
        now = store.audit_entry_at(point.last_id)
        if now is None:
            problems.append(
                f"nhật ký kiểm toán đã bị sửa: mục {point.last_id} không còn trong cơ sở dữ liệu, "
                f"dù điểm neo ký ngày {signed_on} ({name}) ghi nhận nó"
            )
        elif now[0] != point.hash:
            problems.append(
                f"nhật ký kiểm toán đã bị sửa: mục {point.last_id} không còn khớp với điểm neo ký ngày "
                f"{signed_on} ({name})"
            )
        elif now[1] != point.count:
            problems.append(
                f"nhật ký kiểm toán đã bị sửa: đến mục {point.last_id} có {now[1]} mục, điểm neo ký ngày "
                f"{signed_on} ({name}) ghi {point.count} mục"
            )
    for entry in store.entries_of(ACTION):
        if "json" not in found.get(_number_of(entry.subject), set()):
            problems.append(
                f"điểm neo {FOLDER}/{entry.subject}.json được ghi ở mục {entry.id} của nhật ký nhưng không còn tệp"
            )
    return sum("json" in s for s in found.values()), problems


def unanchored(
    catalog: Catalog, where: Path | Storage, *, now: datetime | None = None, when: Callable[[str], str] | None = None
) -> tuple[list[str], list[str]]:
    """(problems, notes) about the entries no checkpoint vouches for.

    A log with entries older than a day and no checkpoint at all either
    never had one or had them removed (with their entries): either way
    nothing outside the database vouches for it, and that is a fault. Entries
    after the newest checkpoint are only a note: they wait for the next one.
    """
    when = when or _day
    entries = catalog.audit_entries()
    if not entries:
        return [], []
    moment = now or datetime.now().astimezone()
    last = latest(where)
    if last is None:
        oldest = entries[-1]
        try:
            old = moment - datetime.fromisoformat(oldest.time) >= DAILY
        except (TypeError, ValueError):
            old = True
        said = (
            f"nhật ký kiểm toán có mục từ {when(oldest.time)} nhưng không có điểm neo đã ký nào trong {FOLDER}: "
            "các điểm neo đã bị xóa, hoặc chưa từng được ký (chạy: scanner audit checkpoint)"
        )
        return ([said], []) if old else ([], [said])
    after = [e for e in entries if e.id > last.last_id and not (e.action == ACTION and e.subject == last.path.stem)]
    if not after:
        return [], []
    return [], [
        f"{len(after)} mục sau điểm neo mới nhất ({last.path.name}, ký {when(last.time)}) chưa được neo: "
        "chỉ chuỗi băm bảo vệ chúng cho tới điểm neo kế tiếp"
    ]


__all__ = [
    "ACTION",
    "FOLDER",
    "Checkpoint",
    "agency_signer",
    "latest",
    "maybe_checkpoint",
    "unanchored",
    "verify_checkpoints",
    "write_checkpoint",
]
