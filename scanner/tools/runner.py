"""The one place that starts the project's external programs.

Every wrapper (Tesseract, poppler, PDFBox Preflight through Java) runs its
program through :func:`run`, so that the three questions every child process
raises are answered once:

- *Whose fault is it?* A program that is not on PATH, or cannot be started,
  is the workstation's (:class:`~scanner.errors.ProgramMissing`,
  :class:`~scanner.errors.ProgramFailed`), never the citizen's file's. A run
  past its time limit is ambiguous (:class:`~scanner.errors.ProgramTimeout`).
  A non-zero status is returned to the wrapper, which alone knows whether
  the program's complaint is about the input (a PDF parse error) or not;
  probes whose input is fixed (``--version``) pass ``check=True`` instead.
- *What does the child see?* Only an allow-listed part of our environment
  plus what the wrapper passes. The service keeps the PKCS#12 password or
  a token PIN in its environment; children have no use for it, and what
  they never receive they cannot echo into a log. Nothing secret is passed
  in argv either (argv is visible to every user in ``ps``).
- *What goes into the error?* The last lines of stderr, shortened, with
  control characters removed: enough to diagnose, short enough for a
  clerk's message and a quarantine note.

Versions are read once per binary (cached by its resolved path, so a test
putting a fake program first on PATH gets its own answer) and compared with
the minimum in the program's description by
:func:`scanner.tools.check.check_programs` at start-up.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scanner.errors import FaultKind, ProgramFailed, ProgramMissing, ProgramTimeout, workstation_fault

# What a child inherits from our environment; anything else (the signing
# password, a token PIN, proxy credentials) stays with us.
INHERITED_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "TESSDATA_PREFIX",
    "JAVA_HOME",
)

TAIL_CHARS = 200


@dataclass(frozen=True)
class Program:
    """An external program as the project needs it: how to find it, install it and read its version."""

    command: str  # looked up on PATH
    package: str  # the Debian package that installs it, named in the clerk's message
    label: str  # the name people know it by ("Tesseract")
    version_args: tuple[str, ...] = ("--version",)
    version_pattern: str = r"(\d+(?:\.\d+)+)"  # first group: the dotted version, searched in stdout then stderr
    minimum: tuple[int, ...] = ()  # empty: any version will do


@dataclass(frozen=True)
class Completed:
    """A finished run: the status and both streams, undecoded."""

    program: Program
    returncode: int
    stdout: bytes
    stderr: bytes

    def tail(self) -> str:
        """The end of stderr (or stdout if stderr is empty), short and printable, for an error message."""
        return stderr_tail(self.stderr or self.stdout)


def stderr_tail(data: bytes, *, lines: int = 2) -> str:
    text = data.decode("utf-8", "replace")
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    joined = " | ".join(kept)
    joined = re.sub(r"[\x00-\x1f\x7f]", " ", joined)
    return joined if len(joined) <= TAIL_CHARS else "…" + joined[-(TAIL_CHARS - 1) :]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child runs with: the allow-listed part of ours, then EXTRA."""
    env = {key: os.environ[key] for key in INHERITED_ENV if key in os.environ}
    env.update(extra or {})
    return env


def which(program: Program) -> str:
    """The absolute path of PROGRAM on the current PATH; :class:`ProgramMissing` naming its package if absent."""
    path = shutil.which(program.command, path=os.environ.get("PATH", os.defpath))
    if path is None:
        raise ProgramMissing(program.label, program.package)
    return os.path.abspath(path)


def run(
    program: Program,
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    check: bool = False,
) -> Completed:
    """Run PROGRAM with ARGS and wait at most TIMEOUT seconds; stdin is closed, both streams captured.

    With CHECK, a non-zero status is the program's own failure
    (:class:`ProgramFailed`): use it only where the input cannot be the
    cause. Without it the caller reads ``returncode`` and decides.
    """
    binary = which(program)
    argv = [binary, *(os.fspath(a) for a in args)]
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=child_env(env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProgramTimeout(program.label, timeout) from None
    except FileNotFoundError:  # removed between the PATH lookup and the start
        raise ProgramMissing(program.label, program.package) from None
    except OSError as exc:  # not executable, wrong architecture, out of memory or disk
        fault = workstation_fault(exc)
        if fault is not None:
            raise fault from None
        raise ProgramFailed(
            program.label,
            f"không chạy được {program.label} ({exc.strerror}); cài lại gói {program.package}",
            f"cannot start {program.label} ({exc.strerror}); reinstall {program.package}",
        ) from None
    done = Completed(program, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise ProgramFailed(
            program.label,
            f"{program.label} lỗi (mã {proc.returncode}): {done.tail()}",
            f"{program.label} failed with status {proc.returncode}: {done.tail()}",
        )
    return done


def version(program: Program) -> str:
    """PROGRAM's version as it prints it (``"5.3.0"``); read once per binary."""
    return _version(program, which(program))


@functools.cache
def _version(program: Program, binary: str) -> str:
    done = run(program, program.version_args, timeout=30.0, check=True)
    for stream in (done.stdout, done.stderr):
        found = re.search(program.version_pattern, stream.decode("utf-8", "replace"))
        if found:
            return found.group(1)
    raise ProgramFailed(
        program.label,
        f"không đọc được phiên bản của {program.label}: {done.tail()}",
        f"cannot read the version of {program.label}: {done.tail()}",
    )


def version_tuple(text: str) -> tuple[int, ...]:
    """``"5.3.0"`` → ``(5, 3, 0)``; text after the numbers (``"5.3.0-rc1"``) is ignored."""
    numbers = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(n) for n in numbers.group(0).split(".")) if numbers else ()


def too_old(program: Program, found: str) -> bool:
    return bool(program.minimum) and version_tuple(found) < program.minimum


def outdated_error(program: Program, found: str) -> ProgramFailed:
    need = ".".join(str(n) for n in program.minimum)
    return ProgramFailed(
        program.label,
        f"{program.label} {found} quá cũ, cần từ {need} (nâng cấp gói {program.package})",
        f"{program.label} {found} is too old, {need} or later is needed (upgrade {program.package})",
        kind=FaultKind.PROGRAM_OUTDATED,
    )
