"""Signing with the key on a PKCS#11 token: SoftHSM2 standing in for a Vietnamese CA's USB token.

The token is created with a label in Vietnamese with diacritics, and the key
object is labelled in decomposed Unicode (NFD), the way some token tools
store what a Mac keyboard typed: the configuration names both in NFC, and
the signer must still find them. The PIN reaches the token only; a wrong
one gives a Vietnamese message without it.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from scanner.config import Secret
from scanner.errors import SigningError
from scanner.sign import TokenKey, VisibleMark, certificate_warning, sign_pdf
from scanner.sign.token import same_label
from scanner.sign.verify import check_file
from tests.sign.conftest import PkiFiles, make_pdfa
from tests.sign.independent import HAVE_OPENSSL, openssl_cms_verify
from tests.sign.pki import SIGNER_NAME

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL = "Kho lưu trữ Sở Tư pháp"
KEY_LABEL = "Khóa ký Sở Tư pháp"
KEY_ID = bytes.fromhex("a1b2c3")
PIN = "246810"
SO_PIN = "13579135"

pytestmark = pytest.mark.skipif(
    not MODULE.exists() or shutil.which("softhsm2-util") is None, reason="SoftHSM2 (softhsm2) is not installed"
)


@pytest.fixture(scope="module")
def token(test_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SoftHSM2 token holding the test PKI's agency key and certificates; yields the PKCS#11 module."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN, "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
        )
        lib = pkcs11.lib(str(MODULE))
        (slot,) = [s for s in lib.get_slots(token_present=True) if s.get_token().label.strip() == TOKEN_LABEL]
        pki = test_pki.pki
        with slot.get_token().open(user_pin=PIN, rw=True) as session:
            der = pki.signer.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            )
            attrs = decode_rsa_private_key(der)
            attrs.update(
                {
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.SIGN: True,
                    Attribute.ID: KEY_ID,
                    Attribute.LABEL: unicodedata.normalize("NFD", KEY_LABEL),
                }
            )
            session.create_object(attrs)
            for item, ident in ((pki.signer, KEY_ID), (pki.agency_ca, b"\x01")):
                cert = decode_x509_certificate(item.der)
                cert.update({Attribute.TOKEN: True, Attribute.ID: ident, Attribute.LABEL: "cert"})
                session.create_object(cert)
            assert len(list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))) == 2
        yield MODULE


def _key(**kwargs: object) -> TokenKey:
    base: dict[str, object] = {"module": MODULE, "token_label": TOKEN_LABEL, "pin": Secret(PIN)}
    base.update(kwargs)
    return TokenKey(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_sign_with_the_token_found_by_its_vietnamese_label(
    token: Path, test_pki: PkiFiles, tmp_path: Path, form: str
) -> None:
    """The key is chosen by its (NFD-stored) label here; the token label is given in either form."""
    src = make_pdfa(tmp_path / "goc.pdf")
    key = _key(token_label=unicodedata.normalize(form, TOKEN_LABEL), key_label=KEY_LABEL)
    out = sign_pdf(
        src,
        tmp_path / "ky.pdf",
        token=key,
        level="B-LT",
        tsa_url=test_pki.tsa_url,
        trust_roots=[test_pki.root],
        mark=VisibleMark(),
    )
    assert out.signer == SIGNER_NAME
    report = check_file(out.path, [test_pki.root])
    assert report.ok, report.problems
    assert report.signatures[0].level == "B-LT"


@pytest.mark.skipif(not HAVE_OPENSSL, reason="openssl is not installed")
def test_token_signature_by_key_id_verifies_with_openssl(token: Path, test_pki: PkiFiles, tmp_path: Path) -> None:
    src = make_pdfa(tmp_path / "goc.pdf", "1b")
    out = sign_pdf(src, tmp_path / "ky.pdf", token=_key(key_id=KEY_ID))
    proc = openssl_cms_verify(out.path, test_pki.root, tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_wrong_pin_is_refused_without_echoing_it(token: Path, tmp_path: Path) -> None:
    src = make_pdfa(tmp_path / "goc.pdf")
    wrong = "999999"
    with pytest.raises(SigningError) as err:
        sign_pdf(src, tmp_path / "ky.pdf", token=_key(pin=Secret(wrong), key_id=KEY_ID))
    text = f"{err.value} {err.value!r} {err.value.message_vi} {err.value.message_en}"
    assert "sai mã PIN" in err.value.message_vi and wrong not in text and PIN not in text
    assert not (tmp_path / "ky.pdf").exists()


def test_unknown_token_lists_what_is_there(token: Path, tmp_path: Path) -> None:
    with pytest.raises(SigningError) as err:
        sign_pdf(make_pdfa(tmp_path / "a.pdf"), tmp_path / "b.pdf", token=_key(token_label="Token khác", key_id=KEY_ID))
    assert err.value.code == "sign-token" and TOKEN_LABEL in err.value.message_vi


def test_unknown_key_label(token: Path, tmp_path: Path) -> None:
    with pytest.raises(SigningError) as err:
        sign_pdf(make_pdfa(tmp_path / "a.pdf"), tmp_path / "b.pdf", token=_key(key_label="Khóa khác"))
    assert "Khóa khác" in err.value.message_vi


def test_expiry_warning_reads_the_token_certificate(token: Path) -> None:
    assert certificate_warning(None, None, token=_key(key_id=KEY_ID)) is None


def test_label_comparison() -> None:
    nfd = unicodedata.normalize("NFD", TOKEN_LABEL)
    assert nfd != TOKEN_LABEL and same_label(nfd + "   ", TOKEN_LABEL)
    assert not same_label("Kho luu tru So Tu phap", TOKEN_LABEL)
    long = "Ủy ban nhân dân tỉnh Khánh Hòa — Sở Tư pháp"  # more than 32 bytes: the token keeps a cut
    stored = long.encode()[:32].decode("utf-8", "ignore")
    assert same_label(stored, long, limit=32)


def test_a_checkpoint_is_signed_on_the_token_and_verifies(token: Path, test_pki: PkiFiles, tmp_path: Path) -> None:
    """With the agency key on a PKCS#11 token, the checkpoint is signed there, as the PDFs are."""
    from scanner.archive import Catalog
    from scanner.archive.audit_anchor import agency_signer, verify_checkpoints, write_checkpoint
    from scanner.config import SigningConfig

    pin = tmp_path / "token.pin"
    pin.write_text(PIN, encoding="utf-8")
    signing = SigningConfig(pkcs12=None, pkcs11_module=token, token_label=TOKEN_LABEL, key_id=KEY_ID, pin_file=pin)
    root = tmp_path / "archive"
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.audit("view", "x", actor="Lan (records)")
        assert write_checkpoint(catalog, root, agency_signer(signing)) is not None
        assert verify_checkpoints(catalog, root, (test_pki.root,)) == (1, [])
        assert verify_checkpoints(catalog, root, ())[1]  # no trusted CA: refused
