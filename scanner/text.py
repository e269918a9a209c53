"""The one rule for folding Vietnamese text, kept light (no database, no index) so any module may call it.

Search, snippets, access levels and retention periods all compare what a
person typed ("vinh vien", "Mat") with what was filed ("vĩnh viễn", "mật"):
they must fold the same way.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Vietnamese text without tone marks or diacritics, lower case: what a clerk may type."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
