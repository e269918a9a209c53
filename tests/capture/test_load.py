"""Splitting input files into pages, and refusing broken input with a named reason."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from scanner.capture.load import MAX_FORM_DEPTH, LoadLimits, load_pages
from scanner.errors import InputError
from scanner.model import SourceFile
from tests.capture import hostile
from tests.conftest import render_lines


def _src(path: Path) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(path=path, original_name=path.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def test_jpeg_is_kept_byte_for_byte_with_its_dpi(tmp_path: Path) -> None:
    path = tmp_path / "giấy xác nhận.jpg"
    render_lines(dpi=200).save(path, dpi=(200, 200), quality=85)
    pages = load_pages(_src(path), tmp_path / "out")
    assert len(pages) == 1
    assert pages[0].path.read_bytes() == path.read_bytes()
    assert pages[0].dpi == 200 and pages[0].source == "giấy xác nhận.jpg"


def test_multipage_tiff_in_several_compressions(tmp_path: Path) -> None:
    path = tmp_path / "hoso.tif"
    a = render_lines(dpi=100)
    b = a.convert("1")
    a.save(path, save_all=True, append_images=[b, a.convert("L")], dpi=(200, 200), compression="tiff_lzw")
    pages = load_pages(_src(path), tmp_path / "out")
    assert [p.source for p in pages] == ["hoso.tif#1", "hoso.tif#2", "hoso.tif#3"]
    assert all(p.path.suffix == ".png" and p.dpi == 200 for p in pages)

    g4 = tmp_path / "g4.tif"
    b.save(g4, compression="group4", dpi=(300, 300))
    (page,) = load_pages(_src(g4), tmp_path / "out2")
    assert Image.open(page.path).mode == "1" and page.dpi == 300


def test_png_with_alpha_is_flattened_and_missing_dpi_defaults(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    render_lines(dpi=100).convert("RGBA").save(path)
    (page,) = load_pages(_src(path), tmp_path / "out")
    assert Image.open(page.path).mode == "RGB"
    assert page.dpi == 200


def test_scanner_pdf_page_image_is_extracted_unchanged(tmp_path: Path) -> None:
    import img2pdf

    jpg = tmp_path / "p.jpg"
    render_lines(dpi=200).save(jpg, dpi=(200, 200), quality=80)
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(img2pdf.convert(str(jpg)))
    (page,) = load_pages(_src(pdf), tmp_path / "out")
    assert page.path.read_bytes() == jpg.read_bytes()
    assert page.dpi == pytest.approx(200, abs=0.5)


@pytest.mark.parametrize(
    ("maker", "code"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"hello, not an image"), "unsupported-type"),
        (lambda p: p.write_bytes(p.with_suffix(".src").read_bytes()[:5000]), "corrupt-image"),
        (lambda p: p.write_bytes(b"%PDF-1.7\n garbage"), "corrupt-pdf"),
    ],
)
def test_broken_input_names_file_and_reason(tmp_path: Path, maker, code: str) -> None:
    path = tmp_path / "hỏng.jpg"
    render_lines(dpi=100).save(path.with_suffix(".src"), format="JPEG")
    maker(path)
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == code
    assert "hỏng.jpg" in info.value.message_vi
    assert str(tmp_path) not in info.value.message_vi  # never the work area's path, only the clerk's name


def test_pdf_that_needs_a_password_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mat.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == "encrypted-pdf"
    assert "cần mật khẩu mới mở được" in info.value.message_vi


def test_pdf_with_an_owner_password_only_is_read(tmp_path: Path) -> None:
    """No editing allowed, but anyone may read it: so may we (tests/capture/test_protected.py has more)."""
    path = tmp_path / "sao-y.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="", allow=pikepdf.Permissions(modify_other=False)))
    assert len(load_pages(_src(path), tmp_path / "out")) == 1


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bom.png"
    Image.new("1", (12000, 12000)).save(path)
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out", LoadLimits(max_megapixels=100))
    assert info.value.code == "too-many-pixels"


def _truncated(fmt: str, suffix: str):  # type: ignore[no-untyped-def]
    def make(tmp: Path) -> Path:
        path = tmp / f"cắt-dở{suffix}"
        whole = tmp / f"whole{suffix}"
        render_lines(dpi=100).save(whole, format=fmt)
        data = whole.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
        return path

    return make


def _corrupt_tiff(tmp: Path) -> Path:
    path = tmp / "hỏng.tif"
    whole = tmp / "whole.tif"
    render_lines(dpi=100).save(whole, format="TIFF", compression="tiff_lzw")
    data = bytearray(whole.read_bytes())
    data[8 : len(data) // 2] = b"\x00" * (len(data) // 2 - 8)  # strip data and offsets zeroed
    path.write_bytes(bytes(data))
    return path


def _garbled_jpeg(tmp: Path) -> Path:
    """Whole in length, broken inside: the check decodes a JPEG at an eighth of its size, and must still fail."""
    path = tmp / "nhiễu-giữa.jpg"
    buf = io.BytesIO()
    render_lines(dpi=100).save(buf, format="JPEG")
    data = bytearray(buf.getvalue())
    middle = len(data) // 2
    data[middle : middle + 400] = bytes((b * 7 + 13) % 256 for b in data[middle : middle + 400])
    path.write_bytes(bytes(data))
    return path


def _launch_pdf(tmp: Path) -> Path:
    path = tmp / "mở-chương-trình.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    action = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pdf.make_indirect(action))
    pdf.save(path)
    return path


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_truncated("JPEG", ".jpg"), "corrupt-image"),
        (_truncated("PNG", ".png"), "corrupt-image"),
        (_garbled_jpeg, "corrupt-image"),
        (_corrupt_tiff, "corrupt-image"),
        (_launch_pdf, "active-content"),
    ],
)
def test_damaged_and_dangerous_files_are_refused(tmp_path: Path, make, code: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == code
    assert path.name in info.value.message_vi


# ---- bounds checked before anything is decoded (the child's limits are the backstop: test_hostile.py) ----


def test_pixels_over_our_limit_are_refused_from_the_header_in_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = hostile.huge_png_header(tmp_path / "khổng lồ.png")
    # even with Pillow's own bomb limit back in place, the reason is ours, not Pillow's English one
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == "too-many-pixels"
    assert info.value.message_vi.startswith("khổng lồ.png: ảnh quá lớn") and "exceeds" not in info.value.message_vi


def test_an_image_over_pillows_limit_but_under_ours_is_opened(tmp_path: Path) -> None:
    path = hostile.huge_png_header(tmp_path / "lớn.png", side=13500)  # 182 MP: Pillow's default refuses, our 200 MP not
    (page,) = load_pages(_src(path), tmp_path / "out")
    assert (page.width, page.height) == (13500, 13500)


@pytest.mark.parametrize(
    ("build", "code", "words"),
    [
        (partial(hostile.double_flate_bomb, inflated_mb=8), "decode-limit", "nén chồng"),
        (partial(hostile.flate_overflow, inflated_mb=16), "decode-limit", "tự khai báo"),
        (hostile.huge_mediabox, "too-many-pixels", "200×200 inch"),
        (hostile.recursive_form_self, "recursive-pdf", "chính nó"),
        (hostile.recursive_form_cycle, "recursive-pdf", "chính nó"),
        (hostile.form_fanout, "recursive-pdf", "quá nhiều lần"),
        (partial(hostile.form_fanout, levels=MAX_FORM_DEPTH + 1, fanout=1), "recursive-pdf", "tầng"),
    ],
)
def test_hostile_pdfs_are_refused_before_decoding(
    tmp_path: Path, build: Callable[[Path], Path], code: str, words: str
) -> None:
    path = build(tmp_path / "độc.pdf")
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == code
    assert info.value.message_vi.startswith("độc.pdf#1: ") and words in info.value.message_vi


def _pdf_with_forms(path: Path, *, annotation_cycle: bool = False, inherited_cycle: bool = False) -> Path:
    """A page drawing a form nested two deep three times over (a word processor's file), plus optional traps."""
    pdf = pikepdf.new()
    leaf = pdf.make_stream(b"0 0 m 100 100 l S", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form)
    leaf.BBox = [0, 0, 595, 842]
    middle = pdf.make_stream(b"/L Do /L Do /L Do", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form)
    middle.BBox = [0, 0, 595, 842]
    middle.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(L=leaf))
    page = pdf.add_blank_page(page_size=(595, 842))
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(M=middle))
    page.obj.Contents = pdf.make_stream(b"/M Do")
    if inherited_cycle:  # a form without resources draws with its caller's, where /M is itself
        middle.write(b"/M Do")
        del middle.Resources
    if annotation_cycle:
        looping = pdf.make_stream(b"/A Do", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form)
        looping.BBox = [0, 0, 10, 10]
        looping.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(A=looping))
        annot = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square, Rect=[0, 0, 10, 10], AP=pikepdf.Dictionary(N=looping)
        )
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))
    pdf.save(path)
    return path


