"""The archive's files on S3 with Object Lock (moto's server on 127.0.0.1), and the local default left as it was."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scanner.app import Actor, Role, records
from scanner.app import officer as app
from scanner.archive import Catalog
from scanner.archive.storage import LocalStorage, S3Storage, lock_for, open_storage, retain_until
from scanner.config import Config, load_config
from scanner.errors import ArchiveError, ConfigError, WorkstationError
from scanner.pipeline import Pipeline
from tests.archive.s3 import KEY, KEY_ENV, SECRET, SECRET_ENV, S3Server, dossier_keys, running_s3
from tests.conftest import configure, render_lines

LAN = Actor("lan", Role.OFFICER, "Nguyễn Thị Lan")
MINH = Actor("minh", Role.SUPERVISOR, "Trần Văn Minh")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    yield from running_s3()


@pytest.fixture(scope="module")
def keys() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as m:
        m.setenv(KEY_ENV, KEY)
        m.setenv(SECRET_ENV, SECRET)
        yield


def _on_s3(config: Path, s3: S3Server, **more: object) -> str:
    bucket = s3.bucket()
    configure(config, "storage", kind="s3", bucket=bucket, endpoint=s3.endpoint, region="us-east-1",
              access_key_env=KEY_ENV, secret_key_env=SECRET_ENV, **more)  # fmt: skip
    return bucket


def _scan(where: Path) -> Path:
    path = where / "giấy xác nhận.jpg"
    render_lines(dpi=200).save(path, dpi=(200, 200), quality=85)
    return path


def _receipt_day(dossier_code: str) -> date:
    yymmdd = re.fullmatch(r".*-(\d{6})-\d{4}", dossier_code)
    assert yymmdd
    return datetime.strptime(yymmdd.group(1), "%y%m%d").date()


@pytest.fixture(scope="module")
def filed(
    s3: S3Server, keys: None, _workstation_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, str]:
    """One dossier filed by the real pipeline into a bucket with COMPLIANCE locks: (config, dossier code)."""
    import shutil

    root = tmp_path_factory.mktemp("s3ws") / "ws"
    shutil.copytree(_workstation_template, root, symlinks=True)
    path = root / "scanner.toml"
    configure(path, "review", mode="never")
    _on_s3(path, s3, lock_mode="COMPLIANCE")
    config = load_config(path)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([_scan(root.parent)], config.counters[0]))
    assert outcome.state == "archived", outcome.error
    assert outcome.dossier_code
    return config, outcome.dossier_code


def test_a_dossier_is_filed_to_s3_with_its_signed_files_locked(filed: tuple[Config, str], s3: S3Server) -> None:
    config, code = filed
    client, bucket = s3.client(), config.storage.bucket
    folder = f"{config.counters[0].agency_code}/{_receipt_day(code).year}/{code}"
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    audit = [".audit/checkpoint-000001.json", ".audit/checkpoint-000001.p7s"]  # filing anchors the audit log
    assert keys == [*audit, f"{folder}/{code}.01.pdf", f"{folder}/dossier.json"]
    assert not (config.archive.root / config.counters[0].agency_code).exists()  # nothing filed locally
    assert not (config.archive.root / ".audit").exists()  # the checkpoints live with the archive, for every machine
    for key in audit:  # and are kept as long as anything they vouch for
        assert client.head_object(Bucket=bucket, Key=key)["ObjectLockMode"] == "COMPLIANCE"
    assert not list((config.archive.work / "staging").iterdir())  # the staging folder is gone once uploaded

    pdf = client.head_object(Bucket=bucket, Key=f"{folder}/{code}.01.pdf", ChecksumMode="ENABLED")
    assert pdf["ObjectLockMode"] == "COMPLIANCE"
    until = retain_until("", _receipt_day(code), "vĩnh viễn")  # no period given: kept "vĩnh viễn" by default
    assert pdf["ObjectLockRetainUntilDate"].astimezone(UTC) == until
    assert until.year == _receipt_day(code).year + 201
    assert "ObjectLockMode" not in client.head_object(Bucket=bucket, Key=f"{folder}/dossier.json")

    with Catalog(config.archive.catalog_path) as catalog:
        (doc,) = catalog.documents(code)
        body = client.get_object(Bucket=bucket, Key=f"{folder}/{code}.01.pdf")["Body"].read()
        assert doc.sha256 == hashlib.sha256(body).hexdigest() == base64.b64decode(pdf["ChecksumSHA256"]).hex()
        assert doc.size == len(body) and doc.path == f"{folder}/{code}.01.pdf"
        assert catalog.search("phường Bến Nghé")[0].code == doc.code


def test_verify_and_export_read_the_files_back_from_s3(filed: tuple[Config, str], tmp_path: Path) -> None:
    config, code = filed
    with app.open_archive(config) as archive:
        assert isinstance(archive.files, S3Storage)
        report = app.verify(LAN, archive=archive, everything=True)
        assert report.ok, [c.problems for c in report.checks if c.problems]
        roles = sorted(c.role for c in report.checks)
        assert roles == ["document", "metadata"]
        (pdf,) = [c for c in report.checks if c.role == "document"]
        assert pdf.actual == pdf.expected and pdf.signature  # the signature was checked on the downloaded copy
        bag = app.export(LAN, code, tmp_path / "ra", archive=archive).bag
    assert (bag / "data" / f"{code}.01.pdf").is_file() and (bag / "data" / "dossier.json").is_file()
    assert not any((config.archive.work / "downloads").iterdir())  # every temporary copy removed


def test_the_audit_checkpoints_in_the_bucket_hold_the_log_for_every_machine(
    filed: tuple[Config, str], s3: S3Server
) -> None:
    """Checkpoints written by one worker are read by any officer's machine: none is missing, a forged one shows."""
    config, _ = filed
    with app.open_archive(config) as archive:
        check = records.audit_verify(LAN, archive=archive)
        assert check.ok and check.checkpoints == 1, check.problems
        written = records.audit_checkpoint(LAN, archive=archive, signing=config.signing)
        assert written.path == ".audit/checkpoint-000002.json"
        assert records.audit_verify(LAN, archive=archive).checkpoints == 2
    client, bucket = s3.client(), config.storage.bucket
    with pytest.raises(ClientError, match="AccessDenied"):  # locked: not even the bucket's owner removes it
        head = client.head_object(Bucket=bucket, Key=written.path)
        client.delete_object(Bucket=bucket, Key=written.path, VersionId=head["VersionId"])
    forged = client.get_object(Bucket=bucket, Key=written.path)["Body"].read().replace(b'"count"', b'"count" ')
    client.put_object(Bucket=bucket, Key=written.path, Body=forged)  # a new version over the locked one
    with app.open_archive(config) as archive:
        problems = records.audit_verify(LAN, archive=archive).problems
    assert any("checkpoint-000002.json: chữ ký không khớp" in p for p in problems), problems


