"""Storage benchmark: bytes per archived page, compact against lossless, with what the compact copy keeps.

    .venv/bin/python -m benchmarks.storage.run [--work DIR] [--pages N]

The corpus is generated (``samples/pagegen.py`` and the documents of the OCR
benchmark): 300 dpi colour pages with a red seal over a blue signature,
damaged as counter scans are (tinted paper, noise, skew, a lid shadow) and
written as the scanner's JPEG; the same pages as grey JPEG; and bitonal
pages as the scanner's CCITT G4 TIFF, some of them skewed (the deskew then
turns them). Each page goes through the pipeline's own steps: ``clean_page_pixels``
and ``code_ahead`` (the compact coding from the cleaning's pixels, as ``scanner ocr``
codes), ``ocr_page`` (real Tesseract), ``build_pdfa`` once lossless and once compact.

For every page it reports the input's bytes and each one-page PDF's bytes
(font and metadata included); the CER of the recognizer on the input scan
as the pipeline read it, and on each stored copy read back pixel for pixel
and put through the same cleaning and recognition: the lossless copy's
image as ``pdfimages`` takes it out of the PDF, the compact copy drawn by
poppler's cairo backend (``pdftocairo``) at the page image's resolution,
which draws every stored pixel as it is (``draw_on_grid``). The lossless copy's CER is the reference for the compact
one: the same reading of the same page, only the compression differs.
Drawing with ``pdftoppm`` instead (Splash resamples every image a little,
even at its own resolution, and Tesseract's reading of a page moves by up
to a point or two on such invisible changes) measured the renderer, not
the storage: see the README ("Archival storage"). On colour pages, the red of the seal: the
share of clearly red pixels in the seal's box on the stored image and on
the compact drawing. All pages then form one compact
PDF/A-1b document checked by PDFBox Preflight before and after a PAdES
signature (a development identity), and the signature is verified.

Results: ``<work>/results.md`` and ``<work>/pages.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pikepdf
from pagegen import add_noise, lid_shadow, page_text, render_page, skew, tint_paper
from PIL import Image

from benchmarks.ocr.documents import DOCUMENTS
from benchmarks.ocr.metrics import cer
from scanner.capture.load import load_pages
from scanner.clean import clean_page_pixels
from scanner.config import Secret
from scanner.files import sha256_file
from scanner.model import PageImage, PdfMetadata, PdfPage, SourceFile
from scanner.ocr import OcrOptions, ocr_page
from scanner.pdf import build_pdfa, preflight
from scanner.pdf.compact import code_ahead, images
from scanner.sign import sign_pdf
from scanner.sign.devpki import create_dev_identity
from scanner.sign.verify import check_file

DPI = 300
# A clearly red pixel: what a reader calls the seal's red (the seal ink is about (214, 38, 48)).
RED_MARGIN = 60


@dataclass
class Row:
    name: str
    kind: str  # colour, grey, bilevel
    input_bytes: int
    lossless_bytes: int
    compact_bytes: int
    compact_image_bytes: int  # the page's image data in the compact PDF (masks included), without text layer
    cer_input: float
    cer_lossless: float  # the lossless copy's image as pdfimages takes it out, cleaned and read again
    cer_compact: float  # the compact copy drawn on the page image's grid, cleaned and read the same way
    red_lossless: float
    red_compact: float
    compact_seconds: float
    # --rendered: each copy drawn at 300 dpi with poppler's defaults and read the same way (the old method)
    cer_lossless_300: float = float("nan")
    cer_compact_300: float = float("nan")


def _corpus(folder: Path, limit: int | None, variant: int = 0) -> list[tuple[str, str, Path, str]]:
    """(name, kind, scan file, truth) for every page, written into FOLDER.

    VARIANT > 0 damages the same documents otherwise (noise, skew angle and
    direction, shadow side, which bitonal pages are skewed): another sample
    of pages, for a mean with less of the recognizer's page-to-page noise.
    """
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, str, Path, str]] = []
    sign = -1 if variant % 2 else 1
    for i, (doc, spec) in enumerate(DOCUMENTS.items()):
        truth = page_text(spec)
        page = render_page(spec, DPI, seal=True)
        seed = i + 100 * variant
        side = "left" if variant == 0 else ("right", "top")[(i + variant) % 2]
        angle = sign * (1.5 + 0.3 * i + 0.45 * variant)
        variants = {
            "colour-tinted": add_noise(tint_paper(page, (246, 240, 222)), 5, seed),
            "colour-skewed-shadow": skew(
                add_noise(lid_shadow(tint_paper(page, (226, 224, 219)), side, 0.07, 0.7), 6, seed), angle
            ),
        }
        for name, img in variants.items():
            path = folder / f"{doc}-{name}.jpg"
            img.convert("RGB").save(path, quality=85, dpi=(DPI, DPI))
            cases.append((path.stem, "colour", path, truth))
        if i % 2 == variant % 2:
            path = folder / f"{doc}-grey.jpg"
            add_noise(page, 4, seed).convert("L").save(path, quality=85, dpi=(DPI, DPI))
            cases.append((path.stem, "grey", path, truth))
        plain = render_page(spec, DPI, seal=False, signature=True).convert("L")
        bitonal = plain.point(lambda v: 255 if v > 150 else 0)
        skewed = i % 2 != variant % 2
        if skewed:
            bitonal = (
                skew(bitonal.convert("RGB"), -sign * (1.0 + 0.4 * i))
                .convert("L")
                .point(lambda v: 255 if v > 128 else 0)
            )
        path = folder / f"{doc}-bilevel{'-skewed' if skewed else ''}.tif"
        bitonal.convert("1").save(path, compression="group4", dpi=(DPI, DPI))
        cases.append((path.stem, "bilevel", path, truth))
    return cases[:limit] if limit else cases


def _page_image(path: Path) -> PageImage:
    with Image.open(path) as im:
        return PageImage(path=path, width=im.width, height=im.height, dpi=DPI, source=path.name)


def _scan_page(path: Path, work: Path, *, taken: bool = True, code: bool = False) -> tuple[PdfPage, float]:
    """The pipeline's steps for one page file: opened as capture does (when TAKEN), cleaned, recognized.

    With CODE, its compact coding is made as ``scanner ocr`` makes it, from the
    pixels the cleaning holds; the seconds it took are returned.
    """
    if taken:
        source = SourceFile(path=path, original_name=path.name, sha256=sha256_file(path), size=path.stat().st_size)
        (image,) = load_pages(source, work / "taken")
    else:
        image = _page_image(path)
    cleaned, pixels = clean_page_pixels(image, work / "clean")
    seconds = 0.0
    if code:
        started = time.perf_counter()
        code_ahead(cleaned.image, pixels)
        seconds = time.perf_counter() - started
    del pixels
    ocr = ocr_page(
        cleaned.ocr_image,
        width=cleaned.image.width,
        height=cleaned.image.height,
        dpi=cleaned.image.dpi,
        options=OcrOptions(languages=("vie",)),
    )
    return PdfPage(image=cleaned.image, ocr=ocr), seconds


def _render(pdf: Path, out_stem: Path, dpi: int = DPI) -> Path:
    """PDF's first page drawn by poppler at DPI, as a viewer would (the measuring method before issue 13's fix)."""
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(out_stem)], check=True)
    return out_stem.with_name(out_stem.name + ".png")


def draw_on_grid(pdf: Path, out_stem: Path, image: PageImage) -> Path:
    """PDF's first page drawn by poppler's cairo backend at IMAGE's own resolution: the stored pixels, not a resampling.

    ``pdftocairo`` draws an image at its own resolution pixel for pixel (the
    lossless copy's JPEG comes back identical to what ``pdfimages`` takes
    out, a G4 page identical to its bits, every pixel of an ink mask on its
    own pixel), so the only pixels not stored as they are drawn are the
    small paper and ink colour layers, which the compact copy really holds
    at a lower resolution. ``pdftoppm`` (Splash) resamples every image even
    at its own resolution (the same JPEG comes back 4-5 grey levels off on
    average, a 1-bit page with 254 grey levels), and with ``-scale-to-x/-y``
    of the same size it doubles and drops rows of the masks; its ``-aa``
    options concern fonts and vector paths only.
    """
    subprocess.run(["pdftocairo", "-png", "-r", f"{image.dpi:g}", "-singlefile", str(pdf), str(out_stem)], check=True)
    out = out_stem.with_name(out_stem.name + ".png")
    with Image.open(out) as im:
        if im.size != (image.width, image.height):
            raise SystemExit(f"{out}: drawn at {im.size}, the page image is {image.width}x{image.height}")
    return out


def _taken_out(pdf: Path, folder: Path, image: PageImage) -> Path:
    """The one image of PDF's first page as ``pdfimages`` takes it out into FOLDER: a JPEG byte for byte, else a PNG."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run(["pdfimages", "-f", "1", "-l", "1", "-j", "-png", str(pdf), str(folder / "image")], check=True)
    (out,) = folder.iterdir()
    with Image.open(out) as im:
        if im.size != (image.width, image.height):
            raise SystemExit(f"{out}: {im.size}, the page image is {image.width}x{image.height}")
    return out


