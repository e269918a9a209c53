"""The development identity: a test CA and the agency certificate, the key only inside the PKCS#12."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from scanner.config import Secret
from scanner.errors import SigningError
from scanner.sign import DevIdentity, create_dev_identity
from tests.sign.conftest import AGENCY, AGENCY_CODE, PASSWORD


def _load(identity: DevIdentity) -> tuple[object, x509.Certificate, list[x509.Certificate]]:
    key, cert, cas = pkcs12.load_key_and_certificates(identity.pkcs12.read_bytes(), PASSWORD.encode())
    assert cert is not None
    return key, cert, cas


def test_files_and_permissions(identity: DevIdentity) -> None:
    keys = identity.pkcs12.parent
    assert stat.S_IMODE(identity.pkcs12.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert sorted(p.name for p in keys.iterdir()) == sorted(["README.txt", identity.ca_cert.name, identity.pkcs12.name])
    for path in keys.iterdir():  # no private key anywhere but (encrypted) in the PKCS#12
        assert b"PRIVATE KEY" not in path.read_bytes()
    readme = (keys / "README.txt").read_text(encoding="utf-8")
    assert "KHÔNG DÙNG CHO SẢN XUẤT" in readme and "NOT FOR PRODUCTION" in readme
    assert PASSWORD not in readme


def test_pkcs12_holds_key_certificate_and_ca(identity: DevIdentity) -> None:
    key, cert, cas = _load(identity)
    ca = x509.load_pem_x509_certificate(identity.ca_cert.read_bytes())
    assert key is not None
    assert [c.subject for c in cas] == [ca.subject]
    assert cert.issuer == ca.subject
    assert cert.not_valid_after_utc == identity.not_after
    assert timedelta(days=3 * 365 - 1) < identity.not_after - datetime.now(UTC) <= timedelta(days=3 * 365)
    cert.verify_directly_issued_by(ca)


def test_vietnamese_agency_name_survives_in_the_subject(identity: DevIdentity) -> None:
    _, cert, _ = _load(identity)
    (cn,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    (org,) = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    (unit,) = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert cn.value == org.value == AGENCY
    assert cn._type == x509.name._ASN1Type.UTF8String  # diacritics need UTF8String, not PrintableString
    assert unit.value == AGENCY_CODE


def test_certificate_is_for_signing_only(identity: DevIdentity) -> None:
    _, cert, cas = _load(identity)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert not usage.key_cert_sign and not usage.key_encipherment
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):  # no EKU on purpose: see devpki._agency_certificate
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    ca_cn = cas[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert "THỬ NGHIỆM" in ca_cn and "KHÔNG DÙNG CHO SẢN XUẤT" in ca_cn


def test_wrong_password_does_not_open_the_pkcs12(identity: DevIdentity) -> None:
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(identity.pkcs12.read_bytes(), b"sai-mat-khau")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_pkcs12_is_aes256_encrypted(identity: DevIdentity) -> None:
    """Key and certificates are under PBES2/AES-256 (never RC2 or 3DES); the password goes through the environment."""
    proc = subprocess.run(
        ["openssl", "pkcs12", "-info", "-noout", "-in", str(identity.pkcs12), "-passin", "env:P12_PASSWORD"],
        capture_output=True,
        text=True,
        env={**os.environ, "P12_PASSWORD": PASSWORD},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout + proc.stderr
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" in report
    assert "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" in report
    assert "RC2" not in report and "3DES" not in report.upper()


def test_existing_pkcs12_is_never_overwritten(identity: DevIdentity) -> None:
    before = identity.pkcs12.read_bytes()
    with pytest.raises(SigningError) as err:
        create_dev_identity(
            identity.pkcs12.parent, agency_code=AGENCY_CODE, agency_name=AGENCY, password=Secret("khac")
        )
    assert "không ghi đè" in err.value.message_vi
    assert identity.pkcs12.read_bytes() == before


def test_empty_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningError):
        create_dev_identity(tmp_path, agency_code=AGENCY_CODE, agency_name=AGENCY, password=Secret(""))
    assert not any(tmp_path.iterdir())


def test_long_agency_name_is_cut_in_cn_but_kept_whole_in_o(tmp_path: Path) -> None:
    name = "Trung tâm Phục vụ hành chính công tỉnh Bà Rịa - Vũng Tàu, Bộ phận Một cửa liên thông cấp tỉnh"
    ident = create_dev_identity(tmp_path / "keys", agency_code="000.00.00.H02", agency_name=name, password=Secret("x"))
    _, cert, _ = pkcs12.load_key_and_certificates(ident.pkcs12.read_bytes(), b"x")
    assert cert is not None
    cn = str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    assert len(cn.encode()) <= 64 and cn.endswith("…") and name.startswith(cn[:-1])
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == name
