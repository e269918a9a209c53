-- A catalog written by the previous release (schema PRAGMA user_version 4, raw sqlite3), dumped with
-- sqlite3.Connection.iterdump(); iterdump leaves out user_version, so it is set by hand before COMMIT.
BEGIN TRANSACTION;
CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    );
INSERT INTO "audit" VALUES(1,'2026-12-01T08:28:12+00:00','ingest','000.00.00.H26-261124-0001','root','2 văn bản, 3 trang','0000000000000000000000000000000000000000000000000000000000000000','3dc204e66f3875204c39ca66f6c34876d7dacbdddca02099d791e16ec0ce8a9d');
INSERT INTO "audit" VALUES(2,'2026-12-01T08:28:12+00:00','view','000.00.00.H26-261124-0001','root','','3dc204e66f3875204c39ca66f6c34876d7dacbdddca02099d791e16ec0ce8a9d','a3bfa2ed6416194638d795ec09e65429bf391c9df9a20f17d96c3c50681bc182');
INSERT INTO "audit" VALUES(3,'2026-12-01T08:28:12+00:00','download','000.00.00.H26-261124-0001.01','root','bản sao','a3bfa2ed6416194638d795ec09e65429bf391c9df9a20f17d96c3c50681bc182','37009a3b02d1debbc3f3ac7625faa8fb85ecc71ab7a30c8349d535e497b75ab6');
INSERT INTO "audit" VALUES(4,'2026-12-01T08:28:12+00:00','verify','000.00.00.H26/2026/000.00.00.H26-261124-0001/000.00.00.H26-261124-0001.01.pdf','root','ok','37009a3b02d1debbc3f3ac7625faa8fb85ecc71ab7a30c8349d535e497b75ab6','7cf9ec5fdd49e50b7f88e196a6ead6382fe13251c5bc3cfe4015364c7d4b6359');
CREATE TABLE daily_numbers (
        agency_code TEXT NOT NULL,
        day TEXT NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (agency_code, day)
    );
INSERT INTO "daily_numbers" VALUES('000.00.00.H26','2026-11-24',1);
CREATE TABLE documents (
        code TEXT PRIMARY KEY,
        dossier_code TEXT NOT NULL REFERENCES dossiers(code),
        ordinal INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL,
        pages INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        pdfa TEXT NOT NULL,
        signer TEXT NOT NULL DEFAULT '',
        signed_at TEXT,
        signature_level TEXT NOT NULL DEFAULT '',
        ocr_confidence REAL,
        text TEXT NOT NULL DEFAULT ''
    , type_name TEXT NOT NULL DEFAULT '', type_abbr TEXT NOT NULL DEFAULT '', code_number TEXT NOT NULL DEFAULT '', code_notation TEXT NOT NULL DEFAULT '', issued_date TEXT, organ_name TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT 'vi', description TEXT NOT NULL DEFAULT '', signer_position TEXT NOT NULL DEFAULT '', signer_name TEXT NOT NULL DEFAULT '', mode TEXT NOT NULL DEFAULT 'số hóa', kind TEXT NOT NULL DEFAULT 'paper', valid_from TEXT, valid_until TEXT, holder_name TEXT NOT NULL DEFAULT '', holder_id TEXT NOT NULL DEFAULT '', identifiers TEXT NOT NULL DEFAULT '[]', fields TEXT NOT NULL DEFAULT '{}', review TEXT NOT NULL DEFAULT '[]', indexed_at TEXT);
