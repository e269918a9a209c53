"""The red team's sqlite3 session, replayed: every edit behind the program's back must fail a check.

Two real dossiers are filed once by ``scanner process`` (signed with the
workstation's test identity); each test works on a copy, edits the catalog
file with the sqlite3 module as someone with the file and a shell would,
and runs ``scanner verify`` or ``scanner audit verify``: exit 1 and a
message naming what and where.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scanner.archive.catalog.custody import GENESIS, audit_hash
from scanner.cli import main
from tests.conftest import render_lines

Run = Callable[..., tuple[int, str]]  # CLI arguments in, (exit status, what was printed) out

THAM = "001085000123"
LAN = "056090000456"


def _paper(name: str, ident: str, number: str) -> tuple[str, ...]:
    return (
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG BẾN NGHÉ",
        f"Số: {number}/GXN-UBND",
        "Hà Nội, ngày 05 tháng 02 năm 2024",
        "GIẤY XÁC NHẬN",
        f"Họ và tên: {name}",
        f"Số định danh cá nhân: {ident}",
    )


@dataclass(frozen=True)
class Doc:
    code: str
    dossier: str
    path: str  # relative to the archive root
    holder_id: str


@dataclass(frozen=True)
class Filed:
    config: Path
    root: Path  # the archive root
    catalog: Path
    docs: tuple[Doc, ...]

    def cli(self, *args: str) -> list[str]:
        return ["--config", str(self.config), *args]


@pytest.fixture(scope="module")
def _filed_template(_workstation_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Filed:
    base = tmp_path_factory.mktemp("tamper")
    ws = base / "ws"
    shutil.copytree(_workstation_template, ws, symlinks=True)
    config = ws / "scanner.toml"
    text = config.read_text(encoding="utf-8")
    text = (
        text.replace('mode = "flagged"', 'mode = "never"', 1)
        if "\n[review]" in text
        else text + ('\n[review]\nmode = "never"\n')
    )
    config.write_text(text, encoding="utf-8")
    docs = []
    for name, ident, number in (("Nguyễn Văn Thẩm", THAM, "123"), ("Trần Thị Lan", LAN, "124")):
        src = base / f"{ident}.png"
        render_lines(_paper(name, ident, number), dpi=150).save(src, dpi=(150, 150))
        args = ["--config", str(config), "process", str(src), "--counter", "quay-1", "--json"]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(args) == 0
        filed = json.loads(buf.getvalue())
        (doc,) = filed["documents"]
        docs.append(Doc(doc["code"], filed["dossier_code"], doc["path"], ident))
    root = ws / "archive"
    (catalog,) = root.glob("*.sqlite")
    return Filed(config, root, catalog, tuple(docs))


@pytest.fixture
def filed(_filed_template: Filed, tmp_path: Path) -> Filed:
    ws = tmp_path / "ws"
    shutil.copytree(_filed_template.config.parent, ws, symlinks=True)
    root = ws / "archive"
    return Filed(ws / "scanner.toml", root, root / _filed_template.catalog.name, _filed_template.docs)


@pytest.fixture
def run(filed: Filed, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(filed.cli(*args))
        out = capsys.readouterr()
        return code, out.out + out.err

    return go


def _sql(filed: Filed, *statements: tuple[str, tuple[object, ...]] | str) -> None:
    """What the red team typed into the sqlite3 shell."""
    db = sqlite3.connect(filed.catalog)
    try:
        for s in statements:
            sql, params = (s, ()) if isinstance(s, str) else s
            db.execute(sql, params)
        db.commit()
    finally:
        db.close()


def _sha(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


# --- the clean archive passes ------------------------------------------------------------------------


def test_an_untouched_archive_passes_every_check(filed: Filed, run: Run) -> None:
    code, out = run("verify", "--all")
    assert code == 0, out
    assert "4/4 tệp hợp lệ" in out
    code, out = run("audit", "checkpoint")
    assert code == 0, out
    code, out = run("audit", "verify")
    assert code == 0, out
    assert re.search(r"\d+ điểm neo đã ký còn khớp", out)  # the first filing wrote one too


# --- 1. a signed PDF copied over another's, hashes updated --------------------------------------------


def test_a_pdf_copied_over_another_is_caught_by_its_signed_codes(filed: Filed, run: Run) -> None:
    a, b = filed.docs
    shutil.copyfile(filed.root / b.path, filed.root / a.path)
    sha, size = _sha(filed.root / a.path)
    _sql(
        filed,
        ("UPDATE files SET sha256 = ?, size = ? WHERE path = ?", (sha, size, a.path)),
        ("UPDATE documents SET sha256 = ?, size = ? WHERE code = ?", (sha, size, a.code)),
    )
    code, out = run("verify", a.dossier)
    assert code == 1
    assert f"danh mục ghi mã văn bản {a.code}, tệp đã ký ghi {b.code}" in out
    assert f"danh mục ghi mã hồ sơ {a.dossier}, tệp đã ký ghi {b.dossier}" in out
    assert "chép đè" in out and str(filed.root / a.path) in out
    assert "SHA-256: khớp danh mục" in out  # the hash alone would have passed


# --- 2. the holder or the title edited in the catalog -------------------------------------------------


def test_a_holder_moved_to_another_citizen_is_caught(filed: Filed, run: Run) -> None:
    a, _ = filed.docs
    _sql(
        filed,
        ("UPDATE documents SET holder_id = ?, holder_name = 'Trần Thị Lan' WHERE code = ?", (LAN, a.code)),
        ("UPDATE owners SET owner_id = ? WHERE document_code = ? AND role = 'holder'", (LAN, a.code)),
    )
    code, out = run("owner", LAN, "--json")
    assert a.code in out  # what the red team wanted: Thẩm's paper offered as Lan's
    code, out = run("verify", a.code)
    assert code == 1
    assert f"danh mục ghi số định danh người được cấp {LAN}, tệp đã ký ghi {THAM}" in out
    assert "danh mục ghi người được cấp Trần Thị Lan, tệp đã ký ghi Nguyễn Văn Thẩm" in out
    assert f"bảng chủ sở hữu ghi người được cấp là {LAN}, tệp đã ký ghi {THAM}" in out


def test_an_owner_link_alone_edited_is_caught(filed: Filed, run: Run) -> None:
    a, _ = filed.docs
    _sql(filed, ("UPDATE owners SET owner_id = ? WHERE document_code = ? AND role = 'holder'", (LAN, a.code)))
    code, out = run("verify", "--all")
    assert code == 1
    assert f"bảng chủ sở hữu ghi người được cấp là {LAN}, tệp đã ký ghi {THAM}" in out


def test_a_citizen_named_in_the_catalog_but_not_on_the_signed_paper_is_caught(filed: Filed, run: Run) -> None:
    """The identifiers are not in the XMP; they are in the signed OCR layer, where they were read from."""
    a, _ = filed.docs
    _sql(
        filed,
        ("UPDATE documents SET identifiers = ? WHERE code = ?", (json.dumps([THAM, LAN]), a.code)),
        ("INSERT INTO owners VALUES (?, ?, ?, 'named')", (LAN, a.dossier, a.code)),
    )
    code, out = run("verify", a.code)
    assert code == 1
    assert f"danh mục ghi văn bản có số định danh {LAN}, nội dung văn bản đã ký không có số này" in out
    assert f"số định danh {THAM}," not in out


def test_an_edited_title_and_validity_are_caught(filed: Filed, run: Run) -> None:
    a, _ = filed.docs
    _sql(
        filed,
        ("UPDATE documents SET title = 'Giấy chứng nhận quyền sử dụng đất', valid_until = '2099-12-31' "
         "WHERE code = ?", (a.code,)),
    )  # fmt: skip
    code, out = run("verify", a.code)
    assert code == 1
    assert "danh mục ghi tiêu đề Giấy chứng nhận quyền sử dụng đất, tệp đã ký ghi Giấy xác nhận" in out
    assert "danh mục ghi hiệu lực đến 2099-12-31, tệp đã ký ghi (trống)" in out


def test_metadata_changed_in_an_update_after_the_signature_is_caught(filed: Filed, run: Run) -> None:
    """An incremental update may rewrite the XMP a viewer shows; verify reads what the signature covers."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    a, _ = filed.docs
    path = filed.root / a.path
    with path.open("rb") as f:
        writer = IncrementalPdfFileWriter(f, strict=False)
        xmp = writer.root["/Metadata"].get_object().data.replace(THAM.encode(), LAN.encode())
        kind = {
            generic.pdf_name("/Type"): generic.pdf_name("/Metadata"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/XML"),
        }
        stream = generic.StreamObject(kind, stream_data=xmp)
        writer.root[generic.pdf_name("/Metadata")] = writer.add_object(stream)
        writer.update_root()
        out_buf = io.BytesIO()
        writer.write(out_buf)
    path.write_bytes(out_buf.getvalue())
    sha, size = _sha(path)
    _sql(
        filed,
        ("UPDATE files SET sha256 = ?, size = ? WHERE path = ?", (sha, size, a.path)),
        ("UPDATE documents SET sha256 = ?, size = ?, holder_id = ? WHERE code = ?", (sha, size, LAN, a.code)),
    )
    code, out = run("verify", a.code)
    assert code == 1
    assert "siêu dữ liệu XMP của tệp đã bị sửa sau khi ký" in out
    assert f"danh mục ghi số định danh người được cấp {LAN}, tệp đã ký ghi {THAM}" in out


# --- 3. a dossier's rows deleted: its folder is an orphan ---------------------------------------------


def test_a_dossier_deleted_from_the_catalog_leaves_a_reported_orphan(filed: Filed, run: Run) -> None:
    a, b = filed.docs
    _sql(
        filed,
        ("DELETE FROM owners WHERE dossier_code = ?", (a.dossier,)),
        ("DELETE FROM files WHERE dossier_code = ?", (a.dossier,)),
        ("DELETE FROM index_outbox WHERE code = ?", (a.code,)),
        ("DELETE FROM documents WHERE dossier_code = ?", (a.dossier,)),
        ("DELETE FROM dossiers WHERE code = ?", (a.dossier,)),
    )
    code, out = run("verify", "--all")
    assert code == 1
    folder = a.path.rsplit("/", 1)[0]
    assert f"HỒ SƠ MỒ CÔI  {folder}" in out
    assert f"thư mục hồ sơ {folder} (2 tệp) không có trong danh mục (hồ sơ mồ côi)" in out
    assert f"hồ sơ {a.dossier} đã được lưu trữ (nhật ký kiểm toán mục" in out
    assert b.code not in out.split("HỢP LỆ")[0]  # the other dossier is still fine
    code, out = run("verify", "--all", "--json")
    roles = {r["role"] for r in json.loads(out) if not r["ok"]}
    assert roles == {"orphan", "catalog"}


# --- 4. strays: files nobody filed -------------------------------------------------------------------


def test_files_dropped_into_the_archive_are_strays(filed: Filed, run: Run) -> None:
    a, _ = filed.docs
    folder = a.path.rsplit("/", 1)[0]
    (filed.root / folder / "bo-sung.pdf").write_bytes(b"%PDF-1.4 not filed")
    (filed.root / "ghi-chu.txt").write_text("ai đó để lại", encoding="utf-8")
    code, out = run("verify", "--all")
    assert code == 1
    assert f"tệp lạ trong thư mục hồ sơ {folder}: danh mục không ghi tệp {folder}/bo-sung.pdf" in out
    assert "tệp lạ trong kho lưu trữ: danh mục không ghi tệp ghi-chu.txt" in out
    assert out.count("TỆP LẠ") == 2


def test_a_dossier_folder_moved_in_the_catalog_is_reported(filed: Filed, run: Run) -> None:
    a, _ = filed.docs
    _sql(filed, ("UPDATE dossiers SET path = 'khac/2026/x' WHERE code = ?", (a.dossier,)))
    code, out = run("verify", "--all")
    assert code == 1
    assert f"danh mục ghi thư mục của hồ sơ {a.dossier} là khac/2026/x, thư mục này không có trong kho" in out


def test_a_listed_file_that_is_gone_is_reported(filed: Filed, run: Run) -> None:
    a, _ = filed.docs
    (filed.root / a.path).unlink()
    code, out = run("verify", "--all")
    assert code == 1
    assert "tệp không còn trong kho lưu trữ" in out and str(filed.root / a.path) in out


# --- 5. the audit chain rewritten end to end ---------------------------------------------------------


def _rewrite_chain(
    filed: Filed, *, drop_last: int = 0, actor: str | None = None, action: str = "", time: str = ""
) -> None:
    """Drop the guards, remove the last entries (or those of ACTION), reset the counter, recompute every hash."""
    db = sqlite3.connect(filed.catalog)
    try:
        db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        if drop_last:
            db.execute("DELETE FROM audit WHERE id > (SELECT MAX(id) FROM audit) - ?", (drop_last,))
        if action:
            db.execute("DELETE FROM audit WHERE action = ?", (action,))
            ids = [r[0] for r in db.execute("SELECT id FROM audit ORDER BY id")]
            for new_id, old_id in enumerate(ids, start=1):
                db.execute("UPDATE audit SET id = ? WHERE id = ?", (new_id, old_id))
        if actor is not None:
            db.execute("UPDATE audit SET actor = ? WHERE id = 1", (actor,))
        if time:
            db.execute("UPDATE audit SET time = ?", (time,))
        prev = GENESIS
        rows = db.execute("SELECT id, time, action, subject, actor, detail FROM audit ORDER BY id").fetchall()
        for row in rows:
            h = audit_hash(*row, prev)
            db.execute("UPDATE audit SET prev = ?, hash = ? WHERE id = ?", (prev, h, row[0]))
            prev = h
        db.execute("UPDATE sqlite_sequence SET seq = (SELECT MAX(id) FROM audit) WHERE name = 'audit'")
        db.commit()
    finally:
        db.close()


def test_a_recomputed_chain_passes_its_own_check_but_not_the_signed_checkpoint(filed: Filed, run: Run) -> None:
    assert run("audit", "checkpoint")[0] == 0
    _rewrite_chain(filed, actor="ai-do")
    from scanner.archive import Catalog

    with Catalog(filed.catalog) as catalog:
        assert catalog.verify_audit() == []  # the chain alone is fooled
    code, out = run("audit", "verify")
    assert code == 1
    assert "nhật ký kiểm toán đã bị sửa: mục" in out and "không còn khớp với điểm neo ký ngày" in out
    assert "checkpoint-000001.json" in out


def test_a_removed_tail_with_the_counter_reset_is_caught(filed: Filed, run: Run) -> None:
    assert run("show", filed.docs[0].dossier)[0] == 0
    assert run("audit", "checkpoint")[0] == 0
    newest = sorted((filed.root / ".audit").glob("checkpoint-*.json"))[-1]  # filing writes its own too
    checkpoint = json.loads(newest.read_text(encoding="utf-8"))
    _rewrite_chain(filed, drop_last=3)  # the checkpoint's entry, the one it anchors and the one before
    code, out = run("audit", "verify")
    assert code == 1
    assert f"mục {checkpoint['last_id']} không còn trong cơ sở dữ liệu, dù điểm neo ký ngày" in out


def test_every_checkpoint_removed_with_its_entries_is_caught_once_the_log_is_a_day_old(filed: Filed, run: Run) -> None:
    assert run("audit", "checkpoint")[0] == 0
    shutil.rmtree(filed.root / ".audit")
    _rewrite_chain(filed, action="audit-checkpoint")
    code, out = run("audit", "verify")
    assert code == 0 and "Lưu ý: nhật ký kiểm toán có mục từ" in out  # a new log: not yet a fault
    _rewrite_chain(filed, time="2026-01-05T08:00:00+07:00")
    code, out = run("audit", "verify")
    assert code == 1
    assert "nhật ký kiểm toán có mục từ 05/01/2026 08:00 (+07:00) nhưng không có điểm neo đã ký nào" in out


def test_a_forged_or_removed_checkpoint_is_caught(filed: Filed, run: Run) -> None:
    for _ in range(2):
        assert run("audit", "checkpoint")[0] == 0
    first = filed.root / ".audit" / "checkpoint-000001.json"
    first.write_text(first.read_text(encoding="utf-8").replace('"count": ', '"count": 1'), encoding="utf-8")
    (filed.root / ".audit" / "checkpoint-000002.json").unlink()
    (filed.root / ".audit" / "checkpoint-000002.p7s").unlink()
    code, out = run("audit", "verify")
    assert code == 1
    assert "điểm neo .audit/checkpoint-000001.json: chữ ký không khớp với nội dung tệp" in out
    assert "điểm neo .audit/checkpoint-000002.json được ghi ở mục" in out


def test_a_checkpoint_verifies_with_openssl_and_the_workstation_ca(filed: Filed, run: Run) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    assert run("audit", "checkpoint")[0] == 0
    (ca,) = (filed.config.parent / "keys").glob("*.pem")
    base = filed.root / ".audit" / "checkpoint-000001"
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f"{base}.p7s", "-content", f"{base}.json",
         "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_service_checkpoints_every_n_entries(filed: Filed) -> None:
    from scanner.archive import Catalog
    from scanner.archive.audit_anchor import maybe_checkpoint
    from scanner.config import load_config

    config = load_config(filed.config)
    with Catalog(config.archive.catalog_path) as catalog:
        maybe_checkpoint(catalog, config, every=1)  # up to date (filing anchors the chain on its own too)
        before = sorted(p.name for p in (config.archive.root / ".audit").glob("checkpoint-*.json"))
        assert before
        assert maybe_checkpoint(catalog, config, every=3) is None
        for _ in range(3):
            catalog.audit("view", "x", actor="Lan (records)")
        second = maybe_checkpoint(catalog, config, every=3)
        assert second is not None and second.name > before[-1]
        catalog.audit("view", "y", actor="Lan (records)")
        assert maybe_checkpoint(catalog, config) is None  # one entry, the same day
        tomorrow = datetime.now().astimezone() + timedelta(days=1, minutes=1)
        third = maybe_checkpoint(catalog, config, now=tomorrow)
        assert third is not None and third.name > second.name
        assert maybe_checkpoint(catalog, config, now=tomorrow + timedelta(days=2)) is None  # nothing new since


# --- the database's own check -------------------------------------------------------------------------


def _settle(catalog: Path) -> None:
    """Fold the WAL into the main file, so what is written to it below is what SQLite reads."""
    db = sqlite3.connect(catalog)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_a_corrupt_page_fails_verify_and_audit_verify(filed: Filed, run: Run) -> None:
    _settle(filed.catalog)
    db = sqlite3.connect(filed.catalog)
    (page_size,) = db.execute("PRAGMA page_size").fetchone()
    (rootpage,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'jobs_state'").fetchone()
    db.close()
    with filed.catalog.open("r+b") as f:  # an index page nothing in verify reads: only the engine's check sees it
        f.seek((rootpage - 1) * page_size)
        f.write(b"\xff" * page_size)
    code, out = run("verify", "--all")
    assert code == 1
    assert "tệp danh mục bị hỏng" in out
    code, out = run("audit", "verify")
    assert code == 1
    assert "tệp danh mục bị hỏng" in out


def test_a_catalog_damaged_past_reading_gives_a_vietnamese_message(filed: Filed, run: Run) -> None:
    _settle(filed.catalog)
    with filed.catalog.open("r+b") as f:
        f.write(b"\x00" * 100)  # the header: SQLite no longer knows the file
    for args in (("verify", "--all"), ("audit", "verify")):
        code, out = run(*args)
        assert code == 1, out
        assert "danh mục" in out and "Traceback" not in out
