"""Fixtures for the sign stage: a blank PDF/A page, a development identity, a signed copy.

Everything is generated here, in a few lines each: a reader sees exactly
which PDF and which certificate each test signs with.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from scanner.config import Secret
from scanner.model import SignedPdf
from scanner.sign import DevIdentity, create_dev_identity, sign_pdf
from tests.sign.pki import TestPki, running_pki

AGENCY = "Ủy ban nhân dân phường Bến Nghé"
AGENCY_CODE = "000.00.01.H29"
PASSWORD = "Thu-nghiem-42-khong-dung-that"  # scanner init writes an ASCII token as well


def make_pdfa(path: Path, flavour: str = "2b") -> Path:
    """One blank A4 page saved as PDF/A-FLAVOUR by pikepdf (validated as it is written)."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(595, 842))
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = "Giấy xác nhận"
            meta["dc:creator"] = [AGENCY]
        pikepdf.pdfa.save(pdf, path, flavour)
    return path


def make_pkcs12(path: Path, *, password: str, not_before: datetime, not_after: datetime, name: str = AGENCY) -> Path:
    """A self-signed signing certificate valid from NOT_BEFORE to NOT_AFTER, with its key, in a PKCS#12."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password.encode())
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"test", key, cert, None, encryption))
    return path


def byte_range(data: bytes, which: int = -1) -> tuple[int, int, int, int]:
    """The /ByteRange of the last signature in DATA (or of signature WHICH, in file order)."""
    found = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    a, b, c, d = (int(x) for x in found[which])
    return a, b, c, d


def signature_der(data: bytes, which: int = -1) -> bytes:
    """The CMS blob of the last signature (or WHICH): the /Contents hex string, cut to its DER length."""
    _, b, c, _ = byte_range(data, which)
    blob = bytes.fromhex(data[b + 1 : c - 1].decode("ascii"))
    assert blob[0] == 0x30, "a CMS ContentInfo is a DER SEQUENCE"
    if blob[1] < 0x80:
        return blob[: 2 + blob[1]]
    n = blob[1] & 0x7F
    return blob[: 2 + n + int.from_bytes(blob[2 : 2 + n], "big")]


def signed_bytes(data: bytes, which: int = -1) -> bytes:
    a, b, c, d = byte_range(data, which)
    return data[a : a + b] + data[c : c + d]


@dataclass(frozen=True)
class PkiFiles:
    """The test PKI as the workstation sees it: the root to trust, the agency's PKCS#12, the TSA."""

    pki: TestPki
    root: Path
    pkcs12: Path
    password: Secret

    @property
    def tsa_url(self) -> str:
        return self.pki.tsa_url


def pki_files(pki: TestPki, folder: Path) -> PkiFiles:
    folder.mkdir(parents=True, exist_ok=True)
    return PkiFiles(
        pki=pki,
        root=pki.write_root(folder / "root.pem"),
        pkcs12=pki.write_pkcs12(folder / "agency.p12", PASSWORD),
        password=Secret(PASSWORD),
    )


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiFiles]:
    """The test PKI with its OCSP, CRL and TSA services on 127.0.0.1, for the whole session."""
    with running_pki() as pki:
        yield pki_files(pki, tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory) -> DevIdentity:
    return create_dev_identity(
        tmp_path_factory.mktemp("keys") / "keys", agency_code=AGENCY_CODE, agency_name=AGENCY, password=Secret(PASSWORD)
    )


@pytest.fixture(scope="session")
def other_identity(tmp_path_factory: pytest.TempPathFactory) -> DevIdentity:
    """A second, unrelated test CA: its root must not make the first identity's signatures trusted."""
    return create_dev_identity(
        tmp_path_factory.mktemp("other") / "keys",
        agency_code="000.00.02.H29",
        agency_name="UBND phường Đa Kao",
        password=Secret(PASSWORD),
    )


@pytest.fixture
def pdfa(tmp_path: Path) -> Path:
    return make_pdfa(tmp_path / "ban-goc.pdf")


@pytest.fixture
def signed(pdfa: Path, identity: DevIdentity) -> SignedPdf:
    return sign_pdf(pdfa, pdfa.with_name("ban-sao.pdf"), pkcs12=identity.pkcs12, password=Secret(PASSWORD))
