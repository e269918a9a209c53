"""Schema history: a catalog of the previous release upgrades in place, and every path ends at the same schema.

``data/catalog_previous_release.sql`` was written by the release before
Alembic (raw sqlite3, ``PRAGMA user_version`` 4): a dossier of two documents
with Vietnamese text, its owner, audit entries made under the old code, a
fixity check, a finished and an unfinished intake.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from scanner.app import SYSTEM
from scanner.archive import Catalog
from scanner.archive.catalog import migrate
from scanner.archive.catalog.schema import metadata
from scanner.errors import ArchiveError

DUMP = Path(__file__).parent / "data" / "catalog_previous_release.sql"
DOSSIER = "000.00.00.H26-261124-0001"


def _previous_release(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(DUMP.read_text(encoding="utf-8"))
    db.close()
    return path


def _schema(path: Path) -> dict[str, object]:
    """Tables with their columns (name, type, not null, default, key), indexes and triggers, by name."""
    db = sqlite3.connect(path)
    out: dict[str, object] = {}
    rows = db.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    for kind, name, table in rows:
        if kind == "table":
            out[name] = [tuple(r[1:]) for r in db.execute(f"PRAGMA table_info({name})")]
        else:
            out[f"{kind} {name}"] = table
    db.close()
    return out


def _drift(path: Path) -> list[object]:
    """What differs between the database and ``schema.py``, as Alembic's autogenerate sees it."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    return list(diff)


def test_a_catalog_of_the_previous_release_opens_with_its_data(tmp_path: Path) -> None:
    with Catalog(_previous_release(tmp_path / "c.sqlite")) as cat:
        dossier = cat.dossier(DOSSIER)
        assert dossier is not None and dossier.agency_name == "UBND phường Bến Nghé"
        assert dossier.warnings == ("ảnh mờ trang 2",)
        docs = cat.documents(DOSSIER)
        assert [d.title for d in docs] == ["Giấy khai sinh", "Đơn đề nghị"]
        assert docs[0].fields == {"name": ["Nguyễn Văn Bình", 0.9]} and docs[0].review == ("name",)
        assert [h.code for h in cat.search("Nguyễn Văn Bình")] == [f"{DOSSIER}.01"]
        assert [h.code for h in cat.search("nguyen van binh")] == [f"{DOSSIER}.01"]
        assert [h.code for h in cat.search("trich luc ho tich")] == [f"{DOSSIER}.02"]
        owned = cat.owner_documents("056185000001")  # applicant of the dossier, holder of the birth certificate
        assert [(d.code, d.roles) for d in owned] == [
            (f"{DOSSIER}.02", "applicant"),
            (f"{DOSSIER}.01", "applicant,holder"),
        ]
        assert [i.original_name for i in cat.intakes_in_progress()] == ["trang-2.jpg"]
        assert [f.outcome for f in cat.fixity_history(docs[0].path)] == ["ok"]
        assert cat.verify_audit() == []
        assert [e.actor for e in cat.audit_entries()] == ["root"] * 4  # written by the old code, as it was


def test_new_entries_chain_on_to_the_old_ones(tmp_path: Path) -> None:
    path = _previous_release(tmp_path / "c.sqlite")
    with Catalog(path) as cat:
        last_old = cat.audit_entries(limit=1)[0]
        cat.audit("view", DOSSIER, actor=SYSTEM.label)
        doc = cat.documents(DOSSIER)[1]
        cat.record_fixity(doc.path, doc.code, doc.sha256, doc.sha256, "", "ok", actor="nguyenvana (Nguyễn Văn A)")
        new = cat.audit_entries(limit=2)
        assert [(e.id, e.action) for e in new] == [(6, "verify"), (5, "view")]
        assert new[1].prev == last_old.hash and new[0].prev == new[1].hash
        assert new[0].actor == "nguyenvana (Nguyễn Văn A)" and new[1].actor == SYSTEM.label
        assert cat.verify_audit() == []
    with Catalog(path) as cat:  # opening again changes nothing
        assert cat.verify_audit() == [] and len(cat.audit_entries()) == 6


def test_the_audit_log_of_an_upgraded_catalog_stays_append_only(tmp_path: Path) -> None:
    with (
        Catalog(_previous_release(tmp_path / "c.sqlite")) as cat,
        pytest.raises(sqlite3.DatabaseError, match="append-only"),
    ):
        cat.db.execute("UPDATE audit SET actor = 'ai đó' WHERE id = 1")


