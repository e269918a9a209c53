"""Fixity: re-hash every stored file, check its signature, and keep the outcome per file.

Following preservation practice (PREMIS "fixity check" events), every check
is recorded, good or bad, so an officer can show when a file was last known
intact. This is the one check of a stored file — ``scanner verify``, the
web and the scheduled run all come here — so a file judged intact in one
place is judged intact everywhere. The signature check is passed in by the
caller: the archive does not call the signing stage itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scanner.app import SYSTEM
from scanner.archive import Catalog, sha256_file

# Checks a stored PDF's signatures: (what an officer reads, one line per signature; problems in Vietnamese).
SignatureCheck = Callable[[Path], tuple[str, list[str]]]


@dataclass(frozen=True)
class FixityResult:
    path: str  # relative to the archive root
    document_code: str | None
    dossier_code: str
    role: str
    expected: str
    actual: str | None
    signature: str = ""
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def check_fixity(
    catalog: Catalog,
    root: Path,
    signature: SignatureCheck | None,
    *,
    dossiers: Sequence[str] | None = None,
    documents: Collection[str] | None = None,
    actor: str = SYSTEM.label,
) -> list[FixityResult]:
    """Check every stored file (or those of DOSSIERS) against the catalog; record one fixity event each.

    DOCUMENTS narrows the signed PDFs to those codes; the dossier's
    ``dossier.json`` and signed originals are checked with them, since a
    document is only as trustworthy as the record that files it.
    """
    out: list[FixityResult] = []
    for f in catalog.stored_files(dossiers):
        if documents is not None and f.role == "document" and f.document_code not in documents:
            continue
        path = root / f.path
        problems: list[str] = []
        actual: str | None = None
        sig = ""
        if not path.is_file():
            problems.append("tệp không còn trong kho lưu trữ")
        else:
            actual = sha256_file(path)
            if actual != f.sha256:
                problems.append("mã băm SHA-256 khác với danh mục (tệp đã bị thay đổi)")
            if signature is not None and f.role == "document":
                sig, sig_problems = signature(path)
                problems.extend(sig_problems)
        result = FixityResult(
            path=f.path,
            document_code=f.document_code,
            dossier_code=f.dossier_code,
            role=f.role,
            expected=f.sha256,
            actual=actual,
            signature=sig,
            problems=tuple(dict.fromkeys(problems)),
        )
        catalog.record_fixity(
            result.path,
            result.document_code,
            result.expected,
            result.actual,
            result.signature,
            "ok" if result.ok else "failed",
            "; ".join(result.problems),
            actor=actor,
        )
        out.append(result)
    return out
