"""Saved searches: an officer's named queries with the filters and sort of the search page."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from scanner.archive.catalog.db import Database, now_iso
from scanner.archive.catalog.rows import SavedSearch, from_row
from scanner.archive.catalog.schema import saved_searches


class SavedSearchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, person: str, name: str, query: str, params: dict[str, Any]) -> SavedSearch:
        """Keep a search under NAME for PERSON; a search saved again under the same name replaces it."""
        row = {"person": person, "name": name, "query": query, "params": json.dumps(params, ensure_ascii=False)}
        with self.db.write() as c:
            c.execute(delete(saved_searches).where(saved_searches.c.person == person, saved_searches.c.name == name))
            new_id = c.execute(saved_searches.insert().values(**row, created=now_iso())).inserted_primary_key
        found = self.get(person, int(new_id[0])) if new_id else None
        assert found is not None
        return found

    def list(self, person: str) -> list[SavedSearch]:
        stmt = select(saved_searches).where(saved_searches.c.person == person).order_by(saved_searches.c.name)
        with self.db.read() as c:
            return [from_row(SavedSearch, r) for r in c.execute(stmt).mappings()]

    def get(self, person: str, search_id: int) -> SavedSearch | None:
        """PERSON's saved search SEARCH_ID; another person's is None, as a missing one is."""
        stmt = select(saved_searches).where(saved_searches.c.id == search_id, saved_searches.c.person == person)
        with self.db.read() as c:
            row = c.execute(stmt).mappings().first()
        return from_row(SavedSearch, row) if row else None

    def delete(self, person: str, search_id: int) -> bool:
        stmt = delete(saved_searches).where(saved_searches.c.id == search_id, saved_searches.c.person == person)
        with self.db.write() as c:
            return bool(c.execute(stmt).rowcount)
