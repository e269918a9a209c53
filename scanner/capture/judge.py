"""Opening a citizen's file in a child process, so that a hostile file costs its own job and never the service.

:mod:`scanner.capture.load` bounds every decode it knows of before it
starts; this module is the backstop for the ones it does not know of (a
decoder bug, a format trick nobody has thought of yet). The whole opening of
one file — its pages written out, their barcodes read, its signatures
counted — runs in a child process that limits itself, before it touches the
file, to ``memory_mb`` of address space (``RLIMIT_AS``, inherited by the
pdftoppm it starts) and ``seconds`` of CPU time (``RLIMIT_CPU``; pdftoppm
gets the same budget per page). CPU time is the file's own measure: on a
machine busy with OCR a normal file's wall time stretches, its CPU time does
not. The parent still waits at most twice ``seconds`` (plus start-up) of
wall time, for a child that is stuck without using the CPU. A file that
blows a limit ends as an :class:`InputError` with its own code
(``decode-limit``, ``decode-timeout``) and goes to quarantine; the watcher,
which used to die every ten seconds on the same 3 KB PDF, is untouched.

Why a ``python -P -m scanner.capture.judge`` child started through
:mod:`scanner.tools.runner`, and not :mod:`multiprocessing`:

- the child parses hostile bytes, so it gets the runner's allow-listed
  environment: the signing password or token PIN that the service keeps in
  its own environment never reaches it (``spawn`` and ``forkserver``
  children inherit the whole environment; ``fork`` would also copy the
  watcher's threads and open catalog);
- the answer comes back as a small JSON document that the parent checks
  field by field (page files must lie in the job's page folder), never as
  a pickle, which a child subverted by its input could forge into code;
- whose fault a dead child is follows the runner's rules: Python missing or
  unable to start is the workstation's (:class:`WorkstationError`), never
  the file's;
- the price is Python's start-up and imports, about 0.2 s per file (see
  ``benchmarks/hostile``), small beside OCR's seconds per page.

A child that dies without answering is judged by how it died: killed for
CPU time is ``decode-timeout``; a crash whose last words are an allocation
failure is ``decode-limit``; any other crash is ambiguous
(:class:`ProgramCrashed`, counted as an attempt, as for any program); an
ordinary non-zero exit without an answer means our own program could not
run (an import failed) and is the workstation's.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import scanner
from scanner.capture.barcodes import Receipt, parse_receipt, read_codes
from scanner.capture.load import LoadLimits, first_page, load_pages, out_of_memory, pdf_signatures
from scanner.errors import (
    FaultKind,
    InputError,
    InputReason,
    ProgramCrashed,
    ProgramFailed,
    ProgramMissing,
    ProgramTimeout,
    ScannerError,
    WorkstationError,
    workstation_fault,
)
from scanner.model import PageImage, SourceFile
from scanner.tools import runner

DEFAULT_MEMORY_MB = 1024
DEFAULT_SECONDS = 60.0
PEEK_SECONDS = 15.0
HEADROOM_BYTES = 128 * 1024 * 1024  # a 200 dpi A4 colour page, decoded and re-encoded, with room to spare
STARTUP_SECONDS = 5.0  # the child's imports, on a loaded machine; not charged to the file

PYTHON = runner.Program(command=sys.executable, package="python3", label="Python (trình mở tệp)")

# How an allocation failure reads when it kills a process instead of raising MemoryError.
_OUT_OF_MEMORY = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory", "Out of memory")


@dataclass(frozen=True)
class Opened:
    """One file opened: its pages, the barcode texts read on each, and whether it arrived signed."""

    pages: tuple[PageImage, ...]
    codes: tuple[tuple[str, ...], ...]
    signed: bool


def open_isolated(
    src: SourceFile,
    out_dir: Path,
    limits: LoadLimits,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    seconds: float = DEFAULT_SECONDS,
) -> Opened:
    """Open SRC into OUT_DIR in a child limited to MEMORY_MB and SECONDS, as ``load_pages`` would in-process.

    Raises :class:`InputError` for the file's faults (every code of
    ``load_pages``, plus ``decode-limit`` and ``decode-timeout``),
    :class:`WorkstationError` when the child cannot run at all,
    :class:`ProgramCrashed` when it dies in a way that names no culprit, and
    ``OSError`` as the child met it (so a full disk is still told apart by
    :func:`scanner.errors.workstation_fault`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    request = {
        "mode": "open",
        "path": str(src.path),
        "name": src.original_name,
        "sha256": src.sha256,
        "size": src.size,
        "out_dir": str(out_dir),
        "limits": asdict(limits),
    }
    answer = _run_child(request, src.original_name, memory_mb, seconds)
    return _opened(answer, out_dir, src.original_name)


def peek_receipt_isolated(
    path: Path,
    limits: LoadLimits,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    seconds: float = PEEK_SECONDS,
) -> Receipt | None:
    """The receipt whose QR code is on PATH's first page, read in a limited child; None when there is none.

    A peek never fails the take — a file that cannot be peeked at is opened
    in full later and quarantined then, with its reason — so every fault of
    the file gives None. Only a workstation fault (the child cannot run) is
    raised, because the full opening would meet it too.
    """
    request = {"mode": "peek", "path": str(path), "limits": asdict(limits)}
    try:
        answer = _run_child(request, path.name, memory_mb, seconds)
    except WorkstationError:
        raise
    except (ScannerError, OSError):
        return None
    texts = answer.get("codes")
    if not isinstance(texts, list):
        return None
    for text in texts:
        receipt = parse_receipt(text) if isinstance(text, str) else None
        if receipt is not None:
            return receipt
    return None


def _run_child(request: dict[str, Any], name: str, memory_mb: int, seconds: float) -> dict[str, Any]:
    request = {**request, "memory_mb": memory_mb, "seconds": seconds}
    # the child imports exactly the code the parent runs, wherever that lives
    package_root = str(Path(scanner.__file__).resolve().parent.parent)
    env = {"PYTHONPATH": package_root, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    try:
        done = runner.run(
            PYTHON,
            ["-P", "-m", "scanner.capture.judge", json.dumps(request)],
            timeout=2 * seconds + STARTUP_SECONDS,
            env=env,
        )
    except ProgramTimeout:
        raise _timeout(name, seconds) from None
    answer = _answer(done.stdout)
    if answer is not None:
        _raise_error(answer, name, memory_mb, seconds)
        return answer
    said = done.stderr.decode("utf-8", "replace")
    if done.returncode == -signal.SIGXCPU:
        raise _timeout(name, seconds)
    if done.returncode < 0:
        if any(words in said for words in _OUT_OF_MEMORY):
            raise _memory(name, memory_mb)
        raise ProgramCrashed(
            PYTHON.label,
            f"{name}: trình mở tệp dừng bất thường (tín hiệu {-done.returncode}): {done.tail() or '?'}",
            f"{name}: the file opener stopped abnormally (signal {-done.returncode}): {done.tail() or '?'}",
        )
    raise ProgramFailed(
        PYTHON.label,
        f"trình mở tệp không chạy được (mã {done.returncode}): {done.tail() or '?'} — cài đặt lại chương trình",
        f"the file opener cannot run (status {done.returncode}): {done.tail() or '?'} — reinstall the program",
    )


def _answer(stdout: bytes) -> dict[str, Any] | None:
    lines = stdout.strip().splitlines()
    if not lines:
        return None
    try:
        answer = json.loads(lines[-1])
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _timeout(name: str, seconds: float) -> InputError:
    return InputError(
        name,
        f"mở tệp quá thời gian cho phép ({seconds:g} giây)",
        f"opening the file took longer than allowed ({seconds:g} s)",
        code=InputReason.DECODE_TIMEOUT,
    )


def _memory(name: str, memory_mb: int) -> InputError:
    return InputError(
        name,
        f"tệp cần quá nhiều bộ nhớ để mở (quá {memory_mb} MB)",
        f"opening the file needs too much memory (over {memory_mb} MB)",
        code=InputReason.DECODE_LIMIT,
    )


def _text(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    return value if isinstance(value, str) else ""


def _raise_error(answer: dict[str, Any], name: str, memory_mb: int, seconds: float) -> None:
    """Raise what the child's answer reports, rebuilt from plain fields; nothing if it reports success."""
    error = answer.get("error")
    if error is None:
        return
    vi, en = _text(answer, "vi"), _text(answer, "en")
    if error == "input":
        code = _text(answer, "code")
        known = code if code in InputReason._value2member_map_ else InputReason.INPUT
        raise InputError(_text(answer, "path") or name, vi, en, code=known)
    if error == "memory":
        raise _memory(name, memory_mb)
    if error == "timeout":
        raise _timeout(name, seconds)
    if error == "missing":
        raise ProgramMissing(_text(answer, "program"), _text(answer, "package"), vi, en)
    if error == "workstation":
        kind = _text(answer, "kind")
        fault = FaultKind(kind) if kind in FaultKind._value2member_map_ else FaultKind.PROGRAM_FAILED
        raise WorkstationError(fault, vi, en)
    if error == "os":
        number = answer.get("errno")
        raise OSError(number if isinstance(number, int) else 0, _text(answer, "strerror"), _text(answer, "filename"))
    if error == "scanner":
        raise ScannerError(vi, en, code=_text(answer, "code") or None)
    raise ProgramCrashed(_text(answer, "program") or PYTHON.label, vi or f"{name}: lỗi khi mở tệp", en)


def _opened(answer: dict[str, Any], out_dir: Path, name: str) -> Opened:
    """The child's pages, believed only where they are plausible: files in OUT_DIR, sizes positive."""
    folder = out_dir.resolve()
    try:
        pages = tuple(
            PageImage(
                path=Path(p["path"]),
                width=int(p["width"]),
                height=int(p["height"]),
                dpi=float(p["dpi"]),
                source=str(p["source"]),
            )
            for p in answer["pages"]
        )
        codes = tuple(tuple(str(t) for t in texts) for texts in answer["codes"])
        signed = bool(answer["signed"])
    except (KeyError, TypeError, ValueError):
        pages, codes, signed = (), (), False
    plausible = (
        bool(pages)
        and len(codes) == len(pages)
        and all(p.path.resolve().parent == folder and p.path.is_file() and p.width > 0 and p.height > 0 for p in pages)
    )
    if not plausible:
        raise ProgramCrashed(
            PYTHON.label,
            f"{name}: trình mở tệp trả về kết quả không hợp lệ",
            f"{name}: the file opener returned an invalid result",
        )
    return Opened(pages=pages, codes=codes, signed=signed)


# ---- the child ---------------------------------------------------------------------------------------------------


def _limit_self(memory_mb: int, seconds: float) -> None:
    """Cap this process and whatever it starts, before the file is touched.

    A cap below what the child already uses (with room for a normal page)
    would refuse every file as too big: that is a setting's fault, told as
    the workstation's.
    """
    in_use = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    need_mb = math.ceil((in_use + HEADROOM_BYTES) / 1048576)
    if memory_mb < need_mb:
        raise WorkstationError(
            FaultKind.PROGRAM_FAILED,
            f"giới hạn bộ nhớ để mở tệp ({memory_mb} MB) quá thấp, cần ít nhất {need_mb} MB — sửa cấu hình",
            f"the memory limit for opening files ({memory_mb} MB) is too low, at least {need_mb} MB is needed",
        )
    _lower(resource.RLIMIT_AS, memory_mb * 1024 * 1024, 0)
    _lower(resource.RLIMIT_CPU, max(1, math.ceil(seconds)), 5)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU dumps core by default: a gigabyte per hostile file


def _lower(kind: int, soft: int, grace: int) -> None:
    """Set a limit, never above the one the service itself runs under (``prlimit``, systemd's ``LimitAS``)."""
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
        resource.setrlimit(kind, (soft, min(soft + grace, hard)))
    else:
        resource.setrlimit(kind, (soft, soft + grace))


def _work(request: dict[str, Any]) -> dict[str, Any]:
    seconds = float(request["seconds"])
    limits = LoadLimits(**request["limits"])
    limits = replace(limits, render_seconds=min(limits.render_seconds, seconds))
    if request["mode"] == "peek":
        image = first_page(Path(request["path"]), limits)
        return {"codes": read_codes(image) if image is not None else []}
    src = SourceFile(Path(request["path"]), request["name"], request["sha256"], int(request["size"]))
    pages = load_pages(src, Path(request["out_dir"]), limits)
    return {
        "pages": [{**asdict(p), "path": str(p.path)} for p in pages],
        "codes": [read_codes(p.path) for p in pages],
        "signed": pdf_signatures(src.path) > 0,
    }


def _unprefixed(message: str, path: str) -> str:
    return message.removeprefix(f"{path}: ")


def _describe(exc: BaseException) -> dict[str, Any]:
    """EXC as plain fields the parent can rebuild it from."""
    if out_of_memory(exc):
        return {"error": "memory"}
    if isinstance(exc, InputError):
        return {
            "error": "input",
            "path": exc.path,
            "code": str(exc.code),
            "vi": _unprefixed(exc.message_vi, exc.path),
            "en": _unprefixed(exc.message_en, exc.path),
        }
    if isinstance(exc, ProgramTimeout):
        return {"error": "timeout"}
    if isinstance(exc, ProgramMissing):
        return {
            "error": "missing",
            "program": exc.program,
            "package": exc.package,
            "vi": exc.message_vi,
            "en": exc.message_en,
        }
    if isinstance(exc, WorkstationError):
        return {"error": "workstation", "kind": str(exc.kind), "vi": exc.message_vi, "en": exc.message_en}
    if isinstance(exc, ProgramCrashed):
        return {"error": "crashed", "program": exc.program, "vi": exc.message_vi, "en": exc.message_en}
    if isinstance(exc, ScannerError):
        return {"error": "scanner", "code": str(exc.code), "vi": exc.message_vi, "en": exc.message_en}
    if isinstance(exc, OSError):
        fault = workstation_fault(exc)
        if fault is not None:
            return {"error": "workstation", "kind": str(fault.kind), "vi": fault.message_vi, "en": fault.message_en}
        return {
            "error": "os",
            "errno": exc.errno,
            "strerror": exc.strerror or str(exc),
            "filename": str(exc.filename or ""),
        }
    detail = f"{type(exc).__name__}: {exc}"[:200]
    return {
        "error": "crashed",
        "vi": f"lỗi không lường trước khi mở tệp ({detail})",
        "en": f"unexpected error ({detail})",
    }


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # what libraries print must not be mistaken for the answer
    try:
        _limit_self(int(request["memory_mb"]), float(request["seconds"]))
        answer = _work(request)
    except BaseException as exc:  # noqa: BLE001 — every failure becomes an answer; the parent decides whose it is
        answer = _describe(exc)
    os.write(answer_fd, (json.dumps(answer, ensure_ascii=False) + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
