"""Export: a dossier (or one document) as a BagIt bag for transfer to the provincial archive.

The bag holds the signed PDFs, any signed originals, ``dossier.json`` as
filed, and ``metadata.json`` — the catalog's Phụ lục VI record of the dossier
and its documents — under ``data/``, with SHA-256 and SHA-512 manifests. A
stored file whose hash no longer matches the catalog is not exported: a
transfer must not carry a damaged copy as if it were good. Files are read
through the archive's storage (a temporary download each on S3).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import bagit

from scanner.app import SYSTEM
from scanner.archive import Catalog, sha256_file
from scanner.archive.storage import Storage, as_storage
from scanner.errors import ArchiveError, NotFoundError

# Writes the export's audit entry (action, subject, detail): the caller knows who is exporting.
AuditWriter = Callable[[str, str, str], None]


def export_bag(
    catalog: Catalog, where: Path | Storage, code: str, out: Path, *, audit: AuditWriter | None = None
) -> Path:
    """Write the bag of CODE (dossier or document code) to ``OUT/<code>/`` and validate it; returns that folder.

    WHERE is the archive's storage (or the root of its local folders).
    """
    storage = as_storage(where)
    dossier = catalog.dossier(code)
    documents = catalog.documents(code) if dossier else []
    if dossier is None:
        doc = catalog.document(code)
        if doc is None:
            raise NotFoundError(f"không có hồ sơ hay văn bản mã {code}", f"no dossier or document {code}")
        dossier = catalog.dossier(doc.dossier_code)
        documents = [doc]
    assert dossier is not None
    wanted = {d.code for d in documents}
    whole = dossier.code == code  # a whole dossier also carries the signed originals it arrived with
    files = [
        f
        for f in catalog.stored_files([dossier.code])
        if f.document_code in wanted or f.role == "metadata" or (whole and f.role == "original")
    ]
    target = out / code
    if target.exists():
        raise ArchiveError(f"thư mục đích {target} đã tồn tại", f"target {target} already exists")
    staging = out / f".{code}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for f in files:
            with storage.local_copy(f.path) as src:
                if src is None or sha256_file(src) != f.sha256:
                    raise ArchiveError(
                        f"tệp {f.path} bị thiếu hoặc đã bị thay đổi; không xuất gói",
                        f"{f.path} is missing or altered; nothing exported",
                    )
                shutil.copyfile(src, staging / Path(f.path).name)
        record = asdict(dossier)
        record["documents"] = [{k: v for k, v in asdict(d).items() if k != "text"} for d in documents]
        record["files"] = [{k: v for k, v in asdict(f).items() if k != "dossier_code"} for f in files]
        (staging / "metadata.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        bag = bagit.make_bag(
            str(staging),
            bag_info={
                "Source-Organization": dossier.agency_name,
                "Organization-Address": dossier.agency_code,
                "External-Identifier": code,
                "External-Description": dossier.title or f"Hồ sơ {dossier.code}",
                "Internal-Sender-Identifier": dossier.path,
            },
            checksums=["sha256", "sha512"],
        )
        bag.validate()
    except (bagit.BagError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ArchiveError(f"không tạo được gói BagIt: {exc}", f"cannot write BagIt bag: {exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.rename(target)
    detail = f"{len(files)} tệp → {target}"
    if audit is not None:
        audit("export", code, detail)
    else:
        catalog.audit("export", code, detail, actor=SYSTEM.label)
    return target
