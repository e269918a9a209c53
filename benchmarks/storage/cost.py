"""CPU and memory of the compact coding of one page: ``python -m benchmarks.storage.cost``.

A 300 dpi A4 colour page with a seal and a signature, the same page in grey,
and a bitonal one, each coded three times by ``scanner.pdf.compact.encode``
in a process of its own; CPU is the process time of the fastest run (the
machine is shared), memory the growth of the peak resident set over the
process before the page (numpy, OpenCV and pikepdf already loaded).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pikepdf
from pagegen import add_noise, render_page, tint_paper
from PIL import Image

from benchmarks.ocr.documents import DOCUMENTS
from scanner.model import PageImage
from scanner.pdf import compact

DPI = 300


def _peak_mb() -> float:
    """VmHWM: unlike ru_maxrss, it starts anew at exec, so the generator's pages do not count."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def measure(path: Path) -> str:
    """One table row for the page image at PATH, measured in this (fresh) process."""
    with Image.open(path) as im:
        image = PageImage(path=path, width=im.width, height=im.height, dpi=DPI, source=path.name)
    before = _peak_mb()
    times = []
    for _ in range(3):
        pdf = pikepdf.new()
        started = time.process_time()
        layers = compact.encode(pdf, image)
        times.append(time.process_time() - started)
        size = layers.size
    names = " ".join(n for n, _ in layers.xobjects)
    return f"| {path.stem} | {names} | {size / 1000:.0f} | {min(times):.2f} | {_peak_mb() - before:.0f} |"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--page"]:
        print(measure(Path(argv[1])))
        return 0
    spec = next(iter(DOCUMENTS.values()))
    page = render_page(spec, DPI, seal=True)
    pages = {
        "colour": add_noise(tint_paper(page, (246, 240, 222)), 5, 0),
        "grey": add_noise(page, 4, 0).convert("L"),
        "bitonal": page.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1"),
    }
    print("| page | layers | image KB | CPU s | peak MB over the process |")
    print("| --- | --- | ---: | ---: | ---: |", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, img in pages.items():
            path = Path(tmp) / f"{name}.{'png' if name == 'bitonal' else 'jpg'}"
            img.save(path, dpi=(DPI, DPI), **({} if name == "bitonal" else {"quality": 85}))
            # a fresh process per page, so the peak is this page's and not the page generator's
            subprocess.run([sys.executable, "-m", "benchmarks.storage.cost", "--page", str(path)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
