"""The catalog's tables, in one place, for every store and for the migrations' autogenerate check.

Columns keep the names, types and defaults of the last schema the previous
release wrote (``PRAGMA user_version`` 4), so a catalog upgraded in place and
a new one are the same database. Dates and times stay ISO 8601 text, as
before: they sort and compare as text on every engine. JSON values
(``warnings``, ``identifiers``, ``fields``…) stay text too; the stores encode
and decode them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import REAL, Column, Float, ForeignKey, Index, Integer, MetaData, Table, Text, text
from sqlalchemy.types import TypeEngine

metadata = MetaData()


def _text(name: str, default: str | None = None, *, nullable: bool = False, **kw: Any) -> Column[str]:
    server_default = text(f"'{default}'") if default is not None else None
    return Column(name, Text, nullable=nullable, server_default=server_default, **kw)


def _key(name: str, type_: type[TypeEngine[Any]] = Text) -> Column[Any]:
    """A one-column primary key, written as the old release wrote it (``id TEXT PRIMARY KEY``).

    SQLite lets such a key hold NULL unless told NOT NULL; the old schema
    never said so and no row ever has one (every insert names its key).
    Declaring it the same way keeps new and upgraded catalogs identical;
    PostgreSQL makes key columns NOT NULL whatever is declared.
    """
    return Column(name, type_, primary_key=True, nullable=True)


daily_numbers = Table(
    "daily_numbers",
    metadata,
    _text("agency_code", primary_key=True),
    _text("day", primary_key=True),
    Column("last", Integer, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    _key("id"),
    _text("counter"),
    _text("state"),
    _text("created"),
    _text("updated"),
    _text("dossier_code", nullable=True, unique=True),
    _text("receipt_date", nullable=True),
    _text("error", nullable=True),
    _text("detail", "{}"),
    _text("last_input", nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # the workstation whose work folder holds the job (revision 0002): on a catalog shared by many machines
    # each carries, recovers and lists its own jobs; '' on a workstation's own catalog
    _text("station", ""),
)
Index("jobs_state", jobs.c.state)
Index("jobs_station", jobs.c.station, jobs.c.state)

intake = Table(
    "intake",
    metadata,
    _key("id", Integer),
    _text("sha256"),
    _text("job_id"),
    _text("counter"),
    _text("original_name"),
    _text("origin"),
    _text("stored_as"),
    _text("state"),
    _text("time"),
    _text("station", ""),
    sqlite_autoincrement=True,
)
Index("intake_sha", intake.c.sha256)
Index("intake_job", intake.c.job_id)

dossiers = Table(
    "dossiers",
    metadata,
    _key("code"),
    _text("agency_code"),
    _text("agency_name"),
    _text("counter"),
    _text("procedure_code", ""),
    _text("owner_id", ""),
    _text("receipt_date"),
    _text("title", ""),
    _text("path"),
    Column("doc_total", Integer, nullable=False),
    Column("page_total", Integer, nullable=False),
    _text("job_id"),
    _text("warnings", "[]"),
    _text("created"),
    Column("file_catalog", Integer),
    _text("file_notation", ""),
    _text("retention", ""),
    _text("access", "công khai"),
    _text("creator", ""),
    _text("language", "vi"),
    _text("start_date", nullable=True),
    _text("end_date", nullable=True),
    _text("description", ""),
)

documents = Table(
    "documents",
    metadata,
    _key("code"),
    Column("dossier_code", Text, ForeignKey("dossiers.code"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    _text("title", ""),
    _text("path"),
    Column("pages", Integer, nullable=False),
    _text("sha256"),
    Column("size", Integer, nullable=False),
    _text("pdfa"),
    _text("signer", ""),
    _text("signed_at", nullable=True),
    _text("signature_level", ""),
    Column("ocr_confidence", Float().with_variant(REAL(), "sqlite")),
    _text("text", ""),
    _text("type_name", ""),
    _text("type_abbr", ""),
    _text("code_number", ""),
    _text("code_notation", ""),
    _text("issued_date", nullable=True),
    _text("organ_name", ""),
    _text("subject", ""),
    _text("language", "vi"),
    _text("description", ""),
    _text("signer_position", ""),
    _text("signer_name", ""),
    _text("mode", "số hóa"),
    _text("kind", "paper"),
    _text("valid_from", nullable=True),
    _text("valid_until", nullable=True),
    _text("holder_name", ""),
    _text("holder_id", ""),
    _text("identifiers", "[]"),
    _text("fields", "{}"),
    _text("review", "[]"),
    # Unused since the index outbox came (legacy schema 4); kept so upgraded and new catalogs are alike.
    _text("indexed_at", nullable=True),
)
Index("documents_dossier", documents.c.dossier_code)

owners = Table(
    "owners",
    metadata,
    _text("owner_id", primary_key=True),
    _text("dossier_code", primary_key=True),
    _text("document_code", "", primary_key=True),
    _text("role", primary_key=True),
)

files = Table(
    "files",
    metadata,
    _key("path"),
    _text("document_code", nullable=True),
    _text("dossier_code"),
    _text("role"),
    _text("sha256"),
    Column("size", Integer, nullable=False),
)

events = Table(
    "events",
    metadata,
    _key("id", Integer),
    _text("time"),
    _text("kind"),
    _text("subject"),
    _text("outcome"),
    _text("detail", ""),
    sqlite_autoincrement=True,
)

fixity = Table(
    "fixity",
    metadata,
    _key("id", Integer),
    _text("time"),
    _text("path"),
    _text("document_code", nullable=True),
    _text("expected"),
    _text("actual", nullable=True),
    _text("signature", ""),
    _text("outcome"),
    _text("detail", ""),
    sqlite_autoincrement=True,
)
Index("fixity_path", fixity.c.path)

# AUTOINCREMENT matters here: SQLite then never reuses the id of a removed last entry, and
# sqlite_sequence keeps the highest id ever given, which is how verify_audit sees a removal at the end.
audit = Table(
    "audit",
    metadata,
    _key("id", Integer),
    _text("time"),
    _text("action"),
    _text("subject"),
    _text("actor"),
    _text("detail", ""),
    _text("prev"),
    _text("hash"),
    sqlite_autoincrement=True,
)

# AUTOINCREMENT (revision 0006): rows are pruned once every cursor has passed them, and an id given
# again below a cursor would never be indexed.
index_outbox = Table(
    "index_outbox",
    metadata,
    _key("id", Integer),
    _text("code"),
    sqlite_autoincrement=True,
)

# How far each search index generation has read the outbox (revision 0006): ``live`` (the generation
# searches use) and ``rebuild`` (one being built beside it, ``scanned`` the last document key it holds).
index_cursors = Table(
    "index_cursors",
    metadata,
    Column("name", Text, primary_key=True),
    _text("generation", ""),
    Column("position", Integer, nullable=False, server_default=text("0")),
    Column("scanned", Integer, nullable=False, server_default=text("0")),
    _text("updated"),
)

# --- people and calling systems (revision 0002) ---------------------------------------------------
# A person's account: the name is the key written into every audit entry they cause (NFC).
users = Table(
    "users",
    metadata,
    Column("name", Text, primary_key=True),
    _text("display_name", ""),
    _text("role"),
    _text("counter", nullable=True),  # a clerk's own counter
    _text("agency", nullable=True),  # an officer's own agency code
    _text("password_hash"),  # Argon2id, with its parameters and salt (PHC string)
    Column("disabled", Integer, nullable=False, server_default=text("0")),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    _text("locked_until", nullable=True),
    _text("created"),
    _text("updated"),
)

# Server-side sessions: only the SHA-256 of the cookie's token is kept, so a copy of the catalog opens no session.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_name", Text, ForeignKey("users.name"), nullable=False),
    _text("created"),
    _text("expires"),
    _text("last_seen"),
)
Index("sessions_user", sessions.c.user_name)

# Systems calling the REST API (the provincial one-stop system…), each scoped to one agency.
api_clients = Table(
    "api_clients",
    metadata,
    Column("name", Text, primary_key=True),
    _text("agency"),
    _text("token_hash", unique=True),
    Column("disabled", Integer, nullable=False, server_default=text("0")),
    _text("created"),
)

Index("audit_subject", audit.c.subject)  # a record's history is read by subject

# An officer's saved searches: the query and the page's filters, as the page's own query string.
saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("person"),  # the account name
    _text("name"),
    _text("query", ""),
    _text("params", "{}"),  # JSON object: filters and sort
    _text("created"),
)
Index("saved_searches_person", saved_searches.c.person)

# A paper reused at the counter instead of being asked for again (indicator "thành phần hồ sơ được tái sử
# dụng" of Quyết định 766/QĐ-TTg): the reusing agency, procedure and dossier, and the paper reused.
reuses = Table(
    "reuses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("time"),
    _text("agency_code"),
    _text("procedure_code", ""),
    _text("dossier_code"),
    _text("document_code"),
    _text("actor"),
)
Index("reuses_time", reuses.c.time)
