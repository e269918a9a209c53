"""Signing: PAdES B-B on a PDF/A file, checked by pyHanko, poppler's pdfsig and OpenSSL, and still PDF/A."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from asn1crypto import cms
from lxml import etree
from pikepdf.models.metadata import decode_pdf_date
from pikepdf.pdfa import Finding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from scanner.config import Secret
from scanner.errors import SigningError
from scanner.model import SignedPdf
from scanner.pdf.preflight import preflight, preflight_available
from scanner.sign import DevIdentity, certificate_warning, pades, pdfa, sign_pdf, verify_pdf
from scanner.sign.pdfa import pdfa_findings
from tests.sign.conftest import (
    AGENCY,
    PASSWORD,
    byte_range,
    make_pdfa,
    make_pkcs12,
    signature_der,
    signed_bytes,
)

VIETNAM = timezone(timedelta(hours=7))


def test_sign_appends_to_the_original(pdfa: Path, signed: SignedPdf) -> None:
    original, data = pdfa.read_bytes(), signed.path.read_bytes()
    assert data.startswith(original) and len(data) > len(original)
    assert signed.signer == AGENCY
    assert signed.level == "B-B"
    assert signed.signed_at.tzinfo is not None and signed.signed_at.microsecond == 0
    assert not [p.name for p in signed.path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_signature_verifies_with_pyhanko(signed: SignedPdf, identity: DevIdentity) -> None:
    (report,) = verify_pdf(signed.path, [identity.ca_cert])
    assert report.signed and report.intact and report.valid and report.trusted and report.covers_whole_file
    assert report.problems == ()
    assert report.signer == AGENCY
    assert report.signing_time == signed.signed_at
    assert report.field_name == "Signature1"


def test_signing_time_is_the_given_moment(pdfa: Path, identity: DevIdentity) -> None:
    moment = datetime.now(VIETNAM).replace(microsecond=123456)  # the counter's clock, in Vietnam time
    out = sign_pdf(pdfa, pdfa.with_name("b.pdf"), pkcs12=identity.pkcs12, password=Secret(PASSWORD), now=moment)
    assert out.signed_at == moment.replace(microsecond=0)
    with pikepdf.open(out.path) as pdf:
        assert decode_pdf_date(str(pdf.Root.AcroForm.Fields[0].V.M)) == moment.replace(microsecond=0)
    (report,) = verify_pdf(out.path, [identity.ca_cert])
    assert report.signing_time == out.signed_at


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils (pdfsig) is not installed")
def test_pdfsig_says_the_signature_is_valid(signed: SignedPdf) -> None:
    proc = subprocess.run(["pdfsig", str(signed.path)], capture_output=True, text=True, check=False)
    assert "Signature Validation: Signature is Valid." in proc.stdout, proc.stdout + proc.stderr
    assert f"Signer Certificate Common Name: {AGENCY}" in proc.stdout
    assert "Signature Type: ETSI.CAdES.detached" in proc.stdout
    assert "Total document signed" in proc.stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_cms_verifies_the_signed_bytes(signed: SignedPdf, identity: DevIdentity, tmp_path: Path) -> None:
    data = signed.path.read_bytes()
    (tmp_path / "sig.der").write_bytes(signature_der(data))
    (tmp_path / "signed.bin").write_bytes(signed_bytes(data))
    proc = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der")]
        + ["-content", str(tmp_path / "signed.bin"), "-CAfile", str(identity.ca_cert), "-purpose", "any"]
        + ["-out", str(tmp_path / "out.bin")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Verification successful" in proc.stderr


def test_cms_is_pades_baseline(signed: SignedPdf) -> None:
    """One signer, its certificate embedded, signing-certificate-v2 signed, no CMS signing-time (PAdES: /M only)."""
    content = cms.ContentInfo.load(signature_der(signed.path.read_bytes()))
    signed_data = content["content"]
    (signer_info,) = signed_data["signer_infos"]
    attrs = {a["type"].native for a in signer_info["signed_attrs"]}
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= attrs
    assert "signing_time" not in attrs
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    subjects = [c.chosen.subject.native.get("common_name") for c in signed_data["certificates"]]
    assert AGENCY in subjects


def test_byte_range_covers_the_whole_file_but_the_signature(signed: SignedPdf) -> None:
    """ISO 19005-2 6.4.3: the digest is over the entire file except the /Contents hex string."""
    data = signed.path.read_bytes()
    a, b, c, d = byte_range(data)
    assert a == 0 and c + d == len(data)
    assert data[b : b + 1] == b"<" and data[c - 1 : c] == b">"


# --- PDF/A ---------------------------------------------------------------------------------


def test_still_pdfa_2b(signed: SignedPdf) -> None:
    """pikepdf finds no violation; the only thing it leaves unchecked is the signature's form field.

    Its validator does not support /AcroForm and stops below the catalog,
    so the file is also checked with the signature field taken out, which
    walks every page, font and colour space as for an unsigned file.
    """
    report = pikepdf.pdfa.validate_written(signed.path, "2b")
    assert report.violations == ()
    assert [(f.rule, f.message) for f in report.unsupported] == [
        ("pikepdf:schema-Catalog", "interactive forms (/AcroForm) are not supported")
    ]
    assert pdfa_findings(signed.path, "2b") == []


def test_a_warning_from_elsewhere_is_no_fault_of_the_file(signed: SignedPdf, monkeypatch: pytest.MonkeyPatch) -> None:
    """pikepdf records any warning during its content check; one raised elsewhere right then must not refuse a file."""
    stray = Finding("pikepdf:content-parse", "obj 4 0 (Page) content", "content stream: <Connection> was deleted")
    calls = iter([[stray], []])
    monkeypatch.setattr(pdfa, "pdfa_findings", lambda path, flavour: next(calls))
    assert pdfa.confirmed_findings(signed.path, "2b", []) == []
    monkeypatch.setattr(pdfa, "pdfa_findings", lambda path, flavour: [stray])  # a fault of the file comes back
    assert pdfa.confirmed_findings(signed.path, "2b", []) == [stray]
    assert pdfa.confirmed_findings(signed.path, "2b", [stray]) == []  # and one its source had is not the signing's


def test_info_and_xmp_agree_after_signing(signed: SignedPdf) -> None:
    with pikepdf.open(signed.path) as pdf:
        meta = pdf.open_metadata()
        info = pdf.docinfo
        assert str(info.Producer) == meta["pdf:Producer"]
        assert str(info.Producer).startswith("pikepdf") and str(info.Producer).endswith("pyHanko 0.38.0")
        modified = datetime.fromisoformat(meta["xmp:ModifyDate"])
        assert modified == signed.signed_at
        assert meta["xmp:MetadataDate"] == meta["xmp:ModifyDate"]
        assert decode_pdf_date(str(info.ModDate)) == signed.signed_at
        assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
        assert meta["dc:title"] == "Giấy xác nhận"


def test_signature_widget_follows_pdfa(signed: SignedPdf) -> None:
    """Zero-size, printable, not hidden, an appearance with only /N as a stream, no actions (ISO 19005-2 6.3, 6.4)."""
    with pikepdf.open(signed.path) as pdf:
        form = pdf.Root.AcroForm
        assert "/NeedAppearances" not in form and "/XFA" not in form
        (widget,) = form.Fields
        assert widget.Subtype == "/Widget" and widget.FT == "/Sig"
        assert [float(x) for x in widget.Rect] == [0, 0, 0, 0]
        flags = int(widget.F)
        assert flags & 4 and not flags & (1 | 2 | 32 | 256)
        assert list(widget.AP.keys()) == ["/N"] and isinstance(widget.AP.N, pikepdf.Stream)
        assert "/A" not in widget and "/AA" not in widget
        assert widget.objgen in [a.objgen for a in pdf.pages[0].Annots]
        assert "/Extensions" not in pdf.Root and "/Perms" not in pdf.Root


def test_xmp_packet_is_kept_except_the_modification(tmp_path: Path, identity: DevIdentity) -> None:
    """Custom properties keep their prefix and layout; only Producer and the two dates change."""
    src = make_pdfa(tmp_path / "a.pdf")
    custom = (
        b'<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:scanner="https://scanner.example/ns/1.0/" rdf:about="">'
        b"<scanner:dossier_code>000.00.01.H29-261123-0001</scanner:dossier_code></rdf:Description>"
    )
    with pikepdf.open(src, allow_overwriting_input=True) as pdf:
        packet = pdf.Root.Metadata.read_bytes().replace(b"</rdf:RDF>", custom + b"</rdf:RDF>")
        pdf.Root.Metadata = pdf.make_stream(packet, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
        pdf.save()
    out = sign_pdf(src, tmp_path / "b.pdf", pkcs12=identity.pkcs12, password=Secret(PASSWORD))
    with pikepdf.open(src) as before, pikepdf.open(out.path) as after:
        old, new = before.Root.Metadata.read_bytes(), after.Root.Metadata.read_bytes()
    assert b"<scanner:dossier_code>000.00.01.H29-261123-0001</scanner:dossier_code>" in new
    assert _without_modification(old) == _without_modification(new)


def _without_modification(packet: bytes) -> bytes:
    tree = etree.ElementTree(etree.fromstring(packet))
    for tag in (
        "{http://ns.adobe.com/xap/1.0/}ModifyDate",
        "{http://ns.adobe.com/xap/1.0/}MetadataDate",
        "{http://ns.adobe.com/pdf/1.3/}Producer",
    ):
        for element in tree.getroot().iter(tag):
            element.getparent().remove(element)
    return etree.tostring(tree, method="c14n")


def test_pyhanko_metadata_rewrite_would_be_refused(
    pdfa: Path, identity: DevIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The self-check catches what broke PDF/A before: pyHanko re-serialising the XMP on its own."""
    monkeypatch.setattr(pades._PdfaWriter, "_update_meta", IncrementalPdfFileWriter._update_meta)
    dst = pdfa.with_name("b.pdf")
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, dst, pkcs12=identity.pkcs12, password=Secret(PASSWORD))
    assert err.value.code == "sign-pdfa"
    assert not dst.exists() and not [p for p in pdfa.parent.iterdir() if p.name.startswith(".")]


