"""Verification of the PDF signatures in a file, for the archive check and for signed incoming papers.

``verify_pdf`` returns one :class:`SignatureReport` per signature, in the
order they were applied (a ward's "SAO Y" copy signed again by the district
has two). A file without signatures gives an empty list. A file that cannot
be read as a PDF at all gives a single report with ``intact=False`` and the
reason in ``problems``; nothing here raises on a damaged file, because the
callers are checking precisely for damage.

Validation is pyHanko's, offline: trust comes only from the configured
roots (never the operating system's list), nothing is fetched from the
network, and missing revocation data is accepted ("soft-fail"), since the
development CA publishes none. ``problems`` lists, in Vietnamese, only what
makes a signature unacceptable: a signature that covers its own revision
and was followed by permitted updates (a later signature, for instance) is
fine. Document timestamps (PAdES B-LTA) are not reported yet.
"""

from __future__ import annotations

import logging
import mmap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import x509
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESSubIndic
from pyhanko.sign.diff_analysis import SuspiciousModification
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    KeyUsageConstraints,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    validate_pdf_signature,
)
from pyhanko_certvalidator import ValidationContext

from scanner.sign.pades import common_name

log = logging.getLogger(__name__)

# Vietnamese CAs issue signing certificates with digitalSignature, nonRepudiation or both.
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)

_EXPIRED: frozenset[AdESSubIndic] = frozenset(
    {
        AdESIndeterminate.EXPIRED,
        AdESIndeterminate.NOT_YET_VALID,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
        AdESFailure.NOT_YET_VALID,
    }
)
_REVOKED: frozenset[AdESSubIndic] = frozenset(
    {AdESFailure.REVOKED, AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE}
)


@dataclass(frozen=True)
class SignatureReport:
    """What one signature of a PDF is worth.

    ``intact``: the signed byte ranges still hash to the signed digest.
    ``valid``: the CMS signature over that digest verifies.
    ``trusted``: the signer's certificate chains to one of the trust roots
    and is usable for signing now. ``covers_whole_file``: nothing was
    appended after this signature.
    """

    path: Path
    signed: bool
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    signer: str
    signing_time: datetime | None
    problems: tuple[str, ...]
    field_name: str = ""


def verify_pdf(path: Path, trust_roots: Sequence[Path]) -> list[SignatureReport]:
    """Check every signature of PATH against TRUST_ROOTS (PEM or DER certificate files)."""
    roots, root_problems = _load_roots(trust_roots)
    try:
        with path.open("rb") as stream:
            reader = PdfFileReader(stream, strict=False)
            found, broken = _signatures(path, reader)
            return [_report(path, sig, roots, root_problems) for sig in found] + broken
    except Exception as exc:  # noqa: BLE001 — a damaged file is an answer, not a crash
        log.info("cannot read %s as a PDF: %s: %s", path, type(exc).__name__, exc)
        return [_unreadable(path, exc)]


def _signatures(path: Path, reader: PdfFileReader) -> tuple[list[EmbeddedPdfSignature], list[SignatureReport]]:
    """The signatures of READER in signing order, and a report for each one too damaged to load.

    pyHanko's own list gives up on the whole file when one signature's
    /Contents is not CMS; here that signature is reported and the others
    are still checked.
    """
    found: list[EmbeddedPdfSignature] = []
    broken: list[SignatureReport] = []
    for name, _, field in enumerate_sig_fields(reader, filled_status=True):
        try:
            sig = EmbeddedPdfSignature(reader, field, name)
        except Exception as exc:  # noqa: BLE001
            log.info("signature %s of %s cannot be loaded: %s: %s", name, path, type(exc).__name__, exc)
            broken.append(_broken(path, str(name), exc))
            continue
        if sig.sig_object_type == "/Sig":  # document timestamps (/DocTimeStamp) are not reported yet
            found.append(sig)
    found.sort(key=lambda sig: sig.signed_revision)
    return found, broken


def _load_roots(trust_roots: Sequence[Path]) -> tuple[list[x509.Certificate], list[str]]:
    roots: list[x509.Certificate] = []
    problems: list[str] = []
    for root in trust_roots:
        try:
            roots.extend(load_certs_from_pemder([str(root)]))
        except (OSError, ValueError) as exc:
            log.warning("trust root %s unusable: %s", root, exc)
            problems.append(f"không đọc được chứng thư gốc tin cậy {root}")
    return roots, problems