INSERT INTO "documents" VALUES('000.00.00.H26-261124-0001.01','000.00.00.H26-261124-0001',1,'Giấy khai sinh','000.00.00.H26/2026/000.00.00.H26-261124-0001/000.00.00.H26-261124-0001.01.pdf',1,'1111111111111111111111111111111111111111111111111111111111111111',1000,'2b','UBND','2026-11-24T09:00:00+07:00','B-B',91.5,'GIẤY KHAI SINH
Họ và tên: Nguyễn Văn Bình
Nơi sinh: Hà Nội','Giấy khai sinh','','','','2020-05-01','','','vi','','','','số hóa','paper',NULL,NULL,'Nguyễn Văn Bình','056185000001','["056185000001"]','{"name": ["Nguyễn Văn Bình", 0.9]}','["name"]',NULL);
INSERT INTO "documents" VALUES('000.00.00.H26-261124-0001.02','000.00.00.H26-261124-0001',2,'Đơn đề nghị','000.00.00.H26/2026/000.00.00.H26-261124-0001/000.00.00.H26-261124-0001.02.pdf',2,'2222222222222222222222222222222222222222222222222222222222222222',2000,'2b','UBND',NULL,'B-B',88.0,'ĐƠN ĐỀ NGHỊ cấp bản sao trích lục hộ tịch
Kính gửi: Ủy ban nhân dân phường','Đơn','','','',NULL,'','','vi','','','','số hóa','result',NULL,'2030-12-31','','','[]','{}','[]',NULL);
CREATE TABLE dossiers (
        code TEXT PRIMARY KEY,
        agency_code TEXT NOT NULL,
        agency_name TEXT NOT NULL,
        counter TEXT NOT NULL,
        procedure_code TEXT NOT NULL DEFAULT '',
        owner_id TEXT NOT NULL DEFAULT '',
        receipt_date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL,
        doc_total INTEGER NOT NULL,
        page_total INTEGER NOT NULL,
        job_id TEXT NOT NULL,
        warnings TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL
    , file_catalog INTEGER, file_notation TEXT NOT NULL DEFAULT '', retention TEXT NOT NULL DEFAULT '', access TEXT NOT NULL DEFAULT 'công khai', creator TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT 'vi', start_date TEXT, end_date TEXT, description TEXT NOT NULL DEFAULT '');
INSERT INTO "dossiers" VALUES('000.00.00.H26-261124-0001','000.00.00.H26','UBND phường Bến Nghé','quay-1','1.001193','056185000001','2026-11-24','Cấp bản sao trích lục hộ tịch','000.00.00.H26/2026/000.00.00.H26-261124-0001',2,3,'job-1','["ảnh mờ trang 2"]','2026-11-24T09:05:00+07:00',2026,'000.00.00.H26-261124-0001','','công khai','UBND phường Bến Nghé','vi','2020-05-01','2020-05-01','');
CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
INSERT INTO "events" VALUES(1,'2026-12-01T08:28:12+00:00','ingest','000.00.00.H26-261124-0001','ok','2 văn bản, 3 trang');
INSERT INTO "events" VALUES(2,'2026-12-01T08:28:12+00:00','backup','kho','ok','thử');
CREATE TABLE files (
        path TEXT PRIMARY KEY,
        document_code TEXT,
        dossier_code TEXT NOT NULL,
        role TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL
    );
INSERT INTO "files" VALUES('000.00.00.H26/2026/000.00.00.H26-261124-0001/000.00.00.H26-261124-0001.01.pdf','000.00.00.H26-261124-0001.01','000.00.00.H26-261124-0001','document','1111111111111111111111111111111111111111111111111111111111111111',1000);
INSERT INTO "files" VALUES('000.00.00.H26/2026/000.00.00.H26-261124-0001/000.00.00.H26-261124-0001.02.pdf','000.00.00.H26-261124-0001.02','000.00.00.H26-261124-0001','document','2222222222222222222222222222222222222222222222222222222222222222',2000);
INSERT INTO "files" VALUES('000.00.00.H26/2026/000.00.00.H26-261124-0001/dossier.json',NULL,'000.00.00.H26-261124-0001','metadata','3333333333333333333333333333333333333333333333333333333333333333',300);
CREATE TABLE fixity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        path TEXT NOT NULL,
        document_code TEXT,
        expected TEXT NOT NULL,
        actual TEXT,
        signature TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
INSERT INTO "fixity" VALUES(1,'2026-12-01T08:28:12+00:00','000.00.00.H26/2026/000.00.00.H26-261124-0001/000.00.00.H26-261124-0001.01.pdf','000.00.00.H26-261124-0001.01','1111111111111111111111111111111111111111111111111111111111111111','1111111111111111111111111111111111111111111111111111111111111111','B-B, còn nguyên vẹn','ok','');
CREATE TABLE index_outbox (id INTEGER PRIMARY KEY, code TEXT NOT NULL);
CREATE TABLE intake (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256 TEXT NOT NULL,
        job_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        original_name TEXT NOT NULL,
        origin TEXT NOT NULL,
        stored_as TEXT NOT NULL,
        state TEXT NOT NULL,
        time TEXT NOT NULL
    );
INSERT INTO "intake" VALUES(1,'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','job-1','quay-1','trang-1.jpg','/quet/quay-1/trang-1.jpg','job-1/in/0001.jpg','taken','2026-12-01T08:28:12+00:00');
INSERT INTO "intake" VALUES(2,'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb','job-1','quay-1','trang-2.jpg','/quet/quay-1/trang-2.jpg','job-1/in/0002.jpg','taking','2026-12-01T08:28:12+00:00');
CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        counter TEXT NOT NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        dossier_code TEXT UNIQUE,
        receipt_date TEXT,
        error TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    , last_input TEXT, attempts INTEGER NOT NULL DEFAULT 0);
INSERT INTO "jobs" VALUES('job-1','quay-1','done','2026-12-01T08:28:12+00:00','2026-12-01T08:28:12+00:00','000.00.00.H26-261124-0001','2026-11-24',NULL,'{"source": "watch"}','2026-12-01T08:28:12+00:00',0);
CREATE TABLE owners (
        owner_id TEXT NOT NULL,
        dossier_code TEXT NOT NULL,
        document_code TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        PRIMARY KEY (owner_id, dossier_code, document_code, role)
    );
INSERT INTO "owners" VALUES('056185000001','000.00.00.H26-261124-0001','','applicant');
INSERT INTO "owners" VALUES('056185000001','000.00.00.H26-261124-0001','000.00.00.H26-261124-0001.01','holder');
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX documents_dossier ON documents(dossier_code);
CREATE INDEX intake_sha ON intake(sha256);
CREATE INDEX intake_job ON intake(job_id);
CREATE INDEX fixity_path ON fixity(path);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm toán chỉ được ghi thêm (audit log is append-only)'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm toán chỉ được ghi thêm (audit log is append-only)'); END;
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('intake',2);
INSERT INTO "sqlite_sequence" VALUES('events',2);
INSERT INTO "sqlite_sequence" VALUES('audit',4);
INSERT INTO "sqlite_sequence" VALUES('fixity',1);
PRAGMA user_version=4;
COMMIT;