def test_pdfa_1b_keeps_its_version(tmp_path: Path, identity: DevIdentity) -> None:
    src = make_pdfa(tmp_path / "a.pdf", "1b")
    out = sign_pdf(src, tmp_path / "b.pdf", pkcs12=identity.pkcs12, password=Secret(PASSWORD))
    report = pikepdf.pdfa.validate_written(out.path, "1b")  # PDF/A-1 also checks Info against XMP
    assert report.violations == ()
    assert [f.message for f in report.unsupported] == ["interactive forms (/AcroForm) are not supported"]
    assert pdfa_findings(out.path, "1b") == []
    with pikepdf.open(out.path) as pdf:
        assert pdf.pdf_version == "1.4" and "/Version" not in pdf.Root
    assert b"/Type /XRef" not in out.path.read_bytes()  # PDF/A-1 forbids cross-reference streams


@pytest.mark.slow
@pytest.mark.skipif(not preflight_available(), reason="Java or PDFBox Preflight is not installed")
def test_pdfbox_preflight_accepts_a_signed_pdfa_1b(tmp_path: Path, identity: DevIdentity) -> None:
    """An independent validator that does check form fields and signatures (PDF/A-1b only)."""
    src = make_pdfa(tmp_path / "a.pdf", "1b")
    out = sign_pdf(src, tmp_path / "b.pdf", pkcs12=identity.pkcs12, password=Secret(PASSWORD))
    result = preflight(out.path)
    assert result.valid, result.errors


