"""Tesseract's failures: not installed or a language missing is the workstation's; a crash on a page is the page's."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import FaultKind, OcrError, ProgramMissing, WorkstationError
from scanner.tools import tesseract
from tests.tools.conftest import FakeProgram

LIST_LANGS = "echo 'List of available languages in \"/fake/tessdata/\" (2):'; echo eng; echo osd"


def test_tesseract_missing_names_tesseract_ocr(fake_bin: Path, tmp_path: Path) -> None:
    with pytest.raises(ProgramMissing) as info:
        tesseract.tsv(tmp_path / "p.png", languages=("vie",), dpi=300, timeout=5)
    assert info.value.package == "tesseract-ocr"
    assert "cài gói tesseract-ocr" in info.value.message_vi


def test_a_missing_language_met_on_a_page_is_the_workstations(fake_program: FakeProgram, tmp_path: Path) -> None:
    fake_program("tesseract", "echo \"Failed loading language 'vie'\" >&2; exit 1")
    with pytest.raises(ProgramMissing) as info:
        tesseract.tsv(tmp_path / "p.png", languages=("vie",), dpi=300, timeout=5)
    assert info.value.package == "tesseract-ocr-vie"
    with pytest.raises(WorkstationError):  # OSD must not swallow it: pages would silently stop being turned
        tesseract.osd(tmp_path / "p.png")


def test_a_crash_or_hang_on_a_page_stays_an_ocr_error(fake_program: FakeProgram, tmp_path: Path) -> None:
    fake_program("tesseract", "kill -SEGV $$")
    with pytest.raises(OcrError) as info:
        tesseract.tsv(tmp_path / "p.png", languages=("vie",), dpi=300, timeout=5)
    assert not isinstance(info.value, WorkstationError)
    fake_program("tesseract", "exec /bin/sleep 5")
    with pytest.raises(OcrError, match="quá thời gian"):
        tesseract.tsv(tmp_path / "p.png", languages=("vie",), dpi=300, timeout=0.3)


def test_osd_with_too_few_letters_has_no_opinion(fake_program: FakeProgram, tmp_path: Path) -> None:
    fake_program("tesseract", "echo 'Too few characters. Skipping this page' >&2; exit 1")
    assert tesseract.osd(tmp_path / "p.png") is None
    fake_program("tesseract", "echo 'Rotate: 90'; echo 'Orientation confidence: 7.5'")
    assert tesseract.osd(tmp_path / "p.png") == tesseract.Osd(rotate=90, confidence=7.5)


def test_page_runs_are_single_threaded(fake_program: FakeProgram, tmp_path: Path) -> None:
    fake_program("tesseract", 'echo "threads=$OMP_THREAD_LIMIT"')
    assert tesseract.tsv(tmp_path / "p.png", languages=("vie",), dpi=300, timeout=5).strip() == "threads=1"


def test_check_languages_names_the_package(fake_program: FakeProgram) -> None:
    fake_program("tesseract", LIST_LANGS)
    assert tesseract.languages() == {"eng", "osd"}
    with pytest.raises(ProgramMissing) as info:
        tesseract.check_languages(("vie",))
    assert info.value.kind is FaultKind.PROGRAM_MISSING
    assert info.value.message_vi == "Tesseract thiếu dữ liệu ngôn ngữ vie (cài gói tesseract-ocr-vie)"


def test_a_failed_run_over_many_pages_names_the_page_that_broke_it(fake_program: FakeProgram, tmp_path: Path) -> None:
    # A list run fails as a whole; page by page, only the broken page fails, and the error says which.
    fake_program(
        "tesseract",
        'case "$1" in *.txt) exit 1;; *broken*) kill -SEGV $$;; esac; '
        "echo \"<div class='ocr_page' title='image $1'>\"",
    )
    images = [tmp_path / "trang-1.tif", tmp_path / "broken-2.tif", tmp_path / "trang-3.tif"]
    with pytest.raises(OcrError) as info:
        tesseract.hocr_pages(images, languages=("vie",), dpi=300, timeout=5)
    assert "broken-2.tif" in info.value.message_vi
    read = tesseract.hocr_pages([images[0], images[2]], languages=("vie",), dpi=300, timeout=5)
    assert [page.split("image ")[1].strip().rstrip("'>") for page in read] == [str(images[0]), str(images[2])]
    assert not list(tmp_path.glob(".tesseract-*"))  # the list of pages is not left behind
