"""Compact page images: bitonal pages stay 1-bit and never grow, colour pages become mixed raster content.

The pages are drawn in code (``conftest.draw_page``) with a red seal and a
blue signature stroke added, damaged with paper tint and noise the way a
scanner's JPEG shows them; the checks read the written PDF back (pikepdf's
decoder, poppler's renderer, PDFBox Preflight, the signature verifier).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw

from scanner.config import Secret
from scanner.model import PageImage, PdfMetadata, PdfPage
from scanner.pdf import build_pdfa, compact, preflight, preflight_available
from scanner.pdf.compact import code_ahead, coded_at, two_tone
from scanner.sign import sign_pdf
from scanner.sign.devpki import create_dev_identity
from scanner.sign.verify import check_file
from tests.pdf.conftest import LINES, MakePage, draw_page, fold
from tests.pdf.test_build import pdftotext

needs_preflight = pytest.mark.skipif(not preflight_available(), reason="java or PDFBox Preflight is not installed")
SEAL = (300, 700, 560, 960)  # left, top, right, bottom of the seal's box at 200 dpi
SEAL_INK = (214, 38, 48)


def _scan(lines: tuple[str, ...] = LINES, *, dpi: int = 200, seed: int = 0, stamp_ink: float = 0.85) -> Image.Image:
    """A colour counter scan: tinted paper, black text, a red seal over a blue signature, sensor noise."""
    image, _ = draw_page(lines, dpi=dpi)
    arr = np.asarray(image.convert("L").convert("RGB"), dtype=np.float32)  # black text
    arr *= np.asarray((246, 240, 222), np.float32) / 255
    page = Image.fromarray(arr.astype(np.uint8))
    draw = ImageDraw.Draw(page)
    draw.line([(320, 860), (420, 780), (470, 900), (560, 820)], fill=(28, 42, 120), width=5)
    stamp = Image.new("L", page.size, 0)
    ImageDraw.Draw(stamp).ellipse(SEAL, outline=230, width=12)
    ImageDraw.Draw(stamp).regular_polygon((430, 830, 50), 5, fill=230)
    tint = Image.new("RGB", page.size, SEAL_INK)
    page = Image.composite(Image.blend(page, tint, stamp_ink), page, stamp)
    noise = np.random.default_rng(seed).normal(0, 4, (page.height, page.width, 1))
    return Image.fromarray(np.clip(np.asarray(page, np.float32) + noise, 0, 255).astype(np.uint8))


@pytest.fixture
def scan_page(tmp_path: Path) -> Callable[..., PdfPage]:
    """A colour (or grey) scan written as the scanner's JPEG, with the OCR words of its text."""

    def make(mode: str = "RGB", quality: int = 85, stamp_ink: float = 0.85) -> PdfPage:
        _, ocr = draw_page(LINES, dpi=200)
        path = tmp_path / f"scan-{mode}.jpg"
        _scan(stamp_ink=stamp_ink).convert(mode).save(path, quality=quality, dpi=(200, 200))
        image = PageImage(path=path, width=ocr.width, height=ocr.height, dpi=200, source=path.name)
        return PdfPage(image=image, ocr=ocr)

    return make


def _xobjects(pdf: pikepdf.Pdf, page: int = 0) -> dict[str, pikepdf.Stream]:
    return dict(pdf.pages[page].Resources.XObject.items())


def _image_bytes(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return sum(len(image.read_raw_bytes()) for x in _xobjects(pdf).values() for image in compact.images(x))


def _placed(layer: pikepdf.Stream, page: PageImage) -> tuple[pikepdf.Stream, tuple[int, int, int, int]]:
    """An ink layer's image and the box of the page (left, top, width, height in pixels) its form draws it on."""
    assert layer.Subtype == pikepdf.Name.Form and "/Group" not in layer  # no transparency group: PDF/A-1
    (image,) = layer.Resources.XObject.values()
    a, _, _, d, e, f = (float(v) for v in layer.read_bytes().split()[:6])
    width, height = a * page.width, d * page.height
    return image, (round(e * page.width), round((1 - f - d) * page.height), round(width), round(height))


def _ink_colour(image: pikepdf.Stream) -> np.ndarray:
    """The median colour an ink layer paints through its stencil mask."""
    rgb = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("RGB"))
    ink = np.asarray(pikepdf.PdfImage(image.Mask).as_pil_image().convert("L")) < 128
    return np.median(cv2.resize(rgb, (ink.shape[1], ink.shape[0]), interpolation=cv2.INTER_NEAREST)[ink], axis=0)