def test_a_locked_object_is_neither_deleted_nor_replaced_and_the_officer_is_told(
    filed: tuple[Config, str], s3: S3Server
) -> None:
    config, code = filed
    client, bucket = s3.client(), config.storage.bucket
    folder = f"{config.counters[0].agency_code}/{_receipt_day(code).year}/{code}"
    key = f"{folder}/{code}.01.pdf"
    original = client.head_object(Bucket=bucket, Key=key)
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=key, VersionId=original["VersionId"])
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=key, VersionId=original["VersionId"], BypassGovernanceRetention=True)

    storage = open_storage(config)
    staged = config.archive.work / "ghi-de"
    staged.mkdir()
    (staged / f"{code}.01.pdf").write_bytes(b"%PDF-1.7 a forged copy")
    with pytest.raises(WorkstationError, match="nội dung khác"):  # our own writer never replaces a filed file
        storage.file_dossier(staged, folder, lock_for(config.storage, "", _receipt_day(code)))
    versions = client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert [v["VersionId"] for v in versions] == [original["VersionId"]]

    with app.open_archive(config) as archive:
        records.request_deletion(LAN, code, "hết thời hạn bảo quản", archive=archive)
        approval = records.approve_deletion(MINH, code, archive=archive)
        assert archive.catalog.dossier(code) is not None
        (entry, *_) = records.audit_list(MINH, archive=archive)
    (kept,) = approval.kept
    assert kept.path == key and kept.mode == "COMPLIANCE" and kept.until.startswith(str(_receipt_day(code).year + 201))
    assert f"01/01/{_receipt_day(code).year + 201}" in kept.reason and "không cho xóa" in kept.reason
    assert entry.action == "delete-approve" and "1 tệp còn bị khóa" in entry.detail
    assert client.head_object(Bucket=bucket, Key=key)["VersionId"] == original["VersionId"]  # left in place

    # Someone holding the bucket's keys writes past the program: a new version, or a delete marker. The lock
    # keeps the filed version's bytes; verify reports the key as changed, then as gone.
    client.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.7 forged")
    with app.open_archive(config) as archive:
        (changed,) = [c for c in app.verify(LAN, [code], archive=archive).checks if c.role == "document"]
        assert any("SHA-256 khác" in p for p in changed.problems)
        client.delete_object(Bucket=bucket, Key=key)
        (gone,) = [c for c in app.verify(LAN, [code], archive=archive).checks if c.role == "document"]
        assert gone.problems == ("tệp không còn trong kho lưu trữ",)
    kept_bytes = client.get_object(Bucket=bucket, Key=key, VersionId=original["VersionId"])["Body"].read()
    assert hashlib.sha256(kept_bytes).hexdigest() == changed.expected