def _image_bytes(pdf: Path) -> int:
    """Bytes of every image stream of PDF's first page, masks included."""
    with pikepdf.open(pdf) as doc:
        xobjects = doc.pages[0].Resources.XObject.values()
        return sum(len(image.read_raw_bytes()) for x in xobjects for image in images(x))


def _red(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., c].astype(np.int16) for c in range(3))
    return (r - np.maximum(g, b)) > RED_MARGIN


def _seal_box(rgb: np.ndarray) -> tuple[slice, slice] | None:
    ys, xs = np.nonzero(_red(rgb))
    if len(xs) < 500:
        return None
    return slice(int(np.percentile(ys, 1)), int(np.percentile(ys, 99)) + 1), slice(
        int(np.percentile(xs, 1)), int(np.percentile(xs, 99)) + 1
    )


def measure(
    work: Path,
    limit: int | None,
    variant: int = 0,
    kinds: tuple[str, ...] = ("colour", "grey", "bilevel"),
    rendered: bool = False,
) -> tuple[list[Row], dict[str, object]]:
    meta = PdfMetadata(title="Đo dung lượng lưu trữ", creator="benchmarks.storage")
    rows: list[Row] = []
    compact_pages: list[PdfPage] = []
    for folder in ("pdf", "render"):
        (work / folder).mkdir(parents=True, exist_ok=True)
    for name, kind, scan, truth in _corpus(work / "corpus", limit, variant):
        if kind not in kinds:
            continue
        page, seconds = _scan_page(scan, work / "pages", code=True)
        lossless = build_pdfa([page], work / "pdf" / f"{name}.lossless.pdf", metadata=meta, storage="lossless")
        compact = build_pdfa([page], work / "pdf" / f"{name}.compact.pdf", metadata=meta, storage="compact")
        compact_pages.append(page)
        stored = _taken_out(lossless.path, work / "stored" / name, page.image)
        reread_lossless, _ = _scan_page(stored, work / "reread", taken=False)
        shown = draw_on_grid(compact.path, work / "render" / f"{name}.compact", page.image)
        reread, _ = _scan_page(shown, work / "reread", taken=False)
        texts = work / "texts"
        texts.mkdir(exist_ok=True)
        read = {"input": page.ocr.text, "lossless": reread_lossless.ocr.text, "compact": reread.ocr.text}
        viewer = {"lossless": float("nan"), "compact": float("nan")}
        if rendered:  # the old method, for the record: both copies drawn at 300 dpi as a viewer draws them
            for label, built in (("lossless", lossless), ("compact", compact)):
                text = _scan_page(_render(built.path, work / "render" / f"{name}.{label}-300"), work / "reread",
                                  taken=False)[0].ocr.text  # fmt: skip
                read[f"{label}-300"] = text
                viewer[label] = cer(truth, text)
        for label, text in read.items():
            (texts / f"{name}.{label}.txt").write_text(text, encoding="utf-8")
        red_lossless = red_compact = float("nan")
        if kind == "colour":
            with Image.open(stored) as a, Image.open(shown) as b:
                before, after = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
            box = _seal_box(before)
            if box is not None:
                red_lossless = float(_red(before[box]).mean())
                red_compact = float(_red(after[box]).mean())
        row = Row(
            name=f"v{variant}/{name}" if variant else name,
            kind=kind,
            input_bytes=scan.stat().st_size,
            lossless_bytes=lossless.path.stat().st_size,
            compact_bytes=compact.path.stat().st_size,
            compact_image_bytes=_image_bytes(compact.path),
            cer_input=cer(truth, page.ocr.text),
            cer_lossless=cer(truth, reread_lossless.ocr.text),
            cer_compact=cer(truth, reread.ocr.text),
            cer_lossless_300=viewer["lossless"],
            cer_compact_300=viewer["compact"],
            red_lossless=red_lossless,
            red_compact=red_compact,
            compact_seconds=seconds,
        )
        rows.append(row)
        print(
            f"{name}: {row.input_bytes / 1000:.0f} KB in, lossless {row.lossless_bytes / 1000:.0f} KB, "
            f"compact {row.compact_bytes / 1000:.0f} KB; CER {100 * row.cer_input:.2f}% / "
            f"{100 * row.cer_lossless:.2f}% / {100 * row.cer_compact:.2f}%; "
            f"red {row.red_lossless:.3f} → {row.red_compact:.3f}",
            flush=True,
        )
    return rows, _preflight_signed(work, compact_pages, meta)


