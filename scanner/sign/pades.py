"""The sign stage: a PDF/A file in, the same file with the agency's PAdES signature out.

The signature is PAdES baseline (CMS subfilter ``ETSI.CAdES.detached``,
SHA-256), appended to the original as incremental updates: the original
bytes stay untouched at the start of the signed file, so its hash, and any
signature it already carries, keeps meaning something. The output is built
in memory and written to a temporary file next to ``dst`` that is renamed
onto it, so ``dst`` is always either absent or completely signed.

Levels, each adding to the one before (:data:`LEVELS`):

* B-B — the signature alone; works offline, the default of ``scanner init``.
* B-T — a timestamp from the configured TSA on the signature (:mod:`.tsa`).
* B-LT — a second revision with a Document Security Store holding the
  chain, OCSP responses and CRLs of the signer and of the TSA, fetched at
  signing time and checked against the configured trust roots, so the
  signature can be validated later with nothing but the file.
* B-LTA — the same revision also gets a document timestamp over it all.

pyHanko's own LT/LTA steps are not used: they re-open the file with a plain
writer, which undoes every PDF/A decision below. They are done here with
the same writer instead.

Keeping the file PDF/A while pyHanko adds the signature takes these
decisions, each made here and nowhere else:

* Metadata. pyHanko's own metadata update re-serialises the whole XMP
  packet through its own model (the ``scanner`` prefix becomes ``ns0``,
  the extension schema's ``namespaceURI`` becomes a resource), writes
  ``pdf:Producer`` as "pyHanko" while appending it to the Info Producer,
  and reads the clock separately for Info and XMP. All three break the
  Info/XMP agreement or the extension schema that PDF/A requires.
  :class:`_PdfaWriter` switches that update off and
  :func:`_record_modification` edits just Producer, ModifyDate and
  MetadataDate in the original packet, with one instant for both places.
  The DSS and document-timestamp revision changes no metadata.
* Extensions. For ``ETSI.CAdES.detached`` and document timestamps pyHanko
  declares the ESIC developer extension and raises the catalog's /Version
  to 1.7 (2.0 for some EC curves); that is more than PDF/A-1 (PDF 1.4)
  allows, and validators do not know the extension. No PAdES baseline
  level needs the declaration, so nothing is declared.
* The widget. An invisible field has a zero-size rectangle and the Print
  flag (pyHanko's default), and gets an empty appearance stream: PDF/A-2
  exempts zero-size widgets from needing one, PDF/A-1 does not. A visible
  mark (:mod:`.mark`) gets the appearance drawn there, with an embedded
  subset of a font that has the Vietnamese letters.

Before the signed file is renamed into place it is checked with pikepdf's
validator (:mod:`scanner.sign.pdfa`, which takes the signature fields and
the DSS out of the check because the validator does not support them): a
signed file with any finding its source did not have is refused, so a
pyHanko upgrade that brings one of these problems back stops signing
instead of filling the archive with non-PDF/A files.

The key is a PKCS#12 file or a PKCS#11 token (:mod:`.token`); either way
the certificate must be valid at the signing moment, or nothing is signed.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pikepdf
from asn1crypto import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from lxml import etree
from pikepdf.pdfa import Finding
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter, DeveloperExtension
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko.stamp import NoOpStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import InsufficientRevinfoError, PathBuildingError, PathValidationError

from scanner.config import Secret
from scanner.errors import SigningError
from scanner.files import sha256_file
from scanner.model import SignedPdf
from scanner.sign.mark import VisibleMark, draw_mark, mark_box, mark_lines
from scanner.sign.pdfa import confirmed_findings, pdfa_findings, pdfa_flavour
from scanner.sign.token import TokenKey, open_token
from scanner.sign.tsa import HttpTimeStamper

log = logging.getLogger(__name__)

DIGEST = "sha256"
EXPIRY_WARNING = timedelta(days=30)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP = "http://ns.adobe.com/xap/1.0/"
PDF = "http://ns.adobe.com/pdf/1.3/"


@dataclass(frozen=True)
class Level:
    """What a PAdES baseline level adds to the B-B signature."""

    timestamp: bool  # B-T: a signature timestamp from a TSA proves when it was signed
    validation_data: bool  # B-LT: certificates and revocation data in the DSS
    archive_timestamp: bool  # B-LTA: a document timestamp over all of it


LEVELS = {
    "B-B": Level(timestamp=False, validation_data=False, archive_timestamp=False),
    "B-T": Level(timestamp=True, validation_data=False, archive_timestamp=False),
    "B-LT": Level(timestamp=True, validation_data=True, archive_timestamp=False),
    "B-LTA": Level(timestamp=True, validation_data=True, archive_timestamp=True),
}
SUPPORTED_LEVELS = tuple(LEVELS)
DOC_TIMESTAMP_FIELD = "Timestamp1"


def sign_pdf(
    src: Path,
    dst: Path,
    *,
    pkcs12: Path | None = None,
    password: Secret | None = None,
    token: TokenKey | None = None,
    level: str = "B-B",
    tsa_url: str = "",
    trust_roots: Sequence[Path] = (),
    mark: VisibleMark | None = None,
    reason: str = "Sao y bản chính",
    location: str = "",
    field_name: str = "Signature1",
    now: datetime | None = None,
    identity: tuple[signers.Signer, x509.Certificate] | None = None,
) -> SignedPdf:
    """Sign SRC with the agency key (PKCS12 + PASSWORD, or TOKEN) at LEVEL and write the result to DST.

    TSA_URL is needed from B-T on; TRUST_ROOTS from B-LT on, to check the
    chain whose revocation data is embedded. MARK makes the signature
    visible (None: invisible). NOW is the signing time written into the
    signature, the mark and the metadata (default: the clock); the
    certificate must be valid at that moment. Raises SigningError, in
    Vietnamese and without the password or PIN, when the settings do not
    fit the level, the key cannot be opened, the certificate is expired or
    not yet valid, a service (TSA, OCSP, CRL) fails, or SRC cannot be
    signed; DST is then left as it was.
    """
    spec = _supported(level)
    if spec.timestamp and not tsa_url:
        raise SigningError(
            f"mức chữ ký {level} cần máy chủ dấu thời gian: khai báo signing.tsa_url",
            f"signature level {level} needs a time-stamping authority: set signing.tsa_url",
            code="sign-level",
        )
    if spec.validation_data and not trust_roots:
        raise SigningError(
            f"mức chữ ký {level} cần chứng thư gốc tin cậy để kiểm tra trạng thái thu hồi: "
            "khai báo signing.trust_roots",
            f"signature level {level} needs trust anchors to check revocation: set signing.trust_roots",
            code="sign-level",
        )
    moment = signing_moment(now)
    timestamper = HttpTimeStamper(tsa_url) if spec.timestamp else None
    with _given_or_opened(identity, pkcs12, password, token) as (signer, cert):
        _check_validity(cert, moment)
        lines = mark_lines(mark, mark.agency or organisation_name(cert), moment) if mark else None
        meta = _signature_metadata(field_name=field_name, reason=reason, location=location)
        try:
            flavour = pdfa_flavour(src)
            before = pdfa_findings(src, flavour) if flavour else []
            with src.open("rb") as original:
                signed = _sign(original, signer, meta, moment=moment, timestamper=timestamper, mark=mark, lines=lines)
            if spec.validation_data:
                assert timestamper is not None
                context = _validation_context(trust_roots, signer, moment)
                signed = _add_long_term_data(signed, field_name, context, timestamper, archive=spec.archive_timestamp)
            _write_atomically(
                dst,
                lambda out: out.write(signed.getbuffer()),
                check=lambda path: _still_pdfa(path, flavour, before, src.name),
            )
        except OSError as exc:
            raise SigningError(
                f"{src.name}: không đọc/ghi được tệp khi ký số ({exc.strerror})",
                f"{src.name}: I/O error while signing ({exc.strerror})",
            ) from None
        except (PyHankoPdfError, PyHankoSigningError, pikepdf.PdfError) as exc:
            raise SigningError(
                f"{src.name}: không ký được tệp PDF ({exc})",
                f"{src.name}: cannot sign the PDF ({exc})",
            ) from None
    signer_name = common_name(cert)
    log.info("signed %s as %s (PAdES %s, %s)", dst.name, signer_name, level, moment.isoformat())
    return SignedPdf(path=dst, sha256=sha256_file(dst), signer=signer_name, signed_at=moment, level=level)


def certificate_warning(
    pkcs12: Path | None = None,
    password: Secret | None = None,
    now: datetime | None = None,
    *,
    token: TokenKey | None = None,
    cert: x509.Certificate | None = None,
) -> str | None:
    """A Vietnamese warning when the agency certificate is unusable or expires within 30 days, else None.

    Meant for start-up and the status page, so the clerk hears about the
    renewal before signing stops. Raises SigningError when the PKCS#12 or
    the token cannot be opened.
    """
    moment = signing_moment(now)
    if cert is None:
        with open_identity(pkcs12, password, token) as (_, opened):
            cert = opened
    start, end = cert.not_valid_before, cert.not_valid_after
    if moment < start:
        return f"Chứng thư số của cơ quan chưa có hiệu lực (hiệu lực từ {_show(start, moment)})."
    if moment > end:
        return f"Chứng thư số của cơ quan đã hết hạn từ {_show(end, moment)} — không thể ký số; cần gia hạn ngay."
    left = end - moment
    if left <= EXPIRY_WARNING:
        return (
            f"Chứng thư số của cơ quan sẽ hết hạn vào {_show(end, moment)} (còn {left.days} ngày) — "
            "cần liên hệ tổ chức cung cấp dịch vụ chứng thực để gia hạn."
        )
    return None


def signing_moment(now: datetime | None) -> datetime:
    """NOW (or the clock) in whole seconds with a time zone: PDF dates and CMS signingTime keep no more."""
    moment = datetime.now().astimezone() if now is None else now
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the counter's wall clock
    return moment.replace(microsecond=0)


@contextmanager
def _given_or_opened(
    identity: tuple[signers.Signer, x509.Certificate] | None,
    pkcs12: Path | None,
    password: Secret | None,
    token: TokenKey | None,
) -> Iterator[tuple[signers.Signer, x509.Certificate]]:
    if identity is not None:
        yield identity
        return
    with open_identity(pkcs12, password, token) as opened:
        yield opened


@contextmanager
def open_identity(
    pkcs12: Path | None = None, password: Secret | None = None, token: TokenKey | None = None
) -> Iterator[tuple[signers.Signer, x509.Certificate]]:
    """The signer and its certificate from the PKCS#12 file or the token; a token session is closed after.

    Opened once and handed to ``sign_pdf`` for each document of a dossier:
    decrypting a PKCS#12 file costs about a sixth of a second, as much as
    the rest of a signature.
    """
    if token is not None:
        with open_token(token) as (signer, cert):
            yield signer, cert
        return
    if pkcs12 is None or password is None:
        raise SigningError(
            "chưa cấu hình khóa ký số (signing.pkcs12 hoặc signing.pkcs11_module)",
            "no signing key configured (signing.pkcs12 or signing.pkcs11_module)",
        )
    yield load_identity(pkcs12, password)


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with the private key parsed once instead of for every signature.

    pyHanko parses (and, for RSA, checks) the key from DER each time it signs
    — twice per PDF, once to size the signature and once to make it — at about
    a tenth of a second each for an RSA key. The common mechanisms sign with
    the key parsed the first time; any other goes to pyHanko as before.
    """

    _parsed: PrivateKeyTypes | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            mechanism = ""
        if mechanism not in ("rsassa_pkcs1v15", "ecdsa"):
            return super().sign_raw(data, digest_algorithm)
        if self._parsed is None:
            self._parsed = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        key, hash_algo = self._parsed, get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)