def _report(
    path: Path, sig: EmbeddedPdfSignature, roots: list[x509.Certificate], root_problems: list[str]
) -> SignatureReport:
    field = str(sig.field_name)
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(sig, context, key_usage_settings=KEY_USAGE)
    except Exception as exc:  # noqa: BLE001 — a mangled CMS blob must not stop the other signatures
        log.info("signature %s of %s did not validate: %s: %s", field, path, type(exc).__name__, exc)
        return _broken(path, field, exc, signer=_signer_of(sig), signing_time=_claimed_time(sig))
    return SignatureReport(
        path=path,
        signed=True,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=common_name(status.signing_cert),
        signing_time=_signing_time(status, sig),
        problems=(*_problems(status), *root_problems),
        field_name=field,
    )


def _problems(status: PdfSignatureStatus) -> list[str]:
    """Why the signature cannot be relied on, in Vietnamese; empty when it can."""
    problems: list[str] = []
    if not status.intact:
        problems.append("nội dung tệp đã bị thay đổi sau khi ký (mã băm không khớp)")
    elif not status.valid:
        problems.append("chữ ký số không hợp lệ về mặt mật mã")
    elif not status.trusted:
        problems.append(_trust_problem(status.trust_problem_indic))
    coverage = status.coverage
    if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        problems.append("chữ ký không bao phủ trọn phiên bản tệp đã ký (vùng ký bất thường)")
    elif coverage == SignatureCoverageLevel.ENTIRE_REVISION and (
        isinstance(status.diff_result, SuspiciousModification) or status.docmdp_ok is False
    ):
        problems.append("tệp bị sửa đổi sau khi ký theo cách không được phép")
    return problems


def _trust_problem(indic: AdESSubIndic | None) -> str:
    if indic == AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        return "chứng thư ký không xuất phát từ tổ chức chứng thực nào trong danh sách tin cậy (trust_roots)"
    if indic in _EXPIRED:
        return "chứng thư ký đã hết hạn hoặc chưa có hiệu lực tại thời điểm kiểm tra (chữ ký không có dấu thời gian)"
    if indic in _REVOKED:
        return "chứng thư ký đã bị thu hồi"
    reason = indic.standard_name if indic is not None else "không rõ lý do"
    return f"chứng thư ký không được tin cậy ({reason})"


def _signing_time(status: PdfSignatureStatus, sig: EmbeddedPdfSignature) -> datetime | None:
    """The timestamp token's time when there is one, else the time the signer claims."""
    if status.timestamp_validity is not None:
        return status.timestamp_validity.timestamp
    return status.signer_reported_dt or _claimed_time(sig)


def _claimed_time(sig: EmbeddedPdfSignature) -> datetime | None:
    try:
        return sig.self_reported_timestamp
    except Exception:  # noqa: BLE001 — an unparsable /M is just no time
        return None


def _signer_of(sig: EmbeddedPdfSignature) -> str:
    try:
        return common_name(sig.signer_cert)
    except Exception:  # noqa: BLE001 — the certificate itself may be what is broken
        return ""


def _broken(
    path: Path, field: str, exc: Exception, *, signer: str = "", signing_time: datetime | None = None
) -> SignatureReport:
    return SignatureReport(
        path=path,
        signed=True,
        intact=False,
        valid=False,
        trusted=False,
        covers_whole_file=False,
        signer=signer,
        signing_time=signing_time,
        problems=(f"chữ ký '{field}' bị hỏng, không kiểm tra được ({type(exc).__name__})",),
        field_name=field,
    )


def _unreadable(path: Path, exc: Exception) -> SignatureReport:
    return SignatureReport(
        path=path,
        signed=_looks_signed(path),
        intact=False,
        valid=False,
        trusted=False,
        covers_whole_file=False,
        signer="",
        signing_time=None,
        problems=(f"không đọc được tệp PDF để kiểm tra chữ ký ({type(exc).__name__})",),
    )


def _looks_signed(path: Path) -> bool:
    """Whether a file that no longer parses still shows a signature's /ByteRange (so callers say "damaged")."""
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b"/ByteRange") >= 0
    except (OSError, ValueError):  # missing, unreadable or empty file
        return False
