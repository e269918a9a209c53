"""PAdES B-T, B-LT and B-LTA against the local test PKI (TSA, OCSP and CRL on 127.0.0.1).

Each level is checked for what it adds (a signature timestamp, a DSS with
OCSP responses and CRLs, a document timestamp), by pyHanko through
``check_file``, by OpenSSL and by pdfsig; and B-LT/B-LTA files are checked
again once their PKI's services are gone, which is how an archive reads
them years later.
"""

from __future__ import annotations

import time
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import cms

from scanner.config import Secret
from scanner.errors import SigningError
from scanner.sign import VisibleMark, sign_pdf
from scanner.sign.pdfa import pdfa_findings
from scanner.sign.verify import REVOCATION_GOOD, REVOCATION_NONE, check_file
from tests.sign.conftest import PASSWORD, PkiFiles, make_pdfa, pki_files, signature_der
from tests.sign.independent import HAVE_OPENSSL, HAVE_PDFSIG, openssl_cms_verify, openssl_ts_verify, pdfsig
from tests.sign.pki import SIGNER_NAME, running_pki

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def _sign(src: Path, dst: Path, files: PkiFiles, level: str, *, visible: bool = True) -> Path:
    return sign_pdf(
        src,
        dst,
        pkcs12=files.pkcs12,
        password=files.password,
        level=level,
        tsa_url=files.tsa_url,
        trust_roots=[files.root],
        mark=VisibleMark() if visible else None,
    ).path


