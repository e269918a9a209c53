"""Custody of what is filed: fixity per file, the hash-chained audit log, reuse by owner, BagIt export."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import bagit
import pytest

from scanner.app import SYSTEM
from scanner.archive import Catalog
from scanner.archive.export import export_bag
from scanner.archive.fixity import check_fixity
from scanner.errors import ArchiveError
from tests.archive.helpers import file_document
from tests.conftest import CatalogPlace


def _stored(root: Path, rel: str, content: bytes) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_a_flipped_byte_is_detected_and_every_check_is_recorded(tmp_path: Path, catalog_place: CatalogPlace) -> None:
    root = tmp_path / "archive"
    rel = "H26/2026/X-261124-0001/X-261124-0001.01.pdf"
    sha = _stored(root, rel, b"%PDF-1.7\n" + bytes(range(256)) * 40)
    with catalog_place.open() as cat:
        file_document(cat, "X-261124-0001", "văn bản", sha256=sha, path=rel)
        signatures: list[Path] = []

        def signature(path: Path) -> tuple[str, list[str]]:
            signatures.append(path)
            return "B-B, còn nguyên vẹn", []

        (first,) = check_fixity(cat, root, signature)
        assert first.ok and first.actual == sha and signatures == [root / rel]

        data = bytearray((root / rel).read_bytes())
        data[1234] ^= 0x01
        (root / rel).write_bytes(bytes(data))
        (second,) = check_fixity(cat, root, signature)
        assert not second.ok and "SHA-256" in second.problems[0]

        (root / rel).unlink()
        (third,) = check_fixity(cat, root, signature)
        assert third.problems == ("tệp không còn trong kho lưu trữ",)

        history = cat.fixity_history(rel)
        assert [h.outcome for h in history] == ["ok", "failed", "failed"]
        assert history[1].actual != history[1].expected
        assert [e.action for e in cat.audit_entries()][:3] == ["verify"] * 3
        assert cat.verify_audit() == []


def test_the_audit_log_refuses_changes_and_detects_edits_and_removals(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        file_document(cat, "A-261124-0001", "văn bản")
        cat.audit("view", "A-261124-0001", actor=SYSTEM.label)
        cat.audit("download", "A-261124-0001.01", actor=SYSTEM.label)
        cat.audit("export", "A-261124-0001", actor=SYSTEM.label)
        cat.audit("delete-request", "A-261124-0001", "hết thời hạn lưu trữ", actor=SYSTEM.label)
        assert cat.verify_audit() == []
        assert [e.action for e in cat.audit_entries()] == [
            "delete-request", "export", "download", "view", "ingest",
        ]  # fmt: skip
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            cat.db.execute("UPDATE audit SET subject = 'khác' WHERE id = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            cat.db.execute("DELETE FROM audit WHERE id = 2")

        # someone with the file and the sqlite3 shell: drop the guards, then edit
        cat.db.execute("DROP TRIGGER audit_no_update")
        cat.db.execute("DROP TRIGGER audit_no_delete")
        cat.db.execute("UPDATE audit SET detail = 'không có gì' WHERE id = 5")
        assert cat.verify_audit() == ["mục 5: nội dung đã bị sửa (mã băm không khớp)"]

    def problems_after(sql: str) -> list[str]:
        copy = tmp_path / f"copy-{abs(hash(sql))}.sqlite"
        copy.write_bytes(db.read_bytes())
        with Catalog(copy) as c:
            c.db.execute("UPDATE audit SET detail = 'hết thời hạn lưu trữ' WHERE id = 5")
            assert c.verify_audit() == []  # put back exactly as written: the chain holds again
            c.db.execute(sql)
            return c.verify_audit()

    assert any("3–3" in p and "xóa" in p for p in problems_after("DELETE FROM audit WHERE id = 3"))
    assert any("5–5" in p and "cuối" in p for p in problems_after("DELETE FROM audit WHERE id = 5"))
    rehashed = problems_after("UPDATE audit SET hash = '" + "1" * 64 + "' WHERE id = 2")
    assert rehashed and all("mục" in p for p in rehashed)


def _as(url: Any, statement: str) -> str:
    """Run STATEMENT on PostgreSQL as URL's role; the error's first line, or "" when it went through."""
    import psycopg

    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True) as c:
        try:
            c.execute(statement)
        except psycopg.Error as exc:
            return str(exc).splitlines()[0]
    return ""


def test_on_postgresql_the_log_is_append_only_by_grants_and_by_trigger(tmp_path: Path, postgres_server: Any) -> None:
    """The service's role may only read and add entries; even the owner's UPDATE/DELETE is refused by the trigger.

    A superuser can still switch the trigger off and cut the tail: the
    head row (highest id ever given) then stands ahead of the last entry,
    and verification says so, as sqlite_sequence does on SQLite.
    """
    owner, service = postgres_server.fresh_database()
    with Catalog(service, index_path=tmp_path / "i") as cat:
        file_document(cat, "A-261124-0001", "văn bản")
        for action in ("view", "download", "export"):
            cat.audit(action, "A-261124-0001", actor=SYSTEM.label)
        assert cat.verify_audit() == []
        assert cat.custody_store.integrity_problems() == []  # the service cannot rewrite the log
    for statement in (
        "UPDATE audit SET subject = 'khác' WHERE id = 2",
        "DELETE FROM audit WHERE id = 2",
        "TRUNCATE audit",
        "DELETE FROM audit_head",
        "DROP TRIGGER audit_no_change ON audit",
    ):
        assert "permission denied" in _as(service, statement) or "must be owner" in _as(service, statement), statement
    assert "forward" in _as(service, "UPDATE audit_head SET last = 2")  # it moves the head, one step at a time
    for statement in (
        "UPDATE audit SET subject = 'khác' WHERE id = 2",
        "DELETE FROM audit WHERE id = 2",
        "TRUNCATE audit",
    ):
        assert "append-only" in _as(owner, statement), statement
    assert "forward" in _as(owner, "UPDATE audit_head SET last = 2")
    with Catalog(owner, index_path=tmp_path / "i") as cat:  # the owner is told it could rewrite the log
        assert any("scanner_app" in p for p in cat.custody_store.integrity_problems())

    superuser = postgres_server.admin.set(database=owner.database)
    assert _as(superuser, "ALTER TABLE audit DISABLE TRIGGER audit_no_change") == ""
    assert _as(superuser, "DELETE FROM audit WHERE id = 4") == ""
    assert _as(superuser, "UPDATE audit SET detail = 'không có gì' WHERE id = 2") == ""
    with Catalog(service, index_path=tmp_path / "i") as cat:
        assert cat.verify_audit() == [
            "mục 2: nội dung đã bị sửa (mã băm không khớp)",
            "mục 4–4 ở cuối nhật ký đã bị xóa",
        ]


def test_owner_sees_only_still_valid_papers_newest_first(catalog_place: CatalogPlace) -> None:
    owner = "056185000001"
    with catalog_place.open() as cat:
        file_document(cat, "O-261124-0001", "giấy khai sinh", owner=owner, type_name="Giấy khai sinh",
                      issued_date="1985-03-12")  # fmt: skip
        file_document(cat, "O-261124-0002", "giấy phép", owner=owner, kind="result", issued_date="2020-01-01",
                      valid_from="2020-01-01", valid_until="2022-01-01")  # fmt: skip
        file_document(cat, "O-261124-0003", "giấy chứng nhận", owner="079000000000", holder_id=owner,
                      kind="result", issued_date="2024-06-01", valid_until="2034-06-01")  # fmt: skip
        file_document(cat, "O-261124-0004", "không liên quan", owner="079000000000")
        rows = cat.owner_documents(owner, on=date(2026, 1, 1))
        assert [r.code for r in rows] == ["O-261124-0003.01", "O-261124-0001.01"]
        assert rows[0].kind == "result" and rows[0].roles == "holder"
        assert [r.code for r in cat.owner_documents(owner, on=date(2021, 1, 1))] == [
            "O-261124-0002.01", "O-261124-0001.01",
        ]  # fmt: skip


def test_export_writes_a_valid_bag_and_refuses_a_damaged_file(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    folder = "H26/2026/E-261124-0001"
    pdf = f"{folder}/E-261124-0001.01.pdf"
    sha = _stored(root, pdf, b"%PDF-1.7 signed content")
    meta_sha = _stored(root, f"{folder}/dossier.json", b'{"dossier_code": "E-261124-0001"}')
    with Catalog(tmp_path / "c.sqlite") as cat:
        file_document(cat, "E-261124-0001", "Quyết định", title="QUYẾT ĐỊNH", sha256=sha, path=pdf)
        cat.db.execute(
            "INSERT INTO files VALUES (?, NULL, 'E-261124-0001', 'metadata', ?, 1)",
            (f"{folder}/dossier.json", meta_sha),
        )
        bag_dir = export_bag(cat, root, "E-261124-0001", tmp_path / "out")
        bag = bagit.Bag(str(bag_dir))
        assert bag.is_valid()
        assert {"data/E-261124-0001.01.pdf", "data/dossier.json", "data/metadata.json"} <= set(bag.payload_files())
        assert bag.info["External-Identifier"] == "E-261124-0001"
        assert "sha256" in bag.algorithms
        assert cat.audit_entries()[0].action == "export"

        (root / pdf).write_bytes(b"%PDF-1.7 signed contenT")
        with pytest.raises(ArchiveError, match="đã bị thay đổi"):
            export_bag(cat, root, "E-261124-0001", tmp_path / "out2")
        assert not (tmp_path / "out2" / "E-261124-0001").exists()


def _append_many(where: Any, index: Path, worker: int, n: int) -> None:
    with Catalog(where, index_path=index) as cat:
        for i in range(n):
            cat.audit("view", f"W{worker}-{i}", actor=f"cán bộ {worker}")


def test_processes_appending_at_once_never_fork_the_chain(catalog_place: CatalogPlace) -> None:
    """Three processes (machines, on PostgreSQL) append at once: one chain, every id once, in order."""
    import multiprocessing

    place = catalog_place
    place.open().close()
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.starmap(_append_many, [(place.where, place.index, w, 20) for w in range(3)])
    with place.open() as cat:
        entries = cat.audit_entries()
        assert sorted(e.id for e in entries) == list(range(1, 61))
        assert cat.verify_audit() == []
