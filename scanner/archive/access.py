"""Access levels of a dossier (Nghị định 30/2020 Phụ lục VI, "Rights" / chế độ sử dụng).

The catalog's ``access`` column holds whatever was filed (a clerk's word, a
backfill manifest's column: ``hạn chế (có điều kiện)``, ``Mật``…); rights
and the search index need one of three levels. A value that is none of the
known words is read as restricted, never as public: a typo must not open a
record to everyone.
"""

from __future__ import annotations

from enum import StrEnum

from scanner.text import fold


class AccessLevel(StrEnum):
    PUBLIC = "công khai"
    RESTRICTED = "hạn chế"  # hạn chế (có điều kiện): use on conditions
    SECRET = "mật"

    @property
    def label_vi(self) -> str:
        return _LABELS[self]


_LABELS = {
    AccessLevel.PUBLIC: "Công khai",
    AccessLevel.RESTRICTED: "Hạn chế (có điều kiện)",
    AccessLevel.SECRET: "Mật",
}


def access_level(value: str | None) -> AccessLevel:
    """The level of an ``access`` value as filed: empty is public (the catalog's default), unknown is restricted."""
    words = " ".join(fold(value or "").replace("(", " ").replace(")", " ").split())
    if not words or words == "cong khai":
        return AccessLevel.PUBLIC
    if words in ("mat", "toi mat", "tuyet mat") or words.startswith("mat "):
        return AccessLevel.SECRET
    return AccessLevel.RESTRICTED