@pytest.fixture(scope="module")
def signed_levels(test_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same PDF/A-2b page signed once at each level, visibly."""
    folder = tmp_path_factory.mktemp("levels")
    src = make_pdfa(folder / "goc.pdf")
    return {level: _sign(src, folder / f"{level}.pdf", test_pki, level) for level in LEVELS}


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_verifies_and_is_recognised(signed_levels: dict[str, Path], test_pki: PkiFiles, level: str) -> None:
    report = check_file(signed_levels[level], [test_pki.root])
    assert report.ok, report.problems
    (sig,) = report.signatures
    assert sig.intact and sig.valid and sig.trusted and sig.signer == SIGNER_NAME
    assert sig.level == level
    assert (sig.timestamp is None) == (level == "B-B")
    assert sig.revocation == (REVOCATION_GOOD if level in ("B-LT", "B-LTA") else REVOCATION_NONE)
    assert len(report.timestamps) == (level == "B-LTA")
    assert report.pdfa == "2b"


@pytest.mark.parametrize("level", ("B-T", "B-LT", "B-LTA"))
def test_signature_carries_a_tsa_timestamp(signed_levels: dict[str, Path], level: str) -> None:
    data = signed_levels[level].read_bytes()
    (signer_info,) = cms.ContentInfo.load(signature_der(data, 0))["content"]["signer_infos"]
    unsigned = {a["type"].native for a in signer_info["unsigned_attrs"]}
    assert "signature_time_stamp_token" in unsigned


@pytest.mark.parametrize("level", ("B-LT", "B-LTA"))
def test_dss_holds_the_chain_ocsp_and_crls(signed_levels: dict[str, Path], level: str) -> None:
    with pikepdf.open(signed_levels[level]) as pdf:
        dss = pdf.Root.DSS
        assert len(dss.OCSPs) >= 1  # the agency certificate's responder
        assert len(dss.CRLs) >= 1  # the root's CRL for the intermediate and the TSA
        assert len(dss.Certs) >= 3  # signer, intermediate, TSA (and the root)
        assert "/Extensions" not in pdf.Root  # no ESIC declaration
    with pikepdf.open(signed_levels[level].with_name("goc.pdf")) as src, pikepdf.open(signed_levels[level]) as pdf:
        assert pdf.pdf_version == src.pdf_version  # not raised to 1.7


def test_lta_ends_with_a_document_timestamp_over_everything(signed_levels: dict[str, Path]) -> None:
    with pikepdf.open(signed_levels["B-LTA"]) as pdf:
        stamps = [f for f in pdf.Root.AcroForm.Fields if f.get("/V") is not None and f.V.Type == "/DocTimeStamp"]
        (stamp,) = stamps
        assert stamp.V.SubFilter == "/ETSI.RFC3161"
        assert "/AP" in stamp and [float(x) for x in stamp.Rect] == [0, 0, 0, 0]
        a, _, c, d = (int(x) for x in stamp.V.ByteRange)
    assert a == 0 and c + d == signed_levels["B-LTA"].stat().st_size


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_stays_pdfa_2b(signed_levels: dict[str, Path], level: str) -> None:
    assert pdfa_findings(signed_levels[level], "2b") == []


@pytest.mark.skipif(not HAVE_OPENSSL, reason="openssl is not installed")
@pytest.mark.parametrize("level", LEVELS)
def test_openssl_verifies_the_signature(
    signed_levels: dict[str, Path], test_pki: PkiFiles, tmp_path: Path, level: str
) -> None:
    proc = openssl_cms_verify(signed_levels[level], test_pki.root, tmp_path, which=0)
    assert proc.returncode == 0 and "Verification successful" in proc.stderr, proc.stderr


@pytest.mark.skipif(not HAVE_OPENSSL, reason="openssl is not installed")
def test_openssl_verifies_the_document_timestamp(
    signed_levels: dict[str, Path], test_pki: PkiFiles, tmp_path: Path
) -> None:
    proc = openssl_ts_verify(signed_levels["B-LTA"], test_pki.root, tmp_path)
    assert proc.returncode == 0 and "Verification: OK" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(not HAVE_PDFSIG, reason="poppler-utils (pdfsig) is not installed")
@pytest.mark.parametrize("level", LEVELS)
def test_pdfsig_says_valid(signed_levels: dict[str, Path], level: str) -> None:
    out = pdfsig(signed_levels[level])
    first = out.split("Signature #2")[0]
    assert "Signature Validation: Signature is Valid." in first, out
    assert f"Signer Certificate Common Name: {SIGNER_NAME}" in first
    assert "Total document signed" in first or level in ("B-LT", "B-LTA")  # later revisions follow the signature


def test_long_term_files_validate_offline(tmp_path: Path) -> None:
    """B-LT and B-LTA files still verify, revocation included, once OCSP, CRL and TSA are gone."""
    src = make_pdfa(tmp_path / "goc.pdf", "1b")
    with running_pki() as pki:
        files = pki_files(pki, tmp_path / "pki")
        signed = {level: _sign(src, tmp_path / f"{level}.pdf", files, level) for level in ("B-LT", "B-LTA")}
        served = sum(pki.hits.values())
    for level, path in signed.items():
        report = check_file(path, [files.root])
        assert report.ok, (level, report.problems)
        (sig,) = report.signatures
        assert sig.revocation == REVOCATION_GOOD and sig.level == level
    assert sum(pki.hits.values()) == served  # nothing was asked of the (stopped) services


def test_revoked_certificate_is_not_signed_at_b_lt(tmp_path: Path) -> None:
    src = make_pdfa(tmp_path / "goc.pdf")
    with running_pki() as pki:
        files = pki_files(pki, tmp_path / "pki")
        pki.revoke(pki.signer)
        with pytest.raises(SigningError) as err:
            _sign(src, tmp_path / "b.pdf", files, "B-LT")
    assert err.value.code == "sign-revocation"
    assert "thu hồi" in err.value.message_vi
    assert not (tmp_path / "b.pdf").exists()


def test_unreachable_tsa_is_a_clear_error(tmp_path: Path, test_pki: PkiFiles) -> None:
    src = make_pdfa(tmp_path / "goc.pdf")
    with pytest.raises(SigningError) as err:
        sign_pdf(
            src,
            tmp_path / "b.pdf",
            pkcs12=test_pki.pkcs12,
            password=Secret(PASSWORD),
            level="B-T",
            tsa_url="http://user:matkhau@127.0.0.1:9/tsa",
        )
    assert err.value.code == "sign-tsa"
    assert "TSA" in err.value.message_vi and "matkhau" not in str(err.value) + err.value.message_vi
    assert not (tmp_path / "b.pdf").exists()


def test_signing_time_per_level(test_pki: PkiFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a benchmark: records how long each level takes against local services, for the report."""
    src = make_pdfa(tmp_path / "goc.pdf")
    for level in LEVELS:
        start = time.perf_counter()
        _sign(src, tmp_path / f"{level}.pdf", test_pki, level)
        elapsed = time.perf_counter() - start
        with capsys.disabled():
            print(f"\n  sign {level}: {elapsed:.2f} s")
        assert elapsed < 30