def load_identity(pkcs12: Path, password: Secret) -> tuple[signers.SimpleSigner, x509.Certificate]:
    """The signer and certificate in PKCS12, or SigningError naming the file (never the password)."""
    try:
        data = pkcs12.read_bytes()
    except OSError as exc:
        raise SigningError(
            f"không đọc được tệp khóa ký số {pkcs12} ({exc.strerror})",
            f"cannot read the PKCS#12 file {pkcs12} ({exc.strerror})",
        ) from None
    try:
        loaded = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=password.reveal().encode())
    except Exception as exc:  # noqa: BLE001 — a wrong password and a damaged file look alike; never echo details
        log.debug("PKCS#12 %s did not open: %s", pkcs12, type(exc).__name__)
        raise SigningError(
            f"không mở được tệp khóa ký số {pkcs12.name}: sai mật khẩu hoặc tệp bị hỏng",
            f"cannot open the PKCS#12 file {pkcs12.name}: wrong password or damaged file",
            code="sign-password",
        ) from None
    signer = _KeptKeySigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
        signature_mechanism=loaded.signature_mechanism,
    )
    cert = signer.signing_cert
    if cert is None:
        raise SigningError(
            f"tệp khóa ký số {pkcs12.name} không chứa chứng thư số", f"{pkcs12.name} holds no certificate"
        )
    return signer, cert


