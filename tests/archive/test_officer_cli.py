"""The archive officer at the command line, on a dossier the real pipeline filed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import bagit
import pytest

from scanner.cli import main
from tests.conftest import render_lines

CERTIFICATE = (
    "ỦY BAN NHÂN DÂN",
    "PHƯỜNG BẾN NGHÉ",
    "Số: 123/GXN-UBND",
    "Hà Nội, ngày 05 tháng 02 năm 2024",
    "GIẤY XÁC NHẬN",
    "Họ và tên: Nguyễn Văn Thẩm",
    "Số định danh cá nhân: 001085000123",
    "Giấy khai sinh số 123/2024 được cấp tại phường Bến Nghé.",
)


def test_search_filters_owner_verify_audit_export(
    workstation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "giay-xac-nhan.png"
    render_lines(CERTIFICATE, dpi=200).save(src, dpi=(200, 200))
    cfg = ["--config", str(workstation)]
    assert main([*cfg, "process", str(src), "--counter", "quay-1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    dossier, (doc,) = out["dossier_code"], out["documents"]

    # found with and without diacritics, and through the filters
    for query in ("giấy khai sinh", "giay khai sinh", '"ben nghe"'):
        assert main([*cfg, "search", query, "--json"]) == 0
        assert [h["code"] for h in json.loads(capsys.readouterr().out)["hits"]] == [doc["code"]]
    assert main([*cfg, "search", "khai sinh", "--agency", "000.00.00.H32", "--valid", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1
    assert main([*cfg, "search", "khai sinh", "--agency", "000.00.00.H26", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"] == []
    assert main([*cfg, "search", "--owner", "001085000123", "--json"]) == 0
    assert [h["code"] for h in json.loads(capsys.readouterr().out)["hits"]] == [doc["code"]]
    with pytest.raises(SystemExit) as info:
        main([*cfg, "search", "x", "--from", "2024-13-01"])
    assert info.value.code == 2

    # reuse: the holder printed on the page finds the paper
    assert main([*cfg, "owner", "001085000123", "--json"]) == 0
    (paper,) = json.loads(capsys.readouterr().out)
    root = workstation.parent / "archive"
    assert paper["code"] == doc["code"] and paper["path"] == doc["path"]

    # fixity: every stored file checked and recorded; a flipped byte is reported
    assert main([*cfg, "verify", "--all", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert doc["code"] in {r["code"] for r in report}
    assert any(r["code"].endswith(f"{dossier}/dossier.json") for r in report)  # not only the PDFs
    assert all(r["ok"] for r in report)

    assert main([*cfg, "export", dossier, "--out", str(tmp_path / "bags")]) == 0
    bag = bagit.Bag(capsys.readouterr().out.strip())
    assert bag.is_valid() and f"data/{doc['code']}.pdf" in set(bag.payload_files())

    data = bytearray((root / doc["path"]).read_bytes())
    data[len(data) // 2] ^= 0x01
    (root / doc["path"]).write_bytes(bytes(data))
    assert main([*cfg, "verify", "--all"]) == 1
    assert "SHA-256" in capsys.readouterr().out
    assert main([*cfg, "export", dossier, "--out", str(tmp_path / "bags2")]) == 1

    assert main([*cfg, "delete", dossier, "--reason", "hết thời hạn lưu trữ"]) == 0
    assert main([*cfg, "reindex"]) == 0
    capsys.readouterr()

    # the audit log holds every kind of entry, and an edit behind the program's back is caught
    assert main([*cfg, "audit", "list", "--json", "--limit", "1000"]) == 0
    actions = {e["action"] for e in json.loads(capsys.readouterr().out)}
    assert {"ingest", "view", "verify", "export", "delete-request", "reindex"} <= actions
    assert main([*cfg, "audit", "verify"]) == 0
    capsys.readouterr()
    catalog = next((workstation.parent / "archive").glob("*.sqlite"))
    with sqlite3.connect(catalog) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET actor = 'ai-do' WHERE id = 1")
    assert main([*cfg, "audit", "verify"]) == 1
    assert "mục 1" in capsys.readouterr().out
