"""Run `scanner ocr`, OCRmyPDF and bare Tesseract side by side on the corpus and score them.

Fairness rules, so the numbers mean what they say:

- every system gets the same JPEG pages, one page per run, one CPU thread
  (``OMP_THREAD_LIMIT=1``, ``--jobs 1``); start-up costs count for everyone;
- CPU time is that of every process of the run, read from a cgroup
  (``cpuacct.usage`` of a group made for the run under
  /sys/fs/cgroup/cpuacct, so a process nobody waited for counts too); where
  no cgroup can be made, user + system seconds of the run and what it
  waited for (GNU time). Peak memory is ``ru_maxrss`` of the largest process;
- the text scored is what each system says it recognized: the ``--sidecar``
  file of `scanner ocr` and of OCRmyPDF, bare Tesseract's stdout. Reading
  ``pdftotext`` output instead would score poppler's own reordering of the
  text layer, the same for both PDF producers;
- CER and WER against the page's text in reading order (NFC, whitespace
  folded); ``CER rows`` scores against the row-by-row order a line reader
  produces, so what reading order alone is worth can be seen;
- blank backsides have no reference text: they are scored by how many
  characters a system invents on them and left out of the CER means;
- "mark errors" count the character substitutions whose letters agree once
  the marks are removed (``ố`` for ``ổ``, ``đ`` for ``d``): what the tone-mark
  correction is for.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pagegen import page_text

from benchmarks.ocr.corpus import CLASSES, PageCase, write_corpus
from benchmarks.ocr.documents import DEV_DOCUMENTS, DOCUMENTS
from benchmarks.ocr.metrics import cer, mark_errors, normalize, wer

REPO = Path(__file__).resolve().parents[2]
# `scanner ocr` is run from the source tree at SCANNER_PATH (this one, or another checkout for a before/after)
SCANNER_PATH = REPO
# -P: not the working directory first on the path, so PYTHONPATH=SCANNER_PATH decides which scanner runs
SCANNER = [sys.executable, "-P", "-m", "scanner"]
# Extra arguments of `scanner ocr` (``--image-storage lossless``: the OCR's own cost without the compact coding)
SCANNER_ARGS: list[str] = []
SYSTEMS = ("scanner", "ocrmypdf", "tesseract")
LABEL = {
    "scanner": "scanner ocr",
    "ocrmypdf": "OCRmyPDF --rotate-pages --deskew --clean",
    "tesseract": "tesseract -l vie",
}


@dataclass(frozen=True)
class Measure:
    cpu: float
    wall: float
    rss_mb: float
    status: int


CGROUP = Path("/sys/fs/cgroup/cpuacct")


def _cgroup() -> Path | None:
    """A fresh cpuacct group for one run, or None where cgroups cannot be made (not root, no v1 cpuacct)."""
    group = CGROUP / f"ocr-bench-{os.getpid()}"
    try:
        group.mkdir(exist_ok=True)
        (group / "cpuacct.usage").write_text("0")
    except OSError:
        return None
    return group


def measure(cmd: Sequence[str], env: dict[str, str], log: Path) -> Measure:
    """Run CMD under GNU time in a cgroup of its own: the CPU seconds of all its processes and its peak memory.

    GNU time rather than our own ``wait4`` for memory: a child forked from
    this (large) Python process starts with our resident set as its
    high-water mark, and ``ru_maxrss`` would report that instead of the
    program's own.
    """
    stats = log.with_suffix(".time")
    group = _cgroup()

    def join() -> None:
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    with log.open("wb") as out:
        proc = subprocess.run(
            ["/usr/bin/time", "-o", str(stats), "-f", "%e %U %S %M", *cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=join,  # noqa: PLW1509 - the benchmark runs no threads
        )
    wall, user, system, rss = stats.read_text().split()[-4:]
    cpu = float(user) + float(system)
    if group is not None:
        cpu = int((group / "cpuacct.usage").read_text()) / 1e9
        group.rmdir()
        log.with_suffix(".cpu").write_text(f"{cpu}\n")
    return Measure(cpu=cpu, wall=float(wall), rss_mb=int(rss) / 1024, status=proc.returncode)


def _command(system: str, image: Path, out: Path) -> tuple[list[str], Path]:
    """The command line and the text file it leaves."""
    text = out.with_suffix(".txt")
    if system == "scanner":
        return [
            *SCANNER,
            "ocr",
            str(image),
            "-o",
            str(out.with_suffix(".pdf")),
            "--jobs",
            "1",
            "--sidecar",
            str(text),
            *SCANNER_ARGS,
        ], text
    if system == "ocrmypdf":
        exe = REPO / "benchmarks" / "out" / "venv" / "bin" / "ocrmypdf"
        return [
            str(exe), "-l", "vie", "--rotate-pages", "--deskew", "--clean", "--jobs", "1",
            "--sidecar", str(text), str(image), str(out.with_suffix(".pdf")),
        ], text  # fmt: skip
    return ["tesseract", str(image), str(out), "-l", "vie"], text


def _recorded(log: Path, text: Path) -> Measure | None:
    """The measure an earlier run left for this page (``--resume``), if it finished."""
    stats, status = log.with_suffix(".time"), log.with_suffix(".status")
    try:
        wall, user, system, rss = stats.read_text().split()[-4:]
        cgroup = log.with_suffix(".cpu")
        cpu = float(cgroup.read_text()) if cgroup.exists() else float(user) + float(system)
        code = int(status.read_text()) if status.exists() else (0 if text.exists() else 1)
    except (OSError, ValueError):
        return None
    return Measure(cpu=cpu, wall=float(wall), rss_mb=int(rss) / 1024, status=code)


def run_page(system: str, case: PageCase, corpus: Path, out: Path, resume: bool = False) -> dict[str, object]:
    """One system on one page: its CPU, memory, and its text scored; RESUME keeps a finished earlier run."""
    folder = out / system
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(SCANNER_PATH)}
    target = folder / case.name
    cmd, text_file = _command(system, corpus / case.image, target)
    m = _recorded(target.with_suffix(".log"), text_file) if resume else None
    if m is None:
        text_file.unlink(missing_ok=True)
        m = measure(cmd, env, target.with_suffix(".log"))
        target.with_suffix(".status").write_text(str(m.status))
    text = text_file.read_text(encoding="utf-8", errors="replace") if text_file.exists() else ""
    row: dict[str, object] = {
        "system": system,
        "page": case.name,
        "class": case.kind,
        "dpi": case.dpi,
        "status": m.status,
        "cpu_s": round(m.cpu, 3),
        "wall_s": round(m.wall, 3),
        "rss_mb": round(m.rss_mb, 1),
        "chars": len(normalize(text)),
    }
    if case.document:
        spec = {**DOCUMENTS, **DEV_DOCUMENTS}[case.document]
        row["cer"] = round(cer(page_text(spec), text), 5)
        row["mark_errors"] = mark_errors(page_text(spec), text)
        row["cer_rows"] = round(cer(page_text(spec, order="rows"), text), 5)
        row["wer"] = round(wer(page_text(spec), text), 5)
    print(
        f"  {system:9s} {case.name:28s} cpu {m.cpu:6.2f}s rss {m.rss_mb:6.0f} MB"
        + (f" CER {100 * float(row['cer']):6.2f}%" if "cer" in row else f" blank: {row['chars']} chars"),
        flush=True,
    )
    return row


def run_batch(system: str, cases: list[PageCase], corpus: Path, out: Path) -> float | None:
    """CPU seconds per page when all text pages go through one run (start-up paid once), or None.

    Blank backsides are left out: bare Tesseract can spend seconds reading
    bleed-through as text, which would flatter the comparison.
    """
    folder = out / system
    folder.mkdir(parents=True, exist_ok=True)
    cases = [c for c in cases if c.document]
    images = [str(corpus / c.image) for c in cases]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(SCANNER_PATH)}
    if system == "scanner":
        cmd = [*SCANNER, "ocr", *images, "-o", str(folder / "batch.pdf"), "--jobs", "1", *SCANNER_ARGS]
    elif system == "tesseract":
        listing = folder / "batch-list.txt"
        listing.write_text("\n".join(images) + "\n", encoding="utf-8")
        cmd = ["tesseract", str(listing), str(folder / "batch"), "-l", "vie"]
    else:
        return None  # OCRmyPDF takes one PDF or one image per run
    m = measure(cmd, env, folder / "batch.log")
    print(f"  {system:9s} one run over {len(cases)} pages: cpu {m.cpu / len(cases):.2f}s/page", flush=True)
    with (folder / "batch-runs.txt").open("a", encoding="utf-8") as fh:  # every repetition, for the record
        fh.write(f"{m.cpu / len(cases):.4f} {os.getloadavg()[0]:.2f}\n")
    return m.cpu / len(cases) if m.status == 0 else None


def check_cleaning(cases: list[PageCase], corpus: Path, out: Path, texts: dict[str, str]) -> list[dict[str, object]]:
    """Orientation, skew residual and the blank-page decision of the cleaning stage, page by page."""
    from PIL import Image

    from scanner.capture.group import is_blank
    from scanner.clean import clean_page
    from scanner.model import PageImage

    rows: list[dict[str, object]] = []
    for case in cases:
        path = corpus / case.image
        with Image.open(path) as im:
            page = PageImage(path=path, width=im.width, height=im.height, dpi=case.dpi, source=case.image)
        cleaned = clean_page(page, out / "clean")
        upright = case.rotation  # turned counter-clockwise by this much: upright is that much clockwise
        rows.append(
            {
                "page": case.name,
                "class": case.kind,
                "rotation_true": upright,
                "rotation_found": cleaned.rotation,
                "orientation_ok": case.kind == "blank" or cleaned.rotation == upright,
                "skew_true": case.skew,
                "skew_found": cleaned.skew,
                "skew_residual": round(cleaned.skew - case.skew, 3),
                "ink": cleaned.ink,
                "blank": is_blank(cleaned.ink, texts.get(case.name, "")),
                "is_blank_page": case.kind == "blank",
            }
        )
    return rows


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else float("nan")


def summarize(
    rows: list[dict[str, object]], systems: Sequence[str], batch: dict[str, float | None]
) -> tuple[list[dict[str, object]], str]:
    """One line per system and per class; the markdown table."""
    table: list[dict[str, object]] = []
    for system in systems:
        mine = [r for r in rows if r["system"] == system]
        text_pages = [r for r in mine if "cer" in r]
        blanks = [r for r in mine if "cer" not in r]
        entry: dict[str, object] = {
            "system": LABEL[system],
            "pages": len(mine),
            "cer_mean": 100 * _mean([float(r["cer"]) for r in text_pages]),  # type: ignore[arg-type]
            "cer_median": 100 * statistics.median([float(r["cer"]) for r in text_pages])
            if text_pages
            else float("nan"),  # type: ignore[arg-type]
            "cer_rows_mean": 100 * _mean([float(r["cer_rows"]) for r in text_pages]),  # type: ignore[arg-type]
            "cer_best_mean": 100 * _mean([_best(r) for r in text_pages]),
            "wer_mean": 100 * _mean([float(r["wer"]) for r in text_pages]),  # type: ignore[arg-type]
            "wer_median": 100 * statistics.median([float(r["wer"]) for r in text_pages])
            if text_pages
            else float("nan"),  # type: ignore[arg-type]
            "cpu_per_page": _mean([float(r["cpu_s"]) for r in mine]),  # type: ignore[arg-type]
            "cpu_per_page_one_run": batch.get(system) or float("nan"),
            "rss_peak_mb": max([float(r["rss_mb"]) for r in mine], default=float("nan")),  # type: ignore[arg-type]
            "blank_chars": sum(int(r["chars"]) for r in blanks),  # type: ignore[call-overload]
            "mark_errors": sum(int(r["mark_errors"]) for r in text_pages),  # type: ignore[call-overload]
            "failures": sum(1 for r in mine if r["status"] != 0),
        }
        for kind in CLASSES:
            of_kind = [r for r in text_pages if r["class"] == kind]
            entry[f"cer_{kind}"] = 100 * _mean([float(r["cer"]) for r in of_kind])  # type: ignore[arg-type]
            entry[f"cpu_{kind}"] = _mean([float(r["cpu_s"]) for r in of_kind])  # type: ignore[arg-type]
            entry[f"best_{kind}"] = 100 * _mean([_best(r) for r in of_kind])
            entry[f"marks_{kind}"] = sum(int(r["mark_errors"]) for r in of_kind)  # type: ignore[call-overload]
        table.append(entry)

    def f(x: object, nd: int = 2) -> str:
        return "–" if isinstance(x, float) and x != x else f"{float(x):.{nd}f}"  # type: ignore[arg-type]

    md = [
        "| system | pages | CER mean % | CER median % | WER mean % | WER median % | CER rows % | CER best order % "
        "| CPU s/page | CPU s/text page, one run | peak MB "
        "| chars on blanks | mark errors | failed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in table:
        md.append(
            f"| {e['system']} | {e['pages']} | {f(e['cer_mean'])} | {f(e['cer_median'])} | {f(e['wer_mean'])} | "
            f"{f(e['wer_median'])} | {f(e['cer_rows_mean'])} | {f(e['cer_best_mean'])} | {f(e['cpu_per_page'])} | "
            f"{f(e['cpu_per_page_one_run'])} | "
            f"{f(e['rss_peak_mb'], 0)} | "
            f"{e['blank_chars']} | {e['mark_errors']} | {e['failures']} |"
        )
    kinds = [k for k in CLASSES if any(r["class"] == k for r in rows)]
    md += ["", "CER % by page class (CPU s/page in brackets):", ""]
    md.append("| system | " + " | ".join(kinds) + " |")
    md.append("| --- |" + " ---: |" * len(kinds))
    for e in table:
        cells = [f"{f(e[f'cer_{k}'])} ({f(e[f'cpu_{k}'], 1)})" for k in kinds]
        md.append(f"| {e['system']} | " + " | ".join(cells) + " |")
    md += ["", "Mark errors (substitutions whose letters agree once marks are removed) by page class:", ""]
    md.append("| system | " + " | ".join(kinds) + " |")
    md.append("| --- |" + " ---: |" * len(kinds))
    for e in table:
        md.append(f"| {e['system']} | " + " | ".join(str(e[f"marks_{k}"]) for k in kinds) + " |")
    md += ["", "CER % by page class, each page scored against whichever order suits the system best:", ""]
    md.append("| system | " + " | ".join(kinds) + " |")
    md.append("| --- |" + " ---: |" * len(kinds))
    for e in table:
        md.append(f"| {e['system']} | " + " | ".join(f(e[f"best_{k}"]) for k in kinds) + " |")
    return table, "\n".join(md)


def _best(row: dict[str, object]) -> float:
    """CER against the reading order or the row order, whichever is lower: recognition without layout."""
    return min(float(row["cer"]), float(row["cer_rows"]))  # type: ignore[arg-type]


def clean_summary(rows: list[dict[str, object]]) -> str:
    text_pages = [r for r in rows if not r["is_blank_page"]]
    residuals = [abs(float(r["skew_residual"])) for r in text_pages]  # type: ignore[arg-type]
    ok = sum(1 for r in text_pages if r["orientation_ok"])
    blanks = [r for r in rows if r["is_blank_page"]]
    return "\n".join(
        [
            f"- orientation right on {ok}/{len(text_pages)} text pages "
            f"({sum(1 for r in text_pages if r['rotation_true'])} of them turned 90/180/270)",
            f"- skew residual: max {max(residuals, default=0):.3f}°, mean {_mean(residuals):.3f}° "
            f"(true skews up to {max((abs(float(r['skew_true'])) for r in text_pages), default=0):.2f}°)",  # type: ignore[arg-type]
            f"- blank backsides found: {sum(1 for r in blanks if r['blank'])}/{len(blanks)}; "
            f"text pages classed blank: {sum(1 for r in text_pages if r['blank'])}",
        ]
    )


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def _previous(out: Path, names: set[str]) -> tuple[list[dict[str, object]], dict[str, float | None]]:
    """Rows and one-run figures of an earlier run in OUT, for the pages in NAMES."""
    rows: list[dict[str, object]] = []
    if (out / "pages.csv").exists():
        with (out / "pages.csv").open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r["page"] not in names:
                    continue
                row: dict[str, object] = {k: v for k, v in r.items() if v != ""}
                for k in ("dpi", "status", "chars"):
                    row[k] = int(r[k])
                for k in ("cpu_s", "wall_s", "rss_mb", "cer", "cer_rows", "wer"):
                    if r.get(k):
                        row[k] = float(r[k])
                rows.append(row)
    batch = json.loads((out / "batch.json").read_text()) if (out / "batch.json").exists() else {}
    return rows, batch


def main(
    out: Path,
    pages: int | None,
    systems: Sequence[str],
    reuse: bool = False,
    resume: bool = False,
    which: str = "test",
    clean_checks: bool = True,
    batch_repeat: int = 1,
) -> int:
    """Run SYSTEMS on the corpus WHICH; with REUSE, the other systems' results of the last run in OUT are kept."""
    corpus = out / ("corpus" if which == "test" else f"corpus-{which}")
    print(f"corpus → {corpus}", flush=True)
    cases = write_corpus(corpus, pages, which)
    rows: list[dict[str, object]] = []
    batch: dict[str, float | None] = {}
    # Page by page, every system in turn: the machine's load (other users, frequency) is then the same for all.
    for case in cases:
        rows += [run_page(system, case, corpus, out / "runs", resume) for system in systems]
    # The one-run figures, systems taken in turn BATCH_REPEAT times, the median kept: on a machine shared
    # with other jobs the load moves between runs, and a ratio of two single runs moves with it.
    runs: dict[str, list[float]] = {s: [] for s in systems}
    for _ in range(batch_repeat):
        for system in systems:
            cpu = run_batch(system, cases, corpus, out / "runs")
            if cpu is not None:
                runs[system].append(cpu)
    for system in systems:
        batch[system] = statistics.median(runs[system]) if runs[system] else None
    if reuse:  # read at the end, so a run of the other systems that finished meanwhile is included
        old_rows, old_batch = _previous(out, {c.name for c in cases})
        rows += [r for r in old_rows if r["system"] not in systems]
        batch.update({k: v for k, v in old_batch.items() if k not in systems})
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    rows.sort(key=lambda r: (SYSTEMS.index(str(r["system"])), str(r["page"])))
    write_csv(out / "pages.csv", rows)
    (out / "batch.json").write_text(json.dumps(batch), encoding="utf-8")
    texts = {}
    if "scanner" in systems:
        for case in cases:
            t = out / "runs" / "scanner" / f"{case.name}.txt"
            texts[case.name] = t.read_text(encoding="utf-8") if t.exists() else ""
    clean_rows: list[dict[str, object]] = []
    if clean_checks:
        print("cleaning checks:", flush=True)
        clean_rows = check_cleaning(cases, corpus, out / "runs", texts)
        write_csv(out / "cleaning.csv", clean_rows)
    table, md = summarize(rows, systems, batch)
    write_csv(out / "results.csv", table)
    header = (
        f"OCR benchmark: {len(cases)} pages ({sum(1 for c in cases if c.kind == 'blank')} blank backsides), "
        f"{os.cpu_count()} CPUs, Tesseract {_tesseract_version()}, one page per run, one thread per run; "
        "text from each system's sidecar.\n\n"
    )
    report = header + md + "\n"
    if clean_rows:
        report += "\nCleaning (scanner.clean on the same pages):\n\n" + clean_summary(clean_rows) + "\n"
    (out / "results.md").write_text(report, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(table, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n" + report)
    return 0


def _tesseract_version() -> str:
    try:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False).stdout
        return out.split()[1] if out else "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main(REPO / "benchmarks" / "out", None, SYSTEMS))
