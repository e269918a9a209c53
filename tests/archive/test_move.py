"""A ward workstation moves up into the province's shared archive on PostgreSQL: ``scanner migrate``.

Three real dossiers are filed by ``scanner process`` on a workstation with
its embedded SQLite catalog (and a signed checkpoint of its audit log); the
move is cut short once, run again, and run a third time, which changes
nothing. The shared archive is then opened as a workstation pointed at it
would open it (``[catalog] url``), and search, ``verify --all`` and
``audit verify`` pass there.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from scanner.archive import Catalog
from scanner.cli import main
from tests.conftest import configure, render_lines

PEOPLE = (("Nguyễn Văn Thẩm", "001085000123", "123"), ("Trần Thị Lan", "056090000456", "124"),
          ("Lê Văn Đức", "079088000789", "125"))  # fmt: skip


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ROOT with its size and modification time: what a no-op run must leave as it was."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_a_workstation_moves_up_once_even_when_cut_short(
    workstation: Path, tmp_path: Path, postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = workstation
    for name, ident, number in PEOPLE:
        src = tmp_path / f"{ident}.png"
        page = ("ỦY BAN NHÂN DÂN", "PHƯỜNG BẾN NGHÉ", f"Số: {number}/GXN-UBND", "GIẤY XÁC NHẬN",
                f"Họ và tên: {name}", f"Số định danh cá nhân: {ident}")  # fmt: skip
        render_lines(page, dpi=150).save(src, dpi=(150, 150))
        code, out = _cli("--config", str(config), "process", str(src), "--counter", "quay-1", "--json")
        assert code == 0, out
    assert _cli("--config", str(config), "audit", "checkpoint")[0] == 0

    owner, service = postgres_server.fresh_database()
    to = service.set(drivername="postgresql").render_as_string(hide_password=False)
    shared = tmp_path / "kho-chung"
    migrate = ("--config", str(config), "--user", "Phạm Thị Hoa", "migrate", "--to", to, "--archive", str(shared))

    # cut short: the second dossier's copy fails (a network share dropped), the first is already in
    real_copy, calls = shutil.copyfile, []

    def flaky(src: Any, dst: Any, **kw: Any) -> Any:
        calls.append(src)
        if len(calls) == 4:  # the first file of the second dossier (a PDF and dossier.json each)
            raise OSError(5, "Input/output error")
        return real_copy(src, dst, **kw)

    monkeypatch.setattr(shutil, "copyfile", flaky)
    code, out = _cli(*migrate)
    assert code != 0
    monkeypatch.setattr(shutil, "copyfile", real_copy)

    code, out = _cli(*migrate, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert [d["outcome"] for d in report["dossiers"]] == ["present", "moved", "moved"]
    assert report["anchored"].startswith(".audit/imported/")
    assert "scanner_service@" in report["target"]

    with Catalog(service, index_path=shared / ".catalog.index") as cat:
        entries = len(cat.audit_entries())
    before = _tree(shared)
    code, out = _cli(*migrate, "--json")
    assert code == 0, out
    again = json.loads(out)
    assert [d["outcome"] for d in again["dossiers"]] == ["present"] * 3 and again["anchored"] is None
    assert _tree(shared) == before  # not a file written, copied or touched
    with Catalog(service, index_path=shared / ".catalog.index") as cat:
        assert len(cat.audit_entries()) == entries  # nor an entry added
        actions = [e.action for e in reversed(cat.audit_entries())]
        assert actions == ["ingest", "ingest", "ingest", "migrate"]
        assert cat.job_store.daily_numbers() == cat.job_store.daily_numbers()  # readable by the service's role
        numbers = {n for _, _, n in cat.job_store.daily_numbers()}
    assert numbers == {3}  # the ward's day counter came along: the shared catalog goes on at 4

    # a workstation pointed at the shared archive
    target = config.parent / "shared.toml"  # beside the ward's: the same agency key and trust roots
    target.write_text(config.read_text(encoding="utf-8").replace('root = "archive"', f'root = "{shared}"'), "utf-8")
    configure(target, "catalog", url=to.replace("+psycopg", ""), index=str(shared / ".catalog.index"))
    configure(target, "archive", work=str(tmp_path / "work-shared"))
    for name, ident, _ in PEOPLE:
        code, out = _cli("--config", str(target), "search", name.split()[-1], "--json")
        assert code == 0, out
        hits = json.loads(out)["hits"]
        assert hits and ident in _cli("--config", str(target), "show", hits[0]["code"])[1]
    code, out = _cli("--config", str(target), "owner", PEOPLE[1][1], "--json")
    assert code == 0 and [p["holder_name"] for p in json.loads(out)] == [PEOPLE[1][0]], out
    code, out = _cli("--config", str(target), "verify", "--all")
    assert code == 0, out
    assert "6/6 tệp hợp lệ" in out
    code, out = _cli("--config", str(target), "audit", "verify")
    assert code == 0, out

    # the ward's log is kept as written: an edit to it is seen from the shared archive
    kept = shared / report["anchored"]
    text = kept.read_text(encoding="utf-8")
    assert text.count('"action": "ingest"') == 3
    kept.write_text(text.replace('"action": "ingest"', '"action": "view"', 1), encoding="utf-8")
    code, out = _cli("--config", str(target), "audit", "verify")
    assert code == 1 and "đã bị sửa" in out, out


def test_no_password_on_the_command_line(workstation: Path) -> None:
    code, out = _cli("--config", str(workstation), "migrate", "--to", "postgresql://u:bi-mat@h/kho", "--archive", "/x")
    assert code == 2 and "bi-mat" not in out and "PGPASSWORD" in out


def test_a_workstation_pointed_at_postgresql_files_and_finds(workstation: Path, postgres_server: Any) -> None:
    """`[catalog] url` alone moves a workstation's catalog to the server: the pipeline files there, search finds."""
    _, service = postgres_server.fresh_database()
    url = service.set(drivername="postgresql").render_as_string(hide_password=False)
    configure(workstation, "catalog", url=url, station="phuong-ben-nghe-1")
    src = workstation.parent / "giay.png"
    render_lines(dpi=150).save(src, dpi=(150, 150))
    code, out = _cli("--config", str(workstation), "process", str(src), "--counter", "quay-1", "--json")
    assert code == 0, out
    filed = json.loads(out)
    with Catalog(service, index_path=workstation.parent / "i") as cat:
        assert cat.dossier(filed["dossier_code"]) is not None
    with Catalog(workstation.parent / "archive" / "catalog.sqlite") as cat:  # made by `scanner init`, unused since
        assert cat.dossier(filed["dossier_code"]) is None
    code, out = _cli("--config", str(workstation), "search", "giay khai sinh", "--json")
    assert code == 0 and json.loads(out)["hits"][0]["dossier_code"] == filed["dossier_code"], out
    code, out = _cli("--config", str(workstation), "status", "--json")
    assert code == 0 and filed["dossier_code"] in out, out
    for old in (workstation.parent / "archive").glob("catalog.*"):  # the unused embedded catalog: a stray now
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    code, out = _cli("--config", str(workstation), "verify", "--all")
    assert code == 0, out
