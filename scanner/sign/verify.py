"""Verification of the PDF signatures in a file, for the archive check and for signed incoming papers.

``verify_pdf`` returns one :class:`SignatureReport` per signature, in the
order they were applied (a ward's "SAO Y" copy signed again by the district
has two). A file without signatures gives an empty list. A file that cannot
be read as a PDF at all gives a single report with ``intact=False`` and the
reason in ``problems``; nothing here raises on a damaged file, because the
callers are checking precisely for damage. ``check_file`` adds what the
archive check reports per file: the document timestamps (PAdES B-LTA) and
the PDF/A flavour the file claims.

Validation is pyHanko's, offline: trust comes only from the configured
roots (never the operating system's list) and nothing is fetched from the
network. A signature is first checked with missing revocation data
accepted ("soft-fail"), since the development CA and B-B/B-T signatures
carry none. When the file has a Document Security Store (B-LT and above),
the signer's chain is checked again with only what the DSS holds and
revocation checking made mandatory, at the time the signature timestamp
proves (revocation data fetched just after signing counts, and an expired
certificate does not matter if it was valid then): that is what "validates
years later, with the responders gone" means. ``revocation`` says how that
went. ``problems`` lists, in Vietnamese, only what makes a signature
unacceptable: a signature that covers its own revision and was followed by
permitted updates (a later signature, the DSS, a document timestamp) is fine.
"""

from __future__ import annotations

import logging
import mmap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from asn1crypto import x509
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESSubIndic
from pyhanko.sign.diff_analysis import SuspiciousModification
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    KeyUsageConstraints,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import ValidationInfoReadingError
from pyhanko_certvalidator import ValidationContext

from scanner.sign.pades import common_name
from scanner.sign.pdfa import pdfa_flavour

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


# what the embedded validation data says about the signer's chain
REVOCATION_NONE = "none"  # no DSS: nothing to check offline (B-B, B-T)
REVOCATION_GOOD = "good"  # every certificate that names a revocation source is shown not revoked by embedded data
REVOCATION_REVOKED = "revoked"
REVOCATION_INCOMPLETE = "incomplete"  # a DSS, but not enough in it to decide


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
    timestamp: datetime | None = None  # the TSA's time on the signature (B-T and above), when it verifies
    revocation: str = REVOCATION_NONE  # REVOCATION_* below
    level: str = ""  # the PAdES baseline level the file shows for this signature: B-B, B-T, B-LT, B-LTA


@dataclass(frozen=True)
class TimestampReport:
    """A document timestamp (PAdES B-LTA): when, and whether it still proves that."""

    field_name: str
    time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    problems: tuple[str, ...]


@dataclass(frozen=True)
class FileReport:
    """Everything the archive check says about one file."""

    path: Path
    signatures: list[SignatureReport]
    timestamps: list[TimestampReport]
    pdfa: str | None  # the PDF/A flavour the XMP claims ("2b", "1b"), None when it claims none

    @property
    def problems(self) -> list[str]:
        """Every reason the file cannot be relied on, signature by signature, in Vietnamese."""
        out: list[str] = []
        if not self.signatures:
            out.append("không có chữ ký số")
        for sig in self.signatures:
            out.extend(sig.problems)
            if sig.signed and not (sig.intact and sig.valid) and not sig.problems:
                out.append("chữ ký số không hợp lệ")
        for ts in self.timestamps:
            out.extend(ts.problems)
        if self.pdfa is None:
            out.append("tệp không mang dấu hiệu PDF/A trong siêu dữ liệu XMP")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pdf(path: Path, trust_roots: Sequence[Path]) -> list[SignatureReport]:
    """Check every signature of PATH against TRUST_ROOTS (PEM or DER certificate files)."""
    return check_file(path, trust_roots).signatures


def check_file(path: Path, trust_roots: Sequence[Path]) -> FileReport:
    """Check every signature and document timestamp of PATH against TRUST_ROOTS, and read its PDF/A claim."""
    roots, root_problems = _load_roots(trust_roots)
    try:
        with path.open("rb") as stream:
            reader = PdfFileReader(stream, strict=False)
            if reader.encrypted:  # an owner password only (the usual government PDF): any reader opens it
                reader.decrypt("")
            found, stamps, broken = _signatures(path, reader)
            dss = _dss(reader)
            regular = [_report(path, sig, roots, root_problems, dss) for sig in found]
            timestamps = [_timestamp_report(ts, roots, dss) for ts in stamps]
            reports = [_with_level(r, timestamps) for r in regular] + broken
    except Exception as exc:  # noqa: BLE001 — a damaged file is an answer, not a crash
        log.info("cannot read %s as a PDF: %s: %s", path, type(exc).__name__, exc)
        return FileReport(path=path, signatures=[_unreadable(path, exc)], timestamps=[], pdfa=_flavour(path))
    return FileReport(path=path, signatures=reports, timestamps=timestamps, pdfa=_flavour(path))


def _signatures(
    path: Path, reader: PdfFileReader
) -> tuple[list[EmbeddedPdfSignature], list[EmbeddedPdfSignature], list[SignatureReport]]:
    """The signatures and document timestamps of READER in signing order, and a report for each broken one.

    pyHanko's own list gives up on the whole file when one signature's
    /Contents is not CMS; here that signature is reported and the others
    are still checked.
    """
    found: list[EmbeddedPdfSignature] = []
    stamps: list[EmbeddedPdfSignature] = []
    broken: list[SignatureReport] = []
    for name, _, field in enumerate_sig_fields(reader, filled_status=True):
        try:
            sig = EmbeddedPdfSignature(reader, field, name)
        except Exception as exc:  # noqa: BLE001
            log.info("signature %s of %s cannot be loaded: %s: %s", name, path, type(exc).__name__, exc)
            broken.append(_broken(path, str(name), exc))
            continue
        if sig.sig_object_type == "/DocTimeStamp":
            stamps.append(sig)
        else:
            found.append(sig)
    found.sort(key=lambda sig: sig.signed_revision)
    stamps.sort(key=lambda sig: sig.signed_revision)
    return found, stamps, broken


