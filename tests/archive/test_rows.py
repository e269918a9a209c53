"""The catalog's typed rows keep the names the dicts had, so callers and the CLI's JSON see the same fields."""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from scanner.app import SYSTEM
from scanner.archive import Catalog
from scanner.archive.catalog import AuditEntry, FixityEntry, IntakeEntry, StoredFile
from scanner.archive.catalog.schema import audit, files, fixity, intake
from tests.archive.helpers import file_document


def test_rows_read_whole_from_a_table_are_named_as_its_columns() -> None:
    for row, table in ((AuditEntry, audit), (FixityEntry, fixity), (IntakeEntry, intake), (StoredFile, files)):
        assert [f.name for f in fields(row)] == [c.name for c in table.c]


def test_rows_come_back_typed_and_frozen(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        file_document(cat, "T-261124-0001", "giấy xác nhận", kind="result", owner="001", valid_until="2030-01-01")
        cat.record_event("quarantine", "quay-1/a.jpg", "unreadable", "không đọc được")
        (event,) = cat.recent_events("quarantine", prefix="quay-1/")
        assert asdict(event) == {
            "time": event.time, "subject": "quay-1/a.jpg", "outcome": "unreadable", "detail": "không đọc được",
        }  # fmt: skip
        (stored,) = cat.stored_files(["T-261124-0001"])
        assert (stored.document_code, stored.role, stored.size) == ("T-261124-0001.01", "document", 1)
        # the helper's dossiers are created at "t": a range that holds it
        (count,) = cat.result_counts(since="0000-01-01", until="z", agency=None, today="2026-11-24")
        assert asdict(count) == {
            "agency": "000.00.00.H26", "procedure": "", "month": "t", "backfilled": 0, "results": 1,
            "still_valid": 1, "pages": 1,
        }  # fmt: skip
        (owned,) = cat.owner_documents("001")
        assert (owned.code, owned.kind, owned.roles, owned.agency_name) == (
            "T-261124-0001.01",
            "result",
            "applicant",
            "UBND",
        )
        cat.audit("view", "T-261124-0001", actor=SYSTEM.label)
        entry = cat.audit_entries(limit=1)[0]
        assert (entry.id, entry.actor) == (2, "scanner (Dịch vụ số hóa)")
        try:
            entry.actor = "khác"  # type: ignore[misc]
        except AttributeError:
            pass
        else:
            raise AssertionError("a row handed out can be changed")
