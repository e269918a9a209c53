"""Verification: a damaged, re-signed, tampered or foreign file gives an answer, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from scanner.config import Secret
from scanner.model import SignedPdf
from scanner.sign import DevIdentity, sign_pdf, verify_pdf
from tests.sign.conftest import AGENCY, PASSWORD, byte_range, signature_der


def test_unsigned_pdf_has_no_reports(pdfa: Path, identity: DevIdentity) -> None:
    assert verify_pdf(pdfa, [identity.ca_cert]) == []


def test_flipped_byte_in_the_signed_range(signed: SignedPdf, identity: DevIdentity, tmp_path: Path) -> None:
    data = bytearray(signed.path.read_bytes())
    _, b, _, _ = byte_range(bytes(data))
    position = b // 2  # inside the original PDF/A, well before the signature
    data[position] ^= 0x01
    broken = tmp_path / "hong.pdf"
    broken.write_bytes(bytes(data))
    reports = verify_pdf(broken, [identity.ca_cert])
    assert reports, "a damaged signed file must still be reported"
    for report in reports:
        assert not (report.intact and report.valid)
        assert report.problems


def test_flipped_byte_in_the_signed_range_is_not_intact(
    signed: SignedPdf, identity: DevIdentity, tmp_path: Path
) -> None:
    """A change the parser does not notice (one letter of the signed /Reason text) breaks the hash."""
    data = signed.path.read_bytes()
    at = data.rindex(b"\\000S\\000a\\000o")  # "Sao y bản chính" as a UTF-16 string with octal escapes
    broken = tmp_path / "sua.pdf"
    broken.write_bytes(data[: at + 4] + b"T" + data[at + 5 :])  # "Sao" -> "Tao"
    (report,) = verify_pdf(broken, [identity.ca_cert])
    assert report.signed and not report.intact
    assert any("thay đổi sau khi ký" in p for p in report.problems)


def _hex_offset(data: bytes, der_index: int) -> int:
    """Where byte DER_INDEX of the CMS blob is written in the /Contents hex string."""
    _, b, _, _ = byte_range(data)
    return b + 1 + 2 * der_index


def test_damaged_signature_value_is_invalid(signed: SignedPdf, identity: DevIdentity, tmp_path: Path) -> None:
    """The RSA signature is the last field of the CMS blob: change it and the signature no longer verifies."""
    data = bytearray(signed.path.read_bytes())
    at = _hex_offset(bytes(data), len(signature_der(bytes(data))) - 4)
    data[at : at + 2] = b"00" if data[at : at + 2] != b"00" else b"11"
    broken = tmp_path / "cms.pdf"
    broken.write_bytes(bytes(data))
    (report,) = verify_pdf(broken, [identity.ca_cert])
    assert report.signed and report.intact and not report.valid
    assert any("không hợp lệ" in p for p in report.problems)


def test_mangled_signature_blob_is_reported(signed: SignedPdf, identity: DevIdentity, tmp_path: Path) -> None:
    data = bytearray(signed.path.read_bytes())
    at = _hex_offset(bytes(data), 0)
    data[at : at + 2] = b"31"  # the ContentInfo SEQUENCE becomes a SET: not CMS any more
    broken = tmp_path / "cms.pdf"
    broken.write_bytes(bytes(data))
    (report,) = verify_pdf(broken, [identity.ca_cert])
    assert report.signed and not report.valid and report.problems


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d[: len(d) // 2], id="truncated"),
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: b"GIF89a not a pdf at all", id="not-a-pdf"),
        pytest.param(lambda d: d.replace(b"startxref", b"startxrex"), id="no-startxref"),
    ],
)
def test_file_that_no_longer_parses(signed: SignedPdf, identity: DevIdentity, tmp_path: Path, damage: object) -> None:
    broken = tmp_path / "hong.pdf"
    broken.write_bytes(damage(signed.path.read_bytes()))  # type: ignore[operator]
    reports = verify_pdf(broken, [identity.ca_cert])
    assert len(reports) <= 1
    for report in reports:
        assert not (report.intact and report.valid and report.trusted)
        assert report.problems


def test_missing_file_is_a_report(tmp_path: Path, identity: DevIdentity) -> None:
    (report,) = verify_pdf(tmp_path / "khong-co.pdf", [identity.ca_cert])
    assert not report.signed and not report.intact and report.problems


def test_signature_from_another_ca_is_not_trusted(
    signed: SignedPdf, identity: DevIdentity, other_identity: DevIdentity
) -> None:
    (report,) = verify_pdf(signed.path, [other_identity.ca_cert])
    assert report.intact and report.valid and not report.trusted
    assert any("tin cậy" in p for p in report.problems)


def test_no_trust_roots_means_not_trusted(signed: SignedPdf) -> None:
    (report,) = verify_pdf(signed.path, [])
    assert report.intact and report.valid and not report.trusted


def test_unreadable_trust_root_is_reported(signed: SignedPdf, identity: DevIdentity, tmp_path: Path) -> None:
    (report,) = verify_pdf(signed.path, [tmp_path / "khong-co.pem", identity.ca_cert])
    assert report.trusted
    assert any("khong-co.pem" in p for p in report.problems)


def test_two_signatures_are_both_reported(
    signed: SignedPdf, identity: DevIdentity, other_identity: DevIdentity
) -> None:
    """A copy signed by the ward and then by the district: the first signature stays intact."""
    second = sign_pdf(
        signed.path,
        signed.path.with_name("hai-chu-ky.pdf"),
        pkcs12=other_identity.pkcs12,
        password=Secret(PASSWORD),
        field_name="Signature2",
    )
    first, last = verify_pdf(second.path, [identity.ca_cert, other_identity.ca_cert])
    assert (first.field_name, last.field_name) == ("Signature1", "Signature2")
    assert first.signer == AGENCY and last.signer == "UBND phường Đa Kao"
    assert first.intact and first.valid and first.trusted and not first.covers_whole_file
    assert last.intact and last.valid and last.trusted and last.covers_whole_file
    assert first.problems == () and last.problems == ()


def test_content_changed_after_signing_is_a_problem(signed: SignedPdf, identity: DevIdentity, tmp_path: Path) -> None:
    """An incremental update that rewrites the page: the signature is intact but the file was tampered with."""
    tampered = tmp_path / "gia-mao.pdf"
    with signed.path.open("rb") as original, tampered.open("wb") as out:
        writer = IncrementalPdfFileWriter(original)
        page_ref = writer.root["/Pages"]["/Kids"][0]
        page = page_ref.get_object()
        content = generic.StreamObject(stream_data=b"0 0 1 rg 0 0 200 200 re f")
        page["/Contents"] = writer.add_object(content)
        writer.update_container(page)
        writer.write(out)
    (report,) = verify_pdf(tampered, [identity.ca_cert])
    assert report.intact and report.valid and not report.covers_whole_file
    assert any("sửa đổi sau khi ký" in p for p in report.problems)