def common_name(cert: x509.Certificate) -> str:
    """The subject CN of CERT (the agency's name), or the whole subject when it has none."""
    return _subject_attribute(cert, "common_name") or cert.subject.human_friendly


def organisation_name(cert: x509.Certificate) -> str:
    """The subject O of CERT, else its CN: a CN may be cut to 64 bytes, O holds the agency's full name."""
    return _subject_attribute(cert, "organization_name") or common_name(cert)


def _subject_attribute(cert: x509.Certificate, key: str) -> str:
    value = cert.subject.native.get(key)
    if isinstance(value, list):  # a subject may repeat an attribute
        value = value[-1]
    return str(value) if value else ""


def _supported(level: str) -> Level:
    if level not in LEVELS:
        raise SigningError(
            f"mức chữ ký '{level}' không hợp lệ (chỉ {', '.join(LEVELS)})",
            f"invalid signature level {level!r} (one of {', '.join(LEVELS)})",
        )
    return LEVELS[level]


def _check_validity(cert: x509.Certificate, moment: datetime) -> None:
    """Refuse a certificate that is not valid at MOMENT: the signature would be worthless."""
    start, end = cert.not_valid_before, cert.not_valid_after
    if start <= moment <= end:
        return
    name = common_name(cert)
    span_vi = f"hiệu lực từ {_show(start, moment)} đến {_show(end, moment)}"
    span_en = f"valid from {start.isoformat()} to {end.isoformat()}"
    if moment > end:
        raise SigningError(
            f"chứng thư số của {name} đã hết hạn ({span_vi}) — không ký số; cần gia hạn chứng thư",
            f"the certificate of {name} has expired ({span_en}); not signing",
            code="sign-expired",
        )
    raise SigningError(
        f"chứng thư số của {name} chưa có hiệu lực ({span_vi}) — kiểm tra đồng hồ máy trạm",
        f"the certificate of {name} is not valid yet ({span_en}); check the workstation clock",
        code="sign-not-yet-valid",
    )


