"""The start-up check: what an operator is told before the first citizen's file arrives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scanner.errors import FaultKind
from scanner.tools import check_programs, runner
from scanner.tools.poppler import PDFTOPPM
from scanner.tools.tesseract import TESSERACT
from tests.tools.conftest import FakeProgram

TESSERACT_5 = "echo 'tesseract 5.3.0'; echo ' leptonica-1.82.0'"
LANGS_WITHOUT_VIE = "echo 'List of available languages in \"/x/\" (2):'; echo eng; echo osd"


def fake_tesseract(fake_program: FakeProgram, version: str, langs: str) -> None:
    fake_program("tesseract", f'if [ "$1" = --version ]; then {version}; else {langs}; fi')


def test_nothing_installed_names_both_packages(fake_bin: Path) -> None:
    problems = check_programs()
    assert [(p.program, p.package, p.kind) for p in problems] == [
        ("Tesseract", "tesseract-ocr", FaultKind.PROGRAM_MISSING),
        ("pdftoppm", "poppler-utils", FaultKind.PROGRAM_MISSING),
    ]
    assert problems[0].message_vi == "thiếu chương trình Tesseract (cài gói tesseract-ocr)"


def test_a_missing_vie_language_is_reported(fake_program: FakeProgram) -> None:
    fake_tesseract(fake_program, TESSERACT_5, LANGS_WITHOUT_VIE)
    fake_program("pdftoppm", "echo 'pdftoppm version 22.12.0' >&2")
    problems = check_programs(languages_needed=("vie", "osd"))
    assert len(problems) == 1
    assert problems[0].package == "tesseract-ocr-vie" and problems[0].kind is FaultKind.PROGRAM_MISSING
    assert "tesseract-ocr-vie" in problems[0].message_vi


def test_an_old_tesseract_is_reported(fake_program: FakeProgram) -> None:
    fake_tesseract(fake_program, "echo 'tesseract 3.05.02'", LANGS_WITHOUT_VIE)
    (problem,) = check_programs([TESSERACT], languages_needed=())
    assert problem.kind is FaultKind.PROGRAM_OUTDATED and "3.05.02" in problem.message_vi


def test_a_tesseract_that_cannot_list_its_languages_is_broken(fake_program: FakeProgram) -> None:
    fake_tesseract(fake_program, TESSERACT_5, "echo 'cannot read tessdata' >&2; exit 1")
    (problem,) = check_programs([TESSERACT])
    assert problem.kind is FaultKind.PROGRAM_FAILED and "cannot read tessdata" in problem.message_vi
    assert problem.error().kind is FaultKind.PROGRAM_FAILED


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_an_empty_tessdata_prefix_has_no_vie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real Tesseract, pointed at an empty data folder."""
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    problems = check_programs([TESSERACT], languages_needed=("vie",))
    assert [p.package for p in problems] == ["tesseract-ocr-vie"]


@pytest.mark.skipif(
    shutil.which("tesseract") is None or shutil.which("pdftoppm") is None, reason="tesseract or poppler missing"
)
def test_this_workstation_is_ready_when_everything_is_installed() -> None:
    from scanner.tools.tesseract import languages

    if "vie" not in languages():
        pytest.skip("tesseract-ocr-vie is not installed")
    assert check_programs([TESSERACT, PDFTOPPM], languages_needed=("vie",)) == []
    assert runner.version_tuple(runner.version(TESSERACT)) >= TESSERACT.minimum