def _render(pdf: Path, tmp_path: Path, dpi: int = 200) -> np.ndarray:
    # Cairo draws an image at its own resolution pixel for pixel (``benchmarks.storage.run.draw_on_grid``);
    # pdftoppm's Splash resamples the lossless page too, half a pixel off, so it would compare two resamplings.
    stem = tmp_path / f"render-{pdf.stem}"
    subprocess.run(["pdftocairo", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(stem)], check=True)
    with Image.open(stem.with_name(stem.name + ".png")) as im:
        return np.asarray(im.convert("RGB"))


def _red(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., c].astype(np.int16) for c in range(3))
    return float(((r - np.maximum(g, b)) > 60).mean())


class TestBilevel:
    def test_a_bitonal_page_stays_1_bit_g4_with_the_same_pixels_and_does_not_grow(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = make_page(fmt="PNG", mode="1")
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            (image,) = _xobjects(pdf).values()
            assert image.BitsPerComponent == 1 and image.Filter == pikepdf.Name.CCITTFaxDecode
            pixels = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("L"))
        with Image.open(page.image.path) as original:
            assert np.array_equal(pixels, np.asarray(original.convert("L")))
        assert _image_bytes(out) <= page.image.path.stat().st_size

    def test_a_deskewed_bitonal_scan_comes_back_to_1_bit(
        self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        """The cleaning stage turns a bitonal page with interpolation: grey only along the letters' edges."""
        page = make_page(fmt="PNG", mode="1")
        with Image.open(page.image.path) as im:
            bits = np.asarray(im.convert("L"))
        h, w = bits.shape
        turned = cv2.warpAffine(
            bits, cv2.getRotationMatrix2D((w / 2, h / 2), 1.3, 1.0), (w, h), flags=cv2.INTER_LINEAR, borderValue=255
        )
        assert len(np.unique(turned)) > 100  # truly grey now, as the archival PNG the cleaner writes
        path = tmp_path / "turned.png"
        Image.fromarray(turned).save(path, dpi=(200, 200))
        grey = PdfPage(image=PageImage(path, w, h, 200, "turned.png"), ocr=page.ocr)
        out = build_pdfa([grey], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            (image,) = _xobjects(pdf).values()
            assert image.BitsPerComponent == 1 and image.Filter == pikepdf.Name.CCITTFaxDecode
        original_g4 = tmp_path / "original.tif"
        with Image.open(page.image.path) as im:
            im.save(original_g4, compression="group4")
        assert _image_bytes(out) <= original_g4.stat().st_size  # the turned page costs no more than the scan

    @pytest.mark.parametrize("mode", ["L", "RGB"])
    def test_a_black_and_white_page_in_grey_or_rgb_is_stored_bitonal(
        self, metadata: PdfMetadata, tmp_path: Path, mode: str
    ) -> None:
        """A page made digitally (or by a scanner's text mode) in black on white: 1 bit is all it has."""
        image, ocr = draw_page(LINES, dpi=200, mode="L")
        path = tmp_path / "page.png"
        image.point(lambda v: 0 if v < 128 else 255).convert(mode).save(path, dpi=(200, 200))
        page = PdfPage(PageImage(path, image.width, image.height, 200, "page.png"), ocr)
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            (stream,) = _xobjects(pdf).values()
            assert stream.BitsPerComponent == 1
            pixels = np.asarray(pikepdf.PdfImage(stream).as_pil_image().convert("L"))
        assert np.array_equal(pixels, np.asarray(image.point(lambda v: 0 if v < 128 else 255)))

    def test_a_grey_scan_or_picture_is_not_taken_for_bitonal(self) -> None:
        image, _ = draw_page(LINES, dpi=100, mode="L")
        text = np.asarray(image)
        assert two_tone(text) is not None  # drawn text on white: two tones and their edges
        noisy = np.clip(text.astype(np.int16) + np.random.default_rng(0).normal(0, 3, text.shape), 0, 255)
        assert two_tone(noisy.astype(np.uint8)) is None
        picture = text.copy()
        picture[300:600, 200:500] = np.linspace(0, 255, 300, dtype=np.uint8)[None, :]  # a grey wedge
        assert two_tone(picture) is None


class TestMixedRasterContent:
    def test_a_colour_scan_becomes_a_mask_over_paper_far_smaller(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page()
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            layers = _xobjects(pdf)
            # paper; black ink; the seal's red; the signature's blue, each ink with its own colours (and pale ink)
            assert {"/Bg", "/Fg", "/Fr", "/Fc"} <= set(layers) <= {"/Bg", "/Fp", "/Fg", "/Fr", "/Fc"}
            assert layers["/Bg"].Width < page.image.width / 1.9  # the paper downsampled
            for name in ("/Fg", "/Fr", "/Fc"):
                image, (_, _, width, height) = _placed(layers[name], page.image)
                mask = image.Mask
                assert mask.ImageMask is True and mask.Filter == pikepdf.Name.CCITTFaxDecode
                assert (mask.Width, mask.Height) == (width, height)  # ink at scan resolution
                assert "/SMask" not in image and "/Interpolate" not in image
            # The seal's and the signature's layers cover their own few square centimetres, not the page.
            seal, seal_box = _placed(layers["/Fr"], page.image)
            assert seal_box[2] * seal_box[3] < 0.1 * page.image.width * page.image.height
            assert SEAL[0] - 5 <= seal_box[0] and seal_box[0] + seal_box[2] <= SEAL[2] + 5
            red, blue = _ink_colour(seal), _ink_colour(_placed(layers["/Fc"], page.image)[0])
            assert red[0] > red[1] + 80 and blue[2] > blue[0] + 40
        assert _image_bytes(out) < page.image.path.stat().st_size / 5

    def test_the_seal_stays_red_and_the_text_dark(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page()
        compact = build_pdfa([page], tmp_path / "c.pdf", metadata=metadata, storage="compact").path
        lossless = build_pdfa([page], tmp_path / "l.pdf", metadata=metadata, storage="lossless").path
        after, before = _render(compact, tmp_path), _render(lossless, tmp_path)
        seal = (slice(SEAL[1], SEAL[3]), slice(SEAL[0], SEAL[2]))
        assert _red(before[seal]) > 0.05
        assert _red(after[seal]) > 0.9 * _red(before[seal])
        outside = after.copy()
        outside[seal] = 255
        assert _red(outside) < 0.001  # no red anywhere else: the seal's colour did not bleed onto the words
        text = (slice(190, 240), slice(200, 1400))  # the first line of type
        assert np.count_nonzero(after[text].max(axis=2) < 90) > 0.6 * np.count_nonzero(before[text].max(axis=2) < 90)

    def test_the_text_layer_is_unchanged(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page()
        compact = build_pdfa([page], tmp_path / "c.pdf", metadata=metadata, storage="compact").path
        lossless = build_pdfa([page], tmp_path / "l.pdf", metadata=metadata, storage="lossless").path
        assert fold(pdftotext(compact)) == fold("\n".join(LINES))
        text = subprocess.run(["pdftotext", "-bbox", str(compact), "-"], capture_output=True, check=True).stdout
        same = subprocess.run(["pdftotext", "-bbox", str(lossless), "-"], capture_output=True, check=True).stdout
        assert text.split(b"<body>")[1] == same.split(b"<body>")[1]  # every word where it was, to the point

    def test_drawn_at_its_dpi_the_stored_pixels_come_back_as_they_are(
        self, scan_page: Callable[..., PdfPage], make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        # The storage benchmark reads each copy as drawn at the scan's dpi: a fair reading only if the drawing
        # is the stored pixels. pdftoppm failed both checks (a G4 page came back with 254 grey levels, and
        # with -scale-to-x/-y 7% of the words' mask pixels were off their place).
        from benchmarks.storage.run import draw_on_grid

        page = scan_page()
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with Image.open(draw_on_grid(out, tmp_path / "drawn", page.image)) as im:
            dark = np.asarray(im.convert("L")) < 128
        words = np.zeros_like(dark)
        with pikepdf.open(out) as pdf:
            image, (left, top, width, height) = _placed(_xobjects(pdf)["/Fg"], page.image)
            mask = np.asarray(pikepdf.PdfImage(image.Mask).as_pil_image().convert("L")) < 128
            assert (mask.shape[1], mask.shape[0]) == (width, height)
            shown = words[top : top + height, left : left + width]  # a box of whole cells may reach past the page
            shown[:] = mask[: shown.shape[0], : shown.shape[1]]
            assert not mask[shown.shape[0] :].any() and not mask[:, shown.shape[1] :].any()  # no ink off the page
        assert 0.002 < words.mean() < 0.05  # the words, not the paper
        assert np.count_nonzero(words & ~dark) <= 0.001 * np.count_nonzero(words)
        bitonal = make_page(fmt="PNG", mode="1")
        out = build_pdfa([bitonal], tmp_path / "b.pdf", metadata=metadata, storage="compact").path
        drawn = draw_on_grid(out, tmp_path / "bits", bitonal.image)
        with Image.open(drawn) as im, Image.open(bitonal.image.path) as bits:
            assert np.array_equal(np.asarray(im.convert("L")), np.asarray(bits.convert("L")))

    def test_a_grey_scan_stays_grey(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page(mode="L", stamp_ink=0.6)  # a grey seal as light as the words' rims
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            layers = _xobjects(pdf)
            assert {i.ColorSpace for x in layers.values() for i in compact.images(x) if "/ColorSpace" in i} == {
                pikepdf.Name.DeviceGray
            }
            assert "/Fp" in layers
        assert _image_bytes(out) < page.image.path.stat().st_size / 4
        # The seal, mid-grey now, is kept whole and sharp, not cut into a sharp half and a blurred half
        # left in the 100 dpi paper: nearly every pixel of its box within a few grey levels of the lossless copy.
        lossless = build_pdfa([page], tmp_path / "l.pdf", metadata=metadata, storage="lossless").path
        seal = (slice(SEAL[1], SEAL[3]), slice(SEAL[0], SEAL[2]))
        after, before = (_render(pdf, tmp_path)[seal].mean(axis=2) for pdf in (out, lossless))
        assert np.percentile(np.abs(after - before), 99) < 25  # 37 with the pale seal left to the paper

    @needs_preflight
    def test_compact_pages_pass_preflight_before_and_after_signing(
        self, scan_page: Callable[..., PdfPage], make_page: MakePage, metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        pages = [scan_page(), scan_page(mode="L"), make_page(fmt="PNG", mode="1")]
        built = build_pdfa(pages, tmp_path / "a.pdf", flavour="1b", metadata=metadata, storage="compact").path
        result = preflight(built)
        assert result.valid, result.errors
        password = Secret("chỉ-để-thử")
        keys = tmp_path / "keys"
        identity = create_dev_identity(keys, agency_code="000.00.53.H48", agency_name="UBND", password=password)
        signed = sign_pdf(built, tmp_path / "ky.pdf", pkcs12=identity.pkcs12, password=password)
        result = preflight(signed.path)
        assert result.valid, result.errors
        report = check_file(signed.path, [identity.ca_cert])
        assert report.ok, report.problems
        assert report.pdfa == "1b"


class TestStorageSetting:
    def test_lossless_keeps_the_scanners_jpeg_byte_for_byte(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page()
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="lossless").path
        with pikepdf.open(out) as pdf:
            (image,) = _xobjects(pdf).values()
            assert image.read_raw_bytes() == page.image.path.read_bytes()

    def test_a_page_compact_coding_would_grow_keeps_its_image(self, metadata: PdfMetadata, tmp_path: Path) -> None:
        """A grey noise field JPEG-coded at quality 10 costs less as it is than as a mask of every grain."""
        path = tmp_path / "small.jpg"
        grain = np.random.default_rng(0).random((160, 120)) * 255
        Image.fromarray(grain.astype(np.uint8)).save(path, quality=10, dpi=(100, 100))
        image = PageImage(path=path, width=120, height=160, dpi=100, source="small.jpg")
        _, ocr = draw_page((), dpi=100, size=(1.2, 1.6))
        out = build_pdfa([PdfPage(image, ocr)], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            (image_stream,) = _xobjects(pdf).values()
            assert image_stream.read_raw_bytes() == path.read_bytes()

    def test_an_unknown_storage_is_refused(self, make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
        from scanner.errors import PdfError

        with pytest.raises(PdfError, match="compact hoặc lossless"):
            build_pdfa([make_page()], tmp_path / "a.pdf", metadata=metadata, storage="jbig2")
        assert not (tmp_path / "a.pdf").exists()


class TestConfiguration:
    """``[pdfa] image_storage``: compact by default, lossless where an agency's rule demands the original image."""

    MINIMAL = {
        "archive": {"root": "archive"},
        "counters": [
            {"name": "quay-1", "inbox": "in/1", "agency_code": "000.00.53.H48", "agency_name": "UBND phường"},
            {"name": "quay-2", "inbox": "in/2", "agency_code": "000.00.61.H48", "agency_name": "Văn phòng công chứng"},
        ],
    }

    def test_compact_by_default_lossless_for_the_agencies_named(self, tmp_path: Path) -> None:
        from scanner.config import IMAGE_STORAGES, parse_config
        from scanner.pdf import STORAGES

        assert IMAGE_STORAGES == STORAGES
        assert parse_config(self.MINIMAL, base=tmp_path).pdfa.storage_for("000.00.53.H48") == "compact"
        pdfa = {"image_storage_by_agency": {"000.00.61.H48": "lossless"}}
        cfg = parse_config({**self.MINIMAL, "pdfa": pdfa}, base=tmp_path).pdfa
        assert cfg.storage_for("000.00.53.H48") == "compact"
        assert cfg.storage_for("000.00.61.H48") == "lossless"
        everyone = parse_config({**self.MINIMAL, "pdfa": {"image_storage": "lossless"}}, base=tmp_path).pdfa
        assert everyone.storage_for("000.00.53.H48") == "lossless"

    @pytest.mark.parametrize(
        ("pdfa", "key"),
        [
            ({"image_storage": "jbig2"}, "pdfa.image_storage"),
            ({"image_storage_by_agency": {"000.00.61.H48": "lossy"}}, "pdfa.image_storage_by_agency.000.00.61.H48"),
            ({"image_storage_by_agency": {"phường 1": "lossless"}}, "pdfa.image_storage_by_agency.phường 1"),
        ],
    )
    def test_a_wrong_value_names_its_key(self, tmp_path: Path, pdfa: dict[str, object], key: str) -> None:
        from scanner.config import parse_config
        from scanner.errors import ConfigError

        with pytest.raises(ConfigError) as caught:
            parse_config({**self.MINIMAL, "pdfa": pdfa}, base=tmp_path)
        assert key in str(caught.value)


class TestCodedAhead:
    """The page pool codes a page once it is read; the build takes that coding only for the very same pixels."""

    def test_the_build_takes_the_coding_made_ahead(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        page = scan_page()
        code_ahead(page.image)

        def not_again(*_: object) -> None:
            raise AssertionError("coded a second time at the build")

        monkeypatch.setattr(compact, "encode", not_again)
        ahead = coded_at(page.image)
        with pikepdf.open(ahead) as done:
            made = {name: x.read_raw_bytes() for name, x in done.pages[0].Resources.XObject.items()}
        out = build_pdfa([page], tmp_path / "a.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            built = {name: x.read_raw_bytes() for name, x in _xobjects(pdf).items()}
        assert built == made

    def test_a_page_changed_since_is_coded_again(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page()
        code_ahead(page.image)
        with pikepdf.open(coded_at(page.image)) as done:
            before = done.pages[0].Resources.XObject["/Bg"].read_raw_bytes()
        with Image.open(page.image.path) as im:  # the clerk turned the page: new pixels, same file
            im.transpose(Image.Transpose.ROTATE_180).save(page.image.path, quality=85, dpi=(200, 200))
        out = build_pdfa([page], tmp_path / "b.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            assert _xobjects(pdf)["/Bg"].read_raw_bytes() != before

    def test_a_coding_cut_short_is_not_used(
        self, scan_page: Callable[..., PdfPage], metadata: PdfMetadata, tmp_path: Path
    ) -> None:
        page = scan_page()
        coded_at(page.image).write_bytes(b"%PDF-1.4 cut")
        out = build_pdfa([page], tmp_path / "c.pdf", metadata=metadata, storage="compact").path
        with pikepdf.open(out) as pdf:
            assert "/Bg" in _xobjects(pdf)