# --- refusals --------------------------------------------------------------------------------


def test_wrong_password_is_refused_without_echoing_it(pdfa: Path, identity: DevIdentity) -> None:
    wrong = "sai-mật-khẩu-987"
    dst = pdfa.with_name("b.pdf")
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, dst, pkcs12=identity.pkcs12, password=Secret(wrong))
    text = f"{err.value} {err.value!r} {err.value.args} {err.value.message_vi} {err.value.message_en}"
    assert wrong not in text and PASSWORD not in text
    assert "sai mật khẩu" in err.value.message_vi
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert not dst.exists()


def test_expired_certificate_is_refused(pdfa: Path, tmp_path: Path) -> None:
    p12 = make_pkcs12(
        tmp_path / "cu.p12",
        password=PASSWORD,
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        not_after=datetime(2023, 1, 1, tzinfo=UTC),
    )
    dst = tmp_path / "b.pdf"
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, dst, pkcs12=p12, password=Secret(PASSWORD), now=datetime(2026, 11, 23, 9, 0, tzinfo=VIETNAM))
    assert "đã hết hạn" in err.value.message_vi
    assert "01/01/2023" in err.value.message_vi and "01/01/2020" in err.value.message_vi
    assert err.value.code == "sign-expired"
    assert not dst.exists()