def _show(when: datetime, moment: datetime) -> str:
    """WHEN as a clerk reads it, in the time zone of MOMENT (the counter's)."""
    return when.astimezone(moment.tzinfo).strftime("%d/%m/%Y %H:%M")


def _signature_metadata(*, field_name: str, reason: str, location: str) -> signers.PdfSignatureMetadata:
    """The CMS settings; the long-term data of B-LT/B-LTA is added by :func:`_add_long_term_data`."""
    return signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=DIGEST,
        reason=reason or None,
        location=location or None,
        subfilter=fields.SigSeedSubFilter.PADES,
    )


def _validation_context(trust_roots: Sequence[Path], signer: signers.Signer, moment: datetime) -> ValidationContext:
    """Trust only TRUST_ROOTS, fetch OCSP/CRL for every certificate that names a source, fail hard otherwise."""
    roots: list[x509.Certificate] = []
    for root in trust_roots:
        try:
            roots.extend(load_certs_from_pemder([str(root)]))
        except (OSError, ValueError):
            raise SigningError(
                f"không đọc được chứng thư gốc tin cậy {root} (signing.trust_roots)",
                f"cannot read the trust anchor {root} (signing.trust_roots)",
            ) from None
    return ValidationContext(
        trust_roots=roots,
        other_certs=list(signer.cert_registry),
        allow_fetching=True,
        revocation_mode="hard-fail",
    )


