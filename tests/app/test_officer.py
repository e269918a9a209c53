"""The officer's and records team's use cases, called as the CLI and the web call them: actor, archive, typed result."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from scanner.app import Actor, Role, records
from scanner.app import officer as app
from scanner.archive import Catalog
from scanner.archive.index import Filters
from scanner.errors import ArchiveError, ConfigError, NotFoundError
from tests.archive.helpers import file_document

LAN = Actor("lan", Role.OFFICER, "Nguyễn Thị Lan")
MINH = Actor("minh", Role.SUPERVISOR, "Trần Văn Minh")


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[app.Archive]:
    root = tmp_path / "archive"
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        yield app.Archive(catalog, root)


def _file(archive: app.Archive, code: str, text: str, **kw: object) -> str:
    """File CODE with a real stored file, so fixity and export have something to read."""
    rel = f"H26/2026/{code}/{code}.01.pdf"
    path = archive.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    file_document(archive.catalog, code, text, sha256=hashlib.sha256(text.encode()).hexdigest(), path=rel, **kw)
    return rel


def test_deletion_waits_for_a_second_person(archive: app.Archive) -> None:
    rel = _file(archive, "D-261124-0001", "Quyết định")
    request = records.request_deletion(LAN, "D-261124-0001", "hết thời hạn bảo quản", archive=archive)
    assert request.requested_by == LAN.label and request.reason == "hết thời hạn bảo quản"
    assert records.pending_deletions(MINH, archive=archive) == (request,)

    with pytest.raises(ArchiveError, match="người thứ hai"):
        records.approve_deletion(LAN, "D-261124-0001", archive=archive)
    with pytest.raises(ArchiveError, match="đang chờ"):
        records.request_deletion(MINH, "D-261124-0001", "trùng", archive=archive)
    assert records.pending_deletions(MINH, archive=archive) == (request,)

    approval = records.approve_deletion(MINH, "D-261124-0001", archive=archive)
    assert approval.approved_by == MINH.label and approval.request == request
    assert records.pending_deletions(LAN, archive=archive) == ()
    with pytest.raises(NotFoundError):
        records.approve_deletion(MINH, "D-261124-0001", archive=archive)
    assert (archive.root / rel).is_file()  # nothing is removed from disk
    assert archive.catalog.dossier("D-261124-0001") is not None

    entries = records.audit_list(LAN, archive=archive)
    assert [(e.action, e.actor) for e in entries[:2]] == [("delete-approve", MINH.label), ("delete-request", LAN.label)]
    assert entries[0].action_vi == "phê duyệt hủy" and entries[1].detail == "hết thời hạn bảo quản"
    assert records.audit_verify(MINH, archive=archive).ok


def test_a_request_names_an_existing_record_and_a_reason(archive: app.Archive) -> None:
    with pytest.raises(NotFoundError):
        records.request_deletion(LAN, "KHONG-CO", "lý do", archive=archive)
    _file(archive, "D-261124-0002", "Quyết định")
    with pytest.raises(ConfigError):
        records.request_deletion(LAN, "D-261124-0002", "  ", archive=archive)


def test_views_and_exports_are_audited_with_the_acting_person(archive: app.Archive, tmp_path: Path) -> None:
    _file(archive, "V-261124-0001", "Giấy khai sinh", owner="001085000123", title="GIẤY KHAI SINH")
    shown = app.show(LAN, "V-261124-0001", archive=archive)
    assert shown.dossier.code == "V-261124-0001" and [d.code for d in shown.documents] == ["V-261124-0001.01"]
    assert app.show(LAN, "V-261124-0001.01", archive=archive).document is not None
    papers = app.owner(MINH, "001085000123", archive=archive, on=date(2026, 12, 1))
    assert [p.code for p in papers.papers] == ["V-261124-0001.01"] and "applicant" in papers.papers[0].roles
    bag = app.export(LAN, "V-261124-0001", tmp_path / "bags", archive=archive)
    assert (bag.bag / "bagit.txt").is_file()

    entries = records.audit_list(LAN, archive=archive, limit=4)
    assert [(e.action, e.subject, e.actor) for e in entries] == [
        ("export", "V-261124-0001", LAN.label),
        ("view", "owner:001085000123", MINH.label),
        ("view", "V-261124-0001.01", LAN.label),
        ("view", "V-261124-0001", LAN.label),
    ]
    with pytest.raises(NotFoundError):
        app.show(LAN, "KHONG-CO", archive=archive)


def test_search_counts_every_match_and_gives_paths_relative_to_the_archive(archive: app.Archive) -> None:
    for n in range(1, 4):
        _file(archive, f"S-261124-000{n}", f"Giấy xác nhận cư trú số {n}", review=("issued_date",), kind="result")
    result = app.search(LAN, "xac nhan", archive=archive, filters=Filters(), limit=2)
    assert result.total == 3 and not result.more and len(result.hits) == 2
    hit = result.hits[0]
    assert not Path(hit.path).is_absolute() and (archive.root / hit.path).is_file()
    assert hit.review == ("issued_date",) and hit.kind == "result" and "[xác] [nhận]" in hit.snippet


def test_a_period_that_ends_before_it_starts_is_refused(archive: app.Archive) -> None:
    with pytest.raises(ConfigError, match=r"--from \(01/02/2025\).*--to \(01/01/2024\)") as info:
        app.search(LAN, "x", archive=archive, filters=Filters(date_from=date(2025, 2, 1), date_to=date(2024, 1, 1)))
    assert info.value.exit_code == 2
    with pytest.raises(ConfigError, match="--to"):
        records.report(LAN, archive=archive, since=date(2025, 2, 1), until=date(2024, 1, 1))
    assert records.report(LAN, archive=archive, since=date(2024, 1, 1)).rows == ()


def test_verify_finds_a_flipped_byte_once(workstation: Path, tmp_path: Path) -> None:
    """One check per stored file, signatures included: the flipped PDF is one failure, recorded once."""
    from scanner.cli import main
    from scanner.config import load_config
    from tests.conftest import render_lines

    src = tmp_path / "scan.png"
    render_lines(dpi=150).save(src, dpi=(150, 150))
    assert main(["--config", str(workstation), "process", str(src), "--counter", "quay-1"]) == 0
    config = load_config(workstation)
    with app.open_archive(config) as archive:
        (dossier,) = {d.dossier_code for d in archive.catalog.all_documents()}
        first = app.verify(LAN, [dossier], archive=archive)
        assert first.ok and {c.role for c in first.checks} >= {"document", "metadata"}
        (pdf,) = [c for c in first.checks if c.role == "document"]
        assert "PDF/A: 2b" in pdf.signature and "toàn vẹn có" in pdf.signature

        data = bytearray((archive.root / pdf.path).read_bytes())
        data[len(data) // 2] ^= 0x01
        (archive.root / pdf.path).write_bytes(bytes(data))
        second = app.verify(MINH, [pdf.document_code or ""], archive=archive)
        assert second.failures == 1
        (bad,) = [c for c in second.checks if not c.ok]
        assert bad.path == pdf.path and any("SHA-256" in p for p in bad.problems)
        assert [h.outcome for h in archive.catalog.fixity_history(pdf.path)] == ["ok", "failed"]
        log = records.audit_list(LAN, archive=archive, limit=None)
        runs = [e for e in log if e.action == "verify" and e.subject in (dossier, bad.document_code)]
        assert [(e.action, e.actor) for e in runs] == [("verify", MINH.label), ("verify", LAN.label)]
        everything = app.verify(LAN, archive=archive, everything=True)
        assert everything.failures == 1