def _preflight_signed(work: Path, pages: list[PdfPage], meta: PdfMetadata) -> dict[str, object]:
    """Every page in one compact PDF/A-1b document: Preflight before and after signing, the signature verified."""
    document = build_pdfa(pages, work / "pdf" / "all.compact-1b.pdf", flavour="1b", metadata=meta, storage="compact")
    before = preflight(document.path)
    password = Secret("benchmark-only")
    identity = create_dev_identity(work / "keys", agency_code="000.00.00.H48", agency_name="Đo đạc", password=password)
    signed = sign_pdf(
        document.path, work / "pdf" / "all.compact-1b.signed.pdf", pkcs12=identity.pkcs12, password=password
    )
    after = preflight(signed.path)
    report = check_file(signed.path, [identity.ca_cert])
    return {
        "pages": len(pages),
        "bytes": document.path.stat().st_size,
        "preflight_before": before.valid,
        "preflight_before_errors": before.errors[:5],
        "preflight_after": after.valid,
        "preflight_after_errors": after.errors[:5],
        "signature_ok": report.ok,
        "signature_problems": list(report.problems)[:5],
    }


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _kb(values: list[int]) -> str:
    return f"{_mean([float(v) for v in values]) / 1000:.0f}"


def _verdict(ok: object, errors: object) -> str:
    return "passes" if ok else f"FAILS {errors}"


