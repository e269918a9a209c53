"""One-run CPU of `scanner ocr` variants and bare Tesseract, taken in turn: ``python -m benchmarks.ocr.cpu``.

    python -m benchmarks.ocr.cpu --before /tmp/base [--out DIR] [--repeat N]

Every text page of the test corpus goes through one run of each variant
(start-up paid once, as a dossier is processed): ``before`` (``scanner ocr``
from the source tree given, e.g. ``git archive 4b24857 scanner``), ``now``
(this tree, ``--image-storage lossless``: the OCR's own cost), ``compact``
(this tree, its default storage) and bare ``tesseract``. CPU is that of all
processes of a run, from a cgroup (``benchmarks.ocr.run.measure``); the
variants alternate so that they share the machine's load, which is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from benchmarks.ocr.corpus import write_corpus
from benchmarks.ocr.run import REPO, SCANNER, measure


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", type=Path, help="source tree of the `scanner ocr` to compare with")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "cpu")
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    out = args.out
    cases = [c for c in write_corpus(out / "corpus") if c.document]
    images = [str(out / "corpus" / c.image) for c in cases]
    (out / "list.txt").write_text("\n".join(images) + "\n", encoding="utf-8")
    ocr = [*SCANNER, "ocr", *images, "--jobs", "1"]
    variants: dict[str, tuple[Path, list[str]]] = {
        "now": (REPO, [*ocr, "-o", str(out / "now.pdf"), "--image-storage", "lossless"]),
        "compact": (REPO, [*ocr, "-o", str(out / "compact.pdf")]),
        "tesseract": (REPO, ["tesseract", str(out / "list.txt"), str(out / "tesseract"), "-l", "vie"]),
    }
    if args.before:
        variants = {"before": (args.before.resolve(), [*ocr, "-o", str(out / "before.pdf")]), **variants}
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name, (tree, cmd) in variants.items():
            env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(tree)}
            m = measure(cmd, env, out / f"{name}.log")
            runs[name].append(m.cpu / len(images))
            print(f"{name:9s} {m.cpu / len(images):.3f} s/page (status {m.status}, load {os.getloadavg()[0]:.1f})")
    bare = statistics.median(runs["tesseract"])
    for name, values in runs.items():
        median = statistics.median(values)
        print(f"{name:9s} median {median:.3f} s/page, {median / bare:.2f}× Tesseract")


if __name__ == "__main__":
    main()
