"""The electronic archive: finished dossiers filed as folders, described by the catalog.

Layout: ``<archive root>/<agency code>/<year>/<dossier code>/``, holding one
signed PDF/A per document (``<document code>.pdf``) and ``dossier.json``.
A dossier folder is assembled elsewhere and renamed into place in one step,
so the archive never shows a half-written dossier.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scanner.archive.catalog import Catalog, DocumentRecord, DossierRecord, SearchHit, fold, open_catalog
from scanner.files import sha256_file
from scanner.jsonio import fsync_dir

__all__ = [
    "Catalog",
    "DocumentRecord",
    "DossierRecord",
    "SearchHit",
    "dossier_folder",
    "file_folder",
    "fold",
    "open_catalog",
    "sha256_file",
    "staging_folder",
]


def dossier_folder(root: Path, agency_code: str, year: int, dossier_code: str) -> Path:
    return root / agency_code / f"{year:04d}" / dossier_code


def staging_folder(final: Path, work: Path, job_id: str) -> Path:
    """Where the dossier that will be FINAL is assembled: on FINAL's own file system, so one rename files it.

    The work area when it shares that file system; otherwise a hidden
    ``.staging`` folder beside the dossier's year folder (never part of the
    archive). An agency's folder may be a mount of its own (a red-team pass
    saw every dossier fail with "Invalid cross-device link"), so the file
    system is the one FINAL's folder is on, not the archive root's.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    if os.stat(work).st_dev == os.stat(final.parent).st_dev:
        return work / "staging" / job_id
    return final.parent.parent / ".staging" / job_id


def file_folder(staging: Path, final: Path) -> None:
    """Move the finished STAGING folder to FINAL in one rename, durably.

    Every file is flushed before the rename and both parents after it, so
    after a crash the dossier is either wholly in place or not at all.
    """
    for p in staging.iterdir():
        with p.open("rb") as f:
            os.fsync(f.fileno())
    fsync_dir(staging)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(staging)
        return
    os.rename(staging, final)
    fsync_dir(final.parent)
    fsync_dir(staging.parent)
