"""The command line as clerks and scripts use it: names, flags, JSON shapes and exit statuses."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pytest

from scanner.cli import main
from tests.conftest import PAGE_LINES, render_lines, skewed


def _fold_ws(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@pytest.mark.slow
def test_ocr_turns_a_rotated_skewed_page_into_searchable_pdfa(tmp_path: Path) -> None:
    src = tmp_path / "lộn ngược.jpg"
    skewed(render_lines(dpi=300).rotate(180), 3.0).save(src, dpi=(300, 300), quality=90)
    out = tmp_path / "kết quả.pdf"
    assert main(["ocr", str(src), "-o", str(out)]) == 0
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert unicodedata.is_normalized("NFC", text)
    assert _fold_ws(text) == _fold_ws("\n".join(PAGE_LINES))


def test_process_json_search_show_verify(workstation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "scan.png"
    render_lines(dpi=200).save(src, dpi=(200, 200))
    cfg = ["--config", str(workstation)]
    assert main([*cfg, "process", str(src), "--counter", "quay-1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert re.fullmatch(r"[0-9A-Z.]{1,35}-\d{6}-\d{4}", out["dossier_code"])
    assert out["warnings"] == []
    (doc,) = out["documents"]
    assert doc["pages"] == 1 and (workstation.parent / "archive" / doc["path"]).exists()  # relative to the archive

    assert main([*cfg, "search", "Nguyễn Văn Thẩm", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    hits = found["hits"]
    assert found["total"] == 1
    assert hits[0]["code"] == doc["code"] and hits[0]["path"] == doc["path"]
    assert {"code", "title", "path", "snippet", "dossier_code", "type_name", "issued_date", "review"} <= set(hits[0])
    assert "[Thẩm]" in hits[0]["snippet"]

    assert main([*cfg, "show", out["dossier_code"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["documents"][0]["code"] == doc["code"]

    assert main([*cfg, "verify", "--all"]) == 0
    capsys.readouterr()
    data = bytearray((workstation.parent / "archive" / doc["path"]).read_bytes())
    data[len(data) // 3] ^= 0x01
    (workstation.parent / "archive" / doc["path"]).write_bytes(bytes(data))
    assert main([*cfg, "verify", out["dossier_code"]]) == 1
    assert doc["code"] in capsys.readouterr().out


def test_bad_input_exits_1_naming_the_file(
    workstation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "không-phải-ảnh.jpg"
    bad.write_text("xin chào", encoding="utf-8")
    assert main(["--config", str(workstation), "process", str(bad), "--counter", "quay-1", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["dossier_code"] is None
    assert any("không-phải-ảnh.jpg" in w for w in out["warnings"])


def test_usage_and_config_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["process"])
    assert info.value.code == 2
    bad = tmp_path / "x.toml"
    bad.write_text("[archive]\nroot = 1\n", encoding="utf-8")
    assert main(["--config", str(bad), "search", "x"]) == 2
    assert "archive.root" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "none.toml"), "search", "x"]) == 2


def test_unknown_counter_is_a_usage_error(workstation: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    render_lines(dpi=100).save(src)
    assert main(["--config", str(workstation), "process", str(src), "--counter", "quay-9"]) == 2


def test_workstation_files_are_not_readable_by_other_users(tmp_path: Path) -> None:
    """The catalog, archive and quarantine hold citizens' IDs and texts: 0750 folders, 0640 files."""
    import stat

    assert main(["init", "--root", str(tmp_path / "ws")]) == 0
    root = tmp_path / "ws"
    for folder in ("archive", "work", "inbox/quay-1"):
        assert stat.S_IMODE((root / folder).stat().st_mode) & 0o007 == 0, folder
    catalog = next(root.rglob("*.sqlite"))
    assert stat.S_IMODE(catalog.stat().st_mode) & 0o007 == 0
    assert stat.S_IMODE((root / "keys").stat().st_mode) == 0o700


def _text_pdf(path: Path, words: str = "Giay xac nhan da co lop chu") -> Path:
    """A small vector page whose text a reader can copy: a PDF that already has a text layer."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(420, 120))
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 20 Tf 20 55 Td ({words}) Tj ET".encode())
    pdf.save(path)
    return path


def test_ocr_refuses_a_pdf_that_already_has_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _text_pdf(tmp_path / "có chữ.pdf")
    out = tmp_path / "kết quả.pdf"
    assert main(["ocr", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "có chữ.pdf" in err and "PDF đã có lớp chữ" in err and "--force-ocr" in err
    assert not out.exists()


def test_ocr_refuses_a_signed_pdf(workstation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import img2pdf

    from scanner.config import load_config
    from scanner.sign import sign_pdf

    config = load_config(workstation)
    page = tmp_path / "trang.png"
    render_lines(["QUYẾT ĐỊNH"], dpi=100).save(page, dpi=(100, 100))
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(img2pdf.convert(str(page)))
    signed = tmp_path / "đã ký.pdf"
    sign_pdf(plain, signed, pkcs12=config.signing.pkcs12, password=config.signing.password())
    out = tmp_path / "kết quả.pdf"
    assert main(["ocr", str(signed), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "đã ký.pdf" in err and "PDF đã được ký số — làm lại sẽ làm mất chữ ký" in err
    assert not out.exists()


@pytest.mark.parametrize("flag", ["--force-ocr", "--redo-ocr"])
def test_ocr_reads_a_pdf_with_text_again_when_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    src = _text_pdf(tmp_path / "có chữ.pdf", "SO HOA 2026")
    out = tmp_path / "kết quả.pdf"
    assert main(["ocr", str(src), "-o", str(out), "-l", "eng", "--jobs", "1", flag]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "SO HOA 2026" in text
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1


def test_ocr_skip_text_leaves_such_files_out_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = _text_pdf(tmp_path / "có chữ.pdf")
    scan = tmp_path / "quét.png"
    render_lines(["SO HOA"], dpi=150).save(scan, dpi=(150, 150))
    out = tmp_path / "kết quả.pdf"
    assert main(["ocr", str(done), str(scan), "-o", str(out), "--skip-text", "--jobs", "1"]) == 0
    assert "có chữ.pdf: bỏ qua, PDF đã có lớp chữ" in capsys.readouterr().err
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1  # only the scan

    out.unlink()
    assert main(["ocr", str(done), "-o", str(out), "--skip-text"]) == 1
    err = capsys.readouterr().err
    assert "không còn tệp nào để nhận dạng" in err and "có chữ.pdf: bỏ qua" in err
    assert not out.exists()
    with pytest.raises(SystemExit) as usage:
        main(["ocr", str(done), "-o", str(out), "--skip-text", "--force-ocr"])  # one choice at a time
    assert usage.value.code == 2