def test_upgraded_older_and_new_catalogs_have_one_schema(tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite"
    Catalog(new).close()
    upgraded = _previous_release(tmp_path / "upgraded.sqlite")
    Catalog(upgraded).close()
    older = tmp_path / "v2.sqlite"  # two releases back: the old steps 3 and 4 run first
    db = sqlite3.connect(older)
    for v in (1, 2):
        db.executescript(migrate._LEGACY_STEPS[v])
    db.execute("INSERT INTO dossiers VALUES ('D', 'H26', 'UBND', 'q', '', '0123', '2025-03-01', '', 'p', 0, 0, 'j', "
               "'[]', 't')")  # fmt: skip
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with Catalog(older) as cat:
        dossier = cat.dossier("D")
        assert dossier is not None and dossier.file_catalog == 2025 and dossier.creator == "UBND"
        assert cat.owner_documents("0123") == []  # an applicant without documents yet
    assert _schema(new) == _schema(upgraded) == _schema(older)
    assert _drift(new) == [] and _drift(upgraded) == []
    for path in (new, upgraded, older):
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == migrate.MANAGED_BY_ALEMBIC
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head_revision(),)]
        db.close()


def test_a_catalog_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError, match="newer schema"):
        Catalog(path)


def _open_and_start_a_job(path: Path, worker: int) -> str:
    with Catalog(path) as cat:
        cat.create_job(f"w{worker}", "quay-1", {})
        return cat.job(f"w{worker}").state  # type: ignore[union-attr]


def test_processes_opening_a_new_catalog_at_once_create_it_once(tmp_path: Path) -> None:
    """The first to take the write lock creates the schema; the others find it done, under the same lock."""
    import multiprocessing

    path = tmp_path / "c.sqlite"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.starmap(_open_and_start_a_job, [(path, w) for w in range(3)])
    with Catalog(path) as cat:
        assert sorted(j.id for j in cat.jobs()) == ["w0", "w1", "w2"]
    db = sqlite3.connect(path)
    assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head_revision(),)]
    db.close()


# --- the same schema on PostgreSQL -----------------------------------------------------------


def _open_as(where: object, index: Path, worker: int) -> str:
    with Catalog(where, index_path=index) as cat:  # type: ignore[arg-type]
        cat.create_job(f"w{worker}", "quay-1", {})
        return cat.job(f"w{worker}").state  # type: ignore[union-attr]


def test_machines_opening_a_new_postgresql_catalog_at_once(tmp_path: Path, postgres_server: object) -> None:
    """Three machines start against an empty database: one creates the schema, under the writers' lock."""
    import multiprocessing

    owner, _ = postgres_server.fresh_database(empty=True)  # type: ignore[attr-defined]
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.starmap(_open_as, [(owner, tmp_path / f"i{w}", w) for w in range(3)])
    with Catalog(owner, index_path=tmp_path / "i") as cat:
        assert sorted(j.id for j in cat.jobs()) == ["w0", "w1", "w2"]


def test_a_postgresql_catalog_has_the_schema_of_schema_py(postgres_server: object) -> None:
    """Alembic sees no difference but what revision 0002 adds on PostgreSQL alone (row key, audit head, guards)."""
    owner, _ = postgres_server.fresh_database()  # type: ignore[attr-defined]
    engine = create_engine(owner)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == migrate.head_revision()
    engine.dispose()
    # one-column keys are declared nullable as the old SQLite release wrote them; PostgreSQL makes keys NOT NULL
    keys = {(t.name, c.name) for t in metadata.tables.values() for c in t.primary_key.columns}
    described = sorted(_describe(d) for d in diff if not _key_made_not_null(d, keys))
    assert described == [
        "remove_column documents.row_key", "remove_constraint documents_row_key", "remove_index audit_prev_once",
        "remove_table audit_head",
    ]  # fmt: skip


def _describe(change: object) -> str:
    if isinstance(change, list):  # a column's changes come as a list of tuples
        return "; ".join(_describe(c) for c in change)
    kind, *rest = change  # type: ignore[misc]
    if kind == "remove_column":
        return f"remove_column {rest[1]}.{rest[2].name}"
    return f"{kind} {getattr(rest[0], 'name', rest[0])}"


def _key_made_not_null(change: object, keys: set[tuple[str, str]]) -> bool:
    if not isinstance(change, list):
        return False
    return all(c[0] == "modify_nullable" and (c[2], c[3]) in keys and c[5] is False for c in change)


def test_the_service_role_cannot_create_the_schema_and_says_who_can(tmp_path: Path, postgres_server: object) -> None:
    _, service = postgres_server.fresh_database(empty=True)  # type: ignore[attr-defined]
    with pytest.raises(ArchiveError, match="owner") as exc:
        Catalog(service, index_path=tmp_path / "i")
    assert "chủ cơ sở dữ liệu" in exc.value.message_vi