def _dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    except ValidationInfoReadingError:
        return None


def _flavour(path: Path) -> str | None:
    try:
        return pdfa_flavour(path)
    except Exception:  # noqa: BLE001 — an unreadable file claims nothing
        return None


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
    path: Path,
    sig: EmbeddedPdfSignature,
    roots: list[x509.Certificate],
    root_problems: list[str],
    dss: DocumentSecurityStore | None,
) -> SignatureReport:
    field = str(sig.field_name)
    context = _soft_context(roots, dss)
    try:
        status = validate_pdf_signature(sig, context, key_usage_settings=KEY_USAGE)
    except Exception as exc:  # noqa: BLE001 — a mangled CMS blob must not stop the other signatures
        log.info("signature %s of %s did not validate: %s: %s", field, path, type(exc).__name__, exc)
        return _broken(path, field, exc, signer=_signer_of(sig), signing_time=_claimed_time(sig))
    problems = [*_problems(status), *root_problems]
    stamp = status.timestamp_validity
    timestamp = stamp.timestamp if stamp is not None and stamp.intact and stamp.valid else None
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        problems.append("dấu thời gian trên chữ ký không hợp lệ hoặc TSA không thuộc danh sách tin cậy")
    revocation = REVOCATION_NONE
    if dss is not None and status.intact and status.valid and status.trusted:
        revocation = _revocation(sig, roots, dss, timestamp)
        if revocation == REVOCATION_REVOKED:
            problems.append("chứng thư ký đã bị thu hồi (theo dữ liệu OCSP/CRL lưu trong tệp)")
        elif revocation == REVOCATION_INCOMPLETE:
            problems.append("dữ liệu kiểm tra trạng thái thu hồi lưu trong tệp (DSS) không đủ để xác nhận chữ ký")
    return SignatureReport(
        path=path,
        signed=True,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=common_name(status.signing_cert),
        signing_time=_signing_time(status, sig),
        problems=tuple(problems),
        field_name=field,
        timestamp=timestamp,
        revocation=revocation,
    )


def _soft_context(roots: list[x509.Certificate], dss: DocumentSecurityStore | None) -> ValidationContext:
    """Trust only ROOTS; intermediates may come from the DSS; missing revocation data is no failure here."""
    kwargs = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "soft-fail"}
    if dss is None:
        return ValidationContext(**kwargs)  # type: ignore[arg-type]
    return dss.as_validation_context(kwargs)


def _revocation(
    sig: EmbeddedPdfSignature, roots: list[x509.Certificate], dss: DocumentSecurityStore, timestamp: datetime | None
) -> str:
    """Check the signer's chain with only the DSS, revocation data mandatory, at the timestamp's time."""
    kwargs = {
        "trust_roots": roots,
        "allow_fetching": False,
        "revocation_mode": "hard-fail",
        "retroactive_revinfo": True,  # OCSP/CRL fetched right after signing still speak for the signing time
    }
    if timestamp is not None:
        kwargs["moment"] = timestamp
    try:
        status = validate_pdf_signature(
            sig, dss.as_validation_context(kwargs), key_usage_settings=KEY_USAGE, skip_diff=True
        )
    except Exception as exc:  # noqa: BLE001 — unreadable revocation data is an answer too
        log.info("revocation check of %s failed: %s: %s", sig.field_name, type(exc).__name__, exc)
        return REVOCATION_INCOMPLETE
    if status.trusted:
        return REVOCATION_GOOD
    if status.trust_problem_indic in _REVOKED:
        return REVOCATION_REVOKED
    log.info("revocation check of %s: %s", sig.field_name, status.trust_problem_indic)
    return REVOCATION_INCOMPLETE


def _timestamp_report(
    sig: EmbeddedPdfSignature, roots: list[x509.Certificate], dss: DocumentSecurityStore | None
) -> TimestampReport:
    field = str(sig.field_name)
    try:
        status = validate_pdf_timestamp(sig, _soft_context(roots, dss))
    except Exception as exc:  # noqa: BLE001
        log.info("document timestamp %s did not validate: %s: %s", field, type(exc).__name__, exc)
        return TimestampReport(
            field_name=field,
            time=None,
            intact=False,
            valid=False,
            trusted=False,
            problems=(f"dấu thời gian tài liệu '{field}' bị hỏng, không kiểm tra được ({type(exc).__name__})",),
        )
    problems: list[str] = []
    if not status.intact:
        problems.append(f"nội dung tệp đã bị thay đổi sau dấu thời gian tài liệu '{field}'")
    elif not status.valid:
        problems.append(f"dấu thời gian tài liệu '{field}' không hợp lệ về mặt mật mã")
    elif not status.trusted:
        problems.append(f"dấu thời gian tài liệu '{field}' do TSA không thuộc danh sách tin cậy cấp")
    return TimestampReport(
        field_name=field,
        time=status.timestamp,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        problems=tuple(problems),
    )


def _with_level(report: SignatureReport, stamps: list[TimestampReport]) -> SignatureReport:
    """The PAdES baseline level REPORT shows: each level counts only when what it adds verifies."""
    if not (report.intact and report.valid):
        return report
    level = "B-B"
    if report.timestamp is not None:
        level = "B-T"
        if report.revocation == REVOCATION_GOOD:
            level = "B-LT"
            if any(ts.intact and ts.valid and ts.trusted for ts in stamps):
                level = "B-LTA"
    return replace(report, level=level)


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