def report(rows: list[Row], signed: dict[str, object] | None, command: str) -> str:
    viewer = any(r.cer_lossless_300 == r.cer_lossless_300 for r in rows)  # the --rendered columns were measured
    extra = " | CER lossless, 300 dpi drawing % | CER compact, 300 dpi drawing %" if viewer else ""
    lines = [
        f"Command: `{command}`",
        "",
        "| pages | n | input KB | lossless KB | compact KB | compact image KB "
        f"| CER scan % | CER lossless copy % | CER compact copy % | compact − lossless | compact − scan{extra} "
        "| seal red, lossless → compact |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: | ---: |" if viewer else "")
        + " --- |",
    ]
    groups = {"all": rows, "colour + grey": [r for r in rows if r.kind != "bilevel"]}
    groups |= {kind: [r for r in rows if r.kind == kind] for kind in ("colour", "grey", "bilevel")}
    for label, group in groups.items():
        if not group:
            continue
        reds = [r for r in group if r.red_lossless == r.red_lossless]
        red = "–"
        if reds:
            red = f"{_mean([r.red_lossless for r in reds]):.3f} → {_mean([r.red_compact for r in reds]):.3f}"
        cers = [_mean([getattr(r, f"cer_{k}") for r in group]) for k in ("input", "lossless", "compact")]
        cers += [cers[2] - cers[1], cers[2] - cers[0]]  # in points
        if viewer:
            cers += [_mean([getattr(r, f"cer_{k}_300") for r in group]) for k in ("lossless", "compact")]
        lines.append(
            f"| {label} | {len(group)} | {_kb([r.input_bytes for r in group])} "
            f"| {_kb([r.lossless_bytes for r in group])} | {_kb([r.compact_bytes for r in group])} "
            f"| {_kb([r.compact_image_bytes for r in group])} | "
            + " | ".join(f"{100 * c:+.2f}" if i in (3, 4) else f"{100 * c:.2f}" for i, c in enumerate(cers))
            + f" | {red} |"
        )
    bilevel = [r for r in rows if r.kind == "bilevel"]
    grown = [r.name for r in bilevel if r.compact_image_bytes > r.input_bytes]
    worst = max((r.compact_image_bytes / r.input_bytes for r in bilevel), default=float("nan"))
    colour = [r for r in rows if r.kind == "colour" and r.red_lossless == r.red_lossless]
    least_red = min((r.red_compact / r.red_lossless for r in colour), default=float("nan"))
    lines += [
        "",
        'KB are per page (one-page PDFs: image, text layer, font, metadata); "compact image" is the page\'s',
        "image data alone. CER: the scan as the pipeline read it; the lossless copy's image as `pdfimages` takes",
        "it out, the compact copy drawn by `pdftocairo` at the page image's resolution (each stored pixel as it is),",
        "each read again by the same cleaning and recognition"
        + (" (and, --rendered, each copy drawn at `pdftoppm -r 300` with poppler's defaults)." if viewer else "."),
        "",
        f"- Bilevel inputs whose image grew (compact image data larger than the input G4 TIFF): "
        f"{len(grown)} of {len(bilevel)}{' (' + ', '.join(grown) + ')' if grown else ''}; "
        f"largest ratio {worst:.2f}.",
        *(
            [
                f"- Seal red kept: the least red page keeps {100 * least_red:.0f}% of the lossless copy's red pixels "
                "in the seal's box."
            ]
            if colour
            else []
        ),
        f"- Compact coding: mean {_mean([r.compact_seconds for r in rows]):.2f} s/page wall (`code_ahead` from the "
        "cleaning's pixels, as `scanner ocr` codes; on 2 cores shared with other jobs).",
    ]
    if signed is None:
        return "\n".join(lines) + "\n"
    lines += [
        f"- One compact PDF/A-1b of all {signed['pages']} pages ({signed['bytes']} bytes): Preflight "
        f"{_verdict(signed['preflight_before'], signed['preflight_before_errors'])} before signing and "
        f"{_verdict(signed['preflight_after'], signed['preflight_after_errors'])} after a PAdES B-B signature; "
        f"signature {_verdict(signed['signature_ok'], signed['signature_problems'])} verification.",
    ]
    return "\n".join(lines) + "\n"


