"""Poppler's failures sorted by whose fault they are: the PDF's, the workstation's, or nobody can tell."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scanner.errors import FaultKind, InputError, ProgramCrashed, ProgramMissing, WorkstationError
from scanner.tools import poppler
from tests.tools.conftest import FakeProgram


def test_pdftoppm_missing_does_not_quarantine_the_citizens_pdf(fake_bin: Path, tmp_path: Path) -> None:
    with pytest.raises(ProgramMissing) as info:
        poppler.render_page(tmp_path / "hồ-sơ.pdf", 1, 200, tmp_path / "p.png")
    assert not isinstance(info.value, InputError)
    assert info.value.package == "poppler-utils" and "poppler-utils" in info.value.message_vi


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_a_broken_pdf_is_the_inputs_fault(tmp_path: Path) -> None:
    """The real pdftoppm: its parse error on a file that only looks like a PDF."""
    bad = tmp_path / "hỏng.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really a PDF")
    with pytest.raises(InputError) as info:
        poppler.render_page(bad, 1, 50, tmp_path / "p.png")
    assert info.value.path == "hỏng.pdf#1" and "Syntax Error" in info.value.message_vi


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('echo "Syntax Error: no xref table" >&2; exit 99', InputError),
        ("exit 3", InputError),
        ('echo "Couldn\'t open file" >&2; exit 2', WorkstationError),
        ("kill -SEGV $$", ProgramCrashed),
        ("exit 99", ProgramCrashed),
    ],
)
def test_the_exit_status_decides_whose_fault(
    fake_program: FakeProgram, tmp_path: Path, body: str, expected: type[Exception]
) -> None:
    fake_program("pdftoppm", body)
    with pytest.raises(expected):
        poppler.render_page(tmp_path / "a.pdf", 1, 200, tmp_path / "p.png")


def test_a_failure_on_a_full_disk_is_the_workstations(
    fake_program: FakeProgram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_program("pdftoppm", "echo 'Syntax Error: something' >&2; exit 99")
    monkeypatch.setattr("scanner.files.LOW_DISK_BYTES", 1 << 62)  # every disk looks full
    with pytest.raises(WorkstationError) as info:
        poppler.render_page(tmp_path / "a.pdf", 1, 200, tmp_path / "p.png")
    assert info.value.kind is FaultKind.DISK_FULL and "ổ đĩa đầy" in info.value.message_vi


def test_pdftotext_reads_stdout(fake_program: FakeProgram, tmp_path: Path) -> None:
    fake_program("pdftotext", "printf 'Giấy khai sinh'")
    assert poppler.pdftotext(tmp_path / "a.pdf") == "Giấy khai sinh"