def test_certificate_not_yet_valid_is_refused(pdfa: Path, tmp_path: Path) -> None:
    p12 = make_pkcs12(
        tmp_path / "moi.p12",
        password=PASSWORD,
        not_before=datetime(2030, 1, 1, tzinfo=UTC),
        not_after=datetime(2033, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, tmp_path / "b.pdf", pkcs12=p12, password=Secret(PASSWORD))
    assert "chưa có hiệu lực" in err.value.message_vi


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_timestamped_levels_need_a_tsa(pdfa: Path, identity: DevIdentity, level: str) -> None:
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, pdfa.with_name("b.pdf"), pkcs12=identity.pkcs12, password=Secret(PASSWORD), level=level)
    assert "signing.tsa_url" in err.value.message_vi
    assert not pdfa.with_name("b.pdf").exists()


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_long_term_levels_need_trust_roots(pdfa: Path, identity: DevIdentity, level: str) -> None:
    with pytest.raises(SigningError) as err:
        sign_pdf(
            pdfa,
            pdfa.with_name("b.pdf"),
            pkcs12=identity.pkcs12,
            password=Secret(PASSWORD),
            level=level,
            tsa_url="http://127.0.0.1:9/tsa",
        )
    assert "signing.trust_roots" in err.value.message_vi


def test_unknown_level_is_refused(pdfa: Path, identity: DevIdentity) -> None:
    with pytest.raises(SigningError):
        sign_pdf(pdfa, pdfa.with_name("b.pdf"), pkcs12=identity.pkcs12, password=Secret(PASSWORD), level="B-X")


def test_missing_pkcs12_is_a_signing_error(pdfa: Path, tmp_path: Path) -> None:
    with pytest.raises(SigningError):
        sign_pdf(pdfa, tmp_path / "b.pdf", pkcs12=tmp_path / "khong-co.p12", password=Secret(PASSWORD))


def test_a_failed_signing_leaves_dst_as_it_was(pdfa: Path, identity: DevIdentity) -> None:
    dst = pdfa.with_name("b.pdf")
    dst.write_bytes(b"previous")
    with pytest.raises(SigningError):
        sign_pdf(pdfa, dst, pkcs12=identity.pkcs12, password=Secret("sai"))
    assert dst.read_bytes() == b"previous"


def test_not_a_pdf_is_a_signing_error(tmp_path: Path, identity: DevIdentity) -> None:
    src = tmp_path / "a.pdf"
    src.write_bytes(b"%PDF-1.7\nnot really\n")
    with pytest.raises(SigningError):
        sign_pdf(src, tmp_path / "b.pdf", pkcs12=identity.pkcs12, password=Secret(PASSWORD))
    assert not (tmp_path / "b.pdf").exists()


def test_same_field_twice_is_refused(signed: SignedPdf, identity: DevIdentity) -> None:
    with pytest.raises(SigningError) as err:
        sign_pdf(signed.path, signed.path.with_name("c.pdf"), pkcs12=identity.pkcs12, password=Secret(PASSWORD))
    assert "Signature1" in err.value.message_vi


# --- expiry warning --------------------------------------------------------------------------


def test_no_warning_for_a_fresh_certificate(identity: DevIdentity) -> None:
    assert certificate_warning(identity.pkcs12, Secret(PASSWORD)) is None


def test_warning_within_30_days(identity: DevIdentity) -> None:
    warning = certificate_warning(identity.pkcs12, Secret(PASSWORD), identity.not_after - timedelta(days=10))
    assert warning is not None and "sẽ hết hạn" in warning and "còn 10 ngày" in warning
    assert certificate_warning(identity.pkcs12, Secret(PASSWORD), identity.not_after - timedelta(days=31)) is None


def test_warning_once_expired(identity: DevIdentity) -> None:
    warning = certificate_warning(identity.pkcs12, Secret(PASSWORD), identity.not_after + timedelta(days=1))
    assert warning is not None and "đã hết hạn" in warning


def test_warning_with_wrong_password_is_a_signing_error(identity: DevIdentity) -> None:
    with pytest.raises(SigningError):
        certificate_warning(identity.pkcs12, Secret("sai"))
