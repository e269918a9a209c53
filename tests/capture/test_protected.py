"""Protected PDFs: an owner password alone (the usual shape of a government PDF) is no bar to
digitizing; only a PDF that needs a password to be opened at all is quarantined.

Every fixture is generated here: a rendered page, wrapped and encrypted with pikepdf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import img2pdf
import pikepdf
import pytest

from scanner.archive import Catalog, sha256_file
from scanner.capture.load import MAX_FORM_DEPTH, load_pages, pdf_signatures
from scanner.config import load_config
from scanner.errors import InputError
from scanner.model import SourceFile
from scanner.pipeline import Pipeline
from tests.capture import hostile
from tests.conftest import render_lines

DPI = 150
# Editing and form filling refused, printing and copying allowed: what pdfinfo shows for a signed "SAO Y".
_RESTRICTED = pikepdf.Permissions(modify_other=False, modify_annotation=False, modify_form=False, modify_assembly=False)


def _src(path: Path) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(path=path, original_name=path.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _plain_pdf(tmp_path: Path, *, jpeg: bool = False) -> Path:
    page = tmp_path / ("trang.jpg" if jpeg else "trang.png")
    render_lines(dpi=DPI).save(page, dpi=(DPI, DPI))
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(img2pdf.convert(str(page)))
    return plain


def _encrypt(src: Path, dst: Path, *, user: str = "") -> Path:
    with pikepdf.open(src) as pdf:
        pdf.save(dst, encryption=pikepdf.Encryption(owner="x", user=user, R=6, allow=_RESTRICTED))
    return dst


@pytest.mark.parametrize("jpeg", [False, True], ids=["flate", "dct"])
def test_owner_password_only_pdf_is_read_like_any_pdf(tmp_path: Path, jpeg: bool) -> None:
    path = _encrypt(_plain_pdf(tmp_path, jpeg=jpeg), tmp_path / "sao-y.pdf")
    with pikepdf.open(path) as pdf:
        assert pdf.is_encrypted and pdf.encryption.R == 6
    (page,) = load_pages(_src(path), tmp_path / "out")
    assert (page.width, page.height) == render_lines(dpi=DPI).size
    assert pdf_signatures(path) == 0


def test_owner_password_only_vector_page_is_rendered(tmp_path: Path) -> None:
    """A page with no single image goes to poppler, which opens it without a password too."""
    plain = tmp_path / "vector.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].Contents = pdf.make_stream(b"0 0 0 rg 100 100 200 50 re f")
    pdf.save(plain)
    path = _encrypt(plain, tmp_path / "sao-y.pdf")
    (page,) = load_pages(_src(path), tmp_path / "out")
    assert page.dpi == 300 and page.width > 2000


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (partial(hostile.double_flate_bomb, inflated_mb=8), "decode-limit"),
        (partial(hostile.flate_overflow, inflated_mb=16), "decode-limit"),
        (hostile.huge_mediabox, "too-many-pixels"),
        (hostile.recursive_form_self, "recursive-pdf"),
        (hostile.recursive_form_cycle, "recursive-pdf"),
        (hostile.form_fanout, "recursive-pdf"),
        (partial(hostile.form_fanout, levels=MAX_FORM_DEPTH + 1, fanout=1), "recursive-pdf"),
    ],
)
def test_hostile_pdf_behind_an_owner_password_is_still_refused_before_decoding(
    tmp_path: Path, build: Callable[[Path], Path], code: str
) -> None:
    """The bounded checks read decrypted streams: encryption hides nothing from them."""
    path = _encrypt(build(tmp_path / "plain.pdf"), tmp_path / "độc.pdf")
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == code


def test_pdf_that_needs_a_password_to_open_is_refused(tmp_path: Path) -> None:
    path = _encrypt(_plain_pdf(tmp_path), tmp_path / "khóa.pdf", user="u")
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == "encrypted-pdf"
    assert "khóa.pdf" in info.value.message_vi and "cần mật khẩu" in info.value.message_vi


def test_owner_password_only_pdf_is_digitized_and_findable(workstation: Path, tmp_path: Path) -> None:
    path = _encrypt(_plain_pdf(tmp_path), tmp_path / "sao-y.pdf")
    (tmp_path / "b").mkdir()
    locked = _encrypt(_plain_pdf(tmp_path / "b"), tmp_path / "khóa.pdf", user="u")
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([path, locked], config.counters[0]))
        assert outcome.state == "archived", outcome.error
        (doc,) = outcome.documents
        hits = catalog.search("phường Bến Nghé")
        assert hits and hits[0].code == doc.code
    assert any("khóa.pdf" in w for w in outcome.warnings)
    with pikepdf.open(doc.path) as pdf:
        assert not pdf.is_encrypted  # the archive's copy is an open PDF/A


@pytest.fixture
def signed_locked_pdf(workstation: Path, tmp_path: Path) -> Path:
    """Encrypted first, then signed by a tool holding the owner password, as a "SAO Y" is made.

    Our own signer does not sign encrypted files (it never needs to), so pyHanko is driven here directly.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from scanner.sign.pades import open_identity

    config = load_config(workstation)
    locked = _encrypt(_plain_pdf(tmp_path), tmp_path / "enc.pdf")
    signed = tmp_path / "sao-y-đã-ký.pdf"
    identity = open_identity(config.signing.pkcs12, config.signing.password())
    with identity as (signer, _cert), locked.open("rb") as f, signed.open("wb") as out:
        writer = IncrementalPdfFileWriter(f)
        writer.encrypt("x")  # the owner password: what allows the update
        meta = signers.PdfSignatureMetadata(field_name="Signature1")
        signers.sign_pdf(writer, meta, signer=signer, output=out)
    with pikepdf.open(signed) as pdf:
        assert pdf.is_encrypted
    assert pdf_signatures(signed) == 1
    return signed


def _submit(workstation: Path, path: Path) -> tuple[Path, tuple[str, ...]]:
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([path], config.counters[0]))
    assert outcome.state == "archived", outcome.error
    (doc,) = outcome.documents
    return doc.path.parent / f"{outcome.dossier_code}.goc-01.pdf", tuple(outcome.warnings)


def test_encrypted_and_signed_pdf_is_kept_byte_for_byte(workstation: Path, signed_locked_pdf: Path) -> None:
    original = sha256_file(signed_locked_pdf)
    kept, warnings = _submit(workstation, signed_locked_pdf)
    assert sha256_file(kept) == original
    assert any("sao-y-đã-ký.pdf" in w and "chữ ký số" in w for w in warnings), warnings


def test_encrypted_and_signed_pdf_note_says_the_signature_is_intact(workstation: Path, signed_locked_pdf: Path) -> None:
    _, warnings = _submit(workstation, signed_locked_pdf)
    assert any("sao-y-đã-ký.pdf" in w and "nguyên vẹn" in w for w in warnings), warnings