class _PdfaWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the metadata to :func:`_record_modification`, the version alone
    and declares no developer extension.

    pyHanko runs ``_update_meta`` on every write; its XMP rewrite and its
    Producer/ModDate handling break PDF/A (see the module docstring).
    """

    def _update_meta(self) -> None:
        return

    def ensure_output_version(self, version: tuple[int, int]) -> None:
        """Keep the PDF version: pyHanko raises every updated file to 1.7, PDF/A-1 stays at 1.4."""
        return

    def register_extension(self, ext: DeveloperExtension) -> None:
        """Declare nothing: the ESIC extension would take the file out of PDF/A-1."""
        return


class _PadesSigner(signers.PdfSigner):
    """pyHanko's signer with a fixed signing time, no extension declaration and no stamp of its own."""

    def __init__(
        self,
        meta: signers.PdfSignatureMetadata,
        signer: signers.Signer,
        *,
        moment: datetime,
        timestamper: TimeStamper | None,
    ) -> None:
        # the appearance (empty or the visible mark) is already on the widget; pyHanko must keep it
        super().__init__(meta, signer, timestamper=timestamper, stamp_style=NoOpStampStyle())
        self._moment = moment

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        """Declare nothing: the ESIC extension and a raised /Version would take the file out of PDF/A-1."""
        return

    def init_signing_session(self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._moment  # the /M entry and the CMS signing time
        return session


def _sign(
    original: BinaryIO,
    signer: signers.Signer,
    meta: signers.PdfSignatureMetadata,
    *,
    moment: datetime,
    timestamper: TimeStamper | None,
    mark: VisibleMark | None,
    lines: list[str] | None,
) -> io.BytesIO:
    """ORIGINAL with the signature revision appended (with TIMESTAMPER's token from B-T on)."""
    writer = _PdfaWriter(original)
    name = meta.field_name or "Signature1"
    if mark is not None and lines:
        appearance = draw_mark(writer, lines, font=mark.font, size=mark.size)
        box = mark_box(_page_box(writer, 0), appearance.width, appearance.height)
        _add_field(writer, name, box=box, appearance=appearance.stream)
    else:
        _add_field(writer, name)
    _record_modification(writer, moment)
    out = io.BytesIO()
    pdf_signer = _PadesSigner(meta, signer, moment=moment, timestamper=timestamper)
    pdf_signer.sign_pdf(writer, existing_fields_only=True, output=out)
    return out


def _add_long_term_data(
    signed: io.BytesIO, field_name: str, context: ValidationContext, timestamper: TimeStamper, *, archive: bool
) -> io.BytesIO:
    """B-LT: a revision with the DSS for the signature (and its TSA); B-LTA: a document timestamp in it too."""

    async def run() -> io.BytesIO:
        try:
            return await gather()
        finally:
            await context.aclose()  # the HTTP session belongs to this event loop: close it before it ends

    async def gather() -> io.BytesIO:
        reader = PdfFileReader(io.BytesIO(signed.getvalue()))
        (embedded,) = [s for s in reader.embedded_regular_signatures if s.field_name == field_name]
        try:
            paths = await collect_validation_info(embedded, context)
        except (PathBuildingError, PathValidationError, InsufficientRevinfoError) as exc:
            raise _revocation_problem(exc) from None
        writer = _PdfaWriter(io.BytesIO(signed.getvalue()))
        DocumentSecurityStore.supply_dss_in_writer(writer, None, validation_context=context, paths=paths)
        out = io.BytesIO()
        if archive:
            _add_field(writer, DOC_TIMESTAMP_FIELD)
            stamper = signers.PdfTimeStamper(timestamper, field_name=DOC_TIMESTAMP_FIELD)
            await stamper.async_timestamp_pdf(writer, DIGEST, output=out)
        else:
            writer.write(out)
        return out

    return asyncio.run(run())


def _revocation_problem(exc: Exception) -> SigningError:
    """Why the long-term data could not be gathered, for the clerk; the job retries later."""
    if isinstance(exc, PathBuildingError):
        vi = "chứng thư ký hoặc chứng thư của TSA không xuất phát từ chứng thư gốc tin cậy (signing.trust_roots)"
        en = "the signer's or the TSA's certificate does not chain to signing.trust_roots"
    elif isinstance(exc, PathValidationError) and "revoked" in str(exc).lower():
        vi = "chứng thư ký đã bị thu hồi — không ký số"
        en = "the signing certificate has been revoked; not signing"
    else:
        vi = "không lấy được thông tin trạng thái chứng thư (OCSP/CRL) — sẽ thử lại"
        en = f"cannot obtain revocation information (OCSP/CRL): {type(exc).__name__}"
    log.info("long-term validation data not gathered: %s: %s", type(exc).__name__, exc)
    return SigningError(vi, en, code="sign-revocation")


def _page_box(writer: IncrementalPdfFileWriter, index: int) -> tuple[float, float, float, float]:
    """The visible area (CropBox, else MediaBox, inherited or not) of page INDEX, normalised x0 < x1, y0 < y1."""
    page_ref, _ = writer.find_page_for_modification(index)
    node = page_ref.get_object()
    for key in ("/CropBox", "/MediaBox"):
        walker = node
        while walker is not None:
            if key in walker:
                x0, y0, x1, y1 = (float(v) for v in walker[key])
                return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
            parent = walker.get("/Parent")
            walker = parent.get_object() if parent is not None else None
    return 0.0, 0.0, 595.0, 842.0  # A4: what a page without a box is taken to be


def _add_field(
    writer: IncrementalPdfFileWriter,
    name: str,
    *,
    box: tuple[int, int, int, int] | None = None,
    appearance: generic.IndirectObject | None = None,
) -> None:
    """A signature field NAME on page 1: at BOX with APPEARANCE, or zero-size with an empty appearance."""
    if any(True for _ in fields.enumerate_sig_fields(writer, with_name=name)):
        raise SigningError(
            f"tệp đã có trường chữ ký '{name}' — không ký đè", f"the file already has a signature field {name!r}"
        )
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name, on_page=0, box=box))
    _, _, field_ref = next(iter(fields.enumerate_sig_fields(writer, with_name=name)))
    widget = field_ref.get_object()
    if appearance is None:
        empty = generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(0)] * 4),
            },
            stream_data=b"",
        )
        appearance = writer.add_object(empty)
    widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): appearance})
    writer.mark_update(field_ref)