def test_ordinary_nested_forms_are_rendered(tmp_path: Path) -> None:
    (page,) = load_pages(_src(_pdf_with_forms(tmp_path / "forms.pdf")), tmp_path / "out")
    assert abs(page.width - 2480) <= 2 and abs(page.height - 3508) <= 2


@pytest.mark.parametrize("trap", ["annotation_cycle", "inherited_cycle"])
def test_cycles_hidden_in_annotations_or_inherited_resources_are_found(tmp_path: Path, trap: str) -> None:
    path = _pdf_with_forms(tmp_path / "bẫy.pdf", **{trap: True})
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == "recursive-pdf"


def test_a_huge_image_inside_a_form_is_refused_before_poppler_draws_it(tmp_path: Path) -> None:
    path = tmp_path / "ảnh-trong-form.pdf"
    pdf = pikepdf.new()
    image = pdf.make_stream(b"\x00", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image)
    image.Width, image.Height, image.ColorSpace, image.BitsPerComponent = 50000, 50000, pikepdf.Name.DeviceGray, 8
    form = pdf.make_stream(b"/I Do", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form)
    form.BBox = [0, 0, 595, 842]
    form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(I=image))
    page = pdf.add_blank_page(page_size=(595, 842))
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=form))
    page.obj.Contents = pdf.make_stream(b"/F Do")
    pdf.save(path)
    with pytest.raises(InputError) as info:
        load_pages(_src(path), tmp_path / "out")
    assert info.value.code == "too-many-pixels" and "50000×50000" in info.value.message_vi


def test_signature_fields_that_are_their_own_kids_are_counted_once(tmp_path: Path) -> None:
    from scanner.capture.load import pdf_signatures

    path = tmp_path / "ký-vòng.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    field = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Sig, V=pikepdf.Dictionary()))
    field.Kids = pikepdf.Array([field])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    pdf.save(path)
    assert pdf_signatures(path) == 1
