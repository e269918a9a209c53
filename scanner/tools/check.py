"""The start-up check of the external programs: is everything installed, and new enough?

Run once when the service or ``scanner ocr`` starts, so that a missing
program is reported to the operator before the first citizen's file
arrives, and never discovered by quarantining that file. Each problem
names the Debian package that fixes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanner.errors import FaultKind, WorkstationError
from scanner.tools import runner
from scanner.tools.poppler import PDFTOPPM
from scanner.tools.tesseract import TESSERACT, language_missing, languages

# What the capture service cannot work without (Java and Preflight are optional).
SERVICE_PROGRAMS: tuple[runner.Program, ...] = (TESSERACT, PDFTOPPM)


@dataclass(frozen=True)
class ProgramProblem:
    """One thing to fix on this workstation, with the Debian package that fixes it."""

    program: str
    package: str
    kind: FaultKind
    message_vi: str
    message_en: str

    @classmethod
    def from_error(cls, program: runner.Program, error: WorkstationError) -> ProgramProblem:
        package = getattr(error, "package", program.package)
        return cls(program.label, package, error.kind, error.message_vi, error.message_en)

    def error(self) -> WorkstationError:
        """The problem as an exception, for a caller that cannot go on without the program."""
        return WorkstationError(self.kind, self.message_vi, self.message_en)


def check_programs(
    programs: Iterable[runner.Program] = SERVICE_PROGRAMS, *, languages_needed: Sequence[str] = ("vie",)
) -> list[ProgramProblem]:
    """Every problem with PROGRAMS: missing, broken, too old, and for Tesseract a missing language.

    LANGUAGES_NEEDED are the Tesseract languages the configuration asks for
    (``ocr.languages``, plus ``"osd"`` when pages are turned upright).
    An empty list means all is well.
    """
    problems: list[ProgramProblem] = []
    for program in programs:
        try:
            found = runner.version(program)
            if runner.too_old(program, found):
                raise runner.outdated_error(program, found)
            if program == TESSERACT:
                have = languages()
                for lang in languages_needed:
                    if lang not in have:
                        problems.append(ProgramProblem.from_error(program, language_missing(lang)))
        except WorkstationError as exc:
            problems.append(ProgramProblem.from_error(program, exc))
    return problems


def require_programs(
    programs: Iterable[runner.Program] = SERVICE_PROGRAMS, *, languages_needed: Sequence[str] = ("vie",)
) -> None:
    """Raise the first problem :func:`check_programs` finds, for a command that cannot start without them."""
    problems = check_programs(programs, languages_needed=languages_needed)
    if problems:
        raise problems[0].error()