def _record_modification(writer: IncrementalPdfFileWriter, moment: datetime) -> None:
    """Say in Info and XMP alike that pyHanko modified the file at MOMENT.

    Only Producer, ModDate/ModifyDate and MetadataDate change; the rest of
    the XMP packet is kept as written, byte for byte where lxml allows.
    """
    info_ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    info = info_ref.get_object() if isinstance(info_ref, generic.IndirectObject) else None
    packet = _xmp_packet(writer)
    producer = _producer(info, packet)
    if info is not None and isinstance(info_ref, generic.IndirectObject):
        info[pdf_name("/Producer")] = generic.TextStringObject(producer)
        info[pdf_name("/ModDate")] = generic.pdf_date(moment)
        writer.mark_update(info_ref)
    if packet is not None:
        stamp = moment.isoformat()
        _set_xmp(packet, XMP, "xmp", "ModifyDate", stamp)
        _set_xmp(packet, XMP, "xmp", "MetadataDate", stamp)
        _set_xmp(packet, PDF, "pdf", "Producer", producer)
        stream = generic.StreamObject(
            {pdf_name("/Type"): pdf_name("/Metadata"), pdf_name("/Subtype"): pdf_name("/XML")},
            stream_data=etree.tostring(packet, encoding="utf-8", xml_declaration=False),
        )
        writer.root[pdf_name("/Metadata")] = writer.add_object(stream)
        writer.update_root()


