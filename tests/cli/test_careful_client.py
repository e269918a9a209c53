"""The command line as a careful client: it parses and renders, in Vietnamese, and never shows Python's insides."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.archive import Catalog
from scanner.cli import main, parser
from scanner.config import load_config
from tests.archive.helpers import file_document

ROOT = Path(__file__).resolve().parents[2]


def _file(config_path: Path, code: str, text: str, **kw: object) -> str:
    """File CODE straight into the workstation's catalog, with a real stored file; returns its relative path."""
    config = load_config(config_path)
    rel = f"H26/2026/{code}/{code}.01.pdf"
    path = config.archive.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    with Catalog(config.archive.catalog_path) as cat:
        file_document(cat, code, text, sha256=hashlib.sha256(text.encode()).hexdigest(), path=rel, **kw)
    return rel


def _run(workstation: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["--config", str(workstation), *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


def test_search_words_need_no_quotes_and_a_quoted_argument_is_a_phrase(
    workstation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _file(workstation, "Q-261124-0001", "Ủy ban nhân dân phường Bến Nghé xác nhận")
    _file(workstation, "Q-261124-0002", "Nhân dân tổ dân phố đề nghị ủy ban xem xét")
    status, out, _ = _run(workstation, capsys, "search", "ủy", "ban", "nhân", "dân", "--json")
    assert status == 0 and json.loads(out)["total"] == 2
    _, out, _ = _run(workstation, capsys, "search", "ủy ban nhân dân", "--json")  # one shell-quoted argument
    assert [h["code"] for h in json.loads(out)["hits"]] == ["Q-261124-0001.01"]
    _, out, _ = _run(workstation, capsys, "search", '"ủy ban nhân dân"', "--json")  # quotes typed inside
    assert json.loads(out)["total"] == 1
    _, out, _ = _run(workstation, capsys, "search", "ủy", "ban")
    assert out.rstrip().endswith("Tìm thấy 2 văn bản.")


def test_highlights_only_matching_words_in_the_best_passage(
    workstation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filler = " ".join(["Lorem"] * 60)
    _file(workstation, "H-261124-0001", f"Giấy mời. Giày dép. {filler} Giấy khai sinh cấp cho Nguyễn Văn Thẩm")
    _, out, _ = _run(workstation, capsys, "search", "giấy", "khai", "sinh", "--json")
    (hit,) = json.loads(out)["hits"]
    assert "[Giấy] [khai] [sinh]" in hit["snippet"] and "[Giày]" not in hit["snippet"]
    assert hit["snippet"].startswith("…")  # the passage with every word, not the first "Giấy"
    _, out, _ = _run(workstation, capsys, "search", "giay", "--json")
    (hit,) = json.loads(out)["hits"]
    assert "[Giày]" in hit["snippet"]  # typed without marks: every spelling is a match


def test_common_options_before_or_after_the_command(
    workstation: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _file(workstation, "U-261124-0001", "Quyết định")
    monkeypatch.setenv("SCANNER_USER", "hoa")
    assert main(["show", "U-261124-0001", "--config", str(workstation), "--user", "lan", "-v"]) == 0
    assert main(["--user", "minh", "show", "U-261124-0001", "--config", str(workstation)]) == 0
    assert main(["show", "U-261124-0001", "--config", str(workstation)]) == 0
    assert logging.getLogger("pikepdf").getEffectiveLevel() == logging.WARNING  # -v is per run
    capsys.readouterr()
    assert main(["audit", "list", "--limit", "3", "--json", "--config", str(workstation)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["actor"] for e in entries] == ["hoa", "minh", "lan"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", e["time"]) for e in entries)


def test_third_party_chatter_only_with_verbose(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _file(workstation, "L-261124-0001", "Quyết định")
    assert main(["--config", str(workstation), "show", "L-261124-0001"]) == 0
    for name in ("bagit", "fontTools", "pikepdf", "pyhanko", "pyhanko_certvalidator", "watchdog", "PIL", "sqlalchemy"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert main(["--config", str(workstation), "-v", "show", "L-261124-0001"]) == 0
    assert logging.getLogger("bagit").isEnabledFor(logging.DEBUG)


def test_dates_as_clerks_write_them(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _file(workstation, "N-261124-0001", "Giấy xác nhận", issued_date="2024-02-05")
    for since, until in (("01/02/2024", "29/02/2024"), ("2024-02-01", "2024-02-29"), ("1/2/2024", "5/2/2024")):
        _, out, _ = _run(workstation, capsys, "search", "xác nhận", "--from", since, "--to", until, "--json")
        assert json.loads(out)["total"] == 1, (since, until)
    _, out, _ = _run(workstation, capsys, "search", "xác nhận", "--from", "06/02/2024", "--json")
    assert json.loads(out)["total"] == 0
    assert "31/02/2024" in _usage_error(capsys, "search", "x", "--from", "31/02/2024")
    assert _run(workstation, capsys, "report", "--from", "01/01/2024", "--to", "31/12/2024")[0] == 0

    for command in (["search", "x"], ["report"]):
        status, _, err = _run(workstation, capsys, *command, "--from", "01/02/2025", "--to", "2024-01-01")
        assert status == 2
        assert "--from (01/02/2025)" in err and "--to (01/01/2024)" in err


def test_argparse_speaks_vietnamese(capsys: pytest.CaptureFixture[str]) -> None:
    assert "thiếu đối số bắt buộc" in _usage_error(capsys)
    assert "thiếu đối số bắt buộc: MÃ" in _usage_error(capsys, "show")
    err = _usage_error(capsys, "audit", "xem")
    assert "lựa chọn không hợp lệ: 'xem'" in err and "Cách dùng:" in err
    assert "cần một số nguyên" in _usage_error(capsys, "status", "--limit", "mười")
    assert "phải là số nguyên dương" in _usage_error(capsys, "search", "x", "--limit", "0")
    assert "đối số không nhận ra" in _usage_error(capsys, "search", "x", "--khong-co")
    for argv in (["-h"], ["search", "-h"], ["delete", "-h"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "Cách dùng:" in out and "tùy chọn:" in out
        assert not re.search(r"usage:|options:|positional arguments|show this help", out)


def test_every_option_has_vietnamese_help() -> None:
    top = parser()
    (sub,) = [a for a in top._actions if a.dest == "command"]
    for name, command in {"scanner": top, **sub.choices}.items():  # type: ignore[attr-defined]
        for action in command._actions:
            if action.dest == "command":
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}"
            assert re.search(r"[à-ỹđ]", action.help, re.IGNORECASE), f"{name}: {action.help}"


def test_show_reads_like_a_record_not_like_python(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _file(
        workstation,
        "R-261124-0001",
        "Quyết định",
        title="QUYẾT ĐỊNH",
        identifiers=("001085000123", "0301234567"),
        review=("issued_date", "holder_id"),
        issued_date="2024-02-05",
    )
    for code in ("R-261124-0001", "R-261124-0001.01"):
        status, out, _ = _run(workstation, capsys, "show", code)
        assert status == 0
        for label in ("Mã hồ sơ" if code == "R-261124-0001" else "Thuộc hồ sơ", "Tiêu đề", "Số trang", "Chữ ký"):
            assert label in out
        assert "001085000123, 0301234567" in out and "ngày ban hành, số định danh người được cấp" in out
        assert "05/02/2024" in out and "—" in out
        assert not re.search(r"None|\('|\['|\{'|\):|^[a-z_]+: ", out, re.MULTILINE)  # no reprs, no raw keys
    _, out, _ = _run(workstation, capsys, "show", "R-261124-0001")
    assert "Cơ quan" in out and "Thời hạn bảo quản" in out
    _, out, _ = _run(workstation, capsys, "show", "R-261124-0001", "--json")
    shown = json.loads(out)
    assert shown["dossier"]["code"] == "R-261124-0001"
    assert shown["documents"][0]["review"] == ["issued_date", "holder_id"]
    assert shown["documents"][0]["path"] == "H26/2026/R-261124-0001/R-261124-0001.01.pdf"


def test_times_in_the_agency_zone(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.app.officer import agency_time

    assert agency_time("2026-12-01T08:04:00+00:00") == "01/12/2026 15:04 (+07:00)"
    assert agency_time("2026-12-01T15:04:00+07:00") == "01/12/2026 15:04 (+07:00)"
    _file(workstation, "T-261124-0001", "Quyết định")
    _, out, _ = _run(workstation, capsys, "audit", "list", "--limit", "1")
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d \(\+07:00\)", out)


def test_json_paths_are_relative_to_the_archive(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rel = _file(workstation, "J-261124-0001", "Giấy khai sinh", owner="079200000001", title="GIẤY KHAI SINH")
    _, out, _ = _run(workstation, capsys, "search", "khai", "sinh", "--json")
    hit = json.loads(out)["hits"][0]
    assert hit["path"] == rel and hit["title"] == "GIẤY KHAI SINH" and "review" in hit
    _, out, _ = _run(workstation, capsys, "owner", "079200000001", "--json")
    assert [p["path"] for p in json.loads(out)] == [rel]
    _, out, _ = _run(workstation, capsys, "verify", "J-261124-0001", "--json")
    assert [c["path"] for c in json.loads(out)] == [rel]  # (not a signed PDF: it fails, but its path is relative)


def test_deletion_by_two_people_at_the_command_line(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _file(workstation, "X-261124-0001", "Quyết định")
    assert _run(workstation, capsys, "delete", "X-261124-0001", "--reason", "hết hạn", "--user", "lan")[0] == 0
    status, _, err = _run(workstation, capsys, "delete", "X-261124-0001", "--approve", "--user", "lan")
    assert status == 1 and "người thứ hai" in err
    _, out, _ = _run(workstation, capsys, "delete", "--pending", "--json")
    assert [(p["code"], p["requested_by"]) for p in json.loads(out)] == [("X-261124-0001", "lan")]
    assert _run(workstation, capsys, "delete", "X-261124-0001", "--approve", "--user", "minh")[0] == 0
    assert "Không có đề nghị hủy nào" in _run(workstation, capsys, "delete", "--pending")[1]
    assert _run(workstation, capsys, "delete", "X-261124-0001")[0] == 2  # neither --reason nor --approve


def test_a_closed_pipe_ends_quietly(workstation: Path) -> None:
    """``scanner audit list | head -1``: the reader is gone before the first line; no traceback."""
    _file(workstation, "P-261124-0001", "Quyết định")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCANNER_CONFIG": str(workstation)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "audit", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() in (0, 141)
    assert "Traceback" not in err and "BrokenPipeError" not in err
