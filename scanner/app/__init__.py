"""The application layer: every use case of a clerk, an archive officer or the records team.

Each use case is one function taking the acting person (``Actor``) first and
returning a typed result; the CLI, the web pages and the REST API only parse
their input, call it, and render what it returns, so a rule is written once.
The acting person — never the operating-system login of whoever started the
process — is what goes into every audit entry.

- ``scanner.app.counter``: a counter clerk's dossier (open, pages, fields, finish)
- ``scanner.app.officer``: the archive officer's records (search, show, owner,
  verify, export, report, deletion request and approval, audit)
- ``scanner.app.accounts``: people, log-in and sessions, API clients
- ``scanner.app.rights``: who may see which counter's and agency's records
- ``scanner.app.clearance``: which access levels (công khai, hạn chế, mật) each role may read
- ``scanner.app.spreadsheet``: the 766 indicators as an Excel workbook
- ``scanner.app.queue``: the province's shared queue (waiting, running on which
  worker, failed)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"  # cán bộ tiếp nhận tại quầy (own counter)
    OFFICER = "officer"  # cán bộ lưu trữ (own agency)
    SUPERVISOR = "supervisor"  # lãnh đạo, giám sát
    AUDITOR = "auditor"  # kiểm toán (reads the audit log)
    ADMIN = "admin"  # quản trị hệ thống
    SYSTEM = "system"  # the service itself (watcher, backfill)
    API = "api"  # a system calling the REST API (the provincial one-stop system), scoped to its agency

    @property
    def label_vi(self) -> str:
        return _ROLE_VI[self]


_ROLE_VI = {
    Role.CLERK: "cán bộ tiếp nhận",
    Role.OFFICER: "cán bộ lưu trữ",
    Role.SUPERVISOR: "lãnh đạo",
    Role.AUDITOR: "kiểm toán viên",
    Role.ADMIN: "quản trị viên",
    Role.SYSTEM: "hệ thống",
    Role.API: "hệ thống liên thông",
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: written into the audit log, and (for the web) whose rights are checked.

    ``name`` is the account name (stable, ASCII or not, NFC); ``display_name``
    the person's full name as shown to others.
    """

    name: str
    role: Role = Role.CLERK
    display_name: str = ""
    counter: str | None = None  # a clerk's own counter
    agency: str | None = None  # an officer's own agency code

    @property
    def label(self) -> str:
        """How the person appears in the audit log and on screens."""
        return f"{self.name} ({self.display_name})" if self.display_name else self.name


SYSTEM = Actor("scanner", Role.SYSTEM, "Dịch vụ số hóa")
