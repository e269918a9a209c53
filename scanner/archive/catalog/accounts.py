"""Accounts: people, their server-side sessions, and the systems allowed to call the REST API.

Only what the rules need is stored: a password's Argon2 hash, and the
SHA-256 of each session or API token (the tokens themselves live in the
browser's cookie or the calling system's configuration). Every change a
person makes to an account is audited in the same transaction as the change,
so the log never says less than the table. How many failures lock an
account, and for how long, is the application layer's rule
(``scanner.app.accounts``); this store only counts atomically.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from scanner.archive.catalog.custody import CustodyStore
from scanner.archive.catalog.db import Database, now_iso
from scanner.archive.catalog.rows import ApiClientRecord, SessionRecord, UserRecord, from_row
from scanner.archive.catalog.schema import api_clients, audit, sessions, users


class AccountStore:
    def __init__(self, db: Database, custody: CustodyStore) -> None:
        self.db = db
        self.custody = custody

    # --- people ----------------------------------------------------------------------------------

    def add_user(self, values: dict[str, Any], *, actor: str, detail: str) -> bool:
        """Insert a user; False when the name is taken."""
        with self.db.write() as c:
            if c.execute(select(users.c.name).where(users.c.name == values["name"])).first():
                return False
            t = now_iso()
            c.execute(users.insert(), {**values, "created": t, "updated": t})
            self.custody.append_audit(c, "user-add", values["name"], detail, actor=actor)
        return True

    def user(self, name: str) -> UserRecord | None:
        with self.db.read() as c:
            row = c.execute(select(users).where(users.c.name == name)).mappings().first()
        return from_row(UserRecord, row) if row else None

    def users(self) -> list[UserRecord]:
        with self.db.read() as c:
            return [from_row(UserRecord, r) for r in c.execute(select(users).order_by(users.c.name)).mappings()]

    def change_user(
        self, name: str, values: dict[str, Any], *, actor: str, action: str, detail: str, end_sessions: bool = False
    ) -> bool:
        """Update NAME's row (audited as ACTION); END_SESSIONS logs the person out everywhere. False: no such user."""
        with self.db.write() as c:
            done = c.execute(update(users).where(users.c.name == name).values(**values, updated=now_iso()))
            if not done.rowcount:
                return False
            if end_sessions:
                c.execute(delete(sessions).where(sessions.c.user_name == name))
            self.custody.append_audit(c, action, name, detail, actor=actor)
        return True

    def last_logins(self) -> dict[str, str]:
        """Each person's latest log-in, as the audit log recorded it (no column of its own: the log is the record)."""
        latest = func.max(audit.c.time)
        query = select(audit.c.subject, latest).where(audit.c.action == "login").group_by(audit.c.subject)
        with self.db.read() as c:
            return {str(name): str(when) for name, when in c.execute(query)}

    def count_failure(self, name: str, *, lock_after: int, locked_until: str) -> tuple[int, str | None]:
        """One more wrong password for NAME; at LOCK_AFTER failures the account is locked until LOCKED_UNTIL.

        Counted inside a write transaction, so ten guesses sent at once are ten
        failures, not one. Returns (failures, locked until).
        """
        with self.db.write() as c:
            row = c.execute(select(users.c.failed_logins).where(users.c.name == name)).first()
            if row is None:
                return 0, None
            count = int(row[0]) + 1
            lock = locked_until if count >= lock_after else None
            values: dict[str, Any] = {"failed_logins": 0 if lock else count}
            if lock:
                values["locked_until"] = lock
            c.execute(update(users).where(users.c.name == name).values(**values))
            if lock:
                detail = f"{count} lần sai mật khẩu, khóa đến {lock}"
                self.custody.append_audit(c, "user-locked", name, detail, actor="scanner (Dịch vụ số hóa)")
        return count, lock

    def clear_failures(self, name: str) -> None:
        with self.db.write() as c:
            c.execute(update(users).where(users.c.name == name).values(failed_logins=0, locked_until=None))

    # --- sessions --------------------------------------------------------------------------------

    def add_session(self, token_hash: str, user_name: str, expires: str, *, detail: str) -> None:
        with self.db.write() as c:
            t = now_iso()
            c.execute(delete(sessions).where(sessions.c.expires < t))  # sessions that ran out, whoever's they were
            row = {"token_hash": token_hash, "user_name": user_name, "created": t, "expires": expires, "last_seen": t}
            c.execute(sessions.insert(), row)
            self.custody.append_audit(c, "login", user_name, detail, actor=user_name)

    def session(self, token_hash: str) -> tuple[SessionRecord, UserRecord] | None:
        """The session of TOKEN_HASH and its person, as they stand now."""
        with self.db.read() as c:
            row = c.execute(select(sessions).where(sessions.c.token_hash == token_hash)).mappings().first()
            if row is None:
                return None
            person = c.execute(select(users).where(users.c.name == row["user_name"])).mappings().first()
        return (from_row(SessionRecord, row), from_row(UserRecord, person)) if person else None

    def touch_session(self, token_hash: str, expires: str) -> None:
        with self.db.write() as c:
            c.execute(
                update(sessions).where(sessions.c.token_hash == token_hash).values(last_seen=now_iso(), expires=expires)
            )

    def end_session(self, token_hash: str, *, actor: str | None) -> None:
        with self.db.write() as c:
            gone = c.execute(delete(sessions).where(sessions.c.token_hash == token_hash))
            if gone.rowcount and actor:
                self.custody.append_audit(c, "logout", actor, "", actor=actor)

    # --- calling systems -------------------------------------------------------------------------

    def add_api_client(self, name: str, agency: str, token_hash: str, *, actor: str) -> bool:
        with self.db.write() as c:
            if c.execute(select(api_clients.c.name).where(api_clients.c.name == name)).first():
                return False
            row = {"name": name, "agency": agency, "token_hash": token_hash, "created": now_iso()}
            c.execute(api_clients.insert(), row)
            self.custody.append_audit(c, "api-client-add", name, f"cơ quan {agency}", actor=actor)
        return True

    def api_clients(self) -> list[ApiClientRecord]:
        with self.db.read() as c:
            rows = c.execute(select(api_clients).order_by(api_clients.c.name)).mappings()
            return [from_row(ApiClientRecord, r) for r in rows]

    def api_client(self, token_hash: str) -> ApiClientRecord | None:
        with self.db.read() as c:
            row = c.execute(select(api_clients).where(api_clients.c.token_hash == token_hash)).mappings().first()
        return from_row(ApiClientRecord, row) if row else None
