"""Peak memory of one page worker: a 300 dpi A4 page and a 600 dpi A3 page.

``python -m benchmarks.ocr.memory`` renders the two pages (an administrative
document, JPEG like a scanner's), then cleans and recognizes each in a fresh
process, the unit of work of the pipeline's pool, under GNU time. The peak
is the largest resident set of the worker and of the Tesseract it runs, so
it is what a pool of N workers needs N times. The pass mark is 400 MB for
the A4 page; the A3 page must simply complete.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from pagegen import add_noise, jpeg_roundtrip, render_page, skew

from benchmarks.ocr.documents import DOCUMENTS

REPO = Path(__file__).resolve().parents[2]
A3 = (297.0, 420.0)
CASES = (("A4 300 dpi", (210.0, 297.0), 300), ("A3 600 dpi", A3, 600))
LIMIT_MB = 400


def worker(image: Path, dpi: int, work: Path) -> None:
    """Clean and recognize IMAGE as the pipeline's page worker does."""
    from PIL import Image

    from scanner.clean import clean_page
    from scanner.model import PageImage
    from scanner.ocr import ocr_page

    with Image.open(image) as im:
        page = PageImage(path=image, width=im.width, height=im.height, dpi=dpi, source=image.name)
    cleaned = clean_page(page, work)
    result = ocr_page(cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=dpi)
    print(
        f"{len(result.words)} words, confidence {result.confidence}, rotation {cleaned.rotation}, skew {cleaned.skew}"
    )


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, paper, dpi in CASES:
        image = out / f"memory-{paper[0]:.0f}x{paper[1]:.0f}-{dpi}.jpg"
        if not image.exists():
            page = render_page(DOCUMENTS["thong-bao"], dpi, paper, seal=True)
            page = jpeg_roundtrip(add_noise(skew(page, 1.5), 5, seed=1), 85)
            page.save(image, quality=85, dpi=(dpi, dpi))
            del page
        stats = out / f"{image.stem}.time"
        cmd = [sys.executable, "-m", "benchmarks.ocr.memory", "--worker", str(image), str(dpi), str(out / "work")]
        proc = subprocess.run(
            ["/usr/bin/time", "-o", str(stats), "-f", "%e %U %S %M", *cmd], cwd=REPO, capture_output=True, text=True
        )
        wall, user, system, rss = stats.read_text().split()[-4:]
        peak = int(rss) / 1024
        ok = proc.returncode == 0 and (peak <= LIMIT_MB or dpi > 300)
        rows.append((label, proc.returncode, peak, float(user) + float(system), float(wall), proc.stdout.strip(), ok))
        print(f"{label}: status {proc.returncode}, peak {peak:.0f} MB, CPU {float(user) + float(system):.1f} s, "
              f"{proc.stdout.strip() or proc.stderr.strip()[-200:]}", flush=True)  # fmt: skip
    md = [
        "| page | status | peak MB (worker + tesseract) | CPU s | wall s | result |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    md += [f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]} |" for r in rows]
    (out / "memory.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0 if all(r[6] for r in rows) else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m benchmarks.ocr.memory", description=__doc__)
    p.add_argument("--worker", nargs=3, metavar=("IMAGE", "DPI", "WORK"))
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    args = p.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), int(args.worker[1]), Path(args.worker[2]))
        sys.exit(0)
    sys.exit(main(args.out))