def page_table(rows: list[Row]) -> str:
    """One line per page, for benchmarks/storage/RESULTS.md."""
    lines = [
        "| page | kind | input bytes | lossless bytes | compact bytes | compact image bytes "
        "| CER scan | CER lossless | CER compact | red |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        red = f"{r.red_lossless:.3f} → {r.red_compact:.3f}" if r.red_lossless == r.red_lossless else "–"
        lines.append(
            f"| {r.name} | {r.kind} | {r.input_bytes} | {r.lossless_bytes} | {r.compact_bytes} "
            f"| {r.compact_image_bytes} | {100 * r.cer_input:.2f} | {100 * r.cer_lossless:.2f} "
            f"| {100 * r.cer_compact:.2f} | {red} |"
        )
    return "\n".join(lines) + "\n"


_INTS = ("input_bytes", "lossless_bytes", "compact_bytes", "compact_image_bytes")


def _load(folder: Path) -> list[Row]:
    """The rows a run wrote into FOLDER."""
    with (folder / "pages.csv").open(encoding="utf-8") as f:
        return [
            Row(**{k: v if k in ("name", "kind") else int(v) if k in _INTS else float(v) for k, v in r.items()})  # type: ignore[arg-type]
            for r in csv.DictReader(f)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--work", type=Path, default=None, help="where the corpus and PDFs go (default: temporary)")
    parser.add_argument("--pages", type=int, default=None, help="only the first N pages of the corpus")
    parser.add_argument("--variant", type=int, default=0, help="another damage of the same documents (0, 1, ...)")
    parser.add_argument("--kinds", nargs="+", default=["colour", "grey", "bilevel"], help="only these kinds of page")
    parser.add_argument(
        "--rendered", action="store_true", help="also read each copy drawn at 300 dpi as a viewer draws it (slower)"
    )
    parser.add_argument(
        "--combine", type=Path, nargs="+", metavar="DIR", help="report the runs written in these folders as one"
    )
    args = parser.parse_args(argv)
    out_root = Path(__file__).resolve().parents[1] / "out" / "storage"
    if args.combine:
        # a page measured again in a later folder (same name) replaces its earlier row
        rows = list({row.name: row for folder in args.combine for row in _load(folder)}.values())
        dirs = " ".join(str(d) for d in args.combine)
        text = report(rows, None, f"python -m benchmarks.storage.run --combine {dirs}")
        for folder in args.combine:  # each run's own PDF/A-1b and signature check
            lines = (folder / "results.md").read_text(encoding="utf-8").splitlines()
            text += "".join(f"{line} ({folder.name})\n" for line in lines if line.startswith("- One compact"))
        (out_root / "combined.md").write_text(text, encoding="utf-8")
        (out_root / "combined-pages.md").write_text(page_table(rows), encoding="utf-8")
        print(text)
        return 0
    kinds = " ".join(args.kinds) if len(args.kinds) < 3 else ""
    command = (
        "python -m benchmarks.storage.run"
        + "".join(f" --{k} {v}" for k, v in (("pages", args.pages), ("variant", args.variant), ("kinds", kinds)) if v)
        + (" --rendered" if args.rendered else "")
    )
    out = out_root / (f"variant-{args.variant}" if args.variant else "") / ("-".join(args.kinds) if kinds else "")
    out = out / "rendered" if args.rendered else out  # a diagnosis, usually on a few pages: kept apart
    with tempfile.TemporaryDirectory(prefix="storage-bench-") as tmp:
        work = args.work or Path(tmp)
        rows, signed = measure(work, args.pages, args.variant, tuple(args.kinds), args.rendered)
        text = report(rows, signed, command)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.md").write_text(text, encoding="utf-8")
        (out / "signed.json").write_text(json.dumps(signed, ensure_ascii=False, indent=1), encoding="utf-8")
        with (out / "pages.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)
        print(text)
    ok = signed["preflight_before"] and signed["preflight_after"] and signed["signature_ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
