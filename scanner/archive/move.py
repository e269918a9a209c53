"""Moving a ward workstation's archive up into the province's shared one: files, rows, and the audit chain.

Files first, rows second. A dossier's folder is copied into a staging
folder on the shared archive's file system, renamed into place in one step,
and every file is then read back and hashed against the source catalog
(fixity on arrival); only then are the dossier's rows filed in the target
catalog, in one transaction with its ingest entry. A run cut anywhere leaves
nothing, a staging folder (thrown away by the next run) or a folder in place
without rows (checked again and filed by the next run). Running it again
finishes the job; once everything is there, a run changes nothing.

The audit chain. The source's entries cannot join the target's chain as
they are (their ids and hashes chain from the ward's genesis and would clash
with the target's), and re-hashing them into the target's chain would
destroy what makes them evidence: the hashes the ward's signed checkpoints
vouch for. So the ward's log is kept whole, exactly as written, as a
JSON-lines file under ``.audit/imported/`` (with the ward's checkpoints
beside it), and the target's chain gets an ``ingest`` entry for each moved
dossier (the "filed, then removed from the catalog" check covers it) and one
``migrate`` entry anchoring the ward's log: its head id and hash, its entry
count and the file's SHA-256. ``scanner audit verify`` re-checks that file's
chain with its original hashes and holds it to the anchor, so an edit to
either log shows, and the anchor itself is protected by the target's chain
and checkpoints like any other entry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scanner.archive.audit_anchor import FOLDER, KEPT_FOR
from scanner.archive.catalog import Catalog
from scanner.archive.catalog.custody import AUDIT_FIELDS, chain_problems
from scanner.archive.storage import Storage, as_storage
from scanner.errors import FaultKind, WorkstationError
from scanner.files import sha256_file

IMPORTED = f"{FOLDER}/imported"  # the moved-up logs, in the archive's storage
ACTION = "migrate"


@dataclass(frozen=True)
class MovedDossier:
    code: str
    outcome: str  # "moved" | "present" (an earlier run moved it) | "refused"
    files: int  # files copied by this run
    problem: str = ""


def move_dossier(
    source: Catalog,
    source_root: Path | Storage,
    target: Catalog,
    target_root: Path | Storage,
    code: str,
    *,
    actor: str,
    label: str,
) -> MovedDossier:
    """Copy dossier CODE's folder and rows from SOURCE to TARGET, unless it is there already; LABEL names the source.

    Each side is the archive's storage (or the root of its local folders): the files are filed in the
    target as filing files them, and read back from it before any row is written.
    """
    src, dst = as_storage(source_root), as_storage(target_root)
    rows = source.record_store.dossier_rows(code)
    if rows is None:
        return MovedDossier(code, "refused", 0, f"hồ sơ {code} không còn trong danh mục của máy trạm")
    there = target.record_store.dossier_rows(code)
    if there is not None:
        if there.hashes == rows.hashes:
            return MovedDossier(code, "present", 0)
        return MovedDossier(code, "refused", 0, f"kho chung đã có hồ sơ {code} với nội dung khác (trùng mã hồ sơ)")
    folder = str(rows.dossier["path"])
    names = {rel: rel[len(folder) + 1 :] for rel in rows.hashes}
    if any(not rel.startswith(folder + "/") or "/" in name for rel, name in names.items()):
        return MovedDossier(code, "refused", 0, f"hồ sơ {code} có tệp nằm ngoài thư mục {folder}")
    copied = 0
    if not dst.holds_dossier(folder):
        try:
            staging = dst.staging(folder, f"migrate-{code}")  # a copy an earlier run left half done is thrown away
            for rel, name in names.items():
                with src.local_copy(rel) as path:
                    if path is None:
                        return MovedDossier(code, "refused", copied, f"tệp {rel} không còn trong kho của máy trạm")
                    shutil.copyfile(path, staging / name)
                copied += 1
            received = date.fromisoformat(str(rows.dossier["receipt_date"]))
            dst.file_dossier(staging, folder, dst.lock(str(rows.dossier.get("retention") or ""), received))
        except OSError as exc:  # the share dropped, the disk filled: run again once it is back
            raise WorkstationError(
                FaultKind.STORAGE_UNAVAILABLE,
                f"không chép được hồ sơ {code} vào kho chung {dst.label} ({exc.strerror or exc}); "
                "các hồ sơ đã chuyển được giữ nguyên, chạy lại lệnh sau khi khắc phục",
                f"cannot copy dossier {code} into {dst.label} ({exc}); run again once fixed",
            ) from None
    for rel, sha in rows.hashes.items():
        with dst.local_copy(rel) as arrived:
            if arrived is None:
                return MovedDossier(code, "refused", copied, f"tệp {rel} không có trong kho chung sau khi chép")
            if sha256_file(arrived) != sha:
                problem = f"tệp {rel} trong kho chung không khớp SHA-256 của danh mục"
                return MovedDossier(code, "refused", copied, problem)
    pages = rows.dossier["page_total"]
    detail = f"chuyển từ {label}: {len(rows.documents)} văn bản, {pages} trang"
    target.record_store.import_dossier(rows, actor=actor, detail=detail)
    return MovedDossier(code, "moved", copied)


def anchor_source_log(
    source: Catalog, source_files: Storage, target: Catalog, target_files: Storage, *, actor: str, label: str
) -> str | None:
    """Keep SOURCE's audit log under the target root and anchor its head in TARGET's chain.

    Returns the kept file (relative to the root), or None when the log is
    empty or this very head is anchored already.
    """
    entries = sorted(source.audit_entries(), key=lambda e: e.id)
    if not entries:
        return None
    head = entries[-1]
    for e in target.custody_store.entries_of(ACTION):
        if _anchor(e.detail).get("hash") == head.hash:
            return None
    rel = f"{IMPORTED}/{head.hash[:16]}.jsonl"
    lines = [json.dumps({k: getattr(e, k) for k in (*AUDIT_FIELDS, "hash")}, ensure_ascii=False) for e in entries]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    keep = target_files.lock(KEPT_FOR, date.today())
    target_files.create_own(rel, data, keep)
    for name in source_files.own_names(FOLDER):  # the ward's signed anchors, as signed
        if name.startswith("checkpoint-") and (signed := source_files.read_own(f"{FOLDER}/{name}")) is not None:
            target_files.create_own(f"{IMPORTED}/{head.hash[:16]}/{name}", signed, keep)
    said = {"source": label, "log": rel, "sha256": hashlib.sha256(data).hexdigest(), "entries": len(entries),
            "head": head.id, "hash": head.hash}  # fmt: skip
    target.audit(ACTION, label, json.dumps(said, ensure_ascii=False, sort_keys=True), actor=actor)
    return rel


def _anchor(detail: str) -> dict[str, object]:
    try:
        value = json.loads(detail)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def imported_log_problems(catalog: Catalog, files: Storage) -> list[str]:
    """What is wrong with the workstation logs the catalog's ``migrate`` entries anchor, in Vietnamese."""
    problems: list[str] = []
    for entry in catalog.custody_store.entries_of(ACTION):
        said = _anchor(entry.detail)
        where = f"nhật ký của máy trạm {entry.subject} (neo ở mục {entry.id})"
        data = files.read_own(str(said["log"])) if "log" in said else None
        if data is None:
            problems.append(f"{where}: tệp {said.get('log', '?')} không còn trong kho")
            continue
        if hashlib.sha256(data).hexdigest() != said.get("sha256"):
            problems.append(f"{where}: tệp {said['log']} đã bị sửa (SHA-256 không khớp mục neo)")
            continue
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
        found, _ = chain_problems(rows)
        problems.extend(f"{where}: {p}" for p in found)
        if not rows or rows[-1]["hash"] != said.get("hash") or len(rows) != said.get("entries"):
            problems.append(f"{where}: đầu chuỗi không khớp mục neo")
    return problems