def test_a_filing_killed_mid_upload_or_before_the_catalog_resumes_and_adopts_the_locked_objects(
    workstation: Path, s3: S3Server, keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = _on_s3(workstation, s3, lock_mode="GOVERNANCE", legal_hold=True)
    config = load_config(workstation)
    client = s3.client()
    real_put = S3Storage.put

    def die_after_the_pdf(self: S3Storage, rel: str, path: Path, retention: object) -> None:
        if rel.endswith("dossier.json"):
            raise KeyboardInterrupt  # killed between two objects
        real_put(self, rel, path, retention)  # type: ignore[arg-type]

    def die_before_commit(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # every object is in place; the catalog transaction never runs

    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        job = pipeline.submit([_scan(tmp_path)], config.counters[0])
        with monkeypatch.context() as m:
            m.setattr(S3Storage, "put", die_after_the_pdf)
            with pytest.raises(KeyboardInterrupt):
                pipeline.run(job)
        code = catalog.job(job).dossier_code  # type: ignore[union-attr]
        assert code and catalog.dossier(code) is None
        (first,) = dossier_keys(client.list_objects_v2(Bucket=bucket)["Contents"])
        assert first.endswith(".01.pdf")  # a whole object or none: never half of one

    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        assert pipeline.recover() == [job]
        with monkeypatch.context() as m:
            m.setattr(Catalog, "record_dossier", die_before_commit)
            with pytest.raises(KeyboardInterrupt):
                pipeline.run(job)
        assert catalog.dossier(code) is None  # no row without its objects, and none yet with them

    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        assert pipeline.recover() == [job]
        outcome = pipeline.run(job)
        assert outcome.state == "archived" and outcome.dossier_code == code
        stored = {f.path: f.sha256 for f in catalog.stored_files([code])}

    versions = client.list_object_versions(Bucket=bucket)["Versions"]
    assert dossier_keys(versions) == sorted(stored)  # one version each: adopted, never written twice
    pdf, version = next((v["Key"], v["VersionId"]) for v in versions if v["Key"].endswith(".pdf"))
    assert client.get_object_legal_hold(Bucket=bucket, Key=pdf)["LegalHold"]["Status"] == "ON"
    assert client.head_object(Bucket=bucket, Key=pdf)["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=pdf, VersionId=version)
    for key, sha in stored.items():
        assert hashlib.sha256(client.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest() == sha


def test_a_file_larger_than_the_download_limit_is_refused_not_copied(
    workstation: Path, s3: S3Server, keys: None
) -> None:
    bucket = _on_s3(workstation, s3, download_limit_mb=1)
    s3.client().put_object(Bucket=bucket, Key="H32/2026/X/lon.pdf", Body=b"0" * (1024 * 1024 + 1))
    s3.client().put_object(Bucket=bucket, Key="H32/2026/X/nho.pdf", Body=b"nho")
    storage = open_storage(load_config(workstation))
    with pytest.raises(ArchiveError, match="giới hạn tải về"), storage.local_copy("H32/2026/X/lon.pdf"):
        pass
    with storage.local_copy("H32/2026/X/nho.pdf") as small:
        assert small is not None and small.read_bytes() == b"nho"
    assert not small.exists()
    with storage.local_copy("H32/2026/X/khong-co.pdf") as missing:
        assert missing is None
    held = storage.stat("H32/2026/X/nho.pdf")  # written without a checksum: hashed from its bytes
    assert held is not None and held.sha256 == hashlib.sha256(b"nho").hexdigest()
    assert sorted(storage.files()) == ["H32/2026/X/lon.pdf", "H32/2026/X/nho.pdf"]


# --- configuration, retention, the local default -------------------------------------------------


def test_retention_runs_from_the_year_after_the_dossier_closes() -> None:
    closed = date(2026, 12, 1)
    assert retain_until("10 năm", closed, "vĩnh viễn") == datetime(2037, 1, 1, tzinfo=UTC)
    assert retain_until("70 năm", closed, "vĩnh viễn") == datetime(2097, 1, 1, tzinfo=UTC)
    assert retain_until("Vĩnh viễn", closed, "10 năm") == datetime(2227, 1, 1, tzinfo=UTC)
    assert retain_until("khác", closed, "20 năm") == datetime(2047, 1, 1, tzinfo=UTC)
    assert retain_until("", closed, "vĩnh viễn").year == 2227  # under 2262, where 64-bit nanosecond clocks end


def test_storage_settings_never_hold_a_key(workstation: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_storage(load_config(workstation)), LocalStorage)  # no [storage]: today's folders
    configure(workstation, "storage", kind="s3", bucket="kho", secret_key="abc")
    with pytest.raises(ConfigError, match="không ghi khóa truy cập"):
        load_config(workstation)
    text = workstation.read_text(encoding="utf-8").replace('secret_key = "abc"\n', "")
    workstation.write_text(text, encoding="utf-8")
    configure(workstation, "storage", lock_mode="WORM")
    with pytest.raises(ConfigError, match="lock_mode"):
        load_config(workstation)
    configure(workstation, "storage", lock_mode="compliance", default_retention="mãi mãi")
    with pytest.raises(ConfigError, match="default_retention"):
        load_config(workstation)
    configure(workstation, "storage", default_retention="50 năm", access_key_env="K", secret_key_env="S")
    config = load_config(workstation).storage
    assert (config.lock_mode, config.default_retention) == ("COMPLIANCE", "50 năm")
    monkeypatch.setenv("K", "id")
    monkeypatch.setenv("S", SECRET)
    pair = config.credentials()
    assert pair is not None and pair[1].reveal() == SECRET
    assert SECRET not in repr(config) and SECRET not in repr(pair)
    configure(workstation, "storage", kind="s3", bucket="")
    with pytest.raises(ConfigError, match="bucket"):
        load_config(workstation)


def test_a_bucket_without_object_lock_is_a_fault_of_the_workstation_named_plainly(
    workstation: Path, s3: S3Server, keys: None, tmp_path: Path
) -> None:
    configure(workstation, "storage", kind="s3", bucket="khong-khoa", endpoint=s3.endpoint, region="us-east-1",
              access_key_env=KEY_ENV, secret_key_env=SECRET_ENV)  # fmt: skip
    s3.client().create_bucket(Bucket="khong-khoa")
    config = load_config(workstation)
    staged = tmp_path / "ho-so"
    staged.mkdir()
    (staged / "X.01.pdf").write_bytes(b"%PDF-1.7")
    with pytest.raises(WorkstationError, match="chưa bật Object Lock"):
        open_storage(config).file_dossier(staged, "H32/2026/X", lock_for(config.storage, "10 năm", date(2026, 1, 2)))
    assert "Contents" not in s3.client().list_objects_v2(Bucket="khong-khoa")
    assert [p.split(":")[0] for p in open_storage(config).problems()] == [
        "bucket khong-khoa chưa bật Object Lock",
        "bucket khong-khoa không bật lưu phiên bản (versioning)",
    ]


def test_missing_keys_make_the_dossier_wait_and_are_never_shown(
    workstation: Path, s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(workstation, "storage", kind="s3", bucket="chua-co-khoa", endpoint=s3.endpoint,
              access_key_env="SCANNER_TEST_NO_KEY", secret_key_env=SECRET_ENV)  # fmt: skip
    monkeypatch.delenv("SCANNER_TEST_NO_KEY", raising=False)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with (
        app.open_archive(load_config(workstation)) as archive,  # opening it (to search) needs no keys
        pytest.raises(WorkstationError, match="SCANNER_TEST_NO_KEY") as raised,
    ):
        archive.files.stat("H32/2026/X/X.01.pdf")
    assert SECRET not in str(raised.value)


def test_a_writer_that_loses_the_race_adopts_the_same_bytes_and_refuses_others(
    workstation: Path, s3: S3Server, keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers filing one dossier at once: both saw no object, one PUT wins; If-None-Match stops the other."""
    bucket = _on_s3(workstation, s3)
    storage = open_storage(load_config(workstation))
    assert isinstance(storage, S3Storage)
    same, other = tmp_path / "same.pdf", tmp_path / "other.pdf"
    same.write_bytes(b"%PDF-1.7 signed")
    other.write_bytes(b"%PDF-1.7 not the same")
    storage.put("H32/2026/X/X.01.pdf", same, None)  # the winner
    real_adopt, looks = S3Storage._adopt, []

    def saw_nothing_first(self: S3Storage, rel: str, sha256: str) -> bool:
        looks.append(rel)
        return False if len(looks) == 1 else real_adopt(self, rel, sha256)

    monkeypatch.setattr(S3Storage, "_adopt", saw_nothing_first)
    storage.put("H32/2026/X/X.01.pdf", same, None)
    assert len(looks) == 2  # refused by the store, then judged and adopted
    looks.clear()
    with pytest.raises(WorkstationError, match="nội dung khác"):
        storage.put("H32/2026/X/X.01.pdf", other, None)
    versions = s3.client().list_object_versions(Bucket=bucket)["Versions"]
    assert len(versions) == 1


def test_a_store_out_of_reach_makes_the_dossier_wait_not_fail(
    workstation: Path, s3: S3Server, keys: None, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: the store is down
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}"
    bucket = _on_s3(workstation, s3)
    configure(workstation, "storage", endpoint=down)
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        job = pipeline.submit([_scan(tmp_path)], config.counters[0])
        outcome = pipeline.run(job)
        assert outcome.state == "waiting" and "S3" in (outcome.error or ""), outcome
        assert catalog.job(job).attempts == 0  # type: ignore[union-attr]  # not counted against the scan
    configure(workstation, "storage", endpoint=s3.endpoint)  # the store is back
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        outcome = Pipeline(config, catalog).run(job)
        assert outcome.state == "archived", outcome.error
    assert len(dossier_keys(s3.client().list_objects_v2(Bucket=bucket)["Contents"])) == 2


def test_a_ward_moved_up_into_a_shared_bucket_is_filed_locked_and_checked_on_arrival(
    workstation: Path, s3: S3Server, keys: None, tmp_path: Path
) -> None:
    from scanner.archive.move import move_dossier
    from tests.archive.helpers import file_document

    bucket = _on_s3(workstation, s3, lock_mode="COMPLIANCE")
    shared = open_storage(load_config(workstation))
    ward_root, code = tmp_path / "phuong", "000.00.00.H26-261124-0001"
    rel = f"000.00.00.H26/2026/{code}/{code}.01.pdf"
    (ward_root / rel).parent.mkdir(parents=True)
    (ward_root / rel).write_bytes(b"%PDF-1.7 signed at the ward")
    with Catalog(tmp_path / "phuong.sqlite") as ward, Catalog(tmp_path / "chung.sqlite") as province:
        file_document(ward, code, "Quyết định", path=rel, agency="000.00.00.H26",
                      sha256=hashlib.sha256(b"%PDF-1.7 signed at the ward").hexdigest())  # fmt: skip
        first = move_dossier(ward, ward_root, province, shared, code, actor="lan", label="phuong")
        again = move_dossier(ward, ward_root, province, shared, code, actor="lan", label="phuong")
        assert (first.outcome, first.files, again.outcome) == ("moved", 1, "present")
        assert [d.code for d in province.documents(code)] == [f"{code}.01"]
    head = s3.client().head_object(Bucket=bucket, Key=rel)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].astimezone(UTC) == datetime(2227, 1, 1, tzinfo=UTC)


def test_what_the_store_holds_is_checked_against_what_was_sent_before_anything_is_catalogued(
    workstation: Path, s3: S3Server, keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that neither checks nor returns checksums, behind a link that flips a byte: read back, refused."""
    _on_s3(workstation, s3)
    storage = open_storage(load_config(workstation))
    real = storage.client

    class Lossy:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def put_object(self, **kw: object) -> object:
            kw.pop("ChecksumSHA256")
            kw.pop("ChecksumAlgorithm")
            data = kw["Body"].read()  # type: ignore[attr-defined]
            return real.put_object(**{**kw, "Body": data[:-1] + b"!"})

    monkeypatch.setattr(S3Storage, "client", property(lambda self: Lossy()))
    sent = tmp_path / "X.01.pdf"
    sent.write_bytes(b"%PDF-1.7 signed")
    with pytest.raises(WorkstationError, match="khác tệp đã gửi"):
        storage.put("H32/2026/X/X.01.pdf", sent, None)


def test_scanner_migrate_moves_a_ward_into_a_shared_archive_on_postgresql_and_s3(
    workstation: Path, s3: S3Server, keys: None, postgres_server: Any, tmp_path: Path
) -> None:
    """`scanner migrate --to-config`: the shared archive as its own configuration names it (catalog, bucket)."""
    import json

    from tests.archive.test_move import _cli

    src = tmp_path / "giay.png"
    render_lines(dpi=150).save(src, dpi=(150, 150))
    code, out = _cli("--config", str(workstation), "process", str(src), "--counter", "quay-1", "--json")
    assert code == 0, out
    dossier = json.loads(out)["dossier_code"]

    _, service = postgres_server.fresh_database()
    shared = workstation.parent / "shared.toml"  # the same agency key and trust roots as the ward's
    shared.write_text(workstation.read_text(encoding="utf-8"), "utf-8")
    configure(shared, "catalog", url=service.set(drivername="postgresql").render_as_string(hide_password=False),
              index=str(tmp_path / "shared.index"))  # fmt: skip
    configure(shared, "archive", root=str(tmp_path / "shared-root"), work=str(tmp_path / "shared-work"))
    bucket = _on_s3(shared, s3, lock_mode="COMPLIANCE")

    migrate = ("--config", str(workstation), "--user", "Phạm Thị Hoa", "migrate", "--to-config", str(shared), "--json")
    code, out = _cli(*migrate)
    assert code == 0, out
    assert [d["outcome"] for d in json.loads(out)["dossiers"]] == ["moved"]
    code, out = _cli(*migrate)
    assert code == 0 and [d["outcome"] for d in json.loads(out)["dossiers"]] == ["present"], out

    keys_held = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket)["Contents"]]
    pdfs = [k for k in keys_held if k.endswith(".pdf") and dossier in k]
    assert pdfs and all(s3.client().head_object(Bucket=bucket, Key=k)["ObjectLockMode"] == "COMPLIANCE" for k in pdfs)
    code, out = _cli("--config", str(shared), "verify", "--all")
    assert code == 0, out
    code, out = _cli("--config", str(workstation), "migrate", "--to-config", str(shared), "--to", "postgresql://x/y")
    assert code == 2 and "--to-config" in out, out
