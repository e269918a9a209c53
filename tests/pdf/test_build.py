"""The PDF/A builder: pages, images, text layer, metadata, validation and the atomic write."""

from __future__ import annotations

import os
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from PIL import Image, ImageCms

from scanner.errors import PdfError
from scanner.model import OcrPage, PageImage, PdfMetadata, PdfPage, Word
from scanner.pdf import build_pdfa, pdfa_problems
from scanner.pdf.images import _png_chunks
from scanner.pdf.xmp import read_scanner_properties, waived
from tests.pdf.conftest import LINES, MakePage, fold


def pdftotext(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    proc = subprocess.run(["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True, check=True)
    return proc.stdout.decode("utf-8")


def image_of(pdf: pikepdf.Pdf, page: int = 0) -> pikepdf.Stream:
    image = pdf.pages[page].Resources.XObject["/Im0"]
    assert isinstance(image, pikepdf.Stream)
    return image


class TestTextLayer:
    def test_pdftotext_reads_the_ocr_words_and_lines_with_every_diacritic(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        out = build_pdfa([make_page()], tmp_path / "a.pdf", metadata=metadata).path
        text = pdftotext(out)
        assert fold(text) == fold("\n".join(LINES))
        assert [line for line in text.splitlines() if line.strip()] == list(LINES)
        assert unicodedata.is_normalized("NFC", text)

    def test_decomposed_ocr_text_comes_out_composed(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = make_page(["Giấy khai sinh"])
        nfd = tuple(replace(w, text=unicodedata.normalize("NFD", w.text)) for w in page.ocr.words)
        page = replace(page, ocr=replace(page.ocr, words=nfd))
        text = pdftotext(build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path)
        assert fold(text) == "Giấy khai sinh"
        assert unicodedata.is_normalized("NFC", text)

    def test_characters_outside_the_bmp_are_dropped(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = make_page(["Ủy ban nhân dân"])
        words = (replace(page.ocr.words[0], text="Ủy\U0001f600"), *page.ocr.words[1:])
        page = replace(page, ocr=replace(page.ocr, words=words))
        text = pdftotext(build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path)
        assert fold(text) == "Ủy ban nhân dân"

    def test_the_text_is_invisible_and_in_one_embedded_font(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        out = build_pdfa([make_page(), make_page()], tmp_path / "a.pdf", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            fonts = {page.Resources.Font["/F1"].objgen for page in pdf.pages}
            assert len(fonts) == 1  # shared by every page
            content = pdf.pages[0].Contents.read_bytes()
            assert b"3 Tr" in content
            font = pdf.pages[0].Resources.Font["/F1"]
            assert font.Encoding == pikepdf.Name("/Identity-H")
            cid_font = font.DescendantFonts[0]
            assert cid_font.Subtype == pikepdf.Name("/CIDFontType2") and cid_font.DW == 500
            assert "/FontFile2" in cid_font.FontDescriptor

    def test_the_text_sits_on_the_words(self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
        """pdftotext -bbox puts each word where the page image has it (within a few points)."""
        page = make_page(["Giấy khai sinh"], dpi=300)
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path
        html = subprocess.run(["pdftotext", "-bbox", str(out), "-"], capture_output=True, check=True).stdout.decode()
        first = page.ocr.words[0]
        pt = 72 / 300
        line = next(s for s in html.splitlines() if ">Giấy<" in s)
        x_min = float(line.split('xMin="')[1].split('"')[0])
        x_max = float(line.split('xMax="')[1].split('"')[0])
        assert x_min == pytest.approx(first.left * pt, abs=1)
        assert x_max == pytest.approx((first.left + first.width) * pt, abs=1)


class TestPages:
    @pytest.mark.parametrize("dpi", [200, 300])
    def test_page_size_comes_from_pixels_and_dpi(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path, dpi: int
    ) -> None:
        page = make_page(["Giấy khai sinh"], dpi=dpi)
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            box = [float(v) for v in pdf.pages[0].MediaBox]
        assert box == pytest.approx([0, 0, page.image.width * 72 / dpi, page.image.height * 72 / dpi])
        assert box[2:] == pytest.approx([595.3, 841.7], abs=0.5)  # A4

    def test_a_jpeg_is_embedded_byte_for_byte(self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
        page = make_page()
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            image = image_of(pdf)
            assert image.Filter == pikepdf.Name.DCTDecode
            assert image.ColorSpace == pikepdf.Name.DeviceRGB
            assert image.read_raw_bytes() == page.image.path.read_bytes()

    def test_a_png_stays_lossless_and_in_colour(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = make_page(["Cộng hòa xã hội chủ nghĩa Việt Nam"], fmt="PNG")
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            image = image_of(pdf)
            assert image.Filter == pikepdf.Name.FlateDecode
            assert image.ColorSpace == pikepdf.Name.DeviceRGB
            idat = b"".join(data for kind, data in _png_chunks(page.image.path.read_bytes()) if kind == b"IDAT")
            assert image.read_raw_bytes() == idat  # the PNG's own compressed data, not recompressed
            embedded = pikepdf.PdfImage(image).as_pil_image()
        with Image.open(page.image.path) as original:
            assert embedded.tobytes() == original.convert("RGB").tobytes()

    def test_grey_pages_may_stay_grey(self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
        pages = [make_page(["Giấy khai sinh"], mode="L"), make_page(["Giấy khai sinh"], fmt="PNG", mode="1")]
        out = build_pdfa(pages, tmp_path / "a.pdf", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            assert image_of(pdf, 0).ColorSpace == pikepdf.Name.DeviceGray
            assert image_of(pdf, 1).BitsPerComponent == 1

    @pytest.mark.parametrize("flavour", ["2b", "1b"])
    def test_an_alpha_channel_is_flattened_onto_white(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path, flavour: str
    ) -> None:
        page = make_page(["Giấy khai sinh"], fmt="PNG", mode="RGBA")
        with Image.open(page.image.path) as im:  # all see-through but an opaque black corner
            im.putalpha(0)
            im.paste((0, 0, 0, 255), (0, 0, 50, 50))
            im.save(page.image.path, dpi=(200, 200))
        out = build_pdfa([page], tmp_path / "a.pdf", flavour=flavour, metadata=metadata).path
        with pikepdf.open(out) as pdf:
            image = image_of(pdf)
            assert "/SMask" not in image and image.ColorSpace == pikepdf.Name.DeviceRGB
            pixels = pikepdf.PdfImage(image).as_pil_image()
        assert pixels.getpixel((100, 100)) == (255, 255, 255)  # was transparent
        assert pixels.getpixel((10, 10)) == (0, 0, 0)

    def test_a_16_bit_png_becomes_8_bit(self, metadata: PdfMetadata, tmp_path: Path) -> None:
        path = tmp_path / "deep.png"
        Image.new("I;16", (800, 1000), 40000).save(path, dpi=(100, 100))
        page = PdfPage(
            image=PageImage(path=path, width=800, height=1000, dpi=100, source="deep.png"),
            ocr=OcrPage(text="", words=(), confidence=0, width=800, height=1000),
        )
        out = build_pdfa([page], tmp_path / "a.pdf", flavour="1b", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            image = image_of(pdf)
            assert image.BitsPerComponent == 8 and image.ColorSpace == pikepdf.Name.DeviceGray
            assert pikepdf.PdfImage(image).as_pil_image().getpixel((5, 5)) == 40000 >> 8

    @pytest.mark.parametrize(("flavour", "icc_kept"), [("2b", True), ("1b", False)])
    def test_an_icc_v4_profile_is_kept_only_where_pdfa_allows_it(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path, flavour: str, icc_kept: bool
    ) -> None:
        page = make_page(["Giấy khai sinh"])
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        assert profile[8] == 4  # LittleCMS writes version 4 profiles
        with Image.open(page.image.path) as im:
            im.save(page.image.path, quality=85, dpi=(200, 200), icc_profile=profile)
        out = build_pdfa([page], tmp_path / "a.pdf", flavour=flavour, metadata=metadata).path
        with pikepdf.open(out) as pdf:
            colour_space = image_of(pdf).ColorSpace
            assert isinstance(colour_space, pikepdf.Array) is icc_kept
            assert image_of(pdf).read_raw_bytes() == page.image.path.read_bytes()

    def test_a_multi_page_document_keeps_each_page_and_its_text(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        texts = (["Giấy khai sinh"], ["Ủy ban nhân dân"], ["Cộng hòa xã hội chủ nghĩa Việt Nam"])
        pages = [make_page(texts[0], dpi=200), make_page(texts[1], dpi=300, fmt="PNG"), make_page(texts[2], dpi=150)]
        built = build_pdfa(pages, tmp_path / "a.pdf", metadata=metadata)
        assert built.pages == 3
        for number, lines in enumerate(texts, start=1):
            assert fold(pdftotext(built.path, number)) == lines[0]
        with pikepdf.open(built.path) as pdf:
            assert len(pdf.pages) == 3

    def test_an_empty_page_has_its_image_and_no_text(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        out = build_pdfa([make_page(words=False)], tmp_path / "a.pdf", metadata=metadata).path
        assert pdftotext(out).strip() == ""
        with pikepdf.open(out) as pdf:
            assert b"BT" not in pdf.pages[0].Contents.read_bytes()
            assert b"/Im0 Do" in pdf.pages[0].Contents.read_bytes()

    def test_ocr_boxes_on_another_grid_are_scaled_to_the_image(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = make_page(["Giấy khai sinh"])
        half = tuple(
            replace(w, left=w.left // 2, top=w.top // 2, width=w.width // 2, height=w.height // 2)
            for w in page.ocr.words
        )
        ocr = replace(page.ocr, words=half, width=page.ocr.width // 2, height=page.ocr.height // 2)
        out = build_pdfa([replace(page, ocr=ocr)], tmp_path / "a.pdf", metadata=metadata).path
        assert fold(pdftotext(out)) == "Giấy khai sinh"


class TestMetadata:
    def test_title_creator_and_language_in_xmp_and_info(self, make_page: MakePage, tmp_path: Path) -> None:
        title = unicodedata.normalize("NFD", "Giấy khai sinh — Nguyễn Văn Thẩm")
        meta = PdfMetadata(title=title, creator="Ủy ban nhân dân phường Bến Nghé", keywords=("khai sinh",))
        out = build_pdfa([make_page(["Giấy khai sinh"])], tmp_path / "a.pdf", metadata=meta).path
        expected = unicodedata.normalize("NFC", title)
        with pikepdf.open(out) as pdf:
            assert str(pdf.docinfo.Title) == expected
            assert str(pdf.docinfo.Author) == "Ủy ban nhân dân phường Bến Nghé"
            with pdf.open_metadata() as xmp:
                assert xmp["dc:title"] == expected
                assert xmp["dc:creator"] == ["Ủy ban nhân dân phường Bến Nghé"]
                assert xmp["dc:language"] == {"vi"}
                assert xmp["pdfaid:part"] == "2" and xmp["pdfaid:conformance"] == "B"
                assert xmp["pdf:Keywords"] == "khai sinh"

    def test_dates_agree_between_info_and_xmp(self, make_page: MakePage, tmp_path: Path) -> None:
        from datetime import datetime, timedelta, timezone

        created = datetime(2024, 2, 5, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=7)))
        meta = PdfMetadata(title="Giấy khai sinh", creator="UBND", created=created)
        out = build_pdfa([make_page(["Giấy khai sinh"])], tmp_path / "a.pdf", flavour="1b", metadata=meta).path
        with pikepdf.open(out) as pdf:
            assert str(pdf.docinfo.CreationDate).startswith("D:20240205093015+07")
            with pdf.open_metadata() as xmp:
                assert xmp["xmp:CreateDate"] == "2024-02-05T09:30:15+07:00"

    def test_the_projects_own_properties_survive_with_their_schema(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        out = build_pdfa([make_page(["Giấy khai sinh"])], tmp_path / "a.pdf", metadata=metadata).path
        with pikepdf.open(out) as pdf:
            assert read_scanner_properties(pdf) == metadata.properties
            packet = pdf.Root.Metadata.read_bytes().decode()
        for name in metadata.properties:
            assert f"<pdfaProperty:name>{name}</pdfaProperty:name>" in packet
        assert "<pdfaSchema:namespaceURI>https://scanner.example/ns/1.0/</pdfaSchema:namespaceURI>" in packet

    def test_a_bad_property_name_is_refused(self, make_page: MakePage, tmp_path: Path) -> None:
        meta = PdfMetadata(title="T", creator="C", properties={"mã hồ sơ": "x"})
        with pytest.raises(PdfError):
            build_pdfa([make_page(["Giấy"])], tmp_path / "a.pdf", metadata=meta)
        assert list(tmp_path.glob("*.pdf")) == []


class TestValidation:
    @pytest.mark.parametrize("flavour", ["2b", "1b"])
    def test_without_own_properties_pikepdf_approves_the_file_outright(
        self, make_page: MakePage, tmp_path: Path, flavour: str
    ) -> None:
        meta = PdfMetadata(title="Giấy khai sinh", creator="Ủy ban nhân dân")
        pages = [make_page(), make_page(words=False), make_page(fmt="PNG", mode="L")]
        out = build_pdfa(pages, tmp_path / "a.pdf", flavour=flavour, metadata=meta).path
        report = pikepdf.pdfa.validate_written(out, flavour)
        assert report.passed, report.summary()

    @pytest.mark.parametrize("flavour", ["2b", "1b"])
    def test_with_own_properties_only_the_extension_schema_is_left_to_other_validators(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path, flavour: str
    ) -> None:
        out = build_pdfa([make_page()], tmp_path / "a.pdf", flavour=flavour, metadata=metadata).path
        report = pikepdf.pdfa.validate_written(out, flavour)
        assert report.findings  # pikepdf's allowlist does not read extension schemas...
        assert all(waived(f, metadata.properties) for f in report.findings), report.summary()
        assert pdfa_problems(out, flavour) == []

    def test_a_property_the_schema_does_not_describe_is_a_problem(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        out = build_pdfa([make_page(["A"])], tmp_path / "a.pdf", flavour="1b", metadata=metadata).path
        with pikepdf.open(out, allow_overwriting_input=True) as pdf:
            packet = pdf.Root.Metadata.read_bytes().replace(b"<pdfaProperty:name>owner_id<", b"<pdfaProperty:name>x<")
            pdf.Root.Metadata = pdf.make_stream(packet, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
            pdf.save(**pikepdf.pdfa.resolve_save_kwargs("1b"))
        problems = pdfa_problems(out, "1b")
        assert "XMP property scanner:owner_id has no extension schema entry" in problems
        assert any("XMP namespace scanner=" in p for p in problems)

    def test_the_header_fits_the_flavour(self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
        one = build_pdfa([make_page(["A"])], tmp_path / "1.pdf", flavour="1b", metadata=metadata).path
        two = build_pdfa([make_page(["A"])], tmp_path / "2.pdf", flavour="2b", metadata=metadata).path
        assert one.read_bytes().startswith(b"%PDF-1.4")
        assert b"/ObjStm" not in one.read_bytes() and b"/XRef" not in one.read_bytes()
        assert two.read_bytes().startswith(b"%PDF-1.7")

    def test_a_file_that_fails_validation_is_never_put_in_place(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        out = tmp_path / "a.pdf"
        out.write_bytes(b"the previous version")
        failing = pikepdf.pdfa.Report(
            pikepdf.pdfa.Flavour("2b"), findings=[pikepdf.pdfa.Finding("ISO_19005_2:6.1.2-1", "header", "bad header")]
        )
        monkeypatch.setattr(pikepdf.pdfa, "validate_written", lambda *args, **kwargs: failing)
        with pytest.raises(PdfError) as caught:
            build_pdfa([make_page(["Giấy"])], out, metadata=metadata)
        assert "không đạt kiểm tra" in caught.value.message_vi
        assert out.read_bytes() == b"the previous version"
        assert [p.name for p in tmp_path.iterdir() if p.suffix != ".jpg"] == ["a.pdf"]  # no temporary file left

    def test_an_image_that_does_not_match_its_page_record_is_refused(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = make_page(["Giấy"])
        wrong = replace(page, image=replace(page.image, width=page.image.width + 1))
        with pytest.raises(PdfError, match="khác kích thước"):
            build_pdfa([wrong], tmp_path / "a.pdf", metadata=metadata)

    def test_no_pages_or_an_unknown_flavour_is_refused(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        with pytest.raises(PdfError):
            build_pdfa([], tmp_path / "a.pdf", metadata=metadata)
        with pytest.raises(PdfError):
            build_pdfa([make_page(["A"])], tmp_path / "a.pdf", flavour="3u", metadata=metadata)

    def test_the_file_gets_the_usual_permissions_and_a_missing_folder_is_a_pdf_error(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        umask = os.umask(0)
        os.umask(umask)
        out = build_pdfa([make_page(["A"])], tmp_path / "a.pdf", metadata=metadata).path
        assert out.stat().st_mode & 0o777 == 0o666 & ~umask
        with pytest.raises(PdfError, match="không ghi được"):
            build_pdfa([make_page(["A"])], tmp_path / "missing" / "a.pdf", metadata=metadata)

    def test_an_untitled_document_is_still_valid(self, make_page: MakePage, tmp_path: Path) -> None:
        out = build_pdfa([make_page(["A"])], tmp_path / "a.pdf", flavour="1b", metadata=PdfMetadata("", "")).path
        assert pikepdf.pdfa.validate_written(out, "1b").passed

    def test_the_result_records_the_file(self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
        import hashlib

        built = build_pdfa([make_page(["A"])], tmp_path / "a.pdf", flavour="1b", metadata=metadata)
        assert built.flavour == "1b" and built.pages == 1
        assert built.sha256 == hashlib.sha256(built.path.read_bytes()).hexdigest()


def test_words_without_line_numbers_still_make_separate_lines(metadata: PdfMetadata, tmp_path: Path) -> None:
    """Hand-made words that leave block/line at 0 must not collapse the page into one line."""
    from tests.pdf.conftest import draw_page

    image, ocr = draw_page(["Giấy khai sinh", "Ủy ban nhân dân"])
    path = tmp_path / "p.jpg"
    image.save(path, quality=85)
    words = tuple(Word(w.text, w.left, w.top, w.width, w.height, w.conf) for w in ocr.words)
    page = PdfPage(
        image=PageImage(path=path, width=image.width, height=image.height, dpi=200, source="p.jpg"),
        ocr=replace(ocr, words=words),
    )
    text = pdftotext(build_pdfa([page], tmp_path / "a.pdf", metadata=metadata).path)
    assert [line for line in text.splitlines() if line.strip()] == ["Giấy khai sinh", "Ủy ban nhân dân"]
