"""Who may see what: a clerk their own counter's dossiers, an officer or a calling system their own agency's records.

A record outside the actor's reach is answered as *not found*, never as
*forbidden*: a clerk at counter A or a system of agency X learns nothing
about whether counter B's dossier or agency Y's record exists. An actor with
no counter (or no agency) set is not confined to one: an administrator, a
supervisor, the service itself, or someone at the workstation's command line.
The pages, the API and the command line all reach records through the use
cases, which call these checks, so the rule is written once.
"""

from __future__ import annotations

from scanner.app import Actor, Role
from scanner.errors import NotFoundError

# Roles confined to their own counter when the account names one.
_COUNTER_BOUND = (Role.CLERK,)


def sees_counter(actor: Actor, counter: str) -> bool:
    return not (actor.role in _COUNTER_BOUND and actor.counter) or actor.counter == counter


def sees_agency(actor: Actor, agency: str) -> bool:
    return not actor.agency or actor.agency == agency


def check_counter(actor: Actor, counter: str, what: str) -> None:
    if not sees_counter(actor, counter):
        raise NotFoundError(f"không có hồ sơ {what}", f"no dossier {what}")


def check_agency(actor: Actor, agency: str, what: str) -> None:
    if not sees_agency(actor, agency):
        raise NotFoundError(f"không có hồ sơ hay văn bản mã {what}", f"no record {what}")
