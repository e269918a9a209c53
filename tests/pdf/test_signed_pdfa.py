"""The archive's real files, signed: `scanner ocr --pdfa 1b` output of the samples, before and after signing.

PDFBox Preflight (a validator that shares no code with pikepdf or pyHanko
and does check signature fields and fonts in annotations) must accept the
PDF/A-1b built from the samples, and the same file signed invisibly and
with the visible "SAO Y" mark, at B-B and at B-LT (with the DSS revision).
The signed files keep their Vietnamese text layer, and the mark renders
with its diacritics in the top right corner of page 1.

Two of the three samples (one page each) run by default; the two-page TIFF
is added in the slow run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from scanner.cli import main
from scanner.pdf.preflight import preflight, preflight_available
from scanner.sign import VisibleMark, sign_pdf
from scanner.sign.verify import check_file
from tests.sign.conftest import PASSWORD, PkiFiles, pki_files
from tests.sign.independent import HAVE_OPENSSL, HAVE_PDFSIG, openssl_cms_verify, pdfsig
from tests.sign.pki import SIGNER_NAME, running_pki

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
AGENCY = "Ủy ban nhân dân phường Hải Đăng"
VARIANTS = ("invisible-B-B", "visible-B-B", "invisible-B-LT", "visible-B-LT")

needs_tools = pytest.mark.skipif(
    not preflight_available() or shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="PDFBox Preflight or poppler-utils is not installed",
)
pytestmark = needs_tools


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _text(pdf: Path, *crop: str) -> str:
    return subprocess.run(["pdftotext", *crop, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _ocr(inputs: list[Path], out: Path) -> Path:
    assert main(["ocr", *map(str, inputs), "-o", str(out), "--pdfa", "1b", "--jobs", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiFiles]:
    with running_pki() as running:
        yield pki_files(running, tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ocr")
    return _ocr([SAMPLES / "giay-xac-nhan.jpg", SAMPLES / "quyet-dinh.png"], folder / "mau-1b.pdf")


def _sign_variant(src: Path, dst: Path, pki: PkiFiles, variant: str) -> Path:
    visibility, level = variant.split("-", 1)
    return sign_pdf(
        src,
        dst,
        pkcs12=pki.pkcs12,
        password=pki.password,
        level=level,
        tsa_url=pki.tsa_url,
        trust_roots=[pki.root],
        mark=VisibleMark(agency=AGENCY) if visibility == "visible" else None,
    ).path


@pytest.fixture(scope="module")
def signed(built: Path, pki: PkiFiles) -> dict[str, Path]:
    return {v: _sign_variant(built, built.with_name(f"{v}.pdf"), pki, v) for v in VARIANTS}


def test_scanner_ocr_1b_output_passes_preflight(built: Path) -> None:
    result = preflight(built)
    assert result.valid, result.errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_signed_output_passes_preflight(signed: dict[str, Path], variant: str) -> None:
    result = preflight(signed[variant])
    assert result.valid, result.errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_signed_output_verifies_everywhere(
    signed: dict[str, Path], pki: PkiFiles, tmp_path: Path, variant: str
) -> None:
    report = check_file(signed[variant], [pki.root])
    assert report.ok, report.problems
    assert report.pdfa == "1b" and report.signatures[0].level == variant.split("-", 1)[1]
    if HAVE_OPENSSL:
        proc = openssl_cms_verify(signed[variant], pki.root, tmp_path)
        assert proc.returncode == 0, proc.stderr
    if HAVE_PDFSIG:
        out = pdfsig(signed[variant])
        assert "Signature Validation: Signature is Valid." in out and SIGNER_NAME in out


def test_signing_keeps_the_vietnamese_text_layer(built: Path, signed: dict[str, Path]) -> None:
    before = [_fold(line) for line in _text(built).splitlines() if line.strip()]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in before  # what the samples say, recognised
    for path in signed.values():
        after = {_fold(line) for line in _text(path).splitlines()}
        assert [line for line in before if line not in after] == []


@pytest.mark.parametrize("variant", ["visible-B-B", "visible-B-LT"])
def test_visible_mark_reads_and_renders_top_right(signed: dict[str, Path], tmp_path: Path, variant: str) -> None:
    """The mark's three lines come back from its region with their diacritics, and its pixels are ink."""
    path = signed[variant]
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    width, height = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", out).groups())  # type: ignore[union-attr]
    region = ["-f", "1", "-l", "1", "-r", "72", "-x", str(int(width) - 260), "-y", "0", "-W", "260", "-H", "80"]
    text = _fold(_text(path, *region))
    assert text.startswith("SAO Y")
    assert AGENCY in text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", text)

    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "72", "-png", str(path), str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    unsigned = tmp_path / "u"
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "72", "-png", str(path.with_name("mau-1b.pdf")), str(unsigned)],
        check=True,
    )
    (png_unsigned,) = tmp_path.glob("u*.png")
    with Image.open(png) as img, Image.open(png_unsigned) as ref:
        box = (img.width - 200, 10, img.width - 10, 70)
        dark = sum(img.convert("L").crop(box).histogram()[:100])
        dark_before = sum(ref.convert("L").crop(box).histogram()[:100])
    assert dark > dark_before + 200, (dark, dark_before)  # the mark added ink where it says it is


@pytest.mark.slow
def test_two_page_tiff_sample_signed_passes_preflight(tmp_path: Path, pki: PkiFiles) -> None:
    built = _ocr([SAMPLES / "ho-so-2-trang.tif"], tmp_path / "tif-1b.pdf")
    assert preflight(built).valid
    out = _sign_variant(built, tmp_path / "ky.pdf", pki, "visible-B-LT")
    result = preflight(out)
    assert result.valid, result.errors
    assert PASSWORD not in out.read_bytes().decode("latin-1")
