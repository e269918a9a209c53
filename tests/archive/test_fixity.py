"""Reading a stored PDF as its agency signature covers it, at every PAdES level the archive keeps.

B-LT and B-LTA add revisions after the signature (the DSS, a document
timestamp): the identity must still be read from the signed revision, and
the later revisions must neither count as "not covered" nor change it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from scanner.app.officer import signature_check
from scanner.archive.fixity import read_signed
from scanner.pdf.xmp import add_scanner_properties
from scanner.sign import sign_pdf
from tests.sign.conftest import PkiFiles, make_pdfa, pki_files
from tests.sign.pki import running_pki

PROPERTIES = {"dossier_code": "000.00.01.H29-261201-0001", "document_code": "000.00.01.H29-261201-0001.01",
              "field_holder_id": "001085000123"}  # fmt: skip


@pytest.fixture(scope="module")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiFiles]:
    """The test PKI with its TSA, OCSP and CRL on 127.0.0.1 (the sign stage's fixture, which lives in its conftest)."""
    with running_pki() as running:
        yield pki_files(running, tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = make_pdfa(tmp_path_factory.mktemp("src") / "goc.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        add_scanner_properties(pdf, PROPERTIES)
        pdf.save(path)
    return path


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_the_signed_identity_is_read_at_every_level(
    test_pki: PkiFiles, source: Path, tmp_path: Path, level: str
) -> None:
    signed = sign_pdf(source, tmp_path / "ky.pdf", pkcs12=test_pki.pkcs12, password=test_pki.password, level=level,
                      tsa_url=test_pki.tsa_url, trust_roots=[test_pki.root]).path  # fmt: skip
    finding = signature_check([test_pki.root])(signed)
    assert not finding.problems and finding.trusted
    found = read_signed(signed, finding)
    assert not isinstance(found, str), found
    assert found.properties == PROPERTIES == found.later_properties
    assert found.title == "Giấy xác nhận"
    size = signed.stat().st_size
    if level == "B-LT":  # the DSS revision follows, signed by nothing: allowed, it carries no content
        assert found.covered_end < size and found.has_dss
    else:
        assert found.covered_end == size


def test_an_untrusted_signature_gives_no_identity(test_pki: PkiFiles, source: Path, tmp_path: Path) -> None:
    signed = sign_pdf(source, tmp_path / "ky.pdf", pkcs12=test_pki.pkcs12, password=test_pki.password, level="B-B",
                      trust_roots=[test_pki.root]).path  # fmt: skip
    finding = signature_check([])(signed)  # the workstation trusts no CA
    assert finding.problems and not finding.trusted
    assert "không có chữ ký hợp lệ của cơ quan" in str(read_signed(signed, finding))


def test_a_checkpoint_carries_the_tsa_timestamp_when_one_is_configured(test_pki: PkiFiles, tmp_path: Path) -> None:
    from asn1crypto import cms

    from scanner.archive import Catalog
    from scanner.archive.audit_anchor import agency_signer, verify_checkpoints, write_checkpoint
    from scanner.config import SigningConfig

    password = tmp_path / "p12.pass"
    password.write_text(test_pki.password.reveal(), encoding="utf-8")
    signing = SigningConfig(pkcs12=test_pki.pkcs12, password_file=password, tsa_url=test_pki.tsa_url)
    root = tmp_path / "archive"
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.audit("view", "x", actor="Lan (records)")
        written = write_checkpoint(catalog, root, agency_signer(signing))
        assert written is not None
        (info,) = cms.ContentInfo.load((root / written).with_suffix(".p7s").read_bytes())["content"]["signer_infos"]
        assert "signature_time_stamp_token" in {a["type"].native for a in info["unsigned_attrs"]}
        assert verify_checkpoints(catalog, root, (test_pki.root,)) == (1, [])
