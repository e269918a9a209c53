"""Which access levels (công khai, hạn chế, mật) each role may read the content of.

Agency reach (``scanner.app.rights``) decides whether a record exists for
the actor at all; this decides, for a record within reach, whether its
*content* — the PDF, a search snippet cut from its text, a BagIt export —
may be read, or only its catalog description (code, title, dates, the
signature and fixity panel, its history). Our reading of the access regime
of Nghị định 30/2020 Phụ lục VI and of the roles in the records team:

==============  ==========  ==========  ====
role            công khai   hạn chế     mật
==============  ==========  ==========  ====
officer         yes         yes         no
supervisor      yes         yes         yes
clerk           yes         yes         no
calling system  yes         yes         no
auditor         yes         no          no
administrator   yes         no          no
the service     yes         yes         yes
==============  ==========  ==========  ====

An auditor checks that the log and the files are intact, and an
administrator runs the system: neither needs to read a citizen's restricted
papers. A secret (mật) record is opened by a supervisor (lãnh đạo) only; its
description stays visible to the officers who keep it. Refusals are
``PermissionDenied`` (HTTP 403): the record is within the person's reach,
so saying it exists tells them nothing new.
"""

from __future__ import annotations

from scanner.app import Actor, Role
from scanner.archive.access import AccessLevel, access_level
from scanner.errors import PermissionDenied

_READS: dict[Role, frozenset[AccessLevel]] = {
    Role.OFFICER: frozenset({AccessLevel.PUBLIC, AccessLevel.RESTRICTED}),
    Role.SUPERVISOR: frozenset(AccessLevel),
    Role.CLERK: frozenset({AccessLevel.PUBLIC, AccessLevel.RESTRICTED}),
    Role.AUDITOR: frozenset({AccessLevel.PUBLIC}),
    Role.ADMIN: frozenset({AccessLevel.PUBLIC}),
    Role.SYSTEM: frozenset(AccessLevel),
}
# a calling system (Role.API, added with the REST API) reads as an officer does
_DEFAULT = frozenset({AccessLevel.PUBLIC, AccessLevel.RESTRICTED})


def may_read(actor: Actor, access: str | None) -> bool:
    """Whether ACTOR may read the content of a record whose access value (as filed) is ACCESS."""
    return access_level(access) in _READS.get(actor.role, _DEFAULT)


def check_read(actor: Actor, access: str | None, code: str) -> None:
    level = access_level(access)
    if not may_read(actor, access):
        raise PermissionDenied(
            f"{code} thuộc chế độ sử dụng «{level.label_vi}»: {actor.role.label_vi} không được xem nội dung",
            f"{code} is {level.name.lower()}: role {actor.role} may not read its content",
        )
