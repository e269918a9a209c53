"""`scanner verify` on a workstation made by `scanner init`: offline, B-B, the default visible mark.

The archive officer's check: every stored file is re-hashed against the
catalog and its signature checked; one flipped byte makes the command exit
1 and name the file.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from scanner.cli import main
from scanner.config import load_config
from tests.conftest import render_lines


@pytest.fixture
def archived(workstation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """One dossier of one generated page through the whole pipeline; the signed PDF's path."""
    page = tmp_path / "giay.png"
    render_lines().save(page, dpi=(200, 200))
    assert main(["--config", str(workstation), "process", str(page), "--counter", "quay-1", "--json"]) == 0
    capsys.readouterr()
    (pdf,) = load_config(workstation).archive.root.rglob("*.01.pdf")
    return pdf


def test_verify_reports_each_check(workstation: Path, archived: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(workstation), "verify", "--all"]) == 0
    out = capsys.readouterr().out
    assert "HỢP LỆ" in out and archived.name in out
    assert "SHA-256: khớp danh mục" in out
    assert "toàn vẹn có, chuỗi tin cậy có, mức B-B" in out
    assert "PDF/A: 2b" in out
    with pikepdf.open(archived) as pdf:  # the default is the visible mark, on page 1
        (widget,) = pdf.pages[0].Annots
        assert float(widget.Rect[2]) > float(widget.Rect[0])


def test_one_flipped_byte_fails_and_names_the_file(
    workstation: Path, archived: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(archived.read_bytes())
    data[len(data) // 3] ^= 0x01  # inside the page image, far from any structure the parser needs
    archived.write_bytes(bytes(data))
    assert main(["--config", str(workstation), "verify", "--all"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("LỖI"))
    assert str(archived) in line
    assert "mã băm SHA-256 khác với danh mục" in out
    assert "nội dung tệp đã bị thay đổi sau khi ký" in out
