"""One process at a time carries a workstation's jobs forward.

Two processes running jobs on one work area take the same file twice, run
the same dossier twice, or pull a job's folder away from under each other
(a red-team pass saw a watcher file `scanner process`'s dossiers while both
`process` runs failed with "No such file or directory"). So whoever runs
jobs — the service, `scanner process`, `scanner backfill` — first takes an
exclusive lock on ``<work>/scanner.lock``. ``flock`` is released by the
kernel when its holder dies, kill -9 included, so a crash never leaves a
stale lock behind. The holder writes who it is into the file, for the
message the next one reads.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scanner.errors import EXIT_WORKSTATION, FaultKind, ScannerError, WorkstationError


class Busy(ScannerError):
    """Another process is carrying this workstation's jobs."""

    exit_code = EXIT_WORKSTATION
    code = "busy"

    def __init__(self, holder: str) -> None:
        super().__init__(
            f"máy trạm đang được một tiến trình khác xử lý ({holder}); mỗi máy trạm chỉ chạy một dịch vụ",
            f"the workstation is busy ({holder}); one service per workstation",
        )
        self.holder = holder


def lock_path(work: Path) -> Path:
    return work / "scanner.lock"


def holder(work: Path) -> str:
    try:
        return lock_path(work).read_text(encoding="utf-8").strip() or "không rõ"
    except OSError:
        return "không rõ"


@contextmanager
def hold(work: Path, purpose: str, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the workstation's job lock while the block runs; raise ``Busy`` if another process keeps it.

    WAIT seconds are spent waiting for it first (a clerk's command that is
    finishing a dossier holds it for a few seconds only).
    """
    work.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock_path(work), os.O_RDWR | os.O_CREAT, 0o640)
    except OSError as exc:
        raise WorkstationError(
            FaultKind.CATALOG_UNAVAILABLE,
            f"không mở được tệp khóa của máy trạm ({exc.strerror})",
            f"cannot open the workstation lock ({exc.strerror})",
        ) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(holder(work)) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{purpose}, pid {os.getpid()}, từ {time.strftime('%d/%m/%Y %H:%M:%S')}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock


def is_held(work: Path) -> bool:
    """Whether some process holds the lock now (a look only: nothing is taken)."""
    return _locked(lock_path(work))


@contextmanager
def receiving(folder: Path) -> Iterator[None]:
    """Mark FOLDER (a job being filled by another process's ``submit``) as alive while the block runs.

    ``submit`` copies a clerk's files without the workstation lock when the
    service runs; the service's start-up recovery drops jobs a crash left
    half-received, and must tell them from one a live process is filling
    (CI saw a recovery delete ``process``'s job folder under its copy). The
    kernel releases the lock with its holder, so a crashed copy is still
    recovered.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def is_receiving(folder: Path) -> bool:
    """Whether a live process is filling FOLDER (see ``receiving``)."""
    return _locked(folder)


def _locked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