def _xmp_packet(writer: IncrementalPdfFileWriter) -> etree._ElementTree | None:
    """The catalog's XMP packet, parsed without entities or network access; None if there is none."""
    stream = writer.root.get("/Metadata")
    if stream is None:
        return None
    stream = stream.get_object()
    if not isinstance(stream, generic.StreamObject):
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    try:
        return etree.ElementTree(etree.fromstring(stream.data, parser))
    except etree.XMLSyntaxError as exc:
        raise SigningError(
            f"siêu dữ liệu XMP của tệp bị hỏng ({exc}) — không ký để không phá chuẩn PDF/A",
            f"the XMP packet is malformed ({exc}); not signing a file whose PDF/A metadata cannot be kept",
        ) from None


def _producer(info: generic.DictionaryObject | None, packet: etree._ElementTree | None) -> str:
    """The existing Producer with pyHanko's name appended once ("pikepdf 10.18.0; pyHanko 0.38.0")."""
    old = ""
    if info is not None and "/Producer" in info:
        old = str(info["/Producer"])
    elif packet is not None:
        found = _find_xmp(packet, PDF, "Producer")
        old = found or ""
    if VENDOR in old:
        return old
    return f"{old}; {VENDOR}" if old else VENDOR


def _descriptions(packet: etree._ElementTree) -> list[etree._Element]:
    return list(packet.getroot().iter(f"{{{RDF}}}Description"))


def _find_xmp(packet: etree._ElementTree, ns: str, name: str) -> str | None:
    for description in _descriptions(packet):
        value = description.get(f"{{{ns}}}{name}")
        if value is not None:
            return str(value)
        element = description.find(f"{{{ns}}}{name}")
        if element is not None:
            return element.text or ""
    return None


def _set_xmp(packet: etree._ElementTree, ns: str, prefix: str, name: str, value: str) -> None:
    """Set the simple property NS:NAME wherever the packet has it (element or attribute form), else add it."""
    tag = f"{{{ns}}}{name}"
    found = False
    for description in _descriptions(packet):
        if description.get(tag) is not None:
            description.set(tag, value)
            found = True
        for element in description.findall(tag):
            element.text = value
            found = True
    if found:
        return
    descriptions = _descriptions(packet)
    if not descriptions:
        raise SigningError(
            "siêu dữ liệu XMP của tệp không có rdf:Description — không ký để không phá chuẩn PDF/A",
            "the XMP packet has no rdf:Description; not signing",
        )
    etree.SubElement(descriptions[0], tag, nsmap={prefix: ns}).text = value


def _still_pdfa(signed: Path, flavour: str | None, before: list[Finding], name: str) -> None:
    """Refuse a signed file that pikepdf finds less PDF/A than its source (the signature field aside)."""
    if flavour is None:
        return
    added = confirmed_findings(signed, flavour, before)
    if added:
        details = "; ".join(str(f) for f in added[:5])
        raise SigningError(
            f"{name}: tệp sau khi ký không còn đạt chuẩn PDF/A-{flavour} ({details}) — không lưu tệp đã ký",
            f"{name}: the signed file is no longer PDF/A-{flavour} ({details}); not kept",
            code="sign-pdfa",
        )


def _write_atomically(dst: Path, write: Callable[[BinaryIO], object], *, check: Callable[[Path], None]) -> None:
    """Run WRITE on a temporary file next to DST, flush it to disk, CHECK it, then rename it onto DST."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())  # the rename must never expose a file the disk does not hold yet
        check(tmp)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
